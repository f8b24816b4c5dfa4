// SPDX-License-Identifier: GPL-2.0

//! How much a run measures: the full benchmark, or a tiny run that only checks that the
//! scenarios and the report still work.

use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Profile {
    /// Samples in stage 7's history for the memory and export measurements.
    pub samples: u64,
    /// Samples in the history of each of stages 1 to 6, for their memory (one process at
    /// 1000 Hz fills 50,000 in about a minute, side by side).
    pub memory_samples: u64,
    /// Sampling frequency of every measurement (the module's maximum).
    pub frequency: u32,
    /// Stages whose memory is measured in a VM of their own (stage 7's is measured in the
    /// stage 7 VM).
    pub memory_stages: Vec<u32>,
    /// Processes stage 7 monitors to fill its history quickly.
    pub monitored: u32,
    /// Numbers of monitored processes for the sampling cost.
    pub pid_counts: Vec<u32>,
    /// Repetitions of each cost and export measurement.
    pub repeats: u32,
    /// History sizes for the export: `samples`, halved this many times.
    pub export_sizes: u32,
    /// Reads of the stage 1 sysfs file per round.
    pub sysfs_reads: u32,
    /// Seconds of each window on the module's thread (one with 1000 processes or more,
    /// whose history grows fastest).
    pub window_seconds: u32,
    /// About how many samples each run of the userspace sampler takes.
    pub sampler_samples: u32,
    /// Whether to run the memory-pressure scenario.
    pub shrinker: bool,
    /// Stages whose sampling rate is measured, one after the other in one VM.
    pub rate_stages: Vec<u32>,
    /// The frequencies the rate is measured at, each with the seconds of its window.
    pub rate_windows: Vec<(u32, u32)>,
    /// Stage 7 against the C reference.
    pub versus: Versus,
    /// Whether the VMs that measure time run side by side (the tiny run, which only
    /// checks that they work) rather than one at a time.
    pub side_by_side: bool,
}

/// What the Rust-against-C VM measures, on each kernel.
#[derive(Clone, Debug)]
pub struct Versus {
    /// Whether to measure the histories' memory and export.
    pub histories: bool,
    /// Samples in each history, for its memory and export.
    pub samples: u64,
    /// Processes that fill the histories.
    pub monitored: u32,
    /// Sizes of the `read()` calls that read a history whole.
    pub read_sizes: Vec<u32>,
    /// Rounds of reads, alternating between the module's file and its tmpfs copy.
    pub read_rounds: u32,
    /// Numbers of monitored processes for the sampling cost.
    pub pids: Vec<u32>,
    /// Frequencies of the sampling cost: from 100 Hz on, windows of `window_seconds`;
    /// below, `periods` whole periods.
    pub frequencies: Vec<u32>,
    pub window_seconds: u32,
    pub periods: u32,
    /// Rounds of the three modules at the high frequencies, and at the low ones.
    pub repeats: u32,
    pub slow_repeats: u32,
    /// The rate's frequencies, each with the seconds of its window.
    pub rate_windows: Vec<(u32, u32)>,
}

impl Profile {
    /// What `make bench` measures.
    pub fn full() -> Self {
        Self {
            samples: 100_000,
            memory_samples: 50_000,
            frequency: 1000,
            memory_stages: (1..=6).collect(),
            monitored: 100,
            pid_counts: vec![1, 10, 100, 1000],
            repeats: 3,
            export_sizes: 4,
            sysfs_reads: 200,
            window_seconds: 2,
            sampler_samples: 1000,
            shrinker: true,
            // Stage 7's rate is measured beside the C reference's, on both kernels
            // (`versus`).
            rate_stages: (1..=6).collect(),
            // Long enough that /proc/uptime's centisecond at each end is at most 0.4%,
            // and, for stage 1's whole-life windows, half a sample at most 0.5%.
            rate_windows: vec![(1000, 4), (100, 5), (10, 10)],
            versus: Versus {
                histories: true,
                samples: 100_000,
                monitored: 100,
                read_sizes: vec![4096, 65536],
                read_rounds: 3,
                pids: vec![1, 10, 100, 1000],
                frequencies: vec![1000, 1],
                window_seconds: 1,
                periods: 2,
                repeats: 3,
                slow_repeats: 2,
                rate_windows: vec![(1000, 4), (100, 5), (10, 10)],
            },
            side_by_side: false,
        }
    }

    /// What `make bench-check` measures: one small stage 7 VM, seconds.
    pub fn quick() -> Self {
        Self {
            samples: 2_000,
            memory_samples: 2_000,
            frequency: 1000,
            memory_stages: Vec::new(),
            monitored: 10,
            pid_counts: vec![1, 10],
            repeats: 1,
            export_sizes: 2,
            sysfs_reads: 10,
            window_seconds: 1,
            sampler_samples: 200,
            shrinker: false,
            rate_stages: vec![1, 7],
            rate_windows: vec![(1000, 1), (100, 1), (10, 1)],
            versus: Versus {
                histories: true,
                samples: 2_000,
                monitored: 10,
                read_sizes: vec![4096, 65536],
                read_rounds: 1,
                // 100: the goals of the sampling cost are judged from 100 processes.
                pids: vec![100],
                // 4 Hz: the whole-period windows of the low frequencies, in a second.
                frequencies: vec![1000, 4],
                window_seconds: 1,
                periods: 1,
                repeats: 1,
                slow_repeats: 1,
                rate_windows: vec![(100, 1)],
            },
            side_by_side: true,
        }
    }

    /// How long the module's thread is measured with `pids` processes: long enough for
    /// thousands of samples, short enough that the history stays far from memory pressure
    /// (1000 processes at 1000 Hz add some 70,000 samples a second under emulation).
    pub fn window_seconds(&self, pids: u32) -> u32 {
        if pids >= 1000 {
            1
        } else {
            self.window_seconds
        }
    }

    /// How many periods the userspace sampler runs with `pids` processes: about
    /// `sampler_samples` samples, and at least 20 periods.
    pub fn sampler_ticks(&self, pids: u32) -> u32 {
        (self.sampler_samples / pids.max(1)).max(20)
    }

    /// The most processes any measurement needs.
    pub fn processes(&self) -> u32 {
        let most = self.pid_counts.iter().copied().max().unwrap_or(0);
        most.max(self.monitored)
    }

    /// The parameters the report states, kept in the raw data.
    pub fn params(&self) -> BTreeMap<String, u64> {
        [
            ("samples", self.samples),
            ("memory_samples", self.memory_samples),
            ("frequency", self.frequency.into()),
            ("monitored", self.monitored.into()),
            ("repeats", self.repeats.into()),
            ("sysfs_reads", self.sysfs_reads.into()),
            ("trace_ms", crate::scenarios::TRACE_MS),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
