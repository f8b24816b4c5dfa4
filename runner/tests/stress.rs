// SPDX-License-Identifier: GPL-2.0

//! Every stage, and the C reference (with stage 7's interface), under stress in the VM: readers with varied buffer sizes, reclaim, failslab
//! on the sample cache, processes spawned and killed, bad commands (stage 7), for
//! [`STRESS_SECONDS`]; then [`CYCLES`] insmod/rmmod cycles with live targets.
//!
//! Afterwards every line read was whole and well formed, CPU times never went down within
//! one process's history, sampling still works, and the runner's own checks hold: no
//! splat, no taint, lockdep on, nothing leaked after unload.

#[macro_use]
mod support;

use runner::output::parse_line;
use runner::{Run, Scenario, Stage7};
use std::time::Duration;
use support::SHRINKER;

/// How long the loops run, in the VM's seconds.
const STRESS_SECONDS: u32 = 20;

/// insmod/rmmod cycles after the stress.
const CYCLES: u32 = 20;

/// Checks a stream of reads, each ended by a `--` line: every line is a sample line, and
/// within one read a process's CPU times never increase from one line to the next (the
/// history is newest first). Prints the first offenders and a summary.
///
/// A debugfs read spans many pages, each rendered under the lock taken anew, while
/// samples come and go: order holds only because `start` finds its place again by the
/// number of samples pushed since the read began (`common/src/debugfs.rs`). An index
/// alone, as the kernel's `seq_list_start()` uses, would show some samples twice.
const CHECK_READS: &str = r#"cat > /tmp/check.awk <<'END'
/^--$/ { reads++; split("", u); split("", s); next }
!/^pid [0-9]+ usr [0-9]+ sys [0-9]+ total [0-9]+ stack [0-9]+ data [0-9]+$/ {
  if (bad++ < 3) print "malformed: " $0; next
}
{
  lines++; p = $2
  if ((p in u) && ($4 + 0 > u[p] || $6 + 0 > s[p])) { if (dis++ < 3) print "disorder: " $0 }
  u[p] = $4 + 0; s[p] = $6 + 0
}
END { printf "reads %d lines %d malformed %d disorder %d\n", reads, lines, bad, dis }
END
echo ok"#;

/// failslab's `times`: counted down at each failure it injects, so what is left at the end
/// tells how many it injected.
const FAULTS: u64 = 100_000_000;

/// Turns failslab on for the sample cache, at no probability yet (see
/// Documentation/fault-injection/fault-injection.rst; `verbose 0`: no stack per failure).
fn failslab() -> String {
    format!(
        "FS=/sys/kernel/debug/failslab
echo 1 > /sys/kernel/slab/task_sample/failslab
echo Y > $FS/cache-filter; echo N > $FS/ignore-gfp-wait; echo 0 > $FS/verbose
echo {FAULTS} > $FS/times; echo 1 > $FS/interval; echo 0 > $FS/probability; echo ok"
    )
}

/// What a stage has, from the lab's tasks.
struct Stage {
    n: u32,
    /// The C reference instead of stage 7's Rust (`n` is 7): the same stress.
    c: bool,
}

impl Stage {
    fn shrinker(&self) -> bool {
        self.n >= 2
    }
    fn cache(&self) -> bool {
        self.n >= 3
    }
    fn debugfs(&self) -> bool {
        self.n >= 6
    }
    fn multi(&self) -> bool {
        self.n >= 7
    }
    /// Samples per second. Stage 5's thread prints every sample: a slower rate keeps the
    /// console usable. Stage 7 samples 16 processes: at 100 Hz that is 1600 samples a
    /// second, about what the other stages take from one process at 1000 Hz.
    fn frequency(&self) -> u32 {
        match self.n {
            5 | 7 => 100,
            _ => 1000,
        }
    }

