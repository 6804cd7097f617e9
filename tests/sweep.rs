//! End-to-end tests of `coprosim sweep` and `coprosim merge`: outputs, determinism across
//! shards and threads, resume after a kill, and refusals.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn coprosim() -> Command {
    Command::cargo_bin("coprosim").unwrap()
}

/// A small sweep over an inline scenario: 3 × 2 grid, 2 replications, 2 years.
const GRID: &str = r#"
name = "tiny_grid"
replications = 2
seed = 11
outputs = ["annual_retention", "final_members"]
series = ["members/c/all"]
[design]
kind = "grid"
[[axes]]
key = "coalitions[0].governance.voice"
label = "say in decisions"
values = [0.3, 0.6, 0.9]
[[axes]]
key = "policy.performance_regime"
min = 0.0
max = 1.0
steps = 2
[scenario]
name = "tiny"
[scenario.simulation]
years = 2
[scenario.population]
size = 300
[[scenario.population.groups]]
name = "all"
share = 1.0
[[scenario.coalitions]]
name = "c"
founders = 20
[scenario.coalitions.funding.contract]
amount = 30000
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn sweep(file: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    coprosim().arg("sweep").arg(file).arg("--out").arg(out).arg("-q").args(extra).assert()
}

const DATA: [&str; 1] = ["points.csv"];

fn same_files(a: &Path, b: &Path, names: &[&str]) {
    for n in names {
        assert_eq!(std::fs::read(a.join(n)).unwrap(), std::fs::read(b.join(n)).unwrap(), "{n} differs");
    }
}

#[test]
fn grid_sweep_writes_points_heatmaps_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "grid.toml", GRID);
    let out = tmp.path().join("out");
    sweep(&file, &out, &[]).success();
    let points = std::fs::read_to_string(out.join("points.csv")).unwrap();
    let mut lines = points.lines();
    assert!(lines.next().unwrap().starts_with(
        "point,coalitions[0].governance.voice,policy.performance_regime,annual_retention_mean,annual_retention_ci95_low,annual_retention_ci95_high"
    ));
    assert_eq!(lines.count(), 6);
    for chart in ["heatmap_annual_retention", "heatmap_final_members"] {
        let svg = std::fs::read_to_string(out.join(format!("charts/{chart}.svg"))).unwrap();
        // Axes by their labels: the file's own, or one made from the key path.
        assert!(svg.contains("say in decisions") && svg.contains("performance regime"), "{chart}");
        assert!(out.join(format!("charts/{chart}.png")).exists());
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["complete"], true);
    assert_eq!(manifest["files"]["points.csv"].as_str().unwrap(), coprosim::output::sha256_hex(points.as_bytes()));

    // replications.csv: the raw values behind every point's mean, tidy and at full precision.
    let raw = std::fs::read_to_string(out.join("replications.csv")).unwrap();
    assert_eq!(manifest["files"]["replications.csv"].as_str().unwrap(), coprosim::output::sha256_hex(raw.as_bytes()));
    let mut rows = raw.lines();
    assert_eq!(
        rows.next().unwrap(),
        "point,coalitions[0].governance.voice,policy.performance_regime,replication,output,output_label,value"
    );
    let rows: Vec<Vec<&str>> = rows.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 6 * 2 * 2, "points x replications x outputs");
    let header: Vec<&str> = points.lines().next().unwrap().split(',').collect();
    for line in points.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        for output in ["annual_retention", "final_members"] {
            let values: Vec<f64> = rows
                .iter()
                .filter(|r| r[0] == cells[0] && r[4] == output)
                .map(|r| r[6].parse::<f64>().unwrap())
                .collect();
            assert_eq!(values.len(), 2);
            let mean = values.iter().sum::<f64>() / 2.0;
            let column = header.iter().position(|h| *h == format!("{output}_mean")).unwrap();
            let written: f64 = cells[column].parse().unwrap();
            assert!((mean - written).abs() <= 5e-7 * written.abs().max(1.0), "{output} at point {}", cells[0]);
        }
    }
}

