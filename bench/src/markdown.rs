// SPDX-License-Identifier: GPL-2.0

//! The report as Markdown, for the book's Measurements chapter to include.

use crate::fit::Linear;
use crate::measure::StageMemory;
use crate::report::{delay, thousands, Goal, Report};
use std::fmt::Write;

/// The report's Markdown, with the plots referred to by `plot_dir/NAME.svg`.
pub fn markdown(r: &Report, plot_dir: &str) -> String {
    let mut s = String::new();
    let p = &r.measurements.params;
    let param = |name: &str| p.get(name).copied().unwrap_or(0);
    writeln!(
        s,
        "<!-- Written by `make bench` (bench/src/markdown.rs) from raw.json. Do not edit. -->\n"
    )
    .unwrap();
    writeln!(
        s,
        "Histories of {} samples in stages 1 to 6, {} in stage 7, sampled at {} Hz. Each \
         sampling cost is the median of {} repetitions, each read cost the mean of as many \
         rounds.\n",
        thousands(param("memory_samples")),
        thousands(param("samples")),
        param("frequency"),
        param("repeats"),
    )
    .unwrap();
    if let (Some(cpus), Some(load)) = (p.get("host_cpus"), p.get("host_load_stage7_milli")) {
        writeln!(
            s,
            "The host had {cpus} CPUs and a load average of {:.2} when the CPU-time \
             measurements started.\n",
            *load as f64 / 1000.0
        )
        .unwrap();
    }
    goals(&mut s, r);
    memory(&mut s, r, plot_dir);
    cost(&mut s, r, plot_dir);
    export(&mut s, r, plot_dir);
    pressure(&mut s, r, plot_dir);
    rate(&mut s, r);
    s
}

fn goals(s: &mut String, r: &Report) {
    writeln!(s, "### Goals\n").unwrap();
    goal_table(s, &r.goals);
}

/// The goals as a table: each met or not.
pub(crate) fn goal_table(s: &mut String, goals: &[Goal]) {
    writeln!(s, "| goal | target | measured | |\n|---|---|---|---|").unwrap();
    for g in goals {
        let verdict = if g.met { "met" } else { "**not met**" };
        writeln!(
            s,
            "| {} | {} | {} | {verdict} |",
            g.name, g.target, g.measured
        )
        .unwrap();
    }
    writeln!(s).unwrap();
}

fn optional(n: Option<u64>) -> String {
    n.map_or("-".into(), |n| n.to_string())
}

fn memory(s: &mut String, r: &Report, plot_dir: &str) {
    let param = |name: &str| r.measurements.params.get(name).copied().unwrap_or(0);
    writeln!(s, "### Memory per sample\n").unwrap();
    writeln!(
        s,
        "| stage | cache | sizeof | ksize | object size | samples | objects per sample \
         | slab memory | bytes per sample | goal bound |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for m in &r.memory {
        writeln!(
            s,
            "| {} | `{}` | {} | {} | {} | {} | {:.4} | {} | {:.2} | {} |",
            m.stage,
            m.cache,
            optional(m.size_of),
            optional(m.ksize),
            m.object_size,
            thousands(m.samples),
            m.objects_per_sample,
            thousands(m.slab_bytes),
            m.bytes_per_sample,
            m.bound.map_or("-".into(), |b| format!("{b:.2}")),
        )
        .unwrap();
    }
    let filled: Vec<&StageMemory> = r
        .measurements
        .memory
        .iter()
        .filter(|m| m.fill_seconds > 0.0)
        .collect();
    if let (Some(first), Some(last)) = (filled.first(), filled.last()) {
        let rates: Vec<f64> = filled
            .iter()
            .map(|m| m.samples as f64 / m.fill_seconds)
            .collect();
        writeln!(
            s,
            "\nWith one process, in {} VMs side by side on the host's CPUs, stages {} to {} \
             took {:.0} to {:.0} samples a second at {} Hz: their histories filled in {:.0} \
             to {:.0} s.",
            filled.len(),
            first.stage,
            last.stage,
            rates.iter().copied().fold(f64::MAX, f64::min),
            rates.iter().copied().fold(0.0, f64::max),
            param("frequency"),
            filled
                .iter()
                .map(|m| m.fill_seconds)
                .fold(f64::MAX, f64::min),
            filled.iter().map(|m| m.fill_seconds).fold(0.0, f64::max),
        )
        .unwrap();
    }
    let reclaimed: Vec<String> = r
        .memory
        .iter()
        .filter(|m| m.kswapd_ns > 0)
        .map(|m| format!("stage {}: {:.1} ms", m.stage, m.kswapd_ns as f64 / 1e6))
        .collect();
    if reclaimed.is_empty() {
        writeln!(
            s,
            "\nNo reclaim ran in these VMs (kswapd used no CPU time), so no shrinker freed a \
             sample."
        )
        .unwrap();
    } else {
        writeln!(
            s,
            "\nReclaim ran during the measurement (kswapd's CPU time): {}.",
            reclaimed.join(", ")
        )
        .unwrap();
    }
    let kmalloc: Vec<String> = r
        .memory
        .iter()
        .filter_map(|m| {
            let [before, loaded, unloaded] = m.kmalloc_slabs?;
            Some(format!(
                "stage {}: {before} → {loaded} → {unloaded}",
                m.stage
            ))
        })
        .collect();
    if !kmalloc.is_empty() {
        writeln!(
            s,
            "\nkmalloc-64's slabs before loading → with the history → after unloading: {}.",
            kmalloc.join("; ")
        )
        .unwrap();
    }
    writeln!(s, "\n![Bytes per sample by stage]({plot_dir}/memory.svg)\n").unwrap();
}

