// SPDX-License-Identifier: GPL-2.0

//! `vm demo`, `vm shell`, `vm check` and `vm check-all`: the VM runs behind `make demo`,
//! `make shell`, `make check` and `make check-all`.

use runner::check::{self, build, report, Report, Subject};
use runner::demo::{demos, Demo};
use runner::{RunError, Taskmonitor};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage:
  vm demo
  vm shell STAGE                    STAGE: 1 to 7, or c for the C reference
  vm shell --src DIR                a module folder of your own
  vm check TASK [--src DIR] [--junit FILE] [--ktap FILE] [--verbose 1]
                                    TASK: 1 to 7; without --src, our stage TASK
  vm check-all TASK DIR [--junit FILE] [--table PATH]
                                    every module folder in DIR; writes PATH.md and PATH.csv";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["demo"] => return demo(),
        ["shell", "--src", dir] => shell_src(Path::new(dir)),
        ["shell", module] => match Taskmonitor::parse(module) {
            Some(module) => Ok(runner::shell(
                &module.label(),
                &module.dir().join("taskmonitor.ko"),
            )),
            None => Err(format!("no stage {module:?}: 1 to 7, or c\n{USAGE}")),
        },
        ["check", task, rest @ ..] => check_one(task, rest),
        ["check-all", task, dir, rest @ ..] => check_all(task, dir, rest),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

/// `1` to `7`.
fn parse_task(task: &str) -> Result<u32, String> {
    task.parse()
        .ok()
        .filter(|n| (1..=7).contains(n))
        .ok_or_else(|| format!("TASK must be a task of the lab, 1 to 7, not {task:?}"))
}

/// `--name value` options.
fn options<'a>(rest: &[&'a str], known: &[&str]) -> Result<Vec<(String, &'a str)>, String> {
    let mut out = Vec::new();
    let mut it = rest.iter();
    while let Some(&flag) = it.next() {
        if !known.contains(&flag) {
            return Err(format!("unknown option {flag:?}\n{USAGE}"));
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        out.push((flag.to_string(), *value));
    }
    Ok(out)
}

/// Where student modules are built, by kernel (the KASAN one has its own).
fn work_dir() -> PathBuf {
    let kernel = if runner::kasan() { "kasan" } else { "test" };
    runner::repo_root().join("target/check").join(kernel)
}

fn built(src: &Path) -> Result<PathBuf, String> {
    build::build(src, &work_dir(), &runner::kdir())
}

fn label(src: &Path) -> String {
    src.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| src.display().to_string())
}

fn shell_src(src: &Path) -> Result<ExitCode, String> {
    let ko = built(src)?;
    Ok(runner::shell(&label(src), &ko))
}

fn check_one(task: &str, rest: &[&str]) -> Result<ExitCode, String> {
    let task = parse_task(task)?;
    let opts = options(rest, &["--src", "--junit", "--ktap", "--verbose"])?;
    let opt = |name: &str| opts.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    // Before the VM: a report that cannot be written would lose the run.
    for flag in ["--junit", "--ktap"] {
        if let Some(path) = opt(flag) {
            write(path, "")?;
        }
    }
    let subject = match opt("--src") {
        Some(src) => {
            let src = Path::new(src);
            let ko = built(src).inspect_err(|e| {
                // The reports say so too, for CI.
                if let Some(path) = opt("--junit") {
                    let _ = write(path, &report::junit(task, &[], &[(label(src), e.clone())]));
                }
                if let Some(path) = opt("--ktap") {
                    let _ = write(path, &report::ktap_unbuilt(e));
                }
            })?;
            Subject::new(&label(src), ko, task)
        }
        None => Subject::new(
            &format!("stage {task}"),
            Taskmonitor::Stage(task).dir().join("taskmonitor.ko"),
            task,
        ),
    }
    .map_err(|e| format!("cannot read the module: {e}"))?;
    let reports = check::run(&[subject])?;
    let report = &reports[0];
    if opt("--verbose").is_some_and(|v| v != "0") {
        println!("{}", report.transcript);
    }
    print!("{}", report::text(report));
    if let Some(path) = opt("--junit") {
        write(path, &report::junit(task, &reports, &[]))?;
    }
    if let Some(path) = opt("--ktap") {
        write(path, &report::ktap(report))?;
    }
    Ok(exit(report.passed()))
}

