// SPDX-License-Identifier: GPL-2.0

//! Lock classes for lockdep (`Documentation/locking/lockdep-design.rst`): the static
//! keys that C's `mutex_init()` and `sysfs_attr_init()` declare where they are used.

use kernel::{bindings, types::Opaque};

/// A lockdep class: one static key per place that creates locks (C's `static struct
/// lock_class_key __key` inside `mutex_init()`).
pub struct LockKey(Opaque<bindings::lock_class_key>);

// SAFETY: The key is only handed to lockdep, which synchronizes its own use of it.
unsafe impl Sync for LockKey {}

impl LockKey {
    /// A key for a `static`: lockdep wants static keys left uninitialized.
    ///
    /// # Safety
    ///
    /// The key must be a `static`: lockdep refuses a key in dynamic memory that was not
    /// registered, and switches itself off.
    pub const unsafe fn new() -> Self {
        Self(Opaque::uninit())
    }

    /// The C key.
    pub fn as_ptr(&self) -> *mut bindings::lock_class_key {
        self.0.get()
    }
}
