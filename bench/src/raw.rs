// SPDX-License-Identifier: GPL-2.0

//! The raw data of a benchmark run: what each VM step printed and the module's kernel log
//! lines, kept as JSON (`raw.json`) so that the report can be made again, and checked,
//! without booting anything.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What came out of one measurement: its steps' outputs by name, and the kernel log lines
/// of the module (`taskmonitor: ...`, without timestamps).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    pub steps: BTreeMap<String, String>,
    pub log: Vec<String>,
}

impl Record {
    /// The output of step `name`, or an error naming what is missing.
    pub fn step(&self, name: &str) -> Result<&str, String> {
        self.steps
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("no step {name:?}"))
    }
}

/// Every measurement of a run, by name (`memory-1`, `stage7`, `shrinker`), and the
/// parameters the run used.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Raw {
    pub params: BTreeMap<String, u64>,
    pub records: BTreeMap<String, Record>,
}

impl Raw {
    /// The record called `name`.
    pub fn record(&self, name: &str) -> Result<&Record, String> {
        self.records
            .get(name)
            .ok_or_else(|| format!("no measurement {name:?} in the raw data"))
    }

    pub fn to_json(&self) -> String {
        let records: Map<String, Value> = self
            .records
            .iter()
            .map(|(name, r)| (name.clone(), json!({ "steps": r.steps, "log": r.log })))
            .collect();
        let value = json!({ "params": self.params, "records": records });
        serde_json::to_string_pretty(&value).expect("JSON of strings and numbers") + "\n"
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let bad = |what: &str| format!("raw data: bad {what}");
        let params = value["params"]
            .as_object()
            .ok_or_else(|| bad("params"))?
            .iter()
            .map(|(k, v)| Ok((k.clone(), v.as_u64().ok_or_else(|| bad(k))?)))
            .collect::<Result<_, String>>()?;
        let mut records = BTreeMap::new();
        for (name, r) in value["records"].as_object().ok_or_else(|| bad("records"))? {
            let strings = |v: &Value| v.as_str().map(str::to_string).ok_or_else(|| bad(name));
            let steps = r["steps"]
                .as_object()
                .ok_or_else(|| bad(name))?
                .iter()
                .map(|(k, v)| Ok((k.clone(), strings(v)?)))
                .collect::<Result<_, String>>()?;
            let log = r["log"]
                .as_array()
                .ok_or_else(|| bad(name))?
                .iter()
                .map(strings)
                .collect::<Result<_, String>>()?;
            records.insert(name.clone(), Record { steps, log });
        }
        Ok(Self { params, records })
    }
}

/// The module's log lines worth keeping: those the report reads, and any failure to
/// allocate a sample. (Stage 5 prints every sample, and stage 7 every process it adds.)
const KEPT_LOG: &[&str] = &[
    "sizeof(Sample)",
    "unloading",
    "sampling stopped",
    "no memory",
];

/// The module's lines of a kernel log that [`KEPT_LOG`] names, without timestamps.
pub fn module_log(console: &str) -> Vec<String> {
    console
        .lines()
        .filter_map(|line| line.split_once("taskmonitor: "))
        .map(|(_, text)| format!("taskmonitor: {}", text.trim_end()))
        .filter(|line| KEPT_LOG.iter().any(|kept| line.contains(kept)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let mut raw = Raw::default();
        raw.params.insert("samples".into(), 100_000);
        raw.records.insert(
            "memory-1".into(),
            Record {
                steps: [("a".to_string(), "x 1\n\"quoted\"\n".to_string())].into(),
                log: vec!["taskmonitor: hello".into()],
            },
        );
        assert_eq!(Raw::from_json(&raw.to_json()).unwrap(), raw);
    }

    #[test]
    fn module_lines_lose_their_timestamps() {
        let console = "[    1.2] other\n[    3.4] taskmonitor: unloading, freeing 3 samples\r\n\
                       [    3.5] taskmonitor: sample with 2 references: pid 1\n";
        assert_eq!(
            module_log(console),
            ["taskmonitor: unloading, freeing 3 samples"]
        );
    }
}
