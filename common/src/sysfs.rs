// SPDX-License-Identifier: GPL-2.0

//! A read-only sysfs file in `/sys/kernel/` (C's `kobj_attribute` on `kernel_kobj`).
//!
//! The owner of a [`SysfsFile`] implements [`SysfsShow`] and gives the file a pointer to
//! it (an `Arc` or a `KBox`); reading the file calls [`SysfsShow::show`] with the page
//! that sysfs hands over. Dropping the [`SysfsFile`]
//! removes the file, which waits for running reads, and only then frees the data.

use super::registration::Registration;
use core::ops::Deref;
use kernel::{bindings, error::to_result, ffi::c_char, page::PAGE_SIZE, prelude::*, types::Opaque};

/// The lockdep class of our sysfs files' active references (a kernel without lockdep has
/// no such field).
#[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
static SYSFS_KEY: super::lockdep::LockKey =
    // SAFETY: A `static`, as lockdep requires.
    unsafe { super::lockdep::LockKey::new() };

/// What a sysfs file prints.
pub trait SysfsShow: Send + Sync + Sized {
    /// Writes the file's text at the start of `page` and returns its length.
    ///
    /// `page` is one byte shorter than `PAGE_SIZE`: sysfs refuses a full page.
    fn show(&self, page: &mut [u8]) -> usize;
}

/// The attribute and the data its `show` callback reaches by `container_of`.
#[repr(C)]
struct Attribute<T> {
    attr: Opaque<bindings::kobj_attribute>,
    data: T,
}

/// A file `/sys/kernel/NAME`, removed when dropped.
///
/// # Invariants
///
/// `inner.attr` is registered on `kernel_kobj` with `show::<P>` as its callback, and
/// stays at its address (boxed) until `drop` has removed it.
pub struct SysfsFile<P: Deref<Target: SysfsShow>> {
    inner: KBox<Attribute<P>>,
    _registration: Registration,
}

// SAFETY: The attribute's raw pointers are only used by sysfs, which may call `show` from
// any thread; that needs `P: Send + Sync` (and so its target's).
unsafe impl<P: Deref<Target: SysfsShow> + Send> Send for SysfsFile<P> {}
// SAFETY: `&SysfsFile` only gives `&P::Target`.
unsafe impl<P: Deref<Target: SysfsShow> + Sync> Sync for SysfsFile<P> {}

/// A read-only attribute called `name`.
fn attribute(name: &'static CStr) -> bindings::attribute {
    #[allow(unused_mut)]
    let mut attr = bindings::attribute {
        name: name.as_char_ptr(),
        mode: 0o444,
        ..Default::default()
    };
    // A dynamically allocated attribute needs a static lockdep key (C's
    // `sysfs_attr_init()`), where lockdep is built in.
    #[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
    {
        attr.key = SYSFS_KEY.as_ptr();
    }
    attr
}

impl<P: Deref<Target: SysfsShow> + Send + Sync> SysfsFile<P> {
    /// Creates `/sys/kernel/NAME`, readable by everyone, printing `data`.
    pub fn new(name: &'static CStr, data: P) -> Result<Self> {
        let registration = Registration::new()?;
        let inner = KBox::new(
            Attribute {
                attr: Opaque::new(bindings::kobj_attribute {
                    attr: attribute(name),
                    show: Some(show::<P>),
                    store: None,
                }),
                data,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: `kernel_kobj` is the kobject of `/sys/kernel`, alive as long as the
        // kernel. The attribute is initialized and boxed, so its address is stable until
        // `drop` removes it.
        to_result(unsafe {
            bindings::sysfs_create_file_ns(
                bindings::kernel_kobj,
                &raw const (*inner.attr.get()).attr,
                core::ptr::null(),
            )
        })?;
        // INVARIANT: the attribute was just registered with `show::<P>`.
        Ok(Self {
            inner,
            _registration: registration,
        })
    }
}

impl<P: Deref<Target: SysfsShow>> Drop for SysfsFile<P> {
    fn drop(&mut self) {
        // SAFETY: The attribute is registered on `kernel_kobj` (type invariant). Removal
        // waits for running `show` calls, so the box may be freed afterwards.
        unsafe {
            bindings::sysfs_remove_file_ns(
                bindings::kernel_kobj,
                &raw const (*self.inner.attr.get()).attr,
                core::ptr::null(),
            )
        };
    }
}

/// The `show` callback of every [`SysfsFile<P>`].
///
/// # Safety
///
/// `attr` must be the `attr` field of a registered `Attribute<P>` and `buf` a buffer of
/// `PAGE_SIZE` bytes, as sysfs guarantees.
unsafe extern "C" fn show<P: Deref<Target: SysfsShow>>(
    _kobj: *mut bindings::kobject,
    attr: *mut bindings::kobj_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: `attr` is the first field of a `#[repr(C)]` `Attribute<P>` that stays alive
    // while the file exists (caller's guarantee), and a read only needs `&P`.
    let inner = unsafe { &*attr.cast::<Attribute<P>>() };
    // SAFETY: sysfs gives `show` a page of its own for the duration of the call.
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), PAGE_SIZE - 1) };
    // Never more than the page, whatever `show` returns.
    let len = inner.data.show(page);
    len.min(page.len()) as isize
}
