// SPDX-License-Identifier: GPL-2.0

//! Stage 7 (task7-multi) in the VM: processes added and removed by writing to
//! `/sys/kernel/debug/taskmonitor`, every bad input refused with its errno and no change,
//! many processes, processes that exit, and everything at once.
//!
//! Each test runs twice: on stage 7's Rust module and on the C reference
//! (`c-reference/`), which must give the same output, so both share one snapshot.

#[macro_use]
mod support;

use runner::output::parse_history;
use runner::{Run, Scenario, Stage7};
use std::collections::BTreeSet;
use support::SHRINKER;

/// `try INPUT LABEL`: writes INPUT (printf escapes allowed) in a single `write()`, and
/// prints the result: `accepted`, or the error. The command goes through a file that
/// `onewrite` (runner/guest/) writes in exactly one `write()`: printf, into the debugfs
/// file or a pipe, may split `1\n\n` into two writes, which would be two commands, and
/// makes none for an empty string.
const TRY: &str = r#"try() {
  printf "$1" > /tmp/command
  if out=$(onewrite /tmp/command /sys/kernel/debug/taskmonitor); then
    echo "$2: accepted"
  else
    echo "$2: $out"
  fi
}"#;

/// The PIDs the history has samples of.
fn sampled_pids(run: &Run, step: &str) -> BTreeSet<i32> {
    parse_history(run.output(step))
        .unwrap()
        .iter()
        .map(|s| s.pid)
        .collect()
}

#[test]
fn bad_commands_are_refused_with_their_errno_and_change_nothing() {
    bad_commands(Stage7::Rust);
}

#[test]
fn bad_commands_are_refused_with_their_errno_and_change_nothing_c() {
    bad_commands(Stage7::C);
}

fn bad_commands(module: Stage7) {
    let run = Scenario::new(&module.name("task7-commands"))
        .stage7(module)
        .file("/bin/onewrite", runner::guest_tool("onewrite"), 0o755)
        .step("burn", "A=$(burn); B=$(burn); echo started two processes")
        .step("insmod", "insmod taskmonitor.ko target=$A frequency=10")
        .step("helper", TRY)
        .step(
            "table",
            "try '' 'empty (a write of 0 bytes)'; try '\\n' 'newline only'; try 'abc\\n' 'not a number'; \
             try '-\\n' 'lone minus'; try '+\\n' 'lone plus'; try '+12\\n' 'plus sign'; \
             try '12abc\\n' 'trailing garbage'; try ' 12\\n' 'leading space'; \
             try '12 \\n' 'trailing space'; try '1\\n\\n' 'two newlines'; \
             try '99999999999\\n' 'overflow'; try '-2147483648\\n' 'negative overflow'; \
             try '0\\n' 'zero'; try '-0\\n' 'negative zero'; \
             try '4000000\\n' 'no such process'; try \"$A\\n\" 'already monitored'; \
             try \"-$B\\n\" 'not monitored'; \
             try \"$(head -c 33 /dev/zero | tr '\\0' 1)\" '33 digits (longer than a command)'; \
             try \"$(head -c 100 /dev/zero | tr '\\0' 1)\" 'oversized write (not even read)'",
        )
        .step(
            "log1",
            "dmesg | grep -c -e 'monitoring pid' -e 'stopped monitoring'",
        )
        .step(
            "add",
            "try \"$B\\n\" 'add B'; try \"$B\" 'add B again, no newline'",
        )
        .step(
            "remove",
            "try \"-$A\\n\" 'remove A'; try \"-$A\\n\" 'remove A again'",
        )
        .step("sleep", "sleep 1")
        .step("history", "cat /sys/kernel/debug/taskmonitor")
        .step("pids", "echo A=$A B=$B")
        .step("rmmod", "rmmod taskmonitor")
        .step(
            "log",
            "dmesg | grep -o 'taskmonitor: .*' | grep -v -e sizeof -e taints",
        )
        .run()
        .unwrap();
    snapshot!(
        "bad_commands_are_refused_and_change_nothing",
        &run,
        &["history", "pids"]
    );
    // The module loaded is the one asked for: their size lines (left out of the snapshot)
    // name the sample type of their language.
    let sizes = match module {
        Stage7::Rust => "taskmonitor: sizeof(Sample) = ",
        Stage7::C => "taskmonitor: sizeof(struct task_sample) = ",
    };
    assert!(run.console.contains(sizes), "no line {sizes:?}");

    // Each command got its errno (the book's table).
    const EINVAL: &str = "Invalid argument (os error 22)";
    let expected = [
        ("empty (a write of 0 bytes)", EINVAL),
        ("newline only", EINVAL),
        ("not a number", EINVAL),
        ("lone minus", EINVAL),
        ("lone plus", EINVAL),
        ("plus sign", EINVAL),
        ("trailing garbage", EINVAL),
        ("leading space", EINVAL),
        ("trailing space", EINVAL),
        ("two newlines", EINVAL),
        ("overflow", EINVAL),
        ("negative overflow", EINVAL),
        ("zero", EINVAL),
        ("negative zero", EINVAL),
        ("no such process", "No such process (os error 3)"),
        ("already monitored", "File exists (os error 17)"),
        ("not monitored", "No such file or directory (os error 2)"),
        ("33 digits (longer than a command)", EINVAL),
        ("oversized write (not even read)", EINVAL),
    ];
    let results: Vec<(&str, &str)> = run
        .output("table")
        .lines()
        .map(|l| l.split_once(": ").unwrap_or((l, "")))
        .collect();
    assert_eq!(results, expected);

    // Each refused command left the set of monitored processes as it was: only the
    // first process was added before the table, and nothing since.
    assert_eq!(run.output("log1").trim(), "1");
    let pids: Vec<i32> = run
        .output("pids")
        .split_whitespace()
        .map(|w| w[2..].parse().unwrap())
        .collect();
    let (a, b) = (pids[0], pids[1]);
    let sampled = sampled_pids(&run, "history");
    assert!(sampled.contains(&a) && sampled.contains(&b), "{sampled:?}");
    assert_eq!(sampled.len(), 2);
}

