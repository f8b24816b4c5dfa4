//! Slab caches: C's `KMEM_CACHE()`, `kmem_cache_alloc()`, `kmem_cache_free()` and
//! `kmem_cache_destroy()`, for objects of one Rust type.
//!
//! The cache lives in a `static`, as `struct kmem_cache *` does in a C module, declared
//! with [`kmem_cache!`](crate::kmem_cache): that is how a [`SlabBox`], which is only a
//! pointer, knows where to free its object. The module creates the cache at load
//! ([`KmemCache::create`]) and destroys it at unload by dropping the returned
//! [`CacheRegistration`], after every object is back.

use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ops::Deref;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use kernel::{bindings, prelude::*};

/// A slab cache of `T` objects, in a `static`.
///
/// # Invariants
///
/// `raw` is null, or a cache created for objects of `size_of::<T>()` bytes aligned to
/// `align_of::<T>()`. `live` counts the objects allocated from it and not yet freed; it
/// is not destroyed while `live` is not zero.
pub struct KmemCache<T> {
    name: &'static CStr,
    raw: AtomicPtr<bindings::kmem_cache>,
    live: AtomicUsize,
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
/// (C's `static struct kmem_cache *`).
#[macro_export]
macro_rules! kmem_cache {
    ($static:ident: $type:ty, $name:literal) => {
        static $static: $crate::common::slab::KmemCache<$type> =
            $crate::common::slab::KmemCache::new(::kernel::c_str!($name));

        // SAFETY: Always the same `static`.
        #[allow(unsafe_code)]
        unsafe impl $crate::common::slab::Cached for $type {
            fn cache() -> &'static $crate::common::slab::KmemCache<Self> {
                &$static
            }
        }
    };
}

impl<T> KmemCache<T> {
    /// A cache that is not created yet.
    pub const fn new(name: &'static CStr) -> Self {
        Self {
            name,
            raw: AtomicPtr::new(ptr::null_mut()),
            live: AtomicUsize::new(0),
            _objects: PhantomData,
        }
    }

    /// The size of the cache's objects as the slab allocator sees it (C's
    /// `kmem_cache_size()`), or `None` before it is created.
    pub fn object_size(&self) -> Option<usize> {
        let raw = NonNull::new(self.raw.load(Ordering::Acquire))?;
        // SAFETY: `raw` is a live cache (type invariant: not destroyed while reachable).
        Some(unsafe { bindings::kmem_cache_size(raw.as_ptr()) } as usize)
    }
}

impl<T> KmemCache<T> {
    /// Takes a user reference on the created cache, which keeps it from being destroyed
    /// (as a live object would) until [`KmemCache::release`]. `None` if not created.
    pub(super) fn acquire(&self) -> Option<NonNull<bindings::kmem_cache>> {
        self.live.fetch_add(1, Ordering::AcqRel);
        let raw = NonNull::new(self.raw.load(Ordering::Acquire));
        if raw.is_none() {
            self.release();
        }
        raw
    }

    /// Drops a reference taken by [`KmemCache::acquire`].
    pub(super) fn release(&self) {
        self.live.fetch_sub(1, Ordering::AcqRel);
    }
}

impl<T: Cached> KmemCache<T> {
    /// Creates the cache (C's `KMEM_CACHE()`): `EBUSY` if it exists already.
    ///
    /// `SLAB_NO_MERGE` keeps the cache apart from others of the same size, so that
    /// `/sys/kernel/slab/NAME/` describes this cache alone.
    pub fn create(&'static self) -> Result<CacheRegistration<T>> {
        let mut args = bindings::kmem_cache_args {
            align: align_of::<T>() as u32,
            ..Default::default()
        };
        let flags = 1 << bindings::_slab_flag_bits__SLAB_NO_MERGE;
        // SAFETY: `name` is a static C string and `args` a valid argument block. The
        // size of a sample type fits a `u32`.
        let raw = unsafe {
            bindings::__kmem_cache_create_args(
                self.name.as_char_ptr(),
                size_of::<T>() as u32,
                &mut args,
                flags,
            )
        };
        let raw = NonNull::new(raw).ok_or(ENOMEM)?;
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
            unsafe { bindings::kmem_cache_destroy(raw.as_ptr()) };
            return Err(EBUSY);
        }
        // INVARIANT: a cache for `T`, with no object yet.
        Ok(CacheRegistration { cache: self })
    }

    /// Allocates an object (C's `kmem_cache_alloc(cache, GFP_KERNEL)`): may sleep and
    /// enter memory reclaim. `ENODEV` if the cache does not exist.
    pub fn alloc(&'static self, value: T) -> Result<SlabBox<T>> {
        // Counted first, so that the cache cannot be destroyed during the allocation.
        let raw = self.acquire().ok_or(ENODEV)?;
        // SAFETY: `raw` is a live cache: it is destroyed only with `live` at zero.
        let object =
            unsafe { bindings::kmem_cache_alloc_noprof(raw.as_ptr(), bindings::GFP_KERNEL) };
        let Some(object) = NonNull::new(object) else {
            self.release();
            return Err(ENOMEM);
        };
        // SAFETY: A fresh object of `T::cache()`, counted in `live`.
        Ok(unsafe { SlabBox::new(object.cast(), value) })
    }
}

/// The created cache of a module, destroyed when dropped (C's `kmem_cache_destroy()`).
pub struct CacheRegistration<T: Cached> {
    cache: &'static KmemCache<T>,
}

impl<T: Cached> Drop for CacheRegistration<T> {
    fn drop(&mut self) {
        let cache = self.cache;
        let live = cache.live.load(Ordering::Acquire);
        if live != 0 {
            // Destroying it now would free memory that is still in use: keep it.
            pr_err!("slab cache still has {live} objects, not destroyed\n");
            return;
        }
        let raw = cache.raw.swap(ptr::null_mut(), Ordering::AcqRel);
        if let Some(raw) = NonNull::new(raw) {
            // SAFETY: The cache has no object left and can no longer be reached.
            unsafe { bindings::kmem_cache_destroy(raw.as_ptr()) };
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
        let cache = T::cache();
        // SAFETY: The object comes from `T::cache()` (caller), which lives while `live`
        // counts the object.
        unsafe {
            bindings::kmem_cache_free(cache.raw.load(Ordering::Acquire), object.as_ptr().cast())
        };
        cache.release();
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
unsafe impl<T: super::list::ListItem, S: Source<T>> super::list::Owner for ObjectBox<T, S> {
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

/// The memory `kmalloc` really gives an object of type `T`: `ksize()` of a fresh
/// `KBox<T>`, which is at least `size_of::<T>()`, rounded up to a kmalloc size class.
pub fn kmalloc_ksize<T>() -> Result<usize> {
    let boxed = KBox::<T>::new_uninit(GFP_KERNEL)?;
    // SAFETY: The pointer comes from `kmalloc` and stays allocated until `boxed` drops.
    Ok(unsafe { bindings::ksize(boxed.as_ptr().cast()) })
}
