//! `calibrate`: approximate Bayesian computation against a targets file, and its result as
//! the command line's files.

use crate::errors::{output_error, problems_error, scenario_error};
use crate::write::{chart_size, commit_into, writer_lock};
use coprosim::engine;
use coprosim::inference::abc::{Batch, Generation, Particle, Plan, Sampled, Stop};
use coprosim::inference::calibrate as abc_smc;
use coprosim::inference::calibrate::Predictive;
use coprosim::inference::targets::Targets;
use coprosim::input::Load;
use coprosim::output::attempt_blocks;
use coprosim::output::calibration::{
    self as cal, CalibrationInfo, Finished, generations_csv, posterior_csv, predictive_csv, summary_csv,
};
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;

/// A validated targets file (its base scenario read beside it).
#[pyclass(module = "coprosim._core", name = "Targets", frozen)]
pub struct PyTargets {
    targets: Targets,
    file: String,
}

#[pymethods]
impl PyTargets {
    /// Read and validate a targets file; a `base = "file.toml"` is read beside it.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyTargets> {
        let targets = Targets::load(&path).map_err(|e| scenario_error(py, e))?;
        Ok(PyTargets { targets, file: path.display().to_string() })
    }

    /// The calibration's name.
    #[getter]
    fn name(&self) -> String {
        self.targets.file.name.clone()
    }

    /// Where it came from.
    #[getter]
    fn file(&self) -> String {
        self.file.clone()
    }

    /// The key paths of the estimated parameters.
    #[getter]
    fn parameters(&self) -> Vec<String> {
        self.targets.keys()
    }

    /// The observed statistics: (label, value, held out).
    #[getter]
    fn statistics(&self) -> Vec<(String, f64, bool)> {
        self.targets.statistics.iter().map(|s| (s.label.clone(), s.value, s.held_out)).collect()
    }

    /// The simulation budget.
    #[getter]
    fn budget(&self) -> u64 {
        self.targets.file.abc.budget
    }
}

/// A finished calibration.
#[pyclass(module = "coprosim._core", name = "Calibration", frozen)]
pub struct PyCalibration {
    info: CalibrationInfo,
    generations: Vec<Generation>,
    stop: Stop,
    predictive: Vec<Predictive>,
    discarded: u64,
    unfinished: Vec<Option<Particle>>,
    targets_file: String,
    threads: usize,
    wall_time_seconds: f64,
}

/// Calibrate `targets` (ABC-SMC, as `coprosim calibrate` does, with the same seeds) on
/// `threads` threads, without the GIL; Ctrl-C stops it.
#[pyfunction]
#[pyo3(signature = (targets, threads=None))]
pub fn calibrate(py: Python<'_>, targets: &PyTargets, threads: Option<usize>) -> PyResult<PyCalibration> {
    let pool_threads = crate::thread_count(threads)?;
    let used = crate::threads_used(threads);
    let t = &targets.targets;
    if let Some(available) = coprosim::input::available_memory() {
        t.base.check_fits(used, used as u32, available).map_err(|p| {
            problems_error(py, &targets.file, vec![(targets.file.clone(), None, None, p.path, p.message)])
        })?;
    }
    let start = std::time::Instant::now();
    let mut discarded = 0u64;
    let (sampled, predictive) = crate::interruptible(py, || {
        coprosim_core::par::with_threads(pool_threads, || {
            let mut report = |event: coprosim::inference::abc::Event| match event {
                coprosim::inference::abc::Event::Batch { simulations, .. } => discarded = simulations,
                coprosim::inference::abc::Event::Generation(_) => discarded = 0,
            };
            let sampled = abc_smc::calibrate(t, Default::default(), &engine::stop_requested, &mut report);
            let predictive = match sampled.generations.last() {
                Some(last) if sampled.stop != Stop::Interrupted => {
                    abc_smc::predictive(t, last, &engine::stop_requested)
                }
                _ => None,
            };
            (sampled, predictive)
        })
    })?
    .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let Sampled { generations, stop, unfinished } = sampled;
    if stop == Stop::Interrupted {
        return Err(crate::interrupted("the calibration"));
    }
    if generations.is_empty() {
        return Err(nothing_fitted(t));
    }
    let predictive = predictive.ok_or_else(|| crate::interrupted("the posterior predictive simulations"))?;
    Ok(PyCalibration {
        info: CalibrationInfo::new(t),
        generations,
        stop,
        predictive,
        discarded,
        unfinished,
        targets_file: targets.file.clone(),
        threads: used,
        wall_time_seconds: start.elapsed().as_secs_f64(),
    })
}

