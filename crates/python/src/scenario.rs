//! `Scenario`: a validated scenario and where it came from, as `coprosim run` records it.

use crate::errors::{Problem, problems_error, scenario_error};
use coprosim::output::sha256_hex;
use coprosim_core::scenario::keys::{Slot, slot, with_setting};
use coprosim_core::scenario::{BASELINE, Scenario};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyString};
use std::path::PathBuf;

/// A scenario, valid by construction: every way of making one validates it and raises
/// `ScenarioError` with every problem found.
#[pyclass(module = "coprosim._core", name = "Scenario", frozen)]
#[derive(Clone)]
pub struct PyScenario {
    pub(crate) scenario: Scenario,
    /// The file (or `<dict>`, `<string>`) it was read from.
    source: String,
    /// The values set on it since, `key = value`, in order.
    settings: Vec<String>,
    /// SHA-256 of the text it was read from (`scenario_sha256`).
    pub(crate) sha256: String,
}

impl PyScenario {
    fn parsed(py: Python<'_>, text: &str, file: &str) -> PyResult<PyScenario> {
        let scenario = Scenario::parse(text, file).map_err(|e| scenario_error(py, e))?;
        Ok(PyScenario { scenario, source: file.to_string(), settings: Vec::new(), sha256: sha256_hex(text.as_bytes()) })
    }

    /// Where it came from, as the manifest records it (`scenario_file`): the file as read and
    /// the values set on it since.
    pub(crate) fn file(&self) -> String {
        if self.settings.is_empty() {
            self.source.clone()
        } else {
            format!("{} with {}", self.source, self.settings.join(", "))
        }
    }
}

/// A Python value as a TOML value for `with_values`.
fn toml_value(v: &Bound<'_, PyAny>) -> Option<toml::Value> {
    // bool before int: Python's True is an int too.
    if v.is_instance_of::<PyBool>() {
        return v.extract::<bool>().ok().map(toml::Value::Boolean);
    }
    if v.is_instance_of::<PyString>() {
        return v.extract::<String>().ok().map(toml::Value::String);
    }
    if v.is_instance_of::<PyFloat>() {
        return v.extract::<f64>().ok().map(toml::Value::Float);
    }
    // Python ints and anything with `__index__` (numpy's integers) are whole numbers.
    if let Ok(i) = v.extract::<i64>() {
        return Some(toml::Value::Integer(i));
    }
    // numpy's floats and other numbers.
    v.extract::<f64>().ok().map(toml::Value::Float)
}

/// Why `value` cannot be set at `key` of `s` when that is a whole-number parameter and
/// `value` is not whole. (A sweep rounds its axes' values to whole numbers; a value typed by
/// hand that is not whole is a mistake to report, not to round.)
fn not_whole(s: &Scenario, key: &str, value: &toml::Value) -> Option<String> {
    let toml::Value::Float(x) = value else { return None };
    let whole_slot = matches!(slot(s, key), Ok(Slot::Integer));
    (whole_slot && x.fract() != 0.0).then(|| format!("found {x} for `{key}`, expected a whole number"))
}

