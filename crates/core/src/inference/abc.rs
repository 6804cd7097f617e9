//! Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC), after Beaumont et
//! al. (2009, *Biometrika* 96(4) 983-990) with an adaptive tolerance schedule (Del Moral et
//! al. 2012; pyABC's quantile epsilon).
//!
//! Generation 0 draws particles from the prior and keeps them all; its distances set the
//! first tolerance. Each later generation proposes by picking a particle of the last one by
//! weight and perturbing it with a Gaussian kernel whose variance is twice the weighted
//! variance of the last generation, per parameter; it keeps proposals whose simulated
//! statistics lie within the tolerance of the observed ones, and weighs each by
//! `prior(θ) / Σ_j W_j K(θ | θ_j)`. The tolerance of the next generation is a quantile of
//! the kept distances.
//!
//! The simulator is any function of parameters and a random stream: this module knows
//! nothing of scenarios. Attempts are evaluated in parallel in fixed-size batches, each with
//! its own ChaCha8 stream keyed by (seed, generation, attempt), and accepted in attempt
//! order, so the result is the same for any number of threads.

use super::prior::Prior;
use crate::distributions::StandardNormal;
use crate::stream::ChaCha8Rng;
use rand::distr::Distribution;
use rand::{RngExt, SeedableRng};

/// When to stop, and how large each generation is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Particles per generation.
    pub particles: usize,
    /// The most generations, generation 0 included.
    pub max_generations: usize,
    /// Stop after a generation whose acceptance rate fell below this.
    pub min_acceptance: f64,
    /// Stop once the tolerance is at or below this.
    pub min_tolerance: f64,
    /// Stop once this many simulations have run; a generation the budget cuts short is
    /// dropped, so the result is the last complete generation.
    pub budget: u64,
    /// Quantile of the last generation's distances that sets the next tolerance.
    pub quantile: f64,
    /// Attempts evaluated together; fixed so results do not depend on the thread count.
    pub batch: usize,
    /// Master seed.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            particles: 500,
            max_generations: 10,
            min_acceptance: 0.02,
            min_tolerance: 0.0,
            budget: 100_000,
            quantile: 0.5,
            batch: 256,
            seed: 1,
        }
    }
}

/// One accepted particle.
#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    /// Parameter values, in the order of the priors.
    pub theta: Vec<f64>,
    /// Normalised importance weight.
    pub weight: f64,
    /// Distance of its simulated statistics from the observed ones.
    pub distance: f64,
    /// Its simulated statistics.
    pub statistics: Vec<f64>,
}

/// One generation of the sampler.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Tolerance the particles met (infinite for generation 0).
    pub tolerance: f64,
    /// The accepted particles.
    pub particles: Vec<Particle>,
    /// Accepted over simulated.
    pub acceptance: f64,
    /// Effective sample size `1 / Σ w²`.
    pub ess: f64,
    /// Simulations run in this generation.
    pub simulations: u64,
}

/// Why the sampler stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// `max_generations` reached.
    Generations,
    /// The acceptance rate fell below `min_acceptance`.
    Acceptance,
    /// The tolerance reached `min_tolerance`.
    Tolerance,
    /// The simulation budget is spent.
    Budget,
    /// A stop was requested; the generation under way was dropped.
    Interrupted,
}

/// The Euclidean distance between simulated and observed statistics, each scaled by its
/// observed uncertainty. A statistic the simulation left undefined (NaN) is infinitely far.
pub fn distance(simulated: &[f64], observed: &[f64], scale: &[f64]) -> f64 {
    let mut d2 = 0.0;
    for ((s, o), k) in simulated.iter().zip(observed).zip(scale) {
        let z = (s - o) / k;
        if !z.is_finite() {
            return f64::INFINITY;
        }
        d2 += z * z;
    }
    d2.sqrt()
}

/// The stream of attempt `k` of generation `g`.
fn attempt_rng(seed: u64, g: usize, k: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((g as u64) << 40) | k);
    rng
}

