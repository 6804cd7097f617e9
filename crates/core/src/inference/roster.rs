//! A programme's own records: its volunteer roster, one row per membership spell, read from
//! CSV text and checked against the scenario it is to be fitted with (issue 30).
//!
//! The layout (docs/CALIBRATING.md, "From a roster"):
//!
//! | column | required | what |
//! |---|---|---|
//! | `person` | yes | who: any text, the same for every spell of one person |
//! | `start` | yes | when the spell began: a date (`2021-03-15`) or a number of weeks |
//! | `end` | no | when it ended, in the same form; empty while the person is still a member |
//! | `group` | no | the person's population group, by the scenario's name for it |
//! | `area` | no | the person's area, by the scenario's name for it |
//! | `hours_per_week` | no | hours the person gives a week during the spell, where logged |
//!
//! Every problem is reported at once, each placed by line and column in the file, as for a
//! scenario. The reader does no I/O: it is handed the text.

use crate::scenario::{Located, Scenario, ScenarioError, nearest};

/// The columns a roster may have, required ones first.
pub const COLUMNS: [&str; 6] = ["person", "start", "end", "group", "area", "hours_per_week"];
/// The columns a roster must have.
const REQUIRED: [&str; 2] = ["person", "start"];

/// How a roster gives time: calendar dates, or weeks from any origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// `YYYY-MM-DD` dates; times are days since 1970-01-01.
    Dates,
    /// Numbers of weeks; times are weeks × 7 days.
    Weeks,
}

/// One membership spell. Times are in days (from 1970-01-01 for dates).
#[derive(Debug, Clone, PartialEq)]
pub struct Spell {
    /// Who.
    pub person: String,
    /// When the spell began.
    pub start: f64,
    /// When it ended; None while running.
    pub end: Option<f64>,
    /// Index of the person's group in the scenario, if given.
    pub group: Option<usize>,
    /// Index of the person's area in the scenario, if given.
    pub area: Option<usize>,
    /// Hours a week, if logged.
    pub hours_per_week: Option<f64>,
    /// Its line in the file (1-based; the header is line 1).
    pub line: usize,
}

/// A roster read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Roster {
    /// Every spell, in file order.
    pub spells: Vec<Spell>,
    /// How the file gives time.
    pub clock: Clock,
    /// Which optional columns it has.
    pub has_group: bool,
    /// Whether it has areas.
    pub has_area: bool,
    /// Whether it logs hours.
    pub has_hours: bool,
}

/// A cell of a table and the 1-based column it starts at: a CSV field, or a Parquet value
/// as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The cell's text (empty for no value).
    pub text: String,
    /// Where it is in its row: a CSV field's character column, a Parquet column's position.
    pub col: usize,
}

/// Split CSV text into records of fields with their columns (RFC 4180: commas, double-quoted
/// fields with `""` for a quote, quoted line breaks). Each record carries the line it starts
/// on. A quote left open is reported at the line and column where it opened.
pub(crate) fn records(text: &str) -> Result<Vec<(usize, Vec<Field>)>, Located> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let (mut line, mut col) = (1usize, 1usize);
    let mut record: Vec<Field> = Vec::new();
    let mut record_line = 1;
    let mut field = Field { text: String::new(), col: 1 };
    let mut at_field_start = true;
    let mut empty_line = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if at_field_start => {
                let (open_line, open_col) = (line, col);
                col += 1;
                loop {
                    match chars.next() {
                        None => {
                            return Err(Located {
                                line: open_line,
                                col: open_col,
                                path: String::new(),
                                message: "found a quoted field that never closes, expected a closing quote".into(),
                            });
                        }
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.text.push('"');
                            col += 2;
                        }
                        Some('"') => {
                            col += 1;
                            break;
                        }
                        Some('\n') => {
                            field.text.push('\n');
                            line += 1;
                            col = 1;
                        }
                        Some(other) => {
                            field.text.push(other);
                            col += 1;
                        }
                    }
                }
                at_field_start = false;
                empty_line = false;
            }
            ',' => {
                record.push(std::mem::replace(&mut field, Field { text: String::new(), col: col + 1 }));
                col += 1;
                at_field_start = true;
                empty_line = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            // A lone CR ends a line too: the line break of old Mac exports.
            '\n' | '\r' => {
                if !empty_line {
                    record.push(std::mem::replace(&mut field, Field { text: String::new(), col: 1 }));
                    out.push((record_line, std::mem::take(&mut record)));
                }
                line += 1;
                col = 1;
                field.col = 1;
                record_line = line;
                at_field_start = true;
                empty_line = true;
            }
            other => {
                field.text.push(other);
                col += 1;
                at_field_start = false;
                empty_line = false;
            }
        }
    }
    if !empty_line {
        record.push(field);
        out.push((record_line, record));
    }
    Ok(out)
}

