//! Targets files: what a calibration fits and to what. A base scenario; the observed
//! statistics, each a `summary.csv` metric, a series value at a year, or a membership
//! survival probability at a duration, with its value, its uncertainty and its source; the
//! parameters to estimate by key path, each with a prior; and the sampler's settings.
//!
//! Parsed and validated like scenario and sweep files: every problem at once, each located
//! by line:column and key path. Statistics are checked against the base scenario's outputs
//! and parameters against its keys, and every prior's support must make valid scenarios,
//! before anything runs.

use super::prior::Prior;
use crate::observe::{Catalogue, summary_keys};
use crate::scenario::base::BaseReader;
use crate::scenario::keys::{canonical_key, generic_key, slot, with_value};
use crate::scenario::params::{Describe, Problem, Settings, choice, join, section};
use crate::scenario::{Scenario, ScenarioError};

choice! {
    /// The family of a parameter's prior.
    pub enum PriorKind {
        /// Uniform on [low, high].
        Uniform = "uniform",
        /// Uniform in the logarithm on [low, high], 0 < low.
        LogUniform = "log_uniform" | "loguniform",
        /// Normal(mean, sd).
        Normal = "normal",
        /// Normal(mean, sd) truncated to [low, high].
        TruncatedNormal = "truncated_normal",
        /// Beta(alpha, beta) on [0, 1].
        Beta = "beta",
    }
}

choice! {
    /// How a series is read at a year.
    pub enum Per {
        /// Its value at the year's tick.
        Tick = "tick",
        /// Its total over the year that ends there: joins a year, not the joins of one tick.
        Year = "year",
    }
}

section! {
    /// One parameter to estimate.
    pub struct Parameter {
        /// Key path of a numeric parameter of the base scenario, as in sweeps; coalitions and groups by name, e.g. `behaviour.base_exit` or `coalitions.food_bank.governance.voice`.
        key: String = String::new();
        /// Prior family: "uniform", "log_uniform", "normal", "truncated_normal" or "beta".
        prior: PriorKind = PriorKind::Uniform;
        /// Lower bound (uniform, log_uniform, truncated_normal).
        low: Option<f64> = None;
        /// Upper bound (uniform, log_uniform, truncated_normal).
        high: Option<f64> = None;
        /// Mean (normal, truncated_normal: of the untruncated normal).
        mean: Option<f64> = None;
        /// Standard deviation (normal, truncated_normal).
        sd: Option<f64> = None, above(0, 1e12);
        /// First shape parameter (beta).
        alpha: Option<f64> = None, above(0, 1e6);
        /// Second shape parameter (beta).
        beta: Option<f64> = None, above(0, 1e6);
    }
}

section! {
    /// One observed statistic of the programme.
    pub struct Observation {
        /// Label in the outputs (default: derived from what is observed).
        name: String = String::new();
        /// A `summary.csv` metric over the recorded period, e.g. "annual_retention" (one of `metric`, `series`, `survival_weeks`).
        metric: String = String::new();
        /// A `series.csv` metric, read at `year`, e.g. "members".
        series: String = String::new();
        /// Year from founding (series.csv's year column) at which `series` is read; within the recorded period.
        year: Option<f64> = None, unit "years";
        /// How `series` is read at `year`: "tick" (its value then) or "year" (a flow's total over the year that ends then, e.g. joins a year; joins, exits, applicants and turned_away only).
        per: Per = Per::Tick;
        /// A whole trajectory instead of one year: the years (from founding) at which `series` is read, each with its value in `values` and its sd in `sd` (the same for every year) or `sds`; one statistic per year.
        years: Vec<f64> = Vec::new(), unit "years";
        /// The observed values of a trajectory, one per entry of `years`.
        values: Vec<f64> = Vec::new();
        /// The standard deviation of each value of a trajectory, one per entry of `years` (or one `sd` for all).
        sds: Vec<f64> = Vec::new();
        /// Duration at which the Kaplan-Meier probability that a membership spell (begun in the recorded period) lasts longer is read.
        survival_weeks: Option<f64> = None, unit "weeks", above(0, 1e6);
        /// Coalition name, or "all".
        coalition: String = "all".to_string();
        /// Group name, or "all".
        group: String = "all".to_string();
        /// Required. The observed value.
        value: Option<f64> = None;
        /// Its uncertainty as a standard deviation (or give `low` and `high`).
        sd: Option<f64> = None, above(0, 1e12);
        /// Lower end of an interval for the observed value (with `high` and `level`).
        low: Option<f64> = None;
        /// Upper end of that interval.
        high: Option<f64> = None;
        /// Probability the interval `low`-`high` holds (a normal interval: sd = (high - low) / (2 z)).
        level: f64 = 0.9, above(0, 0.9999);
        /// Where the value comes from.
        source: String = String::new();
        /// Held out: not fitted, only compared with the posterior predictive (a check of the fit).
        held_out: bool = false;
    }
}

section! {
    /// A model to compare (model selection): the base scenario with some settings fixed, e.g. a mechanism switched off. With two or more, the calibration also estimates each one's posterior probability.
    pub struct ModelVariant {
        /// Required. The model's name in the outputs.
        name: String = String::new();
        /// Settings this model fixes, by key path, e.g. `{ "behaviour.life_event_rate" = 0.0 }`; none for the base scenario itself. Not an estimated parameter.
        set: Settings = Settings::default();
    }
}

