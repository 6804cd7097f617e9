//! `calibrate --check-coverage N`: a simulation-based calibration check's files
//! (`coverage.json`, `ranks.csv`, `coverage.csv`, the rank histograms) and their redrawing
//! from `ranks.csv` alone (`plot`).

use super::calibration::CalibrationInfo;
use super::charts::{ChartSize, Figure, Line, Panel, Rendered, render};
use super::commit::Kind;
use super::{MANIFEST, OutputError, io, num, sha256_hex, write_atomic};
use crate::inference::coverage::{self, BINS, DRAWS, Trial};
use crate::looks::Look;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The check's description file.
pub const COVERAGE_JSON: &str = "coverage.json";
/// Every trial's rank and intervals, per parameter.
pub const RANKS: &str = "ranks.csv";
/// The summary per parameter.
pub const COVERAGE: &str = "coverage.csv";

/// What `coverage.json` says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CoverageInfo {
    /// The calibration checked.
    pub calibration: CalibrationInfo,
    /// Trials asked for.
    pub trials: u64,
    /// Posterior draws each truth is ranked among.
    pub draws: u32,
    /// Bins of the rank histograms.
    pub bins: usize,
}

/// What `manifest.json` records about a coverage check.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageManifest {
    /// Always "coprosim".
    pub tool: &'static str,
    /// Always [`Kind::Coverage`].
    pub kind: Kind,
    /// Tool version.
    pub version: &'static str,
    /// Git commit where known.
    pub git_commit: Option<&'static str>,
    /// The check's description.
    pub coverage: CoverageInfo,
    /// Targets file as given.
    pub targets_file: String,
    /// Trials that found no observable data (and why), left out of the summary.
    pub trials_without_data: BTreeMap<u64, String>,
    /// Worker threads (results do not depend on it).
    pub threads: usize,
    /// Wall time.
    pub wall_time_seconds: f64,
    /// SHA-256 of every file written.
    pub files: BTreeMap<String, String>,
    /// True once every file is written.
    pub complete: bool,
}

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("flushing to memory")
}

/// `ranks.csv`: a row per trial and parameter.
pub fn ranks_csv(info: &CoverageInfo, trials: &[Trial]) -> Vec<u8> {
    let rows = trials.iter().flat_map(|t| {
        info.calibration.parameters.iter().enumerate().map(move |(d, key)| {
            let q = t.quantiles[d];
            vec![
                t.index.to_string(),
                key.clone(),
                format!("{}", t.truth[d]),
                t.ranks[d].to_string(),
                format!("{}", q[0]),
                format!("{}", q[1]),
                format!("{}", q[2]),
                format!("{}", q[3]),
                t.covers(d, 0.5).to_string(),
                t.covers(d, 0.9).to_string(),
                t.redrawn.to_string(),
                t.generations.to_string(),
                t.simulations.to_string(),
            ]
        })
    });
    csv_bytes(
        &[
            "trial",
            "parameter",
            "truth",
            "rank",
            "q05",
            "q25",
            "q75",
            "q95",
            "covered50",
            "covered90",
            "redrawn",
            "generations",
            "simulations",
        ],
        rows,
    )
}

/// `coverage.csv`: per parameter, the coverage of the 50% and 90% intervals (with the 90%'s
/// Wilson 95% interval) and the ranks' χ² test of uniformity.
pub fn coverage_csv(info: &CoverageInfo, trials: &[Trial]) -> Vec<u8> {
    let rows = info.calibration.parameters.iter().enumerate().map(|(d, key)| {
        let s = coverage::summarise(trials, d);
        let share = |k: usize| if s.trials == 0 { String::new() } else { num(k as f64 / s.trials as f64) };
        vec![
            key.clone(),
            info.calibration.priors[d].clone(),
            s.trials.to_string(),
            s.covered50.to_string(),
            share(s.covered50),
            s.covered90.to_string(),
            share(s.covered90),
            num(s.coverage90_interval.0),
            num(s.coverage90_interval.1),
            num(s.chi_square),
            num(s.p_uniform),
        ]
    });
    csv_bytes(
        &[
            "parameter",
            "prior",
            "trials",
            "covered50",
            "coverage50",
            "covered90",
            "coverage90",
            "coverage90_low",
            "coverage90_high",
            "rank_chi_square",
            "rank_p_uniform",
        ],
        rows,
    )
}