/// The empirical quantile of the finite values of `xs` (type 7, unweighted).
fn quantile(xs: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::INFINITY;
    }
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// What the sampler reports while it works.
pub enum Event<'a> {
    /// A batch of attempts of generation `generation` was evaluated: `simulations` run and
    /// `accepted` kept in that generation so far.
    Batch {
        /// Generation under way.
        generation: usize,
        /// Simulations run in it so far.
        simulations: u64,
        /// Particles kept in it so far.
        accepted: usize,
    },
    /// A generation is complete (saved by the caller, so that a rerun resumes after it).
    Generation(&'a Generation),
}

/// Why the sampler stops after `generations`, or None when it should go on. Evaluated before
/// every new generation, so a sampler resumed from saved generations stops where an
/// uninterrupted one would have.
pub fn stopping(generations: &[Generation], cfg: &Config) -> Option<Stop> {
    let last = generations.last()?;
    let spent: u64 = generations.iter().map(|g| g.simulations).sum();
    if generations.len() > 1 && last.acceptance < cfg.min_acceptance {
        Some(Stop::Acceptance)
    } else if last.tolerance <= cfg.min_tolerance {
        Some(Stop::Tolerance)
    } else if spent >= cfg.budget {
        Some(Stop::Budget)
    } else if generations.len() >= cfg.max_generations {
        Some(Stop::Generations)
    } else {
        None
    }
}

/// Run ABC-SMC from scratch. `simulate(θ, rng)` returns the statistics for parameters `θ`,
/// or None when `θ` makes no valid model (treated as outside the prior's support); it must
/// draw only from `rng`. Returns every generation and why it stopped.
pub fn run<F>(priors: &[Prior], observed: &[f64], scale: &[f64], cfg: &Config, simulate: F) -> (Vec<Generation>, Stop)
where
    F: Fn(&[f64], &mut ChaCha8Rng) -> Option<Vec<f64>> + Sync,
{
    resume(priors, observed, scale, cfg, Vec::new(), simulate, &|| false, &mut |_| {})
}

