//! Calibration end to end: the `calibrate` command's files, their independence of the thread
//! count, resuming after an interruption to the same bytes, posterior predictive runs, and a
//! simulation-based calibration check of the method on coprosim itself (the credible
//! intervals contain the parameters that generated synthetic data at about their nominal
//! rate).

use assert_cmd::Command;
use common::TINY_TOWN;
use coprosim::inference::targets::Targets;
use coprosim::inference::{calibrate, coverage};
use coprosim::input::Load;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

mod common;

fn coprosim() -> Command {
    Command::cargo_bin("coprosim").unwrap()
}

const FIT: &str = r#"
[[observed]]
metric = "annual_retention"
value = 0.7
sd = 0.04
source = "synthetic"

[[observed]]
metric = "participants"
value = 45
sd = 6

[[observed]]
series = "members"
coalition = "club"
year = 2
value = 22
low = 18
high = 26

[[observed]]
survival_weeks = 52
value = 0.7
sd = 0.06
held_out = true

[[parameters]]
key = "behaviour.base_exit"
prior = "uniform"
low = 0.05
high = 0.8

[[parameters]]
key = "behaviour.join_max"
prior = "log_uniform"
low = 0.02
high = 0.5
"#;

fn targets_text(abc: &str) -> String {
    format!("name = \"tiny\"\nseed = 3\n[abc]\n{abc}\n{TINY_TOWN}\n{FIT}")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const DATA: [&str; 6] =
    ["posterior.csv", "generations.csv", "summary.csv", "predictive.csv", "generations.jsonl", "calibration.json"];

fn data(dir: &Path) -> Vec<Vec<u8>> {
    DATA.iter().map(|f| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))).collect()
}

#[test]
fn calibrate_writes_every_output_and_the_same_bytes_on_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "tiny.toml", &targets_text("particles = 40\ngenerations = 4\npredictive = 20"));
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    coprosim().arg("calibrate").arg(&file).arg("-o").arg(&one).args(["-j", "1"]).assert().success();
    coprosim()
        .arg("calibrate")
        .arg(&file)
        .arg("-o")
        .arg(&two)
        .args(["-j", "2", "--no-charts", "-q"])
        .assert()
        .success();
    assert_eq!(data(&one), data(&two), "thread count changed the results");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["kind"], "calibration");
    assert_eq!(manifest["complete"], true);
    let files = manifest["files"].as_object().unwrap();
    for name in DATA.iter().chain(&[
        "report.html",
        "charts/posterior_marginals.png",
        "charts/posterior_pairs.svg",
        "charts/posterior_predictive.png",
        "charts/generations.png",
    ]) {
        let sha = files.get(*name).unwrap_or_else(|| panic!("{name} not in the manifest"));
        let bytes = std::fs::read(one.join(name)).unwrap();
        assert_eq!(sha.as_str().unwrap(), coprosim::output::sha256_hex(&bytes), "{name}");
    }
    let posterior = std::fs::read_to_string(one.join("posterior.csv")).unwrap();
    assert!(posterior.starts_with("generation,particle,weight,distance,behaviour.base_exit,behaviour.join_max\n"));
    let generations = std::fs::read_to_string(one.join("generations.csv")).unwrap();
    assert_eq!(generations.lines().count(), 1 + 4, "{generations}");
    let summary = std::fs::read_to_string(one.join("summary.csv")).unwrap();
    assert!(summary.contains("parameter,behaviour.base_exit,\"uniform(0.05, 0.8)\""), "{summary}");
    assert!(summary.contains("statistic,survival@52weeks,,0.7,0.06,true,"), "{summary}");
    assert!(summary.contains("statistic,members@year2[club/all],,22,"), "{summary}");
    let report = std::fs::read_to_string(one.join("report.html")).unwrap();
    for needle in ["<h2>Posterior</h2>", "behaviour.join_max", "(held out)", "data:image/png;base64,"] {
        assert!(report.contains(needle), "report lacks {needle}");
    }
    // Weights of the last generation sum to one; the tolerance schedule never rises.
    let last: Vec<f64> = posterior
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("3,"))
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(last.len(), 40);
    assert!((last.iter().sum::<f64>() - 1.0).abs() < 1e-9);

    // `plot` redraws the charts and report from the files alone, to the same bytes.
    let drawn: Vec<Vec<u8>> = ["report.html", "charts/posterior_marginals.svg", "charts/posterior_pairs.png"]
        .iter()
        .map(|f| std::fs::read(one.join(f)).unwrap())
        .collect();
    for f in ["report.html", "charts/posterior_marginals.svg", "charts/posterior_pairs.png"] {
        std::fs::remove_file(one.join(f)).unwrap();
    }
    coprosim().arg("plot").arg(&one).assert().success();
    let redrawn: Vec<Vec<u8>> = ["report.html", "charts/posterior_marginals.svg", "charts/posterior_pairs.png"]
        .iter()
        .map(|f| std::fs::read(one.join(f)).unwrap())
        .collect();
    assert!(drawn == redrawn, "plot redrew different charts");

    // A rerun into the finished result resumes from its log: the same bytes, no new sampling.
    let out =
        coprosim().arg("calibrate").arg(&file).arg("-o").arg(&one).args(["-j", "2", "--no-charts"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("4 generations"), "{text}");
    assert_eq!(data(&one), data(&two));
}

