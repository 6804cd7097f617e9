//! A large table's columns, defined once and written both as CSV and as Parquet.
//!
//! The detail files (`agents`, `events`, `spells`) can hold millions of rows. Each is declared
//! here as a list of typed columns over its rows; the CSV writer formats the cells as the other
//! CSV files do, and the Parquet writer stores the same values typed (whole numbers as INT64,
//! reals as DOUBLE, labels as UTF-8 strings, flags as BOOLEAN), so that `read_csv` and
//! `read_parquet` give the same data frame. Cells are computed from the rows when written, not
//! held, so a table costs one reference per row plus one row group's column at a time.

use super::full_precision;
use crate::text::num;

/// What a column holds, and so how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Whole numbers: replications, ticks, agents, 0/1 indicators.
    Whole,
    /// Real numbers, written in CSV to full (round-trip) precision.
    Real,
    /// Years from founding, written as `series.csv` writes them (at most six decimals); the
    /// Parquet file stores the value the CSV text reads as.
    Year,
    /// Names: groups, coalitions, events, reasons.
    Text,
    /// true or false.
    Flag,
}

/// One cell. `Empty` is a missing value: an empty CSV field, a Parquet null.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// No value (a column declared optional).
    Empty,
    /// A whole number.
    Whole(i64),
    /// A real number or a year.
    Real(f64),
    /// A name.
    Text(&'a str),
    /// A flag.
    Flag(bool),
}

type CellFn<'a, R> = Box<dyn Fn(&R) -> Cell<'a> + 'a>;

struct Column<'a, R> {
    name: &'static str,
    kind: Kind,
    optional: bool,
    cell: CellFn<'a, R>,
}

/// A table: its rows and the columns computed from each.
pub struct Table<'a, R> {
    rows: Vec<R>,
    columns: Vec<Column<'a, R>>,
}

impl<'a, R> Table<'a, R> {
    /// A table over these rows, with no columns yet.
    pub fn new(rows: Vec<R>) -> Self {
        Table { rows, columns: Vec::new() }
    }

    /// Add a column that has a value in every row.
    pub fn column(mut self, name: &'static str, kind: Kind, cell: impl Fn(&R) -> Cell<'a> + 'a) -> Self {
        self.columns.push(Column { name, kind, optional: false, cell: Box::new(cell) });
        self
    }

    /// Add a column whose cells may be [`Cell::Empty`].
    pub fn optional(mut self, name: &'static str, kind: Kind, cell: impl Fn(&R) -> Cell<'a> + 'a) -> Self {
        self.columns.push(Column { name, kind, optional: true, cell: Box::new(cell) });
        self
    }

    /// The column names, in order.
    fn header(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.name).collect()
    }
}

/// A table whatever its rows: what a list of tables of different rows holds.
pub trait Tabular {
    /// The table as CSV: a header line, then one line per row.
    fn csv(&self) -> Vec<u8>;
    /// The table as a Parquet file (Snappy-compressed, row groups of at most
    /// [`parquet_file::ROW_GROUP`] rows). The bytes depend only on the rows.
    fn parquet(&self) -> Vec<u8>;
}

impl<R> Tabular for Table<'_, R> {
    fn csv(&self) -> Vec<u8> {
        let rows = self.rows.iter().map(|row| self.columns.iter().map(|c| csv_field(c.kind, (c.cell)(row))).collect());
        super::csv_bytes(&self.header(), rows)
    }

    fn parquet(&self) -> Vec<u8> {
        parquet_file::write(self)
    }
}

fn csv_field(kind: Kind, cell: Cell<'_>) -> String {
    match (kind, cell) {
        (_, Cell::Empty) => String::new(),
        (Kind::Year, Cell::Real(v)) => num(v),
        (_, Cell::Real(v)) => full_precision(v),
        (_, Cell::Whole(v)) => v.to_string(),
        (_, Cell::Text(s)) => s.to_string(),
        (_, Cell::Flag(b)) => b.to_string(),
    }
}

/// The Parquet writer: the `parquet` crate's own low-level API (no Arrow), so the cost to the
/// build is the one crate.
pub mod parquet_file {
    use super::{Cell, Column, Kind, Table};
    use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
    use parquet::column::writer::ColumnWriter;
    use parquet::data_type::ByteArray;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::types::Type;
    use std::sync::Arc;

    /// Rows per row group: a reader can stream a large file a group at a time.
    pub const ROW_GROUP: usize = 1 << 20;

    fn field<R>(c: &Column<'_, R>) -> Arc<Type> {
        let (physical, logical) = match c.kind {
            Kind::Whole => (Physical::INT64, None),
            Kind::Real | Kind::Year => (Physical::DOUBLE, None),
            Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            Kind::Flag => (Physical::BOOLEAN, None),
        };
        let repetition = if c.optional { Repetition::OPTIONAL } else { Repetition::REQUIRED };
        let t = Type::primitive_type_builder(c.name, physical)
            .with_repetition(repetition)
            .with_logical_type(logical)
            .build()
            .expect("a valid primitive column");
        Arc::new(t)
    }

