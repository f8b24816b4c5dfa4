// SPDX-License-Identifier: GPL-2.0

//! A seq_file over a [`SeqList`]: C's `struct seq_operations` whose `start` takes the
//! list's lock and whose `stop` releases it, with `seq_open`, `seq_read`, `seq_lseek` and
//! `seq_release` for the file (`Documentation/filesystems/seq_file.rst`).
//!
//! 6.12 has no seq_file in Rust. The owner implements [`SeqShow`]: how to lock the list
//! and how to print one item. The file that shows it is created elsewhere (debugfs, see
//! `debugfs.rs`), with [`open`] and [`release`] as its `open` and `release`, and the
//! owner's data as the inode's `i_private`.

use super::list::Owner;
use super::seq_list::{Cursor, SeqList};
use core::alloc::Layout;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use kernel::{
    alloc::{
        allocator::KVmalloc,
        flags::{__GFP_NOWARN, GFP_KERNEL_ACCOUNT},
        Allocator,
    },
    bindings,
    ffi::{c_int, c_void},
    prelude::*,
};

/// The item type of a [`SeqShow`]'s list.
pub type Item<T> = <<T as SeqShow>::Owner as Owner>::Item;

/// What a seq_file lists: the items of a list, front to back, under a lock held from
/// `start` to `stop` (so an item is never printed half-changed or after being freed).
pub trait SeqShow: Send + Sync + Sized + 'static {
    /// The list's owning pointer.
    type Owner: Owner;
    /// The lock guard that gives access to the list.
    type Locked<'a>;

    /// Takes the lock.
    fn lock(&self) -> Self::Locked<'_>;

    /// The list, behind the lock.
    fn list<'a>(locked: &'a Self::Locked<'_>) -> &'a SeqList<Self::Owner>;

    /// Prints one item.
    fn show(&self, item: &Item<Self>, out: &mut SeqFile) -> fmt::Result;
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

/// What one open file keeps: the data, the lock from `start` to `stop`, how many items
/// the list had ever been pushed when the read began, and where the last pass got to.
///
/// # Invariants
///
/// `data` is the file's inode's `i_private`, valid from `open` until the file is removed,
/// which may come before `release`: so it is a pointer, made a reference only inside
/// `start`, whose lock guard `locked` borrows it until `stop`.
struct State<T: SeqShow> {
    data: NonNull<T>,
    locked: Option<T::Locked<'static>>,
    pushed_at_start: u64,
    cursor: Option<Cursor<Item<T>>>,
}

/// The seq_file's state.
///
/// # Safety
///
/// `m` must be a seq_file opened by `open::<T>`, and the caller one of its operations,
/// which seq_file serializes (under `m->lock`).
unsafe fn state<'a, T: SeqShow>(m: *mut bindings::seq_file) -> &'a mut State<T> {
    // SAFETY: `open::<T>` stored a `State<T>` in `private`; only the seq_file operations
    // use it, one at a time (caller). `write` does not touch it.
    unsafe { &mut *(*m).private.cast::<State<T>>() }
}

/// The list of a locked state.
fn locked_list<T: SeqShow>(state: &State<T>) -> &SeqList<T::Owner> {
    // `start` took the lock before any other operation needs the list.
    T::list(
        state
            .locked
            .as_ref()
            .expect("seq_file: list used outside start..stop"),
    )
}

/// The C pointer of an item for seq_file (`v`): only compared with NULL and handed back
/// to `show`.
fn item_ptr<I>(item: Option<&I>) -> *mut c_void {
    item.map_or(ptr::null_mut(), |item| {
        ptr::from_ref(item).cast_mut().cast()
    })
}

