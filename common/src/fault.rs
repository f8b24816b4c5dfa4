// SPDX-License-Identifier: GPL-2.0

//! Fault injection (`Documentation/fault-injection/fault-injection.rst`), for in-kernel
//! tests.

use kernel::bindings;

/// Makes the next fault injection point that this task reaches fail: with `CONFIG_FAILSLAB`,
/// the next slab allocation it makes returns NULL. C's `current->fail_nth = 1`, what a
/// write of 1 to `/proc/self/fail-nth` does from user space.
pub fn fail_next_fault_point() {
    // SAFETY: `get_current()` is the running task, valid while it runs. Another task may
    // write `fail_nth` at the same time through `/proc/PID/fail-nth` (a plain store in
    // C's `proc_fail_nth_write()`): a race of C's own, which the volatile store, as
    // `WRITE_ONCE()`, does not make worse.
    unsafe { core::ptr::addr_of_mut!((*bindings::get_current()).fail_nth).write_volatile(1) };
}
