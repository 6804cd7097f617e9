//! The agent-based model: agents, their ties, coalitions and the synchronous tick.
//!
//! The model knows nothing of files or terminals. It reads a validated scenario and a random
//! stream, and exposes its state for the observers in [`crate::observe`].

pub mod agents;
pub mod blocks;
pub mod coalition;
pub mod decision;
pub mod funding;
pub mod layout;
pub mod network;
pub mod state;

pub use agents::{Agents, OUTSIDE};
pub use coalition::{Coalition, OrgRates};
pub use network::Network;

use crate::scenario::Scenario;
use crate::stream::ChaCha8Rng;
use decision::{Hazard, Offer};
use rand::RngExt;

/// Agent-level rates converted to per-tick form.
#[derive(Debug, Clone)]
struct AgentRates {
    satisfaction_memory: f64,
    hazard: Hazard,
    word_of_mouth: Vec<f64>,
    join_max: f64,
    join_sensitivity: f64,
    drift_sensitivity: f64,
    rejoin_delay: u32,
    weeks_per_tick: f64,
    expectation_noise: f64,
    /// Weight of a newcomer's unmet expectation by tenure in ticks; empty when newcomers
    /// know what to expect (no expectation noise).
    disappointment: Vec<f64>,
    /// Whether expectation errors steer who joins.
    expectations_steer: bool,
    /// Whether newcomers start from what they expected (and learn), or from the truth.
    expectations_learnt: bool,
    /// Life events per agent per tick (0: none).
    life_events: f64,
    /// Ticks an outsider waits after considering a programme before it considers one again.
    reconsider: u32,
    /// The cost of starting, which an outsider's expected payoff must cover beyond its aspiration.
    start_cost: f64,
    /// Friends a member makes among fellow members over a long spell.
    friends_made: f64,
    /// Per-tick approach factor of those friendships, at a full role.
    bonding: f64,
    /// How far friendships form only within one's own group.
    bonding_homophily: f64,
    /// Standard deviation of a newcomer's role fit.
    role_fit_sd: f64,
    /// A member's standing by tenure in ticks (1 beyond the table); empty when benefits are
    /// shared equally whatever the governance.
    standing: Vec<f64>,
}

/// Per-tick probability from a per-week one.
fn per_tick_from_weekly(p: f64, weeks_per_tick: f64) -> f64 {
    1.0 - libm::pow(1.0 - p, weeks_per_tick)
}

