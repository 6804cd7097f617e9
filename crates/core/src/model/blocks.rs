//! Agents decide in blocks, each on random streams of its own, so that one large town can use
//! every core.
//!
//! A tick's decisions read only the state at the end of the last tick, so the order in which
//! agents decide cannot change a result; what binds them to an order is the random stream they
//! draw from. The agents are therefore cut, by index, into fixed blocks of [`BLOCK_AGENTS`],
//! whatever the number of threads, and each block draws from a main and a side ChaCha8 stream
//! of its own ([`block_streams`]). The first block's streams are the replication's own, so a
//! population of one block draws exactly what it drew before blocks existed. A block counts its
//! joins, exits and stayers and lists the agents who changed and the applications made; the
//! counts are integers and the lists are merged in block order, so a tick is the same bits on
//! any number of threads, and without threads at all (WebAssembly).

use super::agents::{Written, WrittenBlock};
use super::{Application, Model, OUTSIDE, decision};
use crate::stream::ChaCha8Rng;
use rand::RngExt;

/// Agents per block. A power of two large enough that a block's work (about a tenth of a
/// millisecond a tick) dwarfs the cost of handing it to a thread, and small enough that a town
/// of 100,000 shares out evenly over a few cores. Every shipped scenario but the scale ones has
/// fewer agents, so it is one block and its results are those of the model without blocks.
pub const BLOCK_AGENTS: usize = 1 << 14;

/// The main, side and life streams of block `b` of a replication whose main stream is `rng`.
/// Block 0 has the replication's own (the side stream is stream number `^ 2^63`, the life
/// stream `^ 2^62`); block `b > 0` has stream number `replication ^ (2^61 + b * 2^32)`, its side
/// stream that `^ 2^63` and its life stream that `^ 2^62`: the same key, numbers that no
/// replication (below 2^32), side stream or other use of the seed takes.
pub fn block_streams(rng: &ChaCha8Rng, b: usize) -> (ChaCha8Rng, ChaCha8Rng, ChaCha8Rng) {
    use rand::SeedableRng;
    let stream = if b == 0 { rng.get_stream() } else { rng.get_stream() ^ ((1 << 61) | ((b as u64) << 32)) };
    let make = |n: u64| {
        let mut r = ChaCha8Rng::from_seed(rng.get_seed());
        r.set_stream(n);
        r
    };
    (make(stream), make(stream ^ (1 << 63)), make(stream ^ (1 << 62)))
}

/// One block of agents: its streams, and what its agents' decisions added up to this tick.
#[derive(Debug)]
pub(super) struct Block {
    /// The main stream (block 0's is the replication's, lent by the caller during the pass).
    pub main: ChaCha8Rng,
    /// Draws of the second version's mechanisms (expectation errors, admission order) and the
    /// third's role fit.
    pub side: ChaCha8Rng,
    /// Life events (third version): exogenous, so drawn on a stream of their own.
    pub life: ChaCha8Rng,
    /// Joins and exits, indexed like [`super::Tally`].
    pub joins: Vec<u32>,
    pub exits: Vec<u32>,
    /// Per coalition: members after the decisions, and the credentialed among them.
    pub stayers: Vec<u32>,
    pub credentialed_stayers: Vec<u32>,
    /// Agents whose membership changed.
    pub changed: Vec<u32>,
    /// Outsiders who want to join a coalition with limited roles.
    pub applications: Vec<Application>,
}

impl Block {
    pub fn new((main, side, life): (ChaCha8Rng, ChaCha8Rng, ChaCha8Rng)) -> Block {
        Block {
            main,
            side,
            life,
            joins: Vec::new(),
            exits: Vec::new(),
            stayers: Vec::new(),
            credentialed_stayers: Vec::new(),
            changed: Vec::new(),
            applications: Vec::new(),
        }
    }

    fn clear(&mut self, cells: usize, coalitions: usize) {
        for (v, n) in [
            (&mut self.joins, cells),
            (&mut self.exits, cells),
            (&mut self.stayers, coalitions),
            (&mut self.credentialed_stayers, coalitions),
        ] {
            v.clear();
            v.resize(n, 0);
        }
        self.changed.clear();
        self.applications.clear();
    }
}

