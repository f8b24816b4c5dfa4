// SPDX-License-Identifier: GPL-2.0

//! The health checks catch what they must: a run with a deliberate kernel bug fails.
//!
//! Every scenario's verdict rests on these checks, so each one is proven here against a
//! real kernel with `faulty.ko` (runner/faulty), and a clean run proves they do not fail
//! for nothing.

use runner::{built_module, RunError, Scenario};

fn faulty(name: &str) -> Scenario {
    Scenario::new(name).module("faulty", built_module("runner/faulty/faulty.ko"))
}

fn failure(scenario: Scenario) -> String {
    match scenario.run() {
        Ok(run) => panic!("the run should have failed: {run:#?}"),
        Err(e) => e.reasons().join("\n"),
    }
}

#[test]
fn a_clean_module_passes() {
    let run = faulty("faulty-none")
        .step("insmod", "insmod faulty.ko bug=0")
        .step("rmmod", "rmmod faulty")
        .run()
        .unwrap();
    assert_eq!(run.step("insmod").status, 0);
    assert_eq!(run.step("rmmod").status, 0);
}

#[test]
fn a_warning_fails_the_run() {
    let reasons = failure(faulty("faulty-warn").step("insmod", "insmod faulty.ko bug=1"));
    assert!(reasons.contains("WARNING:"), "{reasons}");
    assert!(reasons.contains("refcount_t: underflow"), "{reasons}");
    // panic_on_warn stops the VM: the scenario cannot finish.
    assert!(reasons.contains("stopped before the end"), "{reasons}");
}

#[test]
fn a_leak_fails_the_run() {
    let reasons = failure(
        faulty("faulty-leak")
            .step("insmod", "insmod faulty.ko bug=2")
            .step("rmmod", "rmmod faulty"),
    );
    assert!(
        reasons.contains("kmemleak: unreferenced object"),
        "{reasons}"
    );
}

#[test]
fn a_module_left_loaded_fails_the_run() {
    let reasons = failure(faulty("faulty-loaded").step("insmod", "insmod faulty.ko bug=0"));
    assert!(
        reasons.contains("modules still loaded: faulty"),
        "{reasons}"
    );
}

#[test]
fn a_tainted_kernel_fails_the_run() {
    // What a WARN leaves behind, without the WARN (and its panic): taint flag W.
    let reasons =
        failure(Scenario::new("tainted").step("taint", "echo 512 > /proc/sys/kernel/tainted"));
    assert!(reasons.contains("bad bits 0x200"), "{reasons}");
}

#[test]
fn a_lockdep_report_fails_the_run() {
    let reasons = failure(
        faulty("faulty-lockdep")
            .step("insmod", "insmod faulty.ko bug=3")
            .step("rmmod", "rmmod faulty"),
    );
    assert!(
        reasons.contains("possible circular locking dependency"),
        "{reasons}"
    );
    assert!(reasons.contains("lockdep is off"), "{reasons}");
}

#[test]
fn a_registration_left_at_unload_stops_the_unload() {
    // The module forgot its sysfs file: C could call its `show` after the code is freed.
    let run = faulty("faulty-registration")
        .step("insmod", "insmod faulty.ko bug=4")
        .step("read", "cat /sys/kernel/faulty && echo read")
        .step("rmmod", "rmmod faulty")
        .run();
    let Err(RunError::Failed {
        reasons,
        steps,
        console,
    }) = run
    else {
        panic!("the run should have failed: {run:#?}");
    };
    let reasons = reasons.join("\n");
    // The check at unload panics, which stops the VM in `rmmod`, before the code could be
    // freed.
    assert!(
        reasons.contains("panicked at") && reasons.contains("common/src/registration.rs"),
        "{reasons}"
    );
    assert!(
        console.contains("1 registration(s) with C left at unload"),
        "{console}"
    );
    assert!(reasons.contains("stopped before the end"), "{reasons}");
    assert!(steps
        .iter()
        .any(|s| s.name == "read" && s.output == "read\n"));
    assert!(!steps.iter().any(|s| s.name == "rmmod"), "{steps:#?}");
}