/// `next generation=G attempt=A` from a merge step's standard output, or None once finished.
fn next_attempts(stdout: &[u8]) -> Option<(u64, u64)> {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("next generation="))?;
    let (g, a) = line.split_once(" attempt=").expect("the next line names an attempt");
    Some((g.parse().unwrap(), a.parse().unwrap()))
}

#[test]
fn a_calibration_computed_as_blocks_elsewhere_is_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "tiny.toml", &targets_text("particles = 40\ngenerations = 3\npredictive = 10"));
    let (local, merged, blocks) = (tmp.path().join("local"), tmp.path().join("merged"), tmp.path().join("blocks"));
    coprosim().arg("calibrate").arg(&file).arg("-o").arg(&local).args(["-q", "--no-charts"]).assert().success();

    // The merge step and its tasks, as scripts/slurm/calibrate.sh chains them: each stretch
    // of attempts as two blocks of 64, the later one computed first.
    let merge = || {
        coprosim()
            .arg("calibrate")
            .arg(&file)
            .arg("-o")
            .arg(&merged)
            .arg("--blocks")
            .arg(&blocks)
            .args(["-q", "--no-charts"])
            .assert()
            .success()
    };
    let task = |g: u64, first: u64| {
        coprosim()
            .arg("calibrate")
            .arg(&file)
            .arg("-o")
            .arg(&merged)
            .arg("--blocks")
            .arg(&blocks)
            .args(["--block", &format!("{g}:{first}:64"), "-j", "1"])
            .assert()
            .success()
    };
    let (mut stretches, mut damaged) = (0, None);
    loop {
        let out = merge();
        let Some((g, a)) = next_attempts(&out.get_output().stdout) else { break };
        let notes = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        if let Some((path, at)) = &damaged {
            // A damaged block is not used: the merge asks again for its attempts, and says why.
            assert_eq!((g, a), *at, "the merge went on past a damaged block");
            assert!(notes.contains("note: ignored") && notes.contains(path), "{notes}");
            damaged = None;
        }
        stretches += 1;
        task(g, a + 64);
        let first = task(g, a);
        // A rerun of a finished task keeps its verified block.
        let again = task(g, a);
        assert!(String::from_utf8_lossy(&again.get_output().stdout).contains("already computed"));
        if stretches == 2 {
            // A block torn or edited after it was written (flip one byte of its data).
            let shown = String::from_utf8_lossy(&first.get_output().stdout).into_owned();
            let path = shown.rsplit("wrote ").next().unwrap().trim().to_string();
            let mut bytes = std::fs::read(&path).unwrap();
            let at = bytes.len() / 2;
            bytes[at] ^= 0x01;
            std::fs::write(&path, bytes).unwrap();
            damaged = Some((path, (g, a)));
        }
    }
    assert!(stretches >= 4, "{stretches} stretches of attempts");
    assert!(damaged.is_none(), "the damaged block was never asked for again");
    assert_eq!(data(&local), data(&merged), "blocks computed apart changed the calibration");

    // A task for a generation whose past is not saved yet, or with a malformed block, is bad
    // input; a finished calibration needs no more blocks.
    let fresh = tmp.path().join("fresh");
    let early = coprosim()
        .arg("calibrate")
        .arg(&file)
        .arg("-o")
        .arg(&fresh)
        .arg("--blocks")
        .arg(&blocks)
        .args(["--block", "2:0:64"])
        .assert()
        .code(2);
    let said = String::from_utf8_lossy(&early.get_output().stderr).into_owned();
    assert!(said.contains("cannot be proposed yet"), "{said}");
    for bad in ["1:10:64", "1:0:0", "1:0", "x:0:64", "1:0:100"] {
        let refused = coprosim()
            .arg("calibrate")
            .arg(&file)
            .arg("-o")
            .arg(&fresh)
            .arg("--blocks")
            .arg(&blocks)
            .args(["--block", bad])
            .assert()
            .code(2);
        let said = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
        assert!(said.contains("expected G:FIRST:COUNT"), "{bad}: {said}");
    }
    assert!(!fresh.exists(), "a refused task wrote something");
    coprosim().arg("calibrate").arg(&file).args(["--block", "0:0:64"]).assert().code(2);
    let done = task(1, 0);
    assert!(String::from_utf8_lossy(&done.get_output().stdout).contains("needs no attempts"));
}

