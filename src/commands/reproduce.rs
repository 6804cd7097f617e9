//! `coprosim reproduce`: the published figures with their recorded seeds.

use coprosim::engine;
use coprosim::output::OutputError;
use coprosim::output::charts::ChartSize;
use coprosim::output::sweep_dir::SweepError;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Failure, quiet};

pub fn reproduce(
    path: &Path,
    only: &[String],
    out: Option<PathBuf>,
    check: bool,
    quiet: bool,
    size: ChartSize,
) -> Result<(), Failure> {
    use coprosim::reproduce::{self as rep, Figures};
    let figs = Figures::load(path)?;
    for id in only {
        if !figs.file.figures.iter().any(|f| &f.id == id) {
            let ids: Vec<&str> = figs.file.figures.iter().map(|f| f.id.as_str()).collect();
            return Err(Failure::Input(format!("--figure: found \"{id}\", expected one of {}", ids.join(", "))));
        }
    }
    let out = out.unwrap_or_else(|| figs.dir.clone());
    std::fs::create_dir_all(&out).map_err(|e| Failure::Runtime(format!("{}: {e}", out.display())))?;
    let work = out.join(".reproduce-work");
    let selected: Vec<_> = figs.file.figures.iter().filter(|f| only.is_empty() || only.contains(&f.id)).collect();
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(selected.len() as u64) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} figures, {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let recorded = rep::read_checksums(&figs.dir);
    let mut sums = recorded.clone();
    let mut rows = Vec::new();
    let start = Instant::now();
    for f in &selected {
        if engine::stop_requested() {
            bar.finish_and_clear();
            return Err(Failure::Interrupted(format!(
                "interrupted after {} of {} figures; the figures written so far are complete",
                rows.len(),
                selected.len()
            )));
        }
        bar.set_message(f.id.clone());
        let t0 = Instant::now();
        let produced = rep::produce(&figs, f, &out, &work, size);
        let _ = std::fs::remove_dir_all(&work);
        let produced = produced.map_err(|e| match e {
            rep::ReproduceError::Engine(engine::EngineError::Interrupted { .. })
            | rep::ReproduceError::Sweep(SweepError::Interrupted { .. })
            | rep::ReproduceError::Output(OutputError::Interrupted { .. }) => {
                Failure::Interrupted(format!("interrupted during figure {}; earlier figures are complete", f.id))
            }
            other => Failure::Runtime(other.to_string()),
        })?;
        let status = match recorded.get(&f.id) {
            Some(s) if *s == produced.data_sha256 => "match",
            Some(_) => "MISMATCH",
            None => "no checksum recorded",
        };
        rows.push((f.id.clone(), status, t0.elapsed().as_secs_f64()));
        sums.insert(f.id.clone(), produced.data_sha256);
        bar.inc(1);
    }
    bar.finish_and_clear();
    if !check {
        rep::write_checksums(&figs.dir, &figs, &sums).map_err(|e| Failure::Runtime(e.to_string()))?;
    }
    // The table is the command's result (what --check was asked for), so -q keeps it.
    println!("{:<28} {:<22} {:>8}", "figure", "data vs checksum", "seconds");
    for (id, status, secs) in &rows {
        println!("{id:<28} {status:<22} {secs:>8.1}");
    }
    say!("{} figures in {:.1} s; written to {}", rows.len(), start.elapsed().as_secs_f64(), out.display());
    if check {
        let bad: Vec<&str> = rows.iter().filter(|r| r.1 != "match").map(|r| r.0.as_str()).collect();
        if !bad.is_empty() {
            return Err(Failure::Runtime(format!(
                "figure data differ from the recorded checksums: {}",
                bad.join(", ")
            )));
        }
        println!("all figure data match their recorded checksums");
    }
    Ok(())
}