/// Run ABC-SMC after the generations already `done` (saved by an earlier, interrupted run of
/// the same problem): the result is the same as an uninterrupted run's. `stop` is checked
/// after every batch; when it returns true the generation under way is dropped and the
/// sampler returns [`Stop::Interrupted`] with the complete generations. `report` hears of
/// every batch and every complete generation.
#[allow(clippy::too_many_arguments)] // the problem, where to start, and three hooks
pub fn resume<F>(
    priors: &[Prior],
    observed: &[f64],
    scale: &[f64],
    cfg: &Config,
    done: Vec<Generation>,
    simulate: F,
    stop: &(dyn Fn() -> bool + Sync),
    report: &mut dyn FnMut(Event),
) -> (Vec<Generation>, Stop)
where
    F: Fn(&[f64], &mut ChaCha8Rng) -> Option<Vec<f64>> + Sync,
{
    assert_eq!(observed.len(), scale.len(), "one scale per statistic");
    let dims = priors.len();
    let mut generations = done;
    loop {
        if let Some(why) = stopping(&generations, cfg) {
            return (generations, why);
        }
        let spent: u64 = generations.iter().map(|g| g.simulations).sum();
        let g = generations.len();
        let last = generations.last();
        let tolerance = last.map_or(f64::INFINITY, |l| {
            quantile(&l.particles.iter().map(|p| p.distance).collect::<Vec<_>>(), cfg.quantile)
        });
        // Kernel: per parameter, twice the weighted variance of the last generation.
        let sigma: Vec<f64> = match last {
            None => vec![0.0; dims],
            Some(l) => (0..dims)
                .map(|d| {
                    let mean: f64 = l.particles.iter().map(|p| p.weight * p.theta[d]).sum();
                    let var: f64 =
                        l.particles.iter().map(|p| p.weight * (p.theta[d] - mean) * (p.theta[d] - mean)).sum();
                    (2.0 * var).sqrt()
                })
                .collect(),
        };
        let cumulative: Vec<f64> = last
            .map(|l| {
                let mut acc = 0.0;
                l.particles
                    .iter()
                    .map(|p| {
                        acc += p.weight;
                        acc
                    })
                    .collect()
            })
            .unwrap_or_default();

        let propose = |rng: &mut ChaCha8Rng| -> Option<Vec<f64>> {
            match last {
                None => Some(priors.iter().map(|p| p.sample(rng)).collect()),
                Some(l) => {
                    let u = rng.random::<f64>() * cumulative.last().copied().unwrap_or(1.0);
                    let j = cumulative.partition_point(|&c| c <= u).min(l.particles.len() - 1);
                    let theta: Vec<f64> = l.particles[j]
                        .theta
                        .iter()
                        .zip(&sigma)
                        .map(|(&x, &s)| {
                            let z: f64 = StandardNormal.sample(rng);
                            x + s * z
                        })
                        .collect();
                    theta.iter().zip(priors).all(|(&x, p)| p.density(x) > 0.0).then_some(theta)
                }
            }
        };

        let mut accepted: Vec<Particle> = Vec::with_capacity(cfg.particles);
        let mut simulations = 0u64;
        let mut attempt = 0u64;
        while accepted.len() < cfg.particles {
            // Each simulated attempt as a candidate particle (weight set below if accepted).
            let batch: Vec<Option<Particle>> = crate::par::map(0..cfg.batch, |j| {
                if stop() {
                    return None;
                }
                let mut rng = attempt_rng(cfg.seed, g, attempt + j as u64);
                let theta = propose(&mut rng)?;
                let statistics = simulate(&theta, &mut rng)?;
                let distance = distance(&statistics, observed, scale);
                Some(Particle { theta, weight: 1.0, distance, statistics })
            });
            if stop() {
                return (generations, Stop::Interrupted);
            }
            attempt += cfg.batch as u64;
            for candidate in batch.into_iter().flatten() {
                if accepted.len() == cfg.particles {
                    break;
                }
                simulations += 1;
                if candidate.distance <= tolerance {
                    accepted.push(candidate);
                }
            }
            report(Event::Batch { generation: g, simulations, accepted: accepted.len() });
            // Out of budget, or proposals keep falling outside the prior's support.
            if spent + simulations >= cfg.budget || attempt >= cfg.budget.saturating_mul(100).max(cfg.batch as u64) {
                break;
            }
        }
        if accepted.len() < cfg.particles {
            // The budget ran out (or the prior's support keeps rejecting proposals) before the
            // generation was complete: a partial generation is a poor sample of its target
            // (few particles, a tiny effective sample size), so the posterior stays the last
            // complete generation.
            return (generations, Stop::Budget);
        }

        // Importance weights: prior over the mixture of perturbation kernels.
        if let Some(l) = last {
            for p in accepted.iter_mut() {
                let prior: f64 = p.theta.iter().zip(priors).map(|(&x, pr)| pr.density(x)).product();
                let mixture: f64 = l
                    .particles
                    .iter()
                    .map(|q| {
                        q.weight
                            * p.theta
                                .iter()
                                .zip(&q.theta)
                                .zip(&sigma)
                                .map(|((&x, &m), &s)| {
                                    if s > 0.0 {
                                        let z = (x - m) / s;
                                        libm::exp(-0.5 * z * z) / s
                                    } else {
                                        1.0
                                    }
                                })
                                .product::<f64>()
                    })
                    .sum();
                p.weight = if mixture > 0.0 { prior / mixture } else { 0.0 };
            }
        }
        let total: f64 = accepted.iter().map(|p| p.weight).sum();
        for p in accepted.iter_mut() {
            p.weight /= total;
        }
        let ess = 1.0 / accepted.iter().map(|p| p.weight * p.weight).sum::<f64>();
        let acceptance = if simulations > 0 { accepted.len() as f64 / simulations as f64 } else { 0.0 };
        generations.push(Generation { tolerance, particles: accepted, acceptance, ess, simulations });
        report(Event::Generation(generations.last().expect("just pushed")));
    }
}

