//! Published figures: a figures file lists each figure with the claim it tests, the scenarios
//! or sweep it runs, its seed and replications, and the chart it draws. `reproduce` regenerates
//! every figure (data CSV, SVG, PNG) and compares the data with recorded checksums, so a
//! reviewer can confirm the published numbers exactly.

use crate::engine::sweep::Sweep;
use crate::engine::sweep::{self as sweep_engine, PointResult, SweepInfo};
use crate::engine::{self, EngineError, RunConfig};
use crate::input::{Load, read_text};
use crate::output::charts::{self, ChartSize, Figure, Line, Look, Panel, Rendered};
use crate::output::rundata::RunData;
use crate::output::sweep_dir::{self, SweepError, SweepOptions};
use crate::output::{self, Manifest, OutputError, num, sha256_hex, write_atomic};
use crate::scenario::params::{Problem, choice, section};
use crate::scenario::{Scenario, ScenarioError};
use std::path::{Path, PathBuf};

choice! {
    /// How a figure is drawn.
    pub enum Kind {
        /// One series of several scenarios over time, each with its 5–95% band.
        Compare = "compare",
        /// A two-axis grid sweep as a heatmap of one output.
        Heatmap = "heatmap",
        /// A two-axis grid sweep as lines: the first axis along x, one line per value of the second.
        SweepLines = "sweep_lines",
    }
}

section! {
    /// One published figure.
    pub struct FigureSpec {
        /// Required. Identifier: the figure's files are `<id>.csv`, `<id>.svg`, `<id>.png`.
        id: String = String::new();
        /// Title drawn on the chart.
        title: String = String::new();
        /// The claim the figure tests.
        claim: String = String::new();
        /// The source passage, with author and year.
        source: String = String::new();
        /// "compare", "heatmap" or "sweep_lines".
        kind: Kind = Kind::Compare;
        /// Scenario files (compare), relative to the figures file.
        scenarios: Vec<String> = Vec::new();
        /// Sweep file (heatmap, sweep_lines), relative to the figures file.
        sweep: String = String::new();
        /// Series metric (compare) or sweep output label (heatmap, sweep_lines).
        metric: String = "members".to_string();
        /// Coalition of the series (compare).
        coalition: String = "all".to_string();
        /// Group of the series (compare).
        group: String = "all".to_string();
        /// Seed recorded for the figure (overrides the scenarios' and sweep's).
        seed: u64 = 1;
        /// Replications (per scenario, or per sweep point).
        replications: u32 = 20, range(1, 1_000_000);
    }
}

section! {
    /// A figures file.
    pub struct FiguresFile {
        /// The figures, in publication order.
        figures: Vec<FigureSpec> = Vec::new();
    }
}

/// Checksums file beside the figures file.
pub const CHECKSUMS: &str = "checksums.sha256";

/// A figures file with the directory its paths are relative to.
#[derive(Debug, Clone)]
pub struct Figures {
    /// The figures.
    pub file: FiguresFile,
    /// Directory of the figures file.
    pub dir: PathBuf,
}

impl Figures {
    /// Read and validate a figures file: every scenario and sweep it names must exist and be
    /// valid, and ids must be unique.
    pub fn load(path: &Path) -> Result<Figures, ScenarioError> {
        let file_name = path.display().to_string();
        let text = read_text(path, &file_name)?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let file: FiguresFile = crate::scenario::parse_document(&text, &file_name, |file: &FiguresFile| {
            let mut problems = Vec::new();
            for (i, f) in file.figures.iter().enumerate() {
                let at = format!("figures[{i}]");
                if f.id.trim().is_empty() || !f.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    problems.push(Problem::new(
                        format!("{at}.id"),
                        format!("found \"{}\", expected letters, digits, _ or -", f.id),
                    ));
                }
                if file.figures[..i].iter().any(|g| g.id == f.id) {
                    problems.push(Problem::new(
                        format!("{at}.id"),
                        format!("found \"{}\" again, expected unique ids", f.id),
                    ));
                }
                match f.kind {
                    Kind::Compare if f.scenarios.is_empty() => problems.push(Problem::new(
                        format!("{at}.scenarios"),
                        "found none, expected scenario files to compare",
                    )),
                    Kind::Heatmap | Kind::SweepLines if f.sweep.is_empty() => {
                        problems.push(Problem::new(format!("{at}.sweep"), "missing, expected a sweep file"))
                    }
                    _ => {}
                }
            }
            problems
        })?;
        let figures = Figures { file, dir };
        for f in &figures.file.figures {
            for s in &f.scenarios {
                Scenario::load(&figures.dir.join(s))?;
            }
            if !f.sweep.is_empty() {
                Sweep::load(&figures.dir.join(&f.sweep))?;
            }
        }
        Ok(figures)
    }
}

