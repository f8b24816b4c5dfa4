// SPDX-License-Identifier: GPL-2.0

//! Stage 4 (task4-mempool) in the VM: with failslab aimed at the `task_sample` cache,
//! sampling goes on from the mempool's reserve, then fails with a rate-limited report,
//! then recovers when the cache gives memory again.

#[macro_use]
mod support;

use runner::Scenario;
use support::{freed_at_unload, module_log, numbers, BURN, SHRINKER};

/// The reserve of the module (`MIN_SAMPLES`).
const RESERVE: u64 = 64;

/// Makes every allocation from `task_sample` fail (see
/// Documentation/fault-injection/fault-injection.rst).
const FAIL: &str = "F=/sys/kernel/debug/failslab
echo 1 > /sys/kernel/slab/task_sample/failslab
echo Y > $F/cache-filter
echo N > $F/ignore-gfp-wait
echo 0 > $F/verbose
echo -1 > $F/times
echo 1 > $F/interval
echo 100 > $F/probability";

const COUNT: &str = "cut -d' ' -f2 $S/count";

#[test]
fn the_reserve_keeps_sampling_going_then_failures_are_reported_then_it_recovers() {
    let run = Scenario::new("task4-failslab")
        .stage(4)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=50")
        .step("sleep", "sleep 1")
        .step("shrinker", SHRINKER)
        .step("before", COUNT)
        .step("fail", FAIL)
        // At 50 Hz the 64 samples of the reserve last about 1.3 s.
        .step(
            "failing",
            "sleep 3; cut -d' ' -f2 $S/count; sleep 1; cut -d' ' -f2 $S/count",
        )
        .step("recover", "echo 0 > $F/probability; sleep 1")
        .step("after", COUNT)
        // The target's exit stops sampling: the history holds still until unloading.
        .step(
            "stopped",
            "kill $PID && wait $PID
until dmesg | grep -q \"pid $PID has exited\"; do usleep 100000; done; echo count $(cut -d' ' -f2 $S/count)",
        )
        .step("rmmod", "rmmod taskmonitor")
        .step(
            "log",
            "dmesg | grep -o 'taskmonitor: no memory.*' | head -n 3",
        )
        .run()
        .unwrap();
    snapshot!(
        "the_reserve_keeps_sampling_going_then_failures_are_reported_then_it_recovers",
        &run,
        &["before", "failing", "after"]
    );

    let before = numbers(&run, "before")[0];
    let failing = numbers(&run, "failing");
    let after = numbers(&run, "after")[0];
    // While the cache fails, the reserve gives its samples (plus those taken in the
    // steps before failslab started), then nothing more.
    assert_eq!(failing[0], failing[1], "sampling went on with no memory");
    let from_reserve = failing[0] - before;
    assert!(
        (RESERVE..=RESERVE + 25).contains(&from_reserve),
        "{from_reserve} samples after failslab started, reserve {RESERVE}"
    );
    // Then it recovers.
    assert!(
        after > failing[1] + 20,
        "{after} after recovery, {} before",
        failing[1]
    );
    // Failures were counted, reported on the 1st, 2nd, 4th... one only, and at unload.
    let log = module_log(&run);
    let reports = log
        .iter()
        .filter(|l| l.contains("no memory for a sample"))
        .count();
    let unload = log.iter().find(|l| l.contains("unloading")).unwrap();
    let failures: u64 = unload
        .split('(')
        .nth(1)
        .and_then(|r| r.split(' ').next()?.parse().ok())
        .unwrap();
    assert!(failures >= 50, "{failures} failures in 2 s at 50 Hz");
    assert_eq!(
        reports as u32,
        failures.ilog2() + 1,
        "{failures} failures, {reports} reports"
    );
    // The unload line is printed once the shrinker and the thread are gone: exactly the
    // history that was left.
    assert_eq!(freed_at_unload(&run) as u64, numbers(&run, "stopped")[0]);
    println!(
        "{from_reserve} samples after the cache failed, {failures} failures, {reports} reports, \
         {} samples taken in the second after recovery",
        after - failing[1]
    );
}
