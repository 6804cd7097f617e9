//! `run`: Monte Carlo replications of a scenario, and their result as the command line's
//! files.

use crate::errors::{output_error, problems_error};
use crate::scenario::PyScenario;
use crate::write::{chart_size, commit_into, writer_lock};
use coprosim::engine::{self, EngineError, RunConfig};
use coprosim::observe::Results;
use coprosim::observe::detail::{DetailRequest, snapshot_ticks};
use coprosim::output::commit::{Kind, Staging};
use coprosim::output::{self, Manifest};
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;

/// A finished run: the results of every replication, and what the manifest records.
#[pyclass(module = "coprosim._core", name = "Run", frozen)]
pub struct PyRun {
    results: Results,
    scenario: PyScenario,
    cfg: RunConfig,
    threads: usize,
    wall_time_seconds: f64,
    /// Whether agent snapshots and the event log were recorded.
    detail: (bool, bool),
    /// The states its replications started from, when they did.
    from_state: Option<output::WarmSource>,
}

/// Run `scenario`'s replications (its own count and seed unless given) on `threads` threads
/// (None: one per core), without the GIL; Ctrl-C stops it.
#[pyfunction]
#[pyo3(signature = (scenario, replications=None, seed=None, threads=None, agents=Vec::new(), events=false, detail_replications=1, from_state=None))]
#[allow(clippy::too_many_arguments)]
pub fn run(
    py: Python<'_>,
    scenario: &PyScenario,
    replications: Option<u32>,
    seed: Option<u64>,
    threads: Option<usize>,
    agents: Vec<f64>,
    events: bool,
    detail_replications: u32,
    from_state: Option<&crate::warm::PyWarmStates>,
) -> PyResult<PyRun> {
    if replications == Some(0) {
        return Err(PyValueError::new_err("replications: found 0, expected at least 1"));
    }
    let mut scenario = scenario.clone();
    if let Some(r) = replications {
        scenario.scenario.simulation.replications = r;
    }
    if let Some(s) = seed {
        scenario.scenario.simulation.seed = s;
    }
    // Starting from saved states: their seed unless another is given (then refused), and
    // every difference that would have changed the burn-in refused, as the command line does.
    let plan = match from_state {
        None => None,
        Some(w) => {
            match seed {
                Some(s) if s != w.scenario.simulation.seed => {
                    return Err(PyValueError::new_err(format!(
                        "seed: found {s}, expected {}: the states go on with the random streams of that seed",
                        w.scenario.simulation.seed
                    )));
                }
                _ => scenario.scenario.simulation.seed = w.scenario.simulation.seed,
            }
            let wanted = scenario.scenario.simulation.replications;
            if wanted as usize > w.states.len() {
                return Err(PyValueError::new_err(format!(
                    "replications: found {wanted}, expected at most the {} states saved",
                    w.states.len()
                )));
            }
            Some(w.plan(py, &scenario)?)
        }
    };
    let mut cfg = RunConfig::from_scenario(&scenario.scenario);
    cfg.threads = crate::thread_count(threads)?;
    let used = crate::threads_used(threads);
    let request = if agents.is_empty() && !events {
        None
    } else {
        if detail_replications == 0 {
            return Err(PyValueError::new_err("detail_replications: found 0, expected at least 1"));
        }
        let cat = coprosim::observe::Catalogue::new(&scenario.scenario);
        let snapshot_ticks =
            snapshot_ticks(&cat, &agents).map_err(|e| PyValueError::new_err(format!("agents: {e}")))?;
        Some(DetailRequest { snapshot_ticks, events, replications: detail_replications })
    };
    if let Some(available) = coprosim::input::available_memory() {
        let detail =
            request.as_ref().map_or(0, |d| d.snapshot_bytes(scenario.scenario.population.size, cfg.replications));
        scenario.scenario.check_fits_with_detail(used, cfg.replications, detail, available).map_err(|p| {
            problems_error(py, &scenario.file(), vec![(scenario.file(), None, None, p.path, p.message)])
        })?;
    }
    let start = std::time::Instant::now();
    let s = &scenario.scenario;
    let r = request.as_ref();
    let (seed_used, burn_in) = (s.simulation.seed, s.burn_in_ticks());
    let load = |k: u32| from_state.expect("starting from states").load(k, seed_used, burn_in);
    let warm = engine::Warm { from: from_state.map(|_| &load as &engine::LoadState<'_>), save: None };
    let results =
        crate::interruptible(py, || engine::run_warm(s, cfg, &|_| None, r, warm, &|| {}))?.map_err(|e| match e {
            EngineError::Interrupted { .. } => crate::interrupted("the run"),
            EngineError::Warm { .. } => PyValueError::new_err(e.to_string()),
            other => PyRuntimeError::new_err(other.to_string()),
        })?;
    let detail = (!agents.is_empty(), events);
    let from_state = from_state.zip(plan).map(|(w, plan)| output::WarmSource {
        dir: w.source.clone(),
        manifest_sha256: w.manifest_sha256.clone(),
        burn_in_identity: w.identity.clone(),
        applied_at_burn_in_end: plan.applied.iter().map(|(k, old, new)| format!("{k}: {old} -> {new}")).collect(),
        later_policy: plan.later.clone(),
    });
    Ok(PyRun {
        results,
        scenario,
        cfg,
        threads: used,
        wall_time_seconds: start.elapsed().as_secs_f64(),
        detail,
        from_state,
    })
}

impl PyRun {
    /// Every CSV file of the run, the detail files included.
    fn files(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut files = output::csv_files(&self.results);
        files.extend(output::detail::detail_files(&self.results, self.detail.0, self.detail.1, false));
        files
    }
}

#[pymethods]
impl PyRun {
    /// Names of the tables (`series`, `retention`, `summary`, `inequality`, `replications`,
    /// `replication_series`, and `agents`, `events` and `spells` when they were recorded).
    fn tables(&self) -> Vec<String> {
        self.files().into_iter().map(|(n, _)| n.trim_end_matches(".csv").to_string()).collect()
    }

    /// The bytes of `<name>.csv`, exactly as `coprosim run` writes it.
    fn csv<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
        let file = format!("{name}.csv");
        let bytes = self.files().into_iter().find(|(n, _)| *n == file).map(|(_, b)| b).ok_or_else(|| {
            PyKeyError::new_err(format!("{name}: no such table; there are {}", self.tables().join(", ")))
        })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Write the run's files into `dir` as `coprosim run --out dir` does (same files, same
    /// bytes; the manifest's wall time is this run's), with charts, `report.html` and
    /// `explorer.html` unless `charts` is false. Files coprosim did not write are kept; a
    /// directory holding another kind of result is refused unless `force`. Returns the paths
    /// written.
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
        let staging = Staging::new(&dir, Kind::Run, force).map_err(|e| output_error(py, e))?;
        let mut manifest = Manifest::for_run(
            &self.scenario.scenario,
            self.scenario.file(),
            self.scenario.sha256.clone(),
            &self.cfg,
            self.threads,
            self.wall_time_seconds,
            None,
        );
        manifest.from_state = self.from_state.clone();
        let toml = self.scenario.scenario.to_toml();
        commit_into(py, &dir, staging, |work| {
            let mut written = output::write_run(work, &self.results, &toml, manifest)?;
            written.extend(output::detail::write_detail(work, &self.results, self.detail.0, self.detail.1, false)?);
            if let Some(size) = size {
                written.extend(output::write_charts(work, size)?);
            }
            Ok(written)
        })
    }

    /// SHA-256 over every reported number, bit for bit (`Results::digest`): equal digests,
    /// equal results.
    fn digest(&self) -> String {
        self.results.digest()
    }

    /// Warnings about what the results cannot say (the manifest's `warnings`).
    fn warnings(&self) -> Vec<String> {
        self.results.diagnostics.iter().map(|d| d.message.clone()).collect()
    }

    /// The scenario as run (replications and seed as given to `run`).
    #[getter]
    fn scenario(&self) -> PyScenario {
        self.scenario.clone()
    }

    /// The master seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.cfg.seed
    }

    /// Replications run.
    #[getter]
    fn replications(&self) -> u32 {
        self.cfg.replications
    }

    /// Threads used (results do not depend on it).
    #[getter]
    fn threads(&self) -> usize {
        self.threads
    }

    /// Wall time of the simulation, in seconds.
    #[getter]
    fn wall_time_seconds(&self) -> f64 {
        self.wall_time_seconds
    }
}
