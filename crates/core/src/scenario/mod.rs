//! Scenario files: parse, fill defaults, validate, and report problems by file, key path
//! and line:column.
//!
//! This module owns the scenario format. It knows nothing of the model's internals: the
//! model reads the validated [`Scenario`] it returns.

pub mod json_schema;
mod locate;
pub use locate::line_col;
pub mod base;
pub mod keys;
pub mod marks;
pub mod outputs;
pub mod params;
mod schema;

pub use params::{ParamSpec, Problem, Range};
pub use schema::*;

use params::{Check, Describe};
use toml::de::DeTable;

/// The baseline scenario shipped with the binary (`scenarios/baseline.toml`).
pub const BASELINE: &str = include_str!("../../../../scenarios/baseline.toml");

/// Tolerance for group shares summing to 1.
pub const SHARE_TOLERANCE: f64 = 1e-6;

/// A problem placed in the source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// Key path, empty for the document as a whole.
    pub path: String,
    /// What was found and what was expected.
    pub message: String,
}

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// File name as given.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not a valid scenario; one line per problem.
    #[error("{}", render_problems(file, problems))]
    Invalid {
        /// File name as given.
        file: String,
        /// Every problem found, in document order.
        problems: Vec<Located>,
    },
}

fn render_problems(file: &str, problems: &[Located]) -> String {
    problems
        .iter()
        .map(|p| {
            let at = if p.path.is_empty() { String::new() } else { format!(" {}:", p.path) };
            format!("{file}:{}:{}:{at} {}", p.line, p.col, p.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Scenario {
    /// Parse and validate scenario text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        parse_document(text, file, Scenario::check_consistency_problems)
    }

    /// The embedded baseline scenario.
    pub fn baseline() -> Scenario {
        Scenario::parse(BASELINE, "scenarios/baseline.toml").expect("the shipped baseline is valid (tested)")
    }

    /// Every problem with this scenario: ranges and finiteness of each parameter, then the
    /// rules that tie parameters together.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        self.check("", &mut out);
        self.check_consistency(&mut out);
        out
    }

    fn check_consistency_problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        self.check_consistency(&mut out);
        out
    }

    fn check_consistency(&self, out: &mut Vec<Problem>) {
        if self.name.trim().is_empty() {
            out.push(Problem::new("name", "missing required key `name`, expected a short scenario name"));
        }
        let groups = &self.population.groups;
        if groups.is_empty() {
            out.push(Problem::new(
                "population.groups",
                "missing required table [[population.groups]], expected at least one population group",
            ));
        } else {
            let total: f64 = groups.iter().map(|g| g.share).sum();
            // A share outside (0, 1] is reported at the share itself; the sum would only
            // restate it.
            let shares_valid = groups.iter().all(|g| g.share > 0.0 && g.share <= 1.0);
            if shares_valid && total.is_finite() && (total - 1.0).abs() > SHARE_TOLERANCE {
                out.push(Problem::new(
                    "population.groups",
                    format!("group shares sum to {total}, expected 1 (within {SHARE_TOLERANCE})"),
                ));
            }
        }
        unique_names(groups.iter().map(|g| g.name.as_str()), "population.groups", "group", out);
        self.check_areas(out);
        if self.coalitions.is_empty() {
            out.push(Problem::new(
                "coalitions",
                "missing required table [[coalitions]], expected at least one coalition",
            ));
        }
        unique_names(self.coalitions.iter().map(|c| c.name.as_str()), "coalitions", "coalition", out);

        let size = self.population.size as u64;
        let founders: u64 = self.coalitions.iter().map(|c| c.founders as u64).sum();
        if founders > size {
            out.push(Problem::new(
                "coalitions",
                format!("coalitions have {founders} founders in all, expected at most the population size {size}"),
            ));
        }
        if self.population.network.mean_degree as u64 >= size {
            out.push(Problem::new(
                "population.network.mean_degree",
                format!("found {}, expected fewer ties than agents ({size})", self.population.network.mean_degree),
            ));
        }
        if self.organisation.credentialed_roles && !self.organisation.role_capacity {
            out.push(Problem::new(
                "organisation.credentialed_roles",
                "found true with organisation.role_capacity = false, expected role_capacity = true: credentialed roles are a share of a limited number of roles",
            ));
        }
        let horizon = self.horizon_years();
        if let Err(problems) = self.timeline() {
            out.extend(problems);
        }
        for (c, coalition) in self.coalitions.iter().enumerate() {
            self.check_area_name(&coalition.area, &format!("coalitions[{c}].area"), out);
        }
        for (i, s) in self.policy.shocks.iter().enumerate() {
            let path = format!("policy.shocks[{i}]");
            self.check_area_name(&s.area, &format!("{path}.area"), out);
            if !s.coalition.is_empty() && !self.coalitions.iter().any(|c| c.name == s.coalition) {
                out.push(Problem::new(
                    format!("{path}.coalition"),
                    format!("found \"{}\", expected the name of a coalition ({})", s.coalition, self.coalition_names()),
                ));
            }
            if s.year > horizon {
                out.push(Problem::new(
                    format!("{path}.year"),
                    format!("found {}, expected a year within the horizon of {horizon} years", s.year),
                ));
            }
        }
        for (c, coalition) in self.coalitions.iter().enumerate() {
            for (k, name) in coalition.governance.outreach_target.iter().enumerate() {
                if !groups.iter().any(|g| &g.name == name) {
                    let names: Vec<String> = groups.iter().map(|g| format!("\"{}\"", g.name)).collect();
                    out.push(Problem::new(
                        format!("coalitions[{c}].governance.outreach_target[{k}]"),
                        format!("found \"{name}\", expected the name of a population group ({})", names.join(", ")),
                    ));
                }
            }
            let funding = format!("coalitions[{c}].funding");
            for (g, grant) in coalition.funding.grants.iter().enumerate() {
                if grant.start_year > horizon {
                    out.push(Problem::new(
                        format!("{funding}.grants[{g}].start_year"),
                        format!("found {}, expected a year within the horizon of {horizon} years", grant.start_year),
                    ));
                }
            }
            if let Some(contract) = &coalition.funding.contract
                && contract.start_year > horizon
            {
                out.push(Problem::new(
                    format!("{funding}.contract.start_year"),
                    format!("found {}, expected a year within the horizon of {horizon} years", contract.start_year),
                ));
            }
        }
    }

    /// Areas: unique names unlike any group's, shares summing to 1, mixes of real groups
    /// summing to 1, and together the groups' own shares.
    fn check_areas(&self, out: &mut Vec<Problem>) {
        let areas = &self.population.areas;
        if areas.is_empty() {
            return;
        }
        let groups = &self.population.groups;
        unique_names(areas.iter().map(|a| a.name.as_str()), "population.areas", "area", out);
        for (a, area) in areas.iter().enumerate() {
            let at = format!("population.areas[{a}]");
            if groups.iter().any(|g| g.name == area.name) {
                out.push(Problem::new(
                    format!("{at}.name"),
                    format!(
                        "found \"{}\", expected a name no group has (outputs name groups and areas alike)",
                        area.name
                    ),
                ));
            }
            for name in area.mix.keys() {
                if !groups.iter().any(|g| &g.name == name) {
                    let names: Vec<String> = groups.iter().map(|g| format!("\"{}\"", g.name)).collect();
                    out.push(Problem::new(
                        format!("{at}.mix.{name}"),
                        format!("found \"{name}\", expected the name of a population group ({})", names.join(", ")),
                    ));
                }
            }
            let total: f64 = area.mix.values().sum();
            if total.is_finite() && (total - 1.0).abs() > SHARE_TOLERANCE {
                out.push(Problem::new(
                    format!("{at}.mix"),
                    format!("the area's group shares sum to {total}, expected 1 (within {SHARE_TOLERANCE})"),
                ));
            }
        }
        let total: f64 = areas.iter().map(|a| a.share).sum();
        if areas.iter().all(|a| a.share > 0.0 && a.share <= 1.0) && (total - 1.0).abs() > SHARE_TOLERANCE {
            out.push(Problem::new(
                "population.areas",
                format!("area shares sum to {total}, expected 1 (within {SHARE_TOLERANCE})"),
            ));
            return;
        }
        for (g, group) in groups.iter().enumerate() {
            let implied = self.population.areas_share_of(&group.name);
            if implied.is_finite() && (implied - group.share).abs() > SHARE_TOLERANCE {
                out.push(Problem::new(
                    format!("population.groups[{g}].share"),
                    format!(
                        "found {}, expected {} (within {SHARE_TOLERANCE}): the share the areas' mixes give the group (sum of area share x the area's share of it)",
                        group.share,
                        crate::text::num(implied)
                    ),
                ));
            }
        }
    }

    /// An area name, where one may be given (empty: none).
    fn check_area_name(&self, name: &str, path: &str, out: &mut Vec<Problem>) {
        if name.is_empty() || self.population.areas.iter().any(|a| a.name == name) {
            return;
        }
        let expected = if self.population.areas.is_empty() {
            "no area: the scenario has no population.areas".to_string()
        } else {
            let names: Vec<String> = self.population.areas.iter().map(|a| format!("\"{}\"", a.name)).collect();
            format!("the name of an area ({})", names.join(", "))
        };
        out.push(Problem::new(path, format!("found \"{name}\", expected {expected}")));
    }

    /// The scenario in force after each policy change, in the order they take effect: (first
    /// tick of the new value, scenario). Changes in the same year apply in file order. Every
    /// change is checked against the scenario it changes: its key must name a parameter that
    /// can change during a run, its value must fit, and it must fall within the horizon.
    pub fn timeline(&self) -> Result<Vec<(u32, Scenario)>, Vec<Problem>> {
        let changes = &self.policy.changes;
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let mut order: Vec<usize> = (0..changes.len()).collect();
        order.sort_by(|&a, &b| changes[a].year.total_cmp(&changes[b].year).then(a.cmp(&b)));
        let mut current = self.clone();
        current.policy.changes.clear();
        let horizon = self.horizon_years();
        let tpy = self.simulation.ticks_per_year as f64;
        let (mut out, mut problems) = (Vec::new(), Vec::new());
        for i in order {
            let change = &changes[i];
            let at = format!("policy.changes[{i}]");
            if change.key.trim().is_empty() {
                problems.push(Problem::new(
                    format!("{at}.key"),
                    "missing required key `key`, expected the key path of a parameter",
                ));
                continue;
            }
            if matches!(change.value, Setting::Number(x) if x.is_nan()) {
                problems.push(Problem::new(
                    format!("{at}.value"),
                    "missing required key `value`, expected the parameter's new value",
                ));
                continue;
            }
            if change.year > horizon {
                problems.push(Problem::new(
                    format!("{at}.year"),
                    format!(
                        "found {}, expected a year within the horizon of {horizon} years (burn-in included)",
                        change.year
                    ),
                ));
                continue;
            }
            let keys = match self.change_keys(change) {
                Ok(keys) => keys,
                Err(e) => {
                    problems.push(Problem::new(format!("{at}.{}", e.0), e.1));
                    continue;
                }
            };
            let mut next = current.clone();
            let mut failed = false;
            for key in &keys {
                match keys::generic_key(&next, key) {
                    Err(e) => {
                        problems.push(Problem::new(format!("{at}.key"), e));
                        failed = true;
                        break;
                    }
                    Ok(generic) => {
                        if let Some(why) = fixed_for_the_run(&generic) {
                            problems.push(Problem::new(
                                format!("{at}.key"),
                                format!(
                                    "found `{}`, expected a parameter that can change during a run: {why}",
                                    change.key
                                ),
                            ));
                            failed = true;
                            break;
                        }
                    }
                }
                match keys::with_setting(&next, key, &change.value.to_toml()) {
                    Ok(changed) => next = changed,
                    Err(e) => {
                        problems.push(Problem::new(format!("{at}.value"), e));
                        failed = true;
                        break;
                    }
                }
            }
            if !failed {
                current = next;
                out.push(((change.year * tpy).round() as u32, current.clone()));
            }
        }
        if problems.is_empty() { Ok(out) } else { Err(problems) }
    }

    /// The key paths a change sets: its key, or with `coalitions.*.` one per coalition (located
    /// in its area, if it names one). Err: the field at fault and why.
    fn change_keys(&self, change: &Change) -> Result<Vec<String>, (&'static str, String)> {
        let Some(rest) = change.key.strip_prefix("coalitions.*.") else {
            if !change.area.is_empty() {
                return Err((
                    "area",
                    format!(
                        "found \"{}\" with key `{}`, expected a key starting `coalitions.*.` (the area selects the coalitions it changes)",
                        change.area, change.key
                    ),
                ));
            }
            return Ok(vec![change.key.clone()]);
        };
        if !change.area.is_empty() {
            let mut problems = Vec::new();
            self.check_area_name(&change.area, "area", &mut problems);
            if let Some(p) = problems.pop() {
                return Err(("area", p.message));
            }
        }
        let keys: Vec<String> = self
            .coalitions
            .iter()
            .filter(|c| change.area.is_empty() || c.area == change.area)
            .map(|c| format!("coalitions.{}.{rest}", c.name))
            .collect();
        if keys.is_empty() {
            return Err((
                "area",
                format!("found \"{}\", expected an area with a programme located in it", change.area),
            ));
        }
        Ok(keys)
    }

    fn coalition_names(&self) -> String {
        if self.coalitions.is_empty() {
            return "the scenario has none".to_string();
        }
        self.coalitions.iter().map(|c| format!("\"{}\"", c.name)).collect::<Vec<_>>().join(", ")
    }

    /// Number of ticks recorded, after the burn-in.
    pub fn ticks(&self) -> u32 {
        self.simulation.ticks.unwrap_or(self.simulation.years.saturating_mul(self.simulation.ticks_per_year))
    }

    /// Ticks simulated from founding before recording starts.
    pub fn burn_in_ticks(&self) -> u32 {
        self.simulation.burn_in_years.saturating_mul(self.simulation.ticks_per_year)
    }

    /// Ticks simulated in all: burn-in plus the recorded horizon.
    pub fn total_ticks(&self) -> u32 {
        self.burn_in_ticks().saturating_add(self.ticks())
    }

    /// Years from founding to the end of the run (burn-in included): the clock every year in
    /// a scenario is read on.
    pub fn horizon_years(&self) -> f64 {
        self.total_ticks() as f64 / self.simulation.ticks_per_year as f64
    }

    /// Length of one tick in weeks.
    pub fn weeks_per_tick(&self) -> f64 {
        52.0 / self.simulation.ticks_per_year as f64
    }

    /// Estimated peak memory of a run in bytes: the process itself, one world per replication
    /// in flight (agents, ties, a year of membership bitsets, network construction: one per
    /// worker thread, but never more than there are replications, since the threads of one
    /// replication share its world) plus every replication's series rows, which are kept
    /// until the cross-replication reduction. Measured peaks are 0.8 times this or less
    /// (docs/PERFORMANCE.md).
    pub fn memory_estimate(&self, threads: usize, replications: u32) -> u64 {
        let worlds = threads.max(1).min(replications.max(1) as usize) as u64;
        PROCESS_BYTES + worlds * self.world_bytes() + replications as u64 * self.record_bytes()
    }

    /// One replication's world while it runs.
    pub fn world_bytes(&self) -> u64 {
        let n = self.population.size as u64;
        let ties = n * self.population.network.mean_degree as u64;
        let agent = 120u64;
        n * agent + ties * 4 + n * 4 + ties * 4 + self.simulation.ticks_per_year as u64 * n / 8
    }

    /// One finished replication's record (its series rows).
    pub fn record_bytes(&self) -> u64 {
        // The series of `Catalogue::new`, counted without building it (a test keeps the two in
        // step).
        let (nc, ng) = (self.coalitions.len() as u64, self.population.groups.len() as u64);
        let na = self.population.areas.len() as u64;
        let series = 3 * (nc + 1) * (ng + 1) + ng + (ng + 1) + (nc + 1) + 11 * nc + 1 + 3 * nc + (nc + 1) + na + 3 * nc;
        (self.ticks() as u64 + 1) * series * 4
    }

    /// Refuse a run that would not fit in `available` bytes, before allocating anything.
    pub fn check_fits(&self, threads: usize, replications: u32, available: u64) -> Result<(), Problem> {
        self.check_fits_with_detail(threads, replications, 0, available)
    }

    /// [`Scenario::check_fits`] for a run that also keeps `detail` bytes of agent-level detail
    /// until it is written (`DetailRequest::snapshot_bytes`).
    pub fn check_fits_with_detail(
        &self,
        threads: usize,
        replications: u32,
        detail: u64,
        available: u64,
    ) -> Result<(), Problem> {
        let (what, remedy) = if detail > 0 {
            (" and its agent snapshots", ", or ask for fewer snapshot years or detail replications")
        } else {
            ("", "")
        };
        refuse_beyond(
            self.memory_estimate(threads, replications).saturating_add(detail),
            available,
            "population.size",
            &format!(
                "a run of {} agents with {} ties each, {} ticks and {replications} replications on {threads} threads{what}",
                self.population.size,
                self.population.network.mean_degree,
                self.ticks()
            ),
            &format!(
                "reduce population.size, population.network.mean_degree, the horizon, simulation.replications or --threads{remedy}"
            ),
        )
    }

    /// The resolved scenario as TOML, every default filled in.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    /// The documented definition of every parameter, in file order.
    pub fn parameter_specs() -> Vec<ParamSpec> {
        let mut out = Vec::new();
        <Scenario as Describe>::describe("", &mut out);
        out
    }
}

/// Parse any input document with the scenario files' error conventions: serde errors and the
/// problems `validate` returns are located by key path and line:column in `text`.
///
/// Every problem is reported at once. Serde stops at the first unknown key or wrong type, so
/// each one it finds is recorded and its key removed from the document, and parsing starts
/// again; what remains is then validated as usual. A validation problem at or under a removed
/// key is dropped: it would only restate the problem already reported there (a wrongly typed
/// `groups` is not also "missing").
pub fn parse_document<T>(text: &str, file: &str, validate: impl FnOnce(&T) -> Vec<Problem>) -> Result<T, ScenarioError>
where
    T: for<'de> serde::Deserialize<'de> + Check + Describe,
{
    let mut specs = Vec::new();
    T::describe("", &mut specs);
    // Each pass removes one key, so a document cannot need more passes than it has keys; the
    // cap only bounds the work on a pathological file.
    const MAX_PASSES: usize = 200;
    let invalid = |problems| ScenarioError::Invalid { file: file.to_string(), problems };
    let mut root = DeTable::parse(text).map_err(|e| invalid(vec![syntax_problem(text, &e)]))?;
    let mut located = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    let value = loop {
        match T::deserialize(toml::de::Deserializer::from(root.clone())) {
            Ok(value) => break Some(value),
            Err(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                let (line, col) = locate::line_col(text, offset);
                let path = locate::path_at(&root, offset);
                let message = with_declared_range(friendly(e.message()), &path, &specs);
                located.push(Located { line, col, path: path.clone(), message });
                match locate::remove_at(&mut root, &path) {
                    Some(gone) if located.len() < MAX_PASSES => removed.push(gone),
                    _ => break None,
                }
            }
        }
    };
    let mut problems = Vec::new();
    if let Some(value) = &value {
        value.check("", &mut problems);
        problems.extend(validate(value));
    }
    let covered = |path: &str| {
        removed.iter().any(|r| {
            path == r
                || path.strip_prefix(r.as_str()).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
    };
    problems.retain(|p| !covered(&p.path));
    // A removed `simulation` key leaves the default horizon in its place, so years checked
    // against the horizon would be judged against a horizon the file did not ask for.
    if removed.iter().any(|r| r.starts_with("simulation")) {
        problems.retain(|p| !p.message.contains("within the horizon"));
    }
    match value {
        Some(value) if located.is_empty() && problems.is_empty() => Ok(value),
        _ => {
            let ScenarioError::Invalid { mut problems, .. } = locate_problems(text, file, problems) else {
                unreachable!("locate_problems returns Invalid")
            };
            problems.extend(located);
            problems.sort_by_key(|l| (l.line, l.col));
            problems.dedup();
            Err(invalid(problems))
        }
    }
}

/// Place problems found after parsing at their keys in `text`, in document order.
pub fn locate_problems(text: &str, file: &str, problems: Vec<Problem>) -> ScenarioError {
    let root = DeTable::parse(text).ok();
    let mut located: Vec<Located> = problems
        .into_iter()
        .map(|p| {
            let offset = root.as_ref().map_or(0, |r| locate::span_of(r, &p.path).start);
            let (line, col) = locate::line_col(text, offset);
            Located { line, col, path: p.path, message: p.message }
        })
        .collect();
    located.sort_by_key(|l| (l.line, l.col));
    ScenarioError::Invalid { file: file.to_string(), problems: located }
}

/// Why the parameter with generic key path `key` (`coalitions[].goal_hours`) cannot change
/// during a run, or None when it can. What was drawn or built at initialisation (the
/// population, its ties, its members' traits, the founders), the clock, and the schedules
/// that are themselves timed stay as they were.
pub fn fixed_for_the_run(key: &str) -> Option<&'static str> {
    const FIXED: &[(&str, &str)] = &[
        ("name", "it names the scenario"),
        ("description", "it describes the scenario"),
        ("simulation", "the horizon, replications and seed are fixed"),
        ("population.size", "the population is drawn at the start"),
        ("population.network", "the ties are built at the start"),
        ("population.groups[].name", "groups are named once"),
        ("population.groups[].share", "the population is drawn at the start"),
        ("population.groups[].incentives", "incentive weights are drawn at the start"),
        ("population.groups[].lived_experience", "lived experience is drawn at the start"),
        ("population.groups[].hours_per_week", "weekly hours are drawn at the start"),
        ("population.groups[].credentials", "credentials are drawn at the start"),
        ("population.groups[].founder_weight", "founders are recruited at the start"),
        ("population.areas", "the population is drawn at the start"),
        ("coalitions[].area", "founders are recruited at the start, and residents' ties do not move"),
        ("population.appeal", "residents' causes are drawn at the start"),
        ("behaviour.life_event_rate", "life events are scheduled at the start"),
        ("coalitions[].purpose", "residents' causes are drawn at the start for the purposes programmes have"),
        ("behaviour.aspiration_mean", "aspirations are drawn at the start"),
        ("behaviour.aspiration_sd", "aspirations are drawn at the start"),
        ("behaviour.hours_dispersion", "weekly hours are drawn at the start"),
        ("coalitions[].name", "coalitions are named once"),
        ("coalitions[].founders", "founders are recruited at the start"),
        ("coalitions[].initial_budget", "it is the budget at founding"),
        ("coalitions[].funding.grants[].start_year", "award schedules are set at the start"),
        ("coalitions[].funding.grants[].term_years", "award schedules are set at the start"),
        ("coalitions[].funding.contract.start_year", "award schedules are set at the start"),
        ("coalitions[].funding.contract.term_years", "award schedules are set at the start"),
        ("policy.shocks", "shocks are themselves scheduled; add a shock instead"),
        ("policy.random_shocks", "random shocks are scheduled at the start"),
        ("policy.changes", "a change cannot change the changes"),
    ];
    FIXED
        .iter()
        .find(|(prefix, _)| {
            key == *prefix || key.starts_with(&format!("{prefix}.")) || key.starts_with(&format!("{prefix}["))
        })
        .map(|(_, why)| *why)
}

/// Memory of the process before any world is built (binary, runtime, thread stacks).
pub const PROCESS_BYTES: u64 = 8 << 20;

/// Refuse work estimated to need `need` bytes when that is more than 80% of `available`.
pub fn refuse_beyond(need: u64, available: u64, path: &str, what: &str, remedy: &str) -> Result<(), Problem> {
    if need <= available / 10 * 8 {
        return Ok(());
    }
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    Err(Problem::new(
        path,
        format!(
            "{what} needs about {:.1} GiB of memory, more than 80% of the {:.1} GiB available; {remedy}",
            gib(need),
            gib(available)
        ),
    ))
}

fn unique_names<'a>(names: impl Iterator<Item = &'a str>, path: &str, what: &str, out: &mut Vec<Problem>) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, name) in names.enumerate() {
        if name.trim().is_empty() {
            out.push(Problem::new(
                format!("{path}[{i}]"),
                format!("missing required key `name`, expected a {what} name"),
            ));
        } else if seen.contains(&name) {
            out.push(Problem::new(
                format!("{path}[{i}].name"),
                format!("found \"{name}\" again, expected each {what} name to be unique"),
            ));
        }
        seen.push(name);
    }
}

