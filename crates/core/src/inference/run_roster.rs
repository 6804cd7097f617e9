//! A roster written from a run (issue 30): one replication's membership spells in one
//! coalition, laid out as a programme keeps its records (`person,start,end,group`, dates), so
//! that the chain from a roster to a forecast can be tried on data whose generating
//! parameters are known.
//!
//! What such a roster holds is what a real one would: every spell still running when the
//! records begin (with its true start date, which may be earlier) and every spell begun
//! after; people who left before the records began are not on it. The records begin on the
//! first recorded tick (the end of the burn-in) and end at the horizon, where the spells still
//! running have no end. Hours and areas are left out: the model's spells do not carry them.

use super::roster::format_date;
use crate::observe::detail::Detail;
use crate::scenario::Scenario;

/// The day a tick falls on, when the first recorded tick falls on `first_day` (days from
/// 1970-01-01): the model's year is 364 days (52 weeks), so a weekly tick is 7 days and a
/// monthly one 30 or 31.
fn day_of(tick: u32, first_tick: u32, ticks_per_year: u32, first_day: i64) -> i64 {
    let ticks = i64::from(tick) - i64::from(first_tick);
    first_day + (ticks * 364).div_euclid(i64::from(ticks_per_year.max(1)))
}

/// A CSV field: quoted (RFC 4180) when it holds a comma, a quote or a line break.
fn quoted(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

/// The roster of coalition `coalition` (its index in the scenario) in a replication's detail,
/// as CSV text: one row per spell in the detail's order, `person` named `p<agent>`.
pub fn roster_csv(detail: &Detail, scenario: &Scenario, coalition: usize, first_day: i64) -> String {
    let first_tick = scenario.burn_in_ticks();
    let tpy = scenario.simulation.ticks_per_year;
    let mut out = String::from("person,start,end,group\n");
    for s in detail.spells.iter().filter(|s| usize::from(s.coalition) == coalition) {
        let start = format_date(day_of(s.start_tick, first_tick, tpy, first_day));
        let end = match s.ended_by {
            Some(_) => format_date(day_of(s.end_tick, first_tick, tpy, first_day)),
            None => String::new(),
        };
        let group = quoted(&scenario.population.groups[usize::from(s.group)].name);
        out.push_str(&format!("p{},{start},{end},{group}\n", s.agent));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::detail::{EventKind, Spell};

    #[test]
    fn ticks_become_days_from_the_first_recorded_one() {
        assert_eq!(day_of(520, 520, 52, 100), 100);
        assert_eq!(day_of(521, 520, 52, 100), 107);
        assert_eq!(day_of(519, 520, 52, 100), 93);
        assert_eq!(day_of(13, 12, 12, 0), 30);
        assert_eq!(day_of(24, 12, 12, 0), 364);
        assert_eq!(day_of(11, 12, 12, 0), -31);
    }

    #[test]
    fn spells_become_rows_with_running_ones_open() {
        let text = "name = \"t\"\n[simulation]\nburn_in_years = 1\n[[population.groups]]\nname = \"a\"\nshare = 1.0\n[[coalitions]]\nname = \"c\"\n[[coalitions]]\nname = \"d\"\n";
        let s = Scenario::parse(text, "t.toml").unwrap();
        let spell = |agent, coalition, start_tick, end_tick, ended_by| Spell {
            agent,
            group: 0,
            coalition,
            start_tick,
            entry_tick: start_tick.max(52),
            end_tick,
            ended_by,
        };
        let detail = Detail {
            spells: vec![
                spell(3, 0, 40, 60, Some(EventKind::Exit)),
                spell(4, 1, 52, 70, None),
                spell(5, 0, 53, 104, None),
            ],
            ..Detail::default()
        };
        let first = super::super::roster::parse_date("2021-01-04").unwrap();
        assert_eq!(
            roster_csv(&detail, &s, 0, first),
            "person,start,end,group\np3,2020-10-12,2021-03-01,a\np5,2021-01-11,,a\n"
        );
    }
}
