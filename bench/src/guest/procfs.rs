// SPDX-License-Identifier: GPL-2.0

//! Parsing what the guest tool reads from `/proc` and debugfs. Pure functions, so the host
//! tests them.

/// What the module records of a process, as userspace reads it: CPU times from
/// `/proc/PID/stat` (clock ticks), mapped and data memory from `/proc/PID/statm` (pages).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcSample {
    pub utime: u64,
    pub stime: u64,
    pub total: u64,
    pub data: u64,
}

/// `utime` and `stime` of a `/proc/PID/stat` line: fields 14 and 15, counted after the
/// command name, which is in parentheses and may itself hold spaces and parentheses.
pub fn parse_stat(text: &str) -> Option<(u64, u64)> {
    let (_, rest) = text.rsplit_once(')')?;
    // `rest` starts at field 3, the state.
    let mut fields = rest.split_whitespace().skip(11);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// `size` and `data` of a `/proc/PID/statm` line: fields 1 and 6.
pub fn parse_statm(text: &str) -> Option<(u64, u64)> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    Some((fields.first()?.parse().ok()?, fields.get(5)?.parse().ok()?))
}

/// The object count in a shrinker's debugfs `count` file: `MEMCG COUNT`, or nothing at
/// all when the count is zero.
pub fn parse_shrinker_count(text: &str) -> Option<u64> {
    match text.split_whitespace().nth(1) {
        Some(count) => count.parse().ok(),
        None => text.trim().is_empty().then_some(0),
    }
}

/// A field of `/proc/meminfo`, in KiB.
pub fn meminfo_kb(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_a_tricky_command_name() {
        let stat = "42 (a) b (c) S 1 42 42 0 -1 4194560 96 0 0 0 17 5 0 0 20 0 1 0 \
                    300 2314240 50 18446744073709551615";
        assert_eq!(parse_stat(stat), Some((17, 5)));
        assert_eq!(parse_stat("42 (sh) S 1"), None);
    }

    #[test]
    fn statm_size_and_data() {
        assert_eq!(parse_statm("565 50 30 100 0 44 0\n"), Some((565, 44)));
        assert_eq!(parse_statm("565 50\n"), None);
    }

    #[test]
    fn shrinker_count_empty_means_zero() {
        assert_eq!(parse_shrinker_count("0 12345\n"), Some(12345));
        assert_eq!(parse_shrinker_count(""), Some(0));
        assert_eq!(parse_shrinker_count("garbage"), None);
    }

    #[test]
    fn meminfo_fields() {
        let text = "MemTotal:         116756 kB\nMemFree:           80000 kB\nShmem: 12 kB\n";
        assert_eq!(meminfo_kb(text, "MemFree"), Some(80000));
        assert_eq!(meminfo_kb(text, "Shmem"), Some(12));
        assert_eq!(meminfo_kb(text, "Mem"), None);
    }
}