/// Why a figure could not be reproduced.
#[derive(Debug, thiserror::Error)]
pub enum ReproduceError {
    /// Bad input.
    #[error(transparent)]
    Input(#[from] ScenarioError),
    /// Output failure.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Engine failure.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Sweep failure.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// Something else about a figure.
    #[error("figure {id}: {reason}")]
    Figure {
        /// Figure id.
        id: String,
        /// Why.
        reason: String,
    },
}

/// A regenerated figure.
#[derive(Debug, Clone)]
pub struct Produced {
    /// Figure id.
    pub id: String,
    /// SHA-256 of its data CSV.
    pub data_sha256: String,
}

/// Regenerate one figure into `out` (data CSV, SVG, PNG), using `work` for intermediate runs.
pub fn produce(
    figs: &Figures,
    f: &FigureSpec,
    out: &Path,
    work: &Path,
    size: ChartSize,
) -> Result<Produced, ReproduceError> {
    let (data, rendered) = match f.kind {
        Kind::Compare => compare(figs, f, work, size)?,
        Kind::Heatmap | Kind::SweepLines => sweep_figure(figs, f, work, size)?,
    };
    write_atomic(out, &format!("{}.csv", f.id), &data)?;
    write_atomic(out, &format!("{}.svg", f.id), rendered.svg.as_bytes())?;
    write_atomic(out, &format!("{}.png", f.id), &rendered.png)?;
    Ok(Produced { id: f.id.clone(), data_sha256: sha256_hex(&data) })
}

fn compare(
    figs: &Figures,
    f: &FigureSpec,
    work: &Path,
    size: ChartSize,
) -> Result<(Vec<u8>, Rendered), ReproduceError> {
    let mut runs = Vec::new();
    let mut arms = Vec::new();
    for path in &f.scenarios {
        let mut s = Scenario::load(&figs.dir.join(path))?;
        s.simulation.seed = f.seed;
        s.simulation.replications = f.replications;
        arms.push(s);
    }
    // Arms that differ only after the burn-in share it (warm starts): the same bytes.
    let all = engine::run_together(&arms, RunConfig { replications: f.replications, seed: f.seed, threads: 0 })?;
    for (k, (path, (s, results))) in f.scenarios.iter().zip(arms.iter().zip(all)).enumerate() {
        let dir = work.join(format!("{}-{k}", f.id));
        std::fs::create_dir_all(&dir).map_err(|e| OutputError::Io { path: dir.display().to_string(), source: e })?;
        let manifest = Manifest {
            tool: "coprosim",
            kind: crate::output::commit::Kind::Run,
            version: env!("CARGO_PKG_VERSION"),
            git_commit: None,
            scenario: s.name.clone(),
            description: s.description.clone(),
            scenario_file: path.clone(),
            scenario_sha256: String::new(),
            resolved_sha256: String::new(),
            seed: f.seed,
            replications: f.replications,
            threads: 0,
            ticks: s.ticks(),
            agents: s.population.size,
            wall_time_seconds: 0.0,
            files: Default::default(),
            complete: false,
            warnings: Vec::new(),
            posterior: None,
            from_state: None,
        };
        output::write_run(&dir, &results, &s.to_toml(), manifest)?;
        let run = RunData::read(&dir)?;
        if run.series_of(&f.metric, &f.coalition, &f.group).is_empty() {
            return Err(ReproduceError::Figure {
                id: f.id.clone(),
                reason: format!(
                    "{path} has no series {} for coalition {} and group {}",
                    f.metric, f.coalition, f.group
                ),
            });
        }
        runs.push(run);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["scenario", "year", "mean", "p05", "p50", "p95"]).expect("memory");
    for run in &runs {
        for r in run.series_of(&f.metric, &f.coalition, &f.group) {
            let b = r.band;
            let o = |v: Option<f64>| v.map_or(String::new(), num);
            w.write_record([run.manifest.scenario.clone(), num(r.year), o(b.mean), o(b.p05), o(b.p50), o(b.p95)])
                .expect("memory");
        }
    }
    let data = w.into_inner().expect("memory");
    let mut fig = charts::comparison(&runs, &f.metric, &f.coalition, &f.group, &[]);
    fig.name = f.id.clone();
    fig.title = f.title.clone();
    fig.caption = f.claim.clone();
    Ok((data, charts::render(&fig, size)?))
}

fn sweep_figure(
    figs: &Figures,
    f: &FigureSpec,
    work: &Path,
    size: ChartSize,
) -> Result<(Vec<u8>, Rendered), ReproduceError> {
    let mut s = Sweep::load(&figs.dir.join(&f.sweep))?;
    s.file.seed = f.seed;
    s.file.replications = f.replications;
    let plan = sweep_engine::plan(&s);
    let info = SweepInfo::new(&s, &plan, None);
    let o = info.outputs.iter().position(|l| *l == f.metric).ok_or_else(|| ReproduceError::Figure {
        id: f.id.clone(),
        reason: format!("the sweep records no output \"{}\"; it records {}", f.metric, info.outputs.join(", ")),
    })?;
    if info.design != "grid" || info.axes.len() != 2 {
        return Err(ReproduceError::Figure { id: f.id.clone(), reason: "expected a two-axis grid sweep".into() });
    }
    let opts = SweepOptions { dir: work.join(&f.id), threads: 0, shard: None, share: true };
    let points = sweep_dir::run(&s, &plan, &opts, &|_, _| {}, &|| {})?.points;
    let data = output::sweep::points_csv(&info, &points);
    let rendered = match f.kind {
        Kind::Heatmap => {
            let mut h = output::sweep::heatmap(&info, &points, o);
            h.name = f.id.clone();
            h.title = f.title.clone();
            h.caption = f.claim.clone();
            charts::render(&h, size)?
        }
        _ => charts::render(&sweep_lines(f, &info, &points, o), size)?,
    };
    Ok((data, rendered))
}

/// A two-axis grid as lines: x = first axis, one line per value of the second, with the 95%
/// interval of the mean.
fn sweep_lines(f: &FigureSpec, info: &SweepInfo, points: &[PointResult], o: usize) -> Figure {
    let ny = info.grid_shape[1];
    let lines = (0..ny)
        .map(|j| {
            let mut line = Line {
                label: format!("{} = {}", charts::short_key(&info.axes[1]), num(points[j].values[1])),
                look: Look::nth(j),
                points: vec![],
                band: vec![],
                thin: false,
                kind: "",
            };
            for p in points.iter().skip(j).step_by(ny) {
                let st = p.outputs[o];
                if let Some(m) = st.mean {
                    line.points.push((p.values[0], m));
                    if let (Some(lo), Some(hi)) = output::sweep::ci(info, &st, &info.outputs[o]) {
                        line.band.push((p.values[0], lo, hi));
                    }
                }
            }
            line
        })
        .collect();
    Figure {
        name: f.id.clone(),
        title: f.title.clone(),
        caption: f.claim.clone(),
        panels: vec![Panel {
            title: format!("{} against {}", f.metric, charts::short_key(&info.axes[0])),
            x_label: charts::human_key(&info.axes[0]),
            y_label: format!("mean {}", charts::human_key(&f.metric)),
            lines,
            y_range: None,
            marks: Vec::new(),
        }],
        columns: 1,
        notes: vec![format!("Lines: mean of {} replications; shading: 95% interval of the mean.", info.replications)],
    }
}

/// Recorded checksums: figure id → SHA-256 of its data CSV.
pub fn read_checksums(dir: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(dir.join(CHECKSUMS))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(sum, file)| (file.trim_end_matches(".csv").to_string(), sum.to_string()))
        .collect()
}

/// Write checksums in figure order.
pub fn write_checksums(
    dir: &Path,
    figs: &Figures,
    sums: &std::collections::BTreeMap<String, String>,
) -> Result<(), OutputError> {
    let text: String =
        figs.file.figures.iter().filter_map(|f| sums.get(&f.id).map(|s| format!("{s}  {}.csv\n", f.id))).collect();
    write_atomic(dir, CHECKSUMS, text.as_bytes()).map(|_| ())
}
