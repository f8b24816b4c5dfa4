// SPDX-License-Identifier: GPL-2.0

//! Rust against C: ratios with their spread, and the goals of the comparison.

use super::measure::{Cost, History, Module, Rate, Reads, Versus};
use crate::fit::median;
use crate::report::Goal;

/// A ratio or a time over repetitions: the median, and the lowest and highest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Self {
        Self {
            median: median(values.iter().copied()),
            min: values.iter().copied().fold(f64::NAN, f64::min),
            max: values.iter().copied().fold(f64::NAN, f64::max),
        }
    }
}

/// The sampling cost at one frequency and number of processes: each module's CPU time
/// per sample, and the ratios of the rounds (each round runs the three modules in turn).
#[derive(Clone, Debug, PartialEq)]
pub struct CostRow {
    pub hz: u32,
    pub pids: u32,
    pub rust_ns: Spread,
    pub c_ns: Spread,
    pub floor_ns: Spread,
    pub rust_over_c: Spread,
    pub rust_over_floor: Spread,
    pub c_over_floor: Spread,
}

impl CostRow {
    fn new(c: &Cost) -> Self {
        let per_round = |module: &str| -> Vec<(u32, f64)> {
            c.windows
                .iter()
                .filter(|w| w.module == module)
                .map(|w| (w.round, w.per_sample_ns()))
                .collect()
        };
        let (rust, cc, floor) = (per_round("rust"), per_round("c"), per_round("floor"));
        let values = |v: &[(u32, f64)]| Spread::of(&v.iter().map(|p| p.1).collect::<Vec<_>>());
        // Ratios within a round: the two modules ran one right after the other.
        let ratio = |a: &[(u32, f64)], b: &[(u32, f64)]| {
            let ratios: Vec<f64> = a
                .iter()
                .filter_map(|(round, x)| Some(x / b.iter().find(|p| p.0 == *round)?.1))
                .collect();
            Spread::of(&ratios)
        };
        Self {
            hz: c.hz,
            pids: c.pids,
            rust_ns: values(&rust),
            c_ns: values(&cc),
            floor_ns: values(&floor),
            rust_over_c: ratio(&rust, &cc),
            rust_over_floor: ratio(&rust, &floor),
            c_over_floor: ratio(&cc, &floor),
        }
    }
}

/// A read of the module's file and of its tmpfs copy, in the same round.
type ReadPair = (Reads, Reads);

/// The reads of the whole history with one read size.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportRow {
    pub size: u64,
    pub bytes: u64,
    /// `read()` calls of one whole read: Rust, C, tmpfs.
    pub calls: [u64; 3],
    /// CPU time of one whole read: Rust, C, and the tmpfs copy (Rust's, read beside it).
    pub rust_ns: Spread,
    pub c_ns: Spread,
    pub tmpfs_ns: Spread,
    /// Each module against its tmpfs copy, round by round.
    pub rust_over_tmpfs: Spread,
    pub c_over_tmpfs: Spread,
    /// Rust against C, over every pair of their rounds (they ran in separate steps).
    pub rust_over_c: Spread,
}

impl ExportRow {
    fn new(size: u64, rust: &History, c: &History) -> Option<Self> {
        let rounds = |h: &History| -> Vec<ReadPair> {
            h.reads
                .iter()
                .filter(|(file, _)| file.size == size)
                .cloned()
                .collect()
        };
        let (r, cc) = (rounds(rust), rounds(c));
        let first = r.first()?;
        let ns = |v: &[ReadPair], pick: fn(&ReadPair) -> f64| {
            Spread::of(&v.iter().map(pick).collect::<Vec<_>>())
        };
        let file: fn(&ReadPair) -> f64 = |p| p.0.per_read_ns();
        let tmpfs: fn(&ReadPair) -> f64 = |p| p.1.per_read_ns();
        let over: fn(&ReadPair) -> f64 = |p| p.0.per_read_ns() / p.1.per_read_ns();
        let pairs: Vec<f64> = r
            .iter()
            .flat_map(|a| cc.iter().map(move |b| file(a) / file(b)))
            .collect();
        Some(Self {
            size,
            bytes: first.0.bytes,
            calls: [
                first.0.calls,
                cc.first().map_or(0, |p| p.0.calls),
                first.1.calls,
            ],
            rust_ns: ns(&r, file),
            c_ns: ns(&cc, file),
            tmpfs_ns: ns(&r, tmpfs),
            rust_over_tmpfs: ns(&r, over),
            c_over_tmpfs: ns(&cc, over),
            rust_over_c: Spread::of(&pairs),
        })
    }
}

