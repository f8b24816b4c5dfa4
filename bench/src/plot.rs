// SPDX-License-Identifier: GPL-2.0

//! The report's plots, as SVG files.

use crate::report::Report;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

const SIZE: (u32, u32) = (720, 420);
const MODULE: RGBColor = RGBColor(31, 119, 180);
const USERSPACE: RGBColor = RGBColor(214, 39, 40);
const REOPENED: RGBColor = RGBColor(255, 127, 14);
const GREY: RGBColor = RGBColor(150, 150, 150);

pub(crate) type Result<T = ()> = std::result::Result<T, String>;

pub(crate) fn err(e: impl std::fmt::Display) -> String {
    format!("plot: {e}")
}

/// Writes `memory.svg`, `cost.svg`, `export.svg` and, with a pressure trace,
/// `shrinker.svg` into `dir`.
pub fn plots(r: &Report, dir: &Path) -> Result {
    memory(r, &dir.join("memory.svg"))?;
    cost(r, &dir.join("cost.svg"))?;
    export(r, &dir.join("export.svg"))?;
    if r.measurements.pressure.is_some() {
        shrinker(r, &dir.join("shrinker.svg"))?;
    }
    Ok(())
}

/// Draws the legend at `corner` and writes the plot out.
pub(crate) fn finish<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    root: &DrawingArea<SVGBackend<'a>, Shift>,
    corner: SeriesLabelPosition,
) -> Result {
    chart
        .configure_series_labels()
        .position(corner)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

pub(crate) fn area(path: &Path) -> Result<DrawingArea<SVGBackend<'_>, Shift>> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    Ok(root)
}

/// A legend entry: a short line of the series' colour.
pub(crate) fn swatch(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(3))
}

/// Labels of a log axis: 1, 2 and 5 times a power of ten, as plain numbers; the other
/// grid lines stay unlabelled, or the labels of a short axis run into each other.
pub(crate) fn plain(v: &f64) -> String {
    let leading = v / 10f64.powf(v.log10().floor());
    if ![1.0, 2.0, 5.0].iter().any(|l| (leading - l).abs() < 1e-6) {
        String::new()
    } else if *v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Bytes per sample by stage: what kmalloc would take, and the slab memory measured.
fn memory(r: &Report, path: &Path) -> Result {
    let root = area(path)?;
    let stages = r.memory.len() as f64;
    let top = r
        .memory
        .iter()
        .map(|m| {
            m.bytes_per_sample
                .max(m.ksize.unwrap_or(m.object_size) as f64)
        })
        .fold(0.0, f64::max)
        * 1.3;
    let mut chart = ChartBuilder::on(&root)
        .caption("Memory per sample", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.5..stages + 0.5, 0.0..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(r.memory.len())
        .x_label_formatter(&|x| {
            let i = x.round();
            match r.memory.get(i as usize - 1) {
                Some(m) if (x - i).abs() < 1e-6 => format!("stage {}", m.stage),
                _ => String::new(),
            }
        })
        .y_desc("bytes")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(err)?;
    let bar = |i: usize, side: f64, value: f64, color: RGBColor| {
        let x = i as f64 + 1.0;
        Rectangle::new([(x + side * 0.36, 0.0), (x, value)], color.filled())
    };
    chart
        .draw_series(r.memory.iter().enumerate().map(|(i, m)| {
            let kmalloc = m.ksize.unwrap_or(m.object_size) as f64;
            bar(i, -1.0, kmalloc, GREY)
        }))
        .map_err(err)?
        .label("a kmalloc'd sample (its size class)")
        .legend(swatch(GREY));
    chart
        .draw_series(
            r.memory
                .iter()
                .enumerate()
                .map(|(i, m)| bar(i, 1.0, m.bytes_per_sample, MODULE)),
        )
        .map_err(err)?
        .label("slab memory per sample, measured")
        .legend(swatch(MODULE));
    finish(&mut chart, &root, SeriesLabelPosition::UpperLeft)
}

/// The range of `values` widened to whole powers of ten, for a log axis.
pub(crate) fn decades(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return 1.0..10.0;
    }
    10f64.powf(lo.log10().floor())..10f64.powf(hi.log10().ceil())
}

/// CPU time per period against the number of processes, with the fitted lines.
fn cost(r: &Report, path: &Path) -> Result {
    let root = area(path)?;
    let p = &r.cost_points;
    let all = || p.module.iter().chain(&p.kept).chain(&p.reopened);
    let xs = decades(all().map(|q| q.0));
    let ys = decades(all().map(|q| q.1 / 1e3));
    let mut chart = ChartBuilder::on(&root)
        .caption("CPU time per sampling period", ("sans-serif", 20))
        .margin(12)
        .margin_right(28)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(xs.clone().log_scale(), ys.log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("monitored processes")
        .y_desc("µs per period")
        .x_label_formatter(&plain)
        .y_label_formatter(&plain)
        .draw()
        .map_err(err)?;
    let series = [
        ("module (stage 7 thread)", &p.module, r.module_fit, MODULE),
        ("userspace, files kept open", &p.kept, r.kept_fit, USERSPACE),
        (
            "userspace, files reopened",
            &p.reopened,
            r.reopened_fit,
            REOPENED,
        ),
    ];
    for (label, points, fit, color) in series {
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y / 1e3), 3, color.filled())),
            )
            .map_err(err)?
            .label(label)
            .legend(swatch(color));
        if let Some(fit) = fit {
            // The fitted line, a curve on log axes: many short segments.
            let line = (0..=100).map(|i| {
                let x = xs.start * (xs.end / xs.start).powf(f64::from(i) / 100.0);
                (x, fit.at(x) / 1e3)
            });
            let line: Vec<_> = line.filter(|&(_, y)| y > 0.0).collect();
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(1)))
                .map_err(err)?;
        }
    }
    finish(&mut chart, &root, SeriesLabelPosition::UpperLeft)
}

