//! `WarmStates`: each replication's state at the end of its burn-in, to start policies from
//! (`run(..., from_state=...)`), made by `Scenario.warm` or read from a `coprosim run
//! --save-state` result. The states are the command line's bytes.

use crate::errors::problems_error;
use crate::scenario::PyScenario;
use coprosim::engine::{self, EngineError, RunConfig};
use coprosim::output::warm::SavedStates;
use coprosim_core::engine::warm::{self as core_warm, ForkPlan, WarmState};
use coprosim_core::scenario::Scenario;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;

/// Encoded states, one per replication from 0, and the scenario they were saved under.
#[pyclass(module = "coprosim._core", name = "WarmStates", frozen)]
pub struct PyWarmStates {
    pub(crate) scenario: Scenario,
    pub(crate) identity: String,
    pub(crate) states: Vec<Vec<u8>>,
    /// Where they came from: a result directory, or `<memory>`.
    pub(crate) source: String,
    /// SHA-256 of the result's manifest, when read from one.
    pub(crate) manifest_sha256: String,
}

impl PyWarmStates {
    /// Replication `r`'s state, checked against the run it is to start.
    pub(crate) fn load(&self, r: u32, seed: u64, burn_in_ticks: u32) -> Result<WarmState, String> {
        let bytes = self.states.get(r as usize).ok_or_else(|| format!("no saved state for replication {r}"))?;
        let state = core_warm::decode(bytes).map_err(|e| format!("state of replication {r}: {e}"))?;
        state.check(&self.identity, seed, r, burn_in_ticks).map_err(|e| format!("state of replication {r}: {e}"))?;
        Ok(state)
    }

    /// How `s` forks from these states, or a `ScenarioError` with every reason it cannot.
    pub(crate) fn plan(&self, py: Python<'_>, s: &PyScenario) -> PyResult<ForkPlan> {
        core_warm::plan_fork(&self.scenario, &s.scenario).map_err(|problems| {
            let file = s.file();
            problems_error(
                py,
                &file,
                problems.into_iter().map(|p| (file.clone(), None, None, p.path, p.message)).collect(),
            )
        })
    }
}

/// Simulate the burn-in of each of `scenario`'s replications (its own count and seed unless
/// given) and keep its end state.
#[pyfunction]
#[pyo3(signature = (scenario, replications=None, seed=None, threads=None))]
pub fn warm(
    py: Python<'_>,
    scenario: &PyScenario,
    replications: Option<u32>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<PyWarmStates> {
    if replications == Some(0) {
        return Err(PyValueError::new_err("replications: found 0, expected at least 1"));
    }
    let mut s = scenario.scenario.clone();
    if let Some(r) = replications {
        s.simulation.replications = r;
    }
    if let Some(x) = seed {
        s.simulation.seed = x;
    }
    let mut cfg = RunConfig::from_scenario(&s);
    cfg.threads = crate::thread_count(threads)?;
    let states = crate::interruptible(py, || engine::burn_ins(&s, cfg))?.map_err(|e| match e {
        EngineError::Interrupted { .. } => crate::interrupted("the burn-ins"),
        other => PyRuntimeError::new_err(other.to_string()),
    })?;
    Ok(PyWarmStates {
        identity: core_warm::burn_in_identity(&s),
        scenario: s,
        states,
        source: "<memory>".into(),
        manifest_sha256: String::new(),
    })
}

#[pymethods]
impl PyWarmStates {
    /// The states `coprosim run --save-state` saved in the result directory `dir`, each
    /// checked against the manifest's SHA-256 (and against its own, and the run, when a run
    /// starts from it).
    #[staticmethod]
    fn load_dir(py: Python<'_>, dir: PathBuf) -> PyResult<PyWarmStates> {
        let saved = SavedStates::read(&dir).map_err(|e| crate::errors::output_error(py, e))?;
        if let Some(sha) = &saved.posterior {
            // Each state is that of its replication's draw from the posterior, and the
            // package's runs draw from none: only `coprosim run --posterior` can use them.
            return Err(PyValueError::new_err(format!(
                "{}: its states were saved by `coprosim run --posterior` (posterior {sha:.12}), each with its replication's draw; start from them with `coprosim run --posterior ... --from-state`",
                dir.display()
            )));
        }
        let states = (0..saved.replications())
            .map(|r| saved.bytes(r))
            .collect::<Result<Vec<_>, String>>()
            .map_err(PyValueError::new_err)?;
        Ok(PyWarmStates {
            identity: saved.identity.clone(),
            manifest_sha256: saved.manifest_sha256.clone(),
            source: dir.display().to_string(),
            scenario: saved.scenario,
            states,
        })
    }

    /// Replications with a saved state.
    #[getter]
    fn replications(&self) -> usize {
        self.states.len()
    }

    /// The master seed they were saved with.
    #[getter]
    fn seed(&self) -> u64 {
        self.scenario.simulation.seed
    }

    /// Replication `r`'s state: the bytes `coprosim run --save-state` writes to
    /// `warm/replication-NNNNNN.state`.
    fn state<'py>(&self, py: Python<'py>, r: usize) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.states.get(r).ok_or_else(|| {
            PyValueError::new_err(format!("r: found {r}, expected a replication below {}", self.states.len()))
        })?;
        Ok(PyBytes::new(py, bytes))
    }

    /// The scenario the states were saved under, as resolved TOML.
    fn scenario_toml(&self) -> String {
        self.scenario.to_toml()
    }
}