fn syntax_problem(text: &str, e: &toml::de::Error) -> Located {
    let offset = e.span().map_or(0, |s| s.start);
    let (line, col) = locate::line_col(text, offset);
    let ctx = locate::syntax_context(text, offset);
    let raw = e.message().trim();
    let message = if raw.starts_with("duplicate key") {
        let what = if ctx.header { format!("the table [{}]", ctx.name) } else { format!("the key `{}`", ctx.name) };
        let first = ctx.first.map_or(String::new(), |(l, c)| format!(" (first at line {l}, column {c})"));
        let hint = if ctx.header { "; use [[...]] for a list of tables" } else { "" };
        format!("not valid TOML: found {what} a second time{first}, expected each once{hint}")
    } else {
        format!("not valid TOML: {raw}")
    };
    Located { line, col, path: ctx.path, message }
}

/// Serde knows only the type of a whole number (0 to 4294967295); the declaration knows its
/// range, so a fraction given for `years` says "expected a whole number in [1, 1000]".
fn with_declared_range(message: String, path: &str, specs: &[ParamSpec]) -> String {
    let generic = params::generic_path(path);
    let Some(range) = specs.iter().find(|p| p.key == generic && p.ty == "integer").and_then(|p| p.range) else {
        return message;
    };
    let declared = format!("expected a whole number in {range}");
    message
        .replace("expected a whole number from 0 to 4294967295", &declared)
        .replace("expected a whole number from 0 to 18446744073709551615", &declared)
}

