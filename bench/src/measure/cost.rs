// SPDX-License-Identifier: GPL-2.0

//! The CPU time of the module's thread and of the userspace sampler.

use super::{get, lines_with};

/// One window of the module's thread: its CPU time and the samples it took.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub cpu_ns: u64,
    pub samples: u64,
    pub wall_ns: u64,
}

/// One run of the userspace sampler.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplerRun {
    pub ticks: u64,
    pub samples: u64,
    pub cpu_ns: u64,
    pub wall_ns: u64,
}

/// The sampling cost with one number of monitored processes.
#[derive(Clone, Debug, PartialEq)]
pub struct CostPoint {
    pub pids: u32,
    pub module: Vec<Window>,
    /// The sampler with its files kept open, and reopening them for each read.
    pub kept: Vec<SamplerRun>,
    pub reopened: Vec<SamplerRun>,
}

pub(super) fn windows(text: &str) -> Result<Vec<Window>, String> {
    lines_with(text, "cpu_ns", |p| {
        Ok(Window {
            cpu_ns: get(p, "cpu_ns")?,
            samples: get(p, "samples")?,
            wall_ns: get(p, "wall_ns")?,
        })
    })
}

pub(super) fn sampler_runs(text: &str) -> Result<Vec<SamplerRun>, String> {
    lines_with(text, "ticks", |p| {
        Ok(SamplerRun {
            ticks: get(p, "ticks")?,
            samples: get(p, "samples")?,
            cpu_ns: get(p, "cpu_ns")?,
            wall_ns: get(p, "wall_ns")?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_sampler_runs() {
        let text = "cpu_ns 100 samples 10 wall_ns 2000\ncpu_ns 300 samples 30 wall_ns 2000\n";
        assert_eq!(windows(text).unwrap().len(), 2);
        let text = "ticks 20 samples 200 cpu_ns 5 wall_ns 9\n";
        assert_eq!(sampler_runs(text).unwrap()[0].samples, 200);
    }
}