#[test]
fn results_do_not_depend_on_threads_or_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "grid.toml", GRID);
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    sweep(&file, &one, &["--threads", "1"]).success();
    sweep(&file, &two, &["--threads", "2"]).success();
    same_files(
        &one,
        &two,
        &[
            "points.csv",
            "replications.csv",
            "series.csv",
            "charts/heatmap_annual_retention.svg",
            "charts/heatmap_annual_retention.png",
            "charts/series_members_c_all.png",
        ],
    );

    let shards: Vec<PathBuf> = (1..=3).map(|k| tmp.path().join(format!("shard{k}"))).collect();
    for (k, dir) in shards.iter().enumerate() {
        sweep(&file, dir, &["--shard", &format!("{}/3", k + 1)]).success();
        assert!(!dir.join("points.csv").exists(), "a shard writes no final files");
        assert!(!dir.join("replications.csv").exists(), "a shard writes no final files");
    }
    let merged = tmp.path().join("merged");
    // Shards given in any order.
    coprosim()
        .arg("merge")
        .arg(&shards[2])
        .arg(&shards[0])
        .arg(&shards[1])
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    same_files(
        &one,
        &merged,
        &[
            "points.csv",
            "replications.csv",
            "series.csv",
            "charts/heatmap_annual_retention.svg",
            "charts/heatmap_final_members.png",
            "charts/series_members_c_all.svg",
        ],
    );
    // The merged directory is a complete sweep result: the same files as the local run...
    let listing = |d: &Path| -> Vec<String> {
        let m: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("manifest.json")).unwrap()).unwrap();
        m["files"].as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(listing(&one), listing(&merged));
    // ...and its manifest records the shards' compute time, not only the merge's.
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(merged.join("manifest.json")).unwrap()).unwrap();
    let shards = m["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 3);
    let summed: f64 = shards.iter().map(|s| s["wall_time_seconds"].as_f64().unwrap()).sum();
    assert!(summed > 0.0 && m["wall_time_seconds"].as_f64().unwrap() >= summed - 0.002, "{m}");
}

#[test]
fn merge_refuses_a_shard_altered_after_it_ran() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "grid.toml", GRID);
    let shards: Vec<PathBuf> = (1..=2).map(|k| tmp.path().join(format!("s{k}"))).collect();
    for (k, dir) in shards.iter().enumerate() {
        sweep(&file, dir, &["--shard", &format!("{}/2", k + 1)]).success();
    }
    let log = shards[1].join("progress.jsonl");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push('\n');
    std::fs::write(&log, text).unwrap();
    let merged = tmp.path().join("m");
    let out = coprosim().arg("merge").args(&shards).arg("--out").arg(&merged).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("progress.jsonl: was changed after the run"), "{stderr}");
    assert!(!merged.exists());
    coprosim()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .args(["-q", "--ignore-checksums"])
        .assert()
        .success();
}

#[test]
fn sweep_takes_seed_and_replications_like_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "grid.toml", GRID);
    let out = tmp.path().join("o");
    sweep(&file, &out, &["--replications", "3", "--seed", "99"]).success();
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!((info["replications"].as_u64(), info["seed"].as_u64()), (Some(3), Some(99)));
    // The same values written in the file give the same sweep, byte for byte.
    let edited = write(
        tmp.path(),
        "edited.toml",
        &GRID.replace("replications = 2", "replications = 3").replace("seed = 11", "seed = 99"),
    );
    let again = tmp.path().join("again");
    sweep(&edited, &again, &[]).success();
    same_files(&out, &again, &["points.csv", "sweep.json"]);
    sweep(&file, &tmp.path().join("zero"), &["-n", "0"]).code(2);
}

