//! Reliability: the tool never deletes what it did not write, a stop is a stop at every
//! stage (SIGINT and SIGTERM sent to real processes), inputs are bounded, and `--out` is
//! checked before any work. Each test repeats a case
//! a reliability campaign found on an earlier version (README, "Results are never
//! half-written"). Cases that need to mount a file system run where the test may mount one
//! (root, as in CI) and otherwise say on the terminal that they were skipped and why.

use assert_cmd::Command;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("coprosim")
}

fn coprosim() -> Command {
    Command::new(bin())
}

const SMALL: &str = r#"
name = "small"
[simulation]
years = 2
replications = 4
seed = 7
[population]
size = 300
[[population.groups]]
name = "all"
share = 1.0
[[coalitions]]
name = "c"
founders = 20
"#;

const SWEEP: &str = r#"
name = "rel_sweep"
base = "small.toml"
replications = 2
seed = 3
outputs = ["annual_retention"]
[design]
kind = "grid"
[[axes]]
key = "coalitions[0].governance.voice"
min = 0.1
max = 1.0
steps = 6
"#;

/// A scenario a little slower than SMALL, for signals aimed at replications and points.
fn slower() -> String {
    SMALL.replace("years = 2", "years = 4").replace("size = 300", "size = 600")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file under `dir` with its bytes, by relative path.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Names under `dir` (and beside it) that belong to a working folder or temporary file.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for base in [dir, dir.parent().unwrap()] {
        let Ok(entries) = std::fs::read_dir(base) else { continue };
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.contains(".tmp-") || n.contains("partial-") || n.contains(".old-") {
                out.push(n);
            }
        }
    }
    out
}

fn signal(child: &Child, sig: &str) {
    let _ = std::process::Command::new("kill").args([&format!("-{sig}"), &child.id().to_string()]).status();
}

/// Wait for a child at most `limit`; kill it and fail if it takes longer.
fn finish_within(mut child: Child, limit: Duration, what: &str) -> std::process::Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn spawn(args: &[&std::ffi::OsStr]) -> Child {
    std::process::Command::new(bin()).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Say on the terminal (past the test harness's capture) that a case was skipped, and why;
/// under CI, where every case must run, fail instead.
fn skipped(test: &str, why: &str) {
    assert!(std::env::var_os("CI").is_none(), "{test} could not run under CI: {why}");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// Mount a tmpfs of `size` at `dir` (which must exist); Err says why not.
fn mount_tmpfs(dir: &Path, options: &str) -> Result<(), String> {
    let out = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).trim().to_string()) }
}

struct Mounted(PathBuf);
impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_rerun_keeps_the_users_notes_and_the_scenario_file_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let res = tmp.path().join("res");
    std::fs::create_dir(&res).unwrap();
    let scenario = write(&res, "my_scenario.toml", SMALL);
    // The first run into a folder holding only the scenario needs --force (it is not a result).
    coprosim().arg("run").arg(&scenario).arg("--out").arg(&res).arg("-q").assert().code(2);
    coprosim().arg("run").arg(&scenario).arg("--out").arg(&res).args(["-q", "--force"]).assert().success();
    std::fs::write(res.join("NOTES.txt"), "what I saw").unwrap();
    let first = std::fs::read(res.join("summary.csv")).unwrap();
    let out = coprosim().arg("run").arg(&scenario).arg("--out").arg(&res).args(["-q", "--no-charts"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("kept 2 entries that coprosim did not write: NOTES.txt, my_scenario.toml"));
    assert_eq!(std::fs::read_to_string(res.join("NOTES.txt")).unwrap(), "what I saw");
    assert_eq!(std::fs::read_to_string(&scenario).unwrap(), SMALL);
    assert_eq!(std::fs::read(res.join("summary.csv")).unwrap(), first);
    assert!(!res.join("charts").exists() && !res.join("report.html").exists(), "the old charts went with the old run");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(res.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["kind"], "run");
    assert!(manifest["files"].get("my_scenario.toml").is_none());
}

