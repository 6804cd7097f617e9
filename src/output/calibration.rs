//! Calibration results: the description (`calibration.json`), the checksummed log of complete
//! generations (`generations.jsonl`, what a rerun resumes from), the data files
//! (`posterior.csv`, `generations.csv`, `summary.csv`, `predictive.csv`), charts drawn from
//! those files, `report.html` and the manifest.
//!
//! Parameter values and weights in `posterior.csv` are printed in full (the shortest text
//! that reads back to the same number), so a posterior predictive run reads exactly the
//! particles the sampler kept.

use super::charts::{ChartSize, Figure, Line, Look, Panel, Rendered, Scatter, render};
use super::commit::{Holding, Kind, Staging, check_target};
use super::report::esc;
use super::{MANIFEST, OutputError, io, num, sha256_hex, write_atomic};
use crate::inference::abc::{self, Config, Generation, Particle, Stop};
use crate::inference::calibrate::{self, Marginal, Predictive, Saved, marginal, posterior_marginal};
use crate::inference::targets::{Targets, describe_prior};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The description of a calibration.
pub const CALIBRATION_JSON: &str = "calibration.json";
/// Complete generations, one checksummed JSON line each.
pub const GENERATIONS_LOG: &str = "generations.jsonl";

/// What the outputs need to know about a calibration, stored in `calibration.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CalibrationInfo {
    /// SHA-256 of the resolved targets file and base scenario.
    pub identity: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Where the base scenario came from.
    pub base: String,
    /// Name of the base scenario.
    pub base_name: String,
    /// Parameter key paths.
    pub parameters: Vec<String>,
    /// Their priors, described.
    pub priors: Vec<String>,
    /// Prior support per parameter, for charts: (low, high), infinite when unbounded.
    pub supports: Vec<(f64, f64)>,
    /// Observed statistics.
    pub statistics: Vec<ObservedInfo>,
    /// Particles per generation.
    pub particles: u32,
    /// Replications averaged per simulation.
    pub replications: u32,
    /// Master seed.
    pub seed: u64,
    /// The models compared, by name (empty: one model, the base).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
}

/// One observed statistic, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ObservedInfo {
    /// Label.
    pub label: String,
    /// Observed value.
    pub value: f64,
    /// Its standard deviation.
    pub sd: f64,
    /// Held out of the fit.
    pub held_out: bool,
    /// Where it comes from.
    pub source: String,
}

impl CalibrationInfo {
    /// Describe a targets file.
    pub fn new(t: &Targets) -> CalibrationInfo {
        use crate::inference::prior::Prior;
        CalibrationInfo {
            identity: t.identity(),
            name: t.file.name.clone(),
            description: t.file.description.clone(),
            base: t.base_origin.clone(),
            base_name: t.base.name.clone(),
            parameters: t.keys(),
            priors: t.priors.iter().map(describe_prior).collect(),
            supports: t
                .priors
                .iter()
                .map(|p| match *p {
                    Prior::Uniform { lo, hi }
                    | Prior::LogUniform { lo, hi }
                    | Prior::TruncatedNormal { lo, hi, .. } => (lo, hi),
                    Prior::Beta { .. } => (0.0, 1.0),
                    Prior::Normal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
                })
                .map(|(lo, hi): (f64, f64)| {
                    (if lo.is_finite() { lo } else { -1e300 }, if hi.is_finite() { hi } else { 1e300 })
                })
                .collect(),
            statistics: t
                .statistics
                .iter()
                .map(|s| ObservedInfo {
                    label: s.label.clone(),
                    value: s.value,
                    sd: s.sd,
                    held_out: s.held_out,
                    source: s.source.clone(),
                })
                .collect(),
            particles: t.file.abc.particles,
            replications: t.file.replications,
            seed: t.file.seed,
            models: t.model_names(),
        }
    }
}