#[test]
fn the_slurm_script_says_when_slurm_is_not_installed() {
    let tmp = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm/submit.sh");
    let out = std::process::Command::new("/bin/bash")
        .arg(&script)
        .args(["sweep.toml", "out", "4"])
        .env("PATH", tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Slurm is not installed here") && stderr.contains("coprosim sweep sweep.toml"), "{stderr}");
}

#[test]
fn merge_refuses_missing_duplicated_and_foreign_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "grid.toml", GRID);
    let other = write(tmp.path(), "other.toml", &GRID.replace("seed = 11", "seed = 12"));
    let s1 = tmp.path().join("s1");
    let s2 = tmp.path().join("s2");
    let foreign = tmp.path().join("foreign");
    sweep(&file, &s1, &["--shard", "1/2"]).success();
    sweep(&file, &s2, &["--shard", "2/2"]).success();
    sweep(&other, &foreign, &["--shard", "2/2"]).success();
    let fails = |dirs: &[&PathBuf], expected: &str| {
        let out = tmp.path().join("m");
        let mut cmd = coprosim();
        cmd.arg("merge");
        for d in dirs {
            cmd.arg(d);
        }
        let stderr = cmd.arg("--out").arg(&out).assert().code(2).get_output().stderr.clone();
        let stderr = String::from_utf8(stderr).unwrap();
        assert!(stderr.contains(expected), "expected {expected:?} in {stderr}");
    };
    fails(&[&s1], "missing shards: 2/2");
    fails(&[&s1, &s2, &s2], "given twice");
    fails(&[&s1, &foreign], "different sweep");
}

#[test]
fn a_killed_sweep_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    // Enough points that the kill lands mid-sweep.
    let bigger =
        GRID.replace("values = [0.3, 0.6, 0.9]", "min = 0.1\nmax = 1.0\nsteps = 10").replace("years = 2", "years = 4");
    let file = write(tmp.path(), "grid.toml", &bigger);
    let straight = tmp.path().join("straight");
    sweep(&file, &straight, &[]).success();

    let resumed = tmp.path().join("resumed");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("coprosim"))
        .arg("sweep")
        .arg(&file)
        .arg("--out")
        .arg(&resumed)
        .args(["-q", "--threads", "1"])
        .spawn()
        .unwrap();
    let progress = resumed.join("progress.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_to_string(&progress).map_or(0, |t| t.lines().count()) < 2 {
        assert!(std::time::Instant::now() < deadline, "the sweep made no progress");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = std::fs::read_to_string(&progress).unwrap().lines().count();
    assert!(done < 20, "killed before the end ({done} of 20 points)");
    assert!(!resumed.join("points.csv").exists());
    // A torn last line, as a kill during a write would leave.
    let mut text = std::fs::read_to_string(&progress).unwrap();
    text.push_str("0123abcd {\"index\":19,\"val");
    std::fs::write(&progress, text).unwrap();

    coprosim().arg("sweep").arg(&file).arg("--out").arg(&resumed).assert().success();
    same_files(&straight, &resumed, &DATA);
    same_files(&straight, &resumed, &["charts/heatmap_annual_retention.png"]);
}

#[test]
fn resuming_recomputes_only_missing_or_corrupt_points() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "grid.toml", GRID);
    let out = tmp.path().join("out");
    sweep(&file, &out, &[]).success();
    let before = std::fs::read(out.join("points.csv")).unwrap();
    let progress = out.join("progress.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&progress).unwrap().lines().map(String::from).collect();
    assert_eq!(lines.len(), 6);
    // Keep points 0-3 intact; change a value of point 4 so its checksum fails; drop point 5.
    let tampered = lines[4].replacen("\"n\":2", "\"n\":3", 1);
    assert_ne!(tampered, lines[4]);
    std::fs::write(&progress, format!("{}\n{tampered}\n", lines[..4].join("\n"))).unwrap();
    coprosim().arg("sweep").arg(&file).arg("--out").arg(&out).assert().success();
    let after: Vec<String> = std::fs::read_to_string(&progress).unwrap().lines().map(String::from).collect();
    assert_eq!(after.len(), 6);
    assert_eq!(after[..4], lines[..4], "verified points are kept, not recomputed");
    let mut recomputed = after[4..].to_vec();
    recomputed.sort();
    let mut original = lines[4..].to_vec();
    original.sort();
    assert_eq!(recomputed, original, "the two recomputed points equal the originals");
    assert_eq!(before, std::fs::read(out.join("points.csv")).unwrap());
}

#[test]
fn a_different_sweep_in_the_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "grid.toml", GRID);
    let other = write(tmp.path(), "other.toml", &GRID.replace("seed = 11", "seed = 12"));
    let out = tmp.path().join("out");
    sweep(&file, &out, &[]).success();
    let stderr = sweep(&other, &out, &[]).code(2).get_output().stderr.clone();
    assert!(String::from_utf8(stderr).unwrap().contains("different sweep"));
    sweep(&other, &out, &["--force"]).success();
}

