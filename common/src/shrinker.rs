// SPDX-License-Identifier: GPL-2.0

//! Shrinkers: giving memory back when the kernel runs short (`include/linux/shrinker.h`).
//!
//! The owner implements [`Shrink`]; [`Shrinker::register`] allocates a `struct shrinker`
//! with `shrinker_alloc()`, points its callbacks at the trait's methods and registers it,
//! with the data (an `Arc` or a `KBox` of the [`Shrink`] type) as its `private_data`.
//! Dropping the [`Shrinker`] calls `shrinker_free()`, which unregisters it and waits for
//! running callbacks, and only then drops the data.
//!
//! This is the API of Linux 6.7 and later; the lab's `register_shrinker()` and
//! `unregister_shrinker()` on a statically allocated `struct shrinker` are gone.

use super::foreign::ForeignData;
use super::registration::Registration;
use core::ops::Deref;
use core::ptr::NonNull;
use kernel::{
    bindings, c_str,
    ffi::{c_long, c_ulong},
    prelude::*,
    types::ForeignOwnable,
};

// ANCHOR: trait
/// What a shrinker does.
pub trait Shrink: Send + Sync + Sized {
    /// How many objects could be freed now (C's `count_objects`). Must not block: it runs
    /// in reclaim, possibly from an allocation made while a lock of ours is held.
    fn count_objects(&self) -> usize;

    /// Frees at most `nr_to_scan` objects (C's `scan_objects`) and returns how many it
    /// freed, or `None` when it cannot make progress without waiting.
    ///
    /// Both `None` and `Some(0)` tell reclaim to stop (`SHRINK_STOP`): nothing more can be
    /// freed now. `nr_scanned` (objects looked at, not freed) is left as the core set it
    /// before the call, `nr_to_scan`, as most C shrinkers leave it: this scan frees all
    /// it looks at, up to what was asked, and the core counts the work as done.
    fn scan_objects(&self, nr_to_scan: usize) -> Option<usize>;
}
// ANCHOR_END: trait

/// A registered shrinker, freed when dropped.
///
/// # Invariants
///
/// `raw` was returned by `shrinker_alloc`, registered with the callbacks of
/// `P::Target`, and its `private_data` points to `data`'s target, which stays in place
/// until `shrinker_free` has returned.
pub struct Shrinker<P: ForeignOwnable + Deref<Target: Shrink>> {
    raw: NonNull<bindings::shrinker>,
    data: ForeignData<P>,
    _registration: Registration,
}

// SAFETY: The shrinker may be freed from any thread; the callbacks only need `&P::Target`,
// which is `Send + Sync`.
unsafe impl<P: ForeignOwnable + Deref<Target: Shrink> + Send> Send for Shrinker<P> {}
// SAFETY: `&Shrinker` only gives `&P::Target`, which is `Sync`.
unsafe impl<P: ForeignOwnable + Deref<Target: Shrink> + Sync> Sync for Shrinker<P> {}

impl<P> Shrinker<P>
where
    P: ForeignOwnable + Deref<Target: Shrink>,
    for<'a> P::Borrowed<'a>: Deref<Target = P::Target>,
{
    /// Registers a shrinker for `data`. With `CONFIG_SHRINKER_DEBUG` it appears as
    /// `/sys/kernel/debug/shrinker/NAME-ID/`.
    pub fn register(name: &CStr, data: P) -> Result<Self> {
        let registration = Registration::new()?;
        // SAFETY: The format string is "%s" with one C string argument.
        let raw =
            unsafe { bindings::shrinker_alloc(0, c_str!("%s").as_char_ptr(), name.as_char_ptr()) };
        let raw = NonNull::new(raw).ok_or(ENOMEM)?;
        let data = ForeignData::new(data);
        // SAFETY: `raw` is a new, unregistered shrinker that only we use yet. The
        // callbacks match the C types, and `private_data` outlives the registration (it
        // is dropped after `shrinker_free`).
        unsafe {
            let s = raw.as_ptr();
            (*s).count_objects = Some(count_objects::<P::Target>);
            (*s).scan_objects = Some(scan_objects::<P::Target>);
            (*s).seeks = bindings::DEFAULT_SEEKS as i32;
            (*s).private_data = data.as_ptr();
            bindings::shrinker_register(s);
        }
        // INVARIANT: registered, with `private_data` pointing to `data`'s target.
        Ok(Self {
            raw,
            data,
            _registration: registration,
        })
    }
}

impl<P: ForeignOwnable + Deref<Target: Shrink>> Shrinker<P> {
    /// The data the shrinker works on.
    pub fn data(&self) -> &P::Target {
        self.data.get()
    }
}

