//! From a programme's roster to the statistics a calibration fits (issue 30): what the
//! roster says about survival, retention, size, composition and hours, each with its
//! standard error from a bootstrap over people, written as a targets file.
//!
//! Time: the roster's first day is the first recorded tick of the scenario (the end of its
//! burn-in), and a year is 52 weeks, as in the model. Each statistic is the one the model
//! computes under the same name (docs/ODD.md §7.6), from the roster's people instead of
//! agents:
//!
//! - `survival_weeks = W`: Kaplan–Meier probability that a spell begun in the window lasts
//!   beyond W weeks, spells still running at the window's end censored there (the model's
//!   spells begun in the recorded period, censored at the horizon); fitted at the durations
//!   asked for, and held out (a check of the fit, not fitted) every `curve_every` weeks;
//! - `annual_retention`: of the members a year before each week of the window after its
//!   first year, the share still members that week, pooled over the weeks;
//! - `series = "members"` at each whole year of the window;
//! - `series = "joins"` with `per = "year"`: spells begun in each whole year of the window
//!   (after its first day, up to and including its last: a join on the day the records begin
//!   happened before them, as the model's join in the tick into its first recorded one);
//! - `series = "member_share"` of each group but the last (which the others determine) at the
//!   window's last whole year;
//! - `series = "members"` of each area but the last at that year, when every member then has
//!   an area (the model counts all its members, so a roster that misses some would undercount);
//! - `top10_hours_share`: the share of the hours given in the window by the 10% who gave most.
//!
//! Survival, retention and hours are the model's town-wide statistics: they stand for the
//! programme only in a scenario with one coalition, and are left out (with a note) otherwise.
//!
//! Standard errors: the nonparametric bootstrap over people (Efron and Tibshirani 1993):
//! people are drawn with replacement, each with all their spells, and every statistic is
//! recomputed; its standard error is the standard deviation over the resamples. People, not
//! spells, are the unit, because one person's spells are not independent.

use super::roster::Roster;
use crate::observe::inequality::top_share;
use crate::observe::survival::{SpellHistogram, kaplan_meier};
use crate::scenario::Scenario;
use crate::stream::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// Days in the model's year (52 weeks).
const YEAR_DAYS: f64 = 364.0;

/// What to derive, and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The scenario's coalition the roster is of (needed when it has several).
    pub coalition: Option<String>,
    /// Durations (weeks) at which to read the survival curve.
    pub survival_weeks: Vec<u32>,
    /// The survival curve is also read every this many weeks (0: not), held out: compared
    /// with the fit, not fitted.
    pub curve_every: u32,
    /// Bootstrap resamples.
    pub resamples: u32,
    /// Seed of the bootstrap's stream.
    pub seed: u64,
    /// The window's first day (default: the roster's first start).
    pub from: Option<f64>,
    /// The window's last day (default: the roster's last date).
    pub until: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            coalition: None,
            survival_weeks: vec![26, 52, 104],
            curve_every: 13,
            resamples: 1000,
            seed: 1,
            from: None,
            until: None,
        }
    }
}

/// One statistic: where the model reads it, the roster's value and its standard error.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistic {
    /// The `[[observed]]` keys that say which statistic it is (`metric = "annual_retention"`,
    /// `series = "members"` with `coalition` and `year`, `survival_weeks = 52`), as TOML.
    pub keys: String,
    /// The roster's value.
    pub value: f64,
    /// Its bootstrap standard error.
    pub se: f64,
    /// How much of the roster it rests on ("312 spells", "48 members a year before").
    pub basis: String,
    /// Held out: a check of the fit (the survival curve between the fitted durations), not
    /// fitted.
    pub held_out: bool,
}

/// What a roster gives.
#[derive(Debug, Clone)]
pub struct Derived {
    /// The statistics, in a fixed order.
    pub statistics: Vec<Statistic>,
    /// The window (days), and how the roster gives time.
    pub window: (f64, f64),
    /// Statistics left out, and why.
    pub notes: Vec<String>,
}

/// A person: their spells (start, end; end infinite while running, hours a week), group and
/// area.
struct Person {
    spells: Vec<(f64, f64, Option<f64>)>,
    group: Option<usize>,
    area: Option<usize>,
}

