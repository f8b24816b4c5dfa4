//! A debugfs file that lists the items of a [`List`] through seq_file: C's
//! `debugfs_create_file()` and `debugfs_remove()`, with a `struct file_operations` of
//! `seq_open`, `seq_read`, `seq_lseek` and `seq_release`, and a `struct seq_operations`
//! whose `start` takes the list's lock and whose `stop` releases it.
//!
//! 6.12 has neither debugfs nor seq_file in Rust. The owner implements [`SeqShow`]: how to
//! lock the list and how to print one item. The `file_operations` live in a `static`
//! declared with [`debugfs_fops!`](crate::debugfs_fops), whose `owner` pins the module while
//! the file is open.

use super::list::{List, Owner, Stamp};
use core::fmt;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_char, c_int, c_void},
    fmt,
    prelude::*,
    str::CString,
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

/// The item type of a [`SeqShow`]'s list.
pub type Item<T> = <<T as SeqShow>::Owner as Owner>::Item;

/// What a seq_file lists: the items of a list, front to back, under a lock held from
/// `start` to `stop` (so an item is never printed half-changed or after being freed).
pub trait SeqShow: Send + Sync + 'static {
    /// The list's owning pointer.
    type Owner: Owner;
    /// The lock guard that gives access to the list.
    type Locked<'a>;

    /// Takes the lock.
    fn lock(&self) -> Self::Locked<'_>;

    /// The list, behind the lock.
    fn list<'a>(locked: &'a Self::Locked<'_>) -> &'a List<Self::Owner>;

    /// Prints one item.
    fn show(&self, item: &Item<Self>, out: &mut SeqFile) -> fmt::Result;
}

impl<T: SeqShow> SeqShow for kernel::sync::Arc<T> {
    type Owner = T::Owner;
    type Locked<'a> = T::Locked<'a>;

    fn lock(&self) -> T::Locked<'_> {
        (**self).lock()
    }

    fn list<'a>(locked: &'a T::Locked<'_>) -> &'a List<T::Owner> {
        T::list(locked)
    }

    fn show(&self, item: &Item<T>, out: &mut SeqFile) -> fmt::Result {
        (**self).show(item, out)
    }
}

/// Where [`SeqShow::show`] prints: the seq_file's buffer (C's `seq_puts()`/`seq_write()`).
pub struct SeqFile(NonNull<bindings::seq_file>);

impl fmt::Write for SeqFile {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // SAFETY: The seq_file is valid during `show`. On overflow `seq_write` marks the
        // buffer full and seq_file retries the item with a larger buffer.
        match unsafe { bindings::seq_write(self.0.as_ptr(), s.as_ptr().cast(), s.len()) } {
            0 => Ok(()),
            _ => Err(fmt::Error),
        }
    }
}

/// A debugfs file that also takes commands (C's `write` handler).
pub trait SeqWrite: SeqShow {
    /// Carries out one `write()`: the bytes written, at most [`MAX_WRITE`].
    fn write(&self, input: &[u8]) -> Result;
}

impl<T: SeqWrite> SeqWrite for kernel::sync::Arc<T> {
    fn write(&self, input: &[u8]) -> Result {
        (**self).write(input)
    }
}

/// The longest `write()` accepted; a longer one fails with `EINVAL` and is not read.
pub const MAX_WRITE: usize = 64;

/// The `file_operations` of a debugfs file showing a `T`, in a `static`, and the file's
/// mode.
pub struct Fops<T>(bindings::file_operations, u16, PhantomData<T>);

// SAFETY: The operations table is never changed after it is built.
unsafe impl<T> Sync for Fops<T> {}

impl<T: SeqShow> Fops<T> {
    /// The operations of a read-only seq_file, owned by `module` (`THIS_MODULE`).
    pub const fn new(module: *mut bindings::module) -> Self {
        // SAFETY: All-zero is a valid `file_operations`: null pointers and `None`s.
        let mut fops: bindings::file_operations =
            unsafe { core::mem::MaybeUninit::zeroed().assume_init() };
        fops.owner = module;
        fops.open = Some(open::<T>);
        fops.read = Some(bindings::seq_read);
        fops.llseek = Some(bindings::seq_lseek);
        fops.release = Some(release::<T>);
        Self(fops, 0o400, PhantomData)
    }
}