#[test]
fn a_foreign_manifest_or_another_kind_of_result_is_refused_and_left_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(tmp.path(), "small.toml", SMALL);
    let web = tmp.path().join("webapp");
    std::fs::create_dir_all(web.join("src")).unwrap();
    write(&web, "manifest.json", r#"{"name": "My app", "start_url": "/"}"#);
    write(&web, "index.html", "<html></html>");
    write(&web.join("src"), "main.js", "console.log(1)");
    let before = snapshot(&web);
    for extra in [&[][..], &["--force"][..]] {
        let out = coprosim().arg("run").arg(&scenario).arg("--out").arg(&web).arg("-q").args(extra).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr_of(&out));
        assert!(stderr_of(&out).contains("manifest.json that coprosim did not write"), "{}", stderr_of(&out));
        assert_eq!(snapshot(&web), before, "{extra:?}");
    }
    // A finished sweep is another kind of result: refused without --force.
    write(tmp.path(), "sweep.toml", SWEEP);
    let sw = tmp.path().join("sw");
    coprosim().arg("sweep").arg(tmp.path().join("sweep.toml")).arg("--out").arg(&sw).arg("-q").assert().success();
    std::fs::write(sw.join("mine.txt"), "mine").unwrap();
    let before = snapshot(&sw);
    let out = coprosim().arg("run").arg(&scenario).arg("--out").arg(&sw).arg("-q").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("holds a coprosim sweep result, not a run"), "{}", stderr_of(&out));
    assert_eq!(snapshot(&sw), before);
    // With --force the sweep's own files are replaced, and the user's file is still kept.
    coprosim().arg("run").arg(&scenario).arg("--out").arg(&sw).args(["-q", "--force"]).assert().success();
    assert!(!sw.join("points.csv").exists() && !sw.join("progress.jsonl").exists());
    assert_eq!(std::fs::read_to_string(sw.join("mine.txt")).unwrap(), "mine");
}

#[test]
fn a_signal_while_the_results_are_written_commits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(tmp.path(), "small.toml", &SMALL.replace("years = 2", "years = 30"));
    let out = tmp.path().join("result");
    coprosim().arg("run").arg(&scenario).arg("--out").arg(&out).args(["-q", "-n", "2"]).assert().success();
    std::fs::write(out.join("NOTES.txt"), "mine").unwrap();
    let mut before = snapshot(&out);
    let mut landed = 0;
    for sig in ["INT", "TERM", "INT"] {
        let child = spawn(&["run".as_ref(), scenario.as_os_str(), "-q".as_ref(), "--out".as_ref(), out.as_os_str()]);
        // Wait until the data files are in the working folder (inside the result, or beside
        // it): charts are being drawn then.
        let start = Instant::now();
        let staged = loop {
            let found = [out.as_path(), tmp.path()].iter().find_map(|d| {
                std::fs::read_dir(d).unwrap().flatten().find_map(|e| {
                    let p = e.path();
                    (e.file_name().to_string_lossy().contains("partial-") && p.join("summary.csv").exists())
                        .then_some(p)
                })
            });
            if found.is_some() || start.elapsed() > Duration::from_secs(60) {
                break found;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        signal(&child, sig);
        let output = finish_within(child, Duration::from_secs(30), "run after a signal");
        let stderr = stderr_of(&output);
        match output.status.code() {
            Some(130) => {
                landed += 1;
                assert!(staged.is_some(), "the signal came while writing");
                assert!(stderr.contains("is unchanged"), "{stderr}");
            }
            // Drawing finished first: the result is complete and committed before the stop.
            Some(0) => before = snapshot(&out),
            other => panic!("SIG{sig}: exit {other:?}: {stderr}"),
        }
        if output.status.code() == Some(130) {
            assert_eq!(snapshot(&out), before, "SIG{sig} while writing changed the result");
        }
        assert!(leftovers(&out).is_empty(), "left behind: {:?}", leftovers(&out));
    }
    assert!(landed >= 2, "only {landed} of 3 signals landed while charts were drawn");
}

#[test]
fn a_signal_while_a_sweeps_results_are_written_commits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "small.toml", SMALL);
    let file = write(
        tmp.path(),
        "sweep.toml",
        &SWEEP.replace(
            "outputs = [\"annual_retention\"]",
            "outputs = [\"annual_retention\", \"final_members\", \"gini_hours\"]",
        ),
    );
    let straight = tmp.path().join("straight");
    coprosim().arg("sweep").arg(&file).arg("--out").arg(&straight).arg("-q").assert().success();
    let mut landed = 0;
    for (k, sig) in ["INT", "TERM", "INT"].iter().enumerate() {
        let out = tmp.path().join(format!("s{k}"));
        let child = spawn(&["sweep".as_ref(), file.as_os_str(), "-q".as_ref(), "--out".as_ref(), out.as_os_str()]);
        // points.csv in the working folder: the charts are being drawn.
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            let staged =
                std::fs::read_dir(&out).into_iter().flatten().flatten().any(|e| {
                    e.file_name().to_string_lossy().contains("partial-") && e.path().join("points.csv").exists()
                });
            if staged {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        signal(&child, sig);
        let output = finish_within(child, Duration::from_secs(30), "sweep after a signal");
        match output.status.code() {
            Some(130) => {
                landed += 1;
                assert!(!out.join("points.csv").exists() && !out.join("manifest.json").exists());
                assert!(leftovers(&out).is_empty(), "left behind: {:?}", leftovers(&out));
                // The points are saved: the rerun computes nothing and writes the same bytes.
                coprosim().arg("sweep").arg(&file).arg("--out").arg(&out).arg("-q").assert().success();
            }
            Some(0) => {}
            other => panic!("SIG{sig}: exit {other:?}: {}", stderr_of(&output)),
        }
        assert_eq!(
            snapshot(&out).into_iter().filter(|(n, _)| n != "manifest.json").collect::<Vec<_>>(),
            snapshot(&straight).into_iter().filter(|(n, _)| n != "manifest.json").collect::<Vec<_>>()
        );
    }
    assert!(landed >= 2, "only {landed} of 3 signals landed while charts were drawn");
}