/// Everything the comparison states about one kernel.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelReport {
    pub measured: Versus,
    pub cost: Vec<CostRow>,
    pub export: Vec<ExportRow>,
    pub goals: Vec<Goal>,
}

impl KernelReport {
    pub fn new(v: Versus) -> Self {
        let cost = v.costs.iter().map(CostRow::new).collect();
        let mut sizes: Vec<u64> = v
            .histories
            .iter()
            .flat_map(|h| h.reads.iter().map(|r| r.0.size))
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        let export = match (v.history("rust"), v.history("c")) {
            (Some(rust), Some(c)) => sizes
                .iter()
                .filter_map(|&s| ExportRow::new(s, rust, c))
                .collect(),
            _ => Vec::new(),
        };
        let mut report = Self {
            measured: v,
            cost,
            export,
            goals: Vec::new(),
        };
        report.goals = report.goals();
        report
    }

    /// A module's sizes and build time.
    pub fn module(&self, name: &str) -> Option<&Module> {
        self.measured.modules.iter().find(|m| m.module == name)
    }

    fn goals(&self) -> Vec<Goal> {
        let mut goals = Vec::new();
        // At 100 and 1000 processes, every frequency.
        let many: Vec<&CostRow> = self.cost.iter().filter(|c| c.pids >= 100).collect();
        let list = |f: fn(&CostRow) -> f64| -> String {
            many.iter()
                .map(|c| format!("{:.2}x at {} Hz with {}", f(c), c.hz, c.pids))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !many.is_empty() {
            goals.push(Goal {
                name: "sampling against the floor",
                target: "stage 7 within 1.5 times the floor's CPU per sample, at 100 and 1000 \
                         processes"
                    .into(),
                measured: list(|c| c.rust_over_floor.median),
                met: many.iter().all(|c| c.rust_over_floor.median <= 1.5),
            });
            goals.push(Goal {
                name: "sampling against C",
                target: "stage 7 at most 0.8 times the C reference's CPU per sample, at 100 \
                         and 1000 processes"
                    .into(),
                measured: list(|c| c.rust_over_c.median),
                met: many.iter().all(|c| c.rust_over_c.median <= 0.8),
            });
        }
        if !self.export.is_empty() {
            let list = |f: fn(&ExportRow) -> f64| -> String {
                self.export
                    .iter()
                    .map(|e| format!("{:.2}x with {} KiB reads", f(e), e.size / 1024))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            goals.push(Goal {
                name: "export against tmpfs",
                target: "reading the whole history within 3 times a tmpfs read of the same \
                         bytes, at each read size"
                    .into(),
                measured: list(|e| e.rust_over_tmpfs.median),
                met: self.export.iter().all(|e| e.rust_over_tmpfs.median <= 3.0),
            });
            goals.push(Goal {
                name: "export against C",
                target: "reading the whole history at least as fast as the C reference".into(),
                measured: list(|e| e.rust_over_c.median),
                met: self.export.iter().all(|e| e.rust_over_c.median <= 1.0),
            });
        }
        if let (Some(rust), Some(c)) = (self.measured.history("rust"), self.measured.history("c")) {
            let slack = 0.01 * c.cache.object_size as f64;
            goals.push(Goal {
                name: "memory against C",
                target: "stage 7 no more slab bytes per sample than the C reference, within 1% \
                         of the object size"
                    .into(),
                measured: format!(
                    "{:.2} bytes (Rust) against {:.2} (C)",
                    rust.bytes_per_sample(),
                    c.bytes_per_sample()
                ),
                met: rust.bytes_per_sample() <= c.bytes_per_sample() + slack,
            });
        }
        if let Some(worst) = self
            .measured
            .rates
            .iter()
            .max_by(|a, b| a.error().abs().total_cmp(&b.error().abs()))
        {
            goals.push(rate_goal(&self.measured.rates, worst));
        }
        goals
    }
}

fn rate_goal(rates: &[Rate], worst: &Rate) -> Goal {
    let mut hz: Vec<u32> = rates.iter().map(|r| r.hz).collect();
    hz.sort_unstable();
    hz.dedup();
    let hz: Vec<String> = hz.iter().map(|f| format!("{f} Hz")).collect();
    Goal {
        name: "sampling rate",
        target: format!("the rate asked within 1%, both modules ({})", hz.join(", ")),
        measured: format!(
            "within {:.2}% (the farthest: {} at {} Hz)",
            worst.error().abs() * 100.0,
            label(&worst.module),
            worst.hz
        ),
        met: worst.error().abs() <= 0.01,
    }
}

/// How the report names a module.
pub fn label(module: &str) -> &str {
    match module {
        "rust" => "Rust (stage 7)",
        "c" => "C (c-reference)",
        "floor" => "floor (reads only)",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::Record;

    fn record(steps: &[(&str, &str)]) -> Record {
        Record {
            steps: steps
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            log: Vec::new(),
        }
    }

    const CACHE: &str = "object_size 64\nslab_size 64\nalign 8\nobjs_per_slab 64\norder 0\n\
                         objects 1064\nslabs 17\ntotal_objects 1088\nsamples 1000\n";

    #[test]
    fn ratios_within_rounds_and_goals() {
        let reads = |module_ns: u64| {
            format!(
                "file /sys/kernel/debug/taskmonitor size 4096 bytes 700 calls 3 reads 1 \
                 cpu_ns {module_ns}\nfile /tmp/copy size 4096 bytes 700 calls 1 reads 1 \
                 cpu_ns 100\n"
            )
        };
        let vm = record(&[
            ("memory-rust", &format!("{CACHE}{}", reads(250))),
            ("memory-c", &format!("{CACHE}{}", reads(500))),
            (
                "cost-1000-100",
                "module rust round 1 cpu_ns 600 samples 10 wall_ns 1\n\
                 module c round 1 cpu_ns 1000 samples 10 wall_ns 1\n\
                 module floor round 1 cpu_ns 500 samples 10 wall_ns 1\n\
                 module rust round 2 cpu_ns 1600 samples 10 wall_ns 1\n\
                 module c round 2 cpu_ns 2000 samples 10 wall_ns 1\n\
                 module floor round 2 cpu_ns 1000 samples 10 wall_ns 1\n",
            ),
            ("rate-rust-10", "samples 100 start 1.0 end 11.0\n"),
            ("rate-c-10", "samples 98 start 1.0 end 11.0\n"),
        ]);
        let host = record(&[
            (
                "build-ms",
                "task7-multi 2000\nc-reference 1000\nbench/floor 900\n",
            ),
            (
                "size",
                "module rust text 30 data 2 bss 1\nmodule c text 10 data 2 bss 1\n\
                 module floor text 20 data 1 bss 1\n",
            ),
        ]);
        let v = super::super::measure::Versus::parse("production", &vm, &host).unwrap();
        let k = KernelReport::new(v);
        let cost = &k.cost[0];
        // Round 1: 0.6, round 2: 0.8; the median of two is their mean.
        assert!((cost.rust_over_c.median - 0.7).abs() < 1e-9);
        assert_eq!((cost.rust_over_c.min, cost.rust_over_c.max), (0.6, 0.8));
        assert!((cost.rust_over_floor.median - 1.4).abs() < 1e-9);
        let export = &k.export[0];
        assert_eq!(export.rust_over_c.median, 0.5);
        assert_eq!(export.rust_over_tmpfs.median, 2.5);
        assert_eq!(export.calls, [3, 3, 1]);
        let met: Vec<(&str, bool)> = k.goals.iter().map(|g| (g.name, g.met)).collect();
        assert_eq!(
            met,
            [
                ("sampling against the floor", true),
                ("sampling against C", true),
                ("export against tmpfs", true),
                ("export against C", true),
                ("memory against C", true),
                ("sampling rate", false),
            ]
        );
        assert_eq!(k.module("rust").unwrap().build_ms, Some(2000));
        // The markdown names every kernel and figure.
        let md = super::super::markdown::markdown(&[k], ".");
        assert!(md.contains("| sampling at 1000 Hz, 100 processes: Rust / C | 0.70 (0.60–0.80) |"));
        assert!(md.contains("| build time: Rust / C | 2.00 |"));
    }
}
