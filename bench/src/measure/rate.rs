// SPDX-License-Identifier: GPL-2.0

//! The sampling rate: samples a second by stage and frequency.

use super::{get, pairs, Record};

/// One window of the `rate` VM: stage `stage` asked for `frequency` samples a second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RatePoint {
    pub stage: u32,
    pub frequency: u32,
    /// Samples the module took in the window.
    pub samples: u64,
    /// The window, in seconds of the VM's clock.
    pub seconds: f64,
    /// Whether the window is the thread's whole life (stage 1), from its first sample to
    /// its stop, rather than the time between two samples.
    pub lifetime: bool,
}

impl RatePoint {
    /// Parses the step `rate-STAGE-FREQUENCY`: `samples N start T0 end T1`.
    pub fn parse(name: &str, text: &str) -> Result<Option<Self>, String> {
        let Some(rest) = name.strip_prefix("rate-") else {
            return Ok(None);
        };
        let (stage, frequency) = rest
            .split_once('-')
            .and_then(|(s, f)| Some((s.parse().ok()?, f.parse().ok()?)))
            .ok_or_else(|| format!("step {name:?}: not rate-STAGE-FREQUENCY"))?;
        let (samples, seconds) = window(text)?;
        Ok(Some(Self {
            stage,
            frequency,
            samples,
            seconds,
            lifetime: stage == 1,
        }))
    }

    /// Samples a second. Between two samples, `samples` periods took `seconds`. Over a
    /// thread's life, `samples` samples are `samples - 1` periods apart and the thread
    /// stops within a period after the last one: the life is between `samples - 1` and
    /// `samples` periods, and the middle is within half a sample of the truth.
    pub fn rate(&self) -> f64 {
        let periods = if self.lifetime {
            self.samples as f64 - 0.5
        } else {
            self.samples as f64
        };
        periods / self.seconds
    }

    /// How far the rate is from the frequency asked, as a fraction (negative: slower).
    pub fn error(&self) -> f64 {
        self.rate() / f64::from(self.frequency) - 1.0
    }

    /// The resolution of the rate, as a fraction: half a sample over a thread's life, else
    /// one centisecond of `/proc/uptime` at each end.
    pub fn resolution(&self) -> f64 {
        if self.lifetime {
            0.5 / self.samples as f64
        } else {
            0.02 / self.seconds
        }
    }
}

/// The samples and the seconds of a rate window: `samples N start T0 end T1`
/// ([`crate::scenarios::RATE_REPORT`]).
pub(crate) fn window(text: &str) -> Result<(u64, f64), String> {
    let p = pairs(text);
    let (start, end): (f64, f64) = (get(&p, "start")?, get(&p, "end")?);
    Ok((get(&p, "samples")?, end - start))
}

/// Every window of the `rate` record, by stage, then frequency.
pub fn rates(r: &Record) -> Result<Vec<RatePoint>, String> {
    let mut points = Vec::new();
    for (name, text) in &r.steps {
        if let Some(point) = RatePoint::parse(name, text)? {
            points.push(point);
        }
    }
    points.sort_by_key(|p| (p.stage, p.frequency));
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_lives() {
        let window = RatePoint::parse("rate-2-1000", "samples 4000 start 10.00 end 14.00\n")
            .unwrap()
            .unwrap();
        assert_eq!((window.stage, window.frequency), (2, 1000));
        assert!((window.rate() - 1000.0).abs() < 1e-9);
        let life = RatePoint::parse("rate-1-10", "samples 101 start 3.5 end 13.55\n")
            .unwrap()
            .unwrap();
        assert!(life.lifetime);
        assert!((life.rate() - 10.0).abs() < 1e-9);
        assert_eq!(RatePoint::parse("kill", "killed").unwrap(), None);
        assert!(RatePoint::parse("rate-x", "").is_err());
    }
}
