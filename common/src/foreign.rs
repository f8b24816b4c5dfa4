// SPDX-License-Identifier: GPL-2.0

//! Data handed to C as a `void *` (a shrinker's `private_data`, a debugfs file's
//! `i_private`), through the kernel's `ForeignOwnable` (`KBox`, `Arc`, ...).

use core::ops::Deref;
use core::ptr::NonNull;
use kernel::{ffi::c_void, types::ForeignOwnable};

/// A `P` owned by C until dropped, which C reaches by a pointer to its target: the
/// callbacks get a plain `&P::Target`.
///
/// # Invariants
///
/// `foreign` comes from `P::into_foreign` and is given back only in `drop`; `target`
/// points to the value it owns, which stays in place until then.
pub struct ForeignData<P: ForeignOwnable + Deref> {
    foreign: *const c_void,
    target: NonNull<P::Target>,
}

// SAFETY: Owns a `P`; C only reaches `&P::Target` through it.
unsafe impl<P: ForeignOwnable + Deref + Send> Send for ForeignData<P> {}
// SAFETY: `&ForeignData` only gives `&P::Target`.
unsafe impl<P: ForeignOwnable + Deref + Sync> Sync for ForeignData<P> where P::Target: Sync {}

impl<P> ForeignData<P>
where
    P: ForeignOwnable + Deref,
    for<'a> P::Borrowed<'a>: Deref<Target = P::Target>,
{
    /// Gives `data` to C.
    pub fn new(data: P) -> Self {
        let foreign = data.into_foreign();
        // SAFETY: `foreign` comes from `into_foreign` just above and is not given back
        // until `drop`, so what the borrow points to stays in place until then.
        let target = NonNull::from(&*unsafe { P::borrow(foreign) });
        // INVARIANT: as argued above.
        Self { foreign, target }
    }
}

impl<P: ForeignOwnable + Deref> ForeignData<P> {
    /// The pointer for C: to the target, valid while `self` lives.
    pub fn as_ptr(&self) -> *mut c_void {
        self.target.as_ptr().cast()
    }

    /// The data.
    pub fn get(&self) -> &P::Target {
        // SAFETY: `target` stays valid while `self` lives (type invariant).
        unsafe { self.target.as_ref() }
    }
}

impl<P: ForeignOwnable + Deref> Drop for ForeignData<P> {
    fn drop(&mut self) {
        // SAFETY: `foreign` comes from `into_foreign` and is given back once, here; the
        // borrow taken in `new` has ended. The owner of `self` has stopped C's use of
        // the pointer (it removed the file, freed the shrinker) before dropping it.
        drop(unsafe { P::from_foreign(self.foreign) });
    }
}
