//! Host build of the pure logic in `common/`.
//!
//! The kernel modules include these very files (see `kernel.rs`), so what `cargo test`
//! checks here is what runs in the kernel. Nothing here may depend on the `kernel` crate
//! or allocate.
#![no_std]

#[cfg(test)]
extern crate std;

pub mod format;
