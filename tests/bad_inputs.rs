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
        let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
        let command = match case.kind.as_str() {
            "sweep" => vec!["sweep"],
            "targets" => vec!["calibrate", "-q"],
            "roster" => vec!["targets", "-q", "--scenario", baseline.to_str().unwrap()],
            "funding" => vec!["funding", "-q", "--scenario", baseline.to_str().unwrap()],
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

/// The located error lines `coprosim check` prints for `text`, written to a file `name`.
fn check_lines(name: &str, text: &str) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join(name);
    std::fs::write(&file, text).unwrap();
    let out = Command::cargo_bin("coprosim").unwrap().arg("check").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let prefix = format!("error: {}:", file.display());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    stderr
        .lines()
        .map(|l| {
            assert!(l.starts_with(&prefix), "{l}");
            l[prefix.len()..].to_string()
        })
        .collect()
}

#[test]
fn an_unreadable_base_is_one_located_problem_among_the_files_others() {
    for (name, other) in [
        ("sweep_unreadable_base.toml", "3:16: replications: invalid type: string \"x\""),
        ("targets_unreadable_base.toml", "5:13: abc.particles: invalid type: string \"many\""),
    ] {
        let text = std::fs::read_to_string(corpus().join(name)).unwrap();
        let lines = check_lines(name, &text);
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(
            lines[0].starts_with(
                "2:1: base: found \"no_such_scenario.toml\", expected a readable scenario file (No such file or directory)"
            ),
            "{lines:#?}"
        );
        assert!(lines[1].starts_with(other), "{lines:#?}");
    }
    // A base that is not a valid scenario: each of its problems, located in it too.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("b.toml"), "name = \"b\"\n[simulation]\nyears = -1\n").unwrap();
    let sweep = tmp.path().join("s.toml");
    std::fs::write(
        &sweep,
        "name = \"s\"\nbase = \"b.toml\"\n[[axes]]\nkey = \"policy.performance_regime\"\nvalues = [0.5]\n",
    )
    .unwrap();
    let out = Command::cargo_bin("coprosim").unwrap().arg("check").arg(&sweep).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let base = tmp.path().join("b.toml");
    let wanted = format!(
        "s.toml:2:1: base: found \"b.toml\", expected a valid scenario file ({}:3:9: simulation.years:",
        base.display()
    );
    assert!(
        stderr.lines().any(|l| l.ends_with("expected a whole number in [1, 1000])") && l.contains(&wanted)),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 3, "the base's three problems: {stderr}");
}

#[test]
fn five_mistakes_in_a_scenario_give_five_located_lines_in_one_run() {
    let text = std::fs::read_to_string(corpus().join("five_mistakes.toml")).unwrap();
    let lines = check_lines("five.toml", &text);
    let wanted = [
        ("1:1: coalitions: ", "missing required table [[coalitions]]"),
        ("7:9: simulation.years: ", "expected a whole number"),
        ("14:1: population.groups[0].share: ", "expected a number in (0, 1]"),
        ("17:1: behaviour.join_maxx: ", "did you mean `join_max`?"),
        ("21:1: policy.shocks[0].coalition: ", "expected the name of a coalition"),
    ];
    assert_eq!(lines.len(), wanted.len(), "{lines:#?}");
    for (line, (start, says)) in lines.iter().zip(wanted) {
        assert!(line.starts_with(start) && line.contains(says), "{line}: wanted {start}…{says}");
    }
}

