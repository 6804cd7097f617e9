//! Agent snapshots, the event log and spells (`run --agents YEARS --events`): consistent with
//! the run's own series, free of side effects on it, the same on any thread count, and
//! refused when asked for a year the run does not record.

mod common;

use assert_cmd::Command;
use std::collections::HashMap;
use std::path::Path;

fn coprosim() -> Command {
    Command::cargo_bin("coprosim").unwrap()
}

/// Two groups, two coalitions, a year of burn-in and three recorded years.
const TOWN: &str = concat!(
    r#"
name = "town"
[simulation]
years = 3
burn_in_years = 1
replications = 2
seed = 11
"#,
    two_programmes!()
);

fn rows(dir: &Path, file: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join(file)).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records().map(|rec| header.iter().cloned().zip(rec.unwrap().iter().map(String::from)).collect()).collect()
}

/// The town's scenario file, written into `dir`.
fn town(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("town.toml");
    std::fs::write(&path, TOWN).unwrap();
    path
}

fn run(dir: &Path, scenario: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    coprosim().arg("run").arg(scenario).arg("-o").arg(dir).args(["-q", "--no-charts"]).args(extra).assert()
}

#[test]
fn snapshots_events_and_spells_agree_with_the_series() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = town(tmp.path());
    let (plain, detailed) = (tmp.path().join("plain"), tmp.path().join("detailed"));
    run(&plain, &scenario, &["-n", "1"]).success();
    run(&detailed, &scenario, &["-n", "1", "--agents", "1,2.5,4", "--events"]).success();
    // Watching draws no random numbers: the run is the same with or without it.
    for f in ["series.csv", "summary.csv", "replications.csv", "retention.csv"] {
        assert_eq!(std::fs::read(plain.join(f)).unwrap(), std::fs::read(detailed.join(f)).unwrap(), "{f}");
    }
    let series = rows(&plain, "series.csv");
    let value = |metric: &str, tick: u32| -> f64 {
        let row = series
            .iter()
            .find(|r| {
                r["metric"] == metric && r["tick"] == tick.to_string() && r["coalition"] == "all" && r["group"] == "all"
            })
            .unwrap();
        row["mean"].parse().unwrap()
    };

    // Snapshots: every agent at ticks 52, 130 and 208; members as the series counts them.
    let agents = rows(&detailed, "agents.csv");
    assert_eq!(agents.len(), 3 * 400);
    for tick in [52, 130, 208] {
        let members = agents.iter().filter(|a| a["tick"] == tick.to_string() && !a["coalition"].is_empty()).count();
        assert_eq!(members as f64, value("members", tick), "tick {tick}");
    }
    assert!(agents.iter().all(|a| a["coalition"].is_empty() == a["tenure_weeks"].is_empty()));

    // Events: joins and exits tick by tick as the series counts them.
    let events = rows(&detailed, "events.csv");
    for tick in 53..=208u32 {
        for (event, metric) in [("join", "joins"), ("exit", "exits")] {
            let n = events.iter().filter(|e| e["tick"] == tick.to_string() && e["event"] == event).count();
            assert_eq!(n as f64, value(metric, tick), "{event}s at tick {tick}");
        }
    }
    // Spells: the members at the start, and every join, open one; every exit closes one.
    let spells = rows(&detailed, "spells.csv");
    let joins = events.iter().filter(|e| e["event"] == "join").count();
    assert_eq!(spells.len() as f64, value("members", 52) + joins as f64);
    let ended = spells.iter().filter(|s| s["event"] == "1").count();
    assert_eq!(ended, events.iter().filter(|e| e["event"] == "exit").count());
    for s in &spells {
        let (start, entry, end): (u32, u32, u32) =
            (s["start_tick"].parse().unwrap(), s["entry_tick"].parse().unwrap(), s["end_tick"].parse().unwrap());
        assert!(start <= entry && entry <= end && end <= 208, "{s:?}");
        assert_eq!(entry, start.max(52), "left-truncated at the recorded period's start: {s:?}");
        assert_eq!(s["event"] == "0", s["reason"] == "censored", "{s:?}");
        if s["event"] == "0" {
            assert_eq!(end, 208, "an open spell is censored at the horizon: {s:?}");
        }
    }
    // Censored spells are the members at the horizon.
    assert_eq!(spells.iter().filter(|s| s["event"] == "0").count() as f64, value("members", 208));

    // Participants in the last year: the distinct agents with a spell that reaches into the
    // year's ticks (its first to its last), in each coalition and in all; undefined until a
    // recorded year is complete (series.csv has no row for it), then the same until the next
    // year ends.
    let at = |metric: &str, coalition: &str, tick: u32| -> Option<f64> {
        let row = series
            .iter()
            .find(|r| r["metric"] == metric && r["tick"] == tick.to_string() && r["coalition"] == coalition)?;
        row["mean"].parse().ok()
    };
    for tick in [52, 80, 103] {
        assert_eq!(at("participants_last_year", "all", tick), None, "tick {tick}");
    }
    for end in [104u32, 156, 208] {
        let took_part = |coalition: Option<&str>| -> f64 {
            let agents: std::collections::BTreeSet<&String> = spells
                .iter()
                .filter(|s| coalition.is_none_or(|c| s["coalition"] == c))
                .filter(|s| {
                    let (start, stop): (u32, u32) = (s["start_tick"].parse().unwrap(), s["end_tick"].parse().unwrap());
                    let last = if s["event"] == "1" { stop - 1 } else { stop };
                    start <= end && last >= end - 52
                })
                .map(|s| &s["agent"])
                .collect();
            agents.len() as f64
        };
        for (coalition, label) in [(None, "all"), (Some("one"), "one"), (Some("two"), "two")] {
            let expected = took_part(coalition);
            assert!(expected > 0.0);
            for tick in [end, (end + 51).min(208)] {
                assert_eq!(at("participants_last_year", label, tick), Some(expected), "{label} at tick {tick}");
            }
        }
    }
    // Roles held never exceed the members or the roles offered.
    for tick in (52..=208).step_by(13) {
        for c in ["one", "two"] {
            let (filled, members) = (at("roles_filled", c, tick).unwrap(), at("members", c, tick).unwrap());
            let (roles, credentialed) = (at("roles", c, tick).unwrap(), at("credentialed_roles", c, tick).unwrap());
            assert!(filled <= members && filled <= roles && credentialed <= roles, "{c} at tick {tick}");
        }
    }
    let manifest = std::fs::read_to_string(detailed.join("manifest.json")).unwrap();
    for f in ["agents.csv", "events.csv", "spells.csv"] {
        assert!(manifest.contains(f), "{f} is listed in the manifest");
    }
}

