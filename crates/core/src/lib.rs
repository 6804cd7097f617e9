//! coprosim's model core: how volunteers and clients join, stay in and leave community
//! co-production programmes (Smith 2020; Bovaird 2007), as a library with no I/O.
//!
//! Data flows one way: [`scenario`] (parse, validate, defaults) → [`model`] (agents,
//! coalitions, funding, tick) → [`engine`] (replications, seeds, threads) → [`observe`]
//! (series, survival, inequality, cross-replication statistics); [`inference`] fits a
//! scenario to a programme's data through the engine.
//!
//! The core reads no file, writes nothing, owns no terminal and draws no chart: the command
//! line, the browser explorer and the Python package do that with what it returns. Threads
//! are optional (the `parallel` feature), and results do not depend on them. See
//! `ARCHITECTURE.md`.

#![warn(missing_docs)]

pub mod distributions;
pub mod engine;
pub mod inference;
pub mod looks;
pub mod model;
pub mod observe;
pub mod par;
pub mod scenario;
pub mod stop;
pub mod stream;
pub mod text;
