//! The second version's mechanisms, each shown by a direction test and a knock-out test:
//! switch off the mechanism said to cause an effect and the effect disappears.
//!
//! Every comparison runs both arms at the same seed. The mechanisms draw from a side stream
//! of their own, so replication r of both arms shares its random numbers until the mechanism
//! bites (common random numbers), and the tests read the mean paired difference with its 95%
//! interval (normal approximation, as in `tests/claims.rs`).

use chacha20::ChaCha8Rng;
use coprosim::engine::run_replication;
use coprosim::model::Model;
use coprosim::observe::Catalogue;
use coprosim::scenario::Scenario;
use rand::SeedableRng;
use rayon::prelude::*;

/// Replications per arm: the knock-out's residual is a few points, so it needs this many
/// to tell it from zero (at 24 it was -0.05 with an interval excluding 0; at 100, -0.009).
const REPLICATIONS: u32 = 100;
const SEED: u64 = 2027;

/// A publicly contracted programme in a town of two groups with the same incentive weights:
/// graduates, most of whom hold credentials, and residents, half of whom have lived experience
/// of the problem. The first version's lived-experience role payoff is switched off, so no
/// payoff term favours or disfavours lived experience.
const ROLES: &str = r#"
name = "roles"
[simulation]
years = 8
[population]
size = 1200
[[population.groups]]
name = "graduates"
share = 0.5
incentives = { material = 1, solidary = 1, purposive = 3 }
lived_experience = 0.05
credentials = 0.8
time_cost = 0.05
[[population.groups]]
name = "residents"
share = 0.5
incentives = { material = 1, solidary = 1, purposive = 3 }
lived_experience = 0.5
credentials = 0.05
time_cost = 0.05
[behaviour]
aspiration_mean = 0.1
lived_experience_role_payoff = 0
[organisation]
role_capacity = true
credentialed_roles = true
[policy]
performance_regime = 0.9
[[coalitions]]
name = "clubhouse"
founders = 30
staff = 2
staff_cost = 30000
initial_budget = 50000
goal_hours = 150
mode = { planning = "shared", delivery = "community" }
governance = { voice = 0.8, outreach = 0.5 }
[coalitions.funding.contract]
amount = 120000
renewal_base = 0.9
"#;

fn parse(text: &str) -> Scenario {
    Scenario::parse(text, "test").unwrap()
}

mod common;
use common::paired;

/// One headline figure per replication, for all coalitions and groups.
fn per_replication(s: &Scenario, metric: &str) -> Vec<f64> {
    common::per_replication(s, metric, "all", "all", SEED, REPLICATIONS)
}

fn with(text: &str, from: &str, to: &str) -> Scenario {
    assert!(text.contains(from), "{from}");
    parse(&text.replace(from, to))
}

#[test]
fn admissions_never_fill_more_roles_than_a_coalition_has() {
    // Open roles under a light regime: the programme fills up.
    let s = with(
        &ROLES.replace("credentialed_roles = true", "credentialed_roles = false"),
        "performance_regime = 0.9",
        "performance_regime = 0.1",
    );
    for seed in 0..4 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut m = Model::new(&s, &mut rng);
        let mut full = 0;
        for _ in 0..s.ticks() {
            let before: Vec<(u32, f64)> = m.coalitions.iter().map(|c| (c.members, c.roles.total)).collect();
            m.step(&mut rng);
            for (c, &(members, roles)) in m.coalitions.iter().zip(&before) {
                let joins: u32 = m.tally.joins.iter().sum();
                // Members beyond the roles can stay (roles shrink with staff and leaders),
                // but nobody is admitted into a role that is not there.
                if joins > 0 {
                    assert!(c.members as f64 <= roles.max(members as f64), "{} members, {roles} roles", c.members);
                }
                full += u32::from(c.members as f64 >= roles);
            }
        }
        assert!(full > 0, "the test should reach capacity");
    }
}

#[test]
fn credentialed_roles_displace_lived_experience_and_the_knock_out_removes_it() {
    let light = |text: &str| with(text, "performance_regime = 0.9", "performance_regime = 0.1");
    let heavy = parse(ROLES);
    let (m, lo, hi) = paired(
        &per_replication(&light(ROLES), "lived_experience_share"),
        &per_replication(&heavy, "lived_experience_share"),
    );
    eprintln!("role competition: lived-experience share heavy − light {m:.4} (95% CI {lo:.4} to {hi:.4})");
    assert!(hi < 0.0, "a heavy regime should lower the lived-experience share: {m:.4} ({lo:.4} to {hi:.4})");

    // Knock-out: roles never require credentials. The regime still professionalises the
    // programme (fairness, formalisation), but roles no longer change hands.
    let open = ROLES.replace("credentialed_roles = true", "credentialed_roles = false");
    let (k, klo, khi) = paired(
        &per_replication(&light(&open), "lived_experience_share"),
        &per_replication(&parse(&open), "lived_experience_share"),
    );
    eprintln!("knock-out: lived-experience share heavy − light {k:.4} (95% CI {klo:.4} to {khi:.4})");
    assert!(
        klo <= 0.0 && 0.0 <= khi,
        "without credentialed roles the effect should vanish: {k:.4} ({klo:.4} to {khi:.4})"
    );
    assert!(k.abs() < m.abs() / 4.0, "knock-out {k:.4} against the effect {m:.4}");
}

