//! Reading a run directory back from its files, so charts and reports can be redrawn from the
//! CSV files alone, without the simulation.

use super::{MANIFEST, OutputError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What charts and reports need from `manifest.json`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct ManifestInfo {
    /// Tool version that wrote the run.
    pub version: String,
    /// Git commit of that tool, where known.
    pub git_commit: Option<String>,
    /// Scenario name.
    pub scenario: String,
    /// Scenario description.
    pub description: String,
    /// Master seed.
    pub seed: u64,
    /// Replications.
    pub replications: u32,
    /// Ticks simulated.
    pub ticks: u32,
    /// Agents per replication.
    pub agents: u32,
    /// True once every output file was written.
    pub complete: bool,
    /// Warnings about what the results cannot say.
    #[serde(default)]
    pub warnings: Vec<crate::observe::diagnostics::Diagnostic>,
}

/// Statistics columns shared by the CSV files (empty cells are `None`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
pub struct Band {
    /// Mean (or estimate).
    pub mean: Option<f64>,
    /// 5th percentile.
    pub p05: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
}

/// A row of `series.csv`.
#[derive(Debug, Clone, Deserialize)]
pub struct SeriesRecord {
    /// Years since the start.
    pub year: f64,
    /// Coalition name or "all".
    pub coalition: String,
    /// Group name or "all".
    pub group: String,
    /// Metric name.
    pub metric: String,
    /// Statistics across replications.
    #[serde(flatten)]
    pub band: Band,
    /// Replications in which the series is defined (a coalition's, while it operates).
    pub n: Option<u32>,
}

/// A row of `retention.csv`.
#[derive(Debug, Clone, Deserialize)]
pub struct RetentionRecord {
    /// "km" or "annual_retention".
    pub curve: String,
    /// Group name or "all".
    pub group: String,
    /// Tenure or time, in years.
    pub years: f64,
    /// Estimate.
    pub estimate: Option<f64>,
    /// Monte Carlo percentiles.
    #[serde(flatten)]
    pub band: Band,
}

/// A row of `summary.csv`.
#[derive(Debug, Clone, Deserialize)]
pub struct SummaryRecord {
    /// Metric name.
    pub metric: String,
    /// Coalition name or "all".
    pub coalition: String,
    /// Group name or "all".
    pub group: String,
    /// Mean across replications.
    pub mean: Option<f64>,
    /// Lower end of the 95% interval of the mean.
    pub ci95_low: Option<f64>,
    /// Upper end.
    pub ci95_high: Option<f64>,
    /// Monte Carlo percentiles.
    #[serde(flatten)]
    pub band: Band,
    /// What the metric measures.
    pub description: String,
}

/// A row of `inequality.csv`.
#[derive(Debug, Clone, Deserialize)]
pub struct LorenzRecord {
    /// Share of participants (ascending by hours).
    pub participant_share: f64,
    /// Share of hours they gave.
    #[serde(flatten)]
    pub band: Band,
}

/// One year of a series across replications: (year from founding, value by replication).
pub type YearValues = (f64, BTreeMap<u32, f64>);

/// A run directory's data.
#[derive(Debug, Clone)]
pub struct RunData {
    /// The directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: ManifestInfo,
    /// `series.csv`.
    pub series: Vec<SeriesRecord>,
    /// `retention.csv`.
    pub retention: Vec<RetentionRecord>,
    /// `summary.csv`.
    pub summary: Vec<SummaryRecord>,
    /// `inequality.csv`.
    pub lorenz: Vec<LorenzRecord>,
    /// `resolved_scenario.toml`, the scenario as run (absent in runs written before it was).
    pub resolved_scenario: Option<String>,
    /// `replications.csv`, every replication's headline values (absent in older runs).
    pub replications: Option<Vec<ReplicationRecord>>,
}

/// One row of `replications.csv`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ReplicationRecord {
    /// Replication index (its random stream).
    pub replication: u32,
    /// Headline metric.
    pub metric: String,
    /// Coalition, or "all".
    pub coalition: String,
    /// Group, or "all".
    pub group: String,
    /// Value (None where undefined).
    pub value: Option<f64>,
}

fn read_csv<T: for<'de> Deserialize<'de>>(dir: &Path, name: &str) -> Result<Vec<T>, OutputError> {
    let path = dir.join(name);
    let mut reader = csv::Reader::from_path(&path)
        .map_err(|e| OutputError::Unreadable { path: path.display().to_string(), reason: e.to_string() })?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|e| OutputError::Unreadable {
                path: path.display().to_string(),
                reason: format!("row {}: {e}", i + 2),
            })
        })
        .collect()
}

