// SPDX-License-Identifier: GPL-2.0

//! Helpers shared by the stage tests.
#![allow(dead_code)]

use runner::output::{check_newest_first, parse_history, transcript, SampleLine, SNAPSHOT_FILTERS};
use runner::{Run, Scenario, Taskmonitor};

/// sysfs hands `show` a page and takes at most `PAGE_SIZE - 1` bytes back.
pub const PAGE_SIZE: usize = 4096;

/// Compares the run's transcript with its snapshot, volatile numbers filtered out.
/// Steps named in the third argument (raw measurements, checked by the test) are left
/// out. A macro, so that insta names the snapshot after the calling test file.
#[allow(unused_macros)] // the stress tests check invariants, not snapshots
macro_rules! snapshot {
    ($name:expr, $run:expr, $skip:expr $(,)?) => {
        $crate::support::filters()
            .bind(|| insta::assert_snapshot!($name, $crate::support::shown($run, $skip)))
    };
}

/// insta settings with the placeholders of [`SNAPSHOT_FILTERS`].
pub fn filters() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (regex, replacement) in SNAPSHOT_FILTERS {
        settings.add_filter(regex, *replacement);
    }
    settings
}

/// The transcript of `run` without the steps named in `skip`.
pub fn shown(run: &Run, skip: &[&str]) -> String {
    transcript(&Run {
        steps: run
            .steps
            .iter()
            .filter(|s| !skip.contains(&s.name.as_str()))
            .cloned()
            .collect(),
        console: String::new(),
    })
}

/// Sets `$S` to the module's shrinker folder in debugfs and prints its name.
pub const SHRINKER: &str = "S=$(ls -d /sys/kernel/debug/shrinker/taskmonitor-*); basename $S";

/// The step that starts the target: `PID=$(burn)`, printing `started pid N`.
pub const BURN: &str = "PID=$(burn); echo started pid $PID";

/// The burner's PID, printed by the `burn` step.
pub fn burn_pid(run: &Run) -> i32 {
    let out = run.output("burn");
    out.trim()
        .strip_prefix("started pid ")
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("burn printed {out:?}"))
}

/// The samples of a step that read `/sys/kernel/taskmonitor`, checked: whole lines, at
/// most a page, newest first, all of `pid`.
pub fn history(run: &Run, step: &str, pid: i32) -> Vec<SampleLine> {
    let text = run.output(step);
    assert!(text.len() < PAGE_SIZE, "{step}: {} bytes", text.len());
    let samples = parse_history(text).unwrap();
    check_newest_first(&samples).unwrap();
    assert!(samples.iter().all(|s| s.pid == pid), "{step}: {text}");
    samples
}

/// The kernel log lines of the module.
pub fn module_log(run: &Run) -> Vec<&str> {
    module_lines(&run.console)
}

/// The lines of the module in the kernel log `log`.
fn module_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("taskmonitor: "))
        .collect()
}

/// How many samples the module freed at each unload, from its log, in order.
pub fn unload_counts(run: &Run) -> Vec<usize> {
    unloads(&run.console)
}

/// How many samples the module freed at each unload in the kernel log `log`, in order.
fn unloads(log: &str) -> Vec<usize> {
    module_lines(log)
        .iter()
        .filter_map(|l| l.split("unloading, freeing ").nth(1))
        .map(|r| r.split(' ').next().and_then(|n| n.parse().ok()).unwrap())
        .collect()
}

/// How many samples the module freed at its first unload, from its log.
pub fn freed_at_unload(run: &Run) -> usize {
    *unload_counts(run).first().expect("unload log line")
}

