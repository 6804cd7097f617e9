//! A coalition's organisational dynamics (MODEL.md steps 1, 2 and 4): budget and spending,
//! professionalisation, fairness, mission drift, leadership delegation, goal attainment and
//! dissolution.

use super::decision::{Offer, Roles};
use super::funding::{Funding, Inflow};
use crate::scenario;
use crate::stream::ChaCha8Rng;

/// Shared organisational rates, converted once to per-tick form.
#[derive(Debug, Clone)]
pub struct OrgRates {
    /// Ticks per year.
    pub ticks_per_year: f64,
    /// Weeks per tick.
    pub weeks_per_tick: f64,
    /// Per-tick approach factor of P towards higher pressure.
    pub professionalise: f64,
    /// Per-tick approach factor of P when pressure falls.
    pub deprofessionalise: f64,
    /// Performance-regime intensity.
    pub regime: f64,
    /// a_P.
    pub fairness_professional_penalty: f64,
    /// a_C.
    pub fairness_conflict_penalty: f64,
    /// Fairness from full outreach.
    pub fairness_outreach_gain: f64,
    /// Per-tick approach factor of perceived fairness.
    pub fairness_lag: f64,
    /// Per-tick decay of conflict (and of the inflow's moving average).
    pub conflict_decay: f64,
    /// Per-tick approach factor of mission alignment.
    pub mission_drift: f64,
    /// Funder's alignment with the founding mission.
    pub funder_alignment: f64,
    /// Leadership renewal per tick.
    pub leadership_renewal: f64,
    /// Output share when leaders have disengaged.
    pub decision_floor: f64,
    /// Volunteers per staff FTE.
    pub volunteers_per_staff: f64,
    /// Productivity gain of mentored volunteers.
    pub mentoring_gain: f64,
    /// Staff output per FTE per week.
    pub staff_hours_per_week: f64,
    /// Per-tick approach factor of goal attainment.
    pub goal_memory: f64,
    /// Ticks from founding without dissolution.
    pub startup_ticks: u32,
    /// Consecutive troubled ticks before dissolution.
    pub grace_ticks: u32,
    /// Stipend that saturates material payoff, per tick.
    pub stipend_reference_tick: f64,
    /// Weight of fairness in payoff.
    pub fairness_weight: f64,
    /// How far unfair governance shares benefits by standing (κ).
    pub allocation_by_standing: f64,
    /// How much P weakens solidary payoff.
    pub solidary_formalisation: f64,
    /// Weight of the first version's lived-experience role payoff.
    pub lived_role_weight: f64,
    /// Whether coalitions have a limited number of roles.
    pub role_capacity: bool,
    /// Roles leaders coordinate without staff.
    pub self_organised_roles: f64,
    /// Output hours per week one role carries.
    pub role_hours: f64,
    /// Whether the performance regime turns a share P of roles into credentialed roles.
    pub credentialed_roles: bool,
    /// Weekly reach of full-intensity outreach, per tick.
    pub outreach_reach: f64,
    /// Diminishing returns of outreach effort.
    pub outreach_saturation: f64,
    /// Share of its reach outreach has outside the programme's own area.
    pub outreach_beyond_area: f64,
}

/// Per-tick factor for exponential approach with a rate per year.
pub fn approach_per_year(rate: f64, ticks_per_year: f64) -> f64 {
    1.0 - libm::exp(-rate / ticks_per_year)
}

/// Per-tick factor for exponential approach with a time constant in weeks.
pub fn approach_weeks(weeks: f64, weeks_per_tick: f64) -> f64 {
    1.0 - libm::exp(-weeks_per_tick / weeks)
}