impl<T: SeqWrite> Fops<T> {
    /// The operations of a seq_file that also takes writes, owned by `module`.
    pub const fn new_writable(module: *mut bindings::module) -> Self {
        let Self(mut fops, _, _) = Self::new(module);
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
            $crate::common::debugfs::Fops::$new(
                ::core::ptr::addr_of!(__this_module).cast_mut().cast(),
            )
        };
    };
}

/// A file `/sys/kernel/debug/NAME`, removed when dropped.
///
/// # Invariants
///
/// `dentry` is the debugfs file created with `data` as its private data and `Fops<T>` as
/// its operations; `data` stays at its address (boxed) until `drop` has removed the file.
pub struct DebugfsFile<T: SeqShow> {
    dentry: NonNull<bindings::dentry>,
    name: &'static CStr,
    data: KBox<T>,
}

// SAFETY: The file may be removed from any thread; readers only need `&T`.
unsafe impl<T: SeqShow> Send for DebugfsFile<T> {}
// SAFETY: `&DebugfsFile` only gives `&T`, and `T: Sync`.
unsafe impl<T: SeqShow> Sync for DebugfsFile<T> {}

impl<T: SeqShow> DebugfsFile<T> {
    /// Creates `/sys/kernel/debug/NAME`, listing `data`: readable by root, and writable
    /// by root if `fops` take writes.
    pub fn new(name: &'static CStr, fops: &'static Fops<T>, data: T) -> Result<Self> {
        let data = KBox::new(data, GFP_KERNEL)?;
        // SAFETY: `name` is a C string; `data` is boxed and outlives the file (it is
        // dropped after `debugfs_remove`); `fops` is static.
        let dentry = unsafe {
            debugfs_create_file(
                name.as_char_ptr(),
                fops.1,
                ptr::null_mut(),
                (&*data as *const T).cast_mut().cast(),
                &fops.0,
            )
        };
        let dentry = from_err_ptr(dentry)?;
        let dentry = NonNull::new(dentry).ok_or(ENODEV)?;
        // INVARIANT: the file exists, with `data` as its private data.
        Ok(Self { dentry, name, data })
    }

