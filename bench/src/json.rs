// SPDX-License-Identifier: GPL-2.0

//! The report as JSON: the figures of the Markdown report, for scripts.

use crate::fit::Linear;
use crate::report::Report;
use serde_json::{json, Value};

fn fit(f: Option<Linear>) -> Value {
    f.map_or(
        Value::Null,
        |f| json!({ "intercept_ns": f.intercept, "slope_ns": f.slope, "r2": f.r2 }),
    )
}

pub fn json(r: &Report) -> String {
    let memory: Vec<Value> = r
        .memory
        .iter()
        .map(|m| {
            json!({
                "stage": m.stage,
                "cache": m.cache,
                "size_of": m.size_of,
                "ksize": m.ksize,
                "object_size": m.object_size,
                "samples": m.samples,
                "objects_per_sample": m.objects_per_sample,
                "slab_bytes": m.slab_bytes,
                "bytes_per_sample": m.bytes_per_sample,
                "bound": m.bound,
                "kmalloc64_slabs_before_loaded_unloaded": m.kmalloc_slabs,
                "kswapd_ns": m.kswapd_ns,
            })
        })
        .collect();
    let cost: Vec<Value> = r
        .cost
        .iter()
        .map(|c| {
            json!({
                "pids": c.pids,
                "module_ns_per_sample": c.module_per_sample_ns,
                "module_ns_per_tick": c.module_per_tick_ns,
                "userspace_kept_ns_per_sample": c.kept_per_sample_ns,
                "userspace_kept_ns_per_tick": c.kept_per_tick_ns,
                "userspace_reopened_ns_per_sample": c.reopened_per_sample_ns,
                "userspace_reopened_ns_per_tick": c.reopened_per_tick_ns,
            })
        })
        .collect();
    let export: Vec<Value> = r
        .measurements
        .stage7
        .exports
        .iter()
        .map(|e| {
            json!({
                "samples": e.samples,
                "bytes": e.module.bytes,
                "debugfs_ns_per_read": e.module.per_read_ns(),
                "tmpfs_ns_per_read": e.tmpfs.per_read_ns(),
                "ratio": e.ratio(),
            })
        })
        .collect();
    let sysfs = r.measurements.sysfs.as_ref().map(|e| {
        json!({
            "bytes": e.module.bytes,
            "sysfs_ns_per_read": e.module.per_read_ns(),
            "tmpfs_ns_per_read": e.tmpfs.per_read_ns(),
            "ratio": e.ratio(),
        })
    });
    let pressure = r.pressure.as_ref().map(|p| {
        json!({
            "filled_mib": p.filled_mib,
            "pressure_ms": p.pressure_ms,
            "reclaim_ms": p.reclaim_ms,
            "samples_before": p.count_before,
            "samples_lowest": p.count_lowest,
            "samples_end": p.count_end,
        })
    });
    let rates: Vec<Value> = r
        .measurements
        .rates
        .iter()
        .map(|p| {
            json!({
                "stage": p.stage,
                "frequency": p.frequency,
                "samples": p.samples,
                "seconds": p.seconds,
                "whole_life": p.lifetime,
                "rate": p.rate(),
            })
        })
        .collect();
    let goals: Vec<Value> = r
        .goals
        .iter()
        .map(
            |g| json!({ "goal": g.name, "target": g.target, "measured": g.measured, "met": g.met }),
        )
        .collect();
    let value = json!({
        "params": r.measurements.params,
        "goals": goals,
        "memory": memory,
        "sampling_cost": {
            "points": cost,
            "module_fit": fit(r.module_fit),
            "userspace_kept_fit": fit(r.kept_fit),
            "userspace_reopened_fit": fit(r.reopened_fit),
        },
        "export": {
            "points": export,
            "debugfs_exponent": r.debugfs_exponent,
            "debugfs_ns_per_sample": r.debugfs_model.map(|m| m.0),
            "debugfs_ns_per_sample_squared": r.debugfs_model.map(|m| m.1),
            "tmpfs_exponent": r.tmpfs_exponent,
            "sysfs_stage1": sysfs,
        },
        "shrinker": pressure,
        "sampling_rate": rates,
    });
    serde_json::to_string_pretty(&value).expect("JSON of numbers and strings") + "\n"
}