/// The whole numbers of a step's output, in order.
pub fn numbers(run: &Run, step: &str) -> Vec<u64> {
    run.output(step)
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// The frequency the sampling rate is measured at: the module's highest.
pub const RATE_FREQUENCY: u32 = 1000;

/// Seconds of the VM's clock in each window of the rate measurement.
pub const RATE_SECONDS: u32 = 4;

/// The share of [`RATE_FREQUENCY`] a window must reach, in percent.
pub const RATE_PERCENT: u32 = 90;

/// Windows measured at most: the first that reaches [`RATE_PERCENT`] ends the measurement.
pub const RATE_WINDOWS: u32 = 3;

/// What the kernel log line that starts the measurement of a module begins with: the
/// module's name in the VM follows (see [`rate_log`]).
const RATE_MARK: &str = "rate measurement of ";

/// A module's name in the VM of [`measure_rate`] (`/lib/modules/NAME.ko`), which also
/// begins the names of its steps: `stageN`, or `c-reference`.
pub fn rate_name(module: Taskmonitor) -> String {
    match module {
        Taskmonitor::Stage(n) => format!("stage{n}"),
        Taskmonitor::C => "c-reference".to_string(),
    }
}

/// The stage whose interface a module has: the C reference has stage 7's.
fn rate_stage(module: Taskmonitor) -> u32 {
    match module {
        Taskmonitor::Stage(n) => n,
        Taskmonitor::C => 7,
    }
}

/// Adds to `scenario` a measurement of `module`'s sampling rate at [`RATE_FREQUENCY`],
/// which [`check_rate`] checks: `frequency=F` gives F samples a second, because the thread
/// sleeps until absolute deadlines one period apart (`Stopper::sleep_until_next`).
///
/// The module is added as `/lib/modules/NAME.ko` ([`rate_name`]; its own name stays
/// `taskmonitor`), its steps' names begin with `NAME-`, and a line of the kernel log marks
/// where its measurement begins, so that measurements of several modules follow one
/// another in one VM: `runner/tests/sampling_rate.rs` measures every stage and the C
/// reference in one boot. Each is loaded on an idle process of its own (`sleep`), with
/// no CPU burner in the VM, and the VM runs [`Scenario::alone`]: beside another test's VM
/// (they run in parallel) stage 6 measured 877 to 891 a second, alone 958 to 989.
///
/// A count, not a duration, against the VM's own clock. From stage 2 on a window is the
/// shrinker's count between two readings of `/proc/uptime`, the monotonic clock the
/// deadlines are on. Stage 1 has no count but its unload line, so its window is a whole
/// load: the thread's life, from the load line to the unload line in the kernel log
/// (stamped by the same TSC clocksource), which now follows the thread's stop at once.
///
/// Under emulation the host may starve the VM for milliseconds at a time, and the thread
/// skips the deadlines it missed by a whole period; so a window that falls short is
/// measured again, up to [`RATE_WINDOWS`], and one must reach [`RATE_PERCENT`]. A thread
/// that sleeps a relative period never does: it gets less than half (a one-jiffy timeout
/// lasts until the second tick).
///
/// From stage 2 on the target is then killed, so the history holds still, and the unload
/// line must give the shrinker's count exactly.
pub fn measure_rate(scenario: Scenario, module: Taskmonitor) -> Scenario {
    let name = rate_name(module);
    // Whether the window `n samples in t UNIT` (UNIT per second: $1) reached the share.
    let enough = format!("[ $((n * 100 * $1 / t)) -ge $(({RATE_PERCENT} * {RATE_FREQUENCY})) ]");
    let enough = format!("enough() {{ echo samples $n in $t $2; {enough}; }}");
    let insmod = format!("insmod {name}.ko target=$R frequency={RATE_FREQUENCY}");
    let scenario = scenario
        .alone()
        .module(&name, module.dir().join("taskmonitor.ko"))
        .step(
            &format!("{name}-start"),
            &format!(
                "echo '{RATE_MARK}{name}' > /dev/kmsg; sleep 1000 & R=$!; \
                 echo idle target started"
            ),
        );
    if rate_stage(module) == 1 {
        // The microseconds of the last kernel log line of the module that contains $1.
        const US: &str = "us() { dmesg | grep \"taskmonitor: $1\" | tail -n 1 \
                          | sed 's/^\\[ *\\([0-9]*\\)\\.\\([0-9]*\\)\\].*/\\1\\2/'; }";
        return scenario.step(
            &format!("{name}-rate"),
            &format!(
                "{US}; {enough}; for w in $(seq {RATE_WINDOWS}); do {insmod}; \
                 sleep {RATE_SECONDS}; rmmod taskmonitor; \
                 n=$(dmesg | grep -o 'unloading, freeing [0-9]*' | tail -n 1 | cut -d' ' -f3); \
                 t=$(( $(us unloading) - $(us 'monitoring pid') )); \
                 enough 1000000 us && break; done; kill $R"
            ),
        );
    }
    const COUNT: &str = "count() { c=$(cut -d' ' -f2 $S/count); echo ${c:-0}; }";
    const CS: &str = "cs() { tr -d . < /proc/uptime | cut -d' ' -f1; }";
    scenario
        .step(&format!("{name}-insmod"), &format!("{insmod}; {SHRINKER}"))
        .step(
            &format!("{name}-rate"),
            &format!(
                "{CS}; {COUNT}; {enough}; for w in $(seq {RATE_WINDOWS}); do \
                 c0=$(count); t0=$(cs); sleep {RATE_SECONDS}; c1=$(count); t1=$(cs); \
                 n=$((c1 - c0)); t=$((t1 - t0)); enough 100 cs && break; done"
            ),
        )
        .step(
            &format!("{name}-stopped"),
            "kill $R; wait $R 2>/dev/null; \
             until dmesg | grep -q \"pid $R has exited\"; do usleep 100000; done; \
             echo count $(cut -d' ' -f2 $S/count)",
        )
        .step(&format!("{name}-rmmod"), "rmmod taskmonitor")
}

/// The kernel log of the measurement of `module` by [`measure_rate`]: from the line that
/// marks its start to the next such line (another module's), or to the end.
pub fn rate_log(run: &Run, module: Taskmonitor) -> &str {
    let mark = format!("{RATE_MARK}{}\n", rate_name(module));
    let starts: Vec<_> = run.console.match_indices(&mark).collect();
    assert_eq!(starts.len(), 1, "{mark:?} is not once in the kernel log");
    let rest = &run.console[starts[0].0 + mark.len()..];
    &rest[..rest.find(RATE_MARK).unwrap_or(rest.len())]
}

/// Checks `module`'s measurement of [`measure_rate`] and returns the best window's rate:
/// at least [`RATE_PERCENT`] of the frequency, and from stage 2 on an unload line that
/// gives the exact count. Only the module's own part of the kernel log counts
/// ([`rate_log`]).
pub fn check_rate(run: &Run, module: Taskmonitor) -> f64 {
    let name = rate_name(module);
    let rate = run.output(&format!("{name}-rate"));
    // `samples N in T cs` (or `us`, stage 1), one line per window.
    let windows: Vec<(f64, f64)> = rate
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let (n, t, unit) = match w[..] {
                ["samples", n, "in", t, "cs"] => (n, t, 1e2),
                ["samples", n, "in", t, "us"] => (n, t, 1e6),
                _ => return None,
            };
            Some((n.parse().ok()?, t.parse::<f64>().ok()? / unit))
        })
        .collect();
    assert!(!windows.is_empty(), "{name}: no window measured: {rate:?}");
    let counts = unloads(rate_log(run, module));
    if rate_stage(module) == 1 {
        // Each window is a load, whose count is its unload line.
        assert_eq!(counts.len(), windows.len(), "{name}: one unload per window");
        for (&(n, _), &freed) in windows.iter().zip(&counts) {
            assert_eq!(n as usize, freed, "{name}");
        }
    } else {
        // The history held still once the target had exited: the unload line is exact.
        let count = numbers(run, &format!("{name}-stopped"))[0] as usize;
        assert_eq!(counts.len(), 1, "{name}: one unload");
        let freed = counts[0];
        assert_eq!(
            freed, count,
            "{name}: unloading freed {freed} samples, the count was {count}"
        );
    }
    let rates: Vec<f64> = windows.iter().map(|&(n, t)| n / t).collect();
    for (&(n, t), rate) in windows.iter().zip(&rates) {
        println!(
            "{name} at frequency={RATE_FREQUENCY}: {n} samples in {t:.3} s, {rate:.1} a second"
        );
    }
    let best = rates.iter().copied().fold(0.0, f64::max);
    let least = f64::from(RATE_PERCENT * RATE_FREQUENCY) / 100.0;
    assert!(
        best >= least,
        "{name}: at frequency={RATE_FREQUENCY}, no window of {RATE_WINDOWS} reached {least} \
         samples a second: {rates:?}"
    );
    best
}