/// A generation as saved: non-finite numbers (the first tolerance, an undefined statistic)
/// are written as null.
#[derive(Serialize, Deserialize)]
struct SavedGeneration {
    tolerance: Option<f64>,
    acceptance: f64,
    ess: f64,
    simulations: u64,
    attempts: u64,
    last_batch: u64,
    particles: Vec<SavedParticle>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct SavedParticle {
    /// Written only in a model comparison, so that other logs keep their bytes.
    #[serde(default, skip_serializing_if = "is_zero")]
    model: usize,
    theta: Vec<f64>,
    weight: f64,
    distance: Option<f64>,
    statistics: Vec<Option<f64>>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn is_zero(m: &usize) -> bool {
    *m == 0
}

impl SavedParticle {
    /// A particle as JSON holds it: the non-finite as null.
    pub(crate) fn from(p: &Particle) -> SavedParticle {
        SavedParticle {
            model: p.model,
            theta: p.theta.clone(),
            weight: p.weight,
            distance: finite(p.distance),
            statistics: p.statistics.iter().map(|&s| finite(s)).collect(),
        }
    }

    /// The particle back, exactly (JSON's floats round-trip).
    pub(crate) fn into_particle(self) -> Particle {
        Particle {
            model: self.model,
            theta: self.theta,
            weight: self.weight,
            distance: self.distance.unwrap_or(f64::INFINITY),
            statistics: self.statistics.into_iter().map(|s| s.unwrap_or(f64::NAN)).collect(),
        }
    }
}

impl SavedGeneration {
    fn from(g: &Generation) -> SavedGeneration {
        SavedGeneration {
            tolerance: finite(g.tolerance),
            acceptance: g.acceptance,
            ess: g.ess,
            simulations: g.simulations,
            attempts: g.attempts,
            last_batch: g.last_batch,
            particles: g.particles.iter().map(SavedParticle::from).collect(),
        }
    }

    fn into_generation(self) -> Generation {
        Generation {
            tolerance: self.tolerance.unwrap_or(f64::INFINITY),
            acceptance: self.acceptance,
            ess: self.ess,
            simulations: self.simulations,
            attempts: self.attempts,
            last_batch: self.last_batch,
            particles: self.particles.into_iter().map(SavedParticle::into_particle).collect(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct LogLine<S, G> {
    calibration: S,
    generation: usize,
    data: G,
}

/// A line of the generations log: the SHA-256 of its JSON text, a space, and that text.
pub fn line_for(info: &CalibrationInfo, index: usize, g: &Generation) -> String {
    let line = LogLine { calibration: info.identity.as_str(), generation: index, data: SavedGeneration::from(g) };
    let body = serde_json::to_string(&line).expect("a generation serialises");
    format!("{} {body}", sha256_hex(body.as_bytes()))
}

/// The complete generations of `info`'s calibration saved in a log: verified lines of this
/// calibration, generation 0 onwards without a gap. Anything after the first torn, edited or
/// foreign line is dropped (and recomputed).
pub fn read_generations(path: &Path, info: &CalibrationInfo) -> Vec<Generation> {
    std::fs::read_to_string(path).map(|text| generations_of_log(&text, info)).unwrap_or_default()
}

/// The complete generations in a log's text (see [`read_generations`]).
pub fn generations_of_log(text: &str, info: &CalibrationInfo) -> Vec<Generation> {
    let mut out = Vec::new();
    for (sum, body) in text.lines().filter_map(|l| l.split_once(' ')) {
        if sha256_hex(body.as_bytes()) != sum {
            break;
        }
        match serde_json::from_str::<LogLine<String, SavedGeneration>>(body) {
            Ok(l) if l.calibration == info.identity && l.generation == out.len() => out.push(l.data.into_generation()),
            _ => break,
        }
    }
    out
}

/// The log's text of `generations`: a line each, from generation 0.
pub fn log_of(info: &CalibrationInfo, generations: &[Generation]) -> String {
    generations.iter().enumerate().map(|(i, g)| line_for(info, i, g) + "\n").collect()
}

/// The attempts of one block.
pub type Attempts = Vec<Option<Particle>>;

/// A block of attempts (`attempt_blocks`): one line, the SHA-256 of a JSON text and that text,
/// as the generations log writes a generation. The text names the calibration, the tool's
/// version and the *basis*, the SHA-256 of the log lines of the generations the attempts were
/// proposed from.
#[derive(Serialize, Deserialize)]
struct Block<S> {
    calibration: S,
    version: S,
    generation: usize,
    basis: S,
    first: u64,
    attempts: Vec<Option<SavedParticle>>,
}

/// The SHA-256 of the log lines of `generations`: what the next generation proposes from.
pub fn basis(info: &CalibrationInfo, generations: &[Generation]) -> String {
    sha256_hex(log_of(info, generations).as_bytes())
}

/// A block of attempts of the generation after `before`, as its file holds it: one line.
pub fn encode(info: &CalibrationInfo, before: &[Generation], first: u64, attempts: &[Option<Particle>]) -> String {
    let basis = basis(info, before);
    let block = Block {
        calibration: info.identity.as_str(),
        version: env!("CARGO_PKG_VERSION"),
        generation: before.len(),
        basis: basis.as_str(),
        first,
        attempts: attempts.iter().map(|a| a.as_ref().map(SavedParticle::from)).collect(),
    };
    let body = serde_json::to_string(&block).expect("a block serialises");
    format!("{} {body}\n", sha256_hex(body.as_bytes()))
}

/// A block's first attempt and its attempts, if `text` is a verified block of `info`'s
/// generation `g` proposed from the generations whose [`basis`] is `basis`.
pub fn decode(text: &str, info: &CalibrationInfo, g: usize, basis: &str) -> Option<(u64, Attempts)> {
    let (sum, body) = text.strip_suffix('\n')?.split_once(' ')?;
    if sha256_hex(body.as_bytes()) != sum {
        return None;
    }
    let block: Block<String> = serde_json::from_str(body).ok()?;
    let ours = block.calibration == info.identity
        && block.version == env!("CARGO_PKG_VERSION")
        && block.generation == g
        && block.basis == basis;
    ours.then(|| (block.first, block.attempts.into_iter().map(|a| a.map(SavedParticle::into_particle)).collect()))
}

/// Where a calibration computes: a resumable working folder inside `dir` (kept when
/// interrupted, found again by a rerun of the same targets). When `dir` already holds this
/// calibration's finished result, its generations seed the working folder, so a rerun
/// recomputes nothing the log holds. Returns the staging, the generations already done and the
/// text of the attempts kept of the generation after them, if any (see [`resume_point`]).
pub fn working_place(
    dir: &Path,
    info: &CalibrationInfo,
    force: bool,
) -> Result<(Staging, Vec<Generation>, Option<String>), OutputError> {
    let (target, holding) = check_target(dir, Kind::Calibration, force)?;
    let ours = matches!(holding, Holding::Result { kind: Kind::Calibration, .. }) && same_calibration(&target, info);
    if matches!(holding, Holding::Result { kind: Kind::Calibration, .. }) && !ours && !force {
        return Err(OutputError::Unusable {
            path: dir.display().to_string(),
            reason: "it holds the result of a different calibration; choose another --out, or pass --force to replace it (files coprosim did not write are kept)".into(),
        });
    }
    let staging = Staging::resumable(dir, Kind::Calibration, force, &work_key(info))?;
    let work = staging.dir().to_path_buf();
    std::fs::create_dir_all(&work).map_err(io(&work))?;
    let mut done = read_generations(&work.join(GENERATIONS_LOG), info);
    let mut unfinished = std::fs::read_to_string(work.join(UNFINISHED)).ok();
    if ours {
        let finished = read_generations(&target.join(GENERATIONS_LOG), info);
        if finished.len() > done.len() {
            done = finished;
            unfinished = std::fs::read_to_string(target.join(UNFINISHED)).ok();
        }
    }
    // Rewrite the log with only the verified generations, so appends never follow a torn line.
    write_atomic(&work, GENERATIONS_LOG, log_of(info, &done).as_bytes())?;
    write_atomic(&work, CALIBRATION_JSON, &serde_json::to_vec_pretty(info).expect("serialises"))?;
    Ok((staging, done, unfinished))
}

/// Replace the working folder's log with `generations` (those a resumed run goes on from).
pub fn write_log(dir: &Path, info: &CalibrationInfo, generations: &[Generation]) -> Result<(), OutputError> {
    write_atomic(dir, GENERATIONS_LOG, log_of(info, generations).as_bytes()).map(|_| ())
}

/// The attempts of the generation under way when a calibration stopped (a budget or a stop cut
/// it short), kept for a rerun: a block of attempts from 0 (`attempt_blocks`' format).
pub const UNFINISHED: &str = "unfinished_generation.jsonl";

/// Where a run with `cfg` resumes from what was saved: the generations it would have computed
/// itself ([`abc::reusable`]: saved under other stopping rules, only as far as these would
/// have gone), and the kept attempts of the generation after them when they are a verified
/// block of exactly that generation, proposed from exactly those generations.
pub fn resume_point(info: &CalibrationInfo, saved: Vec<Generation>, unfinished: Option<&str>, cfg: &Config) -> Saved {
    let mut generations = saved;
    generations.truncate(abc::reusable(&generations, cfg));
    let basis = basis(info, &generations);
    let unfinished = unfinished
        .and_then(|text| decode(text, info, generations.len(), &basis))
        .filter(|(first, attempts)| *first == 0 && attempts.len().is_multiple_of(cfg.batch))
        .map(|(_, attempts)| attempts)
        .unwrap_or_default();
    Saved { generations, unfinished }
}

/// The name of a calibration's resumable working folder.
fn work_key(info: &CalibrationInfo) -> String {
    format!("calibration-{}", &info.identity[..16])
}

/// The complete generations of `info`'s calibration saved in `dir`, read without writing
/// anything: its working folder's log, or its finished result's when that holds more. What a
/// task computing a block of attempts proposes from, while the merge owns the folder.
pub fn saved_generations(dir: &Path, info: &CalibrationInfo) -> Vec<Generation> {
    let working = read_generations(&super::commit::resumable_dir(dir, &work_key(info)).join(GENERATIONS_LOG), info);
    let finished =
        if same_calibration(dir, info) { read_generations(&dir.join(GENERATIONS_LOG), info) } else { Vec::new() };
    if finished.len() > working.len() { finished } else { working }
}

/// Whether `dir` holds a result of the calibration `info` describes.
fn same_calibration(dir: &Path, info: &CalibrationInfo) -> bool {
    std::fs::read(dir.join(CALIBRATION_JSON))
        .ok()
        .and_then(|b| serde_json::from_slice::<CalibrationInfo>(&b).ok())
        .is_some_and(|o| o.identity == info.identity)
}

/// Append a complete generation to the working folder's log (synced to disk).
pub fn append_generation(dir: &Path, info: &CalibrationInfo, index: usize, g: &Generation) -> Result<(), OutputError> {
    use std::io::Write;
    let path = dir.join(GENERATIONS_LOG);
    let mut log = std::fs::OpenOptions::new().append(true).create(true).open(&path).map_err(io(&path))?;
    log.write_all((line_for(info, index, g) + "\n").as_bytes()).map_err(io(&path))?;
    log.sync_data().map_err(io(&path))
}

/// Print a number in full: the shortest text that reads back to the same value.
fn full(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { String::new() }
}

fn csv_bytes(header: &[String], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("flushing to memory")
}

/// `posterior.csv`: every particle of every generation, with its weight and distance.
pub fn posterior_csv(info: &CalibrationInfo, gens: &[Generation]) -> Vec<u8> {
    let mut header: Vec<String> = ["generation", "particle", "weight", "distance"].map(String::from).to_vec();
    header.extend(info.parameters.iter().cloned());
    // A model comparison names each particle's model last, so the columns before keep their
    // places.
    let compared = !info.models.is_empty();
    if compared {
        header.push("model".into());
    }
    let rows = gens.iter().enumerate().flat_map(|(g, generation)| {
        generation.particles.iter().enumerate().map(move |(i, p)| {
            let mut row = vec![g.to_string(), i.to_string(), full(p.weight), full(p.distance)];
            row.extend(p.theta.iter().map(|&x| full(x)));
            if compared {
                row.push(info.models[p.model].clone());
            }
            row
        })
    });
    csv_bytes(&header, rows)
}

/// `models.csv` of a model comparison: each model's posterior probability in every
/// generation, with its Monte Carlo standard error and its particles.
pub fn models_csv(info: &CalibrationInfo, gens: &[Generation]) -> Vec<u8> {
    let header: Vec<String> =
        ["generation", "model", "probability", "mc_error", "particles"].map(String::from).to_vec();
    let rows = gens.iter().enumerate().flat_map(|(g, generation)| {
        let probabilities = abc::model_probabilities(generation, info.models.len());
        info.models.iter().zip(probabilities).enumerate().map(move |(m, (name, (p, err)))| {
            let n = generation.particles.iter().filter(|q| q.model == m).count();
            vec![g.to_string(), name.clone(), num(p), num(err), n.to_string()]
        })
    });
    csv_bytes(&header, rows)
}

/// `generations.csv`: the schedule of tolerances and what each generation cost.
pub fn generations_csv(gens: &[Generation]) -> Vec<u8> {
    let header = ["generation", "tolerance", "acceptance_rate", "ess", "simulations", "cumulative_simulations"]
        .map(String::from);
    let mut total = 0u64;
    let rows = gens.iter().enumerate().map(|(g, generation)| {
        total += generation.simulations;
        vec![
            g.to_string(),
            num(generation.tolerance),
            num(generation.acceptance),
            num(generation.ess),
            generation.simulations.to_string(),
            total.to_string(),
        ]
    });
    csv_bytes(&header, rows.collect::<Vec<_>>().into_iter())
}

/// `predictive.csv`: one row per posterior predictive simulation, its particle and every
/// statistic.
pub fn predictive_csv(info: &CalibrationInfo, pred: &[Predictive]) -> Vec<u8> {
    let mut header: Vec<String> = ["draw", "particle"].map(String::from).to_vec();
    header.extend(info.statistics.iter().map(|s| s.label.clone()));
    let rows = pred.iter().enumerate().map(|(k, p)| {
        let mut row = vec![k.to_string(), p.particle.to_string()];
        row.extend(p.statistics.iter().map(|&x| num(x)));
        row
    });
    csv_bytes(&header, rows)
}

/// A curve of statistics: its family, its axis and (position, statistic index) points.
type Curve = (String, &'static str, Vec<(f64, usize)>);

/// Where a statistic's label puts it on a curve: its family (`survival`, `members[shop/all]`),
/// the axis (`weeks` or `year`) and its position, from the labels targets give
/// (`survival@26weeks[all/g]`, `members@year6[shop/all]`, `NAME@year6`).
fn curve_point(label: &str) -> Option<(String, &'static str, f64)> {
    let (head, rest) = label.split_once('@')?;
    let (position, scope) = match rest.find('[') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if let Some(year) = position.strip_prefix("year") {
        return Some((format!("{head}{scope}"), "year", year.parse().ok()?));
    }
    let weeks: f64 = position.strip_suffix("weeks")?.parse().ok()?;
    (head == "survival").then(|| (format!("survival{scope}"), "weeks", weeks))
}

/// A curve's family as a title: `members[shop/all]` → "members of shop", `survival[all/g]`
/// → "survival of g", `x[c/g]` → "x of c, g"; a flow's total, `joins_per_year`, is "joins a
/// year".
fn readable(family: &str) -> String {
    let family = family.replace("_per_year", " a year");
    let Some((head, scope)) = family.split_once('[') else { return family };
    match scope.trim_end_matches(']').split_once('/') {
        Some(("all", "all")) | None => head.to_string(),
        Some((c, "all")) => format!("{head} of {c}"),
        Some(("all", g)) => format!("{head} of {g}"),
        Some((c, g)) => format!("{head} of {c}, {g}"),
    }
}

/// Statistic `s` of every posterior predictive simulation.
fn predicted(pred: &[Predictive], s: usize) -> Vec<f64> {
    pred.iter().map(|p| p.statistics[s]).collect()
}

/// The posterior predictive p-value of each statistic's observation
/// ([`calibrate::predictive_p`]); NaN without predictive simulations.
pub fn predictive_ps(info: &CalibrationInfo, pred: &[Predictive]) -> Vec<f64> {
    info.statistics
        .iter()
        .enumerate()
        .map(|(s, o)| calibrate::predictive_p(&predicted(pred, s), o.value, o.sd))
        .collect()
}

/// The statistics the fitted model does not reproduce (posterior predictive p-value `ps`,
/// from [`predictive_ps`], below [`calibrate::MISFIT_P`]), each as one sentence for the
/// terminal.
pub fn misfits(info: &CalibrationInfo, pred: &[Predictive], ps: &[f64]) -> Vec<String> {
    info.statistics
        .iter()
        .enumerate()
        .filter(|(s, _)| ps[*s] < calibrate::MISFIT_P)
        .map(|(s, o)| {
            let (m, _) = predictive_marginal(pred, s);
            format!(
                "{}{}: the fitted model does not reproduce the observed {} (posterior predictive p = {:.3}; its simulations give {} to {}, 5-95%): widen its sd if the observation is less certain than stated, or the model lacks what produces it",
                o.label,
                if o.held_out { " (held out)" } else { "" },
                num(o.value),
                ps[s],
                num(m.q05),
                num(m.q95)
            )
        })
        .collect()
}

/// Each parameter's convergence and identifiability diagnostic, from every generation's
/// particles in order (generation 0 first), on the log scale for a log-uniform prior (as
/// `info` describes its priors): empty without generations.
pub fn diagnostics(info: &CalibrationInfo, generations: &[Vec<(f64, &[f64])>]) -> Vec<calibrate::Diagnostic> {
    let Some(last) = generations.last() else { return Vec::new() };
    let before = generations.len().checked_sub(2).map(|g| generations[g].as_slice());
    (0..info.parameters.len())
        .map(|d| {
            let log = info.priors[d].starts_with("log_uniform");
            calibrate::diagnostic(&generations[0], before, last, d, log)
        })
        .collect()
}

/// The particles of every generation, as [`diagnostics`] reads them.
pub fn particles_of(generations: &[Generation]) -> Vec<Vec<(f64, &[f64])>> {
    generations.iter().map(|g| g.particles.iter().map(|p| (p.weight, p.theta.as_slice())).collect()).collect()
}

/// What the diagnostics warn of: a posterior the last generation still moved (not
/// converged), a posterior nearly its prior (not informed by the statistics).
pub fn diagnostic_warnings(info: &CalibrationInfo, diagnostics: &[calibrate::Diagnostic]) -> Vec<String> {
    let mut out = Vec::new();
    for (key, d) in info.parameters.iter().zip(diagnostics) {
        if d.still_moving() {
            out.push(format!(
                "{key}: the last generation still moved its posterior (the mean by {:.2} sd, the sd by a factor {:.2}): the sampler had not converged when it stopped; allow more generations or a larger budget and rerun to resume",
                d.shift, d.sd_ratio
            ));
        }
        if d.like_prior() {
            out.push(format!(
                "{key}: its posterior is nearly its prior (its 90% interval is {:.2} of the prior's): the statistics say little about it; fix it in the base scenario if it is known, or observe something it changes",
                d.width_vs_prior
            ));
        }
    }
    out
}

/// `diagnostics.csv`: per parameter, how far the last generation moved its posterior and how
/// much narrower than its prior the posterior is, with the two verdicts.
pub fn diagnostics_csv(info: &CalibrationInfo, diagnostics: &[calibrate::Diagnostic]) -> Vec<u8> {
    let header =
        ["parameter", "mean_shift_sd", "sd_ratio", "width_vs_prior", "still_moving", "like_prior"].map(String::from);
    let rows = info.parameters.iter().zip(diagnostics).map(|(key, d)| {
        vec![
            key.clone(),
            num(d.shift),
            num(d.sd_ratio),
            num(d.width_vs_prior),
            d.still_moving().to_string(),
            d.like_prior().to_string(),
        ]
    });
    csv_bytes(&header, rows.collect::<Vec<_>>().into_iter())
}

/// The posterior predictive summary of statistic `s`: unweighted (draws were made by weight).
pub fn predictive_marginal(pred: &[Predictive], s: usize) -> (Marginal, usize) {
    let values = predicted(pred, s);
    let n = values.iter().filter(|v| v.is_finite()).count();
    (marginal(&values, &vec![1.0; values.len()]), n)
}

/// `summary.csv`: per parameter its prior and posterior (mean, sd, median, 90% credible
/// interval); per statistic its observed value, the posterior predictive distribution and
/// the observation's posterior predictive p-value.
pub fn summary_csv(info: &CalibrationInfo, last: &Generation, pred: &[Predictive]) -> Vec<u8> {
    let header = [
        "kind",
        "name",
        "prior_or_source",
        "observed",
        "observed_sd",
        "held_out",
        "mean",
        "sd",
        "median",
        "q05",
        "q95",
        "n",
        "predictive_p",
    ]
    .map(String::from);
    let mut rows = Vec::new();
    for (d, key) in info.parameters.iter().enumerate() {
        let m = posterior_marginal(last, d);
        rows.push(vec![
            "parameter".into(),
            key.clone(),
            info.priors[d].clone(),
            String::new(),
            String::new(),
            String::new(),
            num(m.mean),
            num(m.sd),
            num(m.median),
            num(m.q05),
            num(m.q95),
            last.particles.len().to_string(),
            String::new(),
        ]);
    }
    let ps = predictive_ps(info, pred);
    for (s, o) in info.statistics.iter().enumerate() {
        let (m, n) = predictive_marginal(pred, s);
        rows.push(vec![
            "statistic".into(),
            o.label.clone(),
            o.source.clone(),
            num(o.value),
            num(o.sd),
            o.held_out.to_string(),
            num(m.mean),
            num(m.sd),
            num(m.median),
            num(m.q05),
            num(m.q95),
            n.to_string(),
            num(ps[s]),
        ]);
    }
    csv_bytes(&header, rows.into_iter())
}

/// What `manifest.json` records about a calibration.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationManifest {
    /// Always "coprosim".
    pub tool: &'static str,
    /// Always [`Kind::Calibration`].
    pub kind: Kind,
    /// Tool version.
    pub version: &'static str,
    /// Git commit where known.
    pub git_commit: Option<&'static str>,
    /// The calibration's description.
    pub calibration: CalibrationInfo,
    /// Targets file as given.
    pub targets_file: String,
    /// Why the sampler stopped.
    pub stopped_by: String,
    /// Generations.
    pub generations: usize,
    /// Simulations of the generations kept (the predictive simulations not included).
    pub simulations: u64,
    /// Simulations of a generation the budget cut short: not in the posterior, and kept in
    /// `unfinished_generation.jsonl` for a rerun with a larger budget.
    pub simulations_discarded: u64,
    /// Worker threads of the last process (results do not depend on it).
    pub threads: usize,
    /// Wall time of the last process.
    pub wall_time_seconds: f64,
    /// SHA-256 of every file written.
    pub files: BTreeMap<String, String>,
    /// True once every file is written.
    pub complete: bool,
}

/// Words for why the sampler stopped.
pub fn stop_words(stop: Stop) -> &'static str {
    match stop {
        Stop::Generations => "the most generations were reached",
        Stop::Acceptance => "the acceptance rate fell below the minimum",
        Stop::Tolerance => "the tolerance reached its target",
        Stop::Budget => "the simulation budget was spent",
        Stop::Interrupted => "interrupted",
        Stop::Missing { .. } => "attempts computed elsewhere are still missing",
    }
}

/// Everything a finished calibration writes.
pub struct Finished<'a> {
    /// Its description.
    pub info: &'a CalibrationInfo,
    /// Every generation.
    pub generations: &'a [Generation],
    /// Why it stopped.
    pub stop: Stop,
    /// The posterior predictive simulations.
    pub predictive: &'a [Predictive],
    /// Simulations of a generation the budget cut short (not in the posterior).
    pub discarded: u64,
    /// That generation's attempts, kept for a rerun with a larger budget (empty when none).
    pub unfinished: &'a [Option<Particle>],
    /// Targets file as given.
    pub targets_file: String,
    /// Worker threads.
    pub threads: usize,
    /// Wall time of this process.
    pub wall_time_seconds: f64,
}

/// Write a finished calibration's files into `dir` (its working folder, which holds the
/// log): data, then charts and the report when `size` is given, the manifest last.
pub fn write_calibration(dir: &Path, f: &Finished, size: Option<ChartSize>) -> Result<Vec<PathBuf>, OutputError> {
    let last = f.generations.last().expect("a finished calibration has a generation");
    let mut manifest = CalibrationManifest {
        tool: "coprosim",
        kind: Kind::Calibration,
        version: env!("CARGO_PKG_VERSION"),
        git_commit: super::git_commit(),
        calibration: f.info.clone(),
        targets_file: f.targets_file.clone(),
        stopped_by: stop_words(f.stop).into(),
        generations: f.generations.len(),
        simulations: f.generations.iter().map(|g| g.simulations).sum(),
        simulations_discarded: f.discarded,
        threads: f.threads,
        wall_time_seconds: (f.wall_time_seconds * 1000.0).round() / 1000.0,
        files: BTreeMap::new(),
        complete: false,
    };
    let mut written = Vec::new();
    let mut put = |name: String, bytes: &[u8]| -> Result<(), OutputError> {
        let path = dir.join(&name);
        let parent = path.parent().unwrap_or(dir).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or(&name).to_string();
        written.push(write_atomic(&parent, &file_name, bytes)?);
        manifest.files.insert(name, sha256_hex(bytes));
        Ok(())
    };
    put(GENERATIONS_LOG.into(), log_of(f.info, f.generations).as_bytes())?;
    put(CALIBRATION_JSON.into(), &serde_json::to_vec_pretty(f.info).expect("serialises"))?;
    put("posterior.csv".into(), &posterior_csv(f.info, f.generations))?;
    put("generations.csv".into(), &generations_csv(f.generations))?;
    put("summary.csv".into(), &summary_csv(f.info, last, f.predictive))?;
    put("predictive.csv".into(), &predictive_csv(f.info, f.predictive))?;
    let checked = diagnostics(f.info, &particles_of(f.generations));
    put("diagnostics.csv".into(), &diagnostics_csv(f.info, &checked))?;
    if !f.info.models.is_empty() {
        put("models.csv".into(), &models_csv(f.info, f.generations))?;
    }
    if f.unfinished.is_empty() {
        // One an interrupted run kept in the working folder, now used: not part of the result.
        let stale = dir.join(UNFINISHED);
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(io(&stale))?;
        }
    } else {
        let text = encode(f.info, f.generations, 0, f.unfinished);
        put(UNFINISHED.into(), text.as_bytes())?;
    }
    if let Some(size) = size {
        let data = CalibrationData::read(dir)?;
        let rendered = draw(&data, size)?;
        for (rel, bytes) in rendered.iter().flat_map(Rendered::files) {
            put(rel, &bytes)?;
        }
        put("report.html".into(), report_html(&data, &manifest.stopped_by, &rendered).as_bytes())?;
    }
    manifest.complete = true;
    written.push(write_atomic(dir, MANIFEST, &serde_json::to_vec_pretty(&manifest).expect("serialises"))?);
    Ok(written)
}

/// Redraw a finished calibration's charts and `report.html` from its files (`coprosim plot`),
/// and list them in its manifest. Returns the paths written.
pub fn redraw(dir: &Path, size: ChartSize) -> Result<Vec<PathBuf>, OutputError> {
    let manifest = dir.join(MANIFEST);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).map_err(io(&manifest))?)
        .map_err(|e| unreadable(&manifest, e))?;
    let stopped_by = v.get("stopped_by").and_then(|s| s.as_str()).unwrap_or("it finished").to_string();
    let data = CalibrationData::read(dir)?;
    let rendered = draw(&data, size)?;
    let mut files: Vec<_> = rendered.iter().flat_map(Rendered::files).collect();
    files.push(("report.html".into(), report_html(&data, &stopped_by, &rendered).into_bytes()));
    super::write_drawn(dir, &files)
}

/// A calibration's charts, in the report's order: its figures, then the pairs chart.
fn draw(data: &CalibrationData, size: ChartSize) -> Result<Vec<Rendered>, OutputError> {
    let mut rendered: Vec<Rendered> = data.figures().iter().map(|f| render(f, size)).collect::<Result<_, _>>()?;
    if let Some(pairs) = data.pairs() {
        rendered.push(render(&pairs, size)?);
    }
    Ok(rendered)
}

/// A calibration read back from its files, for charts and the report.
#[derive(Debug, Clone)]
pub struct CalibrationData {
    /// The description.
    pub info: CalibrationInfo,
    /// Rows of `posterior.csv`: generation, weight, distance, parameters.
    pub posterior: Vec<(usize, f64, f64, Vec<f64>)>,
    /// Rows of `generations.csv`: tolerance, acceptance, ess, simulations.
    pub generations: Vec<(f64, f64, f64, u64)>,
    /// Rows of `predictive.csv`: the statistics.
    pub predictive: Vec<Vec<f64>>,
    /// In a model comparison, each row of `posterior.csv`'s model (index into `info.models`).
    pub models: Vec<usize>,
}

fn unreadable(path: &Path, reason: impl std::fmt::Display) -> OutputError {
    OutputError::Unreadable { path: path.display().to_string(), reason: reason.to_string() }
}

fn read_rows(path: &Path) -> Result<Vec<Vec<String>>, OutputError> {
    let mut r = csv::Reader::from_path(path).map_err(|e| unreadable(path, e))?;
    r.records().map(|rec| rec.map(|r| r.iter().map(String::from).collect()).map_err(|e| unreadable(path, e))).collect()
}

fn cell(path: &Path, row: &[String], i: usize) -> Result<f64, OutputError> {
    match row.get(i).map(String::as_str) {
        Some("") => Ok(f64::NAN),
        Some(t) => t.parse().map_err(|e| unreadable(path, format!("{t:?}: {e}"))),
        None => Err(unreadable(path, "a row is too short")),
    }
}

impl CalibrationData {
    /// Read a calibration's files from `dir`.
    pub fn read(dir: &Path) -> Result<CalibrationData, OutputError> {
        let json = dir.join(CALIBRATION_JSON);
        let info: CalibrationInfo =
            serde_json::from_slice(&std::fs::read(&json).map_err(io(&json))?).map_err(|e| unreadable(&json, e))?;
        let k = info.parameters.len();
        let path = dir.join("posterior.csv");
        let (mut posterior, mut models) = (Vec::new(), Vec::new());
        for row in read_rows(&path)? {
            let theta = (0..k).map(|d| cell(&path, &row, 4 + d)).collect::<Result<Vec<_>, _>>()?;
            posterior.push((cell(&path, &row, 0)? as usize, cell(&path, &row, 2)?, cell(&path, &row, 3)?, theta));
            if !info.models.is_empty() {
                let name = row.get(4 + k).map(String::as_str).unwrap_or_default();
                let m = info.models.iter().position(|n| n == name).ok_or_else(|| {
                    unreadable(&path, format!("found model \"{name}\", expected one of {}", info.models.join(", ")))
                })?;
                models.push(m);
            }
        }
        let path = dir.join("generations.csv");
        let mut generations = Vec::new();
        for row in read_rows(&path)? {
            generations.push((
                cell(&path, &row, 1)?,
                cell(&path, &row, 2)?,
                cell(&path, &row, 3)?,
                cell(&path, &row, 4)? as u64,
            ));
        }
        let path = dir.join("predictive.csv");
        let mut predictive = Vec::new();
        for row in read_rows(&path)? {
            predictive
                .push((0..info.statistics.len()).map(|s| cell(&path, &row, 2 + s)).collect::<Result<Vec<_>, _>>()?);
        }
        Ok(CalibrationData { info, posterior, generations, predictive, models })
    }