    /// The background loops of the stress step, each ending at `$END`.
    fn loops(&self) -> Vec<String> {
        let mut loops = vec![
            // sysfs with every buffer size from one byte to a page.
            "while running; do for bs in 1 7 64 4096; do \
             dd if=/sys/kernel/taskmonitor bs=$bs 2>/dev/null; echo --; done; \
             done | awk -f /tmp/check.awk > /tmp/sysfs.check"
                .to_string(),
            // Processes come and go.
            "while running; do sleep 0.05 & usleep 20000; done".to_string(),
        ];
        if self.debugfs() {
            loops.push(
                "while running; do cat /sys/kernel/debug/taskmonitor; echo --; \
                 dd if=/sys/kernel/debug/taskmonitor bs=29 2>/dev/null; echo --; \
                 done | awk -f /tmp/check.awk > /tmp/debugfs.check"
                    .to_string(),
            );
        }
        if self.shrinker() {
            loops.push(
                "while running; do for k in $(seq 1 10); do for n in 1 10 100; do \
                 echo \"0 0 $n\" > $S/scan; cat $S/count > /dev/null; usleep 20000; done; \
                 done; echo 2 > /proc/sys/vm/drop_caches; done"
                    .to_string(),
            );
        }
        if self.cache() {
            // One second in two, 30% of the cache's allocations fail.
            loops.push(
                "while running; do echo 30 > $FS/probability; sleep 1; \
                 echo 0 > $FS/probability; sleep 1; done; echo 0 > $FS/probability"
                    .to_string(),
            );
        }
        if self.multi() {
            // Writers racing on the same processes, with junk between: each answer must be
            // one the command can get from a race.
            loops.push(
                "while running; do for p in $P; do \
                 expect \"$p\" 'File exists'; expect \"-$p\" 'No such file'; done; \
                 expect junk 'Invalid argument'; expect '' 'Invalid argument'; done"
                    .to_string(),
            );
            loops.push(
                "while running; do for p in $P; do expect \"-$p\" 'No such file'; \
                 expect \"$p\" 'File exists'; done; expect -0 'Invalid argument'; done"
                    .to_string(),
            );
            // The checker owns A (monitored) and B (not): its probes show that no refused
            // command changed them.
            loops.push(
                "while running; do for a in $A; do must \"$a\" 'File exists'; done; \
                 for b in $B; do must \"-$b\" 'No such file'; done; \
                 must 12abc 'Invalid argument'; must 4000000 'No such process'; \
                 must 99999999999 'Invalid argument'; done"
                    .to_string(),
            );
            // Short-lived monitored processes: added, then killed while monitored.
            loops.push(
                "while running; do sleep 1000 & m=$!; must \"$m\" accepted; \
                 echo $m >> /tmp/mortals; usleep 200000; kill $m; wait $m; done"
                    .to_string(),
            );
        }
        loops
    }

