// SPDX-License-Identifier: GPL-2.0

//! Reference-counted objects: C's `struct kref` with `kref_init()`, `kref_get()` and
//! `kref_put()`, on the kernel's `refcount_t`.
//!
//! An object embeds a [`Refcount`] and declares it with
//! [`impl_counted!`](crate::impl_counted). [`Ref`] is a shared owner: cloning it takes a
//! reference (`kref_get`), dropping it puts one (`kref_put`), and the last put drops the
//! object and gives its memory back to where it came from (a slab cache or a mempool; see
//! [`Source`]). `refcount_t` saturates instead of wrapping and warns on misuse (an
//! increment from zero, a decrement below it), which the tests treat as a failure.

use super::list::{ListItem, Owner};
use super::slab::{ObjectBox, Source};
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicI32, Ordering};
use kernel::{bindings, types::Opaque};

/// A reference count embedded in an object (C's `struct kref`).
pub struct Refcount(Opaque<bindings::refcount_t>);

// SAFETY: `refcount_t` is an atomic counter, made to be shared between threads.
unsafe impl Send for Refcount {}
// SAFETY: As above.
unsafe impl Sync for Refcount {}

impl Refcount {
    /// A count of one, for the owner that creates the object (C's `kref_init()`).
    pub fn new() -> Self {
        // SAFETY: `REFCOUNT_INIT` only builds a value.
        Self(Opaque::new(unsafe { bindings::REFCOUNT_INIT(1) }))
    }

    /// The current count (C's `kref_read()`); it may change at once.
    pub fn read(&self) -> u32 {
        // SAFETY: `refs.counter` is the `atomic_t` inside the `refcount_t`, which lives as
        // long as `self`; the C side only changes it atomically, as this reads it.
        let counter = unsafe { AtomicI32::from_ptr(&raw mut (*self.0.get()).refs.counter) };
        counter.load(Ordering::Relaxed) as u32
    }
}

impl Default for Refcount {
    fn default() -> Self {
        Self::new()
    }
}

/// An object with an embedded [`Refcount`].
///
/// # Safety
///
/// `refcount` must always return the same field of `self`, stored in it (counting only
/// the references to `self`). Use
/// [`impl_counted!`](crate::impl_counted).
pub unsafe trait Counted {
    /// The object's count.
    fn refcount(&self) -> &Refcount;
}

/// Implements [`Counted`] for a struct with a [`Refcount`] field.
#[macro_export]
macro_rules! impl_counted {
    ($type:ty, $field:ident) => {
        // The caller's type is named outside the `allow`: a type can hold a block of
        // code, which must stay under the crate's `deny(unsafe_code)`.
        const _: () = {
            type This = $type;
            // SAFETY: Always the same field, a `Refcount` stored in the object itself and
            // aligned: the pattern does not go through `Deref` (to a count another object
            // may share) nor bind a field of a `repr(packed)` struct, and the raw pointer
            // does not coerce, so a field that only derefs to a `Refcount` does not
            // compile either.
            #[allow(unsafe_code)]
            unsafe impl $crate::common::refcount::Counted for This {
                fn refcount(&self) -> &$crate::common::refcount::Refcount {
                    let This { $field: field, .. } = self;
                    let field: *const $crate::common::refcount::Refcount = field;
                    // SAFETY: A field of `self`, borrowed as long as `self`.
                    unsafe { &*field }
                }
            }
        };
    };
}

/// A counted reference to an object from the source `S`.
///
/// # Invariants
///
/// `object` is an initialized `T` from `S` whose count includes this reference; when the
/// count drops to zero, the object is dropped and given back to `S`.
pub struct Ref<T: Counted, S: Source<T>> {
    object: NonNull<T>,
    _source: PhantomData<S>,
}

// SAFETY: References may be sent to, and dropped on, any thread when `T` may be shared:
// the count is atomic and the last put can happen anywhere.
unsafe impl<T: Counted + Send + Sync, S: Source<T>> Send for Ref<T, S> {}
// SAFETY: `&Ref` gives `&T` and can be cloned, which needs the same.
unsafe impl<T: Counted + Send + Sync, S: Source<T>> Sync for Ref<T, S> {}

impl<T: Counted, S: Source<T>> From<ObjectBox<T, S>> for Ref<T, S> {
    /// Shares a uniquely owned object: its count is still the one it was created with.
    fn from(unique: ObjectBox<T, S>) -> Self {
        debug_assert_eq!(unique.refcount().read(), 1);
        // INVARIANT: the box's ownership becomes the first counted reference (a count of
        // one: nothing could take a reference to an object owned by a box).
        Self {
            object: unique.leak(),
            _source: PhantomData,
        }
    }
}

impl<T: Counted, S: Source<T>> Ref<T, S> {
    /// How many references exist now, this one included.
    pub fn count(this: &Self) -> u32 {
        this.refcount().read()
    }
}

impl<T: Counted, S: Source<T>> Clone for Ref<T, S> {
    /// Takes a reference (C's `kref_get()`).
    fn clone(&self) -> Self {
        // SAFETY: The object is alive: we hold a reference (type invariant).
        unsafe { bindings::refcount_inc(self.refcount().0.get()) };
        // INVARIANT: the count now includes the new reference.
        Self {
            object: self.object,
            _source: PhantomData,
        }
    }
}

impl<T: Counted, S: Source<T>> Deref for Ref<T, S> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The object is alive while we hold a reference (type invariant).
        unsafe { self.object.as_ref() }
    }
}

impl<T: Counted, S: Source<T>> Drop for Ref<T, S> {
    /// Puts the reference (C's `kref_put()`); the last one frees the object.
    fn drop(&mut self) {
        // SAFETY: We hold a reference, so the count is at least one.
        let last = unsafe { bindings::refcount_dec_and_test(self.refcount().0.get()) };
        if last {
            // SAFETY: That was the last reference: nothing else can reach the object, which
            // came from `S` (type invariant). It is dropped and given back once.
            unsafe {
                ptr::drop_in_place(self.object.as_ptr());
                S::give_back(self.object);
            }
        }
    }
}

// SAFETY: `into_raw` keeps the reference (and so the object) without moving it; `from_raw`
// takes that same reference back. Other references give only `&T`. A `Ref` is not a
// `UniqueOwner`: its clones share the item, and the list's tracker keeps it in one list.
unsafe impl<T: Counted + ListItem, S: Source<T>> Owner for Ref<T, S> {
    type Item = T;

    fn into_raw(self) -> *const T {
        let object = self.object.as_ptr();
        core::mem::forget(self);
        object
    }

    unsafe fn from_raw(ptr: *const T) -> Self {
        // SAFETY: The caller passes a non-null pointer from `into_raw`, with its reference.
        let object = unsafe { NonNull::new_unchecked(ptr.cast_mut()) };
        Self {
            object,
            _source: PhantomData,
        }
    }
}
