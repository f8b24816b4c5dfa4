// SPDX-License-Identifier: GPL-2.0

//! Runs the taskmonitor modules in a real kernel.
//!
//! [`Scenario`] describes a VM run: a stage's module, shell steps and limits. [`Scenario::run`]
//! builds an initramfs (busybox, the modules, an init script), boots the test kernel under
//! QEMU, and returns each step's output apart from the kernel log. The kernel log goes to the
//! first serial port, the steps' output to the second, so the two never mix.
//!
//! Every run is checked for kernel splats, taint, lockdep switching itself off and kmemleak
//! reports (see [`health`]); a run that fails any of them is an error.
//!
//! [`demo`] holds the demonstrations of `make demo`, which `runner/tests/demo.rs` checks.

pub mod check;
pub mod demo;
pub mod health;
mod initramfs;
pub mod ktap;
pub mod output;
mod qemu;
mod scenario;
mod shell;

pub use scenario::{Run, RunError, Scenario, Stage7, Step};

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runner/ is inside the repository")
        .to_path_buf()
}

/// The prepared kernel tree: `$TASKMONITOR_KDIR`, else what `scripts/kernel.sh` prints
/// (which builds the kernel on first use).
pub fn kdir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TASKMONITOR_KDIR") {
        return dir.into();
    }
    let out = Command::new(repo_root().join("scripts/kernel.sh"))
        .output()
        .expect("cannot run scripts/kernel.sh");
    assert!(
        out.status.success(),
        "scripts/kernel.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Whether the VMs boot the KASAN kernel (`scripts/kernel.sh kasan`), whose memory
/// overhead some tests allow for.
pub fn kasan() -> bool {
    kdir().to_string_lossy().contains("-kasan-")
}

/// Where the built modules are: `$TASKMONITOR_MODULES` (a copy of the stage folders,
/// `common/` and `runner/faulty/` built against another kernel, such as the KASAN one),
/// else the repository itself.
pub fn modules_root() -> PathBuf {
    std::env::var_os("TASKMONITOR_MODULES").map_or_else(repo_root, PathBuf::from)
}

/// The built module at `path`, relative to the repository (`runner/faulty/faulty.ko`).
pub fn built_module(path: &str) -> PathBuf {
    modules_root().join(path)
}

/// The static program `name` of `runner/guest/`, to add to a VM with [`Scenario::file`].
/// `make guest-tools` builds them (`make test` does it first).
pub fn guest_tool(name: &str) -> PathBuf {
    let path = repo_root()
        .join("target/x86_64-unknown-linux-gnu/release")
        .join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `make guest-tools`",
        path.display()
    );
    path
}

/// The folder of stage `n` (`task1-history` for 1), under [`modules_root`].
pub fn stage_dir(n: u32) -> PathBuf {
    let prefix = format!("task{n}-");
    std::fs::read_dir(modules_root())
        .expect("the modules' root is readable")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix))
        })
        .unwrap_or_else(|| panic!("no stage folder task{n}-*"))
}

/// The folder of the C reference module (`c-reference/`), under [`modules_root`]: the
/// finished lab in C, with stage 7's interface, which stage 7's VM tests also load.
pub fn c_reference_dir() -> PathBuf {
    modules_root().join("c-reference")
}

/// A `taskmonitor.ko`: a stage's, or the C reference's.
#[derive(Clone, Copy, Debug)]
pub enum Taskmonitor {
    /// Stage N.
    Stage(u32),
    /// `c-reference/`.
    C,
}

impl Taskmonitor {
    /// `N` (1 to 7) or `c`.
    pub fn parse(arg: &str) -> Option<Self> {
        match arg {
            "c" => Some(Self::C),
            n => n
                .parse()
                .ok()
                .filter(|n| (1..=7).contains(n))
                .map(Self::Stage),
        }
    }

    /// The folder of its `taskmonitor.ko`.
    pub fn dir(self) -> PathBuf {
        match self {
            Self::Stage(n) => stage_dir(n),
            Self::C => c_reference_dir(),
        }
    }

    /// How `make shell`'s banner names it.
    pub fn label(self) -> String {
        match self {
            Self::Stage(n) => format!("stage {n}"),
            Self::C => "the C reference".to_string(),
        }
    }
}

/// Boots a VM with an interactive shell on the terminal and the module `ko` (a
/// `taskmonitor.ko`), which the banner calls `label`.
pub fn shell(label: &str, ko: &Path) -> std::process::ExitCode {
    match shell::interactive_shell(label, ko) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
