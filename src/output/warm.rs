//! Warm states on disk: `run --save-state` writes each replication's state at the end of its
//! burn-in into the result's `warm/` folder (listed in its manifest like every file), and
//! `run --from-state DIR` reads them back, checking each against the manifest's checksum and the
//! scenario the states were saved under ([`coprosim_core::engine::warm`]).

use super::{MANIFEST, OutputError, RESOLVED_SCENARIO, sha256_hex};
use coprosim_core::engine::warm::{self, WarmState};
use coprosim_core::scenario::Scenario;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use super::names::WARM_DIR;

/// Path of replication `r`'s state, relative to the result directory.
pub fn state_file(r: u32) -> String {
    format!("{WARM_DIR}/replication-{r:06}.state")
}

/// Writes states into a working result directory as the replications reach the end of their
/// burn-in, remembering each file's SHA-256 for the manifest.
#[derive(Debug)]
pub struct StateWriter {
    dir: PathBuf,
    written: Mutex<BTreeMap<String, String>>,
}

impl StateWriter {
    /// A writer into `dir/warm/`, which it creates.
    pub fn new(dir: &Path) -> Result<StateWriter, OutputError> {
        let warm = dir.join(WARM_DIR);
        std::fs::create_dir_all(&warm)
            .map_err(|source| OutputError::Io { path: warm.display().to_string(), source })?;
        Ok(StateWriter { dir: dir.to_path_buf(), written: Mutex::new(BTreeMap::new()) })
    }

    /// Write replication `r`'s encoded state.
    pub fn save(&self, r: u32, bytes: &[u8]) -> Result<(), String> {
        let rel = state_file(r);
        let (folder, name) = rel.split_once('/').expect("a state lives in warm/");
        super::write_atomic(&self.dir.join(folder), name, bytes).map_err(|e| e.to_string())?;
        self.written.lock().unwrap_or_else(|e| e.into_inner()).insert(rel, sha256_hex(bytes));
        Ok(())
    }

    /// The files written and their SHA-256, for the manifest.
    pub fn files(self) -> BTreeMap<String, String> {
        self.written.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

/// The states a run saved, ready to start replications from.
#[derive(Debug)]
pub struct SavedStates {
    /// The result directory.
    pub dir: PathBuf,
    /// The scenario the states were saved under (the result's resolved scenario).
    pub scenario: Scenario,
    /// Its burn-in's identity.
    pub identity: String,
    /// The SHA-256 of the posterior the run drew its replications' parameters from, if it did
    /// (`run --posterior`): then each state is that of its replication's draw.
    pub posterior: Option<String>,
    /// SHA-256 of the manifest (which lists every state's), to name the states in a new
    /// manifest.
    pub manifest_sha256: String,
    /// Each state file's SHA-256, by replication.
    files: BTreeMap<u32, String>,
}

impl SavedStates {
    /// Read the result in `dir`: its manifest, its resolved scenario and the list of its states.
    pub fn read(dir: &Path) -> Result<SavedStates, OutputError> {
        let shown = dir.display().to_string();
        let incomplete = |reason: String| OutputError::Incomplete { path: shown.clone(), reason };
        let manifest_path = dir.join(MANIFEST);
        let bytes = std::fs::read(&manifest_path).map_err(|e| {
            incomplete(format!(
                "no readable {MANIFEST} ({e}); expected the result directory of `coprosim run --save-state`"
            ))
        })?;
        let manifest: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| OutputError::Unreadable {
            path: manifest_path.display().to_string(),
            reason: e.to_string(),
        })?;
        if manifest.get("tool").and_then(|t| t.as_str()) != Some("coprosim")
            || manifest.get("complete").and_then(|c| c.as_bool()) != Some(true)
        {
            return Err(incomplete(format!("its {MANIFEST} is not that of a complete coprosim run")));
        }
        let listed = manifest.get("files").and_then(|f| f.as_object()).cloned().unwrap_or_default();
        let mut files = BTreeMap::new();
        for (rel, sha) in &listed {
            if let Some(r) = rel
                .strip_prefix(&format!("{WARM_DIR}/replication-"))
                .and_then(|x| x.strip_suffix(".state"))
                .and_then(|x| x.parse::<u32>().ok())
            {
                files.insert(r, sha.as_str().unwrap_or_default().to_string());
            }
        }
        if files.is_empty() {
            return Err(incomplete(
                "it holds no warm states; run the scenario with --save-state to save them".to_string(),
            ));
        }
        let scenario_path = dir.join(RESOLVED_SCENARIO);
        let text = std::fs::read_to_string(&scenario_path)
            .map_err(|e| incomplete(format!("cannot read its {RESOLVED_SCENARIO}: {e}")))?;
        let scenario = Scenario::parse(&text, &scenario_path.display().to_string()).map_err(|e| {
            OutputError::Unreadable { path: scenario_path.display().to_string(), reason: e.to_string() }
        })?;
        let posterior = manifest
            .get("posterior")
            .and_then(|p| p.get("posterior_sha256"))
            .and_then(|s| s.as_str())
            .map(str::to_string);
        Ok(SavedStates {
            dir: dir.to_path_buf(),
            identity: warm::burn_in_identity(&scenario),
            posterior,
            scenario,
            manifest_sha256: sha256_hex(&bytes),
            files,
        })
    }

    /// Replications with a saved state: 0 to this, exclusive (the states run from 0 without a gap).
    pub fn replications(&self) -> u32 {
        self.files.keys().zip(0..).take_while(|(r, k)| **r == *k).count() as u32
    }

    /// Replication `r`'s encoded state, checked against the manifest's checksum.
    pub fn bytes(&self, r: u32) -> Result<Vec<u8>, String> {
        let path = self.dir.join(state_file(r));
        let expected = self.files.get(&r).ok_or_else(|| format!("{}: no saved state", path.display()))?;
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if sha256_hex(&bytes) != *expected {
            return Err(format!("{}: corrupted: its SHA-256 is not the one the manifest lists", path.display()));
        }
        Ok(bytes)
    }

    /// Replication `r`'s state, checked against the manifest's checksum, its own, and the run
    /// it is to start (`seed`, a burn-in of `burn_in_ticks`).
    pub fn load(&self, r: u32, seed: u64, burn_in_ticks: u32) -> Result<WarmState, String> {
        self.load_as(r, seed, burn_in_ticks, &self.identity)
    }

    /// Like [`SavedStates::load`], for a state saved under a burn-in of identity `identity`:
    /// a posterior run's replication, whose scenario is the saved one with its draw applied.
    pub fn load_as(&self, r: u32, seed: u64, burn_in_ticks: u32, identity: &str) -> Result<WarmState, String> {
        let path = self.dir.join(state_file(r));
        let state = warm::decode(&self.bytes(r)?).map_err(|e| format!("{}: {e}", path.display()))?;
        state.check(identity, seed, r, burn_in_ticks).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(state)
    }
}
