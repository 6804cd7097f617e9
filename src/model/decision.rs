//! How an agent values membership and decides to join, stay or exit (MODEL.md step 3).
//!
//! Pure functions of last tick's state, so the tick loop reads like the brief and each
//! piece is tested on its own.

/// Wilson's (1973) incentive weights as Smith (2020) uses them; they sum to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Money or tangible benefits.
    pub material: f64,
    /// Fellowship and the social capital of a collective endeavour.
    pub solidary: f64,
    /// The cause or mission.
    pub purposive: f64,
}

/// What a coalition offers its members this tick, derived once per tick from its state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Offer {
    /// Material payoff from the stipend actually paid, in [0,1].
    pub stipend: f64,
    /// Share of roles still open to people with lived experience: `(1 - P) * delivery openness`.
    pub lived_roles: f64,
    /// Factor on the solidary payoff: formalisation weakens fellowship, `1 - s_F * P`.
    pub solidary_scale: f64,
    /// Goal attainment G.
    pub goal: f64,
    /// Mission alignment M.
    pub mission: f64,
    /// Fairness term `fairness_weight * (F - 0.5)`.
    pub fairness_term: f64,
    /// Factor on members' time cost: outreach support offsets part of it.
    pub time_cost_factor: f64,
    /// Share of inflow from public money: distrust of government bites in proportion.
    pub public_share: f64,
}

/// Material payoff: the stipend plus, for agents with lived experience, the roles still open
/// to them (Smith 2020: credentialed staff replace people in recovery).
#[inline]
pub fn material(offer: &Offer, lived: bool) -> f64 {
    let roles = if lived { offer.lived_roles } else { 0.0 };
    (offer.stipend + roles).min(1.0)
}

/// Solidary payoff: the share of the agent's ties who are members, weakened by formalisation.
#[inline]
pub fn solidary(offer: &Offer, ties_in_coalition: u32, degree: usize) -> f64 {
    if degree == 0 { 0.0 } else { offer.solidary_scale * ties_in_coalition as f64 / degree as f64 }
}

/// Purposive payoff: goal attainment scaled by how much of the mission the member joined for
/// is left. A founder joined at M = 1 and feels drift fully; later joiners only drift since.
#[inline]
pub fn purposive(offer: &Offer, mission_at_join: f64, drift_sensitivity: f64) -> f64 {
    let drift = (mission_at_join - offer.mission).max(0.0);
    offer.goal * (1.0 - drift_sensitivity * drift).max(0.0)
}

/// The payoff `U = w·(material, solidary, purposive) + fairness term - time cost`.
#[inline]
pub fn payoff(w: &Weights, material: f64, solidary: f64, purposive: f64, offer: &Offer, time_cost: f64) -> f64 {
    w.material * material + w.solidary * solidary + w.purposive * purposive + offer.fairness_term
        - time_cost * offer.time_cost_factor
}

/// Logistic function.
#[inline]
pub fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Per-tick exit-hazard parameters, converted from the scenario's per-year and per-week units.
#[derive(Debug, Clone)]
pub struct Hazard {
    /// Exit probability per tick from life events.
    pub base: f64,
    /// Extra exit probability per tick at full dissatisfaction.
    pub dissatisfied: f64,
    /// Logistic slope on the aspiration gap.
    pub sensitivity: f64,
    /// Newcomer multiplier by tenure in ticks; 1 beyond the table.
    pub newcomer: Vec<f64>,
}

impl Hazard {
    /// Exit probability this tick: rises as satisfaction falls below aspiration, highest
    /// early in a spell.
    #[inline]
    pub fn exit_probability(&self, satisfaction: f64, aspiration: f64, tenure: u32) -> f64 {
        let gap = aspiration - satisfaction;
        let p = self.base + self.dissatisfied * logistic(self.sensitivity * gap);
        let newcomer = self.newcomer.get(tenure as usize).copied().unwrap_or(1.0);
        (p * newcomer).min(1.0)
    }
}

/// Probability an exposed outsider joins: increasing in the payoff it expects, reduced by
/// distrust of government where the coalition is publicly funded.
#[inline]
pub fn join_probability(
    expected: f64,
    aspiration: f64,
    trust: f64,
    offer: &Offer,
    join_max: f64,
    sensitivity: f64,
) -> f64 {
    let distrust = offer.public_share * (1.0 - trust);
    join_max * logistic(sensitivity * (expected - aspiration)) * (1.0 - distrust)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer() -> Offer {
        Offer {
            stipend: 0.0,
            lived_roles: 0.6,
            solidary_scale: 1.0,
            goal: 0.8,
            mission: 1.0,
            fairness_term: 0.0,
            time_cost_factor: 1.0,
            public_share: 0.0,
        }
    }

    #[test]
    fn lived_experience_roles_are_material_only_for_lived_agents() {
        assert_eq!(material(&offer(), false), 0.0);
        assert_eq!(material(&offer(), true), 0.6);
    }

    #[test]
    fn solidary_needs_ties() {
        assert_eq!(solidary(&offer(), 0, 8), 0.0);
        assert_eq!(solidary(&offer(), 2, 8), 0.25);
        assert_eq!(solidary(&offer(), 0, 0), 0.0);
    }

    #[test]
    fn founders_feel_mission_drift_fully_later_joiners_less() {
        let drifted = Offer { mission: 0.7, ..offer() };
        let founder = purposive(&drifted, 1.0, 1.0);
        let joined_late = purposive(&drifted, 0.75, 1.0);
        assert!(founder < joined_late);
        assert!((purposive(&drifted, 0.7, 1.0) - 0.8).abs() < 1e-12);
    }

    #[test]
    fn exit_hazard_falls_with_satisfaction_and_tenure() {
        let h = Hazard { base: 0.002, dissatisfied: 0.05, sensitivity: 10.0, newcomer: vec![3.0, 2.0, 1.5] };
        assert!(h.exit_probability(0.0, 0.3, 10) > h.exit_probability(0.5, 0.3, 10));
        assert!(h.exit_probability(0.3, 0.3, 0) > h.exit_probability(0.3, 0.3, 10));
        assert_eq!(h.exit_probability(0.3, 0.3, 2), h.exit_probability(0.3, 0.3, 2));
        assert!(h.exit_probability(-100.0, 0.0, 0) <= 1.0);
    }

    #[test]
    fn distrust_of_government_lowers_joining_public_coalitions() {
        let public = Offer { public_share: 1.0, ..offer() };
        let trusting = join_probability(0.5, 0.2, 1.0, &public, 0.3, 10.0);
        let distrusting = join_probability(0.5, 0.2, 0.2, &public, 0.3, 10.0);
        assert!(distrusting < trusting);
        let private = join_probability(0.5, 0.2, 0.2, &offer(), 0.3, 10.0);
        assert_eq!(private, trusting);
    }
}
