// SPDX-License-Identifier: GPL-2.0

//! The check's reports: text for people, JUnit XML for CI systems and autograders, a
//! KTAP summary, and the table of `make check-all`.

use super::{checks_for, Report, Verdict};
use std::fmt::Write as _;

/// One line per check, grouped by lab question, the evidence under each failure, and a
/// summary line.
pub fn text(report: &Report) -> String {
    let s = &report.subject;
    let mut out = format!("taskmonitor check of {} as task {}\n", s.label, s.task);
    if !s.frequency {
        out.push_str(
            "note: no `frequency` parameter: the checks sample at the lab's 1 Hz, so they \
             take longer and the page limit is not reached\n",
        );
    }
    for (check, verdict) in &report.results {
        let head = format!("{}: {}", check.group(), check.what);
        match verdict {
            Verdict::Pass => writeln!(out, "{head} ... ok").unwrap(),
            Verdict::Skip(why) => writeln!(out, "{head} ... skipped: {why}").unwrap(),
            Verdict::Fail(evidence) => {
                let mut lines = evidence.lines();
                writeln!(out, "{head} ... FAIL: {}", lines.next().unwrap_or("")).unwrap();
                for l in lines {
                    writeln!(out, "    {l}").unwrap();
                }
            }
        }
    }
    let (pass, fail, skip) = counts(report);
    let took = report
        .seconds
        .map(|s| format!(" ({s:.0} s in the VM)"))
        .unwrap_or_default();
    writeln!(
        out,
        "{}: {pass} passed, {fail} failed, {skip} skipped{took}",
        if fail == 0 { "PASS" } else { "FAIL" }
    )
    .unwrap();
    out
}

fn counts(report: &Report) -> (usize, usize, usize) {
    let n = |f: fn(&Verdict) -> bool| report.results.iter().filter(|(_, v)| f(v)).count();
    (
        n(|v| *v == Verdict::Pass),
        n(|v| matches!(v, Verdict::Fail(_))),
        n(|v| matches!(v, Verdict::Skip(_))),
    )
}

/// The KTAP report of a module that did not build.
pub fn ktap_unbuilt(error: &str) -> String {
    let mut out = String::from("KTAP version 1\n1..1\n");
    for l in error.lines() {
        writeln!(out, "# {l}").unwrap();
    }
    out.push_str("not ok 1 build\n");
    out
}

