//! The explorer's model side: what the page can ask of coprosim, as JSON in and JSON out.
//!
//! The page (`web/explorer.html`) runs this crate, compiled for `wasm32-unknown-unknown`,
//! in Web Workers. It sends requests ([`call_bytes`]): `open` a scenario to learn its
//! levers; `prepare` it with the levers' settings, which applies them through the same key
//! paths a sweep uses, writes the resolved scenario as TOML and parses that text back (so
//! what is simulated is exactly what "Save scenario" downloads and `coprosim run`
//! reproduces); `replicate` a range of its replications (each worker some of them, as
//! [`records`]); and `aggregate` all the records, in replication order, into the chart
//! series and the headline table ([`coprosim_core::engine::results_of`], as the engine
//! does). `run` does the last three in one worker.
//!
//! Each worker keeps its replications' states at the end of their burn-in ([`kept`]), by the
//! burn-in's identity and seed: a rerun whose scenario simulates the same burn-in (a lever
//! that acts after it, such as a funding cut in a recorded year) starts each replication from
//! its state, as `coprosim run --from-state` does, to the same bytes as a full run.
//!
//! Nothing here draws or touches the page; the JavaScript does. Nothing here is needed by
//! the command line, which only embeds the compiled module in the page it writes.

#![warn(missing_docs)]

pub mod kept;
pub mod levers;
pub mod records;
pub mod settings;
pub mod view;

#[cfg(target_arch = "wasm32")]
mod abi;

use coprosim_core::engine::{self, RunConfig};
use coprosim_core::observe::{Catalogue, Results};
use coprosim_core::scenario::Scenario;
use serde_json::{Value, json};

/// What an answer is: JSON text, or bytes (replication records).
pub const TEXT: u8 = 0;
/// See [`TEXT`].
pub const BYTES: u8 = 1;

/// Answer one request from the page: a little-endian u32 length, that many bytes of JSON,
/// then any bytes the request carries (the records to aggregate). The answer is one byte,
/// [`TEXT`] or [`BYTES`], then the answer. A failure is JSON text, `{"error": "..."}`, with
/// the problems one per line, as the command line prints them.
pub fn call_bytes(request: &[u8]) -> Vec<u8> {
    let answer = split(request).and_then(|(req, payload)| match req.get("op").and_then(Value::as_str) {
        Some("open") => open(&req).map(Answer::Text),
        Some("run") => run(&req).map(Answer::Text),
        Some("prepare") => prepare(&req).map(Answer::Text),
        Some("replicate") => replicate(&req).map(Answer::Bytes),
        Some("aggregate") => aggregate(&req, payload).map(Answer::Text),
        other => Err(format!(
            "unknown request {other:?}, expected \"open\", \"run\", \"prepare\", \"replicate\" or \"aggregate\""
        )),
    });
    match answer {
        Ok(Answer::Text(v)) => [&[TEXT][..], v.to_string().as_bytes()].concat(),
        Ok(Answer::Bytes(b)) => [&[BYTES][..], &b].concat(),
        Err(e) => [&[TEXT][..], json!({ "error": e }).to_string().as_bytes()].concat(),
    }
}

enum Answer {
    Text(Value),
    Bytes(Vec<u8>),
}

fn split(request: &[u8]) -> Result<(Value, &[u8]), String> {
    let n = request.get(..4).ok_or("the request is empty")?;
    let n = u32::from_le_bytes(n.try_into().expect("4 bytes")) as usize;
    let text = request.get(4..4 + n).ok_or("the request is cut short")?;
    let req = serde_json::from_slice(text).map_err(|e| format!("the request is not JSON: {e}"))?;
    Ok((req, &request[4 + n..]))
}

