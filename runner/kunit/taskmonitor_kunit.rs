// SPDX-License-Identifier: GPL-2.0

//! In-kernel tests of the `common/` wrappers: the KUnit suite `taskmonitor_common`, run
//! when the module is loaded, its results in KTAP on the kernel log (the runner's
//! `runner/tests/kunit.rs` loads it and fails on any `not ok`).
//!
//! Each case drives a wrapper through the C side that the kernel uses: the shrinker's
//! callbacks as the shrinker core calls them, the mempool with its slab cache made to fail,
//! a reference dropped last on another kernel thread, a debugfs seq_file read through
//! `open`/`read`/`release`, and module parameters parsed by `insmod` at their types'
//! limits. Like the stages, this crate has no `unsafe` of its own.

#![deny(unsafe_code)]

/// The `common/` files under test, with their test-only parts (`--cfg taskmonitor_kunit`,
/// set by this module's Kbuild).
#[allow(unsafe_code)]
#[path = "../../common/src"]
pub mod common {
    pub mod debugfs;
    pub mod fault;
    pub mod foreign;
    pub mod format;
    pub mod kbox;
    pub mod kthread;
    pub mod kunit;
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
    pub mod task;
}

use common::{
    debugfs::DebugfsFile,
    fault::fail_next_fault_point,
    kthread::KThread,
    kunit::Test,
    list::{Links, List},
    mempool::FromPool,
    mutex::{Guard, Mutex},
    refcount::{Ref, Refcount},
    registration::Registration,
    seq_file::{SeqFile, SeqShow},
    seq_list::SeqList,
    shrinker::{Scan, Shrink, Shrinker, SHRINK_EMPTY, SHRINK_STOP},
};
use core::fmt::Write;
use core::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use kernel::{
    c_str, fmt, new_condvar, new_mutex,
    prelude::*,
    str::CString,
    sync::{Arc, CondVar},
};

module! {
    type: CheckedKunitModule,
    name: "taskmonitor_kunit",
    author: "taskmonitor developers",
    description: "KUnit tests of the taskmonitor common wrappers",
    license: "GPL",
}

crate::module_param!(INT_LIMIT: i32 = 0, "int_limit", "An int: the runner passes i32::MIN");
crate::module_param!(UINT_LIMIT: u32 = 0, "uint_limit", "A uint: the runner passes u32::MAX");

crate::kunit_suite!(
    "taskmonitor_common",
    [
        shrinker_scan_asks_for_more_than_exists,
        shrinker_gives_up_when_the_lock_is_taken,
        mempool_reserve_runs_out_and_refills,
        last_reference_dropped_on_another_thread,
        a_pooled_object_is_in_one_list_at_a_time,
        a_thread_may_drop_its_own_handle,
        seq_file_lists_empty_one_and_many,
        params_parsed_at_their_limits,
    ]
);

/// Checked at unload, as the stages are: the cases make registrations.
type CheckedKunitModule = common::registration::Checked<KunitModule>;

struct KunitModule;

impl kernel::Module for KunitModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // KUnit runs the suite once the module is live, after `init`.
        Ok(Self)
    }
}

/// Fails the case with `e` if `result` is an error, else gives the value.
fn check<T, E: Into<Error>>(
    test: &mut Test<'_>,
    what: &str,
    result: core::result::Result<T, E>,
) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            test.fail(format_args!("{what} failed: {:?}", e.into()));
            None
        }
    }
}

// ---- Shrinker ----

/// Objects to free, as a count: the shrinker's view of them is what is tested.
#[pin_data]
struct Stock {
    left: AtomicUsize,
    /// Held by whoever changes the stock; the shrinker only tries it.
    #[pin]
    lock: Mutex<()>,
}

impl Shrink for Stock {
    fn count_objects(&self) -> usize {
        self.left.load(Ordering::Relaxed)
    }

    fn scan_objects(&self, nr_to_scan: usize) -> Option<usize> {
        let _guard = self.lock.try_lock()?;
        let freed = nr_to_scan.min(self.left.load(Ordering::Relaxed));
        self.left.fetch_sub(freed, Ordering::Relaxed);
        Some(freed)
    }
}

