// SPDX-License-Identifier: GPL-2.0

//! Stage 1 (task1-history) in the VM: each scenario's transcript is a snapshot, and the
//! invariants the snapshot cannot show (numbers that change from run to run) are asserted.

#[macro_use]
mod support;

use runner::output::log_time;
use runner::{Run, Scenario};
use support::{burn_pid, freed_at_unload, history, module_log, BURN, PAGE_SIZE};

/// Samples per second over the module's lifetime, from its load and unload log lines.
fn measured_frequency(run: &Run) -> f64 {
    let log = module_log(run);
    let load = log.iter().find(|l| l.contains("monitoring pid")).unwrap();
    let unload = log
        .iter()
        .find(|l| l.contains("unloading, freeing"))
        .unwrap();
    freed_at_unload(run) as f64 / (log_time(unload).unwrap() - log_time(load).unwrap())
}

#[test]
fn history_of_a_running_process() {
    let run = Scenario::new("task1-history")
        .stage(1)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=10")
        .step("sleep", "sleep 3")
        .step("cat1", "cat /sys/kernel/taskmonitor")
        .step("sleep2", "sleep 1")
        .step("cat2", "cat /sys/kernel/taskmonitor")
        .step("status", "grep -E '^Vm(Size|Stk|Data)' /proc/$PID/status")
        .step("rmmod", "rmmod taskmonitor")
        .step("sysfs-gone", "ls /sys/kernel/taskmonitor")
        .run()
        .unwrap();
    snapshot!("history_of_a_running_process", &run, &[]);

    let pid = burn_pid(&run);
    assert_eq!(run.step("insmod").status, 0);
    let first = history(&run, "cat1", pid);
    let second = history(&run, "cat2", pid);
    assert!(first.len() >= 10, "{} samples in 3 s at 10 Hz", first.len());
    // Nothing recorded is lost or changed: the older read is the tail of the newer one.
    assert!(second.len() > first.len());
    assert!(second.ends_with(&first), "history changed between reads");
    // The burner only burns CPU in user space.
    assert!(second[0].utime > second[second.len() - 1].utime);

    // Memory fields agree with /proc/PID/status (the burner's map does not change).
    let status: Vec<u64> = run
        .output("status")
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    let (size, data, stack) = (status[0], status[1], status[2]);
    let newest = second[0];
    assert_eq!(
        (newest.total_kb, newest.stack_kb, newest.data_kb),
        (size, stack, data)
    );

    let frequency = measured_frequency(&run);
    assert!((5.0..=11.0).contains(&frequency), "{frequency} Hz, set 10");
    assert_ne!(
        run.step("sysfs-gone").status,
        0,
        "the sysfs file outlived the module"
    );
}

#[test]
fn output_is_bounded_by_a_page() {
    let run = Scenario::new("task1-page")
        .stage(1)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=1000")
        .step("sleep", "sleep 2")
        .step("cat", "cat /sys/kernel/taskmonitor")
        .step(
            "bytes",
            "[ $(wc -c < /sys/kernel/taskmonitor) -lt 4096 ] && echo less than a page",
        )
        .step("rmmod", "rmmod taskmonitor")
        .run()
        .unwrap();
    snapshot!("output_is_bounded_by_a_page", &run, &[]);

    let pid = burn_pid(&run);
    let shown = history(&run, "cat", pid);
    let text = run.output("cat");
    // A full page: no room left for another line.
    let longest = text.lines().map(|l| l.len() + 1).max().unwrap();
    assert!(
        text.len() + longest >= PAGE_SIZE - 1,
        "{} bytes",
        text.len()
    );
    assert_eq!(run.output("bytes"), "less than a page\n");
    // More was recorded than a page shows.
    let frequency = measured_frequency(&run);
    assert!(frequency > 100.0, "{frequency} Hz at frequency=1000");
    let recorded = freed_at_unload(&run);
    assert!(
        recorded > shown.len(),
        "{recorded} recorded, {} shown",
        shown.len()
    );
}

#[test]
fn a_target_that_exits_stops_sampling_and_keeps_its_history() {
    let run = Scenario::new("task1-exit")
        .stage(1)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=20")
        .step("sleep", "sleep 1")
        .step("kill", "kill $PID && wait $PID; echo killed")
        .step("settle", "sleep 1")
        .step("cat1", "cat /sys/kernel/taskmonitor")
        .step("sleep2", "sleep 1")
        .step("cat2", "cat /sys/kernel/taskmonitor")
        .step(
            "thread-gone",
            "grep -lx taskmonitor /proc/[0-9]*/comm || echo no thread",
        )
        .step("rmmod", "rmmod taskmonitor")
        .step("dmesg", "dmesg | grep -o 'taskmonitor: .*'")
        .run()
        .unwrap();
    snapshot!(
        "a_target_that_exits_stops_sampling_and_keeps_its_history",
        &run,
        &[],
    );

    let pid = burn_pid(&run);
    let first = history(&run, "cat1", pid);
    assert!(!first.is_empty());
    assert_eq!(
        first,
        history(&run, "cat2", pid),
        "sampling went on after exit"
    );
    assert_eq!(run.output("thread-gone").trim(), "no thread");
    // The unload line is printed once the thread has stopped: it counts exactly the
    // history, which fits in the page at 20 Hz.
    assert_eq!(freed_at_unload(&run), first.len());
    assert!(run
        .output("dmesg")
        .contains(&format!("pid {pid} has exited")));
}

