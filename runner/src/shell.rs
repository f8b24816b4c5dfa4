// SPDX-License-Identifier: GPL-2.0

//! `make shell TASK=N` (or `TASK=c`, or `SRC=DIR`): a VM with a stage's module (the C
//! reference's, a student's) and an interactive shell on the terminal.

use crate::{initramfs::Initramfs, kdir, qemu, scenario::SETUP};
use std::path::Path;

/// Boots the module `ko` with a shell on the terminal; returns when the VM powers off.
pub(crate) fn interactive_shell(label: &str, ko: &Path) -> std::io::Result<std::process::ExitCode> {
    let kdir = kdir();
    let dir = tempfile::Builder::new()
        .prefix("taskmonitor-shell-")
        .tempdir()?;
    let init = dir.path().join("init");
    let mut script = String::from("#!/bin/busybox sh\n");
    script.push_str(SETUP);
    script.push_str(&format!(
        r#"cd /lib/modules
cat <<'EOM'

taskmonitor, {label}: the module is /lib/modules/taskmonitor.ko
  PID=$(burn)                              start a CPU-burning process
  insmod taskmonitor.ko target=$PID        load the module (frequency=HZ optional)
  cat /sys/kernel/taskmonitor              read the history
  rmmod taskmonitor                        unload
  exit                                     power off
EOM
setsid cttyhack sh
reboot -f
"#
    ));
    std::fs::write(&init, script)?;
    let mut fs = Initramfs::default();
    fs.add("/init", &init, 0o755);
    fs.add("/lib/modules/taskmonitor.ko", ko, 0o644);
    let initrd = fs.build(&kdir, dir.path())?;
    let status = qemu::command(&kdir.join("arch/x86/boot/bzImage"), &initrd, 256, "")
        .args(["-serial", "mon:stdio"])
        .status()?;
    Ok(if status.success() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}