section! {
    /// The ABC-SMC sampler's settings.
    pub struct AbcSettings {
        /// Particles per generation.
        particles: u32 = 200, unit "particles", range(10, 1_000_000);
        /// The most generations (generation 0, from the prior, included).
        generations: u32 = 10, unit "generations", range(1, 1000);
        /// Stop after a generation that accepted fewer than this share of its simulations.
        min_acceptance: f64 = 0.02, range(0, 1);
        /// Stop once the tolerance (scaled distance) is at or below this.
        tolerance: f64 = 0.0, range(0, 1e12);
        /// Stop once this many simulations have run.
        budget: u64 = 20_000, unit "simulations", range(1, 1_000_000_000_000u64);
        /// Quantile of a generation's distances that sets the next tolerance.
        quantile: f64 = 0.5, range(0.05, 0.95);
        /// Posterior predictive simulations, from parameters drawn from the posterior.
        predictive: u32 = 200, unit "simulations", range(0, 1_000_000);
    }
}

section! {
    /// A targets file.
    pub struct TargetsFile {
        /// Required. Short name, used for the default output directory (`output/<name>/`).
        name: String = String::new();
        /// What is calibrated, and from what.
        description: String = String::new();
        /// Base scenario file, relative to the targets file; or "baseline" for the embedded baseline.
        base: String = String::new();
        /// Base scenario written inline instead of `base`.
        scenario: Option<Scenario> = None;
        /// Replications averaged in each simulation (more: less noise per simulation, more time).
        replications: u32 = 1, range(1, 10_000);
        /// Master seed of the sampler and the simulations.
        seed: u64 = 1;
        /// The sampler's settings.
        abc: AbcSettings = AbcSettings::default();
        /// The observed statistics.
        observed: Vec<Observation> = Vec::new();
        /// The parameters to estimate.
        parameters: Vec<Parameter> = Vec::new();
        /// Two or more models to compare (model selection, Toni et al. 2009), each the base scenario with some settings fixed; they share the parameters and their priors, and are a priori equally likely. None: one model, the base.
        models: Vec<ModelVariant> = Vec::new();
    }
}

/// The version of the inference method: part of every calibration's identity. Change it
/// whenever a change to the sampler, the simulator or the distance changes what a calibration
/// computes.
pub const METHOD: &str = "ABC-SMC (Beaumont 2009), noisy ABC, quantile tolerance, method 2";

/// Where an observed statistic is read in one replication's record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// Entry of the record's headline scalars ([`summary_keys`] order).
    Summary(usize),
    /// A series column at a recorded row.
    Series {
        /// Column in the catalogue's series order.
        column: usize,
        /// Row (tick from the start of recording).
        row: usize,
    },
    /// A flow series' total over recorded rows `first` to `last` (both included): a year's.
    SeriesTotal {
        /// Column in the catalogue's series order.
        column: usize,
        /// First row summed.
        first: usize,
        /// Last row summed.
        last: usize,
    },
    /// Kaplan-Meier survival of the spell histogram `spells` (0 = all groups, g + 1 = group g)
    /// at `ticks`.
    Survival {
        /// Spell histogram.
        spells: usize,
        /// Duration in ticks.
        ticks: usize,
    },
}

/// A validated observed statistic.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistic {
    /// Label in the outputs.
    pub label: String,
    /// Observed value.
    pub value: f64,
    /// Its standard deviation: the distance's scale.
    pub sd: f64,
    /// Where to read it.
    pub reading: Reading,
    /// Not fitted, only compared.
    pub held_out: bool,
    /// Where it comes from.
    pub source: String,
}

/// A validated targets file.
#[derive(Debug, Clone)]
pub struct Targets {
    /// The file as written, with defaults.
    pub file: TargetsFile,
    /// The base scenario.
    pub base: Scenario,
    /// Where the base came from.
    pub base_origin: String,
    /// Observed statistics in file order.
    pub statistics: Vec<Statistic>,
    /// Priors in parameter order.
    pub priors: Vec<Prior>,
    /// The models compared, each the base with its settings fixed (empty: one model, the base).
    pub variants: Vec<Scenario>,
}

/// Why the parameter with generic key path `key` cannot be estimated, or None when it can: a
/// calibration's simulations must all produce the same outputs (the same coalitions, groups,
/// population and clock), so that their statistics compare.
pub fn not_estimable(key: &str) -> Option<&'static str> {
    const FIXED: &[(&str, &str)] = &[
        ("name", "it names the scenario"),
        ("description", "it describes the scenario"),
        ("simulation", "the clock, replications and seed are the calibration's own"),
        ("population.size", "every simulation must have the same residents to compare"),
        ("population.groups[].share", "every simulation must have the same groups to compare"),
    ];
    FIXED
        .iter()
        .find(|(k, _)| key == *k || key.starts_with(&format!("{k}.")) || key.starts_with(&format!("{k}[")))
        .map(|(_, why)| *why)
}

/// The standard normal quantile at `p` (Acklam's rational approximation refined by one Newton
/// step; error below 1e-12 on (0, 1)).
pub fn normal_quantile(p: f64) -> f64 {
    let a = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383_577_518_672_69e2,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    let b = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    let c = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
    let tail = |q: f64| {
        (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0)
    };
    let x = if p < 0.02425 {
        tail((-2.0 * libm::log(p)).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * libm::log(1.0 - p)).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)
    };
    // One Newton step on Φ(x) = p.
    let e = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * libm::exp(x * x / 2.0);
    x - u / (1.0 + x * u / 2.0)
}

