// SPDX-License-Identifier: GPL-2.0

//! The Rust-against-C plots, of the first kernel measured (the production one).

use super::report::{label, CostRow, KernelReport, Spread};
use crate::plot::{area, decades, err, finish, plain, swatch, Result};
use plotters::prelude::*;
use std::path::Path;

const RUST: RGBColor = RGBColor(31, 119, 180);
const C: RGBColor = RGBColor(214, 39, 40);
const FLOOR: RGBColor = RGBColor(120, 120, 120);
const TMPFS: RGBColor = RGBColor(44, 160, 44);

/// A series of the cost plot: the module, its colour, and its time per sample.
type CostSeries = (&'static str, RGBColor, fn(&CostRow) -> Spread);
/// A group of bars: its label, and each bar's label, colour and height.
type BarGroup<'a> = (String, Vec<(&'a str, RGBColor, f64)>);

/// Writes `versus-cost.svg`, `versus-export.svg`, `versus-memory.svg` and
/// `versus-rate.svg` into `dir`.
pub fn plots(k: &KernelReport, dir: &Path) -> Result {
    cost(k, &dir.join("versus-cost.svg"))?;
    export(k, &dir.join("versus-export.svg"))?;
    memory(k, &dir.join("versus-memory.svg"))?;
    rate(k, &dir.join("versus-rate.svg"))
}

/// CPU time per sample against processes, each module at each frequency.
fn cost(k: &KernelReport, path: &Path) -> Result {
    let root = area(path)?;
    let pick: [CostSeries; 3] = [
        ("rust", RUST, |c| c.rust_ns),
        ("c", C, |c| c.c_ns),
        ("floor", FLOOR, |c| c.floor_ns),
    ];
    let xs = decades(k.cost.iter().map(|c| f64::from(c.pids)));
    let ys = decades(
        k.cost
            .iter()
            .flat_map(|c| pick.iter().flat_map(move |p| [p.2(c).min, p.2(c).max]))
            .map(|ns| ns / 1e3),
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("CPU time per sample ({} kernel)", k.measured.kernel),
            ("sans-serif", 20),
        )
        .margin(12)
        .margin_right(28)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(xs.log_scale(), ys.log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("monitored processes")
        .y_desc("µs per sample")
        .x_label_formatter(&plain)
        .y_label_formatter(&plain)
        .draw()
        .map_err(err)?;
    let mut hz: Vec<u32> = k.cost.iter().map(|c| c.hz).collect();
    hz.sort_unstable_by(|a, b| b.cmp(a));
    hz.dedup();
    for (i, &f) in hz.iter().enumerate() {
        for (module, color, value) in pick {
            let points: Vec<(f64, f64)> = k
                .cost
                .iter()
                .filter(|c| c.hz == f)
                .map(|c| (f64::from(c.pids), value(c).median / 1e3))
                .collect();
            // The highest frequency solid, the others thin.
            let width = if i == 0 { 2 } else { 1 };
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(width)))
                .map_err(err)?
                .label(format!("{} at {f} Hz", label(module)))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(width))
                });
            chart
                .draw_series(points.iter().map(|&p| {
                    if i == 0 {
                        Circle::new(p, 3, color.filled()).into_dyn()
                    } else {
                        TriangleMarker::new(p, 4, color.filled()).into_dyn()
                    }
                }))
                .map_err(err)?;
        }
    }
    finish(&mut chart, &root, SeriesLabelPosition::UpperRight)
}

