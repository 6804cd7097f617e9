//! The core's rules (ARCHITECTURE.md), checked: it depends only on the crates listed here,
//! threads are optional, and its code (tests aside) touches no file, terminal, process,
//! environment, clock or plotting library. A new dependency or an I/O call fails this test,
//! so widening the core is a decision made here, in review, not by accident.

use std::path::{Path, PathBuf};

/// What the core may depend on, and why.
const ALLOWED: &[(&str, &str)] = &[
    ("rand", "random number traits"),
    ("chacha20", "ChaCha8 streams, the same on every platform"),
    ("serde", "scenario and result types"),
    ("toml", "scenario text"),
    ("serde_json", "sweep progress lines and identities"),
    ("sha2", "identities and checksums"),
    ("thiserror", "error types"),
    ("postcard", "warm states as bytes (the outer crates write them)"),
    ("libm", "portable transcendental functions"),
    ("rayon", "threads, only behind the `parallel` feature"),
];

/// Text that means I/O, threads outside `par.rs`, the clock or plotting.
const FORBIDDEN: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::env",
    "std::thread",
    "std::time",
    "std::io::Read",
    "std::io::Write",
    "std::io::std",
    "File::",
    "println!",
    "print!(",
    "eprintln!",
    "eprint!(",
    "dbg!(",
    "plotters",
    "indicatif",
    "rayon::",
];

fn core_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_core_depends_only_on_the_allowed_crates() {
    let manifest: toml::Table = std::fs::read_to_string(core_dir().join("Cargo.toml")).unwrap().parse().unwrap();
    let deps = manifest["dependencies"].as_table().unwrap();
    for name in deps.keys() {
        assert!(
            ALLOWED.iter().any(|(allowed, _)| allowed == name),
            "coprosim-core depends on `{name}`, which ARCHITECTURE.md does not allow in the core"
        );
    }
    let rayon = deps.get("rayon").and_then(|r| r.as_table());
    assert!(
        rayon.is_some_and(|r| r.get("optional").and_then(|o| o.as_bool()) == Some(true)),
        "rayon must be optional in the core (the `parallel` feature)"
    );
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its unit tests and comments.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_core_does_no_io_and_starts_no_threads_of_its_own() {
    let mut files = Vec::new();
    sources(&core_dir().join("src"), &mut files);
    assert!(files.len() > 20, "found only {} source files", files.len());
    let mut found = Vec::new();
    for file in &files {
        let code = code(&std::fs::read_to_string(file).unwrap());
        let is_par = file.ends_with("par.rs");
        for word in FORBIDDEN {
            if *word == "rayon::" && is_par {
                continue;
            }
            for (n, line) in code.lines().enumerate() {
                if line.contains(word) {
                    found.push(format!("{}:{}: `{word}` in `{}`", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "the core must do no I/O (ARCHITECTURE.md):\n{}", found.join("\n"));
}

/// The platform's transcendental functions (std's float methods call the system's libm,
/// whose last bits differ between glibc, macOS and WebAssembly); the core calls `libm::`'s.
/// `sqrt` is exact everywhere (IEEE 754), so it is allowed.
const PLATFORM_MATH: &[&str] = &[
    ".exp()",
    ".exp2()",
    ".exp_m1()",
    ".ln()",
    ".ln_1p()",
    ".log(",
    ".log2()",
    ".log10()",
    ".powf(",
    ".cbrt()",
    ".hypot(",
    ".sin()",
    ".cos()",
    ".tan()",
    ".asin()",
    ".acos()",
    ".atan()",
    ".atan2(",
    ".sinh()",
    ".cosh()",
    ".tanh()",
];

#[test]
fn the_core_calls_portable_math_only() {
    let mut files = Vec::new();
    sources(&core_dir().join("src"), &mut files);
    let mut found = Vec::new();
    for file in &files {
        let code = code(&std::fs::read_to_string(file).unwrap());
        for (n, line) in code.lines().enumerate() {
            for word in PLATFORM_MATH.iter().filter(|w| line.contains(*w)) {
                found.push(format!("{}:{}: `{word}` in `{}` (use libm::)", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "the core must call portable math (ARCHITECTURE.md):\n{}", found.join("\n"));
}

#[test]
fn the_check_finds_what_it_looks_for() {
    // The scan above must be able to fail: a line of I/O is caught, a comment is not.
    let sample = "fn f() {\n    let _ = std::fs::read(\"x\");\n}\n// std::fs in a comment\n";
    let code = code(sample);
    assert!(code.contains("std::fs::read"));
    assert_eq!(code.matches("std::fs").count(), 1);
}

/// The core's layers, lowest first (ARCHITECTURE.md): each may use those before it, never
/// those after. The utilities (`par`, `stop`, `stream`, `distributions`, `text`, `looks`) sit below
/// them all and use none.
const LAYERS: &[&str] = &["scenario", "model", "observe", "engine", "inference"];
const UTILITIES: &[&str] = &["par", "stop", "stream", "distributions", "text", "looks"];

/// The core modules named by `crate::…` paths (and `crate::{…}` groups) in `code`.
fn modules_used(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                None => vec![rest],
            };
            for name in names {
                let name: String = name.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    out.push((n + 1, name));
                }
            }
        }
    }
    out
}

#[test]
fn every_arrow_inside_the_core_points_down() {
    let src = core_dir().join("src");
    let rank =
        |m: &str| LAYERS.iter().position(|l| *l == m).map(|p| p + 1).or_else(|| UTILITIES.contains(&m).then_some(0));
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut upward = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let own = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        let Some(own_rank) = rank(&own) else { continue };
        for (line, used) in modules_used(&code(&std::fs::read_to_string(file).unwrap())) {
            if used == own || used == "section" || used == "choice" {
                continue; // its own layer, and the scenario's declaration macros (exported at the root)
            }
            match rank(&used) {
                Some(r) if r <= own_rank && (own_rank > 0 || r == 0) => {}
                Some(_) => upward.push(format!("{}:{line}: `{own}` uses `{used}`", rel.display())),
                None => upward.push(format!("{}:{line}: `{used}` is not a known layer of the core", rel.display())),
            }
        }
    }
    assert!(upward.is_empty(), "arrows that run up inside the core (ARCHITECTURE.md):\n{}", upward.join("\n"));
    // The check sees what it must.
    assert_eq!(
        modules_used("use crate::{engine, scenario::Scenario};\nlet x = crate::observe::f();"),
        [(1, "engine".to_string()), (1, "scenario".to_string()), (2, "observe".to_string())]
    );
}
