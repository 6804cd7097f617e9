//! The command line's own structure (ARCHITECTURE.md): the modules of `src/output` use one
//! another without circles, and each command of `src/commands` is on its own, sharing only
//! what `commands/mod.rs` holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The sibling modules a file of `dir` names (`super::x`, `crate::output::x`), leaving out
/// comments and unit tests.
fn siblings(dir: &str, file: &Path, known: &BTreeSet<String>) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    let mut out = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for prefix in ["super::".to_string(), format!("crate::{dir}::")] {
            for (at, _) in line.match_indices(&prefix) {
                let rest = &line[at + prefix.len()..];
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                    None => vec![rest],
                };
                for name in names {
                    let name: String =
                        name.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if known.contains(&name) {
                        out.insert(name);
                    }
                }
            }
        }
    }
    out
}

/// Each module of `src/<dir>` (but `mod.rs`) and the siblings it uses.
fn graph(dir: &str) -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs") && !p.ends_with("mod.rs"))
        .collect();
    let known: BTreeSet<String> = files.iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    files
        .iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let mut used = siblings(dir, p, &known);
            used.remove(&name);
            (name, used)
        })
        .collect()
}

/// A circle in `g`, if there is one, as the path around it.
fn circle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut found = path[at..].to_vec();
            found.push(n.to_string());
            return Some(found);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for next in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys().find_map(|n| visit(n, g, &mut Vec::new(), &mut done))
}

#[test]
fn the_output_modules_use_one_another_without_circles() {
    let g = graph("output");
    assert!(g.len() > 10, "{g:?}");
    assert!(g["sweep"].contains("commit") && g["report"].contains("charts"), "the check sees the uses: {g:?}");
    if let Some(c) = circle(&g) {
        panic!("a circle in src/output: {}", c.join(" -> "));
    }
    // The check finds a circle where there is one.
    let mut bad = g.clone();
    bad.get_mut("commit").unwrap().insert("sweep".into());
    assert!(circle(&bad).is_some());
}

#[test]
fn each_command_is_on_its_own() {
    let g = graph("commands");
    assert!(g.contains_key("run") && g.contains_key("sweep") && g.contains_key("calibrate"), "{g:?}");
    for (command, used) in &g {
        assert!(used.is_empty(), "src/commands/{command}.rs uses {used:?}: share it through commands/mod.rs");
    }
}
