//! `coprosim funding`: a programme's funding history made into its scenario's funding schedule.

use coprosim::inference::funding_history::{self, History, Placing};
use std::path::{Path, PathBuf};

use super::{Failure, load, quiet};

/// What `funding` is told.
pub struct FundingFlags {
    /// The scenario whose coalition's funding the history becomes.
    pub scenario: PathBuf,
    /// The scenario file to write.
    pub out: PathBuf,
    /// The coalition the history is of.
    pub coalition: Option<String>,
    /// The calendar year that begins at the end of the burn-in.
    pub records_begin: Option<i32>,
    /// Renewal probability of the grants still paid in the history's last year.
    pub renewal: f64,
    /// Replace a file in the way.
    pub force: bool,
}

pub fn funding(history_path: &Path, flags: FundingFlags) -> Result<(), Failure> {
    let (scenario, scenario_file, _) = load(Some(&flags.scenario))?;
    let file = history_path.display().to_string();
    let text = coprosim::input::read_text(history_path, &file)?;
    let history = History::parse(&text, &file)?;
    if !(0.0..=1.0).contains(&flags.renewal) {
        return Err(Failure::Input(format!("--renewal: found {}, expected a probability from 0 to 1", flags.renewal)));
    }
    let placing = Placing { coalition: flags.coalition, records_begin: flags.records_begin, renewal: flags.renewal };
    let funded = funding_history::apply(&history, &scenario, &placing)
        .map_err(|why| Failure::Input(format!("{file}: {why}")))?;
    let out = &flags.out;
    if out.exists() && !flags.force {
        return Err(Failure::Input(format!(
            "{}: already exists; coprosim does not write over a file it may not have written (pass --force to replace it)",
            out.display()
        )));
    }
    let source = history_path.file_name().map_or(file.clone(), |n| n.to_string_lossy().into_owned());
    let (first, last) = history.span();
    let mut toml = format!(
        "# Written by `coprosim funding` from {source} ({first} to {last}, {} rows) and {scenario_file}:\n\
         # that scenario, every default written out, with the funding of its programme taken\n\
         # from the history (docs/CALIBRATING.md, \"A funding history\").\n",
        history.income.len()
    );
    for note in &funded.notes {
        toml.push_str(&format!("# {note}.\n"));
    }
    toml.push('\n');
    toml.push_str(&funded.scenario.to_toml());
    // What is written must be a scenario `run` takes: checked before writing.
    coprosim::scenario::Scenario::parse(&toml, &out.display().to_string()).map_err(|e| {
        Failure::Runtime(format!(
            "the scenario written from the history is not valid (a defect; please report it): {e}"
        ))
    })?;
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Failure::Runtime(format!("{}: cannot create: {e}", dir.display())))?;
    coprosim::output::write_atomic(
        dir,
        &out.file_name().map_or("funded.toml".into(), |n| n.to_string_lossy().into_owned()),
        toml.as_bytes(),
    )
    .map_err(|e| Failure::Runtime(e.to_string()))?;
    for note in &funded.notes {
        eprintln!("note: {note}");
    }
    say!("wrote {}: {scenario_file} with the funding of {source}", out.display());
    Ok(())
}
