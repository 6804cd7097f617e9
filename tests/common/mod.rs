//! Helpers shared by the test files (the Monte Carlo ones, `claims.rs`, `mechanisms.rs` and
//! `presets.rs`, the calibration ones, `calibrate.rs`, the browser ones,
//! `report_browser.rs` and `explorer_browser.rs`, and the command-line ones, `cli.rs` and
//! `detail.rs`).
// Each test file is its own crate and uses a subset of these.
#![allow(dead_code)]

use coprosim::engine::run_replication;
use coprosim::observe::{Catalogue, summary_keys};
use coprosim::scenario::Scenario;
use rayon::prelude::*;

/// Every replication's summary row, `0..replications` of `seed`, computed once per scenario,
/// seed and count in a test binary: a test reads several metrics from the same runs, and its
/// knock-out reuses its control's.
type Summaries = std::sync::Arc<Vec<Vec<f64>>>;

/// Summaries by (resolved scenario's SHA-256, seed, replications).
type Cache = std::sync::Mutex<std::collections::HashMap<(String, u64, u32), Summaries>>;

fn cache() -> &'static Cache {
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn key(s: &Scenario, seed: u64, replications: u32) -> (String, u64, u32) {
    (coprosim::output::sha256_hex(s.to_toml().as_bytes()), seed, replications)
}

/// Run `arms` (the arms of a comparison) for the cache: together when they share their
/// burn-in (warm starts: each replication's common history once, the same numbers as
/// separate runs), each alone otherwise.
pub fn run_arms(arms: &[&Scenario], seed: u64, replications: u32) {
    let missing: Vec<Scenario> = arms
        .iter()
        .filter(|s| !cache().lock().unwrap().contains_key(&key(s, seed, replications)))
        .map(|s| (*s).clone())
        .collect();
    let together = coprosim::engine::warm::Arms::new(&missing).filter(|_| missing.len() >= 2);
    let Some(together) = together else {
        for s in &missing {
            summaries(s, seed, replications);
        }
        return;
    };
    let records: Vec<Vec<Vec<f64>>> = (0..replications)
        .into_par_iter()
        .map(|r| together.run(seed, r, &|| false).expect("never stopped").into_iter().map(|rec| rec.summary).collect())
        .collect();
    for (a, s) in missing.iter().enumerate() {
        let rows = records.iter().map(|r| r[a].clone()).collect();
        cache().lock().unwrap().insert(key(s, seed, replications), std::sync::Arc::new(rows));
    }
}

fn summaries(s: &Scenario, seed: u64, replications: u32) -> Summaries {
    let k = key(s, seed, replications);
    if let Some(hit) = cache().lock().unwrap().get(&k) {
        return hit.clone();
    }
    let cat = Catalogue::new(s);
    let rows: Vec<Vec<f64>> =
        (0..replications).into_par_iter().map(|r| run_replication(s, &cat, seed, r).summary).collect();
    let rows = std::sync::Arc::new(rows);
    cache().lock().unwrap().insert(k, rows.clone());
    rows
}

/// One headline figure (a `summary.csv` metric for a coalition and a group, "all" for
/// totals) per replication, replications `0..replications` of `seed`.
pub fn per_replication(
    s: &Scenario,
    metric: &str,
    coalition: &str,
    group: &str,
    seed: u64,
    replications: u32,
) -> Vec<f64> {
    let cat = Catalogue::new(s);
    let i = summary_keys(&cat)
        .iter()
        .position(|k| {
            k.metric == metric && cat.coalition_label(k.coalition) == coalition && cat.group_label(k.group) == group
        })
        .unwrap_or_else(|| panic!("no summary metric {metric}/{coalition}/{group}"));
    summaries(s, seed, replications).iter().map(|row| row[i]).collect()
}

/// Mean paired difference `treated − control` and its 95% interval (normal approximation),
/// over the pairs where both are defined.
pub fn paired(control: &[f64], treated: &[f64]) -> (f64, f64, f64) {
    let d: Vec<f64> = control.iter().zip(treated).map(|(a, b)| b - a).filter(|x| x.is_finite()).collect();
    let n = d.len() as f64;
    assert!(n >= 10.0, "too few defined pairs: {n}");
    let mean = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let half = 1.96 * sd / n.sqrt();
    (mean, mean - half, mean + half)
}

/// A town of 400 in two groups, with two programmes: `one` on a government contract, `two`
/// doing outreach. The rest of a scenario after its name and `[simulation]` table, as a
/// literal for `concat!`.
#[macro_export]
macro_rules! two_programmes {
    () => {
        r#"
[population]
size = 400
[[population.groups]]
name = "a"
share = 0.5
[[population.groups]]
name = "b"
share = 0.5
time_cost = 0.15
[[coalitions]]
name = "one"
governance = { outreach = 0.5 }
founders = 20
[coalitions.funding.contract]
amount = 30000
[[coalitions]]
name = "two"
founders = 20
staff = 0
governance = { outreach = 0.5 }
"#
    };
}

/// A small self-funded club in a town of 300, monthly ticks, as the inline `[scenario]` of a
/// targets file: a simulation takes about a millisecond.
pub const TINY_TOWN: &str = r#"
[scenario]
name = "tiny_town"
[scenario.simulation]
years = 4
ticks_per_year = 12
replications = 1
seed = 1
[scenario.population]
size = 300
[[scenario.population.groups]]
name = "residents"
share = 1.0
incentives = { material = 1.0, solidary = 2.5, purposive = 2.0 }
time_cost = 0.05
[[scenario.coalitions]]
name = "club"
founders = 15
goal_hours = 60
mode = { planning = "community", delivery = "community" }
governance = { voice = 1.0 }
[scenario.coalitions.funding]
donation_per_member = 10
earned_income = 5000
"#;

/// Chromium for the browser tests: `COPROSIM_CHROMIUM`, or the first of its usual names on
/// the PATH.
pub fn chromium() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("COPROSIM_CHROMIUM") {
        return Some(std::path::PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}
