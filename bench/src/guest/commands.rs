// SPDX-License-Identifier: GPL-2.0

//! The guest tool's commands.

use crate::clock;
use crate::procfs::{meminfo_kb, parse_shrinker_count, parse_stat, parse_statm, ProcSample};
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Starts `n` processes that do nothing, and prints their PIDs, one per line.
///
/// They are cheaper than `sleep 1000 &` from the shell (no exec) and are left behind as
/// orphans; the scenario kills them.
pub fn spawn(n: u32) -> io::Result<()> {
    for _ in 0..n {
        // SAFETY: The child only calls async-signal-safe functions (`close`, `pause`).
        match unsafe { libc::fork() } {
            -1 => return Err(io::Error::last_os_error()),
            0 => {
                // Let go of the shell's pipe, or `$(bench-guest spawn N)` never ends.
                for fd in 0..3 {
                    // SAFETY: Closing a descriptor has no memory-safety requirement.
                    unsafe { libc::close(fd) };
                }
                loop {
                    // SAFETY: `pause` has no requirement.
                    unsafe { libc::pause() };
                }
            }
            // Rust's stdout flushes at each newline: a child inherits no pending output.
            pid => println!("{pid}"),
        }
    }
    Ok(())
}

/// The samples a module holds, from its shrinker's debugfs `count` file (`MEMCG COUNT`),
/// or the floor module's `/sys/kernel/taskmonitor_floor` (`samples N`): the second word.
fn shrinker_count(path: &str) -> io::Result<u64> {
    let text = fs::read_to_string(path)?;
    parse_shrinker_count(&text).ok_or_else(|| io::Error::other(format!("{path}: {text:?}")))
}

/// The CPU time process `pid` (the module's thread) uses over `seconds`, and how many
/// samples the history gained meanwhile. The two reads at each end are microseconds
/// apart, so both figures cover the same window.
pub fn window(seconds: u64, pid: i32, count_file: &str) -> io::Result<()> {
    let (cpu0, count0, wall0) = (
        clock::process_ns(pid)?,
        shrinker_count(count_file)?,
        Instant::now(),
    );
    sleep(Duration::from_secs(seconds));
    let (cpu1, count1, wall) = (
        clock::process_ns(pid)?,
        shrinker_count(count_file)?,
        wall0.elapsed(),
    );
    println!(
        "cpu_ns {} samples {} wall_ns {}",
        cpu1 - cpu0,
        count1.saturating_sub(count0),
        wall.as_nanos()
    );
    Ok(())
}

/// How the sampler reads a process's two `/proc` files.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// Opened once and read again from offset 0 each time (seq_file regenerates the
    /// text): the cheapest way userspace can sample.
    Kept,
    /// Opened, read and closed each time, as `ps` and `top` do.
    Reopened,
}

/// One monitored process.
struct Watched {
    stat: String,
    statm: String,
    kept: Option<(File, File)>,
}

impl Watched {
    fn new(pid: i32, reads: Reads) -> io::Result<Self> {
        let (stat, statm) = (format!("/proc/{pid}/stat"), format!("/proc/{pid}/statm"));
        let kept = match reads {
            Reads::Kept => Some((File::open(&stat)?, File::open(&statm)?)),
            Reads::Reopened => None,
        };
        Ok(Self { stat, statm, kept })
    }

    fn sample(&self, buf: &mut [u8]) -> io::Result<ProcSample> {
        let bad = || io::Error::other("unexpected /proc format");
        let stat = match &self.kept {
            Some((stat, _)) => read_at_start(stat, buf)?,
            None => read_at_start(&File::open(&self.stat)?, buf)?,
        };
        let (utime, stime) = parse_stat(stat).ok_or_else(bad)?;
        let statm = match &self.kept {
            Some((_, statm)) => read_at_start(statm, buf)?,
            None => read_at_start(&File::open(&self.statm)?, buf)?,
        };
        let (total, data) = parse_statm(statm).ok_or_else(bad)?;
        Ok(ProcSample {
            utime,
            stime,
            total,
            data,
        })
    }
}

/// The text of a small file, read with one `pread` at offset 0.
fn read_at_start<'a>(file: &File, buf: &'a mut [u8]) -> io::Result<&'a str> {
    let n = file.read_at(buf, 0)?;
    std::str::from_utf8(&buf[..n]).map_err(|_| io::Error::other("not UTF-8"))
}

/// The userspace counterpart of the module: `ticks` times, samples every PID and keeps
/// the samples in memory, then sleeps one period, as the module's thread does. Prints
/// its own CPU time over the loop.
pub fn sample(hz: u64, ticks: u64, reads: Reads, pids: &[i32]) -> io::Result<()> {
    raise_file_limit(2 * pids.len() as u64 + 16)?;
    let watched = pids
        .iter()
        .map(|&pid| Watched::new(pid, reads))
        .collect::<io::Result<Vec<_>>>()?;
    let period = Duration::from_nanos(1_000_000_000 / hz.max(1));
    let mut history = Vec::with_capacity(ticks as usize * pids.len());
    let mut buf = [0u8; 1024];
    let (cpu0, wall0) = (clock::own_ns()?, Instant::now());
    for _ in 0..ticks {
        for w in &watched {
            history.push(w.sample(&mut buf)?);
        }
        sleep(period);
    }
    let (cpu, wall) = (clock::own_ns()? - cpu0, wall0.elapsed());
    println!(
        "ticks {ticks} samples {} cpu_ns {cpu} wall_ns {}",
        history.len(),
        wall.as_nanos()
    );
    Ok(())
}

