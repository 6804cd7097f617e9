//! `coprosim compare` as an experiment: the compared series as data, and the paired
//! difference of every headline value between the first run (the reference) and each other.
//!
//! Runs that share a seed share their random streams replication by replication (common
//! random numbers): replication r of each run starts from the same world, so the difference
//! within a replication is the policy's effect on that world, and its spread across
//! replications is far smaller than the spread of either run. The interval is the Student t
//! interval of the mean paired difference. Runs with different seeds are not paired; their
//! difference of means gets a Welch interval, and the tool says so.

use super::rundata::{ReplicationRecord, RunData, YearValues};
use super::{full_precision, num};
use std::collections::BTreeMap;

/// Each run's label: its scenario name, with its directory when two runs share a name.
pub fn run_labels(runs: &[RunData]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for run in runs {
        let mut name = run.manifest.scenario.clone();
        if names.contains(&name) {
            name = format!("{name} ({})", run.dir.display());
        }
        names.push(name);
    }
    names
}

/// The compared series of every run, tidy: one row per run and recorded tick.
pub fn series_csv(runs: &[RunData], metric: &str, coalition: &str, group: &str) -> Vec<u8> {
    let labels = run_labels(runs);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["run", "dir", "year", "metric", "coalition", "group", "mean", "p05", "p50", "p95", "n"])
        .expect("writing to memory");
    let opt = |v: Option<f64>| v.map_or(String::new(), num);
    for (run, label) in runs.iter().zip(&labels) {
        for r in run.series_of(metric, coalition, group) {
            w.write_record([
                label.clone(),
                run.dir.display().to_string(),
                num(r.year),
                metric.to_string(),
                coalition.to_string(),
                group.to_string(),
                opt(r.band.mean),
                opt(r.band.p05),
                opt(r.band.p50),
                opt(r.band.p95),
                r.n.map_or(String::new(), |n| n.to_string()),
            ])
            .expect("writing to memory");
        }
    }
    w.into_inner().expect("flushing to memory")
}

/// The means of `a` and `b` and the difference of `b` from `a`: paired, over only the
/// replications defined in both (for the means as for the difference, so that the difference
/// is the difference of the means shown), or of all of each. None when either is empty.
fn difference_of(a: &Values, b: &Values, paired: bool, share: bool) -> Option<(f64, f64, Difference)> {
    let (a_vals, b_vals): (Vec<f64>, Vec<f64>) = if paired {
        a.iter().filter_map(|(r, x)| b.get(r).map(|y| (*x, *y))).unzip()
    } else {
        (a.values().copied().collect(), b.values().copied().collect())
    };
    if a_vals.is_empty() || b_vals.is_empty() {
        return None;
    }
    Some((mean_var(&a_vals).0, mean_var(&b_vals).0, difference(&a_vals, &b_vals, paired, share)))
}

/// The columns that say a difference, after those that say what is compared.
const DIFFERENCE_COLUMNS: [&str; 8] =
    ["paired", "n", "reference_mean", "run_mean", "difference", "ci95_low", "ci95_high", "same_sign_share"];

/// A difference's cells, in [`DIFFERENCE_COLUMNS`] order.
fn difference_cells(paired: bool, reference_mean: f64, run_mean: f64, d: &Difference) -> [String; 8] {
    [
        paired.to_string(),
        d.n.to_string(),
        full_precision(reference_mean),
        full_precision(run_mean),
        full_precision(d.mean),
        full_precision(d.low),
        full_precision(d.high),
        full_precision(d.same_sign),
    ]
}

/// A CSV writer in memory whose header is `first`, then [`DIFFERENCE_COLUMNS`].
fn difference_writer(first: &[&str]) -> csv::Writer<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(first.iter().chain(&DIFFERENCE_COLUMNS)).expect("writing to memory");
    w
}

/// One run's difference from the reference in the compared series, at each whole year both
/// recorded.
#[derive(Debug, Clone)]
pub struct OverTime {
    /// Index of the run in the comparison (1 or more; 0 is the reference).
    pub run: usize,
    /// Whether the runs share their seed, so that replications are paired.
    pub paired: bool,
    /// (year from founding, reference mean, run mean, difference) per year.
    pub years: Vec<(f64, f64, f64, Difference)>,
}

