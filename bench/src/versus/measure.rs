// SPDX-License-Identifier: GPL-2.0

//! The Rust-against-C measurements, parsed from a `versus-KERNEL` record and the
//! `modules-KERNEL` record of the host's figures.

use crate::measure::{get, line_pairs, lines_with, pairs, rate, Cache};
use crate::raw::{Raw, Record};

/// A file read whole with `read()` calls of `size` bytes, `reads` times.
#[derive(Clone, Debug, PartialEq)]
pub struct Reads {
    pub size: u64,
    pub bytes: u64,
    /// `read()` calls that returned data, in one whole read.
    pub calls: u64,
    pub reads: u64,
    pub cpu_ns: u64,
}

impl Reads {
    pub fn per_read_ns(&self) -> f64 {
        self.cpu_ns as f64 / self.reads as f64
    }
}

/// One module's history: its slab cache and samples, and its reads against tmpfs.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    pub module: String,
    pub cache: Cache,
    pub samples: u64,
    /// By read size: the module's file, then the tmpfs copy.
    pub reads: Vec<(Reads, Reads)>,
}

impl History {
    fn parse(module: &str, text: &str) -> Result<Self, String> {
        let all = lines_with(text, "file", |p| {
            Ok(Reads {
                size: get(p, "size")?,
                bytes: get(p, "bytes")?,
                calls: get(p, "calls")?,
                reads: get(p, "reads")?,
                cpu_ns: get(p, "cpu_ns")?,
            })
        })?;
        let mut reads = Vec::new();
        for pair in all.chunks(2) {
            match pair {
                [file, tmpfs] if file.bytes == tmpfs.bytes && file.size == tmpfs.size => {
                    reads.push((file.clone(), tmpfs.clone()))
                }
                other => return Err(format!("expected two reads of equal size: {other:?}")),
            }
        }
        Ok(Self {
            module: module.to_string(),
            cache: Cache::parse(text)?,
            samples: get(&pairs(text), "samples")?,
            reads,
        })
    }

    /// Slab memory per sample: every slab of the cache, over the samples it holds.
    pub fn bytes_per_sample(&self) -> f64 {
        self.cache.bytes() as f64 / self.samples as f64
    }
}

/// One window of a sampling thread: `module M round R cpu_ns C samples S wall_ns W`.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    pub module: String,
    pub round: u32,
    pub cpu_ns: u64,
    pub samples: u64,
}

impl Window {
    pub fn per_sample_ns(&self) -> f64 {
        self.cpu_ns as f64 / self.samples as f64
    }
}

/// The sampling cost at one frequency with one number of processes.
#[derive(Clone, Debug, PartialEq)]
pub struct Cost {
    pub hz: u32,
    pub pids: u32,
    pub windows: Vec<Window>,
}

/// The rate of a module at a frequency: samples over seconds of the VM's clock.
#[derive(Clone, Debug, PartialEq)]
pub struct Rate {
    pub module: String,
    pub hz: u32,
    pub samples: u64,
    pub seconds: f64,
}

impl Rate {
    /// How far the rate is from the frequency asked, as a fraction (negative: slower).
    pub fn error(&self) -> f64 {
        self.samples as f64 / self.seconds / f64::from(self.hz) - 1.0
    }
}

/// A module's sections, in bytes, and its build time.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub module: String,
    pub text: u64,
    pub data: u64,
    pub bss: u64,
    /// The time of a clean build; `None` for modules that were built elsewhere.
    pub build_ms: Option<u64>,
}

/// Everything measured on one kernel.
#[derive(Clone, Debug, PartialEq)]
pub struct Versus {
    pub kernel: String,
    pub histories: Vec<History>,
    pub costs: Vec<Cost>,
    pub rates: Vec<Rate>,
    pub modules: Vec<Module>,
}

impl Versus {
    pub fn parse(kernel: &str, vm: &Record, host: &Record) -> Result<Self, String> {
        let mut histories = Vec::new();
        let mut costs = Vec::new();
        let mut rates = Vec::new();
        for (name, text) in &vm.steps {
            let parts: Vec<&str> = name.split('-').collect();
            let context = |e: String| format!("step {name}: {e}");
            match parts.as_slice() {
                ["memory", module] => {
                    histories.push(History::parse(module, text).map_err(context)?)
                }
                ["cost", hz, pids] => costs.push(Cost {
                    hz: hz.parse().map_err(|_| context("frequency".into()))?,
                    pids: pids.parse().map_err(|_| context("processes".into()))?,
                    windows: lines_with(text, "module", |p| {
                        Ok(Window {
                            module: get(p, "module")?,
                            round: get(p, "round")?,
                            cpu_ns: get(p, "cpu_ns")?,
                            samples: get(p, "samples")?,
                        })
                    })
                    .map_err(context)?,
                }),
                ["rate", module, hz] => {
                    let (samples, seconds) = rate::window(text).map_err(context)?;
                    rates.push(Rate {
                        module: module.to_string(),
                        hz: hz.parse().map_err(|_| context("frequency".into()))?,
                        samples,
                        seconds,
                    });
                }
                _ => {}
            }
        }
        // In the order of `MODULES`, then by frequency (highest first) and processes.
        let order = |m: &str| super::MODULES.iter().position(|(n, _)| *n == m);
        histories.sort_by_key(|h| order(&h.module));
        costs.sort_by_key(|c| (std::cmp::Reverse(c.hz), c.pids));
        rates.sort_by_key(|r| (order(&r.module), std::cmp::Reverse(r.hz)));
        Ok(Self {
            kernel: kernel.to_string(),
            histories,
            costs,
            rates,
            modules: modules(host)?,
        })
    }

    /// The history of `module`.
    pub fn history(&self, module: &str) -> Option<&History> {
        self.histories.iter().find(|h| h.module == module)
    }
}

/// The comparison on every kernel of `raw` ([`super::KERNELS`], in order) that has both
/// records, `versus-KERNEL` and `modules-KERNEL`.
pub fn parse_all(raw: &Raw) -> Result<Vec<Versus>, String> {
    let mut all = Vec::new();
    for kernel in super::KERNELS {
        let (vm, host) = (format!("versus-{kernel}"), format!("modules-{kernel}"));
        if let (Ok(vm_record), Ok(host_record)) = (raw.record(&vm), raw.record(&host)) {
            all.push(
                Versus::parse(kernel, vm_record, host_record).map_err(|e| format!("{vm}: {e}"))?,
            );
        }
    }
    Ok(all)
}

/// The modules' sizes and build times.
fn modules(host: &Record) -> Result<Vec<Module>, String> {
    let build = host.step("build-ms").ok();
    let build_ms = |module: &str| -> Result<Option<u64>, String> {
        let Some(build) = build else {
            return Ok(None);
        };
        let folder = super::MODULES
            .iter()
            .find(|(n, _)| *n == module)
            .and_then(|(_, ko)| ko.rsplit_once('/'))
            .map(|(folder, _)| folder)
            .ok_or_else(|| format!("no module {module}"))?;
        build
            .lines()
            .find_map(|l| l.strip_prefix(folder)?.trim().parse().ok())
            .map(Some)
            .ok_or_else(|| format!("no build time of {folder} in {build:?}"))
    };
    host.step("size")?
        .lines()
        .map(line_pairs)
        .map(|p| {
            let module: String = get(&p, "module")?;
            Ok(Module {
                build_ms: build_ms(&module)?,
                text: get(&p, "text")?,
                data: get(&p, "data")?,
                bss: get(&p, "bss")?,
                module,
            })
        })
        .collect()
}
