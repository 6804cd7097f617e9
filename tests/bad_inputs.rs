//! The hand-written corpus of bad inputs in `tests/bad_inputs/`: every file is listed in
//! `expected.tsv` with the key path and message its error must name; `coprosim` must reject
//! each with exit code 2, one located line per problem, and no panic.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs")
}

struct Case {
    file: String,
    kind: String,
    path: String,
    expect: String,
}

fn cases() -> Vec<Case> {
    std::fs::read_to_string(corpus().join("expected.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Case { file: f[0].into(), kind: f[1].into(), path: f[2].into(), expect: f[3].into() }
        })
        .collect()
}

#[test]
fn every_file_in_the_corpus_is_listed_and_there_are_at_least_thirty() {
    let listed: Vec<String> = cases().into_iter().map(|c| c.file).collect();
    assert!(listed.len() >= 30, "{} cases", listed.len());
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name != "expected.tsv" {
            assert!(listed.contains(&name), "{name} is not listed in expected.tsv");
        }
    }
}

#[test]
fn each_bad_input_gets_its_expected_located_error() {
    for case in cases() {
        let file = corpus().join(&case.file);
        // The size guard acts when a run is about to allocate, so that case goes through `run`.
        let command = match case.kind.as_str() {
            "sweep" => vec!["sweep"],
            "targets" => vec!["calibrate", "-q"],
            _ if case.expect == "memory" => vec!["run", "-q", "--no-charts"],
            _ => vec!["check"],
        };
        let tmp = tempfile::tempdir().unwrap();
        let out = {
            let mut cmd = Command::cargo_bin("coprosim").unwrap();
            cmd.args(&command).arg(&file);
            if command[0] != "check" {
                cmd.arg("--out").arg(tmp.path().join("o"));
            }
            cmd.output().unwrap()
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: exit {:?}\n{stderr}", case.file, out.status.code());
        assert!(!stderr.contains("panicked"), "{}: {stderr}", case.file);
        let prefix = format!("error: {}:", file.display());
        for line in stderr.lines() {
            assert!(line.starts_with(&prefix), "{}: every error line names the file: {line}", case.file);
        }
        let wanted_path = if case.path.is_empty() { String::new() } else { format!(" {}: ", case.path) };
        assert!(
            stderr.lines().any(|l| l.contains(&wanted_path) && l.contains(&case.expect)),
            "{}: expected a line naming `{}` and saying `{}`, got:\n{stderr}",
            case.file,
            case.path,
            case.expect
        );
        if case.expect != "memory" {
            // Located: file:line:col.
            let first = stderr.lines().next().unwrap();
            let rest: Vec<&str> = first[prefix.len()..].splitn(3, ':').collect();
            assert!(rest[0].parse::<usize>().is_ok() && rest[1].parse::<usize>().is_ok(), "{}: {first}", case.file);
        }
        assert!(!tmp.path().join("o").exists(), "{}: nothing may be written", case.file);
    }
}
