// SPDX-License-Identifier: GPL-2.0

//! A mutex that can also be tried (C's `mutex_trylock()`), which 6.12's
//! `kernel::sync::Mutex` cannot do.
//!
//! A shrinker runs inside memory reclaim, possibly on behalf of an allocation made by a
//! thread that holds the very lock the shrinker needs; it must give up (`SHRINK_STOP`)
//! rather than wait. [`Mutex::try_lock`] is what lets it. Otherwise this is the same
//! `struct mutex`, with the same lockdep checks, as `kernel::sync::Mutex`.

use super::lockdep::LockKey;
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use kernel::{bindings, init::PinInit, pin_init, prelude::*, types::Opaque};

/// A `struct mutex` protecting a `T`.
///
/// # Invariants
///
/// `raw` is an initialized mutex; `data` is only accessed through a [`Guard`], which
/// exists only while `raw` is held by the current task.
#[pin_data]
pub struct Mutex<T> {
    #[pin]
    raw: Opaque<bindings::mutex>,
    data: UnsafeCell<T>,
}

// SAFETY: The mutex can be moved to and dropped on another thread along with its `T`.
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: The mutex serializes all access to `T`, so sharing it only needs `T: Send`.
unsafe impl<T: Send> Sync for Mutex<T> {}

/// Creates a [`Mutex`] with a lockdep class of its own, named after the source line
/// (like `kernel::new_mutex!`).
#[macro_export]
macro_rules! new_try_mutex {
    ($data:expr) => {{
        #[allow(unsafe_code)]
        static KEY: $crate::common::lockdep::LockKey =
            // SAFETY: A `static`, as lockdep requires.
            unsafe { $crate::common::lockdep::LockKey::new() };
        $crate::common::mutex::Mutex::new(
            $data,
            ::kernel::c_str!(concat!(file!(), ":", line!())),
            &KEY,
        )
    }};
}

impl<T> Mutex<T> {
    /// Initializes a mutex holding `data`, in lockdep class `key` named `name`.
    pub fn new(data: T, name: &'static CStr, key: &'static LockKey) -> impl PinInit<Self> {
        pin_init!(Self {
            data: UnsafeCell::new(data),
            // SAFETY: `__mutex_init` initializes the mutex in place; `name` and `key` are
            // static.
            raw <- Opaque::ffi_init(|slot| unsafe {
                bindings::__mutex_init(slot, name.as_char_ptr(), key.as_ptr())
            }),
        })
    }

    /// Waits for the mutex and returns a guard that unlocks it when dropped.
    pub fn lock(&self) -> Guard<'_, T> {
        // SAFETY: `raw` is initialized (type invariant); a task may sleep here.
        unsafe { bindings::mutex_lock(self.raw.get()) };
        // INVARIANT: the current task holds the mutex.
        Guard {
            mutex: self,
            _not_send: PhantomData,
        }
    }

    /// Takes the mutex if it is free, without waiting.
    pub fn try_lock(&self) -> Option<Guard<'_, T>> {
        // SAFETY: `raw` is initialized (type invariant).
        let locked = unsafe { bindings::mutex_trylock(self.raw.get()) } != 0;
        // INVARIANT: when `mutex_trylock` succeeds, the current task holds the mutex.
        // `then`, not `then_some`: a guard built eagerly would unlock on drop.
        locked.then(|| Guard {
            mutex: self,
            _not_send: PhantomData,
        })
    }
}

/// Access to the data of a locked [`Mutex`]; unlocks it when dropped.
///
/// # Invariants
///
/// The current task holds `mutex`. A mutex is released by the task that took it, so a
/// guard is not `Send`.
pub struct Guard<'a, T> {
    mutex: &'a Mutex<T>,
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The mutex is held (type invariant), so nothing else accesses the data.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: The mutex is held (type invariant) and `&mut self` is unique.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: The current task holds the mutex (type invariant).
        unsafe { bindings::mutex_unlock(self.mutex.raw.get()) };
    }
}
