//! Run outputs: `series.csv`, `retention.csv`, `summary.csv` and `manifest.json`.
//!
//! Files are written to a temporary name and renamed into place, so a reader never sees a
//! half-written file under its final name. Numbers are printed with a fixed rule (at most six
//! decimals, trailing zeros trimmed), so the bytes depend only on the values.

use crate::observe::{Results, stats::Summary};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Name of the manifest that marks a directory as a coprosim result.
pub const MANIFEST: &str = "manifest.json";

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// File-system failure.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The directory holds something other than a coprosim result.
    #[error(
        "{path}: the directory is not empty and holds no {MANIFEST}, so it is not a coprosim result; choose another --out or pass --force to write into it"
    )]
    NotOurs {
        /// The directory.
        path: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io { path: path.display().to_string(), source }
}

/// Lowercase hex of a SHA-256 digest of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Format a number for the CSV files: integers plainly, others with at most six decimals.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_string() } else { s.to_string() }
}

/// Check that `dir` may receive results: absent, empty, an earlier coprosim result, or forced.
pub fn prepare_dir(dir: &Path, force: bool) -> Result<(), OutputError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
        let empty = entries.next().is_none();
        if !empty && !dir.join(MANIFEST).exists() && !force {
            return Err(OutputError::NotOurs { path: dir.display().to_string() });
        }
    }
    std::fs::create_dir_all(dir).map_err(io(dir))
}

/// Write `bytes` to `dir/name` through a temporary file and a rename.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, OutputError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(path)
}

fn stats_cells(s: &Summary) -> [String; 6] {
    [num(s.mean), num(s.sd), num(s.p05), num(s.p50), num(s.p95), s.n.to_string()]
}

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("flushing to memory")
}

/// The CSV files of a run, as (file name, bytes).
pub fn csv_files(r: &Results) -> Vec<(&'static str, Vec<u8>)> {
    let cat = &r.catalogue;
    let tpy = cat.ticks_per_year as f64;
    let series = csv_bytes(
        &["tick", "year", "coalition", "group", "metric", "mean", "sd", "p05", "p50", "p95", "n"],
        r.series.iter().map(|row| {
            let mut v = vec![
                row.tick.to_string(),
                num(row.tick as f64 / tpy),
                cat.coalition_label(row.key.coalition).to_string(),
                cat.group_label(row.key.group).to_string(),
                row.key.metric.name().to_string(),
            ];
            v.extend(stats_cells(&row.stats));
            v
        }),
    );
    let retention = csv_bytes(
        &["curve", "group", "weeks", "years", "estimate", "ci_low", "ci_high", "p05", "p50", "p95", "n"],
        r.retention.iter().map(|row| {
            vec![
                row.curve.to_string(),
                cat.group_label(row.group).to_string(),
                num(row.tick as f64 * cat.weeks_per_tick),
                num(row.tick as f64 / tpy),
                num(row.estimate),
                num(row.ci_low),
                num(row.ci_high),
                num(row.band.p05),
                num(row.band.p50),
                num(row.band.p95),
                row.n.to_string(),
            ]
        }),
    );
    let summary = csv_bytes(
        &[
            "metric",
            "coalition",
            "group",
            "mean",
            "sd",
            "ci95_low",
            "ci95_high",
            "p05",
            "p50",
            "p95",
            "n",
            "description",
        ],
        r.summary.iter().map(|row| {
            let s = &row.stats;
            let (lo, hi) = s.ci95();
            vec![
                row.key.metric.to_string(),
                cat.coalition_label(row.key.coalition).to_string(),
                cat.group_label(row.key.group).to_string(),
                num(s.mean),
                num(s.sd),
                num(lo),
                num(hi),
                num(s.p05),
                num(s.p50),
                num(s.p95),
                s.n.to_string(),
                row.key.doc.to_string(),
            ]
        }),
    );
    vec![("series.csv", series), ("retention.csv", retention), ("summary.csv", summary)]
}

/// What `manifest.json` records about a run.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Always "coprosim".
    pub tool: &'static str,
    /// Tool version.
    pub version: &'static str,
    /// Git commit the binary was built from, where known.
    pub git_commit: Option<&'static str>,
    /// Scenario name.
    pub scenario: String,
    /// Scenario file, or "(embedded baseline)".
    pub scenario_file: String,
    /// SHA-256 of the scenario text as read.
    pub scenario_sha256: String,
    /// SHA-256 of the resolved scenario (defaults filled in, overrides applied) as TOML.
    pub resolved_sha256: String,
    /// Master seed.
    pub seed: u64,
    /// Replications.
    pub replications: u32,
    /// Worker threads used (results do not depend on it).
    pub threads: usize,
    /// Ticks simulated.
    pub ticks: u32,
    /// Agents per replication.
    pub agents: u32,
    /// Wall time of simulation and aggregation.
    pub wall_time_seconds: f64,
    /// SHA-256 of every output file, by file name.
    pub files: std::collections::BTreeMap<String, String>,
    /// True once every file listed is written.
    pub complete: bool,
}

/// The git commit recorded at build time, if the build happened in a git checkout.
pub fn git_commit() -> Option<&'static str> {
    option_env!("COPROSIM_GIT_COMMIT").filter(|c| !c.is_empty())
}

/// Write the CSV files and the manifest; returns the paths written.
pub fn write_run(dir: &Path, r: &Results, mut manifest: Manifest) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = Vec::new();
    for (name, bytes) in csv_files(r) {
        manifest.files.insert(name.to_string(), sha256_hex(&bytes));
        written.push(write_atomic(dir, name, &bytes)?);
    }
    manifest.complete = true;
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    written.push(write_atomic(dir, MANIFEST, &json)?);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_the_same_way_every_time() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(num(-0.0000001), "0");
        assert_eq!(num(1234.5678912), "1234.567891");
        assert_eq!(num(f64::NAN), "");
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
