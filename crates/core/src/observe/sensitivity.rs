//! Variance-based sensitivity analysis: Sobol first-order and total-order indices from
//! Saltelli's sampling scheme, with bootstrap confidence intervals.
//!
//! Design (Saltelli 2002; Saltelli et al. 2010): two independent N × k sample matrices A and
//! B on the unit cube, and for each input i the matrix AB_i, which is A with column i taken
//! from B. The model is evaluated at the rows of A, B and every AB_i: N (k + 2) runs.
//! Estimators (Saltelli et al. 2010, Table 2, formulas (b) and (f)), with V the variance of
//! f over the rows of A and B together:
//!
//! - first order: `S_i  = mean_j( (f(B)_j − f̄) (f(AB_i)_j − f(A)_j) ) / V`, with f̄ the mean
//!   of every evaluation (centring removes variance proportional to f̄² without adding bias;
//!   the mean of all rows, as SALib centres, so that SALib's analysis of the exported design
//!   gives the same indices to rounding)
//! - total order: `ST_i = mean_j( (f(A)_j − f(AB_i)_j)^2 ) / (2 V)` (Jansen 1999)
//!
//! Confidence intervals resample the N rows with replacement and take the 2.5% and 97.5%
//! percentiles of the re-estimated indices.
//!
//! Base samples: A and B are the first and last k coordinates of the first N points of a
//! scrambled Sobol' sequence in 2k dimensions ([`super::sobol_sequence`]), as SALib builds
//! them from an unscrambled one; with N a power of two each column is balanced (one value in
//! each of N equal intervals).

use super::sobol_sequence::SobolSequence;
use crate::stream::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// The most inputs a Saltelli design can have: A and B take two Sobol' dimensions each.
pub const MAX_INPUTS: usize = super::sobol_sequence::MAX_DIMENSIONS / 2;

/// The unit-cube points of a Saltelli design, in evaluation order: for each base sample j,
/// the rows A_j, B_j, AB_1j, …, AB_kj.
pub fn saltelli_points(n: usize, k: usize, seed: u64) -> Vec<Vec<f64>> {
    let sequence = SobolSequence::scrambled(2 * k, seed);
    let mut out = Vec::with_capacity(n * (k + 2));
    for j in 0..n {
        let mut a = sequence.point(j as u32);
        let b = a.split_off(k);
        out.push(a.clone());
        out.push(b.clone());
        for i in 0..k {
            let mut ab = a.clone();
            ab[i] = b[i];
            out.push(ab);
        }
    }
    out
}

/// Sobol indices of one input with their 95% bootstrap intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Indices {
    /// First-order index S_i.
    pub first: f64,
    /// Its 95% interval.
    pub first_ci: (f64, f64),
    /// Total-order index ST_i.
    pub total: f64,
    /// Its 95% interval.
    pub total_ci: (f64, f64),
}

fn estimate(y: &[f64], k: usize, rows: &[usize]) -> Vec<(f64, f64)> {
    let w = k + 2;
    let n = rows.len() as f64;
    // f̄ centres f(B) and is the mean of every evaluation; V is the variance of the A and B
    // rows about their own mean, taken as a sum of squared deviations so that an output far
    // from zero loses no digits.
    let mean = rows.iter().flat_map(|&j| &y[j * w..(j + 1) * w]).sum::<f64>() / (w as f64 * n);
    let ab = || rows.iter().flat_map(|&j| [y[j * w], y[j * w + 1]]);
    let ab_mean = ab().sum::<f64>() / (2.0 * n);
    let var = ab().map(|v| (v - ab_mean) * (v - ab_mean)).sum::<f64>() / (2.0 * n);
    (0..k)
        .map(|i| {
            if var <= 0.0 {
                return (0.0, 0.0);
            }
            let (mut first, mut total) = (0.0, 0.0);
            for &j in rows {
                let (a, b, ab) = (y[j * w], y[j * w + 1], y[j * w + 2 + i]);
                // Centring f(B) on the mean leaves the estimator unbiased (the mean of
                // f(AB_i) − f(A) is zero) but removes variance proportional to the mean².
                first += (b - mean) * (ab - a);
                total += (a - ab) * (a - ab);
            }
            (first / n / var, total / n / (2.0 * var))
        })
        .collect()
}

