// SPDX-License-Identifier: GPL-2.0

//! Least-squares fits: is a cost linear in the number of processes, and how does a read
//! scale with the history's size.

/// `y = intercept + slope * x`, and how well it fits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear {
    pub intercept: f64,
    pub slope: f64,
    /// The coefficient of determination: 1 for points exactly on the line.
    pub r2: f64,
}

impl Linear {
    /// The least-squares line through `points`; `None` with fewer than two distinct `x`.
    pub fn fit(points: &[(f64, f64)]) -> Option<Self> {
        if points.len() < 2 {
            return None;
        }
        let n = points.len() as f64;
        let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
        let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
        if sxx == 0.0 {
            return None;
        }
        let slope = sxy / sxx;
        let intercept = mean_y - slope * mean_x;
        let ss_res: f64 = points
            .iter()
            .map(|p| (p.1 - intercept - slope * p.0).powi(2))
            .sum();
        let ss_tot: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
        let r2 = if ss_tot == 0.0 {
            1.0
        } else {
            1.0 - ss_res / ss_tot
        };
        Some(Self {
            intercept,
            slope,
            r2,
        })
    }

    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }
}

/// The exponent `k` of `y = c * x^k` through `points` (a line in log-log space): 1 for a
/// cost proportional to the size, 2 for a quadratic one.
pub fn exponent(points: &[(f64, f64)]) -> Option<f64> {
    let logs: Vec<(f64, f64)> = points.iter().map(|p| (p.0.ln(), p.1.ln())).collect();
    Linear::fit(&logs).map(|l| l.slope)
}

/// `y = linear * x + quadratic * x²` through `points`, by least squares: splits a cost
/// into a part proportional to the size and a part that grows with its square.
pub fn linear_quadratic(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let sum = |f: &dyn Fn(f64, f64) -> f64| points.iter().map(|&(x, y)| f(x, y)).sum::<f64>();
    // The normal equations of the two coefficients.
    let (x2, x3, x4) = (
        sum(&|x, _| x * x),
        sum(&|x, _| x.powi(3)),
        sum(&|x, _| x.powi(4)),
    );
    let (xy, x2y) = (sum(&|x, y| x * y), sum(&|x, y| x * x * y));
    let det = x2 * x4 - x3 * x3;
    if points.len() < 2 || det.abs() <= f64::EPSILON * x2 * x4 {
        return None;
    }
    Some(((xy * x4 - x3 * x2y) / det, (x2 * x2y - x3 * xy) / det))
}

/// The median of `values` (the mean of the middle two for an even count); NaN if empty.
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line() {
        let fit = Linear::fit(&[(1.0, 5.0), (10.0, 23.0), (100.0, 203.0)]).unwrap();
        assert!((fit.slope - 2.0).abs() < 1e-9);
        assert!((fit.intercept - 3.0).abs() < 1e-9);
        assert!((fit.r2 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn noisy_line_has_r2_below_one() {
        let fit = Linear::fit(&[(0.0, 0.0), (1.0, 2.0), (2.0, 1.0), (3.0, 3.0)]).unwrap();
        assert!(fit.r2 > 0.0 && fit.r2 < 1.0);
    }

    #[test]
    fn degenerate_fits() {
        assert_eq!(Linear::fit(&[(1.0, 1.0)]), None);
        assert_eq!(Linear::fit(&[(1.0, 1.0), (1.0, 2.0)]), None);
    }

    #[test]
    fn linear_and_quadratic_parts() {
        let points: Vec<_> = [1.0, 2.0, 4.0, 8.0]
            .iter()
            .map(|&x| (x, 3.0 * x + 0.5 * x * x))
            .collect();
        let (a, b) = linear_quadratic(&points).unwrap();
        assert!((a - 3.0).abs() < 1e-9 && (b - 0.5).abs() < 1e-9, "{a} {b}");
        assert_eq!(linear_quadratic(&[(2.0, 1.0)]), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median([3.0, 1.0, 100.0].into_iter()), 3.0);
        assert_eq!(median([4.0, 1.0].into_iter()), 2.5);
        assert!(median(std::iter::empty()).is_nan());
    }

    #[test]
    fn exponents() {
        let square: Vec<_> = [1.0, 2.0, 4.0, 8.0]
            .iter()
            .map(|&x| (x, 3.0 * x * x))
            .collect();
        assert!((exponent(&square).unwrap() - 2.0).abs() < 1e-9);
        let linear: Vec<_> = [1.0, 2.0, 4.0].iter().map(|&x| (x, 7.0 * x)).collect();
        assert!((exponent(&linear).unwrap() - 1.0).abs() < 1e-9);
    }
}
