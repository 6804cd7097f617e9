//! JSON Schemas of the input files, generated from the one definition of each parameter (the
//! [`ParamSpec`] rows [`super::params::section!`] derives), so that an editor that knows JSON
//! Schema (Taplo, Even Better TOML) completes keys, shows each one's meaning and unit on
//! hover, and flags unknown keys, wrong types and out-of-range numbers as a file is written.
//!
//! Draft 4, the newest draft Taplo (and so Even Better TOML) supports. Tables allow no other keys (the parsers'
//! `deny_unknown_fields`); a `Required.` doc marks a required key. The rules that tie
//! parameters together (shares summing to 1, names that must exist) are the parsers' alone.

use super::params::ParamSpec;
use serde_json::{Map, Value, json};

/// A table of the file being described: its keys in declaration order.
#[derive(Default)]
struct Table {
    keys: Vec<(String, Node)>,
}

enum Node {
    Leaf(ParamSpec),
    Table(Table),
    ArrayOfTables(Table),
}

impl Table {
    fn child(&mut self, name: &str, array: bool) -> &mut Table {
        let i = match self.keys.iter().position(|(k, _)| k == name) {
            Some(i) => i,
            None => {
                let node = if array { Node::ArrayOfTables(Table::default()) } else { Node::Table(Table::default()) };
                self.keys.push((name.to_string(), node));
                self.keys.len() - 1
            }
        };
        match &mut self.keys[i].1 {
            Node::Table(t) | Node::ArrayOfTables(t) => t,
            Node::Leaf(_) => unreachable!("a key is either a value or a table"),
        }
    }

    fn insert(&mut self, spec: &ParamSpec) {
        let steps: Vec<&str> = spec.key.split('.').collect();
        let mut here = self;
        for step in &steps[..steps.len() - 1] {
            let (name, array) = match step.strip_suffix("[]") {
                Some(n) => (n, true),
                None => (*step, false),
            };
            here = here.child(name, array);
        }
        let last = steps[steps.len() - 1];
        here.keys.push((last.to_string(), Node::Leaf(spec.clone())));
    }

    fn schema(&self, extra: &[(&str, Value)]) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, node) in &self.keys {
            let value = match node {
                Node::Leaf(spec) => {
                    if spec.doc.starts_with("Required.") {
                        required.push(Value::String(name.clone()));
                    }
                    leaf(spec)
                }
                Node::Table(t) => t.schema(&[]),
                Node::ArrayOfTables(t) => json!({ "type": "array", "items": t.schema(&[]) }),
            };
            properties.insert(name.clone(), value);
        }
        for (name, value) in extra {
            properties.insert(name.to_string(), value.clone());
        }
        let mut out = Map::new();
        out.insert("type".into(), json!("object"));
        out.insert("additionalProperties".into(), json!(false));
        out.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            out.insert("required".into(), Value::Array(required));
        }
        Value::Object(out)
    }
}

/// The schema of one parameter: its type, range, default and meaning.
fn leaf(spec: &ParamSpec) -> Value {
    let mut out = Map::new();
    match spec.ty {
        "integer" | "number" | "string" | "boolean" | "array" => {
            out.insert("type".into(), json!(spec.ty));
        }
        "number, string or boolean" => {
            out.insert("type".into(), json!(["number", "string", "boolean"]));
        }
        "table of numbers by name" => {
            out.insert("type".into(), json!("object"));
            out.insert("additionalProperties".into(), json!({ "type": "number", "minimum": 0.0, "maximum": 1.0 }));
        }
        "table of numbers by key path" => {
            out.insert("type".into(), json!("object"));
            out.insert("additionalProperties".into(), json!({ "type": "number" }));
        }
        other => {
            if let Some(values) = other.strip_prefix("one of") {
                let allowed: Vec<Value> =
                    values.split('"').map(str::trim).filter(|v| !v.is_empty()).map(|v| json!(v)).collect();
                out.insert("enum".into(), Value::Array(allowed));
            }
        }
    }
    if let Some(r) = spec.range {
        out.insert("minimum".into(), json!(r.lo));
        if r.lo_open {
            // Draft 4: a flag on `minimum` (later drafts made it a number of its own).
            out.insert("exclusiveMinimum".into(), json!(true));
        }
        out.insert("maximum".into(), json!(r.hi));
    }
    if let Some(default) = default_value(&spec.default) {
        out.insert("default".into(), default);
    }
    let unit = if spec.unit.is_empty() { String::new() } else { format!(" Unit: {}.", spec.unit) };
    out.insert("description".into(), json!(format!("{}{unit}", spec.doc)));
    Value::Object(out)
}

/// A default rendered as TOML, as JSON (None where there is none to show).
fn default_value(text: &str) -> Option<Value> {
    let table: toml::Table = toml::from_str(&format!("v = {text}")).ok()?;
    let v = serde_json::to_value(table.get("v")?).ok()?;
    match &v {
        Value::Number(_) | Value::String(_) | Value::Bool(_) | Value::Array(_) => Some(v),
        _ => None,
    }
}

/// The schema of a file whose keys are `specs`; `inline_scenario`, when given, is the
/// scenario file's own keys, allowed as an inline `[scenario]` table.
pub fn schema(title: &str, description: &str, specs: &[ParamSpec], inline_scenario: Option<&[ParamSpec]>) -> Value {
    let mut root = Table::default();
    for spec in specs {
        root.insert(spec);
    }
    let extra: Vec<(&str, Value)> = match inline_scenario {
        Some(_) => vec![("scenario", json!({ "$ref": "#/definitions/scenario" }))],
        None => Vec::new(),
    };
    let mut out = Map::new();
    out.insert("$schema".into(), json!("http://json-schema.org/draft-04/schema#"));
    out.insert("title".into(), json!(title));
    out.insert("description".into(), json!(description));
    if let Value::Object(body) = root.schema(&extra) {
        out.extend(body);
    }
    if let Some(scenario) = inline_scenario {
        let mut t = Table::default();
        for spec in scenario {
            t.insert(spec);
        }
        out.insert("definitions".into(), json!({ "scenario": t.schema(&[]) }));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_schema_nests_tables_and_keeps_ranges_defaults_and_docs() {
        let s = schema("t", "d", &crate::scenario::Scenario::parameter_specs(), None);
        let voice = &s["properties"]["coalitions"]["items"]["properties"]["governance"]["properties"]["voice"];
        assert_eq!(voice["type"], "number");
        assert_eq!(voice["minimum"], 0.0);
        assert_eq!(voice["maximum"], 1.0);
        assert!(voice["description"].as_str().unwrap().len() > 10);
        let years = &s["properties"]["simulation"]["properties"]["years"];
        assert_eq!(years["type"], "integer");
        assert_eq!(years["default"], 10);
        assert!(years["description"].as_str().unwrap().ends_with("Unit: years."));
        assert_eq!(s["properties"]["coalitions"]["items"]["additionalProperties"], false);
        let mode = &s["properties"]["coalitions"]["items"]["properties"]["mode"]["properties"]["planning"];
        // The parser's aliases are allowed values too ("co" for "shared").
        assert_eq!(mode["enum"], json!(["professional", "shared", "co", "community"]));
        assert_eq!(s["required"], json!(["name"]));
    }
}
