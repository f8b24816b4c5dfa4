// SPDX-License-Identifier: GPL-2.0

//! The VM's root file system: busybox, the modules and an init script, packed by the
//! kernel's own `usr/gen_init_cpio`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The statically linked busybox of Debian's `busybox-static`.
const BUSYBOX: &str = "/bin/busybox";

/// Files to put in the initramfs: (path in the VM, host file, mode).
#[derive(Default)]
pub struct Initramfs {
    files: Vec<(String, PathBuf, u32)>,
}

impl Initramfs {
    pub fn add(&mut self, path: &str, host: impl Into<PathBuf>, mode: u32) {
        self.files.push((path.to_string(), host.into(), mode));
    }

    /// Writes the archive into `dir` and returns its path.
    pub fn build(&self, kdir: &Path, dir: &Path) -> std::io::Result<PathBuf> {
        let mut list = String::new();
        for d in [
            "/bin",
            "/sbin",
            "/dev",
            "/proc",
            "/sys",
            "/tmp",
            "/lib",
            "/lib/modules",
        ] {
            writeln!(list, "dir {d} 755 0 0").unwrap();
        }
        writeln!(list, "nod /dev/console 600 0 0 c 5 1").unwrap();
        writeln!(list, "file /bin/busybox {BUSYBOX} 755 0 0").unwrap();
        for (path, host, mode) in &self.files {
            writeln!(list, "file {path} {} {mode:o} 0 0", host.display()).unwrap();
        }
        let list_path = dir.join("initramfs.list");
        std::fs::write(&list_path, list)?;
        let out = Command::new(kdir.join("usr/gen_init_cpio"))
            .arg(&list_path)
            .output()?;
        if !out.status.success() {
            return Err(std::io::Error::other(format!(
                "gen_init_cpio failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let cpio = dir.join("initramfs.cpio");
        std::fs::write(&cpio, out.stdout)?;
        Ok(cpio)
    }
}