impl OrgRates {
    /// Convert the scenario's organisation rates to per-tick form.
    pub fn new(s: &scenario::Scenario) -> OrgRates {
        let o = &s.organisation;
        let b = &s.behaviour;
        let tpy = s.simulation.ticks_per_year as f64;
        let wpt = s.weeks_per_tick();
        OrgRates {
            ticks_per_year: tpy,
            weeks_per_tick: wpt,
            professionalise: approach_per_year(o.professionalisation_rate, tpy),
            deprofessionalise: approach_per_year(o.professionalisation_rate * o.professionalisation_relax, tpy),
            regime: s.policy.performance_regime,
            fairness_professional_penalty: o.fairness_professional_penalty,
            fairness_conflict_penalty: o.fairness_conflict_penalty,
            fairness_outreach_gain: o.fairness_outreach_gain,
            fairness_lag: approach_weeks(o.fairness_lag_weeks, wpt),
            conflict_decay: libm::pow(0.5, wpt / o.conflict_half_life_weeks),
            mission_drift: approach_per_year(o.mission_drift_rate, tpy),
            funder_alignment: o.funder_alignment,
            leadership_renewal: o.leadership_renewal / tpy,
            decision_floor: o.decision_floor,
            volunteers_per_staff: o.volunteers_per_staff,
            mentoring_gain: o.mentoring_gain,
            staff_hours_per_week: o.staff_hours_per_week,
            goal_memory: approach_weeks(o.goal_memory_weeks, wpt),
            startup_ticks: (o.startup_weeks / wpt).round() as u32,
            grace_ticks: ((o.dissolution_grace_weeks / wpt).round() as u32).max(1),
            stipend_reference_tick: b.stipend_reference / tpy,
            fairness_weight: b.fairness_weight,
            allocation_by_standing: o.allocation_by_standing,
            solidary_formalisation: b.solidary_formalisation,
            lived_role_weight: b.lived_experience_role_payoff,
            role_capacity: o.role_capacity,
            self_organised_roles: o.self_organised_roles,
            role_hours: o.role_hours,
            credentialed_roles: o.credentialed_roles,
            outreach_reach: 1.0 - libm::pow(1.0 - o.outreach_reach, wpt),
            outreach_saturation: o.outreach_saturation,
            outreach_beyond_area: o.outreach_beyond_area,
        }
    }
}

/// Professionalisation moves towards its funders' pressure, `public_share * regime`, and
/// relaxes more slowly when public money leaves: `dP = k_P (pressure - P)`.
pub fn professionalisation_step(p: f64, public_share: f64, r: &OrgRates) -> f64 {
    let pressure = public_share * r.regime;
    let k = if pressure > p { r.professionalise } else { r.deprofessionalise };
    p + k * (pressure - p)
}

/// The fairness members would perceive under current governance:
/// `voice * planning openness * (1 - a_P P) * (1 - a_C conflict) + outreach effect`.
pub fn fairness_target(voice: f64, planning_openness: f64, p: f64, conflict: f64, outreach: f64, r: &OrgRates) -> f64 {
    let say = voice * (0.5 + 0.5 * planning_openness);
    let f = say * (1.0 - r.fairness_professional_penalty * p) * (1.0 - r.fairness_conflict_penalty * conflict)
        + r.fairness_outreach_gain * outreach;
    f.clamp(0.0, 1.0)
}

/// The mission the coalition drifts towards: the public funder's priorities, in proportion
/// to the public share of its money.
pub fn mission_target(public_share: f64, r: &OrgRates) -> f64 {
    1.0 - public_share * (1.0 - r.funder_alignment)
}

/// Leadership engagement: decays at the delegation rate as founding leaders send
/// representatives without authority, renewed in proportion to goal attainment.
pub fn leadership_step(l: f64, goal: f64, delegation_per_tick: f64, r: &OrgRates) -> f64 {
    (l + r.leadership_renewal * goal * (1.0 - l) - delegation_per_tick * l).clamp(0.0, 1.0)
}

