//! Agent-level detail on request: snapshots of every agent at chosen ticks, and the history of
//! joins, exits and dissolutions with the membership spells it makes, for the first few
//! replications of a run. Off by default: the headline observers need none of it.
//!
//! Ticks count from founding, as in `series.csv`; the recorded period starts at the
//! catalogue's `first_tick` (after any burn-in). A spell that began before it is
//! left-truncated there (`entry_tick`), one still open at the horizon is censored: the layout
//! R's `survival::Surv(entry, end, event)` and Python's `lifelines` read directly.

use super::Catalogue;
use crate::model::{Model, OUTSIDE};

/// What detail to record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetailRequest {
    /// Ticks (from founding, within the recorded period) at which to snapshot every agent.
    pub snapshot_ticks: Vec<u32>,
    /// Whether to record the event history and spells.
    pub events: bool,
    /// Record detail for replications 0 … replications − 1.
    pub replications: u32,
}

/// Bytes of `agents.csv` text per snapshot row, at most in practice (measured: about 142 for a
/// million agents, the widest numbers included).
const SNAPSHOT_ROW_TEXT: u64 = 160;

impl DetailRequest {
    /// Memory the agent snapshots take until they are written, for a run of `replications`
    /// of `agents` agents: every covered replication's rows, and `agents.csv`'s text while it
    /// is written (the largest file; the files are written one at a time). Events and spells
    /// are not counted: their number depends on the run, and they are few beside snapshots.
    pub fn snapshot_bytes(&self, agents: u32, replications: u32) -> u64 {
        let rows = u64::from(self.replications.min(replications))
            .saturating_mul(self.snapshot_ticks.len() as u64)
            .saturating_mul(u64::from(agents));
        rows.saturating_mul(std::mem::size_of::<AgentRow>() as u64 + SNAPSHOT_ROW_TEXT)
    }

    /// Whether replication `r` is recorded in detail.
    pub fn covers(&self, r: u32) -> bool {
        r < self.replications && (self.events || !self.snapshot_ticks.is_empty())
    }
}

/// One agent at one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRow {
    /// Tick from founding.
    pub tick: u32,
    /// Agent index.
    pub agent: u32,
    /// Population group index.
    pub group: u8,
    /// Material, solidary and purposive incentive weights.
    pub weights: [f64; 3],
    /// Coalition index, if a member.
    pub coalition: Option<u16>,
    /// Ticks since the current spell began (members only).
    pub tenure_ticks: Option<u32>,
    /// Hours per week given while a member.
    pub hours_per_week: f64,
    /// Hours given in the recorded period so far.
    pub hours_total: f64,
    /// Has lived experience of the problem.
    pub lived_experience: bool,
    /// Holds the credentials credentialed roles require.
    pub credentialed: bool,
    /// Smoothed satisfaction with the coalition (members only).
    pub satisfaction: Option<f64>,
    /// Aspiration level.
    pub aspiration: f64,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An agent joined a coalition.
    Join,
    /// An agent left a coalition that was still active.
    Exit,
    /// An agent's coalition had dissolved, so it left.
    ExitDissolved,
    /// A life event left the agent without time to spare, so it left.
    ExitNoTime,
    /// A coalition dissolved.
    Dissolution,
}

impl EventKind {
    /// The `event` column of `events.csv`.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Join => "join",
            EventKind::Exit | EventKind::ExitDissolved | EventKind::ExitNoTime => "exit",
            EventKind::Dissolution => "dissolution",
        }
    }

    /// Why a spell ended: `left`, `dissolved`, `no_time`, or empty.
    pub fn reason(self) -> &'static str {
        match self {
            EventKind::Exit => "left",
            EventKind::ExitDissolved => "dissolved",
            EventKind::ExitNoTime => "no_time",
            _ => "",
        }
    }
}

/// One event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// Tick from founding.
    pub tick: u32,
    /// What happened.
    pub kind: EventKind,
    /// The agent (None for a dissolution).
    pub agent: Option<u32>,
    /// Its group.
    pub group: Option<u8>,
    /// The coalition.
    pub coalition: u16,
}