impl RunData {
    /// Read a complete run directory; refuses one whose manifest is missing or incomplete.
    pub fn read(dir: &Path) -> Result<RunData, OutputError> {
        let incomplete =
            |reason: &str| OutputError::Incomplete { path: dir.display().to_string(), reason: reason.into() };
        if !dir.exists() {
            return Err(incomplete("no such directory"));
        }
        if !dir.is_dir() {
            return Err(incomplete("it is a file, expected a run directory"));
        }
        let manifest_path = dir.join(MANIFEST);
        let text = std::fs::read(&manifest_path).map_err(|_| OutputError::Incomplete {
            path: dir.display().to_string(),
            reason: format!("it has no {MANIFEST}"),
        })?;
        let manifest: ManifestInfo = serde_json::from_slice(&text).map_err(|e| OutputError::Incomplete {
            path: dir.display().to_string(),
            reason: format!("its {MANIFEST} is unreadable ({e})"),
        })?;
        if !manifest.complete {
            return Err(OutputError::Incomplete {
                path: dir.display().to_string(),
                reason: format!("its {MANIFEST} says the run did not finish"),
            });
        }
        Ok(RunData {
            dir: dir.to_path_buf(),
            series: read_csv(dir, "series.csv")?,
            retention: read_csv(dir, "retention.csv")?,
            summary: read_csv(dir, "summary.csv")?,
            lorenz: read_csv(dir, "inequality.csv")?,
            resolved_scenario: std::fs::read_to_string(dir.join(super::RESOLVED_SCENARIO)).ok(),
            replications: if dir.join(super::REPLICATIONS).exists() {
                Some(read_csv(dir, super::REPLICATIONS)?)
            } else {
                None
            },
            manifest,
        })
    }

    /// Distinct values of a series column, in first-seen order.
    pub fn distinct<'a>(&'a self, f: impl Fn(&'a SeriesRecord) -> &'a str) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.series {
            let v = f(r);
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }

    /// Rows of one series, in time order.
    pub fn series_of<'a>(&'a self, metric: &str, coalition: &str, group: &str) -> Vec<&'a SeriesRecord> {
        self.series.iter().filter(|r| r.metric == metric && r.coalition == coalition && r.group == group).collect()
    }

    /// One series of every replication at each whole year, from `replication_series.csv`:
    /// (year from founding, value by replication; undefined values left out), in time order.
    /// None for a run written before that file was.
    pub fn yearly_of(
        &self,
        metric: &str,
        coalition: &str,
        group: &str,
    ) -> Result<Option<Vec<YearValues>>, OutputError> {
        let path = self.dir.join(super::REPLICATION_SERIES);
        if !path.exists() {
            return Ok(None);
        }
        let unreadable = |reason: String| OutputError::Unreadable { path: path.display().to_string(), reason };
        let mut reader = csv::Reader::from_path(&path).map_err(|e| unreadable(e.to_string()))?;
        let header = reader.headers().map_err(|e| unreadable(e.to_string()))?.clone();
        let column = |name: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| unreadable(format!("it has no column {name}")))
        };
        let [rep, year, c, g, m, v] = ["replication", "year", "coalition", "group", "metric", "value"].map(column);
        let (rep, year, c, g, m, v) = (rep?, year?, c?, g?, m?, v?);
        let mut out: Vec<YearValues> = Vec::new();
        let mut row = csv::StringRecord::new();
        let mut line = 1;
        while reader.read_record(&mut row).map_err(|e| unreadable(e.to_string()))? {
            line += 1;
            if &row[m] != metric || &row[c] != coalition || &row[g] != group {
                continue;
            }
            let bad = |what: &str| unreadable(format!("row {line}: {what} is not a number"));
            let y: f64 = row[year].parse().map_err(|_| bad("year"))?;
            let r: u32 = row[rep].parse().map_err(|_| bad("replication"))?;
            if row[v].is_empty() {
                continue;
            }
            let x: f64 = row[v].parse().map_err(|_| bad("value"))?;
            let at = match out.iter().position(|(yy, _)| *yy == y) {
                Some(i) => i,
                None => {
                    out.push((y, BTreeMap::new()));
                    out.len() - 1
                }
            };
            out[at].1.insert(r, x);
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(Some(out))
    }

    /// One headline figure.
    pub fn headline(&self, metric: &str, coalition: &str, group: &str) -> Option<&SummaryRecord> {
        self.summary.iter().find(|r| r.metric == metric && r.coalition == coalition && r.group == group)
    }
}
