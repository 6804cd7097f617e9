//! The `coprosim` command line: a thin layer over the library.
//!
//! Exit codes: 0 success, 1 runtime failure, 2 bad input or usage.

use clap::{Parser, Subcommand};
use commands::Failure;
use coprosim::engine;
use coprosim::engine::sweep::Sweep;
use coprosim::inference::targets::Targets;
use coprosim::input::FileKind;
use coprosim::output::{self, charts::ChartSize};
use coprosim::scenario::Scenario;
use std::path::PathBuf;
use std::process::ExitCode;

mod commands;

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
        /// Also write roster.csv: the first replication's membership spells in one coalition as
        /// a programme's roster (person,start,end,group), its records beginning on DATE
        /// (YYYY-MM-DD) at the end of the burn-in, to try `coprosim targets` on data whose
        /// generating parameters are known. Records events (as --events).
        #[arg(long, value_name = "DATE")]
        roster: Option<String>,
        /// The coalition --roster writes the roster of (needed when the scenario has several).
        #[arg(long, value_name = "NAME", requires = "roster")]
        roster_coalition: Option<String>,
        /// Also save each replication's state at the end of its burn-in in the result's warm/
        /// folder, to start policies from with --from-state (with --posterior, each state is that
        /// of its replication's draw).
        #[arg(long)]
        save_state: bool,
        /// Start each replication from the state a run with --save-state saved at the end of its
        /// burn-in (that run's result directory) instead of simulating the burn-in again. This
        /// scenario's later policy changes and shocks act as in a full run; its settings that can
        /// change during a run and differ from the saved scenario's take effect from the end of
        /// the burn-in; anything that would have changed the burn-in is refused. With --posterior,
        /// the states must come from a run drawn from the same posterior with the same seed.
        #[arg(long, value_name = "DIR", conflicts_with = "save_state")]
        from_state: Option<PathBuf>,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Make a programme's funding history (a CSV file, one row per year and stream:
    /// year,stream,amount[,source]) its scenario's funding schedule: grant awards, the
    /// contract and earned income year by year, written as a scenario file.
    Funding {
        /// The funding history (CSV).
        history: PathBuf,
        /// The scenario that models the programme.
        #[arg(long, short = 's')]
        scenario: PathBuf,
        /// The scenario file to write.
        #[arg(long, short = 'o', default_value = "funded.toml")]
        out: PathBuf,
        /// The scenario's coalition the history is of (needed when it has several).
        #[arg(long)]
        coalition: Option<String>,
        /// The calendar year that begins at the end of the scenario's burn-in, its first
        /// recorded year (default: the history's first year).
        #[arg(long, value_name = "YEAR")]
        records_begin: Option<i32>,
        /// Probability that each grant still paid in the history's last year is renewed at the
        /// end of its term (the future is not in the history).
        #[arg(long, default_value_t = 0.5)]
        renewal: f64,
        /// Replace the scenario file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Derive a targets file for `calibrate` from a programme's roster (a CSV or Parquet file,
    /// one row per membership spell: person,start[,end,group,area,hours_per_week]): survival,
    /// retention, members over time, joins a year, group shares, members by area and hours
    /// concentration, each with its standard error from a bootstrap over people, and wide
    /// priors for what an analyst usually cannot know.
    Targets {
        /// The roster: CSV, or Parquet for a name ending in `.parquet`.
        roster: PathBuf,
        /// The scenario that models the programme (its groups and areas name the roster's).
        #[arg(long, short = 's')]
        scenario: PathBuf,
        /// The targets file to write.
        #[arg(long, short = 'o', default_value = "targets.toml")]
        out: PathBuf,
        /// The scenario's coalition the roster is of (needed when it has several).
        #[arg(long)]
        coalition: Option<String>,
        /// Durations (weeks) at which to read the survival of spells, comma-separated.
        #[arg(long, value_name = "WEEKS", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..))]
        survival_weeks: Vec<u32>,
        /// Also read the survival curve every this many weeks, held out (compared with the fit, not fitted); 0 for none.
        #[arg(long, value_name = "WEEKS", default_value_t = 13)]
        curve_every: u32,
        /// Bootstrap resamples for the standard errors (at least 2).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(2..))]
        resamples: u32,
        /// Seed of the bootstrap, and of the calibration the file describes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// First day of the window the roster speaks for (default: its first start), as the roster gives time.
        #[arg(long)]
        from: Option<String>,
        /// Last day of the window (default: the roster's latest date).
        #[arg(long)]
        until: Option<String>,
        /// Replace the targets file if it exists.
        #[arg(long)]
        force: bool,
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
        /// Take each generation's attempts from blocks kept in DIR (computed by --block, on a
        /// cluster) instead of simulating them; at the first attempt no block holds, save the
        /// complete generations and print `next generation=G attempt=A` (exit 0). The result is
        /// the same bytes as a calibration on one machine (scripts/slurm/calibrate.sh).
        #[arg(long, value_name = "DIR")]
        blocks: Option<PathBuf>,
        /// Only compute attempts FIRST..FIRST+COUNT of generation G into --blocks (one array
        /// task), from the generations saved in --out, which it does not change. FIRST and COUNT
        /// are multiples of 64.
        #[arg(long, value_name = "G:FIRST:COUNT", requires = "blocks")]
        block: Option<String>,
        /// Instead of fitting the observations, check the fit itself (simulation-based
        /// calibration): N calibrations of synthetic data drawn from the prior, writing each
        /// truth's rank among its posterior's draws and how often the 50% and 90% credible
        /// intervals cover it (default --out: output/<name>_coverage/).
        #[arg(long, value_name = "N", conflicts_with = "blocks")]
        check_coverage: Option<u64>,
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
        #[arg(long, conflicts_with = "roster")]
        targets: bool,
        /// Print the JSON Schema of a roster's row (`coprosim targets`), with --json-schema.
        #[arg(long, requires = "json_schema", conflicts_with = "sweep")]
        roster: bool,
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
        dirs.into_iter().try_for_each(|d| output::verify_checksums(d).map_err(commands::output_failure))
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
    // The default thread pools read RAYON_NUM_THREADS: held to the limit --threads is.
    if let Err(why) = coprosim::input::worker_threads(None, "--threads") {
        eprintln!("error: {why}");
        return ExitCode::from(2);
    }
    commands::QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
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
            roster,
            roster_coalition,
            save_state,
            from_state,
            size,
        } => {
            let charts = (!no_charts).then(|| size.size());
            let detail = commands::run::Detail {
                years: agents,
                events,
                replications: detail_replications,
                parquet,
                roster: roster.map(|date| (date, roster_coalition)),
            };
            let opts = commands::run::RunOptions {
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
            commands::run::run(scenario.as_deref(), opts)
        }
        Command::Funding { history, scenario, out, coalition, records_begin, renewal, force } => {
            let flags = commands::funding::FundingFlags { scenario, out, coalition, records_begin, renewal, force };
            commands::funding::funding(&history, flags)
        }
        Command::Targets {
            roster,
            scenario,
            out,
            coalition,
            survival_weeks,
            curve_every,
            resamples,
            seed,
            from,
            until,
            force,
        } => {
            let flags = commands::targets::TargetsFlags {
                scenario,
                out,
                coalition,
                survival_weeks,
                curve_every,
                resamples,
                seed,
                from,
                until,
                force,
            };
            commands::targets::targets(&roster, flags)
        }
        Command::Calibrate { targets, out, threads, force, no_charts, size, blocks, block, check_coverage } => {
            let distributed = blocks.map(|blocks| commands::calibrate::Distributed { blocks, block });
            commands::calibrate::calibrate(
                &targets,
                out,
                threads,
                force.on,
                quiet,
                (!no_charts).then(|| size.size()),
                distributed,
                check_coverage,
            )
        }
        Command::Plot { dir, checksums, size } => {
            checksums.verify([&dir]).and_then(|()| commands::plot::plot(&dir, size.size()))
        }
        Command::Compare { dirs, metric, coalition, group, out, checksums, size } => checksums
            .verify(&dirs)
            .and_then(|()| commands::compare::compare(&dirs, &metric, &coalition, &group, &out, size.size())),
        Command::Check { scenario } => commands::check::check(&scenario),
        Command::Explore { scenario, out, open, force } => {
            commands::explore::explore(scenario.as_deref(), out, open, force.on)
        }
        Command::Reproduce { figures, only, out, check, size } => {
            commands::reproduce::reproduce(&figures, &only, out, check, quiet, size.size())
        }
        Command::Sweep { sweep, out, threads, replications, seed, shard, cold, force, no_charts, size } => {
            let charts = (!no_charts).then(|| size.size());
            let opts = commands::sweep::SweepFlags {
                out,
                threads,
                replications,
                seed,
                shard,
                cold,
                force: force.on,
                quiet,
                charts,
            };
            commands::sweep::run_sweep(&sweep, opts)
        }
        Command::Merge { dirs, out, force, no_charts, checksums, size } => checksums
            .verify(&dirs)
            .and_then(|()| commands::sweep::merge(&dirs, out, force.on, (!no_charts).then(|| size.size()))),
        Command::Params { markdown, json_schema, sweep, targets, roster } => {
            if roster {
                let schema = coprosim::inference::roster::json_schema();
                println!("{}", serde_json::to_string_pretty(&schema).expect("a schema serialises"));
                return ExitCode::SUCCESS;
            }
            let (specs, kind) = if sweep {
                (Sweep::parameter_specs(), FileKind::Sweep)
            } else if targets {
                (Targets::parameter_specs(), FileKind::Targets)
            } else {
                (Scenario::parameter_specs(), FileKind::Scenario)
            };
            if json_schema {
                println!("{}", commands::params::schema_json(&specs, kind));
                return ExitCode::SUCCESS;
            }
            print!(
                "{}",
                if markdown {
                    commands::params::params_markdown(&specs, kind)
                } else {
                    commands::params::params_table(&specs)
                }
            );
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