/// Run `command` on the corpus file `name` with the baseline as its scenario, and check that
/// it exits 2 with exactly the `wanted` lines (each its location and part of its message) and
/// writes nothing.
fn located_lines(command: &str, name: &str, wanted: &[(&str, &str)]) {
    let file = corpus().join(name);
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("coprosim")
        .unwrap()
        .arg(command)
        .arg(&file)
        .arg("--scenario")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml"))
        .arg("-o")
        .arg(tmp.path().join("out.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let prefix = format!("error: {}:", file.display());
    let lines: Vec<&str> = stderr.lines().map(|l| l.strip_prefix(&prefix).unwrap_or(l)).collect();
    assert_eq!(lines.len(), wanted.len(), "{stderr}");
    for (line, (start, says)) in lines.iter().zip(wanted) {
        assert!(line.starts_with(start) && line.contains(says), "{line}: wanted {start}…{says}");
    }
    assert!(!tmp.path().join("out.toml").exists(), "nothing is written");
}

#[test]
fn mistakes_in_a_funding_history_are_located_in_one_run() {
    // A misspelt column, a year that is not a calendar year, a misspelt stream, a negative
    // amount and two rows for one year and stream: `coprosim funding` names all five.
    located_lines(
        "funding",
        "mistakes_funding_history.csv",
        &[
            (
                "1:20: sorce: ",
                "unknown column `sorce`, expected one of year, stream, amount, source (did you mean `source`?)",
            ),
            ("3:1: year: ", "found \"22\", expected a calendar year (such as 2022)"),
            (
                "4:6: stream: ",
                "found \"contrct\", expected one of grants, contract, public, earned, donations (did you mean `contract`?)",
            ),
            ("5:13: amount: ", "found \"-500\", expected the income received that year, a number from 0 to 1e15"),
            ("7:1: year: ", "found a second row of grants income in 2023 (the first is on line 6)"),
        ],
    );
}

#[test]
fn five_mistakes_in_a_roster_give_five_located_lines_in_one_run() {
    // A missing column, a day that does not exist, an end before its start, a misspelt group
    // and negative hours: `coprosim targets` names all five, each at its line and column.
    located_lines(
        "targets",
        "five_mistakes_roster.csv",
        &[
            ("1:1: header: ", "missing required column `person`"),
            ("2:1: start: ", "found \"2021-02-30\", expected a date (YYYY-MM-DD, a real day)"),
            ("3:12: end: ", "found 2021-04-01, expected the end on or after the start (2021-05-01)"),
            ("4:13: group: ", "found \"disadvantged\", expected the name of one of the scenario's population groups"),
            ("5:24: hours_per_week: ", "found \"-3\", expected a number of hours from 0 to 168"),
        ],
    );
}

#[test]
fn every_unknown_key_and_wrong_type_is_reported_not_only_the_first() {
    // Three misspelt keys in one table (serde meets them in its own order) and two wrong
    // types in different tables.
    let text = "name = \"m\"\n[simulation]\nyears = 2\nseed = \"x\"\n[population]\nsize = 100\n\
                groups = [{ name = \"a\", share = 1.0 }]\n[behaviour]\nzeta = 1\nalpha = 2\nmu = 3\n\
                [[coalitions]]\nname = \"c\"\nfounders = \"ten\"\n";
    let lines = check_lines("m.toml", text);
    let paths: Vec<&str> = lines.iter().map(|l| l.split(": ").next().unwrap()).collect();
    assert_eq!(lines.len(), 5, "{lines:#?}");
    for (line, path) in lines.iter().zip([
        "4:8: simulation.seed",
        "9:1: behaviour.zeta",
        "10:1: behaviour.alpha",
        "11:1: behaviour.mu",
        "14:12: coalitions[0].founders",
    ]) {
        assert!(line.starts_with(path), "{line} should start with {path} ({paths:?})");
    }
}

#[test]
fn sweep_and_targets_files_also_get_every_problem_at_once() {
    let sweep = "name = \"s\"\nbase = \"baseline\"\noutputs = [\"happiness\"]\nreplicatons = 3\n\
                 [[axes]]\nkey = \"policy.performance_regime\"\nvalues = [0.5, 2.0]\n";
    let lines = check_lines("s.toml", sweep);
    assert!(lines.len() >= 3, "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("replicatons")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("happiness")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("axes[0]")), "{lines:#?}");
    let targets = "name = \"t\"\nbase = \"baseline\"\nparticels = 3\n[[observed]]\nmetric = \"retention\"\n\
                   value = \"high\"\nsd = 0.02\n[[parameters]]\nkey = \"behaviour.base_exit\"\nprior = \"uniform\"\n";
    let lines = check_lines("t.toml", targets);
    assert!(lines.len() >= 3, "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("particels")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("observed[0].value")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("parameters[0]")), "{lines:#?}");
}

#[test]
fn a_wrongly_typed_horizon_does_not_make_later_years_look_out_of_range() {
    // `years` is a string: it is reported, and the shock in year 15 is not then judged
    // against the default ten-year horizon the file did not ask for.
    let text = "name = \"m\"\n[simulation]\nyears = \"20\"\n[[population.groups]]\nname = \"a\"\nshare = 1.0\n\
                [[coalitions]]\nname = \"c\"\n[[policy.shocks]]\nyear = 15\ncut = 0.5\n";
    let lines = check_lines("h.toml", text);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("simulation.years") && lines[0].contains("expected a whole number in [1, 1000]"));
}