impl<'a> WrittenBlock<'a> {
    fn len(&self) -> usize {
        self.membership.len()
    }

    /// `w` cut into blocks of [`BLOCK_AGENTS`] (the last may be shorter).
    pub fn blocks(w: &'a mut Written) -> Vec<WrittenBlock<'a>> {
        let mut rest = WrittenBlock::whole(w);
        let mut out = Vec::with_capacity(rest.len().div_ceil(BLOCK_AGENTS));
        while rest.len() > BLOCK_AGENTS {
            let (head, tail) = rest.split_at(BLOCK_AGENTS);
            out.push(head);
            rest = tail;
        }
        out.push(rest);
        out
    }

    /// Agent `i` is admitted to coalition `m` (see [`WrittenBlock::start_spell`]).
    #[allow(clippy::too_many_arguments)]
    pub fn join(&mut self, i: usize, m: u16, t: u32, expected: f64, mission: f64, hours: f64, fit: f64) {
        self.membership[i - self.first] = m;
        self.start_spell(i, t, expected, mission, hours, fit);
    }

    /// Agent `i` starts a spell in a coalition whose mission is `mission`, expecting
    /// `expected`, gives `hours` this tick, and will find its role suits it by `fit`. It knows
    /// nobody there yet beyond its ties.
    pub fn start_spell(&mut self, i: usize, t: u32, expected: f64, mission: f64, hours: f64, fit: f64) {
        let k = i - self.first;
        self.spell_start[k] = t;
        self.satisfaction[k] = expected;
        self.expected_at_join[k] = expected;
        self.mission_at_join[k] = mission;
        self.hours_total[k] += hours;
        self.bonds[k] = 0.0;
        self.fit[k] = fit;
    }
}

/// How many blocks a population of `agents` is cut into.
pub fn block_count(agents: usize) -> usize {
    agents.div_ceil(BLOCK_AGENTS).max(1)
}

impl Model {
    /// Step 3 of the tick: every agent decides, block by block (in parallel with the `parallel`
    /// feature), and the blocks' counts and lists are merged in block order. `rng` is lent to
    /// the first block.
    pub(super) fn agents_decide(&mut self, t: u32, rng: &mut ChaCha8Rng) {
        let (cells, nc) = (self.tally.members.len(), self.coalitions.len());
        let mut blocks = std::mem::take(&mut self.blocks);
        std::mem::swap(rng, &mut blocks[0].main);
        let mut written = self.agents.take_written();
        {
            let this = &*self;
            let decide = |block: &mut Block, mut w: WrittenBlock| {
                block.clear(cells, nc);
                this.block_decides(t, block, &mut w);
            };
            if let [only] = blocks.as_mut_slice() {
                // A town of one block, every shipped scenario but the scale ones: nothing to
                // share out, so no list of blocks is built each tick.
                decide(only, WrittenBlock::whole(&mut written));
            } else {
                let parts: Vec<_> = blocks.iter_mut().zip(WrittenBlock::blocks(&mut written)).collect();
                crate::par::for_each(parts, |(block, w)| decide(block, w));
            }
        }
        self.agents.restore_written(written);
        std::mem::swap(rng, &mut blocks[0].main);

        self.stayers.clear();
        self.stayers.resize(nc, 0);
        self.credentialed_stayers.clear();
        self.credentialed_stayers.resize(nc, 0);
        for b in &blocks {
            add(&mut self.tally.joins, &b.joins);
            add(&mut self.tally.exits, &b.exits);
            add(&mut self.stayers, &b.stayers);
            add(&mut self.credentialed_stayers, &b.credentialed_stayers);
            self.changed.extend_from_slice(&b.changed);
            self.applications.extend_from_slice(&b.applications);
        }
        self.blocks = blocks;
    }

