//! Sweep files: a base scenario, axes over numeric scenario parameters addressed by key path,
//! a design, replications per point, and the headline outputs to record.
//!
//! Parsed and validated like scenario files (same located, one-line errors). Axis key paths
//! and every value an axis can take are checked against the base scenario before anything
//! runs.

use crate::observe::reading::reading;
use crate::scenario::base::{BaseReader, parse_on_base};
use crate::scenario::keys::{key_label, slot, with_setting, with_value};
use crate::scenario::outputs::OutputSpec;
use crate::scenario::params::{Describe, Problem, choice, section};
use crate::scenario::{Scenario, ScenarioError, Setting};

choice! {
    /// How sweep points are chosen.
    pub enum DesignKind {
        /// Every combination of the axes' values.
        Grid = "grid",
        /// `points` points, one per stratum of every axis (McKay et al. 1979).
        LatinHypercube = "latin_hypercube" | "lhs",
        /// Saltelli's scheme for Sobol indices: `base_samples × (axes + 3)` points (with the dummy).
        Sobol = "sobol" | "saltelli",
        /// Morris's elementary-effects screening: `trajectories × (axes + 2)` points (with the dummy).
        Morris = "morris",
    }
}

section! {
    /// The design of a sweep.
    pub struct Design {
        /// "grid", "latin_hypercube", "sobol" or "morris".
        kind: DesignKind = DesignKind::Grid;
        /// Points of a Latin hypercube.
        points: u32 = 20, unit "points", range(2, 10_000_000);
        /// Base samples N of a Sobol design, a power of two (N × (axes + 3) points are run with the dummy, N × (axes + 2) without).
        base_samples: u32 = 64, unit "samples", range(2, 10_000_000);
        /// Trajectories r of a Morris design (r × (axes + 2) points are run with the dummy, r × (axes + 1) without).
        trajectories: u32 = 20, unit "trajectories", range(2, 1_000_000);
        /// Grid levels p of a Morris design, an even number; each step moves one parameter by p / (2(p − 1)) of its range.
        levels: u32 = 4, unit "levels", range(2, 1000);
        /// Sobol and Morris designs: add a dummy parameter, the replications' random stream (a block's last row runs A's parameters on B's streams), whose indices are the noise floor a real parameter must clear.
        dummy: bool = true;
        /// Bootstrap resamples for the Sobol indices' and Morris μ*'s confidence intervals.
        bootstrap: u32 = 1000, unit "resamples", range(10, 1_000_000);
    }
}

section! {
    /// One sweep axis: a numeric scenario parameter and the values it takes.
    pub struct Axis {
        /// Key path of a numeric parameter of the base scenario; coalitions and groups by index or by name, e.g. `coalitions[0].governance.voice` or `coalitions[food_bank].governance.voice`.
        key: String = String::new();
        /// Explicit values (grid designs); overrides min, max and steps.
        values: Vec<f64> = Vec::new();
        /// The values of a text or true/false parameter (grid designs), e.g. `["professional", "shared", "community"]` for `coalitions[0].mode.planning` or `[false, true]`; a point records each choice's position (0, 1, …) and the CSV and charts show its text.
        choices: Vec<Setting> = Vec::new();
        /// Lower end of the axis.
        min: Option<f64> = None;
        /// Upper end of the axis.
        max: Option<f64> = None;
        /// Evenly spaced values from min to max (grid designs).
        steps: Option<u32> = None, range(2, 1_000_000);
        /// Human label for the charts and the CSV files' label columns (default: made from the key path, e.g. "voice (food_bank)" for `coalitions[food_bank].governance.voice`).
        label: String = String::new();
    }
}

