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
    fn columns_count_characters() {
        assert_eq!(line_col("a\nñé = x", 7), (2, 4));
        assert_eq!(line_col("", 10), (1, 1));
    }
}
