//! From a roster to a forecast (issue 30): the synthetic roster coprosim ships is the one its
//! generating scenario writes; the README's worked example (roster → targets → calibrate →
//! run --posterior → compare) runs end to end and prints the numbers it quotes; and the chain
//! recovers the parameters that generated a roster: their 90% credible intervals cover the
//! truth in most of a set of trials.

use assert_cmd::Command;
use chacha20::ChaCha8Rng;
use coprosim::engine::{RunConfig, run_detailed};
use coprosim::inference::calibrate::{self, posterior_marginal};
use coprosim::inference::from_roster::{self, Options, PRIORS};
use coprosim::inference::roster::{Roster, parse_date};
use coprosim::inference::run_roster::roster_csv;
use coprosim::inference::targets::{Targets, apply};
use coprosim::input::Load;
use coprosim::observe::detail::DetailRequest;
use coprosim::scenario::Scenario;
use rand::SeedableRng;
use rand_distr::Distribution;
use std::path::Path;

fn coprosim() -> Command {
    Command::cargo_bin("coprosim").unwrap()
}

fn shipped(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/roster").join(name)
}

/// The first day of the synthetic roster's records.
const FIRST_DAY: &str = "2022-01-03";

#[test]
fn the_shipped_roster_is_what_its_truth_writes_and_the_truth_is_the_shop() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("truth");
    coprosim()
        .arg("run")
        .arg(shipped("truth.toml"))
        .args(["--roster", FIRST_DAY, "--no-charts", "-q", "-o"])
        .arg(&out)
        .assert()
        .success();
    let written = std::fs::read(out.join("roster.csv")).unwrap();
    assert_eq!(
        written,
        std::fs::read(shipped("roster.csv")).unwrap(),
        "scenarios/roster/roster.csv is not what truth.toml writes: regenerate it with the command in truth.toml"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["files"]["roster.csv"].is_string(), "roster.csv is not in the manifest");

    // The truth is the analyst's shop with known behaviour and only its records' years.
    let shop = Scenario::load(&shipped("shop.toml")).unwrap();
    let mut truth = Scenario::load(&shipped("truth.toml")).unwrap();
    assert_eq!(truth.simulation.years, 3);
    assert!(truth.behaviour.join_max != shop.behaviour.join_max, "the truth should not be the defaults");
    truth.name = shop.name.clone();
    truth.description = shop.description.clone();
    truth.behaviour = shop.behaviour.clone();
    truth.simulation.years = shop.simulation.years;
    assert_eq!(truth.to_toml(), shop.to_toml(), "truth.toml differs from shop.toml in more than its behaviour");
}