#[test]
fn detail_is_the_same_on_any_thread_count_and_covers_the_first_replications() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = town(tmp.path());
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let flags = ["-n", "3", "--agents", "3", "--events", "--detail-replications", "2", "--parquet"];
    run(&one, &scenario, &[&flags[..], &["-j", "1"]].concat()).success();
    run(&two, &scenario, &[&flags[..], &["-j", "2"]].concat()).success();
    // Two processes: the Parquet writer's hashing is seeded afresh in each.
    for f in ["agents.csv", "events.csv", "spells.csv", "agents.parquet", "events.parquet", "spells.parquet"] {
        assert_eq!(std::fs::read(one.join(f)).unwrap(), std::fs::read(two.join(f)).unwrap(), "{f}");
    }
    let reps: std::collections::BTreeSet<String> =
        rows(&one, "agents.csv").into_iter().map(|a| a["replication"].clone()).collect();
    assert_eq!(reps.into_iter().collect::<Vec<_>>(), ["0", "1"]);
    // Without --events there is no event log; a later run without detail removes the files.
    // Without --parquet there are no Parquet files.
    run(&one, &scenario, &["-n", "1", "--agents", "3", "--force"]).success();
    assert!(one.join("agents.csv").exists() && !one.join("events.csv").exists());
    assert!(!one.join("agents.parquet").exists() && !one.join("spells.parquet").exists());
    run(&one, &scenario, &["-n", "1", "--force"]).success();
    assert!(!one.join("agents.csv").exists());
}

