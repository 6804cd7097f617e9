//! Replications: one ChaCha8 stream per replication, run in parallel through [`crate::par`]
//! (rayon's threads with the `parallel` feature, one after another without it), collected in
//! replication order so results never depend on the thread count.

pub mod sweep;
pub mod warm;

use crate::model::Model;
use crate::observe::detail::{Detail, DetailRecorder, DetailRequest};
use crate::observe::{self, Catalogue, Recorder, ReplicationRecord, Results};
use crate::scenario::Scenario;
use crate::stream::ChaCha8Rng;
use rand::SeedableRng;

/// How to run a scenario.
#[derive(Debug, Clone, Copy)]
pub struct RunConfig {
    /// Monte Carlo replications.
    pub replications: u32,
    /// Master seed.
    pub seed: u64,
    /// Worker threads (0 = one per core).
    pub threads: usize,
}

impl RunConfig {
    /// The scenario's own replications and seed, on every core.
    pub fn from_scenario(s: &Scenario) -> RunConfig {
        RunConfig { replications: s.simulation.replications, seed: s.simulation.seed, threads: 0 }
    }
}

/// Ask every running engine loop to stop at its next check (see [`crate::stop`]).
pub fn request_stop() {
    crate::stop::request();
}

/// Whether a stop was requested.
pub fn stop_requested() -> bool {
    crate::stop::requested()
}

/// Why a run could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Worker threads could not be started.
    #[error(transparent)]
    ThreadPool(#[from] crate::par::PoolError),
    /// A stop was requested before every replication finished.
    #[error("interrupted after {completed} of {total} replications; nothing was written")]
    Interrupted {
        /// Replications finished.
        completed: usize,
        /// Replications asked for.
        total: usize,
    },
    /// A replication's warm state could not be read, used or saved.
    #[error("replication {replication}: {reason}; nothing was written")]
    Warm {
        /// The replication.
        replication: u32,
        /// Why.
        reason: String,
    },
}

/// The random stream of replication `r`: ChaCha8 keyed by the master seed, stream number `r`.
/// Streams are independent and portable across platforms and versions of this tool.
pub fn replication_rng(seed: u64, replication: u32) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(replication as u64);
    rng
}

/// Simulate one replication from initialisation to the horizon.
pub fn run_replication(s: &Scenario, cat: &Catalogue, seed: u64, replication: u32) -> ReplicationRecord {
    simulate(s, cat, seed, replication, &|| false, None, Warm::default())
        .expect("a replication founded here cannot fail")
        .expect("never asked to stop")
        .0
}

/// Like [`run_replication`], starting from a saved state or saving its own as `warm` says:
/// the explorer's workers keep their replications' states between reruns. Err when a state
/// cannot resume under `s` or cannot be kept.
pub fn run_replication_warm(
    s: &Scenario,
    cat: &Catalogue,
    seed: u64,
    replication: u32,
    warm: Warm,
) -> Result<ReplicationRecord, String> {
    Ok(simulate(s, cat, seed, replication, &|| false, None, warm)?.expect("never asked to stop").0)
}

/// Like [`run_replication`], but None as soon as a stop is requested ([`crate::stop`]). The
/// request is checked between the stages of building the world and every tick, so even a
/// replication of millions of agents stops within about a second of it.
pub fn run_replication_or_stop(
    s: &Scenario,
    cat: &Catalogue,
    seed: u64,
    replication: u32,
) -> Option<ReplicationRecord> {
    simulate(s, cat, seed, replication, &stop_requested, None, Warm::default())
        .expect("a replication founded here cannot fail")
        .map(|(record, _)| record)
}

/// Reads replication `r`'s saved state (the caller's I/O).
pub type LoadState<'a> = dyn Fn(u32) -> Result<warm::WarmState, String> + Sync + 'a;

/// Keeps replication `r`'s encoded state (the caller's I/O).
pub type SaveState<'a> = dyn Fn(u32, Vec<u8>) -> Result<(), String> + Sync + 'a;

/// Where replications start and what they leave behind: warm starts ([`warm`]). The default
/// founds every replication and keeps nothing.
#[derive(Clone, Copy, Default)]
pub struct Warm<'a> {
    /// Replication `r` starts from this state, its burn-in already simulated, instead of from
    /// founding. The caller has checked it belongs to the scenario run ([`warm::plan_fork`],
    /// [`warm::WarmState::check`]).
    pub from: Option<&'a LoadState<'a>>,
    /// Called with replication `r`'s state at the end of its burn-in, encoded ([`warm::encode`]).
    pub save: Option<&'a SaveState<'a>>,
}

