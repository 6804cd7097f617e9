//! The levers an analyst asks about (the explorer issue's list): funding per stream, a cut
//! and its year, the performance regime, voice, outreach and its target, stipend,
//! delegation, and the population mix. Each names the scenario key it sets, so the page
//! needs no knowledge of the scenario format, and its documentation comes from the one
//! definition of the parameter.

use coprosim_core::scenario::params::generic_path;
use coprosim_core::scenario::{ParamSpec, Scenario};
use serde::Serialize;
use serde_json::{Value, json};

/// One control on the page.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Lever {
    /// The panel it sits in: "Policy", "Funding cut", "Population" or a coalition's name.
    pub panel: String,
    /// Its label.
    pub label: String,
    /// The scenario key path it sets, or `cut.share`, `cut.year`, `cut.stream`, `mix`.
    pub key: String,
    /// "range" (a slider) or "select".
    pub kind: &'static str,
    /// Lowest value (a slider).
    pub min: f64,
    /// Highest value (a slider).
    pub max: f64,
    /// Step (a slider).
    pub step: f64,
    /// The scenario's own value.
    pub value: Value,
    /// Unit, as the parameter's definition gives it.
    pub unit: String,
    /// The choices of a select: (value, label).
    pub options: Vec<(Value, String)>,
    /// What it does, from the parameter's definition.
    pub doc: String,
}

/// A step that gives about a hundred positions up to `max`, rounded to 1, 2 or 5 × 10^k.
fn nice_step(max: f64) -> f64 {
    let raw = max / 100.0;
    let p = 10f64.powi(raw.log10().floor() as i32);
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * p).find(|s| *s >= raw).unwrap_or(raw)
}

/// A slider from 0 to three times the scenario's value, and at least to `floor`.
fn money(specs: &[ParamSpec], panel: &str, label: &str, key: String, value: f64, floor: f64) -> Lever {
    let max = (value * 3.0).max(floor);
    let step = nice_step(max);
    let max = (max / step).ceil() * step;
    slider(specs, panel, label, key, value, 0.0, max, step)
}

/// A slider for `key`, documented from its parameter's definition among `specs`.
#[allow(clippy::too_many_arguments)]
fn slider(
    specs: &[ParamSpec],
    panel: &str,
    label: &str,
    key: String,
    value: f64,
    min: f64,
    max: f64,
    step: f64,
) -> Lever {
    let spec = specs.iter().find(|p| p.key == generic_path(&key));
    Lever {
        panel: panel.into(),
        label: label.into(),
        kind: "range",
        min,
        max,
        step,
        value: json!(value),
        unit: spec.as_ref().map_or("", |p| p.unit).to_string(),
        options: Vec::new(),
        doc: spec.map_or("", |p| p.doc).to_string(),
        key,
    }
}