fn stock(test: &mut Test<'_>, left: usize) -> Option<Shrinker<Arc<Stock>>> {
    let stock = Arc::pin_init(
        pin_init!(Stock {
            left: AtomicUsize::new(left),
            lock <- crate::new_try_mutex!(()),
        }),
        GFP_KERNEL,
    );
    let stock = check(test, "Arc::pin_init", stock)?;
    check(
        test,
        "Shrinker::register",
        Shrinker::register(c_str!("taskmonitor_kunit"), stock),
    )
}

fn shrinker_scan_asks_for_more_than_exists(test: &mut Test<'_>) {
    let Some(shrinker) = stock(test, 3) else {
        return;
    };
    crate::kunit_expect!(test, shrinker.count() == 3);
    // Asked for 10, frees the 3 there are, and leaves `nr_scanned` as the core set it.
    crate::kunit_expect!(
        test,
        shrinker.scan(10)
            == Scan {
                result: 3,
                nr_scanned: 10
            }
    );
    crate::kunit_expect!(test, shrinker.count() == SHRINK_EMPTY);
    // Nothing left: reclaim is told to stop rather than to come back.
    crate::kunit_expect!(test, shrinker.scan(10).result == SHRINK_STOP);
}

fn shrinker_gives_up_when_the_lock_is_taken(test: &mut Test<'_>) {
    let Some(shrinker) = stock(test, 5) else {
        return;
    };
    let guard = shrinker.data().lock.lock();
    crate::kunit_expect!(test, shrinker.scan(1).result == SHRINK_STOP);
    crate::kunit_expect!(test, shrinker.count() == 5);
    drop(guard);
    crate::kunit_expect!(test, shrinker.scan(1).result == 1);
    crate::kunit_expect!(test, shrinker.count() == 4);
}

// ---- Slab cache, mempool and references ----

/// A pooled, reference-counted object that records who dropped it.
struct Block {
    refs: Refcount,
    links: Links,
}

crate::impl_counted!(Block, refs);
crate::impl_list_links!(Block, links);
crate::kmem_cache!(BLOCKS: Block, "taskmonitor_kunit");
crate::mempool!(POOL: Block);

/// How many blocks were dropped, and by which task the last one was.
static DROPPED: AtomicUsize = AtomicUsize::new(0);
static DROPPED_BY: AtomicI32 = AtomicI32::new(0);

impl Drop for Block {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::SeqCst);
        DROPPED_BY.store(kernel::current!().pid(), Ordering::SeqCst);
    }
}

fn block() -> Block {
    Block {
        refs: Refcount::new(),
        links: Links::new(),
    }
}

/// The reserve the pool is created with.
const RESERVE: u16 = 4;

fn mempool_reserve_runs_out_and_refills(test: &mut Test<'_>) {
    let Some(cache) = check(test, "create the cache", BLOCKS.create()) else {
        return;
    };
    let Some(pool) = check(test, "create the pool", POOL.create(RESERVE)) else {
        return;
    };
    crate::kunit_expect!(test, POOL.reserved() == Some(RESERVE.into()));

    // The cache fails every time: the reserve serves, down to empty.
    let mut taken = KVec::new();
    for _ in 0..RESERVE {
        fail_next_fault_point();
        let Some(object) = check(test, "alloc from the reserve", POOL.alloc(block())) else {
            return;
        };
        if check(test, "KVec::push", taken.push(object, GFP_KERNEL)).is_none() {
            return;
        }
    }
    crate::kunit_expect!(test, POOL.reserved() == Some(0));
    fail_next_fault_point();
    crate::kunit_expect!(test, POOL.alloc(block()).err() == Some(ENOMEM));

    // The cache works again: its objects do not touch the reserve.
    let fresh = POOL.alloc(block());
    crate::kunit_expect!(test, fresh.is_ok());
    crate::kunit_expect!(test, POOL.reserved() == Some(0));
    // Giving back refills the reserve first, up to its size, then frees to the cache.
    drop(fresh);
    crate::kunit_expect!(test, POOL.reserved() == Some(1));
    drop(taken);
    crate::kunit_expect!(test, POOL.reserved() == Some(RESERVE.into()));
    drop(pool);
    drop(cache);
}

