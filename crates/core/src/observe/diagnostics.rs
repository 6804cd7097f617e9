//! Warnings a user must see about a run's results: what the numbers cannot say, found from
//! the replications themselves.
//!
//! Each rule looks for a way a run can answer a different question from the one asked: a
//! coalition that has dissolved in most replications (its statistics then describe the few
//! where it survived), a scheduled shock or change that arrives after the coalitions it
//! targets have gone, a contract that lapses before the horizon, a recorded period that is
//! still changing when a burn-in asked for a steady state, and too few replications for the
//! reported ranges. The rules and their thresholds are listed in docs/ODD.md §7.6 ("Diagnostics").

use super::{Catalogue, ReplicationRecord, SummaryRow};
use crate::scenario::Scenario;

/// Replications below which a 5–95% range is only the sample's extremes: the 5th percentile
/// of fewer than 20 draws is the smallest of them.
pub const MIN_REPLICATIONS: u32 = 20;

/// Share of replications above which a coalition's fate is "most".
const MOST: f64 = 0.5;

/// A recorded period whose membership changes by more than this share of its level a year
/// (and significantly so) is not a steady state.
pub const TREND_LIMIT: f64 = 0.02;

/// One warning about a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    /// Stable identifier of the rule: `coalition_dissolves`, `shock_after_dissolution`,
    /// `change_after_dissolution`, `contract_lapses`, `not_stationary`, `few_replications`.
    pub kind: String,
    /// What was found and what to do, in one sentence or two.
    pub message: String,
}

fn warn(kind: &str, message: String) -> Diagnostic {
    Diagnostic { kind: kind.into(), message }
}

/// The median of some ticks, in years from founding.
fn median_year(mut ticks: Vec<u32>, ticks_per_year: f64) -> f64 {
    ticks.sort_unstable();
    let n = ticks.len();
    let mid = if n % 2 == 1 { ticks[n / 2] as f64 } else { (ticks[n / 2 - 1] as f64 + ticks[n / 2] as f64) / 2.0 };
    mid / ticks_per_year
}

/// "in 87 of 100 replications".
fn of(count: usize, total: usize) -> String {
    format!("in {count} of {total} replications")
}

/// Every warning for a run of `s` whose replications left `records` and whose headline
/// figures are `summary`.
pub fn diagnose(
    s: &Scenario,
    cat: &Catalogue,
    records: &[ReplicationRecord],
    summary: &[SummaryRow],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let n = records.len();
    if n == 0 {
        return out;
    }
    let tpy = cat.ticks_per_year as f64;
    let end = cat.first_tick + cat.ticks;
    let dissolved_by =
        |c: usize, tick: u32| records.iter().filter(|r| r.fates[c].dissolved_at.is_some_and(|d| d < tick)).count();

    // Coalitions that dissolve in most replications, and when.
    for (c, name) in cat.coalitions.iter().enumerate() {
        let when: Vec<u32> = records.iter().filter_map(|r| r.fates[c].dissolved_at).collect();
        if when.len() as f64 > MOST * n as f64 {
            let year = median_year(when.clone(), tpy);
            let before = if year * tpy <= cat.first_tick as f64 { " (before recording started)" } else { "" };
            out.push(warn(
                "coalition_dissolves",
                format!(
                    "coalition \"{name}\" dissolved {} (median year {year:.1} from founding{before}); its statistics describe only the replications in which it survived",
                    of(when.len(), n)
                ),
            ));
        }
    }

    // Scheduled shocks and changes that arrive after every coalition they target has gone.
    let after_all_gone = |targets: &[usize], tick: u32| {
        // A coalition dissolving at the shock's own tick still received it (cuts and changes
        // apply before the coalition's update), so only earlier dissolutions count.
        records.iter().filter(|r| targets.iter().all(|&c| r.fates[c].dissolved_at.is_some_and(|d| d < tick))).count()
    };
    let everyone: Vec<usize> = (0..cat.coalitions.len()).collect();
    for (i, shock) in s.policy.shocks.iter().enumerate() {
        let targets: Vec<usize> = everyone
            .iter()
            .copied()
            .filter(|&c| shock.coalition.is_empty() || cat.coalitions[c] == shock.coalition)
            .filter(|&c| shock.area.is_empty() || s.coalitions[c].area == shock.area)
            .collect();
        let tick = (shock.year * tpy).round() as u32;
        let gone = after_all_gone(&targets, tick);
        if !targets.is_empty() && gone as f64 > MOST * n as f64 {
            out.push(warn(
                "shock_after_dissolution",
                format!(
                    "the shock of year {} (policy.shocks[{i}]) falls after {} had dissolved {}: it changes nothing there",
                    shock.year,
                    describe(&targets, cat),
                    of(gone, n)
                ),
            ));
        }
    }
    for (i, change) in s.policy.changes.iter().enumerate() {
        let Some(c) = changed_coalition(s, &change.key) else { continue };
        let tick = (change.year * tpy).round() as u32;
        let gone = dissolved_by(c, tick);
        if gone as f64 > MOST * n as f64 {
            out.push(warn(
                "change_after_dissolution",
                format!(
                    "the change of `{}` in year {} (policy.changes[{i}]) falls after \"{}\" had dissolved {}: it changes nothing there",
                    change.key,
                    change.year,
                    cat.coalitions[c],
                    of(gone, n)
                ),
            ));
        }
    }

    // Contracts that lapse before the horizon.
    for (c, name) in cat.coalitions.iter().enumerate() {
        if !records[0].fates[c].has_contract {
            continue;
        }
        let when: Vec<u32> =
            records.iter().filter_map(|r| r.fates[c].contract_lapsed_at).filter(|&t| t < end).collect();
        if when.len() as f64 > MOST * n as f64 {
            out.push(warn(
                "contract_lapses",
                format!(
                    "the government contract of \"{name}\" lapsed (was not renewed) before the horizon {} (median year {:.1}); renewal follows goal attainment (funding.contract.renewal_base, renewal_performance)",
                    of(when.len(), n),
                    median_year(when.clone(), tpy)
                ),
            ));
        }
    }

    // A recorded period that is still changing, when a burn-in asked for a steady state.
    if s.simulation.burn_in_years > 0
        && let Some(trend) = summary.iter().find(|r| r.key.metric == "members_trend" && r.key.coalition.is_none())
    {
        let (lo, hi) = trend.stats.ci95(super::stats::Domain::Real);
        let significant = lo > 0.0 || hi < 0.0;
        if significant && trend.stats.mean.abs() > TREND_LIMIT {
            out.push(warn(
                "not_stationary",
                format!(
                    "membership still {} by {:.1}% of its level a year over the last recorded years (95% CI {:.1}% to {:.1}%): the recorded period is not yet a steady state; lengthen simulation.burn_in_years",
                    if trend.stats.mean > 0.0 { "grows" } else { "shrinks" },
                    100.0 * trend.stats.mean.abs(),
                    100.0 * lo,
                    100.0 * hi
                ),
            ));
        }
    }

    // Too few replications for the ranges reported.
    if (n as u32) < MIN_REPLICATIONS {
        out.push(warn(
            "few_replications",
            format!(
                "only {n} replications: the 5–95% ranges are close to the smallest and largest values seen and the 95% intervals are rough; use at least {MIN_REPLICATIONS} (100 for published results)"
            ),
        ));
    }
    out
}

