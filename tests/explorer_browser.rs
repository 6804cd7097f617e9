//! The explorer in a real browser: `coprosim explore` writes the page for the baseline with
//! the community centre's contract cut in year 43 (so that the page has a policy to mark),
//! headless Chromium (driven by playwright-core, tests/browser/explorer.mjs) loads it, waits
//! for the first run, moves the clubhouse's contract to zero and waits for the rerun, then
//! moves the funding cut (a lever acting after the burn-in, so the workers start each
//! replication from the state they kept) and waits for that rerun. The test then checks that
//! the charts were drawn, that the headline numbers moved the way cutting a programme's only
//! public money should move them, that the page's results are bit for bit a native run's
//! (`Results::digest`), the rerun from kept states included, and that they equal, as text,
//! the `summary.csv` that `coprosim run` writes for the scenario the page saves.
//!
//! Needs a coprosim built with the WebAssembly target, Debian's chromium, Node and
//! `npm ci --prefix tests/browser` (`.ci/run` provides all four). Without them this test
//! fails under CI (`CI` set) and elsewhere is reported as ignored with the reason, which is
//! why it has its own harness (libtest-mimic).

use assert_cmd::Command;
use common::chromium;
use serde_json::Value;
use std::path::Path;

mod common;

const LEVER: &str = "coalitions[youth_clubhouse].funding.contract.amount";
/// A lever that acts after the burn-in, and the value it is moved to.
const LATER: (&str, &str) = ("cut.share", "0.5");

/// The `summary.csv` columns the page's headline must equal.
const COLUMNS: [&str; 8] = ["metric", "coalition", "group", "mean", "ci95_low", "ci95_high", "p05", "p95"];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Why the test cannot run here, if it cannot.
fn missing() -> Option<String> {
    if let Some(why) = coprosim::output::explorer::unavailable() {
        return Some(why.to_string());
    }
    if chromium().is_none() {
        return Some("no chromium on PATH: install Debian's chromium or set COPROSIM_CHROMIUM".into());
    }
    if std::process::Command::new("node").arg("--version").output().is_err() {
        return Some("no node on PATH".into());
    }
    if !repo().join("tests/browser/node_modules/playwright-core").is_dir() {
        return Some("playwright-core is not installed: npm ci --prefix tests/browser".into());
    }
    None
}

fn rows(v: &Value) -> &Vec<Value> {
    v.as_array().expect("an array of headline rows")
}

fn mean_of(headline: &Value, metric: &str, coalition: &str) -> f64 {
    rows(headline)
        .iter()
        .find(|r| r["metric"] == metric && r["coalition"] == coalition && r["group"] == "all")
        .and_then(|r| r["mean"].as_str()?.parse().ok())
        .unwrap_or_else(|| panic!("no {metric} for {coalition} in the headline"))
}