/// One membership spell seen in the recorded period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spell {
    /// The member.
    pub agent: u32,
    /// Its group.
    pub group: u8,
    /// The coalition.
    pub coalition: u16,
    /// Tick the spell began (possibly before the recorded period).
    pub start_tick: u32,
    /// Tick observation began: the later of the start and the recorded period's first tick.
    pub entry_tick: u32,
    /// Tick it ended, or the horizon if still open.
    pub end_tick: u32,
    /// How it ended: `Exit`, `ExitDissolved` or `ExitNoTime`, or None if censored at the horizon.
    pub ended_by: Option<EventKind>,
}

/// A replication's detail.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detail {
    /// The replication.
    pub replication: u32,
    /// Snapshot rows, by tick then agent.
    pub agents: Vec<AgentRow>,
    /// Events by tick; within a tick, dissolutions first, then agents by index.
    pub events: Vec<Event>,
    /// Spells, by the tick observation began, then agent (the order they open in).
    pub spells: Vec<Spell>,
}

/// Records one replication's detail, tick by tick.
#[derive(Debug)]
pub struct DetailRecorder {
    request: DetailRequest,
    detail: Detail,
    /// Per agent: the open spell's index in `detail.spells`, if any.
    open: Vec<Option<u32>>,
}

impl DetailRecorder {
    /// Start recording at the recorded period's first tick (the model's current state).
    pub fn new(request: &DetailRequest, replication: u32, model: &Model) -> DetailRecorder {
        let mut r = DetailRecorder {
            request: request.clone(),
            detail: Detail { replication, ..Detail::default() },
            open: vec![None; if request.events { model.agents.len() } else { 0 }],
        };
        if request.events {
            let a = &model.agents;
            for i in 0..a.len() {
                let m = a.membership[i];
                if m != OUTSIDE {
                    r.open_spell(i, a.group[i], m, a.spell_start[i], model.tick);
                }
            }
        }
        r.snapshot(model);
        r
    }

    fn open_spell(&mut self, i: usize, group: u8, m: u16, start: u32, entry: u32) {
        self.open[i] = Some(self.detail.spells.len() as u32);
        self.detail.spells.push(Spell {
            agent: i as u32,
            group,
            coalition: m,
            start_tick: start,
            entry_tick: entry,
            end_tick: entry,
            ended_by: None,
        });
    }

    fn snapshot(&mut self, model: &Model) {
        if !self.request.snapshot_ticks.contains(&model.tick) {
            return;
        }
        let a = &model.agents;
        for i in 0..a.len() {
            let m = a.membership[i];
            let member = m != OUTSIDE;
            self.detail.agents.push(AgentRow {
                tick: model.tick,
                agent: i as u32,
                group: a.group[i],
                weights: [a.w_material[i], a.w_solidary[i], a.w_purposive[i]],
                coalition: member.then_some(m),
                tenure_ticks: member.then(|| model.tick - a.spell_start[i]),
                hours_per_week: a.hours_per_week[i],
                hours_total: a.hours_total[i],
                lived_experience: a.lived[i],
                credentialed: a.credentialed.get(i).copied().unwrap_or(false),
                satisfaction: member.then(|| a.satisfaction[i]),
                aspiration: a.aspiration[i],
            });
        }
    }