/// "\"youth\"" or "every coalition (\"a\", \"b\")".
fn describe(targets: &[usize], cat: &Catalogue) -> String {
    let names: Vec<String> = targets.iter().map(|&c| format!("\"{}\"", cat.coalitions[c])).collect();
    if targets.len() == 1 { names[0].clone() } else { format!("every coalition ({})", names.join(", ")) }
}

/// The coalition a policy change's key names, if it names one.
fn changed_coalition(s: &Scenario, key: &str) -> Option<usize> {
    let canonical = crate::scenario::keys::canonical_key(s, key).ok()?;
    let index = canonical.strip_prefix("coalitions[")?.split(']').next()?;
    index.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Fate;

    fn record(fates: Vec<Fate>) -> ReplicationRecord {
        ReplicationRecord { series: vec![], spells: vec![], summary: vec![], lorenz: vec![], fates }
    }

    fn fate(dissolved_at: Option<u32>, contract_lapsed_at: Option<u32>) -> Fate {
        Fate { dissolved_at, contract_lapsed_at, has_contract: true }
    }

    fn kinds(d: &[Diagnostic]) -> Vec<&str> {
        d.iter().map(|d| d.kind.as_str()).collect()
    }

    #[test]
    fn each_rule_speaks_only_past_its_threshold() {
        let mut s = Scenario::baseline();
        s.simulation.burn_in_years = 0;
        s.policy.shocks.push(crate::scenario::Shock { year: 5.0, coalition: "food_bank".into(), ..Default::default() });
        let cat = Catalogue::new(&s);
        let alive = || vec![fate(None, None); s.coalitions.len()];
        // 25 replications, none dissolved: silence.
        let quiet: Vec<_> = (0..25).map(|_| record(alive())).collect();
        assert!(diagnose(&s, &cat, &quiet, &[]).is_empty());
        // The food bank (index 1) dissolves in year 2 in 13 of 25; the clubhouse's contract
        // lapses in 13 of 25.
        let troubled: Vec<_> = (0..25)
            .map(|r| {
                let mut f = alive();
                if r < 13 {
                    f[1].dissolved_at = Some(104);
                    f[0].contract_lapsed_at = Some(300);
                }
                record(f)
            })
            .collect();
        let d = diagnose(&s, &cat, &troubled, &[]);
        assert_eq!(kinds(&d), ["coalition_dissolves", "shock_after_dissolution", "contract_lapses"], "{d:?}");
        assert!(
            d[0].message.contains("\"food_bank\" dissolved in 13 of 25 replications (median year 2.0"),
            "{}",
            d[0].message
        );
        // 12 of 25 is not most.
        let twelve: Vec<_> = troubled[1..13].iter().cloned().chain((0..13).map(|_| record(alive()))).collect();
        assert!(diagnose(&s, &cat, &twelve, &[]).is_empty());
        // Ten replications: too few.
        assert_eq!(kinds(&diagnose(&s, &cat, &quiet[..10], &[])), ["few_replications"]);
    }
}
