//! A read-only sysfs file in `/sys/kernel/` (C's `kobj_attribute` on `kernel_kobj`).
//!
//! The owner of a [`SysfsFile`] implements [`SysfsShow`]; reading the file calls
//! [`SysfsShow::show`] with the page that sysfs hands over. Dropping the [`SysfsFile`]
//! removes the file, which waits for running reads, and only then frees the data.

use super::mutex::LockKey;
use kernel::{
    bindings, error::to_result, ffi::c_char, page::PAGE_SIZE, prelude::*, sync::Arc, types::Opaque,
};

/// The lockdep class of our sysfs files' active references.
static SYSFS_KEY: LockKey = LockKey::new();

/// What a sysfs file prints.
pub trait SysfsShow: Send + Sync {
    /// Writes the file's text at the start of `page` and returns its length.
    ///
    /// `page` is one byte shorter than `PAGE_SIZE`: sysfs refuses a full page.
    fn show(&self, page: &mut [u8]) -> usize;
}

impl<T: SysfsShow> SysfsShow for Arc<T> {
    fn show(&self, page: &mut [u8]) -> usize {
        (**self).show(page)
    }
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
/// `inner.attr` is registered on `kernel_kobj` with `show::<T>` as its callback, and
/// stays at its address (boxed) until `drop` has removed it.
pub struct SysfsFile<T: SysfsShow> {
    inner: KBox<Attribute<T>>,
}

// SAFETY: The attribute's raw pointers are only used by sysfs, which may call `show` from
// any thread; that only needs `T: Send + Sync`.
unsafe impl<T: SysfsShow> Send for SysfsFile<T> {}
// SAFETY: `&SysfsFile` only gives `&T`, and `T: Sync`.
unsafe impl<T: SysfsShow> Sync for SysfsFile<T> {}

impl<T: SysfsShow> SysfsFile<T> {
    /// Creates `/sys/kernel/NAME`, readable by everyone, printing `data`.
    pub fn new(name: &'static CStr, data: T) -> Result<Self> {
        let inner = KBox::new(
            Attribute {
                attr: Opaque::new(bindings::kobj_attribute {
                    attr: bindings::attribute {
                        name: name.as_char_ptr(),
                        mode: 0o444,
                        // A dynamically allocated attribute needs a static lockdep key
                        // (C's `sysfs_attr_init()`).
                        key: SYSFS_KEY.as_ptr(),
                        ..Default::default()
                    },
                    show: Some(show::<T>),
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
        // INVARIANT: the attribute was just registered with `show::<T>`.
        Ok(Self { inner })
    }

    /// The data the file prints.
    pub fn data(&self) -> &T {
        &self.inner.data
    }
}

impl<T: SysfsShow> Drop for SysfsFile<T> {
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

/// The `show` callback of every [`SysfsFile<T>`].
///
/// # Safety
///
/// `attr` must be the `attr` field of a registered `Attribute<T>` and `buf` a buffer of
/// `PAGE_SIZE` bytes, as sysfs guarantees.
unsafe extern "C" fn show<T: SysfsShow>(
    _kobj: *mut bindings::kobject,
    attr: *mut bindings::kobj_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: `attr` is the first field of a `#[repr(C)]` `Attribute<T>` that stays alive
    // while the file exists (caller's guarantee), and a read only needs `&T`.
    let inner = unsafe { &*attr.cast::<Attribute<T>>() };
    // SAFETY: sysfs gives `show` a page of its own for the duration of the call.
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), PAGE_SIZE - 1) };
    inner.data.show(page) as isize
}
