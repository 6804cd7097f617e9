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
    /// First version's material payoff for people with lived experience of roles still open
    /// to them: `weight * (1 - P) * delivery openness` (weight 0 in the second version).
    pub lived_roles: f64,
    /// Multiplier on the material payoff: the programme's incentive mix.
    pub material_mix: f64,
    /// Multiplier on the purposive payoff, for residents whose cause it is.
    pub purposive_mix: f64,
    /// The programme's purpose, as its bit in residents' causes.
    pub cause: u16,
    /// Share of a full role a credentialed member has (1 without role capacity).
    pub role_share_credentialed: f64,
    /// Share of a full role any other member has: members beyond the open roles find less to do.
    pub role_share_open: f64,
    /// Factor on the solidary payoff: the incentive mix, and formalisation weakens fellowship,
    /// `mix_s (1 - s_F * P)`.
    pub solidary_scale: f64,
    /// Goal attainment G.
    pub goal: f64,
    /// Mission alignment M.
    pub mission: f64,
    /// Fairness term `fairness_weight * (F - 0.5)`.
    pub fairness_term: f64,
    /// How unequally the benefits of a role are shared, `κ (1 − F)`: 0 when governance is
    /// fair or benefits go in equal shares whatever it is.
    pub unequal: f64,
    /// Mean standing of the members at the end of last tick (0 when it has none).
    pub standing_mean: f64,
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
    (offer.stipend + roles).min(1.0) * offer.material_mix
}

/// Solidary payoff: the share of the agent's friends who are members, weakened by
/// formalisation. Its friends are its ties and the `bonds` friends it has made among the
/// coalition's members since it joined (0 for an outsider): `(k + b) / (degree + b)`.
#[inline]
pub fn solidary(offer: &Offer, ties_in_coalition: u32, degree: usize, bonds: f64) -> f64 {
    let circle = degree as f64 + bonds;
    if circle == 0.0 { 0.0 } else { offer.solidary_scale * (ties_in_coalition as f64 + bonds) / circle }
}

/// Purposive payoff: goal attainment scaled by how much of the mission the member joined for
/// is left, and by the programme's purposive mix; nothing for a resident whose cause it is not
/// (`causes`, a bit per purpose). A founder joined at M = 1 and feels drift fully; later
/// joiners only drift since.
#[inline]
pub fn purposive(offer: &Offer, causes: u16, mission_at_join: f64, drift_sensitivity: f64) -> f64 {
    if causes & offer.cause == 0 {
        return 0.0;
    }
    let drift = (mission_at_join - offer.mission).max(0.0);
    offer.goal * (1.0 - drift_sensitivity * drift).max(0.0) * offer.purposive_mix
}

/// The share of a full role's benefits a member of the given standing has (or an outsider,
/// standing 0, would have): `1 + unequal (standing / mean standing − 1)`, whose mean over the
/// members is 1, so unfair governance moves benefits to the established without adding any.
#[inline]
pub fn benefit_share(offer: &Offer, standing: f64) -> f64 {
    if offer.unequal == 0.0 || offer.standing_mean <= 0.0 {
        1.0
    } else {
        1.0 + offer.unequal * (standing / offer.standing_mean - 1.0)
    }
}

/// The payoff `U = w·(role·material, solidary, role·purposive) + fairness term - time cost`,
/// where `role` is the share of a full role the member has. A role carries the tangible
/// benefits and the contribution to the cause; fellowship does not need one, and an idle
/// member still gives up the time.
#[inline]
pub fn payoff(
    w: &Weights,
    material: f64,
    solidary: f64,
    purposive: f64,
    role: f64,
    offer: &Offer,
    time_cost: f64,
) -> f64 {
    w.material * (material * role) + w.solidary * solidary + w.purposive * (purposive * role) + offer.fairness_term
        - time_cost * offer.time_cost_factor
}

/// How many roles a coalition has of each kind, and how many members of each kind.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Roles {
    /// All roles (infinite without role capacity).
    pub total: f64,
    /// Roles that require credentials.
    pub credentialed: f64,
}

impl Roles {
    /// Roles open to anyone.
    pub fn open(&self) -> f64 {
        self.total - self.credentialed
    }

