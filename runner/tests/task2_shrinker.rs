// SPDX-License-Identifier: GPL-2.0

//! Stage 2 (task2-shrinker) in the VM: the shrinker frees the oldest samples, exactly as
//! many as asked, on `drop_caches`, and under real memory pressure.

#[macro_use]
mod support;

use runner::Scenario;
use support::{burn_pid, freed_at_unload, history, numbers, BURN, SHRINKER};

/// Prints the module's sample count, as its shrinker reports it.
const COUNT: &str = "echo count $(cut -d' ' -f2 $S/count)";

/// Waits until the module has noticed that its target exited and stopped sampling, so
/// the history no longer changes.
const STOPPED: &str = "kill $PID && wait $PID
until dmesg | grep -q 'has exited, sampling stopped'; do sleep 0.1; done; echo sampling stopped";

#[test]
fn an_exact_scan_frees_exactly_the_oldest_samples() {
    let run = Scenario::new("task2-scan")
        .stage(2)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=10")
        .step("sleep", "sleep 2")
        // A fixed history: what the scan frees is then exactly visible.
        .step("stop", STOPPED)
        .step("shrinker", SHRINKER)
        .step("count1", COUNT)
        .step("cat1", "cat /sys/kernel/taskmonitor | tee /tmp/before")
        .step("scan", "echo '0 0 5' > $S/scan")
        .step("cat2", "cat /sys/kernel/taskmonitor | tee /tmp/after")
        .step("count2", COUNT)
        .step(
            "compare",
            "echo $(( $(wc -l < /tmp/before) - $(wc -l < /tmp/after) )) lines gone
echo of the 5 oldest, $(tail -n 5 /tmp/before | grep -c -x -F -f - /tmp/after) left
echo the others $(head -n -5 /tmp/before | cmp - /tmp/after && echo unchanged)",
        )
        .step("rmmod", "rmmod taskmonitor")
        .run()
        .unwrap();
    snapshot!("an_exact_scan_frees_exactly_the_oldest_samples", &run, &[]);

    let pid = burn_pid(&run);
    let before = history(&run, "cat1", pid);
    let after = history(&run, "cat2", pid);
    assert!(before.len() >= 10, "{} samples", before.len());
    // Exactly the five oldest are gone: the history is the newest ones, unchanged.
    assert_eq!(after, before[..before.len() - 5], "before {before:?}");
    // The count the shrinker reports is the history's length, before and after.
    let (count1, count2) = (numbers(&run, "count1")[0], numbers(&run, "count2")[0]);
    assert_eq!(count1 as usize, before.len());
    assert_eq!(count2 as usize, after.len());
    // The unload line is printed once the shrinker and the thread are gone: exactly the
    // history that was left.
    assert_eq!(freed_at_unload(&run), after.len());
}

#[test]
fn drop_caches_empties_the_history() {
    let run = Scenario::new("task2-drop")
        .stage(2)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=100")
        .step("sleep", "sleep 2")
        .step("shrinker", SHRINKER)
        .step("before", COUNT)
        .step(
            "drop",
            "echo 2 > /proc/sys/vm/drop_caches && cut -d' ' -f2 $S/count",
        )
        .step("sampling", "sleep 1; cat /sys/kernel/taskmonitor | wc -l")
        .step("rmmod", "rmmod taskmonitor")
        .run()
        .unwrap();
    snapshot!(
        "drop_caches_empties_the_history",
        &run,
        &["drop", "sampling"]
    );

    let before = numbers(&run, "before")[0];
    assert!(before >= 50, "{before} samples before");
    // Nothing, or the few samples taken while the command ran.
    let after = numbers(&run, "drop").first().copied().unwrap_or(0);
    assert!(after <= 10, "{after} samples left after drop_caches");
    // Sampling goes on.
    assert!(numbers(&run, "sampling")[0] >= 20);
}

/// Fills a tmpfs 1 MiB at a time in a 128 MiB VM while sampling at full speed. A higher
/// `min_free_kbytes` starts reclaim 8 MiB before the OOM killer would. Stops at the
/// first sign of the shrinker freeing samples (a count below the previous one).
const FILL: &str = "echo 8192 > /proc/sys/vm/min_free_kbytes
mount -o remount,size=120M /tmp
P=0
for i in $(seq 1 120); do
  dd if=/dev/zero of=/tmp/fill$i bs=1M count=1 2>/dev/null || break
  C=$(cut -d' ' -f2 $S/count)
  echo \"$i $C\" >> /tmp/trace
  [ ${C:-0} -lt $P ] && break
  P=${C:-0}
done";

#[test]
fn memory_pressure_makes_reclaim_free_samples() {
    let run = Scenario::new("task2-pressure")
        .stage(2)
        .memory_mb(128)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=1000")
        .step("sleep", "sleep 2")
        .step("shrinker", SHRINKER)
        .step("fill", FILL)
        .step("trace", "cat /tmp/trace")
        .step("release", "rm /tmp/fill*; sleep 1")
        .step(
            "sampling",
            "cut -d' ' -f2 $S/count; sleep 1; cut -d' ' -f2 $S/count",
        )
        .step("rmmod", "rmmod taskmonitor")
        .run()
        .unwrap();
    snapshot!(
        "memory_pressure_makes_reclaim_free_samples",
        &run,
        &["trace", "sampling"]
    );

    // "MiB filled, sample count" per line.
    let trace: Vec<(u64, u64)> = run
        .output("trace")
        .lines()
        .map(|l| {
            let (mib, count) = l.split_once(' ').unwrap();
            (mib.parse().unwrap(), count.parse().unwrap_or(0))
        })
        .collect();
    let drop = trace.windows(2).find(|w| w[1].1 < w[0].1);
    let [(_, high), (mib, low)] = drop.expect("reclaim never freed a sample") else {
        unreachable!()
    };
    // KASAN's shadow (an eighth of memory) and quarantine leave less to fill.
    let pressure = if runner::kasan() { 10 } else { 20 };
    assert!(
        *mib >= pressure,
        "reclaim at {mib} MiB filled: not memory pressure"
    );
    println!("reclaim freed samples at {mib} MiB filled: {high} -> {low}");
    // Sampling went on after the pressure.
    let sampling = numbers(&run, "sampling");
    assert!(sampling[1] > sampling[0], "{sampling:?}");
}
