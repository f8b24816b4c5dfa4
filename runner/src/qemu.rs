// SPDX-License-Identifier: GPL-2.0

//! QEMU command lines for the test kernel.

use std::path::Path;
use std::process::Command;

/// Kernel command line: the console on the first serial port, and every report fatal.
///
/// `no_timer_check`: under emulation on a loaded host the boot-time test of the timer's
/// interrupt through the IO-APIC can miss its window and panic ("IO-APIC + timer doesn't
/// work"), seen when four VMs and a build shared two cores; it checks QEMU's wiring, not
/// the module.
pub const CMDLINE: &str = "console=ttyS0 panic=-1 oops=panic panic_on_warn=1 \
     softlockup_panic=1 hung_task_panic=1 loglevel=7 no_timer_check";

/// A QEMU command for `bzImage` and `initrd`, without serial ports.
///
/// Software emulation (TCG) by default: KVM hangs at boot on the project's machines.
/// `TASKMONITOR_KVM=1` opts in.
pub fn command(bzimage: &Path, initrd: &Path, memory_mb: u32, extra_cmdline: &str) -> Command {
    let mut cmd = Command::new("qemu-system-x86_64");
    let kvm = std::env::var("TASKMONITOR_KVM").is_ok_and(|v| v == "1");
    cmd.args(["-accel", if kvm { "kvm" } else { "tcg" }])
        .args(["-m", &format!("{memory_mb}M"), "-smp", "2"])
        .args(["-nodefaults", "-display", "none", "-no-reboot"])
        .arg("-kernel")
        .arg(bzimage)
        .arg("-initrd")
        .arg(initrd)
        .arg("-append")
        .arg(format!("{CMDLINE} {extra_cmdline}"));
    cmd
}
