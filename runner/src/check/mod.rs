// SPDX-License-Identifier: GPL-2.0

//! `make check`: any `taskmonitor.ko`, a student's in C or Rust or one of ours, checked
//! against the lab question by question in the VM.
//!
//! [`script`] gives each module's shell steps, which only gather evidence through the lab's
//! interface; [`checks`] judges it; [`report`] writes it for people (text), for CI
//! (JUnit XML, KTAP) and for teachers (a table over submissions). [`build`] builds a
//! folder against the project's kernel. Several modules may share one VM, one after the
//! other: each check then looks only at its own module's steps and kernel log.

pub mod build;
pub mod checks;
pub mod report;
mod script;

use crate::{RunError, Scenario, Step};
use checks::{Check, Evidence, CHECKS};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// A module to check, and the task its author reached.
#[derive(Clone, Debug)]
pub struct Subject {
    /// How the report names it (a folder's name, `stage 3`).
    pub label: String,
    /// Its `taskmonitor.ko`.
    pub ko: PathBuf,
    /// The lab's task (1 to 7): its checks and every earlier task's.
    pub task: u32,
    /// Whether it has the lab's `target` parameter.
    pub target: bool,
    /// Whether it has a `frequency` parameter (ours): the checks then sample at 200 Hz,
    /// else at the lab's 1 Hz, and take longer.
    pub frequency: bool,
}

impl Subject {
    /// The seconds the checks let it sample between two reads of its history.
    pub fn pace_seconds(&self) -> &'static str {
        script::pace(self).short
    }

    /// The module `ko`, checked as task `task`; its parameters read from its `.modinfo`.
    pub fn new(label: &str, ko: PathBuf, task: u32) -> std::io::Result<Self> {
        let bytes = std::fs::read(&ko)?;
        let has = |param: &str| {
            let needle = format!("parmtype={param}:");
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        };
        Ok(Self {
            label: label.to_string(),
            task,
            target: has("target"),
            frequency: has("frequency"),
            ko,
        })
    }
}

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// With the evidence that failed.
    Fail(String),
    /// Not applicable to this module, and why.
    Skip(String),
}

/// One module's results.
pub struct Report {
    pub subject: Subject,
    pub results: Vec<(&'static Check, Verdict)>,
    /// Seconds of the VM's clock from the module's first step to its last.
    pub seconds: Option<f64>,
    /// Each step and the seconds from its start to the next step's, by the VM's clock.
    pub step_seconds: Vec<(String, f64)>,
    /// Every step the module's checks ran: its commands, what they printed, its status.
    pub transcript: String,
}

impl Report {
    /// Whether every check passed or was skipped.
    pub fn passed(&self) -> bool {
        self.results
            .iter()
            .all(|(_, v)| !matches!(v, Verdict::Fail(_)))
    }

    /// The verdict of check `id`.
    pub fn verdict(&self, id: &str) -> Option<&Verdict> {
        self.results
            .iter()
            .find(|(c, _)| c.id == id)
            .map(|(_, v)| v)
    }

    /// The ids of the checks that failed.
    pub fn failed(&self) -> Vec<&'static str> {
        self.results
            .iter()
            .filter(|(_, v)| matches!(v, Verdict::Fail(_)))
            .map(|(c, _)| c.id)
            .collect()
    }
}

/// The checks of task `task`: its own and every earlier task's, then the health checks.
pub fn checks_for(task: u32) -> impl Iterator<Item = &'static Check> {
    let lab = CHECKS.iter().filter(move |c| (1..=task).contains(&c.task));
    lab.chain(CHECKS.iter().filter(|c| c.task == 0))
}

/// The kernel log's mark of a module's first step (see [`script::steps`]).
fn begin_mark(prefix: &str) -> String {
    format!("taskmonitor-check: {prefix} load")
}

