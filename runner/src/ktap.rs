// SPDX-License-Identifier: GPL-2.0

//! KUnit results: the KTAP lines a suite prints on the kernel log
//! (`Documentation/dev-tools/ktap.rst`).
//!
//! ```text
//!     KTAP version 1
//!     # Subtest: taskmonitor_common
//!     1..2
//!     ok 1 first_case
//!     # second_case: EXPECTATION FAILED at ...
//!     not ok 2 second_case
//! not ok 1 taskmonitor_common
//! ```

use crate::health::strip_timestamp;

/// One suite's results.
#[derive(Debug, PartialEq, Eq)]
pub struct Suite {
    pub name: String,
    /// The plan: how many cases the suite announced (`1..N`).
    pub planned: usize,
    /// Each case's name and whether it passed (`ok`, or skipped: `ok ... # SKIP`).
    pub cases: Vec<(String, bool)>,
    /// The suite's own verdict.
    pub ok: bool,
    /// The diagnostic lines (`# ...`) between the plan and the verdict.
    pub diagnostics: Vec<String>,
}

impl Suite {
    /// `Ok` when the suite passed as a whole, every announced case ran and passed.
    pub fn check(&self) -> Result<(), String> {
        let failed: Vec<&str> = self
            .cases
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(name, _)| name.as_str())
            .collect();
        if self.ok && failed.is_empty() && self.cases.len() == self.planned {
            return Ok(());
        }
        Err(format!(
            "suite {}: {} of {} cases ran, failed: {failed:?}\n{}",
            self.name,
            self.cases.len(),
            self.planned,
            self.diagnostics.join("\n")
        ))
    }
}

/// The suites whose results are in `console`, in order. A suite whose verdict line is
/// missing (the kernel died in it) is left out: compare with the suites expected.
pub fn suites(console: &str) -> Vec<Suite> {
    let mut suites = Vec::new();
    let mut current: Option<Suite> = None;
    for line in console.lines().map(strip_timestamp) {
        if let Some(name) = line.trim_start().strip_prefix("# Subtest: ") {
            current = Some(Suite {
                name: name.trim().to_string(),
                planned: 0,
                cases: Vec::new(),
                ok: false,
                diagnostics: Vec::new(),
            });
            continue;
        }
        let Some(suite) = current.as_mut() else {
            continue;
        };
        let nested = line.starts_with("    ");
        let text = line.trim();
        if nested {
            if let Some(plan) = text.strip_prefix("1..") {
                suite.planned = plan.parse().unwrap_or(0);
            } else if let Some((ok, name)) = result_line(text) {
                suite.cases.push((name, ok));
            } else if text.starts_with('#') {
                suite.diagnostics.push(text.to_string());
            }
        } else if let Some((ok, name)) = result_line(text) {
            if name == suite.name {
                suite.ok = ok;
                suites.extend(current.take());
            }
        }
    }
    suites
}

/// `ok 3 name`, `not ok 3 name`, `ok 3 name # SKIP why` -> (passed, name).
fn result_line(text: &str) -> Option<(bool, String)> {
    let (ok, rest) = if let Some(rest) = text.strip_prefix("not ok ") {
        (false, rest)
    } else {
        (true, text.strip_prefix("ok ")?)
    };
    let (number, name) = rest.split_once(' ')?;
    number.parse::<u32>().ok()?;
    let name = name.split(" # ").next().unwrap_or(name).trim();
    Some((ok, name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "[    1.0] KTAP version 1
[    1.0] 1..1
[    1.1]     KTAP version 1
[    1.1]     # Subtest: demo
[    1.1]     # module: demo_kunit
[    1.1]     1..3
[    1.2]     ok 1 first
[    1.3]     # second: EXPECTATION FAILED at x.rs:3: a == b
[    1.3]     not ok 2 second
[    1.4]     ok 3 third # SKIP not here
[    1.5] # demo: pass:1 fail:1 skip:1 total:3
[    1.5] # Totals: pass:1 fail:1 skip:1 total:3
[    1.5] not ok 1 demo
";

    #[test]
    fn parses_cases_verdict_and_diagnostics() {
        let suites = suites(LOG);
        assert_eq!(suites.len(), 1);
        let demo = &suites[0];
        assert_eq!(demo.name, "demo");
        assert_eq!(demo.planned, 3);
        assert_eq!(
            demo.cases,
            [("first", true), ("second", false), ("third", true)]
                .map(|(n, ok)| (n.to_string(), ok))
        );
        assert!(!demo.ok);
        let err = demo.check().unwrap_err();
        assert!(
            err.contains("[\"second\"]") && err.contains("EXPECTATION FAILED"),
            "{err}"
        );
    }

    #[test]
    fn a_suite_cut_short_is_not_reported() {
        let cut: String = LOG.lines().take(8).map(|l| format!("{l}\n")).collect();
        assert!(suites(&cut).is_empty());
    }

    #[test]
    fn all_cases_passing_checks_ok() {
        let log = LOG
            .replace("not ok 2 second", "ok 2 second")
            .replace("not ok 1 demo", "ok 1 demo");
        suites(&log)[0].check().unwrap();
    }
}
