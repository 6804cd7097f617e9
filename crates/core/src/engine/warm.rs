//! Warm starts: the burn-in simulated once per replication, its end state saved, and every
//! policy forked from it.
//!
//! A replication's state at the end of its burn-in (the world of [`crate::model::state`] and
//! where its random stream stands) is encoded as bytes: a readable magic line, the state
//! format's version, a header (the burn-in's identity, seed, replication, tick), the state in
//! postcard's format, and a SHA-256 checksum of everything before it. The outer crates write and
//! read the bytes; this module never touches a file.
//!
//! A fork runs a scenario from a saved state. [`plan_fork`] compares the scenario the states
//! were saved under with the one to run: what the burn-in drew or simulated must be the same
//! (the population, the ties, everything fixed for a run, the policy changes and shocks up to
//! the end of the burn-in, the seed); settings that can change during a run may differ and take
//! effect from the end of the burn-in, as a policy change at that tick would; later policy
//! changes and shocks may differ freely. When the two differ only in those later changes and
//! shocks (or not at all), the fork's result is byte for byte the full run's.

use crate::model::Model;
use crate::model::state::Saved;
use crate::scenario::{Problem, Scenario};
use crate::stream::{ChaCha8Rng, RngState};
use sha2::{Digest, Sha256};

/// Version of the state format. A state of another version is refused: the model or the
/// format changed, and the burn-in must be simulated again.
pub const STATE_VERSION: u32 = 1;

/// The version of the tool, as states record it.
const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The first bytes of every state: a line a person can read with `head -1`.
const MAGIC: &[u8] = b"coprosim warm state\n";

/// What a state says of itself before the world it holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Header {
    /// Version of the tool that saved it: another version's model may simulate differently.
    pub tool: String,
    /// [`burn_in_identity`] of the scenario it was saved under.
    pub identity: String,
    /// The run's master seed.
    pub seed: u64,
    /// The replication.
    pub replication: u32,
    /// Ticks simulated (the burn-in).
    pub tick: u32,
}

/// A replication's state at the end of its burn-in, read back.
#[derive(Debug, Clone)]
pub struct WarmState {
    /// What it says of itself.
    pub header: Header,
    rng: RngState,
    saved: Saved,
}

/// Why bytes are not a usable state.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StateError {
    /// Not a state at all.
    #[error("not a coprosim warm state")]
    NotAState,
    /// Written by a version of the format this tool does not read.
    #[error("state format version {found}, this tool reads version {STATE_VERSION}: save the state again")]
    Version {
        /// The version in the file.
        found: u32,
    },
    /// Saved by another version of the tool.
    #[error("saved by coprosim {found}, this is {TOOL_VERSION}: save the state again")]
    Tool {
        /// The version that saved it.
        found: String,
    },
    /// The checksum does not match: the bytes changed after they were written.
    #[error("corrupted: its checksum does not match its contents")]
    Corrupt,
    /// The checksum matches but the contents cannot be read as a state.
    #[error("unreadable: {0}")]
    Malformed(String),
}

