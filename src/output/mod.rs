//! Run outputs: `series.csv`, `retention.csv`, `summary.csv` and `manifest.json`.
//!
//! Files are written to a temporary name and renamed into place, so a reader never sees a
//! half-written file under its final name. Numbers are printed with a fixed rule (at most six
//! decimals, trailing zeros trimmed), so the bytes depend only on the values.

use crate::observe::{Results, stats::Summary};
use serde::Serialize;
use std::path::{Path, PathBuf};

pub mod attempt_blocks;
pub mod base64;
pub mod calibration;
pub mod charts;
pub mod commit;
pub mod comparison;
pub mod coverage;
pub mod detail;
pub mod explorer;
pub mod names;
pub mod report;
pub mod rundata;
pub mod sweep;
pub mod sweep_dir;
pub mod table;
pub mod warm;
pub mod writer;

pub use names::{MANIFEST, REPLICATION_SERIES, REPLICATIONS, RESOLVED_SCENARIO};

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
    /// A result directory whose manifest is missing or says the run did not finish.
    #[error("{path}: not a complete coprosim result: {reason}")]
    Incomplete {
        /// The directory.
        path: String,
        /// What is missing.
        reason: String,
    },
    /// A result file that cannot be parsed.
    #[error("{path}: cannot read: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A comparison asked for a series a run does not have.
    #[error(
        "{path}: no series {wanted}; expected a metric among {metrics}, a coalition among {coalitions}, a group among {groups}"
    )]
    NoSuchSeries {
        /// The run directory.
        path: String,
        /// The series asked for.
        wanted: String,
        /// Metrics the run has.
        metrics: String,
        /// Coalitions it has.
        coalitions: String,
        /// Groups it has.
        groups: String,
    },
    /// A chart could not be drawn.
    #[error("chart {chart}: {reason}")]
    Chart {
        /// Chart name.
        chart: String,
        /// Why.
        reason: String,
    },
    /// The directory cannot receive results.
    #[error("{path}: cannot write results here: {reason}")]
    Unusable {
        /// The directory.
        path: String,
        /// Why.
        reason: String,
    },
    /// A stop was requested before the result was committed.
    #[error("{path} is unchanged: stopped before the new result was put in place")]
    Interrupted {
        /// The output directory.
        path: String,
    },
    /// The directory holds something other than a coprosim result.
    #[error(
        "{path}: the directory is not empty and holds no {MANIFEST}, so it is not a coprosim result; choose another --out, or pass --force to add the result beside what is there (nothing there is removed or overwritten)"
    )]
    NotOurs {
        /// The directory.
        path: String,
    },
    /// A data file of a result is not what its manifest says coprosim wrote.
    #[error(
        "{path}: {reason}, so it is not the file coprosim wrote (its manifest.json records the SHA-256 of every file); pass --ignore-checksums to use it anyway"
    )]
    Altered {
        /// The file.
        path: String,
        /// How it differs.
        reason: String,
    },
}

/// Check every data file of the result in `dir` against the SHA-256 its manifest records,
/// before a command reads them. Charts, `report.html` and `explorer.html` are left out: they are drawn from
/// the data, and the commands that read a result redraw them. A directory without a
/// manifest is left to the reader, which says what is missing.
pub fn verify_checksums(dir: &Path) -> Result<(), OutputError> {
    let Ok(bytes) = std::fs::read(dir.join(MANIFEST)) else { return Ok(()) };
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return Ok(()) };
    let Some(files) = manifest.get("files").and_then(|f| f.as_object()) else { return Ok(()) };
    for (name, sha) in files {
        // Charts and pages are drawn from the data; warm states are checked when a run starts
        // from them (`warm::SavedStates::load`), and are large.
        if name.starts_with(&format!("{}/", commit::CHARTS))
            || name.starts_with(&format!("{}/", warm::WARM_DIR))
            || name == "report.html"
            || name == explorer::FILE
        {
            continue;
        }
        let path = dir.join(name);
        let altered = |reason: &str| OutputError::Altered { path: path.display().to_string(), reason: reason.into() };
        // A manifest names files inside its directory, never above or outside it.
        let inside = std::path::Path::new(name).components().all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside {
            return Err(altered("is named outside the result directory by its manifest"));
        }
        let Some(sha) = sha.as_str() else { continue };
        match std::fs::read(&path) {
            Err(_) => return Err(altered("is missing")),
            Ok(data) if sha256_hex(&data) != sha => return Err(altered("was changed after the run")),
            Ok(_) => {}
        }
    }
    Ok(())
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io { path: path.display().to_string(), source }
}

pub use coprosim_core::text::{hex, num, sha256_hex};

