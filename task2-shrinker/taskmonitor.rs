// SPDX-License-Identifier: GPL-2.0

//! Lab 06, Task 2: the history of samples, given back to the kernel under memory pressure.
//!
//! `insmod taskmonitor.ko target=PID [frequency=HZ]` starts a kernel thread that samples
//! the process `frequency` times per second into a list; `/sys/kernel/taskmonitor` shows
//! the most recent samples, newest first. A shrinker frees the oldest samples when the
//! kernel reclaims memory.

#![deny(unsafe_code)]

/// The `common/` files this stage uses: the wrappers that hold all of its `unsafe` code.
/// Public, like the `kernel` crate: a library of which the stage uses a part.
#[allow(unsafe_code)]
#[path = "../common/src"]
pub mod common {
    pub mod foreign;
    pub mod format;
    pub mod kthread;
    pub mod lockdep;
    pub mod mutex;
    pub mod params;
    pub mod registration;
    pub mod shrinker;
    pub mod sysfs;
    pub mod task;
}

use common::{
    format::{fill_page, Line, TaskStats},
    kthread::KThread,
    mutex::Mutex,
    shrinker::{Shrink, Shrinker},
    sysfs::{SysfsFile, SysfsShow},
    task::Target,
};
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use kernel::{
    c_str, impl_has_list_links, impl_list_arc_safe, impl_list_item,
    list::{List, ListArc, ListLinks},
    prelude::*,
    sync::Arc,
};

module! {
    type: CheckedTaskMonitor,
    name: "taskmonitor",
    author: "taskmonitor developers",
    description: "Lab 06 task 2: history of a process's samples, with a shrinker",
    license: "GPL",
}

// ANCHOR: checked
/// The module's type: [`TaskMonitorModule`], and at unload the check that nothing it
/// registered with C is left (`common/src/registration.rs`).
type CheckedTaskMonitor = common::registration::Checked<TaskMonitorModule>;
// ANCHOR_END: checked

crate::module_param!(TARGET: i32 = 0, "target", "PID of the process to monitor (required)");
crate::module_param!(FREQUENCY: u32 = 1, "frequency", "Samples per second, 1 to 1000 (default 1)");

/// Highest sampling frequency: one sample per millisecond.
const MAX_FREQUENCY: u32 = 1000;

// ANCHOR: sample
/// One sample of the target (C's `struct task_sample`), linked into the history.
#[pin_data]
struct Sample {
    stats: TaskStats,
    #[pin]
    links: ListLinks,
}

impl_has_list_links! { impl HasListLinks<0> for Sample { self.links } }
impl_list_arc_safe! { impl ListArcSafe<0> for Sample { untracked; } }
impl_list_item! { impl ListItem<0> for Sample { using ListLinks; } }
// ANCHOR_END: sample

// ANCHOR: task_monitor
/// The samples, newest first.
struct History {
    samples: List<Sample>,
}

/// C's `struct task_monitor`: the target and its history under a mutex.
#[pin_data]
struct TaskMonitor {
    target: Target,
    /// How many samples the history holds: changed under the mutex, read without it,
    /// because the shrinker's `count_objects` must not block.
    count: AtomicUsize,
    /// A mutex that can be tried: the shrinker must not wait for it.
    #[pin]
    history: Mutex<History>,
}
// ANCHOR_END: task_monitor

