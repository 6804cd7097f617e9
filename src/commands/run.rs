//! `coprosim run`: a scenario's replications, cold, from saved states or from a posterior.

use coprosim::engine::{self, RunConfig};
use coprosim::inference::calibrate;
use coprosim::inference::targets::apply;
use coprosim::observe::detail::{DetailRequest, snapshot_ticks};
use coprosim::output::charts::ChartSize;
use coprosim::output::commit::{Kind, Staging};
use coprosim::output::{self, Manifest};
use coprosim::scenario::{BASELINE, Scenario};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{
    Failure, default_out, fits_with_detail, load, output_failure, quiet, report_kept, threads, writer_lock,
    writing_failure,
};

/// The scenario name of the run result in `dir`, if it holds one.
fn earlier_scenario(dir: &Path) -> Option<String> {
    let bytes = std::fs::read(dir.join(output::MANIFEST)).ok()?;
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    (manifest.get("kind")?.as_str()? == "run").then_some(())?;
    Some(manifest.get("scenario")?.as_str()?.to_string())
}

/// The flags of `coprosim run`.
pub struct RunOptions {
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    pub out: Option<PathBuf>,
    pub force: bool,
    pub quiet: bool,
    pub charts: Option<ChartSize>,
    pub posterior: Option<PathBuf>,
    pub detail: Detail,
    pub save_state: bool,
    pub from_state: Option<PathBuf>,
}

/// What `--agents`, `--events`, `--detail-replications`, `--parquet` and `--roster` ask for.
pub struct Detail {
    pub years: Vec<f64>,
    pub events: bool,
    pub replications: u32,
    pub parquet: bool,
    /// `--roster DATE` and `--roster-coalition NAME`.
    pub roster: Option<(String, Option<String>)>,
}

/// Where `--roster` asks for a roster: the first recorded day and the coalition's index.
struct RosterRequest {
    first_day: i64,
    coalition: usize,
}

impl Detail {
    /// The roster `--roster` asks for, its date and coalition checked against the scenario.
    fn roster(&self, scenario: &Scenario) -> Result<Option<RosterRequest>, Failure> {
        let Some((date, coalition)) = &self.roster else { return Ok(None) };
        let first_day = coprosim::inference::roster::parse_date(date).ok_or_else(|| {
            Failure::Input(format!(
                "--roster: found \"{date}\", expected the records' first day as a date (YYYY-MM-DD)"
            ))
        })?;
        let names = || scenario.coalitions.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
        let coalition = match coalition {
            Some(name) => scenario.coalitions.iter().position(|c| &c.name == name).ok_or_else(|| {
                Failure::Input(format!(
                    "--roster-coalition: found \"{name}\", expected one of the scenario's coalitions ({})",
                    names()
                ))
            })?,
            None if scenario.coalitions.len() == 1 => 0,
            None => {
                return Err(Failure::Input(format!(
                    "--roster: the scenario has {} coalitions ({}); a roster is one programme's: name it with --roster-coalition",
                    scenario.coalitions.len(),
                    names()
                )));
            }
        };
        Ok(Some(RosterRequest { first_day, coalition }))
    }