/// One series of every run at each whole year, from its `replication_series.csv` (None for
/// a run written before that file was), read once for the differences and the answer.
pub fn yearly_series(
    runs: &[RunData],
    metric: &str,
    coalition: &str,
    group: &str,
) -> Result<Vec<Option<Vec<YearValues>>>, super::OutputError> {
    runs.iter().map(|r| r.yearly_of(metric, coalition, group)).collect()
}

/// Each run's difference from the first in one series (`yearly`, from [`yearly_series`]),
/// year by year: paired replication by replication where the seeds agree (only replications
/// in which the series is defined in both), else of the means. A run without
/// `replication_series.csv` (written by an earlier version) is left out, with a note.
pub fn differences_over_time(
    runs: &[RunData],
    yearly: &[Option<Vec<YearValues>>],
    metric: &str,
) -> (Vec<OverTime>, Vec<String>) {
    let mut notes = Vec::new();
    let missing = |run: &RunData| {
        format!(
            "{} has no {} (written by an earlier version): no difference over time against it; rerun it for one",
            run.dir.display(),
            super::REPLICATION_SERIES
        )
    };
    let Some(reference) = &yearly[0] else {
        notes.push(missing(&runs[0]));
        return (Vec::new(), notes);
    };
    let share = is_share(metric);
    let mut out = Vec::new();
    for (i, run) in runs.iter().enumerate().skip(1) {
        let Some(other) = &yearly[i] else {
            notes.push(missing(run));
            continue;
        };
        let paired = run.manifest.seed == runs[0].manifest.seed;
        let mut years = Vec::new();
        for (year, a) in reference {
            let Some((_, b)) = other.iter().find(|(y, _)| y == year) else { continue };
            if let Some((ma, mb, d)) = difference_of(a, b, paired, share) {
                years.push((*year, ma, mb, d));
            }
        }
        out.push(OverTime { run: i, paired, years });
    }
    (out, notes)
}

/// The differences over time as CSV, one row per run and year.
pub fn over_time_csv(runs: &[RunData], diffs: &[OverTime], metric: &str, coalition: &str, group: &str) -> Vec<u8> {
    let labels = run_labels(runs);
    let mut w = difference_writer(&["reference", "run", "year", "metric", "coalition", "group"]);
    for d in diffs {
        for (year, ma, mb, diff) in &d.years {
            let what =
                [labels[0].clone(), labels[d.run].clone(), num(*year), metric.into(), coalition.into(), group.into()];
            w.write_record(what.iter().chain(&difference_cells(d.paired, *ma, *mb, diff))).expect("writing to memory");
        }
    }
    w.into_inner().expect("flushing to memory")
}