#[test]
fn bad_sweep_files_are_rejected_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "key",
            GRID.replace("coalitions[0].governance.voice", "coalitions[0].governance.voise"),
            "did you mean `voice`",
        ),
        ("range", GRID.replace("values = [0.3, 0.6, 0.9]", "values = [0.3, 1.6]"), "expected a number in [0, 1]"),
        ("output", GRID.replace("\"final_members\"", "\"final_memberz\""), "expected one of annual_retention"),
        ("design", GRID.replace("kind = \"grid\"", "kind = \"sobel\""), "unknown variant"),
    ];
    for (name, text, expected) in cases {
        let file = write(tmp.path(), &format!("{name}.toml"), &text);
        let out = tmp.path().join(name);
        let stderr = sweep(&file, &out, &[]).code(2).get_output().stderr.clone();
        let stderr = String::from_utf8(stderr).unwrap();
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(stderr.starts_with(&format!("error: {}:", file.display())), "{name}: {stderr}");
        assert!(!out.exists(), "{name}: nothing may run or be written");
    }
}

#[test]
fn shipped_sweeps_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        <coprosim::engine::sweep::Sweep as coprosim::input::Load>::load(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// A Sobol sweep of the grid test's town with no outreach, over voice and the inert
/// `outreach_cost`: outreach costs nothing when there is no outreach.
fn inert_sobol(dir: &Path) -> PathBuf {
    let header = r#"
name = "inert"
replications = 3
seed = 5
outputs = ["annual_retention"]
[design]
kind = "sobol"
base_samples = 8
bootstrap = 50
[[axes]]
key = "coalitions[0].governance.voice"
min = 0.1
max = 1.0
[[axes]]
key = "coalitions[0].governance.outreach_cost"
min = 1000
max = 20000
"#;
    // The grid test's town, with no outreach.
    let town = GRID[GRID.find("[scenario]").unwrap()..]
        .replace("founders = 20\n", "founders = 20\ngovernance = { outreach = 0.0 }\n");
    write(dir, "inert.toml", &format!("{header}{town}"))
}

#[test]
fn an_inert_parameter_gets_sobol_indices_of_zero_because_a_block_shares_its_seeds() {
    // With common random numbers within each Saltelli block, the rows that differ only in the
    // inert parameter give identical outputs, so both its indices are exactly 0 (with a seed
    // per row, replication noise gave such a parameter a total-order index of 0.2).
    let tmp = tempfile::tempdir().unwrap();
    let file = inert_sobol(tmp.path());
    let out = tmp.path().join("o");
    sweep(&file, &out, &[]).success();
    let text = std::fs::read_to_string(out.join("sensitivity.csv")).unwrap();
    let row = |param: &str| -> Vec<f64> {
        let line = text.lines().find(|l| l.contains(param)).unwrap();
        line.split(',').skip(4).map(|v| v.parse().unwrap()).collect()
    };
    let inert = row("outreach_cost");
    assert!(inert[..6].iter().all(|v| *v == 0.0), "first, total and their intervals all 0: {inert:?}");
    let voice = row("governance.voice");
    assert!(voice[3] > 0.0, "the parameter that acts has a total-order index: {voice:?}");
    // The dummy, the random stream, is added after the axes: replication noise alone gives it
    // a total-order index above 0, the floor the others are read against.
    let dummy = row("dummy");
    assert!(dummy[3] > 0.0 && dummy[6] > 0.0 && dummy[7] > 0.0, "{dummy:?}");
    // Rows of one block share seeds; the next block draws anew.
    let points = std::fs::read_to_string(out.join("points.csv")).unwrap();
    let retention: Vec<f64> = points.lines().skip(1).map(|l| l.split(',').nth(3).unwrap().parse().unwrap()).collect();
    assert_eq!(retention.len(), 8 * 5);
    let blocks: Vec<&[f64]> = retention.chunks(5).collect();
    // A and the row that takes only B's inert column are the same world with the same draws;
    // the dummy's row has A's parameters but B's draws.
    assert!(blocks.iter().all(|b| b[0] == b[3]), "{blocks:?}");
    assert!(blocks.iter().any(|b| b[0] != b[4]), "{blocks:?}");
}

#[test]
fn a_sobol_sweep_and_its_salib_export_are_the_same_from_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let file = inert_sobol(tmp.path());
    let one = tmp.path().join("one");
    sweep(&file, &one, &["--threads", "2"]).success();
    let shards: Vec<PathBuf> = (1..=3).map(|k| tmp.path().join(format!("shard{k}"))).collect();
    for (k, dir) in shards.iter().enumerate() {
        sweep(&file, dir, &["--shard", &format!("{}/3", k + 1), "--threads", "1"]).success();
    }
    let merged = tmp.path().join("merged");
    coprosim().arg("merge").args(&shards).arg("--out").arg(&merged).assert().success();
    let files = [
        "points.csv",
        "replications.csv",
        "sensitivity.csv",
        "salib/problem.json",
        "salib/X.txt",
        "salib/Y.txt",
        "charts/sensitivity_annual_retention.svg",
    ];
    same_files(&one, &merged, &files);
    // SALib's order within a block is A, AB_1, AB_2, AB_dummy, B; coprosim runs A, B, AB_1, ….
    let read = |n: &str| std::fs::read_to_string(one.join(n)).unwrap();
    let x: Vec<Vec<f64>> =
        read("salib/X.txt").lines().map(|l| l.split(' ').map(|v| v.parse().unwrap()).collect()).collect();
    assert_eq!(x.len(), 8 * 5);
    let points: Vec<Vec<f64>> = read("points.csv")
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).take(2).map(|v| v.parse().unwrap()).collect())
        .collect();
    // points.csv rounds to six significant digits; the export keeps every digit.
    let near = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| (a - b).abs() <= 1e-6 * b.abs().max(1.0));
    for (block, rows) in x.chunks(5).enumerate() {
        let p = |r: usize| &points[block * 5 + r];
        for (row, point) in [(0, 0), (1, 2), (2, 3), (3, 0), (4, 1)] {
            assert!(near(&rows[row][..2], p(point)), "block {block}: row {row} is point {point}");
        }
        assert!(rows.iter().all(|r| r.len() == 3 && (0.0..1.0).contains(&r[2])), "the dummy's unit value");
        assert_eq!(rows[3][2], rows[4][2], "the dummy's row takes B's dummy value");
    }
    let problem: serde_json::Value = serde_json::from_str(&read("salib/problem.json")).unwrap();
    assert_eq!(problem["names"][2], "dummy");
    assert_eq!(problem["bounds"][1], serde_json::json!([1000.0, 20000.0]));
    // Written over by another kind of sweep, the export goes, folder and all; a Sobol sweep can
    // then write there again.
    let grid = write(tmp.path(), "grid.toml", GRID);
    sweep(&grid, &one, &["--force"]).success();
    assert!(!one.join("salib").exists());
    sweep(&file, &one, &["--force"]).success();
    assert!(one.join("salib/X.txt").exists());
}

