//! The `coprosim` command line: a thin layer over the library.
//!
//! Exit codes: 0 success, 1 runtime failure, 2 bad input or usage.

use clap::{Parser, Subcommand};
use coprosim::engine::sweep::{self, SweepInfo};
use coprosim::engine::{self, RunConfig};
use coprosim::inference::calibrate;
use coprosim::inference::targets::{Targets, apply};
use coprosim::input::{FileKind, Load};
use coprosim::observe::detail::{DetailRequest, snapshot_ticks};
use coprosim::output::charts::ChartSize;
use coprosim::output::commit::{Kind, Staging};
use coprosim::output::sweep::Timing;
use coprosim::output::sweep_dir::{self, SweepError, SweepOptions};
use coprosim::output::{self, Manifest, OutputError};
use coprosim::scenario::sweep::Sweep;
use coprosim::scenario::{BASELINE, ParamSpec, Scenario, ScenarioError};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "coprosim",
    version = env!("COPROSIM_VERSION"),
    about = "Simulate participation and retention in community co-production programmes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No progress bars and nothing on standard output but what was asked for; errors and
    /// warnings still go to standard error. Accepted by every command.
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
}

/// Set once from `--quiet`, read by the commands' messages.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn quiet() -> bool {
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

#[derive(Subcommand)]
enum Command {
    /// Run a scenario's Monte Carlo replications and write CSV files and a manifest.
    Run {
        /// Scenario file (TOML); the embedded baseline when omitted.
        scenario: Option<PathBuf>,
        /// Replications (overrides simulation.replications).
        #[arg(long, short = 'n')]
        replications: Option<u32>,
        /// Master seed (overrides simulation.seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: one per core). Results do not depend on it.
        #[arg(long, short = 'j')]
        threads: Option<usize>,
        /// Output directory (default: output/<scenario name>/).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        #[command(flatten)]
        force: ForceArg,
        /// Skip the charts and report.html.
        #[arg(long)]
        no_charts: bool,
        /// A calibration directory (written by `coprosim calibrate`): each replication draws its
        /// estimated parameters from that posterior, so intervals include parameter uncertainty.
        #[arg(long, value_name = "DIR")]
        posterior: Option<PathBuf>,
        /// Snapshot every agent at these years (from founding, in the recorded period, comma-separated) into agents.csv.
        #[arg(long, value_name = "YEARS", value_delimiter = ',')]
        agents: Vec<f64>,
        /// Record every join, exit and dissolution (events.csv) and the membership spells they make (spells.csv).
        #[arg(long)]
        events: bool,
        /// Replications recorded in detail by --agents and --events: the first N.
        #[arg(long, value_name = "N", default_value_t = 1)]
        detail_replications: u32,
        /// Also write the detail tables of --agents and --events as Parquet (agents.parquet,
        /// events.parquet, spells.parquet): the same columns as the CSV files, typed.
        #[arg(long)]
        parquet: bool,
        /// Also save each replication's state at the end of its burn-in in the result's warm/
        /// folder, to start policies from with --from-state.
        #[arg(long, conflicts_with = "posterior")]
        save_state: bool,
        /// Start each replication from the state a run with --save-state saved at the end of its
        /// burn-in (that run's result directory) instead of simulating the burn-in again. This
        /// scenario's later policy changes and shocks act as in a full run; its settings that can
        /// change during a run and differ from the saved scenario's take effect from the end of
        /// the burn-in; anything that would have changed the burn-in is refused.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["save_state", "posterior"])]
        from_state: Option<PathBuf>,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Fit parameters to observed statistics by ABC-SMC (a targets file); rerun to resume.
    Calibrate {
        /// Targets file (TOML).
        targets: PathBuf,
        /// Output directory (default: output/<calibration name>/).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// Worker threads (default: one per core). Results do not depend on it.
        #[arg(long, short = 'j')]
        threads: Option<usize>,
        #[command(flatten)]
        force: ForceArg,
        /// Skip the charts and report.html.
        #[arg(long)]
        no_charts: bool,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Redraw every chart (and report.html) of a run, sweep or calibration directory from its files alone.
    Plot {
        /// Run directory (written by `coprosim run`), sweep directory (`sweep`, `merge`) or calibration directory (`calibrate`).
        dir: PathBuf,
        #[command(flatten)]
        checksums: ChecksumArg,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Overlay the same series from several runs, each labelled by its scenario name.
    Compare {
        /// Run directories.
        #[arg(required = true, num_args = 2..)]
        dirs: Vec<PathBuf>,
        /// Metric (a value of series.csv's metric column).
        #[arg(long, short = 'm', default_value = "members")]
        metric: String,
        /// Coalition name, or "all".
        #[arg(long, default_value = "all")]
        coalition: String,
        /// Group name, or "all".
        #[arg(long, default_value = "all")]
        group: String,
        /// Output directory.
        #[arg(long, short = 'o', default_value = "output/compare")]
        out: PathBuf,
        #[command(flatten)]
        checksums: ChecksumArg,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Run a parameter sweep (grid, Latin hypercube or Sobol design); rerun to resume.
    Sweep {
        /// Sweep file (TOML).
        sweep: PathBuf,
        /// Output directory (default: output/<sweep name>/, or output/<name>-shard-K-of-N/).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// Worker threads (default: one per core). Results do not depend on it.
        #[arg(long, short = 'j')]
        threads: Option<usize>,
        /// Replications per point (overrides the sweep file's `replications`).
        #[arg(long, short = 'n')]
        replications: Option<u32>,
        /// Master seed (overrides the sweep file's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Run only shard K of N (points whose index is K-1 modulo N), for a cluster.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Simulate every point's burn-in, even where points could share it (warm starts): the
        /// same results, slower; for checking and timing.
        #[arg(long)]
        cold: bool,
        #[command(flatten)]
        force: ForceArg,
        /// Skip the charts.
        #[arg(long)]
        no_charts: bool,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Combine the shard directories of a sweep into the results of the whole sweep.
    Merge {
        /// Shard directories (every shard exactly once).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        #[command(flatten)]
        checksums: ChecksumArg,
        /// Output directory (default: output/<sweep name>/).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        #[command(flatten)]
        force: ForceArg,
        /// Skip the charts.
        #[arg(long)]
        no_charts: bool,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Regenerate published figures (data, SVG, PNG) with their recorded seeds; --check compares
    /// the data with the recorded checksums.
    Reproduce {
        /// Figures file.
        #[arg(default_value = "figures/figures.toml")]
        figures: PathBuf,
        /// Only this figure (repeatable).
        #[arg(long = "figure")]
        only: Vec<String>,
        /// Output directory (default: the figures file's directory).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// Compare each figure's data with the recorded checksums; exit 1 naming any mismatch.
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Write explorer.html: the scenario in your browser, with sliders for its levers, rerun
    /// live by the model compiled to WebAssembly. Nothing to install; works offline.
    Explore {
        /// Scenario file (TOML); the embedded baseline when omitted.
        scenario: Option<PathBuf>,
        /// The page to write (default: output/<scenario name>_explorer.html).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        /// Open the page in the system's browser once written (xdg-open, open or start).
        #[arg(long)]
        open: bool,
        #[command(flatten)]
        force: ForceArg,
    },
    /// Validate a scenario (printing it with every default filled in), a sweep or a targets file.
    Check {
        /// Scenario, sweep or targets file (TOML).
        scenario: PathBuf,
    },
    /// List every scenario parameter with its type, default, unit, range and meaning.
    Params {
        /// Print the Markdown reference (docs/PARAMETERS.md, or docs/SWEEP_PARAMETERS.md with --sweep).
        #[arg(long, conflicts_with = "json_schema")]
        markdown: bool,
        /// Print the JSON Schema of the file format, for editors (schemas/*.schema.json).
        #[arg(long)]
        json_schema: bool,
        /// Describe sweep files instead of scenario files.
        #[arg(long, conflicts_with = "targets")]
        sweep: bool,
        /// Describe targets files (calibration) instead of scenario files.
        #[arg(long)]
        targets: bool,
    },
}

/// `--force`, with one meaning for every command that writes a result.
#[derive(clap::Args, Clone, Copy)]
struct ForceArg {
    /// Write the result even where coprosim would otherwise refuse: over a result of another
    /// kind or of a different sweep or calibration (whose finished or resumable work is then
    /// replaced), or into a directory holding files coprosim did not write. Files coprosim did
    /// not write are kept, with or without --force.
    #[arg(long = "force")]
    on: bool,
}

/// `--ignore-checksums`, for the commands that read results.
#[derive(clap::Args, Clone, Copy)]
struct ChecksumArg {
    /// Read the results even if a data file differs from the SHA-256 its manifest.json
    /// records (by default such a result is refused, naming the file).
    #[arg(long = "ignore-checksums")]
    ignore: bool,
}

impl ChecksumArg {
    /// Verify the data files of each result directory unless told not to.
    fn verify<'a>(self, dirs: impl IntoIterator<Item = &'a PathBuf>) -> Result<(), Failure> {
        if self.ignore {
            return Ok(());
        }
        dirs.into_iter().try_for_each(|d| output::verify_checksums(d).map_err(output_failure))
    }
}

/// Chart size flags.
#[derive(clap::Args, Clone, Copy)]
struct SizeArgs {
    /// Chart width in pixels (PNG) and SVG units.
    #[arg(long, default_value_t = 1600, value_parser = clap::value_parser!(u32).range(400..=10000))]
    width: u32,
    /// Chart height in pixels.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(300..=10000))]
    height: u32,
}

impl SizeArgs {
    fn size(self) -> ChartSize {
        ChartSize { width: self.width, height: self.height }
    }
}

/// A failure and the exit code it maps to.
enum Failure {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    // SIGINT/SIGTERM: stop at the next check (every tick, replication, point or chart), keep
    // what is complete, commit nothing new. A second signal quits at once, first removing the
    // working folders. Both wait for a commit in progress (milliseconds) so that a result is
    // either wholly in place or not at all.
    let _ = ctrlc::set_handler(|| {
        if engine::stop_requested() {
            output::commit::abandon_all();
            output::writer::release_all();
            std::process::exit(130);
        }
        let _gate = output::commit::gate();
        engine::request_stop();
        eprintln!("\nstopping: saving what is complete (press Ctrl-C again to quit at once)");
    });
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    let quiet = cli.quiet;
    let result = match cli.command {
        Command::Run {
            scenario,
            replications,
            seed,
            threads,
            out,
            force,
            no_charts,
            posterior,
            agents,
            events,
            detail_replications,
            parquet,
            save_state,
            from_state,
            size,
        } => {
            let charts = (!no_charts).then(|| size.size());
            let detail = Detail { years: agents, events, replications: detail_replications, parquet };
            let opts = RunOptions {
                replications,
                seed,
                threads,
                out,
                force: force.on,
                quiet,
                charts,
                posterior,
                detail,
                save_state,
                from_state,
            };
            run(scenario.as_deref(), opts)
        }
        Command::Calibrate { targets, out, threads, force, no_charts, size } => {
            calibrate(&targets, out, threads, force.on, quiet, (!no_charts).then(|| size.size()))
        }
        Command::Plot { dir, checksums, size } => checksums.verify([&dir]).and_then(|()| plot(&dir, size.size())),
        Command::Compare { dirs, metric, coalition, group, out, checksums, size } => {
            checksums.verify(&dirs).and_then(|()| compare(&dirs, &metric, &coalition, &group, &out, size.size()))
        }
        Command::Check { scenario } => check(&scenario),
        Command::Explore { scenario, out, open, force } => explore(scenario.as_deref(), out, open, force.on),
        Command::Reproduce { figures, only, out, check, size } => {
            reproduce(&figures, &only, out, check, quiet, size.size())
        }
        Command::Sweep { sweep, out, threads, replications, seed, shard, cold, force, no_charts, size } => {
            let charts = (!no_charts).then(|| size.size());
            let opts = SweepFlags { out, threads, replications, seed, shard, cold, force: force.on, quiet, charts };
            run_sweep(&sweep, opts)
        }
        Command::Merge { dirs, out, force, no_charts, checksums, size } => {
            checksums.verify(&dirs).and_then(|()| merge(&dirs, out, force.on, (!no_charts).then(|| size.size())))
        }
        Command::Params { markdown, json_schema, sweep, targets } => {
            let (specs, kind) = if sweep {
                (Sweep::parameter_specs(), FileKind::Sweep)
            } else if targets {
                (Targets::parameter_specs(), FileKind::Targets)
            } else {
                (Scenario::parameter_specs(), FileKind::Scenario)
            };
            if json_schema {
                println!("{}", schema_json(&specs, kind));
                return ExitCode::SUCCESS;
            }
            print!("{}", if markdown { params_markdown(&specs, kind) } else { params_table(&specs) });
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => {
            for line in msg.lines() {
                eprintln!("error: {line}");
            }
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Interrupted(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(130)
        }
    }
}

/// `coprosim explore`: write the explorer page for a scenario.
fn explore(path: Option<&Path>, out: Option<PathBuf>, open: bool, force: bool) -> Result<(), Failure> {
    let (scenario, text, file) = match path {
        Some(p) => {
            let (scenario, text) = coprosim::input::scenario_and_text(p)?;
            let name = p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
            (scenario, text, name)
        }
        None => (Scenario::baseline(), BASELINE.to_string(), "baseline.toml".to_string()),
    };
    let page = output::explorer::page(&text, &file).map_err(|why| Failure::Runtime(why.to_string()))?;
    let out = out.unwrap_or_else(|| {
        let dir = default_out(&scenario.name);
        dir.with_file_name(format!("{}_explorer.html", dir.file_name().unwrap_or_default().to_string_lossy()))
    });
    // Never replace a file this command did not write.
    if let Ok(existing) = std::fs::read(&out)
        && !force
        && !String::from_utf8_lossy(&existing).contains(output::explorer::GENERATOR)
    {
        return Err(Failure::Input(format!(
            "{}: exists and was not written by `coprosim explore`; choose another --out or pass --force to replace it",
            out.display()
        )));
    }
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Failure::Runtime(format!("{}: {e}", dir.display())))?;
    let name = out.file_name().ok_or_else(|| Failure::Input(format!("{}: not a file name", out.display())))?;
    output::write_atomic(&dir, &name.to_string_lossy(), page.as_bytes())
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    say!("wrote {} ({} KiB): open it in a browser", out.display(), page.len() / 1024);
    if open && let Err(why) = open_in_browser(&dir.join(name)) {
        eprintln!("note: could not open a browser ({why}); open {} yourself", out.display());
    }
    Ok(())
}

/// Hand a file to the system's browser, without waiting for it.
fn open_in_browser(path: &Path) -> Result<(), String> {
    let path = path.canonicalize().map_err(|e| e.to_string())?;
    let (program, args): (&str, &[&str]) = if cfg!(target_os = "macos") {
        ("open", &[])
    } else if cfg!(windows) {
        ("cmd", &["/C", "start", ""])
    } else {
        ("xdg-open", &[])
    };
    std::process::Command::new(program)
        .args(args)
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("{program}: {e}"))
}

fn load(path: Option<&Path>) -> Result<(Scenario, String, String), Failure> {
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
fn default_out(name: &str) -> PathBuf {
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

/// The size guard: refuse, with the key to change, a run that would not fit in memory.
fn fits(scenario: &Scenario, file: &str, threads: usize, replications: u32) -> Result<(), Failure> {
    fits_with_detail(scenario, file, threads, replications, None)
}

/// [`fits`], counting the agent snapshots `detail` asks for.
fn fits_with_detail(
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

fn check(path: &Path) -> Result<(), Failure> {
    let file = path.display().to_string();
    match FileKind::of(path) {
        FileKind::Targets => {
            let t = Targets::load(path)?;
            tell!(
                "{file}: valid targets file \"{}\": {} statistics ({} fitted) and {} parameters of \"{}\" ({}); at most {} simulations",
                t.file.name,
                t.statistics.len(),
                t.fitted().len(),
                t.priors.len(),
                t.base.name,
                t.base_origin,
                t.file.abc.budget
            );
            return Ok(());
        }
        FileKind::Sweep => {
            let s = Sweep::load(path)?;
            let threads = rayon::current_num_threads();
            let mib = s.memory_estimate(threads) as f64 / (1u64 << 20) as f64;
            tell!(
                "{file}: valid sweep \"{}\": {} points x {} replications of \"{}\" (about {mib:.0} MiB of memory on {threads} threads)",
                s.file.name,
                s.design_points().unwrap_or(u64::MAX),
                s.file.replications,
                s.base.name
            );
            return Ok(());
        }
        FileKind::Scenario => {}
    }
    let (scenario, file, _) = load(Some(path))?;
    let threads = rayon::current_num_threads();
    // What `run` would refuse, `check` refuses too.
    fits(&scenario, &file, threads, scenario.simulation.replications)?;
    if !quiet() {
        print!("{}", scenario.to_toml());
    }
    let mib = scenario.memory_estimate(threads, scenario.simulation.replications) as f64 / (1u64 << 20) as f64;
    let burn_in = match scenario.burn_in_ticks() {
        0 => String::new(),
        b => format!(" after a burn-in of {b}"),
    };
    tell!(
        "{file}: valid scenario \"{}\" ({} ticks recorded{burn_in}, {} replications; a run needs about {mib:.0} MiB of memory on {threads} threads)",
        scenario.name,
        scenario.ticks(),
        scenario.simulation.replications
    );
    Ok(())
}

/// Map an output error to its exit code: unusable input directories are bad input.
fn output_failure(e: OutputError) -> Failure {
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
fn writing_failure(dir: &Path) -> impl Fn(OutputError) -> Failure + '_ {
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
fn writer_lock(dir: &Path) -> Result<output::writer::WriterLock, Failure> {
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
        tell!("note: removed the working folders of killed coprosim runs: {}", names.join(", "));
    }
    Ok(lock)
}

/// The scenario name of the run result in `dir`, if it holds one.
fn earlier_scenario(dir: &Path) -> Option<String> {
    let bytes = std::fs::read(dir.join(output::MANIFEST)).ok()?;
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    (manifest.get("kind")?.as_str()? == "run").then_some(())?;
    Some(manifest.get("scenario")?.as_str()?.to_string())
}

/// Tell the user which of their files a commit left in place.
fn report_kept(done: &output::commit::Committed) {
    if let Some(note) = done.note() {
        eprintln!("note: {note}");
    }
}

fn plot(dir: &Path, size: ChartSize) -> Result<(), Failure> {
    // plot rewrites charts and the manifest: not while another process commits there.
    let _writer = if dir.is_dir() { Some(writer_lock(dir)?) } else { None };
    let written = match output::commit::inspect(dir) {
        Ok(output::commit::Holding::Result { kind: Kind::Calibration, .. }) => output::calibration::redraw(dir, size),
        Ok(output::commit::Holding::Result { kind: Kind::Sweep, .. }) => output::sweep::redraw(dir, size),
        _ => output::write_charts(dir, size),
    }
    .map_err(output_failure)?;
    say!("wrote {} files in {}", written.len(), dir.display());
    Ok(())
}

fn compare(
    dirs: &[PathBuf],
    metric: &str,
    coalition: &str,
    group: &str,
    out: &Path,
    size: ChartSize,
) -> Result<(), Failure> {
    let _writer = writer_lock(out)?;
    let (written, notes) =
        output::write_comparison(dirs, metric, coalition, group, out, size).map_err(output_failure)?;
    for note in notes {
        eprintln!("note: {note}");
    }
    for p in written {
        say!("wrote {}", p.display());
    }
    Ok(())
}

/// The flags of `coprosim run`.
struct RunOptions {
    replications: Option<u32>,
    seed: Option<u64>,
    threads: Option<usize>,
    out: Option<PathBuf>,
    force: bool,
    quiet: bool,
    charts: Option<ChartSize>,
    posterior: Option<PathBuf>,
    detail: Detail,
    save_state: bool,
    from_state: Option<PathBuf>,
}

/// What `--agents`, `--events`, `--detail-replications` and `--parquet` ask for.
struct Detail {
    years: Vec<f64>,
    events: bool,
    replications: u32,
    parquet: bool,
}

impl Detail {
    /// The request for the engine, its years checked against the scenario's recorded period.
    fn request(&self, scenario: &Scenario) -> Result<Option<DetailRequest>, Failure> {
        if self.years.is_empty() && !self.events {
            if self.parquet {
                return Err(Failure::Input(
                    "--parquet: found no detail table to write, expected --agents YEARS or --events".into(),
                ));
            }
            return Ok(None);
        }
        if self.replications == 0 {
            return Err(Failure::Input("--detail-replications: found 0, expected at least 1".into()));
        }
        let cat = coprosim::observe::Catalogue::new(scenario);
        let snapshot_ticks = snapshot_ticks(&cat, &self.years).map_err(|e| Failure::Input(format!("--agents: {e}")))?;
        Ok(Some(DetailRequest { snapshot_ticks, events: self.events, replications: self.replications }))
    }
}

fn run(path: Option<&Path>, opts: RunOptions) -> Result<(), Failure> {
    let RunOptions {
        replications,
        seed,
        threads,
        out,
        force,
        quiet,
        charts,
        posterior,
        detail,
        save_state,
        from_state,
    } = opts;
    let (mut scenario, file, scenario_sha256) = load(path)?;
    if let Some(r) = replications {
        if r == 0 {
            return Err(Failure::Input("--replications: found 0, expected at least 1".into()));
        }
        scenario.simulation.replications = r;
    }
    if let Some(s) = seed {
        scenario.simulation.seed = s;
    }
    if threads == Some(0) {
        return Err(Failure::Input("--threads: found 0, expected at least 1".into()));
    }
    let used_threads = threads.unwrap_or_else(rayon::current_num_threads);
    let warm_from = match &from_state {
        Some(d) => Some(warm_start(d, path, &mut scenario, seed)?),
        None => None,
    };
    let request = detail.request(&scenario)?;
    fits_with_detail(&scenario, &file, used_threads, scenario.simulation.replications, request.as_ref())?;
    let dir = out.unwrap_or_else(|| default_out(&scenario.name));
    let posterior = posterior.map(|p| posterior_for(&p, &scenario)).transpose()?;
    let _writer = writer_lock(&dir)?;
    let replaced = earlier_scenario(&dir).filter(|earlier| *earlier != scenario.name);
    let staging = Staging::new(&dir, Kind::Run, force).map_err(output_failure)?;

    let mut cfg = RunConfig::from_scenario(&scenario);
    cfg.threads = threads.unwrap_or(0);
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(cfg.replications as u64) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} replications, {elapsed} (eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(scenario.name.clone());
    let start = Instant::now();
    let vary = |r: u32| {
        posterior.as_ref().map(|p| {
            let particle = calibrate::posterior_draw(&p.weights, cfg.seed, r);
            apply(&scenario, &p.keys, &p.particles[particle]).expect("every particle was checked against the scenario")
        })
    };
    let state_writer =
        save_state.then(|| output::warm::StateWriter::new(staging.dir())).transpose().map_err(writing_failure(&dir))?;
    let save = |r: u32, bytes: Vec<u8>| state_writer.as_ref().expect("saving states").save(r, &bytes);
    let (seed_used, burn_in) = (scenario.simulation.seed, scenario.burn_in_ticks());
    let from = |r: u32| warm_from.as_ref().expect("starting from states").0.load(r, seed_used, burn_in);
    let warm = engine::Warm {
        from: warm_from.as_ref().map(|_| &from as &engine::LoadState<'_>),
        save: state_writer.as_ref().map(|_| &save as &engine::SaveState<'_>),
    };
    let results =
        engine::run_warm(&scenario, cfg, &vary, request.as_ref(), warm, &|| bar.inc(1)).map_err(|e| match e {
            engine::EngineError::Interrupted { .. } => {
                Failure::Interrupted(format!("{e}; {} is unchanged", dir.display()))
            }
            engine::EngineError::Warm { .. } if warm_from.is_some() => Failure::Input(e.to_string()),
            other => Failure::Runtime(other.to_string()),
        })?;
    let wall = start.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let source = posterior.as_ref().map(|p| output::PosteriorSource {
        dir: p.dir.display().to_string(),
        calibration: p.name.clone(),
        posterior_sha256: p.sha256.clone(),
        parameters: p.keys.clone(),
    });
    let mut manifest = Manifest::for_run(&scenario, file, scenario_sha256, &cfg, used_threads, wall, source);
    if let Some(w) = state_writer {
        manifest.files.extend(w.files());
    }
    if let Some((states, plan)) = &warm_from {
        manifest.from_state = Some(output::WarmSource {
            dir: states.dir.display().to_string(),
            manifest_sha256: states.manifest_sha256.clone(),
            burn_in_identity: states.identity.clone(),
            applied_at_burn_in_end: plan.applied.iter().map(|(k, old, new)| format!("{k}: {old} -> {new}")).collect(),
            later_policy: plan.later.clone(),
        });
    }
    let work = staging.dir().to_path_buf();
    output::write_run(&work, &results, &scenario.to_toml(), manifest).map_err(writing_failure(&dir))?;
    if let Some(r) = &request {
        output::detail::write_detail(&work, &results, !r.snapshot_ticks.is_empty(), r.events, detail.parquet)
            .map_err(writing_failure(&dir))?;
    }
    if let Some(p) = &posterior {
        let draws: Vec<usize> =
            (0..cfg.replications).map(|r| calibrate::posterior_draw(&p.weights, cfg.seed, r)).collect();
        output::write_posterior_draws(&work, p, &draws).map_err(writing_failure(&dir))?;
    }
    if let Some(size) = charts {
        output::write_charts(&work, size).map_err(writing_failure(&dir))?;
    }
    report_kept(&staging.commit().map_err(writing_failure(&dir))?);
    if let Some(earlier) = replaced {
        tell!("note: {} held the run of scenario \"{earlier}\"; it now holds \"{}\"", dir.display(), scenario.name);
    }
    // Warnings go to standard error even with -q: they say what the numbers cannot.
    for w in &results.diagnostics {
        eprintln!("warning: {}", w.message);
    }
    if !quiet {
        println!(
            "{}: {} replications x {} ticks x {} agents in {wall:.1} s",
            scenario.name,
            cfg.replications,
            scenario.ticks(),
            scenario.population.size
        );
        for row in results.summary.iter().filter(|r| r.key.group.is_none() && r.key.coalition.is_none()) {
            let (lo, hi) = row.stats.ci95(coprosim::observe::summary_domain(row.key.metric, scenario.coalitions.len()));
            println!(
                "  {:<24} {:>10.3}  (95% CI {:.3} to {:.3}; 5-95%: {:.3} to {:.3})",
                row.key.metric, row.stats.mean, lo, hi, row.stats.p05, row.stats.p95
            );
        }
        println!("wrote {}", dir.display());
    }
    Ok(())
}

/// The states in `dir` to start a run of `scenario` (read from `path`) from, and how it forks
/// from them; every reason it cannot, located in the scenario's text. Without `--seed` the
/// run takes the states' seed.
fn warm_start(
    dir: &Path,
    path: Option<&Path>,
    scenario: &mut Scenario,
    seed: Option<u64>,
) -> Result<(output::warm::SavedStates, engine::warm::ForkPlan), Failure> {
    let states = output::warm::SavedStates::read(dir).map_err(output_failure)?;
    let flag = format!("--from-state {}", dir.display());
    let saved_seed = states.scenario.simulation.seed;
    match seed {
        Some(s) if s != saved_seed => {
            return Err(Failure::Input(format!(
                "--seed: found {s}, expected {saved_seed}: the states in {} go on with the random streams of that seed",
                dir.display()
            )));
        }
        _ => scenario.simulation.seed = saved_seed,
    }
    let plan = engine::warm::plan_fork(&states.scenario, scenario).map_err(|problems| {
        let (text, file) = match path {
            Some(p) => (std::fs::read_to_string(p).unwrap_or_default(), p.display().to_string()),
            None => (BASELINE.to_string(), "(embedded baseline)".to_string()),
        };
        Failure::Input(format!(
            "{}\n{flag}: the states hold the burn-in of \"{}\"; the scenario differs in what it would have simulated (above)",
            coprosim::scenario::locate_problems(&text, &file, problems),
            states.scenario.name
        ))
    })?;
    let wanted = scenario.simulation.replications;
    if wanted > states.replications() {
        return Err(Failure::Input(format!(
            "{flag}: found {} saved states, expected at least the {wanted} replications asked for; pass -n {} or fewer",
            states.replications(),
            states.replications()
        )));
    }
    // Every state is checked as its replication starts; the first one now, before any work.
    states.load(0, scenario.simulation.seed, scenario.burn_in_ticks()).map_err(Failure::Input)?;
    if !plan.exact() {
        tell!(
            "note: from the end of the burn-in (year {}), as a policy change at that tick would: {}; a full run of the scenario would use them from founding",
            scenario.simulation.burn_in_years,
            plan.applied.iter().map(|(k, old, new)| format!("{k} {old} -> {new}")).collect::<Vec<_>>().join(", ")
        );
    }
    Ok((states, plan))
}

/// Read a calibration's posterior for a run of `scenario`, checking that every particle
/// makes a valid scenario of it.
fn posterior_for(dir: &Path, scenario: &Scenario) -> Result<output::calibration::Posterior, Failure> {
    let p = output::calibration::read_posterior(dir).map_err(output_failure)?;
    let flag = format!("--posterior {}", dir.display());
    for key in &p.keys {
        let generic = coprosim::scenario::sweep::generic_key(scenario, key)
            .map_err(|e| Failure::Input(format!("{flag}: parameter `{key}`: {e}")))?;
        if let Some(why) = coprosim::inference::targets::not_estimable(&generic) {
            return Err(Failure::Input(format!("{flag}: parameter `{key}` cannot vary between replications: {why}")));
        }
    }
    for (i, theta) in p.particles.iter().enumerate() {
        if let Err(e) = apply(scenario, &p.keys, theta) {
            return Err(Failure::Input(format!(
                "{flag}: particle {i} of the posterior makes no valid scenario of \"{}\": {e}",
                scenario.name
            )));
        }
    }
    Ok(p)
}

fn calibrate(
    path: &Path,
    out: Option<PathBuf>,
    threads: Option<usize>,
    force: bool,
    quiet: bool,
    charts: Option<ChartSize>,
) -> Result<(), Failure> {
    use coprosim::inference::abc::{Event, Stop};
    use output::calibration::{self as cal, CalibrationInfo};
    let targets = Targets::load(path)?;
    if threads == Some(0) {
        return Err(Failure::Input("--threads: found 0, expected at least 1".into()));
    }
    let used_threads = threads.unwrap_or_else(rayon::current_num_threads);
    fits(&targets.base, &path.display().to_string(), used_threads, used_threads as u32)?;
    let name = &targets.file.name;
    let dir = out.unwrap_or_else(|| default_out(name));
    let info = CalibrationInfo::new(&targets);
    let _writer = writer_lock(&dir)?;
    let (staging, done) = cal::working_place(&dir, &info, force).map_err(output_failure)?;
    let work = staging.dir().to_path_buf();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start worker threads: {e}")))?;
    let particles = targets.file.abc.particles as u64;
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(particles) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} particles, {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    if !done.is_empty() && !quiet {
        bar.println(format!("resuming: {} generations already complete and verified", done.len()));
    }
    let start = Instant::now();
    let mut saved: Result<(), OutputError> = Ok(());
    let mut next = done.len();
    let mut unfinished_simulations = 0u64;
    let mut report = |event: Event| match event {
        Event::Batch { generation, simulations, accepted } => {
            unfinished_simulations = simulations;
            bar.set_message(format!("{name}: generation {generation}, {simulations} simulations"));
            bar.set_position(accepted as u64);
        }
        Event::Generation(g) => {
            let n = next;
            next += 1;
            unfinished_simulations = 0;
            if saved.is_ok() {
                saved = cal::append_generation(&work, &info, n, g);
            }
            if !quiet {
                let tol = if g.tolerance.is_finite() { format!("{:.3}", g.tolerance) } else { "none (prior)".into() };
                bar.println(format!(
                    "generation {n}: tolerance {tol}, acceptance {:.3}, effective sample size {:.0}, {} simulations",
                    g.acceptance, g.ess, g.simulations
                ));
            }
            bar.set_position(0);
        }
    };
    let (generations, stop) =
        pool.install(|| calibrate::calibrate(&targets, done, &engine::stop_requested, &mut report));
    saved.map_err(writing_failure(&dir))?;
    bar.finish_and_clear();
    let kept = |what: &str| {
        format!(
            "interrupted {what}: {} generations are complete and saved in {}; rerun the same command to resume",
            generations.len(),
            work.display()
        )
    };
    if stop == Stop::Interrupted {
        return Err(Failure::Interrupted(kept("during the sampling")));
    }
    let Some(last) = generations.last() else {
        return Err(Failure::Runtime(format!(
            "no simulation of {name} gave every fitted statistic a value within the budget; check that the statistics are defined in the base scenario (a coalition that dissolves has no retention)"
        )));
    };
    let pbar =
        if quiet || targets.file.abc.predictive == 0 { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
    pbar.set_message(format!("{name}: {} posterior predictive simulations", targets.file.abc.predictive));
    pbar.enable_steady_tick(std::time::Duration::from_millis(200));
    let predictive = pool
        .install(|| calibrate::predictive(&targets, last, &engine::stop_requested))
        .ok_or_else(|| Failure::Interrupted(kept("during the posterior predictive simulations")))?;
    pbar.finish_and_clear();
    let finished = cal::Finished {
        info: &info,
        generations: &generations,
        stop,
        predictive: &predictive,
        discarded: unfinished_simulations,
        targets_file: path.display().to_string(),
        threads: used_threads,
        wall_time_seconds: start.elapsed().as_secs_f64(),
    };
    let unfinished = |e: OutputError| match e {
        OutputError::Interrupted { .. } => Failure::Interrupted(kept("while writing the results")),
        other => writing_failure(&dir)(other),
    };
    cal::write_calibration(&work, &finished, charts).map_err(unfinished)?;
    report_kept(&staging.commit().map_err(unfinished)?);
    if quiet {
        return Ok(());
    }
    let simulations: u64 = generations.iter().map(|g| g.simulations).sum();
    println!(
        "{name}: {} generations, {simulations} simulations in {:.1} s; stopped because {}",
        generations.len(),
        start.elapsed().as_secs_f64(),
        cal::stop_words(stop)
    );
    if unfinished_simulations > 0 {
        println!(
            "  (a generation the budget cut short was dropped after {unfinished_simulations} simulations: the posterior is generation {})",
            generations.len() - 1
        );
    }
    for (d, key) in targets.keys().iter().enumerate() {
        let m = calibrate::posterior_marginal(last, d);
        println!("  {key:<44} median {:>10.4}  (90% credible interval {:.4} to {:.4})", m.median, m.q05, m.q95);
    }
    for (s, st) in targets.statistics.iter().enumerate() {
        let (m, _) = cal::predictive_marginal(&predictive, s);
        println!(
            "  {:<44} observed {:>9.4}  predictive median {:.4} (5-95% {:.4} to {:.4}){}",
            st.label,
            st.value,
            m.median,
            m.q05,
            m.q95,
            if st.held_out { ", held out" } else { "" }
        );
    }
    println!("wrote {}", dir.display());
    Ok(())
}

fn sweep_failure(e: SweepError) -> Failure {
    match e {
        SweepError::Refused(_) => Failure::Input(e.to_string()),
        SweepError::Interrupted { .. } => Failure::Interrupted(e.to_string()),
        SweepError::Io { .. } | SweepError::Engine(_) => Failure::Runtime(e.to_string()),
    }
}

/// The flags of `coprosim sweep`.
struct SweepFlags {
    out: Option<PathBuf>,
    threads: Option<usize>,
    replications: Option<u32>,
    seed: Option<u64>,
    shard: Option<String>,
    cold: bool,
    force: bool,
    quiet: bool,
    charts: Option<ChartSize>,
}

fn run_sweep(path: &Path, flags: SweepFlags) -> Result<(), Failure> {
    let SweepFlags { out, threads, replications, seed, shard, cold, force, quiet, charts } = flags;
    let shard = shard.as_deref();
    let mut sweep = Sweep::load(path)?;
    if replications == Some(0) {
        return Err(Failure::Input("--replications: found 0, expected at least 1".into()));
    }
    // The flags stand in for the file's keys, so they enter the sweep's identity (a rerun
    // with other values is another sweep) and its recorded description.
    if let Some(n) = replications {
        sweep.file.replications = n;
    }
    if let Some(seed) = seed {
        sweep.file.seed = seed;
    }
    let shard = shard.map(sweep::parse_shard).transpose().map_err(|e| Failure::Input(format!("--shard: {e}")))?;
    if threads == Some(0) {
        return Err(Failure::Input("--threads: found 0, expected at least 1".into()));
    }
    let name = &sweep.file.name;
    let dir = out.unwrap_or_else(|| match shard {
        Some((k, n)) => default_out(&format!("{name}-shard-{k}-of-{n}")),
        None => default_out(name),
    });
    let used_threads = threads.unwrap_or_else(rayon::current_num_threads);
    if let Some(available) = coprosim::input::available_memory() {
        sweep
            .check_fits(used_threads, available)
            .map_err(|p| Failure::Input(format!("{}: {}: {}", path.display(), p.path, p.message)))?;
    }
    let plan = sweep::plan(&sweep);
    let info = SweepInfo::new(&sweep, &plan, shard);
    // Where the points are computed: in the output directory itself when it is new or holds
    // this sweep (so a rerun resumes there), otherwise in a resumable folder inside it until
    // the new sweep is complete and replaces the old result.
    let _writer = writer_lock(&dir)?;
    let beside = output::sweep::working_place(&dir, &info, force).map_err(output_failure)?;
    let work = beside.as_ref().map_or_else(|| dir.clone(), |st| st.dir().to_path_buf());
    let opts = SweepOptions { dir: work, threads: threads.unwrap_or(0), shard, share: !cold };
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(0) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} points, {elapsed} (eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(name.clone());
    let start = Instant::now();
    let on_start = |total: usize, done: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        if done > 0 && !quiet {
            bar.println(format!("resuming: {done} of {total} points already complete and verified"));
        }
    };
    let finished = sweep_dir::run(&sweep, &plan, &opts, &on_start, &|| bar.inc(1)).map_err(|e| match e {
        SweepError::Interrupted { .. } if beside.is_some() => {
            Failure::Interrupted(format!("{e}; {} still holds its earlier result", dir.display()))
        }
        other => sweep_failure(other),
    })?;
    bar.finish_and_clear();
    if finished.foreign_lines > 0 {
        eprintln!(
            "note: dropped {} progress lines of another sweep or seed from {}",
            finished.foreign_lines,
            opts.dir.display()
        );
    }
    let points = finished.points;
    let staging = match beside {
        Some(st) => st,
        None => Staging::new(&dir, Kind::Sweep, force).map_err(output_failure)?,
    };
    let charts = if shard.is_some() { None } else { charts };
    // Stopped while the final files were written: every point is saved, only they are missing.
    let unfinished = |e: OutputError| match e {
        OutputError::Interrupted { .. } => Failure::Interrupted(format!(
            "interrupted while writing the results: all {} points are complete and saved, and {} holds no new result files; rerun the same command to resume",
            points.len(),
            dir.display()
        )),
        other => writing_failure(&dir)(other),
    };
    let timing = Timing { threads: used_threads, wall_time_seconds: start.elapsed().as_secs_f64(), shards: Vec::new() };
    output::sweep::write_sweep(staging.dir(), &info, &points, charts, &timing).map_err(unfinished)?;
    report_kept(&staging.commit().map_err(unfinished)?);
    if quiet {
        return Ok(());
    }
    match shard {
        Some((k, n)) => {
            println!("shard {k}/{n} of {name}: {} points complete in {}", points.len(), dir.display());
            println!("when every shard is done: coprosim merge <shard dirs...> --out <dir>");
        }
        None => println!(
            "{name}: {} points x {} replications in {:.1} s; wrote {}",
            points.len(),
            sweep.file.replications,
            start.elapsed().as_secs_f64(),
            dir.display()
        ),
    }
    Ok(())
}

fn merge(dirs: &[PathBuf], out: Option<PathBuf>, force: bool, charts: Option<ChartSize>) -> Result<(), Failure> {
    let start = Instant::now();
    let (info, points) = sweep_dir::merge(dirs).map_err(sweep_failure)?;
    let dir = out.unwrap_or_else(|| default_out(&info.name));
    let _writer = writer_lock(&dir)?;
    let staging = output::sweep::stage_merged(&dir, &info, force).map_err(output_failure)?;
    let timing = Timing {
        threads: rayon::current_num_threads(),
        wall_time_seconds: start.elapsed().as_secs_f64(),
        shards: Timing::of_shards(dirs),
    };
    output::sweep::write_sweep(staging.dir(), &info, &points, charts, &timing).map_err(writing_failure(&dir))?;
    report_kept(&staging.commit().map_err(writing_failure(&dir))?);
    say!("merged {} shards ({} points) into {}", dirs.len(), points.len(), dir.display());
    Ok(())
}

fn reproduce(
    path: &Path,
    only: &[String],
    out: Option<PathBuf>,
    check: bool,
    quiet: bool,
    size: ChartSize,
) -> Result<(), Failure> {
    use coprosim::reproduce::{self as rep, Figures};
    let figs = Figures::load(path)?;
    for id in only {
        if !figs.file.figures.iter().any(|f| &f.id == id) {
            let ids: Vec<&str> = figs.file.figures.iter().map(|f| f.id.as_str()).collect();
            return Err(Failure::Input(format!("--figure: found \"{id}\", expected one of {}", ids.join(", "))));
        }
    }
    let out = out.unwrap_or_else(|| figs.dir.clone());
    std::fs::create_dir_all(&out).map_err(|e| Failure::Runtime(format!("{}: {e}", out.display())))?;
    let work = out.join(".reproduce-work");
    let selected: Vec<_> = figs.file.figures.iter().filter(|f| only.is_empty() || only.contains(&f.id)).collect();
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(selected.len() as u64) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} figures, {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let recorded = rep::read_checksums(&figs.dir);
    let mut sums = recorded.clone();
    let mut rows = Vec::new();
    let start = Instant::now();
    for f in &selected {
        if engine::stop_requested() {
            bar.finish_and_clear();
            return Err(Failure::Interrupted(format!(
                "interrupted after {} of {} figures; the figures written so far are complete",
                rows.len(),
                selected.len()
            )));
        }
        bar.set_message(f.id.clone());
        let t0 = Instant::now();
        let produced = rep::produce(&figs, f, &out, &work, size);
        let _ = std::fs::remove_dir_all(&work);
        let produced = produced.map_err(|e| match e {
            rep::ReproduceError::Engine(engine::EngineError::Interrupted { .. })
            | rep::ReproduceError::Sweep(SweepError::Interrupted { .. })
            | rep::ReproduceError::Output(OutputError::Interrupted { .. }) => {
                Failure::Interrupted(format!("interrupted during figure {}; earlier figures are complete", f.id))
            }
            other => Failure::Runtime(other.to_string()),
        })?;
        let status = match recorded.get(&f.id) {
            Some(s) if *s == produced.data_sha256 => "match",
            Some(_) => "MISMATCH",
            None => "no checksum recorded",
        };
        rows.push((f.id.clone(), status, t0.elapsed().as_secs_f64()));
        sums.insert(f.id.clone(), produced.data_sha256);
        bar.inc(1);
    }
    bar.finish_and_clear();
    if !check {
        rep::write_checksums(&figs.dir, &figs, &sums).map_err(|e| Failure::Runtime(e.to_string()))?;
    }
    // The table is the command's result (what --check was asked for), so -q keeps it.
    println!("{:<28} {:<22} {:>8}", "figure", "data vs checksum", "seconds");
    for (id, status, secs) in &rows {
        println!("{id:<28} {status:<22} {secs:>8.1}");
    }
    say!("{} figures in {:.1} s; written to {}", rows.len(), start.elapsed().as_secs_f64(), out.display());
    if check {
        let bad: Vec<&str> = rows.iter().filter(|r| r.1 != "match").map(|r| r.0.as_str()).collect();
        if !bad.is_empty() {
            return Err(Failure::Runtime(format!(
                "figure data differ from the recorded checksums: {}",
                bad.join(", ")
            )));
        }
        println!("all figure data match their recorded checksums");
    }
    Ok(())
}

fn range_text(p: &ParamSpec) -> String {
    p.range.map(|r| r.to_string()).unwrap_or_default()
}

fn params_table(specs: &[ParamSpec]) -> String {
    specs
        .iter()
        .map(|p| {
            let unit = if p.unit.is_empty() { String::new() } else { format!(" {}", p.unit) };
            format!("{} = {}{unit}  {}  {}\n    {}\n", p.key, p.default, p.ty, range_text(p), p.doc)
        })
        .collect()
}

/// The JSON Schema of an input file format, pretty-printed.
fn schema_json(specs: &[ParamSpec], kind: FileKind) -> String {
    use coprosim::scenario::json_schema::schema;
    let scenario = Scenario::parameter_specs();
    let value = match kind {
        FileKind::Scenario => schema(
            "coprosim scenario",
            "A coprosim scenario file (docs/PARAMETERS.md). Generated by `coprosim params --json-schema`.",
            specs,
            None,
        ),
        FileKind::Sweep => schema(
            "coprosim sweep",
            "A coprosim sweep file (docs/SWEEP_PARAMETERS.md). Generated by `coprosim params --json-schema --sweep`.",
            specs,
            Some(&scenario),
        ),
        FileKind::Targets => schema(
            "coprosim targets",
            "A coprosim calibration targets file (docs/TARGETS_PARAMETERS.md). Generated by `coprosim params --json-schema --targets`.",
            specs,
            Some(&scenario),
        ),
    };
    serde_json::to_string_pretty(&value).expect("a schema serialises")
}

fn params_markdown(specs: &[ParamSpec], kind: FileKind) -> String {
    let inline = " An inline `[scenario]` table takes the keys of a scenario file (docs/PARAMETERS.md).";
    let (title, source, extra, flag) = match kind {
        FileKind::Sweep => ("Sweep file parameters", "crates/core/src/scenario/sweep.rs", inline, " --sweep"),
        FileKind::Targets => ("Targets file parameters", "crates/core/src/inference/targets.rs", inline, " --targets"),
        FileKind::Scenario => ("Scenario parameters", "crates/core/src/scenario/schema.rs", "", ""),
    };
    let mut s = format!(
        "# {title}\n\nGenerated by `coprosim params --markdown{flag}` from the one definition of each parameter in `{source}`; a test keeps this file in step with the code. `[]` marks a table that may repeat (`[[...]]` in TOML). Ranges are inclusive unless the lower bound is written `(`.{extra}\n\n| key | type | default | unit | range | meaning |\n|---|---|---|---|---|---|\n"
    );
    for p in specs {
        s.push_str(&format!(
            "| `{}` | {} | `{}` | {} | {} | {} |\n",
            p.key,
            p.ty.replace('"', "`"),
            p.default,
            p.unit,
            range_text(p),
            p.doc
        ));
    }
    s
}
