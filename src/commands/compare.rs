//! `coprosim compare`: the same series from several runs.

use coprosim::output;
use coprosim::output::charts::ChartSize;
use std::path::{Path, PathBuf};

use super::{Failure, output_failure, quiet, writer_lock};

pub fn compare(
    dirs: &[PathBuf],
    metric: &str,
    coalition: &str,
    group: &str,
    out: &Path,
    size: ChartSize,
) -> Result<(), Failure> {
    let _writer = writer_lock(out)?;
    let output::Compared { written, notes, answer } =
        output::write_comparison(dirs, metric, coalition, group, out, size).map_err(output_failure)?;
    for note in notes {
        eprintln!("note: {note}");
    }
    for p in written {
        say!("wrote {}", p.display());
    }
    // The answer is the result asked for: printed even with -q.
    for line in answer {
        println!("{line}");
    }
    Ok(())
}