#[test]
fn a_signal_inside_a_large_replication_is_honoured_within_seconds() {
    // One replication of two million agents over 50 years takes minutes; the stop request is
    // checked between the stages of building the world and every tick.
    let tmp = tempfile::tempdir().unwrap();
    let big = SMALL.replace("years = 2", "years = 50").replace("size = 300", "size = 2000000");
    let scenario = write(tmp.path(), "big.toml", &big);
    let out = tmp.path().join("big");
    for delay in [300, 1500] {
        let child = spawn(&[
            "run".as_ref(),
            scenario.as_os_str(),
            "-q".as_ref(),
            "-n".as_ref(),
            "1".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        std::thread::sleep(Duration::from_millis(delay));
        signal(&child, "TERM");
        let signalled = Instant::now();
        let output = finish_within(child, Duration::from_secs(20), "a large replication after SIGTERM");
        assert_eq!(output.status.code(), Some(130), "{}", stderr_of(&output));
        // Generous for a debug build on a loaded machine; the run itself would take minutes.
        assert!(signalled.elapsed() < Duration::from_secs(8), "took {:?}", signalled.elapsed());
        assert!(!out.exists() && leftovers(&out).is_empty());
    }
}

#[test]
fn a_second_signal_quits_at_once_and_leaves_no_working_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(tmp.path(), "small.toml", SMALL);
    let out = tmp.path().join("r");
    let child = spawn(&[
        "run".as_ref(),
        scenario.as_os_str(),
        "-q".as_ref(),
        "-n".as_ref(),
        "200000".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let start = Instant::now();
    while leftovers(&out).is_empty() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    signal(&child, "INT");
    signal(&child, "INT");
    let output = finish_within(child, Duration::from_secs(20), "run after two signals");
    assert_eq!(output.status.code(), Some(130), "{}", stderr_of(&output));
    assert!(!out.exists());
    assert!(leftovers(&out).is_empty(), "left behind: {:?}", leftovers(&out));
}

#[test]
fn devices_fifos_and_directories_are_refused_as_input_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe.toml");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let sweep_on_fifo = write(tmp.path(), "s.toml", &SWEEP.replace("small.toml", "pipe.toml"));
    let o = tmp.path().join("o");
    let cases: Vec<(Vec<&std::ffi::OsStr>, &str)> = vec![
        (vec!["run".as_ref(), "/dev/zero".as_ref()], "found a device, expected a regular file"),
        (vec!["check".as_ref(), fifo.as_os_str()], "found a FIFO (named pipe), expected a regular file"),
        (vec!["run".as_ref(), fifo.as_os_str()], "FIFO"),
        (vec!["sweep".as_ref(), sweep_on_fifo.as_os_str()], "FIFO"),
        (vec!["sweep".as_ref(), "/dev/zero".as_ref()], "found a device"),
        (vec!["check".as_ref(), tmp.path().as_os_str()], "found a directory, expected a regular file"),
    ];
    for (args, expected) in cases {
        let mut full = args.clone();
        if args[0] != "check" {
            full.extend(["--out".as_ref(), o.as_os_str()]);
        }
        let output = finish_within(spawn(&full), Duration::from_secs(10), &format!("{args:?}"));
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn progress_lines_from_another_sweep_are_never_used() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "small.toml", SMALL);
    let a = write(tmp.path(), "a.toml", SWEEP);
    let b = write(tmp.path(), "b.toml", &SWEEP.replace("seed = 3", "seed = 4"));
    let (da, db) = (tmp.path().join("a"), tmp.path().join("b"));
    coprosim().arg("sweep").arg(&a).arg("--out").arg(&da).arg("-q").assert().success();
    coprosim().arg("sweep").arg(&b).arg("--out").arg(&db).arg("-q").assert().success();
    let points = std::fs::read(db.join("points.csv")).unwrap();
    // Replace b's line for point 0 with a's (intact checksum, other sweep): a resume drops it
    // and recomputes the point, so points.csv is unchanged.
    let a_lines: Vec<String> =
        std::fs::read_to_string(da.join("progress.jsonl")).unwrap().lines().map(String::from).collect();
    let b_lines: Vec<String> =
        std::fs::read_to_string(db.join("progress.jsonl")).unwrap().lines().map(String::from).collect();
    let mixed = format!("{}\n{}\n", a_lines[0], b_lines[1..].join("\n"));
    std::fs::write(db.join("progress.jsonl"), mixed).unwrap();
    let out = coprosim().arg("sweep").arg(&b).arg("--out").arg(&db).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("dropped 1 progress lines of another sweep"), "{}", stderr_of(&out));
    assert_eq!(std::fs::read(db.join("points.csv")).unwrap(), points);

    // merge refuses a shard whose log holds a line of another sweep.
    let (s1, s2) = (tmp.path().join("s1"), tmp.path().join("s2"));
    for (k, d) in [("1/2", &s1), ("2/2", &s2)] {
        coprosim().arg("sweep").arg(&b).arg("--out").arg(d).args(["-q", "--shard", k]).assert().success();
    }
    let mut log = std::fs::OpenOptions::new().append(true).open(s1.join("progress.jsonl")).unwrap();
    writeln!(log, "{}", a_lines[2]).unwrap();
    // The manifest's checksum catches the change first; past it, merge's own check does.
    let out = coprosim().arg("merge").arg(&s1).arg(&s2).arg("--out").arg(tmp.path().join("m")).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("progress.jsonl: was changed after the run"), "{}", stderr_of(&out));
    let out = coprosim()
        .arg("merge")
        .arg(&s1)
        .arg(&s2)
        .arg("--out")
        .arg(tmp.path().join("m"))
        .arg("--ignore-checksums")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("lines from another sweep"), "{}", stderr_of(&out));
    assert!(!tmp.path().join("m").exists());
}

