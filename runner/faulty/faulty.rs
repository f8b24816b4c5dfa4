// SPDX-License-Identifier: GPL-2.0

//! A module with bugs on purpose, for the runner's own tests: a run that loads it must
//! fail, or the health checks that every scenario relies on are broken.
//!
//! `insmod faulty.ko bug=1` underflows a refcount (a `WARNING:` splat, fatal with
//! `panic_on_warn=1`); `bug=2` leaks allocations that kmemleak must report; `bug=3` takes
//! two mutexes in both orders, which lockdep must report (and then switch itself off);
//! `bug=4` forgets a sysfs file, so that unloading must stop on the registration left;
//! `bug=0` does nothing wrong.

/// The `common/` files this module uses.
#[path = "../../common/src"]
pub mod common {
    pub mod lockdep;
    pub mod params;
    pub mod registration;
    pub mod sysfs;
}

use common::sysfs::{SysfsFile, SysfsShow};
use kernel::{bindings, c_str, new_mutex, prelude::*, types::Opaque};

module! {
    type: CheckedFaulty,
    name: "faulty",
    author: "taskmonitor developers",
    description: "Deliberate kernel bugs for the VM runner's detection tests",
    license: "GPL",
}

crate::module_param!(
    BUG: i32 = 0,
    "bug",
    "0: none, 1: refcount underflow, 2: memory leak, 3: lock inversion, 4: registration leak"
);

type CheckedFaulty = common::registration::Checked<Faulty>;

struct Faulty;

/// An empty sysfs file.
struct Empty;

impl SysfsShow for Empty {
    fn show(&self, _page: &mut [u8]) -> usize {
        0
    }
}

impl kernel::Module for Faulty {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        match BUG.get() {
            0 => {}
            1 => {
                // SAFETY: `REFCOUNT_INIT` only builds a value.
                let refs = Opaque::new(unsafe { bindings::REFCOUNT_INIT(0) });
                // SAFETY: `refs` is a valid refcount; dropping it below zero is the bug we
                // want, and the kernel saturates it instead of corrupting memory.
                unsafe { bindings::refcount_dec_and_test(refs.get()) };
            }
            2 => {
                // Several objects: kmemleak may still find a stale copy of the last pointer
                // (in a cached stack, say), but not of all of them.
                for _ in 0..8 {
                    let leaked = KBox::new([0x5au8; 200], GFP_KERNEL)?;
                    let _ = KBox::into_raw(leaked);
                }
                pr_info!("leaked 8 objects of 200 bytes\n");
            }
            3 => {
                // A then B, later B then A: no deadlock in one thread, but the order that
                // could deadlock two, which lockdep reports at the second acquisition.
                let a = KBox::pin_init(new_mutex!((), "faulty_a"), GFP_KERNEL)?;
                let b = KBox::pin_init(new_mutex!((), "faulty_b"), GFP_KERNEL)?;
                {
                    let _a = a.lock();
                    let _b = b.lock();
                }
                let _b = b.lock();
                let _a = a.lock();
            }
            4 => {
                // Safe code that never removes the file: after unloading, reading it
                // would call code that is gone, so the unload must not complete.
                let file = SysfsFile::new(c_str!("faulty"), KBox::new(Empty, GFP_KERNEL)?)?;
                core::mem::forget(file);
            }
            _ => return Err(EINVAL),
        }
        Ok(Faulty)
    }
}
