//! `coprosim calibrate`: ABC-SMC against a targets file.

use coprosim::engine;
use coprosim::inference::abc::{self, Plan};
use coprosim::inference::calibrate;
use coprosim::inference::targets::Targets;
use coprosim::input::Load;
use coprosim::output::calibration::CalibrationInfo;
use coprosim::output::charts::ChartSize;
use coprosim::output::{self, OutputError, attempt_blocks};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Failure, default_out, fits, output_failure, report_kept, writer_lock, writing_failure};

/// Where a calibration's attempts come from: simulated here, or blocks computed elsewhere.
pub struct Distributed {
    /// Where the blocks are kept (`--blocks`).
    pub blocks: PathBuf,
    /// Compute only this block and exit (`--block G:FIRST:COUNT`).
    pub block: Option<String>,
}

#[allow(clippy::too_many_arguments)] // the command's flags
pub fn calibrate(
    path: &Path,
    out: Option<PathBuf>,
    threads: Option<usize>,
    force: bool,
    quiet: bool,
    charts: Option<ChartSize>,
    distributed: Option<Distributed>,
    check_coverage: Option<u64>,
) -> Result<(), Failure> {
    use coprosim::inference::abc::{Batch, Event, Stop};
    use output::calibration::{self as cal, CalibrationInfo};
    let targets = Targets::load(path)?;
    let (pool_threads, used_threads) = super::threads(threads)?;
    fits(&targets.base, &path.display().to_string(), used_threads, used_threads as u32)?;
    let name = &targets.file.name;
    if let Some(trials) = check_coverage {
        let dir = out.unwrap_or_else(|| default_out(&format!("{name}_coverage")));
        return coverage(path, &targets, &dir, trials, (pool_threads, used_threads), force, quiet, charts);
    }
    let dir = out.unwrap_or_else(|| default_out(name));
    let info = CalibrationInfo::new(&targets);
    if let Some(Distributed { blocks, block: Some(spec) }) = &distributed {
        return compute_block(path, &targets, &info, &dir, blocks, spec, pool_threads, quiet);
    }
    let _writer = writer_lock(&dir)?;
    let (staging, saved, unfinished) = cal::working_place(&dir, &info, force).map_err(output_failure)?;
    let work = staging.dir().to_path_buf();
    let saved_len = saved.len();
    let resume = cal::resume_point(&info, saved, unfinished.as_deref(), &calibrate::config(&targets));
    if resume.generations.len() < saved_len {
        // Tighter stopping rules: the log goes on from the generations this run keeps.
        cal::write_log(&work, &info, &resume.generations).map_err(output_failure)?;
    }
    let done = resume.generations.len();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(pool_threads)
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start worker threads: {e}")))?;
    let particles = targets.file.abc.particles as u64;
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(particles) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} particles, {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    if (done > 0 || !resume.unfinished.is_empty()) && !quiet {
        let kept = resume.unfinished.len();
        let more = if kept > 0 { format!(", and {kept} attempts of generation {done}") } else { String::new() };
        // Before the bar draws anything, and on standard error like every message about the work.
        eprintln!("resuming: {done} generations already complete and verified{more}");
    }
    let start = Instant::now();
    let mut saved: Result<(), OutputError> = Ok(());
    let mut next = done;
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
    let mut blocks = distributed.as_ref().map(|d| attempt_blocks::Blocks::new(&d.blocks, &info));
    let sampled = pool.install(|| match blocks.as_mut() {
        None => calibrate::calibrate(&targets, resume, &engine::stop_requested, &mut report),
        Some(blocks) => {
            let mut from_blocks = |plan: &Plan, first: u64, count: usize| {
                if engine::stop_requested() {
                    return Batch::Interrupted;
                }
                blocks.batch(plan.before(), first, count).map_or(Batch::Missing, Batch::Ready)
            };
            calibrate::calibrate_from(&targets, resume.generations, &mut from_blocks, &mut report)
        }
    });
    let (generations, stop, unfinished) = (sampled.generations, sampled.stop, sampled.unfinished);
    saved.map_err(writing_failure(&dir))?;
    bar.finish_and_clear();
    if let Some(blocks) = &blocks {
        for refused in &blocks.refused {
            eprintln!(
                "note: ignored {}: not a verified block of this calibration's generation under way (another run's, another version's, or damaged); it is recomputed",
                refused.display()
            );
        }
    }
    if let Stop::Missing { generation, attempt } = stop {
        // Not an error: the merge step of a calibration on a cluster, which computes these
        // next. The line is for scripts (scripts/slurm/calibrate.sh) and is printed even with -q.
        println!("next generation={generation} attempt={attempt}");
        if !quiet {
            eprintln!(
                "{name}: {} generations complete in {}; generation {generation} needs the attempts from {attempt} on (coprosim calibrate {} --out {} --blocks {} --block {generation}:{attempt}:COUNT)",
                generations.len(),
                dir.display(),
                path.display(),
                dir.display(),
                distributed.as_ref().map_or(String::new(), |d| d.blocks.display().to_string()),
            );
        }
        return Ok(());
    }
    let kept = |what: &str| {
        format!(
            "interrupted {what}: {} generations are complete and saved in {}; rerun the same command to resume",
            generations.len(),
            work.display()
        )
    };
    if stop == Stop::Interrupted {
        // The generation under way's complete batches, for the rerun to go on from.
        if !unfinished.is_empty() {
            let text = attempt_blocks::encode(&info, &generations, 0, &unfinished);
            output::write_atomic(&work, cal::UNFINISHED, text.as_bytes()).map_err(writing_failure(&dir))?;
        }
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
        unfinished: &unfinished,
        targets_file: path.display().to_string(),
        threads: used_threads,
        wall_time_seconds: start.elapsed().as_secs_f64(),
    };
    let not_written = |e: OutputError| match e {
        OutputError::Interrupted { .. } => Failure::Interrupted(kept("while writing the results")),
        other => writing_failure(&dir)(other),
    };
    cal::write_calibration(&work, &finished, charts).map_err(not_written)?;
    report_kept(&staging.commit().map_err(not_written)?);
    // Warnings go to standard error even with -q: they say what the fit cannot.
    let ps = cal::predictive_ps(&info, &predictive);
    for misfit in cal::misfits(&info, &predictive, &ps) {
        eprintln!("warning: {misfit}");
    }
    let checked = cal::diagnostics(&info, &cal::particles_of(&generations));
    for warning in cal::diagnostic_warnings(&info, &checked) {
        eprintln!("warning: {warning}");
    }
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
            "  (the budget cut generation {} short after {unfinished_simulations} simulations, so the posterior is generation {}; its {} attempts are kept, and a rerun with a larger budget goes on from them)",
            generations.len(),
            generations.len() - 1,
            unfinished.len()
        );
    }
    let names = targets.model_names();
    for (name, (p, err)) in names.iter().zip(abc::model_probabilities(last, names.len())) {
        println!("  model {name:<38} posterior probability {p:.3} (Monte Carlo error {err:.3})");
    }
    for (d, key) in targets.keys().iter().enumerate() {
        let m = calibrate::posterior_marginal(last, d);
        println!("  {key:<44} median {:>10.4}  (90% credible interval {:.4} to {:.4})", m.median, m.q05, m.q95);
    }
    for (s, st) in targets.statistics.iter().enumerate() {
        let (m, _) = cal::predictive_marginal(&predictive, s);
        println!(
            "  {:<44} observed {:>9.4}  predictive median {:.4} (5-95% {:.4} to {:.4}; p = {:.2}){}",
            st.label,
            st.value,
            m.median,
            m.q05,
            m.q95,
            ps[s],
            if st.held_out { ", held out" } else { "" }
        );
    }
    println!("wrote {}", dir.display());
    Ok(())
}

