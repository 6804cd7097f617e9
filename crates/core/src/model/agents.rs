//! Agents in struct-of-arrays form, and their initialisation from the population groups.

use super::decision::Weights;
use crate::distributions::{Gamma, Normal};
use crate::scenario::Scenario;
use crate::stream::ChaCha8Rng;
use rand::RngExt;
use rand::distr::Distribution;

/// Membership value of an agent outside every coalition.
pub const OUTSIDE: u16 = u16::MAX;

/// Community members, one entry per agent in each array.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Agents {
    /// Population group.
    pub group: Vec<u8>,
    /// Area (0 when the scenario has none).
    pub area: Vec<u8>,
    /// Material incentive weight.
    pub w_material: Vec<f64>,
    /// Solidary incentive weight.
    pub w_solidary: Vec<f64>,
    /// Purposive incentive weight.
    pub w_purposive: Vec<f64>,
    /// Has lived experience of the problem.
    pub lived: Vec<bool>,
    /// Holds the credentials credentialed roles require.
    pub credentialed: Vec<bool>,
    /// The purposes that are causes of the agent's own, a bit per purpose in
    /// [`crate::scenario::Purpose::ALL`] order (every bit when no purpose is drawn).
    pub causes: Vec<u16>,
    /// Payoff below which the agent grows dissatisfied.
    pub aspiration: Vec<f64>,
    /// Hours per week given while a member.
    pub hours_per_week: Vec<f64>,
    /// Coalition index, or [`OUTSIDE`], at the end of the current tick.
    pub membership: Vec<u16>,
    /// Membership at the end of the previous tick (what this tick's decisions read).
    pub previous: Vec<u16>,
    /// Tick the current (or last) spell started.
    pub spell_start: Vec<u32>,
    /// Smoothed satisfaction with the current coalition.
    pub satisfaction: Vec<f64>,
    /// The coalition's mission alignment when the agent joined.
    pub mission_at_join: Vec<f64>,
    /// Cumulative hours contributed.
    pub hours_total: Vec<f64>,
    /// The payoff the agent expected when it joined its current (or last) coalition.
    pub expected_at_join: Vec<f64>,
    /// First tick at which the agent may consider joining again: after exiting, or after it
    /// considered a programme and did not join.
    pub available_from: Vec<u32>,
    /// Has time to spare for a programme (redrawn at each life event).
    pub free: Vec<bool>,
    /// Tick of the agent's next life event (`u32::MAX` without life events).
    pub next_life_event: Vec<u32>,
    /// Friends made among fellow members of the current coalition (reset on joining).
    pub bonds: Vec<f64>,
    /// How well the current coalition's role suits the agent, a payoff learnt as a member.
    pub fit: Vec<f64>,
}

impl Agents {
    /// Number of agents.
    pub fn len(&self) -> usize {
        self.group.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.group.is_empty()
    }

    /// Incentive weights of agent `i`.
    #[inline]
    pub fn weights(&self, i: usize) -> Weights {
        Weights { material: self.w_material[i], solidary: self.w_solidary[i], purposive: self.w_purposive[i] }
    }

    /// Draw the population: agents laid out contiguously by area and by group within it
    /// (`layout`), each with incentive weights from its group's Dirichlet distribution, lived
    /// experience, aspiration and weekly hours (log-normal around the group's median).
    pub fn populate(s: &Scenario, layout: &super::layout::Layout, rng: &mut ChaCha8Rng) -> Agents {
        let n: usize = layout.sizes().iter().map(|&k| k as usize).sum();
        let mut a = Agents {
            group: Vec::with_capacity(n),
            area: layout.area_of_each(),
            w_material: Vec::with_capacity(n),
            w_solidary: Vec::with_capacity(n),
            w_purposive: Vec::with_capacity(n),
            lived: Vec::with_capacity(n),
            credentialed: Vec::new(),
            causes: vec![u16::MAX; n],
            aspiration: Vec::with_capacity(n),
            hours_per_week: Vec::with_capacity(n),
            membership: vec![OUTSIDE; n],
            previous: vec![OUTSIDE; n],
            spell_start: vec![0; n],
            satisfaction: vec![0.0; n],
            mission_at_join: vec![1.0; n],
            hours_total: vec![0.0; n],
            expected_at_join: vec![0.0; n],
            available_from: vec![0; n],
            free: vec![true; n],
            next_life_event: vec![u32::MAX; n],
            bonds: vec![0.0; n],
            fit: vec![0.0; n],
        };
        let b = &s.behaviour;
        let aspiration = Normal::new(b.aspiration_mean, b.aspiration_sd).expect("validated: sd >= 0 and finite");
        let effort = Normal::new(0.0, b.hours_dispersion).expect("validated: dispersion >= 0 and finite");
        for (k, &size) in layout.sizes().iter().enumerate() {
            let g = k % layout.groups;
            let group = &s.population.groups[g];
            let c = &group.incentives;
            let gammas = [c.material, c.solidary, c.purposive]
                .map(|alpha| Gamma::new(alpha, 1.0).expect("validated: concentration > 0 and finite"));
            for _ in 0..size {
                // Dirichlet draw as normalised Gamma variates.
                let x = gammas.map(|d| d.sample(rng));
                let total: f64 = x.iter().sum();
                let w = if total > 0.0 { x.map(|v| v / total) } else { [1.0 / 3.0; 3] };
                a.group.push(g as u8);
                a.w_material.push(w[0]);
                a.w_solidary.push(w[1]);
                a.w_purposive.push(w[2]);
                a.lived.push(rng.random::<f64>() < group.lived_experience);
                a.aspiration.push(aspiration.sample(rng));
                a.hours_per_week.push(group.hours_per_week * libm::exp(effort.sample(rng)));
            }
        }
        a
    }

