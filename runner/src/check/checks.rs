// SPDX-License-Identifier: GPL-2.0

//! The checks: what the lab asks, judged from the evidence the VM steps printed.
//!
//! They read only the lab's interface: the `target` (and `frequency`) parameters,
//! `/sys/kernel/taskmonitor`, `/sys/kernel/debug/taskmonitor`, the module's shrinker and
//! slab cache as the kernel lists them, and lines that start `pid P usr U sys S`. Where the
//! lab leaves a choice (the errno of a refused write, the memory fields' names and units,
//! whether an exited process's samples stay) every reasonable one passes.

use super::script::BAD_WRITES;
use super::{Subject, Verdict};
use crate::health;
use crate::Step;
use std::collections::HashMap;

/// sysfs hands `show` one page.
const PAGE_SIZE: usize = 4096;

/// A check of one lab question.
pub struct Check {
    /// A stable name, for machines (`t2q2-scan`).
    pub id: &'static str,
    /// The lab's task (1 to 7), or 0 for the kernel's health.
    pub task: u32,
    /// The lab's question within the task, when one asks for this.
    pub question: Option<u32>,
    /// What passes, in a few words.
    pub what: &'static str,
    eval: fn(&Evidence) -> Result<(), Verdict>,
}

impl Check {
    /// `Task 2 Q3`, `Task 1`, or `Kernel health`.
    pub fn group(&self) -> String {
        match (self.task, self.question) {
            (0, _) => "Kernel health".to_string(),
            (t, Some(q)) => format!("Task {t} Q{q}"),
            (t, None) => format!("Task {t}"),
        }
    }

    /// Judges the evidence. Only the load check and the health checks judge a module
    /// that did not load: the others would have nothing to look at.
    pub fn judge(&self, evidence: &Evidence) -> Verdict {
        if self.task > 0 && self.id != "t1-load" && !evidence.loaded() {
            return fail("the module did not load (see Task 1)");
        }
        match (self.eval)(evidence) {
            Ok(()) => Verdict::Pass,
            Err(v) => v,
        }
    }
}

/// What the VM gave for one module.
pub struct Evidence<'a> {
    pub subject: &'a Subject,
    /// Its steps, by their short name (`grow`).
    pub steps: HashMap<String, &'a Step>,
    /// The kernel log from the module's first step to the next module's.
    pub console: String,
    /// Why the VM stopped before its end, if it did: the reasons and the step it was in.
    pub stopped: Option<String>,
    /// What kmemleak reported at the very end of the VM, for its last module: objects
    /// it reports a scan later than the module's own.
    pub late_leaks: Option<String>,
}

fn fail(msg: impl Into<String>) -> Verdict {
    Verdict::Fail(msg.into())
}

