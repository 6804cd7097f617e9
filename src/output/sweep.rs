//! A finished sweep's files: `points.csv`, `replications.csv`, `sensitivity.csv` (Sobol designs),
//! `morris.csv` (Morris designs), `salib/` (both), charts and
//! `manifest.json`. Everything but the manifest's timing is a function of the sweep's
//! description and its sorted point results, so sharded, resumed and straight runs agree
//! byte for byte.

use super::charts::{self, BarMeasure, ChartSize, Figure, Heatmap, IndexBars, Line, Look, Panel};
use super::commit::{Holding, Kind, Staging, check_target};
use super::{MANIFEST, OutputError, num, sha256_hex, write_atomic};
use crate::engine::sweep::{PointResult, SweepInfo, line_for};
use crate::observe::morris::{Effects, morris_effects, morris_points};
use crate::observe::sensitivity::{Indices, sobol_indices};
use crate::observe::stats::mean_interval;
use crate::observe::summary_domain;
use crate::output::sweep_dir::{PROGRESS, SWEEP_JSON};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Column-safe file stem for an output label.
fn stem(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .trim_matches('_')
        .to_string()
}

/// The 95% interval of a point's mean of output `label` (`metric` or `metric[c/g]`), within
/// the metric's range ([`crate::observe::stats::mean_interval`]).
pub fn ci(info: &SweepInfo, o: &crate::engine::sweep::OutputStat, label: &str) -> (Option<f64>, Option<f64>) {
    let metric = label.split(['[', '@']).next().unwrap_or(label);
    match (o.mean, o.sd) {
        (Some(m), Some(sd)) if o.n > 1 => {
            let (lo, hi) = mean_interval(m, sd, o.n as usize, summary_domain(metric, info.coalitions));
            (Some(lo), Some(hi))
        }
        _ => (None, None),
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), num)
}

/// `points.csv`: one row per point, its axis values, then each output's mean, 95% interval
/// of the mean, sd and replications.
pub fn points_csv(info: &SweepInfo, points: &[PointResult]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(info.axes.iter().cloned());
    for o in &info.outputs {
        for suffix in ["mean", "ci95_low", "ci95_high", "sd", "n"] {
            header.push(format!("{o}_{suffix}"));
        }
    }
    w.write_record(&header).expect("memory");
    for p in points {
        let mut row = vec![p.index.to_string()];
        row.extend(p.values.iter().enumerate().map(|(a, v)| info.value_text(a, *v)));
        for (o, label) in p.outputs.iter().zip(&info.outputs) {
            let (lo, hi) = ci(info, o, label);
            row.extend([opt(o.mean), opt(lo), opt(hi), opt(o.sd), o.n.to_string()]);
        }
        w.write_record(&row).expect("memory");
    }
    w.into_inner().expect("memory")
}

/// Write `replications.csv` to `w`: one row per point, replication and output (tidy):
/// `point`, the axis values as `points.csv` gives them, `replication`, `output` and `value`, at
/// full precision (empty where undefined). Replication r of a point is ChaCha8 stream r of the
/// point's seed, so in a Sobol design the rows of a Saltelli block pair replication by
/// replication.
pub fn write_replications_csv(w: impl std::io::Write, info: &SweepInfo, points: &[PointResult]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(w);
    let mut header = vec!["point".to_string()];
    header.extend(info.axes.iter().cloned());
    header.extend(["replication", "output", "output_label", "value"].map(String::from));
    w.write_record(&header)?;
    let outputs = info.outputs.len().max(1);
    for p in points {
        let axes: Vec<String> = p.values.iter().enumerate().map(|(a, v)| info.value_text(a, *v)).collect();
        for (i, v) in p.replications.iter().enumerate() {
            let mut row = Vec::with_capacity(axes.len() + 5);
            row.push(p.index.to_string());
            row.extend(axes.iter().cloned());
            row.push((i / outputs).to_string());
            row.push(info.outputs[i % outputs].clone());
            row.push(info.output_label(i % outputs).to_string());
            row.push(v.map_or(String::new(), super::full_precision));
            w.write_record(&row)?;
        }
    }
    w.flush()
}

/// `replications.csv` in memory (see [`write_replications_csv`]).
pub fn replications_csv(info: &SweepInfo, points: &[PointResult]) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_replications_csv(&mut bytes, info, points).expect("writing to memory");
    bytes
}

/// The name of a Sobol design's dummy input in `sensitivity.csv`, the charts and the SALib export.
pub const DUMMY: &str = "dummy";