/// Attempts `first..first + count` of the generation after those in `log` (the text of the
/// calibration's generations log), as the text of a block (what `calibrate --block` saves): one
/// task of a calibration spread over an executor's workers. Without the GIL; Ctrl-C stops it.
#[pyfunction]
#[pyo3(signature = (targets, log, first, count, threads=None))]
pub fn calibration_block(
    py: Python<'_>,
    targets: &PyTargets,
    log: &str,
    first: u64,
    count: usize,
    threads: Option<usize>,
) -> PyResult<String> {
    let pool_threads = crate::thread_count(threads)?;
    let t = &targets.targets;
    let info = CalibrationInfo::new(t);
    let done = whole_log(&info, log)?;
    let batch = abc_smc::config(t).batch;
    if !first.is_multiple_of(batch as u64) || count == 0 || !count.is_multiple_of(batch) {
        return Err(PyValueError::new_err(format!(
            "found first = {first} and count = {count}, expected multiples of {batch} (the sampler's batch) and count at least {batch}"
        )));
    }
    let attempts = crate::interruptible(py, || {
        coprosim_core::par::with_threads(pool_threads, || {
            let fit = abc_smc::Fit::new(t);
            let plan = fit.plan(&done);
            fit.attempts(&plan, first, count, &engine::stop_requested)
        })
    })?
    .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    if engine::stop_requested() {
        return Err(crate::interrupted("the block of attempts"));
    }
    Ok(attempt_blocks::encode(&info, &done, first, &attempts))
}

/// What a merge step returns: the log of the complete generations, the generation and first
/// attempt needed next, or the finished calibration.
type Merged = (String, Option<(usize, u64)>, Option<PyCalibration>);

/// The merge step of a calibration whose attempts are computed by [`calibration_block`]: run
/// the sampler after the generations in `log` with its attempts taken from `blocks` (blocks'
/// texts; those of other generations are not used). Returns the log of the complete
/// generations, and either the generation and first attempt it needs next, or, once the
/// sampler stops, the finished calibration (its predictive simulations run here, on `threads`
/// threads). The same result as [`calibrate`], byte for byte.
#[pyfunction]
#[pyo3(signature = (targets, log, blocks, threads=None))]
pub fn calibration_merge(
    py: Python<'_>,
    targets: &PyTargets,
    log: &str,
    blocks: Vec<String>,
    threads: Option<usize>,
) -> PyResult<Merged> {
    let pool_threads = crate::thread_count(threads)?;
    let used = crate::threads_used(threads);
    let t = &targets.targets;
    let info = CalibrationInfo::new(t);
    let done = whole_log(&info, log)?;
    let start = std::time::Instant::now();
    let mut discarded = 0u64;
    let mut source = attempt_blocks::Blocks::of_texts(blocks, &info);
    let (sampled, predictive) = crate::interruptible(py, || {
        coprosim_core::par::with_threads(pool_threads, || {
            let mut report = |event: coprosim::inference::abc::Event| match event {
                coprosim::inference::abc::Event::Batch { simulations, .. } => discarded = simulations,
                coprosim::inference::abc::Event::Generation(_) => discarded = 0,
            };
            let mut from_blocks = |plan: &Plan, first: u64, count: usize| {
                if engine::stop_requested() {
                    return Batch::Interrupted;
                }
                source.batch(plan.before(), first, count).map_or(Batch::Missing, Batch::Ready)
            };
            let sampled = abc_smc::calibrate_from(t, done, &mut from_blocks, &mut report);
            let predictive = match (sampled.generations.last(), sampled.stop) {
                (_, Stop::Interrupted | Stop::Missing { .. }) | (None, _) => None,
                (Some(last), _) => abc_smc::predictive(t, last, &engine::stop_requested),
            };
            (sampled, predictive)
        })
    })?
    .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let Sampled { generations, stop, unfinished } = sampled;
    let log = cal::log_of(&info, &generations);
    match stop {
        Stop::Interrupted => Err(crate::interrupted("the calibration")),
        Stop::Missing { generation, attempt } => Ok((log, Some((generation, attempt)), None)),
        _ if generations.is_empty() => Err(nothing_fitted(t)),
        _ => {
            let predictive = predictive.ok_or_else(|| crate::interrupted("the posterior predictive simulations"))?;
            let finished = PyCalibration {
                info,
                generations,
                stop,
                predictive,
                discarded,
                unfinished,
                targets_file: targets.file.clone(),
                threads: used,
                wall_time_seconds: start.elapsed().as_secs_f64(),
            };
            Ok((log, None, Some(finished)))
        }
    }
}

