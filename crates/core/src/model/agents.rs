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
#[derive(Debug, Clone, Default)]
pub struct Agents {
    /// Population group.
    pub group: Vec<u8>,
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
    /// First tick at which the agent may be recruited again after exiting.
    pub available_from: Vec<u32>,
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

    /// Draw the population: agents laid out contiguously by group, each with incentive weights
    /// from its group's Dirichlet distribution, lived experience, aspiration and weekly hours
    /// (log-normal around the group's median).
    pub fn populate(s: &Scenario, sizes: &[u32], rng: &mut ChaCha8Rng) -> Agents {
        let n: usize = sizes.iter().map(|&k| k as usize).sum();
        let mut a = Agents {
            group: Vec::with_capacity(n),
            w_material: Vec::with_capacity(n),
            w_solidary: Vec::with_capacity(n),
            w_purposive: Vec::with_capacity(n),
            lived: Vec::with_capacity(n),
            credentialed: Vec::new(),
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
        };
        let b = &s.behaviour;
        let aspiration = Normal::new(b.aspiration_mean, b.aspiration_sd).expect("validated: sd >= 0 and finite");
        let effort = Normal::new(0.0, b.hours_dispersion).expect("validated: dispersion >= 0 and finite");
        for (g, (group, &size)) in s.population.groups.iter().zip(sizes).enumerate() {
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

/// The per-agent state a tick's decisions write, moved out of [`Agents`] while blocks of
/// agents decide (see [`super::blocks`]), so that they can read the rest of the model while
/// each writes its own part of these arrays.
#[derive(Debug, Default)]
pub(super) struct Written {
    pub membership: Vec<u16>,
    pub spell_start: Vec<u32>,
    pub satisfaction: Vec<f64>,
    pub mission_at_join: Vec<f64>,
    pub hours_total: Vec<f64>,
    pub expected_at_join: Vec<f64>,
    pub available_from: Vec<u32>,
}

impl Written {
    #[cfg(test)]
    pub fn with_len(n: usize) -> Written {
        Written {
            membership: vec![OUTSIDE; n],
            spell_start: vec![0; n],
            satisfaction: vec![0.0; n],
            mission_at_join: vec![0.0; n],
            hours_total: vec![0.0; n],
            expected_at_join: vec![0.0; n],
            available_from: vec![0; n],
        }
    }
}

impl Agents {
    /// Move the arrays a tick's decisions write out (no copy), leaving them empty until
    /// [`Agents::restore_written`].
    pub(super) fn take_written(&mut self) -> Written {
        use std::mem::take;
        Written {
            membership: take(&mut self.membership),
            spell_start: take(&mut self.spell_start),
            satisfaction: take(&mut self.satisfaction),
            mission_at_join: take(&mut self.mission_at_join),
            hours_total: take(&mut self.hours_total),
            expected_at_join: take(&mut self.expected_at_join),
            available_from: take(&mut self.available_from),
        }
    }

    /// Put back what [`Agents::take_written`] took.
    pub(super) fn restore_written(&mut self, w: Written) {
        self.membership = w.membership;
        self.spell_start = w.spell_start;
        self.satisfaction = w.satisfaction;
        self.mission_at_join = w.mission_at_join;
        self.hours_total = w.hours_total;
        self.expected_at_join = w.expected_at_join;
        self.available_from = w.available_from;
    }
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