/// Write `bytes` to `dir/name` through a temporary file and a rename. On failure (a full
/// disk, say) the temporary file is removed, so no empty or partial file is left behind.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, OutputError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written =
        std::fs::write(&tmp, bytes).map_err(io(&tmp)).and_then(|()| std::fs::rename(&tmp, &path).map_err(io(&path)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map(|()| path)
}

/// Add files written after the manifest (charts, the report) to a result's manifest, with
/// their SHA-256, so the result owns them.
pub fn add_to_manifest(dir: &Path, files: &[(String, String)]) -> Result<(), OutputError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read(&path).map_err(io(&path))?;
    let mut v: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| OutputError::Unreadable { path: path.display().to_string(), reason: e.to_string() })?;
    let Some(listed) = v.get_mut("files").and_then(|f| f.as_object_mut()) else {
        return Err(OutputError::Unreadable { path: path.display().to_string(), reason: "no `files` table".into() });
    };
    for (name, sha) in files {
        listed.insert(name.clone(), serde_json::Value::String(sha.clone()));
    }
    write_atomic(dir, MANIFEST, &serde_json::to_vec_pretty(&v).expect("manifest serialises"))?;
    Ok(())
}

fn stats_cells(s: &Summary) -> [String; 6] {
    [num(s.mean), num(s.sd), num(s.p05), num(s.p50), num(s.p95), s.n.to_string()]
}

pub(crate) fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
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
            let (lo, hi) = s.ci95(crate::observe::summary_domain(row.key.metric, cat.coalitions.len()));
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
    let inequality = csv_bytes(
        &["participant_share", "mean", "sd", "p05", "p50", "p95", "n"],
        r.lorenz.iter().map(|(p, s)| {
            let mut v = vec![num(*p)];
            v.extend(stats_cells(s));
            v
        }),
    );
    // One row per replication and headline value, at full precision (Rust's shortest
    // round-trip form), for paired tests and one's own statistics.
    let keys = crate::observe::summary_keys(cat);
    let replications = csv_bytes(
        &["replication", "metric", "coalition", "group", "value"],
        r.replications.iter().enumerate().flat_map(|(rep, values)| {
            keys.iter().zip(values).map(move |(key, v)| {
                vec![
                    rep.to_string(),
                    key.metric.to_string(),
                    cat.coalition_label(key.coalition).to_string(),
                    cat.group_label(key.group).to_string(),
                    full_precision(*v),
                ]
            })
        }),
    );
    // Every replication's series at whole years, each value in f32's shortest round-trip
    // form (the precision it was recorded at), for paired differences over time.
    let years = cat.whole_years();
    let width = cat.series.len();
    let yearly = csv_bytes(
        &["replication", "year", "coalition", "group", "metric", "value"],
        r.yearly.iter().enumerate().flat_map(|(rep, values)| {
            years.iter().enumerate().flat_map(move |(k, &(year, _))| {
                cat.series.iter().zip(&values[k * width..(k + 1) * width]).map(move |(key, v)| {
                    vec![
                        rep.to_string(),
                        num(year),
                        cat.coalition_label(key.coalition).to_string(),
                        cat.group_label(key.group).to_string(),
                        key.metric.name().to_string(),
                        if v.is_finite() { format!("{v}") } else { String::new() },
                    ]
                })
            })
        }),
    );
    vec![
        ("series.csv", series),
        ("retention.csv", retention),
        ("summary.csv", summary),
        ("inequality.csv", inequality),
        (REPLICATIONS, replications),
        (REPLICATION_SERIES, yearly),
    ]
}

/// A number as the shortest text that reads back as the same f64 (empty when undefined).
pub fn full_precision(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { String::new() }
}

/// What `manifest.json` records about a run.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Always "coprosim".
    pub tool: &'static str,
    /// Always [`commit::Kind::Run`].
    pub kind: commit::Kind,
    /// Tool version.
    pub version: &'static str,
    /// Git commit the binary was built from, where known.
    pub git_commit: Option<&'static str>,
    /// Scenario name.
    pub scenario: String,
    /// Scenario description.
    pub description: String,
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
    /// SHA-256 of every file the run wrote, by path relative to the result directory. A
    /// re-run replaces exactly these files (and `charts/`) and keeps everything else.
    pub files: std::collections::BTreeMap<String, String>,
    /// True once every file listed is written.
    pub complete: bool,
    /// Warnings about what the results cannot say (docs/ODD.md §7.6, "Diagnostics"), also printed and
    /// shown at the top of `report.html`.
    pub warnings: Vec<crate::observe::diagnostics::Diagnostic>,
    /// The calibration whose posterior the replications drew their parameters from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posterior: Option<PosteriorSource>,
    /// The saved states the replications started from (`run --from-state`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_state: Option<WarmSource>,
}

