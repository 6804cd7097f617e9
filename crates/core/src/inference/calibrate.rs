//! A calibration of the model: a targets file's observed statistics and priors, handed to
//! the ABC-SMC sampler with coprosim as the simulator; then the posterior's summaries, its
//! predictive simulations, and draws for posterior predictive experiments.
//!
//! One simulation of parameters θ is the base scenario with θ applied, run for
//! `replications` replications on streams seeded from the attempt's own stream; its
//! statistics are the means over those replications of each observed statistic (the
//! replications in which it is defined). Nothing here touches files or terminals.

use super::abc::{self, Batch, Config, Event, Generation, Particle, Plan, Sampled};
use super::targets::{Reading, Statistic, Targets};
use crate::distributions::StandardNormal;
use crate::engine::run_replication_or_stop;
use crate::observe::survival::kaplan_meier;
use crate::observe::{Catalogue, ReplicationRecord};
use crate::stream::ChaCha8Rng;
use rand::distr::Distribution;
use rand::{RngExt, SeedableRng};

/// The value of an observed statistic in one replication's record (NaN when undefined).
pub fn read(stat: &Statistic, rec: &ReplicationRecord, cat: &Catalogue) -> f64 {
    match stat.reading {
        Reading::Summary(i) => rec.summary[i],
        Reading::Series { column, row } => rec.series[row * cat.series.len() + column] as f64,
        Reading::SeriesTotal { column, first, last } => {
            (first..=last).map(|row| rec.series[row * cat.series.len() + column] as f64).sum()
        }
        Reading::Survival { spells, ticks } => {
            kaplan_meier(&rec.spells[spells]).get(ticks).map_or(f64::NAN, |p| p.survival)
        }
    }
}

/// The mean of the finite values (NaN when there are none).
fn mean_defined(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for v in values.filter(|v| v.is_finite()) {
        sum += v;
        n += 1;
    }
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// Simulate the statistics `which` (indices into the targets' statistics) for parameters
/// `theta`: None when they make no valid scenario. The replications' streams are seeded from
/// one draw of `rng`. A stop request cuts the simulation short with NaN statistics (the
/// sampler drops the batch).
pub fn simulate(
    targets: &Targets,
    cat: &Catalogue,
    theta: &[f64],
    rng: &mut ChaCha8Rng,
    which: &[usize],
) -> Option<Vec<f64>> {
    simulate_model(targets, cat, 0, theta, rng, which)
}

/// [`simulate`] for model `model` of a model comparison.
pub fn simulate_model(
    targets: &Targets,
    cat: &Catalogue,
    model: usize,
    theta: &[f64],
    rng: &mut ChaCha8Rng,
    which: &[usize],
) -> Option<Vec<f64>> {
    let scenario = targets.scenario_of(model, theta).ok()?;
    let seed: u64 = rng.random();
    let mut records = Vec::with_capacity(targets.file.replications as usize);
    for r in 0..targets.file.replications {
        match run_replication_or_stop(&scenario, cat, seed, r) {
            Some(rec) => records.push(rec),
            None => return Some(vec![f64::NAN; which.len()]),
        }
    }
    Some(
        which.iter().map(|&i| mean_defined(records.iter().map(|rec| read(&targets.statistics[i], rec, cat)))).collect(),
    )
}

/// The sampler's configuration for a targets file.
pub fn config(targets: &Targets) -> Config {
    let a = &targets.file.abc;
    Config {
        particles: a.particles as usize,
        max_generations: a.generations as usize,
        min_acceptance: a.min_acceptance,
        min_tolerance: a.tolerance,
        budget: a.budget,
        quantile: a.quantile,
        batch: 64,
        seed: targets.file.seed,
        models: targets.models(),
    }
}

/// Run (or resume after the generations `done`) the calibration of `targets` on the threads of
/// the enclosing [`crate::par::with_threads`] (rayon's current pool; one thread without the
/// `parallel` feature). The distance is the Euclidean norm of the fitted statistics' differences from
/// their observed values, each divided by its observed standard deviation.
///
/// Noisy ABC (Wilkinson 2013; Fearnhead and Prangle 2012): each simulated statistic gets a
/// normal error with the observed value's standard deviation, drawn from the attempt's stream,
/// before it is compared. As the tolerance shrinks, the sample approaches the posterior under
/// the assumption that each value was observed with that error, so the stated uncertainty is
/// part of the answer (without it, a shrinking tolerance would treat every observed value as
/// exact and the sd would only weigh statistics against each other).
pub fn calibrate(
    targets: &Targets,
    saved: Saved,
    stop: &(dyn Fn() -> bool + Sync),
    report: &mut dyn FnMut(Event),
) -> Sampled {
    let fit = Fit::new(targets);
    let Saved { generations: done, unfinished: kept } = saved;
    let resumed = done.len();
    let mut simulated = |plan: &Plan, first: u64, count: usize| {
        let (from, to) = (first as usize, first as usize + count);
        if plan.generation() == resumed && to <= kept.len() {
            return Batch::Ready(kept[from..to].to_vec());
        }
        let batch = fit.attempts(plan, first, count, stop);
        if stop() { Batch::Interrupted } else { Batch::Ready(batch) }
    };
    abc::resume_from(&targets.priors, &config(targets), done, &mut simulated, report)
}

/// Where a calibration resumes: its complete generations, and the attempts already computed of
/// the generation after them (from attempt 0, in attempt order: a [`Sampled::unfinished`]).
/// The caller vouches that they belong to this calibration and follow these generations (the
/// command line checks a saved block's checksum and basis).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Saved {
    /// Complete generations, from generation 0.
    pub generations: Vec<Generation>,
    /// Attempts of the next generation.
    pub unfinished: Vec<Option<Particle>>,
}