impl Person {
    fn member_at(&self, t: f64) -> bool {
        self.spells.iter().any(|s| s.0 <= t && t < s.1)
    }
}

/// What every resample computes, fixed from the whole roster so that a resample's vector
/// lines up with the original's.
struct Plan {
    from: f64,
    until: f64,
    survival_weeks: Vec<u32>,
    retention: bool,
    members_years: usize,
    joins_years: usize,
    share_groups: Vec<usize>,
    area_counts: Vec<usize>,
    share_year: usize,
    hours: bool,
}

/// What one person adds to each statistic. Each statistic of a sample of people is a sum over
/// them (or a ratio of sums), so a bootstrap resample costs one pass over its people, not one
/// over its people at every week of the window.
struct Part {
    /// Spells begun in the window: whole weeks, and whether they ended in it.
    spells: Vec<(u32, bool)>,
    /// Weeks after the window's first year in which the person was a member a year before,
    /// and of those, the weeks they still were.
    base: u64,
    kept: u64,
    /// A member at each whole year of the window?
    members: Vec<bool>,
    /// Spells begun in each whole year.
    joins: Vec<u32>,
    /// Group and area, if a member at the window's last whole year.
    group_then: Option<usize>,
    area_then: Option<usize>,
    /// Hours given in the window, when every spell in it has its hours logged and some given.
    hours: Option<f64>,
}

impl Part {
    fn of(p: &Person, plan: &Plan) -> Part {
        let spells = p
            .spells
            .iter()
            .filter(|s| s.0 >= plan.from && s.0 <= plan.until)
            .map(|&(start, end, _)| {
                // Whole weeks, as the model's ticks: the nearest week, and a spell that ended
                // lasted at least one (the model's shortest).
                let exited = end <= plan.until;
                let weeks = libm::round((end.min(plan.until) - start) / 7.0);
                ((if exited { weeks.max(1.0) } else { weeks }) as u32, exited)
            })
            .collect();
        let (mut base, mut kept) = (0u64, 0u64);
        if plan.retention {
            let mut t = plan.from + YEAR_DAYS;
            while t <= plan.until {
                if p.member_at(t - YEAR_DAYS) {
                    base += 1;
                    kept += u64::from(p.member_at(t));
                }
                t += 7.0;
            }
        }
        let members = (0..plan.members_years).map(|k| p.member_at(plan.from + k as f64 * YEAR_DAYS)).collect();
        let joins = (1..=plan.joins_years)
            .map(|k| {
                let (after, upto) = (plan.from + (k - 1) as f64 * YEAR_DAYS, plan.from + k as f64 * YEAR_DAYS);
                p.spells.iter().filter(|s| s.0 > after && s.0 <= upto).count() as u32
            })
            .collect();
        let then = p.member_at(plan.from + plan.share_year as f64 * YEAR_DAYS);
        // Hours of people whose every spell in the window has its hours logged: an unlogged
        // spell is not a spell of no hours.
        let hours = p
            .spells
            .iter()
            .filter(|s| s.0 < plan.until && s.1 > plan.from)
            .map(|&(start, end, h)| h.map(|h| h * (end.min(plan.until) - start.max(plan.from)).max(0.0) / 7.0))
            .sum::<Option<f64>>()
            .filter(|h| *h > 0.0);
        Part {
            spells,
            base,
            kept,
            members,
            joins,
            group_then: p.group.filter(|_| then),
            area_then: p.area.filter(|_| then),
            hours,
        }
    }
}