/// [`call_bytes`] for a request of JSON alone, whose answer is JSON.
pub fn call(request: &str) -> String {
    let bytes = [&(request.len() as u32).to_le_bytes()[..], request.as_bytes()].concat();
    let answer = call_bytes(&bytes);
    String::from_utf8_lossy(&answer[1..]).into_owned()
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

/// The scenario with the request's settings applied: its text, seed and replications.
fn prepare(req: &Value) -> Result<Value, String> {
    let base = scenario_of(req)?;
    let (s, text) = settings::apply(&base, req.get("settings").unwrap_or(&Value::Null))?;
    Ok(json!({ "scenario": text, "seed": s.simulation.seed, "replications": s.simulation.replications }))
}

/// Replications `from..to` of a prepared scenario, as records.
fn replicate(req: &Value) -> Result<Vec<u8>, String> {
    let s = scenario_of(req)?;
    let bound = |k: &str| req.get(k).and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok());
    let (from, to) = (bound("from").ok_or("no `from`")?, bound("to").ok_or("no `to`")?);
    if from > to || to > s.simulation.replications {
        return Err(format!("replications {from}..{to} of {}", s.simulation.replications));
    }
    let cat = Catalogue::new(&s);
    let runs = kept::replicate(&s, &cat, from..to)?;
    let mut out = Vec::new();
    records::encode(&runs, &mut out);
    Ok(out)
}

/// A prepared scenario's results from all its replications' records, in order.
fn aggregate(req: &Value, payload: &[u8]) -> Result<Value, String> {
    let s = scenario_of(req)?;
    let records = records::decode(payload)?;
    if records.len() != s.simulation.replications as usize {
        return Err(format!("{} records for {} replications", records.len(), s.simulation.replications));
    }
    Ok(answer(&s, &req["scenario"], &engine::results_of(&s, &records)))
}

/// Run the scenario with the request's settings, in this worker.
fn run(req: &Value) -> Result<Value, String> {
    let base = scenario_of(req)?;
    let (scenario, text) = settings::apply(&base, req.get("settings").unwrap_or(&Value::Null))?;
    let cfg = RunConfig { replications: scenario.simulation.replications, seed: scenario.simulation.seed, threads: 1 };
    let results = engine::run(&scenario, cfg, &|| {}).map_err(|e| e.to_string())?;
    Ok(answer(&scenario, &json!(text), &results))
}

fn answer(scenario: &Scenario, text: &Value, results: &Results) -> Value {
    json!({
        "scenario": text,
        "name": scenario.name,
        "digest": results.digest(),
        "headline": view::headline(results),
        "charts": view::charts(results, scenario),
        "warnings": results.diagnostics.iter().map(|d| d.message.clone()).collect::<Vec<_>>(),
    })
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
    fn replications_run_in_pieces_aggregate_to_the_single_run() {
        let settings = json!({ "seed": 4, "replications": 5 });
        let single: Value =
            serde_json::from_str(&call(&json!({ "op": "run", "scenario": TOWN, "settings": settings }).to_string()))
                .unwrap();
        let prepared: Value = serde_json::from_str(&call(
            &json!({ "op": "prepare", "scenario": TOWN, "settings": settings }).to_string(),
        ))
        .unwrap();
        let text = prepared["scenario"].as_str().unwrap();
        let mut records = Vec::new();
        for (from, to) in [(0, 2), (2, 5)] {
            let req = json!({ "op": "replicate", "scenario": text, "from": from, "to": to }).to_string();
            let answer = call_bytes(&[&(req.len() as u32).to_le_bytes()[..], req.as_bytes()].concat());
            assert_eq!(answer[0], BYTES, "{}", String::from_utf8_lossy(&answer[1..]));
            records.extend_from_slice(&answer[1..]);
        }
        let req = json!({ "op": "aggregate", "scenario": text }).to_string();
        let answer = call_bytes(&[&(req.len() as u32).to_le_bytes()[..], req.as_bytes(), &records].concat());
        let pieced: Value = serde_json::from_slice(&answer[1..]).unwrap();
        assert_eq!(pieced["digest"], single["digest"]);
        assert_eq!(pieced["headline"], single["headline"]);
        assert_eq!(pieced["scenario"], single["scenario"]);
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let out = call(r#"{"op": "run", "scenario": "name = 3"}"#);
        assert!(out.contains("error") && out.contains("scenario.toml:1:8"), "{out}");
        assert!(call("nonsense").contains("not JSON"));
        assert!(call(r#"{"op": "fly"}"#).contains("unknown request"));
        assert!(String::from_utf8_lossy(&call_bytes(&[9, 0, 0, 0, b'{'])).contains("cut short"));
        let req = json!({ "op": "aggregate", "scenario": TOWN }).to_string();
        let answer = call_bytes(&[&(req.len() as u32).to_le_bytes()[..], req.as_bytes(), &[1, 0, 0, 0]].concat());
        assert!(String::from_utf8_lossy(&answer).contains("error"));
    }
}
