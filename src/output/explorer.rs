//! `explorer.html`: the explorer page (crates/explorer/web) with the model compiled to
//! WebAssembly and a scenario embedded, so it opens from the file system in any modern
//! browser, offline, with nothing to install. `coprosim explore` writes one for any
//! scenario, and every run with charts writes one beside its report, for the scenario as run.

use super::base64::base64;

/// The page's file name in a run directory.
pub use super::names::EXPLORER as FILE;

/// The page's template.
const TEMPLATE: &str = include_str!("../../crates/explorer/web/explorer.html");

/// The explorer compiled for `wasm32-unknown-unknown` by build.rs (empty when this binary
/// was built without that target).
const WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/explorer.wasm"));

/// Marks a page this command wrote, so that writing it again never replaces someone's file.
pub const GENERATOR: &str = r#"<meta name="generator" content="coprosim explore">"#;

/// Why this binary has no explorer, if it has none.
pub fn unavailable() -> Option<&'static str> {
    WASM.is_empty().then_some(
        "this coprosim was built without its browser explorer: install the WebAssembly target \
         (rustup target add wasm32-unknown-unknown) and build coprosim again",
    )
}

/// The page for the scenario `text` (named `file` in its messages).
pub fn page(text: &str, file: &str) -> Result<String, &'static str> {
    if let Some(why) = unavailable() {
        return Err(why);
    }
    // JSON strings are JavaScript literals; `</` is escaped so no text can close the script.
    let literal = |s: &str| serde_json::to_string(s).expect("a string serialises").replace("</", "<\\/");
    Ok(TEMPLATE
        .replacen("<meta charset=\"utf-8\">", &format!("<meta charset=\"utf-8\">\n{GENERATOR}"), 1)
        .replacen("/*COPROSIM_WASM_BASE64*/", &base64(WASM), 1)
        .replacen("/*COPROSIM_SCENARIO*/\"\"", &literal(text), 1)
        .replacen("/*COPROSIM_FILE*/\"scenario.toml\"", &literal(file), 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_embeds_its_scenario_safely() {
        if let Some(why) = unavailable() {
            assert!(std::env::var_os("CI").is_none(), "{why}");
            return;
        }
        let page = page("name = \"x\" # </script><script>alert(1)", "a.toml").unwrap();
        assert!(page.contains(GENERATOR));
        assert!(!page.contains("/*COPROSIM_"));
        assert!(!page.contains("</script><script>alert"));
    }
}
