//! Property tests: mutated scenario and sweep files never make the parser, the validator or
//! the model panic, and generated valid scenarios run deterministically.

use coprosim::engine::sweep::Sweep;
use coprosim::engine::{replication_rng, sweep::plan};
use coprosim::model::Model;
use coprosim::scenario::Scenario;
use proptest::prelude::*;
use std::path::Path;

fn repo(p: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap()
}

/// Values that break careless parsers and models.
const HOSTILE: &[&str] = &[
    "-1",
    "0",
    "1",
    "1.5",
    "-0.0",
    "1e308",
    "-1e308",
    "4294967296",
    "18446744073709551616",
    "nan",
    "inf",
    "-inf",
    "\"x\"",
    "\"\"",
    "true",
    "[]",
    "[1, 2]",
    "{}",
    "1979-05-27",
    "0x10",
    "1_000",
    "+3",
    "2.5e-320",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    ReplaceNumber(usize, usize),
    InsertBytes(usize, Vec<u8>),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), 0..HOSTILE.len()).prop_map(|(i, v)| Mutation::ReplaceNumber(i, v)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, b)| Mutation::InsertBytes(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    if lines.is_empty() {
        return String::new();
    }
    match m {
        Mutation::DeleteLine(i) => {
            lines.remove(i % lines.len());
        }
        Mutation::DuplicateLine(i) => {
            let l = lines[i % lines.len()].clone();
            lines.insert(i % lines.len(), l);
        }
        Mutation::ReplaceNumber(i, v) => {
            let numeric: Vec<usize> = (0..lines.len())
                .filter(|&k| {
                    lines[k]
                        .split_once('=')
                        .is_some_and(|(_, r)| r.trim().starts_with(|c: char| c.is_ascii_digit() || c == '-'))
                })
                .collect();
            if !numeric.is_empty() {
                let k = numeric[i % numeric.len()];
                let key = lines[k].split_once('=').unwrap().0.to_string();
                lines[k] = format!("{key}= {}", HOSTILE[*v]);
            }
        }
        Mutation::InsertBytes(i, bytes) => {
            let mut all = lines.join("\n").into_bytes();
            let at = i % (all.len() + 1);
            all.splice(at..at, bytes.iter().copied());
            return String::from_utf8_lossy(&all).into_owned();
        }
        Mutation::Truncate(i) => {
            let all = lines.join("\n");
            let mut at = i % (all.len() + 1);
            while !all.is_char_boundary(at) {
                at -= 1;
            }
            return all[..at].to_string();
        }
    }
    lines.join("\n")
}

/// A validated scenario, scaled down, must initialise and step without panicking.
fn run_briefly(mut s: Scenario) {
    s.population.size = s.population.size.min(300);
    s.population.network.mean_degree = s.population.network.mean_degree.min(20);
    for c in &mut s.coalitions {
        c.founders = c.founders.min(10);
    }
    if !s.problems().is_empty() {
        return;
    }
    let mut rng = replication_rng(s.simulation.seed, 0);
    let mut m = Model::new(&s, &mut rng);
    for _ in 0..s.ticks().min(20) {
        m.step(&mut rng);
    }
}

const SCENARIOS: &[&str] = &[
    "scenarios/baseline.toml",
    "scenarios/experiments/austerity_cut.toml",
    "scenarios/experiments/purposive_drift.toml",
    "scenarios/presets/tackley_village_shop.toml",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_never_panic(file in 0..SCENARIOS.len(), mutations in proptest::collection::vec(mutation(), 1..4)) {
        let mut text = repo(SCENARIOS[file]);
        for m in &mutations {
            text = apply(&text, m);
        }
        if let Ok(s) = Scenario::parse(&text, "mutated.toml") {
            run_briefly(s);
        }
    }

    #[test]
    fn mutated_sweeps_never_panic(mutations in proptest::collection::vec(mutation(), 1..4)) {
        let mut text = repo("scenarios/sweeps/fairness_funding.toml");
        for m in &mutations {
            text = apply(&text, m);
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps");
        if let Ok(s) = Sweep::parse(&text, "mutated.toml", &coprosim::input::bases_beside(&dir.join("mutated.toml")))
            && s.file.design.points <= 1000
            && s.file.design.base_samples <= 1000
        {
            let _ = plan(&s);
        }
    }
}

fn generated_scenario() -> impl Strategy<Value = String> {
    let group = (0.05f64..1.0, 0.01f64..50.0, 0.01f64..50.0, 0.01f64..50.0, 0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0);
    let coalition = (
        1u32..15,
        0u32..10,
        0.0f64..1e5,
        0.0f64..3.0,
        0.0f64..2000.0,
        0.0f64..1.0,
        0.0f64..1.0,
        0.0f64..2.0,
        0.0f64..1e5,
    );
    (
        proptest::collection::vec(group, 1..4),
        proptest::collection::vec(coalition, 1..4),
        (20u32..300, 0u32..12, 0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0, any::<u64>()),
    )
        .prop_map(|(groups, coalitions, (size, degree, rewiring, homophily, regime, seed))| {
            let total: f64 = groups.iter().map(|g| g.0).sum();
            let mut t = format!(
                "name = \"gen\"\n[simulation]\nyears = 1\nseed = {seed}\n[population]\nsize = {size}\nnetwork = {{ mean_degree = {degree}, rewiring = {rewiring}, homophily = {homophily} }}\n[policy]\nperformance_regime = {regime}\n"
            );
            let n = groups.len();
            let mut assigned = 0.0;
            for (i, g) in groups.iter().enumerate() {
                // The last share makes the sum exactly 1 within the tolerance.
                let share = if i + 1 == n { 1.0 - assigned } else { g.0 / total };
                assigned += share;
                t.push_str(&format!(
                    "[[population.groups]]\nname = \"g{i}\"\nshare = {share}\nincentives = {{ material = {}, solidary = {}, purposive = {} }}\ntime_cost = {}\nlived_experience = {}\ntrust_in_government = {}\n",
                    g.1, g.2, g.3, g.4, g.5, g.6
                ));
            }
            // Founders of all coalitions together cannot exceed the population.
            let founders_cap = (size / coalitions.len() as u32).max(1);
            for (i, c) in coalitions.iter().enumerate() {
                t.push_str(&format!(
                    "[[coalitions]]\nname = \"c{i}\"\nfounders = {}\nmin_members = {}\ninitial_budget = {}\nstaff = {}\nstipend = {}\ngovernance = {{ voice = {}, outreach = {}, delegation_rate = {} }}\n[coalitions.funding.contract]\namount = {}\n",
                    c.0.min(founders_cap), c.1, c.2, c.3, c.4, c.5, c.6, c.7, c.8
                ));
            }
            t
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    #[test]
    fn generated_valid_scenarios_run_deterministically(text in generated_scenario()) {
        let s = Scenario::parse(&text, "generated.toml");
        prop_assert!(s.is_ok(), "generated scenario rejected: {:?}\n{text}", s.err());
        let s = s.unwrap();
        let trace = |s: &Scenario| {
            let mut rng = replication_rng(s.simulation.seed, 0);
            let mut m = Model::new(s, &mut rng);
            (0..s.ticks()).map(|_| { m.step(&mut rng); m.coalitions.iter().map(|c| c.members).sum::<u32>() }).collect::<Vec<_>>()
        };
        prop_assert_eq!(trace(&s), trace(&s));
    }
}
