// SPDX-License-Identifier: GPL-2.0

//! Slab caches: C's `KMEM_CACHE()`, `kmem_cache_alloc()`, `kmem_cache_free()` and
//! `kmem_cache_destroy()`, for objects of one Rust type.
//!
//! The cache lives in a `static`, as `struct kmem_cache *` does in a C module, declared
//! with [`kmem_cache!`](crate::kmem_cache): that is how a [`SlabBox`], which is only a
//! pointer, knows where to free its object. The module creates the cache at load
//! ([`KmemCache::create`]) and destroys it at unload by dropping the returned
//! [`CacheRegistration`], after every object is back.

use super::list::{ListItem, Owner, UniqueOwner};
use super::static_object::StaticObject;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ops::Deref;
use core::ptr::{self, NonNull};
use kernel::{bindings, prelude::*};

/// A slab cache of `T` objects, in a `static`.
///
/// # Invariants
///
/// This is `T::cache()`, the only `KmemCache<T>`: so a [`SlabBox`] allocated from it
/// frees to it. `cache` holds a cache created for objects of `size_of::<T>()` bytes
/// aligned to `align_of::<T>()`, if any. Each object allocated from it and not yet freed,
/// and each mempool built on it, holds a reference on it.
pub struct KmemCache<T> {
    name: &'static CStr,
    pub(super) cache: StaticObject<bindings::kmem_cache>,
    _objects: PhantomData<fn() -> T>,
}

/// A type whose objects come from one `static` [`KmemCache`].
///
/// # Safety
///
/// `cache` must always return the same cache. Use [`kmem_cache!`](crate::kmem_cache).
pub unsafe trait Cached: Sized + 'static {
    /// The cache of this type.
    fn cache() -> &'static KmemCache<Self>;
}

/// Declares the `static` slab cache of a type, named as in `/sys/kernel/slab/NAME`
/// (C's `static struct kmem_cache *`). A type has one: a second declaration for it does
/// not compile (two `Cached` impls).
#[macro_export]
macro_rules! kmem_cache {
    ($static:ident: $type:ty, $name:literal) => {
        static $static: $crate::common::slab::KmemCache<$type> = {
            // Only this call is allowed `unsafe`: the caller's type is named outside it,
            // since a type can hold a block of code.
            #[allow(unsafe_code)]
            // SAFETY: This is the static that `cache()` below returns.
            let this = unsafe { $crate::common::slab::KmemCache::new(::kernel::c_str!($name)) };
            this
        };

        const _: () = {
            type This = $type;
            // SAFETY: Always the same `static`.
            #[allow(unsafe_code)]
            unsafe impl $crate::common::slab::Cached for This {
                fn cache() -> &'static $crate::common::slab::KmemCache<Self> {
                    &$static
                }
            }
        };
    };
}

impl<T> KmemCache<T> {
    /// A cache that is not created yet. Use [`kmem_cache!`](crate::kmem_cache).
    ///
    /// # Safety
    ///
    /// The value must be the `static` that `T::cache()` returns: objects are freed to
    /// `T::cache()`, whichever `KmemCache` they came from.
    pub const unsafe fn new(name: &'static CStr) -> Self {
        // INVARIANT: the caller makes this `T::cache()`.
        Self {
            name,
            cache: StaticObject::new(),
            _objects: PhantomData,
        }
    }

    /// The size of the cache's objects as the slab allocator sees it (C's
    /// `kmem_cache_size()`), or `None` before it is created.
    pub fn object_size(&self) -> Option<usize> {
        let raw = self.cache.acquire()?;
        // SAFETY: `raw` is a live cache: we hold a reference on it.
        let size = unsafe { bindings::kmem_cache_size(raw.as_ptr()) } as usize;
        // SAFETY: The reference taken above, not used after this.
        unsafe { self.cache.release() };
        Some(size)
    }
}

