// SPDX-License-Identifier: GPL-2.0

//! Stage 6 (task6-debugfs) in the VM: `/sys/kernel/debug/taskmonitor` lists the whole
//! history through seq_file, whatever the read size, during sampling and shrinking, and
//! an open file keeps the module loaded.

#[macro_use]
mod support;

use runner::output::{check_newest_first, parse_history};
use runner::Scenario;
use support::{burn_pid, freed_at_unload, numbers, BURN, SHRINKER};

const FILE: &str = "/sys/kernel/debug/taskmonitor";

#[test]
fn the_whole_history_reads_the_same_with_any_buffer_size() {
    let run = Scenario::new("task6-complete")
        .stage(6)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=1000")
        // Thousands of samples.
        .step("sleep", "sleep 6")
        // The target's exit stops sampling: the history no longer changes.
        .step("kill", "kill $PID; sleep 1")
        .step("shrinker", SHRINKER)
        .step("count", "echo count $(cut -d' ' -f2 $S/count)")
        .step("read", &format!("cat {FILE} > /tmp/all; wc -c < /tmp/all"))
        .step(
            "small-reads",
            &format!(
                "dd if={FILE} of=/tmp/bs1 bs=1 2>/dev/null; dd if={FILE} of=/tmp/bs7 bs=7 \
                 2>/dev/null; cmp /tmp/all /tmp/bs1 && cmp /tmp/all /tmp/bs7 && echo identical"
            ),
        )
        .step("history", "cat /tmp/all")
        .step("rmmod", "rmmod taskmonitor")
        .run()
        .unwrap();
    snapshot!(
        "the_whole_history_reads_the_same_with_any_buffer_size",
        &run,
        &["read", "history"]
    );

    let pid = burn_pid(&run);
    let count = numbers(&run, "count")[0] as usize;
    let bytes = numbers(&run, "read")[0];
    let samples = parse_history(run.output("history")).unwrap();
    check_newest_first(&samples).unwrap();
    assert!(samples.iter().all(|s| s.pid == pid));
    // Thousands of samples, well over a page, and complete.
    println!("{} samples, {bytes} bytes", samples.len());
    assert!(samples.len() >= 2000, "{} samples", samples.len());
    assert!(bytes > 16 * 4096, "{bytes} bytes");
    assert_eq!(samples.len(), count);
    // The unload line is printed once the shrinker and the thread are gone: exactly the
    // lines read.
    assert_eq!(freed_at_unload(&run), samples.len());
    assert_eq!(run.output("small-reads"), "identical\n");
}

#[test]
fn reads_during_sampling_and_shrinking_give_whole_lines() {
    let run = Scenario::new("task6-concurrent")
        .stage(6)
        .step("burn", BURN)
        // 200 Hz: a history of several pages, still growing while the shrinker eats its
        // end. (At 500 Hz, which the thread now really reaches, the thirty 13-byte reads
        // of an ever longer history outgrew the run's time limit on a fresh clone.)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=200")
        .step("sleep", "sleep 1")
        .step("shrinker", SHRINKER)
        .step(
            "shrink",
            "(for i in $(seq 1 100); do echo '0 0 5' > $S/scan; usleep 10000; done) & \
             echo started",
        )
        .step(
            "reads",
            &format!(
                "for i in $(seq 1 30); do dd if={FILE} bs=13 2>/dev/null >> /tmp/reads; \
                 cat {FILE} >> /tmp/reads; done; wait; echo done"
            ),
        )
        .step("lines", "wc -l < /tmp/reads")
        .step("check", "cat /tmp/reads")
        .step("rmmod", "rmmod taskmonitor")
        .run()
        .unwrap();
    snapshot!(
        "reads_during_sampling_and_shrinking_give_whole_lines",
        &run,
        &["lines", "check"]
    );

    // Every line of every read is a whole sample line (the order between reads may
    // repeat or skip samples, since the history changes between pages).
    let all = parse_history(run.output("check")).unwrap();
    assert!(all.len() > 30 * 100, "{} lines in 60 reads", all.len());
}

#[test]
fn an_open_file_keeps_the_module_loaded() {
    let run = Scenario::new("task6-open")
        .stage(6)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=10")
        .step("open", &format!("exec 4< {FILE}; echo opened"))
        .step("rmmod-refused", "rmmod taskmonitor")
        .step("still-there", &format!("head -c 4 {FILE}; echo"))
        .step("read-open", "head -c 4 <&4; echo")
        .step("close", "exec 4<&-; echo closed")
        .step("rmmod", "rmmod taskmonitor")
        .run()
        .unwrap();
    snapshot!("an_open_file_keeps_the_module_loaded", &run, &[]);

    assert_ne!(run.step("rmmod-refused").status, 0);
    assert_eq!(run.step("rmmod").status, 0);
}