impl Observation {
    /// The label of this statistic in the outputs.
    pub fn label(&self) -> String {
        if !self.name.is_empty() {
            return self.name.clone();
        }
        let by = |what: String| {
            if self.coalition == "all" && self.group == "all" {
                what
            } else {
                format!("{what}[{}/{}]", self.coalition, self.group)
            }
        };
        if !self.metric.is_empty() {
            by(self.metric.clone())
        } else if !self.series.is_empty() {
            let per = if self.per == Per::Year { "_per_year" } else { "" };
            by(format!("{}{per}@year{}", self.series, self.year.unwrap_or(f64::NAN)))
        } else {
            by(format!("survival@{}weeks", self.survival_weeks.unwrap_or(f64::NAN)))
        }
    }

    /// The standard deviation of the observed value, from `sd` or the interval.
    pub fn sd(&self) -> Option<f64> {
        match (self.sd, self.low, self.high) {
            (Some(sd), None, None) => Some(sd),
            (None, Some(lo), Some(hi)) if hi > lo => Some((hi - lo) / (2.0 * normal_quantile(0.5 + self.level / 2.0))),
            _ => None,
        }
    }
}

impl Parameter {
    /// The prior, when its fields are complete and consistent; otherwise the problems, at
    /// paths under `at`.
    pub fn prior(&self, at: &str) -> Result<Prior, Vec<Problem>> {
        let mut problems = Vec::new();
        let field = |name: &str| join(at, name);
        let need = |v: Option<f64>, name: &str, problems: &mut Vec<Problem>| {
            if v.is_none() {
                problems.push(Problem::new(
                    field(name),
                    format!("missing `{name}`, expected it for a {} prior", self.kind_name()),
                ));
            }
            v.unwrap_or(f64::NAN)
        };
        let used: &[&str] = match self.prior {
            PriorKind::Uniform | PriorKind::LogUniform => &["low", "high"],
            PriorKind::Normal => &["mean", "sd"],
            PriorKind::TruncatedNormal => &["mean", "sd", "low", "high"],
            PriorKind::Beta => &["alpha", "beta"],
        };
        for (name, v) in [
            ("low", self.low),
            ("high", self.high),
            ("mean", self.mean),
            ("sd", self.sd),
            ("alpha", self.alpha),
            ("beta", self.beta),
        ] {
            if v.is_some() && !used.contains(&name) {
                problems.push(Problem::new(
                    field(name),
                    format!(
                        "found `{name}`, which a {} prior does not take; expected {}",
                        self.kind_name(),
                        used.join(", ")
                    ),
                ));
            }
        }
        let prior = match self.prior {
            PriorKind::Uniform | PriorKind::LogUniform => {
                let lo = need(self.low, "low", &mut problems);
                let hi = need(self.high, "high", &mut problems);
                if lo >= hi {
                    problems.push(Problem::new(field("high"), format!("found {hi}, expected more than low = {lo}")));
                }
                if self.prior == PriorKind::LogUniform && lo <= 0.0 {
                    problems.push(Problem::new(
                        field("low"),
                        format!("found {lo}, expected more than 0 for a log_uniform prior"),
                    ));
                }
                if self.prior == PriorKind::Uniform { Prior::Uniform { lo, hi } } else { Prior::LogUniform { lo, hi } }
            }
            PriorKind::Normal => {
                Prior::Normal { mean: need(self.mean, "mean", &mut problems), sd: need(self.sd, "sd", &mut problems) }
            }
            PriorKind::TruncatedNormal => {
                let (mean, sd) = (need(self.mean, "mean", &mut problems), need(self.sd, "sd", &mut problems));
                let (lo, hi) = (need(self.low, "low", &mut problems), need(self.high, "high", &mut problems));
                if lo >= hi {
                    problems.push(Problem::new(field("high"), format!("found {hi}, expected more than low = {lo}")));
                } else if sd > 0.0 {
                    let cdf = |x: f64| 0.5 * libm::erfc(-(x - mean) / sd / std::f64::consts::SQRT_2);
                    let mass = cdf(hi) - cdf(lo);
                    if mass < 0.01 {
                        problems.push(Problem::new(
                            field("mean"),
                            format!("found mean {mean} and sd {sd}, which leave {mass:.2e} of the mass in [{lo}, {hi}]; expected at least 1% there"),
                        ));
                    }
                }
                Prior::TruncatedNormal { mean, sd, lo, hi }
            }
            PriorKind::Beta => Prior::Beta {
                alpha: need(self.alpha, "alpha", &mut problems),
                beta: need(self.beta, "beta", &mut problems),
            },
        };
        if problems.is_empty() { Ok(prior) } else { Err(problems) }
    }

    fn kind_name(&self) -> &'static str {
        match self.prior {
            PriorKind::Uniform => "uniform",
            PriorKind::LogUniform => "log_uniform",
            PriorKind::Normal => "normal",
            PriorKind::TruncatedNormal => "truncated_normal",
            PriorKind::Beta => "beta",
        }
    }
}

/// A one-line description of a prior, for the outputs.
pub fn describe_prior(p: &Prior) -> String {
    match *p {
        Prior::Uniform { lo, hi } => format!("uniform({lo}, {hi})"),
        Prior::LogUniform { lo, hi } => format!("log_uniform({lo}, {hi})"),
        Prior::Normal { mean, sd } => format!("normal({mean}, {sd})"),
        Prior::TruncatedNormal { mean, sd, lo, hi } => format!("truncated_normal({mean}, {sd}; {lo}, {hi})"),
        Prior::Beta { alpha, beta } => format!("beta({alpha}, {beta})"),
    }
}