    /// Reads the whole file, `chunk` bytes per read, through its seq_file operations as
    /// `read()` drives them: `open`, then `start`/`show`/`next`/`stop` for each chunk,
    /// then `release`. For in-kernel tests.
    ///
    /// The file is opened at `/sys/kernel/debug/NAME` (where debugfs is mounted); `ENOENT`
    /// if that is not this file. debugfs's proxy has no `read_iter`, which `kernel_read()`
    /// needs, so the reads call `seq_read_iter()`, what `seq_read()` does for user space.
    pub fn read_back(&self, chunk: usize) -> Result<KVec<u8>> {
        let path = CString::try_from_fmt(fmt!("/sys/kernel/debug/{}", self.name))?;
        let mut buf = KVec::from_elem(0u8, chunk, GFP_KERNEL)?;
        // SAFETY: `path` is a C string.
        let file = unsafe { bindings::filp_open(path.as_char_ptr(), bindings::O_RDONLY as i32, 0) };
        let file = from_err_ptr(file)?;
        // SAFETY: `file` is open: its path is valid.
        let ours = unsafe { (*file).f_path.dentry } == self.dentry.as_ptr();
        let read = if ours {
            // SAFETY: The file is ours, so `open::<T>` made it a seq_file; it stays open
            // and our `data` alive (we borrow `self`) while we read.
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

impl<T: SeqShow> Drop for DebugfsFile<T> {
    fn drop(&mut self) {
        // SAFETY: The file is ours (type invariant). `debugfs_remove` waits for running
        // operations and cuts off later ones but `release`, which does not use `data`.
        unsafe { debugfs_remove(self.dentry.as_ptr()) };
    }
}

/// What one open file keeps: the data, the lock from `start` to `stop`, how many items
/// the list had ever been pushed when the read began, and where the last pass got to.
struct State<T: SeqShow> {
    data: &'static T,
    locked: Option<T::Locked<'static>>,
    pushed_at_start: u64,
    cursor: Option<Cursor<Item<T>>>,
}

/// The last item a pass returned, so that the next pass goes on from it instead of
/// walking the list from its front again: a read of N items then costs O(N), not O(N²).
///
/// # Invariants
///
/// `item` was in the list whose stamp is `stamp`, at `index`, when the list had had
/// `pushed` pushes. While the list's stamp is still `stamp`, no item has left it, so
/// `item` is still in it, at `index` moved by the pushes since.
struct Cursor<I> {
    item: *const I,
    index: u64,
    pushed: u64,
    stamp: Stamp,
}

impl<I> Cursor<I> {
    /// The cursor of `item`, at `index` in `list`.
    fn new<P: Owner<Item = I>>(list: &List<P>, item: &I, index: u64) -> Self {
        // INVARIANT: `item` is in `list`, at `index`, now.
        Self {
            item,
            index,
            pushed: list.pushed(),
            stamp: list.stamp(),
        }
    }

    /// The item at `index` in `list`, found from the cursor when it is still valid and
    /// not past the item, else from the front.
    fn find<'a, P: Owner<Item = I>>(
        cursor: Option<&Self>,
        list: &'a List<P>,
        index: u64,
    ) -> Option<&'a I> {
        if let Some(cursor) = cursor.filter(|c| c.stamp == list.stamp()) {
            let at = cursor.index + (list.pushed() - cursor.pushed);
            if let Some(steps) = index.checked_sub(at) {
                // SAFETY: The stamp is unchanged, so `item` is still in `list` (type
                // invariant), alive while `list` is borrowed.
                let mut item = unsafe { &*cursor.item };
                for _ in 0..steps {
                    // SAFETY: `item` is in `list`: the cursor's, or the one after it.
                    item = unsafe { list.next_after(item) }?;
                }
                return Some(item);
            }
        }
        list.iter().nth(usize::try_from(index).ok()?)
    }
}

/// The seq_file's state.
///
/// # Safety
///
/// `m` must be a seq_file opened by `open::<T>`.
unsafe fn state<'a, T: SeqShow>(m: *mut bindings::seq_file) -> &'a mut State<T> {
    // SAFETY: `open::<T>` stored a `State<T>` in `private`; seq_file serializes the
    // operations of one open file (under `m->lock`).
    unsafe { &mut *(*m).private.cast::<State<T>>() }
}

/// The list of a locked state.
fn locked_list<T: SeqShow>(state: &State<T>) -> &List<T::Owner> {
    // `start` took the lock before any other operation needs the list.
    T::list(
        state
            .locked
            .as_ref()
            .expect("seq_file: list used outside start..stop"),
    )
}

/// `start` of every `Fops<T>`: locks, and finds the item at `*pos`, the number of items
/// shown since the read began.
///
/// seq_file renders a long read a buffer at a time, taking the lock anew for each, and
/// the list moves in between. The kernel's `seq_list_start()` finds its place again by
/// index, so items pushed in between make it show some twice. Here the index is moved by
/// the number of items pushed since the read began, which makes a read of a list that
/// only grows at the front and shrinks at the back (a history) show each item once, in
/// order: those present when the read began, less those removed before it got to them.
///
/// # Safety
///
/// Called by seq_file on a file opened by `open::<T>`, with the pointers it passes.
unsafe extern "C" fn start<T: SeqShow>(m: *mut bindings::seq_file, pos: *mut i64) -> *mut c_void {
    // SAFETY: seq_file calls us on a file opened by `open::<T>`, with a valid `pos`.
    let (state, pos) = unsafe { (state::<T>(m), *pos) };
    // Locked even when nothing is left to show: `stop` is always called and unlocks.
    let locked = state.data.lock();
    let pushed = T::list(&locked).pushed();
    state.locked = Some(locked);
    if pos == 0 {
        state.pushed_at_start = pushed;
    }
    let moved = pushed.wrapping_sub(state.pushed_at_start);
    let Some(index) = u64::try_from(pos).ok().and_then(|p| p.checked_add(moved)) else {
        return ptr::null_mut();
    };
    let list = locked_list(state);
    let item = Cursor::find(state.cursor.as_ref(), list, index);
    let cursor = item.map(|item| Cursor::new(list, item, index));
    let item = item.map_or(ptr::null_mut(), |item| {
        (item as *const Item<T>).cast_mut().cast()
    });
    state.cursor = cursor;
    item
}

/// `next`: the item after `v`.
///
/// # Safety
///
/// Called by seq_file on a file opened by `open::<T>`, with the pointers it passes.
unsafe extern "C" fn next<T: SeqShow>(
    m: *mut bindings::seq_file,
    v: *mut c_void,
    pos: *mut i64,
) -> *mut c_void {
    // SAFETY: As in `start`; `v` is the item that `start` or `next` returned, still in the
    // list since the lock has been held since.
    unsafe {
        *pos += 1;
        let state = state::<T>(m);
        let list = locked_list(state);
        let next = list.next_after(&*v.cast::<Item<T>>());
        let advanced = next
            .zip(state.cursor.as_ref())
            .map(|(item, c)| Cursor::new(list, item, c.index + 1));
        let next = next.map_or(ptr::null_mut(), |item| {
            (item as *const Item<T>).cast_mut().cast()
        });
        // At the end, the cursor stays on the last item.
        if advanced.is_some() {
            state.cursor = advanced;
        }
        next
    }
}

/// `stop`: unlocks.
///
/// # Safety
///
/// Called by seq_file on a file opened by `open::<T>`, with the pointers it passes.
unsafe extern "C" fn stop<T: SeqShow>(m: *mut bindings::seq_file, _v: *mut c_void) {
    // SAFETY: seq_file calls us on a file opened by `open::<T>`. Dropping the guard
    // releases the lock taken by `start`.
    unsafe { state::<T>(m) }.locked = None;
}

/// `show`: prints the item `v`.
///
/// # Safety
///
/// Called by seq_file on a file opened by `open::<T>`, with the pointers it passes.
unsafe extern "C" fn show<T: SeqShow>(m: *mut bindings::seq_file, v: *mut c_void) -> c_int {
    // SAFETY: As in `next`: `v` is an item of the locked list.
    let (state, item) = unsafe { (state::<T>(m), &*v.cast::<Item<T>>()) };
    let mut out = SeqFile(NonNull::new(m).expect("seq_file"));
    // An overflow is not an error: seq_file retries the item with a larger buffer.
    let _ = state.data.show(item, &mut out);
    0
}

/// The `seq_operations` of every `Fops<T>`.
struct SeqOps<T>(PhantomData<T>);

impl<T: SeqShow> SeqOps<T> {
    const OPS: bindings::seq_operations = bindings::seq_operations {
        start: Some(start::<T>),
        next: Some(next::<T>),
        stop: Some(stop::<T>),
        show: Some(show::<T>),
    };
}

/// `open` of every `Fops<T>`: a seq_file with a `State<T>` as private data.
///
/// # Safety
///
/// Called by the VFS (through debugfs) on a file created by `DebugfsFile::<T>::new`.
unsafe extern "C" fn open<T: SeqShow>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: debugfs gives the file's private data, our `T`, in `i_private`; it lives
    // while the file exists, and operations on a removed file are cut off.
    let data = unsafe { &*(*inode).i_private.cast::<T>() };
    let state = State::<T> {
        data,
        locked: None,
        pushed_at_start: 0,
        cursor: None,
    };
    let state = match KBox::new(state, GFP_KERNEL) {
        Ok(state) => state,
        Err(_) => return -(bindings::ENOMEM as c_int),
    };
    // SAFETY: `file` is being opened; `OPS` is a promoted constant, so static.
    let ret = unsafe { bindings::seq_open(file, &SeqOps::<T>::OPS) };
    if ret != 0 {
        return ret;
    }
    // SAFETY: `seq_open` stored its seq_file in `private_data`.
    unsafe {
        (*(*file).private_data.cast::<bindings::seq_file>()).private = KBox::into_raw(state).cast()
    };
    0
}

/// `write` of a writable `Fops<T>`: copies at most [`MAX_WRITE`] bytes from user space
/// and hands them to [`SeqWrite::write`].
///
/// # Safety
///
/// Called by the VFS on a file opened by `open::<T>`, with a user buffer of `count` bytes.
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
    // SAFETY: `open::<T>` stored a `State<T>` in the seq_file. A write may run while a read
    // of the same file uses `locked`, so it only copies `data`, which is never changed
    // after `open`, without making a reference to the whole state.
    let data = unsafe {
        let m = (*file).private_data.cast::<bindings::seq_file>();
        ptr::addr_of!((*(*m).private.cast::<State<T>>()).data).read()
    };
    match data.write(input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `release` of every `Fops<T>`.
///
/// # Safety
///
/// Called by the VFS on a file opened by `open::<T>`.
unsafe extern "C" fn release<T: SeqShow>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `open::<T>` stored a boxed `State<T>`; this is the last use of the file.
    // No `start` is running, so the state holds no lock.
    unsafe {
        let m = (*file).private_data.cast::<bindings::seq_file>();
        drop(KBox::from_raw((*m).private.cast::<State<T>>()));
        bindings::seq_release(inode, file)
    }
}
