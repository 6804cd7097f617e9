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

/// Withdraw a stop request once the interrupted work has ended, so the next piece of work
/// runs. The command line never needs it (it exits); a long-lived host such as the Python
/// package, whose user may go on after Ctrl-C, does.
pub fn clear() {
    STOP.store(false, Ordering::SeqCst);
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    STOP.load(Ordering::SeqCst)
}