/// The identity of the burn-in a scenario simulates: a SHA-256 digest of the scenario without
/// what cannot change the burn-in (name, description, the recorded horizon, replications and
/// seed, and the policy changes and shocks after the burn-in ends). Two scenarios with the same
/// identity and seed simulate the same burn-in; a state remembers the identity it was saved
/// under.
pub fn burn_in_identity(s: &Scenario) -> String {
    let mut v = toml::Value::try_from(s).expect("a scenario is a TOML table");
    let b = s.burn_in_ticks();
    let tpy = s.simulation.ticks_per_year as f64;
    if let Some(t) = v.as_table_mut() {
        for key in ["name", "description"] {
            t.remove(key);
        }
        if let Some(sim) = t.get_mut("simulation").and_then(|x| x.as_table_mut()) {
            for key in ["years", "ticks", "replications", "seed"] {
                sim.remove(key);
            }
        }
        if let Some(policy) = t.get_mut("policy").and_then(|x| x.as_table_mut()) {
            for list in ["changes", "shocks"] {
                if let Some(toml::Value::Array(a)) = policy.get_mut(list) {
                    a.retain(|e| acts_in_burn_in(e, tpy, b));
                }
            }
        }
    }
    let mut h = Sha256::new();
    h.update(v.to_string().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a policy change or shock (a TOML table with a `year`) takes effect within the
/// first `burn_in` ticks: a change from its tick `round(year × tpy)` on, a cut from the inflow
/// of that tick.
fn acts_in_burn_in(entry: &toml::Value, tpy: f64, burn_in: u32) -> bool {
    entry_tick(entry, tpy) <= burn_in
}

/// The tick a policy change or shock (a TOML table with a `year`) acts from: `round(year × tpy)`.
fn entry_tick(entry: &toml::Value, tpy: f64) -> u32 {
    let year = entry.get("year").and_then(|y| y.as_float().or_else(|| y.as_integer().map(|i| i as f64)));
    year.map_or(0, |y| (y * tpy).round().max(0.0) as u32)
}

/// Encode replication `replication`'s state: `model` after its burn-in, `rng` its stream.
pub fn encode(s: &Scenario, seed: u64, replication: u32, model: &Model, rng: &ChaCha8Rng) -> Vec<u8> {
    let header =
        Header { tool: TOOL_VERSION.to_string(), identity: burn_in_identity(s), seed, replication, tick: model.tick };
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&STATE_VERSION.to_le_bytes());
    let body = (&header, RngState::of(rng), model.saved());
    out = postcard::to_extend(&body, out).expect("a state serialises");
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// Read a state back, checking its magic line, version and checksum.
pub fn decode(bytes: &[u8]) -> Result<WarmState, StateError> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(StateError::NotAState)?;
    let (version, rest) = rest.split_first_chunk::<4>().ok_or(StateError::NotAState)?;
    let found = u32::from_le_bytes(*version);
    if found != STATE_VERSION {
        return Err(StateError::Version { found });
    }
    let (body, sum) = rest.split_last_chunk::<32>().ok_or(StateError::Corrupt)?;
    if Sha256::digest(&bytes[..bytes.len() - 32]).as_slice() != sum {
        return Err(StateError::Corrupt);
    }
    let ((header, rng, saved), left): ((Header, RngState, Saved), _) =
        postcard::take_from_bytes(body).map_err(|e| StateError::Malformed(e.to_string()))?;
    if !left.is_empty() {
        return Err(StateError::Malformed(format!("{} bytes after the state", left.len())));
    }
    if header.tool != TOOL_VERSION {
        return Err(StateError::Tool { found: header.tool });
    }
    if saved.tick() != header.tick {
        return Err(StateError::Malformed("its header and its world disagree on the tick".into()));
    }
    Ok(WarmState { header, rng, saved })
}

impl WarmState {
    /// Whether this is replication `replication`'s state at the end of the burn-in of a
    /// scenario of identity `identity`, run with `seed`: Err says how it is not.
    pub fn check(&self, identity: &str, seed: u64, replication: u32, burn_in_ticks: u32) -> Result<(), String> {
        let h = &self.header;
        if h.identity != identity {
            return Err("it was saved from another scenario's burn-in".into());
        }
        if h.seed != seed {
            return Err(format!("it was saved with seed {}, not {seed}", h.seed));
        }
        if h.replication != replication {
            return Err(format!("it is replication {}'s, not {replication}'s", h.replication));
        }
        if h.tick != burn_in_ticks {
            return Err(format!("it was saved at tick {}, not at the end of a burn-in of {burn_in_ticks}", h.tick));
        }
        Ok(())
    }

    /// The world and its stream, going on under `s` (see [`Model::resume`]).
    pub fn resume(self, s: &Scenario) -> Result<(Model, ChaCha8Rng), String> {
        Ok((Model::resume(self.saved, s)?, self.rng.restore()))
    }
}

/// How a scenario forks from the states of another.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForkPlan {
    /// Settings that differ and take effect from the end of the burn-in (key path, saved value,
    /// new value). Empty: the fork is byte for byte the scenario's full run.
    pub applied: Vec<(String, String, String)>,
    /// Policy changes and shocks after the burn-in that differ (key paths). They act when
    /// their year comes, as in a full run.
    pub later: Vec<String>,
}

impl ForkPlan {
    /// Whether the fork gives exactly the full run's bytes.
    pub fn exact(&self) -> bool {
        self.applied.is_empty()
    }
}

