//! A run's agent-level detail, when asked for (`run --agents YEARS --events`): `agents.csv`
//! (every agent at each snapshot), `events.csv` (joins, exits and why, dissolutions) and
//! `spells.csv` (membership spells for survival analysis). One row per agent and snapshot, per
//! event, per spell; tidy, labelled by name; ticks count from founding as in `series.csv`.
//! `run --parquet` writes each as Parquet too (`agents.parquet`, ...), the same columns typed.

use super::table::{Cell, Kind::*, Table, Tabular};
use super::{OutputError, add_to_manifest, sha256_hex, write_atomic};
use crate::observe::Results;
use crate::observe::detail::{AgentRow, Detail, Event, EventKind, Spell};
use std::path::{Path, PathBuf};

pub use super::names::{AGENTS, AGENTS_PARQUET, EVENTS, EVENTS_PARQUET, ROSTER, SPELLS, SPELLS_PARQUET};

/// The detail tables of a run's results: none unless detail was recorded; `agents` when
/// snapshots were, `events` and `spells` when events were. Each is written as CSV, and as
/// Parquet too when asked.
pub fn detail_tables(r: &Results, snapshots: bool, events: bool) -> Vec<(&'static str, Box<dyn Tabular + '_>)> {
    let cat = &r.catalogue;
    let tpy = cat.ticks_per_year as f64;
    let weeks = cat.weeks_per_tick;
    let year = move |t: u32| Cell::Real(t as f64 / tpy);
    let coalition = move |c: u16| Cell::Text(&cat.coalitions[c as usize]);
    let group = move |g: u8| Cell::Text(&cat.groups[g as usize]);
    let details: &[Detail] = &r.details;
    let mut out = Vec::new();
    if snapshots {
        let rows = details.iter().flat_map(|d| d.agents.iter().map(move |a| (d.replication, a))).collect();
        let table = Table::new(rows)
            .column("replication", Whole, |(r, _): &(u32, &AgentRow)| Cell::Whole((*r).into()))
            .column("tick", Whole, |(_, a)| Cell::Whole(a.tick.into()))
            .column("year", Year, move |(_, a)| year(a.tick))
            .column("agent", Whole, |(_, a)| Cell::Whole(a.agent.into()))
            .column("group", Text, move |(_, a)| group(a.group))
            .column("material", Real, |(_, a)| Cell::Real(a.weights[0]))
            .column("solidary", Real, |(_, a)| Cell::Real(a.weights[1]))
            .column("purposive", Real, |(_, a)| Cell::Real(a.weights[2]))
            .optional("coalition", Text, move |(_, a)| a.coalition.map_or(Cell::Empty, coalition))
            .optional("tenure_weeks", Real, move |(_, a)| {
                a.tenure_ticks.map_or(Cell::Empty, |t| Cell::Real(t as f64 * weeks))
            })
            .column("hours_per_week", Real, |(_, a)| Cell::Real(a.hours_per_week))
            .column("hours_total", Real, |(_, a)| Cell::Real(a.hours_total))
            .column("lived_experience", Flag, |(_, a)| Cell::Flag(a.lived_experience))
            .column("credentialed", Flag, |(_, a)| Cell::Flag(a.credentialed))
            .optional("satisfaction", Real, |(_, a)| a.satisfaction.map_or(Cell::Empty, Cell::Real))
            .column("aspiration", Real, |(_, a)| Cell::Real(a.aspiration));
        out.push((AGENTS, Box::new(table) as Box<dyn Tabular>));
    }
    if events {
        let rows = details.iter().flat_map(|d| d.events.iter().map(move |e| (d.replication, e))).collect();
        let table = Table::new(rows)
            .column("replication", Whole, |(r, _): &(u32, &Event)| Cell::Whole((*r).into()))
            .column("tick", Whole, |(_, e)| Cell::Whole(e.tick.into()))
            .column("year", Year, move |(_, e)| year(e.tick))
            .optional("agent", Whole, |(_, e)| e.agent.map_or(Cell::Empty, |a| Cell::Whole(a.into())))
            .optional("group", Text, move |(_, e)| e.group.map_or(Cell::Empty, group))
            .column("coalition", Text, move |(_, e)| coalition(e.coalition))
            .column("event", Text, |(_, e)| Cell::Text(e.kind.name()))
            .optional("reason", Text, |(_, e)| match e.kind.reason() {
                "" => Cell::Empty,
                why => Cell::Text(why),
            });
        out.push((EVENTS, Box::new(table)));
        let rows = details.iter().flat_map(|d| d.spells.iter().map(move |s| (d.replication, s))).collect();
        let table = Table::new(rows)
            .column("replication", Whole, |(r, _): &(u32, &Spell)| Cell::Whole((*r).into()))
            .column("agent", Whole, |(_, s)| Cell::Whole(s.agent.into()))
            .column("group", Text, move |(_, s)| group(s.group))
            .column("coalition", Text, move |(_, s)| coalition(s.coalition))
            .column("start_tick", Whole, |(_, s)| Cell::Whole(s.start_tick.into()))
            .column("entry_tick", Whole, |(_, s)| Cell::Whole(s.entry_tick.into()))
            .column("end_tick", Whole, |(_, s)| Cell::Whole(s.end_tick.into()))
            .column("entry_weeks", Real, move |(_, s)| Cell::Real((s.entry_tick - s.start_tick) as f64 * weeks))
            .column("duration_weeks", Real, move |(_, s)| Cell::Real((s.end_tick - s.start_tick) as f64 * weeks))
            .column("event", Whole, |(_, s)| Cell::Whole(s.ended_by.is_some().into()))
            .column("reason", Text, |(_, s)| Cell::Text(s.ended_by.map_or("censored", EventKind::reason)));
        out.push((SPELLS, Box::new(table)));
    }
    out
}

