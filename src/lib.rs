//! coprosim: an agent-based simulation of how volunteers and clients join, stay in and leave
//! community co-production programmes (Smith 2020; Bovaird 2007).
//!
//! Data flows one way: [`scenario`] (parse, validate, defaults) → [`model`] (agents,
//! coalitions, funding, tick) → [`engine`] (replications, seeds, threads) → [`observe`]
//! (series, survival, inequality, cross-replication statistics) → [`output`] (CSV,
//! manifest). See `ARCHITECTURE.md`.

#![warn(missing_docs)]

pub mod engine;
pub mod inference;
pub mod model;
pub mod observe;
pub mod output;
pub mod reproduce;
pub mod scenario;
pub mod stop;
