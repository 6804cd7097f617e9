//! Warm starts end to end: `run --save-state` saves each replication at the end of its burn-in,
//! and `run --from-state` forks a policy from those states. A fork whose scenario differs only
//! in later policy is byte for byte the full run; anything else that would have changed the
//! burn-in, or a state that is not the one it claims to be, is refused with exit 2 and nothing
//! written.

mod common;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn coprosim() -> Command {
    Command::cargo_bin("coprosim").unwrap()
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Run `scenario` into `out` with `extra` flags (two replications unless they say, no charts,
/// quiet).
fn run(scenario: &Path, out: &Path, extra: &[&str]) {
    let n: &[&str] = if extra.contains(&"-n") { &[] } else { &["-n", "2"] };
    coprosim()
        .arg("run")
        .arg(scenario)
        .args(n)
        .args(["-q", "--no-charts", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

/// Every file of a result but its manifest and warm states, by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file() && e.file_name() != "manifest.json")
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    assert!(out.len() >= 5, "{}: {:?}", dir.display(), out.iter().map(|f| &f.0).collect::<Vec<_>>());
    out
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn assert_same(a: &Path, b: &Path) {
    let (x, y) = (files(a), files(b));
    assert_eq!(x.iter().map(|f| &f.0).collect::<Vec<_>>(), y.iter().map(|f| &f.0).collect::<Vec<_>>());
    for ((name, p), (_, q)) in x.iter().zip(&y) {
        assert!(p == q, "{name} differs between {} and {}", a.display(), b.display());
    }
}

/// Each shipped experiment and preset, forked from its own states, is its own full run: the
/// saved state holds everything the recorded years read.
#[test]
fn every_shipped_scenario_forked_from_its_own_states_is_its_full_run() {
    let tmp = tempfile::tempdir().unwrap();
    let mut scenarios: Vec<PathBuf> = ["scenarios/experiments", "scenarios/presets"]
        .iter()
        .flat_map(|d| std::fs::read_dir(repo(d)).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    scenarios.sort();
    assert_eq!(scenarios.len(), 17);
    for (k, scenario) in scenarios.iter().enumerate() {
        let (full, fork) = (tmp.path().join(format!("full{k}")), tmp.path().join(format!("fork{k}")));
        run(scenario, &full, &["--save-state", "-j", "2"]);
        let m = manifest(&full);
        for r in 0..2 {
            let rel = format!("warm/replication-{r:06}.state");
            let bytes = std::fs::read(full.join(&rel)).unwrap();
            assert_eq!(m["files"][&rel].as_str().unwrap(), coprosim::output::sha256_hex(&bytes), "{rel} listed");
        }
        run(scenario, &fork, &["--from-state", full.to_str().unwrap(), "-j", "1"]);
        assert_same(&full, &fork);
        let from = &manifest(&fork)["from_state"];
        assert_eq!(from["applied_at_burn_in_end"], serde_json::json!([]), "{}", scenario.display());
    }
}

/// The experiment pairs whose treatment differs only in a later shock or policy change: the
/// treatment forked from the control's states is the treatment's full run, on one thread and
/// two.
#[test]
fn a_policy_forked_from_its_controls_states_is_its_full_run() {
    let tmp = tempfile::tempdir().unwrap();
    for (control, treatment) in [("austerity_base", "austerity_cut"), ("purposive_aligned", "purposive_goal_raised")] {
        let control = repo(&format!("scenarios/experiments/{control}.toml"));
        let treatment = repo(&format!("scenarios/experiments/{treatment}.toml"));
        let states = tmp.path().join("states");
        run(&control, &states, &["--save-state", "--force"]);
        let full = tmp.path().join("full");
        run(&treatment, &full, &["--force"]);
        for threads in ["1", "2"] {
            let fork = tmp.path().join(format!("fork{threads}"));
            run(&treatment, &fork, &["--from-state", states.to_str().unwrap(), "-j", threads, "--force"]);
            assert_same(&full, &fork);
            let from = &manifest(&fork)["from_state"];
            assert_eq!(from["applied_at_burn_in_end"], serde_json::json!([]));
            assert_eq!(from["later_policy"].as_array().unwrap().len(), 1, "{from}");
        }
        // The control's own results differ: the later policy made a difference.
        assert_ne!(std::fs::read(states.join("series.csv")).unwrap(), std::fs::read(full.join("series.csv")).unwrap());
    }
}

/// A treatment that differs in a setting that can change during a run (outreach) forks with
/// the setting applied from the end of the burn-in, and says so.
#[test]
fn a_changed_setting_takes_effect_from_the_end_of_the_burn_in_and_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let states = tmp.path().join("states");
    run(&repo("scenarios/experiments/professionalisation_light.toml"), &states, &["--save-state"]);
    let fork = tmp.path().join("fork");
    let out = coprosim()
        .arg("run")
        .arg(repo("scenarios/experiments/professionalisation_heavy.toml"))
        .args(["-n", "2", "--no-charts", "--from-state"])
        .arg(&states)
        .arg("--out")
        .arg(&fork)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(stderr.contains("note: from the end of the burn-in (year 0)"), "{stderr}");
    assert!(stderr.contains("policy.performance_regime 0.1 -> 0.9"), "{stderr}");
    let from = &manifest(&fork)["from_state"];
    assert_eq!(from["applied_at_burn_in_end"], serde_json::json!(["policy.performance_regime: 0.1 -> 0.9"]));
}

/// A small town with a five-year burn-in.
const TOWN: &str = concat!(
    r#"
name = "warm_town"
[simulation]
years = 2
burn_in_years = 5
replications = 3
seed = 11
"#,
    two_programmes!()
);

fn town_states(dir: &Path) -> PathBuf {
    let scenario = dir.join("town.toml");
    std::fs::write(&scenario, TOWN).unwrap();
    let states = dir.join("states");
    run(&scenario, &states, &["--save-state", "-n", "3"]);
    states
}

/// Fork `text` from `states` into `dir/out`, expecting exit 2 and nothing written; the lines
/// of standard error.
fn refused(dir: &Path, states: &Path, text: &str, extra: &[&str]) -> Vec<String> {
    let scenario = dir.join("policy.toml");
    std::fs::write(&scenario, text).unwrap();
    let out = dir.join("out");
    let assert = coprosim()
        .arg("run")
        .arg(&scenario)
        .args(["--no-charts", "--from-state"])
        .arg(states)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .assert()
        .code(2);
    assert!(!out.exists(), "nothing is written");
    String::from_utf8_lossy(&assert.get_output().stderr).lines().map(str::to_string).collect()
}

#[test]
fn what_would_have_changed_the_burn_in_is_refused_key_by_key_located() {
    let tmp = tempfile::tempdir().unwrap();
    let states = town_states(tmp.path());
    let policy = TOWN
        .replace("size = 400", "size = 500")
        .replace("[simulation]", "[behaviour]\naspiration_mean = 0.2\n[policy]\nperformance_regime = 0.3\n[[policy.shocks]]\nyear = 2\ncut = 0.5\n[simulation]");
    let lines = refused(tmp.path(), &states, &policy, &[]);
    let located: Vec<&String> = lines.iter().filter(|l| l.contains("policy.toml:")).collect();
    assert_eq!(located.len(), 3, "{lines:#?}");
    for (key, line) in [("behaviour.aspiration_mean", 4), ("policy.shocks", 7), ("population.size", 17)] {
        assert!(
            located
                .iter()
                .any(|l| l.starts_with(&format!("error: {}:{line}:", tmp.path().join("policy.toml").display()))
                    && l.contains(&format!(" {key}: found"))),
            "{key} at line {line} in {lines:#?}"
        );
    }
    // A setting that can change during a run (the regime) is not refused.
    assert!(!lines.iter().any(|l| l.contains("performance_regime")), "{lines:#?}");
}

#[test]
fn a_corrupted_state_another_version_or_seed_or_too_few_states_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let states = town_states(tmp.path());
    // Another seed.
    let lines = refused(tmp.path(), &states, TOWN, &["--seed", "12"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("error: --seed: found 12, expected 11"), "{lines:?}");
    // More replications than states.
    let lines = refused(tmp.path(), &states, TOWN, &["-n", "4"]);
    assert!(lines[0].contains("found 3 saved states, expected at least the 4 replications"), "{lines:?}");
    // A state saved by another version of the tool (its checksums made consistent).
    let path = states.join("warm/replication-000000.state");
    let original = std::fs::read(&path).unwrap();
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    let at = original.windows(version.len()).position(|w| w == version).unwrap();
    let mut other = original.clone();
    other[at + version.len() - 1] ^= 1;
    let body = other.len() - 32;
    use sha2::Digest;
    let sum = sha2::Sha256::digest(&other[..body]);
    other[body..].copy_from_slice(&sum);
    std::fs::write(&path, &other).unwrap();
    let manifest_path = states.join("manifest.json");
    let listed = std::fs::read_to_string(&manifest_path).unwrap();
    let relisted = listed.replace(&coprosim::output::sha256_hex(&original), &coprosim::output::sha256_hex(&other));
    std::fs::write(&manifest_path, relisted).unwrap();
    let lines = refused(tmp.path(), &states, TOWN, &[]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("replication-000000.state: saved by coprosim"), "{lines:?}");
    // A corrupted byte in a state (the manifest's checksum no longer matches).
    std::fs::write(&manifest_path, listed).unwrap();
    let mut corrupted = original.clone();
    corrupted[original.len() / 2] ^= 0x40;
    std::fs::write(&path, &corrupted).unwrap();
    let lines = refused(tmp.path(), &states, TOWN, &[]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("replication-000000.state: corrupted"), "{lines:?}");
    // A later replication's state, found corrupted as the run reaches it.
    std::fs::write(&path, &original).unwrap();
    let second = states.join("warm/replication-000002.state");
    let mut bytes = std::fs::read(&second).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    std::fs::write(&second, &bytes).unwrap();
    let lines = refused(tmp.path(), &states, TOWN, &[]);
    assert!(lines.iter().any(|l| l.contains("replication 2:") && l.contains("corrupted")), "{lines:?}");
    // A directory without states.
    let plain = tmp.path().join("plain");
    run(&tmp.path().join("town.toml"), &plain, &[]);
    let lines = refused(tmp.path(), &plain, TOWN, &[]);
    assert!(lines[0].contains("holds no warm states"), "{lines:?}");
}

/// A sweep of later policies on common random numbers shares each replication's burn-in (and
/// the recorded years before the policies differ) and gives the same bytes as with `--cold`;
/// common random numbers make the points paired (point 0's streams everywhere).
#[test]
fn a_sweep_of_later_policies_shares_its_burn_ins_with_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let base =
        TOWN.replace("[simulation]", "[[policy.shocks]]\nyear = 6\nstream = \"contract\"\ncut = 0.5\n[simulation]");
    std::fs::write(tmp.path().join("town.toml"), base).unwrap();
    let sweep = |crn: bool| {
        format!(
            "name = \"depth\"\nbase = \"town.toml\"\nreplications = 3\nseed = 5\ncommon_random_numbers = {crn}\noutputs = [\"final_members\", \"annual_retention\"]\nseries = [\"members\"]\n[[axes]]\nkey = \"policy.shocks[0].cut\"\nvalues = [0.0, 0.4, 0.8, 1.0]\n"
        )
    };
    let file = tmp.path().join("depth.toml");
    std::fs::write(&file, sweep(true)).unwrap();
    let go = |out: &str, extra: &[&str]| {
        let dir = tmp.path().join(out);
        coprosim().arg("sweep").arg(&file).args(["-q", "--no-charts", "-o"]).arg(&dir).args(extra).assert().success();
        dir
    };
    let (warm, cold) = (go("warm", &[]), go("cold", &["--cold", "-j", "1"]));
    for name in ["points.csv", "replications.csv", "series.csv"] {
        let a = std::fs::read(warm.join(name)).unwrap();
        assert!(a == std::fs::read(cold.join(name)).unwrap(), "{name} differs with --cold");
    }
    // Paired: before the cut in year 6 every point has the same members in each replication.
    let series = std::fs::read_to_string(warm.join("series.csv")).unwrap();
    assert!(series.starts_with("point,policy.shocks[0].cut,series,series_label,year,mean,ci95_low,ci95_high,sd,n\n"));
    let year = |y: &str| -> Vec<String> {
        series.lines().filter(|l| l.split(',').nth(4) == Some(y)).map(|l| l.split(',').skip(5).collect()).collect()
    };
    let (year5, year7) = (year("5"), year("7"));
    assert_eq!(year5.len(), 4, "{series}");
    assert!(year5.iter().all(|m| *m == year5[0]), "{year5:?}");
    assert!(year7.iter().any(|m| *m != year7[0]), "the cut makes a difference by year 7: {year7:?}");
    // Without common random numbers each point draws its own streams.
    std::fs::write(&file, sweep(false)).unwrap();
    let own = go("own", &[]);
    assert_ne!(std::fs::read(own.join("points.csv")).unwrap(), std::fs::read(warm.join("points.csv")).unwrap());
    // Sobol and Morris designs refuse it, located.
    std::fs::write(&file, sweep(true) + "[design]\nkind = \"sobol\"\nbase_samples = 4\n").unwrap();
    let out = coprosim().arg("check").arg(&file).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("depth.toml:5:") && stderr.contains("common_random_numbers: found true with a Sobol"),
        "{stderr}"
    );
}