#[test]
fn an_interrupted_sweep_replacing_another_leaves_the_old_one_whole_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "small.toml", &SMALL.replace("years = 2", "years = 6"));
    let a = write(tmp.path(), "a.toml", &SWEEP.replace("steps = 6", "steps = 3"));
    let b = write(tmp.path(), "b.toml", &SWEEP.replace("seed = 3", "seed = 9").replace("steps = 6", "steps = 40"));
    let out = tmp.path().join("out");
    coprosim().arg("sweep").arg(&a).arg("--out").arg(&out).arg("-q").assert().success();
    let before = snapshot(&out);
    let child = spawn(&[
        "sweep".as_ref(),
        b.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "-q".as_ref(),
        "--force".as_ref(),
        "-j".as_ref(),
        "1".as_ref(),
    ]);
    // Interrupt once some of b's points are saved (wherever the sweep keeps them).
    let a_progress = std::fs::read(out.join("progress.jsonl")).unwrap();
    let start = Instant::now();
    loop {
        let mut logs = vec![out.join("progress.jsonl")];
        logs.extend(
            std::fs::read_dir(&out)
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(".coprosim-sweep-"))
                .map(|e| e.path().join("progress.jsonl")),
        );
        let saved = logs.iter().any(|l| std::fs::read(l).is_ok_and(|b| !b.is_empty() && b != a_progress));
        if saved || start.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    signal(&child, "INT");
    let output = finish_within(child, Duration::from_secs(30), "sweep after SIGINT");
    assert_eq!(output.status.code(), Some(130), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("still holds its earlier result"), "{}", stderr_of(&output));
    let visible = |files: Vec<(String, Vec<u8>)>| {
        files.into_iter().filter(|(n, _)| !n.starts_with(".coprosim-")).collect::<Vec<_>>()
    };
    assert_eq!(visible(snapshot(&out)), visible(before));
    // The rerun resumes and finishes; the result equals b run straight into a new folder.
    let out2 = coprosim().arg("sweep").arg(&b).arg("--out").arg(&out).args(["--force"]).output().unwrap();
    assert_eq!(out2.status.code(), Some(0), "{}", stderr_of(&out2));
    let straight = tmp.path().join("straight");
    coprosim().arg("sweep").arg(&b).arg("--out").arg(&straight).arg("-q").assert().success();
    for f in ["points.csv", "progress.jsonl", "sweep.json", "charts/line_annual_retention.png"] {
        assert_eq!(std::fs::read(out.join(f)).unwrap(), std::fs::read(straight.join(f)).unwrap(), "{f}");
    }
    // The working folder is gone; only the commit lock stays hidden there.
    let hidden: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert_eq!(hidden, vec![".coprosim-lock".to_string()]);
}