/// Reword serde's messages for people who edit scenarios by hand, and suggest the nearest
/// valid key for a misspelt one.
fn friendly(message: &str) -> String {
    let mut m = message
        .trim()
        .replace("expected f64", "expected a number")
        .replace("expected u32", "expected a whole number from 0 to 4294967295")
        .replace("expected u64", "expected a whole number from 0 to 18446744073709551615")
        .replace("unknown field", "unknown key");
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((found, expected)) = rest.split_once('`')
    {
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        if let Some(best) = nearest(found, &candidates) {
            m.push_str(&format!(" (did you mean `{best}`?)"));
        }
    }
    m
}

/// The candidate within a small edit distance of `word`, if any.
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_lines(text: &str) -> Vec<Located> {
        match Scenario::parse(text, "t.toml") {
            Err(ScenarioError::Invalid { problems, .. }) => problems,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    const MINIMAL: &str =
        "name = \"m\"\n[[population.groups]]\nname = \"all\"\nshare = 1.0\n[[coalitions]]\nname = \"c\"\n";

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = Scenario::parse(MINIMAL, "t.toml").unwrap();
        assert_eq!(s.simulation.ticks_per_year, 52);
        assert_eq!(s.ticks(), 520);
        assert_eq!(s.coalitions[0].governance.voice, 0.7);
    }

    #[test]
    fn a_world_is_counted_per_replication_in_flight() {
        let s = Scenario::parse(MINIMAL, "t.toml").unwrap();
        let (world, record) = (s.world_bytes(), s.record_bytes());
        assert_eq!(s.memory_estimate(8, 100) - s.memory_estimate(1, 100), 7 * world);
        // One replication on eight threads: its blocks of agents share one world.
        assert_eq!(s.memory_estimate(8, 1), s.memory_estimate(1, 1));
        assert_eq!(s.memory_estimate(8, 3) - s.memory_estimate(1, 3), 2 * world);
        assert_eq!(s.memory_estimate(1, 3) - s.memory_estimate(1, 1), 2 * record);
    }

    #[test]
    fn unknown_key_is_located_with_a_hint() {
        let text = MINIMAL.replace("name = \"c\"", "name = \"c\"\n[coalitions.governance]\nvoise = 0.5");
        let p = &err_lines(&text)[0];
        assert_eq!((p.line, p.col), (8, 1));
        assert_eq!(p.path, "coalitions[0].governance.voise");
        assert!(p.message.contains("did you mean `voice`"), "{}", p.message);
    }

    #[test]
    fn wrong_type_and_range_are_located() {
        let p = &err_lines(&MINIMAL.replace("share = 1.0", "share = \"half\""))[0];
        assert_eq!((p.line, p.path.as_str()), (4, "population.groups[0].share"));
        assert!(p.message.contains("expected a number"), "{}", p.message);
        let problems = err_lines(&MINIMAL.replace("share = 1.0", "share = 1.5"));
        let p = problems.iter().find(|p| p.path == "population.groups[0].share").unwrap();
        assert_eq!((p.line, p.col), (4, 1));
        assert!(p.message.contains("(0, 1]"), "{}", p.message);
    }

    #[test]
    fn a_wrongly_typed_key_is_reported_once_and_parsing_goes_on_past_it() {
        // `share` is a string, and the key after it is misspelt: both are reported, and the
        // share is not also said to make the shares sum to 0.
        let text = MINIMAL.replace("share = 1.0", "share = \"half\"\nfounder_wieght = 2");
        let problems = err_lines(&text);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["population.groups[0].share", "population.groups[0].founder_wieght"], "{problems:?}");
        assert!(problems[1].message.contains("did you mean `founder_weight`?"), "{}", problems[1].message);
    }

    #[test]
    fn consistency_rules() {
        let two = MINIMAL.replace("share = 1.0", "share = 0.5\n[[population.groups]]\nname = \"all\"\nshare = 0.4");
        let msgs: Vec<String> = err_lines(&two).into_iter().map(|p| p.message).collect();
        assert!(msgs.iter().any(|m| m.contains("sum to 0.9")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("unique")), "{msgs:?}");
        let none = "name = \"m\"\n[[population.groups]]\nname = \"all\"\nshare = 1.0\n";
        assert!(err_lines(none)[0].message.contains("[[coalitions]]"));
    }

    #[test]
    fn nearest_key() {
        assert_eq!(nearest("voise", &["voice", "outreach"]), Some("voice"));
        assert_eq!(nearest("zzzzzz", &["voice"]), None);
    }

    #[test]
    fn areas_must_give_the_groups_their_shares_and_name_what_exists() {
        let text = "name = \"t\"\n[population]\nsize = 100\n[[population.groups]]\nname = \"rich\"\nshare = 0.6\n[[population.groups]]\nname = \"poor\"\nshare = 0.4\n[[population.areas]]\nname = \"estate\"\nshare = 0.5\nmix = { poor = 0.6, rich = 0.3, gentry = 0.1 }\n[[population.areas]]\nname = \"rich\"\nshare = 0.5\nmix = { rich = 1.0 }\n[[coalitions]]\nname = \"c\"\narea = \"nowhere\"\n[[policy.changes]]\nyear = 1\nkey = \"coalitions.c.staff\"\narea = \"estate\"\nvalue = 2\n";
        let lines = err_lines(text);
        let paths: Vec<&str> = lines.iter().map(|l| l.path.as_str()).collect();
        for expected in [
            "population.areas[0].mix.gentry",
            "population.areas[1].name",
            "population.groups[0].share",
            "population.groups[1].share",
            "coalitions[0].area",
            "policy.changes[0].area",
        ] {
            assert!(paths.contains(&expected), "{expected} not in {paths:?}");
        }
    }

    #[test]
    fn a_change_to_every_coalition_of_an_area_changes_those_alone() {
        let text = "name = \"t\"\n[population]\nsize = 100\n[[population.groups]]\nname = \"all\"\nshare = 1.0\n[[population.areas]]\nname = \"north\"\nshare = 0.5\nmix = { all = 1.0 }\n[[population.areas]]\nname = \"south\"\nshare = 0.5\nmix = { all = 1.0 }\n[[coalitions]]\nname = \"a\"\narea = \"north\"\n[[coalitions]]\nname = \"b\"\narea = \"south\"\n[[coalitions]]\nname = \"c\"\narea = \"north\"\n[[policy.changes]]\nyear = 1\nkey = \"coalitions.*.governance.outreach\"\narea = \"north\"\nvalue = 0.5\n";
        let s = Scenario::parse(text, "t").unwrap();
        let (_, changed) = &s.timeline().unwrap()[0];
        let outreach: Vec<f64> = changed.coalitions.iter().map(|c| c.governance.outreach).collect();
        assert_eq!(outreach, vec![0.5, 0.0, 0.5]);
    }

    #[test]
    fn baseline_is_valid() {
        let s = Scenario::baseline();
        assert_eq!(s.name, "baseline");
    }
}
