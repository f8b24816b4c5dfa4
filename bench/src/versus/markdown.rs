// SPDX-License-Identifier: GPL-2.0

//! The Rust-against-C report as Markdown (`versus.md`), which the Measurements chapter
//! includes first.

use super::measure::Module;
use super::report::{label, KernelReport, Spread};
use crate::markdown::goal_table;
use crate::report::{thousands, Goal};
use std::fmt::Write;

/// The report of every kernel measured, the first one's goals first.
pub fn markdown(kernels: &[KernelReport], plot_dir: &str) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "<!-- Written by `make bench` (bench/src/versus/markdown.rs) from raw.json. Do not \
         edit. -->\n"
    )
    .unwrap();
    let Some(first) = kernels.first() else {
        writeln!(s, "Not measured.").unwrap();
        return s;
    };
    goals(&mut s, &first.measured.kernel, &first.goals);
    ratios(&mut s, kernels);
    cost(&mut s, kernels, plot_dir);
    export(&mut s, kernels, plot_dir);
    memory(&mut s, kernels, plot_dir);
    modules(&mut s, kernels);
    rate(&mut s, kernels, plot_dir);
    s
}

fn goals(s: &mut String, kernel: &str, goals: &[Goal]) {
    writeln!(s, "#### Goals, on the {kernel} kernel\n").unwrap();
    goal_table(s, goals);
}

/// `0.85 (0.80–0.90)`.
fn spread(x: Spread) -> String {
    if x.min == x.max {
        format!("{:.2}", x.median)
    } else {
        format!("{:.2} ({:.2}–{:.2})", x.median, x.min, x.max)
    }
}

/// A time in µs, with its spread.
fn micros(x: Spread) -> String {
    if x.min == x.max {
        format!("{:.2}", x.median / 1e3)
    } else {
        format!(
            "{:.2} ({:.2}–{:.2})",
            x.median / 1e3,
            x.min / 1e3,
            x.max / 1e3
        )
    }
}

fn ratio(a: u64, b: u64) -> String {
    format!("{:.2}", a as f64 / b as f64)
}

/// One row per figure, one column per kernel.
fn ratios(s: &mut String, kernels: &[KernelReport]) {
    writeln!(s, "#### Every ratio\n").unwrap();
    writeln!(
        s,
        "The median over the rounds, with the lowest and the highest in brackets. Below 1, \
         Rust (stage 7) costs less.\n"
    )
    .unwrap();
    let header: Vec<String> = kernels
        .iter()
        .map(|k| format!("{} kernel", k.measured.kernel))
        .collect();
    writeln!(s, "| figure | {} |", header.join(" | ")).unwrap();
    writeln!(s, "|---|{}", "---:|".repeat(kernels.len())).unwrap();
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |name: String, cell: &dyn Fn(&KernelReport) -> Option<String>| {
        let cells = kernels
            .iter()
            .map(|k| cell(k).unwrap_or_else(|| "-".into()))
            .collect();
        rows.push((name, cells));
    };
    for c in &kernels[0].cost {
        let (hz, pids) = (c.hz, c.pids);
        let find = move |k: &KernelReport| {
            k.cost
                .iter()
                .find(|x| x.hz == hz && x.pids == pids)
                .cloned()
        };
        let noun = if pids == 1 { "process" } else { "processes" };
        let what = format!("sampling at {hz} Hz, {pids} {noun}");
        row(format!("{what}: Rust / C"), &|k| {
            find(k).map(|x| spread(x.rust_over_c))
        });
        row(format!("{what}: Rust / floor"), &|k| {
            find(k).map(|x| spread(x.rust_over_floor))
        });
        row(format!("{what}: C / floor"), &|k| {
            find(k).map(|x| spread(x.c_over_floor))
        });
    }
    for e in &kernels[0].export {
        let size = e.size;
        let find = move |k: &KernelReport| k.export.iter().find(|x| x.size == size).cloned();
        let what = format!("export, {} KiB reads", size / 1024);
        row(format!("{what}: Rust / C"), &|k| {
            find(k).map(|x| spread(x.rust_over_c))
        });
        row(format!("{what}: Rust / tmpfs"), &|k| {
            find(k).map(|x| spread(x.rust_over_tmpfs))
        });
        row(format!("{what}: C / tmpfs"), &|k| {
            find(k).map(|x| spread(x.c_over_tmpfs))
        });
    }
    row("slab memory per sample: Rust / C".into(), &|k| {
        let (r, c) = (k.measured.history("rust")?, k.measured.history("c")?);
        Some(format!(
            "{:.4}",
            r.bytes_per_sample() / c.bytes_per_sample()
        ))
    });
    for (what, pick) in [
        (
            "module text: Rust / C",
            (|m: &Module| Some(m.text)) as fn(&_) -> _,
        ),
        ("module data: Rust / C", |m| Some(m.data)),
        ("build time: Rust / C", |m| m.build_ms),
    ] {
        row(what.into(), &|k| {
            Some(ratio(pick(k.module("rust")?)?, pick(k.module("c")?)?))
        });
    }
    for (name, cells) in rows {
        writeln!(s, "| {name} | {} |", cells.join(" | ")).unwrap();
    }
    writeln!(s).unwrap();
}

