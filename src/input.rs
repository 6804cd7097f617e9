//! Reading input files (scenarios, sweeps, targets, figures) safely: only regular files, only
//! up to a size limit, and a text that is UTF-8 or a located error saying where it is not.
//! The core parses text; reading the files it comes from is this crate's job.
//!
//! Why: a path such as `/dev/zero` would otherwise be read until memory ran out, and a FIFO
//! would block forever before any signal could be honoured. Checking the file's type before
//! opening it means a FIFO is never opened, so nothing blocks.

use coprosim_core::engine::sweep::Sweep;
use coprosim_core::inference::targets::Targets;
use coprosim_core::scenario::{Located, Scenario, ScenarioError, line_col};
use std::io::Read;
use std::path::Path;

pub mod parquet_table;

/// The largest input file read, in bytes. A scenario is a few kilobytes; a sweep listing a
/// million explicit axis values is about 10 MB.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

fn refused(file: &str, reason: String) -> ScenarioError {
    ScenarioError::Read {
        file: file.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, reason),
    }
}

/// What kind of thing a path that is not a regular file is, for the error message.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Read the input file at `path` as bytes: a regular file of at most [`MAX_INPUT_BYTES`];
/// `file` names it in errors.
pub fn read_bytes(path: &Path, file: &str) -> Result<Vec<u8>, ScenarioError> {
    // `metadata` follows symlinks, so a link to a regular file is read like the file itself.
    let meta = std::fs::metadata(path).map_err(|source| ScenarioError::Read { file: file.to_string(), source })?;
    if !meta.is_file() {
        return Err(refused(file, format!("found {}, expected a regular file", kind_of(&meta))));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(refused(
            file,
            format!("found {} bytes, expected at most {MAX_INPUT_BYTES} bytes (16 MiB)", meta.len()),
        ));
    }
    let handle = std::fs::File::open(path).map_err(|source| ScenarioError::Read { file: file.to_string(), source })?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow between the size check and the read: never read past the limit.
    handle
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| ScenarioError::Read { file: file.to_string(), source })?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(refused(file, format!("found more than {MAX_INPUT_BYTES} bytes, expected at most that (16 MiB)")));
    }
    Ok(bytes)
}

/// Read the input file at `path` as UTF-8 text; `file` names it in errors.
pub fn read_text(path: &Path, file: &str) -> Result<String, ScenarioError> {
    String::from_utf8(read_bytes(path, file)?).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes());
        let (line, col) = line_col(&text, offset);
        ScenarioError::Invalid {
            file: file.to_string(),
            problems: vec![Located {
                line,
                col,
                path: String::new(),
                message: format!("found a byte that is not UTF-8 (at byte {offset}), expected a UTF-8 TOML text"),
            }],
        }
    })
}

/// A scenario, sweep or targets file read from disk and validated.
pub trait Load: Sized {
    /// Read and validate the file at `path` (a regular file of at most [`MAX_INPUT_BYTES`]).
    fn load(path: &Path) -> Result<Self, ScenarioError>;
}

impl Load for Scenario {
    fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        Ok(scenario_and_text(path)?.0)
    }
}

impl Load for Sweep {
    fn load(path: &Path) -> Result<Sweep, ScenarioError> {
        let file = path.display().to_string();
        Sweep::parse(&read_text(path, &file)?, &file, &bases_beside(path))
    }
}

impl Load for Targets {
    fn load(path: &Path) -> Result<Targets, ScenarioError> {
        let file = path.display().to_string();
        Targets::parse(&read_text(path, &file)?, &file, &bases_beside(path))
    }
}

/// Read and validate a scenario file; also returns the text as read, so callers can record
/// what they ran without reading the file a second time.
pub fn scenario_and_text(path: &Path) -> Result<(Scenario, String), ScenarioError> {
    let file = path.display().to_string();
    let text = read_text(path, &file)?;
    Ok((Scenario::parse(&text, &file)?, text))
}

/// Reads the `base` scenario a sweep or targets file at `path` names, relative to that
/// file's folder.
pub fn bases_beside(path: &Path) -> impl Fn(&str) -> Result<(Scenario, String), ScenarioError> + use<> {
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    move |name: &str| {
        let path = dir.join(name);
        Scenario::load(&path).map(|s| (s, path.display().to_string()))
    }
}