fn a_pooled_object_is_in_one_list_at_a_time(test: &mut Test<'_>) {
    let Some(cache) = check(test, "create the cache", BLOCKS.create()) else {
        return;
    };
    let Some(pool) = check(test, "create the pool", POOL.create(RESERVE)) else {
        return;
    };
    let Some(object) = check(test, "alloc", POOL.alloc(block())) else {
        return;
    };
    let object: Ref<Block, FromPool> = object.into();
    let (mut first, mut second) = (List::new(), List::new());
    crate::kunit_expect!(test, first.try_push_front(object.clone()).is_ok());
    // The same object again, in the same list or another: refused, the reference given
    // back (and dropped here), both lists unchanged.
    crate::kunit_expect!(test, first.try_push_front(object.clone()).is_err());
    crate::kunit_expect!(test, second.try_push_front(object.clone()).is_err());
    crate::kunit_expect!(test, Ref::count(&object) == 2);
    crate::kunit_expect!(
        test,
        first.iter().count() == 1 && second.iter().count() == 0
    );
    // Unlinked, it may go into the other list.
    let back = first.pop_back();
    crate::kunit_expect!(test, back.is_some() && first.is_empty());
    if let Some(back) = back {
        crate::kunit_expect!(test, second.try_push_front(back).is_ok());
    }
    drop(second);
    crate::kunit_expect!(test, Ref::count(&object) == 1);
    drop(object);
    drop(pool);
    drop(cache);
}

/// Set by the thread once it has dropped its reference.
#[pin_data]
struct Done {
    #[pin]
    flag: kernel::sync::Mutex<bool>,
    #[pin]
    wake: CondVar,
}

fn last_reference_dropped_on_another_thread(test: &mut Test<'_>) {
    let Some(cache) = check(test, "create the cache", BLOCKS.create()) else {
        return;
    };
    let Some(pool) = check(test, "create the pool", POOL.create(RESERVE)) else {
        return;
    };
    let done = Arc::pin_init(
        pin_init!(Done {
            flag <- new_mutex!(false),
            wake <- new_condvar!(),
        }),
        GFP_KERNEL,
    );
    let Some(done) = check(test, "Arc::pin_init", done) else {
        return;
    };
    let Some(first) = check(test, "alloc", POOL.alloc(block())) else {
        return;
    };
    let first: Ref<Block, FromPool> = first.into();
    let second = first.clone();
    crate::kunit_expect!(test, Ref::count(&first) == 2);
    let dropped = DROPPED.load(Ordering::SeqCst);
    drop(first);
    crate::kunit_expect!(test, Ref::count(&second) == 1);
    crate::kunit_expect!(test, DROPPED.load(Ordering::SeqCst) == dropped);

    let signal = done.clone();
    let thread = KThread::run(c_str!("taskmonitor_kunit"), move |_| {
        drop(second);
        *signal.flag.lock() = true;
        signal.wake.notify_all();
    });
    let Some(thread) = check(test, "KThread::run", thread) else {
        return;
    };
    // Wait until the thread has run: stopping it before would free its closure here.
    let mut flag = done.flag.lock();
    while !*flag {
        done.wake.wait(&mut flag);
    }
    drop(flag);
    drop(thread);
    crate::kunit_expect!(test, DROPPED.load(Ordering::SeqCst) == dropped + 1);
    crate::kunit_expect!(
        test,
        DROPPED_BY.load(Ordering::SeqCst) != kernel::current!().pid()
    );
    // The object went back to the pool, which can now be destroyed.
    crate::kunit_expect!(test, POOL.reserved() == Some(RESERVE.into()));
    drop(pool);
    drop(cache);
}

/// The handle of a thread, handed to the thread itself, and whether it dropped it.
#[pin_data]
struct Handoff {
    #[pin]
    state: kernel::sync::Mutex<(Option<KThread>, bool)>,
    #[pin]
    wake: CondVar,
}

