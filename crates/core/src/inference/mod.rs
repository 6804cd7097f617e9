//! Calibration: estimating scenario parameters from observed statistics (issue 10).
//!
//! `prior` holds the parameters' prior distributions and `abc` the ABC-SMC sampler. Both
//! are pure: the sampler calls a simulator it is handed and knows nothing of scenarios,
//! files or terminals.

pub mod abc;
pub mod calibrate;
pub mod coverage;
pub mod from_roster;
pub mod funding_history;
pub mod prior;
pub mod roster;
pub mod run_roster;
pub mod targets;