#[test]
fn the_slurm_calibration_script_refuses_what_it_cannot_run() {
    let tmp = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm/calibrate.sh");
    let targets = write(tmp.path(), "tiny.toml", &targets_text("particles = 40"));
    let run = |path: &Path, args: &[&str]| {
        let out = std::process::Command::new("/bin/bash")
            .arg(&script)
            .arg(&targets)
            .args(args)
            .env("PATH", format!("{}:/usr/bin:/bin", path.display()))
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // No Slurm on the PATH: say so, and how to calibrate here instead.
    let bare = tmp.path().join("bare");
    std::fs::create_dir(&bare).unwrap();
    let out = std::process::Command::new("/bin/bash")
        .arg(&script)
        .args(["t.toml", "out", "4"])
        .env("PATH", &bare)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Slurm is not installed here") && stderr.contains("coprosim calibrate t.toml"), "{stderr}");
    // A Slurm that answers (stand-ins that record any submission): bad counts are refused
    // before anything is submitted.
    let fake = tmp.path().join("fake");
    std::fs::create_dir(&fake).unwrap();
    let submitted = tmp.path().join("submitted");
    for (name, body) in [("sinfo", "exit 0".to_string()), ("sbatch", format!("touch {}; echo 1", submitted.display()))]
    {
        let path = fake.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let out_dir = tmp.path().join("out").display().to_string();
    for (args, expected) in [
        (vec![out_dir.as_str(), "0"], "expected a whole number of array tasks"),
        (vec![out_dir.as_str(), "2", "--attempts-per-task", "100"], "expected a positive multiple of 64"),
    ] {
        let (code, stderr) = run(&fake, &args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert!(!submitted.exists(), "a refused calibration submitted a job");
}

#[test]
fn check_coverage_writes_ranks_and_coverage_the_same_on_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let text = targets_text("particles = 40\ngenerations = 3\npredictive = 0")
        .replace("[scenario.population]", "[scenario.behaviour]\nlife_event_rate = 0.0\n[scenario.population]");
    let file = write(tmp.path(), "tiny.toml", &text);
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let out = coprosim()
        .arg("calibrate")
        .arg(&file)
        .args(["--check-coverage", "20", "-j", "1", "-o"])
        .arg(&one)
        .assert()
        .success();
    let said = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(said.contains("20 trials") && said.contains("90% intervals covered"), "{said}");
    coprosim()
        .arg("calibrate")
        .arg(&file)
        .args(["--check-coverage", "20", "-j", "2", "-q", "-o"])
        .arg(&two)
        .assert()
        .success();
    let files =
        ["coverage.json", "ranks.csv", "coverage.csv", "charts/coverage_ranks.svg", "charts/coverage_ranks.png"];
    for f in files {
        assert_eq!(std::fs::read(one.join(f)).unwrap(), std::fs::read(two.join(f)).unwrap(), "{f}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.join("manifest.json")).unwrap()).unwrap();
    assert_eq!((manifest["kind"].as_str(), manifest["complete"].as_bool()), (Some("coverage"), Some(true)));
    for f in files {
        let sha = manifest["files"][f].as_str().unwrap_or_else(|| panic!("{f} not in the manifest"));
        assert_eq!(sha, coprosim::output::sha256_hex(&std::fs::read(one.join(f)).unwrap()), "{f}");
    }
    // A row per trial and parameter, ranks in 0..=99, and the flags agree with the intervals.
    let ranks = std::fs::read_to_string(one.join("ranks.csv")).unwrap();
    let rows: Vec<Vec<&str>> = ranks.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 20 * 2, "{ranks}");
    for r in &rows {
        let rank: u32 = r[3].parse().unwrap();
        assert!(rank <= 99);
        let [truth, q05, q95]: [f64; 3] = [2, 4, 7].map(|i| r[i].parse().unwrap());
        assert_eq!(r[9] == "true", q05 <= truth && truth <= q95, "{r:?}");
    }
    // The summary counts what the rows say, with a Wilson interval around the rate.
    let summary = std::fs::read_to_string(one.join("coverage.csv")).unwrap();
    // (Read from the end: the prior before them is quoted, with a comma.)
    let base_exit: Vec<&str> =
        summary.lines().find(|l| l.starts_with("behaviour.base_exit,")).unwrap().rsplit(',').take(6).collect();
    let covered = rows.iter().filter(|r| r[1] == "behaviour.base_exit" && r[9] == "true").count();
    assert_eq!(base_exit[5], covered.to_string(), "{summary}");
    let (low, high): (f64, f64) = (base_exit[3].parse().unwrap(), base_exit[2].parse().unwrap());
    let rate = covered as f64 / 20.0;
    assert!(0.0 <= low && low <= rate && rate <= high && high <= 1.0, "{summary}");
    // plot redraws the histograms from ranks.csv alone, to the same bytes.
    let drawn = std::fs::read(one.join("charts/coverage_ranks.svg")).unwrap();
    std::fs::remove_file(one.join("charts/coverage_ranks.svg")).unwrap();
    coprosim().arg("plot").arg(&one).assert().success();
    assert!(drawn == std::fs::read(one.join("charts/coverage_ranks.svg")).unwrap(), "plot drew other ranks");
    coprosim()
        .arg("calibrate")
        .arg(&file)
        .args(["--check-coverage", "0", "-o"])
        .arg(tmp.path().join("z"))
        .assert()
        .code(2);
}

#[test]
fn a_budget_cut_generation_is_kept_and_a_larger_budget_goes_on_from_it() {
    let tmp = tempfile::tempdir().unwrap();
    let abc = |budget: u32, generations: u32| {
        format!("particles = 40\ngenerations = {generations}\npredictive = 10\nbudget = {budget}")
    };
    let small = write(tmp.path(), "small.toml", &targets_text(&abc(300, 6)));
    let large = write(tmp.path(), "large.toml", &targets_text(&abc(5_000, 6)));
    let fewer = write(tmp.path(), "fewer.toml", &targets_text(&abc(5_000, 3)));
    let calibrate = |file: &Path, out: &Path| {
        let done = coprosim().arg("calibrate").arg(file).arg("-o").arg(out).arg("--no-charts").assert().success();
        let output = done.get_output();
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
    };
    let (grown, fresh) = (tmp.path().join("grown"), tmp.path().join("fresh"));
    let said = calibrate(&small, &grown);
    assert!(said.contains("attempts are kept"), "{said}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(grown.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["simulations_discarded"].as_u64().unwrap() > 0);
    let sha = manifest["files"]["unfinished_generation.jsonl"].as_str().expect("the kept attempts are listed");
    assert_eq!(sha, coprosim::output::sha256_hex(&std::fs::read(grown.join("unfinished_generation.jsonl")).unwrap()));
    // The same targets with a larger budget are the same calibration: a rerun into the result
    // goes on from its generations and the cut one's attempts, to a fresh run's bytes.
    let said = calibrate(&large, &grown);
    assert!(said.contains("resuming:") && said.contains("attempts of generation"), "{said}");
    calibrate(&large, &fresh);
    assert_eq!(data(&grown), data(&fresh), "a resumed larger budget changed the calibration");
    assert!(!grown.join("unfinished_generation.jsonl").exists(), "a finished calibration kept stale attempts");
    // Fewer generations: the saved ones are reused only as far as these rules go.
    let (shrunk, fresh_fewer) = (tmp.path().join("fresh"), tmp.path().join("fresh_fewer"));
    calibrate(&fewer, &shrunk);
    calibrate(&fewer, &fresh_fewer);
    assert_eq!(data(&shrunk), data(&fresh_fewer), "saved generations beyond the rules were kept");
    let generations = std::fs::read_to_string(shrunk.join("generations.csv")).unwrap();
    assert_eq!(generations.lines().count(), 1 + 3, "{generations}");
}

#[test]
fn model_comparison_picks_the_generating_model() {
    // Synthetic data from each model in turn (a truth from the prior, the model's statistics
    // with the stated error), then a comparison of the two on them: the generating model must
    // come out the more probable in at least 80% of trials.
    let trials: u64 = std::env::var("COPROSIM_MODEL_TRIALS").ok().and_then(|t| t.parse().ok()).unwrap_or(20);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/calibration/model_choice.toml");
    let base = Targets::load(&path).unwrap();
    assert_eq!(base.models(), 2);
    let cat = coprosim::observe::Catalogue::new(&base.base);
    let fitted = base.fitted();
    let (mut right, mut probability_of_truth) = (0u64, Vec::new());
    for k in 0..trials {
        let truth = (k % 2) as usize;
        let mut rng = <chacha20::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(base.file.seed);
        rng.set_stream((1 << 60) | k);
        let statistics = loop {
            let theta: Vec<f64> = base.priors.iter().map(|p| p.sample(&mut rng)).collect();
            match calibrate::simulate_model(&base, &cat, truth, &theta, &mut rng, &fitted) {
                Some(s) if s.iter().all(|v| v.is_finite()) => break s,
                _ => {}
            }
        };
        let mut synthetic = base.clone();
        for (&i, v) in fitted.iter().zip(&statistics) {
            let z: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut rng);
            synthetic.statistics[i].value = v + synthetic.statistics[i].sd * z;
        }
        synthetic.file.seed = rand::RngExt::random(&mut rng);
        let sampled = calibrate::calibrate(&synthetic, Default::default(), &|| false, &mut |_| {});
        let last = sampled.generations.last().expect("a generation");
        let p = coprosim::inference::abc::model_probabilities(last, 2);
        if p[truth].0 > p[1 - truth].0 {
            right += 1;
        }
        probability_of_truth.push(p[truth].0);
    }
    let mean = probability_of_truth.iter().sum::<f64>() / trials as f64;
    eprintln!(
        "the generating model was the more probable in {right} of {trials} trials; its mean probability {mean:.2}"
    );
    assert!(right * 10 >= trials * 8, "the generating model won only {right} of {trials} trials");
}

#[test]
fn a_model_comparison_writes_each_models_probability_and_is_refused_where_it_cannot_serve() {
    let tmp = tempfile::tempdir().unwrap();
    let models = "\n[[models]]\nname = \"flat\"\n\n[[models]]\nname = \"newcomers\"\nset = { \"behaviour.newcomer_exit_multiplier\" = 5.0 }\n";
    let text = targets_text("particles = 40\ngenerations = 3\npredictive = 10") + models;
    let file = write(tmp.path(), "compare.toml", &text);
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let said = coprosim().arg("calibrate").arg(&file).args(["-j", "1", "-o"]).arg(&one).assert().success();
    let said = String::from_utf8_lossy(&said.get_output().stdout).into_owned();
    assert!(said.contains("model flat") && said.contains("model newcomers"), "{said}");
    coprosim().arg("calibrate").arg(&file).args(["-j", "2", "-q", "--no-charts", "-o"]).arg(&two).assert().success();
    for f in DATA.iter().chain(&["models.csv"]) {
        assert_eq!(std::fs::read(one.join(f)).unwrap(), std::fs::read(two.join(f)).unwrap(), "{f}");
    }
    // Each generation's probabilities sum to one.
    let table = std::fs::read_to_string(one.join("models.csv")).unwrap();
    assert!(table.starts_with("generation,model,probability,mc_error,particles\n"), "{table}");
    let rows: Vec<Vec<&str>> = table.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3 * 2);
    for g in rows.chunks(2) {
        let total: f64 = g.iter().map(|r| r[2].parse::<f64>().unwrap()).sum();
        let particles: u32 = g.iter().map(|r| r[4].parse::<u32>().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-5 && particles == 40, "{table}");
    }
    let posterior = std::fs::read_to_string(one.join("posterior.csv")).unwrap();
    assert!(posterior.lines().next().unwrap().ends_with(",model"), "{posterior}");
    let report = std::fs::read_to_string(one.join("report.html")).unwrap();
    assert!(report.contains("<h2>Which model?</h2>") && report.contains("<td>newcomers</td>"), "no model table");
    // Its particles belong to different scenarios: no posterior run, no coverage check.
    let mut scenario = TINY_TOWN.replace("[scenario.", "[").replace("[[scenario.", "[[").replace("[scenario]\n", "");
    scenario = scenario.replace("replications = 1", "replications = 2");
    let scenario = write(tmp.path(), "town.toml", &scenario);
    let refused = coprosim()
        .arg("run")
        .arg(&scenario)
        .arg("--posterior")
        .arg(&one)
        .arg("-o")
        .arg(tmp.path().join("r"))
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&refused.get_output().stderr).contains("compares models"));
    coprosim()
        .arg("calibrate")
        .arg(&file)
        .args(["--check-coverage", "4", "-o"])
        .arg(tmp.path().join("c"))
        .assert()
        .code(2);
    // Models are checked like everything else: a name twice, a setting that is estimated, one
    // model alone.
    let bad = targets_text("particles = 40")
        + "\n[[models]]\nname = \"a\"\nset = { \"behaviour.base_exit\" = 0.2 }\n\n[[models]]\nname = \"a\"\n";
    let bad = write(tmp.path(), "bad.toml", &bad);
    let out = coprosim().arg("check").arg(&bad).assert().code(2);
    let said = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(said.contains("models[0].set") && said.contains("which is estimated"), "{said}");
    assert!(said.contains("models[1].name") && said.contains("again"), "{said}");
    let alone = write(tmp.path(), "alone.toml", &(targets_text("particles = 40") + "\n[[models]]\nname = \"a\"\n"));
    let out = coprosim().arg("check").arg(&alone).assert().code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("at least two"));
}

