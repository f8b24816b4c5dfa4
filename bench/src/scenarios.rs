// SPDX-License-Identifier: GPL-2.0

//! The VM scenarios that measure, as shell steps for the runner.
//!
//! Every step prints `name value` pairs that [`crate::measure`] parses. Three kinds of
//! VM:
//!
//! - `memory-N`, one per stage 1 to 6: 50,000 samples of one process at the highest
//!   frequency, then the slab cache's files. One process at 1000 Hz takes 50 s, so these
//!   VMs run side by side; they only count bytes and objects, which the host's load does
//!   not change.
//! - `stage7`: the history filled from 100 processes (seconds), its memory, the export
//!   at several history sizes, and the sampling cost against the userspace sampler. Alone,
//!   since it measures CPU time.
//! - `shrinker`: stage 2 in a 128 MiB VM while a tmpfs fills and empties. Alone, since it
//!   measures reaction times.
//! - `rate`: every stage's module in one VM, each loaded in turn at 1000, 100 and 10 Hz:
//!   the samples a second it takes. Alone, since a VM starved by its host misses
//!   deadlines.

use crate::profile::Profile;
use crate::raw::{module_log, Record};
use runner::Scenario;
use std::path::Path;
use std::time::Duration;

/// Shell set-up of every scenario: helpers for the steps.
pub(crate) const SETUP: &str = r#"F=/sys/kernel/debug/taskmonitor
# The first field of a slab cache's sysfs file.
slab() { cut -d' ' -f1 /sys/kernel/slab/$1/$2; }
# A cache's layout and use, one `name value` per line.
cache() {
  for f in object_size slab_size align objs_per_slab order objects slabs total_objects; do
    echo "$f $(slab $1 $f)"
  done
}
# The module's sample count: the second word of $COUNT_FILE, its shrinker's `count` (an
# empty file means none) or the floor's `samples N`.
count() { c=$(cut -d' ' -f2 $COUNT_FILE); echo ${c:-0}; }
# The shrinker's debugfs folder, and its count file.
shrinker() { S=$(ls -d /sys/kernel/debug/shrinker/taskmonitor-*); COUNT_FILE=$S/count; }
# The VM's monotonic clock, in seconds (centisecond resolution).
up() { cut -d' ' -f1 /proc/uptime; }
# Waits until the module takes a sample (its count changes).
next_sample() { c=$(count); while [ $(count) -eq $c ]; do :; done; }
echo ready"#;

/// The memory of stage `stage` with `profile.memory_samples` samples of one idle process.
pub fn memory(profile: &Profile, stage: u32) -> Scenario {
    let samples = profile.memory_samples;
    // Stage 1 has no shrinker to count with: its samples are the growth of kmalloc-64.
    let (wait_for, init) = if stage == 1 {
        ("$(( $(slab kmalloc-64 objects) - B ))", "")
    } else {
        ("$(count)", "shrinker; ")
    };
    let mut scenario = Scenario::new(&format!("bench-memory-{stage}"))
        .stage(stage)
        .timeout(Duration::from_secs(900))
        .step("setup", SETUP)
        // An idle target: sampling it costs the same, and the emulator stays quiet.
        .step("target", "sleep 100000 & PID=$!; echo started")
        .step("before", "cache kmalloc-64")
        .step("kswapd-before", "bench-guest cputime kswapd0")
        .step(
            "insmod",
            &format!(
                "B=$(slab kmalloc-64 objects); \
                 insmod taskmonitor.ko target=$PID frequency={}; {init}echo loaded",
                profile.frequency
            ),
        )
        .step(
            "fill",
            &format!(
                "T0=$(cut -d' ' -f1 /proc/uptime); \
                 while [ {wait_for} -lt {samples} ]; do sleep 1; done; \
                 echo start $T0 end $(cut -d' ' -f1 /proc/uptime)"
            ),
        )
        // The target's exit ends the sampling: the history stays as it is.
        .step("stop", "kill $PID; wait $PID; usleep 100000; echo stopped")
        .step("kmalloc", "cache kmalloc-64");
    if stage >= 3 {
        scenario = scenario.step("cache", "cache task_sample");
    }
    if stage >= 2 {
        scenario = scenario.step("count", "echo samples $(count)");
    }
    // Reclaim must not have shrunk the history: kswapd has not run since the start.
    scenario = scenario.step("kswapd", "bench-guest cputime kswapd0");
    if stage == 1 {
        // One page of the newest samples, against the same bytes in a tmpfs file.
        scenario = scenario.step(
            "sysfs",
            &format!(
                "cat /sys/kernel/taskmonitor > /tmp/page; \
                 bench-guest read {} {} /sys/kernel/taskmonitor /tmp/page",
                profile.sysfs_reads, profile.repeats
            ),
        );
    }
    scenario
        .step("rmmod", "rmmod taskmonitor")
        .step("released", "cache kmalloc-64")
}

