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
fn demos() -> Vec<(&'static str, Scenario)> {
    let start = |name: &str, stage: u32, frequency: u32| {
        Scenario::new(name)
            .stage(stage)
            .step(
                "burn",
                "PID=$(burn); echo \"started a CPU-burning process, pid $PID\"",
            )
            .step(
                "insmod",
                &format!("insmod taskmonitor.ko target=$PID frequency={frequency}"),
            )
    };
    vec![
        (
            "Stage 1 (task1-history): history of samples in /sys/kernel/taskmonitor",
            start("demo-task1", 1, 4)
                .step("sleep", "sleep 3")
                .step("cat", "cat /sys/kernel/taskmonitor")
                .step("status", "grep -E 'Vm(Size|Stk|Data)' /proc/$PID/status")
                .step("rmmod", "rmmod taskmonitor")
                .step("dmesg", "dmesg | grep taskmonitor:"),
        ),
        (
            "Stage 2 (task2-shrinker): reclaim frees the oldest samples",
            start("demo-task2", 2, 20)
                .step("sleep", "sleep 2")
                .step(
                    "dir",
                    "S=$(ls -d /sys/kernel/debug/shrinker/taskmonitor-*); echo $S",
                )
                .step("count", "cat $S/count")
                .step("oldest", "tail -n 5 /sys/kernel/taskmonitor")
                .step("scan", "echo '0 0 5' > $S/scan")
                .step("count2", "cat $S/count")
                .step("oldest2", "tail -n 2 /sys/kernel/taskmonitor")
                .step("drop", "echo 2 > /proc/sys/vm/drop_caches")
                .step("count3", "cat $S/count; wc -l < /sys/kernel/taskmonitor")
                .step("rmmod", "rmmod taskmonitor"),
        ),
        (
            "Stage 3 (task3-slab): samples in their own slab cache",
            start("demo-task3", 3, 10)
                .step("sleep", "sleep 2")
                .step("sizes", "dmesg | grep sizeof")
                .step(
                    "slab",
                    "grep . /sys/kernel/slab/task_sample/{object_size,objs_per_slab,objects}",
                )
                .step("rmmod", "rmmod taskmonitor")
                .step("gone", "ls /sys/kernel/slab/task_sample"),
        ),
        (
            "Stage 4 (task4-mempool): a reserve of samples when the cache fails",
            start("demo-task4", 4, 50)
                .step("sleep", "sleep 1")
                .step(
                    "failslab",
                    "F=/sys/kernel/debug/failslab; \
                     echo 1 > /sys/kernel/slab/task_sample/failslab; \
                     echo Y > $F/cache-filter; echo N > $F/ignore-gfp-wait; \
                     echo 0 > $F/verbose; echo -1 > $F/times; echo 100 > $F/probability",
                )
                .step("sleep2", "sleep 3")
                .step("log", "dmesg | grep 'taskmonitor: no memory' | tail -n 3")
                .step("recover", "echo 0 > $F/probability; sleep 1")
                .step("rmmod", "rmmod taskmonitor")
                .step("unload", "dmesg | grep 'taskmonitor: unloading'"),
        ),
        (
            "Stage 5 (task5-kref): reference-counted samples, printed without the lock",
            start("demo-task5", 5, 2)
                .step("sleep", "sleep 2")
                .step("printed", "dmesg | grep 'sample with'")
                .step("rmmod", "rmmod taskmonitor"),
        ),
        (
            "Stage 6 (task6-debugfs): the whole history in /sys/kernel/debug/taskmonitor",
            start("demo-task6", 6, 500)
                .step("sleep", "sleep 2")
                .step("lines", "wc -l < /sys/kernel/debug/taskmonitor")
                .step("bytes", "wc -c < /sys/kernel/debug/taskmonitor")
                .step(
                    "oldest",
                    "dd if=/sys/kernel/debug/taskmonitor bs=7 2>/dev/null | tail -n 2",
                )
                .step("sysfs", "wc -c < /sys/kernel/taskmonitor")
                .step("rmmod", "rmmod taskmonitor"),
        ),
        (
            "Stage 7 (task7-multi): several processes, added and removed through debugfs",
            Scenario::new("demo-task7")
                .stage(7)
                .step("insmod", "insmod taskmonitor.ko frequency=2")
                .step(
                    "burn",
                    "A=$(burn); B=$(burn); C=$(burn); D=$(burn); echo pids $A $B $C $D",
                )
                .step(
                    "add",
                    "for p in $A $B $C $D; do echo $p > /sys/kernel/debug/taskmonitor; done",
                )
                .step("sleep", "sleep 2")
                .step("remove", "echo -$B > /sys/kernel/debug/taskmonitor")
                .step("bad", "echo 12abc > /sys/kernel/debug/taskmonitor")
                .step("exit", "kill $C; sleep 1")
                .step("history", "cat /sys/kernel/debug/taskmonitor")
                // A and D are still monitored: the newest samples are theirs.
                .step("newest", "sleep 1; head -n 4 /sys/kernel/debug/taskmonitor")
                .step("rmmod", "rmmod taskmonitor")
                .step("log", "dmesg | grep -o 'taskmonitor: .*monitor.*'"),
        ),
    ]
}

fn demo() -> ExitCode {
    for (title, scenario) in demos() {
        println!("== {title} ==");
        match scenario.run() {
            Ok(run) => {
                print_run(&run);
                println!("== kernel healthy: no splat, no taint, lockdep on, kmemleak clean ==\n");
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn print_run(run: &Run) {
    for step in &run.steps {
        println!("# {}", step.command);
        print!("{}", step.output);
    }
}