fn check_all(task: &str, dir: &str, rest: &[&str]) -> Result<ExitCode, String> {
    let task = parse_task(task)?;
    let opts = options(rest, &["--junit", "--table"])?;
    let opt = |name: &str| opts.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    let table = opt("--table")
        .map(PathBuf::from)
        .unwrap_or_else(|| work_dir().join("check-all"));
    // Before the VMs: a table or report that cannot be written would lose the runs.
    if let Some(dir) = table.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    for path in [
        format!("{}.md", table.display()),
        format!("{}.csv", table.display()),
    ]
    .iter()
    .map(String::as_str)
    .chain(opt("--junit"))
    {
        write(path, "")?;
    }
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{dir}: {e}"))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    if folders.is_empty() {
        return Err(format!("{dir}: no module folders in it"));
    }
    let mut rows: Vec<(String, Result<Report, String>)> = Vec::new();
    for folder in &folders {
        let name = label(folder);
        println!("== {name} ==");
        // One VM each: a module that hangs or panics the kernel stops only its own run.
        let row = built(folder)
            .and_then(|ko| Subject::new(&name, ko, task).map_err(|e| e.to_string()))
            .and_then(|subject| check::run(&[subject]))
            .map(|mut reports| reports.remove(0));
        match &row {
            Ok(report) => print!("{}", report::text(report)),
            Err(e) => println!("not checked: {e}"),
        }
        rows.push((name, row));
    }
    let (md, csv) = report::table(task, &rows);
    println!("\n{md}");
    write(&format!("{}.md", table.display()), &md)?;
    write(&format!("{}.csv", table.display()), &csv)?;
    println!("table written to {0}.md and {0}.csv", table.display());
    let passed = rows
        .iter()
        .all(|(_, r)| r.as_ref().is_ok_and(Report::passed));
    if let Some(path) = opt("--junit") {
        let (mut reports, mut unbuilt) = (Vec::new(), Vec::new());
        for (name, row) in rows {
            match row {
                Ok(r) => reports.push(r),
                Err(e) => unbuilt.push((name, e)),
            }
        }
        write(path, &report::junit(task, &reports, &unbuilt))?;
    }
    Ok(exit(passed))
}

fn write(path: &str, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {path}: {e}"))
}

fn exit(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs each stage's demo and prints it; stops at the first step whose outcome is not the
/// declared one, or the first unhealthy run, and fails.
fn demo() -> ExitCode {
    for demo in demos() {
        println!("== {} ==", demo.title);
        match demo.scenario.run() {
            Ok(run) => match demo.check(&run.steps) {
                Ok(()) => {
                    print!("{}", demo.transcript(&run.steps));
                    println!(
                        "== kernel healthy: no splat, no taint, lockdep on, kmemleak clean ==\n"
                    );
                }
                Err(failure) => {
                    // What went as declared, then the step that did not.
                    print!("{}", demo.transcript(&run.steps[..failure.index]));
                    return fail(&failure.to_string());
                }
            },
            Err(e) => return unhealthy(&demo, &e),
        }
    }
    ExitCode::SUCCESS
}

/// An unhealthy run: the first step that failed too, if one did, then the whole report.
fn unhealthy(demo: &Demo, e: &RunError) -> ExitCode {
    let mut report = String::new();
    if let RunError::Failed { steps, .. } = e {
        if let Err(failure) = demo.check(steps) {
            print!("{}", demo.transcript(&steps[..failure.index]));
            report.push_str(&format!("{failure}\n"));
        }
    }
    report.push_str(&format!("demo FAILED: {}: {e}", demo.title));
    fail(&report)
}

fn fail(report: &str) -> ExitCode {
    let _ = std::io::stdout().flush();
    eprintln!("{report}");
    ExitCode::FAILURE
}