/// The inputs of a Sobol or Morris design, in column order: the axes, then the dummy if it has one.
pub fn design_inputs(info: &SweepInfo) -> Vec<String> {
    let mut names = info.axes.clone();
    if info.dummy {
        names.push(DUMMY.to_string());
    }
    names
}

/// The human labels of a Sobol or Morris design's inputs, in [`design_inputs`] order.
pub fn design_input_labels(info: &SweepInfo) -> Vec<String> {
    let mut labels: Vec<String> = (0..info.axes.len()).map(|a| info.axis_label(a).to_string()).collect();
    if info.dummy {
        labels.push(DUMMY.to_string());
    }
    labels
}

/// A sweep's whole trajectories, `series.csv`.
pub use super::names::SWEEP_SERIES as SERIES;

/// `series.csv`: every point's trajectories (tidy), one row per point, trajectory and year:
/// `point`, the axis values as `points.csv` gives them, `series` and its `series_label`,
/// `year` (from founding), and the mean over replications with its 95% interval (within the
/// metric's range), sd and the replications in which it was defined, `n` (0 with empty
/// statistics where undefined: a dissolved coalition, a point whose period ends sooner).
pub fn series_csv(info: &SweepInfo, points: &[PointResult]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(info.axes.iter().cloned());
    header.extend(["series", "series_label", "year", "mean", "ci95_low", "ci95_high", "sd", "n"].map(String::from));
    w.write_record(&header).expect("memory");
    let years = info.series_years.len();
    for p in points {
        let axes: Vec<String> = p.values.iter().enumerate().map(|(a, v)| info.value_text(a, *v)).collect();
        for (k, label) in info.series.iter().enumerate() {
            for (y, year) in info.series_years.iter().enumerate() {
                let o = &p.series[k * years + y];
                let (lo, hi) = ci(info, o, label);
                let mut row = vec![p.index.to_string()];
                row.extend(axes.iter().cloned());
                row.extend([label.clone(), info.series_labels[k].clone(), num(*year)]);
                row.extend([opt(o.mean), opt(lo), opt(hi), opt(o.sd), o.n.to_string()]);
                w.write_record(&row).expect("memory");
            }
        }
    }
    w.into_inner().expect("memory")
}

/// The Sobol analysis of one output.
#[derive(Debug, Clone)]
pub struct OutputIndices {
    /// Indices of each input ([`sobol_inputs`]).
    pub inputs: Vec<Indices>,
    /// The variance of the point means over the A and B rows: what the indices divide.
    pub variance: f64,
    /// The part of it replication noise alone explains: the mean over the A and B rows of a
    /// point mean's variance, sd² / n.
    pub replication_variance: f64,
}

/// Sobol indices of each output (None when some point's output is undefined). The estimators
/// take each point's mean over its replications.
pub fn indices(info: &SweepInfo, points: &[PointResult]) -> Vec<Option<OutputIndices>> {
    let k = design_inputs(info).len();
    (0..info.outputs.len())
        .map(|o| {
            let y: Vec<f64> = points.iter().map(|p| p.outputs[o].mean).collect::<Option<_>>()?;
            let ab: Vec<&PointResult> = points.iter().filter(|p| p.index % (k + 2) < 2).collect();
            let ab_mean = ab.iter().filter_map(|p| p.outputs[o].mean).sum::<f64>() / ab.len() as f64;
            let variance =
                ab.iter().filter_map(|p| p.outputs[o].mean).map(|m| (m - ab_mean) * (m - ab_mean)).sum::<f64>()
                    / ab.len() as f64;
            let replication_variance = ab
                .iter()
                .map(|p| match (p.outputs[o].sd, p.outputs[o].n) {
                    (Some(sd), n) if n > 1 => sd * sd / n as f64,
                    _ => 0.0,
                })
                .sum::<f64>()
                / ab.len() as f64;
            Some(OutputIndices {
                inputs: sobol_indices(&y, k, info.bootstrap, info.seed),
                variance,
                replication_variance,
            })
        })
        .collect()
}