#[test]
fn many_processes_come_and_go() {
    many_processes(Stage7::Rust);
}

#[test]
fn many_processes_come_and_go_c() {
    many_processes(Stage7::C);
}

fn many_processes(module: Stage7) {
    let run = Scenario::new(&module.name("task7-many"))
        .stage7(module)
        .timeout(std::time::Duration::from_secs(300))
        .step("insmod", "insmod taskmonitor.ko frequency=5")
        .step(
            "spawn",
            "P=''; for i in $(seq 1 120); do sleep 1000 & P=\"$P $!\"; done; echo spawned",
        )
        .step(
            "add",
            "n=0; for p in $P; do echo $p > /sys/kernel/debug/taskmonitor && n=$((n+1)); done; \
             echo added $n",
        )
        .step("sleep", "sleep 1")
        .step(
            "sampled",
            "cut -d' ' -f2 /sys/kernel/debug/taskmonitor | sort -u | wc -l",
        )
        .step(
            "exit",
            "for p in $(echo $P | cut -d' ' -f1-20); do kill $p; wait $p; done; \
             sleep 1; echo killed 20",
        )
        .step(
            "exited",
            "dmesg | grep -c 'has exited, no longer monitored'",
        )
        .step(
            "remove",
            "n=0; for p in $(echo $P | cut -d' ' -f21-100); do \
             echo -$p > /sys/kernel/debug/taskmonitor && n=$((n+1)); done; echo removed $n",
        )
        .step("stopped", "dmesg | grep -c 'stopped monitoring'")
        // 20 still monitored: unloading must free them.
        .step("rmmod", "rmmod taskmonitor")
        .step("cleanup", "kill $P 2>/dev/null; echo cleaned")
        .run()
        .unwrap();
    // The shell's "Terminated" notices come and go: the counts below are what matters.
    snapshot!("many_processes_come_and_go", &run, &["exit"]);
    assert_eq!(run.output("add").trim(), "added 120");
    assert_eq!(run.output("sampled").trim(), "120");
    assert_eq!(run.output("exited").trim(), "20");
    assert_eq!(run.output("remove").trim(), "removed 80");
    assert_eq!(run.output("stopped").trim(), "80");
}

#[test]
fn writers_readers_sampling_and_shrinking_at_once() {
    at_once(Stage7::Rust);
}

#[test]
fn writers_readers_sampling_and_shrinking_at_once_c() {
    at_once(Stage7::C);
}

fn at_once(module: Stage7) {
    let run = Scenario::new(&module.name("task7-concurrent"))
        .stage7(module)
        .step("insmod", "insmod taskmonitor.ko frequency=200")
        .step(
            "spawn",
            "P=''; for i in $(seq 1 10); do sleep 1000 & P=\"$P $!\"; done; echo spawned",
        )
        .step("shrinker", SHRINKER)
        .step(
            "load",
            "F=/sys/kernel/debug/taskmonitor
             (for i in $(seq 1 15); do for p in $P; do echo $p > $F; done;
                printf 'junk' > $F; for p in $P; do echo -$p > $F; done; done) 2>/dev/null &
             W1=$!
             (for i in $(seq 1 15); do for p in $P; do echo $p > $F; echo -$p > $F; done;
                echo -0 > $F; done) 2>/dev/null &
             W2=$!
             (for i in $(seq 1 150); do echo '0 0 5' > $S/scan; usleep 10000; done) &
             W3=$!
             for i in $(seq 1 20); do cat $F >> /tmp/reads; dd if=$F bs=29 2>/dev/null >> /tmp/reads;
               cat /sys/kernel/taskmonitor >> /tmp/reads; done
             # Not a bare `wait`: the sleeping targets are children of this shell too.
             wait $W1 $W2 $W3; echo done",
        )
        .step("reads", "cat /tmp/reads")
        .step("add-some", "for p in $P; do echo $p > $F; done; sleep 1; echo added")
        // Whatever the writers left, all ten are monitored now: one period samples each.
        .step("newest", "head -n 10 $F")
        .step("pids", "echo $P")
        // Monitors left: unloading frees them.
        .step("rmmod", "rmmod taskmonitor")
        .step("cleanup", "kill $P; echo cleaned")
        .run()
        .unwrap();
    snapshot!(
        "writers_readers_sampling_and_shrinking_at_once",
        &run,
        &["reads", "newest", "pids"]
    );
    // Every line read is whole and well formed, whatever happened meanwhile.
    let lines = parse_history(run.output("reads")).unwrap();
    assert!(!lines.is_empty());
    // The racing commands left the monitor list consistent: adding the ten again (some
    // already there, refused with EEXIST) gives exactly the ten.
    let spawned: BTreeSet<i32> = run
        .output("pids")
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(sampled_pids(&run, "newest"), spawned);
}
