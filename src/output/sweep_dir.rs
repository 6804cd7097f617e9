//! A sweep's working directory: `sweep.json` says which sweep (and shard) it holds,
//! `progress.jsonl` collects its completed points one checksummed line at a time (see
//! [`coprosim_core::engine::sweep`]), so a run resumes where it stopped and shards merge.

use coprosim_core::engine::sweep::Sweep;
use coprosim_core::engine::sweep::{self, Plan, PointResult, Progress, SweepInfo, line_for, parse_progress};
use coprosim_core::{par, stop};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a sweep could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// File-system failure.
    #[error("{path}: {source}")]
    Io {
        /// File or directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The directory or shard set is not usable (bad input: exit 2).
    #[error("{0}")]
    Refused(String),
    /// Thread pool failure.
    #[error(transparent)]
    Engine(#[from] coprosim_core::par::PoolError),
    /// A stop was requested; completed points are saved.
    #[error("interrupted: {done} of {total} points are complete and saved in {dir}; rerun the same command to resume")]
    Interrupted {
        /// Points complete.
        done: usize,
        /// Points this run owns.
        total: usize,
        /// The sweep directory.
        dir: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Io { path: path.display().to_string(), source }
}

/// SplitMix64 finaliser: decorrelates nearby integers.
/// Read the verified point results of `info`'s sweep from a progress file (none if there is
/// no file); see [`parse_progress`].
pub fn read_progress(path: &Path, info: &SweepInfo) -> Progress {
    std::fs::read_to_string(path).map(|text| parse_progress(&text, info)).unwrap_or_default()
}

pub use super::names::{PROGRESS, SWEEP_JSON};

/// Options of a sweep run.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Working directory: the output directory itself, or a folder the caller chose to build
    /// the sweep in before it replaces an earlier result. Either it does not exist, is empty,
    /// or holds this sweep's own progress.
    pub dir: PathBuf,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// Run only shard (K, N).
    pub shard: Option<(usize, usize)>,
    /// Let points that can share their history simulate it once per replication (warm
    /// starts; the same results either way).
    pub share: bool,
}

/// What a sweep run did.
#[derive(Debug)]
pub struct SweepRun {
    /// Every point this directory owns, sorted by index.
    pub points: Vec<PointResult>,
    /// Progress lines of another sweep found in the working directory and dropped.
    pub foreign_lines: usize,
}

/// Prepare `dir` for this sweep and return the verified points already there.
fn resume(info: &SweepInfo, opts: &SweepOptions) -> Result<Progress, SweepError> {
    let dir = &opts.dir;
    let meta = dir.join(SWEEP_JSON);
    if meta.exists() {
        let old: Option<SweepInfo> = std::fs::read(&meta).ok().and_then(|b| serde_json::from_slice(&b).ok());
        if !old.as_ref().is_some_and(|o| o.identity == info.identity && o.shard == info.shard) {
            return Err(SweepError::Refused(format!(
                "{}: holds results of a different sweep or shard; choose another --out or pass --force to replace them",
                dir.display()
            )));
        }
    } else if dir.exists() && std::fs::read_dir(dir).map_err(io(dir))?.next().is_some() {
        return Err(SweepError::Refused(format!(
            "{}: the directory is not empty and holds no {SWEEP_JSON}, so it is not a coprosim sweep",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    super::write_atomic(dir, SWEEP_JSON, &serde_json::to_vec_pretty(info).expect("serialises"))
        .map_err(|e| SweepError::Refused(e.to_string()))?;
    let mut progress = read_progress(&dir.join(PROGRESS), info);
    progress.points.retain(|p| info.owns(p.index));
    progress.points.sort_by_key(|p| p.index);
    progress.points.dedup_by_key(|p| p.index);
    // Rewrite the log with only this sweep's verified lines, so appends never follow a torn line.
    let text: String = progress.points.iter().map(|p| line_for(info, p) + "\n").collect();
    super::write_atomic(dir, PROGRESS, text.as_bytes()).map_err(|e| SweepError::Refused(e.to_string()))?;
    Ok(progress)
}

/// Run (or resume) a sweep in `opts.dir`. `on_point` is called once per point completed in
/// this call.
pub fn run(
    s: &Sweep,
    plan: &Plan,
    opts: &SweepOptions,
    on_start: &dyn Fn(usize, usize),
    on_point: &(dyn Fn() + Sync),
) -> Result<SweepRun, SweepError> {
    let info = SweepInfo::new(s, plan, opts.shard);
    let Progress { points: mut done, foreign } = resume(&info, opts)?;
    let have: std::collections::HashSet<usize> = done.iter().map(|p| p.index).collect();
    let todo: Vec<usize> = (0..plan.points.len()).filter(|&i| info.owns(i) && !have.contains(&i)).collect();
    on_start(info.owned(), done.len());
    let outputs = s.outputs();
    let path = opts.dir.join(PROGRESS);
    let mut log = std::fs::OpenOptions::new().append(true).open(&path).map_err(io(&path))?;
    par::with_threads(opts.threads, || {
        // Chunks bound memory: only one chunk's results wait to be written.
        let chunk = (par::current_threads() * 4).max(8);
        for batch in todo.chunks(chunk) {
            let results = sweep::run_batch_sharing(s, &outputs, plan, batch, opts.share, on_point);
            // Completed points are saved even when a stop interrupted the batch.
            let text: String = results.iter().map(|p| line_for(&info, p) + "\n").collect();
            log.write_all(text.as_bytes()).map_err(io(&path))?;
            log.sync_data().map_err(io(&path))?;
            done.extend(results);
            if stop::requested() {
                return Err(SweepError::Interrupted {
                    done: done.len(),
                    total: info.owned(),
                    dir: opts.dir.display().to_string(),
                });
            }
        }
        Ok(())
    })??;
    done.sort_by_key(|p| p.index);
    Ok(SweepRun { points: done, foreign_lines: foreign })
}

/// Combine shard directories into the full set of point results, refusing missing,
/// duplicated or foreign shards.
pub fn merge(dirs: &[PathBuf]) -> Result<(SweepInfo, Vec<PointResult>), SweepError> {
    let mut infos: Vec<(PathBuf, SweepInfo)> = Vec::new();
    for d in dirs {
        let meta = d.join(SWEEP_JSON);
        let info: SweepInfo =
            std::fs::read(&meta).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(|| {
                SweepError::Refused(format!(
                    "{}: not a coprosim sweep directory (no readable {SWEEP_JSON})",
                    d.display()
                ))
            })?;
        infos.push((d.clone(), info));
    }
    let (first_dir, first) =
        infos.first().cloned().ok_or_else(|| SweepError::Refused("no shard directories given".into()))?;
    let Some((_, n)) = first.shard else {
        return Err(SweepError::Refused(format!("{}: not a shard (it was run without --shard)", first_dir.display())));
    };
    let mut seen = vec![None::<PathBuf>; n];
    for (d, info) in &infos {
        if info.identity != first.identity {
            return Err(SweepError::Refused(format!(
                "{}: comes from a different sweep than {} (identity {} vs {})",
                d.display(),
                first_dir.display(),
                &info.identity[..12],
                &first.identity[..12]
            )));
        }
        let Some((k, m)) = info.shard else {
            return Err(SweepError::Refused(format!("{}: not a shard (it was run without --shard)", d.display())));
        };
        if m != n {
            return Err(SweepError::Refused(format!(
                "{}: is shard {k}/{m}, but {} is of {n} shards",
                d.display(),
                first_dir.display()
            )));
        }
        if let Some(prev) = &seen[k - 1] {
            return Err(SweepError::Refused(format!(
                "shard {k}/{n} given twice: {} and {}",
                prev.display(),
                d.display()
            )));
        }
        seen[k - 1] = Some(d.clone());
    }
    let missing: Vec<String> =
        seen.iter().enumerate().filter(|(_, s)| s.is_none()).map(|(k, _)| format!("{}/{n}", k + 1)).collect();
    if !missing.is_empty() {
        return Err(SweepError::Refused(format!("missing shards: {}", missing.join(", "))));
    }
    let mut all = Vec::with_capacity(first.points);
    for (d, info) in &infos {
        let progress = read_progress(&d.join(PROGRESS), info);
        if progress.foreign > 0 {
            return Err(SweepError::Refused(format!(
                "{}: {} has {} lines from another sweep or seed; a shard directory holds only its own sweep's points",
                d.display(),
                PROGRESS,
                progress.foreign
            )));
        }
        let points: Vec<PointResult> = progress.points.into_iter().filter(|p| info.owns(p.index)).collect();
        let mut idx: Vec<usize> = points.iter().map(|p| p.index).collect();
        idx.sort_unstable();
        idx.dedup();
        if idx.len() != info.owned() {
            return Err(SweepError::Refused(format!(
                "{}: shard {}/{n} is incomplete ({} of {} points); rerun its command to finish it",
                d.display(),
                info.shard.unwrap().0,
                idx.len(),
                info.owned()
            )));
        }
        all.extend(points);
    }
    all.sort_by_key(|p| p.index);
    all.dedup_by_key(|p| p.index);
    let mut info = first;
    info.shard = None;
    Ok((info, all))
}