/// Where an observed statistic is read, or why it cannot be.
fn reading(o: &Observation, s: &Scenario, cat: &Catalogue) -> Result<Reading, String> {
    let coalition = match o.coalition.as_str() {
        "all" => None,
        name => Some(cat.coalitions.iter().position(|c| c == name).ok_or_else(|| {
            format!("found coalition \"{name}\", expected \"all\" or one of {}", quoted(&cat.coalitions))
        })?),
    };
    let group = match o.group.as_str() {
        "all" => None,
        name => Some(cat.group_labels().iter().position(|g| g == name).ok_or_else(|| {
            format!("found group \"{name}\", expected \"all\" or one of {}", quoted(&cat.group_labels()))
        })?),
    };
    if o.per == Per::Year && o.series.is_empty() {
        return Err("found per = \"year\" without `series`, expected it only with a series".into());
    }
    if !o.metric.is_empty() {
        let keys = summary_keys(cat);
        return keys
            .iter()
            .position(|k| k.metric == o.metric && k.coalition == coalition && k.group == group)
            .map(Reading::Summary)
            .ok_or_else(|| {
                let mut names: Vec<String> = Vec::new();
                for k in &keys {
                    let n = match (k.coalition, k.group) {
                        (None, None) => k.metric.to_string(),
                        (c, g) => format!(
                            "{} with coalition \"{}\" and group \"{}\"",
                            k.metric,
                            cat.coalition_label(c),
                            cat.group_label(g)
                        ),
                    };
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
                format!(
                    "found metric \"{}\" for coalition \"{}\" and group \"{}\", expected one of {}",
                    o.metric,
                    o.coalition,
                    o.group,
                    names.join(", ")
                )
            });
    }
    if !o.series.is_empty() {
        let year = o.year.ok_or("missing `year`, expected the year at which the series is read")?;
        let (column, row) = cat.series_at(&o.series, coalition, group, year)?;
        if o.per == Per::Tick {
            return Ok(Reading::Series { column, row });
        }
        if !cat.series[column].metric.counts_events() {
            let mut flows: Vec<&str> =
                cat.series.iter().filter(|k| k.metric.counts_events()).map(|k| k.metric.name()).collect();
            flows.dedup();
            return Err(format!(
                "found per = \"year\" for series \"{}\", expected it only for a series that counts events ({})",
                o.series,
                flows.join(", ")
            ));
        }
        // The year that ends at `year`: the ticks after the one a year before, up to it. Its
        // first tick must be recorded.
        let tpy = cat.ticks_per_year as usize;
        if row < tpy {
            return Err(format!(
                "found year {year} with per = \"year\", expected a year whose whole year before is recorded: from {}",
                (cat.first_tick as usize + tpy) as f64 / tpy as f64
            ));
        }
        return Ok(Reading::SeriesTotal { column, first: row + 1 - tpy, last: row });
    }
    if let Some(weeks) = o.survival_weeks {
        if coalition.is_some() {
            return Err("membership survival is pooled over coalitions, expected coalition \"all\"".into());
        }
        let ticks = (weeks / s.weeks_per_tick()).round();
        if ticks < 1.0 || ticks > cat.ticks as f64 {
            return Err(format!(
                "found {weeks} weeks, expected a duration between one tick ({} weeks) and the recorded period ({} weeks)",
                s.weeks_per_tick(),
                cat.ticks as f64 * s.weeks_per_tick()
            ));
        }
        return Ok(Reading::Survival { spells: group.map_or(0, |g| g + 1), ticks: ticks as usize });
    }
    Err("missing what is observed: expected one of `metric`, `series` (with `year`) or `survival_weeks`".into())
}

/// The key of observation `o` that reading error `e` is about ("" for the observation as a
/// whole).
fn problem_key(o: &Observation, e: &str) -> &'static str {
    if e.starts_with("found per") {
        "per"
    } else if e.starts_with("found coalition") {
        "coalition"
    } else if e.starts_with("found group") {
        "group"
    } else if !o.metric.is_empty() {
        "metric"
    } else if !o.series.is_empty() {
        if e.contains("year") && !e.contains("series \"") { "year" } else { "series" }
    } else if o.survival_weeks.is_some() {
        if e.contains("coalition") { "coalition" } else { "survival_weeks" }
    } else {
        ""
    }
}