#[test]
fn outreach_aimed_at_the_disadvantaged_raises_their_representation() {
    // Porto Alegre's council worked to bring favela residents in (Bovaird 2007). The baseline's
    // clubhouse and food bank spend the same on outreach, aimed or spread over everyone.
    let base = Scenario::baseline();
    let mut spread = base.clone();
    spread.simulation.burn_in_years = 10;
    spread.simulation.years = 6;
    let mut aimed = spread.clone();
    for c in &mut aimed.coalitions {
        c.governance.outreach_target = vec!["disadvantaged".into()];
    }
    let (m, lo, hi) = paired(&disadvantaged_representation(&spread), &disadvantaged_representation(&aimed));
    eprintln!("aimed − spread outreach: representation ratio of the disadvantaged {m:.4} (95% CI {lo:.4} to {hi:.4})");
    assert!(lo > 0.0, "aimed outreach should raise it: {m:.4} ({lo:.4} to {hi:.4})");
}

/// Pooled exit hazard per tick over tenures `from..to` (in ticks): events over spell-ticks at risk.
fn hazard(h: &coprosim::observe::survival::SpellHistogram, from: usize, to: usize) -> Hazard {
    let mut at_risk = h.spells() - (0..from).map(|d| h.events[d] + h.censored[d]).sum::<u64>();
    let (mut events, mut exposure) = (0u64, 0u64);
    for d in from..to.min(h.events.len()) {
        exposure += at_risk;
        events += h.events[d];
        at_risk -= h.events[d] + h.censored[d];
    }
    Hazard { events, exposure }
}

/// Exits over weeks at risk, pooled over spells and replications.
#[derive(Debug, Clone, Copy)]
struct Hazard {
    events: u64,
    exposure: u64,
}

impl Hazard {
    fn rate(self) -> f64 {
        self.events as f64 / self.exposure as f64
    }

    /// The ratio of two hazards with its 95% interval (log scale, Poisson counts:
    /// se = sqrt(1/d1 + 1/d2)).
    fn ratio(self, other: Hazard) -> (f64, f64, f64) {
        let r = self.rate() / other.rate();
        let se = (1.0 / self.events as f64 + 1.0 / other.events as f64).sqrt();
        (r, r * (-1.96 * se).exp(), r * (1.96 * se).exp())
    }
}

/// Weekly exit hazard in a spell's first quarter and in its second year, pooled.
fn early_and_late_hazard(s: &Scenario) -> (Hazard, Hazard) {
    let cat = Catalogue::new(s);
    let records: Vec<_> = (0..REPLICATIONS).into_par_iter().map(|r| run_replication(s, &cat, SEED, r)).collect();
    let mut pooled = coprosim::observe::survival::SpellHistogram::new(cat.ticks as usize);
    for r in &records {
        pooled.merge(&r.spells[0]);
    }
    (hazard(&pooled, 1, 14), hazard(&pooled, 53, 105))
}

/// The baseline with the first version's newcomer multiplier switched off.
fn baseline_without_newcomer_multiplier() -> Scenario {
    let mut s = Scenario::baseline();
    s.simulation.burn_in_years = 10;
    s.simulation.years = 6;
    assert_eq!(s.behaviour.newcomer_exit_multiplier, 1.0, "the baseline has no newcomer decree");
    s
}

/// Agents alike in incentive weights and aspiration.
fn homogeneous(mut s: Scenario) -> Scenario {
    s.behaviour.aspiration_sd = 0.0;
    for g in &mut s.population.groups {
        g.incentives = coprosim::scenario::Incentives { material: 1e4, solidary: 2e4, purposive: 2e4 };
    }
    s
}

