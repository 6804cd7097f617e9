//! `sweep`: a parameter sweep or Sobol design run in memory, and its result as the command
//! line's files.

use crate::errors::{output_error, problems_error, scenario_error};
use crate::write::{chart_size, commit_into, writer_lock};
use coprosim::engine::sweep::Sweep;
use coprosim::engine::sweep::{self as design, PointResult, SweepInfo};
use coprosim::input::Load;
use coprosim::output::sweep::{
    Timing, indices, morris, morris_csv, points_csv, replications_csv, sensitivity_csv, series_csv, stage_merged,
    write_sweep,
};
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;

/// A validated sweep file (its base scenario read beside it).
#[pyclass(module = "coprosim._core", name = "Sweep", frozen)]
#[derive(Clone)]
pub struct PySweep {
    sweep: Sweep,
    file: String,
}

#[pymethods]
impl PySweep {
    /// Read and validate a sweep file; a `base = "file.toml"` is read beside it.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PySweep> {
        let sweep = Sweep::load(&path).map_err(|e| scenario_error(py, e))?;
        Ok(PySweep { sweep, file: path.display().to_string() })
    }

    /// The sweep's name.
    #[getter]
    fn name(&self) -> String {
        self.sweep.file.name.clone()
    }

    /// Where it came from.
    #[getter]
    fn file(&self) -> String {
        self.file.clone()
    }

    /// Points of its design.
    #[getter]
    fn points(&self) -> u64 {
        self.sweep.design_points().unwrap_or(u64::MAX)
    }

    /// Replications per point.
    #[getter]
    fn replications(&self) -> u32 {
        self.sweep.file.replications
    }

    /// The output key paths it records per point.
    #[getter]
    fn outputs(&self) -> Vec<String> {
        self.sweep.outputs().iter().map(|o| o.label()).collect()
    }
}

/// A finished sweep: every point's result.
#[pyclass(module = "coprosim._core", name = "SweepResult", frozen)]
pub struct PySweepResult {
    info: SweepInfo,
    points: Vec<PointResult>,
    threads: usize,
    wall_time_seconds: f64,
}

/// Run every point of `sweep` (its replications and seed unless given) on `threads` threads,
/// without the GIL; Ctrl-C stops it. The points are those `coprosim sweep` computes, with the
/// same seeds, so `write` gives its files.
#[pyfunction]
#[pyo3(signature = (sweep, replications=None, seed=None, threads=None))]
pub fn sweep(
    py: Python<'_>,
    sweep: &PySweep,
    replications: Option<u32>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<PySweepResult> {
    if replications == Some(0) {
        return Err(PyValueError::new_err("replications: found 0, expected at least 1"));
    }
    let file = sweep.file.clone();
    let mut sweep = sweep.sweep.clone();
    if let Some(n) = replications {
        sweep.file.replications = n;
    }
    if let Some(s) = seed {
        sweep.file.seed = s;
    }
    let pool_threads = crate::thread_count(threads)?;
    let used = crate::threads_used(threads);
    if let Some(available) = coprosim::input::available_memory() {
        sweep
            .check_fits(used, available)
            .map_err(|p| problems_error(py, &file, vec![(file.clone(), None, None, p.path, p.message)]))?;
    }
    let plan = design::plan(&sweep);
    let info = SweepInfo::new(&sweep, &plan, None);
    let outputs = sweep.outputs();
    let start = std::time::Instant::now();
    let all: Vec<usize> = (0..plan.points.len()).collect();
    let points = crate::interruptible(py, || {
        coprosim_core::par::with_threads(pool_threads, || design::run_batch(&sweep, &outputs, &plan, &all, &|| {}))
    })?
    .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    if points.len() < plan.points.len() {
        return Err(crate::interrupted("the sweep"));
    }
    Ok(PySweepResult { info, points, threads: used, wall_time_seconds: start.elapsed().as_secs_f64() })
}

#[pymethods]
impl PySweepResult {
    /// Names of the tables: `points`, `replications`, `series` when the sweep records whole trajectories, and `sensitivity` for a Sobol design or `morris` for a Morris one.
    fn tables(&self) -> Vec<String> {
        let mut t = vec!["points".to_string(), "replications".to_string()];
        if !self.info.series.is_empty() {
            t.push("series".into());
        }
        if self.info.design == "sobol" {
            t.push("sensitivity".into());
        }
        if self.info.design == "morris" {
            t.push("morris".into());
        }
        t
    }

    /// The bytes of `<name>.csv`, exactly as `coprosim sweep` writes it.
    fn csv<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = match name {
            "points" => points_csv(&self.info, &self.points),
            "replications" => replications_csv(&self.info, &self.points),
            "series" if !self.info.series.is_empty() => series_csv(&self.info, &self.points),
            "sensitivity" if self.info.design == "sobol" => {
                sensitivity_csv(&self.info, &indices(&self.info, &self.points))
            }
            "morris" if self.info.design == "morris" => morris_csv(&self.info, &morris(&self.info, &self.points)),
            _ => {
                return Err(PyKeyError::new_err(format!(
                    "{name}: no such table; there are {}",
                    self.tables().join(", ")
                )));
            }
        };
        Ok(PyBytes::new(py, &bytes))
    }

    /// Write the sweep's files into `dir` as `coprosim sweep --out dir` does (same files,
    /// same bytes; the manifest's wall time is this sweep's), with charts unless `charts` is
    /// false. Returns the paths written.
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
        let staging = stage_merged(&dir, &self.info, force).map_err(|e| output_error(py, e))?;
        let timing = Timing { threads: self.threads, wall_time_seconds: self.wall_time_seconds, shards: Vec::new() };
        commit_into(py, &dir, staging, |work| write_sweep(work, &self.info, &self.points, size, &timing))
    }

    /// The sweep's description as `sweep.json` records it (its identity, axes, outputs).
    fn info_json(&self) -> String {
        serde_json::to_string_pretty(&self.info).expect("serialises")
    }

    /// Points computed.
    #[getter]
    fn points(&self) -> usize {
        self.points.len()
    }

    /// Threads used (results do not depend on it).
    #[getter]
    fn threads(&self) -> usize {
        self.threads
    }

    /// Wall time of the sweep, in seconds.
    #[getter]
    fn wall_time_seconds(&self) -> f64 {
        self.wall_time_seconds
    }
}
