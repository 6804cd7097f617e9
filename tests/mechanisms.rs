//! The second version's mechanisms, in the third version, each shown by a direction test and a knock-out test:
//! switch off the mechanism said to cause an effect and the effect disappears.
//!
//! Every comparison runs both arms at the same seed. The mechanisms draw from a side stream
//! of their own, so replication r of both arms shares its random numbers until the mechanism
//! bites (common random numbers), and the tests read the mean paired difference with its 95%
//! interval (normal approximation, as in `tests/claims.rs`).

use chacha20::ChaCha8Rng;
use coprosim::model::Model;
use coprosim::scenario::Scenario;
use rand::SeedableRng;

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
    // Fewer roles than founders (50 output hours a week, 20 roles): full from the start,
    // so every later admission is into a role another member left.
    let s = with(
        &ROLES
            .replace("credentialed_roles = true", "credentialed_roles = false")
            .replace("goal_hours = 150", "goal_hours = 50"),
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
    // What remains is not a quarter of the effect in its direction (a residual of the other
    // sign is not a remnant of displacement).
    assert!(k * m.signum() < m.abs() / 4.0, "knock-out {k:.4} against the effect {m:.4}");
}

#[test]
fn outreach_aimed_at_the_disadvantaged_raises_their_representation() {
    // Porto Alegre's council worked to bring favela residents in (Bovaird 2007). The baseline's
    // programmes spend the same on outreach, aimed or spread over everyone.
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

/// Representation ratio (member share over population share) of the disadvantaged group, per
/// replication.
fn disadvantaged_representation(s: &Scenario) -> Vec<f64> {
    common::per_replication(s, "representation_ratio", "all", "disadvantaged", SEED, REPLICATIONS)
}