/// Stage 7: the history's memory, its export, and the sampling cost.
pub fn stage7(profile: &Profile) -> Scenario {
    let (samples, monitored) = (profile.samples, profile.monitored);
    let mut scenario = Scenario::new("bench-stage7")
        .stage(7)
        // A thousand processes and the kmemleak records of a large history.
        .memory_mb(1024)
        .timeout(Duration::from_secs(900))
        .step("setup", SETUP)
        .step(
            "spawn",
            &format!(
                "P=$(bench-guest spawn {} | tr '\\n' ' '); \
                 first() {{ echo $P | cut -d' ' -f1-$1; }}; echo spawned $(echo $P | wc -w)",
                profile.processes()
            ),
        )
        .step("kswapd-before", "bench-guest cputime kswapd0")
        .step("insmod", &format!("{}; echo thread $T", insmod7(profile)))
        .step(
            "fill",
            &format!(
                "for p in $(first {monitored}); do echo $p > $F; done; \
                 while [ $(count) -lt {samples} ]; do usleep 200000; done; \
                 for p in $(first {monitored}); do echo -$p > $F; done; echo filled"
            ),
        )
        .step("cache", "cache task_sample")
        .step("count", "echo samples $(count)")
        .step("kswapd", "bench-guest cputime kswapd0");

    // The export at `samples`, then at half as many, and so on: the shrinker's debugfs
    // `scan` frees exactly the oldest samples beyond the size.
    for i in 0..profile.export_sizes {
        let size = samples >> i;
        scenario = scenario.step(
            &format!("export-{size}"),
            &format!(
                "echo \"0 0 $(( $(count) - {size} ))\" > $S/scan; echo samples $(count); \
                 cat $F > /tmp/copy; bench-guest read 1 {} $F /tmp/copy; rm /tmp/copy",
                profile.repeats
            ),
        );
    }
    scenario = scenario.step("rmmod", "rmmod taskmonitor");

    // For each number of processes, the module's thread, then the userspace sampler on
    // the same processes right after (so that a change in the emulator's speed over the
    // run hits both alike). The module is loaded only for its own windows, and its
    // history is emptied before each one, so that it never grows near memory pressure.
    for &pids in &profile.pid_counts {
        let window = format!(
            "echo \"0 0 $(count)\" > $S/scan; bench-guest window {} $T $S/count",
            profile.window_seconds(pids)
        );
        scenario = scenario.step(
            &format!("module-{pids}"),
            &format!(
                "{}; for p in $(first {pids}); do echo $p > $F; done; usleep 500000; \
                 for r in $(seq {}); do {window}; done; rmmod taskmonitor",
                insmod7(profile),
                profile.repeats
            ),
        );
        for (name, flag) in [("sampler", ""), ("reopen", "--reopen ")] {
            scenario = scenario.step(
                &format!("{name}-{pids}"),
                &format!(
                    "for r in $(seq {}); do bench-guest sample {} {} {flag}$(first {pids}); done",
                    profile.repeats,
                    profile.frequency,
                    profile.sampler_ticks(pids)
                ),
            );
        }
    }
    scenario.step("kill", "kill $P; echo killed")
}

/// The sampling rate of each stage in `profile.rate_stages` at each frequency of
/// `profile.rate_windows`, one after the other in one VM, on one idle process.
///
/// From stage 2 on, a window is the shrinker's count between two samples (the first
/// after the window's start and the first after its end), against the VM's monotonic
/// clock: the deadlines' clock, read the same way at both ends. Stage 1 has no count but
/// its unload line; its window is the thread's life, from the load line to the unload line
/// in the kernel log (stamped with the same TSC as the monotonic clock), which the unload
/// line follows at once now that it is printed after the thread has stopped.
pub fn rate(profile: &Profile) -> Scenario {
    let mut scenario = Scenario::new("bench-rate")
        .timeout(Duration::from_secs(900))
        .step("setup", SETUP)
        .step("target", "sleep 100000 & PID=$!; echo started");
    for &stage in &profile.rate_stages {
        scenario = scenario.module(
            &format!("stage{stage}"),
            runner::stage_dir(stage).join("taskmonitor.ko"),
        );
        for &(frequency, seconds) in &profile.rate_windows {
            let insmod = format!("insmod stage{stage}.ko target=$PID frequency={frequency}");
            let command = if stage == 1 {
                format!(
                    "{insmod}; sleep {seconds}; rmmod taskmonitor; \
                     stamp() {{ dmesg | grep \"taskmonitor: $1\" | tail -n 1 \
                     | sed 's/^\\[ *\\([0-9.]*\\)\\].*/\\1/'; }}; \
                     echo samples $(dmesg | grep -o 'unloading, freeing [0-9]*' | tail -n 1 \
                     | cut -d' ' -f3) start $(stamp 'monitoring pid') end $(stamp unloading)"
                )
            } else {
                format!(
                    "{insmod}; shrinker; {}; rmmod taskmonitor; {RATE_REPORT}",
                    rate_window(seconds)
                )
            };
            scenario = scenario.step(&format!("rate-{stage}-{frequency}"), &command);
        }
    }
    scenario.step("kill", "kill $PID; echo killed")
}