/// The statistics of a sample of people, in the plan's order (NaN where undefined).
fn compute(people: &[&Part], plan: &Plan) -> Vec<f64> {
    let mut out = Vec::new();
    if !plan.survival_weeks.is_empty() {
        let longest = *plan.survival_weeks.iter().max().unwrap_or(&0) as usize;
        let mut h = SpellHistogram::new(longest + 1);
        for &(weeks, exited) in people.iter().flat_map(|p| &p.spells) {
            h.add(weeks, exited);
        }
        let km = kaplan_meier(&h);
        // Undefined where no spell is still at risk: the curve would only carry its last
        // value forward.
        for &w in &plan.survival_weeks {
            out.push(km.get(w as usize).filter(|p| p.at_risk > 0).map_or(f64::NAN, |p| p.survival));
        }
    }
    if plan.retention {
        let (base, kept) = people.iter().fold((0u64, 0u64), |(b, k), p| (b + p.base, k + p.kept));
        out.push(if base > 0 { kept as f64 / base as f64 } else { f64::NAN });
    }
    for k in 0..plan.members_years {
        out.push(people.iter().filter(|p| p.members[k]).count() as f64);
    }
    for k in 0..plan.joins_years {
        out.push(people.iter().map(|p| u64::from(p.joins[k])).sum::<u64>() as f64);
    }
    if !plan.share_groups.is_empty() {
        // Of the members whose group is known: one without would otherwise count against
        // every group.
        let known = people.iter().filter(|p| p.group_then.is_some()).count();
        for &g in &plan.share_groups {
            let n = people.iter().filter(|p| p.group_then == Some(g)).count();
            out.push(if known == 0 { f64::NAN } else { n as f64 / known as f64 });
        }
    }
    for &a in &plan.area_counts {
        out.push(people.iter().filter(|p| p.area_then == Some(a)).count() as f64);
    }
    if plan.hours {
        let hours: Vec<f64> = people.iter().filter_map(|p| p.hours).collect();
        out.push(if hours.is_empty() { f64::NAN } else { top_share(&hours, 0.1) });
    }
    out
}

