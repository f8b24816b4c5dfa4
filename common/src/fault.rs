// SPDX-License-Identifier: GPL-2.0

//! Fault injection (`Documentation/fault-injection/fault-injection.rst`), for in-kernel
//! tests.

use kernel::bindings;

/// Makes the next fault injection point that this task reaches fail: with `CONFIG_FAILSLAB`,
/// the next slab allocation it makes returns NULL. C's `current->fail_nth = 1`, what a
/// write of 1 to `/proc/self/fail-nth` does from user space.
pub fn fail_next_fault_point() {
    // SAFETY: `get_current()` is the running task, valid while it runs. `fail_nth` is
    // only read and written by the task itself (`should_fail_ex()` runs in its context,
    // and `/proc/PID/fail-nth` is writable by the task only).
    unsafe { (*bindings::get_current()).fail_nth = 1 };
}