/// Checks `subjects` one after the other in one VM.
pub fn run(subjects: &[Subject]) -> Result<Vec<Report>, String> {
    let mut scenario = Scenario::new("check")
        .cmdline("slab_nomerge")
        .step("prelude", script::PRELUDE);
    let mut seconds = 30;
    let mut planned = Vec::new();
    for (i, subject) in subjects.iter().enumerate() {
        let prefix = format!("m{i}");
        scenario = scenario.module(&prefix, &subject.ko);
        let steps = script::steps(subject, &prefix);
        for (name, cmd) in &steps {
            scenario = scenario.step(name, cmd);
        }
        seconds += if subject.frequency { 60 } else { 150 } + 10 * subject.task as u64;
        planned.push((prefix, steps));
    }
    // KASAN's checks make everything slower.
    let seconds = if crate::kasan() { 3 * seconds } else { seconds };
    let scenario = scenario.timeout(Duration::from_secs(seconds));
    let (steps, console, reasons) = match scenario.run() {
        Ok(run) => (run.steps, run.console, Vec::new()),
        Err(RunError::Setup(e)) => return Err(format!("the VM could not start: {e}")),
        Err(RunError::Failed {
            reasons,
            steps,
            console,
        }) => (steps, console, reasons),
    };
    let by_name: HashMap<&str, &Step> = steps.iter().map(|s| (s.name.as_str(), s)).collect();
    // Where the VM stopped, if it did: the first planned step that never reported.
    let first_missing = planned
        .iter()
        .flat_map(|(_, steps)| steps.iter())
        .find(|(name, _)| !by_name.contains_key(name.as_str()))
        .map(|(name, _)| name.clone());
    let stop_reason = first_missing.as_ref().map(|name| {
        let why = reasons
            .iter()
            .find(|r| {
                r.starts_with("timed out")
                    || r.starts_with("the VM stopped")
                    || r.contains("broke the markers")
            })
            .cloned()
            .unwrap_or_else(|| "the VM stopped".into());
        let panic = console
            .lines()
            .find(|l| l.contains("Kernel panic"))
            .map(|l| format!(" ({})", crate::health::strip_timestamp(l).trim()))
            .unwrap_or_default();
        let step = name.split_once(':').map_or(name.as_str(), |(_, s)| s);
        format!("stopped in step `{step}`: {why}{panic}")
    });

    let mut reports = Vec::new();
    for (i, (subject, (prefix, planned_steps))) in subjects.iter().zip(&planned).enumerate() {
        // From the start of the line of the module's mark to that of the next module's.
        let line_of = |mark: String| {
            console
                .find(&mark)
                .map(|at| console[..at].rfind('\n').map_or(0, |nl| nl + 1))
        };
        let from = line_of(begin_mark(prefix));
        let to = subjects
            .get(i + 1)
            .and_then(|_| line_of(begin_mark(&format!("m{}", i + 1))));
        let segment = match from {
            Some(from) => &console[from..to.unwrap_or(console.len()).max(from)],
            None => "",
        };
        let mut own = HashMap::new();
        for (name, _) in planned_steps {
            if let Some(step) = by_name.get(name.as_str()) {
                let short = name.split_once(':').map_or(name.as_str(), |(_, s)| s);
                own.insert(short.to_string(), *step);
            }
        }
        let reached_end = own.contains_key("unload");
        let stopped_here = first_missing
            .as_ref()
            .is_some_and(|m| m.starts_with(&format!("{prefix}:")));
        let stopped = if reached_end {
            None
        } else if stopped_here {
            stop_reason.clone()
        } else {
            Some("not run: the VM stopped during an earlier module".into())
        };
        // The VM's last kmemleak scan, after every module's.
        let late_leaks = reasons
            .iter()
            .find(|r| r.starts_with("kmemleak:"))
            .filter(|_| i + 1 == subjects.len() && reached_end)
            .cloned();
        let evidence = Evidence {
            subject,
            steps: own,
            console: segment.to_string(),
            stopped,
            late_leaks,
        };
        let results = checks_for(subject.task)
            .map(|c| (c, c.judge(&evidence)))
            .collect();
        let stamp = |mark: &str| {
            segment
                .lines()
                .find(|l| l.contains(mark))
                .and_then(crate::output::log_time)
        };
        let seconds = stamp(&begin_mark(prefix))
            .zip(stamp(&format!("taskmonitor-check: end {prefix}")))
            .map(|(b, e)| e - b);
        let marks: Vec<(String, f64)> = segment
            .lines()
            .filter_map(|l| {
                let rest = l.split_once(&format!("taskmonitor-check: {prefix} "))?.1;
                Some((rest.to_string(), crate::output::log_time(l)?))
            })
            .chain(stamp(&format!("taskmonitor-check: end {prefix}")).map(|t| ("end".into(), t)))
            .collect();
        let step_seconds = marks
            .windows(2)
            .map(|w| (w[0].0.clone(), w[1].1 - w[0].1))
            .collect();
        let transcript = planned_steps
            .iter()
            .filter_map(|(name, _)| by_name.get(name.as_str()))
            .map(|s| {
                format!(
                    "== {} [exit {}]\n$ {}\n{}\n",
                    s.name, s.status, s.command, s.output
                )
            })
            .collect();
        reports.push(Report {
            subject: subject.clone(),
            results,
            seconds,
            step_seconds,
            transcript,
        });
    }
    Ok(reports)
}