/// A rate window of `seconds` from one sample to another: the count and the VM's clock at
/// the first sample after its start (`c0`, `t0`) and after its end (`c1`, `t1`).
pub(crate) fn rate_window(seconds: u32) -> String {
    format!(
        "next_sample; c0=$(count); t0=$(up); sleep {seconds}; next_sample; c1=$(count); \
         t1=$(up)"
    )
}

/// What a rate step prints of its window, for [`crate::measure::RatePoint`].
pub(crate) const RATE_REPORT: &str = "echo samples $((c1 - c0)) start $t0 end $t1";

/// Loads stage 7, and sets `$S` to its shrinker's folder and `$T` to its thread's PID.
fn insmod7(profile: &Profile) -> String {
    format!(
        "insmod taskmonitor.ko frequency={}; shrinker; \
         T=$(for p in /proc/[0-9]*; do \
         [ \"$(cat $p/comm)\" = taskmonitor ] && echo ${{p#/proc/}}; done)",
        profile.frequency
    )
}

/// How often the memory-pressure trace samples, in milliseconds.
pub const TRACE_MS: u64 = 20;

/// Fills a tmpfs 1 MiB at a time until the module's count falls (reclaim has reached
/// the shrinker), or the tmpfs is full.
const FILL: &str = "P=$(count); i=0
while [ $i -lt 110 ]; do
  i=$((i+1))
  dd if=/dev/zero of=/tmp/fill$i bs=1M count=1 2>/dev/null || break
  C=$(count)
  [ $C -lt $P ] && break
  P=$C
  usleep 50000
done
echo filled $i";

/// Stage 2 in a small VM: the sample count while memory pressure rises and falls.
pub fn shrinker(profile: &Profile) -> Scenario {
    Scenario::new("bench-shrinker")
        .stage(2)
        .memory_mb(128)
        .timeout(Duration::from_secs(300))
        .step("setup", SETUP)
        .step("target", "sleep 100000 & PID=$!; echo started")
        .step(
            "insmod",
            &format!(
                "insmod taskmonitor.ko target=$PID frequency={}; shrinker; echo loaded",
                profile.frequency
            ),
        )
        // Reclaim starts 8 MiB before the OOM killer would (as in the stage 2 test); the
        // trace gets a tmpfs of its own, which the filler cannot fill.
        .step(
            "prepare",
            "echo 8192 > /proc/sys/vm/min_free_kbytes; mount -o remount,size=120M /tmp; \
             mkdir -p /trace && mount -t tmpfs -o size=4M tmpfs /trace; echo prepared",
        )
        .step("history", "sleep 10; echo samples $(count)")
        .step(
            "pressure",
            &format!(
                "bench-guest trace {TRACE_MS} 600 $S/count > /trace/t & TR=$!; sleep 2\n{FILL}\n\
                 sleep 3"
            ),
        )
        .step(
            "release",
            "rm /tmp/fill*; sleep 5; kill $TR; wait $TR; echo released",
        )
        .step("trace", "cat /trace/t")
        .step("rmmod", "rmmod taskmonitor; kill $PID; echo done")
}

/// Runs `scenario` with the guest tool, and keeps what the measurements need.
pub fn run(scenario: Scenario, guest: &Path) -> Result<Record, String> {
    let run = scenario
        .file("/bin/bench-guest", guest, 0o755)
        .run()
        .map_err(|e| e.to_string())?;
    if let Some(failed) = run.steps.iter().find(|s| s.status != 0) {
        return Err(format!(
            "step {} exited with {}:\n$ {}\n{}",
            failed.name, failed.status, failed.command, failed.output
        ));
    }
    Ok(Record {
        steps: run
            .steps
            .iter()
            .map(|s| (s.name.clone(), s.output.clone()))
            .collect(),
        log: module_log(&run.console),
    })
}