/// Derive the statistics of a roster for a scenario. Fails, with the reason, when the roster
/// cannot describe the scenario (a window longer than its recorded period, no coalition named
/// where there are several).
pub fn derive(roster: &Roster, scenario: &Scenario, options: &Options) -> Result<Derived, String> {
    let (first, last) = roster.span();
    let from = options.from.unwrap_or(first);
    let mut until = options.until.unwrap_or(last);
    if until <= from {
        return Err(format!(
            "the roster's window is empty ({} to {}): it needs spells over at least a week",
            roster.show(from),
            roster.show(until)
        ));
    }
    let recorded = scenario.simulation.years as f64;
    // Calendar years are a day or two longer than the model's 52 weeks: a window up to two
    // weeks longer than the record is read to the record's end.
    if (until - from) / YEAR_DAYS > recorded && until - from <= recorded * YEAR_DAYS + 14.0 {
        until = from + recorded * YEAR_DAYS;
    }
    let years_spanned = (until - from) / YEAR_DAYS;
    if years_spanned > recorded + 1e-9 {
        return Err(format!(
            "the roster covers {years_spanned:.1} years ({} to {}) but the scenario records {recorded}: set simulation.years to at least {}, or --from to the day from which the roster is complete (members who joined before it keep their start dates)",
            roster.show(from),
            roster.show(until),
            libm::ceil(years_spanned - 1e-9)
        ));
    }
    let coalition = match (&options.coalition, scenario.coalitions.len()) {
        (Some(name), _) => {
            scenario.coalitions.iter().find(|c| &c.name == name).map(|c| c.name.clone()).ok_or_else(|| {
                let names: Vec<&str> = scenario.coalitions.iter().map(|c| c.name.as_str()).collect();
                format!("the scenario has no coalition \"{name}\"; it has {}", names.join(", "))
            })?
        }
        (None, 1) => scenario.coalitions[0].name.clone(),
        (None, _) => {
            let names: Vec<&str> = scenario.coalitions.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "the scenario has {} coalitions ({}): name the one the roster is of with --coalition",
                names.len(),
                names.join(", ")
            ));
        }
    };
    let alone = scenario.coalitions.len() == 1;
    let mut notes = Vec::new();
    if !alone {
        notes.push(format!(
            "survival, annual retention, group shares and hours are the model's town-wide statistics, so they stand for \"{coalition}\" only in a scenario with it alone; this one has {} coalitions, so only its members over time and joins a year are targets",
            scenario.coalitions.len()
        ));
    }

    // People, in order of first appearance; only those with a spell in the window, so that
    // the bootstrap's pool is the window's people and not whoever else the file lists.
    let mut people: Vec<Person> = Vec::new();
    let mut index: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for s in roster.spells.iter().filter(|s| s.start <= until && s.end.is_none_or(|e| e > from)) {
        let i = *index.entry(&s.person).or_insert_with(|| {
            people.push(Person { spells: Vec::new(), group: None, area: None });
            people.len() - 1
        });
        people[i].spells.push((s.start, s.end.unwrap_or(f64::INFINITY), s.hours_per_week));
        people[i].group = people[i].group.or(s.group);
        people[i].area = people[i].area.or(s.area);
    }
    if people.is_empty() {
        return Err(format!(
            "no one on the roster is a member between {} and {}",
            roster.show(from),
            roster.show(until)
        ));
    }

    let whole_years = libm::floor(years_spanned + 1e-9) as usize;
    let mut asked = options.survival_weeks.clone();
    asked.sort_unstable();
    asked.dedup();
    asked.retain(|w| *w > 0);
    let within = |w: &u32| f64::from(*w) * 7.0 <= until - from;
    let fitted_weeks: Vec<u32> = if alone { asked.iter().copied().filter(within).collect() } else { Vec::new() };
    // The rest of the curve, held out: the fit's check draws the roster's survival curve, not
    // only the points it was fitted to.
    let mut survival_weeks = fitted_weeks.clone();
    if alone && options.curve_every > 0 {
        // Short of the window's end, where no spell begun in it can still be at risk.
        let short = |w: &u32| f64::from(*w) * 7.0 < until - from;
        survival_weeks.extend((1..).map(|k| k * options.curve_every).take_while(short));
        survival_weeks.sort_unstable();
        survival_weeks.dedup();
    }
    // Every group's share but the last, which the others determine: a target that only
    // restates the others would count the same evidence twice.
    let groups = scenario.population.groups.len();
    let share_groups = if alone && roster.has_group { (0..groups.saturating_sub(1)).collect() } else { vec![] };
    // Members by area, every area's but the last (which the members then determine); only
    // when every member then has an area, since the model's counts miss no one.
    let share_day = from + whole_years as f64 * YEAR_DAYS;
    let areas = scenario.population.areas.len();
    let unplaced = people.iter().filter(|p| p.area.is_none() && p.member_at(share_day)).count();
    let area_counts = if alone && roster.has_area && areas > 1 && unplaced == 0 {
        (0..areas - 1).collect()
    } else {
        if alone && roster.has_area && areas > 1 {
            notes.push(format!(
                "members by area: {unplaced} of the members on {} have no area, and the model's counts miss no one",
                roster.show(share_day)
            ));
        }
        vec![]
    };
    let plan = Plan {
        from,
        until,
        survival_weeks,
        retention: alone && years_spanned >= 1.0,
        members_years: whole_years + 1,
        joins_years: whole_years,
        share_groups,
        area_counts,
        share_year: whole_years,
        // The model's hours share is over its whole record, and a longer period concentrates
        // hours differently: compared only when the window is the record, to within 5%.
        hours: alone && roster.has_hours && (recorded - years_spanned) <= 0.05 * recorded,
    };
    if alone && roster.has_hours && !plan.hours {
        notes.push(format!(
            "the top 10%'s share of hours: the model's is over its {recorded} recorded years and the roster covers {years_spanned:.2}; set simulation.years to {} to compare them",
            libm::ceil(years_spanned - 1e-9)
        ));
    }
    if alone && years_spanned < 1.0 {
        notes.push("the roster covers less than a year: no annual retention".into());
    }
    for w in asked.iter().filter(|w| alone && !plan.survival_weeks.contains(w)) {
        notes.push(format!("survival beyond {w} weeks: the roster covers less than {w} weeks"));
    }
    let parts: Vec<Part> = people.iter().map(|p| Part::of(p, &plan)).collect();
    let everyone: Vec<&Part> = parts.iter().collect();
    let values = compute(&everyone, &plan);

    // The bootstrap: people drawn with replacement, each resample on the same stream.
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    rng.set_stream(0x0005_7e55_0f0b_0075);
    let mut sums = vec![0.0; values.len()];
    let mut squares = vec![0.0; values.len()];
    let mut counts = vec![0u32; values.len()];
    for _ in 0..options.resamples {
        let sample: Vec<&Part> = (0..parts.len()).map(|_| &parts[rng.random_range(0..parts.len())]).collect();
        for (k, v) in compute(&sample, &plan).into_iter().enumerate() {
            if v.is_finite() {
                sums[k] += v;
                squares[k] += v * v;
                counts[k] += 1;
            }
        }
    }
    // A statistic undefined in more than 5% of resamples (a share when hardly anyone is a
    // member) has no standard error worth the name: left out.
    let se: Vec<f64> = (0..values.len())
        .map(|k| {
            let n = f64::from(counts[k]);
            if n < 2.0 || n < 0.95 * f64::from(options.resamples) {
                return f64::NAN;
            }
            let mean = sums[k] / n;
            ((squares[k] - n * mean * mean) / (n - 1.0)).max(0.0).sqrt()
        })
        .collect();

    // Where the model reads each statistic.
    let first_year = scenario.simulation.burn_in_years as f64;
    let mut statistics = Vec::new();
    let mut k = 0;
    let mut held = |keys: String, basis: String, held_out: bool, statistics: &mut Vec<Statistic>| {
        statistics.push(Statistic { keys, value: values[k], se: se[k], basis, held_out });
        k += 1;
    };
    let spells_in_window = roster.spells.iter().filter(|s| s.start >= from && s.start <= until).count();
    for w in &plan.survival_weeks {
        held(
            format!("survival_weeks = {w}"),
            format!("{spells_in_window} spells begun in the window"),
            !fitted_weeks.contains(w),
            &mut statistics,
        );
    }
    let mut push = |keys: String, basis: String, statistics: &mut Vec<Statistic>| held(keys, basis, false, statistics);
    if plan.retention {
        push(
            "metric = \"annual_retention\"".into(),
            "every week after the window's first year".into(),
            &mut statistics,
        );
    }
    for y in 0..plan.members_years {
        push(
            format!("series = \"members\"\ncoalition = \"{coalition}\"\nyear = {}", first_year + y as f64),
            format!("members on {}", roster.show(from + y as f64 * YEAR_DAYS)),
            &mut statistics,
        );
    }
    for k in 1..=plan.joins_years {
        let after = from + (k - 1) as f64 * YEAR_DAYS;
        push(
            format!(
                "series = \"joins\"\nper = \"year\"\ncoalition = \"{coalition}\"\nyear = {}",
                first_year + k as f64
            ),
            format!("spells begun after {} up to {}", roster.show(after), roster.show(after + YEAR_DAYS)),
            &mut statistics,
        );
    }
    for &g in &plan.share_groups {
        push(
            format!(
                "series = \"member_share\"\ngroup = \"{}\"\nyear = {}",
                scenario.population.groups[g].name,
                first_year + plan.share_year as f64
            ),
            format!("members on {}", roster.show(share_day)),
            &mut statistics,
        );
    }
    for &a in &plan.area_counts {
        push(
            format!(
                "series = \"members\"\ngroup = \"{}\"\nyear = {}",
                scenario.population.areas[a].name,
                first_year + plan.share_year as f64
            ),
            format!("members on {}", roster.show(share_day)),
            &mut statistics,
        );
    }
    if plan.hours {
        push("metric = \"top10_hours_share\"".into(), "hours given in the window".into(), &mut statistics);
    }
    let defined = |s: &Statistic| s.value.is_finite() && s.se.is_finite();
    for u in statistics.iter().filter(|s| !defined(s) && !s.held_out) {
        notes.push(format!(
            "{}: undefined in the roster, or in more than 5% of its resamples (too few people)",
            u.keys.replace('\n', ", ")
        ));
    }
    // The held-out curve simply stops where too few spells are still at risk: said once.
    if let Some(first) = statistics.iter().find(|s| s.held_out && !defined(s)) {
        notes.push(format!(
            "the survival curve held out for checking, from {}: too few spells still at risk",
            first.keys.replace('\n', ", ")
        ));
    }
    statistics.retain(defined);
    Ok(Derived { statistics, window: (from, until), notes })
}

