// SPDX-License-Identifier: GPL-2.0

//! Host build of the pure logic in `common/`.
//!
//! The kernel modules include these very files (each stage's `mod common`), so what `cargo test`
//! checks here is what runs in the kernel. Nothing here may depend on the `kernel` crate
//! or allocate.
#![no_std]

#[cfg(test)]
extern crate std;

pub mod command;
pub mod deadline;
pub mod format;
pub mod list;
pub mod seq_list;
pub mod static_object;

/// The path the module sees (`crate::common::...`), so that the macros written for it
/// also expand in this crate's tests.
#[doc(hidden)]
pub mod common {
    pub use super::list;
}