impl AgentRates {
    fn new(s: &Scenario, max_degree: usize) -> AgentRates {
        let b = &s.behaviour;
        let wpt = s.weeks_per_tick();
        let tpy = s.simulation.ticks_per_year as f64;
        let newcomer_ticks = b.newcomer_weeks / wpt;
        let table_len = ((newcomer_ticks * 12.0).ceil() as usize).min(s.total_ticks() as usize + 1);
        let newcomer = (0..table_len)
            .map(|t| 1.0 + (b.newcomer_exit_multiplier - 1.0) * libm::exp(-(t as f64) / newcomer_ticks))
            .collect();
        let wom = per_tick_from_weekly(b.word_of_mouth, wpt);
        AgentRates {
            satisfaction_memory: coalition::approach_weeks(b.satisfaction_memory_weeks, wpt),
            hazard: Hazard {
                base: 1.0 - libm::pow(1.0 - b.base_exit, 1.0 / tpy),
                dissatisfied: per_tick_from_weekly(b.dissatisfied_exit, wpt),
                sensitivity: b.exit_sensitivity,
                newcomer,
            },
            word_of_mouth: (0..=max_degree).map(|k| 1.0 - (1.0 - wom).powi(k as i32)).collect(),
            join_max: b.join_max,
            join_sensitivity: b.join_sensitivity,
            drift_sensitivity: b.drift_sensitivity,
            rejoin_delay: (b.rejoin_delay_weeks / wpt).round() as u32,
            weeks_per_tick: wpt,
            expectation_noise: b.expectation_noise,
            disappointment: if b.expectation_noise > 0.0 {
                let ticks = b.disappointment_weeks / wpt;
                let len = ((ticks * 12.0).ceil() as usize).min(s.total_ticks() as usize + 1);
                (0..len).map(|t| libm::exp(-(t as f64) / ticks)).collect()
            } else {
                Vec::new()
            },
            expectations_steer: b.expectations_steer_joining,
            expectations_learnt: b.expectations_learnt,
            life_events: b.life_event_rate / tpy,
            reconsider: (b.reconsider_weeks / wpt).round() as u32,
            start_cost: b.start_cost,
            friends_made: b.friends_made,
            bonding: coalition::approach_weeks(b.bonding_weeks, wpt),
            bonding_homophily: b.bonding_homophily,
            role_fit_sd: b.role_fit_sd,
            standing: if s.organisation.allocation_by_standing > 0.0 {
                let ticks = s.organisation.standing_weeks / wpt;
                let len = ((ticks * 12.0).ceil() as usize).min(s.total_ticks() as usize + 1);
                (0..len).map(|t| 1.0 - libm::exp(-(t as f64) / ticks)).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// A member's standing after `tenure` ticks.
    #[inline]
    fn standing_at(&self, tenure: u32) -> f64 {
        self.standing.get(tenure as usize).copied().unwrap_or(1.0)
    }

    /// Ticks from a life event to the next: an exponential waiting time at `life_events` per
    /// tick, rounded up to whole ticks (a geometric number of ticks, at least one).
    fn life_event_gap(&self, rng: &mut ChaCha8Rng) -> u32 {
        let u: f64 = rng.random();
        let ticks = (-libm::log1p(-u) / self.life_events).ceil();
        if ticks >= u32::MAX as f64 { u32::MAX } else { (ticks as u32).max(1) }
    }
}

/// Group-level attributes read in the agent loop.
#[derive(Debug, Clone, Copy)]
struct GroupTraits {
    time_cost: f64,
    trust: f64,
    spare_time: f64,
}

fn group_traits(s: &Scenario) -> Vec<GroupTraits> {
    s.population
        .groups
        .iter()
        .map(|g| GroupTraits { time_cost: g.time_cost, trust: g.trust_in_government, spare_time: g.spare_time })
        .collect()
}

/// Joins, exits and members by coalition and group for the tick just simulated.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    groups: usize,
    /// Members at the end of the tick, indexed `coalition * groups + group`.
    pub members: Vec<u32>,
    /// Joins during the tick.
    pub joins: Vec<u32>,
    /// Exits during the tick (dissolution included).
    pub exits: Vec<u32>,
    /// Per area: members living there at the end of the tick (one entry without areas).
    pub area_members: Vec<u32>,
    /// Per coalition: outsiders who applied for one of its limited roles this tick.
    pub applicants: Vec<u32>,
    /// Per coalition: applicants it turned away this tick, for want of a vacant role.
    pub turned_away: Vec<u32>,
}

impl Tally {
    fn new(coalitions: usize, groups: usize, areas: usize) -> Tally {
        let n = coalitions * groups;
        Tally {
            groups,
            area_members: vec![0; areas],
            members: vec![0; n],
            joins: vec![0; n],
            exits: vec![0; n],
            applicants: vec![0; coalitions],
            turned_away: vec![0; coalitions],
        }
    }

    fn clear(&mut self) {
        for v in [
            &mut self.members,
            &mut self.joins,
            &mut self.exits,
            &mut self.applicants,
            &mut self.turned_away,
            &mut self.area_members,
        ] {
            v.iter_mut().for_each(|x| *x = 0);
        }
    }

    /// Index of (coalition, group).
    #[inline]
    pub fn at(&self, coalition: usize, group: usize) -> usize {
        coalition * self.groups + group
    }
}

/// One replication's world.
#[derive(Debug)]
pub struct Model {
    /// The agents.
    pub agents: Agents,
    /// Their social ties.
    pub network: Network,
    /// The coalitions.
    pub coalitions: Vec<Coalition>,
    /// Ticks simulated so far.
    pub tick: u32,
    /// This tick's joins, exits and members.
    pub tally: Tally,
    groups: Vec<GroupTraits>,
    /// Where each area's and group's agents are.
    pub layout: layout::Layout,
    rates: AgentRates,
    org: OrgRates,
    offers: Vec<Offer>,
    /// Per cell (area and group, as in [`layout::Layout`]): cumulative outreach reach over
    /// coalitions, for picking who reached an outsider.
    outreach_cumulative: Vec<Vec<f64>>,
    /// Per cell: the total of `outreach_cumulative` (its last value, 0 without coalitions).
    outreach_reach: Vec<f64>,
    /// The blocks agents decide in, with their random streams. Draws of the second version's
    /// mechanisms (credentials, expectation errors, admission order) come from side streams,
    /// so switching them on leaves every other draw unchanged and compares arms with common
    /// random numbers.
    blocks: Vec<blocks::Block>,
    applications: Vec<Application>,
    /// Per agent: ties who were members of any coalition at the end of the last tick. Kept
    /// up to date from the agents whose membership changed, instead of recounted for every
    /// outsider every tick (a tick changes few memberships; recounting read every tie).
    member_ties: Vec<u32>,
    /// Agents whose membership changed this tick (joins, exits, admissions).
    changed: Vec<u32>,
    /// Per coalition: members after this tick's decisions, before admissions, and how many of
    /// them are credentialed; counted as the agents decide, for the vacancies `admit` fills.
    stayers: Vec<u32>,
    credentialed_stayers: Vec<u32>,
    /// Policy changes still to come: (first tick, scenario in force from then).
    timeline: std::collections::VecDeque<(u32, Scenario)>,
    /// Per coalition and group (indexed like [`Tally`]): the group's share of the coalition's
    /// members at the end of the last tick, which sets how readily its members make friends
    /// there when friendships form within groups.
    composition: Vec<f64>,
}

/// What a world is made of besides its settings: the state [`Model::assemble`] takes.
struct State {
    agents: Agents,
    network: Network,
    coalitions: Vec<Coalition>,
    tick: u32,
    tally: Tally,
    blocks: Vec<blocks::Block>,
}

/// An outsider who wants to join a coalition with limited roles, waiting for this tick's
/// admissions.
#[derive(Debug, Clone, Copy)]
struct Application {
    agent: u32,
    coalition: u16,
    /// Random priority: vacancies go to the lowest keys.
    key: f64,
    expected: f64,
    /// How well the role would suit it (0 without role fit).
    fit: f64,
}

/// The side stream of a replication: the same seed, a stream number no replication uses.
fn side_stream(rng: &ChaCha8Rng) -> ChaCha8Rng {
    use rand::SeedableRng;
    let mut side = ChaCha8Rng::from_seed(rng.get_seed());
    side.set_stream(rng.get_stream() ^ (1 << 63));
    side
}

impl Model {
    /// Initialise a world: population, network, founders, coalitions.
    pub fn new(s: &Scenario, rng: &mut ChaCha8Rng) -> Model {
        Model::new_unless(s, rng, &|| false).expect("never abandoned")
    }

    /// [`Model::new`], abandoned (None) when `abandon` answers true between its stages. A
    /// world of millions of agents takes seconds to build; this lets a caller give up within
    /// about one stage. The draws do not depend on `abandon`.
    pub fn new_unless(s: &Scenario, rng: &mut ChaCha8Rng, abandon: &dyn Fn() -> bool) -> Option<Model> {
        let layout = layout::Layout::new(s);
        let mut side = side_stream(rng);
        let mut agents = Agents::populate(s, &layout, rng);
        agents.draw_credentials(s, &mut side);
        if abandon() {
            return None;
        }
        let edges = Network::small_world_edges(&agents.group, &agents.area, &layout, &s.population.network, rng);
        if abandon() {
            return None;
        }
        let network = Network::from_edges_unless(agents.len(), &edges, abandon)?;
        drop(edges);
        let org = OrgRates::new(s);
        let rates = AgentRates::new(s, network.max_degree());
        let mut coalitions: Vec<Coalition> = s.coalitions.iter().map(|c| Coalition::found(s, c)).collect();
        let groups = group_traits(s);
        let mut blocks: Vec<blocks::Block> =
            (0..blocks::block_count(agents.len())).map(|b| blocks::Block::new(blocks::block_streams(rng, b))).collect();
        draw_circumstances(s, &mut agents, &groups, &rates, &mut blocks);
        let founding = Founding {
            network: &network,
            layout: &layout,
            weights: s.population.groups.iter().map(|g| g.founder_weight).collect(),
        };
        for (c, spec) in s.coalitions.iter().enumerate() {
            let area = s.population.areas.iter().position(|a| a.name == spec.area);
            founding.recruit(&mut agents, c as u16, spec, area, rng);
        }
        let tally = Tally::new(coalitions.len(), s.population.groups.len(), layout.areas);
        let state = State { agents, network, coalitions: Vec::new(), tick: 0, tally, blocks };
        let mut model = Model::assemble(state, groups, layout, rates, org, s.timeline().unwrap_or_default().into());
        // The first block draws on the replication's side stream, where the credentials were.
        model.blocks[0].side = side;
        model.aggregate_into(&mut coalitions);
        for c in &mut coalitions {
            c.settle_founding(rng, &model.org);
        }
        model.coalitions = coalitions;
        model.prepare_offers();
        // Founders start as satisfied as their coalition's first offer makes them, fellow
        // founders among their ties included.
        model.agents.previous.clone_from(&model.agents.membership);
        for i in 0..model.agents.len() {
            let m = model.agents.membership[i];
            if m != OUTSIDE {
                let u = model.payoff(i, m, &model.offers[m as usize], model.agents.mission_at_join[i], 0.0, 0.0);
                model.agents.satisfaction[i] = u;
                model.agents.expected_at_join[i] = u;
            }
        }
        model.agents.previous.clone_from(&model.agents.membership);
        model.member_ties = (0..model.agents.len()).map(|i| model.count_member_ties(i)).collect();
        Some(model)
    }

    /// A world of `state`, with the settings given, and every per-tick working list empty (each
    /// tick fills them before it reads them).
    fn assemble(
        state: State,
        groups: Vec<GroupTraits>,
        layout: layout::Layout,
        rates: AgentRates,
        org: OrgRates,
        timeline: std::collections::VecDeque<(u32, Scenario)>,
    ) -> Model {
        let State { agents, network, coalitions, tick, tally, blocks } = state;
        Model {
            agents,
            network,
            coalitions,
            tick,
            tally,
            groups,
            layout,
            rates,
            org,
            offers: Vec::new(),
            outreach_cumulative: Vec::new(),
            outreach_reach: Vec::new(),
            blocks,
            applications: Vec::new(),
            member_ties: Vec::new(),
            changed: Vec::new(),
            stayers: Vec::new(),
            credentialed_stayers: Vec::new(),
            timeline,
            composition: Vec::new(),
        }
    }

    /// Ties of agent `i` who are members of some coalition now (at the end of the tick).
    fn count_member_ties(&self, i: usize) -> u32 {
        let now = &self.agents.membership;
        self.network.ties(i).iter().map(|&j| u32::from(now[j as usize] != OUTSIDE)).sum()
    }

    /// Bring the member-tie counts to the end of this tick: each agent who became a member,
    /// or stopped being one, adds or removes one from each of its ties' counts.
    fn update_member_ties(&mut self) {
        let a = &self.agents;
        for &i in &self.changed {
            let i = i as usize;
            let (was, is) = (a.previous[i] != OUTSIDE, a.membership[i] != OUTSIDE);
            if was != is {
                for &j in self.network.ties(i) {
                    let k = &mut self.member_ties[j as usize];
                    if is { *k += 1 } else { *k -= 1 }
                }
            }
        }
        self.changed.clear();
        debug_assert!(
            (0..self.agents.len()).all(|i| self.member_ties[i] == self.count_member_ties(i)),
            "member-tie counts drifted from a recount"
        );
    }

    /// Forget the hours given so far, so that participation and its inequality describe the
    /// recorded period only (after a burn-in).
    pub fn start_recording(&mut self) {
        self.agents.hours_total.iter_mut().for_each(|h| *h = 0.0);
    }

    /// Number of population groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Weeks per tick.
    pub fn weeks_per_tick(&self) -> f64 {
        self.rates.weeks_per_tick
    }

    fn prepare_offers(&mut self) {
        self.offers = self.coalitions.iter().map(|c| c.offer(&self.org)).collect();
        if !self.rates.standing.is_empty() {
            // Members' mean standing at the end of last tick, for the shares of benefits.
            let mut sum = vec![(0.0, 0u32); self.coalitions.len()];
            let (a, last) = (&self.agents, self.tick.saturating_sub(1));
            for i in 0..a.len() {
                let m = a.previous[i];
                if m != OUTSIDE {
                    let s = &mut sum[m as usize];
                    s.0 += self.rates.standing_at(last.saturating_sub(a.spell_start[i]));
                    s.1 += 1;
                }
            }
            for (offer, (total, n)) in self.offers.iter_mut().zip(sum) {
                offer.standing_mean = if n > 0 { total / n as f64 } else { 0.0 };
            }
        }
        let org = &self.org;
        let ng = self.groups.len();
        self.outreach_cumulative = (0..self.layout.cells.len())
            .map(|cell| {
                let mut acc = 0.0;
                self.coalitions
                    .iter()
                    .map(|c| {
                        if c.active {
                            acc += c.outreach_reach(cell % ng, cell / ng, org);
                        }
                        acc
                    })
                    .collect()
            })
            .collect();
        self.outreach_reach.clear();
        self.outreach_reach.extend(self.outreach_cumulative.iter().map(|c| c.last().copied().unwrap_or(0.0)));
    }

    /// Ties of agent `i` who were members of coalition `m` last tick.
    #[inline]
    fn ties_in(&self, i: usize, m: u16) -> u32 {
        let prev = &self.agents.previous;
        self.network.ties(i).iter().map(|&j| u32::from(prev[j as usize] == m)).sum()
    }

    /// Payoff agent `i` gets (or expects) from coalition `m`, having made `bonds` friends
    /// among its members (0 for an outsider) and with `standing` there (its share of a
    /// role's benefits under unfair governance), before its role fit.
    #[inline]
    fn payoff(&self, i: usize, m: u16, offer: &Offer, mission_at_join: f64, bonds: f64, standing: f64) -> f64 {
        let a = &self.agents;
        let degree = self.network.ties(i).len();
        decision::payoff(
            &a.weights(i),
            decision::material(offer, a.lived[i]),
            decision::solidary(offer, self.ties_in(i, m), degree, bonds),
            decision::purposive(offer, a.causes[i], mission_at_join, self.rates.drift_sensitivity),
            self.role_share(i, offer) * decision::benefit_share(offer, standing),
            offer,
            self.groups[a.group[i] as usize].time_cost,
        )
    }

    /// Policy change: take the rates and settings of `s`, keeping every agent's and
    /// coalition's state.
    fn retune(&mut self, s: &Scenario) {
        self.rates = AgentRates::new(s, self.network.max_degree());
        self.org = OrgRates::new(s);
        self.groups = group_traits(s);
        for (c, spec) in self.coalitions.iter_mut().zip(&s.coalitions) {
            c.retune(s, spec);
        }
    }

    /// The share of a full role agent `i` has (or would have) in a coalition offering `offer`.
    #[inline]
    fn role_share(&self, i: usize, offer: &Offer) -> f64 {
        if self.agents.credentialed[i] { offer.role_share_credentialed } else { offer.role_share_open }
    }

    /// Advance one tick. Every decision reads the state at the end of the previous tick:
    /// agents read coalitions' last state and `previous` membership; coalitions read last
    /// tick's member aggregates. The visiting order therefore never changes the result.
    pub fn step(&mut self, rng: &mut ChaCha8Rng) {
        self.tick += 1;
        let t = self.tick;
        while self.timeline.front().is_some_and(|(from, _)| *from <= t) {
            let (_, changed) = self.timeline.pop_front().expect("checked");
            self.retune(&changed);
        }
        std::mem::swap(&mut self.agents.previous, &mut self.agents.membership);
        if self.rates.bonding_homophily > 0.0 {
            self.composition.clear();
            let ng = self.groups.len();
            for (k, &members) in self.tally.members.iter().enumerate() {
                let c = &self.coalitions[k / ng];
                self.composition.push(if c.members > 0 { members as f64 / c.members as f64 } else { 0.0 });
            }
        }
        self.tally.clear();
        self.prepare_offers();

        // 3. Agents decide.
        self.agents_decide(t, rng);
        self.admit(t);
        self.update_member_ties();

        // 1, 2 and 4. Coalitions: funding, organisation, dissolution, from last tick's aggregates.
        let mut coalitions = std::mem::take(&mut self.coalitions);
        for c in coalitions.iter_mut().filter(|c| c.active) {
            c.update(t, &self.org, rng);
        }
        self.aggregate_into(&mut coalitions);
        self.coalitions = coalitions;
    }

    /// Hours agent `i` gives this tick as a member of a coalition offering `offer`.
    #[inline]
    fn hours_this_tick(&self, i: usize, offer: &Offer) -> f64 {
        self.agents.hours_per_week[i] * self.role_share(i, offer) * self.rates.weeks_per_tick
    }

    /// Coalitions with limited roles admit applicants into the roles their staying members
    /// left vacant: credentialed applicants fill credentialed vacancies first, then every
    /// remaining applicant competes for the open ones, in random order. The order is drawn,
    /// not the visiting order, so the result does not depend on it.
    fn admit(&mut self, t: u32) {
        if self.applications.is_empty() {
            return;
        }
        let mut applications = std::mem::take(&mut self.applications);
        applications
            .sort_by(|a, b| a.coalition.cmp(&b.coalition).then(a.key.total_cmp(&b.key)).then(a.agent.cmp(&b.agent)));
        #[cfg(debug_assertions)]
        {
            let nc = self.coalitions.len();
            let (mut stayers, mut credentialed_stayers) = (vec![0u32; nc], vec![0u32; nc]);
            for i in 0..self.agents.len() {
                let m = self.agents.membership[i];
                if m != OUTSIDE {
                    stayers[m as usize] += 1;
                    credentialed_stayers[m as usize] += u32::from(self.agents.credentialed[i]);
                }
            }
            assert_eq!((stayers, credentialed_stayers), (self.stayers.clone(), self.credentialed_stayers.clone()));
        }
        // Admissions write what decisions write: the same arrays, taken out once.
        let mut written = self.agents.take_written();
        let mut w = agents::WrittenBlock::whole(&mut written);
        for group in applications.chunk_by(|a, b| a.coalition == b.coalition) {
            let m = group[0].coalition;
            let c = m as usize;
            let (mut credentialed, mut open) =
                self.coalitions[c].roles.vacancies(self.stayers[c], self.credentialed_stayers[c]);
            let mut admitted = vec![false; group.len()];
            for (k, app) in group.iter().enumerate() {
                if credentialed > 0 && self.agents.credentialed[app.agent as usize] {
                    credentialed -= 1;
                    admitted[k] = true;
                }
            }
            for (k, _) in group.iter().enumerate() {
                if open > 0 && !admitted[k] {
                    open -= 1;
                    admitted[k] = true;
                }
            }
            let offer = self.offers[c];
            self.tally.applicants[c] += group.len() as u32;
            for (app, &admit) in group.iter().zip(&admitted) {
                let i = app.agent as usize;
                if !admit {
                    // Turned away for want of a role: it waits, as one who declined does.
                    self.tally.turned_away[c] += 1;
                    w.available_from[i] = t + self.rates.reconsider;
                    continue;
                }
                self.changed.push(i as u32);
                w.join(i, m, t, app.expected, offer.mission, self.hours_this_tick(i, &offer), app.fit);
                let k = self.tally.at(c, self.agents.group[i] as usize);
                self.tally.joins[k] += 1;
            }
        }
        self.agents.restore_written(written);
        applications.clear();
        self.applications = applications;
    }

    /// Count members, their hours and lived experience per coalition at the end of the tick.
    fn aggregate_into(&mut self, coalitions: &mut [Coalition]) {
        for c in coalitions.iter_mut() {
            c.members = 0;
            c.volunteer_hours = 0.0;
            c.lived_members = 0;
            c.credentialed_members = 0;
        }
        for k in self.tally.members.iter_mut().chain(self.tally.area_members.iter_mut()) {
            *k = 0;
        }
        let a = &self.agents;
        for i in 0..a.len() {
            let m = a.membership[i];
            if m != OUTSIDE {
                let c = &mut coalitions[m as usize];
                c.members += 1;
                c.volunteer_hours += a.hours_per_week[i];
                c.lived_members += u32::from(a.lived[i]);
                c.credentialed_members += u32::from(a.credentialed[i]);
                let k = self.tally.at(m as usize, a.group[i] as usize);
                self.tally.members[k] += 1;
                self.tally.area_members[a.area[i] as usize] += 1;
            }
        }
    }
}

/// Whether an outsider's draw certainly misses every coalition's outreach: `x / d >= reach`
/// for `x >= 0` (the draw beyond word of mouth) and `d` in (0, 1] (what word of mouth leaves),
/// decided with a multiplication. Most outsiders miss, and the division it avoids was a fifth
/// of a tick's time; where the answer is close, this says no and the caller divides, so every
/// decision is the division's own, bit for bit. The margin of 2^-48 covers the rounding of
/// both products and of the division (each within 2^-53).
#[inline]
fn outreach_misses(x: f64, d: f64, reach: f64) -> bool {
    if reach <= 0.0 {
        return true;
    }
    let bound = reach * d;
    bound >= f64::MIN_POSITIVE && x > bound * (1.0 + 16.0 * f64::EPSILON)
}

/// Whether each agent has time to spare at the start, and when its first life event comes:
/// block by block, agent by agent, on each block's life stream (two draws an agent when life
/// events happen, one when availability is only drawn once, none when everyone has time and
/// nothing changes). Life events are exogenous: they draw on a stream nothing else uses, so
/// every arm of a policy comparison sees the same ones.
///
/// Then which causes are its own: for each purpose some programme has (in
/// [`crate::scenario::Purpose::ALL`] order) whose appeal is below 1, one draw against it.
fn draw_circumstances(
    s: &Scenario,
    agents: &mut Agents,
    groups: &[GroupTraits],
    rates: &AgentRates,
    blocks: &mut [blocks::Block],
) {
    let time_drawn = rates.life_events > 0.0 || groups.iter().any(|g| g.spare_time < 1.0);
    let causes: Vec<(u16, f64)> = crate::scenario::Purpose::ALL
        .iter()
        .filter(|p| s.coalitions.iter().any(|c| c.purpose == **p))
        .map(|p| (1u16 << p.index(), p.appeal(&s.population.appeal)))
        .filter(|&(_, appeal)| appeal < 1.0)
        .collect();
    if !time_drawn && causes.is_empty() {
        return;
    }
    for (b, block) in blocks.iter_mut().enumerate() {
        let range = b * blocks::BLOCK_AGENTS..((b + 1) * blocks::BLOCK_AGENTS).min(agents.len());
        for i in range {
            if time_drawn {
                agents.free[i] = block.life.random::<f64>() < groups[agents.group[i] as usize].spare_time;
                if rates.life_events > 0.0 {
                    agents.next_life_event[i] = rates.life_event_gap(&mut block.life);
                }
            }
            for &(bit, appeal) in &causes {
                if block.life.random::<f64>() >= appeal {
                    agents.causes[i] &= !bit;
                }
            }
        }
    }
}

/// What founding reads: the ties founders recruit through, where agents live, and each
/// group's relative weight among founders.
struct Founding<'a> {
    network: &'a Network,
    layout: &'a layout::Layout,
    weights: Vec<f64>,
}

impl Founding<'_> {
    /// Founders of coalition `c`: a seed agent drawn by group founder weight (in the
    /// coalition's area, if it has one), then outsiders reached through its ties breadth-first
    /// (friends start coalitions together), reseeding if the component runs out. Only agents
    /// with time to spare whose cause the programme's purpose is found it (friends dedicated to
    /// a cause, Smith 2020); a seed drawn without them is drawn again, up to a thousand times,
    /// before the lowest-index eligible agent is taken.
    fn recruit(
        &self,
        agents: &mut Agents,
        coalition: u16,
        spec: &crate::scenario::Coalition,
        area: Option<usize>,
        rng: &mut ChaCha8Rng,
    ) {
        let cause = 1u16 << spec.purpose.index();
        let founders = spec.founders;
        let layout = self.layout;
        let mut recruited = 0u32;
        let mut queue = std::collections::VecDeque::new();
        let can = |a: &Agents, i: usize| a.membership[i] == OUTSIDE && a.free[i] && a.causes[i] & cause != 0;
        let free = |a: &Agents| (0..a.len()).filter(|&i| can(a, i)).count();
        while recruited < founders && free(agents) > 0 {
            if queue.is_empty() {
                let size = |g: usize| area.map_or(layout.group_size(g), |a| layout.cell(a, g).len() as u32);
                let weights: Vec<f64> = self.weights.iter().enumerate().map(|(g, w)| f64::from(size(g)) * w).collect();
                let total: f64 = weights.iter().sum();
                let mut g = 0;
                if total > 0.0 {
                    let mut x = rng.random::<f64>() * total;
                    while g + 1 < weights.len() && x >= weights[g] {
                        x -= weights[g];
                        g += 1;
                    }
                }
                let draw = |rng: &mut ChaCha8Rng| match area {
                    Some(a) => rng.random_range(layout.cell(a, g)) as usize,
                    None => layout.draw_in_group(g, rng) as usize,
                };
                // A group with nobody where the programme is (every founder weight 0, or a
                // tiny population) has no seed to draw: the fallback below finds one.
                let drawn = (size(g) > 0)
                    .then(|| {
                        let mut seed = draw(rng);
                        // An outsider without the time or the cause: someone else of the group
                        // starts it.
                        for _ in 0..1000 {
                            if agents.membership[seed] != OUTSIDE || can(agents, seed) {
                                break;
                            }
                            seed = draw(rng);
                        }
                        seed
                    })
                    .filter(|&seed| can(agents, seed));
                let Some(seed) = drawn.or_else(|| (0..agents.len()).position(|i| can(agents, i))) else { break };
                queue.push_back(seed);
            }
            while let Some(i) = queue.pop_front() {
                if recruited >= founders {
                    break;
                }
                if !can(agents, i) {
                    continue;
                }
                agents.membership[i] = coalition;
                agents.spell_start[i] = 0;
                agents.mission_at_join[i] = 1.0;
                recruited += 1;
                queue.extend(self.network.ties(i).iter().map(|&j| j as usize).filter(|&j| can(agents, j)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn scenario(extra_coalition: &str, behaviour: &str) -> Scenario {
        let text = format!(
            "name = \"t\"\n[simulation]\nyears = 3\n[population]\nsize = 400\n[[population.groups]]\nname = \"all\"\nshare = 1.0\n[behaviour]\n{behaviour}\n[[coalitions]]\nname = \"c\"\nfounders = 40\n{extra_coalition}\n"
        );
        Scenario::parse(&text, "t").unwrap()
    }

    fn members_after(s: &Scenario, seed: u64) -> Vec<u32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut m = Model::new(s, &mut rng);
        let mut out = Vec::new();
        for _ in 0..s.ticks() {
            m.step(&mut rng);
            out.push(m.coalitions[0].members);
        }
        out
    }

    #[test]
    fn the_outreach_shortcut_says_miss_only_where_the_division_does() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (mut misses, mut close) = (0u32, 0u32);
        let reaches = [0.0, 1e-300, 1e-9, 0.003, 0.1, 0.25, 0.5, 0.999_999, 1.0];
        for _ in 0..20_000 {
            let p_wom: f64 = [0.0, 0.05, 0.5, 0.999, 1.0 - f64::EPSILON][rng.random_range(0..5)];
            let d = 1.0 - p_wom;
            for &reach in &reaches {
                let target = reach * d;
                // Draws at and a few units in the last place either side of the boundary, and
                // anywhere in [0, 1 - p_wom).
                let near = (-3i64..=3).map(|k| f64::from_bits((target.to_bits() as i64 + k).max(0) as u64));
                let anywhere = rng.random::<f64>() * d;
                for x in near.chain([anywhere, 0.0]) {
                    let divided_misses = x / d >= reach;
                    let shortcut = outreach_misses(x, d, reach);
                    assert!(!shortcut || divided_misses, "x {x:e}, d {d:e}, reach {reach:e}");
                    // (A subnormal boundary is always left to the division.)
                    if x == anywhere && divided_misses && target >= f64::MIN_POSITIVE {
                        if shortcut { misses += 1 } else { close += 1 }
                    }
                }
            }
        }
        // Of the draws anywhere, it decides almost every miss itself.
        assert!(misses > 1000 * close.max(1), "{misses} decided, {close} left to the division");
    }

    #[test]
    fn founders_are_recruited_and_same_seed_repeats() {
        let s = scenario("", "");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let m = Model::new(&s, &mut rng);
        assert_eq!(m.coalitions[0].members, 40);
        assert_eq!(members_after(&s, 9), members_after(&s, 9));
        assert_ne!(members_after(&s, 9), members_after(&s, 10));
    }

    #[test]
    fn a_policy_change_takes_effect_in_its_year_and_not_before() {
        let base = scenario("goal_hours = 60", "");
        let mut changed = base.clone();
        changed.policy.changes.push(crate::scenario::Change {
            year: 1.0,
            key: "coalitions.c.goal_hours".into(),
            value: crate::scenario::Setting::Number(600.0),
            area: String::new(),
        });
        let goals = |s: &Scenario| {
            let mut rng = ChaCha8Rng::seed_from_u64(4);
            let mut m = Model::new(s, &mut rng);
            (0..104)
                .map(|_| {
                    m.step(&mut rng);
                    m.coalitions[0].goal
                })
                .collect::<Vec<f64>>()
        };
        let (before, after) = (goals(&base), goals(&changed));
        // Same seed, same world: identical until tick 52 (index 51), where the raised target
        // starts to be missed.
        assert_eq!(before[..51], after[..51]);
        assert!(after[51] < before[51]);
        assert!(after[103] < before[103] / 2.0, "goal {} vs {}", after[103], before[103]);
    }

    #[test]
    fn without_member_ties_nobody_joins_by_word_of_mouth() {
        // All solidary weight, no ties, no outreach: word of mouth has no channel at all.
        let text = "name = \"t\"\n[population]\nsize = 300\n[population.network]\nmean_degree = 0\n[[population.groups]]\nname = \"all\"\nshare = 1.0\n[population.groups.incentives]\nmaterial = 0.001\nsolidary = 1000\npurposive = 0.001\n[behaviour]\nword_of_mouth = 1.0\njoin_max = 1.0\n[[coalitions]]\nname = \"c\"\nfounders = 20\n";
        let s = Scenario::parse(text, "t").unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut m = Model::new(&s, &mut rng);
        let mut joins = 0;
        for _ in 0..200 {
            m.step(&mut rng);
            joins += m.tally.joins.iter().sum::<u32>();
        }
        assert_eq!(joins, 0);
    }

    #[test]
    fn exits_rise_when_the_budget_runs_out() {
        // Members paid a stipend they value; one coalition is funded, the other runs dry.
        let behaviour = "aspiration_mean = 0.3\naspiration_sd = 0.05";
        let mut exits = [0u64; 2];
        for (k, budget) in ["initial_budget = 1e9", "initial_budget = 0"].iter().enumerate() {
            let extra = format!(
                "{budget}\nstaff = 0\nstipend = 2000\nmin_members = 0\n[coalitions.funding]\ndonation_per_member = 0"
            );
            let mut s = scenario(&extra, behaviour);
            for g in &mut s.population.groups {
                g.incentives = crate::scenario::Incentives { material: 50.0, solidary: 1.0, purposive: 1.0 };
            }
            for seed in 0..8 {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut m = Model::new(&s, &mut rng);
                for _ in 0..52 {
                    m.step(&mut rng);
                    exits[k] += m.tally.exits.iter().map(|&x| x as u64).sum::<u64>();
                }
            }
        }
        assert!(exits[1] > exits[0] * 2, "exits funded {} vs broke {}", exits[0], exits[1]);
    }

    /// A town of 2,000 in one group with one programme, and the third version's mechanisms
    /// as `behaviour` sets them.
    fn town(behaviour: &str, extra: &str) -> Scenario {
        let mut join = String::new();
        for (key, value) in [("join_max", "0.5"), ("aspiration_mean", "-0.2")] {
            if !behaviour.contains(key) {
                join += &format!("{key} = {value}\n");
            }
        }
        let text = format!(
            "name = \"t\"\n[simulation]\nyears = 4\n[population]\nsize = 2000\n[[population.groups]]\nname = \"all\"\nshare = 1.0\nspare_time = 0.5\n{extra}[organisation]\nrole_capacity = false\ncredentialed_roles = false\n[behaviour]\n{join}{behaviour}\n[[coalitions]]\nname = \"club\"\nfounders = 30\npurpose = \"youth\"\ngoal_hours = 200\ngovernance = {{ outreach = 0.5 }}\n"
        );
        Scenario::parse(&text, "t").unwrap()
    }

    #[test]
    fn life_events_take_members_without_time_away_and_keep_such_outsiders_out() {
        let s = town("life_event_rate = 2.0", "");
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let mut m = Model::new(&s, &mut rng);
        let mut free_share = Vec::new();
        let mut joins = 0;
        for _ in 0..s.ticks() {
            m.step(&mut rng);
            let a = &m.agents;
            assert!((0..a.len()).all(|i| a.membership[i] == OUTSIDE || a.free[i]), "a member without time stayed");
            joins += m.tally.joins.iter().sum::<u32>();
            free_share.push(a.free.iter().filter(|&&f| f).count() as f64 / a.len() as f64);
        }
        assert!(joins > 0);
        // Redrawn at every event, the share with time stays at the group's 0.5.
        let mean = free_share.iter().sum::<f64>() / free_share.len() as f64;
        assert!((mean - 0.5).abs() < 0.03, "share with time {mean}");
        // Events come about twice a year: over four years nearly everyone has had one.
        let first_events_passed = m.agents.next_life_event.iter().filter(|&&t| t > 52).count();
        assert_eq!(first_events_passed, m.agents.len());
    }

    #[test]
    fn life_event_gaps_are_exponential_in_whole_ticks() {
        let s = town("life_event_rate = 0.5", "");
        let rates = AgentRates::new(&s, 8);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let gaps: Vec<u32> = (0..20_000).map(|_| rates.life_event_gap(&mut rng)).collect();
        assert!(gaps.iter().all(|&g| g >= 1));
        let mean = gaps.iter().map(|&g| f64::from(g)).sum::<f64>() / gaps.len() as f64;
        // A geometric number of weekly ticks with p = 1 - exp(-0.5/52): mean 1/p, about 104.5.
        let p = 1.0 - (-0.5f64 / 52.0).exp();
        assert!((mean - 1.0 / p).abs() < 2.0, "mean gap {mean} ticks");
    }

    #[test]
    fn an_outsider_who_declines_waits_before_considering_again() {
        // Nobody joins (join_max 0), so every outsider told of the programme declines.
        let waiting = |reconsider: &str| {
            let s = town(&format!("join_max = 0.0\n{reconsider}"), "");
            let mut rng = ChaCha8Rng::seed_from_u64(8);
            let mut m = Model::new(&s, &mut rng);
            for _ in 0..20 {
                m.step(&mut rng);
            }
            let t = m.tick;
            m.agents.available_from.iter().filter(|&&a| a > t).count()
        };
        // Without the memory only members who left wait (to rejoin); with it, everyone told.
        let (without, with) = (waiting("reconsider_weeks = 0"), waiting("reconsider_weeks = 52"));
        assert!(with > 50 && with > 10 * without, "waiting: {without} without the memory, {with} with it");
    }

    #[test]
    fn the_cost_of_starting_keeps_outsiders_out_but_not_members_in() {
        let joins_and_members = |start_cost: &str| {
            let s = town(&format!("join_max = 1.0\n{start_cost}"), "");
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            let mut m = Model::new(&s, &mut rng);
            let mut joins = 0;
            for _ in 0..52 {
                m.step(&mut rng);
                joins += m.tally.joins.iter().sum::<u32>();
            }
            (joins, m.coalitions[0].members)
        };
        let (free, _) = joins_and_members("");
        let (costly, founders_left) = joins_and_members("start_cost = 5.0");
        assert!(free > 50, "{free} joined without a cost of starting");
        assert_eq!(costly, 0, "nobody expects a payoff worth a cost of 5");
        assert!(founders_left > 15, "founders, who have paid it, stay: {founders_left} of 30");
    }

    #[test]
    fn members_make_friends_inside_as_their_tenure_grows() {
        let s = town("friends_made = 3\nbonding_weeks = 13\njoin_max = 1.0\naspiration_mean = -0.5", "");
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut m = Model::new(&s, &mut rng);
        for _ in 0..s.ticks() {
            m.step(&mut rng);
        }
        let a = &m.agents;
        let bonds = |from: u32, to: u32| {
            let b: Vec<f64> = (0..a.len())
                .filter(|&i| a.membership[i] != OUTSIDE && (from..to).contains(&(m.tick - a.spell_start[i])))
                .map(|i| a.bonds[i])
                .collect();
            assert!(b.len() >= 5, "too few members of tenure {from}-{to}: {}", b.len());
            b.iter().sum::<f64>() / b.len() as f64
        };
        let (newcomers, veterans) = (bonds(0, 8), bonds(78, 1000));
        assert!(newcomers < 1.0 && veterans > 2.5, "bonds: newcomers {newcomers}, veterans {veterans}");
        assert!(a.bonds.iter().all(|&b| b <= 3.0));
    }

    #[test]
    fn founders_share_the_cause_and_joiners_draw_their_role_fit() {
        let s = town("role_fit_sd = 0.5\njoin_max = 1.0", "[population.appeal]\nyouth = 0.3\n");
        let mut rng = ChaCha8Rng::seed_from_u64(10);
        let mut m = Model::new(&s, &mut rng);
        let youth = 1u16 << crate::scenario::Purpose::Youth.index();
        let a = &m.agents;
        let founders: Vec<usize> = (0..a.len()).filter(|&i| a.membership[i] != OUTSIDE).collect();
        assert_eq!(founders.len(), 30);
        assert!(founders.iter().all(|&i| a.causes[i] & youth != 0 && a.free[i] && a.fit[i] == 0.0));
        let share = a.causes.iter().filter(|&&c| c & youth != 0).count() as f64 / a.len() as f64;
        assert!((share - 0.3).abs() < 0.04, "share whose cause it is {share}");
        for _ in 0..s.ticks() {
            m.step(&mut rng);
        }
        let a = &m.agents;
        let fits: Vec<f64> =
            (0..a.len()).filter(|&i| a.membership[i] != OUTSIDE && a.spell_start[i] > 0).map(|i| a.fit[i]).collect();
        assert!(fits.len() > 20 && fits.iter().all(|&f| f != 0.0), "{} joiners: {fits:?}", fits.len());
        // Members who stayed are those the role suits: their fit is above the joiners' mean, 0.
        let mean = fits.iter().sum::<f64>() / fits.len() as f64;
        assert!(mean > 0.0, "mean fit of members {mean}");
    }

    #[test]
    fn extreme_but_valid_third_version_settings_run_without_panicking() {
        // Each line is a valid extreme: nobody with time; life events every tick; a decade's
        // wait; a cost of starting nothing covers; a thousand friends; causes nobody holds;
        // friendships only within groups; areas with no residents of a group; roles that
        // cannot be credentialed; fit that swamps every payoff.
        let extremes = [
            ("[behaviour]\nlife_event_rate = 52\n", "spare_time = 0.0\n", ""),
            ("[behaviour]\nlife_event_rate = 52\nreconsider_weeks = 5200\n", "spare_time = 1.0\n", ""),
            (
                "[behaviour]\nstart_cost = 10\nfriends_made = 1000\nbonding_weeks = 0.001\nbonding_homophily = 1\n",
                "",
                "",
            ),
            (
                "[behaviour]\nrole_fit_sd = 10\n[population.appeal]\nyouth = 0.0\n",
                "",
                "purpose = \"youth\"\ncredential_need = 0.0\n",
            ),
            (
                "[[population.areas]]\nname = \"north\"\nshare = 0.5\nmix = { rich = 1.0 }\n[[population.areas]]\nname = \"south\"\nshare = 0.5\nmix = { rich = 0.0, poor = 1.0 }\n[population.network]\nlocality = 1.0\nhomophily = 1.0\nrewiring = 1.0\n[organisation]\noutreach_beyond_area = 0.0\n",
                "",
                "area = \"north\"\n",
            ),
        ];
        for (extra, group, coalition) in extremes {
            let text = format!(
                "name = \"t\"\n[simulation]\nyears = 2\n[population]\nsize = 300\n[[population.groups]]\nname = \"rich\"\nshare = 0.5\n{group}[[population.groups]]\nname = \"poor\"\nshare = 0.5\n{group}{extra}[[coalitions]]\nname = \"c\"\nfounders = 20\n{coalition}governance = {{ outreach = 1.0, outreach_target = [\"poor\"] }}\n[policy]\nperformance_regime = 1.0\n"
            );
            let s = Scenario::parse(&text, "t").unwrap_or_else(|e| panic!("{e}\n{text}"));
            let mut rng = ChaCha8Rng::seed_from_u64(12);
            let mut m = Model::new(&s, &mut rng);
            for _ in 0..s.ticks() {
                m.step(&mut rng);
            }
            let members: u32 = m.coalitions.iter().map(|c| c.members).sum();
            assert!(members as usize <= m.agents.len());
        }
    }
}
