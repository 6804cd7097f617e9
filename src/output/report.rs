//! `report.html`: one self-contained page per run (charts inline as PNG data URIs, styles
//! inline, no scripts, nothing fetched), readable from the file system in any browser.

use super::charts::Rendered;
use super::rundata::RunData;

/// The reports' shared styles (inline, so a report is one self-contained file).
pub(crate) const STYLE: &str = r#"<style>
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; max-width: 1300px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
.meta { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.85em; width: 100%; margin: 1em 0 2em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 2em 0; }
figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.4em; }
.warnings { border: 2px solid #d55e00; background: #fff6ef; padding: 0.6em 1em; margin: 1em 0 1.5em; }
.warnings h2 { margin: 0.2em 0 0.4em; font-size: 1.1em; color: #a04000; }
.warnings li { margin: 0.3em 0; }
tr.default td { color: #888; }
details summary { cursor: pointer; margin: 0.5em 0; }
</style>
"#;

/// Escape text for HTML.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn fixed(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) => format!("{v:.decimals$}"),
        None => "n/a".into(),
    }
}

/// Decimals for every cell of a headline row: counts (people, coalitions) to one decimal,
/// since their means need no more; shares, ratios and rates to three.
fn decimals_for(metric: &str) -> usize {
    match crate::observe::summary_domain(metric, 1) {
        crate::observe::stats::Domain::NonNegative | crate::observe::stats::Domain::UpTo(_)
            if metric != "representation_ratio" =>
        {
            1
        }
        _ => 3,
    }
}

/// The report page for a run and its drawn charts.
pub fn html(data: &RunData, charts: &[Rendered], explorer: bool) -> String {
    let m = &data.manifest;
    let mut rows = String::new();
    for r in &data.summary {
        let d = decimals_for(&r.metric);
        let fixed = |v: Option<f64>| fixed(v, d);
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{} – {}</td><td class=n>{} – {}</td><td>{}</td></tr>\n",
            esc(&r.metric),
            esc(&r.coalition),
            esc(&r.group),
            fixed(r.mean),
            fixed(r.ci95_low),
            fixed(r.ci95_high),
            fixed(r.band.p05),
            fixed(r.band.p95),
            esc(&r.description)
        ));
    }
    let mut figures = String::new();
    for c in charts {
        figures.push_str(&format!(
            "<figure id=\"{name}\"><img src=\"data:image/png;base64,{png}\" alt=\"{alt}\" width=\"1600\"><figcaption><b>{title}.</b> {caption} Files: <code>charts/{name}.svg</code>, <code>charts/{name}.png</code>.</figcaption></figure>\n",
            name = esc(&c.name),
            png = super::base64::base64(&c.png),
            alt = esc(&c.caption),
            title = esc(&capitalise(&c.name)),
            caption = esc(&c.caption),
        ));
    }
    let warnings = if m.warnings.is_empty() {
        String::new()
    } else {
        let items: String = m.warnings.iter().map(|w| format!("<li>{}</li>\n", esc(&w.message))).collect();
        format!(
            "<section class=\"warnings\" id=\"warnings\"><h2>Read these first: {} warning{}</h2>\n<ul>\n{items}</ul></section>\n",
            m.warnings.len(),
            if m.warnings.len() == 1 { "" } else { "s" }
        )
    };
    let scenario = match &data.resolved_scenario {
        Some(text) => {
            let (rows, total, set) = scenario_rows(text);
            format!(
                "<h2>The scenario as run</h2>\n<details id=\"scenario\"><summary>All {total} parameters: {set} differ from the defaults, {} are at their default values (greyed). The same text is in <code>resolved_scenario.toml</code>; <code>coprosim run resolved_scenario.toml</code> reproduces this run.</summary>\n<table>\n<thead><tr><th>key</th><th>value</th><th></th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table></details>\n",
                total - set
            )
        }
        None => String::new(),
    };
    let explore = if explorer {
        format!(
            "<p class=\"explore\" id=\"explore\"><a href=\"{}\">Open this scenario in the explorer</a>: move its levers (funding, a cut, voice, outreach, the population mix…) and rerun it in your browser, offline. Its \"Save scenario\" gives a file that <code>coprosim run</code> reproduces.</p>\n",
            super::names::EXPLORER
        )
    } else {
        String::new()
    };
    let commit =
        m.git_commit.as_deref().map(|c| format!(", commit {}", esc(&c[..c.len().min(12)]))).unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>coprosim report: {name}</title>
{style}</head>
<body>
<h1>{name}</h1>
<p>{description}</p>
<p class="meta">{reps} Monte Carlo replications, seed {seed}, {ticks} ticks, {agents} agents per replication. coprosim {version}{commit}. Intervals: 95% confidence interval of the mean across replications, and the 5–95% range of replications.</p>
{explore}{warnings}<h2>Headline figures</h2>
<table id="headline">
<thead><tr><th>metric</th><th>coalition</th><th>group</th><th>mean</th><th>95% CI of mean</th><th>5–95% of replications</th><th>what it measures</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
<h2>Charts</h2>
{figures}{scenario}<p class="meta">Data: <code>series.csv</code>, <code>retention.csv</code>, <code>summary.csv</code>, <code>inequality.csv</code>; checksums in <code>manifest.json</code>. Redraw with <code>coprosim plot DIR</code>.</p>
</body>
</html>
"#,
        name = esc(&m.scenario),
        description = esc(&m.description),
        reps = m.replications,
        seed = m.seed,
        ticks = m.ticks,
        agents = m.agents,
        version = esc(&m.version),
        style = STYLE,
    )
}

/// Every parameter of the scenario as run, as table rows (key path, value, and whether it is
/// the default), from `resolved_scenario.toml`.
fn scenario_rows(resolved: &str) -> (String, usize, usize) {
    let Ok(table) = resolved.parse::<toml::Table>() else { return (String::new(), 0, 0) };
    let defaults: std::collections::HashMap<String, String> =
        crate::scenario::Scenario::parameter_specs().into_iter().map(|p| (p.key, p.default)).collect();
    let mut leaves = Vec::new();
    flatten("", &toml::Value::Table(table), &mut leaves);
    let mut rows = String::new();
    let mut set = 0;
    for (key, value) in &leaves {
        let generic = crate::scenario::params::generic_path(key);
        // An empty list (no grants, no shocks) is what a scenario has unless it says more.
        let empty = value.as_array().is_some_and(|a| a.is_empty());
        let default = defaults.get(&generic).map_or(empty, |d| *d == value.to_string());
        if !default {
            set += 1;
        }
        rows.push_str(&format!(
            "<tr{}><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>\n",
            if default { " class=default" } else { "" },
            esc(key),
            esc(&value.to_string()),
            if default { "default" } else { "" }
        ));
    }
    (rows, leaves.len(), set)
}

/// The leaves of a TOML value with their key paths (`coalitions[0].governance.voice`); an
/// array of values is one leaf.
fn flatten(prefix: &str, value: &toml::Value, out: &mut Vec<(String, toml::Value)>) {
    let join = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten(&join(k), v, out);
            }
        }
        toml::Value::Array(items) if !items.is_empty() && items.iter().all(toml::Value::is_table) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
