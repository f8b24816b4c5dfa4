// SPDX-License-Identifier: GPL-2.0

//! Lab 06, Task 7: monitoring several processes.
//!
//! `insmod taskmonitor.ko [target=PID] [frequency=HZ]` starts a kernel thread that samples
//! every monitored process `frequency` times per second into one history;
//! `echo PID > /sys/kernel/debug/taskmonitor` adds a process, `echo -PID` removes it.
//! `/sys/kernel/debug/taskmonitor` lists the whole history, newest first, through
//! seq_file, and `/sys/kernel/taskmonitor` its newest page. A shrinker frees the oldest
//! samples when the kernel reclaims memory. Samples are allocated from a mempool on top
//! of the `task_sample` slab cache, and reference counted.

#![deny(unsafe_code)]

/// The `common/` files this stage uses: the wrappers that hold all of its `unsafe` code.
/// Public, like the `kernel` crate: a library of which the stage uses a part.
#[allow(unsafe_code)]
#[path = "../common/src"]
pub mod common {
    pub mod command;
    pub mod debugfs;
    pub mod foreign;
    pub mod format;
    pub mod kbox;
    pub mod kthread;
    pub mod list;
    pub mod lockdep;
    pub mod mempool;
    pub mod mutex;
    pub mod params;
    pub mod refcount;
    pub mod registration;
    pub mod seq_file;
    pub mod seq_list;
    pub mod shrinker;
    pub mod slab;
    pub mod static_object;
    pub mod sysfs;
    pub mod task;
}

use common::{
    command::{parse_command, Command},
    debugfs::{DebugfsFile, SeqWrite},
    format::{fill_page, Line, TaskStats},
    kthread::KThread,
    list::{Links, List},
    mempool::{FromPool, PoolRegistration},
    mutex::{Guard, Mutex},
    refcount::{Ref, Refcount},
    seq_file::{SeqFile, SeqShow},
    seq_list::SeqList,
    shrinker::{Shrink, Shrinker},
    slab::{kmalloc_ksize, CacheRegistration},
    sysfs::{SysfsFile, SysfsShow},
    task::Target,
};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use kernel::{c_str, prelude::*, sync::Arc};

// ANCHOR: checked
crate::checked_module! {
    type: TaskMonitorModule,
    name: "taskmonitor",
    author: "taskmonitor developers",
    description: "Lab 06 task 7: history of several processes' samples",
    license: "GPL",
}
// ANCHOR_END: checked

crate::module_param!(TARGET: i32 = 0, "target", "PID of a first process to monitor (optional)");
crate::module_param!(FREQUENCY: u32 = 1, "frequency", "Samples per second, 1 to 1000 (default 1)");

/// Highest sampling frequency: one sample per millisecond.
const MAX_FREQUENCY: u32 = 1000;

// ANCHOR: sample
/// One sample of a monitored process (C's `struct task_sample`), linked into the
/// history and reference counted (C's `struct kref`).
struct Sample {
    stats: TaskStats,
    /// Which process: the history holds the samples of all of them.
    pid: i32,
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
/// The samples of every monitored process, newest first.
struct History {
    samples: SeqList<SampleRef>,
}

/// C's `struct task_monitor`: one monitored process, linked into the list of them.
struct TaskMonitor {
    target: Target,
    /// Set by the thread when the process has exited, to unlink it afterwards.
    exited: AtomicBool,
    links: Links,
}

crate::impl_list_links!(TaskMonitor, links);

/// Everything the module monitors and records (Task 7, Question 1).
#[pin_data]
struct Monitors {
    /// The monitored processes (C's global `struct list_head tasks`).
    #[pin]
    tasks: Mutex<List<KBox<TaskMonitor>>>,
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

impl Monitors {
    // ANCHOR: save_sample
    /// Samples one process into this period's `batch`, which holds the sample's one
    /// reference until the history takes it.
    ///
    /// Task 5 had `save_sample` return a second reference, for the thread to print the
    /// sample with; nothing has printed samples since Task 6, so here the second
    /// reference would only be taken and dropped at once, two atomic operations per
    /// sample.
    ///
    /// Fails with `ESRCH` once the process has exited, or `ENOMEM` when neither the slab
    /// cache nor the pool's reserve has a sample to give.
    fn save_sample(&self, monitor: &TaskMonitor, batch: &mut List<SampleRef>) -> Result {
        let stats = monitor.target.sample().ok_or(ESRCH)?;
        let sample: SampleRef = POOL
            .alloc(Sample {
                stats,
                pid: monitor.target.nr(),
                refs: Refcount::new(),
                links: Links::new(),
            })
            .inspect_err(|_| self.allocation_failed())?
            .into();
        // A sample already in a list would be refused; this sample is new.
        batch.try_push_front(sample).map_err(|_| EEXIST)
    }
    // ANCHOR_END: save_sample