impl Evidence<'_> {
    fn step(&self, name: &str) -> Result<&Step, Verdict> {
        self.steps.get(name).copied().ok_or_else(|| {
            fail(format!(
                "not reached: {}",
                self.stopped.as_deref().unwrap_or("the step did not run")
            ))
        })
    }

    /// The `WORD a b c` line of a step, split into words after `WORD`.
    fn words(&self, step: &str, word: &str) -> Result<Vec<String>, Verdict> {
        let out = &self.step(step)?.output;
        out.lines()
            .find_map(|l| {
                l.strip_prefix(word)
                    .filter(|rest| rest.starts_with(' '))
                    .map(|rest| rest.split_whitespace().map(String::from).collect())
            })
            .ok_or_else(|| fail(format!("step {step} printed no `{word}` line: {out:?}")))
    }

    /// The numbers of the `WORD a b c` line of a step.
    fn numbers(&self, step: &str, word: &str) -> Result<Vec<i64>, Verdict> {
        Ok(self
            .words(step, word)?
            .iter()
            .map(|w| w.parse().unwrap_or(-1))
            .collect())
    }

    /// The file `name` a step printed, as it was read.
    fn file(&self, step: &str, name: &str) -> Result<Dump, Verdict> {
        let out = &self.step(step)?.output;
        dump(out, name).ok_or_else(|| fail(format!("step {step} did not show {name}")))
    }

    /// The samples of the whole lines of a file a step printed: a cut last line, or
    /// bytes past the last newline, are the page check's to report, not every check's.
    fn samples(&self, step: &str, name: &str) -> Result<Vec<Sample>, Verdict> {
        let text = self.file(step, name)?.text;
        let whole = text.rfind('\n').map_or("", |end| &text[..=end]);
        parse_samples(whole).map_err(fail)
    }

    /// Whether loading added a shrinker (`what` = "shrinker") or a slab cache ("cache").
    fn added(&self, what: &str) -> bool {
        self.words("load", what).is_ok()
    }

    /// The module's shrinker, which the checks of its count need.
    fn shrinker(&self) -> Result<(), Verdict> {
        match self.added("shrinker") {
            true => Ok(()),
            false => Err(fail("no shrinker (see Task 2 Q2)")),
        }
    }

    /// The counts of the failslab step: before, during (twice), after.
    fn failslab(&self) -> Result<Vec<i64>, Verdict> {
        if self.step("failslab")?.output.contains("no cache") {
            return Err(fail(
                "no cache of the module's own to make fail (see Task 3)",
            ));
        }
        self.numbers("failslab", "failslab")
    }

    fn loaded(&self) -> bool {
        self.subject.target && self.numbers("load", "status").is_ok_and(|s| s[0] == 0)
    }

    /// The samples of a file a step printed, at least one.
    fn some_samples(&self, step: &str, name: &str) -> Result<Vec<Sample>, Verdict> {
        let samples = self.samples(step, name)?;
        if samples.is_empty() {
            return Err(fail(format!(
                "nothing to check: no sample in {name} of step {step}"
            )));
        }
        Ok(samples)
    }

    fn target(&self) -> Result<i64, Verdict> {
        Ok(self.numbers("load", "target")?[0])
    }

    /// Whether the history held still once the target exited, and was not empty: the
    /// scan, drop and read-size checks need one.
    fn still_history(&self) -> Result<(), Verdict> {
        let still = &self.step("still")?.output;
        if !still.lines().any(|l| l == "still") {
            return Err(fail(
                "the history kept changing after the target exited (see Task 1 Q2)",
            ));
        }
        if self.file("still", "s0")?.text.is_empty() {
            return Err(Verdict::Skip(
                "the history emptied when the target exited (the lab allows it), so there was \
                 no fixed history to check this on"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// A file as a step printed it.
struct Dump {
    bytes: usize,
    text: String,
}

fn dump(out: &str, name: &str) -> Option<Dump> {
    let header = format!("@@file {name} ");
    let start = out.find(&header)?;
    let rest = &out[start + header.len()..];
    let (head, body) = rest.split_once('\n')?;
    let bytes = head.split_whitespace().next()?.parse().ok()?;
    let end = body.find("\n@@end")?;
    Some(Dump {
        bytes,
        text: body[..end].to_string(),
    })
}

/// A line `pid P usr U sys S` followed by memory fields, whatever their names and units.
#[derive(Clone, Debug, PartialEq)]
struct Sample {
    pid: i64,
    usr: u64,
    sys: u64,
    memory: Vec<u64>,
    line: String,
}

fn parse_sample(line: &str) -> Option<Sample> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let ["pid", pid, "usr", usr, "sys", sys, rest @ ..] = w.as_slice() else {
        return None;
    };
    let memory = rest
        .join(" ")
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    Some(Sample {
        pid: pid.parse().ok()?,
        usr: usr.parse().ok()?,
        sys: sys.parse().ok()?,
        memory,
        line: line.to_string(),
    })
}

fn parse_samples(text: &str) -> Result<Vec<Sample>, String> {
    text.lines()
        .map(|l| {
            parse_sample(l).ok_or_else(|| format!("not a `pid P usr U sys S ...` line: {l:?}"))
        })
        .collect()
}

/// The first pair of neighbours where the newer-listed one has smaller times.
fn out_of_order(samples: &[Sample]) -> Option<(&Sample, &Sample)> {
    samples
        .windows(2)
        .find(|p| p[0].pid == p[1].pid && (p[0].usr < p[1].usr || p[0].sys < p[1].sys))
        .map(|p| (&p[0], &p[1]))
}

fn count_pid(samples: &[Sample], pid: i64) -> usize {
    samples.iter().filter(|s| s.pid == pid).count()
}

/// A few lines of text, for the report.
fn excerpt(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = lines.iter().take(4).copied().collect::<Vec<_>>().join("\n");
    if lines.len() > 4 {
        out.push_str(&format!("\n... ({} lines in all)", lines.len()));
    }
    out
}

fn status(ev: &Evidence, step: &str) -> Result<i64, Verdict> {
    Ok(ev.numbers(step, "status")?[0])
}

/// Every check, in the lab's order.
pub const CHECKS: &[Check] = &[
    Check {
        id: "t1-load",
        task: 1,
        question: None,
        what: "`insmod taskmonitor.ko target=PID` loads the module",
        eval: |ev| {
            if !ev.subject.target {
                return Err(fail("the module has no `target` parameter"));
            }
            match status(ev, "load")? {
                0 => Ok(()),
                s => Err(fail(format!(
                    "insmod failed (status {s}): {}",
                    ev.step("load")?.output.trim()
                ))),
            }
        },
    },
    Check {
        id: "t1q2-grows",
        task: 1,
        question: Some(2),
        what: "the thread stores samples: the history grows while the target runs",
        eval: |ev| {
            let (g1, g2) = (ev.samples("grow", "g1")?, ev.samples("grow", "g2")?);
            match (g1.first(), g2.first()) {
                (None, _) => Err(fail(format!(
                    "/sys/kernel/taskmonitor is empty after {} s of sampling",
                    ev.subject.pace_seconds()
                ))),
                // A history: more lines, or a full page whose first line is newer.
                (Some(a), Some(b))
                    if g2.len() >= 2
                        && (g2.len() > g1.len()
                            || (a != b && ev.file("grow", "g1")?.bytes + 200 >= PAGE_SIZE)) =>
                {
                    Ok(())
                }
                (Some(_), Some(_)) if g2.len() < 2 => Err(fail(format!(
                    "one line after {0} s and {0} s more: a single sample, not a history",
                    ev.subject.pace_seconds()
                ))),
                _ => Err(fail(format!(
                    "no new sample in {} s: the first line stayed {:?}",
                    ev.subject.pace_seconds(),
                    g1[0].line
                ))),
            }
        },
    },
    Check {
        id: "t1q2-exit",
        task: 1,
        question: Some(2),
        what: "when the target exits, sampling stops and the history stays readable",
        eval: |ev| {
            let still = &ev.step("still")?.output;
            if still.lines().any(|l| l == "moving") {
                return Err(fail(
                    "the history kept changing for seconds after the target exited",
                ));
            }
            ev.samples("still", "s0")?;
            Ok(())
        },
    },
    Check {
        id: "t1q3-format",
        task: 1,
        question: Some(3),
        what: "each line of /sys/kernel/taskmonitor is `pid P usr U sys S` of the target",
        eval: |ev| {
            let pid = ev.target()?;
            for name in ["g1", "g2"] {
                let samples = ev.some_samples("grow", name)?;
                if let Some(s) = samples.iter().find(|s| s.pid != pid) {
                    return Err(fail(format!(
                        "a line of pid {} (the target is {pid}): {:?}",
                        s.pid, s.line
                    )));
                }
            }
            Ok(())
        },
    },
    Check {
        id: "t1q3-newest-first",
        task: 1,
        question: Some(3),
        what: "the newest sample comes first",
        eval: |ev| {
            let (g1, g2) = (
                ev.some_samples("grow", "g1")?,
                ev.some_samples("grow", "g2")?,
            );
            for samples in [&g1, &g2] {
                if let Some((newer, older)) = out_of_order(samples) {
                    return Err(fail(format!(
                        "times fall from a line to the next, so older samples come first:\n{}\n{}",
                        newer.line, older.line
                    )));
                }
            }
            match (g1.first(), g2.first()) {
                (Some(a), Some(b)) if b.usr < a.usr || b.sys < a.sys => Err(fail(format!(
                    "a second later the first line is older: {:?}, then {:?}",
                    a.line, b.line
                ))),
                _ => Ok(()),
            }
        },
    },
    Check {
        id: "t1q3-page",
        task: 1,
        question: Some(3),
        what: "whole lines, never more than a page, once the history outgrows one",
        eval: |ev| {
            for name in ["g1", "g2"] {
                let d = ev.file("grow", name)?;
                if d.bytes >= PAGE_SIZE {
                    return Err(fail(format!("{} bytes read", d.bytes)));
                }
                if d.text.contains('\0') {
                    return Err(fail(format!("{} bytes read, with zero bytes", d.bytes)));
                }
                if !d.text.is_empty() && !d.text.ends_with('\n') {
                    return Err(fail(format!(
                        "the last line is cut: {:?}",
                        d.text.lines().last().unwrap_or("")
                    )));
                }
            }
            if let Some(l) = ev
                .console
                .lines()
                .find(|l| l.contains("returned bad count"))
            {
                return Err(fail(format!(
                    "the kernel says: {}",
                    health::strip_timestamp(l)
                )));
            }
            if !ev.subject.frequency {
                return Err(Verdict::Skip(
                    "whole lines checked, but no `frequency` parameter: at the lab's 1 Hz the \
                     history takes a minute to outgrow a page"
                        .into(),
                ));
            }
            Ok(())
        },
    },
    Check {
        id: "t1q4-unload",
        task: 1,
        question: Some(4),
        what: "`rmmod taskmonitor` unloads the module",
        eval: |ev| {
            let s = status(ev, "unload")?;
            let loaded = ev.numbers("unload", "loaded")?[0];
            if s != 0 || loaded != 0 {
                return Err(fail(format!(
                    "rmmod returned {s}; the module is {}loaded",
                    if loaded == 0 { "not " } else { "still " }
                )));
            }
            Ok(())
        },
    },
    Check {
        id: "t1q4-freed",
        task: 1,
        question: Some(4),
        what: "everything is freed at unload (kmemleak finds no leak)",
        eval: |ev| {
            let out = &ev.step("unload")?.output;
            let report = out[out.find("unreferenced object").unwrap_or(out.len())..].to_string();
            match ev.late_leaks.clone().filter(|_| report.is_empty()).unwrap_or(report) {
                r if r.is_empty() => Ok(()),
                r => Err(fail(format!("kmemleak reports:\n{}", excerpt(&r)))),
            }
        },
    },
    Check {
        id: "t1q5-memory",
        task: 1,
        question: Some(5),
        what: "each line has the memory sizes (total, stack, data) after `sys S`",
        eval: |ev| {
            let samples = ev.some_samples("grow", "g2")?;
            match samples
                .iter()
                .find(|s| s.memory.len() < 3 || s.memory[0] == 0)
            {
                Some(s) => Err(fail(format!(
                    "expected three sizes, the total above 0, after `sys S`: {:?}",
                    s.line
                ))),
                None => Ok(()),
            }
        },
    },
    Check {
        id: "t2q2-shrinker",
        task: 2,
        question: Some(2),
        what: "loading registers a shrinker (/sys/kernel/debug/shrinker/)",
        eval: |ev| match ev.added("shrinker") {
            true => Ok(()),
            false => Err(fail(
                "no new entry in /sys/kernel/debug/shrinker/ after insmod",
            )),
        },
    },
    Check {
        id: "t2q2-count",
        task: 2,
        question: Some(2),
        what: "the shrinker counts the samples held",
        eval: |ev| {
            ev.shrinker()?;
            ev.still_history()?;
            let count = ev.numbers("still", "count")?[0];
            // All of a history that fits on sysfs's page; at least what it shows of a
            // larger one. The debugfs file's length is Task 6's check.
            let page = ev.file("still", "s0")?;
            let shown = page.text.lines().count() as i64;
            // A shrinker may keep (and not count) the newest 10, as drop_caches allows.
            let all_shown = page.bytes + 200 < PAGE_SIZE;
            let fits = if all_shown {
                (shown - 10..=shown).contains(&count)
            } else {
                count >= shown - 10
            };
            if !fits {
                return Err(fail(format!(
                    "count {count}, but /sys/kernel/taskmonitor shows {shown} samples"
                )));
            }
            Ok(())
        },
    },
    Check {
        id: "t2q2-scan",
        task: 2,
        question: Some(2),
        what: "an exact scan of 5 frees the 5 oldest samples",
        eval: |ev| {
            ev.shrinker()?;
            ev.still_history()?;
            let c = ev.numbers("scan", "count")?;
            let (c0, c1) = (c[0], c[1]);
            if c0 < 6 {
                return Err(fail(format!("only {c0} samples held before the scan")));
            }
            if c1 != c0 - 5 {
                return Err(fail(format!(
                    "{} samples freed (count {c0}, then {c1})",
                    c0 - c1
                )));
            }
            // The whole history, from the debugfs file when it lists all the shrinker
            // counts (Task 6 judges the file), else what sysfs shows: the whole history
            // loses its 5 oldest, a full sysfs page shows the same newest.
            let debugfs = match ev.subject.task {
                6.. => Some((ev.file("scan", "x0")?.text, ev.file("scan", "x1")?.text)),
                _ => None,
            }
            .filter(|(x0, _)| x0.lines().count() as i64 == c0);
            let sysfs = ev.file("scan", "y0")?;
            let whole = debugfs.is_some() || sysfs.bytes + 200 < PAGE_SIZE;
            let (before, after) =
                debugfs.unwrap_or((sysfs.text, ev.file("scan", "y1")?.text));
            let before: Vec<&str> = before.lines().collect();
            let after: Vec<&str> = after.lines().collect();
            let kept = if whole {
                before.len().saturating_sub(5)
            } else {
                before.len()
            };
            // Which samples went: the newest ones, when what is left starts further down.
            if let Some(gone) = (1..before.len()).find(|&k| after.first() == before.get(k)) {
                if after != before[..kept] && before[gone..].starts_with(&after[..after.len().min(before.len() - gone)]) {
                    return Err(fail(format!(
                        "the {gone} newest samples were freed, not the 5 oldest: the history began\n{}\nand after the scan\n{}",
                        excerpt(&before.join("\n")),
                        excerpt(&after.join("\n"))
                    )));
                }
            }
            if after != before[..kept] {
                return Err(fail(format!(
                    "not the oldest: before the scan the history began\n{}\nafter it\n{}",
                    excerpt(&before.join("\n")),
                    excerpt(&after.join("\n"))
                )));
            }
            Ok(())
        },
    },
    Check {
        id: "t2q3-drop-caches",
        task: 2,
        question: Some(3),
        what: "`echo 2 > /proc/sys/vm/drop_caches` frees the samples (10 may stay)",
        eval: |ev| {
            ev.still_history()?;
            let d = ev.numbers("drop", "drop")?;
            if !ev.added("shrinker") && d[4] > 10 {
                return Err(fail(format!(
                    "no shrinker (see Task 2 Q2): /sys/kernel/taskmonitor shows {} lines after it",
                    d[4]
                )));
            }
            if d[0] <= 10 {
                return Err(Verdict::Skip(format!(
                    "only {} samples held: too few to tell (a shrinker may keep 10)",
                    d[0]
                )));
            }
            // A shrinker may keep a few of the newest by design.
            let (count, lines) = (d[1], d[4]);
            if count > 10 || lines > 10 {
                return Err(fail(format!(
                    "after drop_caches the count is {count} (from {}) and /sys/kernel/taskmonitor \
                     shows {lines} lines",
                    d[0]
                )));
            }
            Ok(())
        },
    },
    Check {
        id: "t3q2-cache",
        task: 3,
        question: Some(2),
        what: "loading creates a slab cache, unloading destroys it",
        eval: |ev| {
            if !ev.added("cache") {
                return Err(fail("no new cache in /sys/kernel/slab/ after insmod"));
            }
            if ev.step("unload")?.output.lines().any(|l| l == "cache left") {
                return Err(fail("the cache is still in /sys/kernel/slab/ after rmmod"));
            }
            Ok(())
        },
    },
    Check {
        id: "t3q2-used",
        task: 3,
        question: Some(2),
        what: "samples are allocated from that cache and freed back to it",
        eval: |ev| {
            if !ev.added("cache") {
                return Err(fail("no cache (see the check above)"));
            }
            let n = ev.numbers("grow", "count")?;
            let (count, objects) = (n[0], n[2]);
            if objects < count {
                return Err(fail(format!(
                    "the cache holds {objects} objects, the history {count} samples"
                )));
            }
            let d = ev.numbers("drop", "drop")?;
            let (c0, o0, o1) = (d[0], d[2], d[3]);
            let per_slab = ev.numbers("drop", "per-slab").map_or(1, |n| n[0].max(1));
            if c0 >= 4 * per_slab && o0 - o1 < c0 / 2 {
                return Err(fail(format!(
                    "drop_caches freed {c0} samples, but the cache's objects went from {o0} to {o1}"
                )));
            }
            Ok(())
        },
    },
    Check {
        id: "t4q2-reserve",
        task: 4,
        question: Some(2),
        what: "sampling goes on from the reserve while the cache fails (failslab)",
        eval: |ev| {
            let f = ev.failslab()?;
            if f[1] - f[0] < 2 {
                return Err(fail(format!(
                    "{} samples taken while every allocation from the cache failed",
                    f[1] - f[0]
                )));
            }
            Ok(())
        },
    },
    Check {
        id: "t4q2-recovers",
        task: 4,
        question: Some(2),
        what: "sampling resumes when the cache gives memory again",
        eval: |ev| {
            let f = ev.failslab()?;
            if f[3] <= f[2] {
                return Err(fail(format!(
                    "no new sample in 6 s (count {} then {})",
                    f[2], f[3]
                )));
            }
            Ok(())
        },
    },
    Check {
        id: "t5q2-concurrent",
        task: 5,
        question: Some(2),
        what: "histories read while the shrinker frees samples are whole",
        eval: |ev| {
            let n = ev.numbers("concurrent", "malformed")?;
            if n[0] != 0 {
                return Err(fail(format!("{} of 15 reads had a malformed line", n[0])));
            }
            Ok(())
        },
    },
    Check {
        id: "t6q3-file",
        task: 6,
        question: Some(3),
        what: "/sys/kernel/debug/taskmonitor lists the samples, newest first",
        eval: |ev| {
            let samples = ev.samples("grow", "g3")?;
            let pid = ev.target()?;
            if samples.is_empty() {
                return Err(fail("empty while the target was sampled"));
            }
            if let Some(s) = samples.iter().find(|s| s.pid != pid) {
                return Err(fail(format!(
                    "a line of pid {} (the target is {pid}): {:?}",
                    s.pid, s.line
                )));
            }
            if let Some((newer, older)) = out_of_order(&samples) {
                return Err(fail(format!(
                    "older samples come first:\n{}\n{}",
                    newer.line, older.line
                )));
            }
            Ok(())
        },
    },
    Check {
        id: "t6q3-whole",
        task: 6,
        question: Some(3),
        what: "it holds the whole history (the shrinker's count), past a page; sysfs shows its newest samples",
        eval: |ev| {
            ev.still_history()?;
            let all = ev.file("reads", "d0")?;
            let page = ev.file("still", "s0")?;
            if !all.text.starts_with(&page.text) {
                return Err(fail(format!(
                    "/sys/kernel/taskmonitor is not the first lines of the debugfs file:\n{}\nagainst\n{}",
                    excerpt(&page.text),
                    excerpt(&all.text)
                )));
            }
            let lines = all.text.lines().count() as i64;
            let count = ev.numbers("still", "count")?[0];
            if ev.added("shrinker") && !(lines - 10..=lines).contains(&count) {
                return Err(fail(format!(
                    "{lines} lines, but the shrinker counts {count} samples"
                )));
            }
            if ev.subject.frequency && all.bytes <= PAGE_SIZE {
                return Err(fail(format!(
                    "{} bytes: not the whole history of {} samples",
                    all.bytes,
                    ev.numbers("still", "count")?[0]
                )));
            }
            Ok(())
        },
    },
    Check {
        id: "t6q3-read-sizes",
        task: 6,
        question: Some(3),
        what: "the same bytes whatever the read size (1, 7, 4096, 65536)",
        eval: |ev| {
            ev.still_history()?;
            if ev.file("reads", "d0")?.text.is_empty() {
                return Err(fail("/sys/kernel/debug/taskmonitor gives nothing to read"));
            }
            let reads = &ev.step("reads")?.output;
            let whole = ev.words("reads", "cat")?[0].clone();
            for line in reads.lines().filter(|l| l.starts_with("bs ")) {
                let w: Vec<&str> = line.split_whitespace().collect();
                if w.get(2) != Some(&whole.as_str()) {
                    return Err(fail(format!(
                        "reads of {} bytes give other bytes than one large read",
                        w[1]
                    )));
                }
            }
            Ok(())
        },
    },
    Check {
        id: "t7q3-add",
        task: 7,
        question: Some(3),
        what: "`echo PID > /sys/kernel/debug/taskmonitor` starts monitoring PID",
        eval: |ev| {
            let a = ev.numbers("add", "add")?;
            let (b, sb, e, se) = (a[0], a[1], a[2], a[3]);
            if sb != 0 || se != 0 {
                return Err(fail(format!("the writes failed (status {sb} and {se})")));
            }
            let m1 = ev.samples("add", "m1")?;
            for pid in [b, e] {
                if count_pid(&m1, pid) == 0 {
                    return Err(fail(format!("no sample of pid {pid} after `echo {pid}`")));
                }
            }
            Ok(())
        },
    },
    Check {
        id: "t7q2-all",
        task: 7,
        question: Some(2),
        what: "every monitored process is sampled, at the same rate",
        eval: |ev| {
            let a = ev.numbers("add", "add")?;
            let m1 = ev.samples("add", "m1")?;
            let (nb, ne) = (count_pid(&m1, a[0]), count_pid(&m1, a[2]));
            if nb == 0 || ne == 0 {
                return Err(fail(format!(
                    "{nb} samples of one process, {ne} of the other"
                )));
            }
            if nb.abs_diff(ne) > 3 + nb.max(ne) / 10 {
                return Err(fail(format!(
                    "{nb} samples of one process, {ne} of the other"
                )));
            }
            Ok(())
        },
    },
    Check {
        id: "t7q3-duplicate",
        task: 7,
        question: Some(3),
        what: "writing a PID already monitored does not monitor it twice",
        eval: |ev| {
            let a = ev.numbers("add", "add")?;
            let (m2, m3) = (ev.samples("add", "m2")?, ev.samples("add", "m3")?);
            let new = |pid| count_pid(&m3, pid).saturating_sub(count_pid(&m2, pid));
            let (nb, ne) = (new(a[0]), new(a[2]));
            if ne == 0 {
                return Err(fail(
                    "nothing to compare: no new sample of the process written once",
                ));
            }
            if nb > ne + 3 + ne / 10 || (ne >= 2 && 2 * nb >= 3 * ne) {
                return Err(fail(format!(
                    "after `echo {}` a second time (status {}), {nb} new samples of it against {ne} \
                     of a process written once",
                    a[0], a[5]
                )));
            }
            Ok(())
        },
    },
    Check {
        id: "t7q3-not-monitored",
        task: 7,
        question: Some(3),
        what: "`echo -PID` of a process not monitored is refused",
        eval: |ev| {
            for (label, what) in [
                ("minus-not-monitored", "a running process"),
                ("minus-exited-process", "a process that has exited"),
            ] {
                if ev.numbers("refuse", &format!("write {label}"))?[0] == 0 {
                    return Err(fail(format!("`echo -PID` of {what} succeeded")));
                }
            }
            Ok(())
        },
    },
    Check {
        id: "t7q3-bad-input",
        task: 7,
        question: Some(3),
        what:
            "malformed writes are refused (not a number, empty, 0, `12x`, an exited PID, too large)",
        eval: |ev| {
            let mut accepted = Vec::new();
            for (label, value) in BAD_WRITES.iter().filter(|(l, _)| !l.starts_with("minus-")) {
                if ev.numbers("refuse", &format!("write {label}"))?[0] == 0 {
                    accepted.push(format!("{label} ({value:?})"));
                }
            }
            if !accepted.is_empty() {
                return Err(fail(format!("accepted: {}", accepted.join(", "))));
            }
            Ok(())
        },
    },
    Check {
        id: "t7q3-nothing-lost",
        task: 7,
        question: Some(3),
        what: "a refused write changes nothing: the history and the monitored processes stay",
        eval: |ev| {
            let a = ev.numbers("add", "add")?;
            let p = ev.numbers("refuse", "pids")?;
            let (b0, b1) = (ev.file("refuse", "b0")?.text, ev.file("refuse", "b1")?.text);
            // Each process's samples, in order: a history per process (the lab's Task 7 Q1)
            // lists them apart, one shared history interleaved.
            let before = parse_samples(&b0).map_err(fail)?;
            let after = parse_samples(&b1).map_err(fail)?;
            let of = |samples: &[Sample], pid: i64| -> Vec<String> {
                samples
                    .iter()
                    .filter(|s| s.pid == pid)
                    .map(|s| s.line.clone())
                    .collect()
            };
            let kept = before
                .iter()
                .all(|s| of(&after, s.pid).ends_with(&of(&before, s.pid)));
            if !kept {
                return Err(fail(format!(
                    "samples recorded before the writes are gone or changed:\nbefore\n{}\nafter\n{}",
                    excerpt(&b0),
                    excerpt(&b1)
                )));
            }
            let (s1, s2) = (after, ev.samples("refuse", "b2")?);
            for pid in [a[0], a[2]] {
                if count_pid(&s2, pid) <= count_pid(&s1, pid) {
                    return Err(fail(format!("pid {pid} is no longer sampled")));
                }
            }
            for pid in p {
                if count_pid(&s2, pid) > 0 {
                    return Err(fail(format!("pid {pid}, refused, was sampled")));
                }
            }
            Ok(())
        },
    },
    Check {
        id: "t7q3-remove",
        task: 7,
        question: Some(3),
        what: "`echo -PID` stops monitoring PID; the others go on",
        eval: |ev| {
            let a = ev.numbers("add", "add")?;
            if status(ev, "remove")? != 0 {
                return Err(fail(format!("`echo -{}` failed", a[2])));
            }
            let (r1, r2) = (ev.samples("remove", "r1")?, ev.samples("remove", "r2")?);
            if count_pid(&r2, a[2]) > count_pid(&r1, a[2]) {
                return Err(fail(format!("pid {} is still sampled", a[2])));
            }
            if count_pid(&r2, a[0]) <= count_pid(&r1, a[0]) {
                return Err(fail(format!("pid {} is no longer sampled", a[0])));
            }
            Ok(())
        },
    },
    Check {
        id: "health-ran",
        task: 0,
        question: None,
        what: "the VM ran every step: no hang, no panic",
        eval: |ev| match &ev.stopped {
            Some(why) => Err(fail(why.clone())),
            None => Ok(()),
        },
    },
    Check {
        id: "health-splat",
        task: 0,
        question: None,
        what:
            "no kernel report: oops, WARN, lockdep, KASAN, refcount, sleeping in atomic, hung task",
        eval: |ev| {
            // Leaks are the unload check's.
            let splats: Vec<&str> = health::splats(&ev.console)
                .into_iter()
                .filter(|l| !l.contains("kmemleak"))
                .collect();
            if splats.is_empty() {
                return Ok(());
            }
            Err(fail(excerpt(
                &splats
                    .iter()
                    .map(|l| health::strip_timestamp(l))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )))
        },
    },
    Check {
        id: "health-taint",
        task: 0,
        question: None,
        what: "the kernel is not tainted by a bug and lockdep is still on",
        eval: |ev| {
            // What this module's steps changed: the values at its load and its unload.
            let before = ev.numbers("load", "health")?;
            let after = ev.numbers("unload", "health")?;
            let new_taint = (after[0] & !before[0]) as u64 & health::BAD_TAINT;
            if new_taint != 0 {
                return Err(fail(format!(
                    "the kernel became tainted ({} -> {}, bad bits {new_taint:#x})",
                    before[0], after[0]
                )));
            }
            if before[1] == 1 && after[1] == 0 {
                return Err(fail("lockdep switched itself off after a report"));
            }
            Ok(())
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_shown_file_exactly() {
        let out = "x\n@@file g1 8 0a\npid 1 u\n\n@@end\n@@file g2 0 \n\n@@end\n";
        assert_eq!(dump(out, "g1").unwrap().text, "pid 1 u\n");
        assert_eq!(dump(out, "g1").unwrap().bytes, 8);
        assert_eq!(dump(out, "g2").unwrap().text, "");
        assert!(dump(out, "g3").is_none());
    }

    #[test]
    fn accepts_any_memory_field_names_and_units() {
        for line in [
            "pid 3 usr 10 sys 20 total 100 stack 4 data 8",
            "pid 3 usr 10 sys 20 vm=100kB stack=4kB data=8kB",
            "pid 3 usr 10 sys 20 100 4 8",
        ] {
            assert_eq!(parse_sample(line).unwrap().memory, [100, 4, 8], "{line}");
        }
        assert!(parse_sample("pid 3 usr 10 system 20").is_none());
    }

    #[test]
    fn finds_older_samples_first() {
        let s = parse_samples("pid 1 usr 5 sys 5 1 1 1\npid 1 usr 6 sys 5 1 1 1\n").unwrap();
        assert!(out_of_order(&s).is_some());
        let s = parse_samples("pid 1 usr 6 sys 5 1 1 1\npid 1 usr 6 sys 5 1 1 1\n").unwrap();
        assert!(out_of_order(&s).is_none());
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = CHECKS.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len());
    }
}