    /// The last generation's particles: (weight, parameters).
    /// Every generation's particles, generation 0 first.
    pub fn generations(&self) -> Vec<Vec<(f64, &[f64])>> {
        let n = self.posterior.iter().map(|p| p.0 + 1).max().unwrap_or(0);
        (0..n).map(|g| self.posterior.iter().filter(|p| p.0 == g).map(|p| (p.1, p.3.as_slice())).collect()).collect()
    }

    /// The last generation's particles.
    pub fn last(&self) -> Vec<(f64, &[f64])> {
        let g = self.posterior.iter().map(|p| p.0).max().unwrap_or(0);
        self.posterior.iter().filter(|p| p.0 == g).map(|p| (p.1, p.3.as_slice())).collect()
    }

    /// In a model comparison, each model's probability in the last generation and its Monte
    /// Carlo standard error `sqrt(p (1 - p) / ESS)` (as `models.csv` gives them).
    pub fn model_probabilities(&self) -> Vec<(f64, f64)> {
        let g = self.posterior.iter().map(|p| p.0).max().unwrap_or(0);
        let last: Vec<(f64, usize)> =
            self.posterior.iter().zip(&self.models).filter(|(p, _)| p.0 == g).map(|(p, &m)| (p.1, m)).collect();
        let ess = 1.0 / last.iter().map(|(w, _)| w * w).sum::<f64>();
        (0..self.info.models.len())
            .map(|m| {
                let p = last.iter().filter(|(_, k)| *k == m).map(|(w, _)| w).sum::<f64>().clamp(0.0, 1.0);
                (p, (p * (1.0 - p) / ess).sqrt())
            })
            .collect()
    }

