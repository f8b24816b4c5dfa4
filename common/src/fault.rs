// SPDX-License-Identifier: GPL-2.0

//! Fault injection (`Documentation/fault-injection/fault-injection.rst`), for in-kernel
//! tests.

use kernel::bindings;

/// Makes the next fault injection point that this task reaches fail: with `CONFIG_FAILSLAB`,
/// the next slab allocation it makes returns NULL. C's `current->fail_nth = 1`, what a
/// write of 1 to `/proc/self/fail-nth` does from user space.
pub fn fail_next_fault_point() {
    // SAFETY: `get_current()` is the running task, valid while it runs. A write through
    // `/proc/PID/fail-nth` may race with this one (C uses `WRITE_ONCE()` on both sides),
    // so the store is volatile, as `WRITE_ONCE()` is.
    unsafe { core::ptr::addr_of_mut!((*bindings::get_current()).fail_nth).write_volatile(1) };
}