fn spawn(args: &[&std::ffi::OsStr]) -> Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_coprosim"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn an_interrupted_calibration_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    // Long enough to be stopped between generations.
    let file = write(
        tmp.path(),
        "tiny.toml",
        &targets_text("particles = 150\ngenerations = 7\nmin_acceptance = 0\npredictive = 10\nbudget = 1000000"),
    );
    let straight = tmp.path().join("straight");
    coprosim().arg("calibrate").arg(&file).arg("-o").arg(&straight).args(["-q", "--no-charts"]).assert().success();

    let out = tmp.path().join("stopped");
    let child =
        spawn(&["calibrate".as_ref(), file.as_os_str(), "-o".as_ref(), out.as_os_str(), "--no-charts".as_ref()]);
    // Wait until a generation is saved in the working folder, then interrupt.
    let start = Instant::now();
    let log = loop {
        let found = std::fs::read_dir(&out).ok().and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.path().join("generations.jsonl"))
                .find(|p| std::fs::read_to_string(p).map(|t| t.lines().count() >= 1).unwrap_or(false))
        });
        if let Some(p) = found {
            break p;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no generation saved within a minute");
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(0) {
        // It finished before the signal landed: nothing to resume, and nothing to check.
        eprintln!("SKIPPED resume check: the calibration finished before SIGINT");
        return;
    }
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("rerun the same command to resume"), "{stderr}");
    assert!(!out.join("manifest.json").exists(), "nothing is committed when interrupted");
    let saved = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!((1..7).contains(&saved), "{saved} generations saved");

    let rerun = coprosim().arg("calibrate").arg(&file).arg("-o").arg(&out).args(["--no-charts"]).assert().success();
    assert_eq!(data(&out), data(&straight), "a resumed calibration differs from a straight one");
    let _ = rerun;
    // The working folder is gone once the result is in place.
    let hidden: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".coprosim-calibration"))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
}