/// Replication `replication`'s world founded and run through its burn-in, with its stream;
/// None when `stop` answers true.
pub(crate) fn burned_in(
    s: &Scenario,
    seed: u64,
    replication: u32,
    stop: &dyn Fn() -> bool,
) -> Option<(Model, ChaCha8Rng)> {
    let mut rng = replication_rng(seed, replication);
    let mut model = Model::new_unless(s, &mut rng, stop)?;
    for _ in 0..s.burn_in_ticks() {
        if stop() {
            return None;
        }
        model.step(&mut rng);
    }
    Some((model, rng))
}

/// One replication, with its agent-level detail if `detail` covers it. Observing the detail
/// draws no random numbers, so the replication is the same with or without it. Ok(None): a stop
/// was requested.
fn simulate(
    s: &Scenario,
    cat: &Catalogue,
    seed: u64,
    replication: u32,
    stop: &dyn Fn() -> bool,
    detail: Option<&DetailRequest>,
    warm: Warm,
) -> Result<Option<(ReplicationRecord, Option<Detail>)>, String> {
    if stop() {
        return Ok(None);
    }
    let (mut model, mut rng) = match warm.from {
        Some(load) => load(replication)?.resume(s)?,
        None => {
            let Some((model, rng)) = burned_in(s, seed, replication, stop) else { return Ok(None) };
            if let Some(save) = warm.save {
                save(replication, warm::encode(s, seed, replication, &model, &rng))?;
            }
            (model, rng)
        }
    };
    model.start_recording();
    let mut recorder = Recorder::new(cat, &model);
    let mut detailed = detail.filter(|d| d.covers(replication)).map(|d| DetailRecorder::new(d, replication, &model));
    for _ in 0..s.ticks() {
        if stop() {
            return Ok(None);
        }
        model.step(&mut rng);
        recorder.observe(cat, &model);
        if let Some(d) = detailed.as_mut() {
            d.observe(&model);
        }
    }
    let detail = detailed.map(|d| d.finish(&model));
    Ok(Some((recorder.finish(cat, &model), detail)))
}

/// Run every replication and reduce them; `on_replication_done` is called once per finished
/// replication (from worker threads) for progress reporting.
pub fn run(s: &Scenario, cfg: RunConfig, on_replication_done: &(dyn Fn() + Sync)) -> Result<Results, EngineError> {
    run_varied(s, cfg, &|_| None, on_replication_done)
}

/// Like [`run`], but replication `r` simulates `vary(r)` when that is Some (a scenario with
/// the same coalitions, groups, population and clock as `s`, e.g. parameters drawn from a
/// posterior), and `s` otherwise.
pub fn run_varied(
    s: &Scenario,
    cfg: RunConfig,
    vary: &(dyn Fn(u32) -> Option<Scenario> + Sync),
    on_replication_done: &(dyn Fn() + Sync),
) -> Result<Results, EngineError> {
    run_detailed(s, cfg, vary, None, on_replication_done)
}

/// Like [`run_varied`], and the agent-level detail `detail` asks for in `Results::details`.
pub fn run_detailed(
    s: &Scenario,
    cfg: RunConfig,
    vary: &(dyn Fn(u32) -> Option<Scenario> + Sync),
    detail: Option<&DetailRequest>,
    on_replication_done: &(dyn Fn() + Sync),
) -> Result<Results, EngineError> {
    run_warm(s, cfg, vary, detail, Warm::default(), on_replication_done)
}

/// Like [`run_detailed`], each replication started, or its burn-in saved, as `warm` says.
pub fn run_warm(
    s: &Scenario,
    cfg: RunConfig,
    vary: &(dyn Fn(u32) -> Option<Scenario> + Sync),
    detail: Option<&DetailRequest>,
    warm: Warm,
    on_replication_done: &(dyn Fn() + Sync),
) -> Result<Results, EngineError> {
    let cat = Catalogue::new(s);
    let replications = cfg.replications as usize;
    type Outcome = Result<Option<(ReplicationRecord, Option<Detail>)>, (u32, String)>;
    let records: Vec<Outcome> = crate::par::with_threads(cfg.threads, || {
        crate::par::map(0..replications, |r| {
            if stop_requested() {
                return Ok(None);
            }
            let r = r as u32;
            let varied = vary(r);
            let rec = simulate(varied.as_ref().unwrap_or(s), &cat, cfg.seed, r, &stop_requested, detail, warm)
                .map_err(|why| (r, why))?;
            if rec.is_some() {
                on_replication_done();
            }
            Ok(rec)
        })
    })?;
    let mut done = Vec::with_capacity(records.len());
    for record in records {
        match record {
            Err((replication, reason)) => return Err(EngineError::Warm { replication, reason }),
            Ok(r) => done.push(r),
        }
    }
    let completed = done.iter().filter(|r| r.is_some()).count();
    if completed < done.len() {
        return Err(EngineError::Interrupted { completed, total: done.len() });
    }
    let (records, details): (Vec<ReplicationRecord>, Vec<Option<Detail>>) = done.into_iter().flatten().unzip();
    let mut results = crate::par::with_threads(cfg.threads, || results_of(s, &records))?;
    results.details = details.into_iter().flatten().collect();
    Ok(results)
}

