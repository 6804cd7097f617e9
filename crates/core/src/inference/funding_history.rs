//! A programme's funding history, read from CSV text and made into its scenario's funding
//! schedule (issue 30): the grants it was awarded, its contract and what it earned, year by
//! year, so that a fit and a forecast start from the money the programme actually had.
//!
//! The layout (docs/CALIBRATING.md, "A funding history"):
//!
//! | column | required | what |
//! |---|---|---|
//! | `year` | yes | the calendar year the income was received (`2022`) |
//! | `stream` | yes | `grants`, `contract` (or `public`), `earned` or `donations` |
//! | `amount` | yes | income received that year from that stream (and source), 0 or more |
//! | `source` | no | who paid it (a funder's name): grants from different sources are separate awards |
//!
//! How it becomes a schedule, for one coalition (years placed so that `records_begin` is the
//! first recorded year, the end of the burn-in):
//!
//! - **grants**: each run of consecutive years with income from one source is one award
//!   (`[[coalitions.funding.grants]]`) of the run's mean amount for the run's length, not
//!   renewed; the awards still paid in the history's last year are renewed at the end of their
//!   term with probability `renewal` (what the future holds is not in the history); the
//!   scenario's own awards that ended before the history began (a grant at founding) are kept;
//! - **contract**: the contract is paid from its first year at that year's amount, renewed
//!   for certain while the history lasts (`renewal_base = 1`), each later year's amount set by
//!   a `[[policy.changes]]` (0 where nothing was received); when the history ends, its
//!   renewal returns to the scenario's own terms;
//! - **earned**: `earned_income` is the first year's, each later year's set by a change (the
//!   model scales it by goal attainment: the history's figure is taken as the income at full
//!   attainment);
//! - **donations** are per member in the model (`donation_per_member`): a history's totals are
//!   reported, with the per-member figure to set, and not applied;
//! - a stream already paid in the history's first year is taken to have been paid since the
//!   programme's founding at that year's level, so that the burn-in matures the programme on
//!   the money it had.
//!
//! Every problem in the file is reported at once, each located by line and column.

use super::roster::{header_index, records, skipped};
use crate::scenario::{Change, Contract, Grant, Setting};
use crate::scenario::{Located, Scenario, ScenarioError, nearest};

/// The columns a funding history may have, required ones first.
pub const COLUMNS: [&str; 4] = ["year", "stream", "amount", "source"];
const REQUIRED: usize = 3;
/// The streams a history may name.
pub const STREAMS: [&str; 5] = ["grants", "contract", "public", "earned", "donations"];

/// A funding stream of a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Philanthropic grants.
    Grants,
    /// The public contract.
    Contract,
    /// Earned income.
    Earned,
    /// Donations.
    Donations,
}

/// One row: income from a stream (and source) in a calendar year.
#[derive(Debug, Clone, PartialEq)]
pub struct Income {
    /// Calendar year.
    pub year: i32,
    /// Stream.
    pub stream: Stream,
    /// Amount received that year.
    pub amount: f64,
    /// Who paid it ("" when not given).
    pub source: String,
}

/// A funding history read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Every row, in file order.
    pub income: Vec<Income>,
}