/// `sensitivity.csv`: first- and total-order indices with 95% bootstrap intervals, one row per
/// output and input (the dummy last), with the output's variance over the design and the part
/// replication noise explains.
pub fn sensitivity_csv(info: &SweepInfo, all: &[Option<OutputIndices>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "output",
        "output_label",
        "parameter",
        "parameter_label",
        "first_order",
        "first_ci95_low",
        "first_ci95_high",
        "total_order",
        "total_ci95_low",
        "total_ci95_high",
        "output_variance",
        "replication_variance",
    ])
    .expect("memory");
    let labels = design_input_labels(info);
    for (o, (output, indices)) in info.outputs.iter().zip(all).enumerate() {
        for (i, input) in design_inputs(info).iter().enumerate() {
            let cells: [String; 8] = match indices {
                Some(ix) => {
                    let x = ix.inputs[i];
                    [
                        x.first,
                        x.first_ci.0,
                        x.first_ci.1,
                        x.total,
                        x.total_ci.0,
                        x.total_ci.1,
                        ix.variance,
                        ix.replication_variance,
                    ]
                    .map(num)
                }
                None => Default::default(),
            };
            let mut row = vec![output.clone(), info.output_label(o).to_string(), input.clone(), labels[i].clone()];
            row.extend(cells);
            w.write_record(&row).expect("memory");
        }
    }
    w.into_inner().expect("memory")
}

/// Morris measures of each output (None when some point's output is undefined), from each
/// point's mean over its replications.
pub fn morris(info: &SweepInfo, points: &[PointResult]) -> Vec<Option<Vec<Effects>>> {
    let k = design_inputs(info).len();
    let unit = morris_points(info.points / (k + 1), k, info.morris_levels, info.seed);
    (0..info.outputs.len())
        .map(|o| {
            let y: Vec<f64> = points.iter().map(|p| p.outputs[o].mean).collect::<Option<_>>()?;
            Some(morris_effects(&y, &unit, k, info.morris_levels, info.bootstrap, info.seed))
        })
        .collect()
}

/// `morris.csv`: μ, μ* with its 95% bootstrap interval, and σ of each output's elementary
/// effects, one row per output and input (the dummy last), in output units per unit-cube step.
pub fn morris_csv(info: &SweepInfo, all: &[Option<Vec<Effects>>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "output",
        "output_label",
        "parameter",
        "parameter_label",
        "mu",
        "mu_star",
        "mu_star_ci95_low",
        "mu_star_ci95_high",
        "sigma",
        "trajectories",
    ])
    .expect("memory");
    let inputs = design_inputs(info);
    let trajectories = info.points / (inputs.len() + 1);
    let labels = design_input_labels(info);
    for (o, (output, effects)) in info.outputs.iter().zip(all).enumerate() {
        for (i, input) in inputs.iter().enumerate() {
            let cells: [String; 5] = match effects {
                Some(e) => [e[i].mu, e[i].mu_star, e[i].mu_star_ci.0, e[i].mu_star_ci.1, e[i].sigma].map(num),
                None => Default::default(),
            };
            let mut row = vec![output.clone(), info.output_label(o).to_string(), input.clone(), labels[i].clone()];
            row.extend(cells);
            row.push(trajectories.to_string());
            w.write_record(&row).expect("memory");
        }
    }
    w.into_inner().expect("memory")
}

pub use super::names::SALIB;

/// A Sobol or Morris sweep's design and outputs as SALib reads them: `problem.json` (SALib's
/// problem dictionary: the inputs' names and bounds, the dummy's [0, 1]), `X.txt` (every
/// point's inputs, space-separated) and `Y.txt` (each output's point means, one column per
/// output after a `#` line naming them; `nan` where undefined).
///
/// Sobol: rows in SALib's order for a design without second-order indices, per block A,
/// AB_1 … AB_k, B; X holds the axes as run and the dummy's unit value.
/// `SALib.analyze.sobol.analyze(problem, Y[:, o], calc_second_order=False)` then gives
/// `sensitivity.csv`'s point estimates to rounding (its intervals are its own).
/// Morris: trajectories in run order; `SALib.analyze.morris.analyze(problem, X, Y[:, o],
/// num_levels=p)` gives `morris.csv`'s μ, μ* and σ to rounding.
pub fn salib_files(info: &SweepInfo, points: &[PointResult]) -> Vec<(String, Vec<u8>)> {
    let inputs = design_inputs(info);
    let k = inputs.len();
    let mut bounds: Vec<[f64; 2]> = info.bounds.iter().map(|&(lo, hi)| [lo, hi]).collect();
    if info.dummy {
        bounds.push([0.0, 1.0]);
    }
    let problem = serde_json::json!({ "num_vars": k, "names": inputs, "bounds": bounds });
    let (mut x, mut y) = (String::new(), String::new());
    y.push_str(&format!("# {}\n", info.outputs.join(" ")));
    let line = |values: Vec<String>| values.join(" ") + "\n";
    let outputs =
        |p: &PointResult| line(p.outputs.iter().map(|o| o.mean.map_or("nan".into(), |m| format!("{m}"))).collect());
    if info.design == "morris" {
        // Trajectories in run order. SALib finds each step's input from X, so X holds the
        // design's values before whole-number parameters are rounded for the run.
        let unit = morris_points(info.points / (k + 1), k, info.morris_levels, info.seed);
        for (p, u) in points.iter().zip(&unit) {
            let row = u.iter().zip(&bounds).map(|(u, [lo, hi])| format!("{}", lo + u * (hi - lo))).collect();
            x.push_str(&line(row));
            y.push_str(&outputs(p));
        }
    } else {
        let unit = crate::observe::sensitivity::saltelli_points(info.sobol_base_samples, k, info.seed);
        for (b, block) in points.chunks(k + 2).enumerate() {
            let order = std::iter::once(0).chain(2..k + 2).chain(std::iter::once(1));
            for r in order.filter(|&r| r < block.len()) {
                let p = &block[r];
                let mut row: Vec<String> = p.values.iter().map(|v| format!("{v}")).collect();
                if info.dummy {
                    row.push(format!("{}", unit[b * (k + 2) + r][k - 1]));
                }
                x.push_str(&line(row));
                y.push_str(&outputs(p));
            }
        }
    }
    vec![
        (format!("{SALIB}/problem.json"), serde_json::to_vec_pretty(&problem).expect("serialises")),
        (format!("{SALIB}/X.txt"), x.into_bytes()),
        (format!("{SALIB}/Y.txt"), y.into_bytes()),
    ]
}