/// Where a run's replications started: states saved at the end of another run's burn-in.
#[derive(Debug, Clone, Serialize)]
pub struct WarmSource {
    /// The result directory holding the states.
    pub dir: String,
    /// SHA-256 of its manifest, which lists every state's.
    pub manifest_sha256: String,
    /// The burn-in's identity (`coprosim_core::engine::warm::burn_in_identity`).
    pub burn_in_identity: String,
    /// Settings that differ from the saved scenario's and took effect from the end of the
    /// burn-in: "key: old -> new". Empty: the result is byte for byte the full run's.
    pub applied_at_burn_in_end: Vec<String>,
    /// Policy changes and shocks after the burn-in that differ from the saved scenario's.
    pub later_policy: Vec<String>,
}

impl Manifest {
    /// The manifest of a run of `scenario` (read from `file`, whose text has SHA-256
    /// `scenario_sha256`) with `cfg`'s seed and replications on `threads` threads. The
    /// command line and the Python package both build it here, so their files agree.
    pub fn for_run(
        scenario: &crate::scenario::Scenario,
        file: String,
        scenario_sha256: String,
        cfg: &crate::engine::RunConfig,
        threads: usize,
        wall_time_seconds: f64,
        posterior: Option<PosteriorSource>,
    ) -> Manifest {
        Manifest {
            tool: "coprosim",
            kind: commit::Kind::Run,
            version: env!("CARGO_PKG_VERSION"),
            git_commit: git_commit(),
            scenario: scenario.name.clone(),
            description: scenario.description.clone(),
            scenario_file: file,
            scenario_sha256,
            resolved_sha256: sha256_hex(scenario.to_toml().as_bytes()),
            seed: cfg.seed,
            replications: cfg.replications,
            threads,
            ticks: scenario.ticks(),
            agents: scenario.population.size,
            wall_time_seconds: (wall_time_seconds * 1000.0).round() / 1000.0,
            files: Default::default(),
            complete: false,
            warnings: Vec::new(),
            posterior,
            from_state: None,
        }
    }
}

/// Where a posterior predictive run's parameters came from.
#[derive(Debug, Clone, Serialize)]
pub struct PosteriorSource {
    /// The calibration directory as given.
    pub dir: String,
    /// The calibration's name.
    pub calibration: String,
    /// SHA-256 of its `posterior.csv`.
    pub posterior_sha256: String,
    /// The parameters drawn.
    pub parameters: Vec<String>,
}

/// Write `posterior_draws.csv` (which particle each replication drew, and its values) into a
/// run directory whose manifest is written, and list it there.
pub fn write_posterior_draws(dir: &Path, p: &calibration::Posterior, draws: &[usize]) -> Result<PathBuf, OutputError> {
    let mut header = vec!["replication".to_string(), "particle".to_string()];
    header.extend(p.keys.iter().cloned());
    let rows = draws.iter().enumerate().map(|(r, &i)| {
        let mut row = vec![r.to_string(), i.to_string()];
        row.extend(p.particles[i].iter().map(|v| format!("{v}")));
        row
    });
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).expect("writing to memory");
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    let bytes = w.into_inner().expect("flushing to memory");
    let path = write_atomic(dir, "posterior_draws.csv", &bytes)?;
    add_to_manifest(dir, &[("posterior_draws.csv".to_string(), sha256_hex(&bytes))])?;
    Ok(path)
}

/// The git commit recorded at build time, if the build happened in a git checkout.
pub fn git_commit() -> Option<&'static str> {
    option_env!("COPROSIM_GIT_COMMIT").filter(|c| !c.is_empty())
}

/// Write the CSV files and the manifest; returns the paths written.
pub fn write_run(
    dir: &Path,
    r: &Results,
    resolved_scenario: &str,
    mut manifest: Manifest,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = Vec::new();
    let resolved = (RESOLVED_SCENARIO, resolved_scenario.as_bytes().to_vec());
    for (name, bytes) in csv_files(r).into_iter().chain(std::iter::once(resolved)) {
        manifest.files.insert(name.to_string(), sha256_hex(&bytes));
        written.push(write_atomic(dir, name, &bytes)?);
    }
    manifest.complete = true;
    manifest.warnings = r.diagnostics.clone();
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    written.push(write_atomic(dir, MANIFEST, &json)?);
    Ok(written)
}

