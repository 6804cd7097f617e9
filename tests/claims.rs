//! The source texts' claims as directions with Monte Carlo confidence.
//!
//! Each test runs the shipped scenario pair (or a sweep's base with one lever changed) with
//! the same seed, so replication r of both arms shares its random stream until the lever
//! bites (common random numbers), and asserts that the 95% interval of the mean paired
//! difference excludes zero in the claimed direction. Nothing here knows the scenarios'
//! outcomes: if a claim stopped emerging from the mechanisms, its test would fail.

use coprosim::input::Load;
use coprosim::scenario::Scenario;
use coprosim::scenario::sweep::with_value;
use std::path::Path;

const REPLICATIONS: u32 = 30;
const SEED: u64 = 777;

fn scenario(path: &str) -> Scenario {
    Scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

mod common;
use common::paired;

/// One headline figure per replication, at this file's seed and replications.
fn per_replication(s: &Scenario, metric: &str, coalition: &str, group: &str) -> Vec<f64> {
    common::per_replication(s, metric, coalition, group, SEED, REPLICATIONS)
}

fn assert_lower(what: &str, control: &[f64], treated: &[f64]) {
    let (m, lo, hi) = paired(control, treated);
    eprintln!("{what}: difference {m:.4} (95% CI {lo:.4} to {hi:.4})");
    assert!(hi < 0.0, "{what}: expected a decrease; difference {m:.4}, 95% CI {lo:.4} to {hi:.4}");
}

fn assert_higher(what: &str, control: &[f64], treated: &[f64]) {
    let (m, lo, hi) = paired(control, treated);
    eprintln!("{what}: difference {m:.4} (95% CI {lo:.4} to {hi:.4})");
    assert!(lo > 0.0, "{what}: expected an increase; difference {m:.4}, 95% CI {lo:.4} to {hi:.4}");
}

#[test]
fn claim_1_austerity_lowers_membership_and_retention() {
    let base = scenario("scenarios/experiments/austerity_base.toml");
    let cut = scenario("scenarios/experiments/austerity_cut.toml");
    assert_lower(
        "final members",
        &per_replication(&base, "final_members", "all", "all"),
        &per_replication(&cut, "final_members", "all", "all"),
    );
    assert_lower(
        "annual retention",
        &per_replication(&base, "annual_retention", "all", "all"),
        &per_replication(&cut, "annual_retention", "all", "all"),
    );
}

#[test]
fn claim_2_performance_regimes_displace_lived_experience() {
    let light = scenario("scenarios/experiments/professionalisation_light.toml");
    let heavy = scenario("scenarios/experiments/professionalisation_heavy.toml");
    assert_lower(
        "lived-experience share of members",
        &per_replication(&light, "lived_experience_share", "all", "all"),
        &per_replication(&heavy, "lived_experience_share", "all", "all"),
    );
}

#[test]
fn claim_3_fair_governance_retains_at_low_and_high_funding() {
    let base = scenario("scenarios/experiments/fairness_clubhouse.toml");
    for funding in [0.0, 80000.0] {
        let funded = with_value(&base, "coalitions[0].funding.contract.amount", funding).unwrap();
        let unfair = with_value(&funded, "coalitions[0].governance.voice", 0.4).unwrap();
        let fair = with_value(&funded, "coalitions[0].governance.voice", 1.0).unwrap();
        assert_higher(
            &format!("annual retention, voice 1.0 vs 0.4, contract {funding}"),
            &per_replication(&unfair, "annual_retention", "all", "all"),
            &per_replication(&fair, "annual_retention", "all", "all"),
        );
    }
}

#[test]
fn claim_4_recruitment_through_friends_skews_and_outreach_corrects() {
    let none = scenario("scenarios/experiments/outreach_none.toml");
    let full = scenario("scenarios/experiments/outreach_full.toml");
    let skewed = per_replication(&none, "representation_ratio", "all", "disadvantaged");
    // Without outreach, the disadvantaged are under-represented (ratio below 1).
    let ones = vec![1.0; skewed.len()];
    assert_lower("representation without outreach, against 1", &ones, &skewed);
    assert_higher(
        "representation of the disadvantaged, full outreach vs none",
        &skewed,
        &per_replication(&full, "representation_ratio", "all", "disadvantaged"),
    );
}

#[test]
fn claim_5_slow_starts_and_delegation_tip_into_collapse() {
    let base = scenario("scenarios/experiments/spiral_project.toml");
    let founders = |n: f64| with_value(&base, "coalitions[0].founders", n).unwrap();
    assert_lower(
        "survival, 10 founders vs 40",
        &per_replication(&founders(40.0), "coalitions_surviving", "all", "all"),
        &per_replication(&founders(10.0), "coalitions_surviving", "all", "all"),
    );
    let start = founders(20.0);
    let delegating = with_value(&start, "coalitions[0].governance.delegation_rate", 1.0).unwrap();
    assert_lower(
        "survival, delegation 1.0 vs 0 at 20 founders",
        &per_replication(&start, "coalitions_surviving", "all", "all"),
        &per_replication(&delegating, "coalitions_surviving", "all", "all"),
    );
}

#[test]
fn claim_6_mission_drift_drives_out_purposive_members() {
    let aligned = scenario("scenarios/experiments/purposive_aligned.toml");
    let drift = scenario("scenarios/experiments/purposive_drift.toml");
    assert_lower(
        "annual retention of purposive members",
        &per_replication(&aligned, "annual_retention", "all", "purposive"),
        &per_replication(&drift, "annual_retention", "all", "purposive"),
    );
}

#[test]
fn claim_6_goal_failure_drives_out_purposive_members() {
    // The goal-failure arm: the same programme, its target raised beyond reach in year 5.
    let aligned = scenario("scenarios/experiments/purposive_aligned.toml");
    let raised = scenario("scenarios/experiments/purposive_goal_raised.toml");
    assert_lower(
        "annual retention of purposive members",
        &per_replication(&aligned, "annual_retention", "all", "purposive"),
        &per_replication(&raised, "annual_retention", "all", "purposive"),
    );
}

// Knock-outs: disable the mechanism said to produce each claim, and the effect disappears.
// "Disappears" means the paired difference's 95% interval includes zero, or the difference
// is less than a quarter of the effect with the mechanism on (same seed, same replications).

fn assert_vanishes(what: &str, effect: f64, control: &[f64], treated: &[f64]) {
    let (m, lo, hi) = paired(control, treated);
    eprintln!("knock-out, {what}: difference {m:.4} (95% CI {lo:.4} to {hi:.4}), against {effect:.4} with it");
    assert!(
        (lo <= 0.0 && 0.0 <= hi) || m.abs() < effect.abs() / 4.0,
        "knock-out, {what}: the effect should vanish; {m:.4} ({lo:.4} to {hi:.4}) against {effect:.4}"
    );
}

fn effect(control: &[f64], treated: &[f64]) -> f64 {
    paired(control, treated).0
}

/// Set one parameter in both arms.
fn both(a: &Scenario, b: &Scenario, key: &str, v: f64) -> (Scenario, Scenario) {
    (with_value(a, key, v).unwrap(), with_value(b, key, v).unwrap())
}

#[test]
fn knock_out_1_austerity_needs_a_programme_that_depends_on_the_money() {
    // Reserves that cover every cost: the cut removes nothing the clubhouse spends.
    let base = scenario("scenarios/experiments/austerity_base.toml");
    let cut = scenario("scenarios/experiments/austerity_cut.toml");
    let m = effect(
        &per_replication(&base, "final_members", "all", "all"),
        &per_replication(&cut, "final_members", "all", "all"),
    );
    let (rich_base, rich_cut) = both(&base, &cut, "coalitions[0].initial_budget", 1e9);
    assert_vanishes(
        "austerity with reserves that cover every cost, final members",
        m,
        &per_replication(&rich_base, "final_members", "all", "all"),
        &per_replication(&rich_cut, "final_members", "all", "all"),
    );
}

#[test]
fn knock_out_2_displacement_needs_credentialed_roles() {
    let light = scenario("scenarios/experiments/professionalisation_light.toml");
    let heavy = scenario("scenarios/experiments/professionalisation_heavy.toml");
    let metric = "lived_experience_share";
    let m = effect(&per_replication(&light, metric, "all", "all"), &per_replication(&heavy, metric, "all", "all"));
    let (mut open_light, mut open_heavy) = (light.clone(), heavy.clone());
    open_light.organisation.credentialed_roles = false;
    open_heavy.organisation.credentialed_roles = false;
    assert_vanishes(
        "regime without credentialed roles, lived-experience share",
        m,
        &per_replication(&open_light, metric, "all", "all"),
        &per_replication(&open_heavy, metric, "all", "all"),
    );
}

#[test]
fn knock_out_3_fair_governance_retains_through_perceived_fairness() {
    // Members who give fairness no weight: voice rules change nothing they value.
    let base = scenario("scenarios/experiments/fairness_clubhouse.toml");
    let unfair = with_value(&base, "coalitions[0].governance.voice", 0.4).unwrap();
    let fair = with_value(&base, "coalitions[0].governance.voice", 1.0).unwrap();
    let m = effect(
        &per_replication(&unfair, "annual_retention", "all", "all"),
        &per_replication(&fair, "annual_retention", "all", "all"),
    );
    let (unfair0, fair0) = both(&unfair, &fair, "behaviour.fairness_weight", 0.0);
    assert_vanishes(
        "voice with no weight on fairness, annual retention",
        m,
        &per_replication(&unfair0, "annual_retention", "all", "all"),
        &per_replication(&fair0, "annual_retention", "all", "all"),
    );
}

#[test]
fn knock_out_4_outreach_corrects_by_reaching_outsiders() {
    // Outreach that reaches nobody: only its fairness gain and time-cost support remain.
    let none = scenario("scenarios/experiments/outreach_none.toml");
    let full = scenario("scenarios/experiments/outreach_full.toml");
    let metric = "representation_ratio";
    let m = effect(
        &per_replication(&none, metric, "all", "disadvantaged"),
        &per_replication(&full, metric, "all", "disadvantaged"),
    );
    let (none0, full0) = both(&none, &full, "organisation.outreach_reach", 0.0);
    assert_vanishes(
        "outreach that reaches nobody, representation of the disadvantaged",
        m,
        &per_replication(&none0, metric, "all", "disadvantaged"),
        &per_replication(&full0, metric, "all", "disadvantaged"),
    );
}

#[test]
fn knock_out_5_slow_starts_tip_through_the_goal() {
    // A goal any founding team meets (and the same 40 roles): the output-goal-payoff
    // feedback is gone, and a small start no longer tips the project into collapse.
    let base = scenario("scenarios/experiments/spiral_project.toml");
    let founders = |s: &Scenario, n: f64| with_value(s, "coalitions[0].founders", n).unwrap();
    let m = effect(
        &per_replication(&founders(&base, 40.0), "coalitions_surviving", "all", "all"),
        &per_replication(&founders(&base, 10.0), "coalitions_surviving", "all", "all"),
    );
    let easy =
        with_value(&with_value(&base, "coalitions[0].goal_hours", 20.0).unwrap(), "organisation.role_hours", 0.5)
            .unwrap();
    assert_vanishes(
        "a goal any founding team meets, survival 10 founders vs 40",
        m,
        &per_replication(&founders(&easy, 40.0), "coalitions_surviving", "all", "all"),
        &per_replication(&founders(&easy, 10.0), "coalitions_surviving", "all", "all"),
    );
}

#[test]
fn knock_out_6_mission_drift_drives_out_purposive_members_through_drift() {
    // Members who do not mind drift: the funder's priorities no longer cost purposive payoff.
    let aligned = scenario("scenarios/experiments/purposive_aligned.toml");
    let drift = scenario("scenarios/experiments/purposive_drift.toml");
    let m = effect(
        &per_replication(&aligned, "annual_retention", "all", "purposive"),
        &per_replication(&drift, "annual_retention", "all", "purposive"),
    );
    let (aligned0, drift0) = both(&aligned, &drift, "behaviour.drift_sensitivity", 0.0);
    assert_vanishes(
        "drift that costs nothing, annual retention of purposive members",
        m,
        &per_replication(&aligned0, "annual_retention", "all", "purposive"),
        &per_replication(&drift0, "annual_retention", "all", "purposive"),
    );
}

#[test]
fn knock_out_4_skew_comes_mostly_from_recruitment_through_friends() {
    // A fully mixed network (every tie rewired, none by group): friends no longer recruit
    // their own kind. What gap remains comes from resources (time cost, trust, credentials).
    let none = scenario("scenarios/experiments/outreach_none.toml");
    let gap = |s: &Scenario| {
        let r = per_replication(s, "representation_ratio", "all", "disadvantaged");
        1.0 - r.iter().sum::<f64>() / r.len() as f64
    };
    let mixed = with_value(
        &with_value(&none, "population.network.rewiring", 1.0).unwrap(),
        "population.network.homophily",
        0.0,
    )
    .unwrap();
    let (homophilous, random) = (gap(&none), gap(&mixed));
    eprintln!(
        "knock-out, under-representation of the disadvantaged: {homophilous:.3} through friends, {random:.3} on a mixed network"
    );
    assert!(random < homophilous / 2.0, "the skew should mostly go: {random:.3} against {homophilous:.3}");
}
