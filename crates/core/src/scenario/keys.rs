//! Scenario parameters addressed by key path (`coalitions[food_bank].governance.voice`), as
//! sweep axes, calibrated parameters, policy levers and the explorer's sliders name them: what
//! kind of value sits there, the scenario with a new value, and a label in words.

use super::Scenario;

/// Where an axis sits in a scenario and what values are allowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Slot {
    /// A float parameter.
    Float,
    /// An integer parameter: continuous designs round to the nearest integer.
    Integer,
}

/// Split a key path into steps: `a.b[2].c` → a, b, 2, c.
fn steps(path: &str) -> Vec<Result<String, usize>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        out.push(Ok(key.to_string()));
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            match (idx.strip_suffix(']'), idx.trim_end_matches(']').parse()) {
                (_, Ok(i)) => out.push(Err(i)),
                // `coalitions[food_bank]`: an entry by name, like `coalitions.food_bank`.
                (Some(name), Err(_)) if !name.is_empty() && !name.contains(']') => out.push(Ok(name.to_string())),
                (_, Err(_)) => out.push(Ok(format!("[{idx}"))),
            }
        }
    }
    out
}

/// Walk `path` through a scenario rendered as TOML: tables by key, arrays by index, and
/// arrays of named tables (coalitions, groups) by name as well, e.g.
/// `coalitions.food_bank.goal_hours` or `coalitions[food_bank].goal_hours`. Returns the index path of the value, or why none.
fn walk(value: &toml::Value, path: &str) -> Result<Vec<Result<String, usize>>, String> {
    let mut here = value;
    let mut walked = String::new();
    let mut resolved = Vec::new();
    for step in steps(path) {
        let (next, step) = match (step, here) {
            (Ok(k), toml::Value::Table(t)) => {
                let next = t.get(&k).ok_or_else(|| {
                    let keys: Vec<&str> = t.keys().map(String::as_str).collect();
                    let hint = super::nearest(&k, &keys).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                    let at = if walked.is_empty() { "the top level".to_string() } else { format!("`{walked}`") };
                    format!("no key `{k}` at {at} of the base scenario{hint}; expected one of {}", keys.join(", "))
                })?;
                walked = super::params::join(&walked, &k);
                (next, Ok(k))
            }
            (Err(i), toml::Value::Array(a)) => {
                let next = a.get(i).ok_or_else(|| {
                    format!("`{walked}` has {} entries in the base scenario, so index {i} does not exist", a.len())
                })?;
                walked.push_str(&format!("[{i}]"));
                (next, Err(i))
            }
            (Ok(k), toml::Value::Array(a)) => {
                let names: Vec<&str> = a.iter().filter_map(|e| e.get("name").and_then(|n| n.as_str())).collect();
                let i = names.iter().position(|n| *n == k).ok_or_else(|| {
                    let hint =
                        super::nearest(&k, &names).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                    format!(
                        "`{walked}` has no entry named `{k}`{hint}; expected an index or one of {}",
                        names.join(", ")
                    )
                })?;
                walked.push_str(&format!("[{i}]"));
                (&a[i], Err(i))
            }
            (Err(i), _) => return Err(format!("`{walked}` is not an array, so it has no entry [{i}]")),
            (Ok(k), _) => return Err(format!("`{walked}` is not a table, so it has no key `{k}`")),
        };
        here = next;
        resolved.push(step);
    }
    Ok(resolved)
}

fn get<'a>(value: &'a toml::Value, steps: &[Result<String, usize>]) -> &'a toml::Value {
    steps.iter().fold(value, |here, step| match step {
        Ok(k) => &here[k.as_str()],
        Err(i) => &here[*i],
    })
}

fn get_mut<'a>(value: &'a mut toml::Value, steps: &[Result<String, usize>]) -> &'a mut toml::Value {
    steps.iter().fold(value, |here, step| match step {
        Ok(k) => &mut here[k.as_str()],
        Err(i) => &mut here[*i],
    })
}

/// The key path with every array entry written `[]`, as `coprosim params` lists it:
/// `coalitions.food_bank.goal_hours` → `coalitions[].goal_hours`.
pub fn generic_key(s: &Scenario, path: &str) -> Result<String, String> {
    let value = toml::Value::try_from(s).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for step in walk(&value, path)? {
        match step {
            Ok(k) => out = super::params::join(&out, &k),
            Err(_) => out.push_str("[]"),
        }
    }
    Ok(out)
}

/// The key path with every array entry written by index, so that two spellings of one
/// parameter compare equal: `coalitions.food_bank.goal_hours` → `coalitions[1].goal_hours`.
pub fn canonical_key(s: &Scenario, path: &str) -> Result<String, String> {
    let value = toml::Value::try_from(s).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for step in walk(&value, path)? {
        match step {
            Ok(k) => out = super::params::join(&out, &k),
            Err(i) => out.push_str(&format!("[{i}]")),
        }
    }
    Ok(out)
}

/// The numeric slot at `path` in a scenario, or why there is none.
pub fn slot(s: &Scenario, path: &str) -> Result<Slot, String> {
    let value = toml::Value::try_from(s).map_err(|e| e.to_string())?;
    match get(&value, &walk(&value, path)?) {
        toml::Value::Float(_) => Ok(Slot::Float),
        toml::Value::Integer(_) => Ok(Slot::Integer),
        other => Err(format!("`{path}` is a {}, expected a numeric parameter", other.type_str())),
    }
}

