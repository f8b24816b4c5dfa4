// SPDX-License-Identifier: GPL-2.0

//! A debugfs file that shows a seq_file and may take commands: C's
//! `debugfs_create_file()` and `debugfs_remove()`, with a `struct file_operations` of the
//! seq_file adapter's `open` and `release` (see `seq_file.rs`), `seq_read`, `seq_lseek`,
//! and a `write` handler.
//!
//! 6.12 has no debugfs in Rust. The `file_operations` live in a `static` declared with
//! [`debugfs_fops!`](crate::debugfs_fops), whose `owner` pins the module while the file
//! is open.

use super::foreign::ForeignData;
use super::registration::Registration;
use super::seq_file::{self, SeqShow};
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::{self, NonNull};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_char, c_void},
    prelude::*,
    types::ForeignOwnable,
    uaccess::{UserPtr, UserSlice},
};

// The structs contain zero-sized members, which the lint flags; C only sees pointers.
#[allow(improper_ctypes)]
extern "C" {
    // Exported by fs/debugfs/inode.c; 6.12's bindings do not include linux/debugfs.h.
    fn debugfs_create_file(
        name: *const c_char,
        mode: bindings::umode_t,
        parent: *mut bindings::dentry,
        data: *mut c_void,
        fops: *const bindings::file_operations,
    ) -> *mut bindings::dentry;
    fn debugfs_remove(dentry: *mut bindings::dentry);
}

/// A debugfs file that also takes commands (C's `write` handler).
pub trait SeqWrite: SeqShow {
    /// Carries out one `write()`: the bytes written, at most [`MAX_WRITE`].
    fn write(&self, input: &[u8]) -> Result;
}

/// The longest `write()` accepted; a longer one fails with `EINVAL` and is not read.
pub const MAX_WRITE: usize = 64;

/// The `file_operations` of a debugfs file showing a `T`, in a `static`, and the file's
/// mode.
pub struct Fops<T>(bindings::file_operations, u16, PhantomData<T>);

// SAFETY: The operations table is never changed after it is built.
unsafe impl<T> Sync for Fops<T> {}

impl<T: SeqShow> Fops<T> {
    /// The operations of a read-only seq_file, owned by `module`. Use
    /// [`debugfs_fops!`](crate::debugfs_fops).
    ///
    /// # Safety
    ///
    /// `module` must be this module (`THIS_MODULE`): the VFS holds it while the file is
    /// open, so that the operations' code stays loaded.
    pub const unsafe fn new(module: *mut bindings::module) -> Self {
        // SAFETY: All-zero is a valid `file_operations`: null pointers and `None`s.
        let mut fops: bindings::file_operations =
            unsafe { core::mem::MaybeUninit::zeroed().assume_init() };
        fops.owner = module;
        fops.open = Some(seq_file::open::<T>);
        fops.read = Some(bindings::seq_read);
        fops.llseek = Some(bindings::seq_lseek);
        fops.release = Some(seq_file::release::<T>);
        Self(fops, 0o400, PhantomData)
    }
}

impl<T: SeqWrite> Fops<T> {
    /// The operations of a seq_file that also takes writes, owned by `module`.
    ///
    /// # Safety
    ///
    /// As for [`Fops::new`].
    pub const unsafe fn new_writable(module: *mut bindings::module) -> Self {
        // SAFETY: The caller passes this module.
        let Self(mut fops, _, _) = unsafe { Self::new(module) };
        fops.write = Some(write::<T>);
        Self(fops, 0o600, PhantomData)
    }
}