// ANCHOR: seq_ops
/// `start`: locks, and finds the item at `*pos`, the number of items shown since the
/// read began.
///
/// The index is moved by the number of items pushed since the read began, which makes a
/// read of a list that only grows at the front and shrinks at the back (a history) show
/// each item once, in order: those present when the read began, less those removed
/// before it got to them.
///
/// # Safety
///
/// Called by seq_file on a file opened by `open::<T>`, with the pointers it passes.
unsafe extern "C" fn start<T: SeqShow>(m: *mut bindings::seq_file, pos: *mut i64) -> *mut c_void {
    // SAFETY: seq_file calls us on a file opened by `open::<T>`, with a valid `pos`.
    let (state, pos) = unsafe { (state::<T>(m), *pos) };
    // SAFETY: A read runs while the file exists, so `data` is valid (type invariant);
    // the guard made from it is dropped by `stop`, which seq_file calls before the read
    // returns.
    let data: &'static T = unsafe { state.data.as_ref() };
    // Locked even when nothing is left to show: `stop` is always called and unlocks.
    let locked = data.lock();
    let pushed = T::list(&locked).pushed();
    state.locked = Some(locked);
    if pos == 0 {
        state.pushed_at_start = pushed;
    }
    let moved = pushed.wrapping_sub(state.pushed_at_start);
    let Some(index) = u64::try_from(pos).ok().and_then(|p| p.checked_add(moved)) else {
        return ptr::null_mut();
    };
    let found = locked_list(state).find(state.cursor.as_ref(), index);
    let (item, cursor) = found.map_or((None, None), |(item, c)| (Some(item), Some(c)));
    let item = item_ptr(item);
    state.cursor = cursor;
    item
}

/// `next`: the item after the one `start` or `next` returned last.
///
/// # Safety
///
/// Called by seq_file on a file opened by `open::<T>`, with the pointers it passes.
unsafe extern "C" fn next<T: SeqShow>(
    m: *mut bindings::seq_file,
    _v: *mut c_void,
    pos: *mut i64,
) -> *mut c_void {
    // SAFETY: As in `start`.
    let state = unsafe {
        *pos += 1;
        state::<T>(m)
    };
    // `v` is the cursor's item: seq_file calls `next` only on what we returned last.
    let Some(cursor) = state.cursor.as_ref() else {
        return ptr::null_mut();
    };
    let found = locked_list(state).after(cursor);
    // At the end, the cursor stays on the last item.
    let Some((item, cursor)) = found else {
        return ptr::null_mut();
    };
    let item = item_ptr(Some(item));
    state.cursor = Some(cursor);
    item
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
    // SAFETY: `v` is an item that `start` or `next` returned, in the list locked since;
    // a read runs while the file exists, so `data` is valid (`State` invariant).
    let (data, item) = unsafe { (state::<T>(m).data.as_ref(), &*v.cast::<Item<T>>()) };
    let mut out = SeqFile(NonNull::new(m).expect("seq_file"));
    // An overflow is not an error: seq_file retries the item with a larger buffer.
    let _ = data.show(item, &mut out);
    0
}

/// The `seq_operations` of a `T`.
struct SeqOps<T>(PhantomData<T>);

impl<T: SeqShow> SeqOps<T> {
    const OPS: bindings::seq_operations = bindings::seq_operations {
        start: Some(start::<T>),
        next: Some(next::<T>),
        stop: Some(stop::<T>),
        show: Some(show::<T>),
    };
}
// ANCHOR_END: seq_ops

/// The data a seq_file of `T` shows: the inode's private data.
///
/// # Safety
///
/// `inode` must be the inode of a file whose `i_private` is a `T` that outlives it.
pub(super) unsafe fn inode_data<'a, T>(inode: *mut bindings::inode) -> &'a T {
    // SAFETY: As the caller guarantees.
    unsafe { &*(*inode).i_private.cast::<T>() }
}