/// CPU time of one whole read against the history's size, debugfs and tmpfs.
fn export(r: &Report, path: &Path) -> Result {
    let root = area(path)?;
    let exports = &r.measurements.stage7.exports;
    let debugfs: Vec<(f64, f64)> = exports
        .iter()
        .map(|e| (e.samples as f64, e.module.per_read_ns() / 1e6))
        .collect();
    let tmpfs: Vec<(f64, f64)> = exports
        .iter()
        .map(|e| (e.samples as f64, e.tmpfs.per_read_ns() / 1e6))
        .collect();
    let xs = decades(debugfs.iter().map(|p| p.0));
    let ys = decades(debugfs.iter().chain(&tmpfs).map(|p| p.1));
    let mut chart = ChartBuilder::on(&root)
        .caption("CPU time of reading the whole history", ("sans-serif", 20))
        .margin(12)
        .margin_right(28)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(xs.log_scale(), ys.log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("samples in the history")
        .y_desc("ms per read")
        .x_label_formatter(&plain)
        .y_label_formatter(&plain)
        .draw()
        .map_err(err)?;
    for (label, points, color) in [
        ("/sys/kernel/debug/taskmonitor", &debugfs, MODULE),
        ("tmpfs file, same bytes", &tmpfs, USERSPACE),
    ] {
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(label)
            .legend(swatch(color));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(err)?;
    }
    finish(&mut chart, &root, SeriesLabelPosition::UpperLeft)
}

/// The sample count and memory over time while a tmpfs fills and empties.
fn shrinker(r: &Report, path: &Path) -> Result {
    let (Some(p), Some(summary)) = (&r.measurements.pressure, &r.pressure) else {
        return Ok(());
    };
    let root = area(path)?;
    let seconds = |ms: u64| ms as f64 / 1e3;
    let end = p.trace.last().map_or(1.0, |q| seconds(q.t_ms));
    let most = p.trace.iter().map(|q| q.count).max().unwrap_or(1) as f64 * 1.15;
    let mib = p
        .trace
        .iter()
        .map(|q| q.free_kb.max(q.shmem_kb))
        .max()
        .unwrap_or(1) as f64
        / 1024.0
        * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Samples under memory pressure (stage 2)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .right_y_label_area_size(56)
        .build_cartesian_2d(0.0..end, 0.0..most)
        .map_err(err)?
        .set_secondary_coord(0.0..end, 0.0..mib);
    chart
        .configure_mesh()
        .x_desc("seconds")
        .y_desc("samples in the history")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(err)?;
    chart
        .configure_secondary_axes()
        .y_desc("MiB")
        .draw()
        .map_err(err)?;
    let count = p.trace.iter().map(|q| (seconds(q.t_ms), q.count as f64));
    chart
        .draw_series(LineSeries::new(count, MODULE.stroke_width(2)))
        .map_err(err)?
        .label("samples (left)")
        .legend(swatch(MODULE));
    let free = p
        .trace
        .iter()
        .map(|q| (seconds(q.t_ms), q.free_kb as f64 / 1024.0));
    chart
        .draw_secondary_series(LineSeries::new(free, USERSPACE.stroke_width(1)))
        .map_err(err)?
        .label("free memory, MiB (right)")
        .legend(swatch(USERSPACE));
    let shmem = p
        .trace
        .iter()
        .map(|q| (seconds(q.t_ms), q.shmem_kb as f64 / 1024.0));
    chart
        .draw_secondary_series(LineSeries::new(shmem, GREY.stroke_width(1)))
        .map_err(err)?
        .label("tmpfs, MiB (right)")
        .legend(swatch(GREY));
    if let Some(t) = summary.pressure_ms {
        let t = seconds(t);
        chart
            .draw_series(LineSeries::new(
                [(t, 0.0), (t, most)],
                REOPENED.stroke_width(1),
            ))
            .map_err(err)?
            .label("reclaim starts")
            .legend(swatch(REOPENED));
    }
    if let Some(t) = summary.reclaim_ms {
        let t = seconds(t);
        chart
            .draw_series(LineSeries::new(
                [(t, 0.0), (t, most)],
                BLACK.stroke_width(1),
            ))
            .map_err(err)?
            .label("first samples freed")
            .legend(swatch(BLACK));
    }
    finish(&mut chart, &root, SeriesLabelPosition::LowerLeft)
}
