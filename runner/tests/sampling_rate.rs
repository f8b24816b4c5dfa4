// SPDX-License-Identifier: GPL-2.0

//! The sampling rate of every stage, and of the C reference, in the VM: `frequency=1000`
//! gives 1000 samples a second. One VM, which runs alone (no other VM of the tests beside
//! it, which would slow it down), measures each module in turn (`support::measure_rate`),
//! so the stages' own scenarios run two at a time like any other.

mod support;

use runner::{Scenario, Taskmonitor};
use std::time::Duration;
use support::{check_rate, measure_rate, rate_log};

/// Every module measured, in this order: the stages, then the C reference.
const MODULES: [Taskmonitor; 8] = [
    Taskmonitor::Stage(1),
    Taskmonitor::Stage(2),
    Taskmonitor::Stage(3),
    Taskmonitor::Stage(4),
    Taskmonitor::Stage(5),
    Taskmonitor::Stage(6),
    Taskmonitor::Stage(7),
    Taskmonitor::C,
];

#[test]
fn every_module_samples_at_the_frequency_asked() {
    // Eight modules, each up to three 4 s windows: about 45 s on a quiet host, but the
    // default 180 s may not be enough on a loaded one or on the KASAN kernel.
    let scenario = Scenario::new("sampling-rate").timeout(Duration::from_secs(600));
    let run = MODULES
        .iter()
        .fold(scenario, |scenario, &module| measure_rate(scenario, module))
        .run()
        .unwrap();
    for module in MODULES {
        check_rate(&run, module);
    }

    // Stage 5 prints every new sample with its reference count: the list's and the
    // thread's, or only the thread's when the shrinker took the sample off the list first.
    let counts: Vec<u32> = rate_log(&run, Taskmonitor::Stage(5))
        .lines()
        .filter_map(|l| l.split("taskmonitor: sample with ").nth(1))
        .map(|r| r.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(counts.len() >= 1000, "{} samples printed", counts.len());
    assert!(counts.iter().all(|&c| c == 1 || c == 2), "{counts:?}");
}