/// Where each of `columns` is in a header (None where absent), every unknown or repeated
/// column reported through `at` with a near spelling or the name it starts (`hours` for
/// `hours_per_week`).
pub(crate) fn header_index(
    line: usize,
    header: &[Field],
    columns: &[&str],
    at: &mut dyn FnMut(usize, usize, &str, String),
) -> Vec<Option<usize>> {
    let mut index = vec![None; columns.len()];
    for (i, f) in header.iter().enumerate() {
        let name = f.text.trim();
        match columns.iter().position(|c| *c == name) {
            Some(k) if index[k].is_some() => {
                at(line, f.col, name, format!("found the column `{name}` a second time, expected each column once"))
            }
            Some(k) => index[k] = Some(i),
            None => {
                let near = nearest(name, columns)
                    .or_else(|| columns.iter().copied().find(|c| !name.is_empty() && c.starts_with(name)));
                let hint = near.map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                at(line, f.col, name, format!("unknown column `{name}`, expected one of {}{hint}", columns.join(", ")));
            }
        }
    }
    index
}

/// Whether a record is to be skipped: a row of empty cells (a spreadsheet's export of blank
/// rows), or one with more or fewer fields than the header has (reported through `at`).
pub(crate) fn skipped(
    line: usize,
    fields: &[Field],
    columns: usize,
    at: &mut dyn FnMut(usize, usize, &str, String),
) -> bool {
    if fields.iter().all(|f| f.text.trim().is_empty()) {
        return true;
    }
    if fields.len() != columns {
        let col = fields.last().map_or(1, |f| f.col);
        at(line, col, "", format!("found {} fields, expected {columns} (one per column of the header)", fields.len()));
        return true;
    }
    false
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A `YYYY-MM-DD` date as days from 1970-01-01, if it is one (a real day of a real month).
pub fn parse_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
        return None;
    }
    if !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (parts[0].parse().ok()?, parts[1].parse().ok()?, parts[2].parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days_in_month).contains(&d).then(|| days_from_civil(y, m, d))
}

/// A date from days since 1970-01-01 (`civil_from_days`), as `YYYY-MM-DD`.
pub fn format_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

