// SPDX-License-Identifier: GPL-2.0

//! From measurements to results: per-sample figures, fits, and each goal met or not.

use crate::fit::{exponent, linear_quadratic, median, Linear};
use crate::measure::{
    CostPoint, Export, Measurements, Pressure, SamplerRun, StageMemory, TracePoint,
};

/// A goal of the benchmark, and whether the measurements meet it.
#[derive(Clone, Debug, PartialEq)]
pub struct Goal {
    pub name: &'static str,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

/// One stage's memory per sample.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryRow {
    pub stage: u32,
    /// `task_sample`, or `kmalloc-64` for stages 1 and 2.
    pub cache: &'static str,
    pub size_of: Option<u64>,
    pub ksize: Option<u64>,
    pub object_size: u64,
    pub samples: u64,
    pub objects_per_sample: f64,
    pub slab_bytes: u64,
    pub bytes_per_sample: f64,
    /// The goal's bound for a cache of its own: the size rounded to the alignment, + 5%.
    pub bound: Option<f64>,
    /// kmalloc-64's slabs before loading, with the history, and after unloading (stages
    /// 1 and 2).
    pub kmalloc_slabs: Option<[u64; 3]>,
    /// kswapd's CPU time during the run (0: no reclaim, so the shrinker never ran).
    pub kswapd_ns: u64,
}

impl MemoryRow {
    fn new(m: &StageMemory) -> Self {
        let cache = m.cache.as_ref();
        let bound = match (cache, m.sizes) {
            (Some(c), Some(s)) => Some(s.size_of.next_multiple_of(c.align) as f64 * 1.05),
            _ => None,
        };
        let (slab_bytes, kmalloc_slabs) = match cache {
            Some(c) => (c.bytes(), None),
            None => {
                let (before, loaded) = (m.kmalloc_before, m.kmalloc_loaded);
                let bytes = (loaded.slabs - before.slabs) * loaded.slab_bytes();
                (
                    bytes,
                    Some([before.slabs, loaded.slabs, m.kmalloc_released.slabs]),
                )
            }
        };
        Self {
            stage: m.stage,
            cache: if cache.is_some() {
                "task_sample"
            } else {
                "kmalloc-64"
            },
            size_of: m.sizes.map(|s| s.size_of),
            ksize: m.sizes.map(|s| s.ksize),
            object_size: m.object_size(),
            samples: m.samples,
            objects_per_sample: m.objects_per_sample(),
            slab_bytes,
            bytes_per_sample: m.bytes_per_sample(),
            bound,
            kmalloc_slabs,
            kswapd_ns: m.kswapd_ns,
        }
    }
}

/// CPU time per sample and per period with one number of processes: the median of the
/// repetitions, so that one disturbed by the host does not move it.
#[derive(Clone, Debug, PartialEq)]
pub struct CostRow {
    pub pids: u32,
    pub module_per_sample_ns: f64,
    pub module_per_tick_ns: f64,
    pub kept_per_sample_ns: f64,
    pub kept_per_tick_ns: f64,
    pub reopened_per_sample_ns: f64,
    pub reopened_per_tick_ns: f64,
}

impl CostRow {
    fn new(c: &CostPoint) -> Self {
        let module = median(c.module.iter().map(|w| w.cpu_ns as f64 / w.samples as f64));
        let sampler = |runs: &[SamplerRun]| {
            (
                median(runs.iter().map(|r| r.cpu_ns as f64 / r.samples as f64)),
                median(runs.iter().map(|r| r.cpu_ns as f64 / r.ticks as f64)),
            )
        };
        let (kept_per_sample_ns, kept_per_tick_ns) = sampler(&c.kept);
        let (reopened_per_sample_ns, reopened_per_tick_ns) = sampler(&c.reopened);
        Self {
            pids: c.pids,
            module_per_sample_ns: module,
            // Each period samples every process once.
            module_per_tick_ns: module * f64::from(c.pids),
            kept_per_sample_ns,
            kept_per_tick_ns,
            reopened_per_sample_ns,
            reopened_per_tick_ns,
        }
    }
}

/// Every repetition's cost per period against the number of processes, for the plot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostPoints {
    pub module: Vec<(f64, f64)>,
    pub kept: Vec<(f64, f64)>,
    pub reopened: Vec<(f64, f64)>,
}

impl CostPoints {
    fn new(points: &[CostPoint]) -> Self {
        let mut all = Self::default();
        for c in points {
            let pids = f64::from(c.pids);
            for w in &c.module {
                all.module
                    .push((pids, w.cpu_ns as f64 * pids / w.samples as f64));
            }
            for r in &c.kept {
                all.kept.push((pids, r.cpu_ns as f64 / r.ticks as f64));
            }
            for r in &c.reopened {
                all.reopened.push((pids, r.cpu_ns as f64 / r.ticks as f64));
            }
        }
        all
    }
}

