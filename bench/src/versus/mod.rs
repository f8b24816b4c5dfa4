// SPDX-License-Identifier: GPL-2.0

//! Rust against C: stage 7 and the C reference measured in one VM, one right after the
//! other on the same processes, with the floor module (`bench/floor/`), which only reads
//! what a sample holds. Measured on the measuring kernel (`kernel/bench.config`, built
//! like a production kernel) and on the test kernel, built for debugging.

pub mod markdown;
pub mod measure;
pub mod plot;
pub mod report;
pub mod scenario;

use std::path::{Path, PathBuf};

/// The modules of the comparison: their name in the VM, and their `.ko` under the folder
/// `scripts/bench-modules.sh` builds.
pub const MODULES: [(&str, &str); 3] = [
    ("rust", "task7-multi/taskmonitor.ko"),
    ("c", "c-reference/taskmonitor.ko"),
    ("floor", "bench/floor/taskmonitor_floor.ko"),
];

/// The kernels, in the report's order: the measuring kernel (`scripts/kernel.sh bench`),
/// then the test kernel, built for debugging.
pub const KERNELS: [&str; 2] = ["production", "debug"];

/// A kernel and the modules built for it, as `scripts/bench-modules.sh` left them.
#[derive(Clone, Debug)]
pub struct Kernel {
    /// `production` or `debug`.
    pub label: String,
    pub kdir: PathBuf,
    pub modules: PathBuf,
}

impl Kernel {
    /// The kernel of the modules built into `dir`.
    pub fn of(dir: &Path) -> Result<Self, String> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path)
                .map(|s| s.trim().to_string())
                .map_err(|e| format!("{}: {e} (run scripts/bench-modules.sh)", path.display()))
        };
        Ok(Self {
            label: read("label")?,
            kdir: read("kdir")?.into(),
            modules: dir.to_path_buf(),
        })
    }
}