fn fit_line(name: &str, fit: Option<Linear>) -> String {
    match fit {
        Some(f) => format!(
            "- {name}: {:.1} µs + {:.2} µs per process, R² = {:.4}\n",
            f.intercept / 1e3,
            f.slope / 1e3,
            f.r2
        ),
        None => format!("- {name}: not enough points to fit\n"),
    }
}

fn cost(s: &mut String, r: &Report, plot_dir: &str) {
    writeln!(s, "### Sampling cost\n").unwrap();
    writeln!(
        s,
        "CPU time per sample (per period), in µs.\n\n\
         | processes | module | userspace, files kept open | ratio \
         | userspace, files reopened | ratio |\n|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for c in &r.cost {
        writeln!(
            s,
            "| {} | {:.2} ({:.1}) | {:.2} ({:.1}) | {:.1}x | {:.2} ({:.1}) | {:.1}x |",
            c.pids,
            c.module_per_sample_ns / 1e3,
            c.module_per_tick_ns / 1e3,
            c.kept_per_sample_ns / 1e3,
            c.kept_per_tick_ns / 1e3,
            c.kept_per_sample_ns / c.module_per_sample_ns,
            c.reopened_per_sample_ns / 1e3,
            c.reopened_per_tick_ns / 1e3,
            c.reopened_per_sample_ns / c.module_per_sample_ns,
        )
        .unwrap();
    }
    writeln!(s, "\nCPU time per period, fitted as a + b × processes:\n").unwrap();
    s.push_str(&fit_line("module", r.module_fit));
    s.push_str(&fit_line("userspace, files kept open", r.kept_fit));
    s.push_str(&fit_line("userspace, files reopened", r.reopened_fit));
    writeln!(
        s,
        "\n![CPU time per period against processes]({plot_dir}/cost.svg)\n"
    )
    .unwrap();
}

fn export(s: &mut String, r: &Report, plot_dir: &str) {
    writeln!(s, "### Export\n").unwrap();
    writeln!(
        s,
        "CPU time of one whole read, `/sys/kernel/debug/taskmonitor` (stage 7) against a \
         tmpfs file with the same bytes.\n\n\
         | samples | bytes | debugfs | tmpfs | ratio |\n|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for e in &r.measurements.stage7.exports {
        writeln!(
            s,
            "| {} | {} | {:.1} ms | {:.2} ms | {:.1}x |",
            thousands(e.samples),
            thousands(e.module.bytes),
            e.module.per_read_ns() / 1e6,
            e.tmpfs.per_read_ns() / 1e6,
            e.ratio()
        )
        .unwrap();
    }
    if let (Some(d), Some(t)) = (r.debugfs_exponent, r.tmpfs_exponent) {
        writeln!(
            s,
            "\nRead cost grows as samples^{d:.2} through debugfs and samples^{t:.2} from \
             tmpfs (log-log fit)."
        )
        .unwrap();
    }
    if let (Some((a, b)), Some(full)) = (r.debugfs_model, r.measurements.stage7.exports.last()) {
        let n = full.samples as f64;
        writeln!(
            s,
            "\nFitted as a × samples + b × samples², a debugfs read costs {:.2} µs per sample \
             plus a part growing with the square of the history: {:.0} of the {:.0} ms with \
             {} samples. Its linear part alone would be {:.1}x the tmpfs read.",
            a / 1e3,
            b * n * n / 1e6,
            full.module.per_read_ns() / 1e6,
            thousands(full.samples),
            a * n / full.tmpfs.per_read_ns(),
        )
        .unwrap();
    }
    if let Some(e) = &r.measurements.sysfs {
        writeln!(
            s,
            "\nStage 1's `/sys/kernel/taskmonitor` (one page, {} bytes): {:.1} µs per read, \
             against {:.1} µs from tmpfs ({:.1}x).",
            thousands(e.module.bytes),
            e.module.per_read_ns() / 1e3,
            e.tmpfs.per_read_ns() / 1e3,
            e.ratio()
        )
        .unwrap();
    }
    writeln!(
        s,
        "\n![CPU time of a whole read against the history's size]({plot_dir}/export.svg)\n"
    )
    .unwrap();
}