/// The time from memory pressure to the first samples freed.
#[derive(Clone, Debug, PartialEq)]
pub struct PressureSummary {
    pub filled_mib: u64,
    pub pressure_ms: Option<u64>,
    pub reclaim_ms: Option<u64>,
    /// Samples just before reclaim, at the lowest after it, and at the end.
    pub count_before: u64,
    pub count_lowest: u64,
    pub count_end: u64,
}

/// Everything the report states.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub measurements: Measurements,
    pub memory: Vec<MemoryRow>,
    pub cost: Vec<CostRow>,
    pub cost_points: CostPoints,
    pub module_fit: Option<Linear>,
    pub kept_fit: Option<Linear>,
    pub reopened_fit: Option<Linear>,
    pub debugfs_exponent: Option<f64>,
    /// A debugfs read's CPU time as `a × samples + b × samples²`, in ns: `(a, b)`.
    pub debugfs_model: Option<(f64, f64)>,
    pub tmpfs_exponent: Option<f64>,
    pub pressure: Option<PressureSummary>,
    pub goals: Vec<Goal>,
    /// Stage 7 against the C reference, by kernel: the production kernel first.
    pub versus: Vec<crate::versus::report::KernelReport>,
}

impl PressureSummary {
    fn new(p: &Pressure) -> Self {
        let reclaim = p.reclaim_at();
        let reclaim_t = reclaim.map_or(u64::MAX, |r| r.t_ms);
        let (before, after): (Vec<&TracePoint>, Vec<_>) =
            p.trace.iter().partition(|q| q.t_ms < reclaim_t);
        Self {
            filled_mib: p.filled_mib,
            pressure_ms: p.pressure_at().map(|q| q.t_ms),
            reclaim_ms: reclaim.map(|r| r.t_ms),
            count_before: before.last().map_or(0, |q| q.count),
            count_lowest: after.iter().map(|q| q.count).min().unwrap_or(0),
            count_end: p.trace.last().map_or(0, |q| q.count),
        }
    }
}

impl Report {
    pub fn new(m: Measurements) -> Self {
        let cost: Vec<CostRow> = m.stage7.cost.iter().map(CostRow::new).collect();
        // The lines go through the medians: least squares on every repetition would let
        // one disturbed repetition pull the line.
        let fit = |tick: fn(&CostRow) -> f64| {
            let points: Vec<_> = cost.iter().map(|c| (f64::from(c.pids), tick(c))).collect();
            Linear::fit(&points)
        };
        let (module_fit, kept_fit, reopened_fit) = (
            fit(|c| c.module_per_tick_ns),
            fit(|c| c.kept_per_tick_ns),
            fit(|c| c.reopened_per_tick_ns),
        );
        let exports = &m.stage7.exports;
        let points = |read: fn(&Export) -> f64| -> Vec<(f64, f64)> {
            exports
                .iter()
                .map(|e| (e.samples as f64, read(e)))
                .collect()
        };
        let debugfs = points(|e| e.module.per_read_ns());
        let mut report = Self {
            memory: m.memory.iter().map(MemoryRow::new).collect(),
            cost,
            cost_points: CostPoints::new(&m.stage7.cost),
            module_fit,
            kept_fit,
            reopened_fit,
            debugfs_exponent: exponent(&debugfs),
            debugfs_model: linear_quadratic(&debugfs),
            tmpfs_exponent: exponent(&points(|e| e.tmpfs.per_read_ns())),
            pressure: m.pressure.as_ref().map(PressureSummary::new),
            versus: m
                .versus
                .iter()
                .cloned()
                .map(crate::versus::report::KernelReport::new)
                .collect(),
            measurements: m,
            goals: Vec::new(),
        };
        report.goals = report.goals();
        report
    }

    /// The interval of the memory-pressure trace.
    pub fn trace_ms(&self) -> u64 {
        let params = &self.measurements.params;
        params.get("trace_ms").copied().unwrap_or(0)
    }

    fn goals(&self) -> Vec<Goal> {
        let mut goals = Vec::new();
        goals.extend(self.memory_goal());
        goals.extend(self.cost_goals());
        goals.extend(self.export_goal());
        goals.extend(self.shrinker_goal());
        goals.extend(self.rate_goal());
        goals
    }

    /// `frequency=F` gives F samples a second, within 1%, in every stage.
    fn rate_goal(&self) -> Option<Goal> {
        let rates = &self.measurements.rates;
        let worst = rates
            .iter()
            .max_by(|a, b| a.error().abs().total_cmp(&b.error().abs()))?;
        let frequencies: Vec<u32> = {
            let mut f: Vec<u32> = rates.iter().map(|p| p.frequency).collect();
            f.sort_unstable();
            f.dedup();
            f
        };
        let frequencies: Vec<String> = frequencies.iter().map(|f| format!("{f} Hz")).collect();
        Some(Goal {
            name: "sampling rate",
            target: format!(
                "`frequency=F` gives F samples a second within 1%, in stages 1 to 6 ({}; stage \
                 7 beside the C reference, above)",
                frequencies.join(", ")
            ),
            measured: format!(
                "within {:.2}% (the farthest: stage {} at {} Hz, {:.2} a second)",
                worst.error().abs() * 100.0,
                worst.stage,
                worst.frequency,
                worst.rate()
            ),
            met: worst.error().abs() <= 0.01,
        })
    }

