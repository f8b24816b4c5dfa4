// SPDX-License-Identifier: GPL-2.0

//! Memory pools: a reserve of preallocated objects on top of a slab cache (C's
//! `mempool_create_slab_pool()`, `mempool_alloc()`, `mempool_free()`,
//! `mempool_destroy()`).
//!
//! Like the cache, the pool lives in a `static` declared with
//! [`mempool!`](crate::mempool), so that a [`PoolBox`], only a pointer, knows where to give
//! its object back. The module creates the pool at load ([`Mempool::create`]) and
//! destroys it by dropping the returned [`PoolRegistration`], after every object is back.

use super::slab::{Cached, ObjectBox, Source};
use super::static_object::StaticObject;
use core::marker::PhantomData;
use core::ptr::NonNull;

use kernel::{bindings, prelude::*};

/// A pool of `T` objects taken from `T`'s slab cache, in a `static`.
///
/// # Invariants
///
/// This is `T::pool()`, the only `Mempool<T>`: so a [`PoolBox`] taken from it goes back
/// to it. `pool` holds, if any, a mempool whose elements are objects of `T::cache()`, on which
/// it holds a reference. Each object taken from it and not yet given back holds a
/// reference on the pool.
pub struct Mempool<T> {
    pool: StaticObject<bindings::mempool_t>,
    _objects: PhantomData<fn() -> T>,
}

/// A type whose objects come from one `static` [`Mempool`].
///
/// # Safety
///
/// `pool` must always return the same pool. Use [`mempool!`](crate::mempool).
pub unsafe trait Pooled: Cached {
    /// The pool of this type.
    fn pool() -> &'static Mempool<Self>;
}

/// Declares the `static` mempool of a type whose slab cache is declared with
/// [`kmem_cache!`](crate::kmem_cache). A type has one: a second declaration for it does
/// not compile (two `Pooled` impls).
#[macro_export]
macro_rules! mempool {
    ($static:ident: $type:ty) => {
        static $static: $crate::common::mempool::Mempool<$type> = {
            // Only this call is allowed `unsafe`: the caller's type is named outside it,
            // since a type can hold a block of code.
            #[allow(unsafe_code)]
            // SAFETY: This is the static that `pool()` below returns.
            let this = unsafe { $crate::common::mempool::Mempool::new() };
            this
        };

        const _: () = {
            type This = $type;
            // SAFETY: Always the same `static`.
            #[allow(unsafe_code)]
            unsafe impl $crate::common::mempool::Pooled for This {
                fn pool() -> &'static $crate::common::mempool::Mempool<Self> {
                    &$static
                }
            }
        };
    };
}

impl<T> Mempool<T> {
    /// A pool that is not created yet. Use [`mempool!`](crate::mempool).
    ///
    /// # Safety
    ///
    /// The value must be the `static` that `T::pool()` returns: objects go back to
    /// `T::pool()`, whichever `Mempool` they came from.
    pub const unsafe fn new() -> Self {
        // INVARIANT: the caller makes this `T::pool()`.
        Self {
            pool: StaticObject::new(),
            _objects: PhantomData,
        }
    }
}

impl<T: Pooled> Mempool<T> {
    /// Creates the pool with a reserve of `min_nr` objects, allocated now from `T`'s slab
    /// cache (C's `mempool_create_slab_pool(min_nr, cache)`). `ENODEV` if the cache does
    /// not exist, `EBUSY` if the pool does.
    pub fn create(&'static self, min_nr: u16) -> Result<PoolRegistration<T>> {
        let cache = &T::cache().cache;
        // The pool keeps the cache alive (a reference) until it is destroyed.
        let raw_cache = cache.acquire().ok_or(ENODEV)?;
        // SAFETY: `mempool_alloc_slab`/`mempool_free_slab` take the cache as pool data,
        // which stays alive thanks to the reference taken above.
        let raw = unsafe {
            bindings::mempool_create_node_noprof(
                min_nr.into(),
                Some(bindings::mempool_alloc_slab),
                Some(bindings::mempool_free_slab),
                raw_cache.as_ptr().cast(),
                bindings::GFP_KERNEL,
                bindings::NUMA_NO_NODE,
            )
        };
        let Some(raw) = NonNull::new(raw) else {
            // SAFETY: The reference taken above, not used after this.
            unsafe { cache.release() };
            return Err(ENOMEM);
        };
        if !self.pool.install(raw) {
            // SAFETY: `raw` was just created and nothing else knows it; then the
            // reference taken above is released, not used after this.
            unsafe {
                bindings::mempool_destroy(raw.as_ptr());
                cache.release();
            }
            return Err(EBUSY);
        }
        // INVARIANT: a pool of `T::cache()` objects, holding a reference on the cache.
        Ok(PoolRegistration { pool: self })
    }

