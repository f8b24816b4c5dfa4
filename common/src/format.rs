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
    /// Formats the line on the stack and writes it with one `write_str`: in a seq_file's
    /// `show`, that is one `seq_write()` per line, where `writeln!` with six integers
    /// made thirteen.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = LineBuf::new();
        self.write_to(&mut buf)?;
        f.write_str(buf.as_str()?)
    }
}

impl Line {
    /// Appends the line to `buf`: what `writeln!` with `"pid {} usr {} sys {} total {}
    /// stack {} data {}"` would write, byte for byte.
    fn write_to(&self, buf: &mut LineBuf) -> fmt::Result {
        let s = self.stats;
        buf.push_str("pid ")?;
        buf.push_i32(self.pid)?;
        buf.push_str(" usr ")?;
        buf.push_u64(s.utime)?;
        buf.push_str(" sys ")?;
        buf.push_u64(s.stime)?;
        buf.push_str(" total ")?;
        buf.push_u64(s.total_kb)?;
        buf.push_str(" stack ")?;
        buf.push_u64(s.stack_kb)?;
        buf.push_str(" data ")?;
        buf.push_u64(s.data_kb)?;
        buf.push_str("\n")
    }
}

/// The longest line [`Line`] can produce, in bytes, newline included, with room to spare.
///
/// The longest is 146 bytes: 35 of labels, spaces and newline, 11 for the pid
/// (`-2147483648`) and 20 for each of the five fields (`u64::MAX` is
/// `18446744073709551615`); a test checks it. The C reference formats into a buffer of
/// the same size.
pub const MAX_LINE: usize = 160;

/// The most digits a `u64` has.
const U64_DIGITS: usize = 20;

/// `b"00"` to `b"99"`, two bytes each: `DIGIT_PAIRS[2 * n..2 * n + 2]` are the two digits
/// of `n`, so that a number is converted two digits per division instead of one.
const DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0; 200];
    let mut n = 0;
    while n < 100 {
        pairs[2 * n] = b'0' + (n / 10) as u8;
        pairs[2 * n + 1] = b'0' + (n % 10) as u8;
        n += 1;
    }
    pairs
};

/// A line formatted on the stack, so that formatting and filling a page never allocate.
///
/// # Invariants
///
/// `bytes[..len]` is UTF-8: only whole `&str`s and ASCII digits are appended.
struct LineBuf {
    bytes: [u8; MAX_LINE],
    len: usize,
}

impl LineBuf {
    const fn new() -> Self {
        Self {
            bytes: [0; MAX_LINE],
            len: 0,
        }
    }

