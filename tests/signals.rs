//! SIGINT and SIGTERM stop `run` and `sweep` cleanly: no partial file under a final name,
//! an earlier result left intact, and a sweep that resumes to the same bytes.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("coprosim")
}

const SCENARIO: &str = r#"
name = "sig"
[simulation]
years = 4
[population]
size = 600
[[population.groups]]
name = "all"
share = 1.0
[[coalitions]]
name = "c"
founders = 30
"#;

const SWEEP: &str = r#"
name = "sig_sweep"
base = "sig.toml"
replications = 2
seed = 3
outputs = ["annual_retention"]
[design]
kind = "grid"
[[axes]]
key = "coalitions[0].governance.voice"
min = 0.1
max = 1.0
steps = 40
"#;

fn signal(pid: u32, sig: &str) {
    // The process may already have finished; the caller checks the outcome either way.
    let _ = std::process::Command::new("kill").args([&format!("-{sig}"), &pid.to_string()]).status();
}

/// Files whose names say they are temporary, anywhere under `dir` or beside it.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for base in [dir, dir.parent().unwrap()] {
        if let Ok(entries) = std::fs::read_dir(base) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.contains(".tmp-") || n.contains(".partial-") || n.contains(".old-") {
                    out.push(n);
                }
            }
        }
    }
    out
}

#[test]
fn interrupted_runs_leave_the_earlier_result_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("sig.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = tmp.path().join("result");
    Command::new(bin()).arg("run").arg(&scenario).args(["-n", "2", "-q", "--out"]).arg(&out).assert().success();
    let before: Vec<(String, Vec<u8>)> = ["summary.csv", "series.csv", "manifest.json", "report.html"]
        .iter()
        .map(|n| (n.to_string(), std::fs::read(out.join(n)).unwrap()))
        .collect();
    for (delay_ms, sig) in [(50, "INT"), (300, "INT"), (700, "TERM")] {
        let child = std::process::Command::new(bin())
            .arg("run")
            .arg(&scenario)
            .args(["-n", "100000", "-q", "--out"])
            .arg(&out)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        signal(child.id(), sig);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(130), "SIG{sig} after {delay_ms} ms: {stderr}");
        assert!(stderr.contains("interrupted after") && stderr.contains("unchanged"), "{stderr}");
        for (name, bytes) in &before {
            assert_eq!(
                &std::fs::read(out.join(name)).unwrap(),
                bytes,
                "{name} changed after SIG{sig} at {delay_ms} ms"
            );
        }
        assert!(leftovers(&out).is_empty(), "temporary files left: {:?}", leftovers(&out));
    }
}

#[test]
fn interrupted_sweeps_save_completed_points_and_resume_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("sig.toml"), SCENARIO).unwrap();
    let sweep = tmp.path().join("sweep.toml");
    std::fs::write(&sweep, SWEEP).unwrap();
    let straight = tmp.path().join("straight");
    Command::new(bin()).arg("sweep").arg(&sweep).arg("--out").arg(&straight).arg("-q").assert().success();

    let resumed = tmp.path().join("resumed");
    let mut interrupted = 0;
    for (delay_ms, sig) in [(100, "INT"), (250, "INT"), (400, "TERM")] {
        let child = std::process::Command::new(bin())
            .arg("sweep")
            .arg(&sweep)
            .arg("--out")
            .arg(&resumed)
            .args(["-q", "--threads", "1"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        signal(child.id(), sig);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            Some(130) => {
                interrupted += 1;
                assert!(stderr.contains("rerun the same command to resume"), "{stderr}");
                assert!(!resumed.join("points.csv").exists(), "no final file from an interrupted sweep");
                // Every line of the progress log is complete and verified.
                let lines = std::fs::read_to_string(resumed.join("progress.jsonl")).unwrap().lines().count();
                let info: coprosim::engine::sweep::SweepInfo =
                    serde_json::from_slice(&std::fs::read(resumed.join("sweep.json")).unwrap()).unwrap();
                let verified =
                    coprosim::engine::sweep::read_progress(&resumed.join("progress.jsonl"), &info).points.len();
                assert_eq!(lines, verified, "a partial line was left in the progress log");
            }
            Some(0) => {}
            other => panic!("SIG{sig} after {delay_ms} ms: exit {other:?}: {stderr}"),
        }
        assert!(leftovers(&resumed).is_empty(), "temporary files left: {:?}", leftovers(&resumed));
    }
    assert!(interrupted >= 1, "no signal landed mid-sweep");
    Command::new(bin()).arg("sweep").arg(&sweep).arg("--out").arg(&resumed).arg("-q").assert().success();
    assert_eq!(std::fs::read(straight.join("points.csv")).unwrap(), std::fs::read(resumed.join("points.csv")).unwrap());
    assert_eq!(
        std::fs::read(straight.join("charts/line_annual_retention.png")).unwrap(),
        std::fs::read(resumed.join("charts/line_annual_retention.png")).unwrap()
    );
}