/// The compared series at the last whole year every run recorded, as an analyst would
/// quote it: each run's median over its replications with the 90% interval of the
/// replications (5th to 95th percentile, type 7), and for each run after the first its
/// difference from the first (paired where the seeds agree) with its 95% interval. With a
/// posterior, the replications carry the parameters' uncertainty as well as the model's
/// randomness, so the 90% interval is a predictive interval. Empty without
/// `replication_series.csv` or a year every run recorded.
pub fn answer(
    runs: &[RunData],
    yearly: &[Option<Vec<YearValues>>],
    diffs: &[OverTime],
    metric: &str,
    coalition: &str,
    group: &str,
) -> Vec<String> {
    let Some(series) = yearly.iter().map(Option::as_ref).collect::<Option<Vec<_>>>() else { return Vec::new() };
    let Some(year) = series[0]
        .iter()
        .rev()
        .map(|(y, _)| *y)
        .find(|y| series.iter().all(|s| s.iter().any(|(x, v)| x == y && !v.is_empty())))
    else {
        return Vec::new();
    };
    let labels = run_labels(runs);
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let what = match (coalition, group) {
        ("all", "all") => metric.to_string(),
        ("all", g) => format!("{metric} of {g}"),
        (c, "all") => format!("{metric} of {c}"),
        (c, g) => format!("{metric} of {c}, {g}"),
    };
    let mut out =
        vec![format!("{what} in year {}: median over replications (90% interval of replications)", num(year))];
    let digits = if is_share(metric) { 3 } else { 1 };
    for (i, s) in series.iter().enumerate() {
        let values = &s.iter().find(|(y, _)| *y == year).expect("found above").1;
        let mut v: Vec<f64> = values.values().copied().collect();
        v.sort_by(f64::total_cmp);
        let q = |p| crate::observe::stats::quantile(&v, p);
        let mut line = format!(
            "  {:<width$}  {:.digits$} ({:.digits$} to {:.digits$}), {} replications",
            labels[i],
            q(0.5),
            q(0.05),
            q(0.95),
            v.len()
        );
        let diff = diffs.iter().find(|d| d.run == i);
        if let Some((over, (_, _, _, d))) = diff.and_then(|o| o.years.iter().find(|y| y.0 == year).map(|y| (o, y))) {
            let kind = if over.paired { "paired" } else { "unpaired" };
            line.push_str(&format!(
                "; {kind} difference {:+.digits$} (95% CI {:+.digits$} to {:+.digits$})",
                d.mean, d.low, d.high
            ));
        }
        out.push(line);
    }
    out
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom: exact at 1 and 2 degrees
/// of freedom (closed forms), interpolated in 1/df between 1, 2 and 3 (Welch's degrees of
/// freedom need not be whole), and from 3 up the Cornish–Fisher expansion around the normal
/// quantile, within 0.004 of the exact value at 3 and closer as `df` grows. NaN below 1.
pub fn t975(df: f64) -> f64 {
    let z: f64 = 1.959_963_984_540_054;
    if df.is_infinite() {
        return z;
    }
    if df.is_nan() || df < 1.0 {
        return f64::NAN;
    }
    if df < 3.0 {
        // t(1) = tan(0.475π); t(2) = (2p − 1) / √(2p(1 − p)) at p = 0.975.
        let t1 = (0.475 * std::f64::consts::PI).tan();
        let t2 = 0.95 / (2.0 * 0.975 * 0.025f64).sqrt();
        let t3 = t975(3.0);
        let (a, b, ta, tb) = if df < 2.0 { (1.0, 2.0, t1, t2) } else { (2.0, 3.0, t2, t3) };
        let w = (1.0 / df - 1.0 / a) / (1.0 / b - 1.0 / a);
        return ta + w * (tb - ta);
    }
    let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
    z + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92160.0 * df.powi(4))
}

/// Mean and sample variance.
fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 { xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { f64::NAN };
    (mean, var)
}

/// One headline value of one run, by replication.
type Values = BTreeMap<u32, f64>;

fn by_key(rows: &[ReplicationRecord]) -> BTreeMap<(String, String, String), Values> {
    let mut out: BTreeMap<(String, String, String), Values> = BTreeMap::new();
    for r in rows {
        if let Some(v) = r.value.filter(|v| v.is_finite()) {
            out.entry((r.metric.clone(), r.coalition.clone(), r.group.clone())).or_default().insert(r.replication, v);
        }
    }
    out
}

/// Whether a headline metric is a share, whose differences lie in [-1, 1].
fn is_share(metric: &str) -> bool {
    matches!(crate::observe::summary_domain(metric, 1), crate::observe::stats::Domain::Share)
}

/// The difference of run b from reference a in one quantity, with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// Replications behind it (paired: those defined in both; else the smaller run's).
    pub n: usize,
    /// Mean difference, b − a.
    pub mean: f64,
    /// Lower end of the 95% interval: Student t of the mean paired difference, or Welch's
    /// interval when the runs are not paired; kept in [−1, 1] for a share.
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// Share of paired replications whose difference has the mean's sign (NaN unpaired).
    pub same_sign: f64,
}