/// The statistics of a trajectory observation (`series` with `years`, `values` and `sd` or
/// `sds`), one per year, pushed onto `out`; or the problems with it, at paths under `at`.
fn trajectory(o: &Observation, at: &str, s: &Scenario, cat: &Catalogue, out: &mut Vec<Statistic>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let n = o.years.len();
    if o.series.is_empty() {
        problems.push(Problem::new(
            join(at, "series"),
            "missing `series`, expected the series.csv metric a trajectory (`years`, `values`) observes",
        ));
    }
    if !o.metric.is_empty() || o.survival_weeks.is_some() || o.year.is_some() || o.value.is_some() {
        problems.push(Problem::new(
            at,
            "found `years`/`values` with `metric`, `survival_weeks`, `year` or `value`, expected a trajectory (`series`, `years`, `values`) or one statistic",
        ));
    }
    if n == 0 {
        problems
            .push(Problem::new(join(at, "years"), "missing `years`, expected the years the values were observed in"));
    }
    if o.values.len() != n {
        problems.push(Problem::new(
            join(at, "values"),
            format!("found {} values, expected one per entry of `years` ({n})", o.values.len()),
        ));
    }
    if o.low.is_some() || o.high.is_some() {
        problems.push(Problem::new(at, "found an interval (`low`, `high`) on a trajectory, expected `sd` or `sds`"));
    }
    let sds: Vec<f64> = match (o.sd, o.sds.is_empty()) {
        (Some(sd), true) => vec![sd; n],
        (None, false) if o.sds.len() == n => o.sds.clone(),
        (None, false) => {
            problems.push(Problem::new(
                join(at, "sds"),
                format!("found {} sds, expected one per entry of `years` ({n})", o.sds.len()),
            ));
            Vec::new()
        }
        (Some(_), false) => {
            problems.push(Problem::new(join(at, "sd"), "found both `sd` and `sds`, expected one"));
            Vec::new()
        }
        (None, true) => {
            problems.push(Problem::new(
                at,
                "missing the uncertainty of the observed values, expected `sd` (for every year) or `sds` (one per year)",
            ));
            Vec::new()
        }
    };
    for (k, sd) in sds.iter().enumerate() {
        if !(sd.is_finite() && *sd > 0.0) {
            problems.push(Problem::new(
                format!("{}[{k}]", join(at, "sds")),
                format!("found {sd}, expected a number above 0"),
            ));
        }
    }
    for (k, v) in o.values.iter().enumerate() {
        if !v.is_finite() {
            problems.push(Problem::new(
                format!("{}[{k}]", join(at, "values")),
                format!("found {v}, expected a finite number"),
            ));
        }
    }
    let mut read = Vec::new();
    for (k, &year) in o.years.iter().enumerate() {
        let at_year = Observation { year: Some(year), years: Vec::new(), ..o.clone() };
        match reading(&at_year, s, cat) {
            Ok(r) => read.push((at_year, r)),
            Err(e) => {
                let key = problem_key(&at_year, &e);
                problems.push(Problem::new(
                    if key == "year" { format!("{}[{k}]", join(at, "years")) } else { join(at, key) },
                    e,
                ));
                if key != "year" {
                    break; // the series or its scope is wrong: once, not once a year
                }
            }
        }
    }
    if problems.is_empty() {
        for (k, (at_year, reading)) in read.into_iter().enumerate() {
            let label = if o.name.is_empty() {
                at_year.label()
            } else {
                format!("{}@year{}", o.name, crate::text::num(o.years[k]))
            };
            out.push(Statistic {
                label,
                value: o.values[k],
                sd: sds[k],
                reading,
                held_out: o.held_out,
                source: o.source.clone(),
            });
        }
    }
    problems
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

impl Targets {
    /// Parse and validate targets text; `read` reads a `base` scenario file.
    pub fn parse(text: &str, file: &str, read: BaseReader) -> Result<Targets, ScenarioError> {
        crate::scenario::base::parse_on_base(
            text,
            file,
            read,
            |t: &TargetsFile| (t.scenario.as_ref(), t.base.as_str()),
            |parsed, base, base_origin| Targets::build(parsed.clone(), base, base_origin),
        )
    }

    /// Check a parsed targets file against its base scenario.
    fn build(parsed: TargetsFile, base: Scenario, base_origin: String) -> Result<Targets, Vec<Problem>> {
        let mut problems = Vec::new();
        if parsed.name.trim().is_empty() {
            problems.push(Problem::new("name", "missing required key `name`, expected a short calibration name"));
        }
        let cat = Catalogue::new(&base);
        let mut statistics = Vec::new();
        if parsed.observed.is_empty() {
            problems.push(Problem::new(
                "observed",
                "missing required table [[observed]], expected at least one observed statistic",
            ));
        } else if parsed.observed.iter().all(|o| o.held_out) {
            problems.push(Problem::new("observed", "every statistic is held out, expected at least one to fit"));
        }
        // Every statistic's label with the observation it came from, to refuse duplicates.
        let mut labels: Vec<(String, usize)> = Vec::new();
        for (i, o) in parsed.observed.iter().enumerate() {
            let at = format!("observed[{i}]");
            if !o.years.is_empty() || !o.values.is_empty() || !o.sds.is_empty() {
                let before = statistics.len();
                problems.extend(trajectory(o, &at, &base, &cat, &mut statistics));
                labels.extend(statistics[before..].iter().map(|s| (s.label.clone(), i)));
                continue;
            }
            let kinds = [!o.metric.is_empty(), !o.series.is_empty(), o.survival_weeks.is_some()];
            if kinds.iter().filter(|k| **k).count() > 1 {
                problems.push(Problem::new(
                    at.clone(),
                    "found more than one of `metric`, `series` and `survival_weeks`, expected one",
                ));
                continue;
            }
            if o.year.is_some() && o.series.is_empty() {
                problems.push(Problem::new(
                    join(&at, "year"),
                    "found `year` without `series`, expected it only with a series",
                ));
            }
            let read = reading(o, &base, &cat);
            if let Err(e) = &read {
                let key = problem_key(o, e);
                problems.push(Problem::new(if key.is_empty() { at.clone() } else { join(&at, key) }, e.clone()));
            }
            if o.value.is_none() {
                problems.push(Problem::new(join(&at, "value"), "missing `value`, expected the observed value"));
            }
            let sd = match (o.sd, o.low, o.high) {
                (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                    problems.push(Problem::new(
                        join(&at, "sd"),
                        "found both `sd` and an interval (`low`, `high`), expected one",
                    ));
                    None
                }
                (None, Some(lo), Some(hi)) if hi <= lo => {
                    problems
                        .push(Problem::new(join(&at, "high"), format!("found {hi}, expected more than low = {lo}")));
                    None
                }
                (None, Some(_), None) | (None, None, Some(_)) => {
                    problems.push(Problem::new(
                        at.clone(),
                        "found one end of the interval, expected both `low` and `high`",
                    ));
                    None
                }
                (None, None, None) => {
                    problems.push(Problem::new(
                        at.clone(),
                        "missing the uncertainty of the observed value, expected `sd` or an interval (`low`, `high`, `level`)",
                    ));
                    None
                }
                _ => o.sd(),
            };
            if let (Ok(r), Some(value), Some(sd)) = (read, o.value, sd) {
                if let (Some(lo), Some(hi)) = (o.low, o.high)
                    && !(lo..=hi).contains(&value)
                {
                    problems.push(Problem::new(
                        join(&at, "value"),
                        format!("found {value}, expected a value within its interval [{lo}, {hi}]"),
                    ));
                }
                statistics.push(Statistic {
                    label: o.label(),
                    value,
                    sd,
                    reading: r,
                    held_out: o.held_out,
                    source: o.source.clone(),
                });
            }
            labels.push((o.label(), i));
        }
        let mut reported = Vec::new();
        for (k, (label, i)) in labels.iter().enumerate() {
            if labels[..k].iter().any(|(l, _)| l == label) && !reported.contains(i) {
                reported.push(*i);
                problems.push(Problem::new(
                    format!("observed[{i}]"),
                    format!("found \"{label}\" again, expected each statistic once (give a `name` to tell them apart)"),
                ));
            }
        }

        if parsed.abc.budget < parsed.abc.particles as u64 {
            problems.push(Problem::new(
                "abc.budget",
                format!(
                    "found {}, expected at least abc.particles = {} (generation 0 alone simulates that many)",
                    parsed.abc.budget, parsed.abc.particles
                ),
            ));
        }
        let mut priors = Vec::new();
        if parsed.parameters.is_empty() {
            problems.push(Problem::new(
                "parameters",
                "missing required table [[parameters]], expected at least one parameter to estimate",
            ));
        }
        for (i, p) in parsed.parameters.iter().enumerate() {
            let at = format!("parameters[{i}]");
            let key_at = join(&at, "key");
            if let Err(e) = slot(&base, &p.key) {
                problems.push(Problem::new(key_at, e));
                continue;
            }
            let generic = generic_key(&base, &p.key).unwrap_or_default();
            if let Some(why) = not_estimable(&generic) {
                problems.push(Problem::new(
                    key_at,
                    format!("found `{}`, expected a parameter that can be estimated: {why}", p.key),
                ));
                continue;
            }
            let canonical = canonical_key(&base, &p.key).ok();
            if parsed.parameters[..i].iter().any(|q| canonical_key(&base, &q.key).ok() == canonical) {
                problems.push(Problem::new(key_at, format!("found `{}` again, expected each parameter once", p.key)));
                continue;
            }
            match p.prior(&at) {
                Err(ps) => problems.extend(ps),
                Ok(prior) => {
                    // The support must make valid scenarios: its ends when bounded (every
                    // rule along one parameter is an interval), its mean when not.
                    let probes: Vec<(&str, f64)> = match prior {
                        Prior::Uniform { lo, hi }
                        | Prior::LogUniform { lo, hi }
                        | Prior::TruncatedNormal { lo, hi, .. } => vec![("low", lo), ("high", hi)],
                        Prior::Beta { .. } => vec![("prior", 0.0), ("prior", 1.0)],
                        Prior::Normal { mean, .. } => vec![("mean", mean)],
                    };
                    for (field, v) in probes {
                        if let Err(e) = with_value(&base, &p.key, v) {
                            problems
                                .push(Problem::new(join(&at, field), format!("the prior's support reaches {v}: {e}")));
                            break;
                        }
                    }
                    priors.push(prior);
                }
            }
        }
        let variants = models(&parsed, &base, &mut problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Targets { file: parsed, base, base_origin, statistics, priors, variants })
    }

    /// The documented definition of every targets-file key.
    pub fn parameter_specs() -> Vec<crate::scenario::ParamSpec> {
        let mut out = Vec::new();
        <TargetsFile as Describe>::describe("", &mut out);
        out.retain(|p| !p.key.starts_with("scenario."));
        out
    }

    /// Key paths of the parameters, in order.
    pub fn keys(&self) -> Vec<String> {
        self.file.parameters.iter().map(|p| p.key.clone()).collect()
    }

    /// The statistics that are fitted (not held out), in order, with their indices.
    pub fn fitted(&self) -> Vec<usize> {
        (0..self.statistics.len()).filter(|&i| !self.statistics[i].held_out).collect()
    }

    /// The base with the parameter values `theta` applied, or why they make no valid scenario.
    pub fn scenario(&self, theta: &[f64]) -> Result<Scenario, String> {
        self.scenario_of(0, theta)
    }

    /// Model `model`'s scenario with parameters `theta` (the base's when there is one model).
    pub fn scenario_of(&self, model: usize, theta: &[f64]) -> Result<Scenario, String> {
        apply(self.variants.get(model).unwrap_or(&self.base), &self.keys(), theta)
    }

    /// How many models are compared (1: none, the base alone).
    pub fn models(&self) -> usize {
        self.variants.len().max(1)
    }

    /// The names of the models compared (empty when there is one).
    pub fn model_names(&self) -> Vec<String> {
        self.file.models.iter().map(|m| m.name.clone()).collect()
    }

    /// The calibration's identity: SHA-256 of the method, the resolved file and the base
    /// scenario. A rerun resumes only generations of the same identity, so generations computed
    /// by another version of the method are never mixed with this one's. The stopping rules
    /// (`generations`, `budget`, `min_acceptance`, `tolerance`) and the predictive count are
    /// left out: they decide when the sampler stops and what follows, not what a generation
    /// holds, so a rerun that allows more resumes after the generations saved
    /// ([`super::abc::reusable`] keeps those these rules would have computed).
    pub fn identity(&self) -> String {
        let mut file = self.file.clone();
        let settings = AbcSettings::default();
        file.abc.generations = settings.generations;
        file.abc.budget = settings.budget;
        file.abc.min_acceptance = settings.min_acceptance;
        file.abc.tolerance = settings.tolerance;
        file.abc.predictive = settings.predictive;
        let mut text = format!("# method: {METHOD}\n");
        text.push_str(&toml::to_string(&file).unwrap_or_default());
        text.push_str("\n# base\n");
        text.push_str(&self.base.to_toml());
        crate::text::sha256_hex(text.as_bytes())
    }
}

/// The models of a targets file, each the base with its settings fixed; their problems, at
/// `models[i]`, added to `problems`.
fn models(parsed: &TargetsFile, base: &Scenario, problems: &mut Vec<Problem>) -> Vec<Scenario> {
    if parsed.models.len() == 1 {
        problems.push(Problem::new(
            "models",
            "found one [[models]] entry, expected none (the base is the one model) or at least two to compare",
        ));
    }
    let estimated: Vec<Option<String>> = parsed.parameters.iter().map(|p| canonical_key(base, &p.key).ok()).collect();
    let mut variants = Vec::new();
    for (i, m) in parsed.models.iter().enumerate() {
        let at = format!("models[{i}]");
        if m.name.trim().is_empty() {
            problems.push(Problem::new(join(&at, "name"), "missing `name`, expected the model's name"));
        } else if parsed.models[..i].iter().any(|o| o.name == m.name) {
            problems.push(Problem::new(
                join(&at, "name"),
                format!("found \"{}\" again, expected each model's name once", m.name),
            ));
        }
        let mut variant = base.clone();
        for (key, &v) in &m.set.0 {
            let key_at = join(&at, "set");
            if let Err(e) = slot(base, key) {
                problems.push(Problem::new(key_at, e));
                continue;
            }
            let generic = generic_key(base, key).unwrap_or_default();
            if let Some(why) = not_estimable(&generic) {
                problems
                    .push(Problem::new(key_at, format!("found `{key}`, expected a setting a model can fix: {why}")));
                continue;
            }
            if canonical_key(base, key).ok().is_some_and(|k| estimated.contains(&Some(k))) {
                problems.push(Problem::new(
                    key_at,
                    format!("found `{key}`, which is estimated, expected a setting the models do not share"),
                ));
                continue;
            }
            match with_value(&variant, key, v) {
                Ok(s) => variant = s,
                Err(e) => problems.push(Problem::new(key_at, e)),
            }
        }
        variants.push(variant);
    }
    variants
}

/// `base` with each key set to its value, validated.
pub fn apply(base: &Scenario, keys: &[String], theta: &[f64]) -> Result<Scenario, String> {
    let mut s = base.clone();
    for (k, v) in keys.iter().zip(theta) {
        s = with_value(&s, k, *v)?;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(extra: &str) -> Result<Targets, ScenarioError> {
        let text = format!("name = \"t\"\nbase = \"baseline\"\n{extra}");
        Targets::parse(&text, "t.toml", &crate::scenario::base::no_files)
    }

    fn problems(r: Result<Targets, ScenarioError>) -> Vec<crate::scenario::Located> {
        match r {
            Err(ScenarioError::Invalid { problems, .. }) => problems,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    const GOOD: &str = "[[observed]]\nmetric = \"annual_retention\"\nvalue = 0.65\nsd = 0.02\n\n[[parameters]]\nkey = \"behaviour.base_exit\"\nprior = \"uniform\"\nlow = 0.1\nhigh = 0.5\n";

    #[test]
    fn a_good_file_resolves_its_statistics_and_priors() {
        let t = targets(GOOD).unwrap();
        assert_eq!(t.priors, vec![Prior::Uniform { lo: 0.1, hi: 0.5 }]);
        assert_eq!(t.statistics[0].label, "annual_retention");
        assert!(matches!(t.statistics[0].reading, Reading::Summary(0)));
        let s = t.scenario(&[0.3]).unwrap();
        assert_eq!(s.behaviour.base_exit, 0.3);
    }

    #[test]
    fn series_and_survival_statistics_resolve() {
        let t = targets(&format!(
            "{GOOD}[[observed]]\nseries = \"members\"\ncoalition = \"food_bank\"\nyear = 45\nvalue = 30\nlow = 20\nhigh = 40\n\n[[observed]]\nsurvival_weeks = 52\ngroup = \"disadvantaged\"\nvalue = 0.6\nsd = 0.05\nheld_out = true\n"
        ))
        .unwrap();
        let s = &t.statistics[1];
        assert!(matches!(s.reading, Reading::Series { row: 260, .. }), "{:?}", s.reading);
        // A 90% interval of half-width 10 is an sd of 10 / 1.645.
        assert!((s.sd - 10.0 / 1.644_853_626_951_472_2).abs() < 1e-9, "{}", s.sd);
        assert_eq!(t.statistics[2].reading, Reading::Survival { spells: 2, ticks: 52 });
        assert_eq!(t.fitted(), vec![0, 1]);
    }

    #[test]
    fn a_flow_is_read_over_the_year_that_ends_at_its_year() {
        let t = targets(&format!(
            "{GOOD}[[observed]]\nseries = \"joins\"\nper = \"year\"\ncoalition = \"food_bank\"\nyear = 45\nvalue = 30\nsd = 5\n"
        ))
        .unwrap();
        // Recording starts at year 40 (tick 2080): year 45 is row 260, and its year the 52
        // weekly rows after row 208.
        assert!(
            matches!(t.statistics[1].reading, Reading::SeriesTotal { first: 209, last: 260, .. }),
            "{:?}",
            t.statistics[1].reading
        );
        assert_eq!(t.statistics[1].label, "joins_per_year@year45[food_bank/all]");
        let p = problems(targets(&format!(
            "{GOOD}[[observed]]\nseries = \"members\"\nper = \"year\"\nyear = 45\nvalue = 30\nsd = 5\n\n\
             [[observed]]\nseries = \"joins\"\nper = \"year\"\nyear = 40\nvalue = 30\nsd = 5\n\n\
             [[observed]]\nmetric = \"final_members\"\nper = \"year\"\nvalue = 30\nsd = 5\n\n\
             [[observed]]\nseries = \"joins\"\nper = \"month\"\nyear = 45\nvalue = 30\nsd = 5\n"
        )));
        let paths: Vec<&str> = p.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["observed[1].per", "observed[2].year", "observed[3].per", "observed[4].per"], "{p:?}");
        assert!(p[0].message.contains("only for a series that counts events (joins, exits"), "{}", p[0].message);
        assert!(p[1].message.contains("from 41"), "{}", p[1].message);
    }

    #[test]
    fn a_trajectory_is_one_statistic_a_year() {
        let t = targets(&format!(
            "{GOOD}[[observed]]\nseries = \"members\"\ncoalition = \"food_bank\"\nyears = [44, 46, 48]\nvalues = [30, 32, 31]\nsd = 4\n\n[[observed]]\nname = \"active\"\nseries = \"coalitions_active\"\nyears = [45, 50]\nvalues = [3, 3]\nsds = [0.5, 0.7]\n"
        ))
        .unwrap();
        let labels: Vec<&str> = t.statistics.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "annual_retention",
                "members@year44[food_bank/all]",
                "members@year46[food_bank/all]",
                "members@year48[food_bank/all]",
                "active@year45",
                "active@year50"
            ]
        );
        assert_eq!((t.statistics[2].value, t.statistics[2].sd), (32.0, 4.0));
        assert_eq!((t.statistics[5].value, t.statistics[5].sd), (3.0, 0.7));
        // Year 46 is two years of weekly ticks after year 44.
        match (t.statistics[1].reading, t.statistics[2].reading) {
            (Reading::Series { column: a, row: r1 }, Reading::Series { column: b, row: r2 }) => {
                assert_eq!((a, r2 - r1), (b, 104));
            }
            other => panic!("{other:?}"),
        }
        // Every problem at once: too few values, a year outside the recorded period, a bad sd,
        // and a year that repeats another statistic.
        let ps = problems(targets(&format!(
            "{GOOD}[[observed]]\nseries = \"members\"\nyears = [44, 99]\nvalues = [30]\nsds = [4, -1]\n\n[[observed]]\nseries = \"members\"\nyear = 45\nvalue = 3\nsd = 1\n\n[[observed]]\nseries = \"members\"\nyears = [45]\nvalues = [3]\nsd = 1\n"
        )));
        let paths: Vec<&str> = ps.iter().map(|p| p.path.as_str()).collect();
        for want in ["observed[1].values", "observed[1].sds[1]", "observed[1].years[1]", "observed[3]"] {
            assert!(paths.contains(&want), "{want} in {ps:?}");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_place() {
        let ps = problems(targets(
            "[[observed]]\nmetric = \"retention\"\nvalue = 0.6\n\n[[observed]]\nseries = \"members\"\nyear = 3\nvalue = 1\nsd = 1\n\n[[parameters]]\nkey = \"behaviour.base_exti\"\nlow = 0\nhigh = 1\n\n[[parameters]]\nkey = \"population.size\"\nlow = 100\nhigh = 200\n\n[[parameters]]\nkey = \"behaviour.join_max\"\nprior = \"normal\"\nmean = 0.1\n\n[[parameters]]\nkey = \"behaviour.base_exit\"\nlow = 0.5\nhigh = 1.5\n",
        ));
        let paths: Vec<&str> = ps.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "observed[0]",
                "observed[0].metric",
                "observed[1].year",
                "parameters[0].key",
                "parameters[1].key",
                "parameters[2].sd",
                "parameters[3].high"
            ],
            "{ps:#?}"
        );
        assert!(ps[0].message.contains("expected `sd` or an interval"), "{}", ps[0].message);
        assert!(ps[1].message.contains("annual_retention"), "{}", ps[1].message);
        assert!(ps[2].message.contains("recorded period, 40 to 50"), "{}", ps[2].message);
        assert!(ps[3].message.contains("did you mean `base_exit`"), "{}", ps[3].message);
        assert!(ps[4].message.contains("same residents"), "{}", ps[4].message);
        assert!(ps[6].message.contains("expected a number in [0, 1]"), "{}", ps[6].message);
        assert!(ps.iter().all(|p| p.line > 0));
    }

    #[test]
    fn normal_quantiles_are_exact_enough() {
        assert!((normal_quantile(0.95) - 1.644_853_626_951_472_2).abs() < 1e-12);
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813_5).abs() < 1e-10);
        assert_eq!(normal_quantile(0.5), 0.0);
    }
}