/// Weekly output: volunteer hours (more for mentored volunteers, weighted by how open
/// delivery is to members) plus staff hours, slowed when leaders are disengaged.
pub fn weekly_output(
    volunteer_hours: f64,
    volunteers: u32,
    staff: f64,
    delivery_openness: f64,
    leadership: f64,
    r: &OrgRates,
) -> f64 {
    let mentored = if volunteers == 0 { 0.0 } else { (staff * r.volunteers_per_staff / volunteers as f64).min(1.0) };
    let volunteers_out = volunteer_hours * (1.0 + r.mentoring_gain * mentored) * (0.5 + 0.5 * delivery_openness);
    let pace = r.decision_floor + (1.0 - r.decision_floor) * leadership;
    (volunteers_out + staff * r.staff_hours_per_week) * pace
}

/// The roles a coalition can offer: as many as its leaders and paid staff can supervise
/// (`L * self_organised_roles + volunteers_per_staff * staff`), and no more than its goal
/// needs (`goal_hours / role_hours`). Under evidence-based mandates a share P of them require
/// credentials. Unlimited without role capacity.
/// At most a share `need` of them can be credentialed (the programme's purpose: a food bank
/// needs fewer credentials than a clinic).
pub fn roles(leadership: f64, staff: f64, goal_hours: f64, p: f64, need: f64, r: &OrgRates) -> Roles {
    if !r.role_capacity {
        return Roles { total: f64::INFINITY, credentialed: 0.0 };
    }
    let supervised = leadership * r.self_organised_roles + r.volunteers_per_staff * staff;
    let total = supervised.min(goal_hours / r.role_hours).floor().max(0.0);
    let credentialed = if r.credentialed_roles { (p * need * total).round() } else { 0.0 };
    Roles { total, credentialed }
}

/// Reach per unit of full-intensity reach from effort `e`: in proportion (`k` = 0), or with
/// diminishing returns, `(1 - exp(-k e)) / (1 - exp(-k))`, equal at `e` = 1.
pub fn outreach_response(e: f64, k: f64) -> f64 {
    if k == 0.0 { e } else { -libm::expm1(-k * e) / -libm::expm1(-k) }
}

fn outreach_groups(s: &scenario::Scenario, c: &scenario::Coalition) -> Vec<bool> {
    let target = &c.governance.outreach_target;
    s.population.groups.iter().map(|g| target.is_empty() || target.contains(&g.name)).collect()
}

fn outreach_focus(s: &scenario::Scenario, c: &scenario::Coalition) -> f64 {
    if c.governance.outreach_target.is_empty() {
        return 1.0;
    }
    let groups = &s.population.groups;
    let total: f64 = groups.iter().map(|g| g.share).sum();
    let aimed: f64 = groups.iter().zip(outreach_groups(s, c)).filter(|(_, on)| *on).map(|(g, _)| g.share).sum();
    if aimed > 0.0 { total / aimed } else { 1.0 }
}

