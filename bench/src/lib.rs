// SPDX-License-Identifier: GPL-2.0

//! Measures the taskmonitor modules in the VM: memory per sample, sampling cost, export
//! cost and the shrinker's response, and writes the book's Measurements chapter.
//!
//! Under QEMU's software emulation absolute times mean little, so every time is compared
//! with another one measured in the same VM run, and memory is counted exactly, in bytes,
//! objects and slabs. `make bench` runs everything (`bench run`); `make bench-check`
//! checks that the committed report is what the code makes of the committed raw data, and
//! runs a tiny measurement (`bench check`).

pub mod fit;
pub mod json;
pub mod markdown;
pub mod measure;
pub mod plot;
pub mod profile;
pub mod raw;
pub mod report;
pub mod scenarios;
pub mod versus;

use std::path::Path;

/// Where the plots are, relative to the book chapter that includes the report.
pub const PLOT_DIR: &str = "measurements";

/// Writes `report.md`, `versus.md` (Rust against C), `report.json` and the plots of `raw`
/// into `dir`.
pub fn write_report(raw: &raw::Raw, dir: &Path) -> Result<report::Report, String> {
    let measurements = measure::Measurements::parse(raw)?;
    let report = report::Report::new(measurements);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("report.md", markdown::markdown(&report, PLOT_DIR))?;
    write(
        "versus.md",
        versus::markdown::markdown(&report.versus, PLOT_DIR),
    )?;
    write("report.json", json::json(&report))?;
    plot::plots(&report, dir)?;
    if let Some(first) = report.versus.first() {
        versus::plot::plots(first, dir)?;
    }
    Ok(report)
}
