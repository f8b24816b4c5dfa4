// SPDX-License-Identifier: GPL-2.0

//! The monitored process: a `struct pid` reference and what `get_sample()` reads of it.

use super::format::TaskStats;
use core::ptr::{addr_of, addr_of_mut, NonNull};
use kernel::{bindings, prelude::*, task::Task, types::ARef};

// `task_struct` contains zero-sized structs, which the lint flags; the C side sees
// only a pointer.
#[allow(improper_ctypes)]
extern "C" {
    // Exported by kernel/sched/cputime.c but declared in a header that the 6.12 bindings
    // do not include. This is the function `/proc/PID/task/TID/stat` reports.
    fn task_cputime_adjusted(p: *mut bindings::task_struct, ut: *mut u64, st: *mut u64);
}

/// The `struct task_struct` behind a [`Task`].
pub(super) fn as_raw(task: &Task) -> *mut bindings::task_struct {
    // `Task` is a transparent wrapper of `Opaque<task_struct>`.
    (task as *const Task).cast_mut().cast()
}

/// A process followed through its `struct pid`, not its number.
///
/// Holding the `struct pid` (C's `find_get_pid()`) rather than a `pid_t` means that once
/// the process is gone, a new process that reuses the number is never sampled instead.
///
/// # Invariants
///
/// `pid` is a valid `struct pid` on which this value holds a reference.
pub struct Target {
    pid: NonNull<bindings::pid>,
    nr: i32,
}

// SAFETY: A `struct pid` reference may be used and released from any thread.
unsafe impl Send for Target {}
// SAFETY: `&Target` only reads the `struct pid` through functions that are safe to call
// concurrently (`get_pid_task` uses RCU).
unsafe impl Sync for Target {}

impl Target {
    /// Finds the live process `nr`: `EINVAL` for a number that is not a PID, `ESRCH` when
    /// no such process runs.
    pub fn find(nr: i32) -> Result<Self> {
        if nr <= 0 {
            return Err(EINVAL);
        }
        // SAFETY: Any number may be looked up; a non-null result carries a reference.
        let pid = NonNull::new(unsafe { bindings::find_get_pid(nr) }).ok_or(ESRCH)?;
        // INVARIANT: `find_get_pid` returned a referenced `struct pid`.
        let target = Self { pid, nr };
        if target.task().is_none() {
            return Err(ESRCH);
        }
        Ok(target)
    }

    /// The process that a module parameter `target=nr` names, for the module's `init`.
    ///
    /// A bad value is a bad parameter: `EINVAL` whatever the reason, which the log states.
    /// (`ESRCH` would reach the user as "wrong symbol version": both busybox's and kmod's
    /// `insmod` word it that way.)
    pub fn from_param(nr: i32) -> Result<Self> {
        Self::find(nr).map_err(|e| {
            if e == ESRCH {
                pr_err!("target={nr}: no such process\n");
            } else {
                pr_err!("target={nr} is not a PID: load with target=PID\n");
            }
            EINVAL
        })
    }

    /// The PID number, as given.
    pub fn nr(&self) -> i32 {
        self.nr
    }

    /// The process, unless it has exited or is exiting, and its flags as read then.
    fn task(&self) -> Option<(ARef<Task>, u32)> {
        // SAFETY: `pid` is valid (type invariant).
        let task = NonNull::new(unsafe {
            bindings::get_pid_task(self.pid.as_ptr(), bindings::pid_type_PIDTYPE_PID)
        })?;
        // SAFETY: `get_pid_task` returned a task with a reference, which the `ARef` now owns.
        let task: ARef<Task> = unsafe { ARef::from_raw(task.cast()) };
        // SAFETY: The task is valid while we hold a reference. Its own CPU sets
        // `PF_EXITING` concurrently, so `flags` is read once, as C's `READ_ONCE()`.
        let flags = unsafe { addr_of!((*as_raw(&task)).flags).read_volatile() };
        // An exiting task has no more time to account and is losing its memory map.
        (flags & bindings::PF_EXITING == 0).then_some((task, flags))
    }

    // ANCHOR: get_sample
    /// C's `get_sample()`: CPU times and mapped memory, or `None` once the process exited.
    pub fn sample(&self) -> Option<TaskStats> {
        let (task, flags) = self.task()?;
        let raw = as_raw(&task);
        let (mut utime, mut stime) = (0, 0);
        // SAFETY: `raw` is a valid task (we hold a reference) and the out-pointers are ours.
        unsafe { task_cputime_adjusted(raw, &mut utime, &mut stime) };
        let mut stats = TaskStats {
            utime,
            stime,
            ..TaskStats::default()
        };
        // A kernel thread has no memory map of its own; one it borrows (`kthread_use_mm()`)
        // is not its memory, as `get_task_mm()` also says, which tests the flag first too.
        // `PF_KTHREAD` is set at fork and never cleared: the flags `task()` read will do.
        if flags & bindings::PF_KTHREAD != 0 {
            return Some(stats);
        }
        // SAFETY: `raw` is a valid task (we hold a reference). Its lock (C's `task_lock()`)
        // keeps a user task's `mm` in place: every writer of it holds the lock, `exit_mm()`
        // (which clears it) and `exec_mmap()` (which replaces it) drop the task's reference
        // on the map (`mm_users`) only after unlocking, and `copy_mm()` sets it before the
        // task can be found. So while the lock is held the map is alive without a
        // reference of ours, which `get_task_mm()` and `mmput()` would take and put: two
        // atomic operations for three counters. The counters are read once each, as
        // `/proc/PID/status` does (without the mmap lock).
        unsafe {
            let lock = addr_of_mut!((*raw).alloc_lock);
            bindings::spin_lock(lock);
            let mm = addr_of!((*raw).mm).read();
            if !mm.is_null() {
                let kb = |pages: usize| (pages as u64) << (bindings::PAGE_SHIFT - 10);
                stats.total_kb = kb(addr_of!((*mm).__bindgen_anon_1.total_vm).read_volatile());
                stats.stack_kb = kb(addr_of!((*mm).__bindgen_anon_1.stack_vm).read_volatile());
                stats.data_kb = kb(addr_of!((*mm).__bindgen_anon_1.data_vm).read_volatile());
            }
            bindings::spin_unlock(lock);
        }
        Some(stats)
    }
    // ANCHOR_END: get_sample
}

impl Drop for Target {
    fn drop(&mut self) {
        // SAFETY: Releases the reference held by this value (type invariant).
        unsafe { bindings::put_pid(self.pid.as_ptr()) };
    }
}