/// The levers of a scenario, panel by panel.
pub fn levers(s: &Scenario) -> Vec<Lever> {
    let specs = Scenario::parameter_specs();
    let specs = specs.as_slice();
    let mut out = vec![slider(
        specs,
        "Policy",
        "Performance regime",
        "policy.performance_regime".into(),
        s.policy.performance_regime,
        0.0,
        1.0,
        0.05,
    )];
    let horizon = s.simulation.burn_in_years as f64 + s.simulation.years as f64;
    let mut share = slider(specs, "Funding cut", "Share cut", "cut.share".into(), 0.0, 0.0, 1.0, 0.05);
    share.doc = "A permanent cut to one funding stream of every coalition, added to the scenario's own shocks \
                 (policy.shocks); 0 adds none."
        .into();
    let first_recorded = s.simulation.burn_in_years as f64 + 2f64.min(s.simulation.years as f64 / 2.0).floor();
    let mut year =
        slider(specs, "Funding cut", "Year of the cut", "cut.year".into(), first_recorded, 0.0, horizon, 1.0);
    year.doc =
        "Year from founding at which the cut takes effect (the recorded period starts after the burn-in).".into();
    let streams = ["contract", "grants", "donations", "earned", "all"];
    let stream = Lever {
        panel: "Funding cut".into(),
        label: "Stream".into(),
        key: "cut.stream".into(),
        kind: "select",
        min: 0.0,
        max: 0.0,
        step: 0.0,
        value: json!("contract"),
        unit: String::new(),
        options: streams.iter().map(|t| (json!(t), t.to_string())).collect(),
        doc: "The funding stream cut.".into(),
    };
    out.extend([share, year, stream]);
    if s.population.groups.len() >= 2 {
        let first = &s.population.groups[0];
        let mut mix =
            slider(specs, "Population", &format!("Share {}", first.name), "mix".into(), first.share, 0.05, 0.95, 0.01);
        mix.doc = format!(
            "Share of the population in group \"{}\"; the other groups share the rest in their scenario proportions.",
            first.name
        );
        out.push(mix);
    }
    for c in &s.coalitions {
        let at = |k: &str| format!("coalitions[{}].{k}", c.name);
        let panel = c.name.as_str();
        let f = &c.funding;
        // Streams the scenario gives the coalition; a contract or grant it lacks has terms
        // (start, length, renewal) the page cannot guess.
        if let Some(contract) = &f.contract {
            out.push(money(
                specs,
                panel,
                "Contract (a year)",
                at("funding.contract.amount"),
                contract.amount,
                60_000.0,
            ));
        }
        for (i, g) in f.grants.iter().enumerate() {
            let label =
                if f.grants.len() == 1 { "Grant (a year)".to_string() } else { format!("Grant {} (a year)", i + 1) };
            out.push(money(specs, panel, &label, at(&format!("funding.grants[{i}].amount")), g.amount, 30_000.0));
        }
        out.push(money(
            specs,
            panel,
            "Donation per member",
            at("funding.donation_per_member"),
            f.donation_per_member,
            100.0,
        ));
        out.push(money(specs, panel, "Earned income (a year)", at("funding.earned_income"), f.earned_income, 30_000.0));
        out.push(money(specs, panel, "Stipend per member", at("stipend"), c.stipend, 2_000.0));
        out.push(slider(specs, panel, "Voice", at("governance.voice"), c.governance.voice, 0.0, 1.0, 0.05));
        out.push(slider(specs, panel, "Outreach", at("governance.outreach"), c.governance.outreach, 0.0, 1.0, 0.05));
        let spec = specs.iter().find(|p| p.key == "coalitions[].governance.outreach_target");
        let mut options = vec![(json!([]), "everyone".to_string())];
        options.extend(s.population.groups.iter().map(|g| (json!([g.name]), g.name.clone())));
        out.push(Lever {
            panel: panel.into(),
            label: "Outreach target".into(),
            key: at("governance.outreach_target"),
            kind: "select",
            min: 0.0,
            max: 0.0,
            step: 0.0,
            value: json!(c.governance.outreach_target),
            unit: String::new(),
            options,
            doc: spec.map_or("", |p| p.doc).to_string(),
        });
        out.push(money(
            specs,
            panel,
            "Delegation (a year)",
            at("governance.delegation_rate"),
            c.governance.delegation_rate,
            2.0,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use coprosim_core::scenario::keys::with_setting;

    #[test]
    fn every_scenario_lever_names_a_parameter_that_takes_its_range() {
        let s = Scenario::baseline();
        let all = levers(&s);
        assert!(all.iter().any(|l| l.key == "coalitions[youth_clubhouse].funding.contract.amount"), "{all:?}");
        for l in all.iter().filter(|l| !l.key.starts_with("cut.") && l.key != "mix") {
            assert!(!l.doc.is_empty(), "{} has no documentation", l.key);
            let ends: Vec<Value> = if l.kind == "range" {
                vec![json!(l.min), json!(l.max)]
            } else {
                l.options.iter().map(|(v, _)| v.clone()).collect()
            };
            for v in ends {
                let t: toml::Value = serde_json::from_value(v.clone()).unwrap();
                with_setting(&s, &l.key, &t).unwrap_or_else(|e| panic!("{} = {v}: {e}", l.key));
            }
        }
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(60_000.0), 1_000.0);
        assert_eq!(nice_step(90_000.0), 1_000.0);
        assert_eq!(nice_step(150.0), 2.0);
        assert_eq!(nice_step(1.0), 0.01);
    }
}
