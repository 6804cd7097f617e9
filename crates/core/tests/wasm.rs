//! The same scenario and seed give the same bits natively and in WebAssembly.
//!
//! The test builds `examples/digest.rs` for `wasm32-wasip1` without the `parallel` feature
//! (in its own target directory, `target/wasm-check`), runs it under Node's WASI for the
//! baseline and every preset, and compares the digest of every reported number with the
//! native run's, on two threads. So it checks two promises at once: portable numbers
//! (libm, not the platform's functions) and results that do not depend on threads.
//!
//! It needs Node and the `wasm32-wasip1` target (which rustup installs from
//! `rust-toolchain.toml`). Without them it fails under CI (`CI` set) and elsewhere is reported
//! as ignored with the reason: hence its own harness (libtest-mimic).

use coprosim_core::engine::{self, RunConfig};
use coprosim_core::scenario::Scenario;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::Command;

const SEED: u64 = 20261124;
const REPLICATIONS: u32 = 3;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn scenarios() -> Vec<PathBuf> {
    let mut out = vec![repo().join("scenarios/baseline.toml")];
    let mut presets: Vec<PathBuf> = std::fs::read_dir(repo().join("scenarios/presets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    presets.sort();
    out.extend(presets);
    // A town of several blocks of agents, each on its own streams (natively on two threads).
    out.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasi/three_blocks.toml"));
    out
}

/// Why the test cannot run here, if it cannot.
fn missing_tools() -> Option<String> {
    if Command::new("node").arg("--version").output().is_err() {
        return Some("no `node` on PATH".into());
    }
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match installed {
        Ok(o) if String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == "wasm32-wasip1") => None,
        Ok(_) => Some("the wasm32-wasip1 target is not installed (rustup target add wasm32-wasip1)".into()),
        Err(_) => Some("no `rustup` on PATH to tell whether wasm32-wasip1 is installed".into()),
    }
}

fn build_wasm() -> Result<PathBuf, Failed> {
    let target_dir = repo().join("target/wasm-check");
    let status = Command::new(env!("CARGO"))
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", &target_dir)
        .args(["build", "--quiet", "--release", "-p", "coprosim-core", "--no-default-features"])
        .args(["--example", "digest", "--target", "wasm32-wasip1"])
        .status()
        .map_err(|e| Failed::from(format!("cannot run cargo: {e}")))?;
    if !status.success() {
        return Err(Failed::from("building the digest example for wasm32-wasip1 failed"));
    }
    Ok(target_dir.join("wasm32-wasip1/release/examples/digest.wasm"))
}

fn native_digest(path: &Path) -> String {
    let s = Scenario::parse(&std::fs::read_to_string(path).unwrap(), &path.display().to_string()).unwrap();
    engine::run(&s, RunConfig { replications: REPLICATIONS, seed: SEED, threads: 2 }, &|| {}).unwrap().digest()
}

fn wasm_digest(wasm: &Path, scenario: &Path) -> Result<String, Failed> {
    let out = Command::new("node")
        .arg("--no-warnings")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasi/run.mjs"))
        .arg(wasm)
        .arg(scenario)
        .args([SEED.to_string(), REPLICATIONS.to_string()])
        .output()
        .map_err(|e| Failed::from(format!("cannot run node: {e}")))?;
    if !out.status.success() {
        return Err(Failed::from(format!(
            "{}: the WebAssembly run failed: {}",
            scenario.display(),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn same_bits_natively_and_in_webassembly() -> Result<Completion, Failed> {
    if let Some(why) = missing_tools() {
        return if std::env::var_os("CI").is_some() {
            Err(Failed::from(format!("{why}: .ci/run must provide it")))
        } else {
            Ok(Completion::ignored_with(why))
        };
    }
    let wasm = build_wasm()?;
    let mut differ = Vec::new();
    for scenario in scenarios() {
        let (native, web) = (native_digest(&scenario), wasm_digest(&wasm, &scenario)?);
        if native != web {
            differ.push(format!("{}: native {native}, wasm32-wasip1 {web}", scenario.display()));
        }
    }
    if differ.is_empty() { Ok(Completion::Completed) } else { Err(Failed::from(differ.join("\n"))) }
}

fn main() {
    let trials =
        vec![Trial::ignorable_test("same_bits_natively_and_in_webassembly", same_bits_natively_and_in_webassembly)];
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}
