//! Prior distributions of the parameters a calibration estimates.
//!
//! Each can be sampled, has a density (up to a constant is not enough: ABC-SMC weights
//! compare densities across particles, so they are normalised), and knows its support, so
//! perturbed particles outside it are rejected before any simulation runs.

use crate::distributions::{Beta, StandardNormal};
use crate::stream::ChaCha8Rng;
use rand::RngExt;
use rand::distr::Distribution;

/// A prior over one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prior {
    /// Uniform on `[lo, hi]`.
    Uniform {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// Uniform in `ln x` on `[lo, hi]`, `0 < lo < hi`.
    LogUniform {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// Normal with mean and standard deviation.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Normal truncated to `[lo, hi]`.
    TruncatedNormal {
        /// Mean of the untruncated normal.
        mean: f64,
        /// Its standard deviation.
        sd: f64,
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// Beta(α, β) on `[0, 1]`.
    Beta {
        /// α.
        alpha: f64,
        /// β.
        beta: f64,
    },
}

/// The standard normal density.
fn phi(z: f64) -> f64 {
    libm::exp(-0.5 * z * z) / (2.0 * std::f64::consts::PI).sqrt()
}

/// The standard normal distribution function.
fn big_phi(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

impl Prior {
    /// Whether `x` lies in the support.
    pub fn contains(&self, x: f64) -> bool {
        match *self {
            Prior::Uniform { lo, hi } | Prior::LogUniform { lo, hi } | Prior::TruncatedNormal { lo, hi, .. } => {
                (lo..=hi).contains(&x)
            }
            Prior::Normal { .. } => x.is_finite(),
            Prior::Beta { .. } => (0.0..=1.0).contains(&x),
        }
    }

    /// The density at `x` (0 outside the support).
    pub fn density(&self, x: f64) -> f64 {
        if !self.contains(x) {
            return 0.0;
        }
        match *self {
            Prior::Uniform { lo, hi } => 1.0 / (hi - lo),
            Prior::LogUniform { lo, hi } => 1.0 / (x * libm::log(hi / lo)),
            Prior::Normal { mean, sd } => phi((x - mean) / sd) / sd,
            Prior::TruncatedNormal { mean, sd, lo, hi } => {
                phi((x - mean) / sd) / sd / (big_phi((hi - mean) / sd) - big_phi((lo - mean) / sd))
            }
            Prior::Beta { alpha, beta } => {
                let ln_b = libm::lgamma(alpha) + libm::lgamma(beta) - libm::lgamma(alpha + beta);
                libm::exp((alpha - 1.0) * libm::log(x) + (beta - 1.0) * libm::log(1.0 - x) - ln_b)
            }
        }
    }

    /// One draw.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> f64 {
        match *self {
            Prior::Uniform { lo, hi } => lo + (hi - lo) * rng.random::<f64>(),
            Prior::LogUniform { lo, hi } => libm::exp(libm::log(lo) + libm::log(hi / lo) * rng.random::<f64>()),
            Prior::Normal { mean, sd } => {
                let z: f64 = StandardNormal.sample(rng);
                mean + sd * z
            }
            Prior::TruncatedNormal { mean, sd, lo, hi } => loop {
                // Rejection: fine while the truncation keeps a fair share of the mass, which
                // the targets file's validation requires.
                let z: f64 = StandardNormal.sample(rng);
                let x = mean + sd * z;
                if (lo..=hi).contains(&x) {
                    break x;
                }
            },
            Prior::Beta { alpha, beta } => Beta::new(alpha, beta).expect("validated: alpha, beta > 0").sample(rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Integrate a density over its support numerically (midpoint rule).
    fn mass(p: &Prior, lo: f64, hi: f64) -> f64 {
        let n = 200_000;
        let h = (hi - lo) / n as f64;
        (0..n).map(|i| p.density(lo + (i as f64 + 0.5) * h) * h).sum()
    }

    #[test]
    fn densities_integrate_to_one() {
        let cases = [
            (Prior::Uniform { lo: 1.0, hi: 3.0 }, 1.0, 3.0),
            (Prior::LogUniform { lo: 0.01, hi: 10.0 }, 0.01, 10.0),
            (Prior::Normal { mean: 1.0, sd: 0.5 }, -5.0, 7.0),
            (Prior::TruncatedNormal { mean: 0.2, sd: 0.3, lo: 0.0, hi: 1.0 }, 0.0, 1.0),
            (Prior::Beta { alpha: 2.0, beta: 5.0 }, 0.0, 1.0),
        ];
        for (p, lo, hi) in cases {
            let m = mass(&p, lo, hi);
            assert!((m - 1.0).abs() < 1e-3, "{p:?}: {m}");
        }
    }

    #[test]
    fn samples_stay_in_the_support_and_match_the_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let p = Prior::TruncatedNormal { mean: 0.2, sd: 0.3, lo: 0.0, hi: 1.0 };
        let xs: Vec<f64> = (0..20_000).map(|_| p.sample(&mut rng)).collect();
        assert!(xs.iter().all(|&x| p.contains(x)));
        let b = Prior::Beta { alpha: 2.0, beta: 5.0 };
        let mean = (0..20_000).map(|_| b.sample(&mut rng)).sum::<f64>() / 20_000.0;
        assert!((mean - 2.0 / 7.0).abs() < 0.01, "{mean}");
        let l = Prior::LogUniform { lo: 0.01, hi: 10.0 };
        assert!((0..1000).map(|_| l.sample(&mut rng)).all(|x| l.contains(x)));
    }
}
