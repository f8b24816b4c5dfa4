// SPDX-License-Identifier: GPL-2.0

//! `KBox` as the owner of list items, for lists of objects allocated with `kmalloc`.

use super::list::{ListItem, Owner, UniqueOwner};
use kernel::prelude::*;

// SAFETY: `KBox::into_raw` and `KBox::from_raw` round-trip, and a box never moves its
// contents.
unsafe impl<T: ListItem> Owner for KBox<T> {
    type Item = T;

    fn into_raw(self) -> *const T {
        KBox::into_raw(self)
    }

    unsafe fn from_raw(ptr: *const T) -> Self {
        // SAFETY: The caller passes a pointer from `into_raw`, given back once.
        unsafe { KBox::from_raw(ptr.cast_mut()) }
    }
}

// SAFETY: A box is the only owner of its contents.
unsafe impl<T: ListItem> UniqueOwner for KBox<T> {}