fn rate(s: &mut String, r: &Report) {
    let rates = &r.measurements.rates;
    if rates.is_empty() {
        return;
    }
    let mut frequencies: Vec<u32> = rates.iter().map(|p| p.frequency).collect();
    frequencies.sort_unstable();
    frequencies.dedup();
    let mut stages: Vec<u32> = rates.iter().map(|p| p.stage).collect();
    stages.dedup();
    writeln!(
        s,
        "### Sampling rate
"
    )
    .unwrap();
    let load = r.measurements.params.get("host_load_rate_milli");
    writeln!(
        s,
        "Samples a second with one idle process, each stage loaded in turn in one VM, and \
         how far that is from the frequency asked{}.\n",
        load.map_or(String::new(), |l| format!(
            " (the host's load average was {:.2} when this VM started)",
            *l as f64 / 1000.0
        ))
    )
    .unwrap();
    let header: Vec<String> = frequencies.iter().map(|f| format!("{f} Hz")).collect();
    writeln!(
        s,
        "| stage | {} |\n|---|{}",
        header.join(" | "),
        "---:|".repeat(frequencies.len())
    )
    .unwrap();
    for stage in stages {
        let cells: Vec<String> = frequencies
            .iter()
            .map(|&f| {
                rates
                    .iter()
                    .find(|p| p.stage == stage && p.frequency == f)
                    .map_or("-".into(), |p| {
                        format!("{:.2} ({:+.2}%)", p.rate(), p.error() * 100.0)
                    })
            })
            .collect();
        writeln!(s, "| {stage} | {} |", cells.join(" | ")).unwrap();
    }
    let windows: Vec<String> = frequencies
        .iter()
        .filter_map(|&f| {
            let p = rates.iter().find(|p| p.frequency == f && !p.lifetime)?;
            Some(format!("{:.0} s at {f} Hz", p.seconds))
        })
        .collect();
    let resolution = rates.iter().map(|p| p.resolution()).fold(0.0, f64::max);
    writeln!(
        s,
        "\nWindows of {} (stage 1: the thread's life, as long); the coarsest resolution is \
         {:.2}%.\n",
        windows.join(", "),
        resolution * 100.0
    )
    .unwrap();
}

fn pressure(s: &mut String, r: &Report, plot_dir: &str) {
    let Some(p) = &r.pressure else {
        return;
    };
    writeln!(s, "### Shrinker response\n").unwrap();
    let at = |ms: Option<u64>| ms.map_or("never".into(), |ms| format!("{:.2} s", ms as f64 / 1e3));
    let freed = match (p.pressure_ms, p.reclaim_ms) {
        (Some(pressure), Some(reclaim)) => format!(
            ", {} later",
            delay(reclaim as i64 - pressure as i64, r.trace_ms())
        ),
        _ => String::new(),
    };
    writeln!(
        s,
        "Stage 2 in a 128 MiB VM, {filled} MiB written to a tmpfs. The kernel started \
         reclaiming (kswapd ran) at {pressure}, and the first samples were freed at \
         {reclaim}{freed}. The history went from {before} samples to {lowest}, and grew \
         back to {end} once the tmpfs was emptied.\n",
        filled = p.filled_mib,
        pressure = at(p.pressure_ms),
        reclaim = at(p.reclaim_ms),
        before = thousands(p.count_before),
        lowest = thousands(p.count_lowest),
        end = thousands(p.count_end),
    )
    .unwrap();
    writeln!(
        s,
        "![Samples and memory over time under pressure]({plot_dir}/shrinker.svg)\n"
    )
    .unwrap();
}