#[test]
fn a_posterior_run_draws_each_replication_from_the_posterior() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "tiny.toml", &targets_text("particles = 30\ngenerations = 3\npredictive = 0"));
    let cal = tmp.path().join("cal");
    coprosim().arg("calibrate").arg(&file).arg("-o").arg(&cal).args(["-q", "--no-charts"]).assert().success();
    let mut scenario = TINY_TOWN.replace("[scenario.", "[").replace("[[scenario.", "[[").replace("[scenario]\n", "");
    scenario = scenario.replace("replications = 1", "replications = 12");
    let scenario = write(tmp.path(), "town.toml", &scenario);
    let run = |out: &str, threads: &str| {
        let dir = tmp.path().join(out);
        coprosim()
            .arg("run")
            .arg(&scenario)
            .arg("--posterior")
            .arg(&cal)
            .arg("-o")
            .arg(&dir)
            .args(["-q", "--no-charts", "-j", threads])
            .assert()
            .success();
        dir
    };
    let (a, b) = (run("a", "1"), run("b", "2"));
    for f in ["series.csv", "summary.csv", "posterior_draws.csv"] {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f}");
    }
    let draws = std::fs::read_to_string(a.join("posterior_draws.csv")).unwrap();
    assert_eq!(draws.lines().count(), 13);
    assert!(draws.starts_with("replication,particle,behaviour.base_exit,behaviour.join_max\n"));
    // The values drawn are particles of the last generation, exactly.
    let posterior = std::fs::read_to_string(cal.join("posterior.csv")).unwrap();
    let particles: Vec<String> = posterior
        .lines()
        .filter(|l| l.starts_with("2,"))
        .map(|l| l.split(',').skip(4).collect::<Vec<_>>().join(","))
        .collect();
    let drawn: Vec<String> =
        draws.lines().skip(1).map(|l| l.split(',').skip(2).collect::<Vec<_>>().join(",")).collect();
    assert!(drawn.iter().all(|d| particles.contains(d)), "{drawn:?}");
    let distinct: std::collections::BTreeSet<&String> = drawn.iter().collect();
    assert!(distinct.len() > 3, "replications should draw different particles: {distinct:?}");
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(a.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["posterior"]["calibration"], "tiny");
    assert!(manifest["files"]["posterior_draws.csv"].is_string());
    // Compare works on posterior runs like any other.
    let cmp = tmp.path().join("cmp");
    coprosim().arg("compare").arg(&a).arg(&b).arg("-o").arg(&cmp).assert().success();

    // A directory that holds no finished calibration is refused before any work.
    let out = coprosim()
        .arg("run")
        .arg(&scenario)
        .arg("--posterior")
        .arg(tmp.path().join("nowhere"))
        .arg("-o")
        .arg(tmp.path().join("x"))
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("not a complete coprosim result"));
    assert!(!tmp.path().join("x").exists());
}