    /// The agents of one block decide, in index order, on the block's streams.
    fn block_decides(&self, t: u32, b: &mut Block, w: &mut WrittenBlock) {
        for k in 0..w.len() {
            let i = w.first + k;
            if t >= w.next_life_event[k] {
                // A life event: whether it has time to spare is drawn afresh.
                let spare = self.groups[self.agents.group[i] as usize].spare_time;
                w.free[k] = b.life.random::<f64>() < spare;
                w.next_life_event[k] = t.saturating_add(self.rates.life_event_gap(&mut b.life));
            }
            let m = self.agents.previous[i];
            let next =
                if m != OUTSIDE { self.member_decides(i, m, t, b, w) } else { self.outsider_decides(i, t, b, w) };
            w.membership[k] = next;
            if next != OUTSIDE {
                b.stayers[next as usize] += 1;
                b.credentialed_stayers[next as usize] += u32::from(self.agents.credentialed[i]);
            }
            if next != m {
                b.changed.push(i as u32);
                let g = self.agents.group[i] as usize;
                if m != OUTSIDE {
                    b.exits[self.tally.at(m as usize, g)] += 1;
                }
                if next != OUTSIDE {
                    b.joins[self.tally.at(next as usize, g)] += 1;
                }
            }
        }
    }

    /// A member of coalition `m` updates its satisfaction and decides whether to stay.
    #[inline]
    fn member_decides(&self, i: usize, m: u16, t: u32, b: &mut Block, w: &mut WrittenBlock) -> u16 {
        let k = i - w.first;
        if !self.coalitions[m as usize].active || !w.free[k] {
            // Step 4 of last tick: the coalition dissolved and its members become outsiders;
            // or a life event has left the member without time to spare.
            w.available_from[k] = t;
            return OUTSIDE;
        }
        let offer = &self.offers[m as usize];
        let tenure = t - 1 - w.spell_start[k];
        let standing = if offer.unequal > 0.0 { self.rates.standing_at(tenure) } else { 0.0 };
        let mut u = self.payoff(i, m, offer, w.mission_at_join[k], w.bonds[k], standing);
        if w.fit[k] != 0.0 {
            u += w.fit[k];
        }
        w.satisfaction[k] += self.rates.satisfaction_memory * (u - w.satisfaction[k]);
        // A newcomer who expected more than it finds is disappointed: the shortfall counts
        // against its satisfaction until it has learnt what the programme is.
        let draw = b.main.random::<f64>();
        let leaves = draw < self.rates.hazard.exit_ceiling(tenure) && {
            let shortfall = (w.expected_at_join[k] - w.satisfaction[k]).max(0.0);
            let felt =
                w.satisfaction[k] - shortfall * self.rates.disappointment.get(tenure as usize).copied().unwrap_or(0.0);
            let p = self.rates.hazard.exit_probability(felt, self.agents.aspiration[i], tenure);
            debug_assert!(p.is_nan() || p <= self.rates.hazard.exit_ceiling(tenure), "{p} above its ceiling");
            draw < p
        };
        if leaves {
            w.available_from[k] = t + self.rates.rejoin_delay;
            OUTSIDE
        } else {
            w.hours_total[k] += self.hours_this_tick(i, offer);
            if self.rates.friends_made > 0.0 {
                w.bonds[k] = self.bonds_after_a_tick(i, m, offer, w.bonds[k]);
            }
            m
        }
    }

    /// Friends a staying member of `m` has made after this tick: it befriends fellow members
    /// at the bonding rate, in proportion to the role it has (people meet over the work), and,
    /// when friendships form within groups, to the share of members from its own group, up to
    /// `friends_made` and no more than there are fellow members (friends lost as they leave).
    #[inline]
    fn bonds_after_a_tick(&self, i: usize, m: u16, offer: &decision::Offer, bonds: f64) -> f64 {
        let r = &self.rates;
        let c = &self.coalitions[m as usize];
        let room = r.friends_made.min(c.members.saturating_sub(1) as f64);
        let affinity = if r.bonding_homophily > 0.0 {
            let own = self.composition[self.tally.at(m as usize, self.agents.group[i] as usize)];
            1.0 - r.bonding_homophily + r.bonding_homophily * own
        } else {
            1.0
        };
        bonds + r.bonding * self.role_share(i, offer) * affinity * (room - bonds)
    }