impl<T: Cached> KmemCache<T> {
    /// Creates the cache (C's `KMEM_CACHE()`): `EBUSY` if it exists already.
    ///
    /// `SLAB_NO_MERGE` keeps the cache apart from others of the same size, so that
    /// `/sys/kernel/slab/NAME/` describes this cache alone.
    pub fn create(&'static self) -> Result<CacheRegistration<T>> {
        const {
            assert!(size_of::<T>() > 0, "slab objects need a size");
            assert!(
                size_of::<T>() <= u32::MAX as usize,
                "slab objects are sized in a u32"
            );
        }
        let mut args = bindings::kmem_cache_args {
            align: align_of::<T>() as u32,
            ..Default::default()
        };
        let flags = 1 << bindings::_slab_flag_bits__SLAB_NO_MERGE;
        // SAFETY: `name` is a static C string and `args` a valid argument block. The
        // size fits a `u32` and is not zero (checked at build time above).
        let raw = unsafe {
            bindings::__kmem_cache_create_args(
                self.name.as_char_ptr(),
                size_of::<T>() as u32,
                &mut args,
                flags,
            )
        };
        let raw = NonNull::new(raw).ok_or(ENOMEM)?;
        if !self.cache.install(raw) {
            // SAFETY: `raw` was just created and nothing else knows it.
            unsafe { bindings::kmem_cache_destroy(raw.as_ptr()) };
            return Err(EBUSY);
        }
        // INVARIANT: a cache for `T`, with no object yet.
        Ok(CacheRegistration { cache: self })
    }

    /// Allocates an object (C's `kmem_cache_alloc(cache, GFP_KERNEL)`): may sleep and
    /// enter memory reclaim. `ENODEV` if the cache does not exist.
    pub fn alloc(&'static self, value: T) -> Result<SlabBox<T>> {
        // The object's reference on the cache, taken first so that the cache cannot be
        // destroyed during the allocation.
        let raw = self.cache.acquire().ok_or(ENODEV)?;
        // SAFETY: `raw` is a live cache: we hold a reference on it.
        let object =
            unsafe { bindings::kmem_cache_alloc_noprof(raw.as_ptr(), bindings::GFP_KERNEL) };
        let Some(object) = NonNull::new(object) else {
            // SAFETY: The reference taken above, not used after this.
            unsafe { self.cache.release() };
            return Err(ENOMEM);
        };
        // SAFETY: A fresh object of `self`, which is `T::cache()` (type invariant), holding
        // its reference.
        Ok(unsafe { SlabBox::new(object.cast(), value) })
    }
}

/// The created cache of a module, destroyed when dropped (C's `kmem_cache_destroy()`).
pub struct CacheRegistration<T: Cached> {
    cache: &'static KmemCache<T>,
}

impl<T: Cached> Drop for CacheRegistration<T> {
    fn drop(&mut self) {
        match self.cache.cache.take_unused() {
            // SAFETY: The cache has no object left and can no longer be reached.
            Ok(Some(raw)) => unsafe { bindings::kmem_cache_destroy(raw.as_ptr()) },
            Ok(None) => {}
            // Destroying it now would free memory that is still in use: keep it.
            Err(users) => pr_err!("slab cache still has {users} users, not destroyed\n"),
        }
    }
}

/// Where an [`ObjectBox`] gives its object back: a slab cache ([`FromCache`]) or a mempool
/// (`FromPool`).
///
/// # Safety
///
/// `give_back` must return the object to the allocator it came from, for every object
/// that `ObjectBox::new` was given for this source.
pub unsafe trait Source<T> {
    /// Gives the object back; it is already dropped.
    ///
    /// # Safety
    ///
    /// `object` must come from this source and be given back once.
    unsafe fn give_back(object: NonNull<T>);
}

/// An object allocated from a source, dropped and given back to it when the box is
/// dropped: `KBox` for a `kmem_cache` or a mempool.
///
/// # Invariants
///
/// `object` is an initialized `T` from the source `S`, not given back yet.
pub struct ObjectBox<T, S: Source<T>> {
    object: NonNull<T>,
    _source: PhantomData<S>,
}