    /// The request for the engine, its years checked against the scenario's recorded period.
    fn request(&self, scenario: &Scenario) -> Result<Option<DetailRequest>, Failure> {
        let events = self.events || self.roster.is_some();
        if self.years.is_empty() && !events {
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
        Ok(Some(DetailRequest { snapshot_ticks, events, replications: self.replications }))
    }
}

pub fn run(path: Option<&Path>, opts: RunOptions) -> Result<(), Failure> {
    let RunOptions {
        replications,
        seed,
        threads: threads_flag,
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
    let (pool_threads, used_threads) = threads(threads_flag)?;
    let posterior = posterior.map(|p| posterior_for(&p, &scenario)).transpose()?;
    let warm_from = match &from_state {
        Some(d) => Some(warm_start(d, path, &mut scenario, seed, posterior.as_ref())?),
        None => None,
    };
    if let Some((states, _)) = &warm_from {
        // Every state is checked as its replication starts; the first one now, before any work.
        let (seed, burn_in) = (scenario.simulation.seed, scenario.burn_in_ticks());
        saved_identity(states, posterior.as_ref(), seed, 0)
            .and_then(|identity| states.load_as(0, seed, burn_in, &identity))
            .map_err(Failure::Input)?;
    }
    let request = detail.request(&scenario)?;
    let roster = detail.roster(&scenario)?;
    fits_with_detail(&scenario, &file, used_threads, scenario.simulation.replications, request.as_ref())?;
    let dir = out.unwrap_or_else(|| default_out(&scenario.name));
    let _writer = writer_lock(&dir)?;
    let replaced = earlier_scenario(&dir).filter(|earlier| *earlier != scenario.name);
    let staging = Staging::new(&dir, Kind::Run, force).map_err(output_failure)?;

    let mut cfg = RunConfig::from_scenario(&scenario);
    cfg.threads = pool_threads;
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
    let from = |r: u32| {
        let states = &warm_from.as_ref().expect("starting from states").0;
        states.load_as(r, seed_used, burn_in, &saved_identity(states, posterior.as_ref(), seed_used, r)?)
    };
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
    if let Some(r) = &roster {
        output::detail::write_roster(&work, &results, &scenario, r.coalition, r.first_day)
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
        eprintln!("note: {} held the run of scenario \"{earlier}\"; it now holds \"{}\"", dir.display(), scenario.name);
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
        println!("  {}", programmes_line(&results.programmes));
        println!("wrote {}", dir.display());
    }
    Ok(())
}

/// "programmes running at the horizon: food_bank 85% (dissolved in 15 of 100, median year
/// 23.4), youth_clubhouse 100%, …", in the scenario's order.
fn programmes_line(fates: &[coprosim::observe::diagnostics::ProgrammeFate]) -> String {
    let each: Vec<String> = fates
        .iter()
        .map(|f| {
            let share = 100.0 * (f.replications - f.dissolved) as f64 / f.replications.max(1) as f64;
            match f.median_dissolution_year {
                Some(year) => format!(
                    "{} {share:.0}% (dissolved in {} of {}, median year {year:.1})",
                    f.name, f.dissolved, f.replications
                ),
                None => format!("{} {share:.0}%", f.name),
            }
        })
        .collect();
    format!("programmes not dissolved at the horizon: {}", each.join(", "))
}

/// The states in `dir` to start a run of `scenario` (read from `path`) from, and how it forks
/// from them; every reason it cannot, located in the scenario's text. Without `--seed` the
/// run takes the states' seed.
fn warm_start(
    dir: &Path,
    path: Option<&Path>,
    scenario: &mut Scenario,
    seed: Option<u64>,
    posterior: Option<&output::calibration::Posterior>,
) -> Result<(output::warm::SavedStates, engine::warm::ForkPlan), Failure> {
    let states = output::warm::SavedStates::read(dir).map_err(output_failure)?;
    let flag = format!("--from-state {}", dir.display());
    // A posterior run's replication burns in with its draw's parameters: its state is of use
    // only to a replication that draws the same, from the same posterior with the same seed.
    let drawn = |p: Option<&String>| p.map_or("no posterior".to_string(), |sha| format!("the posterior {sha:.12}"));
    let wanted = posterior.map(|p| &p.sha256);
    if states.posterior.as_ref() != wanted {
        return Err(Failure::Input(format!(
            "{flag}: the states' replications drew their parameters from {}, this run's from {}: each replication's burn-in depends on its draw, expected the same posterior (or none) for both",
            drawn(states.posterior.as_ref()),
            drawn(wanted)
        )));
    }
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
    if !plan.exact() {
        tell!(
            "note: from the end of the burn-in (year {}), as a policy change at that tick would: {}; a full run of the scenario would use them from founding",
            scenario.simulation.burn_in_years,
            plan.applied.iter().map(|(k, old, new)| format!("{k} {old} -> {new}")).collect::<Vec<_>>().join(", ")
        );
    }
    Ok((states, plan))
}

/// The burn-in identity replication `r`'s saved state must have: the saved scenario's, or, in
/// a posterior run, the saved scenario's with the replication's draw applied (the same draw
/// as this run's, from the same posterior and seed).
fn saved_identity(
    states: &output::warm::SavedStates,
    posterior: Option<&output::calibration::Posterior>,
    seed: u64,
    r: u32,
) -> Result<String, String> {
    let Some(p) = posterior else { return Ok(states.identity.clone()) };
    let particle = calibrate::posterior_draw(&p.weights, seed, r);
    let drawn = apply(&states.scenario, &p.keys, &p.particles[particle]).map_err(|e| {
        format!("replication {r}: the posterior's particle {particle} makes no valid saved scenario: {e}")
    })?;
    Ok(engine::warm::burn_in_identity(&drawn))
}

/// Read a calibration's posterior for a run of `scenario`, checking that every particle
/// makes a valid scenario of it.
fn posterior_for(dir: &Path, scenario: &Scenario) -> Result<output::calibration::Posterior, Failure> {
    let p = output::calibration::read_posterior(dir).map_err(output_failure)?;
    let flag = format!("--posterior {}", dir.display());
    for key in &p.keys {
        let generic = coprosim::scenario::keys::generic_key(scenario, key)
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