    /// An outsider may be exposed by word of mouth through member ties or by a coalition's
    /// outreach, and joins with a probability rising in the payoff it expects.
    #[inline]
    fn outsider_decides(&self, i: usize, t: u32, b: &mut Block, w: &mut WrittenBlock) -> u16 {
        let k = i - w.first;
        if t < w.available_from[k] || !w.free[k] {
            return OUTSIDE;
        }
        // Nearly every agent is an outsider who is told of no programme: this path reads only
        // what that answer needs (a bounds check is a side effect the compiler cannot move
        // past the draw, so the ties are looked up only for the few who are told).
        let member_ties = self.member_ties[i] as usize;
        let u = b.main.random::<f64>();
        let p_wom = self.rates.word_of_mouth[member_ties];
        let exposed_to = if u < p_wom {
            // Conditional on exposure, u / p_wom is uniform: it picks which member tie told them.
            let pick = ((u / p_wom) * member_ties as f64) as usize;
            let prev = &self.agents.previous;
            let ties = self.network.ties(i);
            ties.iter().map(|&j| prev[j as usize]).filter(|&m| m != OUTSIDE).nth(pick.min(member_ties - 1))
        } else {
            let g = self.agents.area[i] as usize * self.groups.len() + self.agents.group[i] as usize;
            let reach = self.outreach_reach[g];
            if super::outreach_misses(u - p_wom, 1.0 - p_wom, reach) {
                None
            } else {
                let v = (u - p_wom) / (1.0 - p_wom);
                let cumulative = &self.outreach_cumulative[g];
                if v < reach { cumulative.iter().position(|&c| v < c).map(|c| c as u16) } else { None }
            }
        };
        let Some(m) = exposed_to else { return OUTSIDE };
        let coalition = &self.coalitions[m as usize];
        if !coalition.active {
            return OUTSIDE;
        }
        let offer = &self.offers[m as usize];
        // Outsiders see a programme from outside: they join on an uncertain expectation and
        // learn the real payoff as members. (Drawn for every exposed outsider, on its own
        // stream, whether or not the payoff is needed below.)
        let error = (self.rates.expectation_noise > 0.0)
            .then(|| -> f64 { rand::distr::Distribution::sample(&crate::distributions::StandardNormal, &mut b.side) });
        let trust = self.groups[self.agents.group[i] as usize].trust;
        let draw = b.main.random::<f64>();
        // Considered and not joined (or turned away): it waits before it considers again.
        let declines = |w: &mut WrittenBlock| {
            w.available_from[k] = t + self.rates.reconsider;
            OUTSIDE
        };
        if draw >= decision::join_ceiling(trust, offer, self.rates.join_max) {
            return declines(w);
        }
        // Seen from outside, a programme offers its members' average share of a role's
        // benefits; a newcomer learns its own (docs/ODD.md, benefits by standing).
        let truth = self.payoff(i, m, offer, offer.mission, 0.0, offer.standing_mean);
        let mut expected = truth;
        if let Some(e) = error {
            expected += self.rates.expectation_noise * e;
        }
        let steering = if self.rates.expectations_steer { expected } else { truth };
        let p = decision::join_probability(
            steering,
            // Joining also has to be worth the cost of starting.
            self.agents.aspiration[i] + self.rates.start_cost,
            trust,
            offer,
            self.rates.join_max,
            self.rates.join_sensitivity,
        );
        debug_assert!(
            p.is_nan() || p <= decision::join_ceiling(trust, offer, self.rates.join_max),
            "{p} above its ceiling"
        );
        if draw < p {
            // What its satisfaction starts from: what it expected, unless (a matched control)
            // it knows the truth from the start.
            let expected = if self.rates.expectations_learnt { expected } else { truth };
            let limited = coalition.roles.total.is_finite();
            // Limited roles: wait for this tick's admissions, in an order drawn at random.
            let key = if limited { b.side.random::<f64>() } else { 0.0 };
            let fit = if self.rates.role_fit_sd > 0.0 {
                self.rates.role_fit_sd
                    * rand::distr::Distribution::sample(&crate::distributions::StandardNormal, &mut b.side)
            } else {
                0.0
            };
            if limited {
                b.applications.push(Application { agent: i as u32, coalition: m, key, expected, fit });
                return OUTSIDE;
            }
            w.start_spell(i, t, expected, offer.mission, self.hours_this_tick(i, offer), fit);
            m
        } else {
            declines(w)
        }
    }
}

fn add(total: &mut [u32], part: &[u32]) {
    for (t, p) in total.iter_mut().zip(part) {
        *t += p;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_streams_are_distinct_and_the_first_is_the_replications() {
        let rng = crate::engine::replication_rng(7, 3);
        let (main0, side0, life0) = block_streams(&rng, 0);
        assert_eq!((main0.get_stream(), side0.get_stream(), life0.get_stream()), (3, 3 ^ (1 << 63), 3 ^ (1 << 62)));
        let mut seen = std::collections::BTreeSet::new();
        for b in 0..100 {
            let (main, side, life) = block_streams(&rng, b);
            assert_eq!(
                (main.get_seed(), side.get_seed(), life.get_seed()),
                (rng.get_seed(), rng.get_seed(), rng.get_seed())
            );
            assert!(seen.insert(main.get_stream()) && seen.insert(side.get_stream()) && seen.insert(life.get_stream()));
        }
        // No block stream of replication 3 is another replication's main, side or life stream.
        for r in 0..10_000u64 {
            assert!(
                r == 3 || !seen.contains(&r) && !seen.contains(&(r ^ (1 << 63))) && !seen.contains(&(r ^ (1 << 62)))
            );
        }
        // The first draws differ between blocks (different streams, not just different numbers).
        let firsts: std::collections::BTreeSet<u64> =
            (0..100).map(|b| block_streams(&rng, b).0.random::<u64>()).collect();
        assert_eq!(firsts.len(), 100);
    }

    /// Per tick, the tally and every agent's membership, from a town of three blocks run on
    /// `threads` threads.
    fn history(threads: usize) -> (Vec<Vec<u32>>, Vec<u16>, Vec<u64>) {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wasi/three_blocks.toml"));
        let mut s = crate::scenario::Scenario::parse(&text.unwrap(), "three_blocks").unwrap();
        s.simulation.years = 1;
        crate::par::with_threads(threads, || {
            let mut rng = crate::engine::replication_rng(s.simulation.seed, 0);
            let mut model = Model::new(&s, &mut rng);
            assert_eq!(model.blocks.len(), 3);
            let mut tallies = Vec::new();
            for _ in 0..s.ticks() {
                model.step(&mut rng);
                let t = &model.tally;
                tallies.push([&t.members[..], &t.joins, &t.exits].concat());
            }
            let satisfaction = model.agents.satisfaction.iter().map(|x| x.to_bits()).collect();
            (tallies, model.agents.membership.clone(), satisfaction)
        })
        .unwrap()
    }

    #[test]
    fn a_town_of_several_blocks_is_the_same_on_any_number_of_threads() {
        let one = history(1);
        assert!(one == history(2), "one and two threads differ");
        // Every block had members by the end, so every block's streams were drawn on.
        let members_in = |b: usize| one.1.iter().skip(b * BLOCK_AGENTS).take(BLOCK_AGENTS).any(|&m| m != OUTSIDE);
        assert!((0..3).all(members_in), "some block had no members");
    }

    #[test]
    fn populations_are_cut_into_fixed_blocks() {
        assert_eq!(block_count(0), 1);
        assert_eq!(block_count(2_000), 1);
        assert_eq!(block_count(BLOCK_AGENTS), 1);
        assert_eq!(block_count(BLOCK_AGENTS + 1), 2);
        assert_eq!(block_count(1_000_000), 62);
        let mut w = Written::with_len(2 * BLOCK_AGENTS + 5);
        let parts = WrittenBlock::blocks(&mut w);
        let cuts: Vec<(usize, usize)> = parts.iter().map(|p| (p.first, p.len())).collect();
        assert_eq!(cuts, vec![(0, BLOCK_AGENTS), (BLOCK_AGENTS, BLOCK_AGENTS), (2 * BLOCK_AGENTS, 5)]);
    }
}
