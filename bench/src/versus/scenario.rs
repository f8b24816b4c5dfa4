// SPDX-License-Identifier: GPL-2.0

//! The VM that measures stage 7 against the C reference, with the floor module, on one
//! kernel; and the host's figures of the three modules (size, build time).

use super::{Kernel, MODULES};
use crate::profile::Profile;
use crate::raw::Record;
use crate::scenarios::{rate_window, RATE_REPORT, SETUP};
use runner::Scenario;
use std::process::Command;
use std::time::Duration;

/// Shell helpers of the VM, after the other scenarios' [`SETUP`]: `load M HZ N` loads
/// module M (`rust`, `c` or `floor`) at HZ on the first N processes, and sets `$T` to its
/// thread and `$COUNT_FILE` to its count file; `unload M` unloads it.
const HELPERS: &str = r#"thread() { grep -lx "$1" /proc/[0-9]*/comm | cut -d/ -f3; }
load() {
  case $1 in
    floor) insmod floor.ko frequency=$2 first=$FIRST count=$3
      COUNT_FILE=/sys/kernel/taskmonitor_floor; T=$(thread floor) ;;
    *) insmod $1.ko frequency=$2; shrinker
      for p in $(first $3); do echo $p > $F; done; T=$(thread taskmonitor) ;;
  esac
}
unload() { if [ $1 = floor ]; then rmmod taskmonitor_floor; else rmmod taskmonitor; fi; }
echo ready"#;

/// Stage 7 (`rust`), the C reference (`c`) and the floor (`floor`) on `kernel`: memory and
/// export of each history, the sampling thread's CPU time per sample, and the rate.
pub fn versus(profile: &Profile, kernel: &Kernel) -> Scenario {
    let v = &profile.versus;
    let processes = v.pids.iter().copied().max().unwrap_or(1).max(v.monitored);
    let mut scenario = Scenario::new(&format!("bench-versus-{}", kernel.label))
        .kernel(&kernel.kdir)
        // A thousand processes, and histories of 100,000 samples.
        .memory_mb(1024)
        .timeout(Duration::from_secs(1200));
    for (name, path) in MODULES {
        scenario = scenario.module(name, kernel.modules.join(path));
    }
    scenario = scenario.step("setup", SETUP).step("helpers", HELPERS).step(
        "spawn",
        // The floor takes a range of PIDs: in this quiet VM, forks in a row get PIDs in a
        // row, which the step checks.
        &format!(
            "P=$(bench-guest spawn {processes} | tr '\\n' ' '); \
             first() {{ echo $P | cut -d' ' -f1-$1; }}; FIRST=${{P%% *}}; \
             LAST=$(echo $P | tr ' ' '\\n' | tail -n 1); \
             echo spawned $(echo $P | wc -w) first $FIRST last $LAST; \
             [ $((LAST - FIRST + 1)) -eq {processes} ]"
        ),
    );

    // Each history filled to `samples` from `monitored` processes, then still: its slab
    // cache, and reads of it whole against a tmpfs copy, at each read size.
    let histories = if v.histories { &["rust", "c"][..] } else { &[] };
    for module in histories {
        let mut command = format!(
            "load {module} {} {}; while [ $(count) -lt {} ]; do usleep 100000; done; \
             for p in $(first {}); do echo -$p > $F; done; usleep 100000; \
             cache task_sample; echo samples $(count); cat $F > /tmp/copy",
            profile.frequency, v.monitored, v.samples, v.monitored
        );
        // Round after round, each read size: the module's file, then its copy.
        let sizes: Vec<String> = v.read_sizes.iter().map(u32::to_string).collect();
        command.push_str(&format!(
            "; for r in $(seq {}); do for s in {}; do \
             bench-guest read 1 1 --size $s $F /tmp/copy; done; done; rm /tmp/copy; unload {module}",
            v.read_rounds,
            sizes.join(" ")
        ));
        scenario = scenario.step(&format!("memory-{module}"), &command);
    }

    // The sampling thread's CPU time per sample: for each number of processes and each
    // frequency, the three modules one after the other, on the same processes, repeated.
    for &hz in &v.frequencies {
        // Every process is added when `load` returns; 100 ms more let the thread settle.
        // At a low frequency, the window starts at the end of a pass over all of them.
        let (measure, repeats) = if hz >= 100 {
            (
                format!("bench-guest window {} $T $COUNT_FILE", v.window_seconds),
                v.repeats,
            )
        } else {
            (
                format!("bench-guest periods {} $T $COUNT_FILE $N", v.periods),
                v.slow_repeats,
            )
        };
        for &pids in &v.pids {
            scenario = scenario.step(
                &format!("cost-{hz}-{pids}"),
                &format!(
                    "N={pids}; for r in $(seq {repeats}); do for m in rust c floor; do \
                     load $m {hz} $N; usleep 100000; printf 'module %s round %s ' $m $r; \
                     {measure}; unload $m; done; done"
                ),
            );
        }
    }

    // The rate, in a window from one sample to another, against the VM's clock.
    for module in ["rust", "c"] {
        for &(hz, seconds) in &v.rate_windows {
            scenario = scenario.step(
                &format!("rate-{module}-{hz}"),
                &format!(
                    "load {module} {hz} 1; {}; unload {module}; {RATE_REPORT}",
                    rate_window(seconds)
                ),
            );
        }
    }
    scenario.step("kill", "kill $P; echo killed")
}

/// The host's figures of the modules built for `kernel`: each build's time, as
/// `scripts/bench-modules.sh` wrote it (if it built them), and each module's sections
/// (`llvm-size`).
pub fn host_figures(kernel: &Kernel) -> Result<Record, String> {
    let read = |name: &str| {
        let path = kernel.modules.join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut record = Record::default();
    // Modules linked from the repository's own build were not timed.
    if kernel.modules.join("build-ms").exists() {
        record.steps.insert("build-ms".into(), read("build-ms")?);
    }
    let mut sizes = String::new();
    for (name, path) in MODULES {
        let ko = kernel.modules.join(path);
        let out = Command::new("llvm-size-19")
            .arg(&ko)
            .output()
            .map_err(|e| format!("llvm-size-19: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "llvm-size-19 {}: {}",
                ko.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // `text data bss dec hex filename`, under a header line.
        let text = String::from_utf8_lossy(&out.stdout);
        let numbers: Vec<&str> = text
            .lines()
            .nth(1)
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let [text, data, bss, ..] = numbers.as_slice() else {
            return Err(format!("llvm-size-19 {}: {text:?}", ko.display()));
        };
        sizes.push_str(&format!(
            "module {name} text {text} data {data} bss {bss}\n"
        ));
    }
    record.steps.insert("size".into(), sizes);
    Ok(record)
}