    /// Shares of a full role for (credentialed, other) members, when `members` of whom
    /// `credentialed_members` hold credentials compete for the roles: credentialed members
    /// fill the credentialed roles first, and everyone left shares the open ones.
    pub fn shares(&self, members: u32, credentialed_members: u32) -> (f64, f64) {
        let nc = credentialed_members as f64;
        let filled = nc.min(self.credentialed);
        let rest = members as f64 - filled;
        let open = if rest > 0.0 { (self.open() / rest).min(1.0) } else { 1.0 };
        let cred = if nc > 0.0 { (filled + (nc - filled) * open) / nc } else { 1.0 };
        (cred, open)
    }

    /// Roles held when `members` (of whom `credentialed_members` hold credentials) compete
    /// for them: credentialed members in the credentialed roles, everyone left in the open
    /// ones; every member without role capacity.
    pub fn filled(&self, members: u32, credentialed_members: u32) -> f64 {
        let credentialed = (credentialed_members as f64).min(self.credentialed);
        credentialed + (members as f64 - credentialed).min(self.open())
    }

    /// Vacancies left after `stayers` members (of whom `credentialed_stayers` hold credentials)
    /// keep their places: (credentialed-only, open to anyone).
    pub fn vacancies(&self, stayers: u32, credentialed_stayers: u32) -> (u32, u32) {
        let nc = credentialed_stayers as f64;
        let others = (stayers - credentialed_stayers) as f64;
        let credentialed = (self.credentialed - nc).max(0.0);
        let open = (self.open() - others - (nc - self.credentialed).max(0.0)).max(0.0);
        (credentialed.min(u32::MAX as f64) as u32, open.min(u32::MAX as f64) as u32)
    }
}

