//! The explorer's model side: what the page can ask of coprosim, as JSON in and JSON out.
//!
//! The page (`web/explorer.html`) runs this crate, compiled for `wasm32-unknown-unknown`,
//! in a Web Worker. It sends a request ([`call`]): `open` a scenario to learn its levers,
//! or `run` it with the levers' settings. A run applies the settings to the scenario through
//! the same key paths a sweep uses, writes the resolved scenario as TOML, parses that text
//! back (so what is simulated is exactly what "Save scenario" downloads and `coprosim run`
//! reproduces), runs the engine and returns the chart series and the headline table.
//!
//! Nothing here draws or touches the page; the JavaScript does. Nothing here is needed by
//! the command line, which only embeds the compiled module in the page it writes.

#![warn(missing_docs)]

pub mod levers;
pub mod settings;
pub mod view;

#[cfg(target_arch = "wasm32")]
mod abi;

use coprosim_core::engine::{self, RunConfig};
use coprosim_core::scenario::Scenario;
use serde_json::{Value, json};

/// Answer one request from the page. Every answer is a JSON object; a failure is
/// `{"error": "..."}` with the problems one per line, as the command line prints them.
pub fn call(request: &str) -> String {
    let answer = match serde_json::from_str::<Value>(request) {
        Ok(req) => match req.get("op").and_then(Value::as_str) {
            Some("open") => open(&req),
            Some("run") => run(&req),
            other => Err(format!("unknown request {other:?}, expected \"open\" or \"run\"")),
        },
        Err(e) => Err(format!("the request is not JSON: {e}")),
    };
    match answer {
        Ok(v) => v.to_string(),
        Err(e) => json!({ "error": e }).to_string(),
    }
}

fn scenario_of(req: &Value) -> Result<Scenario, String> {
    let text = req.get("scenario").and_then(Value::as_str).ok_or("the request has no scenario text")?;
    let file = req.get("file").and_then(Value::as_str).unwrap_or("scenario.toml");
    Scenario::parse(text, file).map_err(|e| e.to_string())
}

/// The scenario's name, description, seed, replications and levers.
fn open(req: &Value) -> Result<Value, String> {
    let s = scenario_of(req)?;
    Ok(json!({
        "name": s.name,
        "description": s.description,
        "seed": s.simulation.seed,
        "replications": s.simulation.replications,
        "levers": levers::levers(&s),
    }))
}

/// Run the scenario with the request's settings.
fn run(req: &Value) -> Result<Value, String> {
    let base = scenario_of(req)?;
    let (scenario, text) = settings::apply(&base, req.get("settings").unwrap_or(&Value::Null))?;
    let cfg = RunConfig { replications: scenario.simulation.replications, seed: scenario.simulation.seed, threads: 1 };
    let results = engine::run(&scenario, cfg, &|| {}).map_err(|e| e.to_string())?;
    Ok(json!({
        "scenario": text,
        "name": scenario.name,
        "digest": results.digest(),
        "headline": view::headline(&results),
        "charts": view::charts(&results),
        "warnings": results.diagnostics.iter().map(|d| d.message.clone()).collect::<Vec<_>>(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOWN: &str = r#"
name = "tiny"
[simulation]
years = 2
replications = 3
seed = 9
[population]
size = 200
[[population.groups]]
name = "a"
share = 0.5
[[population.groups]]
name = "b"
share = 0.5
[[coalitions]]
name = "shop"
[coalitions.funding]
earned_income = 20000.0
"#;

    #[test]
    fn a_run_equals_the_engine_on_the_scenario_it_returns() {
        let req = json!({ "op": "run", "scenario": TOWN, "settings": {
            "values": { "coalitions[shop].governance.voice": 0.9 }, "seed": 4, "replications": 2 } });
        let out: Value = serde_json::from_str(&call(&req.to_string())).unwrap();
        assert!(out.get("error").is_none(), "{out}");
        let text = out["scenario"].as_str().unwrap();
        let s = Scenario::parse(text, "saved.toml").unwrap();
        assert_eq!(s.coalitions[0].governance.voice, 0.9);
        assert_eq!((s.simulation.seed, s.simulation.replications), (4, 2));
        let again = engine::run(&s, RunConfig { replications: 2, seed: 4, threads: 1 }, &|| {}).unwrap();
        assert_eq!(out["digest"], again.digest());
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let out = call(r#"{"op": "run", "scenario": "name = 3"}"#);
        assert!(out.contains("error") && out.contains("scenario.toml:1:8"), "{out}");
        assert!(call("nonsense").contains("not JSON"));
        assert!(call(r#"{"op": "fly"}"#).contains("unknown request"));
    }
}