/// `calibrate --block G:FIRST:COUNT`: compute attempts `FIRST..FIRST + COUNT` of generation
/// `G` from the generations saved in `dir`, and save them as a block in `blocks`. Reads `dir`
/// without writing to it (the merge step owns it), so array tasks can run side by side. A
/// block already computed and verified is kept; a generation already complete needs nothing.
#[allow(clippy::too_many_arguments)] // the command's flags
fn compute_block(
    path: &Path,
    targets: &Targets,
    info: &CalibrationInfo,
    dir: &Path,
    blocks: &Path,
    spec: &str,
    pool_threads: usize,
    quiet: bool,
) -> Result<(), Failure> {
    let cfg = calibrate::config(targets);
    let parsed = spec.split(':').map(|p| p.trim().parse::<u64>().ok()).collect::<Option<Vec<u64>>>();
    let (g, first, count) = match parsed.as_deref() {
        Some(&[g, first, count]) if first % cfg.batch as u64 == 0 && count > 0 && count % cfg.batch as u64 == 0 => {
            (g as usize, first, count as usize)
        }
        _ => {
            return Err(Failure::Input(format!(
                "--block: found \"{spec}\", expected G:FIRST:COUNT (a generation, its first attempt and how many attempts), with FIRST and COUNT multiples of {} and COUNT at least {}",
                cfg.batch, cfg.batch
            )));
        }
    };
    let done = output::calibration::saved_generations(dir, info);
    let say = |text: String| {
        if !quiet {
            println!("{text}");
        }
    };
    if done.len() < g {
        return Err(Failure::Input(format!(
            "--block {spec}: {} holds {} complete generations of this calibration, so generation {g} cannot be proposed yet; run the merge step first: coprosim calibrate {} --out {} --blocks {}",
            dir.display(),
            done.len(),
            path.display(),
            dir.display(),
            blocks.display()
        )));
    }
    if done.len() > g || abc::stopping(&done, &cfg).is_some() {
        say(format!("generation {g} needs no attempts: {} generations are complete", done.len()));
        return Ok(());
    }
    let file = attempt_blocks::path(blocks, info, g, first, count);
    if attempt_blocks::read(&file, info, &done, first, count).is_some() {
        say(format!("{}: already computed and verified", file.display()));
        return Ok(());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(pool_threads)
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start worker threads: {e}")))?;
    let start = Instant::now();
    let fit = calibrate::Fit::new(targets);
    let plan = fit.plan(&done);
    let attempts = pool.install(|| fit.attempts(&plan, first, count, &engine::stop_requested));
    if engine::stop_requested() {
        return Err(Failure::Interrupted(format!("interrupted: block {spec} was not written")));
    }
    let saved = attempt_blocks::save(blocks, info, &done, first, &attempts).map_err(output_failure)?;
    say(format!(
        "generation {g}, attempts {first} to {}: {} simulations in {:.1} s; wrote {}",
        first + count as u64 - 1,
        attempts.iter().flatten().count(),
        start.elapsed().as_secs_f64(),
        saved.display()
    ));
    Ok(())
}

/// `calibrate --check-coverage N`: simulation-based calibration. N calibrations of synthetic
/// data drawn from the prior, each trial on its own streams; the truths' ranks and the
/// intervals' coverage written to `dir` (docs/CALIBRATING.md, "Does the fit recover a known
/// truth?").
#[allow(clippy::too_many_arguments)] // the command's flags
fn coverage(
    path: &Path,
    targets: &Targets,
    dir: &Path,
    trials: u64,
    (pool_threads, used_threads): (usize, usize),
    force: bool,
    quiet: bool,
    charts: Option<ChartSize>,
) -> Result<(), Failure> {
    use coprosim::inference::coverage::{self as sbc, Failed};
    use coprosim::output::commit::{Kind, Staging};
    use coprosim::output::coverage::{CoverageInfo, CoverageManifest, write_coverage};
    if trials == 0 {
        return Err(Failure::Input("--check-coverage: found 0, expected a number of trials of at least 1".into()));
    }
    if targets.models() > 1 {
        return Err(Failure::Input(format!(
            "--check-coverage: {} compares models; check each model's fit on its own (a targets file without [[models]])",
            path.display()
        )));
    }
    let _writer = writer_lock(dir)?;
    let staging = Staging::new(dir, Kind::Coverage, force).map_err(output_failure)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(pool_threads)
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start worker threads: {e}")))?;
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(trials) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} trials, {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{}: coverage check", targets.file.name));
    let start = Instant::now();
    let mut done = Vec::new();
    let mut without = std::collections::BTreeMap::new();
    for k in 0..trials {
        match pool.install(|| sbc::trial(targets, k, &engine::stop_requested)) {
            Ok(trial) => done.push(trial),
            Err(Failed::Interrupted) => {
                return Err(Failure::Interrupted(format!(
                    "interrupted after {k} of {trials} trials; nothing was written"
                )));
            }
            Err(Failed::Unobservable(why)) => {
                without.insert(k, why);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut manifest = CoverageManifest {
        tool: "coprosim",
        kind: Kind::Coverage,
        version: env!("CARGO_PKG_VERSION"),
        git_commit: output::git_commit(),
        coverage: CoverageInfo {
            calibration: CalibrationInfo::new(targets),
            trials,
            draws: sbc::DRAWS,
            bins: sbc::BINS,
        },
        targets_file: path.display().to_string(),
        trials_without_data: without.clone(),
        threads: used_threads,
        wall_time_seconds: (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        files: Default::default(),
        complete: false,
    };
    write_coverage(staging.dir(), &mut manifest, &done, charts).map_err(writing_failure(dir))?;
    report_kept(&staging.commit().map_err(writing_failure(dir))?);
    for (k, why) in &without {
        eprintln!("warning: trial {k} has no data and is left out: {why}");
    }
    let keys = targets.keys();
    let summaries: Vec<sbc::Summary> = (0..keys.len()).map(|d| sbc::summarise(&done, d)).collect();
    for (key, s) in keys.iter().zip(&summaries) {
        // A 90% interval that covers the truth less often than the Wilson interval allows, or
        // ranks that are not uniform, say the fit's uncertainty is not to be taken at its word.
        if s.coverage90_interval.1 < 0.9 {
            eprintln!(
                "warning: {key}: its 90% credible intervals covered the truth in only {} of {} trials (95% interval {:.2} to {:.2}): the posteriors are too narrow or biased; allow more generations or particles, or check the observations' sds",
                s.covered90, s.trials, s.coverage90_interval.0, s.coverage90_interval.1
            );
        }
        if s.p_uniform < 0.01 {
            eprintln!(
                "warning: {key}: the truths' ranks are not uniform (χ² {:.1}, p = {:.3}; charts/coverage_ranks shows how)",
                s.chi_square, s.p_uniform
            );
        }
    }
    if quiet {
        return Ok(());
    }
    println!(
        "{}: {} trials in {:.1} s ({} without data)",
        targets.file.name,
        done.len(),
        start.elapsed().as_secs_f64(),
        without.len()
    );
    for (key, s) in keys.iter().zip(&summaries) {
        println!(
            "  {key:<44} 90% intervals covered {}/{} (95% CI {:.2} to {:.2}), 50% intervals {}/{}; ranks χ² {:.1}, p = {:.2}",
            s.covered90,
            s.trials,
            s.coverage90_interval.0,
            s.coverage90_interval.1,
            s.covered50,
            s.trials,
            s.chi_square,
            s.p_uniform
        );
    }
    println!("wrote {}", dir.display());
    Ok(())
}
