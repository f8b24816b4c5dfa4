// SPDX-License-Identifier: GPL-2.0

//! The demonstrations behind `make demo`: for each stage, the commands a student would type,
//! each with the outcome it must have.
//!
//! `vm demo` prints them; `runner/tests/demo.rs` runs the same [`demos`] and checks them,
//! so a demo that starts printing an error fails a test, not only a reader.

use crate::{Scenario, Step};
use std::fmt;

/// What a demo step must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Exit 0 and print no shell error (see [`SHELL_ERRORS`]).
    Success,
    /// Exit non-zero and print `error`: the failure is the point of the step, for the reason
    /// `why`, which the demo prints after it.
    Failure {
        error: &'static str,
        why: &'static str,
    },
}

/// What busybox prints when a command fails. A step expected to succeed must print none of
/// them, so that `a; b` cannot hide `a`'s failure behind `b`'s exit status.
pub const SHELL_ERRORS: &[&str] = &[
    "No such file or directory",
    "not found",
    "can't ",
    "Invalid argument",
    "Permission denied",
    "Operation not permitted",
    "write error",
    "Device or resource busy",
    "No such process",
    "invalid number",
    "applet not found",
];

/// One stage's demonstration.
#[derive(Clone)]
pub struct Demo {
    /// The stage whose module it loads.
    pub stage: u32,
    /// The heading `vm demo` prints.
    pub title: &'static str,
    /// The VM run.
    pub scenario: Scenario,
    /// Each step's name and expected outcome, in order.
    expected: Vec<(String, Expect)>,
}

impl Demo {
    /// A demo of stage `stage` with no steps yet; the scenario is called `demo-taskN`.
    fn new(stage: u32, title: &'static str) -> Self {
        Self {
            stage,
            title,
            scenario: Scenario::new(&format!("demo-task{stage}")).stage(stage),
            expected: Vec::new(),
        }
    }

    /// Adds a step that must exit 0 and print no shell error.
    fn step(mut self, name: &str, command: &str) -> Self {
        self.scenario = self.scenario.step(name, command);
        self.expected.push((name.to_string(), Expect::Success));
        self
    }

    /// Adds a step that must fail and print `error`, because `why` (which is printed).
    fn fails(mut self, name: &str, command: &str, error: &'static str, why: &'static str) -> Self {
        self.scenario = self.scenario.step(name, command);
        self.expected
            .push((name.to_string(), Expect::Failure { error, why }));
        self
    }

    /// The expected outcome of the step called `name`.
    pub fn expect(&self, name: &str) -> &Expect {
        self.expected
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
            .unwrap_or_else(|| panic!("no demo step {name}"))
    }

    /// The first of `steps` (a run's steps, in order) whose outcome is not the declared one;
    /// also a declared step that did not report at all.
    pub fn check(&self, steps: &[Step]) -> Result<(), Box<StepFailure>> {
        for (i, (name, expect)) in self.expected.iter().enumerate() {
            let failure = |step: Option<&Step>, problem: String| {
                Box::new(StepFailure {
                    stage: self.stage,
                    title: self.title,
                    step: step.cloned().unwrap_or_else(|| Step {
                        name: name.clone(),
                        command: String::new(),
                        output: String::new(),
                        status: -1,
                    }),
                    index: i,
                    problem,
                })
            };
            let Some(step) = steps.get(i).filter(|s| s.name == *name) else {
                return Err(failure(None, "the step did not report".into()));
            };
            let problem = match expect {
                Expect::Success if step.status != 0 => {
                    Some(format!("exit status {}, expected 0", step.status))
                }
                Expect::Success => SHELL_ERRORS
                    .iter()
                    .find(|e| step.output.contains(*e))
                    .map(|e| format!("exit status 0, but it printed the error {e:?}")),
                Expect::Failure { .. } if step.status == 0 => {
                    Some("exit status 0, but the step must fail".into())
                }
                Expect::Failure { error, .. } if !step.output.contains(error) => Some(format!(
                    "exit status {}, as expected, but without the error {error:?}",
                    step.status
                )),
                Expect::Failure { .. } => None,
            };
            if let Some(problem) = problem {
                return Err(failure(Some(step), problem));
            }
        }
        Ok(())
    }

