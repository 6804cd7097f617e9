//! Results as the page draws them: chart panels of median lines with their 5–95% bands
//! over replications (as the command line's charts), and the headline table with the same
//! numbers, formatted by the same rule, as `summary.csv`.

use coprosim_core::looks::Look;
use coprosim_core::observe::stats::Summary;
use coprosim_core::observe::{Metric, Results, SeriesKey, summary_domain};
use coprosim_core::scenario::Scenario;
use coprosim_core::text::num;
use serde_json::{Value, json};

/// Most points drawn per line: a ten-year weekly run is drawn every other week.
const MAX_POINTS: usize = 300;

/// Line width the page draws with, in SVG units (dash patterns scale with it).
const STROKE: f64 = 1.8;

/// The rows of `summary.csv`: metric, coalition, group, mean, 95% interval of the mean,
/// 5–95% range, n and what it measures; numbers as text, exactly as the file has them.
pub fn headline(r: &Results) -> Vec<Value> {
    let cat = &r.catalogue;
    r.summary
        .iter()
        .map(|row| {
            let s = &row.stats;
            let (lo, hi) = s.ci95(summary_domain(row.key.metric, cat.coalitions.len()));
            json!({
                "metric": row.key.metric,
                "coalition": cat.coalition_label(row.key.coalition),
                "group": cat.group_label(row.key.group),
                "mean": num(s.mean),
                "ci95_low": num(lo),
                "ci95_high": num(hi),
                "p05": num(s.p05),
                "p95": num(s.p95),
                "n": s.n,
                "description": row.key.doc,
            })
        })
        .collect()
}

/// One line: x in years from founding, the median and the 5–95% band, drawn in the look the
/// command line's charts give the same coalition or group.
fn line(label: &str, look: Look, points: &[(f64, Summary)]) -> Value {
    let stride = points.len().div_ceil(MAX_POINTS).max(1);
    let kept: Vec<&(f64, Summary)> = points.iter().step_by(stride).collect();
    json!({
        "label": label,
        "colour": look.hex(),
        "dash": look.dasharray(STROKE),
        "x": kept.iter().map(|(x, _)| *x).collect::<Vec<_>>(),
        "mid": kept.iter().map(|(_, s)| s.p50).collect::<Vec<_>>(),
        "lo": kept.iter().map(|(_, s)| s.p05).collect::<Vec<_>>(),
        "hi": kept.iter().map(|(_, s)| s.p95).collect::<Vec<_>>(),
    })
}

fn series_line(r: &Results, key: SeriesKey, label: &str, look: Look) -> Value {
    let tpy = r.catalogue.ticks_per_year as f64;
    let points: Vec<(f64, Summary)> =
        r.series.iter().filter(|row| row.key == key).map(|row| (row.tick as f64 / tpy, row.stats)).collect();
    line(label, look, &points)
}

/// The look of a coalition (None: all of them).
fn coalition_look(c: Option<usize>) -> Look {
    c.map_or(Look::TOTAL, Look::coalition)
}

/// The look of a group (None: all of them).
fn group_look(g: Option<usize>) -> Look {
    g.map_or(Look::TOTAL, Look::group)
}