/// Bars by category: `groups` of `(label, colour, value)`.
fn bars(path: &Path, caption: &str, unit: &str, groups: &[BarGroup]) -> Result {
    let root = area(path)?;
    let top = groups
        .iter()
        .flat_map(|(_, bars)| bars.iter().map(|b| b.2))
        .fold(0.0, f64::max)
        * 1.3;
    let n = groups.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.5..n + 0.5, 0.0..top.max(1e-9))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups.len())
        .x_label_formatter(&|x| {
            let i = x.round();
            match groups.get((i as usize).wrapping_sub(1)) {
                Some((name, _)) if (x - i).abs() < 1e-6 => name.clone(),
                _ => String::new(),
            }
        })
        .y_desc(unit)
        .draw()
        .map_err(err)?;
    let width = 0.8 / groups.iter().map(|g| g.1.len()).max().unwrap_or(1) as f64;
    let mut labelled = Vec::new();
    for (g, (_, group)) in groups.iter().enumerate() {
        for (b, &(name, color, value)) in group.iter().enumerate() {
            let x0 = g as f64 + 1.0 - 0.4 + b as f64 * width;
            let series = chart
                .draw_series([Rectangle::new(
                    [(x0, 0.0), (x0 + width * 0.9, value)],
                    color.filled(),
                )])
                .map_err(err)?;
            if !labelled.contains(&name) {
                labelled.push(name);
                series.label(name).legend(swatch(color));
            }
        }
    }
    finish(&mut chart, &root, SeriesLabelPosition::UpperLeft)
}

/// CPU time of a whole read, by read size: Rust, C, tmpfs.
fn export(k: &KernelReport, path: &Path) -> Result {
    let groups: Vec<_> = k
        .export
        .iter()
        .map(|e| {
            (
                format!("{} KiB reads", e.size / 1024),
                vec![
                    (label("rust"), RUST, e.rust_ns.median / 1e6),
                    (label("c"), C, e.c_ns.median / 1e6),
                    ("tmpfs, same bytes", TMPFS, e.tmpfs_ns.median / 1e6),
                ],
            )
        })
        .collect();
    let caption = format!("CPU time of a whole read ({} kernel)", k.measured.kernel);
    bars(path, &caption, "ms", &groups)
}

/// Slab bytes per sample, and the object size.
fn memory(k: &KernelReport, path: &Path) -> Result {
    let groups: Vec<_> = k
        .measured
        .histories
        .iter()
        .map(|h| {
            let color = if h.module == "rust" { RUST } else { C };
            (
                label(&h.module).to_string(),
                vec![
                    ("object size", FLOOR, h.cache.object_size as f64),
                    ("slab memory per sample", color, h.bytes_per_sample()),
                ],
            )
        })
        .collect();
    let caption = format!("Slab memory per sample ({} kernel)", k.measured.kernel);
    bars(path, &caption, "bytes", &groups)
}

/// How far each module's rate is from the frequency asked, against the goal's ±1%.
fn rate(k: &KernelReport, path: &Path) -> Result {
    let rates = &k.measured.rates;
    let root = area(path)?;
    let xs = decades(rates.iter().map(|r| f64::from(r.hz)));
    let worst = rates
        .iter()
        .map(|r| r.error().abs() * 100.0)
        .fold(1.0, f64::max)
        * 1.5;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Sampling rate against the rate asked ({} kernel)",
                k.measured.kernel
            ),
            ("sans-serif", 20),
        )
        .margin(12)
        .margin_right(28)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(xs.clone().log_scale(), -worst..worst)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("frequency asked (Hz)")
        .y_desc("off by (%)")
        .x_label_formatter(&plain)
        .draw()
        .map_err(err)?;
    for bound in [-1.0, 1.0] {
        chart
            .draw_series(LineSeries::new(
                [(xs.start, bound), (xs.end, bound)],
                FLOOR.stroke_width(1),
            ))
            .map_err(err)?;
    }
    for (module, color) in [("rust", RUST), ("c", C)] {
        let points: Vec<(f64, f64)> = rates
            .iter()
            .filter(|r| r.module == module)
            .map(|r| (f64::from(r.hz), r.error() * 100.0))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(label(module))
            .legend(swatch(color));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(err)?;
    }
    finish(&mut chart, &root, SeriesLabelPosition::UpperRight)
}
