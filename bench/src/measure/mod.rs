// SPDX-License-Identifier: GPL-2.0

//! The measurements, parsed from the raw step outputs of [`crate::scenarios`].
//!
//! Each step of a scenario prints `name value` pairs, which the helpers here read; one
//! submodule per kind of measurement.

mod cost;
mod export;
mod memory;
mod pressure;
pub(crate) mod rate;

use cost::{sampler_runs, windows};
pub use cost::{CostPoint, SamplerRun, Window};
pub use export::{Export, Reads};
use memory::kswapd_ns;
pub use memory::{freed_at_unload, Cache, Sizes, StageMemory, PAGE_SIZE};
pub use pressure::{Pressure, TracePoint};
pub use rate::RatePoint;

use crate::raw::{Raw, Record};
use std::collections::BTreeMap;

/// The `name value` pairs of every line of `text`, the later lines winning.
pub(crate) fn pairs(text: &str) -> BTreeMap<&str, &str> {
    text.lines().flat_map(line_pairs).collect()
}

/// The `name value` pairs of one line; a word without a value is dropped.
pub(crate) fn line_pairs(line: &str) -> BTreeMap<&str, &str> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.chunks_exact(2).map(|w| (w[0], w[1])).collect()
}

/// The value called `name` in `pairs`, parsed.
pub(crate) fn get<T: std::str::FromStr>(
    pairs: &BTreeMap<&str, &str>,
    name: &str,
) -> Result<T, String> {
    let value = pairs
        .get(name)
        .ok_or_else(|| format!("no {name} in {pairs:?}"))?;
    value
        .parse()
        .map_err(|_| format!("{name} is not a number: {value:?}"))
}

/// The lines of `text` that have a `name` pair, parsed by `parse`.
pub(crate) fn lines_with<T>(
    text: &str,
    name: &str,
    parse: impl Fn(&BTreeMap<&str, &str>) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    text.lines()
        .map(line_pairs)
        .filter(|p| p.contains_key(name))
        .map(|p| parse(&p))
        .collect()
}

/// Stage 7's measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage7 {
    pub memory: StageMemory,
    pub exports: Vec<Export>,
    pub cost: Vec<CostPoint>,
}

impl Stage7 {
    pub fn parse(r: &Record) -> Result<Self, String> {
        let samples = get(&pairs(r.step("count")?), "samples")?;
        let number_after = |prefix: &str, name: &str| name.strip_prefix(prefix)?.parse().ok();
        let mut exports = Vec::new();
        for (name, text) in &r.steps {
            if number_after("export-", name).is_some() {
                exports.push(Export::parse(get(&pairs(text), "samples")?, text)?);
            }
        }
        exports.sort_by_key(|e| e.samples);
        let mut cost = Vec::new();
        for (name, text) in &r.steps {
            if let Some(pids) = number_after("module-", name) {
                cost.push(CostPoint {
                    pids,
                    module: windows(text)?,
                    kept: sampler_runs(r.step(&format!("sampler-{pids}"))?)?,
                    reopened: sampler_runs(r.step(&format!("reopen-{pids}"))?)?,
                });
            }
        }
        cost.sort_by_key(|c| c.pids);
        Ok(Self {
            memory: StageMemory {
                stage: 7,
                samples,
                sizes: Sizes::from_log(&r.log),
                // The stage 7 VM does not measure kmalloc-64: its samples are cached.
                kmalloc_before: Cache::default(),
                kmalloc_loaded: Cache::default(),
                kmalloc_released: Cache::default(),
                cache: Some(Cache::parse(r.step("cache")?)?),
                fill_seconds: 0.0,
                kswapd_ns: kswapd_ns(r)?,
            },
            exports,
            cost,
        })
    }
}

/// Everything a run measured; what a profile skipped is empty.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurements {
    pub params: BTreeMap<String, u64>,
    pub memory: Vec<StageMemory>,
    pub sysfs: Option<Export>,
    pub stage7: Stage7,
    pub pressure: Option<Pressure>,
    /// The sampling rate by stage and frequency; empty if not measured.
    pub rates: Vec<RatePoint>,
    /// Stage 7 against the C reference, by kernel: the production kernel first.
    pub versus: Vec<crate::versus::measure::Versus>,
}

impl Measurements {
    pub fn parse(raw: &Raw) -> Result<Self, String> {
        let mut memory = Vec::new();
        let mut sysfs = None;
        for stage in 1..=6 {
            let name = format!("memory-{stage}");
            let Ok(record) = raw.record(&name) else {
                continue;
            };
            memory.push(StageMemory::parse(stage, record).map_err(|e| context(&name, e))?);
            if let Ok(text) = record.step("sysfs") {
                sysfs = Some(Export::parse(0, text).map_err(|e| context(&name, e))?);
            }
        }
        let stage7 = Stage7::parse(raw.record("stage7")?).map_err(|e| context("stage7", e))?;
        memory.push(stage7.memory.clone());
        let pressure = match raw.record("shrinker") {
            Ok(record) => Some(Pressure::parse(record).map_err(|e| context("shrinker", e))?),
            Err(_) => None,
        };
        let rates = match raw.record("rate") {
            Ok(record) => rate::rates(record).map_err(|e| context("rate", e))?,
            Err(_) => Vec::new(),
        };
        let versus = crate::versus::measure::parse_all(raw)?;
        Ok(Self {
            params: raw.params.clone(),
            memory,
            sysfs,
            stage7,
            pressure,
            rates,
            versus,
        })
    }
}

/// An error about the measurement `name`.
fn context(name: &str, e: String) -> String {
    format!("{name}: {e}")
}
