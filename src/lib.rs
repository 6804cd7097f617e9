//! coprosim: an agent-based simulation of how volunteers and clients join, stay in and leave
//! community co-production programmes (Smith 2020; Bovaird 2007).
//!
//! This crate is the command line's library: it reads input files ([`input`]), writes
//! results, charts and reports ([`output`]) and checks published figures ([`reproduce`]),
//! around the model core, `coprosim-core`, whose layers it re-exports: [`scenario`] →
//! [`model`] → [`engine`] → [`observe`], and [`inference`]. Data flows one way; see
//! `ARCHITECTURE.md`.

#![warn(missing_docs)]

pub use coprosim_core::{engine, inference, looks, model, observe, par, scenario, stop, text};

pub mod input;
pub mod output;
pub mod reproduce;
