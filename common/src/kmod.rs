//! The shared code of the taskmonitor modules, as a stage includes it.
//!
//! Every stage's crate root has `#[path = "../common/src/kmod.rs"] mod common;`: the
//! kernel builds one crate per module, so this folder is compiled into each stage rather
//! than linked as a crate. The safe wrappers over what 6.12's `kernel` crate lacks hold
//! all of the project's `unsafe` code, one file per kernel facility; `format` is pure
//! logic, also built and unit-tested on the host (see `lib.rs`).
//!
//! Each stage uses a subset of these, so unused items are expected here.
#![allow(dead_code, unreachable_pub)]

pub mod command;
pub mod debugfs;
pub mod fault;
pub mod format;
pub mod kbox;
pub mod kthread;
pub mod kunit;
pub mod list;
pub mod mempool;
pub mod mutex;
pub mod params;
pub mod refcount;
pub mod shrinker;
pub mod slab;
pub mod sysfs;
pub mod task;