/// The generations in `log`, refused unless every line is a verified generation of `info`'s
/// calibration (a log from another calibration, or damaged in transit).
fn whole_log(info: &CalibrationInfo, log: &str) -> PyResult<Vec<Generation>> {
    let done = cal::generations_of_log(log, info);
    let lines = log.lines().count();
    if done.len() != lines {
        return Err(PyValueError::new_err(format!(
            "the log holds {lines} lines but only {} verified generations of the calibration {} (identity {}): it is another calibration's, or damaged",
            done.len(),
            info.name,
            &info.identity[..16]
        )));
    }
    Ok(done)
}

fn nothing_fitted(t: &Targets) -> PyErr {
    PyRuntimeError::new_err(format!(
        "no simulation of {} gave every fitted statistic a value within the budget; check that the statistics are defined in the base scenario (a coalition that dissolves has no retention)",
        t.file.name
    ))
}

#[pymethods]
impl PyCalibration {
    /// Names of the tables: `posterior`, `generations`, `summary`, `predictive`, and `models` in a
    /// model comparison.
    fn tables(&self) -> Vec<String> {
        let mut names = ["posterior", "generations", "summary", "predictive"].map(String::from).to_vec();
        if !self.info.models.is_empty() {
            names.push("models".into());
        }
        names
    }

    /// The bytes of `<name>.csv`, exactly as `coprosim calibrate` writes it.
    fn csv<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
        let last = self.generations.last().expect("a calibration result has a generation");
        let bytes = match name {
            "posterior" => posterior_csv(&self.info, &self.generations),
            "generations" => generations_csv(&self.generations),
            "summary" => summary_csv(&self.info, last, &self.predictive),
            "predictive" => predictive_csv(&self.info, &self.predictive),
            "models" if !self.info.models.is_empty() => cal::models_csv(&self.info, &self.generations),
            _ => {
                return Err(PyKeyError::new_err(format!(
                    "{name}: no such table; there are {}",
                    self.tables().join(", ")
                )));
            }
        };
        Ok(PyBytes::new(py, &bytes))
    }

    /// Write the calibration's files into `dir` as `coprosim calibrate --out dir` does (same
    /// files, same bytes; the manifest's wall time is this calibration's), with charts and
    /// `report.html` unless `charts` is false. Returns the paths written.
    #[pyo3(signature = (dir, charts=true, force=false, width=1600, height=1000))]
    fn write(
        &self,
        py: Python<'_>,
        dir: PathBuf,
        charts: bool,
        force: bool,
        width: u32,
        height: u32,
    ) -> PyResult<Vec<String>> {
        let size = chart_size(charts, width, height)?;
        let _writer = writer_lock(py, &dir)?;
        let (staging, _, _) = cal::working_place(&dir, &self.info, force).map_err(|e| output_error(py, e))?;
        let finished = Finished {
            info: &self.info,
            generations: &self.generations,
            stop: self.stop,
            predictive: &self.predictive,
            discarded: self.discarded,
            unfinished: &self.unfinished,
            targets_file: self.targets_file.clone(),
            threads: self.threads,
            wall_time_seconds: self.wall_time_seconds,
        };
        commit_into(py, &dir, staging, |work| cal::write_calibration(work, &finished, size))
    }

    /// Why it stopped, in words.
    #[getter]
    fn stopped_by(&self) -> String {
        cal::stop_words(self.stop).to_string()
    }

    /// Generations run.
    #[getter]
    fn generations(&self) -> usize {
        self.generations.len()
    }

    /// Simulations run in all generations.
    #[getter]
    fn simulations(&self) -> u64 {
        self.generations.iter().map(|g| g.simulations).sum()
    }

    /// The key paths of the estimated parameters.
    #[getter]
    fn parameters(&self) -> Vec<String> {
        self.info.parameters.clone()
    }

    /// Threads used (results do not depend on it).
    #[getter]
    fn threads(&self) -> usize {
        self.threads
    }

    /// Wall time of the calibration, in seconds.
    #[getter]
    fn wall_time_seconds(&self) -> f64 {
        self.wall_time_seconds
    }
}
