//! `coprosim check`: validate a scenario, sweep or targets file.

use coprosim::engine::sweep::Sweep;
use coprosim::inference::targets::Targets;
use coprosim::input::{FileKind, Load};
use std::path::Path;

use super::{Failure, fits, load, quiet};

pub fn check(path: &Path) -> Result<(), Failure> {
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
