// SPDX-License-Identifier: GPL-2.0

//! `make check` checked: our stages and the C reference pass their own task's checks, a
//! stage checked as the next task fails the next task's checks, and the tool refuses bad
//! arguments with a clear message.

use runner::check::{self, Report, Subject};
use runner::Taskmonitor;

fn subject(module: Taskmonitor, task: u32) -> Subject {
    Subject::new(&module.label(), module.dir().join("taskmonitor.ko"), task).unwrap()
}

/// Prints every report, then fails naming each module whose failed checks are not
/// `expected`'s.
fn expect(reports: &[Report], expected: &[&[&str]]) {
    let mut wrong = Vec::new();
    for (report, expected) in reports.iter().zip(expected) {
        print!("{}", check::report::text(report));
        if report.failed() != *expected {
            wrong.push(format!(
                "{} as task {}: failed {:?}, expected {:?}",
                report.subject.label,
                report.subject.task,
                report.failed(),
                expected
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn stages_1_to_4_pass_their_own_task() {
    let subjects: Vec<Subject> = (1..=4).map(|n| subject(Taskmonitor::Stage(n), n)).collect();
    expect(&check::run(&subjects).unwrap(), &[&[] as &[&str]; 4]);
}

#[test]
fn stages_5_to_7_and_the_c_reference_pass_their_own_task() {
    let mut subjects: Vec<Subject> = (5..=7).map(|n| subject(Taskmonitor::Stage(n), n)).collect();
    subjects.push(subject(Taskmonitor::C, 7));
    expect(&check::run(&subjects).unwrap(), &[&[] as &[&str]; 4]);
}

#[test]
fn a_stage_checked_as_the_next_task_fails_what_that_task_adds() {
    // Stage 6's debugfs file is read-only: every write is refused, rightly, so the checks
    // of refusals pass; those of the writes that must work fail.
    let subjects = [
        subject(Taskmonitor::Stage(1), 2),
        subject(Taskmonitor::Stage(2), 3),
        subject(Taskmonitor::Stage(6), 7),
    ];
    expect(
        &check::run(&subjects).unwrap(),
        &[
            &[
                "t2q2-shrinker",
                "t2q2-count",
                "t2q2-scan",
                "t2q3-drop-caches",
            ],
            &["t3q2-cache", "t3q2-used"],
            &[
                "t7q3-add",
                "t7q2-all",
                "t7q3-duplicate",
                "t7q3-nothing-lost",
                "t7q3-remove",
            ],
        ],
    );
}