#[test]
fn bad_parameters_are_refused_and_change_nothing() {
    let run = Scenario::new("task1-params")
        .stage(1)
        .step("no-target", "insmod taskmonitor.ko")
        .step("zero", "insmod taskmonitor.ko target=0")
        .step("negative", "insmod taskmonitor.ko target=-5")
        .step("not-a-number", "insmod taskmonitor.ko target=abc")
        .step("overflow", "insmod taskmonitor.ko target=99999999999")
        .step("no-process", "insmod taskmonitor.ko target=4000000")
        .step(
            "frequency-zero",
            "insmod taskmonitor.ko target=1 frequency=0",
        )
        .step(
            "frequency-high",
            "insmod taskmonitor.ko target=1 frequency=1001",
        )
        .step(
            "nothing-loaded",
            "cat /proc/modules; ls /sys/kernel/taskmonitor",
        )
        .step("log", "dmesg | grep -o 'taskmonitor: .*'")
        // A kernel thread has no memory map: sampled with zero memory.
        .step(
            "kthread",
            "insmod taskmonitor.ko target=2 frequency=10 && sleep 1",
        )
        .step("kthread-cat", "head -n 1 /sys/kernel/taskmonitor")
        .step("values", "grep . /sys/module/taskmonitor/parameters/*")
        .step("rmmod", "rmmod taskmonitor")
        .step("params", "modinfo -F parm ./taskmonitor.ko")
        .run()
        .unwrap();
    snapshot!("bad_parameters_are_refused_and_change_nothing", &run, &[]);

    for step in [
        "no-target",
        "zero",
        "negative",
        "not-a-number",
        "overflow",
        "no-process",
        "frequency-zero",
        "frequency-high",
    ] {
        assert_ne!(run.step(step).status, 0, "{step} was accepted");
    }
    // busybox insmod exits with the errno: EINVAL for a target with no process too.
    assert_eq!(run.step("no-process").status, 22);
    let kthread = history(&run, "kthread-cat", 2);
    assert_eq!(kthread.len(), 1);
    assert_eq!(
        (kthread[0].total_kb, kthread[0].stack_kb, kthread[0].data_kb),
        (0, 0, 0)
    );
}

#[test]
fn a_reused_pid_is_not_monitored() {
    let run = Scenario::new("task1-reuse")
        .stage(1)
        // A small PID space, and a target above the 300 reserved PIDs, where numbers are
        // handed out again after wrapping.
        .step(
            "pid-max",
            "echo 400 > /proc/sys/kernel/pid_max; \
             while [ $(sh -c 'echo $$') -lt 320 ]; do :; done; echo ok",
        )
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=20")
        .step("sleep", "sleep 1")
        .step(
            "kill",
            "kill $PID; sleep 1; cat /sys/kernel/taskmonitor > /tmp/before",
        )
        .step(
            "reuse",
            "while :; do sleep 100 & N=$!; [ $N -eq $PID ] && break; kill $N; wait $N; \
             done 2>/dev/null; sleep 1; echo pid reused by $(cat /proc/$PID/comm) \
             $(tr '\\0' ' ' < /proc/$PID/cmdline)",
        )
        .step(
            "after",
            "sleep 1; cmp /sys/kernel/taskmonitor /tmp/before && echo history unchanged",
        )
        .step("rmmod", "rmmod taskmonitor; kill $PID")
        .step("log", "dmesg | grep -o 'taskmonitor: .*' | grep -v taints")
        .run()
        .unwrap();
    snapshot!("a_reused_pid_is_not_monitored", &run, &[]);

    // The number now belongs to another process (its comm and argv, read after it has
    // exec'd: busybox forks through /proc/self/exe), which the module does not sample.
    assert_eq!(run.output("reuse"), "pid reused by sleep sleep 100\n");
    assert_eq!(run.output("after"), "history unchanged\n");
    let pid = burn_pid(&run);
    assert!(
        history(&run, "kill", pid).is_empty(),
        "kill step prints nothing"
    );
}