#[test]
fn a_full_disk_leaves_the_earlier_result_and_no_temporary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = tmp.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    if let Err(why) = mount_tmpfs(&disk, "size=256k") {
        return skipped("a_full_disk_leaves_the_earlier_result_and_no_temporary_files", &why);
    }
    let _mounted = Mounted(disk.clone());
    let scenario = write(tmp.path(), "small.toml", SMALL);
    let out = disk.join("r");
    coprosim().arg("run").arg(&scenario).arg("--out").arg(&out).args(["-q", "--no-charts"]).assert().success();
    let before = snapshot(&out);
    // With charts the result no longer fits in 256 KiB.
    let output = coprosim().arg("run").arg(&scenario).arg("--out").arg(&out).arg("-q").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("No space left on device"), "{}", stderr_of(&output));
    assert_eq!(snapshot(&out), before);
    assert!(leftovers(&out).is_empty(), "left behind: {:?}", leftovers(&out));
    // A sweep on a disk with a few kilobytes left likewise leaves no temporary file.
    let mut filler = std::fs::File::create(disk.join("filler")).unwrap();
    while filler.write_all(&[0u8; 4096]).is_ok() {}
    drop(filler);
    std::fs::write(disk.join("spare"), [0u8; 4096]).unwrap_or(());
    let _ = std::fs::remove_file(disk.join("spare"));
    let _ = std::process::Command::new("truncate").args(["-s", "-8K"]).arg(disk.join("filler")).status();
    write(tmp.path(), "sweep.toml", SWEEP);
    let sw = disk.join("sw");
    let output =
        coprosim().arg("sweep").arg(tmp.path().join("sweep.toml")).arg("--out").arg(&sw).arg("-q").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(leftovers(&sw).is_empty(), "left behind: {:?}", leftovers(&sw));
}

