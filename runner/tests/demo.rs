// SPDX-License-Identifier: GPL-2.0

//! `make demo` in the VM: every step of every stage's demo does what the demo declares (exits
//! 0 without a shell error, or fails with its expected error), and each demo's output shows
//! what its heading claims.
//!
//! One test per stage's demo; `vm demo` runs them in order.

mod support;

use runner::demo::{demos, Expect};
use runner::output::{check_newest_first, parse_history, SampleLine};
use runner::Run;
use support::{history, numbers, PAGE_SIZE};

/// `make demo` shows the seven stages, in order.
#[test]
fn there_is_a_demo_for_each_stage_in_order() {
    let stages: Vec<u32> = demos().iter().map(|d| d.stage).collect();
    assert_eq!(stages, (1..=7).collect::<Vec<_>>());
}

// One test per demo, so that two run at a time (the tests of a file run in parallel): the
// demos mostly wait for samples, and none measures time.
#[test]
fn stage1_demo_does_what_it_declares() {
    demo_does_what_it_declares(1);
}

#[test]
fn stage2_demo_does_what_it_declares() {
    demo_does_what_it_declares(2);
}

#[test]
fn stage3_demo_does_what_it_declares() {
    demo_does_what_it_declares(3);
}

#[test]
fn stage4_demo_does_what_it_declares() {
    demo_does_what_it_declares(4);
}

#[test]
fn stage5_demo_does_what_it_declares() {
    demo_does_what_it_declares(5);
}

#[test]
fn stage6_demo_does_what_it_declares() {
    demo_does_what_it_declares(6);
}

#[test]
fn stage7_demo_does_what_it_declares() {
    demo_does_what_it_declares(7);
}

/// Runs stage `n`'s demo: every step has its declared outcome, each expected failure says
/// why, and the output shows what the demo claims.
fn demo_does_what_it_declares(n: u32) {
    let demo = demos()
        .into_iter()
        .find(|d| d.stage == n)
        .unwrap_or_else(|| panic!("no demo of stage {n}"));
    let run = demo
        .scenario
        .run()
        .unwrap_or_else(|e| panic!("{}: {e}", demo.title));
    if let Err(failure) = demo.check(&run.steps) {
        panic!("{failure}");
    }
    // The transcript shows why each expected failure is one.
    let transcript = demo.transcript(&run.steps);
    for step in &run.steps {
        if let Expect::Failure { why, .. } = demo.expect(&step.name) {
            assert!(transcript.contains(why), "{transcript}");
        }
    }
    match n {
        1 => stage1(&run),
        2 => stage2(&run),
        3 => stage3(&run),
        4 => stage4(&run),
        5 => stage5(&run),
        6 => stage6(&run),
        7 => stage7(&run),
        n => panic!("no checks for the demo of stage {n}"),
    }
}

/// The PID after the last space of the `burn` step's output.
fn burner(run: &Run) -> i32 {
    let out = run.output("burn").trim();
    out.rsplit(' ')
        .next()
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("burn printed {out:?}"))
}

/// The sample lines of a step's output, checked whole and newest first.
fn samples(run: &Run, step: &str) -> Vec<SampleLine> {
    let samples = parse_history(run.output(step)).unwrap_or_else(|e| panic!("{step}: {e}"));
    check_newest_first(&samples).unwrap();
    samples
}

/// The number after `key:` in a `grep . FILE...` output.
fn value(out: &str, key: &str) -> u64 {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no number for {key} in {out:?}"))
}

/// History in sysfs, the process's memory beside it, the module's log.
fn stage1(run: &Run) {
    let pid = burner(run);
    assert!(history(run, "cat", pid).len() >= 2, "{}", run.output("cat"));
    let status = run.output("status");
    for field in ["VmSize:", "VmStk:", "VmData:"] {
        assert!(status.contains(field), "{status}");
    }
    let log = run.output("dmesg");
    assert!(
        log.lines().any(|l| l.contains(&format!("pid {pid} "))),
        "{log}"
    );
}

