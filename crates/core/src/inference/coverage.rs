//! Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari and Gelman 2018): does a
//! calibration of these targets recover parameters it knows?
//!
//! Each trial draws a truth θ* from the prior, simulates the fitted statistics at θ* and adds
//! the observation error the targets state (the data the calibration assumes it is given),
//! then calibrates on those synthetic data as `calibrate` would. If the sampler, the priors and
//! the error model are right, θ* is a draw from each trial's posterior, so:
//!
//! - the **rank** of θ* among [`DRAWS`] draws from the posterior is uniform on 0..=DRAWS;
//! - a central credible interval of level q contains θ* in a share q of trials.
//!
//! Too many extreme ranks (a ∪-shaped histogram) means posteriors too narrow; too few (∩)
//! too wide; a slope, a bias. Trials whose truth leaves a fitted statistic undefined (a
//! coalition that dissolves has no retention) draw again; how often is reported, because the
//! check then holds for the prior restricted to observable towns.

use super::abc::{Generation, Stop};
use super::calibrate::{self, posterior_marginal, weighted_quantile};
use super::targets::Targets;
use crate::distributions::StandardNormal;
use crate::observe::Catalogue;
use crate::stream::ChaCha8Rng;
use rand::distr::Distribution;
use rand::{RngExt, SeedableRng};

/// Posterior draws each truth is ranked among: ranks run 0..=DRAWS.
pub const DRAWS: u32 = 99;

/// Draws of a truth before a trial gives up on observable data.
pub const MAX_REDRAWS: u32 = 100;

/// One trial.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Its number: the stream it drew from.
    pub index: u64,
    /// The truth, in the order of the priors.
    pub truth: Vec<f64>,
    /// Per parameter, how many of the [`DRAWS`] posterior draws lie below the truth.
    pub ranks: Vec<u32>,
    /// Per parameter, the posterior's 5%, 25%, 75% and 95% weighted quantiles.
    pub quantiles: Vec<[f64; 4]>,
    /// The synthetic observed values of the fitted statistics.
    pub observed: Vec<f64>,
    /// Truths drawn before this one that left a fitted statistic undefined.
    pub redrawn: u32,
    /// Simulations the trial's calibration ran.
    pub simulations: u64,
    /// Generations it ran.
    pub generations: usize,
    /// Why its sampler stopped.
    pub stop: Stop,
}

impl Trial {
    /// Whether the central interval of `level` (0.5 or 0.9) contains the truth of parameter `d`.
    pub fn covers(&self, d: usize, level: f64) -> bool {
        let q = &self.quantiles[d];
        let (lo, hi) = if level >= 0.9 { (q[0], q[3]) } else { (q[1], q[2]) };
        lo <= self.truth[d] && self.truth[d] <= hi
    }
}

/// Why a trial has no result.
#[derive(Debug, Clone, PartialEq)]
pub enum Failed {
    /// A stop was requested.
    Interrupted,
    /// [`MAX_REDRAWS`] truths in a row left a fitted statistic undefined, or the calibration
    /// accepted no generation.
    Unobservable(String),
}

/// Trial `k` of the coverage check of `targets`, on its own stream (seeded by the targets'
/// seed, stream `2^61 + k`, apart from every calibration's), on the threads of the enclosing
/// pool. The same for any thread count.
pub fn trial(targets: &Targets, k: u64, stop: &(dyn Fn() -> bool + Sync)) -> Result<Trial, Failed> {
    let cat = Catalogue::new(&targets.base);
    let fitted = targets.fitted();
    let mut rng = ChaCha8Rng::seed_from_u64(targets.file.seed);
    rng.set_stream((1 << 61) | k);
    let mut redrawn = 0;
    let (truth, statistics) = loop {
        if stop() {
            return Err(Failed::Interrupted);
        }
        let truth: Vec<f64> = targets.priors.iter().map(|p| p.sample(&mut rng)).collect();
        match calibrate::simulate(targets, &cat, &truth, &mut rng, &fitted) {
            Some(s) if s.iter().all(|v| v.is_finite()) => break (truth, s),
            _ if redrawn + 1 >= MAX_REDRAWS => {
                return Err(Failed::Unobservable(format!(
                    "{MAX_REDRAWS} truths drawn from the prior in a row left a fitted statistic undefined (a coalition that dissolves has no retention)"
                )));
            }
            _ => redrawn += 1,
        }
    };
    // The data: the model's statistics observed with the error the targets state.
    let mut synthetic = targets.clone();
    let mut observed = Vec::with_capacity(fitted.len());
    for (&i, v) in fitted.iter().zip(&statistics) {
        let z: f64 = StandardNormal.sample(&mut rng);
        let value = v + synthetic.statistics[i].sd * z;
        synthetic.statistics[i].value = value;
        observed.push(value);
    }
    synthetic.file.seed = rng.random();
    let sampled = calibrate::calibrate(&synthetic, Default::default(), stop, &mut |_| {});
    let (generations, why) = (sampled.generations, sampled.stop);
    if why == Stop::Interrupted {
        return Err(Failed::Interrupted);
    }
    let Some(last) = generations.last() else {
        return Err(Failed::Unobservable(
            "the calibration of the synthetic data accepted no generation within its budget".into(),
        ));
    };
    let (ranks, quantiles) = rank(last, &truth, &mut rng);
    Ok(Trial {
        index: k,
        truth,
        ranks,
        quantiles,
        observed,
        redrawn,
        simulations: generations.iter().map(|g| g.simulations).sum(),
        generations: generations.len(),
        stop: why,
    })
}

