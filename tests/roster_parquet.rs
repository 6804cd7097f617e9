//! Rosters kept as Parquet (issue 30): read as their CSV export would be, with the same
//! checks, every problem located by row and column.

use assert_cmd::Command;
use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use std::path::Path;
use std::sync::Arc;

/// A column of a test file: its name, how it is stored, and its cells (None for a null).
enum Values {
    Text(Vec<Option<String>>),
    /// `DATE`: days since 1970-01-01.
    Date(Vec<Option<i32>>),
    /// `TIMESTAMP(NANOS)`, as pandas writes a datetime column.
    Nanoseconds(Vec<Option<i64>>),
    Double(Vec<Option<f64>>),
    Flag(Vec<Option<bool>>),
}

fn write_parquet(path: &Path, columns: &[(&str, Values)]) {
    let fields = columns
        .iter()
        .map(|(name, v)| {
            let (physical, logical) = match v {
                Values::Text(_) => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
                Values::Date(_) => (Physical::INT32, Some(LogicalType::Date)),
                Values::Nanoseconds(_) => (Physical::INT64, Some(LogicalType::timestamp(false, TimeUnit::NANOS))),
                Values::Double(_) => (Physical::DOUBLE, None),
                Values::Flag(_) => (Physical::BOOLEAN, None),
            };
            let t = Type::primitive_type_builder(name, physical)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(logical)
                .build()
                .unwrap();
            Arc::new(t)
        })
        .collect();
    let schema = Type::group_type_builder("schema").with_fields(fields).build().unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(WriterProperties::default())).unwrap();
    let mut group = w.next_row_group().unwrap();
    for (_, values) in columns {
        let mut col = group.next_column().unwrap().unwrap();
        fn split<T: Clone>(v: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
            (v.iter().flatten().cloned().collect(), v.iter().map(|x| i16::from(x.is_some())).collect())
        }
        match (col.untyped(), values) {
            (ColumnWriter::ByteArrayColumnWriter(w), Values::Text(v)) => {
                let (present, defs) = split(v);
                let present: Vec<ByteArray> = present.iter().map(|s| ByteArray::from(s.as_str())).collect();
                w.write_batch(&present, Some(&defs), None).unwrap();
            }
            (ColumnWriter::Int32ColumnWriter(w), Values::Date(v)) => {
                let (present, defs) = split(v);
                w.write_batch(&present, Some(&defs), None).unwrap();
            }
            (ColumnWriter::Int64ColumnWriter(w), Values::Nanoseconds(v)) => {
                let (present, defs) = split(v);
                w.write_batch(&present, Some(&defs), None).unwrap();
            }
            (ColumnWriter::DoubleColumnWriter(w), Values::Double(v)) => {
                let (present, defs) = split(v);
                w.write_batch(&present, Some(&defs), None).unwrap();
            }
            (ColumnWriter::BoolColumnWriter(w), Values::Flag(v)) => {
                let (present, defs) = split(v);
                w.write_batch(&present, Some(&defs), None).unwrap();
            }
            _ => unreachable!("a column's writer is of its type"),
        }
        col.close().unwrap();
    }
    group.close().unwrap();
    w.close().unwrap();
}

