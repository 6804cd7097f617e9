//! `coprosim.targets_from_roster`: a roster (a CSV file's text, or a table's cells, as a
//! pandas DataFrame or a Parquet file holds them) to the targets file `coprosim targets`
//! writes, byte for byte.

use crate::errors::scenario_error;
use crate::scenario::PyScenario;
use coprosim_core::inference::from_roster::{self, Options};
use coprosim_core::inference::roster::{Field, Roster};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A time as the roster gives it, or a ValueError naming the argument.
fn time_arg(roster: &Roster, name: &str, text: Option<&str>) -> PyResult<Option<f64>> {
    text.map(|t| {
        roster
            .time(t)
            .ok_or_else(|| PyValueError::new_err(format!("{name}: found \"{t}\", expected {}", roster.clock_words())))
    })
    .transpose()
}

/// A roster as Python hands it over: a CSV file's text, or a table's rows of cells (the column
/// names first), located as the command line locates a Parquet file's (row k on line k + 1,
/// a cell by its column's position).
#[derive(FromPyObject)]
pub enum RosterInput {
    /// A CSV file's text.
    Text(String),
    /// The column names, then each row's cells as text.
    Rows(Vec<Vec<String>>),
}

/// The targets file of a roster: `roster` is its CSV text or its rows, `source` its file name as the file is to
/// cite it, `name` the targets' name and `base` the scenario's path as the targets file will
/// name it. Raises the package's input error, with every problem located, for a bad roster.
#[pyfunction]
#[pyo3(signature = (roster, scenario, name, base, source, coalition=None, survival_weeks=None, curve_every=13, resamples=1000, seed=1, start=None, until=None))]
#[allow(clippy::too_many_arguments)]
pub fn targets_from_roster(
    py: Python<'_>,
    roster: RosterInput,
    scenario: &PyScenario,
    name: &str,
    base: &str,
    source: &str,
    coalition: Option<String>,
    survival_weeks: Option<Vec<u32>>,
    curve_every: u32,
    resamples: u32,
    seed: u64,
    start: Option<&str>,
    until: Option<&str>,
) -> PyResult<String> {
    let roster = match roster {
        RosterInput::Text(text) => Roster::parse(&text, source, &scenario.scenario),
        RosterInput::Rows(rows) => {
            let rows: Vec<(usize, Vec<Field>)> = rows
                .into_iter()
                .enumerate()
                .map(|(k, cells)| {
                    (k + 1, cells.into_iter().enumerate().map(|(i, text)| Field { text, col: i + 1 }).collect())
                })
                .collect();
            Roster::from_rows(&rows, source, &scenario.scenario)
        }
    }
    .map_err(|e| scenario_error(py, e))?;
    let mut options = Options {
        coalition,
        curve_every,
        resamples,
        seed,
        from: time_arg(&roster, "start", start)?,
        until: time_arg(&roster, "until", until)?,
        ..Options::default()
    };
    if let Some(weeks) = survival_weeks.filter(|w| !w.is_empty()) {
        options.survival_weeks = weeks;
    }
    let derived = from_roster::derive(&roster, &scenario.scenario, &options)
        .map_err(|why| PyValueError::new_err(format!("{source}: {why}")))?;
    Ok(from_roster::targets_toml(name, base, source, &roster, &derived, &options))
}