/// A posterior run's states serve a policy drawn from the same posterior: each replication
/// burns in with its draw's parameters, and the fork from its state is the full run's bytes.
/// States from another posterior, or from none, are refused before anything is written.
#[test]
fn a_posterior_policy_forks_from_the_states_of_the_same_draws() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "tiny.toml", &targets_text("particles = 30\ngenerations = 2\npredictive = 0"));
    let cal = tmp.path().join("cal");
    coprosim().arg("calibrate").arg(&file).arg("-o").arg(&cal).args(["-q", "--no-charts"]).assert().success();
    let town = TINY_TOWN.replace("[scenario.", "[").replace("[[scenario.", "[[").replace("[scenario]\n", "");
    let town = town.replace("replications = 1", "replications = 6\nburn_in_years = 2");
    let status_quo = write(tmp.path(), "town.toml", &town);
    let cut = "\n[[policy.changes]]\nyear = 3\nkey = \"coalitions.club.funding.earned_income\"\nvalue = 0\n";
    let policy = write(tmp.path(), "cut.toml", &format!("{town}{cut}"));
    let run = |scenario: &Path, out: &str, extra: &[&str]| {
        let dir = tmp.path().join(out);
        let done = coprosim()
            .arg("run")
            .arg(scenario)
            .arg("--posterior")
            .arg(&cal)
            .arg("-o")
            .arg(&dir)
            .args(["-q", "--no-charts"])
            .args(extra)
            .assert();
        (dir, done)
    };
    let (saved, done) = run(&status_quo, "saved", &["--save-state"]);
    done.success();
    let (full, done) = run(&policy, "full", &[]);
    done.success();
    let from = saved.display().to_string();
    for threads in ["1", "2"] {
        let (fork, done) = run(&policy, &format!("fork{threads}"), &["--from-state", &from, "-j", threads]);
        done.success();
        for f in ["series.csv", "summary.csv", "replication_series.csv", "posterior_draws.csv"] {
            assert_eq!(
                std::fs::read(fork.join(f)).unwrap(),
                std::fs::read(full.join(f)).unwrap(),
                "{f}, {threads} threads"
            );
        }
    }
    // The states of a run without the posterior, and a fork without it from a posterior run's.
    let plain = tmp.path().join("plain");
    coprosim()
        .arg("run")
        .arg(&status_quo)
        .args(["-q", "--no-charts", "--save-state", "-o"])
        .arg(&plain)
        .assert()
        .success();
    let (refused, done) = run(&policy, "refused", &["--from-state", &plain.display().to_string()]);
    let err = String::from_utf8_lossy(&done.code(2).get_output().stderr).to_string();
    assert!(err.contains("drew their parameters from no posterior, this run's from the posterior"), "{err}");
    assert!(!refused.exists());
    let done = coprosim()
        .arg("run")
        .arg(&policy)
        .args(["-q", "--no-charts", "--from-state", &from, "-o"])
        .arg(tmp.path().join("refused2"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&done.get_output().stderr).to_string();
    assert!(err.contains("this run's from no posterior"), "{err}");
    assert!(!tmp.path().join("refused2").exists());
}

