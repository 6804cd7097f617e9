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
    /// Models compared (model selection, Toni et al. 2009): each particle belongs to one, and
    /// the weights of a generation's particles of each model are its posterior probability.
    /// 1 is plain ABC-SMC.
    pub models: usize,
}

/// The probability that a proposal keeps its particle's model (pyABC's default); otherwise
/// it moves to one of the others, uniformly.
pub const MODEL_STAY: f64 = 0.7;

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
            models: 1,
        }
    }
}

/// One accepted particle.
#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    /// The model (scenario variant) it belongs to: 0 when there is one.
    pub model: usize,
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
    /// Attempts it took (a whole number of batches, invalid proposals included).
    pub attempts: u64,
    /// Simulations counted in its last batch: with `simulations` and `attempts`, what a
    /// budget check before that batch saw ([`reusable`]).
    pub last_batch: u64,
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
    /// The attempts from `attempt` of generation `generation` are computed elsewhere and not
    /// yet available ([`resume_from`]).
    Missing {
        /// The generation under way.
        generation: usize,
        /// The first attempt needed.
        attempt: u64,
    },
}

/// What a run of the sampler ends with.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    /// Every complete generation.
    pub generations: Vec<Generation>,
    /// Why it stopped.
    pub stop: Stop,
    /// The attempts of the generation under way when it stopped (a budget or a stop cut it
    /// short), from attempt 0 in attempt order: what a resumed run takes instead of
    /// simulating them again. Empty when no generation was under way.
    pub unfinished: Vec<Option<Particle>>,
}

/// How many of the saved `generations` a run with `cfg` computes itself, exactly as saved:
/// the longest prefix before which the sampler does not stop and whose generations no budget
/// check of `cfg` would have cut short. The stopping rules are not part of a calibration's
/// identity, so generations saved under other rules (a smaller budget, fewer generations) are
/// reused as far as these rules would have computed them.
pub fn reusable(generations: &[Generation], cfg: &Config) -> usize {
    let mut spent = 0u64;
    for (i, g) in generations.iter().enumerate() {
        if stopping(&generations[..i], cfg).is_some() {
            return i;
        }
        // The budget is checked after every batch but the one that completes a generation;
        // both counts only grow, so the check after the last batch but one decides.
        if g.attempts > cfg.batch as u64 {
            let before = spent + (g.simulations - g.last_batch);
            if before >= cfg.budget || g.attempts - cfg.batch as u64 >= attempt_limit(cfg) {
                return i;
            }
        }
        spent += g.simulations;
    }
    generations.len()
}