#[test]
fn a_year_outside_the_recorded_period_is_refused_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = town(tmp.path());
    let out = tmp.path().join("o");
    let got = run(&out, &scenario, &["--agents", "0.5"]).code(2);
    let err = String::from_utf8_lossy(&got.get_output().stderr).to_string();
    assert!(err.contains("--agents: found year 0.5, expected a year of the recorded period, from 1 to 4"), "{err}");
    assert!(!out.exists(), "nothing is written");
    let got = run(&out, &scenario, &["--agents", "1.001"]).code(2);
    let err = String::from_utf8_lossy(&got.get_output().stderr).to_string();
    assert!(err.contains("falls on a tick"), "{err}");
    let got = run(&out, &scenario, &["--parquet"]).code(2);
    let err = String::from_utf8_lossy(&got.get_output().stderr).to_string();
    assert!(err.contains("--parquet: found no detail table to write, expected --agents YEARS or --events"), "{err}");
    assert!(!out.exists(), "nothing is written");
}

/// Every cell of a Parquet file, as the text its CSV twin holds: a whole number or a name as
/// written, a real as the number the CSV text reads as, a null as an empty field.
fn parquet_rows(path: &Path) -> Vec<HashMap<String, String>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(name, field)| {
                    let text = match field {
                        Field::Null => String::new(),
                        Field::Bool(b) => b.to_string(),
                        Field::Long(v) => v.to_string(),
                        Field::Double(v) => format!("{v:?}"),
                        Field::Str(s) => s.clone(),
                        other => panic!("{name}: unexpected {other:?}"),
                    };
                    (name.clone(), text)
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_parquet_files_hold_the_csv_files_values_typed() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = town(tmp.path());
    let out = tmp.path().join("o");
    run(&out, &scenario, &["-n", "2", "--agents", "2,3.5", "--events", "--detail-replications", "2", "--parquet"])
        .success();
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    for table in ["agents", "events", "spells"] {
        let csv = rows(&out, &format!("{table}.csv"));
        let parquet = parquet_rows(&out.join(format!("{table}.parquet")));
        assert!(manifest.contains(&format!("\"{table}.parquet\"")), "{table}.parquet is listed in the manifest");
        assert!(csv.len() > 10, "{table}: {} rows", csv.len());
        assert_eq!(csv.len(), parquet.len(), "{table}: rows");
        let mut empty = 0;
        for (i, (c, p)) in csv.iter().zip(&parquet).enumerate() {
            assert_eq!(c.len(), p.len(), "{table} row {i}: columns");
            for (name, text) in c {
                let got = &p[name];
                if let (Ok(a), Ok(b)) = (text.parse::<f64>(), got.parse::<f64>()) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{table} row {i} {name}: csv {text}, parquet {got}");
                } else {
                    assert_eq!(text, got, "{table} row {i} {name}");
                }
                empty += usize::from(text.is_empty());
            }
        }
        if table != "spells" {
            assert!(empty > 0, "{table}: the optional columns' nulls were compared");
        }
    }
}

#[test]
fn snapshots_too_large_for_memory_are_refused_before_running() {
    // A town that fits in memory (`check` says so), whose every agent in every replication
    // at 50 snapshot years would not: about 10^11 rows.
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("big.toml");
    let text = TOWN
        .replace("years = 3\nburn_in_years = 1\nreplications = 2", "years = 50\nburn_in_years = 0\nreplications = 1000")
        .replace("[population]\nsize = 400\n", "[population]\nsize = 2000000\n");
    assert!(text.contains("size = 2000000") && text.contains("replications = 1000"));
    std::fs::write(&scenario, &text).unwrap();
    coprosim().arg("check").arg(&scenario).arg("-q").assert().success();
    let out = tmp.path().join("o");
    let years: Vec<String> = (1..=50).map(|y| y.to_string()).collect();
    let got = run(&out, &scenario, &["--agents", &years.join(","), "--detail-replications", "1000"]).code(2);
    let err = String::from_utf8_lossy(&got.get_output().stderr).to_string();
    assert!(err.contains("population.size") && err.contains("and its agent snapshots needs about"), "{err}");
    assert!(err.contains("ask for fewer snapshot years or detail replications"), "{err}");
    assert!(!out.exists(), "nothing is written");
}