    /// Takes an object (C's `mempool_alloc()`): from the slab cache if it can give one
    /// at once, else from the reserve; `ENOMEM` when both are empty.
    ///
    /// It never sleeps (`GFP_NOWAIT`): with a flag that allows reclaim, `mempool_alloc()`
    /// would wait, as long as it takes, for an object to come back to the reserve. (It
    /// adds `__GFP_NOWARN` itself: a failure here is expected.)
    pub fn alloc(&'static self, value: T) -> Result<PoolBox<T>> {
        // The object's reference on the pool, taken first so that the pool cannot be
        // destroyed during the allocation.
        let raw = self.pool.acquire().ok_or(ENODEV)?;
        // SAFETY: `raw` is a live pool: we hold a reference on it.
        let object = unsafe { bindings::mempool_alloc_noprof(raw.as_ptr(), bindings::GFP_NOWAIT) };
        let Some(object) = NonNull::new(object) else {
            // SAFETY: The reference taken above, not used after this.
            unsafe { self.pool.release() };
            return Err(ENOMEM);
        };
        // SAFETY: A fresh element of `self`, which is `T::pool()` (an object of `T`'s cache, so sized and
        // aligned for `T`), holding its reference.
        Ok(unsafe { PoolBox::new(object.cast(), value) })
    }

    /// How many objects the reserve holds now (C's `pool->curr_nr`), `None` before the
    /// pool is created. For in-kernel tests only.
    #[cfg(taskmonitor_kunit)]
    pub fn reserved(&'static self) -> Option<usize> {
        let raw = self.pool.acquire()?;
        // SAFETY: `raw` is a live pool (we hold a reference). `curr_nr` changes under the
        // pool's lock; read once, without it, it is a value it had (C's `READ_ONCE`). The
        // reference is released after, not used again.
        let n = unsafe {
            let n = core::ptr::read_volatile(core::ptr::addr_of!((*raw.as_ptr()).curr_nr));
            self.pool.release();
            n
        };
        usize::try_from(n).ok()
    }
}

/// The created pool of a module, destroyed when dropped (C's `mempool_destroy()`), which
/// frees the reserve to the slab cache.
pub struct PoolRegistration<T: Pooled> {
    pool: &'static Mempool<T>,
}

impl<T: Pooled> Drop for PoolRegistration<T> {
    fn drop(&mut self) {
        match self.pool.pool.take_unused() {
            Ok(Some(raw)) => {
                // SAFETY: No object of the pool is out and it can no longer be reached. The
                // pool's reference on the cache (taken in `create`) is released after.
                unsafe {
                    bindings::mempool_destroy(raw.as_ptr());
                    T::cache().cache.release();
                }
            }
            Ok(None) => {}
            // Destroying it now would free memory that is still in use: keep it.
            Err(users) => pr_err!("mempool still has {users} objects out, not destroyed\n"),
        }
    }
}

/// An object of `T`'s mempool.
///
/// Giving it back (C's `mempool_free()`) first refills the reserve, and only frees the
/// object to the slab cache when the reserve is full.
pub type PoolBox<T> = ObjectBox<T, FromPool>;

/// The source of [`PoolBox`]: the type's mempool.
pub struct FromPool;

// SAFETY: Gives back to `T::pool()`, the only pool `PoolBox`es are allocated from.
unsafe impl<T: Pooled> Source<T> for FromPool {
    unsafe fn give_back(object: NonNull<T>) {
        let pool = &T::pool().pool;
        // SAFETY: The object comes from `T::pool()` (caller) and holds a reference on it,
        // which keeps the pool in place; the reference is released after the free.
        unsafe {
            bindings::mempool_free(object.as_ptr().cast(), pool.get().as_ptr());
            pool.release();
        }
    }
}