#[test]
fn out_is_checked_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(tmp.path(), "small.toml", SMALL);
    // A run of 100,000 replications would take minutes: every refusal must come first.
    let refused = |out: &Path, expected: &str| {
        let child = spawn(&[
            "run".as_ref(),
            scenario.as_os_str(),
            "-q".as_ref(),
            "-n".as_ref(),
            "100000".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        let output = finish_within(child, Duration::from_secs(10), &format!("--out {}", out.display()));
        assert_eq!(output.status.code(), Some(2), "{}: {}", out.display(), stderr_of(&output));
        assert!(stderr_of(&output).contains(expected), "{}: {}", out.display(), stderr_of(&output));
    };
    let file = write(tmp.path(), "a_file", "x");
    refused(&file, "it is a file, expected a directory");
    #[cfg(unix)]
    {
        let dangling = tmp.path().join("dangling");
        std::os::unix::fs::symlink(file.join("below"), &dangling).unwrap();
        refused(&dangling, "symbolic link");
        // A link to a directory is followed and stays a link; so is a link to where one will be.
        let real = tmp.path().join("real");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        coprosim().arg("run").arg(&scenario).arg("--out").arg(&link).args(["-q", "--no-charts"]).assert().success();
        coprosim().arg("run").arg(&scenario).arg("--out").arg(&link).args(["-q", "--no-charts"]).assert().success();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert!(real.join("summary.csv").exists());
    }
    // A trailing `/.` names the directory itself.
    let dotted = tmp.path().join("r5/.");
    coprosim().arg("run").arg(&scenario).arg("--out").arg(&dotted).args(["-q", "--no-charts"]).assert().success();
    assert!(tmp.path().join("r5/summary.csv").exists());

    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    match mount_tmpfs(&mnt, "size=64m") {
        Err(why) => skipped("out_is_checked_before_any_work (mount point)", &why),
        Ok(()) => {
            let _mounted = Mounted(mnt.clone());
            // A mount point works as an output directory, first time and again.
            for _ in 0..2 {
                coprosim()
                    .arg("run")
                    .arg(&scenario)
                    .arg("--out")
                    .arg(&mnt)
                    .args(["-q", "--no-charts"])
                    .assert()
                    .success();
            }
            assert!(mnt.join("summary.csv").exists());
        }
    }
    let ro = tmp.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    match mount_tmpfs(&ro, "size=1m,ro") {
        Err(why) => skipped("out_is_checked_before_any_work (read-only)", &why),
        Ok(()) => {
            let _mounted = Mounted(ro.clone());
            refused(&ro, "cannot write there");
            refused(&ro.join("below"), "cannot write there");
        }
    }
}

/// Start a long sweep, send SIGTERM after 1.5 s, and expect exit 130 within 20 s.
fn sweep_terminated(file: &Path, out: &Path, what: &str) -> std::process::Output {
    let child = spawn(&["sweep".as_ref(), file.as_os_str(), "-q".as_ref(), "--out".as_ref(), out.as_os_str()]);
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "TERM");
    let output = finish_within(child, Duration::from_secs(20), &format!("{what} after SIGTERM"));
    assert_eq!(output.status.code(), Some(130), "{what}: {}", stderr_of(&output));
    output
}

#[test]
fn a_million_step_grid_is_validated_at_once_and_stops_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "small.toml", SMALL);
    let file = write(tmp.path(), "big.toml", &SWEEP.replace("steps = 6", "steps = 1000000"));
    let output = sweep_terminated(&file, &tmp.path().join("o"), "a million-point sweep");
    assert!(stderr_of(&output).contains("rerun the same command to resume"), "{}", stderr_of(&output));
}

#[test]
fn the_size_guard_does_not_refuse_a_sweep_that_fits() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "small.toml", SMALL);
    let file = write(tmp.path(), "reps.toml", &SWEEP.replace("replications = 2", "replications = 1000000"));
    // The sweep starts (it would take hours) instead of being refused as needing 100 GiB.
    sweep_terminated(&file, &tmp.path().join("o"), "a sweep of a million replications");
    let sweep = <coprosim::engine::sweep::Sweep as coprosim::input::Load>::load(&file).unwrap();
    // One million replications of 300 agents: a few hundred MiB at most, not 100 GiB.
    assert!(sweep.memory_estimate(2) < 1 << 30, "{} bytes", sweep.memory_estimate(2));
    assert!(sweep.check_fits(2, 4 << 30).is_ok());
    let huge = SWEEP.replace("steps = 6", "steps = 1000000").replace(
        "[[axes]]",
        "[[axes]]\nkey = \"policy.performance_regime\"\nmin = 0.0\nmax = 1.0\nsteps = 100\n[[axes]]",
    );
    let e = <coprosim::engine::sweep::Sweep as coprosim::input::Load>::load(&write(tmp.path(), "huge.toml", &huge))
        .unwrap_err()
        .to_string();
    assert!(e.contains("the design has 100000000 points, expected at most 10000000"), "{e}");
}

