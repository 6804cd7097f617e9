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
        let layout = super::layout::Layout::new(s);
        check_agents(&agents, &layout, coalitions.len())?;
        network.check_saved(n)?;
        for (c, spec) in coalitions.iter().zip(&s.coalitions) {
            c.check_saved(s, spec)?;
        }
        let cells = coalitions.len() * layout.groups;
        let lengths = [tally.members.len(), tally.joins.len(), tally.exits.len()];
        if tally.groups != layout.groups
            || lengths != [cells; 3]
            || tally.area_members.len() != layout.areas
            || [tally.applicants.len(), tally.turned_away.len()] != [coalitions.len(); 2]
        {
            return Err("its tally does not fit the scenario's coalitions, groups and areas".into());
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

/// Whether agents read back from a saved state fit the scenario: every array one entry an
/// agent, each agent in its place of the layout, and every membership a coalition (or none).
/// A state's checksum guards against accidents, not against bytes made to order; this keeps
/// those from making the model index out of bounds.
fn check_agents(a: &Agents, layout: &super::layout::Layout, coalitions: usize) -> Result<(), String> {
    let n = a.len();
    let lengths = [
        a.area.len(),
        a.w_material.len(),
        a.w_solidary.len(),
        a.w_purposive.len(),
        a.lived.len(),
        a.credentialed.len(),
        a.causes.len(),
        a.aspiration.len(),
        a.hours_per_week.len(),
        a.membership.len(),
        a.previous.len(),
        a.spell_start.len(),
        a.satisfaction.len(),
        a.mission_at_join.len(),
        a.hours_total.len(),
        a.expected_at_join.len(),
        a.available_from.len(),
        a.free.len(),
        a.next_life_event.len(),
        a.bonds.len(),
        a.fit.len(),
    ];
    if lengths.iter().any(|&l| l != n) {
        return Err("its agents' arrays differ in length".into());
    }
    for (cell, range) in layout.cells.iter().enumerate() {
        let (area, group) = (cell / layout.groups, cell % layout.groups);
        let placed = range.clone().all(|i| {
            let i = i as usize;
            i < n && a.group[i] as usize == group && a.area[i] as usize == area
        });
        if !placed {
            return Err("its agents are not where the scenario's population puts them".into());
        }
    }
    let member = |m: u16| m == super::OUTSIDE || (m as usize) < coalitions;
    if !a.membership.iter().chain(&a.previous).all(|&m| member(m)) {
        return Err("an agent is a member of a coalition the scenario does not have".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn town() -> Scenario {
        Scenario::parse(
            "name = \"t\"\n[simulation]\nyears = 1\n[population]\nsize = 200\n[[population.groups]]\nname = \"a\"\nshare = 0.5\n[[population.groups]]\nname = \"b\"\nshare = 0.5\n[[coalitions]]\nname = \"club\"\nfounders = 10\n",
            "t.toml",
        )
        .unwrap()
    }

    /// A state whose checksum is right but whose contents do not fit the scenario is refused
    /// with a reason, never a panic later.
    #[test]
    fn a_state_that_does_not_fit_the_scenario_is_refused() {
        let s = town();
        let mut rng = crate::engine::replication_rng(1, 0);
        let model = Model::new(&s, &mut rng);
        assert!(Model::resume(model.snapshot(), &s).is_ok());
        type Spoil = fn(&mut Saved);
        let spoil: [(&str, Spoil); 5] = [
            ("a coalition the scenario does not have", |x| x.agents.membership[3] = 7),
            ("differ in length", |x| {
                x.agents.fit.pop();
            }),
            ("not where the scenario's population puts them", |x| x.agents.group.swap(0, 199)),
            ("tally", |x| {
                x.tally.members.pop();
            }),
            ("residents", |x| x.agents = Agents::default()),
        ];
        for (why, f) in spoil {
            let mut saved = model.snapshot();
            f(&mut saved);
            let err = Model::resume(saved, &s).err().unwrap_or_else(|| panic!("accepted: {why}"));
            assert!(err.contains(why), "{err} (expected {why})");
        }
        let mut other = s.clone();
        other.coalitions[0].name = "another".into();
        assert!(Model::resume(model.snapshot(), &other).unwrap_err().contains("not the scenario's `another`"));
    }
}
