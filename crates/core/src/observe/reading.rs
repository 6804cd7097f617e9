//! Where an output a sweep or targets file names (`scenario::outputs::OutputSpec`) is read in
//! one replication's record: the observers know the layout of what they record.

use super::{Catalogue, ReplicationRecord};
use crate::scenario::outputs::OutputSpec;

/// Where `spec` is read in a replication's record of a scenario with catalogue `cat`, or why
/// it cannot be.
pub fn reading(spec: &OutputSpec, cat: &Catalogue) -> Result<OutputReading, String> {
    let index = |names: &[String], name: &str, what: &str| -> Result<Option<usize>, String> {
        match name {
            "all" => Ok(None),
            _ => names
                .iter()
                .position(|n| n == name)
                .map(Some)
                .ok_or_else(|| format!("found {what} \"{name}\", expected \"all\" or one of {}", names.join(", "))),
        }
    };
    let coalition = index(&cat.coalitions, &spec.coalition, "coalition")?;
    let group = index(&cat.group_labels(), &spec.group, "group")?;
    if let Some(year) = spec.year {
        let (column, row) = cat.series_at(&spec.metric, coalition, group, year)?;
        return Ok(OutputReading::Series { column, row });
    }
    let keys = crate::observe::summary_keys(cat);
    keys.iter()
        .position(|k| k.metric == spec.metric && k.coalition == coalition && k.group == group)
        .map(OutputReading::Summary)
        .ok_or_else(|| {
            let mut names: Vec<String> = Vec::new();
            for k in &keys {
                let n = match (k.coalition, k.group) {
                    (None, None) => k.metric.to_string(),
                    (c, g) => format!("{}/{}/{}", k.metric, cat.coalition_label(c), cat.group_label(g)),
                };
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            format!(
                "found \"{}\", expected one of {}, or a series.csv metric at a year, e.g. \"members/all/all@{}\"",
                spec.label(),
                names.join(", "),
                crate::text::num((cat.first_tick + cat.ticks) as f64 / cat.ticks_per_year as f64)
            )
        })
}

/// Where a sweep output is read in one replication's record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutputReading {
    /// Entry of the headline scalars ([`crate::observe::summary_keys`] order).
    Summary(usize),
    /// A series column at a row (tick from the start of recording).
    Series {
        /// Column in the catalogue's series order.
        column: usize,
        /// Row.
        row: usize,
    },
}

impl OutputReading {
    /// The value in `rec` (NaN when undefined).
    pub fn read(self, rec: &ReplicationRecord, cat: &Catalogue) -> f64 {
        match self {
            OutputReading::Summary(i) => rec.summary[i],
            OutputReading::Series { column, row } => rec.series[row * cat.series.len() + column] as f64,
        }
    }
}