    // ANCHOR: monitor_all
    /// One period of C's `monitor_fn()`: samples every monitored process, adds the
    /// samples to the history, then forgets the processes that have exited; their
    /// samples stay in the history (Question 2).
    fn sample_all(&self) {
        let mut tasks = self.tasks.lock();
        let mut batch = List::new();
        let mut any_exited = false;
        for monitor in tasks.iter() {
            match self.save_sample(monitor, &mut batch) {
                // A failed allocation is counted and reported by `save_sample`; memory
                // may come back by the next period.
                Ok(()) | Err(ENOMEM) => {}
                Err(_) => {
                    monitor.exited.store(true, Ordering::Relaxed);
                    any_exited = true;
                }
            }
        }
        // The history is locked once per period, not once per sample, and only after
        // every sample is allocated: nothing waits for memory while holding the mutex.
        // The batch goes to the front in its order, as if each sample had been pushed
        // there.
        let added = self.history.lock().samples.splice_front(&mut batch);
        self.count.fetch_add(added, Ordering::Relaxed);
        // Walking the list again only when a process has gone.
        if any_exited {
            while let Some(monitor) = tasks.remove_first(|m| m.exited.load(Ordering::Relaxed)) {
                pr_info!(
                    "pid {} has exited, no longer monitored\n",
                    monitor.target.nr()
                );
            }
        }
    }
    // ANCHOR_END: monitor_all

    // ANCHOR: commands
    /// `echo PID`: starts monitoring a process.
    fn add(&self, pid: i32) -> Result {
        let target = Target::find(pid)?;
        // Allocated before locking, like samples.
        let monitor = KBox::new(
            TaskMonitor {
                target,
                exited: AtomicBool::new(false),
                links: Links::new(),
            },
            GFP_KERNEL,
        )?;
        let mut tasks = self.tasks.lock();
        if tasks.iter().any(|m| m.target.nr() == pid) {
            return Err(EEXIST);
        }
        tasks.push_front(monitor);
        pr_info!("monitoring pid {pid}\n");
        Ok(())
    }

    /// `echo -PID`: stops monitoring a process; its samples stay in the history.
    fn remove(&self, pid: i32) -> Result {
        let monitor = self.tasks.lock().remove_first(|m| m.target.nr() == pid);
        monitor.ok_or(ENOENT)?;
        pr_info!("stopped monitoring pid {pid}\n");
        Ok(())
    }
    // ANCHOR_END: commands

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
impl SysfsShow for Monitors {
    fn show(&self, page: &mut [u8]) -> usize {
        let history = self.history.lock();
        let lines = history.samples.iter().map(|sample| Line {
            pid: sample.pid,
            stats: sample.stats,
        });
        fill_page(page, lines)
    }
}
// ANCHOR_END: show

// ANCHOR: seq_show
/// `cat /sys/kernel/debug/taskmonitor`: every sample, newest first (Task 6). seq_file
/// calls `lock` in its `start` and drops the guard in its `stop`.
impl SeqShow for Monitors {
    type Owner = SampleRef;
    type Locked<'a> = Guard<'a, History>;

    fn lock(&self) -> Guard<'_, History> {
        self.history.lock()
    }