section! {
    /// A sweep file.
    pub struct SweepFile {
        /// Required. Short name, used for the default output directory (`output/<name>/`).
        name: String = String::new();
        /// What the sweep explores.
        description: String = String::new();
        /// Base scenario file, relative to the sweep file; or "baseline" for the embedded baseline.
        base: String = String::new();
        /// Base scenario written inline instead of `base`.
        scenario: Option<Scenario> = None;
        /// Replications per point.
        replications: u32 = 20, range(1, 1_000_000);
        /// Master seed; point p, replication r draws from a stream derived from (seed, p, r).
        seed: u64 = 1;
        /// Grid and Latin hypercube designs: every point draws from the same streams (point 0's), so that differences between points are the parameters' effects, not replication noise; points whose parameters act only after the burn-in (later policy changes and shocks) then simulate the burn-in once per replication (warm starts). Sobol and Morris designs share streams within each block already.
        common_random_numbers: bool = false;
        /// Outputs to record: a summary.csv metric, optionally `metric/coalition/group` (e.g. `final_members/food_bank`); or a series.csv metric at a year from founding, `metric/coalition/group@YEAR` (e.g. `members/food_bank/all@45`).
        outputs: Vec<String> = vec!["annual_retention".to_string()];
        /// Whole trajectories to record at every point: a series.csv metric, optionally `metric/coalition/group` (e.g. `members/food_bank/all`), with no year; each point's mean, 95% interval, sd and n at every whole year of the base scenario's recorded period go to the sweep's `series.csv`.
        series: Vec<String> = Vec::new();
        /// How points are chosen.
        design: Design = Design::default();
        /// The parameters swept.
        axes: Vec<Axis> = Vec::new();
    }
}

/// A validated sweep: its resolved base scenario and the axes' ranges.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The file as written, with defaults.
    pub file: SweepFile,
    /// The base scenario every point starts from.
    pub base: Scenario,
    /// Where the base came from.
    pub base_origin: String,
}

impl Axis {
    /// The grid values of this axis.
    pub fn grid_values(&self) -> Vec<f64> {
        if !self.choices.is_empty() {
            return (0..self.choices.len()).map(|i| i as f64).collect();
        }
        if !self.values.is_empty() {
            return self.values.clone();
        }
        match (self.min, self.max, self.steps) {
            (Some(lo), Some(hi), Some(n)) => {
                (0..n).map(|i| if i + 1 == n { hi } else { lo + (hi - lo) * i as f64 / (n - 1) as f64 }).collect()
            }
            _ => Vec::new(),
        }
    }

    /// How many values this axis takes in a grid, without listing them.
    pub fn grid_len(&self) -> u64 {
        if !self.choices.is_empty() {
            return self.choices.len() as u64;
        }
        if self.values.is_empty() { self.steps.unwrap_or(0) as u64 } else { self.values.len() as u64 }
    }

    /// The range of this axis for continuous designs.
    pub fn bounds(&self) -> Option<(f64, f64)> {
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            _ if !self.values.is_empty() => Some((
                self.values.iter().copied().fold(f64::INFINITY, f64::min),
                self.values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            )),
            _ => None,
        }
    }
}

/// The most points a sweep design may have: its plan is held in memory.
pub const MAX_POINTS: u64 = 10_000_000;

/// Problems with an axis of choices: a grid design, nothing else given, and every choice a
/// valid value of its parameter.
fn choice_problems(base: &Scenario, axis: &Axis, at: &str, continuous: bool) -> Vec<Problem> {
    let mut out = Vec::new();
    if continuous {
        out.push(Problem::new(
            format!("{at}.choices"),
            "found `choices` in a design that samples ranges, expected a grid design (choices have no range)",
        ));
    }
    if !axis.values.is_empty() || axis.min.is_some() || axis.max.is_some() || axis.steps.is_some() {
        out.push(Problem::new(
            format!("{at}.choices"),
            "found `choices` with `values`, `min`, `max` or `steps`, expected one kind of axis",
        ));
    }
    for (j, choice) in axis.choices.iter().enumerate() {
        if let Err(e) = with_setting(base, &axis.key, &choice.to_toml()) {
            out.push(Problem::new(format!("{at}.choices[{j}]"), e));
        }
        if axis.choices[..j].contains(choice) {
            out.push(Problem::new(format!("{at}.choices[{j}]"), "found this choice again, expected each once"));
        }
    }
    out
}

impl Axis {
    /// Apply the axis's value at a point (a number, or a choice's position) to `s`.
    pub fn apply(&self, s: &Scenario, v: f64) -> Result<Scenario, String> {
        match self.choices.get(v as usize) {
            Some(choice) if !self.choices.is_empty() => with_setting(s, &self.key, &choice.to_toml()),
            _ if !self.choices.is_empty() => Err(format!("no choice at position {v} of `{}`", self.key)),
            _ => with_value(s, &self.key, v),
        }
    }

    /// The text of each choice (empty for a numeric axis).
    pub fn choice_names(&self) -> Vec<String> {
        self.choices
            .iter()
            .map(|c| match c {
                Setting::Text(t) => t.clone(),
                other => other.to_toml().to_string(),
            })
            .collect()
    }
}

