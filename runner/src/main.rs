// SPDX-License-Identifier: GPL-2.0

//! `vm demo` and `vm shell N` (or `c`): the VM runs behind `make demo` and `make shell`.

use runner::demo::{demos, Demo};
use runner::RunError;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["demo"] => demo(),
        ["shell", module] => match runner::Taskmonitor::parse(module) {
            Some(module) => runner::shell(module),
            None => usage(),
        },
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: vm demo | vm shell STAGE (1 to 7, or c for the C reference)");
    ExitCode::FAILURE
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