/// Two files per PID may exceed the default limit of 1024 descriptors.
fn raise_file_limit(needed: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: needed.max(1024),
        rlim_max: needed.max(4096),
    };
    // SAFETY: `limit` is a valid `rlimit`.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads each file whole, `times` times in a row, with `read()` calls of `size` bytes, in
/// `rounds` rounds that alternate between the files (so that a drift of the emulator's
/// speed hits all of them alike). Prints each file's size, the `read()` calls that
/// returned data in one whole read (a seq_file returns at most its buffer per call), and
/// the total CPU time.
pub fn read(times: u32, rounds: u32, size: usize, files: &[&str]) -> io::Result<()> {
    let mut buf = vec![0u8; size];
    let mut totals = vec![(0u64, 0u64, 0u64); files.len()];
    for _ in 0..rounds {
        for (path, (bytes, calls, cpu)) in files.iter().zip(&mut totals) {
            let cpu0 = clock::own_ns()?;
            for _ in 0..times {
                let mut file = File::open(path)?;
                (*bytes, *calls) = (0, 0);
                loop {
                    match file.read(&mut buf)? {
                        0 => break,
                        n => {
                            *bytes += n as u64;
                            *calls += 1;
                        }
                    }
                }
            }
            *cpu += clock::own_ns()? - cpu0;
        }
    }
    for (path, (bytes, calls, cpu)) in files.iter().zip(totals) {
        println!(
            "file {path} size {size} bytes {bytes} calls {calls} reads {} cpu_ns {cpu}",
            u64::from(times) * u64::from(rounds)
        );
    }
    Ok(())
}

/// Polls `count_file` every 100 µs until it differs from `from`, and returns it.
fn next_count(count_file: &str, from: u64) -> io::Result<u64> {
    loop {
        let count = shrinker_count(count_file)?;
        if count != from {
            return Ok(count);
        }
        sleep(Duration::from_micros(100));
    }
}

/// The CPU time process `pid` (a sampling thread) uses over `periods` whole periods, each
/// a pass over `pids` processes, for frequencies low enough that a pass ends long before
/// the next one starts (1 Hz): the window opens when a pass has added its `pids` samples
/// and closes when `periods` more passes have, so it holds whole passes only, each with
/// its wake-up. Prints the same line as `window`.
pub fn periods(periods: u64, pid: i32, count_file: &str, pids: u64) -> io::Result<()> {
    // The end of a pass: the count has grown by `pids` since it first moved.
    let pass_end = |from: u64| -> io::Result<u64> {
        let mut count = next_count(count_file, from)?;
        // The first change may already be the whole pass (a module that adds a period's
        // samples at once); else wait for the rest.
        while count < from + pids {
            count = next_count(count_file, count)?;
        }
        Ok(count)
    };
    let count = shrinker_count(count_file)?;
    let count0 = pass_end(count)?;
    let (cpu0, wall0) = (clock::process_ns(pid)?, Instant::now());
    let mut count1 = count0;
    for _ in 0..periods {
        count1 = pass_end(count1)?;
    }
    let (cpu1, wall) = (clock::process_ns(pid)?, wall0.elapsed());
    println!(
        "cpu_ns {} samples {} wall_ns {}",
        cpu1 - cpu0,
        count1 - count0,
        wall.as_nanos()
    );
    Ok(())
}

/// The PID of the process called `comm` (a kernel thread such as `kswapd0`).
fn find_pid(comm: &str) -> io::Result<i32> {
    for entry in fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        // A process may exit meanwhile: skip what cannot be read.
        if fs::read_to_string(entry.path().join("comm")).is_ok_and(|c| c.trim_end() == comm) {
            return Ok(pid);
        }
    }
    Err(io::Error::other(format!("no process {comm}")))
}

/// The CPU time the process called `comm` has used so far.
pub fn cputime(comm: &str) -> io::Result<()> {
    let pid = find_pid(comm)?;
    println!("pid {pid} cpu_ns {}", clock::process_ns(pid)?);
    Ok(())
}

/// Every `ms` milliseconds for `seconds`: the time, the module's sample count, the free
/// memory and tmpfs (shmem) use from `/proc/meminfo`, and the CPU time of kswapd, which
/// starts running when memory falls below a zone's low watermark. (Our kernel has no
/// `/proc/vmstat` event counters nor PSI to tell when reclaim starts.)
pub fn trace(ms: u64, seconds: u64, count_file: &str) -> io::Result<()> {
    let kswapd = find_pid("kswapd0")?;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(seconds) {
        let meminfo = fs::read_to_string("/proc/meminfo")?;
        let field = |name| meminfo_kb(&meminfo, name).unwrap_or(0);
        println!(
            "t_ms {} count {} free_kb {} shmem_kb {} kswapd_ns {}",
            start.elapsed().as_millis(),
            shrinker_count(count_file)?,
            field("MemFree"),
            field("Shmem"),
            clock::process_ns(kswapd)?,
        );
        sleep(Duration::from_millis(ms));
    }
    Ok(())
}
