//! `coprosim explore`: the explorer page for a scenario.

use coprosim::output;
use coprosim::scenario::{BASELINE, Scenario};
use std::path::{Path, PathBuf};

use super::{Failure, default_out, quiet};

/// `coprosim explore`: write the explorer page for a scenario.
pub fn explore(path: Option<&Path>, out: Option<PathBuf>, open: bool, force: bool) -> Result<(), Failure> {
    let (scenario, text, file) = match path {
        Some(p) => {
            let (scenario, text) = coprosim::input::scenario_and_text(p)?;
            let name = p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
            (scenario, text, name)
        }
        None => (Scenario::baseline(), BASELINE.to_string(), "baseline.toml".to_string()),
    };
    let page = output::explorer::page(&text, &file).map_err(|why| Failure::Runtime(why.to_string()))?;
    let out = out.unwrap_or_else(|| {
        let dir = default_out(&scenario.name);
        dir.with_file_name(format!("{}_explorer.html", dir.file_name().unwrap_or_default().to_string_lossy()))
    });
    // Never replace a file this command did not write.
    if let Ok(existing) = std::fs::read(&out)
        && !force
        && !String::from_utf8_lossy(&existing).contains(output::explorer::GENERATOR)
    {
        return Err(Failure::Input(format!(
            "{}: exists and was not written by `coprosim explore`; choose another --out or pass --force to replace it",
            out.display()
        )));
    }
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Failure::Runtime(format!("{}: {e}", dir.display())))?;
    let name = out.file_name().ok_or_else(|| Failure::Input(format!("{}: not a file name", out.display())))?;
    output::write_atomic(&dir, &name.to_string_lossy(), page.as_bytes())
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    say!("wrote {} ({} KiB): open it in a browser", out.display(), page.len() / 1024);
    if open && let Err(why) = open_in_browser(&dir.join(name)) {
        eprintln!("note: could not open a browser ({why}); open {} yourself", out.display());
    }
    Ok(())
}

/// Hand a file to the system's browser, without waiting for it.
fn open_in_browser(path: &Path) -> Result<(), String> {
    let path = path.canonicalize().map_err(|e| e.to_string())?;
    let (program, args): (&str, &[&str]) = if cfg!(target_os = "macos") {
        ("open", &[])
    } else if cfg!(windows) {
        ("cmd", &["/C", "start", ""])
    } else {
        ("xdg-open", &[])
    };
    std::process::Command::new(program)
        .args(args)
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("{program}: {e}"))
}
