// SPDX-License-Identifier: GPL-2.0

//! The text the module exports: one line per sample, and pages of whole lines.

use core::fmt::{self, Display, Write};

/// What `get_sample()` measures of a task at one point in time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskStats {
    /// User CPU time in nanoseconds of the target's main thread, as
    /// `/proc/PID/task/PID/stat` accounts it (`/proc/PID/stat` for a single thread).
    pub utime: u64,
    /// System CPU time in nanoseconds, accounted as `utime` is.
    pub stime: u64,
    /// All mapped memory in KiB (`VmSize` in `/proc/PID/status`).
    pub total_kb: u64,
    /// Mapped stack in KiB (`VmStk`).
    pub stack_kb: u64,
    /// Mapped data in KiB (`VmData`).
    pub data_kb: u64,
}

/// One output line, in the lab's format followed by the memory fields:
/// `pid 131 usr 595727581840 sys 463141635510 total 2424 stack 132 data 208`.
#[derive(Clone, Copy, Debug)]
pub struct Line {
    /// The monitored process.
    pub pid: i32,
    /// Its sample.
    pub stats: TaskStats,
}

impl Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.stats;
        writeln!(
            f,
            "pid {} usr {} sys {} total {} stack {} data {}",
            self.pid, s.utime, s.stime, s.total_kb, s.stack_kb, s.data_kb
        )
    }
}

/// The longest line [`Line`] can produce, in bytes, newline included.
pub const MAX_LINE: usize = 160;

/// A line formatted on the stack, so that filling a page never allocates.
struct LineBuf {
    bytes: [u8; MAX_LINE],
    len: usize,
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let dest = self
            .bytes
            .get_mut(self.len..self.len + s.len())
            .ok_or(fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len += s.len();
        Ok(())
    }
}

// ANCHOR: fill_page
/// Writes whole lines into `page`, in the order given, until the next one does not fit.
///
/// Returns the number of bytes written. A line is never cut: the output ends with the
/// last line that fits entirely. A line longer than [`MAX_LINE`] ends the output too.
pub fn fill_page<L: Display>(page: &mut [u8], lines: impl IntoIterator<Item = L>) -> usize {
    let mut used = 0;
    for line in lines {
        let mut buf = LineBuf {
            bytes: [0; MAX_LINE],
            len: 0,
        };
        if write!(buf, "{line}").is_err() {
            break;
        }
        let Some(dest) = page.get_mut(used..used + buf.len) else {
            break;
        };
        dest.copy_from_slice(&buf.bytes[..buf.len]);
        used += buf.len;
    }
    used
}
// ANCHOR_END: fill_page

#[cfg(test)]
mod tests {
    use super::*;
    use std::{string::String, vec, vec::Vec};

    const PAGE_SIZE: usize = 4096;

    fn stats(n: u64) -> TaskStats {
        TaskStats {
            utime: n,
            stime: 2 * n,
            total_kb: 3 * n,
            stack_kb: 4 * n,
            data_kb: 5 * n,
        }
    }

    const WIDEST: TaskStats = TaskStats {
        utime: u64::MAX,
        stime: u64::MAX,
        total_kb: u64::MAX,
        stack_kb: u64::MAX,
        data_kb: u64::MAX,
    };

    fn line(pid: i32, stats: TaskStats) -> String {
        std::format!("{}", Line { pid, stats })
    }

    fn fill(page_len: usize, pid: i32, samples: &[TaskStats]) -> String {
        let mut page = vec![0xAA; page_len];
        let used = fill_page(&mut page, samples.iter().map(|s| Line { pid, stats: *s }));
        assert!(
            page[used..].iter().all(|&b| b == 0xAA),
            "wrote past the end"
        );
        String::from_utf8(page[..used].to_vec()).unwrap()
    }

    #[test]
    fn line_has_the_lab_format_then_memory() {
        let s = TaskStats {
            utime: 595727581840,
            stime: 463141635510,
            total_kb: 2424,
            stack_kb: 132,
            data_kb: 208,
        };
        let text = line(131, s);
        assert_eq!(
            text,
            "pid 131 usr 595727581840 sys 463141635510 total 2424 stack 132 data 208\n"
        );
    }

    #[test]
    fn widest_line_fits_max_line() {
        let text = line(i32::MIN, WIDEST);
        assert!(text.len() <= MAX_LINE, "{} > {MAX_LINE}", text.len());
    }

    #[test]
    fn no_samples_give_empty_output() {
        assert_eq!(fill(PAGE_SIZE - 1, 1, &[]), "");
    }

    #[test]
    fn one_sample_gives_one_line() {
        assert_eq!(
            fill(PAGE_SIZE - 1, 7, &[stats(1)]),
            "pid 7 usr 1 sys 2 total 3 stack 4 data 5\n"
        );
    }

    #[test]
    fn many_samples_keep_order_and_stop_at_the_last_whole_line() {
        let samples: Vec<_> = (0..10_000).map(stats).collect();
        let text = fill(PAGE_SIZE - 1, 42, &samples);
        assert!(text.len() < PAGE_SIZE);
        assert!(text.ends_with('\n'));
        let lines: Vec<_> = text.lines().collect();
        for (i, text) in lines.iter().enumerate() {
            assert_eq!(line(42, stats(i as u64)), std::format!("{text}\n"));
        }
        // The next line would not have fitted.
        let next = line(42, stats(lines.len() as u64));
        assert!(text.len() + next.len() > PAGE_SIZE - 1);
    }

    #[test]
    fn widest_lines_fill_a_page_with_whole_lines_only() {
        let samples = vec![WIDEST; 1000];
        let text = fill(PAGE_SIZE - 1, i32::MAX, &samples);
        let width = line(i32::MAX, WIDEST).len();
        assert_eq!(text.len(), (PAGE_SIZE - 1) / width * width);
    }

    #[test]
    fn a_line_that_exactly_fits_is_kept() {
        let width = line(1, stats(9)).len();
        assert_eq!(fill(3 * width, 1, &[stats(9); 5]).len(), 3 * width);
        assert_eq!(fill(3 * width - 1, 1, &[stats(9); 5]).len(), 2 * width);
    }

    #[test]
    fn a_zero_sized_page_gets_nothing() {
        assert_eq!(fill(0, 1, &[stats(1)]), "");
    }
}
