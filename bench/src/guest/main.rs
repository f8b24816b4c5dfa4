// SPDX-License-Identifier: GPL-2.0

//! `bench-guest`: the measuring tool that runs inside the VM.
//!
//! It is linked statically (`make bench` builds it with `+crt-static`), so the busybox
//! initramfs needs nothing but the file itself. Every command prints `key value` pairs,
//! one measurement per line, for the host to parse.
//!
//! CPU time is always the scheduler's run time of a whole process, in nanoseconds
//! (`clock_gettime` on the process's CPU-time clock): the same clock for the module's
//! kernel thread, the userspace sampler and the readers, so their ratios compare like with
//! like even though TCG makes the absolute values meaningless.

mod clock;
mod commands;
mod procfs;

use commands::Reads;
use std::process::ExitCode;

const USAGE: &str = "usage:
  bench-guest spawn N                        start N idle processes, print their PIDs
  bench-guest window SECONDS PID COUNT_FILE  CPU time of PID and samples added over SECONDS
  bench-guest sample HZ TICKS [--reopen] PID...  sample PIDs from /proc, as the module does
  bench-guest read TIMES ROUNDS [--size BYTES] FILE...  CPU time of reading each FILE whole
  bench-guest periods N PID COUNT_FILE PIDS  CPU time of PID over N whole passes over PIDS
  bench-guest cputime COMM                   CPU time of the process called COMM
  bench-guest trace MS SECONDS COUNT_FILE    the sample count and free memory every MS ms";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["spawn", n] => number(n).and_then(commands::spawn),
        ["window", seconds, pid, count] => {
            number(seconds).and_then(|s| commands::window(s, number(pid)?, count))
        }
        ["sample", hz, ticks, rest @ ..] => {
            let (reads, pids) = match rest {
                ["--reopen", pids @ ..] => (Reads::Reopened, pids),
                pids => (Reads::Kept, pids),
            };
            let pids = pids
                .iter()
                .map(|p| number(p))
                .collect::<Result<Vec<_>, _>>();
            number(hz).and_then(|hz| commands::sample(hz, number(ticks)?, reads, &pids?))
        }
        ["read", times, rounds, "--size", size, files @ ..] if !files.is_empty() => {
            number(times).and_then(|t| commands::read(t, number(rounds)?, number(size)?, files))
        }
        ["read", times, rounds, files @ ..] if !files.is_empty() => {
            number(times).and_then(|t| commands::read(t, number(rounds)?, 64 * 1024, files))
        }
        ["periods", n, pid, count, pids] => {
            number(n).and_then(|n| commands::periods(n, number(pid)?, count, number(pids)?))
        }
        ["cputime", comm] => commands::cputime(comm),
        ["trace", ms, seconds, count] => {
            number(ms).and_then(|ms| commands::trace(ms, number(seconds)?, count))
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-guest: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A command-line number.
fn number<T: std::str::FromStr>(arg: &str) -> std::io::Result<T> {
    arg.parse()
        .map_err(|_| std::io::Error::other(format!("not a number: {arg}")))
}