/// The chart panels: members, retention, composition and governance; those against years
/// from founding carry a labelled mark at each of the scenario's shocks and policy changes.
pub fn charts(r: &Results, scenario: &Scenario) -> Vec<Value> {
    let marks: Vec<Value> =
        scenario.policy_marks().into_iter().map(|m| json!({ "x": m.year, "label": m.label })).collect();
    let panel = |title: &str, y: &str, share: bool, lines: Vec<Value>, refs: Vec<Value>| json!({ "title": title, "x": "years from founding", "y": y, "share": share, "lines": lines, "refs": refs, "marks": marks });
    let cat = &r.catalogue;
    let coalitions: Vec<(Option<usize>, &str)> = std::iter::once((None, "all"))
        .chain(cat.coalitions.iter().enumerate().map(|(i, n)| (Some(i), n.as_str())))
        .collect();
    let groups: Vec<(Option<usize>, &str)> = std::iter::once((None, "all"))
        .chain(cat.groups.iter().enumerate().map(|(i, n)| (Some(i), n.as_str())))
        .collect();
    let per_coalition = |metric: Metric| -> Vec<Value> {
        coalitions
            .iter()
            .filter(|(c, _)| c.is_some())
            .map(|&(coalition, name)| {
                series_line(r, SeriesKey { coalition, group: None, metric }, name, coalition_look(coalition))
            })
            .collect()
    };
    let members = coalitions
        .iter()
        .map(|&(coalition, name)| {
            series_line(
                r,
                SeriesKey { coalition, group: None, metric: Metric::Members },
                name,
                coalition_look(coalition),
            )
        })
        .collect();
    let retention = groups
        .iter()
        .map(|&(group, name)| {
            series_line(
                r,
                SeriesKey { coalition: None, group, metric: Metric::AnnualRetention },
                name,
                group_look(group),
            )
        })
        .collect();
    let km = groups
        .iter()
        .map(|&(group, name)| {
            let points: Vec<(f64, Summary)> = r
                .retention
                .iter()
                .filter(|row| row.curve == "km" && row.group == group)
                .map(|row| {
                    let years = row.tick as f64 * cat.weeks_per_tick / 52.0;
                    let band = Summary { p05: row.ci_low, p50: row.estimate, p95: row.ci_high, ..row.band };
                    (years, band)
                })
                .collect();
            line(name, group_look(group), &points)
        })
        .collect();
    let shares = cat
        .groups
        .iter()
        .enumerate()
        .map(|(g, name)| {
            series_line(
                r,
                SeriesKey { coalition: None, group: Some(g), metric: Metric::MemberShare },
                name,
                Look::group(g),
            )
        })
        .collect();
    let population = cat
        .groups
        .iter()
        .zip(&cat.population_shares)
        .enumerate()
        .map(|(g, (name, share))| {
            let look = Look::reference(Look::group(g));
            json!({ "label": format!("{name}: population share"), "y": share, "colour": look.hex(), "dash": look.dasharray(STROKE) })
        })
        .collect();
    vec![
        panel("Members", "members", false, members, vec![]),
        panel("Annual retention", "share of members a year ago still members", true, retention, vec![]),
        {
            let mut p = panel("Staying since joining (Kaplan–Meier, pooled)", "share still members", true, km, vec![]);
            p["x"] = json!("years since joining");
            p["marks"] = json!([]);
            p
        },
        panel("Composition: each group's share of members", "share of members", true, shares, population),
        panel("Fairness", "perceived fairness", true, per_coalition(Metric::Fairness), vec![]),
        panel("Professionalisation", "professionalisation", true, per_coalition(Metric::Professionalisation), vec![]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use coprosim_core::engine::{self, RunConfig};
    use coprosim_core::scenario::Scenario;

    #[test]
    fn the_headline_has_summary_csv_numbers_and_charts_have_their_lines() {
        let mut s = Scenario::baseline();
        s.simulation.burn_in_years = 0;
        s.simulation.years = 2;
        s.population.size = 300;
        let r = engine::run(&s, RunConfig { replications: 3, seed: 1, threads: 1 }, &|| {}).unwrap();
        let h = headline(&r);
        assert_eq!(h.len(), r.summary.len());
        assert_eq!(h[0]["mean"], num(r.summary[0].stats.mean));
        let charts = charts(&r, &s);
        assert_eq!(charts[0]["lines"].as_array().unwrap().len(), 1 + s.coalitions.len());
        let first = &charts[0]["lines"][0];
        let n = first["x"].as_array().unwrap().len();
        assert!(n > 50 && n <= MAX_POINTS, "{n} points");
        assert_eq!(first["mid"].as_array().unwrap().len(), n);
        // Totals black, each coalition in its own look, as on the command line's charts.
        assert_eq!(first["colour"], "#000000");
        assert_eq!(charts[0]["lines"][2]["colour"], Look::coalition(1).hex());
        assert_eq!(charts[3]["refs"][0]["dash"], Look::reference(Look::group(0)).dasharray(STROKE));
        assert!(charts[0]["marks"].as_array().unwrap().is_empty(), "the baseline schedules nothing");
    }

    #[test]
    fn a_scheduled_cut_is_marked_on_every_panel_against_years_from_founding() {
        let mut s = Scenario::baseline();
        s.simulation.burn_in_years = 0;
        s.simulation.years = 2;
        s.population.size = 300;
        let name = s.coalitions[0].name.clone();
        s.policy.shocks.push(coprosim_core::scenario::Shock {
            year: 1.0,
            cut: 0.5,
            coalition: name.clone(),
            ..Default::default()
        });
        let r = engine::run(&s, RunConfig { replications: 2, seed: 1, threads: 1 }, &|| {}).unwrap();
        for panel in charts(&r, &s) {
            let marks = panel["marks"].as_array().unwrap();
            if panel["x"] == "years from founding" {
                assert_eq!(marks.len(), 1, "{}", panel["title"]);
                assert_eq!(marks[0]["x"], 1.0);
                assert_eq!(marks[0]["label"], format!("contract cut 50% ({name})"));
            } else {
                assert!(marks.is_empty(), "time since joining is not time from founding");
            }
        }
    }
}
