// SPDX-License-Identifier: GPL-2.0

//! What a module has registered with C, counted, so that the module is never unloaded
//! while C can still call its code.
//!
//! A sysfs file, a debugfs file, a shrinker and a kernel thread each let C run the
//! module's code later. Their wrappers undo the registration when dropped, but safe code
//! can keep a value from ever being dropped (`core::mem::forget`, a reference cycle): after
//! unloading, C would call code that is gone. So each of these wrappers holds a
//! [`Registration`], and the module's type is wrapped in [`Checked`], whose `Drop` runs at
//! unload after the module's own. If a registration is still counted then, it panics (a
//! kernel `BUG`, which names the leak): the unload never completes, and the code stays
//! where C can reach it. A registration can only be made while a `Checked` module is
//! loaded, so the check cannot be skipped.
//!
//! The lab's C module has the same duty, unchecked: every `*_register()` in init needs its
//! `*_unregister()` in exit, or the kernel calls freed code.

use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::prelude::*;

/// The bit of [`LIVE`] that says no registration may be made: no [`Checked`] module is
/// loaded yet, or it has been dropped.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// This module's live registrations (every module builds its own copy of `common/`), with
/// [`CLOSED`] set while they are refused.
static LIVE: AtomicUsize = AtomicUsize::new(CLOSED);

/// A counted registration with C: a field of each wrapper that lets C call the module.
///
/// Not `Clone`: each one is counted once when made and once when dropped.
pub struct Registration(());

impl Registration {
    /// Counts a new registration; `EINVAL` unless the module's type is [`Checked`] (and
    /// loaded), since then nothing would check it at unload.
    pub(super) fn new() -> Result<Self> {
        let mut live = LIVE.load(Ordering::Relaxed);
        loop {
            if live & CLOSED != 0 {
                pr_err!("a registration outside a Checked module's lifetime refused\n");
                return Err(EINVAL);
            }
            match LIVE.compare_exchange_weak(live, live + 1, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Ok(Self(())),
                Err(now) => live = now,
            }
        }
    }

    /// How many registrations this module has, for tests.
    #[cfg(taskmonitor_kunit)]
    pub fn live() -> usize {
        LIVE.load(Ordering::Relaxed) & !CLOSED
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Release: the wrapper's undoing (the file removed, the thread stopped) happens
        // before the check at unload that sees the count fall.
        LIVE.fetch_sub(1, Ordering::Release);
    }
}

/// A module whose registrations are checked at unload: `module! { type: ... }` names
/// `Checked<YourModule>`, through a type alias.
///
/// Dropping it drops the module, then checks that every registration is gone.
pub struct Checked<M>(Option<M>);

impl<M: kernel::Module> kernel::Module for Checked<M> {
    fn init(module: &'static ThisModule) -> Result<Self> {
        LIVE.fetch_and(!CLOSED, Ordering::Relaxed);
        match M::init(module) {
            Ok(m) => Ok(Self(Some(m))),
            Err(e) => {
                // Loading fails and the code is freed: the same check as at unload.
                close();
                Err(e)
            }
        }
    }
}

impl<M> Drop for Checked<M> {
    fn drop(&mut self) {
        drop(self.0.take());
        close();
    }
}

/// Refuses new registrations, then panics if one is left.
fn close() {
    // Acquire: pairs with the release of every registration dropped before.
    let left = LIVE.fetch_or(CLOSED, Ordering::Acquire) & !CLOSED;
    if left != 0 {
        // Returning would let the module's code be freed while C can still call it.
        panic!("{left} registration(s) with C left at unload (never dropped: mem::forget?)");
    }
}
