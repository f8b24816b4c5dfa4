// SPDX-License-Identifier: GPL-2.0

//! A C object kept in a `static` (a `struct kmem_cache *`, a `mempool_t *`): installed
//! once, used under counted references, and taken out to be destroyed only when none is
//! left.
//!
//! Pure logic: the kernel modules and the host tests build this same file, and the host
//! model-checks it with `loom` (`make loom`), which tries every interleaving of a few
//! threads that acquire, release and take the object out concurrently.
//!
//! One atomic word holds a "closed" bit and the count of references, so that taking the
//! object out and acquiring a reference cannot interleave badly: a holder's object never
//! becomes null under it, and an acquire fails only once teardown has begun.

#[cfg(not(loom))]
use core::sync::atomic::{AtomicPtr, AtomicUsize};
#[cfg(loom)]
use loom::sync::atomic::{AtomicPtr, AtomicUsize};

use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering;

/// The bit of [`StaticObject::state`] that says no reference may be acquired.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// See the module documentation.
///
/// # Invariants
///
/// `state` is `CLOSED` (with no references) while nothing is installed, and from the
/// moment [`StaticObject::take_unused`] succeeds. Otherwise it is the number of
/// references handed out by [`StaticObject::acquire`] and not yet released, and `raw` is
/// the installed object, non-null and unchanged while the count is not zero.
pub struct StaticObject<C> {
    raw: AtomicPtr<C>,
    state: AtomicUsize,
}

impl<C> StaticObject<C> {
    /// Nothing installed yet.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            raw: AtomicPtr::new(ptr::null_mut()),
            state: AtomicUsize::new(CLOSED),
        }
    }

    /// Nothing installed yet (loom's atomics are not `const`).
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            raw: AtomicPtr::new(ptr::null_mut()),
            state: AtomicUsize::new(CLOSED),
        }
    }

    /// Installs `raw` and opens it to [`StaticObject::acquire`]; `false` if an object is
    /// installed already.
    pub fn install(&self, raw: NonNull<C>) -> bool {
        if self
            .raw
            .compare_exchange(
                ptr::null_mut(),
                raw.as_ptr(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return false;
        }
        // Release: whoever acquires a reference sees `raw`. Only this install can open
        // it: the state is `CLOSED` with no reference while `raw` was null.
        self.state.store(0, Ordering::Release);
        true
    }

    /// Takes a reference on the installed object, which keeps it from being taken out
    /// until [`StaticObject::release`]. `None` if nothing is installed, or teardown began.
    pub fn acquire(&self) -> Option<NonNull<C>> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & CLOSED != 0 {
                return None;
            }
            // Acquire: pairs with the install's release, so `raw` is seen.
            match self.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        // INVARIANT: counted; the object stays until this reference is released.
        let raw = NonNull::new(self.raw.load(Ordering::Relaxed));
        debug_assert!(raw.is_some(), "an open StaticObject has an object");
        raw
    }

    /// The object of a reference taken by [`StaticObject::acquire`].
    ///
    /// # Safety
    ///
    /// The caller must hold a reference that it has not released yet.
    pub unsafe fn get(&self) -> NonNull<C> {
        // SAFETY: While a reference is held, `raw` is the installed object, non-null
        // (type invariant).
        unsafe { NonNull::new_unchecked(self.raw.load(Ordering::Relaxed)) }
    }

    /// Drops a reference taken by [`StaticObject::acquire`].
    ///
    /// # Safety
    ///
    /// The caller must hold a reference that it has not released yet, and not use the
    /// object through it afterwards.
    pub unsafe fn release(&self) {
        // Release: this holder's uses of the object happen before the teardown that
        // sees the count reach zero.
        let before = self.state.fetch_sub(1, Ordering::Release);
        debug_assert!(before & !CLOSED != 0, "released more than acquired");
    }

    /// Closes the object and takes it out, to be destroyed, if no reference is left:
    /// `Ok(None)` if nothing was installed (or it was taken already), `Err(n)` with the
    /// number of references if some remain, and then it stays open and in place.
    pub fn take_unused(&self) -> Result<Option<NonNull<C>>, usize> {
        // Acquire: every holder's uses happen before, through its release.
        match self
            .state
            .compare_exchange(0, CLOSED, Ordering::Acquire, Ordering::Relaxed)
        {
            // INVARIANT: closed with no reference; nobody can reach `raw` any more.
            Ok(_) => Ok(NonNull::new(
                self.raw.swap(ptr::null_mut(), Ordering::Relaxed),
            )),
            Err(state) if state & CLOSED != 0 => Ok(None),
            Err(users) => Err(users),
        }
    }
}

#[cfg(not(loom))]
impl<C> Default for StaticObject<C> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn object() -> NonNull<u32> {
        NonNull::from(std::boxed::Box::leak(std::boxed::Box::new(7u32)))
    }

    #[test]
    fn nothing_to_acquire_before_install_or_after_take() {
        let s = StaticObject::<u32>::new();
        assert!(s.acquire().is_none());
        assert_eq!(s.take_unused(), Ok(None));
        let raw = object();
        assert!(s.install(raw));
        let second = object();
        assert!(!s.install(second), "a second install is refused");
        // SAFETY: `second` came from a leaked box and was not installed.
        drop(unsafe { std::boxed::Box::from_raw(second.as_ptr()) });
        assert_eq!(s.acquire(), Some(raw));
        // SAFETY: one reference is held.
        unsafe { s.release() };
        assert_eq!(s.take_unused(), Ok(Some(raw)));
        assert!(s.acquire().is_none());
        assert_eq!(s.take_unused(), Ok(None));
        // SAFETY: `raw` came from a leaked box and is taken out of `s`.
        drop(unsafe { std::boxed::Box::from_raw(raw.as_ptr()) });
    }

    #[test]
    fn a_held_object_is_neither_taken_nor_hidden() {
        let s = StaticObject::<u32>::new();
        let raw = object();
        assert!(s.install(raw));
        assert_eq!(s.acquire(), Some(raw));
        assert_eq!(s.acquire(), Some(raw));
        assert_eq!(s.take_unused(), Err(2));
        // The refused teardown changed nothing: the holders still see the object and
        // others can still acquire it.
        // SAFETY: references are held.
        assert_eq!(unsafe { s.get() }, raw);
        assert_eq!(s.acquire(), Some(raw));
        // SAFETY: three references are held; each is released once.
        unsafe { (s.release(), s.release(), s.release()) };
        assert_eq!(s.take_unused(), Ok(Some(raw)));
        // SAFETY: `raw` came from a leaked box and is taken out of `s`.
        drop(unsafe { std::boxed::Box::from_raw(raw.as_ptr()) });
    }
}