#[test]
fn a_morris_screening_finds_the_inert_parameter_inert_and_the_dummy_not() {
    let tmp = tempfile::tempdir().unwrap();
    let sobol = std::fs::read_to_string(inert_sobol(tmp.path())).unwrap();
    let text = sobol.replace("kind = \"sobol\"\nbase_samples = 8\n", "kind = \"morris\"\ntrajectories = 10\n");
    assert_ne!(text, sobol);
    let file = write(tmp.path(), "morris.toml", &text);
    let one = tmp.path().join("one");
    sweep(&file, &one, &["--threads", "2"]).success();
    let read = |n: &str| std::fs::read_to_string(one.join(n)).unwrap();
    let morris = read("morris.csv");
    let row = |param: &str| -> Vec<f64> {
        let line = morris.lines().find(|l| l.contains(param)).unwrap();
        line.split(',').skip(4).map(|v| v.parse().unwrap()).collect()
    };
    // A trajectory's points share their draws: stepping the inert parameter changes nothing.
    assert_eq!(row("outreach_cost"), vec![0.0, 0.0, 0.0, 0.0, 0.0, 10.0]);
    // The dummy's step changes only the draws: replication noise, the floor to read μ* against.
    assert!(row("dummy")[1] > 0.0, "{morris}");
    assert!(row("governance.voice")[1] > 0.0, "{morris}");
    // 10 trajectories of 4 points (two axes and the dummy); each step moves one input.
    let x: Vec<Vec<f64>> =
        read("salib/X.txt").lines().map(|l| l.split(' ').map(|v| v.parse().unwrap()).collect()).collect();
    assert_eq!(x.len(), 10 * 4);
    for t in x.chunks(4) {
        for j in 1..4 {
            assert_eq!((0..3).filter(|&i| t[j][i] != t[j - 1][i]).count(), 1, "{t:?}");
        }
    }
    // Shards and merge give the same bytes.
    let shards: Vec<PathBuf> = (1..=2).map(|k| tmp.path().join(format!("shard{k}"))).collect();
    for (k, dir) in shards.iter().enumerate() {
        sweep(&file, dir, &["--shard", &format!("{}/2", k + 1), "--threads", "1"]).success();
    }
    let merged = tmp.path().join("merged");
    coprosim().arg("merge").args(&shards).arg("--out").arg(&merged).assert().success();
    same_files(
        &one,
        &merged,
        &[
            "points.csv",
            "replications.csv",
            "morris.csv",
            "salib/X.txt",
            "salib/Y.txt",
            "charts/morris_annual_retention.svg",
        ],
    );
}

