//! The page's settings applied to a scenario. The result is always a whole scenario file:
//! the settings are applied, the scenario is written out as TOML and that text is parsed
//! and validated again, so the page simulates exactly what it saves.
//!
//! Settings: `{"values": {key path: value}, "cut": {"share", "year", "stream"}, "mix": share,
//! "seed": n, "replications": n}`, every part optional. Values are set through the key paths
//! a sweep uses (`coalitions[food_bank].governance.voice`), so every parameter of the format
//! can be a lever without code here.

use coprosim_core::scenario::Scenario;
use coprosim_core::scenario::keys::with_setting;
use coprosim_core::scenario::{Shock, Stream};
use serde_json::Value;

fn number(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| format!("found {v} for {what}, expected a number"))
}

/// `base` with `settings` applied, and its text as a scenario file.
pub fn apply(base: &Scenario, settings: &Value) -> Result<(Scenario, String), String> {
    let mut s = base.clone();
    if let Some(values) = settings.get("values").and_then(Value::as_object) {
        for (key, v) in values {
            let t: toml::Value =
                serde_json::from_value(v.clone()).map_err(|e| format!("found {v} for `{key}`: {e}"))?;
            s = with_setting(&s, key, &t)?;
        }
    }
    if let Some(share) = settings.get("mix").filter(|v| !v.is_null()) {
        set_mix(&mut s, number(share, "the population mix")?)?;
    }
    if let Some(cut) = settings.get("cut").filter(|v| !v.is_null()) {
        let share = number(cut.get("share").unwrap_or(&Value::Null), "the share cut")?;
        if share > 0.0 {
            let year = number(cut.get("year").unwrap_or(&Value::Null), "the year of the cut")?;
            let stream: Stream = serde_json::from_value(cut.get("stream").cloned().unwrap_or(Value::Null))
                .map_err(|e| format!("the stream cut: {e}"))?;
            s.policy.shocks.push(Shock { year, stream, cut: share, coalition: String::new(), area: String::new() });
        }
    }
    if let Some(seed) = settings.get("seed").filter(|v| !v.is_null()) {
        s.simulation.seed =
            seed.as_u64().ok_or_else(|| format!("found {seed} for the seed, expected a whole number"))?;
    }
    if let Some(r) = settings.get("replications").filter(|v| !v.is_null()) {
        s.simulation.replications = r
            .as_u64()
            .and_then(|r| u32::try_from(r).ok())
            .ok_or_else(|| format!("found {r} for replications, expected a whole number"))?;
    }
    let text = s.to_toml();
    let s = Scenario::parse(&text, "the explorer's settings").map_err(|e| e.to_string())?;
    Ok((s, text))
}

/// Give the first group `share` of the population and the others the rest, in the
/// proportions they had. With areas, each area's mix moves so that the areas still give
/// every group its share: the first group's part of each area is scaled towards 0 (a smaller
/// share) or its complement towards 0 (a larger one), which keeps every part within [0, 1]
/// and sums exactly.
fn set_mix(s: &mut Scenario, share: f64) -> Result<(), String> {
    if !(0.0..1.0).contains(&share) || share == 0.0 {
        return Err(format!("found {share} for the population mix, expected a share between 0 and 1"));
    }
    let groups = &mut s.population.groups;
    if groups.len() < 2 {
        return Err("the population mix needs at least two groups".into());
    }
    let old = groups[0].share;
    let rest: f64 = groups[1..].iter().map(|g| g.share).sum();
    groups[0].share = share;
    for g in &mut groups[1..] {
        g.share *= (1.0 - share) / rest;
    }
    if s.population.areas.is_empty() {
        return Ok(());
    }
    let names: Vec<(String, f64)> = groups.iter().map(|g| (g.name.clone(), g.share)).collect();
    let (first, others) = (&names[0].0, &names[1..]);
    for area in &mut s.population.areas {
        let p = area.mix.get(first).copied().unwrap_or(0.0);
        let q = if share <= old { p * share / old } else { 1.0 - (1.0 - p) * (1.0 - share) / (1.0 - old) };
        let present: f64 = others.iter().filter_map(|(n, _)| area.mix.get(n)).sum();
        for (n, overall) in others {
            // An area of the first group alone takes the others in their overall proportions.
            let part = if present > 0.0 { area.mix.get(n).copied().unwrap_or(0.0) / present } else { overall / rest };
            if part > 0.0 {
                area.mix.insert(n.clone(), part * (1.0 - q));
            }
        }
        area.mix.insert(first.clone(), q);
    }
    for (g, (name, _)) in names.iter().enumerate() {
        s.population.groups[g].share = s.population.areas_share_of(name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_reach_the_scenario_and_its_text() {
        let base = Scenario::baseline();
        let settings = json!({
            "values": { "coalitions[food_bank].governance.voice": 0.25, "policy.performance_regime": 1 },
            "cut": { "share": 0.5, "year": 42, "stream": "grants" },
            "mix": 0.3,
            "seed": 77,
            "replications": 20,
        });
        let (s, text) = apply(&base, &settings).unwrap();
        let food_bank = s.coalitions.iter().find(|c| c.name == "food_bank").unwrap();
        assert_eq!(food_bank.governance.voice, 0.25);
        assert_eq!(s.policy.performance_regime, 1.0);
        let shock = s.policy.shocks.last().unwrap();
        assert_eq!((shock.year, shock.cut, shock.stream), (42.0, 0.5, Stream::Grants));
        assert!((s.population.groups[0].share - 0.3).abs() < 1e-12);
        // The areas move with it: the estate keeps its poorer mix, scaled.
        let estate = &s.population.areas[0];
        assert!((estate.mix["advantaged"] - 0.3 * 0.3 / 0.675).abs() < 1e-12, "{:?}", estate.mix);
        assert!((estate.mix.values().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((s.population.groups.iter().map(|g| g.share).sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!((s.simulation.seed, s.simulation.replications), (77, 20));
        assert_eq!(Scenario::parse(&text, "saved.toml").unwrap(), s);
    }

    #[test]
    fn a_setting_outside_its_range_is_refused_with_its_key() {
        let e = apply(&Scenario::baseline(), &json!({ "values": { "policy.performance_regime": 2 } })).unwrap_err();
        assert!(e.contains("policy.performance_regime"), "{e}");
        let e = apply(&Scenario::baseline(), &json!({ "mix": 1.5 })).unwrap_err();
        assert!(e.contains("population mix"), "{e}");
    }

    #[test]
    fn no_cut_adds_no_shock() {
        let base = Scenario::baseline();
        let (s, _) = apply(&base, &json!({ "cut": { "share": 0, "year": 3, "stream": "all" } })).unwrap();
        assert_eq!(s.policy.shocks.len(), base.policy.shocks.len());
    }
}
