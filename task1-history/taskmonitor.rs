// SPDX-License-Identifier: GPL-2.0

//! Lab 06, Task 1: a task monitor that keeps the history of its samples.
//!
//! `insmod taskmonitor.ko target=PID [frequency=HZ]` starts a kernel thread that samples
//! the process `frequency` times per second into a list; `/sys/kernel/taskmonitor` shows
//! the most recent samples, newest first.

#![deny(unsafe_code)]

/// The `common/` files this stage uses: the wrappers that hold all of its `unsafe` code.
/// Public, like the `kernel` crate: a library of which the stage uses a part.
#[allow(unsafe_code)]
#[path = "../common/src"]
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
    format::{fill_page, Line, TaskStats},
    kthread::KThread,
    sysfs::{SysfsFile, SysfsShow},
    task::Target,
};
use core::time::Duration;
use kernel::{
    c_str, impl_has_list_links, impl_list_arc_safe, impl_list_item,
    list::{List, ListArc, ListLinks},
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
};

module! {
    type: CheckedTaskMonitor,
    name: "taskmonitor",
    author: "taskmonitor developers",
    description: "Lab 06 task 1: history of a process's CPU and memory samples",
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
/// The samples, newest first, and how many there are (Question 1).
struct History {
    samples: List<Sample>,
    count: usize,
}

/// C's `struct task_monitor`: the target and its history under a mutex.
#[pin_data]
struct TaskMonitor {
    target: Target,
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
        history.count += 1;
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

// ANCHOR: module
/// The loaded module. Fields drop in order: the thread stops, the unload line is printed,
/// the sysfs file goes, then the last reference to the monitor frees every sample
/// (Question 4).
struct TaskMonitorModule {
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
                history <- new_mutex!(History {
                    samples: List::new(),
                    count: 0,
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
        pr_info!("monitoring pid {pid} at {frequency} Hz\n");
        Ok(Self {
            _thread: thread,
            _report: UnloadReport(monitor),
            _sysfs: sysfs,
        })
    }
}

/// Prints how many samples unloading frees, once the thread has stopped: the count can no
/// longer change.
struct UnloadReport(Arc<TaskMonitor>);

impl Drop for UnloadReport {
    fn drop(&mut self) {
        let count = self.0.history.lock().count;
        pr_info!("unloading, freeing {count} samples\n");
    }
}
// ANCHOR_END: module