/// What `manifest.json` records about a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepManifest {
    /// Always "coprosim".
    pub tool: &'static str,
    /// Always [`super::commit::Kind::Sweep`].
    pub kind: super::commit::Kind,
    /// Tool version.
    pub version: &'static str,
    /// Git commit where known.
    pub git_commit: Option<&'static str>,
    /// The sweep's description and identity.
    pub sweep: SweepInfo,
    /// Worker threads of this process (results do not depend on it).
    pub threads: usize,
    /// Wall time of the computation: this process's for a sweep run here; for a merged sweep,
    /// the shards' wall times summed (they may have run at once) plus the merge's.
    pub wall_time_seconds: f64,
    /// A merged sweep's shards, with the threads and wall time each one took.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub shards: Vec<ShardTiming>,
    /// SHA-256 of every file the sweep wrote (description, progress log, data, charts).
    pub files: std::collections::BTreeMap<String, String>,
    /// True once every file is written.
    pub complete: bool,
}

/// The threads and wall time of one shard of a merged sweep, from its manifest.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ShardTiming {
    /// The shard, `K/N`.
    pub shard: String,
    /// Worker threads it used.
    pub threads: usize,
    /// Its wall time.
    pub wall_time_seconds: f64,
}

/// How long a sweep's computation took, for its manifest.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    /// Worker threads of this process.
    pub threads: usize,
    /// Wall time of this process, in seconds.
    pub wall_time_seconds: f64,
    /// For a merged sweep, its shards' timings (added to the wall time).
    pub shards: Vec<ShardTiming>,
}

impl Timing {
    /// The timings recorded in the manifests of a sweep's shard directories; a shard whose
    /// manifest cannot be read is left out (the merge has already verified its points).
    pub fn of_shards(dirs: &[PathBuf]) -> Vec<ShardTiming> {
        dirs.iter()
            .filter_map(|d| {
                let bytes = std::fs::read(d.join(MANIFEST)).ok()?;
                let m: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
                let shard = m.get("sweep")?.get("shard")?.as_array()?;
                Some(ShardTiming {
                    shard: format!("{}/{}", shard.first()?.as_u64()?, shard.get(1)?.as_u64()?),
                    threads: m.get("threads")?.as_u64()? as usize,
                    wall_time_seconds: m.get("wall_time_seconds")?.as_f64()?,
                })
            })
            .collect()
    }
}

/// Decide where a sweep computes its points. None: in `dir` itself, which is new, empty or
/// holds this very sweep (finished or not). Otherwise a resumable working folder inside
/// `dir`, whose result replaces `dir`'s earlier one only when complete; that needs `--force`
/// when `dir` holds another sweep or anything else. Refuses, before any work, what
/// [`super::commit::check_target`] refuses.
pub fn working_place(dir: &Path, info: &SweepInfo, force: bool) -> Result<Option<Staging>, OutputError> {
    let (target, holding) = check_target(dir, Kind::Sweep, force)?;
    match holding {
        Holding::Absent | Holding::Empty => return Ok(None),
        Holding::Result { kind: Kind::Sweep, .. } if same_sweep(&target, info) => return Ok(None),
        Holding::Result { kind: Kind::Sweep, .. } if !force => return Err(different_sweep(dir)),
        _ => {}
    }
    let shard = info.shard.map_or(String::new(), |(k, n)| format!("-shard-{k}-of-{n}"));
    Ok(Some(Staging::resumable(dir, Kind::Sweep, force, &format!("sweep-{}{shard}", &info.identity[..16]))?))
}

