// SPDX-License-Identifier: GPL-2.0

//! `bench`: runs the measurements in VMs and writes the report (see the crate's docs).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use taskmonitor_bench::profile::Profile;
use taskmonitor_bench::raw::{Raw, Record};
use taskmonitor_bench::versus::{self, Kernel, KERNELS};
use taskmonitor_bench::{scenarios, write_report};

const USAGE: &str = "usage:
  bench run GUEST DIR [MODULES...]    measure in VMs; write DIR/raw.json, the report and plots
  bench report DIR                    write the report and the plots again from DIR/raw.json
  bench check GUEST DIR [MODULES...]  check DIR's report against DIR/raw.json, then a tiny run
  bench tiny GUEST DIR [MODULES...]   the tiny VM run alone, its report written into DIR
  bench versus [--quick|--export|--sampling] GUEST FILE MODULES...  only Rust against C:
                                      the raw data into FILE, the report on stdout (to measure
                                      a change on its own; --export: the memory and export
                                      only; --sampling: the sampling cost only)
GUEST is the statically linked bench-guest binary (make bench builds it). Each MODULES is
a folder of stage 7, the C reference and the floor module built for one kernel by
scripts/bench-modules.sh: the Rust-against-C VM runs on that kernel.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let kernels = |dirs: &[&str]| -> Result<Vec<Kernel>, String> {
        let mut kernels = dirs
            .iter()
            .map(|d| Kernel::of(Path::new(d)))
            .collect::<Result<Vec<_>, _>>()?;
        kernels.sort_by_key(|k| KERNELS.iter().position(|l| *l == k.label));
        Ok(kernels)
    };
    let result = match args.as_slice() {
        ["run", guest, dir, modules @ ..] => kernels(modules)
            .and_then(|k| run(&Profile::full(), Path::new(guest), Path::new(dir), &k)),
        ["tiny", guest, dir, modules @ ..] => kernels(modules)
            .and_then(|k| run(&Profile::quick(), Path::new(guest), Path::new(dir), &k)),
        ["report", dir] => report(Path::new(dir)),
        ["versus", "--quick", guest, file, modules @ ..] => kernels(modules)
            .and_then(|k| versus_only(&Profile::quick(), Path::new(guest), Path::new(file), &k)),
        ["versus", "--sampling", guest, file, modules @ ..] => {
            let mut profile = Profile::full();
            profile.versus.histories = false;
            profile.versus.rate_windows.clear();
            kernels(modules)
                .and_then(|k| versus_only(&profile, Path::new(guest), Path::new(file), &k))
        }
        ["versus", "--export", guest, file, modules @ ..] => {
            let mut profile = Profile::full();
            profile.versus.pids.clear();
            profile.versus.rate_windows.clear();
            kernels(modules)
                .and_then(|k| versus_only(&profile, Path::new(guest), Path::new(file), &k))
        }
        ["versus", guest, file, modules @ ..] => kernels(modules)
            .and_then(|k| versus_only(&Profile::full(), Path::new(guest), Path::new(file), &k)),
        ["check", guest, dir, modules @ ..] => {
            kernels(modules).and_then(|k| check(Path::new(guest), Path::new(dir), &k))
        }
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

/// Runs `scenarios` side by side, and gives each one's record by name.
fn side_by_side(
    scenarios: Vec<(String, runner::Scenario)>,
    guest: &Path,
) -> Vec<(String, Result<Record, String>)> {
    std::thread::scope(|s| {
        let runs: Vec<_> = scenarios
            .into_iter()
            .map(|(name, scenario)| {
                s.spawn(move || {
                    let record = measure(&name, scenario, guest);
                    (name, record)
                })
            })
            .collect();
        runs.into_iter()
            .map(|h| h.join().expect("a measuring thread panicked"))
            .collect()
    })
}

/// The VMs that measure time, in order: stage 7's, the shrinker's, the rate's, and Rust
/// against C on each of `kernels`.
fn timed_scenarios(profile: &Profile, kernels: &[Kernel]) -> Vec<(String, runner::Scenario)> {
    let mut timed = vec![("stage7".to_string(), scenarios::stage7(profile))];
    if profile.shrinker {
        timed.push(("shrinker".into(), scenarios::shrinker(profile)));
    }
    if !profile.rate_stages.is_empty() {
        timed.push(("rate".into(), scenarios::rate(profile)));
    }
    for kernel in kernels {
        let scenario = versus::scenario::versus(profile, kernel);
        timed.push((format!("versus-{}", kernel.label), scenario));
    }
    timed
}

/// Runs the timed VMs of `profile`: one at a time, each noting the host's load first
/// (under emulation, a guest's CPU time includes the time its virtual CPU waited for a
/// host CPU, and a starved VM misses deadlines); or, for the tiny run, which only checks
/// that they work, side by side.
fn measure_timed(
    profile: &Profile,
    guest: &Path,
    kernels: &[Kernel],
    raw: &mut Raw,
) -> Result<(), String> {
    for kernel in kernels {
        raw.records.insert(
            format!("modules-{}", kernel.label),
            versus::scenario::host_figures(kernel)?,
        );
    }
    let timed = timed_scenarios(profile, kernels);
    if profile.side_by_side {
        for (name, record) in side_by_side(timed, guest) {
            raw.records.insert(name, record?);
        }
        return Ok(());
    }
    for (name, scenario) in timed {
        raw.params
            .insert(format!("host_load_{name}_milli"), host_load_milli()?);
        let record = measure(&name, scenario, guest)?;
        raw.records.insert(name, record);
    }
    Ok(())
}

/// Only Rust against C: the raw data into `file`, the report on stdout.
fn versus_only(
    profile: &Profile,
    guest: &Path,
    file: &Path,
    kernels: &[Kernel],
) -> Result<(), String> {
    let mut raw = Raw::default();
    for kernel in kernels {
        let name = format!("versus-{}", kernel.label);
        raw.records.insert(
            format!("modules-{}", kernel.label),
            versus::scenario::host_figures(kernel)?,
        );
        let record = measure(&name, versus::scenario::versus(profile, kernel), guest)?;
        raw.records.insert(name, record);
    }
    std::fs::write(file, raw.to_json()).map_err(|e| format!("{}: {e}", file.display()))?;
    let reports: Vec<_> = versus::measure::parse_all(&raw)?
        .into_iter()
        .map(versus::report::KernelReport::new)
        .collect();
    print!("{}", versus::markdown::markdown(&reports, "."));
    Ok(())
}

/// Every measurement of `profile`, and Rust against C on each of `kernels`.
fn measure_all(profile: &Profile, guest: &Path, kernels: &[Kernel]) -> Result<Raw, String> {
    let mut raw = Raw {
        params: profile.params(),
        ..Raw::default()
    };
    // The memory VMs side by side: they count bytes and objects, which the host's load
    // does not change, and each waits minutes for its history to fill.
    let memory = profile
        .memory_stages
        .iter()
        .map(|&stage| (format!("memory-{stage}"), scenarios::memory(profile, stage)))
        .collect();
    for (name, record) in side_by_side(memory, guest) {
        raw.records.insert(name, record?);
    }
    raw.params.insert(
        "host_cpus".into(),
        std::thread::available_parallelism().map_or(0, |n| n.get() as u64),
    );
    measure_timed(profile, guest, kernels, &mut raw)?;
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

fn run(profile: &Profile, guest: &Path, dir: &Path, kernels: &[Kernel]) -> Result<(), String> {
    let start = Instant::now();
    let raw = measure_all(profile, guest, kernels)?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("raw.json"), raw.to_json()).map_err(|e| e.to_string())?;
    let report = write_report(&raw, dir)?;
    let versus_goals = report.versus.iter().flat_map(|k| {
        k.goals
            .iter()
            .map(move |g| (format!("{} ({} kernel)", g.name, k.measured.kernel), g))
    });
    let goals = report.goals.iter().map(|g| (g.name.to_string(), g));
    for (name, g) in goals.chain(versus_goals) {
        let verdict = if g.met { "met" } else { "NOT MET" };
        eprintln!("[bench] {name}: {} ({verdict})", g.measured);
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

fn check(guest: &Path, dir: &Path, kernels: &[Kernel]) -> Result<(), String> {
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
    let raw = measure_all(&Profile::quick(), guest, kernels)?;
    let report = write_report(&raw, quick.path())?;
    if report.goals.is_empty() || report.cost.is_empty() || report.measurements.rates.is_empty() {
        return Err("the tiny run measured nothing".into());
    }
    if report.versus.len() != kernels.len() || report.versus.iter().any(|k| k.goals.len() < 6) {
        return Err("the tiny run did not compare Rust with C on every kernel".into());
    }
    eprintln!("[bench] tiny run: report and plots written");
    Ok(())
}
