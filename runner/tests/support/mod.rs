//! Helpers shared by the stage tests.
#![allow(dead_code)]

use runner::output::{check_newest_first, parse_history, transcript, SampleLine, SNAPSHOT_FILTERS};
use runner::Run;

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
    run.console
        .lines()
        .filter(|l| l.contains("taskmonitor: "))
        .collect()
}

/// How many samples the module freed at unload, from its log.
pub fn freed_at_unload(run: &Run) -> usize {
    module_log(run)
        .iter()
        .find_map(|l| l.split("unloading, freeing ").nth(1))
        .and_then(|r| r.split(' ').next()?.parse().ok())
        .expect("unload log line")
}

/// The whole numbers of a step's output, in order.
pub fn numbers(run: &Run, step: &str) -> Vec<u64> {
    run.output(step)
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect()
}
