//! `coprosim targets`: a programme's roster turned into a targets file for `calibrate`.

use coprosim::inference::from_roster::{self, Options};
use coprosim::inference::roster::{COLUMNS, Roster};
use std::path::{Path, PathBuf};

use super::{Failure, load, quiet};

/// What `targets` is told.
pub struct TargetsFlags {
    /// The scenario the roster's programme is modelled by.
    pub scenario: PathBuf,
    /// The targets file to write.
    pub out: PathBuf,
    /// The coalition the roster is of.
    pub coalition: Option<String>,
    /// Survival durations, in weeks.
    pub survival_weeks: Vec<u32>,
    /// The held-out survival curve's step, in weeks (0: none).
    pub curve_every: u32,
    /// Bootstrap resamples.
    pub resamples: u32,
    /// Seed of the bootstrap (and of the calibration the file describes).
    pub seed: u64,
    /// The window's first and last day, as the roster gives time.
    pub from: Option<String>,
    /// The window's last day.
    pub until: Option<String>,
    /// Replace a file in the way.
    pub force: bool,
}

/// A time given on the command line, in the roster's clock.
fn time_flag(roster: &Roster, flag: &str, text: &Option<String>) -> Result<Option<f64>, Failure> {
    let Some(text) = text else { return Ok(None) };
    roster
        .time(text)
        .map(Some)
        .ok_or_else(|| Failure::Input(format!("{flag}: found \"{text}\", expected {}", roster.clock_words())))
}

/// The path by which a file in `dir` names `target`: relative where both are relative or
/// both absolute (so that the pair can move together), else absolute.
fn relative_to(dir: &Path, target: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (from, to) = (absolute(dir), absolute(target));
    let common = from.components().zip(to.components()).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return to.display().to_string();
    }
    let mut out = PathBuf::new();
    for _ in from.components().skip(common) {
        out.push("..");
    }
    for c in to.components().skip(common) {
        out.push(c);
    }
    out.display().to_string()
}

pub fn targets(roster_path: &Path, flags: TargetsFlags) -> Result<(), Failure> {
    let (scenario, _, _) = load(Some(&flags.scenario))?;
    let file = roster_path.display().to_string();
    // A Parquet roster is known by its name, as `run --parquet` names its own.
    let parquet = roster_path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let roster = if parquet {
        let rows = coprosim::input::parquet_table::rows(roster_path, &file, &COLUMNS)?;
        Roster::from_rows(&rows, &file, &scenario)?
    } else {
        Roster::parse(&coprosim::input::read_text(roster_path, &file)?, &file, &scenario)?
    };
    let mut options = Options {
        coalition: flags.coalition,
        curve_every: flags.curve_every,
        resamples: flags.resamples,
        seed: flags.seed,
        from: time_flag(&roster, "--from", &flags.from)?,
        until: time_flag(&roster, "--until", &flags.until)?,
        ..Options::default()
    };
    if !flags.survival_weeks.is_empty() {
        options.survival_weeks = flags.survival_weeks;
    }
    let derived =
        from_roster::derive(&roster, &scenario, &options).map_err(|why| Failure::Input(format!("{file}: {why}")))?;
    let out = &flags.out;
    if out.exists() && !flags.force {
        return Err(Failure::Input(format!(
            "{}: already exists; coprosim does not write over a file it may not have written (pass --force to replace it)",
            out.display()
        )));
    }
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let base = relative_to(dir, &flags.scenario);
    let name = out.file_stem().map_or("roster".into(), |s| s.to_string_lossy().into_owned());
    let source = roster_path.file_name().map_or(file.clone(), |n| n.to_string_lossy().into_owned());
    let toml = from_roster::targets_toml(&name, &base, &source, &roster, &derived, &options);
    // What is written must be a targets file `calibrate` takes: checked before writing.
    // (Its base is the scenario loaded above, named as seen from the file's folder, which
    // need not exist yet.)
    let scenario_path = flags.scenario.clone();
    let read = |_: &str| -> Result<(coprosim::scenario::Scenario, String), coprosim::scenario::ScenarioError> {
        coprosim::input::scenario_and_text(&scenario_path)
    };
    coprosim::inference::targets::Targets::parse(&toml, &out.display().to_string(), &read).map_err(|e| {
        Failure::Runtime(format!("the targets file derived is not valid (a defect; please report it): {e}"))
    })?;
    std::fs::create_dir_all(dir).map_err(|e| Failure::Runtime(format!("{}: cannot create: {e}", dir.display())))?;
    coprosim::output::write_atomic(
        dir,
        &out.file_name().map_or("targets.toml".into(), |n| n.to_string_lossy().into_owned()),
        toml.as_bytes(),
    )
    .map_err(|e| Failure::Runtime(e.to_string()))?;
    for note in &derived.notes {
        eprintln!("note: left out: {note}");
    }
    say!(
        "wrote {}: {} statistics from {} spells, and {} parameters to fit; edit what you know, then `coprosim calibrate {}`",
        out.display(),
        derived.statistics.len(),
        roster.spells.len(),
        from_roster::PRIORS.matches("[[parameters]]").count(),
        out.display()
    );
    Ok(())
}