/// Whether `dir` holds (the progress or result of) the sweep and shard `info` describes.
pub fn same_sweep(dir: &Path, info: &SweepInfo) -> bool {
    std::fs::read(dir.join(SWEEP_JSON))
        .ok()
        .and_then(|b| serde_json::from_slice::<SweepInfo>(&b).ok())
        .is_some_and(|o| o.identity == info.identity && o.shard == info.shard)
}

fn different_sweep(dir: &Path) -> OutputError {
    OutputError::Unusable {
        path: dir.display().to_string(),
        reason: "it holds results of a different sweep or shard; choose another --out, or pass --force to replace them (files coprosim did not write are kept)".into(),
    }
}

/// Prepare to write a finished sweep computed elsewhere (merged shards, or a sweep run in
/// memory from Python) into `dir`: like [`Staging::new`], and a different sweep there,
/// finished or not, is replaced only with `force`.
pub fn stage_merged(dir: &Path, info: &SweepInfo, force: bool) -> Result<Staging, OutputError> {
    let (target, holding) = check_target(dir, Kind::Sweep, force)?;
    // A finished sweep, or the progress of an unfinished one (a CLI sweep that was stopped):
    // either is replaced only with `force` unless it is this very sweep.
    let a_sweep = matches!(holding, Holding::Result { kind: Kind::Sweep, .. }) || target.join(SWEEP_JSON).exists();
    if a_sweep && !force && !same_sweep(&target, info) {
        return Err(different_sweep(dir));
    }
    Staging::new(dir, Kind::Sweep, force)
}

/// Redraw every chart of a finished sweep directory from its files alone (`sweep.json` and
/// the checksummed `progress.jsonl`, which holds every point), as `coprosim plot DIR` does, and
/// list them in its manifest. Returns the paths written.
pub fn redraw(dir: &Path, size: ChartSize) -> Result<Vec<PathBuf>, OutputError> {
    let incomplete = |reason: String| OutputError::Incomplete { path: dir.display().to_string(), reason };
    let info_path = dir.join(SWEEP_JSON);
    let bytes = std::fs::read(&info_path).map_err(|_| incomplete(format!("it has no {SWEEP_JSON}")))?;
    let info: SweepInfo = serde_json::from_slice(&bytes)
        .map_err(|e| OutputError::Unreadable { path: info_path.display().to_string(), reason: e.to_string() })?;
    if let Some((k, n)) = info.shard {
        return Err(incomplete(format!("it is shard {k}/{n} of a sweep, which has no charts; merge the shards first")));
    }
    let mut points = crate::output::sweep_dir::read_progress(&dir.join(PROGRESS), &info).points;
    points.sort_by_key(|p| p.index);
    points.dedup_by_key(|p| p.index);
    if points.len() != info.points {
        return Err(incomplete(format!("its {PROGRESS} holds {} of the sweep's {} points", points.len(), info.points)));
    }
    let all_indices = if info.design == "sobol" { indices(&info, &points) } else { Vec::new() };
    let mut files = Vec::new();
    for r in sweep_charts(&info, &points, &all_indices, size)? {
        files.extend(r.files());
    }
    super::write_drawn(dir, &files)
}