/// How `policy` can start from states saved at the end of `saved`'s burn-in, or every reason it
/// cannot, each at the key path in `policy` it is about (to be located in its text with
/// [`crate::scenario::locate_problems`]).
pub fn plan_fork(saved: &Scenario, policy: &Scenario) -> Result<ForkPlan, Vec<Problem>> {
    let mut a = toml::Value::try_from(saved).expect("a scenario is a TOML table");
    let mut b = toml::Value::try_from(policy).expect("a scenario is a TOML table");
    let mut plan = ForkPlan::default();
    let mut refused = Vec::new();
    let burn_in = saved.burn_in_ticks();
    let tpy = saved.simulation.ticks_per_year as f64;
    // Policy changes and shocks: those acting within the burn-in must be the state's; those
    // after it may differ.
    for list in ["changes", "shocks"] {
        let (x, y) = (take_list(&mut a, list), take_list(&mut b, list));
        let part = |v: &[toml::Value], within: bool| -> Vec<toml::Value> {
            v.iter().filter(|e| acts_in_burn_in(e, tpy, burn_in) == within).cloned().collect()
        };
        if part(&x, true) != part(&y, true) {
            refused.push(Problem::new(
                format!("policy.{list}"),
                format!(
                    "found {} acting within the burn-in (the first {} years), expected the state's {}: the state has already simulated the burn-in",
                    part(&y, true).len(),
                    saved.simulation.burn_in_years,
                    part(&x, true).len()
                ),
            ));
        }
        if part(&x, false) != part(&y, false) {
            plan.later.push(format!("policy.{list}"));
        }
    }
    let mut differences = Vec::new();
    diff(&a, &b, &Path::default(), &mut differences);
    for d in differences {
        let generic = d.at.generic.as_str();
        let values = format!("found {}, expected {} (the state's)", d.new, d.old);
        let mut refuse = |why: String| refused.push(Problem::new(d.at.indexed.clone(), format!("{values}: {why}")));
        if ["name", "description", "simulation.years", "simulation.ticks", "simulation.replications"].contains(&generic)
        {
            continue;
        }
        if generic == "simulation.seed" {
            refuse("a state goes on with the random streams of the seed it was saved with".into());
        } else if generic.starts_with("simulation.") {
            refuse("the clock and the burn-in must be the state's".into());
        } else if let Some(why) = crate::scenario::fixed_for_the_run(generic) {
            refuse(format!("it would have changed the burn-in ({why})"));
        } else {
            plan.applied.push((d.at.shown, d.old, d.new));
        }
    }
    if refused.is_empty() { Ok(plan) } else { Err(refused) }
}

/// Take `policy.<list>` out of a scenario's TOML (empty when it has none).
fn take_list(v: &mut toml::Value, list: &str) -> Vec<toml::Value> {
    match v.get_mut("policy").and_then(|p| p.as_table_mut()).and_then(|p| p.remove(list)) {
        Some(toml::Value::Array(a)) => a,
        _ => Vec::new(),
    }
}

/// A place in a scenario's TOML: as shown (array entries by name where they have one),
/// indexed (by position) and generic (`[]` for every entry).
#[derive(Debug, Clone, Default)]
struct Path {
    shown: String,
    indexed: String,
    generic: String,
}

/// One difference between two scenarios: where, and the saved and new values as shown.
#[derive(Debug)]
struct Difference {
    at: Path,
    old: String,
    new: String,
}

fn shown_value(v: Option<&toml::Value>) -> String {
    match v {
        None => "nothing".into(),
        Some(toml::Value::Table(_)) => "a table".into(),
        Some(toml::Value::Array(a)) => format!("{} entries", a.len()),
        Some(other) => other.to_string(),
    }
}

fn diff(a: &toml::Value, b: &toml::Value, at: &Path, out: &mut Vec<Difference>) {
    let push = |out: &mut Vec<Difference>, at: &Path, a: Option<&toml::Value>, b: Option<&toml::Value>| {
        out.push(Difference { at: at.clone(), old: shown_value(a), new: shown_value(b) })
    };
    match (a, b) {
        (toml::Value::Table(x), toml::Value::Table(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let next = Path {
                    shown: crate::scenario::params::join(&at.shown, k),
                    indexed: crate::scenario::params::join(&at.indexed, k),
                    generic: crate::scenario::params::join(&at.generic, k),
                };
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => diff(p, q, &next, out),
                    (p, q) => push(out, &next, p, q),
                }
            }
        }
        (toml::Value::Array(x), toml::Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                let shown = match p.get("name").and_then(|n| n.as_str()) {
                    Some(name) if q.get("name").and_then(|n| n.as_str()) == Some(name) => {
                        format!("{}.{name}", at.shown)
                    }
                    _ => format!("{}[{i}]", at.shown),
                };
                let next =
                    Path { shown, indexed: format!("{}[{i}]", at.indexed), generic: format!("{}[]", at.generic) };
                diff(p, q, &next, out);
            }
        }
        (p, q) if p == q => {}
        (p, q) => push(out, at, Some(p), Some(q)),
    }
}

