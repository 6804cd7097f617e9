//! The commands, one module each; `main.rs` parses the arguments and maps their failures
//! to exit codes. What several commands share (messages, failures, the writer lock, the
//! size guard) is here.

use coprosim::observe::detail::DetailRequest;
use coprosim::output::{self, OutputError};
use coprosim::scenario::{BASELINE, Scenario, ScenarioError};
use std::path::{Path, PathBuf};

/// Set once from `--quiet`, read by the commands' messages.
pub static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Print a line to standard error unless `--quiet`: a message about the work, not its result.
macro_rules! tell {
    ($($arg:tt)*) => {
        if !quiet() {
            eprintln!($($arg)*);
        }
    };
}

/// Print a line to standard output unless `--quiet`.
macro_rules! say {
    ($($arg:tt)*) => {
        if !quiet() {
            println!($($arg)*);
        }
    };
}

pub mod calibrate;
pub mod check;
pub mod compare;
pub mod explore;
pub mod funding;
pub mod params;
pub mod plot;
pub mod reproduce;
pub mod run;
pub mod sweep;
pub mod targets;

/// A failure and the exit code it maps to.
pub enum Failure {
    /// Bad input: exit 2.
    Input(String),
    /// Runtime failure: exit 1.
    Runtime(String),
    /// Stopped by SIGINT or SIGTERM: exit 130.
    Interrupted(String),
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        match e {
            ScenarioError::Read { .. } => Failure::Input(e.to_string()),
            ScenarioError::Invalid { .. } => Failure::Input(e.to_string()),
        }
    }
}

pub fn load(path: Option<&Path>) -> Result<(Scenario, String, String), Failure> {
    match path {
        Some(p) => {
            let (scenario, text) = coprosim::input::scenario_and_text(p)?;
            Ok((scenario, p.display().to_string(), output::sha256_hex(text.as_bytes())))
        }
        None => Ok((Scenario::baseline(), "(embedded baseline)".to_string(), output::sha256_hex(BASELINE.as_bytes()))),
    }
}

/// The default output directory of a result named `name`: `output/<name>/`, with every
/// character that could leave that folder or make a nested one (`/`, `\\`, a leading `.`,
/// control characters) replaced by `_`, so a name is always one directory inside `output/`.
pub fn default_out(name: &str) -> PathBuf {
    let mut safe: String =
        name.chars().map(|c| if c == '/' || c == '\\' || c.is_control() || c == ':' { '_' } else { c }).collect();
    if safe.starts_with('.') {
        safe.replace_range(..1, "_");
    }
    if safe.trim().is_empty() {
        safe = "unnamed".into();
    }
    Path::new("output").join(safe)
}

/// `--threads` checked against the machine (`input::worker_threads`): the count to build a
/// thread pool with (0 = one per core) and the count that pool has.
pub fn threads(requested: Option<usize>) -> Result<(usize, usize), Failure> {
    let pool = coprosim::input::worker_threads(requested, "--threads").map_err(Failure::Input)?;
    Ok((pool, if pool == 0 { rayon::current_num_threads() } else { pool }))
}

/// The size guard: refuse, with the key to change, a run that would not fit in memory.
pub fn fits(scenario: &Scenario, file: &str, threads: usize, replications: u32) -> Result<(), Failure> {
    fits_with_detail(scenario, file, threads, replications, None)
}

/// [`fits`], counting the agent snapshots `detail` asks for.
pub fn fits_with_detail(
    scenario: &Scenario,
    file: &str,
    threads: usize,
    replications: u32,
    detail: Option<&DetailRequest>,
) -> Result<(), Failure> {
    let Some(available) = coprosim::input::available_memory() else { return Ok(()) };
    let detail = detail.map_or(0, |d| d.snapshot_bytes(scenario.population.size, replications));
    scenario
        .check_fits_with_detail(threads, replications, detail, available)
        .map_err(|p| Failure::Input(format!("{file}: {}: {}", p.path, p.message)))
}

/// Map an output error to its exit code: unusable input directories are bad input.
pub fn output_failure(e: OutputError) -> Failure {
    match e {
        OutputError::Incomplete { .. }
        | OutputError::Unreadable { .. }
        | OutputError::NotOurs { .. }
        | OutputError::Unusable { .. }
        | OutputError::NoSuchSeries { .. }
        | OutputError::Altered { .. } => Failure::Input(e.to_string()),
        OutputError::Interrupted { .. } => {
            Failure::Interrupted("interrupted while drawing charts; the charts written so far are complete".into())
        }
        OutputError::Io { .. } | OutputError::Chart { .. } => Failure::Runtime(e.to_string()),
    }
}

/// Map an error met while writing the result for `dir`: a stop is a stop (named by the
/// directory the user gave, not the working folder), anything else a runtime failure.
pub fn writing_failure(dir: &Path) -> impl Fn(OutputError) -> Failure + '_ {
    move |e| match e {
        OutputError::Interrupted { .. } => {
            Failure::Interrupted(OutputError::Interrupted { path: dir.display().to_string() }.to_string())
        }
        other => Failure::Runtime(other.to_string()),
    }
}

/// Take the output directory's writer lock (see `output::writer`): wait, saying for whom,
/// while another coprosim process writes there; then note any working folders of killed runs
/// that were cleaned away.
pub fn writer_lock(dir: &Path) -> Result<output::writer::WriterLock, Failure> {
    let target = output::commit::resolve(dir).map_err(output_failure)?;
    let shown = dir.display().to_string();
    let waiting = |who: &str| {
        eprintln!(
            "waiting: {shown} is being written by coprosim {who}; this one goes on when that one finishes (Ctrl-C to stop)"
        )
    };
    let lock = output::writer::lock(&target, &waiting).map_err(|e| match e {
        OutputError::Interrupted { .. } => {
            Failure::Interrupted(format!("stopped while waiting to write {shown}; nothing was written"))
        }
        other => output_failure(other),
    })?;
    if !lock.cleaned.is_empty() {
        let names: Vec<String> =
            lock.cleaned.iter().map(|p| p.file_name().unwrap_or_default().to_string_lossy().into_owned()).collect();
        // Even under -q: it is about the user's directory, as a warning is.
        eprintln!("note: removed the working folders of killed coprosim runs: {}", names.join(", "));
    }
    Ok(lock)
}

/// Tell the user which of their files a commit left in place.
pub fn report_kept(done: &output::commit::Committed) {
    if let Some(note) = done.note() {
        eprintln!("note: {note}");
    }
}