impl TaskMonitor {
    // ANCHOR: save_sample
    /// Samples the target and adds the sample to the history (Question 2).
    ///
    /// Fails with `ESRCH` once the target has exited, or `ENOMEM`.
    fn save_sample(&self) -> Result {
        let stats = self.target.sample().ok_or(ESRCH)?;
        // Allocate before locking: nothing waits for memory while holding the mutex.
        let sample = ListArc::pin_init(
            try_pin_init!(Sample {
                stats,
                links <- ListLinks::new(),
            }),
            GFP_KERNEL,
        )?;
        let mut history = self.history.lock();
        history.samples.push_front(sample);
        self.count.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    // ANCHOR_END: save_sample
}

// ANCHOR: show
/// `cat /sys/kernel/taskmonitor`: the newest samples that fit in a page (Question 3).
impl SysfsShow for TaskMonitor {
    fn show(&self, page: &mut [u8]) -> usize {
        let pid = self.target.nr();
        let history = self.history.lock();
        let lines = history.samples.iter().map(|sample| Line {
            pid,
            stats: sample.stats,
        });
        fill_page(page, lines)
    }
}
// ANCHOR_END: show

// ANCHOR: shrink
/// Memory reclaim frees the oldest samples (Task 2).
impl Shrink for TaskMonitor {
    fn count_objects(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    fn scan_objects(&self, nr_to_scan: usize) -> Option<usize> {
        // Reclaim may run inside an allocation of a task that holds this mutex: give up
        // rather than wait for it.
        let mut history = self.history.try_lock()?;
        let mut freed = 0;
        while freed < nr_to_scan {
            let Some(oldest) = history.samples.pop_back() else {
                break;
            };
            drop(oldest);
            freed += 1;
        }
        self.count.fetch_sub(freed, Ordering::Relaxed);
        Some(freed)
    }
}
// ANCHOR_END: shrink

// ANCHOR: module
/// The loaded module. Fields drop in order: the shrinker is unregistered, the thread stops,
/// the unload line is printed, the sysfs file goes, then the last reference to the monitor
/// frees every sample.
struct TaskMonitorModule {
    _shrinker: Shrinker<Arc<TaskMonitor>>,
    _thread: KThread,
    _report: UnloadReport,
    _sysfs: SysfsFile<Arc<TaskMonitor>>,
}

impl kernel::Module for TaskMonitorModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let frequency = FREQUENCY.get();
        if !(1..=MAX_FREQUENCY).contains(&frequency) {
            pr_err!("frequency={frequency} is out of range 1..={MAX_FREQUENCY}\n");
            return Err(EINVAL);
        }
        let target = Target::from_param(TARGET.get())?;
        let pid = target.nr();
        let monitor = Arc::pin_init(
            pin_init!(TaskMonitor {
                target,
                count: AtomicUsize::new(0),
                history <- crate::new_try_mutex!(History {
                    samples: List::new(),
                }),
            }),
            GFP_KERNEL,
        )?;

        let period = Duration::from_secs(1) / frequency;
        let sampled = monitor.clone();
        // ANCHOR: monitor_fn
        // C's `monitor_fn()`.
        let thread = KThread::run(c_str!("taskmonitor"), move |thread| {
            // Said once when memory runs short, not every period.
            let mut short_of_memory = false;
            while !thread.should_stop() {
                match sampled.save_sample() {
                    Ok(()) => short_of_memory = false,
                    // This sample is lost; memory may come back by the next period.
                    Err(ENOMEM) => {
                        if !short_of_memory {
                            pr_warn!("no memory for a sample of pid {pid}, trying again\n");
                        }
                        short_of_memory = true;
                    }
                    Err(ESRCH) => {
                        pr_info!("pid {pid} has exited, sampling stopped\n");
                        return;
                    }
                    Err(e) => {
                        pr_warn!("sampling pid {pid} stopped: {e:?}\n");
                        return;
                    }
                }
                thread.sleep_until_next(period);
            }
        })?;
        // ANCHOR_END: monitor_fn
        let sysfs = SysfsFile::new(c_str!("taskmonitor"), monitor.clone())?;
        let shrinker = Shrinker::register(c_str!("taskmonitor"), monitor.clone())?;
        pr_info!("monitoring pid {pid} at {frequency} Hz\n");
        Ok(Self {
            _shrinker: shrinker,
            _thread: thread,
            _report: UnloadReport(monitor),
            _sysfs: sysfs,
        })
    }
}

/// Prints how many samples unloading frees, once the shrinker and the thread are gone:
/// the count can no longer change.
struct UnloadReport(Arc<TaskMonitor>);

impl Drop for UnloadReport {
    fn drop(&mut self) {
        let count = self.0.count.load(Ordering::Relaxed);
        pr_info!("unloading, freeing {count} samples\n");
    }
}
// ANCHOR_END: module