#[test]
fn run_roster_refuses_a_bad_date_and_an_unnamed_coalition() {
    let tmp = tempfile::tempdir().unwrap();
    let out = coprosim()
        .arg("run")
        .arg(shipped("truth.toml"))
        .args(["--roster", "2022-02-30", "-q", "-o"])
        .arg(tmp.path().join("x"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("--roster: found \"2022-02-30\", expected"), "{err}");
    let out = coprosim()
        .arg("run")
        .arg("scenarios/baseline.toml")
        .args(["--roster", FIRST_DAY, "-n", "1", "-q", "-o"])
        .arg(tmp.path().join("y"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("name it with --roster-coalition"), "{err}");
    assert!(!tmp.path().join("x").exists() && !tmp.path().join("y").exists());
}

/// The README's "From a roster to a forecast", command by command, and the sentence it
/// quotes: members of the shop in three years with and without its outreach.
#[test]
fn the_readme_roster_example_runs_and_prints_what_it_quotes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |args: &[&str]| {
        let out = coprosim().current_dir(root).args(args).assert().success();
        String::from_utf8_lossy(&out.get_output().stdout).to_string()
    };
    let path = |name: &str| dir.join(name).display().to_string();
    run(&[
        "targets",
        "scenarios/roster/roster.csv",
        "--scenario",
        "scenarios/roster/shop.toml",
        "--from",
        FIRST_DAY,
        "--until",
        "2024-12-30",
        "-o",
        &path("shop_targets.toml"),
    ]);
    run(&["calibrate", &path("shop_targets.toml"), "-o", &path("fit"), "-q", "--no-charts"]);
    // The fit's 90% intervals contain the values truth.toml generated the roster with.
    let truth = Scenario::load(&shipped("truth.toml")).unwrap();
    let summary = std::fs::read_to_string(dir.join("fit/summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    // Counted from the end: the prior's description holds a comma.
    let from_end = |name: &str| header.len() - header.iter().position(|h| *h == name).unwrap();
    for (key, value) in [
        ("behaviour.join_max", truth.behaviour.join_max),
        ("behaviour.life_event_rate", truth.behaviour.life_event_rate),
    ] {
        let row: Vec<&str> = summary.lines().find(|l| l.contains(key)).unwrap().split(',').collect();
        let (q05, q95): (f64, f64) =
            (row[row.len() - from_end("q05")].parse().unwrap(), row[row.len() - from_end("q95")].parse().unwrap());
        assert!(
            q05 <= value && value <= q95,
            "{key}: the truth {value} is outside the fit's 90% interval {q05} to {q95}"
        );
    }
    // The what-if starts from the status quo's states, as the README does.
    let (fit, status_quo, no_outreach) = (path("fit"), path("status_quo"), path("no_outreach"));
    let posterior = ["--posterior", &fit, "-n", "200", "-q", "--no-charts"];
    run(&[&["run", "scenarios/roster/shop.toml"][..], &posterior, &["--save-state", "-o", &status_quo]].concat());
    run(&[
        &["run", "scenarios/roster/shop_no_outreach.toml"][..],
        &posterior,
        &["--from-state", &status_quo, "-o", &no_outreach],
    ]
    .concat());
    let answer = run(&[
        "compare",
        &path("status_quo"),
        &path("no_outreach"),
        "--metric",
        "members",
        "--coalition",
        "village_shop",
        "-q",
        "-o",
        &path("compare"),
    ]);
    println!("{answer}");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let lines: Vec<&str> = answer.lines().collect();
    assert_eq!(lines.len(), 3, "{answer}");
    assert!(lines[0].starts_with("members of village_shop in year 26"), "{answer}");
    // Each number the README quotes is the one printed.
    for line in &lines[1..] {
        let numbers: Vec<String> = line
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .filter(|w| w.contains('.') && w.len() > 1)
            .map(|w| w.trim_start_matches('+').to_string())
            .collect();
        for n in numbers {
            // As printed, or a whole number without its ".0"; a minus as a minus sign.
            let whole = n.strip_suffix(".0").unwrap_or(&n).to_string();
            let forms = [n.clone(), n.replace('-', "−"), whole.clone(), whole.replace('-', "−")];
            assert!(
                forms.iter().any(|f| [" ", ")", ","].iter().any(|end| readme.contains(&format!("{f}{end}")))),
                "the README does not quote {n} from `compare`'s answer:\n{answer}"
            );
        }
    }
}

/// The chain recovers what generated a roster: for each trial, the shop's behaviour is drawn
/// from the priors, its roster written from one run (`run --roster`), turned into targets
/// (`coprosim targets`), fitted (`calibrate`), and the 90% credible interval of each parameter
/// checked against the truth. At CI size two parameters are fitted (how readily villagers
/// join and how often life takes them away; the other two the generator's) with a small
/// ABC budget; `COPROSIM_ROSTER_TRIALS` sets the trials (docs/CALIBRATING.md records a larger
/// run). The bootstrap's standard errors are what make the intervals honest: with a roster's
/// sampling error understated, they would be too narrow and miss.
/// A roster's counts are the model's own: the members on each anniversary of the records and
/// the joins of each year between them, derived from the roster a run writes, equal the
/// model's series of that run, so a calibration compares like with like.
#[test]
fn a_rosters_counts_are_the_models_own_for_the_run_that_wrote_it() {
    let mut truth = Scenario::load(&shipped("truth.toml")).unwrap();
    truth.simulation.years = 3;
    truth.simulation.replications = 1;
    let cat = coprosim::observe::Catalogue::new(&truth);
    let record = coprosim::engine::run_replication(&truth, &cat, truth.simulation.seed, 0);
    let request = DetailRequest { snapshot_ticks: Vec::new(), events: true, replications: 1 };
    let cfg = RunConfig { threads: 1, ..RunConfig::from_scenario(&truth) };
    let results = run_detailed(&truth, cfg, &|_| None, Some(&request), &|| {}).unwrap();
    let first_day = parse_date(FIRST_DAY).unwrap();
    let roster = Roster::parse(&roster_csv(&results.details[0], &truth, 0, first_day), "roster.csv", &truth).unwrap();
    let options = Options {
        resamples: 20,
        from: Some(first_day as f64),
        until: Some(first_day as f64 + 3.0 * 364.0),
        ..Options::default()
    };
    let derived = from_roster::derive(&roster, &truth, &options).unwrap();
    let text = from_roster::targets_toml("same", "truth.toml", "roster.csv", &roster, &derived, &options);
    let read = |_: &str| Ok((truth.clone(), "truth.toml".to_string()));
    let t = Targets::parse(&text, "same.toml", &read).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let counts: Vec<_> = t
        .statistics
        .iter()
        .filter(|s| s.label.starts_with("members@") || s.label.starts_with("joins_per_year@"))
        .collect();
    assert_eq!(counts.len(), 4 + 3, "{:?}", t.statistics.iter().map(|s| &s.label).collect::<Vec<_>>());
    for s in counts {
        assert_eq!(s.value, calibrate::read(s, &record, &cat), "{}", s.label);
    }
    assert!(t.statistics.iter().any(|s| s.label.starts_with("joins_per_year@") && s.value > 0.0));
}

#[test]
fn the_chain_from_a_roster_covers_the_parameters_that_generated_it() {
    let trials: u64 = std::env::var("COPROSIM_ROSTER_TRIALS").ok().and_then(|t| t.parse().ok()).unwrap_or(20);
    let mut shop = Scenario::load(&shipped("shop.toml")).unwrap();
    // The roster's window is the record: three years.
    shop.simulation.years = 3;
    let read = |_: &str| Ok((shop.clone(), "shop.toml".to_string()));
    let keys = ["behaviour.join_max".to_string(), "behaviour.life_event_rate".to_string()];
    let priors = "[[parameters]]\nkey = \"behaviour.join_max\"\nprior = \"log_uniform\"\nlow = 0.05\nhigh = 1.0\n\n\
                  [[parameters]]\nkey = \"behaviour.life_event_rate\"\nprior = \"uniform\"\nlow = 0.1\nhigh = 1.2\n";
    let abc = "[abc]\nparticles = 60\ngenerations = 4\npredictive = 0\n";
    let first_day = parse_date(FIRST_DAY).unwrap();
    let (mut covered, mut total, mut draws) = ([0u32; 2], 0u64, 0u64);
    let mut width = [0.0f64; 2];
    while total < trials && draws < 3 * trials {
        let trial = draws;
        draws += 1;
        let mut rng = ChaCha8Rng::seed_from_u64(4000 + trial);
        let truth = [
            rand_distr::Uniform::new(0.05f64.ln(), 1.0f64.ln()).unwrap().sample(&mut rng).exp(),
            rand_distr::Uniform::new(0.1, 1.2).unwrap().sample(&mut rng),
        ];
        let mut generator = apply(&shop, &keys, &truth).unwrap();
        generator.simulation.seed = 500 + trial;
        generator.simulation.replications = 1;
        let request = DetailRequest { snapshot_ticks: Vec::new(), events: true, replications: 1 };
        let cfg = RunConfig { threads: 1, ..RunConfig::from_scenario(&generator) };
        let results = run_detailed(&generator, cfg, &|_| None, Some(&request), &|| {}).unwrap();
        let text = roster_csv(&results.details[0], &generator, 0, first_day);
        // A shop that had dissolved before its records began leaves no roster to fit.
        let Ok(roster) = Roster::parse(&text, "roster.csv", &shop) else { continue };
        let options = Options {
            resamples: 200,
            seed: trial,
            from: Some(first_day as f64),
            until: Some(first_day as f64 + 3.0 * 364.0),
            ..Options::default()
        };
        let Ok(derived) = from_roster::derive(&roster, &shop, &options) else { continue };
        let targets = from_roster::targets_toml("trial", "shop.toml", "roster.csv", &roster, &derived, &options)
            .replace(PRIORS, &format!("{abc}\n{priors}"))
            .replace("seed = 1\n", &format!("seed = {}\n", 77 + trial));
        assert!(targets.contains(abc), "the priors were not replaced");
        let t = Targets::parse(&targets, "trial.toml", &read).unwrap_or_else(|e| panic!("{e}\n{targets}"));
        let generations = calibrate::calibrate(&t, Default::default(), &|| false, &mut |_| {}).generations;
        let last = generations.last().unwrap();
        total += 1;
        for d in 0..2 {
            let m = posterior_marginal(last, d);
            covered[d] += u32::from(m.q05 <= truth[d] && truth[d] <= m.q95);
            width[d] += if d == 0 { (m.q95 / m.q05).ln() / 20f64.ln() } else { (m.q95 - m.q05) / 1.1 };
        }
    }
    assert_eq!(total, trials, "only {total} of {draws} drawn shops had a roster to fit");
    let coverage = covered.map(|c| f64::from(c) / total as f64);
    let relative = width.map(|w| w / total as f64);
    eprintln!(
        "roster chain over {total} trials ({draws} shops drawn): 90% interval coverage {coverage:?}; width relative to the prior's range {relative:?}"
    );
    for (d, c) in coverage.iter().enumerate() {
        assert!(*c >= 0.8, "{}: 90% intervals covered the truth in only {c:.2} of trials", keys[d]);
    }
    // The roster says something: how readily villagers join is pinned down far more narrowly
    // than its prior (a sampler that returned its prior would cover the truth too).
    assert!(relative[0] < 0.5, "join_max's posterior is hardly narrower than its prior: {}", relative[0]);
}

/// The shop's funding history (`scenarios/roster/funding.csv`) becomes its scenario's
/// schedule: a scenario file `run` takes, with the history's awards and changes, the
/// scenario's earlier award kept, and donations reported rather than applied.
#[test]
fn a_funding_history_becomes_a_scenario_that_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("funded.toml");
    let done = coprosim()
        .arg("funding")
        .arg(shipped("funding.csv"))
        .arg("--scenario")
        .arg(shipped("shop.toml"))
        .args(["--records-begin", "2022", "-o"])
        .arg(&out)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&done.get_output().stderr).to_string();
    assert!(stderr.contains("note: donations (663.333333 a year on average) are not applied"), "{stderr}");
    let funded = Scenario::load(&out).unwrap();
    let f = &funded.coalitions[0].funding;
    let grants: Vec<(f64, f64, f64, f64)> =
        f.grants.iter().map(|g| (g.amount, g.start_year, g.term_years, g.renewal_probability)).collect();
    assert_eq!(grants, [(331000.0, 0.0, 1.0, 0.0), (4000.0, 0.0, 23.0, 0.5)]);
    assert_eq!(f.earned_income, 15000.0);
    assert_eq!(funded.policy.changes.len(), 1);
    assert_eq!(
        (funded.policy.changes[0].year, funded.policy.changes[0].key.as_str()),
        (22.0, "coalitions.village_shop.funding.earned_income")
    );
    // Everything else is the shop's.
    let mut back = funded.clone();
    back.coalitions[0].funding = Scenario::load(&shipped("shop.toml")).unwrap().coalitions[0].funding.clone();
    back.policy.changes.clear();
    assert_eq!(back.to_toml(), Scenario::load(&shipped("shop.toml")).unwrap().to_toml());
    coprosim()
        .arg("run")
        .arg(&out)
        .args(["-n", "2", "-q", "--no-charts", "-o"])
        .arg(tmp.path().join("r"))
        .assert()
        .success();
    // Not over a file it did not write.
    let again = coprosim()
        .arg("funding")
        .arg(shipped("funding.csv"))
        .arg("--scenario")
        .arg(shipped("shop.toml"))
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&again.get_output().stderr).contains("pass --force"));
}