    /// Stages with a cache of their own spend the sample's size rounded to its
    /// alignment, plus under 5% of slab overhead.
    fn memory_goal(&self) -> Option<Goal> {
        let cached: Vec<&MemoryRow> = self.memory.iter().filter(|r| r.bound.is_some()).collect();
        if cached.is_empty() {
            return None;
        }
        let over: Vec<String> = cached
            .iter()
            .filter(|r| r.bytes_per_sample > r.bound.unwrap_or(0.0))
            .map(|r| format!("stage {}", r.stage))
            .collect();
        // The bound is the rounded size plus 5%: the worst overhead over the rounded size.
        let worst = cached
            .iter()
            .map(|r| r.bytes_per_sample / r.bound.unwrap_or(1.0) * 1.05)
            .fold(0.0, f64::max);
        Some(Goal {
            name: "memory per sample",
            target: "stages 3+: at most sizeof rounded to the alignment, + 5% slab overhead".into(),
            measured: if over.is_empty() {
                format!(
                    "at most {:.2}% over the rounded size",
                    (worst - 1.0) * 100.0
                )
            } else {
                format!("over the bound in {}", over.join(", "))
            },
            met: over.is_empty(),
        })
    }

    /// The module at least 10 times cheaper per sample than the userspace sampler with
    /// its files kept open, and every cost linear in the number of processes.
    fn cost_goals(&self) -> Vec<Goal> {
        let (Some(module), Some(kept)) = (self.module_fit, self.kept_fit) else {
            return Vec::new();
        };
        // The slopes are the cost of one more process per period: a sample each, without
        // the cost of waking up once per period that both pay.
        let ratio = kept.slope / module.slope;
        let pids: Vec<String> = self.cost.iter().map(|c| c.pids.to_string()).collect();
        let ratios: Vec<String> = self
            .cost
            .iter()
            .map(|c| format!("{:.1}x", c.kept_per_sample_ns / c.module_per_sample_ns))
            .collect();
        let reopened = self.reopened_fit.map_or(f64::NAN, |f| f.r2);
        // A missing fit (NaN) fails.
        let linear = [module.r2, kept.r2, reopened].iter().all(|r2| *r2 >= 0.99);
        vec![
            Goal {
                name: "sampling cost",
                target: "the module at least 10 times cheaper per sample than a userspace sampler \
                         (files kept open)"
                    .into(),
                measured: format!(
                    "{ratio:.1}x per additional process (fit slopes); per sample with {} \
                     processes: {}",
                    pids.join(", "),
                    ratios.join(", ")
                ),
                met: ratio >= 10.0,
            },
            Goal {
                name: "cost linear in processes",
                target: "cost per period linear in the number of processes (R² ≥ 0.99)".into(),
                measured: format!(
                    "R² {:.4} (module), {:.4} (files kept open), {reopened:.4} (files \
                     reopened)",
                    module.r2, kept.r2
                ),
                met: linear,
            },
        ]
    }

    /// Reading the whole (largest) history within 3 times a tmpfs read of its bytes.
    fn export_goal(&self) -> Option<Goal> {
        let full = self.measurements.stage7.exports.last()?;
        Some(Goal {
            name: "export cost",
            target: "reading the whole history within 3 times a tmpfs read of the same bytes"
                .into(),
            measured: format!(
                "{:.1}x with {} samples",
                full.ratio(),
                thousands(full.samples)
            ),
            met: full.ratio() <= 3.0,
        })
    }

    /// Reclaim frees samples, and sampling goes on afterwards.
    fn shrinker_goal(&self) -> Option<Goal> {
        let p = self.pressure.as_ref()?;
        Some(Goal {
            name: "shrinker response",
            target: "reclaim frees samples under pressure; sampling goes on after".into(),
            measured: match (p.pressure_ms, p.reclaim_ms) {
                (Some(pressure), Some(reclaim)) => format!(
                    "first samples freed {} after the kernel started reclaiming",
                    delay(reclaim as i64 - pressure as i64, self.trace_ms())
                ),
                (None, Some(_)) => "samples freed, reclaim start not seen".into(),
                _ => "no sample freed".into(),
            },
            met: p.reclaim_ms.is_some() && p.count_end > p.count_lowest,
        })
    }
}

/// A delay measured on a trace taken every `interval` ms.
pub fn delay(ms: i64, interval: u64) -> String {
    if ms == 0 {
        format!("less than {interval} ms (one trace interval)")
    } else {
        format!("{ms} ms (± {interval} ms, the trace interval)")
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