/// Sobol indices from outputs `y` laid out as [`saltelli_points`]; `bootstrap` resamples
/// drawn from a ChaCha8 stream of `seed`, so the intervals are reproducible.
pub fn sobol_indices(y: &[f64], k: usize, bootstrap: usize, seed: u64) -> Vec<Indices> {
    let n = y.len() / (k + 2);
    let all: Vec<usize> = (0..n).collect();
    let point = estimate(y, k, &all);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(0xb0075);
    let mut draws: Vec<Vec<(f64, f64)>> = vec![Vec::with_capacity(bootstrap); k];
    let mut rows = vec![0usize; n];
    for _ in 0..bootstrap {
        for r in rows.iter_mut() {
            *r = rng.random_range(0..n);
        }
        for (i, e) in estimate(y, k, &rows).into_iter().enumerate() {
            draws[i].push(e);
        }
    }
    let interval = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            (super::stats::quantile(&v, 0.025), super::stats::quantile(&v, 0.975))
        }
    };
    point
        .iter()
        .zip(draws)
        .map(|(&(first, total), d)| Indices {
            first,
            first_ci: interval(d.iter().map(|e| e.0).collect()),
            total,
            total_ci: interval(d.iter().map(|e| e.1).collect()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Ishigami & Homma (1990) with a = 7, b = 0.1 on [−π, π]^3.
    fn ishigami(x: &[f64]) -> f64 {
        let x: Vec<f64> = x.iter().map(|u| -PI + 2.0 * PI * u).collect();
        x[0].sin() + 7.0 * x[1].sin().powi(2) + 0.1 * x[2].powi(4) * x[0].sin()
    }

    /// The project's own sampler and estimator against the analytic indices
    /// (first order 0.314, 0.442, 0.000; total 0.558, 0.442, 0.244) at N = 2^14 base
    /// samples (81,920 evaluations). Tolerance: 0.03 absolute, about three standard errors
    /// of these estimators at this N; and every analytic value inside its bootstrap interval
    /// widened by 0.01.
    #[test]
    fn ishigami_indices_match_the_analytic_values() {
        let n = 1 << 14;
        let y: Vec<f64> = saltelli_points(n, 3, 2024).iter().map(|x| ishigami(x)).collect();
        let got = sobol_indices(&y, 3, 200, 7);
        let first = [0.3139, 0.4424, 0.0];
        let total = [0.5576, 0.4424, 0.2437];
        for i in 0..3 {
            let g = got[i];
            assert!((g.first - first[i]).abs() < 0.03, "S{} = {:.4}, expected {}", i + 1, g.first, first[i]);
            assert!((g.total - total[i]).abs() < 0.03, "ST{} = {:.4}, expected {}", i + 1, g.total, total[i]);
            assert!(
                g.first_ci.0 - 0.01 <= first[i] && first[i] <= g.first_ci.1 + 0.01,
                "S{} CI {:?}",
                i + 1,
                g.first_ci
            );
            assert!(
                g.total_ci.0 - 0.01 <= total[i] && total[i] <= g.total_ci.1 + 0.01,
                "ST{} CI {:?}",
                i + 1,
                g.total_ci
            );
        }
    }

    #[test]
    fn design_rows_share_columns_as_the_scheme_requires() {
        let p = saltelli_points(4, 3, 1);
        assert_eq!(p.len(), 4 * 5);
        let (a, b, ab1) = (&p[0], &p[1], &p[3]);
        assert_eq!(ab1[0], a[0]);
        assert_eq!(ab1[1], b[1]);
        assert_eq!(ab1[2], a[2]);
    }
}
