//! The base scenario of a sweep or targets file: a scenario file it names (read by the
//! caller: the core reads no files), the embedded baseline, or an inline `[scenario]` table,
//! checked in the same pass as the naming file so that every problem comes in one report.

use super::params::Problem;
use super::{Scenario, ScenarioError};

/// Why the base scenario of a sweep or targets file could not be had.
#[derive(Debug)]
pub enum BaseError {
    /// Problems in the file that names the base, at their key paths there.
    Problems(Vec<Problem>),
    /// The base scenario file itself is unreadable or invalid.
    File(ScenarioError),
}

/// Reads the scenario file a sweep or targets file names as its `base`, given the name as
/// written, and says where it came from. The core reads no files: the caller supplies this
/// (the command line reads the name relative to the naming file's folder).
pub type BaseReader<'a> = &'a dyn Fn(&str) -> Result<(Scenario, String), ScenarioError>;

/// A [`BaseReader`] where there are no files (a browser, a test): only "baseline" and an
/// inline `[scenario]` can be bases.
pub fn no_files(name: &str) -> Result<(Scenario, String), ScenarioError> {
    Err(ScenarioError::Read {
        file: name.to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "no files can be read here; use base = \"baseline\" or an inline [scenario] table",
        ),
    })
}

/// The base scenario of a file that has a `base` key (a scenario file read by `read`, or
/// "baseline") or an inline `[scenario]` table, and where it came from.
pub fn resolve_base(inline: Option<&Scenario>, base: &str, read: BaseReader) -> Result<(Scenario, String), BaseError> {
    match (inline, base) {
        (Some(_), b) if !b.is_empty() => Err(BaseError::Problems(vec![Problem::new(
            "base",
            "found both `base` and an inline [scenario], expected one of them",
        )])),
        (Some(s), _) => {
            let problems: Vec<Problem> = s
                .problems()
                .into_iter()
                .map(|p| Problem::new(super::params::join("scenario", &p.path), p.message))
                .collect();
            if problems.is_empty() {
                Ok((s.clone(), "(inline)".to_string()))
            } else {
                Err(BaseError::Problems(problems))
            }
        }
        (None, "") => Err(BaseError::Problems(vec![Problem::new(
            "base",
            "missing required key `base`, expected a scenario file path, \"baseline\", or an inline [scenario] table",
        )])),
        (None, "baseline") => Ok((Scenario::baseline(), "(embedded baseline)".to_string())),
        (None, b) => read(b).map_err(BaseError::File),
    }
}

/// A base scenario file that could not be used, as problems of the `base` key that names it,
/// reported with the naming file's other problems: one line for a file that cannot be read,
/// one per problem (located in the base file) for a file that is not a valid scenario.
fn base_file_problems(base: &str, e: ScenarioError) -> Vec<Problem> {
    match e {
        ScenarioError::Read { source, .. } => {
            // "No such file or directory (os error 2)": the number says nothing to a reader.
            let reason = source.to_string();
            let reason = match reason.rfind(" (os error ") {
                Some(at) if reason.ends_with(')') => reason[..at].to_string(),
                _ => reason,
            };
            vec![Problem::new("base", format!("found {base:?}, expected a readable scenario file ({reason})"))]
        }
        ScenarioError::Invalid { file, problems } => problems
            .iter()
            .map(|p| {
                let at = if p.path.is_empty() { String::new() } else { format!(" {}:", p.path) };
                Problem::new(
                    "base",
                    format!(
                        "found {base:?}, expected a valid scenario file ({file}:{}:{}:{at} {})",
                        p.line, p.col, p.message
                    ),
                )
            })
            .collect(),
    }
}

/// Parse a document that names a base scenario (a sweep or targets file) and check it against
/// that base in the same pass, so that the problems of the file's own shape (unknown keys,
/// wrong types) and those found against its base (an axis naming no parameter) come in one
/// report. `build` makes the result from the parsed file and its base, or says what is wrong.
pub fn parse_on_base<F, T>(
    text: &str,
    file: &str,
    read: BaseReader,
    base_of: impl FnOnce(&F) -> (Option<&Scenario>, &str),
    build: impl FnOnce(&F, Scenario, String) -> Result<T, Vec<Problem>>,
) -> Result<T, ScenarioError>
where
    F: for<'de> serde::Deserialize<'de> + super::params::Check + super::params::Describe,
{
    let mut built: Option<Result<T, ScenarioError>> = None;
    super::parse_document(text, file, |f: &F| {
        let (inline, base) = base_of(f);
        match resolve_base(inline, base, read) {
            Ok((scenario, origin)) => match build(f, scenario, origin) {
                Ok(t) => {
                    built = Some(Ok(t));
                    Vec::new()
                }
                Err(problems) => problems,
            },
            Err(BaseError::Problems(problems)) => problems,
            Err(BaseError::File(e)) => base_file_problems(base, e),
        }
    })?;
    built.unwrap_or_else(|| {
        Err(super::locate_problems(text, file, vec![Problem::new("", "found a problem that could not be located")]))
    })
}
