//! `coprosim sweep` and `coprosim merge`: parameter sweeps, whole or in shards.

use coprosim::engine::sweep::Sweep;
use coprosim::engine::sweep::{self, SweepInfo};
use coprosim::input::Load;
use coprosim::output::charts::ChartSize;
use coprosim::output::commit::{Kind, Staging};
use coprosim::output::sweep::Timing;
use coprosim::output::sweep_dir::{self, SweepError, SweepOptions};
use coprosim::output::{self, OutputError};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Failure, default_out, output_failure, quiet, report_kept, writer_lock, writing_failure};

fn sweep_failure(e: SweepError) -> Failure {
    match e {
        SweepError::Refused(_) => Failure::Input(e.to_string()),
        SweepError::Interrupted { .. } => Failure::Interrupted(e.to_string()),
        SweepError::Io { .. } | SweepError::Engine(_) => Failure::Runtime(e.to_string()),
    }
}

/// The flags of `coprosim sweep`.
pub struct SweepFlags {
    pub out: Option<PathBuf>,
    pub threads: Option<usize>,
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    pub shard: Option<String>,
    pub cold: bool,
    pub force: bool,
    pub quiet: bool,
    pub charts: Option<ChartSize>,
}

pub fn run_sweep(path: &Path, flags: SweepFlags) -> Result<(), Failure> {
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
    let (pool_threads, used_threads) = super::threads(threads)?;
    let name = &sweep.file.name;
    let dir = out.unwrap_or_else(|| match shard {
        Some((k, n)) => default_out(&format!("{name}-shard-{k}-of-{n}")),
        None => default_out(name),
    });
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
    let opts = SweepOptions { dir: work, threads: pool_threads, shard, share: !cold };
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

pub fn merge(dirs: &[PathBuf], out: Option<PathBuf>, force: bool, charts: Option<ChartSize>) -> Result<(), Failure> {
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
