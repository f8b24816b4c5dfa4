// SPDX-License-Identifier: GPL-2.0

//! What makes a kernel run unhealthy: splats in the log, taint, lockdep off, leaks.

/// Console lines that mean the kernel found a bug (see shared notes and the kernel's own
/// report formats).
const SPLATS: &[&str] = &[
    "BUG:",
    "WARNING:",
    "INFO:",
    "Oops",
    "general protection fault",
    "Kernel panic",
    "kernel BUG",
    "UBSAN:",
    "rust_kernel: panicked",
    "possible circular locking dependency",
    "possible recursive locking",
    "inconsistent lock state",
    "sleeping function called from invalid context",
    "refcount_t:",
    "Slab cache still has objects",
    "unreferenced object",
    "kmemleak: ",
    "Call Trace:",
];

/// The lines of `console` that report a kernel bug.
pub fn splats(console: &str) -> Vec<&str> {
    console
        .lines()
        .filter(|line| {
            let text = strip_timestamp(line);
            SPLATS.iter().any(|s| text.contains(s)) && !is_benign(text)
        })
        .collect()
}

/// Messages that contain a signature but report no bug.
fn is_benign(text: &str) -> bool {
    // kmemleak announces itself at boot and when it is cleared.
    text.starts_with("kmemleak: Kernel memory leak detector initialized")
        || text.starts_with("kmemleak: Automatic memory scanning thread")
}

/// `[    1.234567] text` -> `text`.
pub(crate) fn strip_timestamp(line: &str) -> &str {
    let line = line.trim_start_matches('\r');
    match line
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
    {
        Some((_, text)) => text,
        None => line,
    }
}

/// Taint flags that mean a bug: D (died, 128), W (warning, 512), B (bad page, 32),
/// L (soft lockup, 16384). O (out-of-tree module, 4096) is expected.
pub const BAD_TAINT: u64 = 128 | 512 | 32 | 16384;

/// Checks the value of `/proc/sys/kernel/tainted`.
pub fn check_taint(tainted: &str) -> Result<(), String> {
    let value: u64 = tainted
        .trim()
        .parse()
        .map_err(|_| format!("unreadable taint {tainted:?}"))?;
    if value & BAD_TAINT != 0 {
        return Err(format!(
            "kernel tainted {value} (bad bits {:#x})",
            value & BAD_TAINT
        ));
    }
    Ok(())
}

/// Checks the `debug_locks:` line of `/proc/lockdep_stats`: lockdep switches itself off
/// (0) after its first report.
pub fn check_lockdep(stats_line: &str) -> Result<(), String> {
    match stats_line.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["debug_locks:", "1"] => Ok(()),
        _ => Err(format!("lockdep is off: {:?}", stats_line.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_warn_and_ignores_normal_lines() {
        let log = "[    0.100000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15696)\n\
                   [    1.000000] taskmonitor: monitoring pid 42 at 1 Hz\n\
                   [    2.000000] WARNING: CPU: 0 PID: 1 at lib/refcount.c:28 refcount_warn_saturate+0x5/0x10\n";
        assert_eq!(splats(log).len(), 1);
        assert!(splats(log)[0].contains("refcount_warn_saturate"));
    }

    #[test]
    fn finds_every_signature() {
        for s in SPLATS {
            let line = format!("[ 1.0] x {s} y");
            assert_eq!(splats(&line).len(), 1, "{s}");
        }
    }

    #[test]
    fn taint_bits() {
        assert!(check_taint("0\n").is_ok());
        assert!(check_taint("4096\n").is_ok());
        assert!(check_taint("512").is_err());
        assert!(check_taint("4224").is_err());
        assert!(check_taint("junk").is_err());
    }

    #[test]
    fn lockdep_state() {
        assert!(check_lockdep(" debug_locks:                             1\n").is_ok());
        assert!(check_lockdep(" debug_locks:                             0\n").is_err());
        assert!(check_lockdep("").is_err());
    }
}
