//! Mapping between key paths and places in the TOML text.
//!
//! The text is parsed once into toml's spanned tree; a serde error's byte span is turned into
//! the key path it belongs to, and a validation problem's key path into a line and column.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            steps.push(Step::Key(key.to_string()));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                steps.push(Step::Index(i));
            }
        }
    }
    steps
}

fn render(steps: &[Step]) -> String {
    let mut s = String::new();
    for step in steps {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Byte span of the deepest element of `path` present in the document: the value itself
/// when present, otherwise the table that should hold the missing key.
pub fn span_of(root: &Spanned<DeTable<'_>>, path: &str) -> std::ops::Range<usize> {
    let mut span = 0..0;
    let mut value: Option<&DeValue<'_>> = None;
    let mut table = Some(root.get_ref());
    for step in parse_path(path) {
        let next = match (&step, table, value) {
            (Step::Key(k), Some(t), _) => {
                t.iter().find(|(key, _)| key.get_ref() == k).map(|(key, v)| {
                    // Point at the key: that is where a reader looks to fix the value.
                    (key.span(), v)
                })
            }
            (Step::Index(i), _, Some(DeValue::Array(items))) => items.get(*i).map(|v| (v.span(), v)),
            _ => None,
        };
        let Some((s, v)) = next else { break };
        span = s;
        value = Some(v.get_ref());
        table = match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    span
}

/// Remove the key at `path` from the document, so that parsing can go on past a problem
/// already reported there. An element of an array goes with its whole array: removing one
/// element would shift the index of every later one. Returns the key path removed, or None
/// when nothing at `path` could be removed.
pub fn remove_at(root: &mut Spanned<DeTable<'_>>, path: &str) -> Option<String> {
    let mut steps = parse_path(path);
    while matches!(steps.last(), Some(Step::Index(_))) {
        steps.pop();
    }
    let Some(Step::Key(last)) = steps.pop() else { return None };
    let mut table: &mut DeTable<'_> = root.get_mut();
    let mut i = 0;
    while i < steps.len() {
        let Step::Key(k) = &steps[i] else { return None };
        let mut value = table.iter_mut().find(|(key, _)| key.get_ref() == k).map(|(_, v)| v.get_mut())?;
        // Arrays of tables: follow the indices that come after the key.
        while let Some(Step::Index(n)) = steps.get(i + 1) {
            value = match value {
                DeValue::Array(items) => items.get_mut(*n)?.get_mut(),
                _ => return None,
            };
            i += 1;
        }
        table = match value {
            DeValue::Table(t) => t,
            _ => return None,
        };
        i += 1;
    }
    let key = table.keys().find(|key| key.get_ref() == &last)?.clone();
    table.remove(&key)?;
    steps.push(Step::Key(last));
    Some(render(&steps))
}

/// The key path of the element whose key or value span most tightly contains byte `offset`.
/// Table and array spans cover only their headers, so every branch is searched.
pub fn path_at(root: &Spanned<DeTable<'_>>, offset: usize) -> String {
    fn search(value: &DeValue<'_>, steps: &mut Vec<Step>, offset: usize, best: &mut Option<(usize, Vec<Step>)>) {
        fn consider(
            span: std::ops::Range<usize>,
            steps: &[Step],
            offset: usize,
            best: &mut Option<(usize, Vec<Step>)>,
        ) {
            if span.contains(&offset) && best.as_ref().is_none_or(|(len, _)| span.len() <= *len) {
                *best = Some((span.len(), steps.to_vec()));
            }
        }
        match value {
            DeValue::Table(t) => {
                for (key, v) in t.iter() {
                    steps.push(Step::Key(key.get_ref().to_string()));
                    consider(key.span(), steps, offset, best);
                    consider(v.span(), steps, offset, best);
                    search(v.get_ref(), steps, offset, best);
                    steps.pop();
                }
            }
            DeValue::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    steps.push(Step::Index(i));
                    consider(v.span(), steps, offset, best);
                    search(v.get_ref(), steps, offset, best);
                    steps.pop();
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    search(&DeValue::Table(root.get_ref().clone()), &mut Vec::new(), offset, &mut best);
    best.map(|(_, steps)| render(&steps)).unwrap_or_default()
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// What a line of TOML text declares, read without a parser (for text the parser rejected).
#[derive(Debug, Clone, PartialEq)]
enum LineKind {
    /// `[a.b]` (false) or `[[a.b]]` (true), with its dotted name.
    Header(String, bool),
    /// `a.b = ...`, with its dotted key.
    Key(String),
    /// Blank, comment, or anything else.
    Other,
}

/// Normalise a dotted key as written (`a . "b"`) to `a.b`.
fn dotted(raw: &str) -> String {
    raw.split('.').map(|p| p.trim().trim_matches('"').trim_matches('\'')).collect::<Vec<_>>().join(".")
}

fn line_kind(line: &str) -> LineKind {
    let t = line.trim();
    if let Some(inner) = t.strip_prefix("[[").and_then(|r| r.split_once("]]")).map(|(h, _)| h) {
        return LineKind::Header(dotted(inner), true);
    }
    if let Some(inner) = t.strip_prefix('[').and_then(|r| r.split_once(']')).map(|(h, _)| h) {
        return LineKind::Header(dotted(inner), false);
    }
    match t.split_once('=') {
        Some((key, _)) if !key.trim().is_empty() && !t.starts_with('#') && !key.chars().any(char::is_control) => {
            LineKind::Key(dotted(key))
        }
        _ => LineKind::Other,
    }
}

/// A key path with array-of-tables indices, from a dotted name and the arrays seen so far.
fn indexed(name: &str, arrays: &[(String, usize)]) -> String {
    let mut out = String::new();
    let mut prefix = String::new();
    for part in name.split('.') {
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(part);
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(part);
        if let Some((_, n)) = arrays.iter().find(|(a, _)| *a == prefix) {
            out.push_str(&format!("[{}]", n - 1));
        }
    }
    out
}

/// Where a syntax error stands, read line by line: the key path of the key or table declared
/// on the error's line, and, when that declaration repeats an earlier one of the same table,
/// the earlier one's line and column.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxContext {
    /// Key path of the key or table on the error's line (empty if the line declares none).
    pub path: String,
    /// The key or table as written (dotted).
    pub name: String,
    /// Whether the line is a table header.
    pub header: bool,
    /// Line and column of an earlier declaration of the same key in the same table.
    pub first: Option<(usize, usize)>,
}

/// The [`SyntaxContext`] of byte `offset` in `text`.
pub fn syntax_context(text: &str, offset: usize) -> SyntaxContext {
    let (error_line, _) = line_col(text, offset);
    let mut arrays: Vec<(String, usize)> = Vec::new();
    let mut table = String::new(); // current table's key path
    let mut seen: Vec<(String, usize, usize)> = Vec::new(); // (full path, line, col) in this document
    let mut out = SyntaxContext { path: String::new(), name: String::new(), header: false, first: None };
    for (n, line) in text.lines().enumerate().take(error_line) {
        let col = line.len() - line.trim_start().len() + 1;
        let here = n + 1 == error_line;
        let (path, name, header) = match line_kind(line) {
            LineKind::Header(name, is_array) => {
                if is_array {
                    match arrays.iter_mut().find(|(a, _)| *a == name) {
                        Some((_, count)) => *count += 1,
                        None => arrays.push((name.clone(), 1)),
                    }
                    // A new element starts afresh: keys below it are its own.
                    let fresh = indexed(&name, &arrays);
                    seen.retain(|(p, _, _)| !p.starts_with(&format!("{fresh}.")));
                }
                table = indexed(&name, &arrays);
                (table.clone(), name, !is_array)
            }
            LineKind::Key(key) => {
                let path = if table.is_empty() { key.clone() } else { format!("{table}.{key}") };
                (path, key, false)
            }
            LineKind::Other => continue,
        };
        if here {
            out = SyntaxContext {
                first: seen.iter().find(|(p, _, _)| *p == path).map(|(_, l, c)| (*l, *c)),
                path,
                name,
                header,
            };
        } else if header || !seen.iter().any(|(p, _, _)| *p == path) {
            seen.push((path, n + 1, col));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name = \"x\"\n[population]\nsize = 5\n[[coalitions]]\nname = \"a\"\n[[coalitions]]\nname = \"b\"\n[coalitions.governance]\nvoice = 2\n";

    #[test]
    fn paths_map_to_places_and_back() {
        let root = DeTable::parse(DOC).unwrap();
        let span = span_of(&root, "coalitions[1].governance.voice");
        assert_eq!(line_col(DOC, span.start), (9, 1));
        assert_eq!(path_at(&root, span.start), "coalitions[1].governance.voice");
        // A key left to its default points at the table that would hold it.
        let span = span_of(&root, "population.network.rewiring");
        assert_eq!(line_col(DOC, span.start).0, 2);
    }

    #[test]
    fn syntax_errors_are_placed_in_their_table() {
        let text = "name = \"x\"\n[[coalitions]]\nname = \"a\"\n[[coalitions]]\nname = \"b\"\n[coalitions.funding]\nx = 1\n  x = 2\n";
        let offset = text.rfind("x = 2").unwrap();
        let c = syntax_context(text, offset);
        assert_eq!(c.path, "coalitions[1].funding.x");
        assert_eq!(c.first, Some((7, 1)));
        // The same key in another element of an array of tables is no repeat.
        let c = syntax_context(text, text.rfind("name = \"b\"").unwrap());
        assert_eq!((c.path.as_str(), c.first), ("coalitions[1].name", None));
        let text = "[population]\nsize = 3\n[population]\n";
        let c = syntax_context(text, text.rfind('[').unwrap() + 1);
        assert_eq!((c.path.as_str(), c.header, c.first), ("population", true, Some((1, 1))));
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_col("a\nñé = x", 7), (2, 4));
        assert_eq!(line_col("", 10), (1, 1));
    }
}