    /// Draw who holds credentials, from each group's share, on `rng`: a stream of its own, so
    /// the first version's draws are unchanged by it.
    pub fn draw_credentials(&mut self, s: &Scenario, rng: &mut ChaCha8Rng) {
        let shares: Vec<f64> = s.population.groups.iter().map(|g| g.credentials).collect();
        self.credentialed = self.group.iter().map(|&g| rng.random::<f64>() < shares[g as usize]).collect();
    }
}

/// Declares the per-agent arrays a tick's decisions write, once: [`Written`], which holds
/// them while they are moved out of [`Agents`], and [`WrittenBlock`], one block's part of
/// each, with the moves and the cut between them.
macro_rules! written {
    ($($(#[$doc:meta])* $field:ident: $t:ty = $init:expr),* $(,)?) => {
        /// The per-agent state a tick's decisions write, moved out of [`Agents`] while blocks of
        /// agents decide (see [`super::blocks`]), so that they can read the rest of the model
        /// while each writes its own part of these arrays.
        #[derive(Debug, Default)]
        pub(super) struct Written {
            $($(#[$doc])* pub $field: Vec<$t>,)*
        }

        impl Written {
            #[cfg(test)]
            pub fn with_len(n: usize) -> Written {
                Written { $($field: vec![$init; n],)* }
            }
        }

        impl Agents {
            /// Move the arrays a tick's decisions write out (no copy), leaving them empty until
            /// [`Agents::restore_written`].
            pub(super) fn take_written(&mut self) -> Written {
                Written { $($field: std::mem::take(&mut self.$field),)* }
            }

            /// Put back what [`Agents::take_written`] took.
            pub(super) fn restore_written(&mut self, w: Written) {
                $(self.$field = w.$field;)*
            }
        }

        /// The part of [`Written`] that belongs to the agents `first..first + len`.
        pub(super) struct WrittenBlock<'a> {
            /// Index of the block's first agent.
            pub first: usize,
            $($(#[$doc])* pub $field: &'a mut [$t],)*
        }

        impl<'a> WrittenBlock<'a> {
            /// All of `w`.
            pub fn whole(w: &'a mut Written) -> WrittenBlock<'a> {
                WrittenBlock { first: 0, $($field: &mut w.$field,)* }
            }

            /// This block cut after its first `k` agents.
            pub fn split_at(self, k: usize) -> (WrittenBlock<'a>, WrittenBlock<'a>) {
                $(let $field = self.$field.split_at_mut(k);)*
                (
                    WrittenBlock { first: self.first, $($field: $field.0,)* },
                    WrittenBlock { first: self.first + k, $($field: $field.1,)* },
                )
            }
        }
    };
}

written! {
    membership: u16 = OUTSIDE,
    spell_start: u32 = 0,
    satisfaction: f64 = 0.0,
    mission_at_join: f64 = 0.0,
    hours_total: f64 = 0.0,
    expected_at_join: f64 = 0.0,
    available_from: u32 = 0,
    free: bool = true,
    next_life_event: u32 = u32::MAX,
    bonds: f64 = 0.0,
    fit: f64 = 0.0,
}

/// Group sizes from shares by largest remainder, so they sum to the population size exactly.
pub fn group_sizes(size: u32, shares: &[f64]) -> Vec<u32> {
    let total: f64 = shares.iter().sum();
    let exact: Vec<f64> = shares.iter().map(|s| s / total * size as f64).collect();
    let mut sizes: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let mut left = size - sizes.iter().sum::<u32>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for &g in order.iter().cycle() {
        if left == 0 {
            break;
        }
        sizes[g] += 1;
        left -= 1;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_sizes_sum_exactly() {
        assert_eq!(group_sizes(10, &[0.34, 0.66]), vec![3, 7]);
        assert_eq!(group_sizes(7, &[1.0 / 3.0; 3]), vec![3, 2, 2]);
        assert_eq!(group_sizes(1000, &[0.6, 0.4]).iter().sum::<u32>(), 1000);
    }
}
