//! Warnings a user must see about a run's results: what the numbers cannot say, found from
//! the replications themselves.
//!
//! Each rule looks for a way a run can answer a different question from the one asked: a
//! coalition that dissolved in some of the replications (its statistics then describe those
//! where it survived), a scheduled shock or change that arrives after the coalitions it
//! targets have gone or before recording starts, a contract that lapses before the horizon, a
//! recorded period that is still changing (programmes still growing from their founding, or
//! not yet settled after a burn-in), and too few replications for the reported ranges. The
//! rules and their thresholds are listed in docs/ODD.md §7.6 ("Diagnostics").

use super::{Catalogue, ReplicationRecord, SummaryRow};
use crate::scenario::Scenario;

/// Replications below which a 5–95% range is only the sample's extremes: the 5th percentile
/// of fewer than 20 draws is the smallest of them.
pub const MIN_REPLICATIONS: u32 = 20;

/// Share of replications above which a coalition's fate is "most".
const MOST: f64 = 0.5;

/// Share of replications from which a coalition's dissolution is worth a warning: one
/// replication in twenty is no longer a rare accident, and a town total then mixes worlds
/// with and without the programme.
pub const DISSOLVES_SOME: f64 = 0.05;

/// A change in members between the first and the last year of the recorded period before any
/// policy bites larger than this share of the later level (and significantly so) means the
/// programmes were still growing or shrinking from where they started.
pub const GROWTH_LIMIT: f64 = 0.10;

/// A recorded period whose membership changes by more than this share of its level a year
/// (and significantly so) is not a steady state.
pub const TREND_LIMIT: f64 = 0.02;