/// The diagnostics of convergence and identifiability: a calibration stopped after its first
/// narrowing is still moving, and says so on standard error, in `diagnostics.csv` and in the
/// report; the pairs chart is drawn with the correlations.
#[test]
fn calibrate_says_when_its_posterior_is_still_moving() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "tiny.toml", &targets_text("particles = 30\ngenerations = 2\npredictive = 0"));
    let out_dir = tmp.path().join("fit");
    let out = coprosim().arg("calibrate").arg(&file).arg("-o").arg(&out_dir).arg("-q").assert().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let table = std::fs::read_to_string(out_dir.join("diagnostics.csv")).unwrap();
    let rows: Vec<Vec<&str>> = table.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert!(table.starts_with("parameter,mean_shift_sd,sd_ratio,width_vs_prior,still_moving,like_prior\n"), "{table}");
    assert_eq!(rows.iter().map(|r| r[0]).collect::<Vec<_>>(), ["behaviour.base_exit", "behaviour.join_max"]);
    // One narrowing from the prior: the sd changed by more than a quarter for some parameter.
    let moving: Vec<&str> = rows.iter().filter(|r| r[4] == "true").map(|r| r[0]).collect();
    assert!(!moving.is_empty(), "{table}");
    for key in &moving {
        let ratio: f64 = rows.iter().find(|r| r[0] == *key).unwrap()[2].parse().unwrap();
        assert!((ratio - 1.0).abs() > 0.25 || rows.iter().any(|r| r[0] == *key && r[1].parse::<f64>().unwrap() > 0.25));
        assert!(stderr.contains(&format!("warning: {key}: the last generation still moved its posterior")), "{stderr}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["files"]["diagnostics.csv"].is_string());
    let report = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(report.contains("<table id=\"diagnostics\">") && report.contains("<strong>still moving</strong>"));
    assert!(out_dir.join("charts/posterior_pairs.png").exists());
}

/// A statistic the fitted model cannot produce is named: a warning on standard error (with
/// -q too), its p-value in summary.csv, "no" in the report's fit table, all three agreeing;
/// statistics that are points of one curve are drawn against the predictive band.
#[test]
fn calibrate_names_what_the_fit_cannot_reproduce_and_draws_curves() {
    let tmp = tempfile::tempdir().unwrap();
    // Nine residents in ten taking part each year, in a town where about one in ten does.
    let impossible = "\n[[observed]]\nmetric = \"annual_participation\"\nvalue = 0.9\nsd = 0.01\nheld_out = true\n\n[[observed]]\nseries = \"members\"\ncoalition = \"club\"\nyears = [1, 3]\nvalues = [8, 8]\nsd = 4\n";
    let text = targets_text("particles = 40\ngenerations = 4\npredictive = 30") + impossible;
    let file = write(tmp.path(), "tiny.toml", &text);
    let out_dir = tmp.path().join("fit");
    let out = coprosim().arg("calibrate").arg(&file).arg("-o").arg(&out_dir).arg("-q").assert().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains(
            "warning: annual_participation (held out): the fitted model does not reproduce the observed 0.9 (posterior predictive p = 0.000"
        ),
        "{stderr}"
    );
    // The warnings, summary.csv and the report agree on which statistics are not reproduced,
    // and the fit reproduces some.
    let summary = std::fs::read_to_string(out_dir.join("summary.csv")).unwrap();
    assert!(summary.lines().next().unwrap().ends_with(",n,predictive_p"), "{summary}");
    let mut flagged = Vec::new();
    let mut reproduced = 0;
    for line in summary.lines().filter(|l| l.starts_with("statistic,")) {
        let p: f64 = line.rsplit(',').next().unwrap().parse().unwrap();
        assert!((0.0..=1.0).contains(&p), "{line}");
        let label = line.split(',').nth(1).unwrap();
        if p < 0.05 {
            assert!(stderr.contains(&format!("warning: {label}")), "{label} has p = {p} but no warning: {stderr}");
            flagged.push(label.to_string());
        } else {
            reproduced += 1;
        }
    }
    assert!(flagged.contains(&"annual_participation".to_string()), "{flagged:?}");
    assert_eq!(stderr.matches("does not reproduce").count(), flagged.len(), "{stderr}");
    assert!(reproduced > 0, "a fit that reproduces nothing: {summary}");
    let report = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert_eq!(report.matches("<strong>no</strong>").count(), flagged.len());
    // The club's members at years 1, 2 and 3 make one curve.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["files"]["charts/posterior_predictive_curves.png"].is_string(), "{manifest}");
    let svg = std::fs::read_to_string(out_dir.join("charts/posterior_predictive_curves.svg")).unwrap();
    assert!(svg.contains("members of club") && svg.contains("predicted: median"), "no curve panel");
}