/// The difference of `b` from `a`: paired replication by replication (`a[i]` and `b[i]`
/// from the same random streams) or, unpaired, of their means. Both non-empty.
pub fn difference(a: &[f64], b: &[f64], paired: bool, share: bool) -> Difference {
    let (ma, va) = mean_var(a);
    let (mb, vb) = mean_var(b);
    let (n, mean, low, high, same_sign) = if paired {
        let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
        let (m, v) = mean_var(&d);
        let half = if v == 0.0 { 0.0 } else { t975(d.len() as f64 - 1.0) * (v / d.len() as f64).sqrt() };
        let sign = m.signum();
        let same = if m == 0.0 {
            f64::NAN
        } else {
            d.iter().filter(|x| x.signum() == sign && **x != 0.0).count() as f64 / d.len() as f64
        };
        (d.len(), m, m - half, m + half, same)
    } else {
        let (na, nb) = (a.len() as f64, b.len() as f64);
        let se2 = va / na + vb / nb;
        // Welch's degrees of freedom, for the t quantile.
        let df = se2 * se2 / ((va / na).powi(2) / (na - 1.0) + (vb / nb).powi(2) / (nb - 1.0));
        let half = if se2 == 0.0 { 0.0 } else { t975(df) * se2.sqrt() };
        let m = mb - ma;
        (a.len().min(b.len()), m, m - half, m + half, f64::NAN)
    };
    // A difference of two shares lies in [-1, 1]; its interval is kept there. (An undefined
    // bound, with a single replication, stays undefined.)
    let (low, high) =
        if share && low.is_finite() && high.is_finite() { (low.max(-1.0), high.min(1.0)) } else { (low, high) };
    Difference { n, mean, low, high, same_sign }
}

/// The difference of every headline value between the first run and each other run, as CSV,
/// with notes for the user (runs that are not paired, runs without per-replication data).
pub fn paired_differences(runs: &[RunData]) -> (Vec<u8>, Vec<String>) {
    let labels = run_labels(runs);
    let mut notes = Vec::new();
    let mut w = difference_writer(&["reference", "run", "metric", "coalition", "group"]);
    let Some(reference) = runs[0].replications.as_ref() else {
        notes.push(format!(
            "{} has no replications.csv (written by an earlier version): no differences computed",
            runs[0].dir.display()
        ));
        return (w.into_inner().expect("flushing to memory"), notes);
    };
    let reference = by_key(reference);
    for (run, label) in runs.iter().zip(&labels).skip(1) {
        let Some(rows) = run.replications.as_ref() else {
            notes.push(format!("{} has no replications.csv: no differences against it", run.dir.display()));
            continue;
        };
        let paired = run.manifest.seed == runs[0].manifest.seed;
        if !paired {
            notes.push(format!(
                "{label} ran with seed {} and {} with seed {}: their replications do not share random numbers, so the differences are of means (Welch interval), not paired; rerun with the same --seed for paired differences",
                run.manifest.seed, labels[0], runs[0].manifest.seed
            ));
        }
        let other = by_key(rows);
        for (key, a) in &reference {
            let Some(b) = other.get(key) else { continue };
            let (metric, coalition, group) = key;
            let Some((ma, mb, d)) = difference_of(a, b, paired, is_share(metric)) else { continue };
            let what = [labels[0].clone(), label.clone(), metric.clone(), coalition.clone(), group.clone()];
            w.write_record(what.iter().chain(&difference_cells(paired, ma, mb, &d))).expect("writing to memory");
        }
    }
    (w.into_inner().expect("flushing to memory"), notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_t_quantile_matches_tables() {
        // Student's t 97.5% quantiles (any statistics table).
        for (df, exact) in [
            (1.0, 12.706205),
            (2.0, 4.302653),
            (3.0, 3.182446),
            (5.0, 2.570582),
            (10.0, 2.228139),
            (29.0, 2.045230),
            (99.0, 1.984217),
        ] {
            assert!((t975(df) - exact).abs() < 0.004, "df {df}: {} vs {exact}", t975(df));
        }
        // Between whole degrees of freedom (Welch), between their quantiles.
        assert!(t975(1.5) < 12.71 && t975(1.5) > 4.30 && t975(2.5) < 4.31 && t975(2.5) > 3.18);
        assert!(t975(0.5).is_nan());
        assert!((t975(f64::INFINITY) - 1.959964).abs() < 1e-6);
    }
}