    /// Record the tick just simulated.
    pub fn observe(&mut self, model: &Model) {
        let t = model.tick;
        if self.request.events {
            for (c, coalition) in model.coalitions.iter().enumerate() {
                if coalition.dissolved_at == Some(t) {
                    let e =
                        Event { tick: t, kind: EventKind::Dissolution, agent: None, group: None, coalition: c as u16 };
                    self.detail.events.push(e);
                }
            }
            let a = &model.agents;
            for i in 0..a.len() {
                let (was, is) = (a.previous[i], a.membership[i]);
                if was == is {
                    continue;
                }
                let group = Some(a.group[i]);
                if was != OUTSIDE {
                    // A member whose coalition had dissolved before this tick leaves because of
                    // it; one whose coalition is active (or dissolves only at the end of this
                    // tick) chose to leave.
                    let dissolved = model.coalitions[was as usize].dissolved_at.is_some_and(|d| d < t);
                    let kind = if dissolved {
                        EventKind::ExitDissolved
                    } else if !a.free[i] {
                        EventKind::ExitNoTime
                    } else {
                        EventKind::Exit
                    };
                    self.detail.events.push(Event { tick: t, kind, agent: Some(i as u32), group, coalition: was });
                    if let Some(s) = self.open[i].take() {
                        let spell = &mut self.detail.spells[s as usize];
                        spell.end_tick = t;
                        spell.ended_by = Some(kind);
                    }
                }
                if is != OUTSIDE {
                    self.detail.events.push(Event {
                        tick: t,
                        kind: EventKind::Join,
                        agent: Some(i as u32),
                        group,
                        coalition: is,
                    });
                    self.open_spell(i, a.group[i], is, t, t);
                }
            }
        }
        self.snapshot(model);
    }

    /// The replication's detail: open spells are censored at the horizon.
    pub fn finish(mut self, model: &Model) -> Detail {
        for &s in self.open.iter().flatten() {
            self.detail.spells[s as usize].end_tick = model.tick;
        }
        self.detail
    }
}

/// Check that every snapshot year of a scenario's catalogue falls in the recorded period and
/// on a tick; returns the ticks from founding, or why not.
pub fn snapshot_ticks(cat: &Catalogue, years: &[f64]) -> Result<Vec<u32>, String> {
    let tpy = cat.ticks_per_year as f64;
    let (first, last) = (cat.first_tick, cat.first_tick + cat.ticks);
    let mut ticks = Vec::new();
    for &y in years {
        let t = y * tpy;
        if !(t.is_finite() && (first as f64..=last as f64).contains(&t.round())) {
            return Err(format!(
                "found year {y}, expected a year of the recorded period, from {} to {} (years count from founding)",
                crate::text::num(first as f64 / tpy),
                crate::text::num(last as f64 / tpy)
            ));
        }
        if (t - t.round()).abs() > 1e-9 {
            return Err(format!(
                "found year {y}, expected a year that falls on a tick ({} ticks a year)",
                cat.ticks_per_year
            ));
        }
        let t = t.round() as u32;
        if !ticks.contains(&t) {
            ticks.push(t);
        }
    }
    ticks.sort_unstable();
    Ok(ticks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    #[test]
    fn snapshots_count_towards_the_size_guard() {
        let request = DetailRequest { snapshot_ticks: vec![52, 104, 156], events: false, replications: 4 };
        let row = std::mem::size_of::<AgentRow>() as u64 + SNAPSHOT_ROW_TEXT;
        assert_eq!(request.snapshot_bytes(1_000, 10), 4 * 3 * 1_000 * row);
        // No more replications in detail than the run has.
        assert_eq!(request.snapshot_bytes(1_000, 2), 2 * 3 * 1_000 * row);
        assert_eq!(DetailRequest { snapshot_ticks: vec![], ..request.clone() }.snapshot_bytes(1_000, 10), 0);

        let mut s = Scenario::baseline();
        s.population.size = 1_000_000;
        let available = 2u64 << 30;
        assert!(s.check_fits(2, 1, available).is_ok());
        let ten_years: Vec<u32> = (1..=10).map(|y| 52 * y).collect();
        let detail =
            DetailRequest { snapshot_ticks: ten_years, events: false, replications: 1 }.snapshot_bytes(1_000_000, 1);
        let refused = s.check_fits_with_detail(2, 1, detail, available).unwrap_err();
        assert_eq!(refused.path, "population.size");
        assert!(
            refused.message.contains("agent snapshots") && refused.message.contains("ask for fewer snapshot years"),
            "{}",
            refused.message
        );
    }
}