fn cost(s: &mut String, kernels: &[KernelReport], plot_dir: &str) {
    writeln!(s, "#### Sampling\n").unwrap();
    writeln!(
        s,
        "CPU time of the sampling thread per sample, in µs: the median over the rounds, with \
         the lowest and the highest.\n"
    )
    .unwrap();
    writeln!(
        s,
        "| kernel | frequency | processes | Rust | C | floor | Rust / C | Rust / floor |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for k in kernels {
        for c in &k.cost {
            writeln!(
                s,
                "| {} | {} Hz | {} | {} | {} | {} | {} | {} |",
                k.measured.kernel,
                c.hz,
                thousands(c.pids.into()),
                micros(c.rust_ns),
                micros(c.c_ns),
                micros(c.floor_ns),
                spread(c.rust_over_c),
                spread(c.rust_over_floor)
            )
            .unwrap();
        }
    }
    writeln!(
        s,
        "\n![CPU time per sample against processes]({plot_dir}/versus-cost.svg)\n"
    )
    .unwrap();
}

fn export(s: &mut String, kernels: &[KernelReport], plot_dir: &str) {
    writeln!(s, "#### Export\n").unwrap();
    writeln!(
        s,
        "CPU time of one whole read of `/sys/kernel/debug/taskmonitor`, in ms, against a \
         tmpfs file of the same bytes read the same way, and the `read()` calls one whole \
         read takes.\n"
    )
    .unwrap();
    writeln!(
        s,
        "| kernel | read size | bytes | `read()` calls: Rust, C, tmpfs | Rust | C | tmpfs | \
         Rust / tmpfs | C / tmpfs |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    let ms = |x: Spread| {
        spread(Spread {
            median: x.median / 1e6,
            min: x.min / 1e6,
            max: x.max / 1e6,
        })
    };
    for k in kernels {
        for e in &k.export {
            writeln!(
                s,
                "| {} | {} KiB | {} | {}, {}, {} | {} | {} | {} | {} | {} |",
                k.measured.kernel,
                e.size / 1024,
                thousands(e.bytes),
                thousands(e.calls[0]),
                thousands(e.calls[1]),
                thousands(e.calls[2]),
                ms(e.rust_ns),
                ms(e.c_ns),
                ms(e.tmpfs_ns),
                spread(e.rust_over_tmpfs),
                spread(e.c_over_tmpfs)
            )
            .unwrap();
        }
    }
    writeln!(
        s,
        "\n![CPU time of a whole read]({plot_dir}/versus-export.svg)\n"
    )
    .unwrap();
}

fn memory(s: &mut String, kernels: &[KernelReport], plot_dir: &str) {
    writeln!(s, "#### Memory\n").unwrap();
    writeln!(
        s,
        "The `task_sample` cache with the history still, from `/sys/kernel/slab/task_sample/` \
         (the pool's reserve of 64 included).\n"
    )
    .unwrap();
    writeln!(
        s,
        "| kernel | module | object size | objects per slab | order | samples | objects | \
         slabs | slab memory | bytes per sample |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for k in kernels {
        for h in &k.measured.histories {
            let c = &h.cache;
            writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
                k.measured.kernel,
                label(&h.module),
                c.object_size,
                c.objs_per_slab,
                c.order,
                thousands(h.samples),
                thousands(c.objects),
                thousands(c.slabs),
                thousands(c.bytes()),
                h.bytes_per_sample()
            )
            .unwrap();
        }
    }
    writeln!(
        s,
        "\n![Slab memory per sample]({plot_dir}/versus-memory.svg)\n"
    )
    .unwrap();
}

fn modules(s: &mut String, kernels: &[KernelReport]) {
    writeln!(s, "#### The modules\n").unwrap();
    writeln!(
        s,
        "Sections of the `.ko` (`llvm-size`), in bytes, and the time of a clean build \
         (`scripts/bench-modules.sh`: Kbuild, every CPU of the host).\n"
    )
    .unwrap();
    writeln!(
        s,
        "| kernel | module | text | data | bss | build time |\n|---|---|---:|---:|---:|---:|"
    )
    .unwrap();
    for k in kernels {
        for m in &k.measured.modules {
            writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                k.measured.kernel,
                label(&m.module),
                thousands(m.text),
                thousands(m.data),
                thousands(m.bss),
                m.build_ms
                    .map_or("-".into(), |ms| format!("{:.1} s", ms as f64 / 1000.0))
            )
            .unwrap();
        }
    }
    writeln!(s).unwrap();
}

fn rate(s: &mut String, kernels: &[KernelReport], plot_dir: &str) {
    writeln!(s, "#### Sampling rate\n").unwrap();
    writeln!(
        s,
        "One process, from one sample to another, against the VM's monotonic clock.\n"
    )
    .unwrap();
    writeln!(
        s,
        "| kernel | module | asked | samples | seconds | samples a second | off by |\n\
         |---|---|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for k in kernels {
        for r in &k.measured.rates {
            writeln!(
                s,
                "| {} | {} | {} Hz | {} | {:.2} | {:.2} | {:+.2}% |",
                k.measured.kernel,
                label(&r.module),
                r.hz,
                thousands(r.samples),
                r.seconds,
                r.samples as f64 / r.seconds,
                r.error() * 100.0
            )
            .unwrap();
        }
    }
    writeln!(s, "\n![Sampling rate]({plot_dir}/versus-rate.svg)\n").unwrap();
}