/// The shrinker's count, a scan of five that frees the oldest, then reclaim.
fn stage2(run: &Run) {
    let pid = burner(run);
    assert!(
        run.output("dir")
            .starts_with("/sys/kernel/debug/shrinker/taskmonitor-"),
        "{}",
        run.output("dir")
    );
    // `count` is the memory cgroup's inode, then the count.
    let count = numbers(run, "count")[1];
    assert!(count >= 5, "{count} samples, too few to scan five");
    let oldest = history(run, "oldest", pid);
    assert_eq!(oldest.len(), 5);
    let oldest2 = history(run, "oldest2", pid);
    assert_eq!(oldest2.len(), 2);
    // The five oldest went: the oldest left is no older than the newest of the five.
    let (left, went) = (oldest2[1], oldest[0]);
    assert!(
        left.utime >= went.utime && left.stime >= went.stime,
        "{left:?} is older than {went:?}"
    );
    // Reclaim through drop_caches: fewer samples are left than the scan left.
    let count2 = numbers(run, "count2")[1];
    let left = *numbers(run, "count3").last().unwrap();
    assert!(
        left < count2,
        "{left} samples left after reclaim, {count2} before"
    );
}

/// The slab cache's figures, and the cache gone after rmmod.
fn stage3(run: &Run) {
    let sizes = run.output("sizes");
    assert!(sizes.contains("sizeof(Sample) = "), "{sizes}");
    let slab = run.output("slab");
    let object_size = value(slab, "object_size");
    let per_slab = value(slab, "objs_per_slab");
    let objects = value(slab, "objects");
    assert!(object_size > 0 && per_slab > 0 && objects > 0, "{slab}");
    assert!(
        sizes.contains(&format!("task_sample object size = {object_size}")),
        "{sizes}\n{slab}"
    );
    assert_ne!(run.step("gone").status, 0);
}

/// failslab fails every sample's allocation; the module says so and unloads.
fn stage4(run: &Run) {
    let log = run.output("log");
    assert!(
        !log.is_empty() && log.lines().all(|l| l.contains("no memory")),
        "{log}"
    );
    assert!(!run.output("unload").trim().is_empty());
}

/// The thread prints each sample through its own reference.
fn stage5(run: &Run) {
    let pid = burner(run);
    let printed = run.output("printed");
    assert!(
        printed
            .lines()
            .any(|l| l.contains("references: ") && l.contains(&format!("pid {pid} "))),
        "{printed}"
    );
}

/// debugfs shows more than the page sysfs can, read whole even 7 bytes at a time.
fn stage6(run: &Run) {
    let pid = burner(run);
    let lines = numbers(run, "lines")[0];
    let bytes = numbers(run, "bytes")[0] as usize;
    assert!(lines >= 2, "{lines} lines");
    assert!(bytes > PAGE_SIZE, "{bytes} bytes: no more than sysfs shows");
    let sysfs = numbers(run, "sysfs")[0] as usize;
    assert!(sysfs < PAGE_SIZE, "{sysfs} bytes in sysfs");
    // dd's own summary: "R+P records in" with 7-byte reads.
    let oldest = run.output("oldest");
    let records = oldest
        .lines()
        .find_map(|l| l.strip_suffix(" records in"))
        .and_then(|r| r.split('+').next()?.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no dd summary in {oldest:?}"));
    assert!(
        records >= bytes / 7,
        "{records} reads of 7 bytes, {bytes} bytes"
    );
    let tail: Vec<SampleLine> = oldest
        .lines()
        .filter(|l| l.starts_with("pid "))
        .map(|l| runner::output::parse_line(l).unwrap())
        .collect();
    assert_eq!(tail.len(), 2, "{oldest}");
    assert!(tail.iter().all(|s| s.pid == pid), "{oldest}");
}

/// Four processes added, one removed, a bad command refused, one exited: two are left.
fn stage7(run: &Run) {
    let pids: Vec<i32> = run
        .output("burn")
        .trim()
        .strip_prefix("pids ")
        .map(|p| p.split(' ').filter_map(|p| p.parse().ok()).collect())
        .unwrap_or_default();
    let [a, b, c, d] = pids[..] else {
        panic!("burn printed {:?}", run.output("burn"));
    };
    let history = samples(run, "history");
    for pid in [a, b, c, d] {
        assert!(history.iter().any(|s| s.pid == pid), "no sample of {pid}");
    }
    let newest = samples(run, "newest");
    assert_eq!(newest.len(), 4);
    assert!(
        newest.iter().all(|s| s.pid == a || s.pid == d),
        "{}",
        run.output("newest")
    );
    let log = run.output("log");
    for line in [
        format!("monitoring pid {a}"),
        format!("stopped monitoring pid {b}"),
        format!("pid {c} has exited"),
        format!("monitoring pid {d}"),
    ] {
        assert!(log.contains(&line), "no {line:?} in\n{log}");
    }
}