/// `open` of a file showing a `T`: a seq_file with a `State<T>` as private data.
///
/// # Safety
///
/// Called by the VFS on a file whose inode's `i_private` is a `T` that lives as long as
/// the file can be opened, read or written.
pub(super) unsafe extern "C" fn open<T: SeqShow>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: As the caller guarantees.
    let data = NonNull::from(unsafe { inode_data::<T>(inode) });
    // INVARIANT: `data` is the inode's `i_private`.
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
    let m = unsafe { (*file).private_data.cast::<bindings::seq_file>() };
    // SAFETY: `m` is the seq_file `seq_open` just made; no read can use it before we return.
    unsafe { (*m).private = KBox::into_raw(state).cast() };
    // A file opened only to write (`echo PID >`) never reads: no buffer for it.
    // SAFETY: The VFS set `f_flags` before calling `open`.
    if unsafe { (*file).f_flags } & bindings::O_ACCMODE != bindings::O_WRONLY {
        // SAFETY: As above: `seq_open` made `m` zeroed, so with no buffer yet. Nothing
        // fails after this, so the buffer is `seq_release`'s to free.
        unsafe { give_buffer(m) };
    }
    0
}

/// The size of the buffer a seq_file of ours starts with: 64 KiB, not seq_file's page.
///
/// seq_file fills at most one buffer per `read()`, with one `start`..`stop` (one hold of
/// the list's lock) per buffer: with a page, a 64 KiB `read()` returns about 4 KiB, and
/// reading the whole history with large reads (as `cat` and `dd bs=64k` do) takes 16 times
/// the reads and the passes it needs. With 64 KiB, a read of up to 64 KiB is one pass.
/// Small reads cost no more than before: `seq_read_iter()` stops filling once the buffer
/// holds what the reader asked for, and keeps the rest for the next read, as with a page.
/// A pass holds the lock up to 16 times as long (about 900 lines), 16 times less often:
/// no longer in all. The shrinker only tries the lock; the sampling thread may wait for
/// one such pass.
const BUFFER_SIZE: usize = 64 * 1024;

/// Gives the new seq_file `m` a buffer of [`BUFFER_SIZE`] bytes, in place of the page
/// `seq_read_iter()` would allocate at the first read (it allocates only when `m->buf` is
/// NULL, and doubles the buffer itself if a record does not fit; `fs/seq_file.c`).
///
/// If the allocation fails, `m->buf` stays NULL, and seq_file takes its page as usual:
/// the larger buffer only saves passes, and failing the open with `ENOMEM` when memory is
/// short, while a page would do, would make the history unreadable just when reclaim is
/// worth watching (64 KiB is an order-4 block or vmalloc space, scarcer than a page).
/// Hence no warning either (`__GFP_NOWARN`). If even the page cannot be had, the read
/// fails with `ENOMEM`, as for any seq_file.
///
/// # Safety
///
/// `m` must be a seq_file that `seq_open` has just made, not yet read: `m->buf` is NULL
/// and nothing else uses `m`.
unsafe fn give_buffer(m: *mut bindings::seq_file) {
    // `KVmalloc` is C's `kvmalloc()` (through `kvrealloc()`, with the allocation
    // profiling hooks), whose memory `kvfree()` frees. `GFP_KERNEL_ACCOUNT`, as seq_file's
    // own `seq_buf_alloc()`, charges the opener's memory cgroup; it may sleep: `open` runs
    // in process context and holds no lock.
    let Ok(layout) = Layout::array::<u8>(BUFFER_SIZE) else {
        return;
    };
    let Ok(buf) = KVmalloc::alloc(layout, GFP_KERNEL_ACCOUNT | __GFP_NOWARN) else {
        return;
    };
    // SAFETY: Nothing else uses `m` yet (caller). seq_file's `buf` is NULL or a buffer
    // from `kvmalloc()` of `size` bytes: seq_file writes only within `size`, frees `buf`
    // with `kvfree()` in `seq_release()` (our `release` calls it) and when it doubles the
    // buffer, and allocates only when `buf` is NULL, so it owns this one from here on,
    // and the previous `buf` was NULL (caller): nothing leaks.
    unsafe {
        (*m).buf = buf.as_ptr().cast();
        (*m).size = BUFFER_SIZE;
    }
}

/// `release` of a file opened by [`open`].
///
/// # Safety
///
/// Called by the VFS on a file opened by `open::<T>`.
pub(super) unsafe extern "C" fn release<T: SeqShow>(
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