/// The calibration of `targets` with its attempts taken from `source` (see
/// [`abc::resume_from`]): blocks of attempts computed elsewhere by [`Fit::attempts`], read back
/// in attempt order. Gives what [`calibrate`] gives, or stops at the first missing attempt.
pub fn calibrate_from(
    targets: &Targets,
    done: Vec<Generation>,
    source: &mut dyn FnMut(&Plan, u64, usize) -> Batch,
    report: &mut dyn FnMut(Event),
) -> Sampled {
    abc::resume_from(&targets.priors, &config(targets), done, source, report)
}

/// A calibration's problem as the sampler sees it: the fitted statistics' observed values and
/// scales, and the simulator.
pub struct Fit<'a> {
    targets: &'a Targets,
    cat: Catalogue,
    fitted: Vec<usize>,
    observed: Vec<f64>,
    scale: Vec<f64>,
}

impl<'a> Fit<'a> {
    /// The problem of `targets`.
    pub fn new(targets: &'a Targets) -> Fit<'a> {
        let fitted = targets.fitted();
        Fit {
            targets,
            cat: Catalogue::new(&targets.base),
            observed: fitted.iter().map(|&i| targets.statistics[i].value).collect(),
            scale: fitted.iter().map(|&i| targets.statistics[i].sd).collect(),
            fitted,
        }
    }

    /// The plan of the generation after `generations`.
    pub fn plan<'p>(&'p self, generations: &'p [Generation]) -> Plan<'p> {
        Plan::new(&self.targets.priors, generations, &config(self.targets))
    }

    /// The fitted statistics for `theta`, each with its noisy-ABC observation error.
    fn simulate_noisy(&self, model: usize, theta: &[f64], rng: &mut ChaCha8Rng) -> Option<Vec<f64>> {
        let mut x = simulate_model(self.targets, &self.cat, model, theta, rng, &self.fitted)?;
        for (v, s) in x.iter_mut().zip(&self.scale) {
            let z: f64 = StandardNormal.sample(rng);
            *v += s * z;
        }
        Some(x)
    }

    /// Attempts `first..first + count` of the generation `plan` proposes for, on the threads
    /// of the enclosing pool (see [`Plan::attempts`]).
    pub fn attempts(
        &self,
        plan: &Plan,
        first: u64,
        count: usize,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Vec<Option<Particle>> {
        plan.attempts(
            first,
            count,
            &self.observed,
            &self.scale,
            &|model: usize, theta: &[f64], rng: &mut ChaCha8Rng| self.simulate_noisy(model, theta, rng),
            stop,
        )
    }
}

/// The index of a particle drawn by weight with one uniform `u` in [0, 1).
pub fn pick(weights: &[f64], u: f64) -> usize {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        if u * total < acc {
            return i;
        }
    }
    weights.len().saturating_sub(1)
}

/// One posterior predictive simulation: the particle it drew and every statistic (fitted and
/// held out).
#[derive(Debug, Clone, PartialEq)]
pub struct Predictive {
    /// Index of the particle in the last generation.
    pub particle: usize,
    /// Statistics in the targets' order.
    pub statistics: Vec<f64>,
}

/// The posterior predictive simulations: `targets.file.abc.predictive` particles drawn by
/// weight from the last generation, each simulated afresh on its own stream (stream numbers
/// above every attempt's), with every statistic as the model produces it (no observation
/// error added). None when a stop was requested.
pub fn predictive(targets: &Targets, last: &Generation, stop: &(dyn Fn() -> bool + Sync)) -> Option<Vec<Predictive>> {
    let cat = Catalogue::new(&targets.base);
    let all: Vec<usize> = (0..targets.statistics.len()).collect();
    let weights: Vec<f64> = last.particles.iter().map(|p| p.weight).collect();
    let out: Vec<Option<Predictive>> = crate::par::map(0..targets.file.abc.predictive as usize, |k| {
        if stop() {
            return None;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(targets.file.seed);
        rng.set_stream((1 << 62) | k as u64);
        let particle = pick(&weights, rng.random::<f64>());
        let p = &last.particles[particle];
        let statistics = simulate_model(targets, &cat, p.model, &p.theta, &mut rng, &all)?;
        Some(Predictive { particle, statistics })
    });
    if stop() {
        return None;
    }
    // A particle of the posterior always made a valid scenario when it was accepted.
    out.into_iter().collect()
}

/// The smallest value whose cumulative weight reaches `q` of the total (the inverse of the
/// weighted empirical distribution function).
pub fn weighted_quantile(values: &[f64], weights: &[f64], q: f64) -> f64 {
    let mut order: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_finite()).collect();
    if order.is_empty() {
        return f64::NAN;
    }
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let total: f64 = order.iter().map(|&i| weights[i]).sum();
    let mut acc = 0.0;
    for &i in &order {
        acc += weights[i];
        if acc >= q * total {
            return values[i];
        }
    }
    values[*order.last().expect("not empty")]
}

/// A weighted sample's summary: mean, sd, median and the central 90% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Marginal {
    /// Weighted mean.
    pub mean: f64,
    /// Weighted standard deviation.
    pub sd: f64,
    /// Weighted median.
    pub median: f64,
    /// 5% weighted quantile.
    pub q05: f64,
    /// 95% weighted quantile.
    pub q95: f64,
}