    fn list<'a>(history: &'a Guard<'_, History>) -> &'a SeqList<SampleRef> {
        &history.samples
    }

    fn show(&self, sample: &Sample, out: &mut SeqFile) -> fmt::Result {
        let line = Line {
            pid: sample.pid,
            stats: sample.stats,
        };
        write!(out, "{line}")
    }
}

/// `echo PID` and `echo -PID` (Question 3). A malformed command is `EINVAL`.
impl SeqWrite for Monitors {
    fn write(&self, input: &[u8]) -> Result {
        match parse_command(input) {
            Ok(Command::Add(pid)) => self.add(pid),
            Ok(Command::Remove(pid)) => self.remove(pid),
            Err(e) => {
                pr_warn!("bad command ({e:?}): write PID to add, -PID to remove\n");
                Err(EINVAL)
            }
        }
    }
}

// The file's operations: seq_open, seq_read, seq_lseek, seq_release, and write.
crate::debugfs_fops!(DEBUGFS_FOPS: Monitors, writable);
// ANCHOR_END: seq_show

// ANCHOR: shrink
/// Memory reclaim frees the oldest samples (Task 2).
impl Shrink for Monitors {
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
/// the unload line is printed, the files go, the last reference to the monitors frees them
/// and gives every sample back, the pool frees its reserve, and then the empty cache is
/// destroyed.
struct TaskMonitorModule {
    _shrinker: Shrinker<Arc<Monitors>>,
    _thread: KThread,
    _report: UnloadReport,
    _sysfs: SysfsFile<Arc<Monitors>>,
    _debugfs: DebugfsFile<Arc<Monitors>>,
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
        let monitors = Arc::pin_init(
            pin_init!(Monitors {
                tasks <- crate::new_try_mutex!(List::new()),
                count: AtomicUsize::new(0),
                failures: AtomicU64::new(0),
                history <- crate::new_try_mutex!(History {
                    samples: SeqList::new(),
                }),
            }),
            GFP_KERNEL,
        )?;

        // The optional first process.
        let target = TARGET.get();
        if target != 0 {
            // A bad target is a bad parameter: EINVAL (as `Target::from_param` in stages 1
            // to 6), and the log says which.
            monitors.add(target).map_err(|e| {
                if e == ESRCH {
                    pr_err!("target={target}: no such process\n");
                    EINVAL
                } else {
                    if e == EINVAL {
                        pr_err!("target={target} is not a PID\n");
                    }
                    e
                }
            })?;
        }

        let period = Duration::from_secs(1) / frequency;
        let sampled = monitors.clone();
        // ANCHOR: monitor_fn
        // C's `monitor_fn()`.
        let thread = KThread::run(c_str!("taskmonitor"), move |thread| {
            while !thread.should_stop() {
                sampled.sample_all();
                thread.sleep_until_next(period);
            }
        })?;
        // ANCHOR_END: monitor_fn
        let sysfs = SysfsFile::new(c_str!("taskmonitor"), monitors.clone())?;
        let debugfs = DebugfsFile::new(c_str!("taskmonitor"), &DEBUGFS_FOPS, monitors.clone())?;
        let shrinker = Shrinker::register(c_str!("taskmonitor"), monitors.clone())?;
        pr_info!("sampling at {frequency} Hz\n");
        Ok(Self {
            _shrinker: shrinker,
            _thread: thread,
            _report: UnloadReport(monitors),
            _sysfs: sysfs,
            _debugfs: debugfs,
            _pool: pool,
            _cache: cache,
        })
    }
}

/// Prints how many samples unloading frees, once the shrinker and the thread are gone:
/// the count can no longer change.
struct UnloadReport(Arc<Monitors>);

impl Drop for UnloadReport {
    fn drop(&mut self) {
        let monitors = &self.0;
        let count = monitors.count.load(Ordering::Relaxed);
        let failures = monitors.failures.load(Ordering::Relaxed);
        pr_info!("unloading, freeing {count} samples ({failures} allocations failed)\n");
    }
}
// ANCHOR_END: module