/// A coalition: its fixed settings and its state at the end of the last tick.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Coalition {
    /// Name from the scenario.
    pub name: String,
    staff: f64,
    staff_cost_tick: f64,
    stipend_tick: f64,
    goal_hours: f64,
    min_members: u32,
    planning_openness: f64,
    delivery_openness: f64,
    voice: f64,
    outreach: f64,
    outreach_cost_tick: f64,
    outreach_support: f64,
    outreach_staff: f64,
    /// Whether the outreach reaches each group (aimed at some, or all).
    outreach_groups: Vec<bool>,
    /// How much more often aimed outreach reaches each targeted outsider: population over
    /// targeted population.
    outreach_focus: f64,
    delegation_tick: f64,
    funding: Funding,
    /// Share of its roles a regime can make credentialed.
    credential_need: f64,
    /// The area it is located in (None: the whole town).
    area: Option<usize>,
    /// How much of each incentive it offers.
    mix: scenario::Mix,
    /// Its purpose's bit in residents' causes.
    cause: u16,

    /// Still operating.
    pub active: bool,
    /// Budget reserve.
    pub budget: f64,
    /// Professionalisation P.
    pub professionalisation: f64,
    /// Perceived governance fairness F.
    pub fairness: f64,
    /// Mission alignment M.
    pub mission: f64,
    /// Leadership engagement L.
    pub leadership: f64,
    /// Goal attainment G.
    pub goal: f64,
    /// Allocation conflict set off by new money.
    pub conflict: f64,
    inflow_average: f64,
    /// Last tick's inflow by stream.
    pub inflow: Inflow,
    /// Share of planned spending the budget could pay last tick.
    pub pay_ratio: f64,
    /// What it spent last tick (staff, outreach, stipends).
    pub spending: f64,
    /// The tick at which it dissolved, once it has.
    pub dissolved_at: Option<u32>,
    troubled_ticks: u32,

    /// Members at the end of the last tick.
    pub members: u32,
    /// Members' hours per week at the end of the last tick.
    pub volunteer_hours: f64,
    /// Members with lived experience at the end of the last tick.
    pub lived_members: u32,
    /// Members holding credentials at the end of the last tick.
    pub credentialed_members: u32,
    /// The roles it offers, from last tick's staff, leadership and professionalisation.
    pub roles: Roles,
}

impl Coalition {
    /// The tick at which its government contract lapsed (was not renewed), if it has.
    pub fn contract_lapsed_at(&self) -> Option<u32> {
        self.funding.contract_lapsed_at()
    }

    /// Whether it has a government contract (running, pending or lapsed).
    pub fn has_contract(&self) -> bool {
        self.funding.has_contract()
    }

    /// A newly founded coalition: informal (P = 0), on mission (M = 1).
    pub fn found(s: &scenario::Scenario, c: &scenario::Coalition) -> Coalition {
        let tpy = s.simulation.ticks_per_year as f64;
        Coalition {
            name: c.name.clone(),
            staff: c.staff,
            staff_cost_tick: c.staff_cost / tpy,
            stipend_tick: c.stipend / tpy,
            goal_hours: c.goal_hours,
            min_members: c.min_members,
            planning_openness: c.mode.planning.openness(),
            delivery_openness: c.mode.delivery.openness(),
            voice: c.governance.voice,
            outreach: c.governance.outreach,
            outreach_cost_tick: c.governance.outreach_cost / tpy,
            outreach_support: c.governance.outreach_support,
            outreach_staff: c.governance.outreach_staff,
            outreach_groups: outreach_groups(s, c),
            outreach_focus: outreach_focus(s, c),
            delegation_tick: c.governance.delegation_rate / tpy,
            funding: Funding::new(s, c),
            credential_need: c.credential_need(),
            area: s.population.areas.iter().position(|a| a.name == c.area),
            mix: c.mix(),
            cause: 1 << c.purpose.index(),
            active: true,
            budget: c.initial_budget,
            professionalisation: 0.0,
            fairness: 0.0,
            mission: 1.0,
            leadership: c.governance.initial_leadership,
            goal: 0.0,
            conflict: 0.0,
            inflow_average: 0.0,
            inflow: Inflow::default(),
            pay_ratio: 1.0,
            spending: 0.0,
            dissolved_at: None,
            troubled_ticks: 0,
            members: 0,
            volunteer_hours: 0.0,
            lived_members: 0,
            credentialed_members: 0,
            roles: Roles { total: f64::INFINITY, credentialed: 0.0 },
        }
    }

    /// Take a changed scenario's settings (a policy change), keeping the coalition's state.
    pub fn retune(&mut self, s: &scenario::Scenario, c: &scenario::Coalition) {
        let new = Coalition::found(s, c);
        self.staff = new.staff;
        self.staff_cost_tick = new.staff_cost_tick;
        self.stipend_tick = new.stipend_tick;
        self.goal_hours = new.goal_hours;
        self.min_members = new.min_members;
        self.planning_openness = new.planning_openness;
        self.delivery_openness = new.delivery_openness;
        self.voice = new.voice;
        self.outreach = new.outreach;
        self.outreach_cost_tick = new.outreach_cost_tick;
        self.outreach_support = new.outreach_support;
        self.outreach_staff = new.outreach_staff;
        self.outreach_groups = new.outreach_groups;
        self.outreach_focus = new.outreach_focus;
        self.delegation_tick = new.delegation_tick;
        self.credential_need = new.credential_need;
        self.mix = new.mix;
        self.funding.retune(s, c);
    }