/// Whether `arms` can share their history: the same burn-in ([`burn_in_identity`]) and the
/// same clock, so that they differ only in policy changes and shocks after the burn-in.
pub fn can_share(arms: &[Scenario]) -> bool {
    let Some(first) = arms.first() else { return false };
    let identity = burn_in_identity(first);
    arms.iter().all(|a| a.ticks() == first.ticks() && a.total_ticks() == first.total_ticks())
        && arms.iter().skip(1).all(|a| burn_in_identity(a) == identity)
}

/// The first tick at which arms that [`can_share`] may differ: the earliest tick of a policy
/// change or shock after the burn-in that not every arm has, the same. Before it every arm
/// simulates the same ticks; `total_ticks + 1` when the arms are the same throughout.
pub fn divergence_tick(arms: &[Scenario]) -> u32 {
    let Some(first) = arms.first() else { return 0 };
    let tpy = first.simulation.ticks_per_year as f64;
    let entries = |s: &Scenario| -> Vec<(u32, toml::Value)> {
        let mut v = toml::Value::try_from(s).expect("a scenario is a TOML table");
        ["changes", "shocks"]
            .iter()
            .flat_map(|list| take_list(&mut v, list).into_iter().map(move |e| (list, e)))
            .map(|(list, e)| (entry_tick(&e, tpy), toml::Value::Array(vec![toml::Value::String(list.to_string()), e])))
            .collect()
    };
    let all: Vec<Vec<(u32, toml::Value)>> = arms.iter().map(entries).collect();
    let mut first_difference = first.total_ticks().saturating_add(1);
    for (k, arm) in all.iter().enumerate() {
        for entry in arm {
            let everywhere = all.iter().enumerate().all(|(j, other)| j == k || other.contains(entry));
            if !everywhere {
                first_difference = first_difference.min(entry.0);
            }
        }
    }
    first_difference.max(first.burn_in_ticks() + 1)
}

/// Arms that share their history (scenarios that [`can_share`]), prepared once for running
/// replication after replication together: their catalogues and the tick their history
/// divides at.
pub struct Arms<'a> {
    scenarios: &'a [Scenario],
    cats: Vec<crate::observe::Catalogue>,
    /// Ticks every arm simulates alike: up to the tick before [`divergence_tick`].
    shared: u32,
}