/// The smallest standard deviation a target is given: a bootstrap can find no spread (every
/// resample's survival 1), and no observation is that exact. Shares and probabilities 0.01;
/// counts of people 0.5.
fn sd_floor(keys: &str) -> f64 {
    if keys.contains("\"members\"") || keys.contains("\"joins\"") { 0.5 } else { 0.01 }
}

/// The parameters an analyst usually cannot know, with the wide priors the baseline's own
/// calibration gives them (scenarios/calibration/baseline.toml, docs/CALIBRATION.md).
pub const PRIORS: &str = r#"# What an analyst usually cannot know, with wide priors (those of the baseline's own
# calibration, docs/CALIBRATION.md). Remove what you know; add what you want fitted.
[[parameters]]
key = "behaviour.join_max"
prior = "log_uniform"
low = 0.05
high = 1.0

[[parameters]]
key = "behaviour.start_cost"
prior = "uniform"
low = 0.0
high = 0.6

[[parameters]]
key = "behaviour.aspiration_mean"
prior = "uniform"
low = -0.4
high = 0.3

[[parameters]]
key = "behaviour.life_event_rate"
prior = "uniform"
low = 0.1
high = 1.2
"#;

/// A roster's statistics as a targets file: `name`, the `base` scenario (as the targets file
/// will name it), the roster's `source` (its file name), the bootstrap's people and resamples,
/// every statistic with its standard error as `sd`, and [`PRIORS`].
pub fn targets_toml(
    name: &str,
    base: &str,
    source: &str,
    roster: &Roster,
    derived: &Derived,
    options: &Options,
) -> String {
    let quote = |t: &str| serde_json::to_string(t).expect("a string serialises");
    let people = {
        let mut names: Vec<&str> = roster.spells.iter().map(|s| s.person.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    };
    let (from, until) = derived.window;
    let mut out = format!(
        "# Derived by `coprosim targets` from {source}: {} spells of {people} people, {} to {}.\n\
         # Each value is the roster's; each sd is its standard error from a bootstrap over\n\
         # people ({} resamples, seed {}; at least 0.01 for a share, 0.5 for a count). Widen\n\
         # an sd where the roster is not the whole truth (docs/CALIBRATING.md).\n",
        roster.spells.len(),
        roster.show(from),
        roster.show(until),
        options.resamples,
        options.seed
    );
    for note in &derived.notes {
        out.push_str(&format!("# Left out: {note}.\n"));
    }
    out.push_str(&format!(
        "\nname = {}\ndescription = {}\nbase = {}\nseed = {}\nreplications = 1\n",
        quote(name),
        quote(&format!("Fitted to the roster {source} ({} to {})", roster.show(from), roster.show(until))),
        quote(base),
        options.seed
    ));
    for st in &derived.statistics {
        out.push_str(&format!(
            "\n[[observed]]\n{}\nvalue = {}\nsd = {}\nsource = {}\n{}",
            st.keys,
            st.value,
            st.se.max(sd_floor(&st.keys)),
            quote(&format!("{source}: {}", st.basis)),
            if st.held_out { "held_out = true\n" } else { "" }
        ));
    }
    out.push('\n');
    out.push_str(PRIORS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scenario with one coalition, recording `years` after a burn-in of 10.
    fn one_programme(years: u32) -> Scenario {
        let mut s = Scenario::baseline();
        s.coalitions.truncate(1);
        s.policy.shocks.clear();
        s.simulation.years = years;
        s.simulation.burn_in_years = 10;
        s
    }

    fn roster(text: &str, s: &Scenario) -> Roster {
        Roster::parse(text, "r.csv", s).unwrap()
    }

    #[test]
    fn hand_worked_statistics() {
        let s = one_programme(2);
        // Weeks: a is a member from 0 to 26, b from 0 to 78, c from 0 on, d from 52 on; the
        // window runs to week 104.
        let r = roster("person,start,end,hours_per_week\na,0,26,1\nb,0,78,2\nc,0,,4\nd,52,,8\n", &s);
        let o = Options { until: Some(104.0 * 7.0), resamples: 200, ..Options::default() };
        let d = derive(&r, &s, &o).unwrap();
        let get = |keys: &str| d.statistics.iter().find(|x| x.keys == keys).unwrap_or_else(|| panic!("{keys}: {d:?}"));
        // Kaplan-Meier: a exits after 26 weeks (1 of 4 at risk), d is censored after 52 (its
        // 52 weeks to the window's end), b exits after 78 (1 of the 2 left), c is censored
        // after 104: S(26) = S(52) = 0.75.
        assert!((get("survival_weeks = 26").value - 0.75).abs() < 1e-12);
        assert!((get("survival_weeks = 52").value - 0.75).abs() < 1e-12);
        // S(104) = 0.375 rests on c alone, who is missing from more than 5% of resamples:
        // left out rather than given a standard error it does not have.
        assert!(d.statistics.iter().all(|x| x.keys != "survival_weeks = 104"));
        assert!(d.notes.iter().any(|n| n.starts_with("survival_weeks = 104: undefined")), "{:?}", d.notes);
        // Members on weeks 0, 52 and 104: a, b, c; b, c, d; c, d.
        for (year, n) in [(10, 3.0), (11, 3.0), (12, 2.0)] {
            assert_eq!(
                get(&format!("series = \"members\"\ncoalition = \"{}\"\nyear = {year}", s.coalitions[0].name)).value,
                n
            );
        }
        // Retention, at weeks 52 to 104 (53 weeks): a year before, a was a member in the first
        // 26 of them, b and c in all 53, d in the last; a year on, a was in none, b in the first
        // 26, c in all, d in the last. Base 26 + 53 + 53 + 1, kept 26 + 53 + 1.
        let (base, kept) = (133u32, 80u32);
        let expected = f64::from(kept) / f64::from(base);
        let retention = get("metric = \"annual_retention\"");
        assert!((retention.value - expected).abs() < 1e-12, "{retention:?}");
        // Hours in the window: a 26, b 156, c 416, d 416: the top 10% (one person) gave
        // 416 / 1014.
        assert!((get("metric = \"top10_hours_share\"").value - 416.0 / 1014.0).abs() < 1e-12);
        // The bootstrap is seeded: the same again.
        assert_eq!(derive(&r, &s, &o).unwrap().statistics, d.statistics);
    }

    #[test]
    fn joins_a_year_and_members_by_area() {
        let s = one_programme(2);
        // Weeks: a from 0 to 30, b from 0 on, c from 10 to 60, d from 52 on, e from 80 on; the
        // window runs from week 0 to 104. Joins after week 0 up to 52: c and d; after 52 up to
        // 104: e (a and b were members when the records began).
        let text = "person,start,end,area\na,0,30,estate\nb,0,,town\nc,10,60,estate\nd,52,,estate\ne,80,,town\n";
        let o = Options { until: Some(104.0 * 7.0), resamples: 100, ..Options::default() };
        let d = derive(&roster(text, &s), &s, &o).unwrap();
        let get = |keys: &str| d.statistics.iter().find(|x| x.keys == keys).map(|x| x.value);
        let joins = |year: u32| {
            get(&format!("series = \"joins\"\nper = \"year\"\ncoalition = \"youth_clubhouse\"\nyear = {year}"))
        };
        assert_eq!((joins(11), joins(12)), (Some(2.0), Some(1.0)), "{:?}", d.statistics);
        // On week 104: b and e in town, d on the estate; the town's count is the rest.
        assert_eq!(get("series = \"members\"\ngroup = \"estate\"\nyear = 12"), Some(1.0), "{:?}", d.statistics);
        assert_eq!(get("series = \"members\"\ngroup = \"town\"\nyear = 12"), None);
        // One member then without an area: no counts by area, and a note saying why.
        let d = derive(&roster(&text.replace("e,80,,town", "e,80,,"), &s), &s, &o).unwrap();
        assert!(d.statistics.iter().all(|x| !x.keys.contains("estate")), "{:?}", d.statistics);
        assert!(d.notes.iter().any(|n| n.starts_with("members by area: 1 of the members")), "{:?}", d.notes);
    }

    #[test]
    fn the_targets_file_is_valid_and_holds_every_statistic() {
        let s = one_programme(3);
        let text = "person,start,end,group,hours_per_week\n\
                    a,2021-01-04,2021-07-05,advantaged,1\n\
                    b,2021-01-04,2022-07-04,disadvantaged,2\n\
                    c,2021-01-04,,advantaged,4\n\
                    d,2022-01-03,,disadvantaged,8\n\
                    e,2022-03-07,2022-05-02,advantaged,1\n\
                    f,2021-06-07,,disadvantaged,3\n";
        let r = roster(text, &s);
        let until = crate::inference::roster::parse_date("2023-01-02").unwrap() as f64;
        let o = Options { until: Some(until), ..Options::default() };
        let d = derive(&r, &s, &o).unwrap();
        let toml = targets_toml("mine", "mine.toml", "roster.csv", &r, &d, &o);
        let read = |_: &str| Ok((s.clone(), s.to_toml()));
        let t =
            crate::inference::targets::Targets::parse(&toml, "t.toml", &read).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        assert_eq!(t.statistics.len(), d.statistics.len(), "{toml}");
        assert_eq!(t.priors.len(), 4);
        assert!(
            toml.contains(
                "# Derived by `coprosim targets` from roster.csv: 6 spells of 6 people, 2021-01-04 to 2023-01-02."
            ),
            "{toml}"
        );
        assert!(toml.contains("series = \"member_share\"\ngroup = \"advantaged\"\nyear = 12"), "{toml}");
        // Between the fitted durations, the curve every 13 weeks is held out: checked, not
        // fitted; none with curve_every = 0.
        assert!(toml.contains("survival_weeks = 13\n") && toml.contains("held_out = true\n"), "{toml}");
        let held: Vec<&str> = d.statistics.iter().filter(|x| x.held_out).map(|x| x.keys.as_str()).collect();
        assert!(held.contains(&"survival_weeks = 13") && !held.contains(&"survival_weeks = 26"), "{held:?}");
        assert_eq!(t.fitted().len(), d.statistics.len() - held.len());
        let none = derive(&r, &s, &Options { curve_every: 0, ..o.clone() }).unwrap();
        assert!(none.statistics.iter().all(|x| !x.held_out));
        assert!(!toml.contains("group = \"disadvantaged\""), "the last share is the complement");
    }

    #[test]
    fn members_who_joined_before_the_window_count_as_members_not_as_new_spells() {
        let s = one_programme(3);
        // An old hand since 2010, and four who joined in the window that opens in 2021.
        let r = roster(
            "person,start,end\nold,2010-03-01,\na,2021-01-04,2021-04-05\nb,2021-02-01,\nc,2021-03-01,\nd,2021-04-05,\n",
            &s,
        );
        assert!(derive(&r, &s, &Options::default()).unwrap_err().contains("or --from to the day"));
        let from = crate::inference::roster::parse_date("2021-01-04").unwrap() as f64;
        let until = crate::inference::roster::parse_date("2022-01-03").unwrap() as f64;
        let o = Options { from: Some(from), until: Some(until), resamples: 50, ..Options::default() };
        let d = derive(&r, &s, &o).unwrap();
        let get = |keys: &str| d.statistics.iter().find(|x| x.keys.starts_with(keys)).map(|x| x.value);
        // On 2021-01-04: the old hand and a; a year on: the old hand, b, c and d.
        assert_eq!(get("series = \"members\"\ncoalition = \"youth_clubhouse\"\nyear = 10"), Some(2.0));
        assert_eq!(get("series = \"members\"\ncoalition = \"youth_clubhouse\"\nyear = 11"), Some(4.0));
        // Survival counts the four spells begun in the window: a left after 13 weeks.
        assert_eq!(get("survival_weeks = 26"), Some(0.75));
        assert!(d.statistics.iter().any(|x| x.basis == "4 spells begun in the window"), "{:?}", d.statistics);
        // Beyond 52 weeks no spell begun in the window is still at risk: left out, and said.
        assert_eq!(get("survival_weeks = 52"), None);
        assert!(d.notes.iter().any(|n| n.starts_with("survival_weeks = 52: undefined")), "{:?}", d.notes);
    }

    #[test]
    fn a_roster_longer_than_the_record_or_of_no_named_programme_is_refused() {
        let s = one_programme(2);
        let r = roster("person,start,end\na,2020-01-06,2023-01-02\n", &s);
        let e = derive(&r, &s, &Options::default()).unwrap_err();
        assert!(e.contains("covers 3.0 years") && e.contains("set simulation.years to at least 3"), "{e}");
        let mut several = one_programme(5);
        several.coalitions = Scenario::baseline().coalitions;
        let e = derive(&r, &several, &Options::default()).unwrap_err();
        assert!(e.contains("name the one the roster is of with --coalition"), "{e}");
        let named = Options { coalition: Some("food_bank".into()), ..Options::default() };
        let d = derive(&r, &several, &named).unwrap();
        let own = |x: &Statistic| x.keys.contains("coalition = \"food_bank\"");
        assert!(d.statistics.iter().all(own), "{:?}", d.statistics);
        assert!(d.statistics.iter().any(|x| x.keys.starts_with("series = \"joins\"")), "{:?}", d.statistics);
        assert!(d.notes[0].contains("town-wide"), "{:?}", d.notes);
    }
}