    /// Whether a coalition read back from a saved state is the one `s` founds from `c`: the
    /// same name, place, purpose and awards (Err says how it is not).
    pub fn check_saved(&self, s: &scenario::Scenario, c: &scenario::Coalition) -> Result<(), String> {
        let founded = Coalition::found(s, c);
        if self.name != founded.name || self.area != founded.area || self.cause != founded.cause {
            return Err(format!("its coalition `{}` is not the scenario's `{}`", self.name, founded.name));
        }
        self.funding.check_saved(&founded.funding).map_err(|e| format!("coalition `{}`: {e}", self.name))
    }

    /// Take the cuts `s` schedules for it (a warm start resuming under a scenario whose later
    /// shocks differ), keeping the awards and the cuts under way.
    pub fn reschedule_cuts(&mut self, s: &scenario::Scenario, c: &scenario::Coalition) {
        self.funding.reschedule_cuts(s, c);
    }

    /// Volunteer hours that find work: all of them within capacity, the roles' share beyond.
    fn working_hours(&self) -> f64 {
        let share = if self.members == 0 { 1.0 } else { (self.roles.total / self.members as f64).min(1.0) };
        self.volunteer_hours * share
    }

    /// Set the founding state from the founders: fairness at its target, goal attainment from
    /// the founders' first week, the inflow average at the first inflow so that founding
    /// money sets off no conflict.
    pub fn settle_founding(&mut self, rng: &mut ChaCha8Rng, r: &OrgRates) {
        self.funding.advance(0, 0.0, rng);
        self.fairness = fairness_target(self.voice, self.planning_openness, 0.0, 0.0, self.outreach, r);
        self.roles = roles(self.leadership, self.staff, self.goal_hours, 0.0, self.credential_need, r);
        let output =
            weekly_output(self.working_hours(), self.members, self.staff, self.delivery_openness, self.leadership, r);
        self.goal = (output / self.goal_hours).min(1.0);
        // The founding inflow counts the earned income the founders' output brings, so that
        // a shop's trading from its first week sets off no allocation conflict.
        self.inflow = self.funding.inflow(0, self.members, self.goal);
        self.inflow_average = self.inflow.total();
    }

    /// Outreach actually done last tick: what the budget paid for, and no more than the paid
    /// staff had time for.
    pub fn outreach_effort(&self) -> f64 {
        let paid = self.outreach * self.pay_ratio;
        if self.outreach_staff > 0.0 && paid > 0.0 {
            paid * (self.staff * self.pay_ratio / (paid * self.outreach_staff)).min(1.0)
        } else {
            paid
        }
    }

    /// Per-tick probability that this coalition's outreach reaches an outsider of `group`
    /// living in `area`: the paid effort, concentrated on the targeted groups, with diminishing
    /// returns; a share `outreach_beyond_area` of it outside the programme's own area.
    pub fn outreach_reach(&self, group: usize, area: usize, r: &OrgRates) -> f64 {
        if !self.outreach_groups[group] {
            return 0.0;
        }
        let reach = (r.outreach_reach
            * outreach_response(self.outreach_effort() * self.outreach_focus, r.outreach_saturation))
        .min(1.0);
        if self.area.is_some_and(|home| home != area) { reach * r.outreach_beyond_area } else { reach }
    }

    /// The area it is located in (None: the whole town).
    pub fn area(&self) -> Option<usize> {
        self.area
    }