/// Declares the `file_operations` of a debugfs file showing a `T`: `static NAME:
/// Fops<T>`, owned by this module; `debugfs_fops!(NAME: T, writable)` for a file that
/// also takes writes (`T: SeqWrite`).
#[macro_export]
macro_rules! debugfs_fops {
    ($static:ident: $type:ty) => {
        $crate::debugfs_fops!($static: $type, new);
    };
    ($static:ident: $type:ty, writable) => {
        $crate::debugfs_fops!($static: $type, new_writable);
    };
    ($static:ident: $type:ty, $new:ident) => {
        static $static: $crate::common::debugfs::Fops<$type> = {
            // `module!` defines it too, but inside modules of its own.
            #[allow(improper_ctypes)]
            extern "C" {
                static __this_module: ::kernel::types::Opaque<::kernel::bindings::module>;
            }
            // SAFETY: `__this_module` is this module.
            #[allow(unsafe_code)]
            unsafe {
                $crate::common::debugfs::Fops::$new(
                    ::core::ptr::addr_of!(__this_module).cast_mut().cast(),
                )
            }
        };
    };
}

/// A file `/sys/kernel/debug/NAME`, removed when dropped.
///
/// # Invariants
///
/// `dentry` is the debugfs file created with `data`'s target as its private data and
/// `Fops<P::Target>` as its operations; `data` is dropped after `drop` removed the file.
pub struct DebugfsFile<P: ForeignOwnable + Deref<Target: SeqShow>> {
    dentry: NonNull<bindings::dentry>,
    /// Kept for the file to show; given back (dropped) after the file is removed.
    _data: ForeignData<P>,
    _registration: Registration,
}

// SAFETY: The file may be removed from any thread; readers only need `&P::Target`, which
// is `Send + Sync`.
unsafe impl<P: ForeignOwnable + Deref<Target: SeqShow> + Send> Send for DebugfsFile<P> {}
// SAFETY: `&DebugfsFile` only gives `&P::Target`, which is `Sync`.
unsafe impl<P: ForeignOwnable + Deref<Target: SeqShow> + Sync> Sync for DebugfsFile<P> {}

impl<P> DebugfsFile<P>
where
    P: ForeignOwnable + Deref<Target: SeqShow>,
    for<'a> P::Borrowed<'a>: Deref<Target = P::Target>,
{
    /// Creates `/sys/kernel/debug/NAME`, listing `data`: readable by root, and writable
    /// by root if `fops` take writes.
    pub fn new(name: &'static CStr, fops: &'static Fops<P::Target>, data: P) -> Result<Self> {
        let registration = Registration::new()?;
        let data = ForeignData::new(data);
        // SAFETY: `name` is a C string; `data` outlives the file (it is dropped after
        // `debugfs_remove`); `fops` is static, and its `open` expects a `P::Target` as
        // `i_private`.
        let dentry = unsafe {
            debugfs_create_file(
                name.as_char_ptr(),
                fops.1,
                ptr::null_mut(),
                data.as_ptr(),
                &fops.0,
            )
        };
        let dentry = from_err_ptr(dentry)?;
        let dentry = NonNull::new(dentry).ok_or(ENODEV)?;
        // INVARIANT: the file exists, with `data`'s target as its private data.
        Ok(Self {
            dentry,
            _data: data,
            _registration: registration,
        })
    }
}

impl<P: ForeignOwnable + Deref<Target: SeqShow>> Drop for DebugfsFile<P> {
    fn drop(&mut self) {
        // SAFETY: The file is ours (type invariant). `debugfs_remove` waits for running
        // operations and cuts off later ones but `release`, which does not use the data.
        unsafe { debugfs_remove(self.dentry.as_ptr()) };
    }
}