/// Run several arms of a comparison with `cfg`'s seed and replications: when they share their
/// burn-in ([`warm::can_share`]: they differ only in later policy changes and shocks), each
/// replication's common history is simulated once ([`warm::Arms`]); otherwise each arm
/// runs alone. Either way each arm's results are its own run's, byte for byte.
pub fn run_together(arms: &[Scenario], cfg: RunConfig) -> Result<Vec<Results>, EngineError> {
    let Some(together) = warm::Arms::new(arms) else {
        return arms.iter().map(|s| run(s, cfg, &|| {})).collect();
    };
    let replications = cfg.replications as usize;
    let records: Vec<Option<Vec<ReplicationRecord>>> = crate::par::with_threads(cfg.threads, || {
        crate::par::map(0..replications, |r| {
            if stop_requested() {
                return None;
            }
            together.run(cfg.seed, r as u32, &stop_requested)
        })
    })?;
    let completed = records.iter().filter(|r| r.is_some()).count();
    if completed < records.len() {
        return Err(EngineError::Interrupted { completed, total: records.len() });
    }
    let records: Vec<Vec<ReplicationRecord>> = records.into_iter().flatten().collect();
    (0..arms.len())
        .map(|a| {
            let arm: Vec<ReplicationRecord> = records.iter().map(|r| r[a].clone()).collect();
            Ok(crate::par::with_threads(cfg.threads, || results_of(&arms[a], &arm))?)
        })
        .collect()
}

/// Each replication's state at the end of its burn-in, encoded ([`warm::encode`]): the
/// burn-ins alone, in parallel, in replication order.
pub fn burn_ins(s: &Scenario, cfg: RunConfig) -> Result<Vec<Vec<u8>>, EngineError> {
    let replications = cfg.replications as usize;
    let states: Vec<Option<Vec<u8>>> = crate::par::with_threads(cfg.threads, || {
        crate::par::map(0..replications, |r| {
            let r = r as u32;
            let (model, rng) = burned_in(s, cfg.seed, r, &stop_requested)?;
            Some(warm::encode(s, cfg.seed, r, &model, &rng))
        })
    })?;
    let completed = states.iter().filter(|r| r.is_some()).count();
    if completed < states.len() {
        return Err(EngineError::Interrupted { completed, total: states.len() });
    }
    Ok(states.into_iter().flatten().collect())
}

/// The results of a run from its replications' records, given in replication order: the
/// cross-replication statistics and the diagnostics. [`run`] ends with this; a caller that
/// ran the replications elsewhere (the browser explorer's workers) gets the same results.
pub fn results_of(s: &Scenario, records: &[ReplicationRecord]) -> Results {
    let mut results = observe::aggregate(Catalogue::new(s), records);
    results.diagnostics = observe::diagnostics::diagnose(s, &results.catalogue, records, &results.summary);
    results.programmes = observe::diagnostics::programme_fates(&results.catalogue, records);
    results
}

#[cfg(test)]
mod stream_tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// The streams were rand_chacha's until the core moved to chacha20 (faster in
    /// WebAssembly): every draw must be the same word, so that no result changes.
    #[test]
    fn the_streams_are_rand_chachas_word_for_word() {
        for seed in [0u64, 1, 42, 20201, u64::MAX] {
            for stream in [0u64, 1, 99, 0x1a7e_c0de, 0x3011_1555, 1 << 63, u64::MAX] {
                let mut ours = replication_rng(seed, 0);
                ours.set_stream(stream);
                let mut theirs = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                theirs.set_stream(stream);
                for k in 0..1000 {
                    // Mixed widths, so the buffers' word offsets are compared too.
                    assert_eq!(ours.random::<u32>(), theirs.random::<u32>(), "seed {seed} stream {stream} draw {k}");
                    assert_eq!(ours.random::<f64>().to_bits(), theirs.random::<f64>().to_bits());
                }
                assert_eq!((ours.get_seed(), ours.get_stream()), (theirs.get_seed(), theirs.get_stream()));
                // The side stream is made from the seed and stream read back.
                let mut side = ChaCha8Rng::from_seed(ours.get_seed());
                let mut their_side = rand_chacha::ChaCha8Rng::from_seed(theirs.get_seed());
                side.set_stream(stream ^ (1 << 63));
                their_side.set_stream(stream ^ (1 << 63));
                assert_eq!(side.random::<u64>(), their_side.random::<u64>());
            }
        }
    }
}