fn day(date: &str) -> i32 {
    coprosim::inference::roster::parse_date(date).unwrap() as i32
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn targets(roster: &Path, out: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("coprosim")
        .unwrap()
        .arg("targets")
        .arg(roster)
        .arg("--scenario")
        .arg(root().join("scenarios/roster/shop.toml"))
        .args(["--from", "2022-01-03", "--until", "2024-12-30", "--resamples", "100", "-q", "-o"])
        .arg(out)
        .assert()
}

/// The shipped roster as pandas would write it (starts as nanosecond timestamps, ends as
/// dates with nulls for spells still running) gives the targets file its CSV gives, but for
/// the name of the file it came from.
#[test]
fn a_parquet_roster_gives_the_targets_its_csv_gives() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = std::fs::read_to_string(root().join("scenarios/roster/roster.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let text = |k: usize| Values::Text(rows.iter().map(|r| Some(r[k].to_string())).collect());
    let nanoseconds =
        Values::Nanoseconds(rows.iter().map(|r| Some(i64::from(day(r[1])) * 86_400_000_000_000)).collect());
    let ends = Values::Date(rows.iter().map(|r| (!r[2].is_empty()).then(|| day(r[2]))).collect());
    let parquet = tmp.path().join("roster.parquet");
    write_parquet(&parquet, &[("person", text(0)), ("start", nanoseconds), ("end", ends), ("group", text(3))]);
    targets(&parquet, &tmp.path().join("from_parquet.toml")).success();
    targets(&root().join("scenarios/roster/roster.csv"), &tmp.path().join("from_csv.toml")).success();
    let from_parquet = std::fs::read_to_string(tmp.path().join("from_parquet.toml")).unwrap();
    let from_csv = std::fs::read_to_string(tmp.path().join("from_csv.toml")).unwrap();
    assert!(from_parquet.contains("source = \"roster.parquet: "), "{from_parquet}");
    assert_eq!(from_parquet.replace("roster.parquet", "roster.csv").replace("from_parquet", "from_csv"), from_csv);
}

/// Mistakes in a Parquet roster are found and placed as in a CSV one: row k on line k + 1,
/// the column by its position; a column of a type with no text form is refused by column.
#[test]
fn a_parquet_rosters_mistakes_are_located_by_row_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let parquet = tmp.path().join("mistakes.parquet");
    let text = |v: &[&str]| Values::Text(v.iter().map(|s| (!s.is_empty()).then(|| s.to_string())).collect());
    write_parquet(
        &parquet,
        &[
            ("person", text(&["a", "b", "c", ""])),
            (
                "start",
                Values::Date(vec![
                    Some(day("2022-01-03")),
                    Some(day("2022-03-01")),
                    Some(day("2022-02-01")),
                    Some(day("2022-02-01")),
                ]),
            ),
            ("end", Values::Date(vec![None, Some(day("2022-02-01")), None, None])),
            ("group", text(&["villagers", "villagers", "vilagers", "villagers"])),
            ("hours_per_week", Values::Double(vec![Some(2.0), Some(-3.0), None, Some(1.5)])),
        ],
    );
    let done = targets(&parquet, &tmp.path().join("t.toml")).code(2);
    let err = String::from_utf8_lossy(&done.get_output().stderr).to_string();
    let file = parquet.display().to_string();
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines[0].starts_with(&format!("error: {file}:3:3: end: found 2022-02-01, expected the end on or after")),
        "{err}"
    );
    assert!(lines[1].starts_with(&format!("error: {file}:3:5: hours_per_week: found \"-3\"")), "{err}");
    assert!(lines[2].starts_with(&format!("error: {file}:4:4: group: found \"vilagers\"")), "{err}");
    assert!(lines[3].starts_with(&format!("error: {file}:5:1: person: found an empty name")), "{err}");
    assert!(!tmp.path().join("t.toml").exists());

    // A column of flags where hours belong: refused before any row is read.
    write_parquet(
        &parquet,
        &[
            ("person", text(&["a"])),
            ("start", Values::Date(vec![Some(day("2022-01-03"))])),
            ("hours_per_week", Values::Flag(vec![Some(true)])),
            ("notes", Values::Flag(vec![Some(false)])),
        ],
    );
    let done = targets(&parquet, &tmp.path().join("t.toml")).code(2);
    let err = String::from_utf8_lossy(&done.get_output().stderr).to_string();
    assert!(
        err.contains(&format!(
            "error: {file}:1:3: hours_per_week: found Parquet values of type BOOLEAN, expected text"
        )),
        "{err}"
    );

    // Not Parquet at all.
    std::fs::write(&parquet, "person,start\na,2022-01-03\n").unwrap();
    let done = targets(&parquet, &tmp.path().join("t.toml")).code(2);
    let err = String::from_utf8_lossy(&done.get_output().stderr).to_string();
    assert!(err.contains(&format!("error: {file}:1:1: found a file Parquet cannot read (")), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error: ")).count(), 1, "{err}");
}

/// A damaged Parquet file is refused as one, never a crash: cut short anywhere, or with bytes
/// changed, it is a bad input (exit 2), or, where the damage leaves a readable table, read.
#[test]
fn a_damaged_parquet_roster_is_refused_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.parquet");
    let text = |v: &[&str]| Values::Text(v.iter().map(|s| Some(s.to_string())).collect());
    write_parquet(
        &good,
        &[
            ("person", text(&["a", "b", "c"])),
            ("start", Values::Date(vec![Some(day("2022-01-03")), Some(day("2022-03-01")), Some(day("2022-02-01"))])),
            ("end", Values::Date(vec![None, Some(day("2022-06-01")), None])),
        ],
    );
    let bytes = std::fs::read(&good).unwrap();
    let bad = tmp.path().join("bad.parquet");
    // One byte of a dictionary-encoded file (as pyarrow writes them) that once made the
    // parquet crate's decoder assert: the length of a dictionary entry, past its page.
    let mut damaged_dictionary = std::fs::read(root().join("tests/data/roster_dictionary.parquet")).unwrap();
    damaged_dictionary[12] ^= 0x5a;
    std::fs::write(&bad, &damaged_dictionary).unwrap();
    let done = targets(&bad, &tmp.path().join("t.toml")).code(2);
    let err = String::from_utf8_lossy(&done.get_output().stderr).to_string();
    assert!(err.contains("found a file Parquet cannot read (its reader failed: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let mut damaged: Vec<Vec<u8>> = (1..bytes.len()).step_by(7).map(|n| bytes[..n].to_vec()).collect();
    for at in (0..bytes.len()).step_by(5) {
        let mut b = bytes.clone();
        b[at] ^= 0x5a;
        damaged.push(b);
    }
    let dictionary = std::fs::read(root().join("tests/data/roster_dictionary.parquet")).unwrap();
    for at in (0..dictionary.len()).step_by(11) {
        let mut b = dictionary.clone();
        b[at] ^= 0x5a;
        damaged.push(b);
    }
    for b in damaged {
        std::fs::write(&bad, &b).unwrap();
        let code = targets(&bad, &tmp.path().join("t.toml")).get_output().status.code();
        assert!(matches!(code, Some(0) | Some(1) | Some(2)), "exit {code:?} for {} damaged bytes", b.len());
        assert_ne!(code, Some(1), "a damaged file is bad input, not a runtime failure");
    }
}