#[cfg(taskmonitor_kunit)]
impl<P: ForeignOwnable + Deref<Target: Shrink>> Shrinker<P> {
    /// Calls the `count_objects` callback as the shrinker core does, and returns what C
    /// sees ([`SHRINK_EMPTY`] for none). For in-kernel tests.
    pub fn count(&self) -> c_ulong {
        let mut sc = control(0);
        // SAFETY: `raw` is our registered shrinker (type invariant); `sc` is valid.
        unsafe { count_objects::<P::Target>(self.raw.as_ptr(), &mut sc) }
    }

    /// Calls the `scan_objects` callback as the shrinker core does, asking for
    /// `nr_to_scan` objects, and returns what C sees: the callback's result
    /// ([`SHRINK_STOP`] included) and the `nr_scanned` it reported. For in-kernel tests.
    pub fn scan(&self, nr_to_scan: usize) -> Scan {
        let mut sc = control(nr_to_scan);
        // SAFETY: `raw` is our registered shrinker (type invariant); `sc` is valid.
        let result = unsafe { scan_objects::<P::Target>(self.raw.as_ptr(), &mut sc) };
        Scan {
            result,
            nr_scanned: sc.nr_scanned,
        }
    }
}

/// What `count_objects` returns when there is nothing to free.
pub const SHRINK_EMPTY: c_ulong = bindings::SHRINK_EMPTY as c_ulong;
/// What `scan_objects` returns to stop reclaim from calling it again.
pub const SHRINK_STOP: c_ulong = bindings::SHRINK_STOP as c_ulong;

/// What a call of [`Shrinker::scan`] gave the shrinker core.
#[cfg(taskmonitor_kunit)]
#[derive(Debug, PartialEq, Eq)]
pub struct Scan {
    /// The callback's return value: how many were freed, or [`SHRINK_STOP`].
    pub result: c_ulong,
    /// How many objects the callback says it looked at.
    pub nr_scanned: c_ulong,
}

/// A `shrink_control` for a global (not memcg) shrink on node 0, in process context.
#[cfg(taskmonitor_kunit)]
fn control(nr_to_scan: usize) -> bindings::shrink_control {
    // SAFETY: `shrink_control` is plain data (numbers, a mask, a pointer) for which all
    // zeroes is valid: what `shrink_slab()` sees for node 0 without a memory cgroup.
    let mut sc: bindings::shrink_control = unsafe { core::mem::zeroed() };
    sc.gfp_mask = bindings::GFP_KERNEL;
    sc.nr_to_scan = nr_to_scan as c_ulong;
    // As `do_shrink_slab()` sets it before each call.
    sc.nr_scanned = nr_to_scan as c_ulong;
    sc
}

impl<P: ForeignOwnable + Deref<Target: Shrink>> Drop for Shrinker<P> {
    fn drop(&mut self) {
        // SAFETY: `raw` is our registered shrinker (type invariant). `shrinker_free`
        // unregisters it and waits until no callback runs, so `data` may be dropped next
        // (it is, as a field, after this).
        unsafe { bindings::shrinker_free(self.raw.as_ptr()) };
    }
}

/// Reads the data of a shrinker.
///
/// # Safety
///
/// `shrinker` must be registered by a live `Shrinker` whose data's target is a `T`.
unsafe fn data<'a, T: Shrink>(shrinker: *mut bindings::shrinker) -> &'a T {
    // SAFETY: `private_data` points to the `T` of the `Shrinker`, alive while the
    // shrinker is registered (caller's guarantee, type invariant of `Shrinker`).
    unsafe { &*(*shrinker).private_data.cast::<T>() }
}

/// The `count_objects` callback of every `Shrinker<T>`.
///
/// # Safety
///
/// Called by the shrinker core on a shrinker registered by a `Shrinker` of a `T`.
unsafe extern "C" fn count_objects<T: Shrink>(
    shrinker: *mut bindings::shrinker,
    _sc: *mut bindings::shrink_control,
) -> c_ulong {
    // SAFETY: The shrinker core calls us on our registered shrinker.
    match unsafe { data::<T>(shrinker) }.count_objects() {
        0 => SHRINK_EMPTY,
        // The core reads the count as a `long`.
        n => n.min(c_long::MAX as c_ulong),
    }
}

/// The `scan_objects` callback of every `Shrinker<T>`.
///
/// # Safety
///
/// Called by the shrinker core on a shrinker registered by a `Shrinker` of a `T`, with
/// a valid `shrink_control`.
unsafe extern "C" fn scan_objects<T: Shrink>(
    shrinker: *mut bindings::shrinker,
    sc: *mut bindings::shrink_control,
) -> c_ulong {
    // SAFETY: The shrinker core passes a valid `shrink_control`.
    let nr_to_scan = unsafe { (*sc).nr_to_scan };
    // SAFETY: The shrinker core calls us on our registered shrinker.
    match unsafe { data::<T>(shrinker) }.scan_objects(nr_to_scan) {
        // Never more than were asked for.
        Some(freed) if freed > 0 => freed.min(nr_to_scan),
        _ => SHRINK_STOP,
    }
}