/// One warning about a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    /// Stable identifier of the rule: `coalition_dissolves`, `shock_after_dissolution`,
    /// `change_after_dissolution`, `shock_before_recording`, `change_before_recording`,
    /// `contract_lapses`, `not_stationary`, `few_replications`.
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

    // Coalitions that dissolve in some of the replications, and when.
    for fate in programme_fates(cat, records) {
        if fate.dissolved as f64 >= DISSOLVES_SOME * n as f64 {
            let year = fate.median_dissolution_year.unwrap_or(f64::NAN);
            let before = if year * tpy <= cat.first_tick as f64 { ", before recording started" } else { "" };
            out.push(warn(
                "coalition_dissolves",
                format!(
                    "coalition \"{}\" dissolved {} ({:.0}%; median year {year:.1} from founding{before}); its own statistics describe only the replications in which it survived, and the town's totals mix those with and without it",
                    fate.name,
                    of(fate.dissolved, n),
                    100.0 * fate.dissolved as f64 / n as f64
                ),
            ));
        }
    }

    // Scheduled shocks and changes that arrive before recording starts: their effect is in the
    // state the records start from, and no recorded year shows it happen.
    let first_year = cat.first_tick as f64 / tpy;
    let ignored_before = |what: &str, i: usize, year: f64| {
        warn(
            &format!("{what}_before_recording"),
            format!(
                "the {what} of year {year} (policy.{what}s[{i}]) falls before recording starts (year {first_year}, after simulation.burn_in_years): the records start from a state it has already changed and no recorded year shows it happen; years count from founding, so set its year to {first_year} or later to see it"
            ),
        )
    };
    for (i, shock) in s.policy.shocks.iter().enumerate() {
        if (shock.year * tpy).round() < cat.first_tick as f64 {
            out.push(ignored_before("shock", i, shock.year));
        }
    }
    for (i, change) in s.policy.changes.iter().enumerate() {
        // A change at year 0 is a setting from founding, which a scenario may write this way.
        if change.year > 0.0 && (change.year * tpy).round() < cat.first_tick as f64 {
            out.push(ignored_before("change", i, change.year));
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

    // A recorded period that is still changing: programmes still growing (or shrinking) from
    // where they started before any policy bites, or a trend at the end of the records.
    let advice = if s.simulation.burn_in_years > 0 {
        "lengthen simulation.burn_in_years"
    } else {
        "set simulation.burn_in_years (the baseline's is 40) so that recording starts from mature programmes, and schedule shocks and changes after it"
    };
    if let Some(growth) = growth_before_policy(s, cat, records) {
        let (verb, state) = if growth.change > 0.0 { ("grew", "growing") } else { ("fell", "shrinking") };
        out.push(warn(
            "not_stationary",
            format!(
                "membership {verb} by {:.0}% from the first recorded year to year {:.0} (95% CI {:+.0}% to {:+.0}%), before any scheduled shock or change: the recorded period is not yet a steady state, the programmes are still {state} from where they started, and the recorded figures show that as much as any policy; {advice}",
                100.0 * growth.change.abs(),
                growth.until_year,
                100.0 * growth.low,
                100.0 * growth.high,
            ),
        ));
    } else if let Some(trend) = summary.iter().find(|r| r.key.metric == "members_trend" && r.key.coalition.is_none()) {
        let (lo, hi) = trend.stats.ci95(super::stats::Domain::Real);
        let significant = lo > 0.0 || hi < 0.0;
        if significant && trend.stats.mean.abs() > TREND_LIMIT {
            out.push(warn(
                "not_stationary",
                format!(
                    "membership still {} by {:.1}% of its level a year over the last recorded years (95% CI {:.1}% to {:.1}%): the recorded period is not yet a steady state; {advice}",
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

/// What became of one coalition across a run's replications.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProgrammeFate {
    /// The coalition's name.
    pub name: String,
    /// Replications in which it dissolved before the horizon.
    pub dissolved: usize,
    /// Replications in all.
    pub replications: usize,
    /// Median year from founding of its dissolution, over the replications in which it did.
    pub median_dissolution_year: Option<f64>,
}

/// Each coalition's fate across `records`, in the scenario's order.
pub fn programme_fates(cat: &Catalogue, records: &[ReplicationRecord]) -> Vec<ProgrammeFate> {
    let tpy = cat.ticks_per_year as f64;
    cat.coalitions
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let when: Vec<u32> = records.iter().filter_map(|r| r.fates.get(c)?.dissolved_at).collect();
            ProgrammeFate {
                name: name.clone(),
                dissolved: when.len(),
                replications: records.len(),
                median_dissolution_year: (!when.is_empty()).then(|| median_year(when, tpy)),
            }
        })
        .collect()
}

/// The relative change of total members over the recorded years before any policy bites,
/// with its 95% interval.
struct Growth {
    change: f64,
    low: f64,
    high: f64,
    until_year: f64,
}

/// The recorded period's change in members before the first scheduled shock or change (or
/// the horizon), when it exceeds [`GROWTH_LIMIT`] of the later level and its interval excludes
/// 0: per replication, mean total members over the last year of that window less that over
/// the first; the mean of those differences over the mean later level, and the normal
/// interval of the mean difference scaled alike. `None` for a window shorter than two years.
fn growth_before_policy(s: &Scenario, cat: &Catalogue, records: &[ReplicationRecord]) -> Option<Growth> {
    let tpy = cat.ticks_per_year as usize;
    let column = cat.total_members_column();
    let width = cat.series.len();
    let first_policy = s
        .policy
        .shocks
        .iter()
        .map(|x| x.year)
        .chain(s.policy.changes.iter().filter(|c| c.year > 0.0).map(|c| c.year))
        .map(|y| (y * tpy as f64).round() as i64 - cat.first_tick as i64)
        .filter(|&row| row > 0)
        .min()
        .unwrap_or(i64::MAX);
    // Rows 1..=window are the recorded ticks before the first policy bites (row 0 is the
    // state before recording, row k the state after recorded tick k).
    let window = (first_policy - 1).min(cat.ticks as i64).max(0) as usize;
    if window < 2 * tpy {
        return None;
    }
    let year_mean = |r: &ReplicationRecord, from: usize| {
        (from..from + tpy).map(|t| r.series[t * width + column] as f64).sum::<f64>() / tpy as f64
    };
    let (mut later, mut differences) = (Vec::new(), Vec::new());
    for r in records.iter().filter(|r| r.series.len() >= (window + 1) * width) {
        let (a, b) = (year_mean(r, 1), year_mean(r, window + 1 - tpy));
        if a.is_finite() && b.is_finite() {
            later.push(b);
            differences.push(b - a);
        }
    }
    let n = differences.len();
    let level = later.iter().sum::<f64>() / n.max(1) as f64;
    if n < 2 || level <= 0.0 {
        return None;
    }
    let mean = differences.iter().sum::<f64>() / n as f64;
    let sd = (differences.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let (lo, hi) = super::stats::mean_interval(mean, sd, n, super::stats::Domain::Real);
    let change = mean / level;
    (change.abs() > GROWTH_LIMIT && (lo > 0.0 || hi < 0.0)).then(|| Growth {
        change,
        low: lo / level,
        high: hi / level,
        until_year: (cat.first_tick as usize + window) as f64 / tpy as f64,
    })
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
            d[0].message.contains("\"food_bank\" dissolved in 13 of 25 replications (52%; median year 2.0"),
            "{}",
            d[0].message
        );
        // 12 of 25: the food bank is still named (as any programme gone in one replication in
        // twenty is), but the shock and the contract rules need most.
        let twelve: Vec<_> = troubled[1..13].iter().cloned().chain((0..13).map(|_| record(alive()))).collect();
        let d = diagnose(&s, &cat, &twelve, &[]);
        assert_eq!(kinds(&d), ["coalition_dissolves"], "{d:?}");
        assert!(d[0].message.contains("\"food_bank\" dissolved in 12 of 25 replications (48%"), "{}", d[0].message);
        // 1 of 25 is below one in twenty; 2 of 40 is one in twenty.
        let once = |total: usize, gone: usize| -> Vec<_> {
            (0..total)
                .map(|r| {
                    let mut f = alive();
                    if r < gone {
                        f[2].dissolved_at = Some(400);
                    }
                    record(f)
                })
                .collect()
        };
        assert!(diagnose(&s, &cat, &once(25, 1), &[]).is_empty());
        let d = diagnose(&s, &cat, &once(100, 15), &[]);
        assert!(d[0].message.contains("dissolved in 15 of 100 replications (15%; median year 7.7"), "{d:?}");
        let d = diagnose(&s, &cat, &once(40, 2), &[]);
        assert_eq!(kinds(&d), ["coalition_dissolves"], "{d:?}");
        assert!(d[0].message.contains(&format!("\"{}\" dissolved in 2 of 40 replications (5%", cat.coalitions[2])));
        // Ten replications: too few.
        assert_eq!(kinds(&diagnose(&s, &cat, &quiet[..10], &[])), ["few_replications"]);
    }

    #[test]
    fn shocks_and_changes_before_recording_are_named() {
        let mut s = Scenario::baseline();
        s.simulation.burn_in_years = 10;
        s.policy.shocks.push(crate::scenario::Shock { year: 3.0, coalition: "food_bank".into(), ..Default::default() });
        s.policy.shocks.push(crate::scenario::Shock {
            year: 12.0,
            coalition: "food_bank".into(),
            ..Default::default()
        });
        for year in [0.0, 4.0, 10.0] {
            s.policy.changes.push(crate::scenario::Change {
                year,
                key: "policy.performance_regime".into(),
                value: crate::scenario::Setting::Number(0.9),
                ..Default::default()
            });
        }
        let cat = Catalogue::new(&s);
        let records: Vec<_> = (0..25).map(|_| record(vec![fate(None, None); s.coalitions.len()])).collect();
        let d = diagnose(&s, &cat, &records, &[]);
        assert_eq!(kinds(&d), ["shock_before_recording", "change_before_recording"], "{d:?}");
        assert!(d[0].message.contains("the shock of year 3 (policy.shocks[0]) falls before recording starts (year 10"));
        assert!(d[1].message.contains("(policy.changes[1])"), "{}", d[1].message);
    }

    /// Records of a run of `s` whose total members follow `members(replication, row)`.
    fn growing(s: &Scenario, cat: &Catalogue, members: impl Fn(usize, usize) -> f32) -> Vec<ReplicationRecord> {
        let width = cat.series.len();
        let column = cat.total_members_column();
        (0..25)
            .map(|r| {
                let mut series = vec![f32::NAN; (cat.ticks as usize + 1) * width];
                for t in 0..=cat.ticks as usize {
                    series[t * width + column] = members(r, t);
                }
                ReplicationRecord { series, ..record(vec![fate(None, None); s.coalitions.len()]) }
            })
            .collect()
    }

    #[test]
    fn programmes_still_growing_before_any_policy_are_not_stationary() {
        let mut s = Scenario::baseline();
        (s.simulation.burn_in_years, s.simulation.years) = (0, 10);
        let cat = Catalogue::new(&s);
        let noise = |r: usize| (r % 5) as f32 - 2.0;
        // From 10 members towards 22 over ten years, as a new programme grows from founding.
        let young = growing(&s, &cat, |r, t| 22.0 - 12.0 * (-(t as f32) / 150.0).exp() + noise(r));
        let d = diagnose(&s, &cat, &young, &[]);
        assert_eq!(kinds(&d), ["not_stationary"], "{d:?}");
        assert!(d[0].message.contains("membership grew by") && d[0].message.contains("set simulation.burn_in_years"));
        // Steady: silence.
        assert!(diagnose(&s, &cat, &growing(&s, &cat, |r, _| 20.0 + noise(r)), &[]).is_empty());
        // A cut in year 1.5 leaves less than two years before it: nothing to judge growth by.
        s.policy.shocks.push(crate::scenario::Shock { year: 1.5, ..Default::default() });
        assert!(diagnose(&s, &cat, &young, &[]).is_empty());
        // A cut in year 3: the growth before it is judged, up to year 3.
        s.policy.shocks[0].year = 3.0;
        let d = diagnose(&s, &cat, &young, &[]);
        assert_eq!(kinds(&d), ["not_stationary"], "{d:?}");
        assert!(d[0].message.contains("to year 3 "), "{}", d[0].message);
    }
}
