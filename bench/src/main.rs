// SPDX-License-Identifier: GPL-2.0

//! `bench`: runs the measurements in VMs and writes the report (see the crate's docs).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use taskmonitor_bench::profile::Profile;
use taskmonitor_bench::raw::{Raw, Record};
use taskmonitor_bench::{scenarios, write_report};

const USAGE: &str = "usage:
  bench run GUEST DIR      measure in VMs; write DIR/raw.json, the report and the plots
  bench report DIR         write the report and the plots again from DIR/raw.json
  bench check GUEST DIR    check DIR's report against DIR/raw.json, then a tiny VM run
  bench tiny GUEST DIR     the tiny VM run alone, its report written into DIR
GUEST is the statically linked bench-guest binary (make bench builds it).";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["run", guest, dir] => run(&Profile::full(), Path::new(guest), Path::new(dir)),
        ["tiny", guest, dir] => run(&Profile::quick(), Path::new(guest), Path::new(dir)),
        ["report", dir] => report(Path::new(dir)),
        ["check", guest, dir] => check(Path::new(guest), Path::new(dir)),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read_raw(dir: &Path) -> Result<Raw, String> {
    let path = dir.join("raw.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Raw::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs one scenario, saying how long it took.
fn measure(name: &str, scenario: runner::Scenario, guest: &Path) -> Result<Record, String> {
    let start = Instant::now();
    eprintln!("[bench] {name}: running");
    let record = scenarios::run(scenario, guest).map_err(|e| format!("{name}: {e}"))?;
    eprintln!("[bench] {name}: done in {} s", start.elapsed().as_secs());
    Ok(record)
}

/// Every measurement of `profile`.
fn measure_all(profile: &Profile, guest: &Path) -> Result<Raw, String> {
    let mut raw = Raw {
        params: profile.params(),
        ..Raw::default()
    };
    // The memory VMs side by side: they count bytes and objects, which the host's load
    // does not change, and each waits minutes for its history to fill.
    let memory: Vec<(String, Result<Record, String>)> = std::thread::scope(|s| {
        let runs: Vec<_> = profile
            .memory_stages
            .iter()
            .map(|&stage| {
                let name = format!("memory-{stage}");
                let scenario = scenarios::memory(profile, stage);
                s.spawn(move || (name.clone(), measure(&name, scenario, guest)))
            })
            .collect();
        runs.into_iter()
            .map(|h| h.join().expect("a measuring thread panicked"))
            .collect()
    });
    for (name, record) in memory {
        raw.records.insert(name, record?);
    }
    // Then one VM at a time, since these measure CPU and reaction times. The host's load
    // goes into the report: under emulation, a guest's CPU time includes the time its
    // virtual CPU waited for a host CPU.
    raw.params
        .insert("host_load_milli".into(), host_load_milli()?);
    raw.params.insert(
        "host_cpus".into(),
        std::thread::available_parallelism().map_or(0, |n| n.get() as u64),
    );
    raw.records.insert(
        "stage7".into(),
        measure("stage7", scenarios::stage7(profile), guest)?,
    );
    if profile.shrinker {
        raw.records.insert(
            "shrinker".into(),
            measure("shrinker", scenarios::shrinker(profile), guest)?,
        );
    }
    if !profile.rate_stages.is_empty() {
        // A VM starved by its host misses deadlines: the report says how busy the host was.
        raw.params
            .insert("host_load_rate_milli".into(), host_load_milli()?);
        raw.records.insert(
            "rate".into(),
            measure("rate", scenarios::rate(profile), guest)?,
        );
    }
    Ok(raw)
}

/// The host's load average over the last minute, in thousandths.
fn host_load_milli() -> Result<u64, String> {
    let text = std::fs::read_to_string("/proc/loadavg").map_err(|e| e.to_string())?;
    let load: f64 = text
        .split_whitespace()
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| format!("/proc/loadavg: {text:?}"))?;
    Ok((load * 1000.0).round() as u64)
}

fn run(profile: &Profile, guest: &Path, dir: &Path) -> Result<(), String> {
    let start = Instant::now();
    let raw = measure_all(profile, guest)?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("raw.json"), raw.to_json()).map_err(|e| e.to_string())?;
    let report = write_report(&raw, dir)?;
    for g in &report.goals {
        let verdict = if g.met { "met" } else { "NOT MET" };
        eprintln!("[bench] {}: {} ({verdict})", g.name, g.measured);
    }
    eprintln!(
        "[bench] wrote {} in {} s",
        dir.display(),
        start.elapsed().as_secs()
    );
    Ok(())
}

fn report(dir: &Path) -> Result<(), String> {
    write_report(&read_raw(dir)?, dir)?;
    eprintln!("[bench] wrote the report in {}", dir.display());
    Ok(())
}

/// The files of the report that `write_report` makes.
fn report_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.file_name().is_some_and(|n| n != "raw.json"))
        .collect();
    files.sort();
    Ok(files)
}

fn check(guest: &Path, dir: &Path) -> Result<(), String> {
    // 1. The committed report is what the code makes of the committed raw data.
    let fresh = tempfile::tempdir().map_err(|e| e.to_string())?;
    write_report(&read_raw(dir)?, fresh.path())?;
    let names = |d: &Path| -> Result<Vec<_>, String> {
        Ok(report_files(d)?
            .into_iter()
            .filter_map(|p| p.file_name().map(|n| n.to_owned()))
            .collect())
    };
    if names(dir)? != names(fresh.path())? {
        return Err(format!(
            "{} holds other files than the report makes: run `make bench` or `bench report`",
            dir.display()
        ));
    }
    for path in report_files(fresh.path())? {
        let committed = dir.join(path.file_name().unwrap_or_default());
        if std::fs::read(&path).ok() != std::fs::read(&committed).ok() {
            return Err(format!(
                "{} is not what the code makes of raw.json: run `cargo run -p \
                 taskmonitor-bench --bin bench -- report {}`",
                committed.display(),
                dir.display()
            ));
        }
    }
    eprintln!("[bench] {}: report up to date", dir.display());

    // 2. A tiny run through every step of the stage 7 VM and the whole report.
    let quick = tempfile::tempdir().map_err(|e| e.to_string())?;
    let raw = measure_all(&Profile::quick(), guest)?;
    let report = write_report(&raw, quick.path())?;
    if report.goals.is_empty() || report.cost.is_empty() || report.measurements.rates.is_empty() {
        return Err("the tiny run measured nothing".into());
    }
    eprintln!("[bench] tiny run: report and plots written");
    Ok(())
}