/// `write` of a writable `Fops<T>`: copies at most [`MAX_WRITE`] bytes from user space
/// and hands them to [`SeqWrite::write`].
///
/// # Safety
///
/// Called by the VFS on a file opened by the seq_file adapter's `open::<T>`, with a user
/// buffer of `count` bytes.
unsafe extern "C" fn write<T: SeqWrite>(
    file: *mut bindings::file,
    buf: *const c_char,
    count: usize,
    _pos: *mut i64,
) -> isize {
    let mut bytes = [0u8; MAX_WRITE];
    let Some(input) = bytes.get_mut(..count) else {
        // Refused before anything is copied: user space cannot make us read more.
        return -(bindings::EINVAL as isize);
    };
    if let Err(e) = UserSlice::new(buf as UserPtr, count)
        .reader()
        .read_slice(input)
    {
        return e.to_errno() as isize;
    }
    // The data comes from the inode, as `open` takes it, not from the seq_file's state,
    // which a concurrent read of the same file may be changing.
    // SAFETY: The file is open, so its inode is valid; `DebugfsFile::new` made a `T` its
    // `i_private`, alive while the file can be written.
    let data = unsafe { seq_file::inode_data::<T>((*file).f_inode) };
    match data.write(input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

#[cfg(taskmonitor_kunit)]
impl<P: ForeignOwnable + Deref<Target: SeqShow>> DebugfsFile<P> {
    /// Reads the whole file, `chunk` bytes per read, through its seq_file operations as
    /// `read()` drives them: `open`, then `start`/`show`/`next`/`stop` for each chunk,
    /// then `release`. For in-kernel tests only.
    ///
    /// The file is opened at `/sys/kernel/debug/NAME` (where debugfs is mounted); `ENOENT`
    /// if that is not this file. debugfs's proxy has no `read_iter`, which `kernel_read()`
    /// needs, so the reads call `seq_read_iter()`, what `seq_read()` does for user space.
    pub fn read_back(&self, name: &CStr, chunk: usize) -> Result<KVec<u8>> {
        let path = kernel::str::CString::try_from_fmt(kernel::fmt!("/sys/kernel/debug/{name}"))?;
        let mut buf = KVec::from_elem(0u8, chunk, GFP_KERNEL)?;
        // SAFETY: `path` is a C string.
        let file = unsafe { bindings::filp_open(path.as_char_ptr(), bindings::O_RDONLY as i32, 0) };
        let file = from_err_ptr(file)?;
        // SAFETY: `file` is open: its path is valid.
        let ours = unsafe { (*file).f_path.dentry } == self.dentry.as_ptr();
        let read = if ours {
            // SAFETY: The file is ours, so `open::<T>` made it a seq_file; it stays open
            // and our data alive (we borrow `self`) while we read.
            unsafe { read_seq_file(file, &mut buf) }
        } else {
            Err(ENOENT)
        };
        // SAFETY: `file` was opened above; this is the matching close.
        unsafe { bindings::fput(file) };
        read
    }
}

/// Reads the seq_file `file` from the start to the end, `buf.len()` bytes at a time.
///
/// # Safety
///
/// `file` must be an open seq_file whose operations can run until this returns.
#[cfg(taskmonitor_kunit)]
unsafe fn read_seq_file(file: *mut bindings::file, buf: &mut [u8]) -> Result<KVec<u8>> {
    let mut out = KVec::new();
    let mut pos = 0;
    loop {
        // SAFETY: All zeroes is a valid `kiocb` (plain data, no callback) and `iov_iter`
        // (`iov_iter_kvec` sets it up next).
        let (mut iocb, mut iter): (bindings::kiocb, bindings::iov_iter) =
            unsafe { (core::mem::zeroed(), core::mem::zeroed()) };
        iocb.ki_filp = file;
        iocb.ki_pos = pos;
        let segment = bindings::kvec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: `segment` describes `buf`, which outlives the read below.
        unsafe { bindings::iov_iter_kvec(&mut iter, bindings::ITER_DEST, &segment, 1, buf.len()) };
        // SAFETY: `file` is an open seq_file (caller's guarantee); `iter` writes to `buf`.
        let n = unsafe { bindings::seq_read_iter(&mut iocb, &mut iter) };
        pos = iocb.ki_pos;
        match usize::try_from(n) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n], GFP_KERNEL)?,
            Err(_) => return Err(Error::from_errno(n as i32)),
        }
    }
}