    /// The shell functions stage 7's writers use: `answer CMD` writes CMD and prints
    /// `accepted` or the error; `expect CMD ERR` records any answer other than success or
    /// ERR; `must CMD ERR` records any answer other than ERR (`accepted` for success).
    const WRITERS: &'static str = r#"F=/sys/kernel/debug/taskmonitor
answer() { { echo "$1" > $F; } 2>&1 && echo accepted; }
expect() { a=$(answer "$1"); case "$a" in accepted|*"$2"*) ;; *) echo "$1: $a" >> /tmp/unexpected;; esac; }
must() { a=$(answer "$1"); case "$a" in *"$2"*) ;; *) echo "$1: $a" >> /tmp/unexpected;; esac; }
: > /tmp/unexpected; : > /tmp/mortals; echo ok"#;

    fn scenario(&self) -> Scenario {
        let n = self.n;
        let name = format!("stress-{n}");
        let mut s = if self.c {
            Scenario::new(&Stage7::C.name(&name)).stage7(Stage7::C)
        } else {
            Scenario::new(&name).stage(n)
        };
        s = s
            .timeout(Duration::from_secs(300))
            .step("check", CHECK_READS)
            .step("target", "T=$(burn); echo ok");
        if self.multi() {
            s = s.step("writers", Self::WRITERS).step(
                "processes",
                "P=''; A=''; B=''; for i in 1 2 3 4 5 6; do sleep 1000 & P=\"$P $!\"; done; \
                 for i in 1 2 3; do sleep 1000 & A=\"$A $!\"; sleep 1000 & B=\"$B $!\"; done; \
                 echo ok",
            );
        }
        s = s.step(
            "insmod",
            &format!(
                "insmod taskmonitor.ko target=$T frequency={}",
                self.frequency()
            ),
        );
        if self.shrinker() {
            s = s.step("shrinker", SHRINKER);
        }
        if self.cache() {
            s = s.step("failslab", &failslab());
        }
        if self.multi() {
            s = s.step(
                "add-a",
                "for a in $A; do must \"$a\" accepted; done; echo ok",
            );
        }
        let mut stress = format!(
            "END=$(( $(date +%s) + {STRESS_SECONDS} ))\nrunning() {{ [ $(date +%s) -lt $END ]; }}\nW=''\n"
        );
        for body in self.loops() {
            stress.push_str(&format!("( {body} ) 2>/dev/null & W=\"$W $!\"\n"));
        }
        stress.push_str("wait $W; echo stopped");
        s = s.step("stress", &stress);
        if self.cache() {
            s = s.step("faults-left", "cat $FS/times");
        }
        s = s.step("sysfs-reads", "cat /tmp/sysfs.check");
        if self.debugfs() {
            s = s.step("debugfs-reads", "cat /tmp/debugfs.check");
        }
        if self.multi() {
            s = s
                .step("unexpected", "cat /tmp/unexpected")
                .step("mortals", "cat /tmp/mortals")
                // Every accepted add is in the output: A's processes are sampled.
                .step(
                    "a-sampled",
                    "sleep 1; for a in $A; do grep -q \"^pid $a \" $F && echo sampled; done",
                );
        }
        // Sampling goes on after everything: the target's newest sample a second apart.
        s = s.step(
            "alive",
            "grep \"^pid $T \" /sys/kernel/taskmonitor | head -n 1; sleep 1; \
             grep \"^pid $T \" /sys/kernel/taskmonitor | head -n 1",
        );
        s = s.step("rmmod", "rmmod taskmonitor && echo unloaded");
        s.step("cycles", &self.cycles())
    }

    /// insmod/rmmod with a live target each time; every other target is killed while
    /// monitored, and from stage 6 an rmmod while a reader holds the debugfs file open
    /// must be refused.
    fn cycles(&self) -> String {
        let mut body = format!(
            "for i in $(seq 1 {CYCLES}); do\n\
             T2=$(burn)\n\
             insmod taskmonitor.ko target=$T2 frequency=1000 || {{ echo insmod $i failed; break; }}\n"
        );
        if self.multi() {
            body.push_str("for p in $P; do echo $p > $F; done\n");
        }
        body.push_str(
            "cat /sys/kernel/taskmonitor > /dev/null\n\
             [ $((i % 2)) -eq 0 ] && kill $T2\n\
             usleep 100000\n",
        );
        if self.debugfs() {
            // An open file holds the module: rmmod is refused until it is closed.
            body.push_str(
                "(exec 4</sys/kernel/debug/taskmonitor; sleep 0.5) & H=$!; usleep 100000\n\
                 rmmod taskmonitor 2>/dev/null && { echo rmmod $i with the file open; break; }\n\
                 wait $H\n",
            );
        }
        body.push_str(
            "rmmod taskmonitor || { echo rmmod $i failed; break; }\n\
             kill $T2 2>/dev/null\n",
        );
        body.push_str("echo $i; done | tail -n 1");
        body
    }
}

/// `reads R lines L malformed M disorder D` -> (R, L, M, D), or the offending lines.
fn read_summary(run: &Run, step: &str) -> [u64; 4] {
    let out = run.output(step);
    let last = out.lines().last().unwrap_or_default();
    let words: Vec<&str> = last.split(' ').collect();
    match words.as_slice() {
        ["reads", r, "lines", l, "malformed", m, "disorder", d] => {
            [r, l, m, d].map(|n| n.parse().expect("a count"))
        }
        _ => panic!("{step}: {out}"),
    }
}

fn stress(n: u32) {
    run_stress(Stage { n, c: false });
}