/// An object of `T`'s slab cache.
pub type SlabBox<T> = ObjectBox<T, FromCache>;

/// The source of [`SlabBox`]: the type's slab cache.
pub struct FromCache;

// SAFETY: Frees to `T::cache()`, the only cache `SlabBox`es are allocated from.
unsafe impl<T: Cached> Source<T> for FromCache {
    unsafe fn give_back(object: NonNull<T>) {
        let cache = &T::cache().cache;
        // SAFETY: The object comes from `T::cache()` (caller) and holds a reference on it,
        // which keeps the cache in place; the reference is released after the free.
        unsafe {
            bindings::kmem_cache_free(cache.get().as_ptr(), object.as_ptr().cast());
            cache.release();
        }
    }
}

impl<T, S: Source<T>> ObjectBox<T, S> {
    /// Moves `value` into `object` and owns it.
    ///
    /// # Safety
    ///
    /// `object` must be fresh memory for a `T` from the source `S`.
    pub(super) unsafe fn new(object: NonNull<T>, value: T) -> Self {
        // SAFETY: The memory is fresh and sized and aligned for a `T` (caller).
        unsafe { object.as_ptr().write(value) };
        // INVARIANT: an initialized `T` from `S`.
        Self {
            object,
            _source: PhantomData,
        }
    }
}

impl<T, S: Source<T>> ObjectBox<T, S> {
    /// Gives up the box without dropping or giving back the object.
    pub(super) fn leak(self) -> NonNull<T> {
        let object = self.object;
        core::mem::forget(self);
        object
    }
}

// SAFETY: An `ObjectBox` owns its `T` like a `KBox` does.
unsafe impl<T: Send, S: Source<T>> Send for ObjectBox<T, S> {}
// SAFETY: As above.
unsafe impl<T: Sync, S: Source<T>> Sync for ObjectBox<T, S> {}

impl<T, S: Source<T>> Deref for ObjectBox<T, S> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The object is initialized and owned (type invariant).
        unsafe { self.object.as_ref() }
    }
}

impl<T, S: Source<T>> Drop for ObjectBox<T, S> {
    fn drop(&mut self) {
        // SAFETY: We own the initialized object (type invariant): it is dropped once, then
        // given back to its source once.
        unsafe {
            ptr::drop_in_place(self.object.as_ptr());
            S::give_back(self.object);
        }
    }
}

// SAFETY: `into_raw` leaks the box without moving the object; `from_raw` restores it.
// The box gives `&mut T` to nobody.
unsafe impl<T: ListItem, S: Source<T>> Owner for ObjectBox<T, S> {
    type Item = T;

    fn into_raw(self) -> *const T {
        self.leak().as_ptr()
    }

    unsafe fn from_raw(ptr: *const T) -> Self {
        // SAFETY: The caller passes a non-null pointer from `into_raw`, not given back.
        let object = unsafe { NonNull::new_unchecked(ptr.cast_mut()) };
        Self {
            object,
            _source: PhantomData,
        }
    }
}

// SAFETY: A box is the only owner of its object.
unsafe impl<T: ListItem, S: Source<T>> UniqueOwner for ObjectBox<T, S> {}

/// The memory `kmalloc` really gives an object of type `T`: `ksize()` of a fresh
/// `KBox<T>`, which is at least `size_of::<T>()`, rounded up to a kmalloc size class.
pub fn kmalloc_ksize<T>() -> Result<usize> {
    // A zero-sized box is a dangling pointer, which `ksize()` must not be given.
    const { assert!(size_of::<T>() > 0, "a zero-sized type is not allocated") };
    let boxed = KBox::<T>::new_uninit(GFP_KERNEL)?;
    // SAFETY: The pointer comes from `kmalloc` and stays allocated until `boxed` drops.
    Ok(unsafe { bindings::ksize(boxed.as_ptr().cast()) })
}
