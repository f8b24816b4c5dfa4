// SPDX-License-Identifier: GPL-2.0

//! Reading what the module printed: sample lines, and transcripts for snapshots.

use crate::Run;

/// One parsed line of `/sys/kernel/taskmonitor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleLine {
    pub pid: i32,
    pub utime: u64,
    pub stime: u64,
    pub total_kb: u64,
    pub stack_kb: u64,
    pub data_kb: u64,
}

/// Parses `pid P usr U sys S total T stack K data D` (no newline).
pub fn parse_line(line: &str) -> Result<SampleLine, String> {
    let words: Vec<&str> = line.split(' ').collect();
    let bad = || format!("malformed sample line {line:?}");
    let ["pid", pid, "usr", utime, "sys", stime, "total", total, "stack", stack, "data", data] =
        words.as_slice()
    else {
        return Err(bad());
    };
    let n = |s: &str| s.parse::<u64>().map_err(|_| bad());
    Ok(SampleLine {
        pid: pid.parse().map_err(|_| bad())?,
        utime: n(utime)?,
        stime: n(stime)?,
        total_kb: n(total)?,
        stack_kb: n(stack)?,
        data_kb: n(data)?,
    })
}

/// Parses a whole history: every line must be a complete sample line.
pub fn parse_history(text: &str) -> Result<Vec<SampleLine>, String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(format!("history ends with a cut line: {text:?}"));
    }
    text.lines().map(parse_line).collect()
}

/// Checks that CPU times never decrease from an older sample to a newer one, for
/// `samples` listed newest first.
pub fn check_newest_first(samples: &[SampleLine]) -> Result<(), String> {
    for pair in samples.windows(2) {
        let (newer, older) = (pair[0], pair[1]);
        if newer.pid == older.pid && (newer.utime < older.utime || newer.stime < older.stime) {
            return Err(format!("times decrease from {older:?} to {newer:?}"));
        }
    }
    Ok(())
}

/// The seconds of a `[    1.234567] ...` kernel log line.
pub fn log_time(line: &str) -> Option<f64> {
    let rest = line.trim_start().strip_prefix('[')?;
    rest.split_once(']')?.0.trim().parse().ok()
}

/// A run as a terminal transcript: each command, its exit status if not 0, its output.
pub fn transcript(run: &Run) -> String {
    let mut out = String::new();
    for step in &run.steps {
        out.push_str(&format!("$ {}\n", step.command));
        out.push_str(&step.output);
        if step.status != 0 {
            out.push_str(&format!("[exit {}]\n", step.status));
        }
    }
    out
}

/// insta filters that replace the numbers that change from run to run by placeholders,
/// then fold runs of sample lines into the first one and `...`.
pub const SNAPSHOT_FILTERS: &[(&str, &str)] = &[
    (r"\[\s*\d+\.\d+\] ", "[TIME] "),
    (r"\bpid \d+", "pid [PID]"),
    (r"usr \d+ sys \d+", "usr [NS] sys [NS]"),
    (
        r"total \d+ stack \d+ data \d+",
        "total [KB] stack [KB] data [KB]",
    ),
    (r"(Vm\w+:\s+)\d+ kB", "${1}[KB] kB"),
    (r"freeing \d+ samples", "freeing [N] samples"),
    (r"taskmonitor-\d+", "taskmonitor-[ID]"),
    (r"\bcount \d+", "count [N]"),
    (
        r"(?m)^(pid \[PID\] usr \[NS\] sys \[NS\] total \[KB\] stack \[KB\] data \[KB\]\n)(?:pid \[PID\] usr \[NS\] sys \[NS\] total \[KB\] stack \[KB\] data \[KB\]\n)+",
        "${1}...\n",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_module_formats() {
        let stats = taskmonitor_common::format::TaskStats {
            utime: 1,
            stime: u64::MAX,
            total_kb: 3,
            stack_kb: 4,
            data_kb: 5,
        };
        let text = format!("{}", taskmonitor_common::format::Line { pid: 9, stats });
        let parsed = parse_history(&text).unwrap();
        assert_eq!(
            parsed,
            [SampleLine {
                pid: 9,
                utime: 1,
                stime: u64::MAX,
                total_kb: 3,
                stack_kb: 4,
                data_kb: 5
            }]
        );
    }

    #[test]
    fn rejects_cut_and_malformed_lines() {
        assert!(parse_history("pid 1 usr 1 sys 1 total 1 stack 1 data 1").is_err());
        assert!(parse_history("pid 1 usr 1 sys 1 total 1 stack 1\n").is_err());
        assert!(parse_history("pid 1 usr x sys 1 total 1 stack 1 data 1\n").is_err());
        assert_eq!(parse_history("").unwrap(), []);
    }

    #[test]
    fn order_check() {
        let s = |u, s| SampleLine {
            pid: 1,
            utime: u,
            stime: s,
            total_kb: 0,
            stack_kb: 0,
            data_kb: 0,
        };
        assert!(check_newest_first(&[s(3, 3), s(2, 3), s(1, 1)]).is_ok());
        assert!(check_newest_first(&[s(1, 1), s(2, 1)]).is_err());
        assert!(check_newest_first(&[s(2, 1), s(2, 2)]).is_err());
    }

    #[test]
    fn kernel_log_time() {
        assert_eq!(log_time("[    4.347404] taskmonitor: x"), Some(4.347404));
        assert_eq!(log_time("no time"), None);
    }
}
