//! `coprosim._core`: the native module of the Python package.
//!
//! It is thin on purpose. Scenarios, sweeps and targets are read and validated by the
//! command line's library ([`coprosim::input`]), simulations run in the core, and results are
//! turned into the command line's own bytes: the CSV texts that pandas reads, and the files
//! that `write` puts in a directory through the same writers `coprosim run`, `sweep` and
//! `calibrate` use. So a table in a notebook and a file on disk cannot disagree. The Python
//! code in `python/coprosim` turns these bytes into DataFrames and gives the API its shape.
//!
//! Every simulation runs on its own thread without the GIL, while the calling thread looks
//! for signals: Ctrl-C in a notebook asks the engine to stop at its next check, waits for it,
//! clears the request and raises `KeyboardInterrupt` (see [`interruptible`]).

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::time::Duration;

mod calibration;
mod errors;
mod roster;
mod run;
mod scenario;
mod sweep;
mod warm;
mod write;

/// How often the calling thread looks for Ctrl-C while a simulation runs.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Run `work` on a thread of its own, without the GIL, and return what it returns; if a
/// signal handler raises meanwhile (Ctrl-C: `KeyboardInterrupt`), ask the core to stop, wait
/// for `work` to end, withdraw the request and raise that exception.
pub(crate) fn interruptible<T: Send>(py: Python<'_>, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    use std::sync::mpsc::{RecvTimeoutError, TryRecvError, channel};
    std::thread::scope(|scope| {
        // The worker says when it ends (or its sender drops, if it panics), so a short call
        // returns at once rather than at the next poll.
        let (done, mut ended) = channel::<()>();
        let handle = scope.spawn(move || {
            let out = work();
            let _ = done.send(());
            out
        });
        loop {
            let (finished, back) = py.detach(move || {
                let r = ended.recv_timeout(SIGNAL_POLL);
                (!matches!(r, Err(RecvTimeoutError::Timeout)), ended)
            });
            ended = back;
            if finished {
                break;
            }
            if let Err(signal) = py.check_signals() {
                if !matches!(ended.try_recv(), Err(TryRecvError::Empty)) {
                    // The work ended before the stop could reach it (a result may already be
                    // committed): keep its result, and let Python raise the interrupt at its
                    // next chance.
                    drop(signal);
                    // SAFETY: called with the GIL held; it only marks SIGINT as received.
                    unsafe { pyo3::ffi::PyErr_SetInterrupt() };
                    break;
                }
                coprosim_core::stop::request();
                let _ = py.detach(|| handle.join());
                coprosim_core::stop::clear();
                return Err(signal);
            }
        }
        handle
            .join()
            .map_err(|_| PyRuntimeError::new_err("coprosim: the simulation thread panicked (a bug: please report it)"))
    })
}

/// The error for work the core stopped because a stop was requested by something other than
/// this call's own Ctrl-C (another thread's interrupted call, for instance).
pub(crate) fn interrupted(what: &str) -> PyErr {
    PyKeyboardInterrupt::new_err(format!("{what} was interrupted"))
}

/// `threads=` as the core takes it (0 = one per core), refusing 0 and more than the command
/// line's `--threads` accepts (four per core).
pub(crate) fn thread_count(threads: Option<usize>) -> PyResult<usize> {
    coprosim::input::worker_threads(threads, "threads").map_err(|why| {
        let hint = if threads == Some(0) { " (or None for one per core)" } else { "" };
        PyValueError::new_err(format!("{why}{hint}"))
    })
}

/// Threads a call with `threads=` uses, as the manifest records it.
pub(crate) fn threads_used(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(coprosim_core::par::current_threads)
}

/// The kind of input file at `path` (`scenario`, `sweep` or `targets`), as `coprosim check`
/// decides it: through the safe reader, so a FIFO or a device is never opened.
#[pyfunction]
fn input_kind(path: std::path::PathBuf) -> &'static str {
    coprosim::input::FileKind::of(&path).name()
}

/// The native module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<scenario::PyScenario>()?;
    m.add_class::<run::PyRun>()?;
    m.add_class::<sweep::PySweep>()?;
    m.add_class::<sweep::PySweepResult>()?;
    m.add_class::<calibration::PyTargets>()?;
    m.add_class::<calibration::PyCalibration>()?;
    m.add_class::<warm::PyWarmStates>()?;
    m.add_function(wrap_pyfunction!(input_kind, m)?)?;
    m.add_function(wrap_pyfunction!(run::run, m)?)?;
    m.add_function(wrap_pyfunction!(warm::warm, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::sweep, m)?)?;
    m.add_function(wrap_pyfunction!(calibration::calibrate, m)?)?;
    m.add_function(wrap_pyfunction!(calibration::calibration_block, m)?)?;
    m.add_function(wrap_pyfunction!(calibration::calibration_merge, m)?)?;
    m.add_function(wrap_pyfunction!(roster::targets_from_roster, m)?)?;
    Ok(())
}
