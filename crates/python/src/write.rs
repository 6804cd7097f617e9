//! Writing a result where the user asks, as the command line does: under the directory's
//! writer lock, built in a working folder and committed whole.

use crate::errors::output_error;
use coprosim::output::charts::ChartSize;
use coprosim::output::commit::Staging;
use coprosim::output::{self, OutputError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::{Path, PathBuf};

/// Take `dir`'s writer lock, saying on standard error whom it waits for. The wait runs
/// without the GIL (another Python thread may hold the lock and need the GIL to finish) and
/// Ctrl-C ends it.
pub(crate) fn writer_lock(py: Python<'_>, dir: &Path) -> PyResult<output::writer::WriterLock> {
    let target = output::commit::resolve(dir).map_err(|e| output_error(py, e))?;
    let shown = dir.display().to_string();
    let waiting = |who: &str| eprintln!("waiting: {shown} is being written by coprosim {who}");
    crate::interruptible(py, || output::writer::lock(&target, &waiting))?.map_err(|e| output_error(py, e))
}

/// Charts of the given size, or none.
pub(crate) fn chart_size(charts: bool, width: u32, height: u32) -> PyResult<Option<ChartSize>> {
    if !charts {
        return Ok(None);
    }
    // The command line's ranges (`--width`, `--height`).
    for (name, v, low) in [("width", width, 400), ("height", height, 300)] {
        if !(low..=10000).contains(&v) {
            return Err(PyValueError::new_err(format!("{name}: found {v}, expected {low} to 10000 pixels")));
        }
    }
    Ok(Some(ChartSize { width, height }))
}

/// Let `fill` write a result's files into `staging`'s working folder, commit them into
/// `dir` (Ctrl-C stops before the commit, and nothing changes), tell the user which of their
/// files were kept, and return the paths written as they are in `dir`.
pub(crate) fn commit_into(
    py: Python<'_>,
    dir: &Path,
    staging: Staging,
    fill: impl FnOnce(&Path) -> Result<Vec<PathBuf>, OutputError> + Send,
) -> PyResult<Vec<String>> {
    let work = staging.dir().to_path_buf();
    let (written, done) = crate::interruptible(py, || {
        let written = fill(&work)?;
        staging.commit().map(|done| (written, done))
    })?
    .map_err(|e| output_error(py, e))?;
    if let Some(note) = done.note() {
        eprintln!("note: {note}");
    }
    let inside = |p: PathBuf| p.strip_prefix(&work).map(|rel| dir.join(rel)).unwrap_or(p);
    Ok(written.into_iter().map(|p| inside(p).display().to_string()).collect())
}