/// Write the finished sweep's files into `dir` (an empty working folder): its description
/// (`sweep.json`), its progress log with every point in index order, and, unless it is a
/// shard, `replications.csv`, `points.csv`, `sensitivity.csv` (Sobol designs) and charts; the
/// manifest last.
pub fn write_sweep(
    dir: &Path,
    info: &SweepInfo,
    points: &[PointResult],
    charts_size: Option<ChartSize>,
    timing: &Timing,
) -> Result<Vec<PathBuf>, OutputError> {
    let wall_time_seconds = timing.wall_time_seconds + timing.shards.iter().map(|s| s.wall_time_seconds).sum::<f64>();
    let mut written = Vec::new();
    let mut manifest = SweepManifest {
        tool: "coprosim",
        kind: super::commit::Kind::Sweep,
        version: env!("CARGO_PKG_VERSION"),
        git_commit: super::git_commit(),
        sweep: info.clone(),
        threads: timing.threads,
        wall_time_seconds: (wall_time_seconds * 1000.0).round() / 1000.0,
        shards: timing.shards.clone(),
        files: Default::default(),
        complete: false,
    };
    let (path, sha) = write_progress(dir, info, points)?;
    written.push(path);
    manifest.files.insert(PROGRESS.into(), sha);
    if info.shard.is_none() {
        let (path, sha) = stream_file(dir, super::REPLICATIONS, |w| write_replications_csv(w, info, points))?;
        written.push(path);
        manifest.files.insert(super::REPLICATIONS.into(), sha);
    }
    let mut put = |name: String, bytes: &[u8]| -> Result<(), OutputError> {
        let path = dir.join(&name);
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).map_err(super::io(parent))?;
        let file_name = path.file_name().and_then(|f| f.to_str()).unwrap_or(&name);
        written.push(write_atomic(parent, file_name, bytes)?);
        manifest.files.insert(name, sha256_hex(bytes));
        Ok(())
    };
    put(SWEEP_JSON.into(), &serde_json::to_vec_pretty(info).expect("serialises"))?;
    if info.shard.is_none() {
        // The data first, then the charts (which take longest) one by one.
        put("points.csv".into(), &points_csv(info, points))?;
        if !info.series.is_empty() {
            put(SERIES.into(), &series_csv(info, points))?;
        }
        let sobol = info.design == "sobol";
        let all_indices = if sobol { indices(info, points) } else { Vec::new() };
        if sobol {
            put("sensitivity.csv".into(), &sensitivity_csv(info, &all_indices))?;
        }
        if info.design == "morris" {
            put("morris.csv".into(), &morris_csv(info, &morris(info, points)))?;
        }
        if sobol || info.design == "morris" {
            for (name, bytes) in salib_files(info, points) {
                put(name, &bytes)?;
            }
        }
        if let Some(size) = charts_size {
            for r in sweep_charts(info, points, &all_indices, size)? {
                for (rel, bytes) in r.files() {
                    put(rel, &bytes)?;
                }
            }
        }
    }
    manifest.complete = true;
    written.push(write_atomic(dir, super::MANIFEST, &serde_json::to_vec_pretty(&manifest).expect("serialises"))?);
    Ok(written)
}

/// A writer that also hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: sha2::Sha256,
}

