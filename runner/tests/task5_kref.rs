// SPDX-License-Identifier: GPL-2.0

//! Stage 5 (task5-kref) in the VM: each new sample is printed through a reference of the
//! thread's own, which keeps it alive while the shrinker frees samples.

#[macro_use]
mod support;

use runner::Scenario;
use support::{freed_at_unload, module_log, BURN, SHRINKER};

/// The reference counts the thread printed, one per sample.
fn printed_counts(log: &[&str]) -> Vec<u32> {
    log.iter()
        .filter_map(|l| l.split("sample with ").nth(1))
        .map(|r| r.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn a_new_sample_has_two_references_when_printed() {
    let run = Scenario::new("task5-print")
        .stage(5)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=10")
        .step("sleep", "sleep 2")
        .step(
            "printed",
            "dmesg | grep -o 'taskmonitor: sample with.*' | head -n 3",
        )
        .step("rmmod", "rmmod taskmonitor")
        .run()
        .unwrap();
    snapshot!("a_new_sample_has_two_references_when_printed", &run, &[]);

    let log = module_log(&run);
    let counts = printed_counts(&log);
    assert!(counts.len() >= 10, "{} samples printed", counts.len());
    // The list's reference and the thread's: nothing else took one.
    assert!(counts.iter().all(|&c| c == 2), "{counts:?}");
    // Every sample printed was in the history, and the unload line, printed once the
    // thread has stopped, counts exactly those.
    assert_eq!(freed_at_unload(&run), counts.len());
}

#[test]
fn shrinking_while_samples_are_printed_is_safe() {
    let run = Scenario::new("task5-shrink")
        .stage(5)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=200")
        .step("shrinker", SHRINKER)
        .step(
            "shrink",
            "for i in $(seq 1 40); do echo '0 0 3' > $S/scan; usleep 20000; \
             [ $((i % 10)) -eq 0 ] && echo 2 > /proc/sys/vm/drop_caches; done; echo done",
        )
        .step("rmmod", "rmmod taskmonitor")
        .run()
        .unwrap();
    snapshot!("shrinking_while_samples_are_printed_is_safe", &run, &[]);

    let counts = printed_counts(&module_log(&run));
    assert!(counts.len() >= 50, "{} samples printed", counts.len());
    // Two, or one when the shrinker took the sample off the list before it was printed.
    assert!(counts.iter().all(|&c| c == 1 || c == 2), "{counts:?}");
}