/// The attempts after which a generation whose proposals keep falling outside the prior's
/// support is given up.
fn attempt_limit(cfg: &Config) -> u64 {
    cfg.budget.saturating_mul(100).max(cfg.batch as u64)
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

/// Run ABC-SMC from scratch. `simulate(m, θ, rng)` returns the statistics of model `m` (0
/// when there is one) for parameters `θ`, or None when they make no valid model (treated as
/// outside the prior's support); it must draw only from `rng`. Returns every generation and
/// why it stopped.
pub fn run<F>(priors: &[Prior], observed: &[f64], scale: &[f64], cfg: &Config, simulate: F) -> (Vec<Generation>, Stop)
where
    F: Fn(usize, &[f64], &mut ChaCha8Rng) -> Option<Vec<f64>> + Sync,
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
    F: Fn(usize, &[f64], &mut ChaCha8Rng) -> Option<Vec<f64>> + Sync,
{
    assert_eq!(observed.len(), scale.len(), "one scale per statistic");
    let mut simulated = |plan: &Plan, first: u64, count: usize| {
        let batch = plan.attempts(first, count, observed, scale, &simulate, stop);
        if stop() { Batch::Interrupted } else { Batch::Ready(batch) }
    };
    let sampled = resume_from(priors, cfg, done, &mut simulated, report);
    (sampled.generations, sampled.stop)
}

/// A batch of attempts as a source hands it to [`resume_from`].
pub enum Batch {
    /// The batch's attempts, in attempt order.
    Ready(Vec<Option<Particle>>),
    /// A stop was requested: drop the generation under way.
    Interrupted,
    /// The source does not hold these attempts (they are computed elsewhere, later).
    Missing,
}

/// The sampler with attempts from `source(plan, first, count)`: the attempts `first..first +
/// count` of the generation `plan` proposes for, computed here ([`resume`]) or elsewhere and
/// read back (a generation computed as blocks on a cluster). Whatever computed them, the
/// generations are the same, because attempts are accepted in attempt order one batch at a
/// time exactly as [`resume`] accepts them. A [`Batch::Missing`] stops the sampler with
/// [`Stop::Missing`], naming the generation and attempt it needs.
pub fn resume_from(
    priors: &[Prior],
    cfg: &Config,
    done: Vec<Generation>,
    source: &mut dyn FnMut(&Plan, u64, usize) -> Batch,
    report: &mut dyn FnMut(Event),
) -> Sampled {
    let mut generations = done;
    loop {
        if let Some(why) = stopping(&generations, cfg) {
            return Sampled { generations, stop: why, unfinished: Vec::new() };
        }
        let g = generations.len();
        let plan = Plan::new(priors, &generations, cfg);
        let mut gathering = Gathering::new(&generations, cfg);
        let complete = loop {
            let first = gathering.next_attempt();
            let stopped = |why: Stop, gathering: Gathering| (why, gathering.attempts);
            let batch = match source(&plan, first, cfg.batch) {
                Batch::Ready(batch) => batch,
                Batch::Interrupted => break Err(stopped(Stop::Interrupted, gathering)),
                Batch::Missing => break Err(stopped(Stop::Missing { generation: g, attempt: first }, gathering)),
            };
            let gathered = gathering.take(batch, plan.tolerance, cfg);
            report(Event::Batch {
                generation: g,
                simulations: gathering.simulations,
                accepted: gathering.accepted.len(),
            });
            match gathered {
                Gathered::More => {}
                Gathered::Complete => break Ok(gathering),
                // The budget ran out (or the prior's support keeps rejecting proposals)
                // before the generation was complete: a partial generation is a poor sample
                // of its target (few particles, a tiny effective sample size), so the
                // posterior stays the last complete generation; its attempts are kept for a
                // rerun with a larger budget.
                Gathered::OutOfBudget => break Err(stopped(Stop::Budget, gathering)),
            }
        };
        match complete {
            Ok(gathering) => {
                let generation = plan.weigh(gathering);
                generations.push(generation);
                report(Event::Generation(generations.last().expect("just pushed")));
            }
            Err((stop, unfinished)) => return Sampled { generations, stop, unfinished },
        }
    }
}

/// What generation `g` proposes from: its tolerance, and the last generation's particles with
/// the perturbation kernel around them (the prior itself for generation 0).
pub struct Plan<'a> {
    priors: &'a [Prior],
    /// The complete generations: the last is what it proposes from.
    before: &'a [Generation],
    tolerance: f64,
    /// Per model, the last generation's particles of that model and the kernel around them.
    kernels: Vec<Kernel>,
    /// The last generation's cumulative model probabilities (model selection only).
    model_cumulative: Vec<f64>,
    seed: u64,
}

/// The perturbation kernel of one model's particles in the last generation.
struct Kernel {
    /// Indices of the model's particles.
    members: Vec<usize>,
    /// Their cumulative weights.
    cumulative: Vec<f64>,
    /// Kernel sd per parameter: the square root of twice their weighted variance.
    sigma: Vec<f64>,
    /// Their total weight: the model's probability in the last generation.
    mass: f64,
}