    /// The marginal posteriors over their priors, and the posterior predictive of each
    /// statistic against its observation.
    pub fn figures(&self) -> Vec<Figure> {
        let info = &self.info;
        let last = self.last();
        let gens = self.generations.len();
        let mut panels = Vec::new();
        for (d, key) in info.parameters.iter().enumerate() {
            let values: Vec<f64> = last.iter().map(|p| p.1[d]).collect();
            let weights: Vec<f64> = last.iter().map(|p| p.0).collect();
            let first: Vec<f64> = self.posterior.iter().filter(|p| p.0 == 0).map(|p| p.3[d]).collect();
            let (lo, hi) = info.supports[d];
            let span = |xs: &[f64]| {
                xs.iter()
                    .filter(|x| x.is_finite())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)))
            };
            // The prior's range where it is bounded, otherwise that of its draws.
            let (p0, p1) = span(&first);
            let (x0, x1) = (if lo > -1e299 { lo } else { p0 }, if hi < 1e299 { hi } else { p1 });
            let m = marginal(&values, &weights);
            let mut lines = vec![
                Line {
                    label: "posterior (last generation)".into(),
                    look: Look::nth(0),
                    points: histogram(&values, &weights, x0, x1, 24),
                    band: Vec::new(),
                    thin: false,
                    kind: "",
                },
                Line {
                    label: "prior (generation 0)".into(),
                    look: Look::nth(1),
                    points: histogram(&first, &vec![1.0; first.len()], x0, x1, 24),
                    band: Vec::new(),
                    thin: true,
                    kind: "",
                },
            ];
            let top = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).fold(0.0f64, f64::max);
            lines.push(Line {
                label: "90% credible interval".into(),
                look: Look::nth(2),
                points: Vec::new(),
                band: vec![(m.q05, 0.0, top * 1.05), (m.q95, 0.0, top * 1.05)],
                thin: true,
                kind: "",
            });
            panels.push(Panel {
                title: super::charts::short_key(key),
                x_label: key.clone(),
                y_label: "density".into(),
                lines,
                y_range: None,
                marks: Vec::new(),
            });
        }
        let mut notes = vec![format!(
            "{gens} generations of {} particles; {} replication(s) per simulation; seed {}.",
            info.particles, info.replications, info.seed
        )];
        for (key, prior) in info.parameters.iter().zip(&info.priors) {
            notes.push(format!("{}: prior {prior}", super::charts::short_key(key)));
        }
        let columns = (info.parameters.len() as f64).sqrt().ceil() as usize;
        let marginals = Figure {
            name: "posterior_marginals".into(),
            title: format!("{}: marginal posteriors over their priors", info.name),
            caption: "Each parameter's posterior (weighted histogram of the last generation's particles) over its prior (generation 0, drawn from the prior), with the 90% credible interval shaded. A posterior as wide as its prior means the statistics do not inform that parameter.".into(),
            panels,
            columns: columns.max(1),
            notes,
        };

        let mut panels = Vec::new();
        for (s, o) in info.statistics.iter().enumerate() {
            let values: Vec<f64> = self.predictive.iter().map(|row| row[s]).filter(|v| v.is_finite()).collect();
            let (lo, hi) = (o.value - 1.645 * o.sd, o.value + 1.645 * o.sd);
            let (v0, v1) = values.iter().fold((lo, hi), |(a, b), &x| (a.min(x), b.max(x)));
            let pad = (v1 - v0).max(1e-9) * 0.05;
            let hist = histogram(&values, &vec![1.0; values.len()], v0 - pad, v1 + pad, 24);
            let top = hist.iter().map(|p| p.1).fold(0.0f64, f64::max).max(1e-12) * 1.05;
            panels.push(Panel {
                title: if o.held_out { format!("{} (held out)", o.label) } else { o.label.clone() },
                x_label: o.label.clone(),
                y_label: "density".into(),
                lines: vec![
                    Line {
                        label: "posterior predictive".into(),
                        look: Look::nth(0),
                        points: hist,
                        band: Vec::new(),
                        thin: false,
                        kind: "",
                    },
                    Line {
                        label: "observed value".into(),
                        look: Look::nth(3),
                        points: vec![(o.value, 0.0), (o.value, top)],
                        band: Vec::new(),
                        thin: false,
                        kind: "",
                    },
                    Line {
                        label: "observed ±1.645 sd (90%)".into(),
                        look: Look::nth(2),
                        points: Vec::new(),
                        band: vec![(lo, 0.0, top), (hi, 0.0, top)],
                        thin: true,
                        kind: "",
                    },
                ],
                y_range: Some((0.0, top)),
                marks: Vec::new(),
            });
        }
        let columns = (info.statistics.len() as f64).sqrt().ceil() as usize;
        let predictive = Figure {
            name: "posterior_predictive".into(),
            title: format!("{}: posterior predictive against each observation", info.name),
            caption: format!(
                "Each statistic simulated {} times with parameters drawn from the posterior (fresh random streams), against its observed value and the 90% interval of its stated uncertainty. Held-out statistics were not fitted: they check the fit.",
                self.predictive.len()
            ),
            panels,
            columns: columns.max(1),
            notes: info
                .statistics
                .iter()
                .filter(|o| !o.source.is_empty())
                .map(|o| format!("{}: {}", o.label, o.source))
                .collect(),
        };

        let curves = self.curves();

        let schedule = Figure {
            name: "generations".into(),
            title: format!("{}: tolerance and acceptance by generation", info.name),
            caption: "The tolerance each generation met (scaled distance) and the share of its simulations accepted. A falling acceptance rate with a tolerance that no longer shrinks is the sign to stop.".into(),
            panels: vec![
                Panel {
                    title: "tolerance".into(),
                    x_label: "generation".into(),
                    y_label: "tolerance (scaled distance)".into(),
                    lines: vec![Line {
                        label: "tolerance".into(),
                        look: Look::nth(0),
                        points: self.generations.iter().enumerate().filter(|(_, g)| g.0.is_finite()).map(|(i, g)| (i as f64, g.0)).collect(),
                        band: Vec::new(),
                        thin: false, kind: "",
                    }],
                    y_range: None,
                    marks: Vec::new(),
                },
                Panel {
                    title: "acceptance rate".into(),
                    x_label: "generation".into(),
                    y_label: "accepted / simulated".into(),
                    lines: vec![Line {
                        label: "acceptance rate".into(),
                        look: Look::nth(1),
                        points: self.generations.iter().enumerate().map(|(i, g)| (i as f64, g.1)).collect(),
                        band: Vec::new(),
                        thin: false, kind: "",
                    }],
                    y_range: Some((0.0, 1.0)),
                    marks: Vec::new(),
                },
            ],
            columns: 2,
            notes: Vec::new(),
        };
        let mut figures = vec![marginals, predictive];
        figures.extend(curves);
        figures.push(schedule);
        figures
    }

    /// The observations that are points of one curve (survival at several durations, a
    /// series at several years), each curve against its posterior predictive band: a
    /// roster's own survival curve and membership over time against what the fitted model
    /// predicts. None when no curve has two points.
    fn curves(&self) -> Option<Figure> {
        let mut families: Vec<Curve> = Vec::new();
        for (s, o) in self.info.statistics.iter().enumerate() {
            let Some((family, axis, x)) = curve_point(&o.label) else { continue };
            match families.iter_mut().find(|f| f.0 == family) {
                Some(f) => f.2.push((x, s)),
                None => families.push((family, axis, vec![(x, s)])),
            }
        }
        families.retain(|f| f.2.len() >= 2);
        if families.is_empty() {
            return None;
        }
        let mut panels = Vec::new();
        for (family, axis, mut points) in families {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let survival = axis == "weeks";
            let clamp = |v: f64| if survival { v.clamp(0.0, 1.0) } else { v.max(0.0) };
            let mut predicted = Vec::new();
            let mut band = Vec::new();
            let mut observed = Vec::new();
            let mut stated = Vec::new();
            if survival {
                // Every spell lasts beyond 0 weeks: the curve starts at 1.
                predicted.push((0.0, 1.0));
                band.push((0.0, 1.0, 1.0));
                observed.push((0.0, 1.0));
                stated.push((0.0, 1.0, 1.0));
            }
            for &(x, s) in &points {
                let values: Vec<f64> = self.predictive.iter().map(|row| row[s]).collect();
                if values.iter().any(|v| v.is_finite()) {
                    let m = marginal(&values, &vec![1.0; values.len()]);
                    predicted.push((x, m.median));
                    band.push((x, m.q05, m.q95));
                }
                let o = &self.info.statistics[s];
                observed.push((x, o.value));
                stated.push((x, clamp(o.value - 1.645 * o.sd), clamp(o.value + 1.645 * o.sd)));
            }
            let title = readable(&family);
            panels.push(Panel {
                x_label: if survival { "weeks since the spell began".into() } else { "year (from founding)".into() },
                y_label: if survival { "share of spells lasting longer".into() } else { title.clone() },
                title,
                lines: vec![
                    Line {
                        label: "predicted: median, 5–95%".into(),
                        look: Look::nth(0),
                        points: predicted,
                        band,
                        thin: false,
                        kind: "",
                    },
                    Line {
                        label: "observed, 90% interval".into(),
                        look: Look::nth(3),
                        points: observed,
                        band: stated,
                        thin: false,
                        kind: "",
                    },
                ],
                y_range: if survival { Some((0.0, 1.0)) } else { None },
                marks: Vec::new(),
            });
        }
        let columns = panels.len().min(2);
        Some(Figure {
            name: "posterior_predictive_curves".into(),
            title: format!("{}: observed curves against the posterior predictive", self.info.name),
            caption: "Observations that are points of one curve (survival at several durations, a series at several years: a roster's own survival curve and membership over time), each with its stated 90% interval, against the median and 5–95% range of the posterior predictive simulations at the same points. Where the observed curve leaves the band, the fitted model does not reproduce it (the fit table gives each point's p-value).".into(),
            panels,
            columns,
            notes: Vec::new(),
        })
    }

    /// Pairwise scatter of the last generation's particles (two parameters or more).
    pub fn pairs(&self) -> Option<Scatter> {
        let k = self.info.parameters.len();
        if k < 2 {
            return None;
        }
        let last = self.last();
        Some(Scatter {
            name: "posterior_pairs".into(),
            title: format!("{}: posterior pairs", self.info.name),
            caption: "Every pair of parameters in the last generation, one dot per particle (darker: more weight). A ridge or a curve means the statistics inform a combination of the two, not each.".into(),
            labels: self.info.parameters.clone(),
            points: last.iter().map(|p| p.1.to_vec()).collect(),
            weights: last.iter().map(|p| p.0).collect(),
        })
    }
}