#[test]
fn newcomers_leave_fastest_without_a_newcomer_multiplier_and_sorting_explains_most_of_it() {
    // Newcomers whose motives fit the programme poorly find out and leave first; those who
    // stay are the ones it suits. Knock-out: agents alike in motives and aspiration.
    let (early, late) = early_and_late_hazard(&baseline_without_newcomer_multiplier());
    let (early_alike, late_alike) = early_and_late_hazard(&homogeneous(baseline_without_newcomer_multiplier()));
    let ((ratio, lo, hi), (ratio_alike, lo_alike, hi_alike)) = (early.ratio(late), early_alike.ratio(late_alike));
    eprintln!(
        "weekly exit hazard, weeks 1-13 over weeks 53-104: {ratio:.3} (95% CI {lo:.3}-{hi:.3}; {} and {} exits); agents alike: {ratio_alike:.3} ({lo_alike:.3}-{hi_alike:.3})",
        early.events, late.events
    );
    assert!(lo > 1.0, "newcomers should leave fastest: {ratio:.3} ({lo:.3}-{hi:.3})");
    assert!(
        ratio_alike - 1.0 < (ratio - 1.0) / 2.0,
        "sorting should explain most of it: {ratio_alike:.3} vs {ratio:.3}"
    );
}

#[test]
fn newcomers_who_expected_too_much_leave_early_and_the_knock_out_removes_it() {
    // Joiners are selected for hopeful expectations; those disappointed leave in their first
    // months. Knock-out: no expectation error. Agents alike, so sorting does not mask it, and
    // members who expect something of the programme (aspiration 0.25, the first version's
    // calibrated value, at the top of the estimated baseline's 90% interval, -0.38 to
    // 0.26): at the estimated aspiration (-0.05) disappointment seldom takes anyone
    // below it, and at 0.15 expectation errors raise the early hazard by 6% (1.01-1.12) but the
    // second-year hazard nearly as much (4%), so the effect is not specific to newcomers there.
    // docs/CALIBRATION.md reports this.
    let mut alike = homogeneous(baseline_without_newcomer_multiplier());
    alike.behaviour.expectation_noise = 0.0;
    alike.behaviour.aspiration_mean = 0.25;
    let mut hopeful = alike.clone();
    hopeful.behaviour.expectation_noise = 0.2;
    let (early, late) = early_and_late_hazard(&hopeful);
    let (early0, late0) = early_and_late_hazard(&alike);
    let (r, lo, hi) = early.ratio(early0);
    let (r_late, lo_late, hi_late) = late.ratio(late0);
    eprintln!(
        "early hazard with expectation noise 0.2 over without: {r:.3} (95% CI {lo:.3}-{hi:.3}); late: {r_late:.3} ({lo_late:.3}-{hi_late:.3})"
    );
    assert!(lo > 1.0, "expectation errors should raise the early hazard: {r:.3} ({lo:.3}-{hi:.3})");
    assert!(r_late - 1.0 < (r - 1.0) / 2.0, "but hardly the late one: {r_late:.3} vs {r:.3}");
}

/// Representation ratio (member share over population share) of the disadvantaged group, per
/// replication.
fn disadvantaged_representation(s: &Scenario) -> Vec<f64> {
    common::per_replication(s, "representation_ratio", "all", "disadvantaged", SEED, REPLICATIONS)
}

/// Mean and 95% interval of a sample.
fn interval(x: &[f64]) -> (f64, f64, f64) {
    paired(&vec![0.0; x.len()], x)
}

#[test]
fn with_equal_incentive_weights_resources_alone_make_the_participation_gradient() {
    // The baseline's groups hold the same incentive weights; the disadvantaged have a higher
    // time cost, fewer credentials, less trust in government and fewer ties to founders.
    let s = Scenario::baseline();
    let groups = &s.population.groups;
    assert_eq!(groups[0].incentives, groups[1].incentives, "the test needs equal weights");
    let short = |mut s: Scenario| {
        s.simulation.burn_in_years = 20;
        s.simulation.years = 5;
        s
    };
    let (m, lo, hi) = interval(&disadvantaged_representation(&short(s.clone())));
    eprintln!("equal weights: representation ratio of the disadvantaged {m:.3} (95% CI {lo:.3} to {hi:.3})");
    assert!(hi < 0.9, "the disadvantaged should be under-represented: {m:.3} ({lo:.3} to {hi:.3})");

    // Knock-out: the disadvantaged get the advantaged group's resources.
    let mut equal = s.clone();
    let (rich, poor) = equal.population.groups.split_at_mut(1);
    let (rich, poor) = (&rich[0], &mut poor[0]);
    poor.time_cost = rich.time_cost;
    poor.credentials = rich.credentials;
    poor.trust_in_government = rich.trust_in_government;
    poor.founder_weight = rich.founder_weight;
    let (k, klo, khi) = interval(&disadvantaged_representation(&short(equal)));
    eprintln!("equal resources too: representation ratio of the disadvantaged {k:.3} (95% CI {klo:.3} to {khi:.3})");
    assert!(
        klo < 1.0 && 1.0 < khi || (k - 1.0).abs() < (1.0 - m) / 4.0,
        "the gap should close: {k:.3} ({klo:.3} to {khi:.3})"
    );
}