impl<W: std::io::Write> std::io::Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Write the file `name` in `dir` by streaming it through `fill` (a large design's files have
/// millions of lines) to a temporary name that is renamed into place, so a failure leaves the
/// file that was there. Returns its path and SHA-256.
fn stream_file(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(PathBuf, String), OutputError> {
    use sha2::Digest;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut hash = sha2::Sha256::new();
    let written = (|| {
        let mut w = Hashing { inner: std::io::BufWriter::new(std::fs::File::create(&tmp)?), hash: sha2::Sha256::new() };
        fill(&mut w)?;
        hash = w.hash;
        w.inner.into_inner().map_err(|e| e.into_error())?.sync_data()?;
        std::fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(super::io(&path)(e));
    }
    Ok((path, super::hex(&hash.finalize())))
}

/// The progress log of a finished sweep: every point in index order.
fn write_progress(dir: &Path, info: &SweepInfo, points: &[PointResult]) -> Result<(PathBuf, String), OutputError> {
    stream_file(dir, PROGRESS, |w| {
        for p in points {
            w.write_all((line_for(info, p) + "\n").as_bytes())?;
        }
        Ok(())
    })
}

/// The heatmap of output `o` of a two-axis grid sweep.
pub fn heatmap(info: &SweepInfo, points: &[PointResult], o: usize) -> Heatmap {
    let (nx, ny) = (info.grid_shape[0], info.grid_shape[1]);
    let label = &info.outputs[o];
    let human = info.output_label(o);
    Heatmap {
        name: format!("heatmap_{}", stem(label)),
        title: format!("{human}: {}", info.name),
        caption: format!(
            "Mean {human} over {} replications at each combination of {} and {}, with the 95% interval of each mean beneath it: cells whose intervals overlap may differ only by noise. Colour: viridis, from the lowest cell mean (dark) to the highest (yellow), as the bar beside the chart shows; grey: undefined.",
            info.replications,
            info.axis_label(0),
            info.axis_label(1)
        ),
        x_label: info.axis_label(0).to_string(),
        y_label: info.axis_label(1).to_string(),
        xs: (0..nx).map(|i| points[i * ny].values[0]).collect(),
        ys: (0..ny).map(|j| points[j].values[1]).collect(),
        x_names: info.choices.first().cloned().unwrap_or_default(),
        y_names: info.choices.get(1).cloned().unwrap_or_default(),
        values: (0..nx).map(|i| (0..ny).map(|j| points[i * ny + j].outputs[o].mean).collect()).collect(),
        intervals: (0..nx)
            .map(|i| {
                (0..ny)
                    .map(|j| match ci(info, &points[i * ny + j].outputs[o], label) {
                        (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Some((a, b)),
                        _ => None,
                    })
                    .collect()
            })
            .collect(),
        value_label: format!("mean {human}"),
    }
}

/// A one-axis grid of choices as a single row of heatmap cells.
fn heatmap_row(info: &SweepInfo, points: &[PointResult], o: usize) -> Heatmap {
    let label = &info.outputs[o];
    let human = info.output_label(o);
    let cell = |p: &PointResult| match ci(info, &p.outputs[o], label) {
        (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Some((a, b)),
        _ => None,
    };
    Heatmap {
        name: format!("heatmap_{}", stem(label)),
        title: format!("{human}: {}", info.name),
        caption: format!(
            "Mean {human} over {} replications for each choice of {}, with the 95% interval of each mean beneath it. Colour: viridis, from the lowest mean (dark) to the highest (yellow).",
            info.replications,
            info.axis_label(0)
        ),
        x_label: info.axis_label(0).to_string(),
        y_label: String::new(),
        xs: points.iter().map(|p| p.values[0]).collect(),
        ys: vec![0.0],
        x_names: info.choices[0].clone(),
        y_names: vec![String::new()],
        values: points.iter().map(|p| vec![p.outputs[o].mean]).collect(),
        intervals: points.iter().map(|p| vec![cell(p)]).collect(),
        value_label: format!("mean {human}"),
    }
}

/// Points of a grid beyond which its trajectories are not drawn (the lines would be unreadable;
/// `series.csv` has them all).
pub const MAX_TRAJECTORY_LINES: usize = 8;

/// Trajectory `k` of every point of a small grid: a line per point with its 95% band.
fn trajectory_chart(info: &SweepInfo, points: &[PointResult], k: usize) -> Figure {
    let (label, human) = (&info.series[k], &info.series_labels[k]);
    let years = info.series_years.len();
    let lines = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            // The values alone: the legend's note names the axes, so the names stay short.
            let name = (0..info.axes.len()).map(|a| info.value_text(a, p.values[a])).collect::<Vec<_>>().join(", ");
            let mut line =
                Line { label: name, look: Look::nth(i), points: vec![], band: vec![], thin: false, kind: "" };
            for (y, &year) in info.series_years.iter().enumerate() {
                let o = &p.series[k * years + y];
                if let Some(m) = o.mean {
                    line.points.push((year, m));
                }
                if let (Some(lo), Some(hi)) = ci(info, o, label) {
                    line.band.push((year, lo, hi));
                }
            }
            line
        })
        .collect();
    let metric = label.split(['[', '@']).next().unwrap_or(label);
    let share = matches!(summary_domain(metric, info.coalitions), crate::observe::stats::Domain::Share);
    Figure {
        name: format!("series_{}", stem(label)),
        title: format!("{human}: {}", info.name),
        caption: format!(
            "Mean {human} ({label}) at each whole year over {} replications, one line per point of the grid; shading: 95% interval of the mean.",
            info.replications
        ),
        panels: vec![Panel {
            title: format!("{human} by year"),
            x_label: "years from founding".into(),
            y_label: human.clone(),
            lines,
            y_range: share.then_some((0.0, 1.0)),
            marks: Vec::new(),
        }],
        columns: 1,
        notes: vec![
            format!("Lines by {}.", (0..info.axes.len()).map(|a| info.axis_label(a)).collect::<Vec<_>>().join(", ")),
            "Lines: means; shading: 95% interval of the mean.".into(),
        ],
    }
}

fn sweep_charts(
    info: &SweepInfo,
    points: &[PointResult],
    indices: &[Option<OutputIndices>],
    size: ChartSize,
) -> Result<Vec<charts::Rendered>, OutputError> {
    let mut out = Vec::new();
    let reps = info.replications;
    if info.design == "grid" && info.axes.len() == 2 {
        for o in 0..info.outputs.len() {
            out.push(charts::render(&heatmap(info, points, o), size)?);
        }
    }
    let choices = info.choices.first().is_some_and(|c| !c.is_empty());
    if info.design == "grid" && info.axes.len() == 1 && choices {
        // Choices have no order to draw a line through: one row of cells, each with its mean
        // and interval.
        for (o, label) in info.outputs.iter().enumerate() {
            let mut h = heatmap_row(info, points, o);
            h.name = format!("line_{}", stem(label));
            out.push(charts::render(&h, size)?);
        }
    }
    if info.design == "grid" && info.axes.len() == 1 && !choices {
        for (o, label) in info.outputs.iter().enumerate() {
            let human = info.output_label(o);
            let mut line = Line {
                label: human.to_string(),
                look: Look::nth(0),
                points: vec![],
                band: vec![],
                thin: false,
                kind: "",
            };
            for p in points {
                let x = p.values[0];
                if let Some(m) = p.outputs[o].mean {
                    line.points.push((x, m));
                }
                if let (Some(lo), Some(hi)) = ci(info, &p.outputs[o], label) {
                    line.band.push((x, lo, hi));
                }
            }
            out.push(charts::render(
                &Figure {
                    name: format!("line_{}", stem(label)),
                    title: format!("{human}: {}", info.name),
                    caption: format!(
                        "Mean {human} over {reps} replications against {} ({}); shading: 95% interval of the mean.",
                        info.axis_label(0),
                        info.axes[0]
                    ),
                    panels: vec![Panel {
                        title: format!("{human} against {}", info.axis_label(0)),
                        x_label: info.axis_label(0).to_string(),
                        y_label: human.to_string(),
                        lines: vec![line],
                        y_range: None,
                        marks: Vec::new(),
                    }],
                    columns: 1,
                    notes: vec!["Line: mean; shading: 95% interval of the mean.".into()],
                },
                size,
            )?);
        }
    }
    if info.design == "grid" && points.len() <= MAX_TRAJECTORY_LINES {
        for k in 0..info.series.len() {
            out.push(charts::render(&trajectory_chart(info, points, k), size)?);
        }
    }
    for (o, (label, ix)) in info.outputs.iter().zip(indices).enumerate() {
        let Some(ix) = ix else { continue };
        let human = info.output_label(o);
        out.push(charts::render(
            &IndexBars {
                name: format!("sensitivity_{}", stem(label)),
                title: format!("Sobol indices of {human}: {}", info.name),
                caption: format!(
                    "First-order and total-order Sobol indices of {human} ({label}) for each swept parameter (N = {} base samples, {} points, {reps} replications each), with 95% bootstrap intervals.",
                    info.sobol_base_samples, info.points
                ),
                parameters: design_input_labels(info),
                keys: design_inputs(info),
                first: ix.inputs.iter().map(|x| (x.first, x.first_ci.0, x.first_ci.1)).collect(),
                total: ix.inputs.iter().map(|x| (x.total, x.total_ci.0, x.total_ci.1)).collect(),
                noise_floor: info.dummy.then(|| ix.inputs.last().map_or((f64::NAN, 0.0, 0.0), |d| (d.total, d.total_ci.0, d.total_ci.1))),
                measure: BarMeasure::Sobol,
            },
            size,
        )?);
    }
    if info.design == "morris" {
        let trajectories = info.points / (design_inputs(info).len() + 1);
        for (o, (label, effects)) in info.outputs.iter().zip(morris(info, points)).enumerate() {
            let Some(e) = effects else { continue };
            let human = info.output_label(o);
            out.push(charts::render(
                &IndexBars {
                    name: format!("morris_{}", stem(label)),
                    title: format!("Morris screening of {human}: {}", info.name),
                    caption: format!(
                        "Morris's μ* (mean absolute elementary effect, with its 95% bootstrap interval over trajectories) and σ of {human} ({label}) for each swept parameter ({trajectories} trajectories, {} levels, {reps} replications a point), in {human} per unit-cube step.",
                        info.morris_levels
                    ),
                    parameters: design_input_labels(info),
                keys: design_inputs(info),
                    first: e.iter().map(|x| (x.mu_star, x.mu_star_ci.0, x.mu_star_ci.1)).collect(),
                    total: e.iter().map(|x| (x.sigma, f64::NAN, f64::NAN)).collect(),
                    noise_floor: info
                        .dummy
                        .then(|| e.last().map_or((f64::NAN, 0.0, 0.0), |d| (d.mu_star, d.mu_star_ci.0, d.mu_star_ci.1))),
                    measure: BarMeasure::Morris,
                },
                size,
            )?);
        }
    }
    Ok(out)
}