/// Summarise `values` with `weights` (finite values only).
pub fn marginal(values: &[f64], weights: &[f64]) -> Marginal {
    let (mut sw, mut swx) = (0.0, 0.0);
    for (v, w) in values.iter().zip(weights).filter(|(v, _)| v.is_finite()) {
        sw += w;
        swx += w * v;
    }
    let mean = if sw > 0.0 { swx / sw } else { f64::NAN };
    let var: f64 = values
        .iter()
        .zip(weights)
        .filter(|(v, _)| v.is_finite())
        .map(|(v, w)| w * (v - mean) * (v - mean))
        .sum::<f64>()
        / sw;
    Marginal {
        mean,
        sd: var.sqrt(),
        median: weighted_quantile(values, weights, 0.5),
        q05: weighted_quantile(values, weights, 0.05),
        q95: weighted_quantile(values, weights, 0.95),
    }
}

/// The posterior marginal of parameter `d` in a generation.
pub fn posterior_marginal(g: &Generation, d: usize) -> Marginal {
    let values: Vec<f64> = g.particles.iter().map(|p| p.theta[d]).collect();
    let weights: Vec<f64> = g.particles.iter().map(|p| p.weight).collect();
    marginal(&values, &weights)
}

/// A generation's particles as the diagnostics read them: each particle's weight and values.
pub type Particles<'a> = [(f64, &'a [f64])];

/// What a calibration's generations say about one parameter (docs/CALIBRATING.md, "Has it
/// converged? Does the data inform it?").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diagnostic {
    /// How far the last generation moved the posterior mean from the one before, in the last
    /// generation's posterior sds (NaN with a single generation).
    pub shift: f64,
    /// The last generation's posterior sd over the one before's (NaN with one generation).
    pub sd_ratio: f64,
    /// The width of the posterior's 90% credible interval over the prior's, as generation 0
    /// (particles drawn from the prior, all kept) samples it.
    pub width_vs_prior: f64,
}

/// A last generation that moved a posterior mean by more than this many sds, or changed its
/// sd by more than this fraction, had not converged.
pub const STILL_MOVING: f64 = 0.25;
/// A posterior whose 90% interval is wider than this fraction of its prior's is nearly its
/// prior: the statistics hardly inform the parameter.
pub const LIKE_PRIOR: f64 = 0.8;