/// The truth's rank among [`DRAWS`] particles drawn by weight (the same draws for every
/// parameter), and each marginal's quartiles and 90% interval.
fn rank(last: &Generation, truth: &[f64], rng: &mut ChaCha8Rng) -> (Vec<u32>, Vec<[f64; 4]>) {
    let weights: Vec<f64> = last.particles.iter().map(|p| p.weight).collect();
    let draws: Vec<usize> = (0..DRAWS).map(|_| calibrate::pick(&weights, rng.random::<f64>())).collect();
    let ranks = truth
        .iter()
        .enumerate()
        .map(|(d, &t)| draws.iter().filter(|&&j| last.particles[j].theta[d] < t).count() as u32)
        .collect();
    let quantiles = (0..truth.len())
        .map(|d| {
            let values: Vec<f64> = last.particles.iter().map(|p| p.theta[d]).collect();
            let m = posterior_marginal(last, d);
            [m.q05, weighted_quantile(&values, &weights, 0.25), weighted_quantile(&values, &weights, 0.75), m.q95]
        })
        .collect();
    (ranks, quantiles)
}

/// What the trials say about one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Trials.
    pub trials: usize,
    /// Trials whose 50% interval contained the truth.
    pub covered50: usize,
    /// Trials whose 90% interval contained the truth.
    pub covered90: usize,
    /// Wilson score 95% interval of the 90% interval's coverage rate.
    pub coverage90_interval: (f64, f64),
    /// Pearson's χ² statistic of the ranks in [`BINS`] equal bins against uniform.
    pub chi_square: f64,
    /// Its p-value (χ² with BINS − 1 degrees of freedom; rough below 5 trials a bin).
    pub p_uniform: f64,
}

/// Bins of the rank histogram: [`DRAWS`] + 1 = 100 ranks, 20 to a bin.
pub const BINS: usize = 5;

/// The bin of a rank.
pub fn bin(rank: u32) -> usize {
    (rank as usize * BINS / (DRAWS as usize + 1)).min(BINS - 1)
}

/// The summary of parameter `d` over `trials`.
pub fn summarise(trials: &[Trial], d: usize) -> Summary {
    let n = trials.len();
    let covered50 = trials.iter().filter(|t| t.covers(d, 0.5)).count();
    let covered90 = trials.iter().filter(|t| t.covers(d, 0.9)).count();
    let mut counts = [0usize; BINS];
    for t in trials {
        counts[bin(t.ranks[d])] += 1;
    }
    let expected = n as f64 / BINS as f64;
    let chi_square: f64 = if n == 0 {
        f64::NAN
    } else {
        counts.iter().map(|&c| (c as f64 - expected) * (c as f64 - expected) / expected).sum()
    };
    Summary {
        trials: n,
        covered50,
        covered90,
        coverage90_interval: wilson(covered90, n),
        chi_square,
        p_uniform: chi_square_sf(chi_square, (BINS - 1) as f64),
    }
}

/// The Wilson score 95% interval of a proportion `k` of `n` (within [0, 1]; NaN for n = 0).
pub fn wilson(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let (z, n, p) = (1.959_963_984_540_054, n as f64, k as f64 / n as f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    // The bounds at k = 0 and k = n are 0 and 1 exactly (the formula rounds near them).
    let lo = if k == 0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if k as f64 == n { 1.0 } else { (centre + half).min(1.0) };
    (lo, hi)
}

/// P(X > x) for X ~ χ²(df): the regularised upper incomplete gamma function Q(df/2, x/2), by
/// its series below a + 1 and its continued fraction above (Numerical Recipes, 6.2).
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    let (a, x) = (df / 2.0, x / 2.0);
    if x <= 0.0 {
        return 1.0;
    }
    let ln_front = -x + a * libm::log(x) - libm::lgamma(a);
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..500 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        (1.0 - sum * libm::exp(ln_front)).clamp(0.0, 1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..500 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        (libm::exp(ln_front) * h).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi_square_tail_probabilities_match_tables() {
        // Upper 5% and 1% points of χ² with 4 degrees of freedom, and the mean of χ²(2).
        assert!((chi_square_sf(9.487729, 4.0) - 0.05).abs() < 1e-6);
        assert!((chi_square_sf(13.276704, 4.0) - 0.01).abs() < 1e-6);
        assert!((chi_square_sf(2.0, 2.0) - libm::exp(-1.0)).abs() < 1e-12);
        assert_eq!(chi_square_sf(0.0, 4.0), 1.0);
    }

    #[test]
    fn wilson_intervals_stay_in_range_and_match_a_worked_value() {
        assert_eq!(wilson(0, 10).0, 0.0);
        assert_eq!(wilson(10, 10).1, 1.0);
        // 18 of 20: Wilson's interval is 0.699 to 0.972.
        let (lo, hi) = wilson(18, 20);
        assert!((lo - 0.6990).abs() < 5e-4 && (hi - 0.9721).abs() < 5e-4, "{lo} {hi}");
    }

    #[test]
    fn ranks_fall_in_equal_bins() {
        assert_eq!((bin(0), bin(19), bin(20), bin(99)), (0, 0, 1, 4));
    }
}
