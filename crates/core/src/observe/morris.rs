//! Elementary-effects screening (Morris 1991; Campolongo, Cariboni & Saltelli 2007): a cheap
//! first design that ranks many parameters before a variance-based analysis of the few that
//! matter.
//!
//! Design: r trajectories on a grid of p levels {0, 1/(p−1), …, 1} in the unit cube, each of
//! k + 1 points. A trajectory starts at a random grid point from which every input can step
//! by Δ = p / (2(p − 1)) in a random direction, then moves one input at a time, in a random
//! order. The elementary effect of input i in a trajectory is
//! `EE_i = (f(x with x_i high) − f(x with x_i low)) / Δ`, in output units per unit-cube step.
//! Measures over trajectories: μ (mean EE), μ* (mean |EE|, the screening measure), σ (sample
//! sd, ddof 1: interaction or non-linearity), and a 95% bootstrap interval of μ* over
//! trajectories. The definitions are SALib's (`SALib.analyze.morris`, unscaled), so its
//! analysis of the exported design gives the same μ, μ* and σ.

use crate::stream::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// The step of a Morris design with `levels` levels.
pub fn delta(levels: usize) -> f64 {
    levels as f64 / (2.0 * (levels as f64 - 1.0))
}

/// The unit-cube points of `r` trajectories over `k` inputs with `levels` (even) levels, in
/// evaluation order: trajectory t is points t (k + 1) … t (k + 1) + k.
pub fn morris_points(r: usize, k: usize, levels: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(0x3011_1555);
    let step = delta(levels);
    let grid = (levels - 1) as f64;
    let mut out = Vec::with_capacity(r * (k + 1));
    for _ in 0..r {
        // Each input's low end: a level from which the step up stays in the cube.
        let low: Vec<f64> = (0..k).map(|_| rng.random_range(0..levels / 2) as f64 / grid).collect();
        let up: Vec<bool> = (0..k).map(|_| rng.random::<bool>()).collect();
        let mut order: Vec<usize> = (0..k).collect();
        for i in (1..k).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let mut x: Vec<f64> = low.iter().zip(&up).map(|(&lo, &u)| if u { lo } else { lo + step }).collect();
        out.push(x.clone());
        for &i in &order {
            x[i] = if up[i] { low[i] + step } else { low[i] };
            out.push(x.clone());
        }
    }
    out
}

/// Morris measures of one input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effects {
    /// Mean elementary effect μ.
    pub mu: f64,
    /// Mean absolute elementary effect μ*.
    pub mu_star: f64,
    /// Its 95% bootstrap interval over trajectories.
    pub mu_star_ci: (f64, f64),
    /// Standard deviation of the elementary effects σ (ddof 1).
    pub sigma: f64,
}

/// The elementary effects of each input, trajectory by trajectory, from outputs `y` at the
/// unit-cube `points` of [`morris_points`].
fn elementary_effects(y: &[f64], points: &[Vec<f64>], k: usize, levels: usize) -> Vec<Vec<f64>> {
    let step = delta(levels);
    let mut ee = vec![Vec::with_capacity(points.len() / (k + 1)); k];
    for (ys, xs) in y.chunks(k + 1).zip(points.chunks(k + 1)) {
        for j in 1..xs.len() {
            let i = (0..k).find(|&i| xs[j][i] != xs[j - 1][i]).expect("one input moves per step");
            let (hi, lo) = if xs[j][i] > xs[j - 1][i] { (ys[j], ys[j - 1]) } else { (ys[j - 1], ys[j]) };
            ee[i].push((hi - lo) / step);
        }
    }
    ee
}

/// Morris measures of each input from outputs `y` at `points`; the bootstrap of μ* resamples
/// trajectories `bootstrap` times from a ChaCha8 stream of `seed`.
pub fn morris_effects(
    y: &[f64],
    points: &[Vec<f64>],
    k: usize,
    levels: usize,
    bootstrap: usize,
    seed: u64,
) -> Vec<Effects> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(0x000b_0075_3011);
    elementary_effects(y, points, k, levels)
        .into_iter()
        .map(|ee| {
            let n = ee.len() as f64;
            let mu = ee.iter().sum::<f64>() / n;
            let mu_star = ee.iter().map(|e| e.abs()).sum::<f64>() / n;
            let sigma = if ee.len() > 1 {
                (ee.iter().map(|e| (e - mu) * (e - mu)).sum::<f64>() / (n - 1.0)).sqrt()
            } else {
                f64::NAN
            };
            let mut draws: Vec<f64> = (0..bootstrap)
                .map(|_| (0..ee.len()).map(|_| ee[rng.random_range(0..ee.len())].abs()).sum::<f64>() / n)
                .collect();
            draws.sort_by(f64::total_cmp);
            let mu_star_ci = if draws.is_empty() {
                (f64::NAN, f64::NAN)
            } else {
                (super::stats::quantile(&draws, 0.025), super::stats::quantile(&draws, 0.975))
            };
            Effects { mu, mu_star, mu_star_ci, sigma }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_moves_one_input_by_delta_on_the_grid() {
        let (r, k, p) = (50, 5, 4);
        let pts = morris_points(r, k, p, 3);
        assert_eq!(pts.len(), r * (k + 1));
        for t in pts.chunks(k + 1) {
            let mut moved = Vec::new();
            for j in 1..=k {
                let changed: Vec<usize> = (0..k).filter(|&i| t[j][i] != t[j - 1][i]).collect();
                assert_eq!(changed.len(), 1);
                let i = changed[0];
                assert!(((t[j][i] - t[j - 1][i]).abs() - delta(p)).abs() < 1e-12);
                moved.push(i);
            }
            moved.sort_unstable();
            assert_eq!(moved, (0..k).collect::<Vec<_>>(), "every input moves once");
            for x in t.iter().flatten() {
                let level = x * (p - 1) as f64;
                assert!((level - level.round()).abs() < 1e-9 && (0.0..=1.0).contains(x));
            }
        }
    }

    /// A linear function's elementary effects are its slopes, exactly, in every trajectory;
    /// an input it ignores has none; an interaction shows in σ.
    #[test]
    fn effects_of_known_functions() {
        let (r, k, p) = (40, 4, 6);
        let pts = morris_points(r, k, p, 9);
        let y: Vec<f64> = pts.iter().map(|x| 3.0 * x[0] - 2.0 * x[1] + 5.0 * x[2] * x[3]).collect();
        let e = morris_effects(&y, &pts, k, p, 100, 1);
        assert!((e[0].mu - 3.0).abs() < 1e-9 && (e[0].mu_star - 3.0).abs() < 1e-9 && e[0].sigma < 1e-9);
        assert!((e[1].mu + 2.0).abs() < 1e-9 && (e[1].mu_star - 2.0).abs() < 1e-9 && e[1].sigma < 1e-9);
        assert!(e[2].sigma > 0.5 && e[3].sigma > 0.5, "{e:?}");
        assert!(e[0].mu_star_ci.0 <= 3.0 + 1e-9 && 3.0 - 1e-9 <= e[0].mu_star_ci.1);
    }
}