/// The rank histograms, from `ranks.csv`'s rows (parameter, rank): one panel per parameter,
/// the counts per bin against the uniform's expected count and its 99% range.
pub fn rank_figure(info: &CoverageInfo, ranks: &[(String, u32)]) -> Figure {
    let per_bin = (DRAWS as usize + 1) / BINS;
    let mut panels = Vec::new();
    for key in &info.calibration.parameters {
        let mut counts = [0usize; BINS];
        for (_, r) in ranks.iter().filter(|(k, _)| k == key) {
            counts[coverage::bin(*r)] += 1;
        }
        let n: usize = counts.iter().sum();
        let p = 1.0 / BINS as f64;
        let expected = n as f64 * p;
        let (lo, hi) = binomial_range(n, p, 0.005);
        let edge = |b: usize| (b * per_bin) as f64;
        let steps: Vec<(f64, f64)> =
            counts.iter().enumerate().flat_map(|(b, &c)| [(edge(b), c as f64), (edge(b + 1), c as f64)]).collect();
        let top = counts.iter().map(|&c| c as f64).fold(hi as f64, f64::max) * 1.1 + 1.0;
        let span = (0.0, edge(BINS));
        panels.push(Panel {
            title: super::charts::short_key(key),
            x_label: format!("rank of the truth among {DRAWS} posterior draws"),
            y_label: "trials".into(),
            lines: vec![
                Line {
                    label: "trials per bin of ranks".into(),
                    look: Look::nth(0),
                    points: steps,
                    band: Vec::new(),
                    thin: false,
                    kind: "",
                },
                Line {
                    label: "if calibrated (shaded: 99% range)".into(),
                    look: Look::nth(2),
                    points: vec![(span.0, expected), (span.1, expected)],
                    band: vec![(span.0, lo as f64, hi as f64), (span.1, lo as f64, hi as f64)],
                    thin: true,
                    kind: "",
                },
            ],
            y_range: Some((0.0, top)),
            marks: Vec::new(),
        });
    }
    let columns = (info.calibration.parameters.len() as f64).sqrt().ceil() as usize;
    Figure {
        name: "coverage_ranks".into(),
        title: format!("{}: simulation-based calibration ranks", info.calibration.name),
        caption: format!(
            "For each parameter, how many trials ranked their truth in each fifth of {DRAWS} draws from their posterior. A calibrated fit gives flat histograms within the shaded range (each bin's count under uniform ranks, 0.5% to 99.5%); a U shape means posteriors too narrow, a hump too wide, a slope a bias (Talts et al. 2018)."
        ),
        panels,
        columns: columns.max(1),
        notes: vec![format!(
            "{} trials; each a calibration of {} particles on synthetic data drawn from the prior.",
            ranks.len() / info.calibration.parameters.len().max(1),
            info.calibration.particles
        )],
    }
}

/// The central range of a Binomial(n, p) count holding all but `tail` on each side.
fn binomial_range(n: usize, p: f64, tail: f64) -> (usize, usize) {
    let mut pmf = vec![0.0; n + 1];
    for (k, slot) in pmf.iter_mut().enumerate() {
        let ln_choose =
            libm::lgamma(n as f64 + 1.0) - libm::lgamma(k as f64 + 1.0) - libm::lgamma((n - k) as f64 + 1.0);
        *slot = libm::exp(ln_choose + k as f64 * libm::log(p) + (n - k) as f64 * libm::log1p(-p));
    }
    let mut acc = 0.0;
    let lo = pmf.iter().position(|&q| {
        acc += q;
        acc > tail
    });
    let mut acc = 0.0;
    let hi = pmf.iter().rposition(|&q| {
        acc += q;
        acc > tail
    });
    (lo.unwrap_or(0), hi.unwrap_or(n))
}