    /// A column's cells, of which Parquet stores the present ones (the definition levels say
    /// where the nulls are).
    struct Present<'c, 'a> {
        cells: &'c [Cell<'a>],
        column: &'static str,
    }

    impl<'a> Present<'_, 'a> {
        /// The present values, each taken from its cell by `pick`, which answers None for a
        /// cell of another kind than the column's: a bug in the table's definition.
        fn pick<T>(&self, pick: impl Fn(Cell<'a>) -> Option<T>) -> Vec<T> {
            let kind = |c: Cell<'a>| pick(c).unwrap_or_else(|| panic!("column {} holds a {c:?}", self.column));
            self.cells.iter().filter(|c| **c != Cell::Empty).map(|&c| kind(c)).collect()
        }
    }

    /// A year as the CSV text reads, so that both files hold the same number.
    fn year(v: f64) -> f64 {
        crate::text::num(v).parse().unwrap_or(f64::NAN)
    }

    pub(super) fn write<R>(table: &Table<'_, R>) -> Vec<u8> {
        let fields = table.columns.iter().map(field).collect();
        let schema = Type::group_type_builder("schema").with_fields(fields).build().expect("a valid schema");
        let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
        let mut w =
            SerializedFileWriter::new(Vec::new(), Arc::new(schema), Arc::new(props)).expect("writing to memory");
        for rows in table.rows.chunks(ROW_GROUP) {
            let mut group = w.next_row_group().expect("writing to memory");
            for c in &table.columns {
                let mut col = group.next_column().expect("writing to memory").expect("one writer per column");
                let cells: Vec<Cell<'_>> = rows.iter().map(|r| (c.cell)(r)).collect();
                let defs: Option<Vec<i16>> =
                    c.optional.then(|| cells.iter().map(|x| i16::from(*x != Cell::Empty)).collect());
                let defs = defs.as_deref();
                let values = Present { cells: &cells, column: c.name };
                let written = match col.untyped() {
                    ColumnWriter::Int64ColumnWriter(w) => {
                        w.write_batch(&values.pick(|x| if let Cell::Whole(v) = x { Some(v) } else { None }), defs, None)
                    }
                    ColumnWriter::DoubleColumnWriter(w) => {
                        let round: fn(f64) -> f64 = if c.kind == Kind::Year { year } else { std::convert::identity };
                        w.write_batch(
                            &values.pick(|x| if let Cell::Real(v) = x { Some(round(v)) } else { None }),
                            defs,
                            None,
                        )
                    }
                    ColumnWriter::ByteArrayColumnWriter(w) => w.write_batch(
                        &values.pick(|x| if let Cell::Text(s) = x { Some(ByteArray::from(s)) } else { None }),
                        defs,
                        None,
                    ),
                    ColumnWriter::BoolColumnWriter(w) => {
                        w.write_batch(&values.pick(|x| if let Cell::Flag(b) = x { Some(b) } else { None }), defs, None)
                    }
                    _ => unreachable!("the schema has only these physical types"),
                };
                written.expect("writing to memory");
                col.close().expect("writing to memory");
            }
            group.close().expect("writing to memory");
        }
        w.into_inner().expect("writing to memory")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table<'static, (i64, Option<f64>, &'static str, bool)> {
        let rows = vec![(1, Some(0.1 + 0.2), "a, b", true), (2, None, "c", false)];
        Table::new(rows)
            .column("n", Kind::Whole, |r| Cell::Whole(r.0))
            .column("year", Kind::Year, |r| Cell::Real(r.0 as f64 / 52.0))
            .optional("x", Kind::Real, |r| r.1.map_or(Cell::Empty, Cell::Real))
            .column("name", Kind::Text, |r| Cell::Text(r.2))
            .column("flag", Kind::Flag, |r| Cell::Flag(r.3))
    }

    #[test]
    fn csv_cells_are_written_as_the_other_files_write_them() {
        let text = String::from_utf8(sample().csv()).unwrap();
        assert_eq!(text, "n,year,x,name,flag\n1,0.019231,0.30000000000000004,\"a, b\",true\n2,0.038462,,c,false\n");
    }

    #[test]
    fn parquet_reads_back_as_the_csv_values() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        use parquet::record::Field;
        let bytes = sample().parquet();
        assert_eq!(&bytes[..4], b"PAR1");
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        let rows: Vec<Vec<(String, Field)>> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().get_column_iter().map(|(n, f)| (n.clone(), f.clone())).collect())
            .collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0], ("n".into(), Field::Long(1)));
        assert_eq!(rows[0][1], ("year".into(), Field::Double(0.019231)));
        assert_eq!(rows[0][2], ("x".into(), Field::Double(0.1 + 0.2)));
        assert_eq!(rows[0][3], ("name".into(), Field::Str("a, b".into())));
        assert_eq!(rows[0][4], ("flag".into(), Field::Bool(true)));
        assert_eq!(rows[1][2], ("x".into(), Field::Null));
        // Each writer hashes with its own random state: the bytes must not depend on it.
        assert_eq!(sample().parquet(), sample().parquet());
    }
}
