// SPDX-License-Identifier: GPL-2.0

//! `make check` checked: our stages and the C reference pass their own task's checks, a
//! stage checked as the next task fails exactly the next task's checks, `check-all` writes
//! its table, and the tool refuses bad arguments with a clear message.

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
        println!("seconds per step: {:.1?}", report.step_seconds);
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

// Each stage is checked as the next task: every check of its own task and the earlier ones
// must pass, and exactly the checks of what the next task adds must fail. Stage 7 and the
// C reference, the finished lab, pass everything.

/// The checks of task 7, which stage 6 lacks: the writes that must work. Its debugfs file
/// is read-only, so every write is refused, rightly: the checks of refusals pass.
const TASK7_WRITES: &[&str] = &[
    "t7q3-add",
    "t7q2-all",
    "t7q3-duplicate",
    "t7q3-nothing-lost",
    "t7q3-remove",
];

#[test]
fn stages_1_to_4_pass_their_task_and_fail_the_next() {
    let subjects: Vec<Subject> = (1..=4)
        .map(|n| subject(Taskmonitor::Stage(n), n + 1))
        .collect();
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
            // Without a reserve, sampling stops while the cache fails, and resumes after.
            &["t4q2-reserve"],
            // A mutex held while printing, or a reference: the same from outside.
            &[],
        ],
    );
}

#[test]
fn stages_5_to_7_and_the_c_reference_pass_their_task_and_fail_the_next() {
    let subjects = [
        subject(Taskmonitor::Stage(5), 6),
        subject(Taskmonitor::Stage(6), 7),
        subject(Taskmonitor::Stage(7), 7),
        subject(Taskmonitor::C, 7),
    ];
    expect(
        &check::run(&subjects).unwrap(),
        &[
            &["t6q3-file", "t6q3-whole", "t6q3-read-sizes"],
            TASK7_WRITES,
            &[],
            &[],
        ],
    );
}

/// Runs `vm ARGS...` (the program behind `make check`); returns its exit code, stdout and
/// stderr.
fn vm(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vm"))
        .args(args)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// A module folder with these files.
fn folder(root: &std::path::Path, name: &str, files: &[(&str, &str)]) -> String {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir.display().to_string()
}

const EMPTY_MODULE: &str = "#include <linux/module.h>\nMODULE_LICENSE(\"GPL\");\n";

#[test]
fn bad_arguments_get_a_clear_error() {
    let root = tempfile::tempdir().unwrap();
    let no_kbuild = folder(root.path(), "no-kbuild", &[("taskmonitor.c", EMPTY_MODULE)]);
    let broken = folder(
        root.path(),
        "broken",
        &[
            ("Kbuild", "obj-m := taskmonitor.o\n"),
            ("taskmonitor.c", "int broken(void) { return undeclared; }\n"),
        ],
    );
    let renamed = folder(
        root.path(),
        "renamed",
        &[
            ("Kbuild", "obj-m := monitor.o\n"),
            ("monitor.c", EMPTY_MODULE),
        ],
    );
    let missing = root.path().join("missing").display().to_string();
    let unwritable = root.path().join("missing/report.xml").display().to_string();
    for (args, message) in [
        (vec!["check", "8"], "TASK must be a task of the lab, 1 to 7"),
        (vec!["check", "x"], "TASK must be a task of the lab, 1 to 7"),
        (vec!["check", "1", "--src"], "--src needs a value"),
        (vec!["check", "1", "--sources", "a"], "unknown option"),
        (vec!["check", "1", "--src", &missing], "no such folder"),
        (vec!["check", "1", "--src", &no_kbuild], "no Kbuild file"),
        (vec!["check", "1", "--src", &broken], "does not build"),
        (vec!["check", "1", "--src", &broken], "undeclared"),
        (
            vec!["check", "1", "--src", &renamed],
            "builds monitor.ko, not taskmonitor.ko",
        ),
        (vec!["check-all", "1", &missing], "missing"),
        (
            vec!["check-all", "0", &missing],
            "TASK must be a task of the lab",
        ),
        (vec!["shell", "--src", &no_kbuild], "no Kbuild file"),
        (vec!["check", "1", "--junit", &unwritable], "cannot write"),
        (
            vec!["check-all", "1", &missing, "--junit", &unwritable],
            "cannot write",
        ),
    ] {
        let (code, _, err) = vm(&args);
        assert_eq!(code, 2, "vm {args:?}: exit {code}, {err}");
        assert!(err.contains(message), "vm {args:?} said {err:?}");
    }
    // A module that does not build is a failure in the reports for CI too.
    let junit = root.path().join("junit.xml").display().to_string();
    let ktap = root.path().join("report.ktap").display().to_string();
    let (code, _, _) = vm(&[
        "check", "1", "--src", &broken, "--junit", &junit, "--ktap", &ktap,
    ]);
    assert_eq!(code, 2);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<failure message=") && xml.contains("undeclared"),
        "{xml}"
    );
    let ktap = std::fs::read_to_string(&ktap).unwrap();
    assert!(
        ktap.starts_with("KTAP version 1\n1..1\n") && ktap.ends_with("not ok 1 build\n"),
        "{ktap}"
    );
}

/// `check-all`: every folder, one VM each, and the table; a folder that does not build is
/// a row of its own, and the run fails.
#[test]
fn check_all_writes_a_table_of_every_submission() {
    let root = tempfile::tempdir().unwrap();
    let submissions = root.path().join("submissions");
    let c = runner::c_reference_dir();
    let source = |f: &str| std::fs::read_to_string(c.join(f)).unwrap();
    folder(
        &submissions,
        "alice",
        &[
            ("Kbuild", &source("Kbuild")),
            ("taskmonitor.c", &source("taskmonitor.c")),
        ],
    );
    folder(&submissions, "bob", &[("taskmonitor.c", EMPTY_MODULE)]);
    let table = root.path().join("table").display().to_string();
    let junit = root.path().join("junit.xml").display().to_string();
    let (code, out, err) = vm(&[
        "check-all",
        "1",
        &submissions.display().to_string(),
        "--table",
        &table,
        "--junit",
        &junit,
    ]);
    println!("{out}{err}");
    assert_eq!(code, 1, "bob's module does not build");
    let md = std::fs::read_to_string(format!("{table}.md")).unwrap();
    let csv = std::fs::read_to_string(format!("{table}.csv")).unwrap();
    let ids: Vec<&str> = check::checks_for(1).map(|c| c.id).collect();
    assert!(
        md.contains(&format!("| alice | {0}/{0} |", ids.len())),
        "{md}"
    );
    assert!(md.contains("| bob | not built |"), "{md}");
    assert!(
        md.contains("- bob: ") && md.contains("no Kbuild file"),
        "{md}"
    );
    assert_eq!(
        csv.lines().next().unwrap(),
        format!("module,passed,{}", ids.join(","))
    );
    assert!(
        csv.contains(&format!(
            "alice,{0}/{0},{1}",
            ids.len(),
            vec!["pass"; ids.len()].join(",")
        )),
        "{csv}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let alice = format!(
        "<testsuite name=\"taskmonitor task 1: alice\" tests=\"{}\" failures=\"0\"",
        ids.len()
    );
    assert!(xml.contains(&alice), "{xml}");
    assert!(
        xml.contains("<testsuite name=\"taskmonitor task 1: bob\" tests=\"1\" failures=\"1\"")
            && xml.matches("<failure").count() == 1,
        "{xml}"
    );
}
