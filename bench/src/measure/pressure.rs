// SPDX-License-Identifier: GPL-2.0

//! The sample count and memory over time under memory pressure.

use super::{get, lines_with, pairs, Record};

/// One point of the memory-pressure trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TracePoint {
    pub t_ms: u64,
    pub count: u64,
    pub free_kb: u64,
    pub shmem_kb: u64,
    /// kswapd's CPU time so far: it grows once memory falls below a low watermark.
    pub kswapd_ns: u64,
}

/// The memory-pressure scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Pressure {
    /// MiB written to the tmpfs.
    pub filled_mib: u64,
    pub trace: Vec<TracePoint>,
}

impl Pressure {
    pub fn parse(r: &Record) -> Result<Self, String> {
        let trace = lines_with(r.step("trace")?, "t_ms", |p| {
            Ok(TracePoint {
                t_ms: get(p, "t_ms")?,
                count: get(p, "count")?,
                free_kb: get(p, "free_kb")?,
                shmem_kb: get(p, "shmem_kb")?,
                kswapd_ns: get(p, "kswapd_ns")?,
            })
        })?;
        Ok(Self {
            filled_mib: get(&pairs(r.step("pressure")?), "filled")?,
            trace,
        })
    }

    /// The first point after the kernel started reclaiming memory: kswapd has run.
    pub fn pressure_at(&self) -> Option<&TracePoint> {
        let first = self.trace.first()?.kswapd_ns;
        self.trace.iter().find(|p| p.kswapd_ns > first)
    }

    /// The first point with fewer samples than the one before: reclaim reached the
    /// shrinker.
    pub fn reclaim_at(&self) -> Option<&TracePoint> {
        self.trace
            .windows(2)
            .find(|w| w[1].count < w[0].count)
            .map(|w| &w[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pressure_and_reclaim_points() {
        let record = Record {
            steps: [
                ("pressure", "filled 40\n"),
                (
                    "trace",
                    "t_ms 0 count 10 free_kb 900 shmem_kb 0 kswapd_ns 0\n\
                     t_ms 20 count 11 free_kb 400 shmem_kb 0 kswapd_ns 0\n\
                     t_ms 40 count 12 free_kb 450 shmem_kb 0 kswapd_ns 5000\n\
                     t_ms 60 count 5 free_kb 600 shmem_kb 0 kswapd_ns 9000\n",
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            log: Vec::new(),
        };
        let p = Pressure::parse(&record).unwrap();
        assert_eq!(p.pressure_at().unwrap().t_ms, 40);
        assert_eq!(p.reclaim_at().unwrap().t_ms, 60);
    }
}