/// The detail files of a run's results, as (file name, bytes): each table's CSV file, and its
/// Parquet file (`agents.parquet`, ...) when `parquet` is set.
pub fn detail_files(r: &Results, snapshots: bool, events: bool, parquet: bool) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, table) in detail_tables(r, snapshots, events) {
        out.push((name, table.csv()));
        if parquet {
            out.push((parquet_name(name), table.parquet()));
        }
    }
    out
}

/// `agents.csv` → `agents.parquet`.
fn parquet_name(csv: &'static str) -> &'static str {
    match csv {
        AGENTS => AGENTS_PARQUET,
        EVENTS => EVENTS_PARQUET,
        SPELLS => SPELLS_PARQUET,
        _ => unreachable!("only the detail tables are written as Parquet"),
    }
}

/// Write the detail files into a run's directory and list them in its manifest. One file is
/// held in memory at a time: a million agents' snapshots are hundreds of megabytes.
pub fn write_detail(
    dir: &Path,
    r: &Results,
    snapshots: bool,
    events: bool,
    parquet: bool,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = Vec::new();
    let mut listed = Vec::new();
    let mut write = |name: &'static str, bytes: Vec<u8>| -> Result<(), OutputError> {
        written.push(write_atomic(dir, name, &bytes)?);
        listed.push((name.to_string(), sha256_hex(&bytes)));
        Ok(())
    };
    for (name, table) in detail_tables(r, snapshots, events) {
        write(name, table.csv())?;
        if parquet {
            write(parquet_name(name), table.parquet())?;
        }
    }
    if !listed.is_empty() {
        add_to_manifest(dir, &listed)?;
    }
    Ok(written)
}

/// Write `roster.csv` (`run --roster`): the first replication's spells in coalition
/// `coalition` as a programme's roster whose records begin on `first_day`
/// ([`coprosim::inference::run_roster`]), and list it in the manifest.
pub fn write_roster(
    dir: &Path,
    r: &Results,
    scenario: &crate::scenario::Scenario,
    coalition: usize,
    first_day: i64,
) -> Result<PathBuf, OutputError> {
    let none = Detail::default();
    let detail = r.details.first().unwrap_or(&none);
    let bytes = crate::inference::run_roster::roster_csv(detail, scenario, coalition, first_day).into_bytes();
    let path = write_atomic(dir, ROSTER, &bytes)?;
    add_to_manifest(dir, &[(ROSTER.to_string(), sha256_hex(&bytes))])?;
    Ok(path)
}