#[test]
fn a_series_read_at_a_year_is_an_output_and_at_the_horizon_equals_final_members() {
    let tmp = tempfile::tempdir().unwrap();
    let text = GRID.replace(
        r#"outputs = ["annual_retention", "final_members"]"#,
        r#"outputs = ["final_members", "members@2", "members/c/all@1", "annual_retention@1.5"]"#,
    );
    let file = write(tmp.path(), "series.toml", &text);
    let out = tmp.path().join("o");
    sweep(&file, &out, &[]).success();
    let mut r = csv::Reader::from_path(out.join("points.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    for name in ["members@2_mean", "members[c/all]@1_mean", "annual_retention@1.5_ci95_low"] {
        assert!(header.contains(&name.to_string()), "{name} in {header:?}");
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        // Members at the last tick are the members at the horizon.
        assert_eq!(rec[col("members@2_mean")], rec[col("final_members_mean")]);
        let share: f64 = rec[col("annual_retention@1.5_mean")].parse().unwrap();
        assert!((0.0..=1.0).contains(&share));
        let (lo, hi): (f64, f64) = (
            rec[col("annual_retention@1.5_ci95_low")].parse().unwrap(),
            rec[col("annual_retention@1.5_ci95_high")].parse().unwrap(),
        );
        assert!(0.0 <= lo && hi <= 1.0, "a share's interval stays in [0, 1]");
    }
    // The whole trajectory (series.csv) holds the same statistics at every year as the
    // outputs read at that year: members of c at year 1, and at the horizon, all members.
    let mut r = csv::Reader::from_path(out.join("points.csv")).unwrap();
    let points: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let mut r = csv::Reader::from_path(out.join("series.csv")).unwrap();
    let sh: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        sh,
        [
            "point",
            "coalitions[0].governance.voice",
            "policy.performance_regime",
            "series",
            "series_label",
            "year",
            "mean",
            "ci95_low",
            "ci95_high",
            "sd",
            "n"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), points.len() * 3, "years 0, 1 and 2 of every point");
    let mean_at = |point: &str, year: &str| -> String {
        let row = rows.iter().find(|r| &r[0] == point && &r[5] == year).unwrap();
        assert_eq!((&row[3], &row[4]), ("members[c/all]", "members (c)"));
        row[6].to_string()
    };
    for p in &points {
        assert_eq!(mean_at(&p[0], "1"), p[col("members[c/all]@1_mean")]);
        assert_eq!(mean_at(&p[0], "2"), p[col("final_members_mean")]);
    }
    // Labels: the axis's own, and outputs in words, beside the key paths.
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(info["axis_labels"], serde_json::json!(["say in decisions", "performance regime"]));
    assert_eq!(info["output_labels"][2], "members (c) at year 1");
    let replications = std::fs::read_to_string(out.join("replications.csv")).unwrap();
    assert!(replications.starts_with(
        "point,coalitions[0].governance.voice,policy.performance_regime,replication,output,output_label,value\n"
    ));
    assert!(replications.contains(",members[c/all]@1,members (c) at year 1,"), "{replications}");

    // A year outside the recorded period, or a series that does not exist, is refused; so is
    // a trajectory with a year.
    let bad = GRID
        .replace(r#"outputs = ["annual_retention", "final_members"]"#, r#"outputs = ["members@3", "memberz@1"]"#)
        .replace(r#"series = ["members/c/all"]"#, r#"series = ["members@1", "roles/nowhere"]"#);
    let file = write(tmp.path(), "bad.toml", &bad);
    let got = sweep(&file, &tmp.path().join("b"), &[]).code(2);
    let err = String::from_utf8_lossy(&got.get_output().stderr).to_string();
    assert!(
        err.contains("outputs[0]") && err.contains("found year 3, expected a year of the recorded period, 0 to 2"),
        "{err}"
    );
    assert!(err.contains("outputs[1]") && err.contains(r#"found series "memberz""#), "{err}");
    assert!(err.contains("series[0]") && err.contains("expected a series without a year"), "{err}");
    assert!(err.contains("series[1]") && err.contains(r#"found coalition "nowhere""#), "{err}");
}

#[test]
fn plot_redraws_a_sweeps_charts_from_its_files_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "grid.toml", GRID);
    let out = tmp.path().join("o");
    sweep(&file, &out, &[]).success();
    let charts = out.join("charts");
    let mut before: Vec<(String, Vec<u8>)> = std::fs::read_dir(&charts)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    before.sort();
    assert!(before.len() >= 4);
    std::fs::remove_dir_all(&charts).unwrap();
    coprosim().arg("plot").arg(&out).arg("-q").assert().success();
    for (name, bytes) in &before {
        assert_eq!(&std::fs::read(charts.join(name)).unwrap(), bytes, "{name} is redrawn identically");
    }
    // A shard has no charts to draw.
    let shard = tmp.path().join("s");
    sweep(&file, &shard, &["--shard", "1/2"]).success();
    let out = coprosim().arg("plot").arg(&shard).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("merge the shards first"));
}

#[test]
fn an_axis_of_choices_sweeps_text_and_true_false_parameters() {
    let text = GRID
        .replace(
            "key = \"coalitions[0].governance.voice\"\nlabel = \"say in decisions\"\nvalues = [0.3, 0.6, 0.9]",
            "key = \"coalitions[c].mode.planning\"\nchoices = [\"professional\", \"shared\", \"community\"]",
        )
        .replace(
            "key = \"policy.performance_regime\"\nmin = 0.0\nmax = 1.0\nsteps = 2",
            "key = \"organisation.credentialed_roles\"\nchoices = [false, true]",
        );
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "choices.toml", &text);
    let out = tmp.path().join("o");
    sweep(&file, &out, &[]).success();
    let points = std::fs::read_to_string(out.join("points.csv")).unwrap();
    let cells: Vec<String> =
        points.lines().skip(1).map(|l| l.split(',').skip(1).take(2).collect::<Vec<_>>().join(",")).collect();
    assert_eq!(
        cells,
        ["professional,false", "professional,true", "shared,false", "shared,true", "community,false", "community,true"]
    );
    let svg = std::fs::read_to_string(out.join("charts/heatmap_annual_retention.svg")).unwrap();
    for name in ["professional", "community", "true", "false", "planning (c)"] {
        assert!(svg.contains(name), "{name}");
    }
    // The same grid written with numbers for the modes does not exist: each point ran the
    // scenario its choice names. Point 4 (community, false) is the base with that mode.
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(info["choices"][0][2], "community");
    // Bad choices are located, each, before anything runs.
    let bad = text.replace("\"shared\"", "\"mixed\"").replace("kind = \"grid\"", "kind = \"latin_hypercube\"");
    let file = write(tmp.path(), "bad.toml", &bad);
    let run = coprosim().arg("check").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("axes[0].choices[1]") && stderr.contains("mixed"), "{stderr}");
    assert!(stderr.contains("expected a grid design"), "{stderr}");
}
