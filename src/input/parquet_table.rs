//! A table kept as Parquet (a roster exported by pandas, R's arrow or a database), read as
//! the rows of text cells the core's readers check, so that a Parquet roster is checked
//! exactly as its CSV export would be.
//!
//! Where a problem is: row k of the file is "line" k + 1 (the column names being line 1), as
//! in the CSV export of the same table; a cell's "column" is its column's position, from 1.
//!
//! Values become the text a CSV export would hold: strings as they are, integers and floats
//! in Rust's shortest round-trip form, dates (`DATE`) and timestamps (any unit, `INT96`
//! included) as the `YYYY-MM-DD` of their day, nulls as empty cells. Other types (booleans,
//! decimals, nested or repeated columns) are refused, by column, before any row is read.

use coprosim_core::inference::roster::{Field, format_date};
use coprosim_core::scenario::{Located, ScenarioError};
use parquet::basic::{ConvertedType, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field as Value;
use parquet::schema::types::{ColumnDescriptor, Type};
use std::path::Path;
use std::sync::Arc;

/// How a column's values become text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Strings, numbers, dates, timestamps other than nanoseconds: by their value.
    Plain,
    /// `INT64` timestamps in nanoseconds, which the record reader leaves as integers.
    Nanoseconds,
}

/// Whether a column can be read, and how; or why not.
fn kind(column: &ColumnDescriptor) -> Result<Kind, String> {
    let nanoseconds = matches!(
        column.logical_type_ref(),
        Some(LogicalType::Timestamp(t)) if t.unit == TimeUnit::NANOS
    );
    let converted = column.converted_type();
    let ok = match column.physical_type() {
        Physical::BYTE_ARRAY => matches!(converted, ConvertedType::NONE | ConvertedType::UTF8 | ConvertedType::ENUM),
        Physical::INT32 => matches!(
            converted,
            ConvertedType::NONE
                | ConvertedType::INT_8
                | ConvertedType::INT_16
                | ConvertedType::INT_32
                | ConvertedType::UINT_8
                | ConvertedType::UINT_16
                | ConvertedType::UINT_32
                | ConvertedType::DATE
        ),
        Physical::INT64 => matches!(
            converted,
            ConvertedType::NONE
                | ConvertedType::INT_64
                | ConvertedType::UINT_64
                | ConvertedType::TIMESTAMP_MILLIS
                | ConvertedType::TIMESTAMP_MICROS
        ),
        Physical::INT96 | Physical::FLOAT | Physical::DOUBLE => converted == ConvertedType::NONE,
        _ => false,
    };
    if !ok {
        let logical = column.logical_type_ref().map_or(String::new(), |l| format!(" ({l:?})"));
        return Err(format!(
            "found Parquet values of type {}{logical}, expected text, whole or decimal numbers, dates or timestamps",
            column.physical_type()
        ));
    }
    Ok(if nanoseconds { Kind::Nanoseconds } else { Kind::Plain })
}

/// The day a timestamp falls on, `per_day` of its units to a day.
fn day(t: i64, per_day: i64) -> String {
    format_date(t.div_euclid(per_day))
}

/// A value as the text of a CSV cell; None for a value of a type [`kind`] refuses.
fn text(value: &Value, kind: Kind) -> Option<String> {
    Some(match value {
        Value::Null => String::new(),
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8(b.data().to_vec()).ok()?,
        Value::Byte(v) => v.to_string(),
        Value::Short(v) => v.to_string(),
        Value::Int(v) => v.to_string(),
        Value::Long(v) if kind == Kind::Nanoseconds => day(*v, 86_400_000_000_000),
        Value::Long(v) => v.to_string(),
        Value::UByte(v) => v.to_string(),
        Value::UShort(v) => v.to_string(),
        Value::UInt(v) => v.to_string(),
        Value::ULong(v) => v.to_string(),
        Value::Float(v) => v.to_string(),
        Value::Double(v) => v.to_string(),
        Value::Date(d) => format_date(i64::from(*d)),
        Value::TimestampMillis(t) => day(*t, 86_400_000),
        Value::TimestampMicros(t) => day(*t, 86_400_000_000),
        _ => return None,
    })
}

/// One problem at the top of the file.
fn whole_file(file: &str, message: String) -> ScenarioError {
    ScenarioError::Invalid {
        file: file.to_string(),
        problems: vec![Located { line: 1, col: 1, path: String::new(), message }],
    }
}