/// A thread that drops its own `KThread` does not wait for itself (which would never
/// end): the drop returns, the thread ends with its closure, and the registration it
/// counted is gone.
fn a_thread_may_drop_its_own_handle(test: &mut Test<'_>) {
    let before = Registration::live();
    let handoff = Arc::pin_init(
        pin_init!(Handoff {
            state <- new_mutex!((None, false)),
            wake <- new_condvar!(),
        }),
        GFP_KERNEL,
    );
    let Some(handoff) = check(test, "Arc::pin_init", handoff) else {
        return;
    };
    let theirs = handoff.clone();
    let thread = KThread::run(c_str!("taskmonitor_kunit"), move |_| {
        let mut state = theirs.state.lock();
        while state.0.is_none() {
            theirs.wake.wait(&mut state);
        }
        let own = state.0.take();
        drop(state);
        drop(own);
        theirs.state.lock().1 = true;
        theirs.wake.notify_all();
    });
    let Some(thread) = check(test, "KThread::run", thread) else {
        return;
    };
    crate::kunit_expect!(test, Registration::live() == before + 1);
    let mut state = handoff.state.lock();
    state.0 = Some(thread);
    handoff.wake.notify_all();
    while !state.1 {
        handoff.wake.wait(&mut state);
    }
    drop(state);
    crate::kunit_expect!(test, Registration::live() == before);
}

// ---- debugfs and seq_file ----

/// A list item shown as `entry N`.
struct Entry {
    value: u32,
    links: Links,
}

crate::impl_list_links!(Entry, links);

#[pin_data]
struct Entries {
    #[pin]
    list: Mutex<SeqList<KBox<Entry>>>,
}

impl SeqShow for Entries {
    type Owner = KBox<Entry>;
    type Locked<'a> = Guard<'a, SeqList<KBox<Entry>>>;

    fn lock(&self) -> Self::Locked<'_> {
        self.list.lock()
    }

    fn list<'a>(locked: &'a Self::Locked<'_>) -> &'a SeqList<KBox<Entry>> {
        locked
    }

    fn show(&self, entry: &Entry, out: &mut SeqFile) -> core::fmt::Result {
        writeln!(out, "entry {}", entry.value)
    }
}

crate::debugfs_fops!(FOPS: Entries);

/// What the file must read: `entry N` for N from `n` down to 1, newest first.
fn expected(n: u32) -> Result<KVec<u8>> {
    let mut text = KVec::new();
    for value in (1..=n).rev() {
        let line = CString::try_from_fmt(fmt!("entry {value}\n"))?;
        text.extend_from_slice(line.as_bytes(), GFP_KERNEL)?;
    }
    Ok(text)
}

/// Reads the file with several buffer sizes: each must give exactly `expected(n)`.
fn reads_as(test: &mut Test<'_>, file: &DebugfsFile<Arc<Entries>>, n: u32) {
    let Some(want) = check(test, "expected", expected(n)) else {
        return;
    };
    for chunk in [1, 7, 4096] {
        let got = check(
            test,
            "read_back",
            file.read_back(c_str!("taskmonitor_kunit"), chunk),
        );
        if got.as_deref() != Some(&want[..]) {
            test.fail(format_args!(
                "{n} entries read {chunk} bytes at a time: {} bytes, {} expected",
                got.map_or(0, |g| g.len()),
                want.len()
            ));
        }
    }
}

fn seq_file_lists_empty_one_and_many(test: &mut Test<'_>) {
    let entries = Arc::pin_init(
        pin_init!(Entries {
            list <- crate::new_try_mutex!(SeqList::new()),
        }),
        GFP_KERNEL,
    );
    let Some(entries) = check(test, "Arc::pin_init", entries) else {
        return;
    };
    let file = DebugfsFile::new(c_str!("taskmonitor_kunit"), &FOPS, entries.clone());
    let Some(file) = check(test, "DebugfsFile::new", file) else {
        return;
    };
    reads_as(test, &file, 0);
    // One entry, then enough for several pages (about 11 bytes a line).
    for (from, to) in [(1, 1), (2, 1000)] {
        for value in from..=to {
            let entry = KBox::new(
                Entry {
                    value,
                    links: Links::new(),
                },
                GFP_KERNEL,
            );
            let Some(entry) = check(test, "KBox::new", entry) else {
                return;
            };
            entries.list.lock().push_front(entry);
        }
        reads_as(test, &file, to);
    }
    drop(file);
}

// ---- Module parameters ----

fn params_parsed_at_their_limits(test: &mut Test<'_>) {
    // `insmod taskmonitor_kunit.ko int_limit=-2147483648 uint_limit=4294967295`; one
    // beyond either limit makes insmod fail (the runner checks that too).
    crate::kunit_expect!(test, INT_LIMIT.get() == i32::MIN);
    crate::kunit_expect!(test, UINT_LIMIT.get() == u32::MAX);
}
