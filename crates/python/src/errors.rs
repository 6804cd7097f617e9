//! Errors as the Python package raises them: its own exception classes (defined in
//! `coprosim/_errors.py`, so they are ordinary Python classes with documented attributes),
//! built here from the command line's errors.

use coprosim::output::OutputError;
use coprosim_core::scenario::ScenarioError;
use pyo3::prelude::*;

/// Build an instance of `coprosim._errors.<class>` from `args`, as an error to raise.
fn raise<'py>(py: Python<'py>, class: &str, args: impl pyo3::call::PyCallArgs<'py>) -> PyErr {
    match py.import("coprosim._errors").and_then(|m| m.getattr(class)).and_then(|c| c.call1(args)) {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// A message of the command line's, with its flags as this package's arguments: `--out` is
/// the directory given to `write`, `--force` is `force=True`, `--threads` is `threads=`.
fn python_terms(message: &str) -> String {
    message
        .replace("choose another --out", "choose another directory")
        .replace("pass --force", "pass force=True")
        .replace("--threads", "threads=")
}

/// One problem: (file, line, column, key path, message); line and column are None when the
/// problem has no place in a text (the file cannot be read, or a value set from Python).
pub(crate) type Problem = (String, Option<usize>, Option<usize>, String, String);

/// `coprosim.ScenarioError` for a scenario, sweep or targets file that cannot be used: every
/// problem at once, each with its file, line:column and key path.
pub(crate) fn scenario_error(py: Python<'_>, e: ScenarioError) -> PyErr {
    let message = e.to_string();
    let (file, problems): (String, Vec<Problem>) = match &e {
        ScenarioError::Read { file, source } => {
            (file.clone(), vec![(file.clone(), None, None, String::new(), format!("cannot read: {source}"))])
        }
        ScenarioError::Invalid { file, problems } => (
            file.clone(),
            problems
                .iter()
                .map(|p| (file.clone(), Some(p.line), Some(p.col), p.path.clone(), p.message.clone()))
                .collect(),
        ),
    };
    raise(py, "ScenarioError", (message, file, problems))
}

/// `coprosim.ScenarioError` for problems found outside a text (values set from Python).
pub(crate) fn problems_error(py: Python<'_>, file: &str, problems: Vec<Problem>) -> PyErr {
    let problems: Vec<Problem> = problems.into_iter().map(|(f, l, c, p, m)| (f, l, c, p, python_terms(&m))).collect();
    let message = problems
        .iter()
        .map(|(f, _, _, path, m)| if path.is_empty() { format!("{f}: {m}") } else { format!("{f}: {path}: {m}") })
        .collect::<Vec<_>>()
        .join("\n");
    raise(py, "ScenarioError", (message, file.to_string(), problems))
}

/// `coprosim.OutputError` for a result that cannot be written; `KeyboardInterrupt` when a
/// stop ended the writing (nothing was committed).
pub(crate) fn output_error(py: Python<'_>, e: OutputError) -> PyErr {
    match e {
        OutputError::Interrupted { .. } => crate::interrupted("writing the result"),
        other => raise(py, "OutputError", (python_terms(&other.to_string()),)),
    }
}