fn explorer_in_a_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("explorer.html");
    let baseline = std::fs::read_to_string(repo().join("scenarios/baseline.toml")).unwrap();
    let scenario = tmp.path().join("cut.toml");
    std::fs::write(
        &scenario,
        format!("{baseline}\n[[policy.shocks]]\nyear = 43\ncut = 0.6\ncoalition = \"community_centre\"\n"),
    )
    .unwrap();
    Command::cargo_bin("coprosim").unwrap().args(["explore", "-q", "-o"]).arg(&page).arg(&scenario).assert().success();
    let (result, shot) = (tmp.path().join("seen.json"), repo().join("target/explorer.png"));
    let out = std::process::Command::new("node")
        .arg(repo().join("tests/browser/explorer.mjs"))
        .arg(&page)
        .arg(LEVER)
        .arg(&result)
        .arg(&shot)
        .args([LATER.0, LATER.1])
        .env("COPROSIM_CHROMIUM", chromium().unwrap())
        .output()
        .expect("node runs");
    assert!(out.status.success(), "the browser script failed: {}", String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_slice(&std::fs::read(&result).unwrap()).unwrap();
    assert_eq!(seen["errors"], serde_json::json!([]), "the page reported errors");
    assert_eq!(seen["moved"], true, "no slider for {LEVER}");
    assert_eq!(seen["movedLater"], true, "no slider for {}", LATER.0);
    let (first, second, third) = (&seen["first"], &seen["second"], &seen["third"]);
    for run in [first, second, third] {
        assert!(run["error"].is_null(), "the page failed: {}", run["error"]);
        assert!(run["workers"].as_u64().unwrap() >= 1);
        assert_eq!(run["replications"], 20);
        assert!(run["charts"].as_u64().unwrap() >= 6 && run["polylines"].as_u64().unwrap() >= 6, "{run}");
        // The cut is marked, labelled, on each of the five panels against years from founding
        // (not on the one against years since joining).
        // (The third run's cut of every coalition is marked besides.)
        assert_eq!(run["marks"], if std::ptr::eq(run, third) { 10 } else { 5 }, "{run}");
        assert!(rows(&run["labels"]).iter().any(|t| t == "contract cut 60% (community_centre)"), "{run}");
        // The table shows the numbers the model returned.
        let shown: Vec<&Value> = rows(&run["shown"]).iter().map(|r| &r["mean"]).collect();
        let returned: Vec<&Value> = rows(&run["headline"]).iter().map(|r| &r["mean"]).collect();
        assert_eq!(shown, returned);
    }
    eprintln!(
        "explorer: warmed up in {:.2} s; 20 replications of the baseline in {:.2} s, then {:.2} s after the lever moved, {:.2} s after the cut moved (from kept states; {} workers)",
        first["warmUpMs"].as_f64().unwrap() / 1000.0,
        first["ms"].as_f64().unwrap() / 1000.0,
        second["ms"].as_f64().unwrap() / 1000.0,
        third["ms"].as_f64().unwrap() / 1000.0,
        first["workers"]
    );
    // Without its contract (99% of its income) the youth clubhouse loses members or closes.
    let (before, after) = (
        mean_of(&first["headline"], "final_members", "youth_clubhouse"),
        mean_of(&second["headline"], "final_members", "youth_clubhouse"),
    );
    assert!(after < before * 0.8, "clubhouse members: {before} with its contract, {after} without");
    // Bit for bit: the page's run (WebAssembly, replications shared among workers) has the
    // digest of every reported number that a native run of the saved scenario has.
    let saved = coprosim::scenario::Scenario::parse(second["scenario"].as_str().unwrap(), "saved.toml").unwrap();
    let cfg = coprosim::engine::RunConfig {
        replications: saved.simulation.replications,
        seed: saved.simulation.seed,
        threads: 2,
    };
    assert_eq!(second["digest"], coprosim::engine::run(&saved, cfg, &|| {}).unwrap().digest());
    // The rerun from kept states: the cut's full run, bit for bit, and the cut in it.
    let cut = coprosim::scenario::Scenario::parse(third["scenario"].as_str().unwrap(), "cut.toml").unwrap();
    assert_eq!(cut.policy.shocks.len(), saved.policy.shocks.len() + 1);
    assert_eq!(coprosim::engine::warm::burn_in_identity(&cut), coprosim::engine::warm::burn_in_identity(&saved));
    assert_eq!(third["digest"], coprosim::engine::run(&cut, cfg, &|| {}).unwrap().digest());
    assert_ne!(third["digest"], second["digest"]);
    // The saved scenario reproduces the page's numbers with the command line, to the digit.
    let saved = tmp.path().join("saved.toml");
    std::fs::write(&saved, second["scenario"].as_str().unwrap()).unwrap();
    let run = tmp.path().join("run");
    Command::cargo_bin("coprosim")
        .unwrap()
        .args(["run", "-q", "--no-charts", "-o"])
        .arg(&run)
        .arg(&saved)
        .assert()
        .success();
    let mut csv = csv::Reader::from_path(run.join("summary.csv")).unwrap();
    let headers = csv.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let file: Vec<Vec<String>> = csv
        .records()
        .map(|r| {
            let r = r.unwrap();
            COLUMNS.iter().map(|c| r[col(c)].to_string()).collect()
        })
        .collect();
    let page: Vec<Vec<String>> = rows(&second["headline"])
        .iter()
        .map(|r| COLUMNS.iter().map(|c| r[*c].as_str().unwrap_or_default().to_string()).collect())
        .collect();
    assert_eq!(page, file, "the page's headline differs from coprosim run's summary.csv");
}

fn main() {
    use libtest_mimic::{Arguments, Completion, Failed, Trial};
    let trial = Trial::ignorable_test("explorer_reruns_in_a_real_browser_and_agrees_with_the_command_line", || {
        match missing() {
            None => {
                explorer_in_a_browser();
                Ok(Completion::Completed)
            }
            Some(why) if std::env::var_os("CI").is_some() => {
                Err(Failed::from(format!("{why}: .ci/run must provide it")))
            }
            Some(why) => Ok(Completion::ignored_with(why)),
        }
    });
    libtest_mimic::run(&Arguments::from_args(), vec![trial]).exit();
}
