//! A run's agent-level detail, when asked for (`run --agents YEARS --events`): `agents.csv`
//! (every agent at each snapshot), `events.csv` (joins, exits and why, dissolutions) and
//! `spells.csv` (membership spells for survival analysis). One row per agent and snapshot, per
//! event, per spell; tidy, labelled by name; ticks count from founding as in `series.csv`.

use super::{OutputError, add_to_manifest, csv_bytes as csv, sha256_hex, write_atomic};
use crate::observe::Results;
use crate::observe::detail::{Detail, EventKind};
use std::path::{Path, PathBuf};

/// The snapshot file.
pub const AGENTS: &str = "agents.csv";
/// The event log.
pub const EVENTS: &str = "events.csv";
/// The spells.
pub const SPELLS: &str = "spells.csv";

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

fn full(v: f64) -> String {
    super::full_precision(v)
}

/// The detail files of a run's results: none unless detail was recorded; `agents.csv` when
/// snapshots were, `events.csv` and `spells.csv` when events were.
pub fn detail_files(r: &Results, snapshots: bool, events: bool) -> Vec<(&'static str, Vec<u8>)> {
    let cat = &r.catalogue;
    let tpy = cat.ticks_per_year as f64;
    let weeks = cat.weeks_per_tick;
    let year = |t: u32| super::num(t as f64 / tpy);
    let coalition = |c: u16| cat.coalitions[c as usize].clone();
    let group = |g: u8| cat.groups[g as usize].clone();
    let details: &[Detail] = &r.details;
    let mut out = Vec::new();
    if snapshots {
        let rows = details.iter().flat_map(|d| {
            d.agents.iter().map(move |a| {
                vec![
                    d.replication.to_string(),
                    a.tick.to_string(),
                    year(a.tick),
                    a.agent.to_string(),
                    group(a.group),
                    full(a.weights[0]),
                    full(a.weights[1]),
                    full(a.weights[2]),
                    a.coalition.map_or(String::new(), coalition),
                    opt(a.tenure_ticks.map(|t| full(t as f64 * weeks))),
                    full(a.hours_per_week),
                    full(a.hours_total),
                    a.lived_experience.to_string(),
                    a.credentialed.to_string(),
                    opt(a.satisfaction.map(full)),
                    full(a.aspiration),
                ]
            })
        });
        out.push((
            AGENTS,
            csv(
                &[
                    "replication",
                    "tick",
                    "year",
                    "agent",
                    "group",
                    "material",
                    "solidary",
                    "purposive",
                    "coalition",
                    "tenure_weeks",
                    "hours_per_week",
                    "hours_total",
                    "lived_experience",
                    "credentialed",
                    "satisfaction",
                    "aspiration",
                ],
                rows,
            ),
        ));
    }
    if events {
        let rows = details.iter().flat_map(|d| {
            d.events.iter().map(move |e| {
                vec![
                    d.replication.to_string(),
                    e.tick.to_string(),
                    year(e.tick),
                    opt(e.agent),
                    e.group.map_or(String::new(), group),
                    coalition(e.coalition),
                    e.kind.name().to_string(),
                    e.kind.reason().to_string(),
                ]
            })
        });
        out.push((
            EVENTS,
            csv(&["replication", "tick", "year", "agent", "group", "coalition", "event", "reason"], rows),
        ));
        let rows = details.iter().flat_map(|d| {
            d.spells.iter().map(move |s| {
                vec![
                    d.replication.to_string(),
                    s.agent.to_string(),
                    group(s.group),
                    coalition(s.coalition),
                    s.start_tick.to_string(),
                    s.entry_tick.to_string(),
                    s.end_tick.to_string(),
                    full((s.entry_tick - s.start_tick) as f64 * weeks),
                    full((s.end_tick - s.start_tick) as f64 * weeks),
                    u8::from(s.ended_by.is_some()).to_string(),
                    s.ended_by.map_or("censored", EventKind::reason).to_string(),
                ]
            })
        });
        out.push((
            SPELLS,
            csv(
                &[
                    "replication",
                    "agent",
                    "group",
                    "coalition",
                    "start_tick",
                    "entry_tick",
                    "end_tick",
                    "entry_weeks",
                    "duration_weeks",
                    "event",
                    "reason",
                ],
                rows,
            ),
        ));
    }
    out
}

/// Write the detail files into a run's directory and list them in its manifest.
pub fn write_detail(dir: &Path, r: &Results, snapshots: bool, events: bool) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = Vec::new();
    let mut listed = Vec::new();
    for (name, bytes) in detail_files(r, snapshots, events) {
        written.push(write_atomic(dir, name, &bytes)?);
        listed.push((name.to_string(), sha256_hex(&bytes)));
    }
    if !listed.is_empty() {
        add_to_manifest(dir, &listed)?;
    }
    Ok(written)
}