#[pymethods]
impl PyScenario {
    /// Read and validate a scenario file.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyScenario> {
        let (scenario, text) = coprosim::input::scenario_and_text(&path).map_err(|e| scenario_error(py, e))?;
        Ok(PyScenario {
            scenario,
            source: path.display().to_string(),
            settings: Vec::new(),
            sha256: sha256_hex(text.as_bytes()),
        })
    }

    /// The baseline scenario built into coprosim (what `coprosim run` runs without a file).
    #[staticmethod]
    fn baseline(py: Python<'_>) -> PyResult<PyScenario> {
        let mut s = PyScenario::parsed(py, BASELINE, "scenarios/baseline.toml")?;
        s.source = "(embedded baseline)".into();
        Ok(s)
    }

    /// Parse and validate scenario TOML text; `file` names it in errors.
    #[staticmethod]
    fn from_toml(py: Python<'_>, text: &str, file: &str) -> PyResult<PyScenario> {
        PyScenario::parsed(py, text, file)
    }

    /// Parse and validate a scenario given as JSON text (what `from_dict` sends): the keys and
    /// tables of a scenario file. Errors name the key path; their lines are those of the TOML
    /// text the dictionary makes (`to_toml` of the same dictionary).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str, file: &str) -> PyResult<PyScenario> {
        let value: toml::Value = serde_json::from_str(text).map_err(|e| {
            let problem: Problem =
                (file.to_string(), None, None, String::new(), format!("cannot be a scenario: {e} (TOML has no None)"));
            problems_error(py, file, vec![problem])
        })?;
        let toml_text = toml::to_string(&value).map_err(|e| {
            problems_error(
                py,
                file,
                vec![(file.to_string(), None, None, String::new(), format!("cannot be TOML: {e}"))],
            )
        })?;
        PyScenario::parsed(py, &toml_text, file)
    }

    /// A copy with the parameters at the given key paths set (numbers, text, booleans), each
    /// checked as a sweep checks its axes; every problem is reported at once.
    fn with_values(&self, py: Python<'_>, values: Vec<(String, Bound<'_, PyAny>)>) -> PyResult<PyScenario> {
        let mut scenario = self.scenario.clone();
        let mut problems: Vec<Problem> = Vec::new();
        let mut settings = self.settings.clone();
        for (key, v) in &values {
            let Some(value) = toml_value(v) else {
                let found = v.get_type().name().map(|n| n.to_string()).unwrap_or_default();
                return Err(PyTypeError::new_err(format!(
                    "{key}: found a value of type {found}, expected a number, a string or a boolean"
                )));
            };
            let set = match not_whole(&scenario, key, &value) {
                Some(message) => Err(message),
                None => with_setting(&scenario, key, &value),
            };
            match set {
                Ok(next) => scenario = next,
                Err(message) => problems.push((self.file(), None, None, key.clone(), message)),
            }
            // The manifest says what was run: the file as read, and what was set on it.
            settings.push(format!("{key} = {value}"));
        }
        if !problems.is_empty() {
            return Err(problems_error(py, &self.file(), problems));
        }
        Ok(PyScenario { scenario, source: self.source.clone(), settings, sha256: self.sha256.clone() })
    }

    /// What `coprosim run` refuses before it starts, refused here too: a run that would not
    /// fit in this machine's memory on `threads` threads with `replications` replications.
    #[pyo3(signature = (threads=None, replications=None))]
    fn check(&self, py: Python<'_>, threads: Option<usize>, replications: Option<u32>) -> PyResult<()> {
        crate::thread_count(threads)?;
        let threads = crate::threads_used(threads);
        let replications = replications.unwrap_or(self.scenario.simulation.replications);
        let Some(available) = coprosim::input::available_memory() else { return Ok(()) };
        self.scenario.check_fits(threads, replications, available).map_err(|p| {
            let problem = (self.file(), None, None, p.path.clone(), p.message.clone());
            problems_error(py, &self.file(), vec![problem])
        })
    }

    /// The resolved scenario as TOML, every default filled in (`resolved_scenario.toml`).
    fn to_toml(&self) -> String {
        self.scenario.to_toml()
    }

    /// Bytes of memory a run needs on `threads` threads with `replications` replications.
    fn memory_estimate(&self, threads: usize, replications: u32) -> u64 {
        self.scenario.memory_estimate(threads, replications)
    }

    /// The scenario's name.
    #[getter]
    fn name(&self) -> String {
        self.scenario.name.clone()
    }

    /// The scenario's description.
    #[getter]
    fn description(&self) -> String {
        self.scenario.description.clone()
    }

    /// Where it came from, as the manifest records it.
    #[getter]
    #[pyo3(name = "file")]
    fn py_file(&self) -> String {
        self.file()
    }

    /// SHA-256 of the text it was read from.
    #[getter]
    fn sha256(&self) -> String {
        self.sha256.clone()
    }

    /// Its own replications (`simulation.replications`).
    #[getter]
    fn replications(&self) -> u32 {
        self.scenario.simulation.replications
    }

    /// Its own master seed (`simulation.seed`).
    #[getter]
    fn seed(&self) -> u64 {
        self.scenario.simulation.seed
    }

    /// Ticks recorded.
    #[getter]
    fn ticks(&self) -> u32 {
        self.scenario.ticks()
    }

    /// Agents per replication.
    #[getter]
    fn agents(&self) -> u32 {
        self.scenario.population.size
    }
}
