//! `vm demo` and `vm shell N`: the VM runs behind `make demo` and `make shell`.

use runner::{Run, Scenario};
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
        ["shell", n] => match n.parse() {
            Ok(n) => runner::shell(n),
            Err(_) => usage(),
        },
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: vm demo | vm shell STAGE");
    ExitCode::FAILURE
}

/// Each stage's demonstration: the commands a student would type, and what they print.
fn demo() -> ExitCode {
    let stage1 = Scenario::new("demo-task1")
        .stage(1)
        .step(
            "burn",
            "PID=$(burn); echo \"started a CPU-burning process, pid $PID\"",
        )
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=4")
        .step("sleep", "sleep 3")
        .step("cat", "cat /sys/kernel/taskmonitor")
        .step("status", "grep -E 'Vm(Size|Stk|Data)' /proc/$PID/status")
        .step("rmmod", "rmmod taskmonitor")
        .step("dmesg", "dmesg | grep taskmonitor:");
    println!("== Stage 1 (task1-history): history of samples in /sys/kernel/taskmonitor ==");
    match stage1.run() {
        Ok(run) => {
            print_run(&run);
            println!("== kernel healthy: no splat, no taint, lockdep on, kmemleak clean ==");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn print_run(run: &Run) {
    for step in &run.steps {
        println!("# {}", step.command);
        print!("{}", step.output);
    }
}
