// SPDX-License-Identifier: GPL-2.0

//! CPU-time clocks: the scheduler's run time of a process, in nanoseconds.
//!
//! Our kernel has no `/proc/PID/schedstat` (no `CONFIG_SCHED_INFO`), and `/proc/PID/stat`
//! counts in 10 ms clock ticks. The POSIX CPU-time clock of a process reads the same
//! `sum_exec_runtime` to the nanosecond, for any process, kernel threads included.

use std::io;

/// The CPU time a process has used so far.
pub fn process_ns(pid: i32) -> io::Result<u64> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `clock` is a valid place for the result.
    let err = unsafe { libc::clock_getcpuclockid(pid, &mut clock) };
    if err != 0 {
        return Err(io::Error::from_raw_os_error(err));
    }
    read(clock)
}

/// The CPU time this process has used so far.
pub fn own_ns() -> io::Result<u64> {
    read(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn read(clock: libc::clockid_t) -> io::Result<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid place for the result.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}