/// Weighted mean and standard deviation of one parameter in a generation.
pub fn moments(generation: &Generation, d: usize) -> (f64, f64) {
    let particles = &generation.particles;
    let mean: f64 = particles.iter().map(|p| p.weight * p.theta[d]).sum();
    let var: f64 = particles.iter().map(|p| p.weight * (p.theta[d] - mean) * (p.theta[d] - mean)).sum();
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A normal mean with a known posterior: prior θ ~ N(0, 1); the statistic is the mean of
    /// n = 20 draws from N(θ, 1), so ȳ | θ ~ N(θ, 1/n) and, ȳ being sufficient, the exact
    /// posterior given ȳ = 1 is N(n ȳ / (n + 1), 1 / (n + 1)).
    fn toy(threads: usize) -> (Vec<Generation>, Stop) {
        let n = 20.0;
        let cfg = Config { particles: 1000, max_generations: 8, budget: 400_000, seed: 7, ..Config::default() };
        crate::par::with_threads(threads, || {
            run(&[Prior::Normal { mean: 0.0, sd: 1.0 }], &[1.0], &[1.0 / f64::sqrt(n)], &cfg, |theta, rng| {
                let z: f64 = StandardNormal.sample(rng);
                Some(vec![theta[0] + z / f64::sqrt(n)])
            })
        })
        .expect("threads start")
    }

    #[test]
    fn recovers_a_known_posterior() {
        let (gens, _) = toy(2);
        let last = gens.last().unwrap();
        let (mean, sd) = moments(last, 0);
        let (exact_mean, exact_sd) = (20.0 / 21.0, 1.0 / 21f64.sqrt());
        eprintln!("ABC-SMC {mean:.4} ± {sd:.4}; exact {exact_mean:.4} ± {exact_sd:.4}; tolerance {}", last.tolerance);
        assert!((mean - exact_mean).abs() < 0.03, "posterior mean {mean} against {exact_mean}");
        assert!((sd / exact_sd - 1.0).abs() < 0.15, "posterior sd {sd} against {exact_sd}");
        // Tolerances shrink and the weights stay usable.
        assert!(gens.windows(2).all(|w| w[1].tolerance <= w[0].tolerance));
        assert!(last.ess > 200.0, "effective sample size {}", last.ess);
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        assert_eq!(toy(1), toy(2));
    }

    #[test]
    fn resuming_after_saved_generations_gives_the_uninterrupted_result() {
        let (full, stop) = toy(2);
        let cfg = Config { particles: 1000, max_generations: 8, budget: 400_000, seed: 7, ..Config::default() };
        let n = 20.0;
        let mut seen = 0;
        let (resumed, again) = resume(
            &[Prior::Normal { mean: 0.0, sd: 1.0 }],
            &[1.0],
            &[1.0 / f64::sqrt(n)],
            &cfg,
            full[..3].to_vec(),
            |theta, rng| {
                let z: f64 = StandardNormal.sample(rng);
                Some(vec![theta[0] + z / f64::sqrt(n)])
            },
            &|| false,
            &mut |e| {
                if let Event::Generation(_) = e {
                    seen += 1;
                }
            },
        );
        assert_eq!((resumed, again), (full.clone(), stop));
        assert_eq!(seen, full.len() - 3, "only the missing generations are computed");
    }

    #[test]
    fn a_stop_request_drops_the_generation_under_way() {
        let cfg = Config { particles: 50, max_generations: 5, batch: 16, ..Config::default() };
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let (gens, stop) = resume(
            &[Prior::Uniform { lo: 0.0, hi: 1.0 }],
            &[0.5],
            &[0.1],
            &cfg,
            Vec::new(),
            |theta, _| Some(vec![theta[0]]),
            &|| calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) > 200,
            &mut |_| {},
        );
        assert_eq!(stop, Stop::Interrupted);
        assert!(gens.iter().all(|g| g.particles.len() == 50), "only complete generations are returned");
    }

    #[test]
    fn an_unreachable_target_stops_at_the_budget() {
        // Every simulation lands 100 scales away: generation 0 accepts all, and the first
        // tolerance is met sometimes; a budget of 2,000 simulations must end it either way.
        let cfg = Config { particles: 100, budget: 2_000, batch: 64, ..Config::default() };
        let (gens, stop) =
            run(&[Prior::Uniform { lo: 0.0, hi: 1.0 }], &[100.0], &[1.0], &cfg, |theta, _| Some(vec![theta[0]]));
        assert!(matches!(stop, Stop::Budget | Stop::Acceptance), "{stop:?}");
        let simulations: u64 = gens.iter().map(|g| g.simulations).sum();
        assert!(simulations <= 2_000 + 64, "{simulations}");
    }

    #[test]
    fn undefined_statistics_are_infinitely_far() {
        assert_eq!(distance(&[f64::NAN], &[1.0], &[1.0]), f64::INFINITY);
        assert_eq!(distance(&[3.0, 1.0], &[1.0, 1.0], &[2.0, 1.0]), 1.0);
    }
}
