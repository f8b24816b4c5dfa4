//! Shrinkers: giving memory back when the kernel runs short (`include/linux/shrinker.h`).
//!
//! The owner implements [`Shrink`]; [`Shrinker::register`] allocates a `struct shrinker`
//! with `shrinker_alloc()`, points its callbacks at the trait's methods and registers it.
//! Dropping the [`Shrinker`] calls `shrinker_free()`, which unregisters it and waits for
//! running callbacks, and only then drops the data.
//!
//! This is the API of Linux 6.7 and later; the lab's `register_shrinker()` and
//! `unregister_shrinker()` on a statically allocated `struct shrinker` are gone.

use core::ptr::NonNull;
use kernel::{bindings, c_str, ffi::c_ulong, prelude::*, sync::Arc};

// ANCHOR: trait
/// What a shrinker does.
pub trait Shrink: Send + Sync {
    /// How many objects could be freed now (C's `count_objects`). Must not block: it runs
    /// in reclaim, possibly from an allocation made while a lock of ours is held.
    fn count_objects(&self) -> usize;

    /// Frees at most `nr_to_scan` objects (C's `scan_objects`) and returns how many it
    /// freed, or `None` when it cannot make progress without waiting.
    ///
    /// Both `None` and `Some(0)` tell reclaim to stop (`SHRINK_STOP`): the core loops
    /// until `nr_scanned` adds up to what it asked for, so reporting no progress would
    /// make it spin.
    fn scan_objects(&self, nr_to_scan: usize) -> Option<usize>;
}
// ANCHOR_END: trait

impl<T: Shrink> Shrink for Arc<T> {
    fn count_objects(&self) -> usize {
        (**self).count_objects()
    }

    fn scan_objects(&self, nr_to_scan: usize) -> Option<usize> {
        (**self).scan_objects(nr_to_scan)
    }
}

/// A registered shrinker, freed when dropped.
///
/// # Invariants
///
/// `raw` was returned by `shrinker_alloc`, registered, and its `private_data` points to
/// `data`, which stays at its address (boxed) until `shrinker_free` has returned.
pub struct Shrinker<T: Shrink> {
    raw: NonNull<bindings::shrinker>,
    data: KBox<T>,
}

// SAFETY: The shrinker may be freed from any thread; the callbacks only need `&T`.
unsafe impl<T: Shrink> Send for Shrinker<T> {}
// SAFETY: `&Shrinker` only gives `&T`, and `T: Sync`.
unsafe impl<T: Shrink> Sync for Shrinker<T> {}

impl<T: Shrink> Shrinker<T> {
    /// Registers a shrinker for `data`. With `CONFIG_SHRINKER_DEBUG` it appears as
    /// `/sys/kernel/debug/shrinker/NAME-ID/`.
    pub fn register(name: &CStr, data: T) -> Result<Self> {
        let data = KBox::new(data, GFP_KERNEL)?;
        // SAFETY: The format string is "%s" with one C string argument.
        let raw =
            unsafe { bindings::shrinker_alloc(0, c_str!("%s").as_char_ptr(), name.as_char_ptr()) };
        let raw = NonNull::new(raw).ok_or(ENOMEM)?;
        // SAFETY: `raw` is a new, unregistered shrinker that only we use yet. The
        // callbacks match the C types, and `private_data` outlives the registration (it
        // is dropped after `shrinker_free`).
        unsafe {
            let s = raw.as_ptr();
            (*s).count_objects = Some(count_objects::<T>);
            (*s).scan_objects = Some(scan_objects::<T>);
            (*s).seeks = bindings::DEFAULT_SEEKS as i32;
            (*s).private_data = (&*data as *const T).cast_mut().cast();
            bindings::shrinker_register(s);
        }
        // INVARIANT: registered, with `private_data` pointing to the boxed `data`.
        Ok(Self { raw, data })
    }

    /// The data the shrinker works on.
    pub fn data(&self) -> &T {
        &self.data
    }
}

impl<T: Shrink> Drop for Shrinker<T> {
    fn drop(&mut self) {
        // SAFETY: `raw` is our registered shrinker (type invariant). `shrinker_free`
        // unregisters it and waits until no callback runs, so `data` may be dropped next.
        unsafe { bindings::shrinker_free(self.raw.as_ptr()) };
    }
}

/// Reads the data of a shrinker.
///
/// # Safety
///
/// `shrinker` must be registered by a live `Shrinker<T>`.
unsafe fn data<'a, T: Shrink>(shrinker: *mut bindings::shrinker) -> &'a T {
    // SAFETY: `private_data` points to the `T` of the `Shrinker<T>`, alive while the
    // shrinker is registered (caller's guarantee, type invariant of `Shrinker`).
    unsafe { &*(*shrinker).private_data.cast::<T>() }
}

/// The `count_objects` callback of every `Shrinker<T>`.
///
/// # Safety
///
/// Called by the shrinker core on a shrinker registered by `Shrinker<T>`.
unsafe extern "C" fn count_objects<T: Shrink>(
    shrinker: *mut bindings::shrinker,
    _sc: *mut bindings::shrink_control,
) -> c_ulong {
    // SAFETY: The shrinker core calls us on our registered shrinker.
    match unsafe { data::<T>(shrinker) }.count_objects() {
        0 => bindings::SHRINK_EMPTY as c_ulong,
        n => n,
    }
}

/// The `scan_objects` callback of every `Shrinker<T>`.
///
/// # Safety
///
/// Called by the shrinker core on a shrinker registered by `Shrinker<T>`, with a valid
/// `shrink_control`.
unsafe extern "C" fn scan_objects<T: Shrink>(
    shrinker: *mut bindings::shrinker,
    sc: *mut bindings::shrink_control,
) -> c_ulong {
    // SAFETY: The shrinker core passes a valid `shrink_control` that we may update.
    let sc = unsafe { &mut *sc };
    // SAFETY: The shrinker core calls us on our registered shrinker.
    match unsafe { data::<T>(shrinker) }.scan_objects(sc.nr_to_scan) {
        Some(freed) if freed > 0 => {
            // Every object scanned was freed.
            sc.nr_scanned = freed;
            freed
        }
        _ => bindings::SHRINK_STOP as c_ulong,
    }
}