    /// The transcript `vm demo` prints of `steps`: each command after `# `, its output, and
    /// for an expected failure its exit status and why.
    pub fn transcript(&self, steps: &[Step]) -> String {
        let mut out = String::new();
        for step in steps {
            out.push_str(&format!("# {}\n{}", step.command, step.output));
            if !step.output.is_empty() && !step.output.ends_with('\n') {
                out.push('\n');
            }
            if let Some(Expect::Failure { why, .. }) = self
                .expected
                .iter()
                .find(|(n, _)| *n == step.name)
                .map(|(_, e)| e)
            {
                out.push_str(&format!(
                    "(exit status {}, as expected: {why})\n",
                    step.status
                ));
            }
        }
        out
    }
}

/// A demo step whose outcome is not the declared one.
#[derive(Debug)]
pub struct StepFailure {
    /// The demo's stage.
    pub stage: u32,
    /// The demo's heading.
    pub title: &'static str,
    /// The step, as it ran.
    pub step: Step,
    /// Its position in the demo, from 0: the steps before it went as declared.
    pub index: usize,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "Stage 3 (task3-slab)", from the heading.
        let stage = self.title.split(':').next().unwrap_or_default();
        writeln!(
            f,
            "demo FAILED: {stage}, step {} `{}`: {}",
            self.index + 1,
            self.step.name,
            self.problem
        )?;
        writeln!(f, "  command: {}", self.step.command)?;
        writeln!(f, "  status:  {}", self.step.status)?;
        writeln!(f, "  output:")?;
        for line in self.step.output.lines() {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

/// The shell starts a CPU burner (`$PID`) and monitors it at `frequency`.
fn start(stage: u32, title: &'static str, frequency: u32) -> Demo {
    Demo::new(stage, title)
        .step(
            "burn",
            "PID=$(burn) && echo \"started a CPU-burning process, pid $PID\"",
        )
        .step(
            "insmod",
            &format!("insmod taskmonitor.ko target=$PID frequency={frequency}"),
        )
}

/// Each stage's demonstration, in stage order.
///
/// Every step must fail on its own failure: `a && b`, not `a; b`, and no pipe whose last
/// command succeeds when the first one fails.
pub fn demos() -> Vec<Demo> {
    vec![
        start(
            1,
            "Stage 1 (task1-history): history of samples in /sys/kernel/taskmonitor",
            4,
        )
        .step("sleep", "sleep 3")
        .step("cat", "cat /sys/kernel/taskmonitor")
        .step("status", "grep -E 'Vm(Size|Stk|Data)' /proc/$PID/status")
        .step("rmmod", "rmmod taskmonitor")
        .step("dmesg", "dmesg | grep taskmonitor:"),
        start(
            2,
            "Stage 2 (task2-shrinker): reclaim frees the oldest samples",
            20,
        )
        .step("sleep", "sleep 2")
        .step(
            "dir",
            "S=$(ls -d /sys/kernel/debug/shrinker/taskmonitor-*) && echo $S",
        )
        .step("count", "cat $S/count")
        .step("oldest", "tail -n 5 /sys/kernel/taskmonitor")
        .step("scan", "echo '0 0 5' > $S/scan")
        .step("count2", "cat $S/count")
        .step("oldest2", "tail -n 2 /sys/kernel/taskmonitor")
        .step("drop", "echo 2 > /proc/sys/vm/drop_caches")
        .step("count3", "cat $S/count && wc -l /sys/kernel/taskmonitor")
        .step("rmmod", "rmmod taskmonitor"),
        start(
            3,
            "Stage 3 (task3-slab): samples in their own slab cache",
            10,
        )
        .step("sleep", "sleep 2")
        .step("sizes", "dmesg | grep sizeof")
        .step(
            "slab",
            "(cd /sys/kernel/slab/task_sample && grep . object_size objs_per_slab objects)",
        )
        .step("rmmod", "rmmod taskmonitor")
        .fails(
            "gone",
            "ls /sys/kernel/slab/task_sample",
            "No such file or directory",
            "the cache went away with the module",
        ),
        start(
            4,
            "Stage 4 (task4-mempool): a reserve of samples when the cache fails",
            50,
        )
        .step("sleep", "sleep 1")
        .step(
            "failslab",
            "F=/sys/kernel/debug/failslab && \
             echo 1 > /sys/kernel/slab/task_sample/failslab && \
             echo Y > $F/cache-filter && echo N > $F/ignore-gfp-wait && \
             echo 0 > $F/verbose && echo -1 > $F/times && echo 100 > $F/probability",
        )
        .step("sleep2", "sleep 3")
        .step("log", "dmesg | grep 'taskmonitor: no memory'")
        .step("recover", "echo 0 > $F/probability && sleep 1")
        .step("rmmod", "rmmod taskmonitor")
        .step("unload", "dmesg | grep 'taskmonitor: unload'"),
        start(
            5,
            "Stage 5 (task5-kref): reference-counted samples, printed without the lock",
            2,
        )
        .step("sleep", "sleep 2")
        .step("printed", "dmesg | grep 'sample with'")
        .step("rmmod", "rmmod taskmonitor"),
        start(
            6,
            "Stage 6 (task6-debugfs): the whole history in /sys/kernel/debug/taskmonitor",
            500,
        )
        .step("sleep", "sleep 2")
        .step("lines", "wc -l < /sys/kernel/debug/taskmonitor")
        .step("bytes", "wc -c < /sys/kernel/debug/taskmonitor")
        .step(
            "oldest",
            "dd if=/sys/kernel/debug/taskmonitor of=/tmp/history bs=7 && tail -n 2 /tmp/history",
        )
        .step("sysfs", "wc -c < /sys/kernel/taskmonitor")
        .step("rmmod", "rmmod taskmonitor"),
        Demo::new(
            7,
            "Stage 7 (task7-multi): several processes, added and removed through debugfs",
        )
        .step("insmod", "insmod taskmonitor.ko frequency=2")
        .step(
            "burn",
            "A=$(burn) && B=$(burn) && C=$(burn) && D=$(burn) && echo pids $A $B $C $D",
        )
        .step(
            "add",
            "T=/sys/kernel/debug/taskmonitor && \
             echo $A > $T && echo $B > $T && echo $C > $T && echo $D > $T",
        )
        .step("sleep", "sleep 2")
        .step("remove", "echo -$B > $T")
        .fails(
            "bad",
            "echo 12abc > $T",
            "Invalid argument",
            "12abc is not a PID, so the module refuses the write with EINVAL",
        )
        .step("exit", "kill $C && sleep 1")
        .step("history", "cat $T")
        // A and D are still monitored: the newest samples are theirs.
        .step("newest", "sleep 1 && head -n 4 $T")
        .step("rmmod", "rmmod taskmonitor")
        .step("log", "dmesg | grep -o 'taskmonitor: .*monitor.*'"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, output: &str, status: i32) -> Step {
        Step {
            name: name.into(),
            command: format!("cmd-{name}"),
            output: output.into(),
            status,
        }
    }

    fn demo() -> Demo {
        Demo::new(1, "test").step("a", "true").fails(
            "b",
            "ls /x",
            "No such file or directory",
            "x is gone",
        )
    }

    const GONE: &str = "ls: /x: No such file or directory\n";

    #[test]
    fn declared_outcomes_pass() {
        let d = demo();
        d.check(&[step("a", "hi\n", 0), step("b", GONE, 1)])
            .unwrap();
        assert_eq!(
            d.transcript(&[step("a", "hi\n", 0), step("b", GONE, 1)]),
            format!("# cmd-a\nhi\n# cmd-b\n{GONE}(exit status 1, as expected: x is gone)\n")
        );
    }

    #[test]
    fn a_failing_step_is_reported() {
        let e = demo()
            .check(&[step("a", "", 2), step("b", GONE, 1)])
            .unwrap_err();
        assert_eq!((e.index, e.step.name.as_str()), (0, "a"));
        assert!(e.problem.contains("exit status 2"), "{}", e.problem);
    }

    #[test]
    fn an_error_behind_a_zero_status_is_reported() {
        let out = "grep: /sys/x/{a,b}: No such file or directory\n";
        let e = demo()
            .check(&[step("a", out, 0), step("b", GONE, 1)])
            .unwrap_err();
        assert_eq!(e.index, 0);
    }

    #[test]
    fn an_expected_failure_must_fail_with_its_error() {
        let d = demo();
        let e = d.check(&[step("a", "", 0), step("b", "", 0)]).unwrap_err();
        assert_eq!(e.index, 1);
        let e = d
            .check(&[step("a", "", 0), step("b", "ls: not found\n", 127)])
            .unwrap_err();
        assert!(e.problem.contains("without the error"), "{}", e.problem);
    }

    #[test]
    fn a_missing_step_is_reported() {
        let e = demo().check(&[step("a", "", 0)]).unwrap_err();
        assert_eq!(e.index, 1);
    }

    #[test]
    fn every_demo_declares_each_step_once() {
        let demos = demos();
        assert_eq!(
            demos.iter().map(|d| d.stage).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6, 7]
        );
        for d in &demos {
            let mut names: Vec<_> = d.expected.iter().map(|(n, _)| n.as_str()).collect();
            names.sort_unstable();
            let len = names.len();
            names.dedup();
            assert_eq!(names.len(), len, "stage {}: a step name twice", d.stage);
        }
    }
}
