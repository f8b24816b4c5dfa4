// SPDX-License-Identifier: GPL-2.0

//! The floor of `make bench`: the CPU time of a sampling pass that only reads.
//!
//! `insmod taskmonitor_floor.ko first=PID count=N [frequency=HZ]` starts a kernel thread,
//! `floor`, that `frequency` times per second reads the CPU times and memory sizes of the
//! processes `first` to `first + count - 1` with the very read stage 7 takes a sample with
//! (`Target::sample()`, C's `get_sample()`), and keeps nothing: no allocation, no lock of
//! its own, no list. `/sys/kernel/taskmonitor_floor` says how many reads succeeded,
//! `samples N`. The benchmark divides the thread's CPU time by that count, and compares
//! the CPU time per sample of stage 7 (`task7-multi/`) and of the C reference
//! (`c-reference/`) with this floor: the difference is what keeping the samples costs.
//!
//! A tool of the benchmark, not a lab answer: it belongs to no stage.

#![deny(unsafe_code)]

/// The `common/` files this module uses: the wrappers that hold all of its `unsafe` code.
#[allow(unsafe_code)]
#[path = "../../common/src"]
pub mod common {
    pub mod format;
    pub mod kthread;
    pub mod lockdep;
    pub mod params;
    pub mod registration;
    pub mod sysfs;
    pub mod task;
}

use common::{
    format::TaskStats,
    kthread::KThread,
    sysfs::{SysfsFile, SysfsShow},
    task::Target,
};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use kernel::{c_str, prelude::*, sync::Arc};

crate::checked_module! {
    type: FloorModule,
    name: "taskmonitor_floor",
    author: "taskmonitor developers",
    description: "make bench's floor: the CPU cost of only reading the processes' stats",
    license: "GPL",
}

crate::module_param!(
    FREQUENCY: u32 = 1000,
    "frequency",
    "Passes per second, 1 to 1000 (default 1000)"
);
crate::module_param!(FIRST: i32 = 0, "first", "PID of the first process to read");
crate::module_param!(
    COUNT: u32 = 1,
    "count",
    "Number of processes, PIDs first to first+count-1, 1 to 100000 (default 1)"
);

/// Highest frequency: one pass per millisecond, as the stages.
const MAX_FREQUENCY: u32 = 1000;
/// Most processes read in one pass.
const MAX_COUNT: u32 = 100_000;

/// The processes read, and what the reads gave.
struct Floor {
    /// Allocated at load time; the thread only walks it.
    targets: KVec<Target>,
    /// Reads that returned a sample (the process had not exited).
    samples: AtomicU64,
    /// A wrapping sum of every field read. The reads go through C functions
    /// (`get_pid_task`, `task_cputime_adjusted`, the task's lock) and volatile loads,
    /// which the compiler may not remove anyway; storing what they gave makes the values
    /// used as well, so no inlining could ever turn the pass into nothing.
    checksum: AtomicU64,
}

/// Folds one sample into a checksum.
fn fold(sum: u64, stats: &TaskStats) -> u64 {
    sum.wrapping_add(stats.utime)
        .wrapping_add(stats.stime)
        .wrapping_add(stats.total_kb)
        .wrapping_add(stats.stack_kb)
        .wrapping_add(stats.data_kb)
}

impl Floor {
    /// One period: reads every process, and publishes the counts once.
    fn read_all(&self) {
        let mut samples = 0;
        let mut sum = 0;
        for target in self.targets.iter() {
            if let Some(stats) = target.sample() {
                samples += 1;
                sum = fold(sum, &stats);
            }
        }
        // Atomic additions wrap around.
        self.samples.fetch_add(samples, Ordering::Relaxed);
        self.checksum.fetch_add(sum, Ordering::Relaxed);
    }
}

/// A page that `write!` fills, failing rather than going past its end.
struct PageWriter<'a> {
    page: &'a mut [u8],
    len: usize,
}

impl Write for PageWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let dest = self
            .page
            .get_mut(self.len..self.len + s.len())
            .ok_or(fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len += s.len();
        Ok(())
    }
}

/// `cat /sys/kernel/taskmonitor_floor`: `samples N`.
impl SysfsShow for Floor {
    fn show(&self, page: &mut [u8]) -> usize {
        let samples = self.samples.load(Ordering::Relaxed);
        let mut out = PageWriter { page, len: 0 };
        // A page always holds one short line.
        match writeln!(out, "samples {samples}") {
            Ok(()) => out.len,
            Err(_) => 0,
        }
    }
}

/// Takes the processes `first` to `first + count - 1`; `EINVAL`, and a log line naming
/// the PID, if one of them does not exist.
fn find_targets(first: i32, count: u32) -> Result<KVec<Target>> {
    if first <= 0 {
        pr_err!("first={first} is not a PID: load with first=PID count=N\n");
        return Err(EINVAL);
    }
    let Ok(last) = i32::try_from(i64::from(first) + i64::from(count) - 1) else {
        pr_err!("first={first} count={count}: the last PID is out of range\n");
        return Err(EINVAL);
    };
    let mut targets = KVec::with_capacity(count as usize, GFP_KERNEL)?;
    for nr in first..=last {
        let target = Target::find(nr).map_err(|_| {
            pr_err!("pid {nr} (of {first} to {last}): no such process\n");
            EINVAL
        })?;
        // Within the capacity: does not allocate.
        targets.push(target, GFP_KERNEL)?;
    }
    Ok(targets)
}

/// The loaded module. Fields drop in order: the thread stops, the unload line is printed,
/// the file goes, and the last reference to the `Floor` drops the targets.
struct FloorModule {
    _thread: KThread,
    _report: UnloadReport,
    _sysfs: SysfsFile<Arc<Floor>>,
}

impl kernel::Module for FloorModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let frequency = FREQUENCY.get();
        if !(1..=MAX_FREQUENCY).contains(&frequency) {
            pr_err!("frequency={frequency} is out of range 1..={MAX_FREQUENCY}\n");
            return Err(EINVAL);
        }
        let count = COUNT.get();
        if !(1..=MAX_COUNT).contains(&count) {
            pr_err!("count={count} is out of range 1..={MAX_COUNT}\n");
            return Err(EINVAL);
        }
        let first = FIRST.get();
        let floor = Arc::new(
            Floor {
                targets: find_targets(first, count)?,
                samples: AtomicU64::new(0),
                checksum: AtomicU64::new(0),
            },
            GFP_KERNEL,
        )?;

        let period = Duration::from_secs(1) / frequency;
        let reader = floor.clone();
        // The benchmark finds the thread by its name, in `/proc/PID/comm`.
        let thread = KThread::run(c_str!("floor"), move |thread| {
            while !thread.should_stop() {
                reader.read_all();
                thread.sleep_until_next(period);
            }
        })?;
        let sysfs = SysfsFile::new(c_str!("taskmonitor_floor"), floor.clone())?;
        pr_info!("reading {count} processes from pid {first} at {frequency} Hz\n");
        Ok(Self {
            _thread: thread,
            _report: UnloadReport(floor),
            _sysfs: sysfs,
        })
    }
}

/// Prints how many samples were read, once the thread is gone: the count no longer
/// changes.
struct UnloadReport(Arc<Floor>);

impl Drop for UnloadReport {
    fn drop(&mut self) {
        let samples = self.0.samples.load(Ordering::Relaxed);
        let checksum = self.0.checksum.load(Ordering::Relaxed);
        pr_info!("unloading after {samples} samples (checksum {checksum:#x})\n");
    }
}