/// The kinds of input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A scenario.
    Scenario,
    /// A sweep (`axes`, `design`, `outputs`).
    Sweep,
    /// A targets file for calibration (`observed`, `parameters`, `abc`).
    Targets,
}

impl FileKind {
    /// The kind of input file at `path`, from its top-level keys (a scenario when unsure, so
    /// that a scenario's own errors are the ones reported).
    pub fn of(path: &Path) -> FileKind {
        // Through the safe reader: a FIFO or a device is refused, never opened.
        let Ok(text) = read_text(path, &path.display().to_string()) else {
            return FileKind::Scenario;
        };
        let Ok(table) = text.parse::<toml::Table>() else { return FileKind::Scenario };
        if table.contains_key("observed") || table.contains_key("parameters") || table.contains_key("abc") {
            FileKind::Targets
        } else if table.contains_key("axes") || table.contains_key("design") || table.contains_key("outputs") {
            FileKind::Sweep
        } else {
            FileKind::Scenario
        }
    }

    /// Its name: `scenario`, `sweep` or `targets`.
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Scenario => "scenario",
            FileKind::Sweep => "sweep",
            FileKind::Targets => "targets",
        }
    }
}

/// Memory available to this process, from `/proc/meminfo` where there is one.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Worker threads per core a command may start. Results do not depend on the thread count,
/// so more threads buy nothing; tens of thousands exhaust the machine (each has its own stack
/// and guard page) before the first replication starts, and keep it from answering a signal.
pub const THREADS_PER_CORE: usize = 4;

/// The most worker threads a command starts on this machine: [`THREADS_PER_CORE`] per core
/// the process may use.
pub fn thread_limit() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).saturating_mul(THREADS_PER_CORE)
}

/// The worker threads asked for by `flag` (`--threads`, or Python's `threads=`), checked: the
/// count for a thread pool, 0 for one per core. One per core is the default, unless
/// `RAYON_NUM_THREADS` says otherwise, which is held to the same limit.
pub fn worker_threads(requested: Option<usize>, flag: &str) -> Result<usize, String> {
    let limit = thread_limit();
    let too_many = |what: &str, n: usize| {
        format!(
            "{what}: found {n}, expected at most {limit} ({THREADS_PER_CORE} per core on this machine; results do not depend on the number of threads)"
        )
    };
    match requested {
        Some(0) => Err(format!("{flag}: found 0, expected at least 1")),
        Some(n) if n > limit => Err(too_many(flag, n)),
        Some(n) => Ok(n),
        None => match rayon_env_threads() {
            Some(n) if n > limit => Err(too_many("RAYON_NUM_THREADS", n)),
            _ => Ok(0),
        },
    }
}

/// `RAYON_NUM_THREADS` as rayon reads it for its default pools (a number; 0 or anything else
/// means one per core).
fn rayon_env_threads() -> Option<usize> {
    std::env::var("RAYON_NUM_THREADS").ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: ScenarioError) -> String {
        e.to_string()
    }

    #[test]
    fn directories_and_devices_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let e = message(read_text(dir.path(), "d").unwrap_err());
        assert!(e.contains("found a directory, expected a regular file"), "{e}");
        #[cfg(unix)]
        {
            let e = message(read_text(Path::new("/dev/zero"), "z").unwrap_err());
            assert!(e.contains("found a device"), "{e}");
        }
    }

    #[test]
    fn oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(MAX_INPUT_BYTES + 1).unwrap();
        let e = message(read_text(&path, "big.toml").unwrap_err());
        assert!(e.contains("expected at most 16777216 bytes"), "{e}");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.toml");
        std::fs::write(&path, b"name = \"a\"\nx = \xff\n").unwrap();
        let e = message(read_text(&path, "x.toml").unwrap_err());
        assert!(e.starts_with("x.toml:2:5:"), "{e}");
    }

    #[test]
    fn thread_counts_beyond_the_limit_are_refused_with_it() {
        let limit = thread_limit();
        assert!(limit >= THREADS_PER_CORE);
        assert_eq!(worker_threads(Some(limit), "--threads"), Ok(limit));
        assert_eq!(worker_threads(Some(1), "--threads"), Ok(1));
        let e = worker_threads(Some(limit + 1), "--threads").unwrap_err();
        assert!(e.starts_with(&format!("--threads: found {}, expected at most {limit} (", limit + 1)), "{e}");
        let e = worker_threads(Some(0), "threads=").unwrap_err();
        assert_eq!(e, "threads=: found 0, expected at least 1");
    }
}