/// Simulation-based calibration (Talts et al. 2018, in its coverage form): draw parameters
/// from the prior, simulate synthetic observations from them (the model's statistics plus the
/// observation error the targets state, the error model noisy ABC assumes), calibrate, and
/// count how often the 90% credible interval contains the truth. A correct sampler covers at
/// about the nominal rate (ABC with a non-zero tolerance errs wide, so above it); the interval
/// must also be informative, or a sampler that returned its prior would pass. `COPROSIM_SBC_TRIALS`
/// sets the trials (docs/CALIBRATING.md records a run of 200).
#[test]
fn credible_intervals_cover_the_truth_at_about_the_nominal_rate() {
    let trials: u64 = std::env::var("COPROSIM_SBC_TRIALS").ok().and_then(|t| t.parse().ok()).unwrap_or(16);
    // A check of the sampler, not of the third version's behaviour: the shipped town whose
    // members leave by the base exit rate and dissatisfaction only, the file the docs' larger
    // run uses.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/calibration/coverage_check.toml");
    let base = Targets::load(&path).unwrap();
    // The trials `calibrate --check-coverage` runs: a truth from the prior, the model's
    // statistics at it observed with the error the targets state, a calibration of those.
    let done: Vec<coverage::Trial> = (0..trials).filter_map(|k| coverage::trial(&base, k, &|| false).ok()).collect();
    let total = done.len() as u32;
    let widths = [0.75, (0.5f64 / 0.02).ln()];
    let covered: Vec<u32> = (0..2).map(|d| done.iter().filter(|t| t.covers(d, 0.9)).count() as u32).collect();
    let mut width = [0.0; 2];
    for t in &done {
        let [q05, _, _, q95] = t.quantiles[0];
        width[0] += (q95 - q05) / widths[0];
        let [q05, _, _, q95] = t.quantiles[1];
        width[1] += (q95 / q05).ln() / widths[1];
    }
    let redrawn: u32 = done.iter().map(|t| t.redrawn).sum();
    let ranks: Vec<(f64, f64)> = (0..2)
        .map(|d| {
            let s = coverage::summarise(&done, d);
            (s.chi_square, s.p_uniform)
        })
        .collect();
    eprintln!("{redrawn} truths redrawn (a dissolved club); rank uniformity (χ², p) per parameter: {ranks:?}");
    assert!(total as u64 >= trials * 3 / 4, "only {total} of {trials} trials had observable data");
    let rates: Vec<f64> = covered.iter().map(|&c| c as f64 / total as f64).collect();
    let relative: Vec<f64> = width.iter().map(|w| w / total as f64).collect();
    eprintln!(
        "SBC over {total} trials: 90% interval coverage {rates:?}; width relative to the prior's range {relative:?}"
    );
    // 16 trials at a true rate of 0.9: at least 11 covered with probability 0.997.
    for (d, c) in rates.iter().enumerate() {
        assert!(*c >= 0.68, "parameter {d}: 90% intervals covered the truth in only {c:.2} of trials");
    }
    // Retention and turnover pin down base_exit: its interval is far narrower than its prior.
    assert!(relative[0] < 0.5, "base_exit's posterior is hardly narrower than its prior: {}", relative[0]);
}