/// Write a finished check's files into `dir`, the manifest last.
pub fn write_coverage(
    dir: &Path,
    manifest: &mut CoverageManifest,
    trials: &[Trial],
    size: Option<ChartSize>,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = Vec::new();
    let mut put = |name: &str, bytes: &[u8], files: &mut BTreeMap<String, String>| -> Result<(), OutputError> {
        let path = dir.join(name);
        let parent = path.parent().unwrap_or(dir).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or(name).to_string();
        written.push(write_atomic(&parent, &file_name, bytes)?);
        files.insert(name.to_string(), sha256_hex(bytes));
        Ok(())
    };
    let info = manifest.coverage.clone();
    let mut files = BTreeMap::new();
    put(COVERAGE_JSON, &serde_json::to_vec_pretty(&info).expect("serialises"), &mut files)?;
    put(RANKS, &ranks_csv(&info, trials), &mut files)?;
    put(COVERAGE, &coverage_csv(&info, trials), &mut files)?;
    if let Some(size) = size {
        for (rel, bytes) in draw(dir, size)?.iter().flat_map(Rendered::files) {
            put(&rel, &bytes, &mut files)?;
        }
    }
    manifest.files = files;
    manifest.complete = true;
    written.push(write_atomic(dir, MANIFEST, &serde_json::to_vec_pretty(&*manifest).expect("serialises"))?);
    Ok(written)
}

/// The rank histograms drawn from the files in `dir` (`coverage.json`, `ranks.csv`).
fn draw(dir: &Path, size: ChartSize) -> Result<Vec<Rendered>, OutputError> {
    let unreadable = |path: &Path, reason: String| OutputError::Unreadable { path: path.display().to_string(), reason };
    let info_path = dir.join(COVERAGE_JSON);
    let info: CoverageInfo = serde_json::from_slice(&std::fs::read(&info_path).map_err(io(&info_path))?)
        .map_err(|e| unreadable(&info_path, e.to_string()))?;
    let ranks_path = dir.join(RANKS);
    let mut reader = csv::Reader::from_path(&ranks_path).map_err(|e| unreadable(&ranks_path, e.to_string()))?;
    let mut ranks = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| unreadable(&ranks_path, e.to_string()))?;
        let rank = row.get(3).and_then(|r| r.parse::<u32>().ok()).filter(|&r| r <= DRAWS);
        match (row.get(1), rank) {
            (Some(key), Some(rank)) => ranks.push((key.to_string(), rank)),
            _ => {
                return Err(unreadable(&ranks_path, format!("a row without a parameter and a rank from 0 to {DRAWS}")));
            }
        }
    }
    Ok(vec![render(&rank_figure(&info, &ranks), size)?])
}

/// Redraw a finished check's charts from its files (`coprosim plot`).
pub fn redraw(dir: &Path, size: ChartSize) -> Result<Vec<PathBuf>, OutputError> {
    let files: Vec<_> = draw(dir, size)?.iter().flat_map(Rendered::files).collect();
    super::write_drawn(dir, &files)
}

#[cfg(test)]
mod tests {
    use super::binomial_range;

    #[test]
    fn a_binomial_range_holds_its_central_mass() {
        // Binomial(20, 0.2): P(X <= 0) = 0.0115 > 0.005 and P(X >= 10) = 0.0026 < 0.005 <= P(X >= 9).
        assert_eq!(binomial_range(20, 0.2, 0.005), (0, 9));
        assert_eq!(binomial_range(0, 0.2, 0.005), (0, 0));
    }
}
