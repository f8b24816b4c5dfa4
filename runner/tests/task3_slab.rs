// SPDX-License-Identifier: GPL-2.0

//! Stage 3 (task3-slab) in the VM: samples come from the `task_sample` slab cache, whose
//! objects are exactly a sample's size; the cache goes away with the module.

#[macro_use]
mod support;

use runner::Scenario;
use support::{burn_pid, history, module_log, numbers, BURN, SHRINKER};

/// The sizes the module reports at load: `sizeof`, `ksize` of a kmalloc'd sample, and the
/// cache's object size.
fn sizes(log: &[&str]) -> (u64, u64, u64) {
    let line = log.iter().find(|l| l.contains("sizeof(Sample)")).unwrap();
    let n: Vec<u64> = line
        .split(" = ")
        .skip(1)
        .map(|w| w.split(',').next().unwrap().trim().parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

#[test]
fn samples_live_in_their_own_slab_cache() {
    let run = Scenario::new("task3-slab")
        .stage(3)
        .step("burn", BURN)
        .step("insmod", "insmod taskmonitor.ko target=$PID frequency=10")
        .step("sleep", "sleep 2")
        .step("sizes", "dmesg | grep -o 'taskmonitor: sizeof.*'")
        .step(
            "slab",
            "cd /sys/kernel/slab/task_sample && grep . object_size aliases; cd - >/dev/null",
        )
        .step("slab-size", "cat /sys/kernel/slab/task_sample/slab_size")
        .step(
            "objects",
            "cut -d' ' -f1 /sys/kernel/slab/task_sample/objects",
        )
        .step("shrinker", SHRINKER)
        .step("count1", "echo count $(cut -d' ' -f2 $S/count)")
        .step("cat1", "cat /sys/kernel/taskmonitor")
        .step("scan", "echo '0 0 5' > $S/scan")
        .step("cat2", "cat /sys/kernel/taskmonitor")
        .step("rmmod", "rmmod taskmonitor")
        .step("cache-gone", "ls /sys/kernel/slab/task_sample")
        .run()
        .unwrap();
    snapshot!(
        "samples_live_in_their_own_slab_cache",
        &run,
        &["objects", "slab-size"]
    );

    let (size, ksize, object_size) = sizes(&module_log(&run));
    // A kmalloc'd sample takes the next size class; the cache's objects are exact.
    assert!(ksize > size, "ksize {ksize}, sizeof {size}");
    assert_eq!(object_size, size);
    let slab = numbers(&run, "slab");
    assert_eq!(slab[0], size, "object_size");
    // Each object takes its size in the slab, no more; KASAN adds its redzone and the
    // metadata that tracks who allocated and freed the object.
    let slab_size = numbers(&run, "slab-size")[0];
    if runner::kasan() {
        assert!(
            slab_size > size,
            "slab_size {slab_size} on the KASAN kernel"
        );
    } else {
        assert_eq!(slab_size, size, "slab_size");
    }
    // The cache holds at least the samples in the history.
    let count = numbers(&run, "count1")[0];
    assert!(numbers(&run, "objects")[0] >= count, "objects < {count}");
    // The shrinker frees cached samples like any other: the five oldest go (the whole
    // history fits in the page at 10 Hz).
    let pid = burn_pid(&run);
    let before = history(&run, "cat1", pid);
    let after = history(&run, "cat2", pid);
    assert!(after.ends_with(&before[..before.len() - 5]));
    assert_ne!(
        run.step("cache-gone").status,
        0,
        "the cache outlived the module"
    );
}