/// A copy of `s` with the numeric parameter at `path` set to `v`, validated.
pub fn with_value(s: &Scenario, path: &str, v: f64) -> Result<Scenario, String> {
    slot(s, path)?;
    with_setting(s, path, &toml::Value::Float(v))
}

/// A copy of `s` with the parameter at `path` (number, string or boolean) set to `v`,
/// validated. Integer parameters take the nearest whole number.
pub fn with_setting(s: &Scenario, path: &str, v: &toml::Value) -> Result<Scenario, String> {
    let mut value = toml::Value::try_from(s).map_err(|e| e.to_string())?;
    let steps = walk(&value, path)?;
    let here = get_mut(&mut value, &steps);
    let shown = match v {
        toml::Value::String(t) => format!("\"{t}\""),
        other => other.to_string(),
    };
    *here = match (&*here, v) {
        (toml::Value::Integer(_), toml::Value::Float(x)) => {
            let r = x.round();
            if !(0.0..=i64::MAX as f64).contains(&r) {
                return Err(format!("found {x} for `{path}`, expected a non-negative whole number"));
            }
            toml::Value::Integer(r as i64)
        }
        (toml::Value::Integer(_), toml::Value::Integer(i)) if *i < 0 => {
            return Err(format!("found {i} for `{path}`, expected a non-negative whole number"));
        }
        (toml::Value::Float(_), toml::Value::Integer(i)) => toml::Value::Float(*i as f64),
        (old, new) if std::mem::discriminant(old) == std::mem::discriminant(new) => new.clone(),
        (old, _) => {
            let expected = match old {
                toml::Value::Float(_) | toml::Value::Integer(_) => "number",
                toml::Value::Boolean(_) => "boolean (true or false)",
                other => other.type_str(),
            };
            return Err(format!("found {shown} for `{path}`, expected a {expected}"));
        }
    };
    let out: Scenario =
        value.try_into().map_err(|e: toml::de::Error| format!("setting `{path}` to {shown}: {}", e.message()))?;
    if let Some(p) = out.problems().into_iter().next() {
        return Err(format!("setting `{path}` to {shown}: {}: {}", p.path, p.message));
    }
    Ok(out)
}

/// A human label for a parameter's key path: its last step in words, after its table's name
/// when the step alone says little (`contract amount`), then the coalition or group it belongs
/// to by name, e.g. "voice (food_bank)" for `coalitions[0].governance.voice`.
pub fn key_label(s: &Scenario, path: &str) -> String {
    let steps: Vec<&str> = path.split('.').collect();
    let bare = |step: &str| step.split('[').next().unwrap_or(step).to_string();
    let last = bare(steps[steps.len() - 1]);
    // Tables that only group parameters add nothing to a label.
    const GROUPING: [&str; 10] = [
        "governance",
        "behaviour",
        "policy",
        "organisation",
        "simulation",
        "population",
        "mode",
        "funding",
        "coalitions",
        "groups",
    ];
    let mut words = last.replace('_', " ");
    if let Some(parent) = steps.len().checked_sub(2).map(|i| bare(steps[i]))
        && !GROUPING.contains(&parent.as_str())
    {
        words = format!("{} {words}", parent.replace('_', " "));
    }
    // The element a path goes through, by name: `coalitions[0]` or `coalitions[food_bank]`.
    let owner = steps.iter().find_map(|step| {
        let (table, rest) = step.split_once('[')?;
        let inner = rest.trim_end_matches(']');
        let names: Vec<&str> = match table {
            "coalitions" => s.coalitions.iter().map(|c| c.name.as_str()).collect(),
            "groups" => s.population.groups.iter().map(|g| g.name.as_str()).collect(),
            _ => return Some(inner.to_string()),
        };
        Some(inner.parse::<usize>().ok().and_then(|i| names.get(i).map(|n| n.to_string())).unwrap_or(inner.to_string()))
    });
    match owner {
        Some(o) => format!("{words} ({o})"),
        None => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalitions_and_groups_are_addressed_by_name_in_either_form() {
        let base = Scenario::baseline();
        for key in ["coalitions[food_bank].governance.voice", "coalitions.food_bank.governance.voice"] {
            assert_eq!(canonical_key(&base, key).unwrap(), "coalitions[1].governance.voice", "{key}");
        }
        assert_eq!(
            canonical_key(&base, "population.groups[disadvantaged].time_cost").unwrap(),
            "population.groups[1].time_cost"
        );
        let e = canonical_key(&base, "coalitions[foodbank].staff").unwrap_err();
        assert!(e.contains("did you mean `food_bank`"), "{e}");
    }

    #[test]
    fn a_negative_whole_number_is_refused_in_plain_words() {
        let s = Scenario::baseline();
        let e = with_setting(&s, "population.size", &toml::Value::Integer(-5)).unwrap_err();
        assert_eq!(e, "found -5 for `population.size`, expected a non-negative whole number");
        assert_eq!(with_setting(&s, "population.size", &toml::Value::Integer(300)).unwrap().population.size, 300);
    }
}