impl Diagnostic {
    /// Whether the last generation still moved the posterior: a sampler stopped before it
    /// converged, by its budget or its number of generations.
    pub fn still_moving(&self) -> bool {
        self.shift > STILL_MOVING || (self.sd_ratio - 1.0).abs() > STILL_MOVING
    }

    /// Whether the posterior is nearly the prior.
    pub fn like_prior(&self) -> bool {
        self.width_vs_prior > LIKE_PRIOR
    }
}

/// Parameter `d`'s diagnostic from generation 0 (the prior's sample), the generation before
/// the last (if any) and the last; on the logarithm of the parameter with `log_scale` (a
/// log-uniform prior, whose natural scale it is).
pub fn diagnostic(
    first: &Particles<'_>,
    before: Option<&Particles<'_>>,
    last: &Particles<'_>,
    d: usize,
    log_scale: bool,
) -> Diagnostic {
    let scale = |x: f64| if log_scale { libm::log(x) } else { x };
    let of = |g: &Particles<'_>| {
        let (values, weights): (Vec<f64>, Vec<f64>) = g.iter().map(|(w, t)| (scale(t[d]), *w)).unzip();
        marginal(&values, &weights)
    };
    let (prior, now) = (of(first), of(last));
    let (shift, sd_ratio) = match before {
        Some(b) => {
            let then = of(b);
            ((now.mean - then.mean).abs() / now.sd, now.sd / then.sd)
        }
        None => (f64::NAN, f64::NAN),
    };
    Diagnostic { shift, sd_ratio, width_vs_prior: (now.q95 - now.q05) / (prior.q95 - prior.q05) }
}

/// The weighted correlation of parameters `a` and `b` among `particles` (NaN when either does
/// not vary).
pub fn correlation(particles: &Particles<'_>, a: usize, b: usize) -> f64 {
    let sw: f64 = particles.iter().map(|p| p.0).sum();
    let mean = |d: usize| particles.iter().map(|(w, t)| w * t[d]).sum::<f64>() / sw;
    let (ma, mb) = (mean(a), mean(b));
    let (mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0);
    for (w, t) in particles {
        let (x, y) = (t[a] - ma, t[b] - mb);
        saa += w * x * x;
        sbb += w * y * y;
        sab += w * x * y;
    }
    sab / (saa * sbb).sqrt()
}

/// Below this posterior predictive p-value a statistic is one the fitted model does not
/// reproduce: its observation lies in the outer 5% of what the model predicts.
pub const MISFIT_P: f64 = 0.05;

/// The two-sided posterior predictive p-value of an observation (Gelman, Meng and Stern
/// 1996): how far into the tails of the fitted model's predictions the observed value lies.
/// A replicate observation is a predictive simulation plus the observation error the targets
/// state (normal, sd `sd`), the error model the fit assumes, so the probability that one
/// exceeds `observed` is the mean over the simulations of Φ((sim − observed) / sd), computed
/// exactly (no random numbers); the p-value is twice the smaller tail, at most 1. NaN without
/// a defined simulation.
pub fn predictive_p(simulations: &[f64], observed: f64, sd: f64) -> f64 {
    let defined: Vec<f64> = simulations.iter().copied().filter(|v| v.is_finite()).collect();
    if defined.is_empty() || !observed.is_finite() {
        return f64::NAN;
    }
    // P(replicate > x) for a simulation `sim`, each tail computed directly (a tail near 0 is
    // not found as 1 minus a number near 1, which would lose its digits).
    let beyond = |sim: f64, x: f64| {
        if sd > 0.0 {
            0.5 * libm::erfc((x - sim) / (sd * std::f64::consts::SQRT_2))
        } else if sim > x {
            1.0
        } else if sim < x {
            0.0
        } else {
            0.5
        }
    };
    let n = defined.len() as f64;
    let above = defined.iter().map(|&v| beyond(v, observed)).sum::<f64>() / n;
    let below = defined.iter().map(|&v| beyond(-v, -observed)).sum::<f64>() / n;
    (2.0 * above.min(below)).clamp(0.0, 1.0)
}

