// SPDX-License-Identifier: GPL-2.0

//! What a module has registered with C, counted, so that the module is never unloaded
//! while C can still call its code.
//!
//! A sysfs file, a debugfs file, a shrinker and a kernel thread each let C run the
//! module's code later. Their wrappers undo the registration when dropped, but safe code
//! can keep a value from ever being dropped (`core::mem::forget`, a reference cycle): after
//! unloading, C would call code that is gone. So each of these wrappers holds a
//! [`Registration`], and the module is declared with
//! [`checked_module!`](crate::checked_module), whose type [`Checked`] runs at unload after
//! the module's own `Drop`. If a registration is still counted then, it panics (a kernel
//! `BUG`, which names the leak): the unload never completes, and the code stays where C
//! can reach it. Registrations are refused before the module's `init` and after its
//! unload, and a module that does not use the macro cannot use this file at all (it does
//! not link), so the check cannot be skipped.
//!
//! The lab's C module has the same duty, unchecked: every `*_register()` in init needs its
//! `*_unregister()` in exit, or the kernel calls freed code.

use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::{bindings, prelude::*, types::Opaque};

/// The bit of [`LIVE`] that says no registration may be made.
const CLOSED: usize = 1 << (usize::BITS - 1);
/// The bit of [`LIVE`] that says the module's [`Checked`] was initialized: once only.
const USED: usize = 1 << (usize::BITS - 2);
/// The count of [`LIVE`].
const COUNT: usize = !(CLOSED | USED);

/// This module's live registrations (every module builds its own copy of `common/`), with
/// [`CLOSED`] set while they are refused: before the module's [`Checked::init`] ran, and
/// from its end on.
static LIVE: AtomicUsize = AtomicUsize::new(CLOSED);

/// A counted registration with C: a field of each wrapper that lets C call the module.
///
/// Not `Clone`: each one is counted once when made and once when dropped.
pub struct Registration(());

impl Registration {
    /// Counts a new registration; `EINVAL` before the module's `init` or after its
    /// unload, when nothing would check it.
    pub(super) fn new() -> Result<Self> {
        let mut live = LIVE.load(Ordering::Relaxed);
        loop {
            if live & CLOSED != 0 {
                pr_err!("a registration outside the module's lifetime refused\n");
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
        LIVE.load(Ordering::Relaxed) & COUNT
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Release: the wrapper's undoing (the file removed, the thread stopped) happens
        // before the check at unload that sees the count fall.
        LIVE.fetch_sub(1, Ordering::Release);
    }
}

/// Declares the module (`module!`) with `Checked<TYPE>` as its type: the registrations of
/// `TYPE` are checked at unload. Takes the keys of `module!`, `type` first.
#[macro_export]
macro_rules! checked_module {
    (type: $type:ty, $($keys:tt)*) => {
        /// The module's type: `$type`, then the check that nothing it registered with C
        /// is left (`common/src/registration.rs`).
        type CheckedModule = $crate::common::registration::Checked<$type>;

        ::kernel::prelude::module! {
            type: CheckedModule,
            $($keys)*
        }

        // The mark that this module's type is `Checked`, which `Checked::init` refers to:
        // without this macro, `registration.rs` does not link. `no_mangle` is `unsafe_code`,
        // so a module cannot make the mark by hand.
        #[allow(unsafe_code)]
        #[no_mangle]
        static __taskmonitor_checked_module: u8 = 0;
    };
}

extern "C" {
    /// Defined by [`checked_module!`](crate::checked_module) only.
    static __taskmonitor_checked_module: u8;
    /// This module: `module!` defines it, inside a module of its own.
    #[allow(improper_ctypes)]
    static __this_module: Opaque<bindings::module>;
}

/// This module's `struct module` (C's `THIS_MODULE`).
pub(super) fn this_module() -> *mut bindings::module {
    ptr::addr_of!(__this_module).cast_mut().cast()
}

/// The type of a module declared with [`checked_module!`](crate::checked_module): the
/// module `M`, then the check at unload that every registration is gone.
pub struct Checked<M>(Option<M>);

impl<M: kernel::Module> kernel::Module for Checked<M> {
    fn init(module: &'static ThisModule) -> Result<Self> {
        // Only the module's own type, declared by the macro, can refer to the mark.
        core::hint::black_box(ptr::addr_of!(__taskmonitor_checked_module));
        // Once, closed until now: the module's `init` comes first, and a second
        // `Checked` (made by hand) would close the module's registrations when dropped.
        if LIVE
            .compare_exchange(CLOSED, USED, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return Err(EBUSY);
        }
        match M::init(module) {
            Ok(m) => Ok(Self(Some(m))),
            Err(e) => {
                // Loading fails and the code is freed: the same check as at unload.
                close();
                wait_for_references();
                Err(e)
            }
        }
    }
}

impl<M> Drop for Checked<M> {
    fn drop(&mut self) {
        drop(self.0.take());
        // `rmmod` unloads only a module nobody holds a reference on: the check suffices.
        close();
    }
}

/// Refuses new registrations, then panics if one is left.
fn close() {
    // Acquire: pairs with the release of every registration dropped before.
    let left = LIVE.fetch_or(CLOSED, Ordering::Acquire) & COUNT;
    if left != 0 {
        // Returning would let the module's code be freed while C can still call it.
        panic!("{left} registration(s) with C left at unload (never dropped: mem::forget?)");
    }
}

/// Waits until only the loader holds a reference on the module.
///
/// A failed load frees the module whatever its reference count (`do_init_module()`), but
/// a reference means code of the module may still run: the `release` of a file opened
/// during `init` (its `owner`), a thread that dropped its own `KThread`.
fn wait_for_references() {
    let mut said = false;
    // SAFETY: `this_module()` is this module, alive while its `init` runs.
    while unsafe { bindings::module_refcount(this_module()) } > 1 {
        if !said {
            pr_warn!("init failed; waiting for the module's users to let go\n");
            said = true;
        }
        // SAFETY: Sleeping is allowed in `init`.
        unsafe { bindings::msleep(10) };
    }
}
