//! A world's state between two ticks, to be saved and resumed: the warm starts of
//! [`crate::engine::warm`].
//!
//! What is kept is what the ticks to come read and no scenario can give back: the agents
//! (attributes drawn at the start and everything that changed since), their ties, the
//! coalitions (settings and state, funding schedules and awards), the tick, the last tick's
//! tally and where each block's random streams stand. What a scenario determines (the rates,
//! the layout, the policy changes still to come, the scheduled cuts) is rebuilt from the
//! scenario the world resumes under, so a world can resume under a scenario whose later
//! policy differs from the one it was saved under. What each tick recomputes (offers, outreach
//! tables, the counts of members among each agent's ties) is recomputed.

use super::{Agents, Coalition, Model, Network, Tally, blocks};
use crate::scenario::Scenario;
use crate::stream::RngState;

/// What a world keeps between ticks, borrowed for saving.
#[derive(serde::Serialize)]
pub struct SavedRef<'a> {
    agents: &'a Agents,
    network: &'a Network,
    coalitions: &'a [Coalition],
    tick: u32,
    tally: &'a Tally,
    /// Per block: its main, side and life streams.
    streams: Vec<[RngState; 3]>,
}

/// What a world keeps between ticks, read back (the same fields as [`SavedRef`], in order).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Saved {
    agents: Agents,
    network: Network,
    coalitions: Vec<Coalition>,
    tick: u32,
    tally: Tally,
    streams: Vec<[RngState; 3]>,
}

impl Saved {
    /// Ticks simulated when it was saved.
    pub fn tick(&self) -> u32 {
        self.tick
    }
}

impl Model {
    /// The world's state now, between two ticks, for saving.
    pub fn saved(&self) -> SavedRef<'_> {
        SavedRef {
            agents: &self.agents,
            network: &self.network,
            coalitions: &self.coalitions,
            tick: self.tick,
            tally: &self.tally,
            streams: self.blocks.iter().map(|b| [&b.main, &b.side, &b.life].map(RngState::of)).collect(),
        }
    }

    /// The world's state now, copied: to fork several worlds from (each resumed under its own
    /// scenario) without encoding it.
    pub fn snapshot(&self) -> Saved {
        let SavedRef { streams, .. } = self.saved();
        Saved {
            agents: self.agents.clone(),
            network: self.network.clone(),
            coalitions: self.coalitions.clone(),
            tick: self.tick,
            tally: self.tally.clone(),
            streams,
        }
    }

    /// The world of `saved`, going on under scenario `s`: `s`'s settings in force at the saved
    /// tick (its policy changes up to that tick applied), its changes still to come, and its
    /// scheduled cuts. `s` must describe the same world (population, coalitions, clock) as the
    /// scenario the state was saved under; [`crate::engine::warm`] checks that before it gets
    /// here, and this refuses only what would make the world unusable.
    pub fn resume(saved: Saved, s: &Scenario) -> Result<Model, String> {
        let Saved { agents, network, mut coalitions, tick, tally, streams } = saved;
        let n = agents.len();
        if n != s.population.size as usize || network.len() != n {
            return Err(format!("the state holds {n} agents, the scenario {} residents", s.population.size));
        }
        if coalitions.len() != s.coalitions.len() {
            return Err(format!(
                "the state holds {} coalitions, the scenario {}",
                coalitions.len(),
                s.coalitions.len()
            ));
        }
        if streams.len() != blocks::block_count(n) {
            return Err(format!(
                "the state holds {} blocks of streams, expected {}",
                streams.len(),
                blocks::block_count(n)
            ));
        }
        let timeline = s.timeline().map_err(|_| "the scenario's policy changes are invalid".to_string())?;
        let in_force = timeline.iter().rev().find(|(from, _)| *from <= tick).map_or_else(
            || {
                let mut now = s.clone();
                now.policy.changes.clear();
                now
            },
            |(_, scenario)| scenario.clone(),
        );
        for (c, spec) in coalitions.iter_mut().zip(&s.coalitions) {
            c.reschedule_cuts(s, spec);
        }
        let layout = super::layout::Layout::new(s);
        let org = super::OrgRates::new(&in_force);
        let rates = super::AgentRates::new(&in_force, network.max_degree());
        let blocks = streams
            .iter()
            .map(|[main, side, life]| blocks::Block::new((main.restore(), side.restore(), life.restore())))
            .collect();
        let state = super::State { agents, network, coalitions, tick, tally, blocks };
        let timeline = timeline.into_iter().filter(|(from, _)| *from > tick).collect();
        let mut model = Model::assemble(state, super::group_traits(&in_force), layout, rates, org, timeline);
        model.retune(&in_force);
        model.member_ties = (0..model.agents.len()).map(|i| model.count_member_ties(i)).collect();
        Ok(model)
    }
}