impl Roster {
    /// Read a roster from CSV text (`file` names it in messages), checking every row against
    /// the scenario's groups and areas. Every problem is reported at once, in file order.
    pub fn parse(text: &str, file: &str, scenario: &Scenario) -> Result<Roster, ScenarioError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let rows = records(text).map_err(|p| ScenarioError::Invalid { file: file.to_string(), problems: vec![p] })?;
        Roster::from_rows(&rows, file, scenario)
    }

    /// Read a roster from a table already split into rows: the header first, each row with its
    /// line (a Parquet file's row k is line k + 1, as in its CSV export). Checked as
    /// [`Roster::parse`] checks CSV.
    pub fn from_rows(rows: &[(usize, Vec<Field>)], file: &str, scenario: &Scenario) -> Result<Roster, ScenarioError> {
        let invalid = |problems: Vec<Located>| ScenarioError::Invalid { file: file.to_string(), problems };
        let Some((header_line, header)) = rows.first() else {
            return Err(invalid(vec![Located {
                line: 1,
                col: 1,
                path: String::new(),
                message: format!(
                    "found an empty file, expected a header line naming the columns ({})",
                    COLUMNS.join(",")
                ),
            }]));
        };
        let mut problems = Vec::new();
        let mut at = |line: usize, col: usize, path: &str, message: String| {
            problems.push(Located { line, col, path: path.to_string(), message })
        };
        // The header: known columns, each once, the required ones present.
        let index = header_index(*header_line, header, &COLUMNS, &mut at);
        for (k, name) in COLUMNS.iter().enumerate().take(REQUIRED.len()) {
            if index[k].is_none() {
                at(
                    *header_line,
                    1,
                    "header",
                    format!(
                        "missing required column `{name}`, expected a header naming at least {} (and any of {})",
                        REQUIRED.join(","),
                        COLUMNS[REQUIRED.len()..].join(", ")
                    ),
                );
            }
        }
        let groups: Vec<&str> = scenario.population.groups.iter().map(|g| g.name.as_str()).collect();
        let areas: Vec<&str> = scenario.population.areas.iter().map(|a| a.name.as_str()).collect();
        let mut clock: Option<(Clock, usize)> = None;
        let mut spells = Vec::new();
        for (line, fields) in rows.iter().skip(1) {
            let line = *line;
            if skipped(line, fields, header.len(), &mut at) {
                continue;
            }
            let cell = |k: usize| index[k].map(|i| (&fields[i].text, fields[i].col));
            let mut ok = true;
            let person = cell(0).map(|(t, col)| {
                if t.trim().is_empty() {
                    at(line, col, "person", "found an empty name, expected who the spell is (any text)".into());
                    ok = false;
                }
                t.trim().to_string()
            });
            // A time: a date or a number of weeks, the same kind in every row.
            let mut time = |column: &str, text: &str, col: usize, at: &mut dyn FnMut(usize, usize, &str, String)| {
                let text = text.trim();
                let (kind, days) = if let Some(d) = parse_date(text) {
                    (Clock::Dates, d as f64)
                } else if let Some(w) = text.parse::<f64>().ok().filter(|w| w.is_finite() && *w >= 0.0) {
                    (Clock::Weeks, w * 7.0)
                } else {
                    at(
                        line,
                        col,
                        column,
                        format!(
                            "found \"{text}\", expected a date (YYYY-MM-DD, a real day) or a number of weeks (0 or more)"
                        ),
                    );
                    return None;
                };
                match clock {
                    None => clock = Some((kind, line)),
                    Some((first, first_line)) if first != kind => {
                        let (was, is) = match first {
                            Clock::Dates => ("dates", "a number of weeks"),
                            Clock::Weeks => ("numbers of weeks", "a date"),
                        };
                        at(
                            line,
                            col,
                            column,
                            format!(
                                "found {is} (\"{text}\"), expected {was} as from line {first_line}: one clock for the whole roster"
                            ),
                        );
                        return None;
                    }
                    Some(_) => {}
                }
                Some(days)
            };
            let start = cell(1).and_then(|(t, col)| time("start", t, col, &mut at));
            let end = match cell(2) {
                Some((t, col)) if !t.trim().is_empty() => match time("end", t, col, &mut at) {
                    Some(end) => {
                        if let Some(start) = start.filter(|s| end < *s) {
                            let show = |d: f64| match clock.map(|c| c.0) {
                                Some(Clock::Dates) => format_date(d as i64),
                                _ => format!("week {}", d / 7.0),
                            };
                            at(
                                line,
                                col,
                                "end",
                                format!(
                                    "found {}, expected the end on or after the start ({})",
                                    show(end),
                                    show(start)
                                ),
                            );
                            ok = false;
                        }
                        Some(end)
                    }
                    None => {
                        ok = false;
                        None
                    }
                },
                _ => None,
            };
            let mut name_of = |k: usize, column: &str, names: &[&str], what: &str| -> Option<usize> {
                let (t, col) = cell(k)?;
                let t = t.trim();
                if t.is_empty() {
                    return None;
                }
                let found = names.iter().position(|n| *n == t);
                if found.is_none() {
                    let expected = if names.is_empty() {
                        format!("no {column} (the scenario has no {what}s); leave it empty")
                    } else {
                        let hint = nearest(t, names).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                        format!("the name of one of the scenario's {what}s: {}{hint}", names.join(", "))
                    };
                    at(line, col, column, format!("found \"{t}\", expected {expected}"));
                    ok = false;
                }
                found
            };
            let group = name_of(3, "group", &groups, "population group");
            let area = name_of(4, "area", &areas, "area");
            let hours = cell(5).and_then(|(t, col)| {
                let t = t.trim();
                if t.is_empty() {
                    return None;
                }
                match t.parse::<f64>() {
                    Ok(h) if h.is_finite() && (0.0..=168.0).contains(&h) => Some(h),
                    _ => {
                        at(
                            line,
                            col,
                            "hours_per_week",
                            format!("found \"{t}\", expected a number of hours from 0 to 168"),
                        );
                        ok = false;
                        None
                    }
                }
            });
            match (person, start) {
                (Some(person), Some(start)) if ok => {
                    spells.push(Spell { person, start, end, group, area, hours_per_week: hours, line })
                }
                _ => {}
            }
        }
        if problems.is_empty() && spells.is_empty() {
            problems.push(Located {
                line: header_line + 1,
                col: 1,
                path: String::new(),
                message: "found no spells, expected one row per membership spell after the header".into(),
            });
        }
        // A person's spells may follow one another but not overlap: one membership at a time;
        // and a person is of one group and one area.
        {
            let mut order: Vec<usize> = (0..spells.len()).collect();
            order.sort_by(|&a, &b| {
                spells[a].person.cmp(&spells[b].person).then(spells[a].start.total_cmp(&spells[b].start))
            });
            for w in order.windows(2) {
                let (a, b) = (&spells[w[0]], &spells[w[1]]);
                let column =
                    |k: usize| index[k].map_or(1, |i| rows.iter().find(|r| r.0 == b.line).map_or(1, |r| r.1[i].col));
                if a.person == b.person && (a.group != b.group && a.group.is_some() && b.group.is_some()) {
                    problems.push(Located {
                        line: b.line,
                        col: column(3),
                        path: "group".into(),
                        message: format!(
                            "found a group for \"{}\" other than on line {}, expected one group per person",
                            b.person, a.line
                        ),
                    });
                }
                if a.person == b.person && a.end.is_none_or(|end| b.start < end) {
                    problems.push(Located {
                        line: b.line,
                        col: column(1),
                        path: "start".into(),
                        message: format!(
                            "found a spell of \"{}\" that starts before their spell on line {} has ended, expected one membership at a time",
                            b.person, a.line
                        ),
                    });
                }
            }
            problems.sort_by_key(|p| (p.line, p.col));
        }
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        Ok(Roster {
            spells,
            clock: clock.map_or(Clock::Weeks, |c| c.0),
            has_group: index[3].is_some(),
            has_area: index[4].is_some(),
            has_hours: index[5].is_some(),
        })
    }

    /// A time given beside the roster (a window's end), in its clock: a date for a roster of
    /// dates, a number of weeks (0 to a million) for one of weeks; None otherwise.
    pub fn time(&self, text: &str) -> Option<f64> {
        let text = text.trim();
        match self.clock {
            Clock::Dates => parse_date(text).map(|d| d as f64),
            Clock::Weeks => text.parse::<f64>().ok().filter(|w| (0.0..=1e6).contains(w)).map(|w| w * 7.0),
        }
    }

    /// What [`Roster::time`] takes, in words.
    pub fn clock_words(&self) -> &'static str {
        match self.clock {
            Clock::Dates => "a date (YYYY-MM-DD), as the roster gives time",
            Clock::Weeks => "a number of weeks (0 to 1,000,000), as the roster gives time",
        }
    }

    /// The first start and the last date the roster speaks for (its latest start or end).
    pub fn span(&self) -> (f64, f64) {
        let first = self.spells.iter().map(|s| s.start).fold(f64::INFINITY, f64::min);
        let last = self.spells.iter().flat_map(|s| [Some(s.start), s.end]).flatten().fold(f64::NEG_INFINITY, f64::max);
        (first, last)
    }

    /// A time of the roster as text: a date, or a week.
    pub fn show(&self, days: f64) -> String {
        match self.clock {
            Clock::Dates => format_date(libm::floor(days) as i64),
            Clock::Weeks => format!("week {}", days / 7.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn town() -> Scenario {
        Scenario::baseline()
    }

    #[test]
    fn dates_are_days_from_1970_and_back() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        for bad in ["2023-02-29", "2021-13-01", "2021-04-31", "21-04-01", "2021/04/01", "2021-4-1", ""] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        for d in [-1000, 0, 11_017, 19_782, 40_000] {
            assert_eq!(parse_date(&format_date(d)), Some(d));
        }
    }

    #[test]
    fn a_roster_is_read_with_its_optional_columns() {
        let text = "person,start,end,group,hours_per_week\n\
                    ann,2021-01-04,2021-06-28,advantaged,3\n\
                    bob,2021-02-01,,disadvantaged,\n\
                    ann,2021-09-06,,advantaged,2.5\n\
                    \"Smith, C\",2022-01-03,2023-01-02,,\n";
        let r = Roster::parse(text, "r.csv", &town()).unwrap();
        assert_eq!(r.clock, Clock::Dates);
        assert!(r.has_group && r.has_hours && !r.has_area);
        assert_eq!(r.spells.len(), 4);
        assert_eq!(r.spells[0].end, Some(parse_date("2021-06-28").unwrap() as f64));
        assert_eq!(r.spells[1].end, None);
        assert_eq!(r.spells[1].group, Some(1));
        assert_eq!(r.spells[3].person, "Smith, C");
        assert_eq!(r.spells[3].line, 5);
        assert_eq!(r.show(r.span().1), "2023-01-02");
        let weeks = Roster::parse("start,person\n0,a\n52.5,b\n", "w.csv", &town()).unwrap();
        assert_eq!((weeks.clock, weeks.spells[1].start), (Clock::Weeks, 367.5));
        // Line breaks of any platform: CRLF, LF and a lone CR read the same rows.
        let mixed = Roster::parse("start,person\r\n0,a\r52.5,b\n1,c", "m.csv", &town()).unwrap();
        let lines: Vec<(usize, &str)> = mixed.spells.iter().map(|s| (s.line, s.person.as_str())).collect();
        assert_eq!(lines, [(2, "a"), (3, "b"), (4, "c")]);
    }

    #[test]
    fn five_mistakes_are_five_located_lines() {
        // A bad date, an end before its start, an unknown group, negative hours, and (in a
        // second file) a missing column.
        let text = "person,start,end,group,hours_per_week\n\
                    ann,2021-02-30,,advantaged,2\n\
                    bob,2021-05-01,2021-04-01,advantaged,2\n\
                    cat,2021-05-01,,disadvantged,2\n\
                    dan,2021-05-01,,advantaged,-3\n";
        let e = Roster::parse(text, "r.csv", &town()).unwrap_err().to_string();
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 4, "{e}");
        assert!(lines[0].starts_with("r.csv:2:5: start: found \"2021-02-30\""), "{e}");
        assert!(
            lines[1]
                .starts_with("r.csv:3:16: end: found 2021-04-01, expected the end on or after the start (2021-05-01)"),
            "{e}"
        );
        assert!(
            lines[2].starts_with("r.csv:4:17: group: found \"disadvantged\"")
                && lines[2].contains("did you mean `disadvantaged`"),
            "{e}"
        );
        assert!(lines[3].starts_with("r.csv:5:28: hours_per_week: found \"-3\""), "{e}");
        let e = Roster::parse("person,end\nann,\n", "m.csv", &town()).unwrap_err().to_string();
        assert!(e.starts_with("m.csv:1:1: header: missing required column `start`"), "{e}");
    }

    #[test]
    fn structure_is_checked_too() {
        let e = |text: &str| Roster::parse(text, "r.csv", &town()).unwrap_err().to_string();
        assert!(e("").contains("expected a header line"));
        assert!(e("person,start\n").contains("found no spells"));
        assert!(e("person,start,hours\na,1,2\n").contains("unknown column `hours`"));
        assert!(e("person,start,hours\na,1,2\n").contains("did you mean `hours_per_week`"));
        assert!(e("person,start\na,1,2\n").contains("r.csv:2:5: found 3 fields, expected 2"));
        assert!(e("person,start\na,\"1\n").contains("r.csv:2:3: found a quoted field that never closes"));
        assert!(e("person,start\na,1\nb,2021-01-01\n").contains("r.csv:3:3: start: found a date"), "one clock");
        assert!(
            e("person,start,end\na,0,10\na,5,\n")
                .contains("r.csv:3:3: start: found a spell of \"a\" that starts before")
        );
        assert!(
            e("person,start,area\na,0,moon\n")
                .contains("expected the name of one of the scenario's areas: estate, town")
        );
        assert!(
            e("person,start,group\na,0,advantaged\na,5,disadvantaged\n")
                .contains("r.csv:3:5: group: found a group for \"a\" other than on line 2")
        );
        // Consecutive spells are fine, and blank rows are skipped.
        assert_eq!(Roster::parse("person,start\na,0\n,\n\nb,1\n", "r.csv", &town()).unwrap().spells.len(), 2);
        assert!(Roster::parse("person,start,end\na,0,10\na,10,\n", "r.csv", &town()).is_ok());
    }
}