    /// What membership offers this tick.
    pub fn offer(&self, r: &OrgRates) -> Offer {
        let p = self.professionalisation;
        let (role_share_credentialed, role_share_open) = self.roles.shares(self.members, self.credentialed_members);
        Offer {
            stipend: (self.stipend_tick * self.pay_ratio / r.stipend_reference_tick).min(1.0),
            lived_roles: r.lived_role_weight * (1.0 - p) * self.delivery_openness,
            material_mix: self.mix.material,
            purposive_mix: self.mix.purposive,
            cause: self.cause,
            role_share_credentialed,
            role_share_open,
            solidary_scale: self.mix.solidary * (1.0 - r.solidary_formalisation * p),
            goal: self.goal,
            mission: self.mission,
            fairness_term: r.fairness_weight * (self.fairness - 0.5),
            unequal: r.allocation_by_standing * (1.0 - self.fairness).clamp(0.0, 1.0),
            standing_mean: 0.0,
            time_cost_factor: 1.0 - self.outreach_support * self.outreach_effort(),
            public_share: self.inflow.public_share(),
        }
    }

    /// One tick of funding and organisation, reading last tick's state only.
    pub fn update(&mut self, t: u32, r: &OrgRates, rng: &mut ChaCha8Rng) {
        // 1. Funding: awards start, renew or end; shocks hit; money comes in and is spent.
        self.funding.advance(t, self.goal, rng);
        let inflow = self.funding.inflow(t, self.members, self.goal);
        let total = inflow.total();
        let jump = if total > 0.0 { (total - self.inflow_average).max(0.0) / total } else { 0.0 };
        self.conflict = (self.conflict * r.conflict_decay).max(jump);
        self.inflow_average = r.conflict_decay * self.inflow_average + (1.0 - r.conflict_decay) * total;
        let planned = self.staff * self.staff_cost_tick
            + self.outreach * self.outreach_cost_tick
            + self.stipend_tick * self.members as f64;
        let available = self.budget + total;
        self.pay_ratio = if planned > 0.0 { (available / planned).min(1.0) } else { 1.0 };
        self.spending = self.pay_ratio * planned;
        self.budget = (available - self.spending).max(0.0);
        let public_share = inflow.public_share();
        let out_of_money = self.pay_ratio < 1.0 && total == 0.0;
        self.inflow = inflow;

        // 2. Organisation.
        let staff = self.staff * self.pay_ratio;
        let fair = fairness_target(
            self.voice,
            self.planning_openness,
            self.professionalisation,
            self.conflict,
            self.outreach_effort(),
            r,
        );
        let output =
            weekly_output(self.working_hours(), self.members, staff, self.delivery_openness, self.leadership, r);
        let attainment = (output / self.goal_hours).min(1.0);
        self.professionalisation = professionalisation_step(self.professionalisation, public_share, r);
        self.fairness += r.fairness_lag * (fair - self.fairness);
        self.mission += r.mission_drift * (mission_target(public_share, r) - self.mission);
        self.leadership = leadership_step(self.leadership, self.goal, self.delegation_tick, r);
        self.goal += r.goal_memory * (attainment - self.goal);
        self.roles = roles(self.leadership, staff, self.goal_hours, self.professionalisation, self.credential_need, r);

        // 4. Coalition life: too small or out of money for the grace period, after start-up.
        let troubled = self.members < self.min_members || out_of_money;
        self.troubled_ticks = if troubled { self.troubled_ticks + 1 } else { 0 };
        if t >= r.startup_ticks && self.troubled_ticks >= r.grace_ticks {
            self.active = false;
            self.dissolved_at.get_or_insert(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn rates() -> OrgRates {
        OrgRates::new(&Scenario::baseline())
    }

    #[test]
    fn fairness_falls_as_professionalisation_rises() {
        let r = rates();
        let mut last = f64::INFINITY;
        for p in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let f = fairness_target(0.8, 0.6, p, 0.0, 0.0, &r);
            assert!(f < last, "fairness {f} at P = {p} should be below {last}");
            last = f;
        }
        assert!(fairness_target(0.8, 0.6, 0.0, 0.8, 0.0, &r) < fairness_target(0.8, 0.6, 0.0, 0.0, 0.0, &r));
        assert!(fairness_target(0.8, 0.6, 0.0, 0.0, 1.0, &r) > fairness_target(0.8, 0.6, 0.0, 0.0, 0.0, &r));
    }

    #[test]
    fn professionalisation_follows_public_pressure_and_relaxes_slowly() {
        let r = rates();
        let mut p = 0.0;
        for _ in 0..2600 {
            p = professionalisation_step(p, 1.0, &r);
        }
        assert!((p - r.regime).abs() < 1e-3, "P approaches regime intensity: {p}");
        let up = professionalisation_step(0.0, 1.0, &r);
        let down = r.regime - professionalisation_step(r.regime, 0.0, &r);
        assert!(down < up, "relaxing ({down}) is slower than professionalising ({up})");
    }

    #[test]
    fn mission_drifts_towards_funder_only_with_public_money() {
        let r = rates();
        assert_eq!(mission_target(0.0, &r), 1.0);
        assert!(mission_target(1.0, &r) < 1.0);
    }

    #[test]
    fn delegation_erodes_leadership_and_slows_output() {
        let r = rates();
        let mut l = 1.0;
        for _ in 0..520 {
            l = leadership_step(l, 0.0, 0.5 / 52.0, &r);
        }
        assert!(l < 0.01);
        assert!(weekly_output(100.0, 50, 1.0, 0.6, l, &r) < weekly_output(100.0, 50, 1.0, 0.6, 1.0, &r));
    }

    #[test]
    fn outreach_needs_staff_time_when_it_takes_some() {
        let s = Scenario::baseline();
        let mut c = Coalition::found(&s, &s.coalitions[0]);
        c.outreach = 1.0;
        c.staff = 0.5;
        assert_eq!(c.outreach_effort(), 1.0, "money alone limits it by default");
        c.outreach_staff = 2.0;
        assert!((c.outreach_effort() - 0.25).abs() < 1e-12, "half an FTE does a quarter of outreach needing two");
        c.staff = 5.0;
        assert_eq!(c.outreach_effort(), 1.0);
    }

    #[test]
    fn outreach_has_diminishing_returns_when_saturating() {
        assert_eq!(outreach_response(0.5, 0.0), 0.5);
        let k = 3.0;
        assert!((outreach_response(1.0, k) - 1.0).abs() < 1e-12);
        assert!(outreach_response(0.5, k) > 0.5, "the first half of the effort reaches more than half");
        assert!(outreach_response(2.0, k) < 2.0 * outreach_response(1.0, k));
    }

    #[test]
    fn aimed_outreach_reaches_only_its_groups_and_reaches_them_more() {
        let mut s = Scenario::baseline();
        let r = rates();
        let spread = Coalition::found(&s, &s.coalitions[0]);
        s.coalitions[0].governance.outreach_target = vec!["disadvantaged".into()];
        let aimed = Coalition::found(&s, &s.coalitions[0]);
        assert_eq!(aimed.outreach_reach(0, 0, &r), 0.0);
        let ratio = aimed.outreach_reach(1, 0, &r) / spread.outreach_reach(1, 0, &r);
        let share = s.population.groups[1].share;
        assert!((ratio - 1.0 / share).abs() < 1e-9, "the same effort on {share} of residents: {ratio}");
    }

    #[test]
    fn mentoring_raises_volunteer_output() {
        let r = rates();
        assert!(
            weekly_output(100.0, 50, 2.0, 0.6, 1.0, &r) - 2.0 * r.staff_hours_per_week
                > weekly_output(100.0, 50, 0.0, 0.6, 1.0, &r)
        );
    }
}
