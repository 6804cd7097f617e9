//! Run the scenario on standard input and print the digest of its results
//! ([`coprosim_core::observe::Results::digest`]).
//!
//! This is the program the cross-target test (`tests/wasm.rs`) builds for WebAssembly (WASI)
//! and runs under Node, to compare with the same run on the native target.
//!
//! Usage: `digest SEED REPLICATIONS < scenario.toml`

use coprosim_core::engine::{self, RunConfig};
use coprosim_core::scenario::Scenario;
use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(seed), Some(replications)) =
        (args.get(1).and_then(|a| a.parse().ok()), args.get(2).and_then(|a| a.parse().ok()))
    else {
        eprintln!("usage: digest SEED REPLICATIONS < scenario.toml");
        std::process::exit(2);
    };
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("stdin: {e}");
        std::process::exit(2);
    }
    let scenario = Scenario::parse(&text, "stdin").unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let results = engine::run(&scenario, RunConfig { replications, seed, threads: 1 }, &|| {}).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    println!("{}", results.digest());
}