impl History {
    /// Read a funding history from CSV text (`file` names it in messages). Every problem is
    /// reported at once, in file order.
    pub fn parse(text: &str, file: &str) -> Result<History, ScenarioError> {
        let invalid = |problems: Vec<Located>| ScenarioError::Invalid { file: file.to_string(), problems };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let rows = records(text).map_err(|p| invalid(vec![p]))?;
        let mut problems = Vec::new();
        let mut at = |line: usize, col: usize, path: &str, message: String| {
            problems.push(Located { line, col, path: path.to_string(), message })
        };
        let Some((header_line, header)) = rows.first() else {
            at(
                1,
                1,
                "",
                format!("found an empty file, expected a header line naming the columns ({})", COLUMNS.join(",")),
            );
            return Err(invalid(problems));
        };
        let index = header_index(*header_line, header, &COLUMNS, &mut at);
        for (k, name) in COLUMNS.iter().enumerate().take(REQUIRED) {
            if index[k].is_none() {
                at(
                    *header_line,
                    1,
                    "header",
                    format!(
                        "missing required column `{name}`, expected a header naming {} (and, if you like, source)",
                        COLUMNS[..REQUIRED].join(",")
                    ),
                );
            }
        }
        let mut income: Vec<Income> = Vec::new();
        let mut seen: Vec<(i32, Stream, String, usize)> = Vec::new();
        for (line, fields) in rows.iter().skip(1) {
            let line = *line;
            if skipped(line, fields, header.len(), &mut at) {
                continue;
            }
            let cell = |k: usize| index[k].map(|i| &fields[i]);
            let year = cell(0).and_then(|f| {
                let t = f.text.trim();
                let y = t.parse::<i32>().ok().filter(|y| (1000..=9999).contains(y));
                if y.is_none() {
                    at(line, f.col, "year", format!("found \"{t}\", expected a calendar year (such as 2022)"));
                }
                y
            });
            let stream = cell(1).and_then(|f| {
                let t = f.text.trim();
                let s = match t {
                    "grants" => Some(Stream::Grants),
                    "contract" | "public" => Some(Stream::Contract),
                    "earned" => Some(Stream::Earned),
                    "donations" => Some(Stream::Donations),
                    _ => None,
                };
                if s.is_none() {
                    let hint = nearest(t, &STREAMS).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                    at(line, f.col, "stream", format!("found \"{t}\", expected one of {}{hint}", STREAMS.join(", ")));
                }
                s
            });
            let amount = cell(2).and_then(|f| {
                let t = f.text.trim();
                let a = t.parse::<f64>().ok().filter(|a| a.is_finite() && *a >= 0.0 && *a <= 1e15);
                if a.is_none() {
                    at(
                        line,
                        f.col,
                        "amount",
                        format!("found \"{t}\", expected the income received that year, a number from 0 to 1e15"),
                    );
                }
                a
            });
            let source = cell(3).map(|f| f.text.trim().to_string()).unwrap_or_default();
            let (Some(year), Some(stream), Some(amount)) = (year, stream, amount) else { continue };
            if let Some(first) = seen.iter().find(|s| s.0 == year && s.1 == stream && s.2 == source) {
                let what = if source.is_empty() { String::new() } else { format!(" from \"{source}\"") };
                at(
                    line,
                    cell(0).map_or(1, |f| f.col),
                    "year",
                    format!(
                        "found a second row of {} income{what} in {year} (the first is on line {}), expected one row per year, stream and source",
                        stream_name(stream),
                        first.3
                    ),
                );
                continue;
            }
            seen.push((year, stream, source.clone(), line));
            income.push(Income { year, stream, amount, source });
        }
        if problems.is_empty() && income.is_empty() {
            problems.push(Located {
                line: 2,
                col: 1,
                path: String::new(),
                message: "found no income, expected one row per year and stream after the header".into(),
            });
        }
        if problems.is_empty() { Ok(History { income }) } else { Err(invalid(problems)) }
    }

    /// The history's first and last calendar years.
    pub fn span(&self) -> (i32, i32) {
        let years = self.income.iter().map(|i| i.year);
        (years.clone().min().unwrap_or(0), years.max().unwrap_or(0))
    }
}

fn stream_name(s: Stream) -> &'static str {
    match s {
        Stream::Grants => "grants",
        Stream::Contract => "contract",
        Stream::Earned => "earned",
        Stream::Donations => "donations",
    }
}

/// How to place a history in a scenario.
#[derive(Debug, Clone)]
pub struct Placing {
    /// The coalition whose funding it is (needed when the scenario has several).
    pub coalition: Option<String>,
    /// The calendar year that begins at the end of the burn-in (default: the history's first).
    pub records_begin: Option<i32>,
    /// Renewal probability of the grants still paid in the history's last year.
    pub renewal: f64,
}

impl Default for Placing {
    fn default() -> Self {
        Placing { coalition: None, records_begin: None, renewal: 0.5 }
    }
}

/// A scenario with a history's funding, and what the analyst should know about it.
#[derive(Debug, Clone)]
pub struct Funded {
    /// The scenario with the coalition's funding replaced.
    pub scenario: Scenario,
    /// Notes: donations not applied, assumptions made.
    pub notes: Vec<String>,
}

