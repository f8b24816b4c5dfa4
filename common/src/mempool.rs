//! Memory pools: a reserve of preallocated objects on top of a slab cache (C's
//! `mempool_create_slab_pool()`, `mempool_alloc()`, `mempool_free()`,
//! `mempool_destroy()`).
//!
//! Like the cache, the pool lives in a `static` declared with
//! [`mempool!`](crate::mempool), so that a [`PoolBox`], only a pointer, knows where to give
//! its object back. The module creates the pool at load ([`Mempool::create`]) and
//! destroys it by dropping the returned [`PoolRegistration`], after every object is back.

use super::slab::{Cached, ObjectBox, Source};
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use kernel::{bindings, prelude::*};

/// A pool of `T` objects taken from `T`'s slab cache, in a `static`.
///
/// # Invariants
///
/// `raw` is null, or a mempool whose elements are objects of `T::cache()`, on which it
/// holds a user reference. `live` counts the objects allocated from it and not yet given
/// back; it is not destroyed while `live` is not zero.
pub struct Mempool<T> {
    raw: AtomicPtr<bindings::mempool_t>,
    live: AtomicUsize,
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
/// [`kmem_cache!`](crate::kmem_cache).
#[macro_export]
macro_rules! mempool {
    ($static:ident: $type:ty) => {
        static $static: $crate::common::mempool::Mempool<$type> =
            $crate::common::mempool::Mempool::new();

        // SAFETY: Always the same `static`.
        #[allow(unsafe_code)]
        unsafe impl $crate::common::mempool::Pooled for $type {
            fn pool() -> &'static $crate::common::mempool::Mempool<Self> {
                &$static
            }
        }
    };
}

impl<T> Mempool<T> {
    /// A pool that is not created yet.
    pub const fn new() -> Self {
        Self {
            raw: AtomicPtr::new(ptr::null_mut()),
            live: AtomicUsize::new(0),
            _objects: PhantomData,
        }
    }
}

impl<T: Pooled> Mempool<T> {
    /// Creates the pool with a reserve of `min_nr` objects, allocated now from `T`'s slab
    /// cache (C's `mempool_create_slab_pool(min_nr, cache)`). `ENODEV` if the cache does
    /// not exist, `EBUSY` if the pool does.
    pub fn create(&'static self, min_nr: u16) -> Result<PoolRegistration<T>> {
        let cache = T::cache();
        // The pool keeps the cache alive (a user reference) until it is destroyed.
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
            cache.release();
            return Err(ENOMEM);
        };
        if self
            .raw
            .compare_exchange(
                ptr::null_mut(),
                raw.as_ptr(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            // SAFETY: `raw` was just created and nothing else knows it.
            unsafe { bindings::mempool_destroy(raw.as_ptr()) };
            cache.release();
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
        // Counted first, so that the pool cannot be destroyed during the allocation.
        self.live.fetch_add(1, Ordering::AcqRel);
        let raw = self.raw.load(Ordering::Acquire);
        let object = NonNull::new(raw).and_then(|raw| {
            // SAFETY: `raw` is a live pool: it is destroyed only with `live` at zero.
            NonNull::new(unsafe {
                bindings::mempool_alloc_noprof(raw.as_ptr(), bindings::GFP_NOWAIT)
            })
        });
        let Some(object) = object else {
            self.live.fetch_sub(1, Ordering::AcqRel);
            return Err(if raw.is_null() { ENODEV } else { ENOMEM });
        };
        // SAFETY: A fresh element of `T::pool()` (an object of `T`'s cache, so sized and
        // aligned for `T`), counted in `live`.
        Ok(unsafe { PoolBox::new(object.cast(), value) })
    }
}

/// The created pool of a module, destroyed when dropped (C's `mempool_destroy()`), which
/// frees the reserve to the slab cache.
pub struct PoolRegistration<T: Pooled> {
    pool: &'static Mempool<T>,
}

impl<T: Pooled> Drop for PoolRegistration<T> {
    fn drop(&mut self) {
        let live = self.pool.live.load(Ordering::Acquire);
        if live != 0 {
            // Destroying it now would free memory that is still in use: keep it.
            pr_err!("mempool still has {live} objects out, not destroyed\n");
            return;
        }
        let raw = self.pool.raw.swap(ptr::null_mut(), Ordering::AcqRel);
        if let Some(raw) = NonNull::new(raw) {
            // SAFETY: No object of the pool is out and it can no longer be reached.
            unsafe { bindings::mempool_destroy(raw.as_ptr()) };
            T::cache().release();
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
        let pool = T::pool();
        // SAFETY: The object comes from `T::pool()` (caller), which lives while `live`
        // counts the object.
        unsafe { bindings::mempool_free(object.as_ptr().cast(), pool.raw.load(Ordering::Acquire)) };
        pool.live.fetch_sub(1, Ordering::AcqRel);
    }
}
