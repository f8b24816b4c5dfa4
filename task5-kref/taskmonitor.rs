// SPDX-License-Identifier: GPL-2.0

//! Lab 06, Task 5: samples are reference counted.
//!
//! `insmod taskmonitor.ko target=PID [frequency=HZ]` starts a kernel thread that samples
//! the process `frequency` times per second into a list; `/sys/kernel/taskmonitor` shows
//! the most recent samples, newest first. A shrinker frees the oldest samples when the
//! kernel reclaims memory. Samples are allocated from a mempool on top of the
//! `task_sample` slab cache, and reference counted: the thread prints each new sample
//! without holding the mutex, through a reference of its own.

#![deny(unsafe_code)]

/// The `common/` files this stage uses: the wrappers that hold all of its `unsafe` code.
/// Public, like the `kernel` crate: a library of which the stage uses a part.
#[allow(unsafe_code)]
#[path = "../common/src"]
pub mod common {
    pub mod foreign;
    pub mod format;
    pub mod kthread;
    pub mod list;
    pub mod lockdep;
    pub mod mempool;
    pub mod mutex;
    pub mod params;
    pub mod refcount;
    pub mod registration;
    pub mod shrinker;
    pub mod slab;
    pub mod static_object;
    pub mod sysfs;
    pub mod task;
}

use common::{
    format::{fill_page, Line, TaskStats},
    kthread::KThread,
    list::{Links, List},
    mempool::{FromPool, PoolRegistration},
    mutex::Mutex,
    refcount::{Ref, Refcount},
    shrinker::{Shrink, Shrinker},
    slab::{kmalloc_ksize, CacheRegistration},
    sysfs::{SysfsFile, SysfsShow},
    task::Target,
};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use kernel::{c_str, prelude::*, sync::Arc};

module! {
    type: CheckedTaskMonitor,
    name: "taskmonitor",
    author: "taskmonitor developers",
    description: "Lab 06 task 5: history of a process's reference-counted samples",
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
/// One sample of the target (C's `struct task_sample`), linked into the history and
/// reference counted (C's `struct kref`).
struct Sample {
    stats: TaskStats,
    refs: Refcount,
    links: Links,
}

crate::impl_list_links!(Sample, links);
crate::impl_counted!(Sample, refs);

/// A counted reference to a sample; the last one gives the sample back to the pool.
type SampleRef = Ref<Sample, FromPool>;

// The cache every sample comes from (C's `KMEM_CACHE(task_sample, ...)`).
crate::kmem_cache!(SAMPLES: Sample, "task_sample");

// ANCHOR: pool
// The pool samples are taken from, on top of the cache.
crate::mempool!(POOL: Sample);

/// Samples kept in reserve: a minute of sampling at the default 1 Hz, or one slab page
/// (64 samples of 64 bytes, now that a sample has a reference count).
const MIN_SAMPLES: u16 = 64;
// ANCHOR_END: pool
// ANCHOR_END: sample

// ANCHOR: task_monitor
/// The samples, newest first.
struct History {
    samples: List<SampleRef>,
}

/// C's `struct task_monitor`: the target and its history under a mutex.
#[pin_data]
struct TaskMonitor {
    target: Target,
    /// How many samples the history holds: changed under the mutex, read without it,
    /// because the shrinker's `count_objects` must not block.
    count: AtomicUsize,
    /// How many samples could not be allocated, even from the reserve.
    failures: AtomicU64,
    /// A mutex that can be tried: the shrinker must not wait for it.
    #[pin]
    history: Mutex<History>,
}
// ANCHOR_END: task_monitor

impl TaskMonitor {
    // ANCHOR: save_sample
    /// Samples the target, adds the sample to the history, and returns a reference to
    /// it: the list holds one, the caller the other (Task 5, Question 2).
    ///
    /// Fails with `ESRCH` once the target has exited, or `ENOMEM` when neither the slab
    /// cache nor the pool's reserve has a sample to give.
    fn save_sample(&self) -> Result<SampleRef> {
        let stats = self.target.sample().ok_or(ESRCH)?;
        // Allocate before locking: nothing waits for memory while holding the mutex.
        let sample: SampleRef = POOL
            .alloc(Sample {
                stats,
                refs: Refcount::new(),
                links: Links::new(),
            })
            .inspect_err(|_| self.allocation_failed())?
            .into();
        let mut history = self.history.lock();
        // A second reference to a sample already in a list would be refused; this sample
        // is new.
        history
            .samples
            .try_push_front(sample.clone())
            .map_err(|_| EEXIST)?;
        self.count.fetch_add(1, Ordering::Relaxed);
        Ok(sample)
    }
    // ANCHOR_END: save_sample

    // ANCHOR: failed
    /// Counts a failed allocation, and says so on the 1st, 2nd, 4th, 8th... one: a
    /// warning per sample would flood the log at high frequencies.
    fn allocation_failed(&self) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures.is_power_of_two() {
            pr_warn!("no memory for a sample, even in the reserve ({failures} failures)\n");
        }
    }
    // ANCHOR_END: failed
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
            // Drops the list's reference: a reader holding another keeps the sample.
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
/// the unload line is printed, the sysfs file goes, the last reference to the monitor gives
/// every sample back, the pool frees its reserve, and then the empty cache is destroyed.
struct TaskMonitorModule {
    _shrinker: Shrinker<Arc<TaskMonitor>>,
    _thread: KThread,
    _report: UnloadReport,
    _sysfs: SysfsFile<Arc<TaskMonitor>>,
    _pool: PoolRegistration<Sample>,
    _cache: CacheRegistration<Sample>,
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
        // ANCHOR: sizes
        let cache = SAMPLES.create()?;
        pr_info!(
            "sizeof(Sample) = {}, ksize(kmalloc'd Sample) = {}, task_sample object size = {}\n",
            core::mem::size_of::<Sample>(),
            kmalloc_ksize::<Sample>()?,
            SAMPLES.object_size().unwrap_or(0),
        );
        // ANCHOR_END: sizes
        let pool = POOL.create(MIN_SAMPLES)?;
        let monitor = Arc::pin_init(
            pin_init!(TaskMonitor {
                target,
                count: AtomicUsize::new(0),
                failures: AtomicU64::new(0),
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
            while !thread.should_stop() {
                match sampled.save_sample() {
                    // ANCHOR: print
                    // Printed without the mutex: our reference keeps the sample alive even
                    // if the shrinker takes it off the list meanwhile (Question 3).
                    Ok(sample) => pr_info!(
                        "sample with {} references: {}",
                        SampleRef::count(&sample),
                        Line {
                            pid,
                            stats: sample.stats,
                        }
                    ),
                    // ANCHOR_END: print
                    // A failed allocation is counted and reported by `save_sample`;
                    // memory may come back by the next period.
                    Err(ENOMEM) => {}
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
            _pool: pool,
            _cache: cache,
        })
    }
}

/// Prints how many samples unloading frees, once the shrinker and the thread are gone:
/// the count can no longer change.
struct UnloadReport(Arc<TaskMonitor>);

impl Drop for UnloadReport {
    fn drop(&mut self) {
        let monitor = &self.0;
        let count = monitor.count.load(Ordering::Relaxed);
        let failures = monitor.failures.load(Ordering::Relaxed);
        pr_info!("unloading, freeing {count} samples ({failures} allocations failed)\n");
    }
}
// ANCHOR_END: module
