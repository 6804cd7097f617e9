//! Opens a run's report.html in headless Chromium and checks that every chart image loaded
//! and the headline table is there. `.ci/run` installs Debian's `chromium`. Without it these
//! tests fail under CI (`CI` set) and elsewhere are reported as ignored, with the reason: this
//! file has its own harness (libtest-mimic) because the built-in one can only say "passed".

use assert_cmd::Command;
use common::{TINY_TOWN, chromium};

mod common;
use std::path::Path;

/// A page beside the report that loads it in a frame and writes what it finds into the DOM,
/// which Chromium's --dump-dom then prints.
const HARNESS: &str = r#"<!DOCTYPE html><html><body><iframe id="f" src="report.html" style="width:1200px;height:800px"></iframe>
<script>
const f = document.getElementById('f');
f.addEventListener('load', () => {
  let out;
  try {
    const d = f.contentDocument;
    const imgs = Array.from(d.images);
    out = { images: imgs.length, loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
            rows: d.querySelectorAll('TABLE_SELECTOR tbody tr').length, title: d.title };
  } catch (e) { out = { error: String(e) }; }
  const pre = document.createElement('pre'); pre.id = 'result'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script></body></html>"#;

fn open_in_chromium(browser: &Path, page: &Path) -> serde_json::Value {
    let profile = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--allow-file-access-from-files",
            "--virtual-time-budget=15000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let start = dom.find("<pre id=\"result\">").unwrap_or_else(|| panic!("no result in the dumped page:\n{dom}"));
    let json = &dom[start + "<pre id=\"result\">".len()..];
    let json = &json[..json.find("</pre>").unwrap()];
    serde_json::from_str(&json.replace("&quot;", "\"").replace("&amp;", "&")).unwrap()
}

/// A test that needs a browser, given its path.
type BrowserTest = fn(&Path);

fn main() {
    use libtest_mimic::{Arguments, Completion, Failed, Trial};
    let tests: [(&str, BrowserTest); 2] = [
        ("report_opens_in_a_real_browser_with_every_chart_loaded", report_opens),
        ("calibration_report_opens_in_a_real_browser_with_every_chart_loaded", calibration_report_opens),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, test)| {
            Trial::ignorable_test(name, move || match chromium() {
                Some(browser) => {
                    test(&browser);
                    Ok(Completion::Completed)
                }
                None if std::env::var_os("CI").is_some() => {
                    Err(Failed::from("chromium is not installed: .ci/run must install Debian's chromium package"))
                }
                None => Ok(Completion::ignored_with(
                    "no chromium on PATH: install Debian's chromium or set COPROSIM_CHROMIUM",
                )),
            })
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}

fn report_opens(browser: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run with spaces");
    Command::cargo_bin("coprosim")
        .unwrap()
        .args(["run", "--replications", "3", "--quiet", "--out"])
        .arg(&dir)
        .assert()
        .success();
    let harness = dir.join("browser-check.html");
    std::fs::write(&harness, HARNESS.replace("TABLE_SELECTOR", "table#headline")).unwrap();
    let result = open_in_chromium(browser, &harness);
    assert_eq!(result["error"], serde_json::Value::Null, "{result}");
    assert_eq!(result["images"], 6, "{result}");
    assert_eq!(result["loaded"], 6, "every chart image decodes: {result}");
    assert!(result["rows"].as_u64().unwrap() > 10, "headline table present: {result}");
    assert_eq!(result["title"], "coprosim report: baseline");
}

fn calibration_report_opens(browser: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let targets = tmp.path().join("targets.toml");
    std::fs::write(&targets, format!("name = \"browser_check\"\n{SMALL_SETTINGS}{TINY_TOWN}{SMALL_FIT}")).unwrap();
    let dir = tmp.path().join("calibration");
    Command::cargo_bin("coprosim")
        .unwrap()
        .arg("calibrate")
        .arg(&targets)
        .args(["-q", "--out"])
        .arg(&dir)
        .assert()
        .success();
    let harness = dir.join("browser-check.html");
    std::fs::write(&harness, HARNESS.replace("TABLE_SELECTOR", "table#posterior")).unwrap();
    let result = open_in_chromium(browser, &harness);
    assert_eq!(result["error"], serde_json::Value::Null, "{result}");
    assert_eq!(result["images"], 4, "{result}");
    assert_eq!(result["loaded"], 4, "every chart image decodes: {result}");
    assert_eq!(result["rows"], 2, "one posterior row per parameter: {result}");
    assert_eq!(result["title"], "coprosim calibration: browser_check");
}

/// The sampler's settings, statistic and parameters of a calibration of the small town that
/// takes about a second.
const SMALL_SETTINGS: &str = r#"seed = 3
[abc]
particles = 30
generations = 3
predictive = 10
"#;

/// Its statistic and parameters (after the inline scenario, since they are arrays of tables).
const SMALL_FIT: &str = r#"
[[observed]]
metric = "annual_retention"
value = 0.7
sd = 0.05
[[parameters]]
key = "behaviour.base_exit"
low = 0.05
high = 0.8
[[parameters]]
key = "behaviour.join_max"
prior = "log_uniform"
low = 0.02
high = 0.5
"#;