    /// Appends `bytes`, or fails without appending anything if they do not fit.
    ///
    /// Private: callers append only what keeps the type invariant.
    fn push_bytes(&mut self, bytes: &[u8]) -> fmt::Result {
        let end = self.len + bytes.len();
        let dest = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        dest.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Appends `s`.
    fn push_str(&mut self, s: &str) -> fmt::Result {
        // INVARIANT: `s` is UTF-8.
        self.push_bytes(s.as_bytes())
    }

    /// Appends `n` in decimal, as `{}` prints it.
    fn push_u64(&mut self, mut n: u64) -> fmt::Result {
        // The digits are found from the last one, so they are written from the end of
        // `digits`, and `start` is where they begin.
        let mut digits = [0; U64_DIGITS];
        let mut start = U64_DIGITS;
        while n >= 100 {
            let pair = 2 * (n % 100) as usize;
            n /= 100;
            start -= 2;
            digits[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        }
        // One or two digits are left (the first ones; `0` is one digit).
        if n >= 10 {
            let pair = 2 * n as usize;
            start -= 2;
            digits[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        } else {
            start -= 1;
            digits[start] = b'0' + n as u8;
        }
        // INVARIANT: digits are ASCII.
        self.push_bytes(&digits[start..])
    }

    /// Appends `n` in decimal, as `{}` prints it: a `-` and the digits of its magnitude
    /// (`unsigned_abs` has no overflow at `i32::MIN`).
    fn push_i32(&mut self, n: i32) -> fmt::Result {
        if n < 0 {
            self.push_str("-")?;
        }
        self.push_u64(u64::from(n.unsigned_abs()))
    }

    /// The text appended so far.
    fn as_str(&self) -> Result<&str, fmt::Error> {
        // Never fails (type invariant), and would be an error, not a panic. The check
        // goes a word at a time over ASCII, which costs little next to the formatting
        // and keeps this file free of `unsafe`.
        core::str::from_utf8(&self.bytes[..self.len]).map_err(|_| fmt::Error)
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s)
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
        let mut buf = LineBuf::new();
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
    fn the_longest_line_is_146_bytes_and_fits_max_line() {
        // The longest pid (`-2147483648`, 11 bytes) and 20 digits for every field.
        let text = line(i32::MIN, WIDEST);
        assert_eq!(text, reference(i32::MIN, WIDEST));
        assert_eq!(text.len(), 146);
        assert!(text.len() <= MAX_LINE, "{} > {MAX_LINE}", text.len());
    }

    /// The line as it was formatted before `Line` had its own formatter, with `writeln!`
    /// and core's integer formatting: what every line must still be, byte for byte.
    fn reference(pid: i32, s: TaskStats) -> String {
        std::format!(
            "pid {} usr {} sys {} total {} stack {} data {}\n",
            pid,
            s.utime,
            s.stime,
            s.total_kb,
            s.stack_kb,
            s.data_kb
        )
    }

    /// Miri interprets every instruction, at about 30 ms a line here: it gets a few lines
    /// of each kind, the host many.
    const MIRI: bool = cfg!(miri);

    /// Where a decimal formatter can go wrong: 0 to 199 (one, two and three digits, and
    /// every digit pair; 0 to 11 under Miri), each power of ten and its neighbours, and
    /// the largest values.
    fn u64_edges() -> Vec<u64> {
        let mut edges: Vec<u64> = (0..if MIRI { 12 } else { 200 }).collect();
        let mut power = 1u64;
        while let Some(next) = power.checked_mul(10) {
            power = next;
            edges.extend([power - 1, power, power + 1]);
        }
        edges.extend([u64::MAX / 2, u64::MAX - 1, u64::MAX]);
        edges
    }

    /// The same for a pid, both signs, and `i32::MIN`, whose magnitude is no `i32`.
    fn i32_edges() -> Vec<i32> {
        let dense = if MIRI { 12 } else { 200 };
        let mut edges: Vec<i32> = (-dense..dense).collect();
        let mut power = 1i32;
        while let Some(next) = power.checked_mul(10) {
            power = next;
            edges.extend([power - 1, power, power + 1]);
            edges.extend([-power + 1, -power, -power - 1]);
        }
        edges.extend([i32::MAX - 1, i32::MAX, i32::MIN + 1, i32::MIN]);
        edges
    }

    #[test]
    fn every_field_formats_its_edge_values_as_writeln_did() {
        for (i, value) in u64_edges().into_iter().enumerate() {
            // The value in each field in turn (in all five off Miri), the others
            // different from it.
            for field in (0..5).filter(|field| !MIRI || i % 5 == *field) {
                let mut fields = [7, 0, u64::MAX, 42, 1000];
                fields[field] = value;
                let [utime, stime, total_kb, stack_kb, data_kb] = fields;
                let s = TaskStats {
                    utime,
                    stime,
                    total_kb,
                    stack_kb,
                    data_kb,
                };
                assert_eq!(line(-1, s), reference(-1, s));
            }
        }
    }

    #[test]
    fn the_pid_formats_its_edge_values_as_writeln_did() {
        for pid in i32_edges() {
            let samples = [stats(123_456_789), TaskStats::default(), WIDEST];
            let samples = if MIRI { &samples[..1] } else { &samples[..] };
            for &s in samples {
                assert_eq!(line(pid, s), reference(pid, s));
            }
        }
    }

    /// splitmix64: a fixed, well-mixed sequence, so a failure can be replayed.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// A value of 1 to 20 digits about equally often: a random number shifted right
        /// by a random amount (uniform values would nearly all have 19 or 20 digits).
        fn u64(&mut self) -> u64 {
            let shift = self.next() % 64;
            self.next() >> shift
        }

        /// The same for an `i32` of either sign.
        fn i32(&mut self) -> i32 {
            let shift = self.next() % 32;
            (self.next() as u32 as i32) >> shift
        }
    }

    #[test]
    fn pseudo_random_lines_format_as_writeln_did() {
        let count = if MIRI { 40 } else { 200_000 };
        let mut random = Random(0x7461_736b_6d6f_6e69);
        let mut expected = String::new();
        let mut lines = Vec::new();
        for _ in 0..count {
            let pid = random.i32();
            let s = TaskStats {
                utime: random.u64(),
                stime: random.u64(),
                total_kb: random.u64(),
                stack_kb: random.u64(),
                data_kb: random.u64(),
            };
            let want = reference(pid, s);
            assert_eq!(line(pid, s), want, "pid {pid}, {s:?}");
            expected.push_str(&want);
            lines.push(Line { pid, stats: s });
        }
        // `fill_page` writes the same bytes.
        let mut page = vec![0; expected.len()];
        assert_eq!(fill_page(&mut page, lines), expected.len());
        assert_eq!(page, expected.as_bytes());
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