/// A step outline of the weighted density of `values` in `bins` equal bins on [x0, x1].
fn histogram(values: &[f64], weights: &[f64], x0: f64, x1: f64, bins: usize) -> Vec<(f64, f64)> {
    let width = (x1 - x0) / bins as f64;
    if width.is_nan() || width <= 0.0 {
        return Vec::new();
    }
    let mut mass = vec![0.0; bins];
    let mut total = 0.0;
    for (&v, &w) in values.iter().zip(weights) {
        if v.is_finite() && v >= x0 && v <= x1 {
            let b = (((v - x0) / width) as usize).min(bins - 1);
            mass[b] += w;
            total += w;
        }
    }
    let mut out = vec![(x0, 0.0)];
    for (b, m) in mass.iter().enumerate() {
        let h = if total > 0.0 { m / total / width } else { 0.0 };
        out.push((x0 + b as f64 * width, h));
        out.push((x0 + (b + 1) as f64 * width, h));
    }
    out.push((x1, 0.0));
    out
}

fn fixed(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// The calibration's `report.html`: what was fitted, the posterior, the fit, the schedule and
/// the charts; self-contained like a run's report.
pub fn report_html(data: &CalibrationData, stopped_by: &str, charts: &[Rendered]) -> String {
    let info = &data.info;
    let last = data.last();
    let weights: Vec<f64> = last.iter().map(|p| p.0).collect();
    let mut params = String::new();
    for (d, key) in info.parameters.iter().enumerate() {
        let values: Vec<f64> = last.iter().map(|p| p.1[d]).collect();
        let m = marginal(&values, &weights);
        params.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{} – {}</td></tr>\n",
            esc(key),
            esc(&info.priors[d]),
            fixed(m.mean),
            fixed(m.median),
            fixed(m.q05),
            fixed(m.q95)
        ));
    }
    let mut stats = String::new();
    for (s, o) in info.statistics.iter().enumerate() {
        let values: Vec<f64> = data.predictive.iter().map(|r| r[s]).collect();
        let m = marginal(&values, &vec![1.0; values.len()]);
        let p = calibrate::predictive_p(&values, o.value, o.sd);
        let reproduced = if p.is_nan() {
            "–".to_string()
        } else if p < calibrate::MISFIT_P {
            format!("<strong>no</strong> (p = {p:.3})")
        } else {
            format!("yes (p = {p:.2})")
        };
        stats.push_str(&format!(
            "<tr><td>{}{}</td><td class=n>{} ± {}</td><td class=n>{}</td><td class=n>{} – {}</td><td>{reproduced}</td><td>{}</td></tr>\n",
            esc(&o.label),
            if o.held_out { " <em>(held out)</em>" } else { "" },
            fixed(o.value),
            fixed(o.sd),
            fixed(m.median),
            fixed(m.q05),
            fixed(m.q95),
            esc(&o.source)
        ));
    }
    let mut checks = String::new();
    for (key, d) in info.parameters.iter().zip(diagnostics(info, &data.generations())) {
        let verdict =
            |bad: bool, yes: &str, no: &str| if bad { format!("<strong>{yes}</strong>") } else { no.to_string() };
        checks.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=n>{}</td><td class=n>{}</td><td>{}</td><td class=n>{}</td><td>{}</td></tr>\n",
            esc(key),
            fixed(d.shift),
            fixed(d.sd_ratio),
            verdict(d.still_moving(), "still moving", "settled"),
            fixed(d.width_vs_prior),
            verdict(d.like_prior(), "nearly the prior", "informed")
        ));
    }
    let models = if info.models.is_empty() {
        String::new()
    } else {
        let rows: String = info
            .models
            .iter()
            .zip(data.model_probabilities())
            .map(|(name, (p, err))| {
                format!("<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>\n", esc(name), fixed(p), fixed(err))
            })
            .collect();
        format!(
            "<h2>Which model?</h2>\n<table id=\"models\">\n<thead><tr><th>model</th><th>posterior probability</th><th>Monte Carlo error</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n<p class=\"meta\">ABC-SMC model selection (Toni et al. 2009): the models are a priori equally likely, and a model's posterior probability is the weight of its particles in the last generation (<code>models.csv</code> gives every generation's). The Monte Carlo error is sqrt(p (1 − p) / ESS), the binomial error of a share of ESS independent draws. The posterior above pools the models' particles.</p>\n"
        )
    };
    let mut gens = String::new();
    let mut total = 0;
    for (g, row) in data.generations.iter().enumerate() {
        total += row.3;
        gens.push_str(&format!(
            "<tr><td class=n>{g}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{:.0}</td><td class=n>{}</td><td class=n>{total}</td></tr>\n",
            if row.0.is_finite() { fixed(row.0) } else { "∞".into() },
            fixed(row.1),
            row.2,
            row.3
        ));
    }
    let mut figures = String::new();
    for c in charts {
        figures.push_str(&format!(
            "<figure id=\"{name}\"><img src=\"data:image/png;base64,{png}\" alt=\"{alt}\" width=\"1600\"><figcaption>{caption} Files: <code>charts/{name}.svg</code>, <code>charts/{name}.png</code>.</figcaption></figure>\n",
            name = esc(&c.name),
            png = super::base64::base64(&c.png),
            alt = esc(&c.caption),
            caption = esc(&c.caption),
        ));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>coprosim calibration: {name}</title>
{style}</head>
<body>
<h1>Calibration: {name}</h1>
<p>{description}</p>
<p class="meta">Base scenario <code>{base_name}</code> ({base}). ABC-SMC (Beaumont et al. 2009) with {particles} particles per generation, {reps} replication(s) per simulation, seed {seed}; stopped because {stopped_by}. Credible intervals are the 5% and 95% weighted quantiles of the last generation; the posterior predictive uses {npred} fresh simulations from parameters drawn from the posterior.</p>
<h2>Posterior</h2>
<table id="posterior">
<thead><tr><th>parameter</th><th>prior</th><th>mean</th><th>median</th><th>90% credible interval</th></tr></thead>
<tbody>
{params}</tbody>
</table>
{models}<h2>Fit: observed against posterior predictive</h2>
<table id="fit">
<thead><tr><th>statistic</th><th>observed ± sd</th><th>predictive median</th><th>predictive 5–95%</th><th title="the observation lies in the middle 95% of replicate observations (posterior predictive p-value, two-sided, at least 0.05)">reproduced</th><th>source</th></tr></thead>
<tbody>
{stats}</tbody>
</table>
<p class="meta">Reproduced: the observation lies in the middle 95% of replicate observations, each a posterior predictive simulation plus the stated observation error (a two-sided posterior predictive p-value of at least 0.05; Gelman, Meng and Stern 1996). A statistic that is not reproduced is one the fitted model cannot produce at the uncertainty stated for it: widen its sd if the observation is less certain than that, or read it as something the model lacks.</p>
<h2>Generations</h2>
<table id="generations">
<thead><tr><th>generation</th><th>tolerance</th><th>acceptance rate</th><th>effective sample size</th><th>simulations</th><th>cumulative</th></tr></thead>
<tbody>
{gens}</tbody>
</table>
<h2>Has it converged? Do the statistics inform it?</h2>
<table id="diagnostics">
<thead><tr><th>parameter</th><th title="how far the last generation moved the posterior mean, in posterior sds">mean moved (sd)</th><th title="the last generation's posterior sd over the one before's">sd ratio</th><th>last generation</th><th title="width of the 90% credible interval over the prior's (generation 0 samples the prior)">width / prior's</th><th>by the statistics</th></tr></thead>
<tbody>
{checks}</tbody>
</table>
<p class="meta">A posterior the last generation moved by more than {moving} sd, or whose sd changed by more than {moving_pct}%, is still moving: the sampler stopped before it converged (allow more generations or a larger budget; rerunning resumes). A posterior whose 90% interval is more than {prior_pct}% of its prior's is nearly its prior: the statistics say little about the parameter. Both are heuristics, in <code>diagnostics.csv</code>; the pairs chart gives each pair's weighted correlation, where a strong one means the statistics inform a combination of the two rather than each.</p>
<h2>Charts</h2>
{figures}<p class="meta">Data: <code>posterior.csv</code>, <code>generations.csv</code>, <code>summary.csv</code>, <code>predictive.csv</code>, <code>diagnostics.csv</code>; checksums in <code>manifest.json</code>. Use the posterior in an experiment with <code>coprosim run SCENARIO --posterior DIR</code>.</p>
</body>
</html>
"#,
        name = esc(&info.name),
        description = esc(&info.description),
        base_name = esc(&info.base_name),
        base = esc(&info.base),
        particles = info.particles,
        reps = info.replications,
        seed = info.seed,
        stopped_by = esc(stopped_by),
        npred = data.predictive.len(),
        moving = calibrate::STILL_MOVING,
        moving_pct = calibrate::STILL_MOVING * 100.0,
        prior_pct = calibrate::LIKE_PRIOR * 100.0,
        style = super::report::STYLE,
    )
}

