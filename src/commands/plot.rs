//! `coprosim plot`: redraw a result's charts from its files.

use coprosim::output;
use coprosim::output::charts::ChartSize;
use coprosim::output::commit::Kind;
use std::path::Path;

use super::{Failure, output_failure, quiet, writer_lock};

pub fn plot(dir: &Path, size: ChartSize) -> Result<(), Failure> {
    // plot rewrites charts and the manifest: not while another process commits there.
    let _writer = if dir.is_dir() { Some(writer_lock(dir)?) } else { None };
    let written = match output::commit::inspect(dir) {
        Ok(output::commit::Holding::Result { kind: Kind::Calibration, .. }) => output::calibration::redraw(dir, size),
        Ok(output::commit::Holding::Result { kind: Kind::Sweep, .. }) => output::sweep::redraw(dir, size),
        Ok(output::commit::Holding::Result { kind: Kind::Coverage, .. }) => output::coverage::redraw(dir, size),
        _ => output::write_charts(dir, size),
    }
    .map_err(output_failure)?;
    say!("wrote {} files in {}", written.len(), dir.display());
    Ok(())
}