fn run_stress(stage: Stage) {
    let run = stage.scenario().run().unwrap();

    // How many reads fit in the time depends on the machine (and KASAN): at least one
    // round of each reader, and lines to check.
    let sysfs = read_summary(&run, "sysfs-reads");
    assert!(sysfs[0] >= 4 && sysfs[1] > 0, "few reads: {sysfs:?}");
    assert_eq!(sysfs[2..], [0, 0], "{}", run.output("sysfs-reads"));
    let debugfs = stage.debugfs().then(|| read_summary(&run, "debugfs-reads"));
    if let Some(debugfs) = debugfs {
        assert!(debugfs[0] >= 2 && debugfs[1] > 0, "few reads: {debugfs:?}");
        assert_eq!(debugfs[2..], [0, 0], "{}", run.output("debugfs-reads"));
    }
    if stage.multi() {
        assert_eq!(run.output("unexpected"), "", "answers no race explains");
        assert_eq!(run.output("a-sampled"), "sampled\n".repeat(3));
        // Every short-lived process was seen to exit and forgotten.
        let mortals: Vec<&str> = run.output("mortals").lines().collect();
        assert!(
            mortals.len() >= 10,
            "{} short-lived processes",
            mortals.len()
        );
        for m in mortals {
            let exited = format!("pid {m} has exited, no longer monitored");
            let removed = format!("stopped monitoring pid {m}");
            assert!(
                run.console.contains(&exited) || run.console.contains(&removed),
                "pid {m} never left the monitors"
            );
        }
    }

    let alive: Vec<_> = run
        .output("alive")
        .lines()
        .map(|l| parse_line(l).unwrap())
        .collect();
    assert_eq!(alive.len(), 2, "{}", run.output("alive"));
    assert!(
        alive[1].utime + alive[1].stime > alive[0].utime + alive[0].stime,
        "sampling stopped: {alive:?}"
    );
    assert_eq!(run.output("rmmod"), "unloaded\n");
    assert_eq!(run.output("cycles").trim(), CYCLES.to_string());

    record(&stage, &run, sysfs, debugfs);
}

/// Writes the run's figures to `target/reliability/` for the reliability table
/// (`scripts/reliability-table.sh` turns them into Markdown).
fn record(stage: &Stage, run: &Run, sysfs: [u64; 4], debugfs: Option<[u64; 4]>) {
    let kernel = kernel_name();
    let name = if stage.c {
        format!("{} (C)", stage.n)
    } else {
        stage.n.to_string()
    };
    let mut figures = vec![
        ("stage", name),
        ("kernel", kernel.clone()),
        ("stress_seconds", STRESS_SECONDS.to_string()),
        ("frequency", stage.frequency().to_string()),
        ("cycles", CYCLES.to_string()),
        ("sysfs_reads", sysfs[0].to_string()),
        ("sysfs_lines", sysfs[1].to_string()),
    ];
    if let Some(debugfs) = debugfs {
        figures.push(("debugfs_reads", debugfs[0].to_string()));
        figures.push(("debugfs_lines", debugfs[1].to_string()));
    }
    if stage.cache() {
        let left: u64 = run.output("faults-left").trim().parse().expect("times");
        figures.push(("faults_injected", (FAULTS - left).to_string()));
    }
    if stage.multi() {
        let bad = run.console.matches("bad command (").count();
        figures.push(("bad_commands", bad.to_string()));
        let mortals = run.output("mortals").lines().count();
        figures.push(("exited_while_monitored", mortals.to_string()));
    }
    let dir = runner::repo_root().join("target/reliability");
    std::fs::create_dir_all(&dir).unwrap();
    let text: String = figures.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let c = if stage.c { "c" } else { "" };
    let file = dir.join(format!("stage{}{c}-{kernel}.txt", stage.n));
    std::fs::write(file, text).unwrap();
}

/// `kasan` when the tests run on the KASAN kernel, else `default`.
fn kernel_name() -> String {
    String::from(if runner::kasan() { "kasan" } else { "default" })
}

#[test]
fn stage1_under_stress() {
    stress(1);
}

#[test]
fn stage2_under_stress() {
    stress(2);
}

#[test]
fn stage3_under_stress() {
    stress(3);
}

#[test]
fn stage4_under_stress() {
    stress(4);
}

#[test]
fn stage5_under_stress() {
    stress(5);
}

#[test]
fn stage6_under_stress() {
    stress(6);
}

#[test]
fn stage7_under_stress() {
    stress(7);
}

#[test]
fn c_reference_under_stress() {
    run_stress(Stage { n: 7, c: true });
}
