// SPDX-License-Identifier: GPL-2.0

//! The memory of a stage's history: slab caches and the module's own figures.

use super::{get, pairs, Record};

/// The VM's page size: a slab of order `n` is `PAGE_SIZE << n` bytes.
pub const PAGE_SIZE: u64 = 4096;

/// A slab cache as `/sys/kernel/slab/<cache>/` describes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cache {
    pub object_size: u64,
    pub slab_size: u64,
    pub align: u64,
    pub objs_per_slab: u64,
    pub order: u64,
    pub objects: u64,
    pub slabs: u64,
    pub total_objects: u64,
}

impl Cache {
    /// Parses the `cache` helper's output.
    pub fn parse(text: &str) -> Result<Self, String> {
        let p = pairs(text);
        Ok(Self {
            object_size: get(&p, "object_size")?,
            slab_size: get(&p, "slab_size")?,
            align: get(&p, "align")?,
            objs_per_slab: get(&p, "objs_per_slab")?,
            order: get(&p, "order")?,
            objects: get(&p, "objects")?,
            slabs: get(&p, "slabs")?,
            total_objects: get(&p, "total_objects")?,
        })
    }

    /// The bytes of one slab.
    pub fn slab_bytes(&self) -> u64 {
        PAGE_SIZE << self.order
    }

    /// The memory of all the cache's slabs.
    pub fn bytes(&self) -> u64 {
        self.slabs * self.slab_bytes()
    }
}

/// What the module prints at load from stage 3 on: `sizeof(Sample) = 56,
/// ksize(kmalloc'd Sample) = 64, task_sample object size = 56`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    pub size_of: u64,
    pub ksize: u64,
    pub object_size: u64,
}

impl Sizes {
    pub fn from_log(log: &[String]) -> Option<Self> {
        let line = log.iter().find(|l| l.contains("sizeof(Sample) = "))?;
        let mut numbers = line
            .split(" = ")
            .skip(1)
            .map(|w| w.split(',').next()?.trim().parse().ok());
        Some(Self {
            size_of: numbers.next()??,
            ksize: numbers.next()??,
            object_size: numbers.next()??,
        })
    }
}

/// kswapd's CPU time between the `kswapd-before` and `kswapd` steps.
pub(super) fn kswapd_ns(r: &Record) -> Result<u64, String> {
    let at = |step| get::<u64>(&pairs(r.step(step)?), "cpu_ns");
    Ok(at("kswapd")? - at("kswapd-before")?)
}

/// How many samples the module freed at unload: `unloading, freeing N samples`.
pub fn freed_at_unload(log: &[String]) -> Option<u64> {
    log.iter()
        .find_map(|l| l.split("unloading, freeing ").nth(1))
        .and_then(|rest| rest.split(' ').next()?.parse().ok())
}

/// The memory of one stage's history.
#[derive(Clone, Debug, PartialEq)]
pub struct StageMemory {
    pub stage: u32,
    /// Samples in the history when the caches were read.
    pub samples: u64,
    /// The sizes the module printed (stage 3 on).
    pub sizes: Option<Sizes>,
    /// kmalloc-64 before loading, with the history, and after unloading.
    pub kmalloc_before: Cache,
    pub kmalloc_loaded: Cache,
    pub kmalloc_released: Cache,
    /// The `task_sample` cache with the history (stage 3 on).
    pub cache: Option<Cache>,
    /// Seconds the history took to fill.
    pub fill_seconds: f64,
    /// kswapd's CPU time from loading to the measurement: 0 if the kernel never
    /// reclaimed, so that no shrinker ran.
    pub kswapd_ns: u64,
}

impl StageMemory {
    pub fn parse(stage: u32, r: &Record) -> Result<Self, String> {
        let freed = freed_at_unload(&r.log).ok_or("no unload line in the log")?;
        // From stage 2 on the shrinker's count is read with the caches; it must be what
        // the module freed at unload, or the history changed in between.
        let samples = if stage >= 2 {
            let counted = get(&pairs(r.step("count")?), "samples")?;
            if counted != freed {
                return Err(format!("{counted} samples counted, {freed} freed"));
            }
            counted
        } else {
            freed
        };
        let fill = pairs(r.step("fill")?);
        let (start, end): (f64, f64) = (get(&fill, "start")?, get(&fill, "end")?);
        Ok(Self {
            stage,
            samples,
            sizes: Sizes::from_log(&r.log),
            kmalloc_before: Cache::parse(r.step("before")?)?,
            kmalloc_loaded: Cache::parse(r.step("kmalloc")?)?,
            kmalloc_released: Cache::parse(r.step("released")?)?,
            cache: r.step("cache").ok().map(Cache::parse).transpose()?,
            fill_seconds: end - start,
            kswapd_ns: kswapd_ns(r)?,
        })
    }

    /// Slab memory per sample: the `task_sample` cache's, or else kmalloc-64's growth.
    pub fn bytes_per_sample(&self) -> f64 {
        let bytes = match &self.cache {
            Some(cache) => cache.bytes(),
            None => {
                let slabs = self.kmalloc_loaded.slabs - self.kmalloc_before.slabs;
                slabs * self.kmalloc_loaded.slab_bytes()
            }
        };
        bytes as f64 / self.samples as f64
    }

    /// Slab objects per sample (1 plus the mempool's reserve and, in kmalloc-64, other
    /// allocations of the kernel).
    pub fn objects_per_sample(&self) -> f64 {
        let objects = match &self.cache {
            Some(cache) => cache.objects,
            None => self.kmalloc_loaded.objects - self.kmalloc_before.objects,
        };
        objects as f64 / self.samples as f64
    }

    /// The size of one sample's slab object: the cache's, or kmalloc-64's.
    pub fn object_size(&self) -> u64 {
        self.cache
            .map_or(self.kmalloc_loaded.object_size, |c| c.object_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CACHE: &str = "object_size 56\nslab_size 56\nalign 8\nobjs_per_slab 73\norder 0\n\
                         objects 100064\nslabs 1371\ntotal_objects 100083\n";

    #[test]
    fn cache_bytes() {
        let cache = Cache::parse(CACHE).unwrap();
        assert_eq!(cache.objs_per_slab, 73);
        assert_eq!(cache.bytes(), 1371 * 4096);
    }

    #[test]
    fn sizes_from_the_load_line() {
        let log = vec![
            "taskmonitor: sizeof(Sample) = 56, ksize(kmalloc'd Sample) = 64, \
             task_sample object size = 56"
                .to_string(),
            "taskmonitor: unloading, freeing 100020 samples".to_string(),
        ];
        let sizes = Sizes::from_log(&log).unwrap();
        assert_eq!(
            (sizes.size_of, sizes.ksize, sizes.object_size),
            (56, 64, 56)
        );
        assert_eq!(freed_at_unload(&log), Some(100020));
    }
}