/// Make `history` the funding of a coalition of `scenario`. Fails, with the reason, when the
/// history does not fit the scenario's clock or names no coalition where there are several.
pub fn apply(history: &History, scenario: &Scenario, placing: &Placing) -> Result<Funded, String> {
    let names = || scenario.coalitions.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let c = match (&placing.coalition, scenario.coalitions.len()) {
        (Some(name), _) => scenario
            .coalitions
            .iter()
            .position(|c| &c.name == name)
            .ok_or_else(|| format!("the scenario has no coalition \"{name}\"; it has {}", names()))?,
        (None, 1) => 0,
        (None, n) => {
            return Err(format!(
                "the scenario has {n} coalitions ({}): name the one the history is of with --coalition",
                names()
            ));
        }
    };
    let coalition = scenario.coalitions[c].name.clone();
    let (first, last) = history.span();
    let begin = placing.records_begin.unwrap_or(first);
    let burn_in = f64::from(scenario.simulation.burn_in_years);
    let model_year = |y: i32| burn_in + f64::from(y - begin);
    let horizon = scenario.horizon_years();
    if model_year(first) < 0.0 {
        return Err(format!(
            "the history begins in {first}, {} years before the programme's founding in the scenario ({}, with records beginning in {begin} after a burn-in of {burn_in} years): lengthen simulation.burn_in_years or set a later --records-begin",
            -model_year(first),
            begin - scenario.simulation.burn_in_years as i32
        ));
    }
    if model_year(last) + 1.0 > horizon + 1e-9 {
        return Err(format!(
            "the history runs to {last}, but the scenario records from {begin} to the end of {} ({} recorded years after a burn-in of {burn_in}): lengthen simulation.years",
            begin + libm::ceil(horizon - burn_in) as i32 - 1,
            crate::text::num(horizon - burn_in)
        ));
    }
    // A stream paid in the history's first year is taken as paid since founding.
    let start = |y: i32| if y == first { 0.0 } else { model_year(y) };
    let mut s = scenario.clone();
    let mut notes = Vec::new();
    let key = |what: &str| format!("coalitions.{coalition}.funding.{what}");
    let change = |year: f64, what: &str, value: f64| Change {
        year,
        key: key(what),
        area: String::new(),
        value: Setting::Number(value),
    };
    let of = |stream: Stream| history.income.iter().filter(move |i| i.stream == stream).collect::<Vec<_>>();

    // Grants: one award per run of consecutive years from one source.
    let grants = of(Stream::Grants);
    let mut sources: Vec<&str> = grants.iter().map(|g| g.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let mut awards = Vec::new();
    for source in sources {
        let mut years: Vec<(i32, f64)> =
            grants.iter().filter(|g| g.source == source && g.amount > 0.0).map(|g| (g.year, g.amount)).collect();
        years.sort_by_key(|y| y.0);
        let mut k = 0;
        while k < years.len() {
            let mut j = k;
            while j + 1 < years.len() && years[j + 1].0 == years[j].0 + 1 {
                j += 1;
            }
            let run = &years[k..=j];
            let amount = run.iter().map(|y| y.1).sum::<f64>() / run.len() as f64;
            let from = start(run[0].0);
            let until = model_year(run[run.len() - 1].0) + 1.0;
            let ongoing = run[run.len() - 1].0 == last;
            awards.push(Grant {
                amount,
                start_year: from,
                term_years: until - from,
                renewal_probability: if ongoing { placing.renewal } else { 0.0 },
            });
            k = j + 1;
        }
    }
    if !grants.is_empty() {
        // The scenario's awards that ended before the history began are its earlier history
        // (a grant at founding): kept.
        let earlier: Vec<Grant> = scenario.coalitions[c]
            .funding
            .grants
            .iter()
            .filter(|g| g.start_year + g.term_years <= model_year(first) + 1e-9)
            .cloned()
            .collect();
        s.coalitions[c].funding.grants = earlier.into_iter().chain(awards).collect();
    }

    // The contract and earned income: the first year's amount, later years by changes.
    let yearly = |stream: Stream| -> Vec<(i32, f64)> {
        let mut by_year: Vec<(i32, f64)> = Vec::new();
        for i in of(stream) {
            match by_year.iter_mut().find(|y| y.0 == i.year) {
                Some(y) => y.1 += i.amount,
                None => by_year.push((i.year, i.amount)),
            }
        }
        by_year.sort_by_key(|y| y.0);
        by_year
    };
    // A change for each year after the first whose amount differs from the year before's (0
    // for a year without income), to the history's last year.
    let later_years = |by_year: &[(i32, f64)], last: i32, what: &str| -> Vec<Change> {
        let mut out = Vec::new();
        let Some(&(y0, mut previous)) = by_year.first() else { return out };
        for y in y0 + 1..=last {
            let amount = by_year.iter().find(|e| e.0 == y).map_or(0.0, |e| e.1);
            if amount != previous {
                out.push(change(model_year(y), what, amount));
                previous = amount;
            }
        }
        out
    };
    let contract = yearly(Stream::Contract);
    if let Some(&(y0, a0)) = contract.first() {
        let terms = scenario.coalitions[c].funding.contract.clone().unwrap_or_default();
        s.coalitions[c].funding.contract = Some(Contract {
            amount: a0,
            start_year: start(y0),
            renewal_base: 1.0,
            renewal_performance: 0.0,
            ..terms.clone()
        });
        s.policy.changes.extend(later_years(&contract, last, "contract.amount"));
        // After the history, the contract is renewed on the scenario's own terms.
        let after = model_year(last) + 1.0;
        if after < horizon {
            s.policy.changes.push(change(after, "contract.renewal_base", terms.renewal_base));
            s.policy.changes.push(change(after, "contract.renewal_performance", terms.renewal_performance));
        }
    }
    let earned = yearly(Stream::Earned);
    if let Some(&(y0, a0)) = earned.first() {
        if y0 != first {
            // Earned income that began later than the history: none before it.
            s.coalitions[c].funding.earned_income = 0.0;
            s.policy.changes.push(change(model_year(y0), "earned_income", a0));
        } else {
            s.coalitions[c].funding.earned_income = a0;
        }
        s.policy.changes.extend(later_years(&earned, last, "earned_income"));
    }
    let donations = yearly(Stream::Donations);
    if !donations.is_empty() {
        let mean = donations.iter().map(|d| d.1).sum::<f64>() / donations.len() as f64;
        notes.push(format!(
            "donations ({} a year on average) are not applied: the model's are per member; set coalitions.{coalition}.funding.donation_per_member to them divided by your members (now {})",
            crate::text::num(mean),
            crate::text::num(scenario.coalitions[c].funding.donation_per_member)
        ));
    }
    notes.push(format!(
        "{first} is year {} from founding and {last} year {}; streams paid in {first} are taken as paid since founding",
        crate::text::num(model_year(first)),
        crate::text::num(model_year(last))
    ));
    Ok(Funded { scenario: s, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> Scenario {
        let text = "name = \"s\"\n[simulation]\nburn_in_years = 20\nyears = 6\n[[population.groups]]\nname = \"a\"\nshare = 1.0\n[[coalitions]]\nname = \"shop\"\n[coalitions.funding.contract]\namount = 1\nrenewal_base = 0.4\nrenewal_performance = 0.3\n";
        Scenario::parse(text, "s.toml").unwrap()
    }

    const HISTORY: &str = "year,stream,amount,source\n2021,grants,40000,Lottery\n2022,grants,40000,Lottery\n2022,contract,25000,Council\n2023,public,20000,Council\n2024,grants,10000,Trust\n2024,earned,5000,\n2022,earned,6000,\n2023,earned,6000,\n2021,donations,3000,\n";

    #[test]
    fn a_history_becomes_awards_a_contract_and_changes() {
        let history = History::parse(HISTORY, "h.csv").unwrap();
        assert_eq!(history.span(), (2021, 2024));
        let placing = Placing { records_begin: Some(2022), ..Placing::default() };
        let funded = apply(&history, &shop(), &placing).unwrap();
        let f = &funded.scenario.coalitions[0].funding;
        // Lottery: 2021-2022, paid in the history's first year, so since founding, ended.
        // Trust: 2024 only, still paid at the end, so renewed by chance.
        let grants: Vec<(f64, f64, f64, f64)> =
            f.grants.iter().map(|g| (g.amount, g.start_year, g.term_years, g.renewal_probability)).collect();
        assert_eq!(grants, [(40000.0, 0.0, 21.0, 0.0), (10000.0, 22.0, 1.0, 0.5)]);
        let contract = f.contract.as_ref().unwrap();
        assert_eq!(
            (contract.amount, contract.start_year, contract.renewal_base, contract.renewal_performance),
            (25000.0, 20.0, 1.0, 0.0)
        );
        // Earned income began in 2022, after the history's first year: none before it.
        assert_eq!(f.earned_income, 0.0);
        let changes: Vec<(f64, &str, f64)> = funded
            .scenario
            .policy
            .changes
            .iter()
            .map(|c| match c.value {
                Setting::Number(v) => (c.year, c.key.as_str(), v),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            changes,
            [
                (21.0, "coalitions.shop.funding.contract.amount", 20000.0),
                (22.0, "coalitions.shop.funding.contract.amount", 0.0),
                (23.0, "coalitions.shop.funding.contract.renewal_base", 0.4),
                (23.0, "coalitions.shop.funding.contract.renewal_performance", 0.3),
                (20.0, "coalitions.shop.funding.earned_income", 6000.0),
                (22.0, "coalitions.shop.funding.earned_income", 5000.0),
            ]
        );
        assert!(
            funded.notes[0].starts_with("donations (3000 a year on average) are not applied"),
            "{:?}",
            funded.notes
        );
        // The result is a valid scenario.
        Scenario::parse(&funded.scenario.to_toml(), "out.toml").unwrap();
    }

    #[test]
    fn a_history_outside_the_scenario_clock_is_refused_with_the_remedy() {
        let history = History::parse(HISTORY, "h.csv").unwrap();
        let early = Placing { records_begin: Some(2042), ..Placing::default() };
        assert!(apply(&history, &shop(), &early).unwrap_err().contains("before the programme's founding"));
        let late = Placing { records_begin: Some(2017), ..Placing::default() };
        let why = apply(&history, &shop(), &late).unwrap_err();
        assert!(
            why.contains("records from 2017 to the end of 2022") && why.contains("lengthen simulation.years"),
            "{why}"
        );
        let two = Placing { coalition: Some("cafe".into()), ..Placing::default() };
        assert!(apply(&history, &shop(), &two).unwrap_err().contains("no coalition \"cafe\"; it has shop"));
    }
}
