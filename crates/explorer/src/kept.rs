//! The states a worker keeps: each of its replications' world and streams at the end of the
//! burn-in, encoded as `coprosim run --save-state` writes them, by the burn-in's identity
//! ([`warm::burn_in_identity`]) and seed. A rerun of a scenario with the same identity and
//! seed (its settings differ only in what acts after the burn-in: a funding cut in a recorded
//! year, later policy changes, the years recorded) starts each replication from its state
//! instead of founding the town again, and gives the full run's bytes: the state is checked
//! against the scenario as the command line checks a saved one.
//!
//! Memory: a state takes about 125 bytes an agent (the baseline's 2,000 agents: about 0.25
//! MB). A worker keeps the states of its last [`IDENTITIES`] burn-ins, and fewer when they
//! would take more than [`BUDGET`] bytes; the oldest go first.

use coprosim_core::engine::{self, Warm, warm};
use coprosim_core::observe::{Catalogue, ReplicationRecord};
use coprosim_core::scenario::Scenario;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Mutex;

/// The most burn-ins a worker keeps states of.
pub const IDENTITIES: usize = 4;
/// The most bytes of states a worker keeps.
pub const BUDGET: usize = 256 << 20;

/// The states of one burn-in: its identity and seed, and each replication's encoded state.
struct Burnin {
    identity: String,
    seed: u64,
    states: BTreeMap<u32, Vec<u8>>,
}

thread_local! {
    /// This worker's states, the most recently used burn-in first. (A worker is one thread.)
    static KEPT: RefCell<Vec<Burnin>> = const { RefCell::new(Vec::new()) };
}

#[cfg(test)]
thread_local! {
    /// Replications this thread started from a kept state: the tests' proof of the path taken.
    static RESUMED: RefCell<u64> = const { RefCell::new(0) };
}

/// Replications `range` of `s`: each from its kept state when the worker has one for this
/// burn-in, else from founding, keeping its state for the next rerun.
pub fn replicate(s: &Scenario, cat: &Catalogue, range: Range<u32>) -> Result<Vec<ReplicationRecord>, String> {
    let identity = warm::burn_in_identity(s);
    let (seed, burn_in) = (s.simulation.seed, s.burn_in_ticks());
    let mut runs = Vec::with_capacity(range.len());
    for r in range {
        let state = KEPT.with(|k| {
            k.borrow().iter().find(|b| b.identity == identity && b.seed == seed).and_then(|b| b.states.get(&r).cloned())
        });
        let record = match state {
            Some(bytes) => {
                let load = |r: u32| {
                    let state = warm::decode(&bytes).map_err(|e| e.to_string())?;
                    state.check(&identity, seed, r, burn_in)?;
                    Ok(state)
                };
                #[cfg(test)]
                RESUMED.with(|n| *n.borrow_mut() += 1);
                engine::run_replication_warm(s, cat, seed, r, Warm { from: Some(&load), save: None })?
            }
            None => {
                let slot = Mutex::new(None);
                let save = |_: u32, bytes: Vec<u8>| {
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(bytes);
                    Ok(())
                };
                let record = engine::run_replication_warm(s, cat, seed, r, Warm { from: None, save: Some(&save) })?;
                if let Some(bytes) = slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
                    keep(&identity, seed, r, bytes);
                }
                record
            }
        };
        runs.push(record);
    }
    Ok(runs)
}

/// Keep replication `r`'s state of the burn-in `identity`, `seed`, making it the most recent;
/// forget the oldest burn-ins beyond [`IDENTITIES`] or [`BUDGET`].
fn keep(identity: &str, seed: u64, r: u32, bytes: Vec<u8>) {
    KEPT.with(|k| {
        let mut kept = k.borrow_mut();
        let at = kept.iter().position(|b| b.identity == identity && b.seed == seed);
        let mut burnin = match at {
            Some(i) => kept.remove(i),
            None => Burnin { identity: identity.to_string(), seed, states: BTreeMap::new() },
        };
        burnin.states.insert(r, bytes);
        kept.insert(0, burnin);
        kept.truncate(IDENTITIES);
        let size = |b: &Burnin| b.states.values().map(Vec::len).sum::<usize>();
        while kept.len() > 1 && kept.iter().map(size).sum::<usize>() > BUDGET {
            kept.pop();
        }
    });
}

/// Replications this thread has started from a kept state so far.
#[cfg(test)]
fn resumed() -> u64 {
    RESUMED.with(|n| *n.borrow())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records as the page receives them: compared as bytes.
    fn bytes(records: &[ReplicationRecord]) -> Vec<u8> {
        let mut out = Vec::new();
        crate::records::encode(records, &mut out);
        out
    }

    const TOWN: &str = r#"
name = "tiny"
[simulation]
years = 3
burn_in_years = 2
replications = 3
seed = 9
[population]
size = 200
[[population.groups]]
name = "a"
share = 1.0
[[coalitions]]
name = "shop"
[coalitions.funding]
earned_income = 20000.0
"#;

    #[test]
    fn a_rerun_after_a_later_cut_starts_from_the_kept_states_to_the_same_bytes() {
        let s = Scenario::parse(TOWN, "t.toml").unwrap();
        let cat = Catalogue::new(&s);
        let cold: Vec<_> = (0..3).map(|r| engine::run_replication(&s, &cat, 9, r)).collect();
        let cold = |range: Range<usize>| bytes(&cold[range]);
        let before = resumed();
        assert_eq!(bytes(&replicate(&s, &cat, 0..3).unwrap()), cold(0..3));
        assert_eq!(resumed(), before, "nothing was kept yet");
        // Again, and with a cut in a recorded year: from the kept states, the full runs' bytes.
        assert_eq!(bytes(&replicate(&s, &cat, 1..3).unwrap()), cold(1..3));
        assert_eq!(resumed(), before + 2);
        let cut = Scenario::parse(
            &format!("{TOWN}[[policy.shocks]]\nyear = 3\nstream = \"earned\"\ncut = 0.5\n"),
            "cut.toml",
        )
        .unwrap();
        let full: Vec<_> = (0..3).map(|r| engine::run_replication(&cut, &cat, 9, r)).collect();
        assert_ne!(bytes(&full), cold(0..3), "the cut changes the recorded years");
        assert_eq!(bytes(&replicate(&cut, &cat, 0..3).unwrap()), bytes(&full));
        assert_eq!(resumed(), before + 5);
        // A cut within the burn-in changes it: from founding, and kept apart.
        let early = Scenario::parse(
            &format!("{TOWN}[[policy.shocks]]\nyear = 1\nstream = \"earned\"\ncut = 0.5\n"),
            "early.toml",
        )
        .unwrap();
        let full: Vec<_> = (0..3).map(|r| engine::run_replication(&early, &cat, 9, r)).collect();
        assert_eq!(bytes(&replicate(&early, &cat, 0..3).unwrap()), bytes(&full));
        assert_eq!(resumed(), before + 5);
    }

    #[test]
    fn the_oldest_burn_ins_are_forgotten_first() {
        for k in 0..(IDENTITIES + 2) {
            keep(&format!("id{k}"), 1, 0, vec![0; 8]);
        }
        KEPT.with(|kept| {
            let ids: Vec<String> = kept.borrow().iter().map(|b| b.identity.clone()).collect();
            assert_eq!(ids, ["id5", "id4", "id3", "id2"]);
        });
    }
}