#[test]
fn interrupted_runs_leave_the_earlier_result_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("sig.toml");
    std::fs::write(&scenario, slower()).unwrap();
    let out = tmp.path().join("result");
    Command::new(bin()).arg("run").arg(&scenario).args(["-n", "2", "-q", "--out"]).arg(&out).assert().success();
    let before: Vec<(String, Vec<u8>)> = ["summary.csv", "series.csv", "manifest.json", "report.html"]
        .iter()
        .map(|n| (n.to_string(), std::fs::read(out.join(n)).unwrap()))
        .collect();
    for (delay_ms, sig) in [(50, "INT"), (300, "INT"), (700, "TERM")] {
        let child = spawn(&[
            "run".as_ref(),
            scenario.as_os_str(),
            "-n".as_ref(),
            "100000".as_ref(),
            "-q".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        signal(&child, sig);
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
    std::fs::write(tmp.path().join("small.toml"), slower()).unwrap();
    let sweep = tmp.path().join("sweep.toml");
    std::fs::write(&sweep, SWEEP.replace("steps = 6", "steps = 40")).unwrap();
    let straight = tmp.path().join("straight");
    Command::new(bin()).arg("sweep").arg(&sweep).arg("--out").arg(&straight).arg("-q").assert().success();

    let resumed = tmp.path().join("resumed");
    let mut interrupted = 0;
    for (delay_ms, sig) in [(100, "INT"), (250, "INT"), (400, "TERM")] {
        let child = spawn(&[
            "sweep".as_ref(),
            sweep.as_os_str(),
            "--out".as_ref(),
            resumed.as_os_str(),
            "-q".as_ref(),
            "--threads".as_ref(),
            "1".as_ref(),
        ]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        signal(&child, sig);
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
                    coprosim::output::sweep_dir::read_progress(&resumed.join("progress.jsonl"), &info).points.len();
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

#[test]
fn concurrent_runs_into_one_directory_never_leave_a_mixture() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(tmp.path(), "small.toml", SMALL);
    let out = tmp.path().join("shared");
    coprosim().arg("run").arg(&scenario).arg("--out").arg(&out).args(["-q", "--no-charts"]).assert().success();
    for round in 0..2 {
        let children: Vec<Child> = (0..4)
            .map(|k| {
                let seed = format!("{}", 10 * round + k);
                spawn(&[
                    "run".as_ref(),
                    scenario.as_os_str(),
                    "-q".as_ref(),
                    "--seed".as_ref(),
                    seed.as_ref(),
                    "--out".as_ref(),
                    out.as_os_str(),
                ])
            })
            .collect();
        for child in children {
            let output = finish_within(child, Duration::from_secs(60), "concurrent run");
            assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        }
        // Whichever run committed last, every file is the one its manifest names.
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        for (name, sha) in manifest["files"].as_object().unwrap() {
            let bytes = std::fs::read(out.join(name)).unwrap();
            assert_eq!(coprosim::output::sha256_hex(&bytes), sha.as_str().unwrap(), "round {round}: {name}");
        }
        assert!(leftovers(&out).is_empty(), "left behind: {:?}", leftovers(&out));
    }
}

#[test]
fn a_commit_waits_for_another_process_committing_into_the_same_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(tmp.path(), "small.toml", SMALL);
    let out = tmp.path().join("shared");
    coprosim().arg("run").arg(&scenario).arg("--out").arg(&out).args(["-q", "--no-charts"]).assert().success();
    let before = std::fs::read(out.join("summary.csv")).unwrap();
    // Hold the directory's commit lock as another coprosim process would.
    let lock =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(out.join(".coprosim-lock")).unwrap();
    lock.lock().unwrap();
    let mut child = spawn(&[
        "run".as_ref(),
        scenario.as_os_str(),
        "-q".as_ref(),
        "--no-charts".as_ref(),
        "--seed".as_ref(),
        "99".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    // Its result is complete in its working folder, yet it waits and commits nothing.
    let start = Instant::now();
    let ready = || {
        std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("partial-") && e.path().join("manifest.json").exists())
    };
    while !ready() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "the run finished while the lock was held");
    assert_eq!(std::fs::read(out.join("summary.csv")).unwrap(), before);
    drop(lock);
    let output = finish_within(child, Duration::from_secs(30), "run after the lock was released");
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_ne!(std::fs::read(out.join("summary.csv")).unwrap(), before, "the new result is in place");
}

#[test]
fn a_killed_runs_working_folder_is_removed_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(tmp.path(), "small.toml", SMALL);
    for existing in [false, true] {
        let out = tmp.path().join(if existing { "kept" } else { "new" });
        if existing {
            coprosim().arg("run").arg(&scenario).arg("--out").arg(&out).args(["-q", "--no-charts"]).assert().success();
        }
        let mut child = spawn(&[
            "run".as_ref(),
            scenario.as_os_str(),
            "-q".as_ref(),
            "-n".as_ref(),
            "200000".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        let start = Instant::now();
        while leftovers(&out).is_empty() && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL: no handler runs
        child.wait().unwrap();
        assert!(!leftovers(&out).is_empty(), "SIGKILL leaves the working folder");
        // Under -q too: the note is about the user's directory, not the work.
        let output = Command::new(bin())
            .arg("run")
            .arg(&scenario)
            .arg("--out")
            .arg(&out)
            .args(["--no-charts", "-q"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        assert!(
            stderr_of(&output).contains("note: removed the working folders of killed coprosim runs"),
            "{}",
            stderr_of(&output)
        );
        assert!(leftovers(&out).is_empty(), "left behind: {:?}", leftovers(&out));
        let beside: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("coprosim-writer"))
            .collect();
        assert!(beside.is_empty(), "the writer lock file is removed: {beside:?}");
    }
}

#[test]
fn five_runs_started_at_once_on_one_directory_take_turns() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(tmp.path(), "small.toml", SMALL);
    let out = tmp.path().join("together");
    let children: Vec<Child> = (0..5)
        .map(|k| {
            let seed = k.to_string();
            spawn(&[
                "run".as_ref(),
                scenario.as_os_str(),
                "--no-charts".as_ref(),
                "--seed".as_ref(),
                seed.as_ref(),
                "--out".as_ref(),
                out.as_os_str(),
            ])
        })
        .collect();
    let mut waited = 0;
    for child in children {
        let output = finish_within(child, Duration::from_secs(120), "concurrent run");
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        if stderr.contains("is being written by coprosim process") {
            waited += 1;
        }
    }
    assert!(waited >= 1, "at least one run waited for another and said so");
    assert!(leftovers(&out).is_empty(), "left behind: {:?}", leftovers(&out));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    for (name, sha) in manifest["files"].as_object().unwrap() {
        assert_eq!(
            coprosim::output::sha256_hex(&std::fs::read(out.join(name)).unwrap()),
            sha.as_str().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn more_threads_than_four_per_core_are_refused_and_sigterm_is_honoured_at_the_most_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let limit = coprosim::input::thread_limit();
    let scenario = write(
        tmp.path(),
        "long.toml",
        &SMALL.replace("years = 2", "years = 1000").replace("size = 300", "size = 8000"),
    );
    let out = tmp.path().join("out");
    let expected = format!("--threads: found {}, expected at most {limit} (", limit + 1);
    write(tmp.path(), "small.toml", SMALL);
    let sweep = write(tmp.path(), "sweep.toml", SWEEP);
    for command in [["run".as_ref(), scenario.as_os_str()], ["sweep".as_ref(), sweep.as_os_str()]] {
        let refused =
            coprosim().args(command).arg("-o").arg(&out).args(["-j", &(limit + 1).to_string()]).output().unwrap();
        assert_eq!(refused.status.code(), Some(2), "{}", stderr_of(&refused));
        assert!(stderr_of(&refused).contains(&expected), "{}", stderr_of(&refused));
    }
    let refused =
        coprosim().args(["check".as_ref(), scenario.as_os_str()]).env("RAYON_NUM_THREADS", "99999").output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr_of(&refused));
    assert!(
        stderr_of(&refused).contains("RAYON_NUM_THREADS: found 99999, expected at most"),
        "{}",
        stderr_of(&refused)
    );
    assert!(!out.exists(), "nothing is written for a refused command");

    let child = spawn(&[
        "run".as_ref(),
        scenario.as_os_str(),
        "-n".as_ref(),
        "2".as_ref(),
        "-j".as_ref(),
        limit.to_string().as_ref(),
        "-q".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    std::thread::sleep(Duration::from_millis(700));
    signal(&child, "TERM");
    let sent = Instant::now();
    let output = finish_within(child, Duration::from_secs(30), "run at the largest --threads after SIGTERM");
    let took = sent.elapsed();
    assert_eq!(output.status.code(), Some(130), "{}", stderr_of(&output));
    assert!(took < Duration::from_secs(1), "SIGTERM took {took:?} to honour at -j {limit}");
    assert!(!out.join("summary.csv").exists());
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.iter().all(|n| !n.to_string_lossy().starts_with(".coprosim")), "working folders left: {left:?}");
}