/// A posterior read for a posterior predictive run: the parameter keys and the last
/// generation's particles, exactly as the sampler kept them.
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    /// The calibration directory.
    pub dir: PathBuf,
    /// SHA-256 of its `posterior.csv`.
    pub sha256: String,
    /// Calibration name.
    pub name: String,
    /// Parameter key paths.
    pub keys: Vec<String>,
    /// Particle weights.
    pub weights: Vec<f64>,
    /// Particle values.
    pub particles: Vec<Vec<f64>>,
}

/// Read the posterior of a finished calibration directory, refusing one whose manifest is
/// missing or incomplete, or whose `posterior.csv` differs from what the manifest recorded.
pub fn read_posterior(dir: &Path) -> Result<Posterior, OutputError> {
    let shown = dir.display().to_string();
    let incomplete = |reason: String| OutputError::Incomplete { path: shown.clone(), reason };
    let manifest = std::fs::read(dir.join(MANIFEST))
        .map_err(|_| incomplete(format!("no {MANIFEST}; is it a `coprosim calibrate` output directory?")))?;
    let v: serde_json::Value = serde_json::from_slice(&manifest).map_err(|e| incomplete(format!("{MANIFEST}: {e}")))?;
    if v.get("kind").and_then(|k| k.as_str()) != Some("calibration") {
        return Err(incomplete("it is not the result of `coprosim calibrate`".into()));
    }
    if v.get("complete").and_then(|c| c.as_bool()) != Some(true) {
        return Err(incomplete("the calibration did not finish".into()));
    }
    let path = dir.join("posterior.csv");
    let bytes = std::fs::read(&path).map_err(io(&path))?;
    let sha = sha256_hex(&bytes);
    if v.pointer("/files/posterior.csv").and_then(|s| s.as_str()) != Some(sha.as_str()) {
        return Err(incomplete("posterior.csv differs from the checksum its manifest recorded".into()));
    }
    let data = CalibrationData::read(dir)?;
    if !data.info.models.is_empty() {
        return Err(incomplete(format!(
            "it compares models ({}): its particles belong to different scenarios; fit the model you want to use on its own and run from that posterior",
            data.info.models.join(", ")
        )));
    }
    let last = data.last();
    Ok(Posterior {
        dir: dir.to_path_buf(),
        sha256: sha,
        name: data.info.name.clone(),
        keys: data.info.parameters.clone(),
        weights: last.iter().map(|p| p.0).collect(),
        particles: last.iter().map(|p| p.1.to_vec()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::curve_point;

    #[test]
    fn labels_place_statistics_on_curves() {
        assert_eq!(curve_point("survival@26weeks"), Some(("survival".into(), "weeks", 26.0)));
        assert_eq!(
            curve_point("survival@52weeks[all/villagers]"),
            Some(("survival[all/villagers]".into(), "weeks", 52.0))
        );
        assert_eq!(
            curve_point("members@year20[village_shop/all]"),
            Some(("members[village_shop/all]".into(), "year", 20.0))
        );
        assert_eq!(curve_point("volunteers@year6.5"), Some(("volunteers".into(), "year", 6.5)));
        assert_eq!(curve_point("annual_retention"), None);
        assert_eq!(curve_point("annual_retention[all/villagers]"), None);
        assert_eq!(super::readable("members[village_shop/all]"), "members of village_shop");
        assert_eq!(super::readable("survival[all/villagers]"), "survival of villagers");
        assert_eq!(super::readable("survival"), "survival");
        assert_eq!(super::readable("joins_per_year[village_shop/all]"), "joins a year of village_shop");
    }
}