impl<'a> Arms<'a> {
    /// `scenarios` as arms run together, or None when they cannot share their history.
    pub fn new(scenarios: &'a [Scenario]) -> Option<Arms<'a>> {
        if !can_share(scenarios) {
            return None;
        }
        let first = &scenarios[0];
        Some(Arms {
            scenarios,
            cats: scenarios.iter().map(crate::observe::Catalogue::new).collect(),
            shared: divergence_tick(scenarios).saturating_sub(1).min(first.total_ticks()),
        })
    }

    /// Arm `k`'s catalogue.
    pub fn catalogue(&self, k: usize) -> &crate::observe::Catalogue {
        &self.cats[k]
    }

    /// Replication `replication` of every arm, their common history simulated once: founding,
    /// the burn-in and the recorded ticks before [`divergence_tick`]; then each arm goes on from
    /// a copy of that world under its own scenario. Each arm's record is the one its own full
    /// run gives, bit for bit. None when `stop` answers true.
    pub fn run(
        &self,
        seed: u64,
        replication: u32,
        stop: &dyn Fn() -> bool,
    ) -> Option<Vec<crate::observe::ReplicationRecord>> {
        use crate::observe::Recorder;
        let (first, cat) = (&self.scenarios[0], &self.cats[0]);
        let (mut model, rng) = super::burned_in(first, seed, replication, stop)?;
        let mut rng = rng;
        model.start_recording();
        let mut recorder = Recorder::new(cat, &model);
        while model.tick < self.shared {
            if stop() {
                return None;
            }
            model.step(&mut rng);
            recorder.observe(cat, &model);
        }
        let snapshot = model.snapshot();
        let mut records = Vec::with_capacity(self.scenarios.len());
        for (arm, cat) in self.scenarios.iter().zip(&self.cats) {
            let mut model = Model::resume(snapshot.clone(), arm).expect("arms that can share their history");
            let (mut rng, mut recorder) = (RngState::of(&rng).restore(), recorder.clone());
            while model.tick < arm.total_ticks() {
                if stop() {
                    return None;
                }
                model.step(&mut rng);
                recorder.observe(cat, &model);
            }
            records.push(recorder.finish(cat, &model));
        }
        Some(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn town(extra: &str) -> Scenario {
        let text = format!(
            "name = \"t\"\n[simulation]\nyears = 2\nburn_in_years = 3\nreplications = 2\n[population]\nsize = 300\n[[population.groups]]\nname = \"all\"\nshare = 1.0\n[[coalitions]]\nname = \"club\"\nfounders = 10\ngovernance = {{ voice = 0.5, outreach = 0.5 }}\n[coalitions.funding]\ndonation_per_member = 50\n[coalitions.funding.contract]\namount = 20000\nterm_years = 2\n{extra}"
        );
        Scenario::parse(&text, "t.toml").unwrap()
    }

    #[test]
    fn a_state_round_trips_and_refuses_tampering() {
        let s = town("");
        let mut rng = crate::engine::replication_rng(5, 1);
        let mut model = Model::new(&s, &mut rng);
        for _ in 0..s.burn_in_ticks() {
            model.step(&mut rng);
        }
        let bytes = encode(&s, 5, 1, &model, &rng);
        let state = decode(&bytes).unwrap();
        assert_eq!(state.check(&burn_in_identity(&s), 5, 1, s.burn_in_ticks()), Ok(()));
        assert!(state.check(&burn_in_identity(&s), 6, 1, s.burn_in_ticks()).unwrap_err().contains("seed 5"));
        assert!(state.check(&burn_in_identity(&s), 5, 0, s.burn_in_ticks()).is_err());
        let other = town("[policy]\nperformance_regime = 0.9\n");
        assert!(state.check(&burn_in_identity(&other), 5, 1, s.burn_in_ticks()).is_err());
        // Re-encoding the resumed world gives the same bytes.
        let (resumed, rng2) = state.resume(&s).unwrap();
        assert_eq!(encode(&s, 5, 1, &resumed, &rng2), bytes);

        let mut flipped = bytes.clone();
        let k = flipped.len() / 2;
        flipped[k] ^= 1;
        assert_eq!(decode(&flipped).unwrap_err(), StateError::Corrupt);
        let mut old = bytes.clone();
        old[MAGIC.len()] = 0;
        assert_eq!(decode(&old).unwrap_err(), StateError::Version { found: 0 });
        assert_eq!(decode(b"name = \"t\"\n").unwrap_err(), StateError::NotAState);
        assert_eq!(decode(&bytes[..bytes.len() - 1]).unwrap_err(), StateError::Corrupt);
    }

    /// Resumed at the end of its burn-in, a replication goes on exactly as it would have, and
    /// a fork under a scenario with a later cut and a later change is that scenario's own run.
    #[test]
    fn a_fork_goes_on_as_the_full_run() {
        let base = town("");
        let policy = town(
            "[[policy.shocks]]\nyear = 4\nstream = \"contract\"\ncut = 0.8\n[[policy.changes]]\nyear = 3.5\nkey = \"coalitions.club.governance.voice\"\nvalue = 1.0\n",
        );
        let plan = plan_fork(&base, &policy).unwrap();
        assert!(plan.exact(), "{plan:?}");
        assert_eq!(plan.later.len(), 2, "{plan:?}");
        let history = |s: &Scenario, from: Option<&WarmState>| -> Vec<Vec<u32>> {
            let (mut model, mut rng) = match from {
                Some(w) => w.clone().resume(s).unwrap(),
                None => {
                    let mut rng = crate::engine::replication_rng(9, 0);
                    let mut model = Model::new(s, &mut rng);
                    for _ in 0..s.burn_in_ticks() {
                        model.step(&mut rng);
                    }
                    (model, rng)
                }
            };
            (0..s.ticks())
                .map(|_| {
                    model.step(&mut rng);
                    let c = &model.coalitions[0];
                    let mut row = model.tally.members.clone();
                    row.extend([
                        c.budget.to_bits() as u32,
                        (c.budget.to_bits() >> 32) as u32,
                        c.fairness.to_bits() as u32,
                    ]);
                    row
                })
                .collect()
        };
        let mut rng = crate::engine::replication_rng(9, 0);
        let mut model = Model::new(&base, &mut rng);
        for _ in 0..base.burn_in_ticks() {
            model.step(&mut rng);
        }
        let state = decode(&encode(&base, 9, 0, &model, &rng)).unwrap();
        assert_eq!(history(&base, Some(&state)), history(&base, None));
        let forked = history(&policy, Some(&state));
        assert_eq!(forked, history(&policy, None));
        assert_ne!(forked, history(&base, None), "the cut and the change made a difference");
    }

    #[test]
    fn a_fork_refuses_what_would_have_changed_the_burn_in_naming_each_key() {
        let base = town("");
        let policy = town(
            "[policy.random_shocks]\nrate_per_year = 0.5\n[[policy.shocks]]\nyear = 1\nstream = \"contract\"\ncut = 0.5\n[behaviour]\naspiration_mean = 0.1\n",
        );
        let refused = plan_fork(&base, &policy).unwrap_err();
        let paths: Vec<&str> = refused.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["policy.shocks", "behaviour.aspiration_mean", "policy.random_shocks.rate_per_year"]);
        assert!(
            refused[1]
                .message
                .starts_with(&format!("found 0.1, expected {} (the state's)", base.behaviour.aspiration_mean)),
            "{}",
            refused[1].message
        );
        let mut seeded = base.clone();
        seeded.simulation.seed = 2;
        assert_eq!(plan_fork(&base, &seeded).unwrap_err()[0].path, "simulation.seed");
        // A setting that can change during a run is applied from the end of the burn-in.
        let voice = town("").clone();
        let mut voice = voice;
        voice.coalitions[0].governance.voice = 0.9;
        let plan = plan_fork(&base, &voice).unwrap();
        assert_eq!(plan.applied, vec![("coalitions.club.governance.voice".into(), "0.5".into(), "0.9".into())]);
        assert!(!plan.exact());
        // Horizon, replications and name may differ.
        let mut longer = base.clone();
        longer.simulation.years = 5;
        longer.simulation.replications = 7;
        longer.name = "longer".into();
        assert_eq!(plan_fork(&base, &longer), Ok(ForkPlan::default()));
    }

    /// Arms differing in a cut and a change at different years, run together, give each arm's
    /// own record; the history they share ends at the first difference.
    #[test]
    fn arms_run_together_are_each_their_own_run() {
        let arm = |extra: &str| town(extra);
        let arms = vec![
            arm(""),
            arm("[[policy.shocks]]\nyear = 4\nstream = \"contract\"\ncut = 0.8\n"),
            arm(
                "[[policy.shocks]]\nyear = 4\nstream = \"contract\"\ncut = 0.8\n[[policy.changes]]\nyear = 3.5\nkey = \"coalitions.club.governance.voice\"\nvalue = 1.0\n",
            ),
        ];
        assert!(can_share(&arms));
        assert_eq!(divergence_tick(&arms), 182, "the change in year 3.5");
        assert_eq!(divergence_tick(&arms[..2]), 208, "the cut in year 4");
        assert_eq!(divergence_tick(&arms[..1]), arms[0].total_ticks() + 1);
        for sub in [&arms[..], &arms[..2], &arms[1..], &arms[..1]] {
            let together = Arms::new(sub).unwrap().run(3, 1, &|| false).unwrap();
            for (a, record) in sub.iter().zip(&together) {
                let alone = crate::engine::run_replication(a, &crate::observe::Catalogue::new(a), 3, 1);
                assert_eq!(
                    record.series.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    alone.series.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
                );
                assert_eq!(
                    record.summary.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    alone.summary.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
                );
            }
        }
        assert!(Arms::new(&[arm(""), arm("[behaviour]\naspiration_mean = 0.1\n")]).is_none());
    }

    /// A comparison's arms run together are each their own run, digest for digest, whether
    /// they share their burn-in or not.
    #[test]
    fn arms_of_a_comparison_run_together_are_their_own_runs() {
        let cfg = crate::engine::RunConfig { replications: 3, seed: 8, threads: 2 };
        let shared = [town(""), town("[[policy.shocks]]\nyear = 4\nstream = \"contract\"\ncut = 0.8\n")];
        let apart = [town(""), town("[behaviour]\naspiration_mean = 0.1\n")];
        for arms in [&shared, &apart] {
            let together = crate::engine::run_together(arms, cfg).unwrap();
            for (s, r) in arms.iter().zip(&together) {
                assert_eq!(r.digest(), crate::engine::run(s, cfg, &|| {}).unwrap().digest());
            }
        }
    }
}