/// A KTAP report: one test per check, named by its id, the question and the evidence as
/// diagnostics.
pub fn ktap(report: &Report) -> String {
    let mut out = format!("KTAP version 1\n1..{}\n", report.results.len());
    for (i, (check, verdict)) in report.results.iter().enumerate() {
        let n = i + 1;
        match verdict {
            Verdict::Pass => writeln!(out, "ok {n} {}", check.id).unwrap(),
            Verdict::Skip(why) => {
                writeln!(out, "ok {n} {} # SKIP {}", check.id, one_line(why)).unwrap()
            }
            Verdict::Fail(evidence) => {
                writeln!(out, "# {}: {}", check.group(), check.what).unwrap();
                for l in evidence.lines() {
                    writeln!(out, "# {l}").unwrap();
                }
                writeln!(out, "not ok {n} {}", check.id).unwrap();
            }
        }
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// JUnit XML: a test suite per module, a test case per check (its class the lab question);
/// a module that did not build, `(name, error)` in `unbuilt`, is a suite of one failed
/// case, so an autograder counts it.
pub fn junit(task: u32, reports: &[Report], unbuilt: &[(String, String)]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for (name, error) in unbuilt {
        writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"1\" failures=\"1\" skipped=\"0\">\n    \
             <testcase classname=\"Build\" name=\"build: the module builds as taskmonitor.ko\">\n      \
             <failure message=\"{}\">{}</failure>\n    </testcase>\n  </testsuite>",
            xml(&format!("taskmonitor task {task}: {name}")),
            xml(error.lines().next().unwrap_or("")),
            xml(error)
        )
        .unwrap();
    }
    for report in reports {
        let (_, fail, skip) = counts(report);
        writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fail}\" skipped=\"{skip}\">",
            xml(&format!(
                "taskmonitor task {}: {}",
                report.subject.task, report.subject.label
            )),
            report.results.len()
        )
        .unwrap();
        for (check, verdict) in &report.results {
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{}: {}\"",
                xml(&check.group()),
                check.id,
                xml(check.what)
            );
            match verdict {
                Verdict::Pass => writeln!(out, "{open}/>").unwrap(),
                Verdict::Skip(why) => writeln!(
                    out,
                    "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml(&one_line(why))
                )
                .unwrap(),
                Verdict::Fail(evidence) => writeln!(
                    out,
                    "{open}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    xml(evidence.lines().next().unwrap_or("")),
                    xml(evidence)
                )
                .unwrap(),
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn xml(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            // XML 1.0 allows no other control character, not even as a reference.
            c if c.is_control() && c != '\n' && c != '\t' => "\u{fffd}".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Which check each module passed: a Markdown table (✓ passed, ✗ failed, – skipped,
/// blank for a module that did not build, with its error below) and the same as CSV.
pub fn table(task: u32, rows: &[(String, Result<Report, String>)]) -> (String, String) {
    let ids: Vec<&str> = checks_for(task).map(|c| c.id).collect();
    let mut md = format!("| module | passed | {} |\n", ids.join(" | "));
    md.push_str(&format!("|---|---|{}\n", "---|".repeat(ids.len())));
    let mut csv = format!("module,passed,{}\n", ids.join(","));
    let mut errors = String::new();
    for (name, row) in rows {
        let cells: Vec<&str> = ids
            .iter()
            .map(|id| match row.as_ref().ok().and_then(|r| r.verdict(id)) {
                Some(Verdict::Pass) => "pass",
                Some(Verdict::Fail(_)) => "FAIL",
                Some(Verdict::Skip(_)) => "skip",
                None => "",
            })
            .collect();
        let passed = match row {
            Ok(r) => format!("{}/{}", counts(r).0, r.results.len()),
            Err(e) => {
                writeln!(
                    errors,
                    "- {name}: {}",
                    one_line(e.lines().next().unwrap_or(""))
                )
                .unwrap();
                "not built".into()
            }
        };
        let marks: Vec<&str> = cells
            .iter()
            .map(|c| match *c {
                "pass" => "✓",
                "FAIL" => "✗",
                "skip" => "–",
                _ => "",
            })
            .collect();
        writeln!(md, "| {name} | {passed} | {} |", marks.join(" | ")).unwrap();
        writeln!(csv, "{},{passed},{}", csv_field(name), cells.join(",")).unwrap();
    }
    if !errors.is_empty() {
        md.push('\n');
        md.push_str(&errors);
    }
    (md, csv)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Report, Subject};

    fn report() -> Report {
        let subject = Subject {
            label: "alice <1>".into(),
            ko: "taskmonitor.ko".into(),
            task: 1,
            target: true,
            frequency: true,
        };
        let results = checks_for(1)
            .enumerate()
            .map(|(i, c)| {
                let v = match i {
                    1 => Verdict::Fail("no new sample\nfirst line \"pid 1\"".into()),
                    2 => Verdict::Skip("not here".into()),
                    _ => Verdict::Pass,
                };
                (c, v)
            })
            .collect();
        Report {
            subject,
            results,
            seconds: Some(9.4),
            step_seconds: Vec::new(),
            transcript: String::new(),
        }
    }

    #[test]
    fn text_names_the_question_and_shows_the_evidence() {
        let text = text(&report());
        assert!(text.contains("Task 1 Q2: the thread stores samples: the history grows while the target runs ... FAIL: no new sample\n    first line \"pid 1\"\n"), "{text}");
        assert!(
            text.ends_with("FAIL: 10 passed, 1 failed, 1 skipped (9 s in the VM)\n"),
            "{text}"
        );
    }

    #[test]
    fn ktap_has_a_plan_and_one_line_per_check() {
        let ktap = ktap(&report());
        let lines: Vec<&str> = ktap.lines().collect();
        assert_eq!(lines[..2], ["KTAP version 1", "1..12"]);
        assert!(lines.contains(&"not ok 2 t1q2-grows"), "{ktap}");
        assert!(lines.contains(&"ok 3 t1q2-exit # SKIP not here"), "{ktap}");
        assert!(lines.contains(&"# first line \"pid 1\""), "{ktap}");
    }

    #[test]
    fn junit_is_escaped_and_counts() {
        let xml = junit(1, &[report()], &[("bob".into(), "no Kbuild <file>".into())]);
        assert!(
            xml.contains("<failure message=\"no Kbuild &lt;file&gt;\">"),
            "{xml}"
        );
        assert!(xml.contains("<testsuite name=\"taskmonitor task 1: alice &lt;1&gt;\" tests=\"12\" failures=\"1\" skipped=\"1\">"), "{xml}");
        assert!(xml.contains("<failure message=\"no new sample\">no new sample\nfirst line &quot;pid 1&quot;</failure>"), "{xml}");
        assert_eq!(
            xml.matches("<testcase ").count(),
            13,
            "12 checks and a build"
        );
    }
}
