// SPDX-License-Identifier: GPL-2.0

//! Reads of the module's files against tmpfs copies of the same bytes.

use super::{get, lines_with};

/// A file read whole, `reads` times: `file PATH bytes B reads R cpu_ns C`.
#[derive(Clone, Debug, PartialEq)]
pub struct Reads {
    pub file: String,
    pub bytes: u64,
    pub reads: u64,
    pub cpu_ns: u64,
}

impl Reads {
    pub fn per_read_ns(&self) -> f64 {
        self.cpu_ns as f64 / self.reads as f64
    }
}

/// The `bench-guest read` lines of `text`, in order.
fn reads(text: &str) -> Result<Vec<Reads>, String> {
    lines_with(text, "file", |p| {
        Ok(Reads {
            file: get(p, "file")?,
            bytes: get(p, "bytes")?,
            reads: get(p, "reads")?,
            cpu_ns: get(p, "cpu_ns")?,
        })
    })
}

/// A module file read against a tmpfs copy of the same bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    /// Samples in the history (0 for the one-page sysfs file).
    pub samples: u64,
    pub module: Reads,
    pub tmpfs: Reads,
}

impl Export {
    pub(super) fn parse(samples: u64, text: &str) -> Result<Self, String> {
        match reads(text)?.as_slice() {
            [module, tmpfs] if module.bytes == tmpfs.bytes => Ok(Self {
                samples,
                module: module.clone(),
                tmpfs: tmpfs.clone(),
            }),
            other => Err(format!("expected two reads of equal size: {other:?}")),
        }
    }

    /// How many times the module's file costs the tmpfs file.
    pub fn ratio(&self) -> f64 {
        self.module.per_read_ns() / self.tmpfs.per_read_ns()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_needs_equal_sizes() {
        let text = "samples 12\nfile /d bytes 600 reads 3 cpu_ns 30\n\
                    file /tmp/copy bytes 600 reads 3 cpu_ns 6\n";
        let export = Export::parse(12, text).unwrap();
        assert_eq!(export.ratio(), 5.0);
        let bad = text.replace("bytes 600 reads 3 cpu_ns 6", "bytes 60 reads 3 cpu_ns 6");
        assert!(Export::parse(12, &bad).is_err());
    }
}