/// Draw every chart of a run directory from its CSV files into `DIR/charts/`, then write
/// `DIR/report.html` and, where this binary has the explorer, `DIR/explorer.html` for the
/// scenario as run (the report links to it), and list them in the manifest. Returns the
/// paths written.
pub fn write_charts(dir: &Path, size: charts::ChartSize) -> Result<Vec<PathBuf>, OutputError> {
    let data = rundata::RunData::read(dir)?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut rendered = Vec::new();
    for fig in charts::figures(&data) {
        let r = charts::render(&fig, size)?;
        files.extend(r.files());
        rendered.push(r);
    }
    // The explorer page carries the model (about 1.6 MB), so it is written once, beside the
    // report, rather than inside it: the report stays small and opens it with a link.
    let page = data.resolved_scenario.as_deref().and_then(|text| explorer::page(text, RESOLVED_SCENARIO).ok());
    if let Some(page) = page.as_ref() {
        files.push((explorer::FILE.into(), page.clone().into_bytes()));
    }
    files.push(("report.html".into(), report::html(&data, &rendered, page.is_some()).into_bytes()));
    write_drawn(dir, &files)
}

/// Write charts and pages drawn from a result's data into its directory and list them in its
/// manifest; first refuse, naming it, a file in the way that the manifest does not list (the
/// user's own, which `plot` must not draw over). Returns the paths written.
pub(crate) fn write_drawn(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>, OutputError> {
    let owned = std::fs::read(dir.join(MANIFEST)).ok().and_then(|b| commit::parse_manifest(&b)).map(|m| m.1);
    for (rel, _) in files {
        let path = dir.join(rel);
        if path.exists() && !owned.as_ref().is_some_and(|o| commit::owns(o, rel)) {
            return Err(OutputError::Unusable {
                path: path.display().to_string(),
                reason: "it is in the way of a chart and coprosim did not write it (the manifest does not list it); move it and draw again".into(),
            });
        }
    }
    let mut written = Vec::new();
    for (rel, bytes) in files {
        let path = dir.join(rel);
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        written.push(write_atomic(parent, &name, bytes)?);
    }
    let listed: Vec<(String, String)> = files.iter().map(|(rel, bytes)| (rel.clone(), sha256_hex(bytes))).collect();
    add_to_manifest(dir, &listed)?;
    Ok(written)
}

/// Why a comparison cannot be drawn.
fn missing_series(run: &rundata::RunData, metric: &str, coalition: &str, group: &str) -> OutputError {
    OutputError::NoSuchSeries {
        path: run.dir.display().to_string(),
        wanted: format!("{metric} for coalition {coalition} and group {group}"),
        metrics: run.distinct(|r| &r.metric).join(", "),
        coalitions: run.distinct(|r| &r.coalition).join(", "),
        groups: run.distinct(|r| &r.group).join(", "),
    }
}

/// What [`write_comparison`] did.
pub struct Compared {
    /// The paths written.
    pub written: Vec<PathBuf>,
    /// Notes for the user (runs that are not paired).
    pub notes: Vec<String>,
    /// The answer at the last year every run recorded ([`comparison::answer`]).
    pub answer: Vec<String>,
}

/// Overlay one series of several run directories into `out/compare_<metric>.svg|png`, write
/// that series as `compare_<metric>.csv`, each run's difference from the first in it at each
/// whole year as `compare_<metric>_difference.csv` (the chart's first panel), and the
/// difference of every headline value between the first run and each other as
/// `paired_differences.csv`. Returns what it wrote and found.
pub fn write_comparison(
    dirs: &[PathBuf],
    metric: &str,
    coalition: &str,
    group: &str,
    out: &Path,
    size: charts::ChartSize,
) -> Result<Compared, OutputError> {
    let runs = dirs.iter().map(|d| rundata::RunData::read(d)).collect::<Result<Vec<_>, _>>()?;
    for run in &runs {
        if run.series_of(metric, coalition, group).is_empty() {
            return Err(missing_series(run, metric, coalition, group));
        }
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    let yearly = comparison::yearly_series(&runs, metric, coalition, group)?;
    let (over_time, mut notes) = comparison::differences_over_time(&runs, &yearly, metric);
    let r = charts::render(&charts::comparison(&runs, metric, coalition, group, &over_time), size)?;
    let (differences, more_notes) = comparison::paired_differences(&runs);
    notes.extend(more_notes);
    let mut written = vec![
        write_atomic(out, &format!("{}.csv", r.name), &comparison::series_csv(&runs, metric, coalition, group))?,
        write_atomic(out, "paired_differences.csv", &differences)?,
        write_atomic(out, &format!("{}.svg", r.name), r.svg.as_bytes())?,
        write_atomic(out, &format!("{}.png", r.name), &r.png)?,
    ];
    if !over_time.is_empty() {
        let csv = comparison::over_time_csv(&runs, &over_time, metric, coalition, group);
        written.insert(2, write_atomic(out, &format!("{}_difference.csv", r.name), &csv)?);
    }
    let answer = comparison::answer(&runs, &yearly, &over_time, metric, coalition, group);
    Ok(Compared { written, notes, answer })
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