/// Logistic function.
#[inline]
pub fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
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

    /// The most [`Self::exit_probability`] can be at this tenure, whatever the satisfaction: the
    /// same operations with the logistic at its supremum, 1. Rounding is monotone and every
    /// factor is non-negative, so the computed probability never exceeds it, and a draw at or
    /// above it stays without evaluating the logistic (most members, most ticks).
    #[inline]
    pub fn exit_ceiling(&self, tenure: u32) -> f64 {
        let newcomer = self.newcomer.get(tenure as usize).copied().unwrap_or(1.0);
        ((self.base + self.dissatisfied) * newcomer).min(1.0)
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

/// The most [`join_probability`] can be, whatever the expected payoff: the same operations
/// with the logistic at its supremum, 1, so (rounding being monotone, every factor
/// non-negative) a draw at or above it does not join, and the payoff need not be evaluated.
#[inline]
pub fn join_ceiling(trust: f64, offer: &Offer, join_max: f64) -> f64 {
    let distrust = offer.public_share * (1.0 - trust);
    join_max * (1.0 - distrust)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer() -> Offer {
        Offer {
            stipend: 0.0,
            lived_roles: 0.6,
            material_mix: 1.0,
            purposive_mix: 1.0,
            cause: 1,
            role_share_credentialed: 1.0,
            role_share_open: 1.0,
            solidary_scale: 1.0,
            goal: 0.8,
            mission: 1.0,
            fairness_term: 0.0,
            unequal: 0.0,
            standing_mean: 0.0,
            time_cost_factor: 1.0,
            public_share: 0.0,
        }
    }

    #[test]
    fn unfair_governance_moves_benefits_to_the_established_without_adding_any() {
        let standings = [0.0, 0.2, 0.9, 1.0, 1.0];
        let mean = standings.iter().sum::<f64>() / standings.len() as f64;
        let fair = Offer { unequal: 0.0, standing_mean: mean, ..offer() };
        let unfair = Offer { unequal: 0.6, standing_mean: mean, ..offer() };
        assert!(standings.iter().all(|&s| benefit_share(&fair, s) == 1.0));
        let shares: Vec<f64> = standings.iter().map(|&s| benefit_share(&unfair, s)).collect();
        assert!((shares.iter().sum::<f64>() / shares.len() as f64 - 1.0).abs() < 1e-12, "{shares:?}");
        assert!(shares.windows(2).all(|p| p[0] <= p[1]) && shares[0] == 0.4, "{shares:?}");
        // Nobody to compare with: equal shares.
        assert_eq!(benefit_share(&Offer { standing_mean: 0.0, ..unfair }, 0.0), 1.0);
    }

    #[test]
    fn lived_experience_roles_are_material_only_for_lived_agents() {
        assert_eq!(material(&offer(), false), 0.0);
        assert_eq!(material(&offer(), true), 0.6);
    }

    #[test]
    fn solidary_needs_ties() {
        assert_eq!(solidary(&offer(), 0, 8, 0.0), 0.0);
        assert_eq!(solidary(&offer(), 2, 8, 0.0), 0.25);
        assert_eq!(solidary(&offer(), 0, 0, 0.0), 0.0);
    }

    #[test]
    fn friends_made_inside_add_to_the_solidary_payoff() {
        // Two of eight ties are members; two friends made inside make it four of ten.
        assert_eq!(solidary(&offer(), 2, 8, 2.0), 0.4);
        assert!(solidary(&offer(), 0, 8, 1.0) > 0.0, "a newcomer who knew nobody comes to belong");
        assert_eq!(solidary(&offer(), 0, 0, 3.0), 1.0 * offer().solidary_scale);
    }

    #[test]
    fn founders_feel_mission_drift_fully_later_joiners_less() {
        let drifted = Offer { mission: 0.7, ..offer() };
        let founder = purposive(&drifted, 1, 1.0, 1.0);
        let joined_late = purposive(&drifted, 1, 0.75, 1.0);
        assert!(founder < joined_late);
        assert!((purposive(&drifted, 1, 0.7, 1.0) - 0.8).abs() < 1e-12);
    }

    #[test]
    fn a_cause_moves_only_those_whose_cause_it_is() {
        let youth = Offer { cause: 1 << 3, ..offer() };
        assert_eq!(purposive(&youth, 1 << 1, 1.0, 1.0), 0.0);
        assert_eq!(purposive(&youth, (1 << 1) | (1 << 3), 1.0, 1.0), 0.8);
        let sport = Offer { purposive_mix: 0.5, ..youth };
        assert_eq!(purposive(&sport, 1 << 3, 1.0, 1.0), 0.4);
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
    fn roles_filled_need_credentials_for_the_credentialed_ones() {
        let roles = Roles { total: 10.0, credentialed: 4.0 };
        // 1 credentialed member in a credentialed role, 6 others in open roles.
        assert_eq!(roles.filled(7, 1), 7.0);
        // 12 without credentials fill the 6 open roles only.
        assert_eq!(roles.filled(12, 0), 6.0);
        // 12 of whom 6 credentialed: 4 credentialed roles, and 8 for the 6 open ones.
        assert_eq!(roles.filled(12, 6), 10.0);
        assert_eq!(Roles { total: f64::INFINITY, credentialed: 0.0 }.filled(800, 3), 800.0);
    }

    #[test]
    fn credentialed_members_take_the_credentialed_roles_and_share_the_rest() {
        let roles = Roles { total: 10.0, credentialed: 4.0 };
        // 6 credentialed and 6 others: 4 credentialed roles filled, 2 + 6 share 6 open roles.
        let (cred, open) = roles.shares(12, 6);
        assert!((open - 0.75).abs() < 1e-12);
        assert!((cred - (4.0 + 2.0 * 0.75) / 6.0).abs() < 1e-12);
        // Within capacity everyone has a full role.
        assert_eq!(Roles { total: 10.0, credentialed: 0.0 }.shares(8, 3), (1.0, 1.0));
        assert_eq!(Roles { total: f64::INFINITY, credentialed: 0.0 }.shares(800, 3), (1.0, 1.0));
        // More credentialed roles leave less for people without credentials.
        assert!(Roles { total: 10.0, credentialed: 8.0 }.shares(12, 2).1 < open);
    }

    #[test]
    fn vacancies_count_each_kind_of_role() {
        let roles = Roles { total: 10.0, credentialed: 4.0 };
        assert_eq!(roles.vacancies(5, 1), (3, 2));
        // Credentialed members beyond the credentialed roles occupy open ones.
        assert_eq!(roles.vacancies(7, 6), (0, 3));
        assert_eq!(roles.vacancies(12, 6), (0, 0));
        let unlimited = Roles { total: f64::INFINITY, credentialed: 0.0 };
        assert_eq!(unlimited.vacancies(5, 1).1, u32::MAX);
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