impl Sweep {
    /// Parse and validate sweep text; `read` reads a `base` scenario file.
    pub fn parse(text: &str, file: &str, read: BaseReader) -> Result<Sweep, ScenarioError> {
        parse_on_base(
            text,
            file,
            read,
            |f: &SweepFile| (f.scenario.as_ref(), f.base.as_str()),
            |f, base, origin| {
                let mut problems = Vec::new();
                if f.name.trim().is_empty() {
                    problems.push(Problem::new("name", "missing required key `name`, expected a short sweep name"));
                }
                let sweep = Sweep { file: f.clone(), base, base_origin: origin };
                problems.extend(sweep.problems());
                if problems.is_empty() { Ok(sweep) } else { Err(problems) }
            },
        )
    }

    /// Problems with the axes and outputs against the base scenario.
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let f = &self.file;
        if f.axes.is_empty() {
            out.push(Problem::new("axes", "missing required table [[axes]], expected at least one axis"));
        }
        if f.common_random_numbers && matches!(f.design.kind, DesignKind::Sobol | DesignKind::Morris) {
            out.push(Problem::new(
                "common_random_numbers",
                "found true with a Sobol or Morris design, expected false: these designs share streams within each block already, and their estimators need the blocks' streams to differ",
            ));
        }
        let continuous = f.design.kind != DesignKind::Grid;
        for (i, axis) in f.axes.iter().enumerate() {
            let at = format!("axes[{i}]");
            if !axis.choices.is_empty() {
                out.extend(choice_problems(&self.base, axis, &at, continuous));
                if f.axes[..i].iter().any(|a| a.key == axis.key) {
                    out.push(Problem::new(
                        format!("{at}.key"),
                        format!("found `{}` again, expected each axis once", axis.key),
                    ));
                }
                continue;
            }
            if let Err(e) = slot(&self.base, &axis.key) {
                out.push(Problem::new(format!("{at}.key"), e));
                continue;
            }
            if f.axes[..i].iter().any(|a| a.key == axis.key) {
                out.push(Problem::new(
                    format!("{at}.key"),
                    format!("found `{}` again, expected each axis once", axis.key),
                ));
            }
            let explicit = !axis.values.is_empty();
            let ranged = axis.min.is_some() || axis.max.is_some() || axis.steps.is_some();
            if continuous && (axis.min.is_none() || axis.max.is_none()) && !explicit {
                out.push(Problem::new(at.clone(), "missing `min` and `max`, expected the range this design samples"));
                continue;
            }
            if !continuous && !explicit && (axis.min.is_none() || axis.max.is_none() || axis.steps.is_none()) {
                out.push(Problem::new(
                    at.clone(),
                    "missing `values`, or `min`, `max` and `steps`, expected the values this grid axis takes",
                ));
                continue;
            }
            if explicit && ranged && !continuous {
                out.push(Problem::new(
                    format!("{at}.values"),
                    "found both `values` and `min`/`max`/`steps`, expected one",
                ));
                continue;
            }
            if let (Some(lo), Some(hi)) = (axis.min, axis.max)
                && lo > hi
            {
                out.push(Problem::new(format!("{at}.max"), format!("found {hi}, expected at least min = {lo}")));
                continue;
            }
            // Every value the axis can take must make a valid scenario. Along one axis every
            // rule is an interval (a range check, or a bound set by another parameter), so the
            // valid values form an interval and the two extreme values suffice: validating a
            // million-step grid costs two checks, not a million.
            let probe: Vec<(String, f64)> = if explicit && !continuous {
                let by = |better: fn(f64, f64) -> bool| {
                    let mut k = 0;
                    for (j, v) in axis.values.iter().enumerate() {
                        if better(*v, axis.values[k]) {
                            k = j;
                        }
                    }
                    (format!("{at}.values[{k}]"), axis.values[k])
                };
                vec![by(|a, b| a < b), by(|a, b| a > b)]
            } else {
                let (lo, hi) = axis.bounds().expect("checked above");
                vec![(format!("{at}.min"), lo), (format!("{at}.max"), hi)]
            };
            for (path, v) in probe {
                if let Err(e) = with_value(&self.base, &axis.key, v) {
                    out.push(Problem::new(path, e));
                    break;
                }
            }
        }
        if f.design.kind == DesignKind::Sobol {
            let n = f.design.base_samples;
            if !n.is_power_of_two() {
                let (lo, hi) = (1u32 << (31 - n.leading_zeros()), 1u32 << (32 - n.leading_zeros()));
                out.push(Problem::new(
                    "design.base_samples",
                    format!(
                        "found {n}, expected a power of two such as {lo} or {hi}: the Sobol' sequence's base samples are balanced only in powers of two"
                    ),
                ));
            }
            let most = crate::observe::sensitivity::MAX_INPUTS - usize::from(f.design.dummy);
            if f.axes.len() > most {
                out.push(Problem::new(
                    "axes",
                    format!("found {} axes, expected at most {most} in a Sobol design", f.axes.len()),
                ));
            }
        }
        if f.design.kind == DesignKind::Morris && f.design.levels % 2 == 1 {
            out.push(Problem::new(
                "design.levels",
                format!("found {}, expected an even number of levels (4 is usual): an odd grid is not symmetric under the step p / (2(p − 1))", f.design.levels),
            ));
        }
        if let Some(n) = self.design_points()
            && n > MAX_POINTS
        {
            out.push(Problem::new(
                "design",
                format!("the design has {n} points, expected at most {MAX_POINTS}; use fewer axis values or samples"),
            ));
        }
        if f.outputs.is_empty() {
            out.push(Problem::new("outputs", "found none, expected at least one output to record"));
        }
        let cat = crate::observe::Catalogue::new(&self.base);
        for (i, o) in f.outputs.iter().enumerate() {
            if let Err(e) = reading(&OutputSpec::parse(o), &cat) {
                out.push(Problem::new(format!("outputs[{i}]"), e));
            }
        }
        for (i, text) in f.series.iter().enumerate() {
            let spec = OutputSpec::parse(text);
            let problem = if spec.year.is_some() {
                Some(format!(
                    "found \"{text}\", expected a series without a year: a whole trajectory is recorded at every year (for one year, add it to `outputs`)"
                ))
            } else {
                let first = cat.whole_years().first().map_or(f64::NAN, |y| y.0);
                reading(&OutputSpec { year: Some(first), ..spec }, &cat).err()
            };
            if let Some(e) = problem {
                out.push(Problem::new(format!("series[{i}]"), e));
            }
        }
        out
    }

    /// Labels of the axes, in axis order: each axis's `label`, or one made from its key path.
    pub fn axis_labels(&self) -> Vec<String> {
        self.file
            .axes
            .iter()
            .map(|a| if a.label.trim().is_empty() { key_label(&self.base, &a.key) } else { a.label.trim().to_string() })
            .collect()
    }

    /// The whole trajectories recorded at every point, in file order (specs without a year).
    pub fn trajectories(&self) -> Vec<OutputSpec> {
        self.file.series.iter().map(|o| OutputSpec::parse(o)).collect()
    }

    /// The years (from founding) at which the trajectories are read: every whole year of the
    /// base scenario's recorded period; none when the sweep records no trajectory.
    pub fn trajectory_years(&self) -> Vec<f64> {
        if self.file.series.is_empty() {
            return Vec::new();
        }
        crate::observe::Catalogue::new(&self.base).whole_years().into_iter().map(|(year, _)| year).collect()
    }

    /// The documented definition of every sweep-file key (the inline scenario's keys are
    /// those of a scenario file).
    pub fn parameter_specs() -> Vec<crate::scenario::ParamSpec> {
        let mut out = Vec::new();
        <SweepFile as Describe>::describe("", &mut out);
        out.retain(|p| !p.key.starts_with("scenario."));
        out
    }

    /// Points of the design (None when it would overflow): the product of the grid axes'
    /// value counts, the Latin hypercube's points, a Sobol design's N × (inputs + 2) or a Morris
    /// design's r × (inputs + 1).
    pub fn design_points(&self) -> Option<u64> {
        let f = &self.file;
        match f.design.kind {
            DesignKind::Grid => f.axes.iter().try_fold(1u64, |n, a| n.checked_mul(a.grid_len())),
            DesignKind::LatinHypercube => Some(f.design.points as u64),
            DesignKind::Sobol => (f.design.base_samples as u64).checked_mul(self.design_inputs() as u64 + 2),
            DesignKind::Morris => (f.design.trajectories as u64).checked_mul(self.design_inputs() as u64 + 1),
        }
    }

    /// Whether the design has the dummy input: Sobol and Morris designs, unless switched off.
    pub fn has_dummy(&self) -> bool {
        matches!(self.file.design.kind, DesignKind::Sobol | DesignKind::Morris) && self.file.design.dummy
    }

    /// The inputs of a Sobol or Morris design: the axes and the dummy if it has one.
    pub fn design_inputs(&self) -> usize {
        self.file.axes.len() + usize::from(self.has_dummy())
    }

    /// Estimated peak memory of the sweep in bytes on `threads` threads: each thread holds one
    /// world and one replication's record at a time (the base scenario's sizes; an axis that
    /// grows the population grows this too), a chunk of points in flight holds its
    /// replications' outputs, and the plan and every finished point are kept until the end.
    pub fn memory_estimate(&self, threads: usize) -> u64 {
        let threads = threads.max(1) as u64;
        let base = &self.base;
        // A trajectory value is another output of a replication, and is kept per point as
        // its statistics only.
        let trajectory_values = (self.file.series.len() as u64).saturating_mul(self.trajectory_years().len() as u64);
        let scalar_outputs = self.file.outputs.len().max(1) as u64;
        let outputs = scalar_outputs + trajectory_values;
        let axes = self.file.axes.len() as u64;
        let points = self.design_points().unwrap_or(u64::MAX);
        let chunk = (threads * 4).max(8).min(points);
        // A replication's outputs (a small vector and its copy for the statistics); a point's
        // plan entry, its result and its row of points.csv. Fitted to measured peaks
        // (docs/PERFORMANCE.md), allocator overhead included.
        let per_replication = 56 + outputs * 16;
        // A point's result also keeps every replication's value of every output (16 bytes
        // each) in a vector of its own (header, allocator overhead: measured, 2026-11-24).
        let kept = (self.file.replications as u64)
            .saturating_mul(scalar_outputs * 16)
            .saturating_add(64)
            .saturating_add(trajectory_values * 40);
        let per_point = (axes * 8 + 48) + (axes * 8 + outputs * 24 + 96) + (16 + axes * 12 + outputs * 60) + 8 + kept;
        // Saturating: an absurd design must read as too big, never wrap round to small.
        crate::scenario::PROCESS_BYTES
            .saturating_add(threads.saturating_mul(base.world_bytes().saturating_add(base.record_bytes())))
            .saturating_add(chunk.saturating_mul(self.file.replications as u64).saturating_mul(per_replication))
            .saturating_add(points.saturating_mul(per_point))
    }

    /// Refuse a sweep that would not fit in `available` bytes, before any work.
    pub fn check_fits(&self, threads: usize, available: u64) -> Result<(), Problem> {
        crate::scenario::refuse_beyond(
            self.memory_estimate(threads),
            available,
            "replications",
            &format!(
                "a sweep of {} points x {} replications of {} agents on {threads} threads",
                self.design_points().unwrap_or(u64::MAX),
                self.file.replications,
                self.base.population.size
            ),
            "reduce the design's points, replications, the base's population.size or --threads",
        )
    }

    /// Output specs in file order.
    pub fn outputs(&self) -> Vec<OutputSpec> {
        self.file.outputs.iter().map(|o| OutputSpec::parse(o)).collect()
    }

    /// The sweep's identity: SHA-256 of the resolved sweep and base scenario. Shards and
    /// resumed runs must match it.
    pub fn identity(&self) -> String {
        let mut text = toml::to_string(&self.file).unwrap_or_default();
        if self.file.design.kind == DesignKind::Sobol {
            // How the points are chosen and the replications seeded is part of what the points
            // mean: a Sobol sweep begun with another sampler or seeding never resumes with this.
            text.push_str("\n# seeding: common random numbers within each Saltelli block\n");
            text.push_str(
                "# sampler: scrambled Sobol' sequence (Joe & Kuo 6.21201; linear matrix scramble, digital shift)\n",
            );
        }
        text.push_str("\n# base\n");
        text.push_str(&self.base.to_toml());
        crate::text::sha256_hex(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::base::no_files;

    fn sweep(extra: &str) -> Result<Sweep, ScenarioError> {
        let text = format!("name = \"s\"\nbase = \"baseline\"\nreplications = 2\n{extra}");
        Sweep::parse(&text, "s.toml", &no_files)
    }

    fn first_problem(r: Result<Sweep, ScenarioError>) -> crate::scenario::Located {
        match r {
            Err(ScenarioError::Invalid { problems, .. }) => problems[0].clone(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn labels_read_as_words_and_name_the_coalition_or_group() {
        let b = Scenario::baseline();
        let first = &b.coalitions[0].name;
        assert_eq!(key_label(&b, "coalitions[0].governance.voice"), format!("voice ({first})"));
        assert_eq!(key_label(&b, "coalitions[food_bank].funding.contract.amount"), "contract amount (food_bank)");
        assert_eq!(key_label(&b, "behaviour.base_exit"), "base exit");
        assert_eq!(
            key_label(&b, "population.groups[1].time_cost"),
            format!("time cost ({})", b.population.groups[1].name)
        );
        let spec = OutputSpec::parse("members/food_bank/disadvantaged@45");
        assert_eq!(spec.human_label(), "members (food_bank, disadvantaged) at year 45");
        assert_eq!(OutputSpec::parse("top10_hours_share").human_label(), "top 10% hours share");
        // An axis's own label wins; blank falls back to the key path's.
        let s = sweep("[[axes]]\nkey = \"behaviour.base_exit\"\nlabel = \" exits from life events \"\nvalues = [0.1, 0.2]\n[[axes]]\nkey = \"policy.performance_regime\"\nlabel = \" \"\nvalues = [0, 1]\n").unwrap();
        assert_eq!(s.axis_labels(), ["exits from life events", "performance regime"]);
    }

    #[test]
    fn grid_axis_values() {
        let s = sweep("[[axes]]\nkey = \"coalitions[0].governance.voice\"\nmin = 0.2\nmax = 1.0\nsteps = 5\n").unwrap();
        let v = s.file.axes[0].grid_values();
        assert_eq!(v.len(), 5);
        assert!((v[1] - 0.4).abs() < 1e-12 && v[4] == 1.0);
    }

    #[test]
    fn bad_key_path_is_located_with_a_hint() {
        let p = first_problem(sweep("[[axes]]\nkey = \"coalitions[0].governance.voise\"\nvalues = [0.5]\n"));
        assert_eq!(p.path, "axes[0].key");
        assert_eq!(p.line, 5);
        assert!(p.message.contains("did you mean `voice`"), "{}", p.message);
        let p = first_problem(sweep("[[axes]]\nkey = \"coalitions[70].staff\"\nvalues = [1]\n"));
        assert!(p.message.contains("index 70 does not exist"), "{}", p.message);
        let p = first_problem(sweep("[[axes]]\nkey = \"name\"\nvalues = [1]\n"));
        assert!(p.message.contains("expected a numeric parameter"), "{}", p.message);
    }

    #[test]
    fn out_of_range_values_are_rejected_before_running() {
        let p = first_problem(sweep("[[axes]]\nkey = \"coalitions[0].governance.voice\"\nvalues = [0.5, 1.5]\n"));
        assert_eq!(p.path, "axes[0].values[1]");
        assert!(p.message.contains("expected a number in [0, 1]"), "{}", p.message);
        let p = first_problem(sweep(
            "[design]\nkind = \"sobol\"\n[[axes]]\nkey = \"policy.performance_regime\"\nmin = -0.5\nmax = 1.0\n",
        ));
        assert_eq!(p.path, "axes[0].min");
    }

    #[test]
    fn a_sobol_design_takes_a_power_of_two_base_samples() {
        let axis = "[[axes]]\nkey = \"policy.performance_regime\"\nmin = 0.0\nmax = 1.0\n";
        let p = first_problem(sweep(&format!("[design]\nkind = \"sobol\"\nbase_samples = 48\n{axis}")));
        assert_eq!(p.path, "design.base_samples");
        assert!(p.message.starts_with("found 48, expected a power of two such as 32 or 64"), "{}", p.message);
        let s = sweep(&format!("[design]\nkind = \"sobol\"\nbase_samples = 64\n{axis}")).unwrap();
        assert_eq!(s.design_points(), Some(64 * 4), "one axis, the dummy, A and B");
    }

    #[test]
    fn outputs_must_exist() {
        let p = first_problem(sweep(
            "outputs = [\"retention\"]\n[[axes]]\nkey = \"policy.performance_regime\"\nvalues = [0.5]\n",
        ));
        assert_eq!(p.path, "outputs[0]");
        assert!(p.message.contains("annual_retention"));
        assert!(sweep("outputs = [\"final_members/food_bank\"]\n[[axes]]\nkey = \"policy.performance_regime\"\nvalues = [0.5]\n").is_ok());
    }

    #[test]
    fn integer_parameters_round() {
        let s = Scenario::baseline();
        let t = with_value(&s, "population.size", 1234.4).unwrap();
        assert_eq!(t.population.size, 1234);
        assert_eq!(with_value(&s, "coalitions[1].staff", 2.5).unwrap().coalitions[1].staff, 2.5);
    }
}