/// The rows of the Parquet file at `path` (`file` names it in errors): the column names, then
/// each row's cells as text with its line. Refused, every column at once, when a column the
/// caller reads (`columns`) holds values of a type that has no text form; columns it does not
/// read are given empty cells whatever their type (the caller reports them as unknown).
pub fn rows(path: &Path, file: &str, columns: &[&str]) -> Result<Vec<(usize, Vec<Field>)>, ScenarioError> {
    let bytes = bytes::Bytes::from(super::read_bytes(path, file)?);
    guarded(file, || read(bytes, file, columns))
}

/// The parquet crate asserts rather than errs on some damaged files (a length past the end of
/// a page): its panic is caught here, silently, and reported as what it is, a file it cannot
/// read. (The command line reads one input at a time, so the process-wide hook is ours to
/// swap for the moment.)
fn guarded<T>(file: &str, read: impl FnOnce() -> Result<T, ScenarioError>) -> Result<T, ScenarioError> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    std::panic::set_hook(hook);
    out.unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "it gave up".into());
        Err(whole_file(
            file,
            format!("found a file Parquet cannot read (its reader failed: {why}), expected a Parquet file"),
        ))
    })
}

fn read(bytes: bytes::Bytes, file: &str, columns: &[&str]) -> Result<Vec<(usize, Vec<Field>)>, ScenarioError> {
    let reader = SerializedFileReader::new(bytes)
        .map_err(|e| whole_file(file, format!("found a file Parquet cannot read ({e}), expected a Parquet file")))?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let root = schema.root_schema();
    let mut header = Vec::new();
    let mut problems = Vec::new();
    // Per top-level field: its leaf column's kind, when it is read.
    let mut kinds: Vec<Option<Kind>> = Vec::new();
    let mut projected: Vec<Arc<Type>> = Vec::new();
    for (i, field) in root.get_fields().iter().enumerate() {
        let name = field.name().to_string();
        let col = i + 1;
        let known = columns.contains(&name.as_str());
        let leaf = (0..schema.num_columns()).map(|k| schema.column(k)).find(|c| c.path().parts() == [name.clone()]);
        let readable = match (&leaf, field.is_primitive()) {
            // (A top-level field without a repetition is read as a single value.)
            (Some(c), true)
                if !(field.get_basic_info().has_repetition()
                    && field.get_basic_info().repetition() == Repetition::REPEATED) =>
            {
                kind(c)
            }
            _ => Err("found a nested or repeated Parquet column, expected one value per row".to_string()),
        };
        match readable {
            Ok(k) => {
                kinds.push(Some(k));
                projected.push(field.clone());
            }
            Err(why) if known => {
                problems.push(Located { line: 1, col, path: name.clone(), message: why });
                kinds.push(None);
            }
            Err(_) => kinds.push(None),
        }
        header.push(Field { text: name, col });
    }
    if !problems.is_empty() {
        return Err(ScenarioError::Invalid { file: file.to_string(), problems });
    }
    let projection = Type::group_type_builder(root.name())
        .with_fields(projected)
        .build()
        .map_err(|e| whole_file(file, format!("found a schema Parquet cannot project ({e}), expected flat columns")))?;
    let iter = reader
        .get_row_iter(Some(projection))
        .map_err(|e| whole_file(file, format!("found rows Parquet cannot read ({e}), expected a Parquet file")))?;
    let mut out = vec![(1, header.clone())];
    for (k, row) in iter.enumerate() {
        let line = k + 2;
        let row = row.map_err(|e| ScenarioError::Invalid {
            file: file.to_string(),
            problems: vec![Located {
                line,
                col: 1,
                path: String::new(),
                message: format!("found a row Parquet cannot read ({e}), expected a Parquet file"),
            }],
        })?;
        let mut cells: Vec<Field> = header.iter().map(|h| Field { text: String::new(), col: h.col }).collect();
        for (name, value) in row.get_column_iter() {
            let Some(i) = header.iter().position(|h| &h.text == name) else { continue };
            let Some(kind) = kinds[i] else { continue };
            match text(value, kind) {
                Some(t) => cells[i].text = t,
                None => problems.push(Located {
                    line,
                    col: i + 1,
                    path: name.clone(),
                    message: "found a value with no text form, expected text, a number, a date or a timestamp".into(),
                }),
            }
        }
        out.push((line, cells));
    }
    if !problems.is_empty() {
        return Err(ScenarioError::Invalid { file: file.to_string(), problems });
    }
    Ok(out)
}