impl<'a> Plan<'a> {
    /// The plan of the generation that follows `generations`.
    pub fn new(priors: &'a [Prior], generations: &'a [Generation], cfg: &Config) -> Plan<'a> {
        let dims = priors.len();
        let last = generations.last();
        let tolerance = last.map_or(f64::INFINITY, |l| {
            quantile(&l.particles.iter().map(|p| p.distance).collect::<Vec<_>>(), cfg.quantile)
        });
        let models = cfg.models.max(1);
        let kernels: Vec<Kernel> = (0..models)
            .map(|m| {
                let Some(l) = last else {
                    return Kernel { members: Vec::new(), cumulative: Vec::new(), sigma: vec![0.0; dims], mass: 0.0 };
                };
                let members: Vec<usize> = (0..l.particles.len()).filter(|&i| l.particles[i].model == m).collect();
                let mut acc = 0.0;
                let cumulative: Vec<f64> = members
                    .iter()
                    .map(|&i| {
                        acc += l.particles[i].weight;
                        acc
                    })
                    .collect();
                let mass = acc;
                // With one model its weights already sum to one: dividing by exactly 1.0 keeps
                // plain ABC-SMC's numbers bit for bit.
                let norm = if models == 1 { 1.0 } else { mass };
                let sigma = (0..dims)
                    .map(|d| {
                        let of = |i: &usize| &l.particles[*i];
                        let mean: f64 = members.iter().map(|i| of(i).weight * of(i).theta[d]).sum::<f64>() / norm;
                        let var: f64 = members
                            .iter()
                            .map(|i| of(i).weight * (of(i).theta[d] - mean) * (of(i).theta[d] - mean))
                            .sum::<f64>()
                            / norm;
                        (2.0 * var).sqrt()
                    })
                    .collect();
                Kernel { members, cumulative, sigma, mass }
            })
            .collect();
        let mut acc = 0.0;
        let model_cumulative = kernels
            .iter()
            .map(|k| {
                acc += k.mass;
                acc
            })
            .collect();
        Plan { priors, before: generations, tolerance, kernels, model_cumulative, seed: cfg.seed }
    }

    /// The generation this plan proposes for (0 is the prior's).
    pub fn generation(&self) -> usize {
        self.before.len()
    }

    /// The complete generations it proposes from.
    pub fn before(&self) -> &'a [Generation] {
        self.before
    }

    /// A proposal: a model and parameters drawn from the priors (generation 0), or a model
    /// drawn by the last generation's model probabilities and perturbed ([`MODEL_STAY`]), and a
    /// particle of that model picked by weight and perturbed; None when it falls outside the
    /// prior's support, or on a model no particle of the last generation holds (a dead model
    /// stays dead, as in Toni et al. 2009). With one model no model is drawn, so plain
    /// ABC-SMC's streams are unchanged.
    fn propose(&self, rng: &mut ChaCha8Rng) -> Option<(usize, Vec<f64>)> {
        let models = self.kernels.len();
        match self.before.last() {
            None => {
                let m = if models > 1 { rng.random_range(0..models) } else { 0 };
                Some((m, self.priors.iter().map(|p| p.sample(rng)).collect()))
            }
            Some(l) => {
                let m = if models > 1 {
                    let total = self.model_cumulative.last().copied().unwrap_or(1.0);
                    let u = rng.random::<f64>() * total;
                    let from = self.model_cumulative.partition_point(|&c| c <= u).min(models - 1);
                    let m = if rng.random::<f64>() < MODEL_STAY {
                        from
                    } else {
                        let k = rng.random_range(0..models - 1);
                        if k >= from { k + 1 } else { k }
                    };
                    if self.kernels[m].members.is_empty() {
                        return None;
                    }
                    m
                } else {
                    0
                };
                let kernel = &self.kernels[m];
                let u = rng.random::<f64>() * kernel.cumulative.last().copied().unwrap_or(1.0);
                let j = kernel.members[kernel.cumulative.partition_point(|&c| c <= u).min(kernel.members.len() - 1)];
                let theta: Vec<f64> = l.particles[j]
                    .theta
                    .iter()
                    .zip(&kernel.sigma)
                    .map(|(&x, &s)| {
                        let z: f64 = StandardNormal.sample(rng);
                        x + s * z
                    })
                    .collect();
                theta.iter().zip(self.priors).all(|(&x, p)| p.density(x) > 0.0).then_some((m, theta))
            }
        }
    }

    /// Attempt `k`, on its own stream: a proposal and its simulation, as a candidate particle
    /// (its weight is set if it is accepted). None when the proposal is outside the prior's
    /// support or makes no valid model (it does not count as a simulation).
    pub fn attempt<F>(&self, k: u64, observed: &[f64], scale: &[f64], simulate: &F) -> Option<Particle>
    where
        F: Fn(usize, &[f64], &mut ChaCha8Rng) -> Option<Vec<f64>> + Sync,
    {
        let mut rng = attempt_rng(self.seed, self.generation(), k);
        let (model, theta) = self.propose(&mut rng)?;
        let statistics = simulate(model, &theta, &mut rng)?;
        let distance = distance(&statistics, observed, scale);
        Some(Particle { model, theta, weight: 1.0, distance, statistics })
    }

    /// Attempts `first..first + count` on the threads of the enclosing pool, in attempt order
    /// whatever the number of threads. Once `stop` returns true the rest are skipped (and the
    /// caller drops the batch).
    pub fn attempts<F>(
        &self,
        first: u64,
        count: usize,
        observed: &[f64],
        scale: &[f64],
        simulate: &F,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Vec<Option<Particle>>
    where
        F: Fn(usize, &[f64], &mut ChaCha8Rng) -> Option<Vec<f64>> + Sync,
    {
        crate::par::map(
            0..count,
            |j| if stop() { None } else { self.attempt(first + j as u64, observed, scale, simulate) },
        )
    }

    /// The complete generation from its accepted particles: importance weights (prior over the
    /// mixture of perturbation kernels), normalised, and the generation's summaries.
    fn weigh(&self, gathering: Gathering) -> Generation {
        let Gathering { mut accepted, simulations, attempt: attempts, last_batch, .. } = gathering;
        let models = self.kernels.len();
        if let Some(l) = self.before.last() {
            for p in accepted.iter_mut() {
                let prior: f64 = p.theta.iter().zip(self.priors).map(|(&x, pr)| pr.density(x)).product();
                let kernel = &self.kernels[p.model];
                let mixture: f64 = kernel
                    .members
                    .iter()
                    .map(|&j| {
                        let q = &l.particles[j];
                        q.weight
                            * p.theta
                                .iter()
                                .zip(&q.theta)
                                .zip(&kernel.sigma)
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
                // Model selection: the proposal's density of this particle's model, and its
                // parameters' mixture within the model (weights normalised within it).
                let proposal = if models > 1 {
                    let to = |from: usize| {
                        if from == p.model { MODEL_STAY } else { (1.0 - MODEL_STAY) / (models - 1) as f64 }
                    };
                    let model: f64 = self.kernels.iter().enumerate().map(|(m, k)| k.mass * to(m)).sum();
                    model * mixture / kernel.mass
                } else {
                    mixture
                };
                p.weight = if proposal > 0.0 { prior / proposal } else { 0.0 };
            }
        }
        let total: f64 = accepted.iter().map(|p| p.weight).sum();
        for p in accepted.iter_mut() {
            p.weight /= total;
        }
        let ess = 1.0 / accepted.iter().map(|p| p.weight * p.weight).sum::<f64>();
        let acceptance = if simulations > 0 { accepted.len() as f64 / simulations as f64 } else { 0.0 };
        Generation {
            tolerance: self.tolerance,
            particles: accepted,
            acceptance,
            ess,
            simulations,
            attempts,
            last_batch,
        }
    }
}

/// Each model's posterior probability in a generation (the weights of its particles), and its
/// Monte Carlo standard error, `sqrt(p (1 - p) / ESS)`: the binomial error of a share of ESS
/// independent draws.
pub fn model_probabilities(generation: &Generation, models: usize) -> Vec<(f64, f64)> {
    (0..models)
        .map(|m| {
            let p: f64 = generation.particles.iter().filter(|q| q.model == m).map(|q| q.weight).sum();
            let p = p.clamp(0.0, 1.0);
            (p, (p * (1.0 - p) / generation.ess).sqrt())
        })
        .collect()
}

/// A generation's attempts accepted in attempt order, one batch at a time.
struct Gathering {
    accepted: Vec<Particle>,
    /// Every attempt so far, in attempt order (the accepted ones are also in `accepted`).
    attempts: Vec<Option<Particle>>,
    simulations: u64,
    /// Simulations counted in the last batch taken.
    last_batch: u64,
    /// The first attempt of the next batch.
    attempt: u64,
    /// Simulations of the complete generations before this one.
    spent: u64,
}

/// What a batch left a generation needing.
enum Gathered {
    More,
    Complete,
    /// Out of budget, or proposals keep falling outside the prior's support.
    OutOfBudget,
}

impl Gathering {
    fn new(generations: &[Generation], cfg: &Config) -> Gathering {
        Gathering {
            accepted: Vec::with_capacity(cfg.particles),
            attempts: Vec::new(),
            simulations: 0,
            last_batch: 0,
            attempt: 0,
            spent: generations.iter().map(|g| g.simulations).sum(),
        }
    }

    fn next_attempt(&self) -> u64 {
        self.attempt
    }

    fn take(&mut self, batch: Vec<Option<Particle>>, tolerance: f64, cfg: &Config) -> Gathered {
        self.attempt += cfg.batch as u64;
        let before = self.simulations;
        for candidate in batch.iter().flatten() {
            if self.accepted.len() == cfg.particles {
                break;
            }
            self.simulations += 1;
            if candidate.distance <= tolerance {
                self.accepted.push(candidate.clone());
            }
        }
        self.last_batch = self.simulations - before;
        if self.accepted.len() == cfg.particles {
            Gathered::Complete
        } else {
            self.attempts.extend(batch);
            self.check_budget(cfg)
        }
    }

    fn check_budget(&self, cfg: &Config) -> Gathered {
        if self.spent + self.simulations >= cfg.budget || self.attempt >= attempt_limit(cfg) {
            Gathered::OutOfBudget
        } else {
            Gathered::More
        }
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
            run(&[Prior::Normal { mean: 0.0, sd: 1.0 }], &[1.0], &[1.0 / f64::sqrt(n)], &cfg, |_, theta, rng| {
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
            |_, theta, rng| {
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
    fn attempts_computed_elsewhere_in_any_order_give_the_same_generations() {
        let (full, stop) = toy(2);
        let cfg = Config { particles: 1000, max_generations: 8, budget: 400_000, seed: 7, ..Config::default() };
        let (priors, observed, scale) = ([Prior::Normal { mean: 0.0, sd: 1.0 }], [1.0], [1.0 / f64::sqrt(20.0)]);
        let simulate = |_: usize, theta: &[f64], rng: &mut ChaCha8Rng| {
            let z: f64 = StandardNormal.sample(rng);
            Some(vec![theta[0] + z / f64::sqrt(20.0)])
        };
        // Each missing stretch is computed as three blocks of two batches, last block first,
        // as array tasks finishing in any order would leave them.
        let mut blocks: std::collections::HashMap<(usize, u64), Vec<Option<Particle>>> = Default::default();
        let (mut done, mut waits) = (Vec::new(), 0);
        let (generations, why) = loop {
            let mut source = |plan: &Plan, first: u64, count: usize| match blocks.get(&(plan.generation(), first)) {
                Some(b) => {
                    assert_eq!(b.len(), count);
                    Batch::Ready(b.clone())
                }
                None => Batch::Missing,
            };
            let Sampled { generations: gens, stop: why, .. } =
                resume_from(&priors, &cfg, done, &mut source, &mut |_| {});
            let Stop::Missing { generation, attempt } = why else { break (gens, why) };
            waits += 1;
            assert_eq!(generation, gens.len(), "it waits for the generation after the complete ones");
            let plan = Plan::new(&priors, &gens, &cfg);
            for b in (0..6u64).rev() {
                let first = attempt + b * cfg.batch as u64;
                blocks.insert(
                    (generation, first),
                    plan.attempts(first, cfg.batch, &observed, &scale, &simulate, &|| false),
                );
            }
            done = gens;
        };
        assert_eq!((generations, why), (full.clone(), stop));
        assert!(waits > full.len(), "some generation needed more than one stretch of attempts ({waits} waits)");
    }

    /// The normal-mean problem under `cfg`, attempts from `source` (simulated when it says
    /// Missing), counting the attempts simulated.
    fn toy_from(
        cfg: &Config,
        done: Vec<Generation>,
        source: &dyn Fn(usize, u64, usize) -> Option<Vec<Option<Particle>>>,
        simulated: &mut u64,
    ) -> Sampled {
        let (priors, observed, scale) = ([Prior::Normal { mean: 0.0, sd: 1.0 }], [1.0], [1.0 / f64::sqrt(20.0)]);
        let simulate = |_: usize, theta: &[f64], rng: &mut ChaCha8Rng| {
            let z: f64 = StandardNormal.sample(rng);
            Some(vec![theta[0] + z / f64::sqrt(20.0)])
        };
        let mut from = |plan: &Plan, first: u64, count: usize| match source(plan.generation(), first, count) {
            Some(kept) => Batch::Ready(kept),
            None => {
                *simulated += count as u64;
                Batch::Ready(plan.attempts(first, count, &observed, &scale, &simulate, &|| false))
            }
        };
        resume_from(&priors, cfg, done, &mut from, &mut |_| {})
    }

    #[test]
    fn saved_generations_are_reused_as_far_as_other_stopping_rules_would_compute_them() {
        let big = Config { particles: 200, max_generations: 6, budget: 1_000_000, seed: 5, ..Config::default() };
        let all = toy_from(&big, Vec::new(), &|_, _, _| None, &mut 0).generations;
        assert_eq!(all.len(), 6);
        for budget in [150, 300, 700, 1_500, 3_000, 1_000_000] {
            for max_generations in [1, 3, 6] {
                let cfg = Config { budget, max_generations, ..big };
                let fresh = toy_from(&cfg, Vec::new(), &|_, _, _| None, &mut 0).generations;
                let k = reusable(&all, &cfg);
                assert_eq!(k, fresh.len(), "budget {budget}, {max_generations} generations");
                assert_eq!(all[..k], fresh[..], "budget {budget}, {max_generations} generations");
            }
        }
    }

    #[test]
    fn a_generation_the_budget_cut_short_resumes_from_its_kept_attempts() {
        let small = Config { particles: 200, max_generations: 5, budget: 1_200, seed: 9, ..Config::default() };
        let cut = toy_from(&small, Vec::new(), &|_, _, _| None, &mut 0);
        assert_eq!(cut.stop, Stop::Budget);
        let kept = cut.unfinished.clone();
        assert!(!kept.is_empty() && kept.len().is_multiple_of(small.batch), "{} attempts kept", kept.len());
        let larger = Config { budget: 1_000_000, ..small };
        let (mut all_fresh, mut resumed_fresh) = (0, 0);
        let full = toy_from(&larger, Vec::new(), &|_, _, _| None, &mut all_fresh);
        // A rerun with a larger budget: the complete generations saved, the cut one's attempts
        // taken from what was kept.
        let g = cut.generations.len();
        let from_kept = |generation: usize, first: u64, count: usize| {
            let (a, b) = (first as usize, first as usize + count);
            (generation == g && b <= kept.len()).then(|| kept[a..b].to_vec())
        };
        let resumed = toy_from(&larger, cut.generations.clone(), &from_kept, &mut resumed_fresh);
        assert_eq!(resumed.generations, full.generations);
        let before: u64 = cut.generations.iter().map(|g| g.attempts).sum();
        assert_eq!(resumed_fresh, all_fresh - before - kept.len() as u64, "kept attempts were simulated again");
    }

    /// Model selection with a known answer. The statistic is the mean of n = 20 draws;
    /// model 0 says they come from N(0, 1) (its parameter is ignored), model 1 from N(θ, 1)
    /// with θ ~ N(0, 1). Then ȳ ~ N(0, 1/n) under model 0 and N(0, 1 + 1/n) under model 1,
    /// and with ȳ = 0.5 observed and equal prior odds, P(model 0 | ȳ) = 0.298.
    #[test]
    fn model_probabilities_approach_a_known_posterior() {
        let n = 20.0;
        let cfg =
            Config { particles: 2000, max_generations: 8, budget: 2_000_000, seed: 11, models: 2, ..Config::default() };
        let (gens, _) =
            run(&[Prior::Normal { mean: 0.0, sd: 1.0 }], &[0.5], &[1.0 / f64::sqrt(n)], &cfg, |m, theta, rng| {
                let z: f64 = StandardNormal.sample(rng);
                let mean = if m == 0 { 0.0 } else { theta[0] };
                Some(vec![mean + z / f64::sqrt(n)])
            });
        let density = |var: f64| libm::exp(-0.25 / (2.0 * var)) / (2.0 * std::f64::consts::PI * var).sqrt();
        let exact = density(1.0 / n) / (density(1.0 / n) + density(1.0 + 1.0 / n));
        let last = gens.last().unwrap();
        let probabilities = model_probabilities(last, 2);
        let (p0, err) = probabilities[0];
        eprintln!("P(model 0) = {p0:.3} ± {err:.3}; exact {exact:.3}; tolerance {}", last.tolerance);
        assert!((exact - 0.298).abs() < 0.001);
        assert!((p0 - exact).abs() < 0.05, "P(model 0) = {p0}, exact {exact}");
        assert!((probabilities[0].0 + probabilities[1].0 - 1.0).abs() < 1e-9);
        assert!(err > 0.0 && err < 0.05, "Monte Carlo error {err}");
        // Both models' particles were proposed and kept throughout.
        assert!(
            gens.iter().all(|g| g.particles.iter().any(|p| p.model == 0) && g.particles.iter().any(|p| p.model == 1))
        );
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
            |_, theta, _| Some(vec![theta[0]]),
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
            run(&[Prior::Uniform { lo: 0.0, hi: 1.0 }], &[100.0], &[1.0], &cfg, |_, theta, _| Some(vec![theta[0]]));
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
