//! The one stop request of a process: set by the command line's SIGINT/SIGTERM handler, read
//! by the engine (between ticks, replications and sweep points) and by the output layer
//! (between charts, and once more just before a result is committed).
//!
//! It is a flag and nothing else: no signal handling, no I/O, so every layer may read it.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// Ask every running loop to stop at its next check.
pub fn request() {
    STOP.store(true, Ordering::SeqCst);
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    STOP.load(Ordering::SeqCst)
}
