// SPDX-License-Identifier: GPL-2.0

//! The in-kernel tests of the `common/` wrappers (`runner/kunit/taskmonitor_kunit.rs`):
//! KUnit runs the suite when the module is loaded, and every case must pass, twice in a
//! row (the second load re-creates the caches and pools the first destroyed). The module's
//! parameters are parsed at their types' limits, and one beyond a limit refuses the load.

use runner::{built_module, ktap, Scenario};

/// What each load of the module runs.
const CASES: usize = 8;

#[test]
fn common_wrappers_pass_their_kunit_suite() {
    let load = "insmod taskmonitor_kunit.ko int_limit=-2147483648 uint_limit=4294967295";
    let run = Scenario::new("kunit")
        .module(
            "taskmonitor_kunit",
            built_module("runner/kunit/taskmonitor_kunit.ko"),
        )
        .step(
            "beyond-limits",
            "for args in 'int_limit=2147483648' 'int_limit=-2147483649' \
             'uint_limit=4294967296' 'uint_limit=-1'; do \
             insmod taskmonitor_kunit.ko $args 2>&1 | sed 's/.*: //'; done",
        )
        .step(
            "first",
            &format!("{load} && rmmod taskmonitor_kunit && echo ok"),
        )
        .step(
            "second",
            &format!("{load} && rmmod taskmonitor_kunit && echo ok"),
        )
        .run()
        .unwrap();

    // kstrtoint/kstrtouint: out of range is ERANGE, a sign on an unsigned EINVAL.
    assert_eq!(
        run.output("beyond-limits"),
        "Numerical result out of range\n".repeat(3) + "Invalid argument\n"
    );
    assert_eq!(run.output("first"), "ok\n");
    assert_eq!(run.output("second"), "ok\n");

    let suites = ktap::suites(&run.console);
    assert_eq!(suites.len(), 2, "two loads, two reports:\n{}", run.console);
    for suite in &suites {
        assert_eq!(suite.name, "taskmonitor_common");
        assert_eq!(suite.planned, CASES);
        suite.check().unwrap_or_else(|e| panic!("{e}"));
    }
}