/// The particle replication `replication` of a posterior predictive run draws: by weight, from
/// a stream of its own keyed by the run's seed, apart from the model's streams.
pub fn posterior_draw(weights: &[f64], seed: u64, replication: u32) -> usize {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x706f_7374_6572_696f);
    rng.set_stream(replication as u64);
    pick(weights, rng.random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_read_convergence_and_identifiability() {
        let theta: Vec<[f64; 2]> = (0..100).map(|k| [k as f64 / 99.0, (k % 10) as f64]).collect();
        let all: Vec<(f64, &[f64])> = theta.iter().map(|t| (1.0, &t[..])).collect();
        // The prior's sample, then a generation narrowed to the lower half, then one that
        // kept it: the first move is large, the second none.
        let half: Vec<(f64, &[f64])> = theta.iter().take(50).map(|t| (1.0, &t[..])).collect();
        let moved = diagnostic(&all, Some(&all), &half, 0, false);
        assert!(moved.still_moving() && moved.shift > 1.0 && moved.sd_ratio < 0.6, "{moved:?}");
        assert!((moved.width_vs_prior - 0.495).abs() < 0.03 && !moved.like_prior(), "{moved:?}");
        let settled = diagnostic(&all, Some(&half), &half, 0, false);
        assert!(!settled.still_moving() && settled.shift == 0.0 && settled.sd_ratio == 1.0);
        // Parameter 1 is untouched by the narrowing: like its prior.
        assert!(diagnostic(&all, Some(&all), &half, 1, false).like_prior());
        assert!(diagnostic(&all, None, &all, 0, false).shift.is_nan());
        // On the log scale, the top tenth of 1..1000 is a sliver of the prior, not a tenth.
        let wide: Vec<[f64; 1]> = (0..1000).map(|k| [libm::exp(k as f64 / 999.0 * libm::log(1000.0))]).collect();
        let prior: Vec<(f64, &[f64])> = wide.iter().map(|t| (1.0, &t[..])).collect();
        let top: Vec<(f64, &[f64])> = wide.iter().skip(900).map(|t| (1.0, &t[..])).collect();
        let (linear, log) = (diagnostic(&prior, None, &top, 0, false), diagnostic(&prior, None, &top, 0, true));
        assert!(linear.width_vs_prior > 0.5 && (log.width_vs_prior - 0.1).abs() < 0.02, "{linear:?} {log:?}");
        // The second parameter cycles within the first: uncorrelated over the whole range,
        // perfectly correlated with itself.
        assert!(correlation(&all, 0, 1).abs() < 0.1, "{}", correlation(&all, 0, 1));
        assert!((correlation(&all, 0, 0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn weighted_quantiles_invert_the_weighted_distribution() {
        let v = [3.0, 1.0, 2.0, f64::NAN];
        let w = [0.5, 0.25, 0.25, 1.0];
        assert_eq!(weighted_quantile(&v, &w, 0.2), 1.0);
        assert_eq!(weighted_quantile(&v, &w, 0.5), 2.0);
        assert_eq!(weighted_quantile(&v, &w, 0.51), 3.0);
        let m = marginal(&v, &w);
        assert!((m.mean - 2.25).abs() < 1e-12);
    }

    #[test]
    fn predictive_p_values_measure_how_far_out_an_observation_lies() {
        // Centred: replicates fall either side equally often.
        assert!((predictive_p(&[1.0, 2.0, 3.0], 2.0, 0.5) - 1.0).abs() < 1e-12);
        // One sd above a model that always gives 0: P(replicate > 1) = 1 − Φ(1) = 0.1587.
        assert!((predictive_p(&[0.0, 0.0], 1.0, 1.0) - 2.0 * 0.158_655_253_931_457).abs() < 1e-9);
        // Far out on either side, and symmetric.
        assert!(predictive_p(&[0.0; 10], 5.0, 1.0) < 1e-5);
        assert_eq!(predictive_p(&[0.0; 10], 5.0, 1.0), predictive_p(&[0.0; 10], -5.0, 1.0));
        // Undefined simulations are left out; none defined gives none.
        assert!((predictive_p(&[f64::NAN, 0.0], 1.0, 1.0) - predictive_p(&[0.0], 1.0, 1.0)).abs() < 1e-15);
        assert!(predictive_p(&[f64::NAN], 1.0, 1.0).is_nan());
    }

    #[test]
    fn picks_follow_the_weights() {
        let w = [0.0, 3.0, 1.0];
        let n = 4000;
        let picks: Vec<usize> = (0..n).map(|r| posterior_draw(&w, 5, r)).collect();
        assert!(!picks.contains(&0));
        let ones = picks.iter().filter(|&&i| i == 1).count() as f64 / n as f64;
        assert!((ones - 0.75).abs() < 0.03, "{ones}");
        assert_eq!(pick(&w, 0.999_999), 2);
    }
}
