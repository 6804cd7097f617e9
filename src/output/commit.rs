//! Result directories: what coprosim owns in them, and how a new result replaces an old one
//! without touching anything else.
//!
//! The rules (the README's "Results are never half-written" states them for users):
//! - A result directory is marked by a `manifest.json` with `"tool": "coprosim"` and a `kind`
//!   (`run`, `sweep` or `calibration`). The manifest lists every file the tool wrote there,
//!   charts included. The tool owns those files, the manifest and its own hidden working
//!   folders and commit lock (`.coprosim-*`). Everything else in the directory, a file of the
//!   user's inside `charts/` too, is the user's and is never removed or overwritten, with or
//!   without `--force`.
//! - A new result is built in a working folder: beside the target when the target does not
//!   exist yet (then one rename puts it in place), inside the target when it does (then each
//!   file is renamed into place, the old result's files that the new one does not have are
//!   removed, and the manifest comes last, so a reader that trusts the manifest never sees a
//!   mixture). Renames inside one directory tree work on a mount point too.
//! - Commits into one directory from several processes take turns (an advisory lock on the
//!   hidden file `.coprosim-lock` there), so concurrent runs never leave a mixture.
//! - Nothing is committed once a stop has been requested: the check and the commit happen
//!   under one lock that the signal handler also takes, so a signal lands either before the
//!   commit (nothing changes) or after it (the result is complete).

use super::names::{
    AGENTS, AGENTS_PARQUET, EVENTS, EVENTS_PARQUET, EXPLORER, MANIFEST, PROGRESS, REPLICATION_SERIES, REPLICATIONS,
    RESOLVED_SCENARIO, ROSTER, SALIB, SPELLS, SPELLS_PARQUET, SWEEP_JSON, SWEEP_SERIES,
};
use super::{OutputError, io};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// What kind of result a directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `coprosim run`.
    Run,
    /// `coprosim sweep` or `merge`.
    Sweep,
    /// `coprosim calibrate`.
    Calibration,
    /// `coprosim calibrate --check-coverage`.
    Coverage,
}

impl Kind {
    /// The word users see.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Sweep => "sweep",
            Kind::Calibration => "calibration",
            Kind::Coverage => "coverage check",
        }
    }
}

pub use super::names::CHARTS;
/// How an old manifest, written before charts were listed, owns `charts/`: whole.
const WHOLE_CHARTS: &str = "charts/";

/// Whether the result whose manifest lists `owned` owns the path `rel` (relative, `/`
/// between folders): listed, or in `charts/` under an old manifest that owned it whole.
pub fn owns(owned: &BTreeSet<String>, rel: &str) -> bool {
    owned.contains(rel) || (owned.contains(WHOLE_CHARTS) && rel.strip_prefix(WHOLE_CHARTS).is_some())
}
/// Prefix of the tool's hidden working folders.
const WORK_PREFIX: &str = ".coprosim-";

/// Where [`Staging::resumable`] keeps the job `key`'s working folder inside `target`.
pub fn resumable_dir(target: &Path, key: &str) -> PathBuf {
    target.join(format!("{WORK_PREFIX}{key}"))
}

/// What an output directory holds now.
#[derive(Debug, Clone, PartialEq)]
pub enum Holding {
    /// Nothing: the directory does not exist.
    Absent,
    /// An empty directory.
    Empty,
    /// A coprosim result (or an unfinished sweep) and the paths it owns, relative to the
    /// directory with `/` between components.
    Result {
        /// Run or sweep.
        kind: Kind,
        /// Owned paths: the manifest's files and the manifest itself.
        owned: BTreeSet<String>,
    },
    /// A `manifest.json` that coprosim did not write.
    ForeignManifest,
    /// A non-empty directory with no manifest.
    Unmarked,
}

/// Parse a manifest's text: Some((kind, owned paths)) if coprosim wrote it.
pub fn parse_manifest(bytes: &[u8]) -> Option<(Kind, BTreeSet<String>)> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if v.get("tool")?.as_str()? != "coprosim" {
        return None;
    }
    let declared = v.get("kind").and_then(|k| serde_json::from_value::<Kind>(k.clone()).ok());
    // Manifests written before results declared their kind: a sweep's names its sweep.
    let kind = declared.unwrap_or(if v.get("sweep").is_some() { Kind::Sweep } else { Kind::Run });
    let mut owned: BTreeSet<String> = v.get("files")?.as_object()?.keys().cloned().collect();
    owned.insert(MANIFEST.to_string());
    if declared.is_none() {
        // Those manifests listed only data files; these were written beside them.
        // and drew charts/ whole, before chart files were listed.
        let extra: &[&str] = match kind {
            Kind::Run => &["report.html", WHOLE_CHARTS],
            Kind::Sweep => &[SWEEP_JSON, PROGRESS, WHOLE_CHARTS],
            Kind::Calibration | Kind::Coverage => &[],
        };
        owned.extend(extra.iter().map(|s| s.to_string()));
    }
    Some((kind, owned))
}

/// Look at an output directory (which must exist as a directory or not at all).
pub fn inspect(dir: &Path) -> Result<Holding, OutputError> {
    if !dir.exists() {
        return Ok(Holding::Absent);
    }
    let entries = top_level(dir)?;
    if entries.is_empty() {
        return Ok(Holding::Empty);
    }
    let manifest = dir.join(MANIFEST);
    if manifest.exists() {
        let bytes = std::fs::read(&manifest).map_err(io(&manifest))?;
        return Ok(match parse_manifest(&bytes) {
            Some((kind, owned)) => Holding::Result { kind, owned },
            None => Holding::ForeignManifest,
        });
    }
    // A sweep still running (or interrupted) has its description and progress but no manifest.
    let unfinished_sweep = std::fs::read(dir.join(SWEEP_JSON))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("identity").is_some() && v.get("points").is_some());
    if unfinished_sweep {
        let owned = [SWEEP_JSON, PROGRESS].iter().map(|s| s.to_string()).collect();
        return Ok(Holding::Result { kind: Kind::Sweep, owned });
    }
    Ok(Holding::Unmarked)
}

/// Names of a directory's entries, leaving out the tool's hidden working folders.
fn top_level(dir: &Path) -> Result<BTreeSet<String>, OutputError> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let name = entry.map_err(io(dir))?.file_name().to_string_lossy().into_owned();
        if !name.starts_with(WORK_PREFIX) {
            out.insert(name);
        }
    }
    Ok(out)
}

/// The first component of a relative path.
fn head(path: &str) -> &str {
    path.split('/').next().unwrap_or(path)
}

/// Entries of `dir` that are not the result's: the user's files, kept. Inside `charts/` of a
/// directory that holds a result, each file is the result's only if its manifest lists it,
/// so a user's file there is named as `charts/NAME`.
fn foreign_entries(dir: &Path, owned: &BTreeSet<String>, result: bool) -> Result<Vec<String>, OutputError> {
    let owned_heads: BTreeSet<&str> = owned.iter().map(|p| head(p)).collect();
    let charts = dir.join(CHARTS);
    let mut kept = Vec::new();
    for name in top_level(dir)? {
        if result && name == CHARTS && charts.is_dir() {
            for entry in std::fs::read_dir(&charts).map_err(io(&charts))? {
                let rel = format!("{CHARTS}/{}", entry.map_err(io(&charts))?.file_name().to_string_lossy());
                if !owns(owned, &rel) {
                    kept.push(rel);
                }
            }
        } else if !owned_heads.contains(name.as_str()) {
            kept.push(name);
        }
    }
    kept.sort();
    Ok(kept)
}

/// Top-level names a result of `kind` may write. Checked against a directory that is not a
/// coprosim result before `--force` adds a result to it, so that a clash is found before the
/// work rather than after.
fn written_names(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Run => &[
            "series.csv",
            "retention.csv",
            "summary.csv",
            "inequality.csv",
            "posterior_draws.csv",
            REPLICATIONS,
            REPLICATION_SERIES,
            AGENTS,
            EVENTS,
            SPELLS,
            AGENTS_PARQUET,
            EVENTS_PARQUET,
            SPELLS_PARQUET,
            ROSTER,
            RESOLVED_SCENARIO,
            "report.html",
            EXPLORER,
            CHARTS,
            MANIFEST,
        ],
        Kind::Sweep => &[
            SWEEP_JSON,
            PROGRESS,
            "points.csv",
            REPLICATIONS,
            SWEEP_SERIES,
            "sensitivity.csv",
            "morris.csv",
            SALIB,
            CHARTS,
            MANIFEST,
        ],
        Kind::Calibration => &[
            "calibration.json",
            "generations.jsonl",
            "posterior.csv",
            "generations.csv",
            "summary.csv",
            "predictive.csv",
            "diagnostics.csv",
            "models.csv",
            "unfinished_generation.jsonl",
            "report.html",
            CHARTS,
            MANIFEST,
        ],
        Kind::Coverage => &["coverage.json", "ranks.csv", "coverage.csv", CHARTS, MANIFEST],
    }
}

/// Resolve an output path before any work: a symbolic link is followed (to a directory, or
/// to where a directory will be created); a dangling link's target must be creatable; a file
/// is refused. The result is absolute and free of `.` and `..`.
pub fn resolve(dir: &Path) -> Result<PathBuf, OutputError> {
    let unusable = |reason: String| OutputError::Unusable { path: dir.display().to_string(), reason };
    if let Ok(meta) = std::fs::metadata(dir) {
        if !meta.is_dir() {
            return Err(unusable("it is a file, expected a directory".into()));
        }
        return dir.canonicalize().map_err(io(dir));
    }
    if let Ok(link) = std::fs::read_link(dir) {
        // A dangling symbolic link: follow it to where the directory will be made.
        let target = if link.is_absolute() { link } else { dir.parent().unwrap_or(Path::new("")).join(link) };
        return resolve(&target)
            .map_err(|e| unusable(format!("it is a symbolic link to a place that cannot be used: {e}")));
    }
    let cwd = std::env::current_dir().map_err(io(Path::new(".")))?;
    let mut lexical = PathBuf::new();
    for c in cwd.join(dir).components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                lexical.pop();
            }
            other => lexical.push(other),
        }
    }
    // The nearest existing ancestor is resolved (it may be a link); the rest is appended.
    let mut existing = lexical.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    if !existing.is_dir() {
        return Err(unusable(format!("{} is a file, expected a directory", existing.display())));
    }
    let mut out = existing.canonicalize().map_err(io(&existing))?;
    out.extend(rest.iter().rev());
    Ok(out)
}

/// Working folders alive in this process, removed at once by [`abandon_all`]. The same lock
/// makes a commit and a stop request exclusive.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Take the commit lock. The signal handler holds it while it records a stop, so that a stop
/// never lands in the middle of a commit.
pub fn gate() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remove every working folder of this process (a second Ctrl-C, just before exiting). Waits
/// for a commit in progress to finish first.
pub fn abandon_all() {
    let live = gate();
    for dir in live.iter() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// A result being built. Files are written into [`Staging::dir`]; [`Staging::commit`] puts
/// them in place of the target's earlier result. Dropped without a commit, a temporary
/// working folder is removed (a resumable one, see [`Staging::resumable`], is kept).
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    shown: String,
    work: PathBuf,
    kind: Kind,
    force: bool,
    temporary: bool,
    done: bool,
}

/// What a commit left in the directory besides the new result.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    /// The directory.
    pub dir: PathBuf,
    /// Entries coprosim did not write and left where they were.
    pub kept: Vec<String>,
}

impl Committed {
    /// A one-line note for users when foreign files were kept.
    pub fn note(&self) -> Option<String> {
        (!self.kept.is_empty()).then(|| {
            format!(
                "{}: kept {} entr{} that coprosim did not write: {}",
                self.dir.display(),
                self.kept.len(),
                if self.kept.len() == 1 { "y" } else { "ies" },
                self.kept.join(", ")
            )
        })
    }
}

/// Check that a result of `kind` may be written to `dir`, before any work; see the module
/// documentation for the rules. Returns the resolved directory and what it holds.
pub fn check_target(dir: &Path, kind: Kind, force: bool) -> Result<(PathBuf, Holding), OutputError> {
    let target = resolve(dir)?;
    let shown = dir.display().to_string();
    let holding = inspect(&target)?;
    match &holding {
        Holding::Absent | Holding::Empty => {}
        Holding::Result { kind: k, .. } if *k == kind => {}
        Holding::Result { kind: k, .. } if !force => {
            return Err(OutputError::Unusable {
                path: shown,
                reason: format!(
                    "it holds a coprosim {} result, not a {}; choose another --out, or pass --force to replace that result (files coprosim did not write are kept)",
                    k.name(),
                    kind.name()
                ),
            });
        }
        Holding::Result { .. } => {}
        Holding::ForeignManifest => {
            return Err(OutputError::Unusable {
                path: shown,
                reason: format!(
                    "it holds a {MANIFEST} that coprosim did not write; coprosim would have to overwrite it, so choose another --out"
                ),
            });
        }
        Holding::Unmarked if !force => return Err(OutputError::NotOurs { path: shown }),
        Holding::Unmarked => {
            let present = top_level(&target)?;
            let clash: Vec<&str> = written_names(kind).iter().copied().filter(|n| present.contains(*n)).collect();
            if !clash.is_empty() {
                return Err(clash_error(shown, &clash));
            }
        }
    }
    Ok((target, holding))
}

impl Staging {
    /// Prepare to write a result of `kind` into `dir`: refuse, before any work, a directory
    /// that cannot receive it; then make a temporary working folder (which also proves the
    /// place writable).
    pub fn new(dir: &Path, kind: Kind, force: bool) -> Result<Staging, OutputError> {
        let (target, _) = check_target(dir, kind, force)?;
        let work = if target.is_dir() {
            target.join(format!("{WORK_PREFIX}partial-{}", std::process::id()))
        } else {
            let parent = target.parent().unwrap_or(Path::new("/"));
            std::fs::create_dir_all(parent).map_err(|e| OutputError::Unusable {
                path: dir.display().to_string(),
                reason: format!("cannot create {}: {e}", parent.display()),
            })?;
            let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            parent.join(format!(".{name}{WORK_PREFIX}partial-{}", std::process::id()))
        };
        let mut live = gate();
        if work.exists() {
            std::fs::remove_dir_all(&work).map_err(io(&work))?;
        }
        std::fs::create_dir(&work).map_err(|e| OutputError::Unusable {
            path: dir.display().to_string(),
            reason: format!("cannot write there: {e}"),
        })?;
        // Which host made it, so that a later writer removes it only if its process is gone
        // from this host (super::writer). Never committed: a commit moves listed files only.
        let marker = work.join(super::writer::HOST_MARKER);
        std::fs::write(&marker, super::writer::host()).map_err(io(&marker))?;
        live.push(work.clone());
        Ok(Staging { target, shown: dir.display().to_string(), work, kind, force, temporary: true, done: false })
    }

    /// A working folder inside `dir` that survives an interruption, so that a long job
    /// (a sweep replacing an earlier result) resumes where it stopped. `key` names the job.
    pub fn resumable(dir: &Path, kind: Kind, force: bool, key: &str) -> Result<Staging, OutputError> {
        let (target, _) = check_target(dir, kind, force)?;
        std::fs::create_dir_all(&target).map_err(|e| OutputError::Unusable {
            path: dir.display().to_string(),
            reason: format!("cannot create it: {e}"),
        })?;
        let work = resumable_dir(&target, key);
        Ok(Staging { target, shown: dir.display().to_string(), work, kind, force, temporary: false, done: false })
    }

    /// Where to write the files now.
    pub fn dir(&self) -> &Path {
        &self.work
    }

    /// Put the complete result (its manifest written last into [`Staging::dir`]) in place of
    /// the target's earlier result. Refused, with nothing changed, once a stop was requested.
    pub fn commit(mut self) -> Result<Committed, OutputError> {
        let mut live = gate();
        if crate::stop::requested() {
            return Err(OutputError::Interrupted { path: self.shown.clone() });
        }
        let result = self.swap_in();
        self.done = true;
        live.retain(|p| p != &self.work);
        if result.is_err() && self.temporary {
            let _ = std::fs::remove_dir_all(&self.work);
        }
        result
    }

    fn swap_in(&self) -> Result<Committed, OutputError> {
        let committed = |kept| Committed { dir: PathBuf::from(&self.shown), kept };
        // The host marker belongs to the working folder, not to the result it becomes.
        let _ = std::fs::remove_file(self.work.join(super::writer::HOST_MARKER));
        if !self.target.exists() && std::fs::rename(&self.work, &self.target).is_ok() {
            return Ok(committed(Vec::new()));
        }
        // Another process may be committing into the same directory: one commit at a time
        // (an advisory lock on a hidden file of the tool's, released when `lock` is dropped).
        let lock_path = self.target.join(format!("{WORK_PREFIX}lock"));
        let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path);
        let lock = lock.map_err(io(&lock_path))?;
        // A file system without locks (some network mounts) commits unguarded, as before.
        if let Err(e) = lock.lock()
            && e.kind() != std::io::ErrorKind::Unsupported
        {
            return Err(io(&lock_path)(e));
        }
        // The directory exists: take stock again, since it may have changed during the work.
        let (owned, result) = match check_target(&self.target, self.kind, self.force)?.1 {
            Holding::Result { owned, .. } => (owned, true),
            _ => (BTreeSet::new(), false),
        };
        let kept = foreign_entries(&self.target, &owned, result)?;
        let manifest = std::fs::read(self.work.join(MANIFEST)).map_err(io(&self.work.join(MANIFEST)))?;
        let (_, new) = parse_manifest(&manifest).ok_or_else(|| OutputError::Incomplete {
            path: self.work.display().to_string(),
            reason: format!("its {MANIFEST} is not coprosim's"),
        })?;
        // A kept entry the new result would overwrite: a top-level name, or a file in charts/.
        let clash: Vec<&str> = new
            .iter()
            .filter_map(|p| kept.iter().find(|k| *k == p || *k == head(p)))
            .map(String::as_str)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !clash.is_empty() {
            return Err(clash_error(self.shown.clone(), &clash));
        }
        for rel in new.iter().filter(|p| *p != MANIFEST) {
            let from = self.work.join(rel);
            if !from.exists() {
                continue; // listed but kept in place (never the case for files a result writes)
            }
            let to = self.target.join(rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::rename(&from, &to).map_err(io(&to))?;
        }
        let stale = owned.iter().filter(|p| !new.contains(*p) && *p != MANIFEST && *p != WHOLE_CHARTS);
        // An old manifest that owned charts/ whole: its charts are every file there.
        let old_charts: Vec<String> = match std::fs::read_dir(self.target.join(CHARTS)) {
            Ok(entries) if owned.contains(WHOLE_CHARTS) => entries
                .flatten()
                .map(|e| format!("{CHARTS}/{}", e.file_name().to_string_lossy()))
                .filter(|rel| !new.contains(rel))
                .collect(),
            _ => Vec::new(),
        };
        for rel in stale.chain(old_charts.iter()) {
            remove_if_present(&self.target.join(rel))?;
            // A folder of the result's (`charts/`, `salib/`) emptied by this is the result's
            // too: left behind it would read as the user's at the next write.
            if let Some((folder, _)) = rel.split_once('/') {
                let folder = self.target.join(folder);
                if std::fs::read_dir(&folder).is_ok_and(|mut d| d.next().is_none()) {
                    std::fs::remove_dir(&folder).map_err(io(&folder))?;
                }
            }
        }
        let to = self.target.join(MANIFEST);
        std::fs::rename(self.work.join(MANIFEST), &to).map_err(io(&to))?;
        std::fs::remove_dir_all(&self.work).map_err(io(&self.work))?;
        Ok(committed(kept))
    }
}

fn clash_error(path: String, clash: &[&str]) -> OutputError {
    OutputError::Unusable {
        path,
        reason: format!(
            "it holds {} that coprosim did not write and would have to overwrite; move {} or choose another --out",
            clash.join(", "),
            if clash.len() == 1 { "it" } else { "them" }
        ),
    }
}

fn remove_if_present(path: &Path) -> Result<(), OutputError> {
    let r = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path)(e)),
        _ => Ok(()),
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done && self.temporary {
            let mut live = gate();
            let _ = std::fs::remove_dir_all(&self.work);
            live.retain(|p| p != &self.work);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(kind: Kind, files: &[&str]) -> Vec<u8> {
        let files: serde_json::Map<String, serde_json::Value> =
            files.iter().map(|f| (f.to_string(), serde_json::Value::String("0".repeat(64)))).collect();
        serde_json::to_vec(&serde_json::json!({"tool": "coprosim", "kind": kind, "files": files, "complete": true}))
            .unwrap()
    }

    fn result(dir: &Path, kind: Kind, files: &[(&str, &str)]) {
        let names: Vec<&str> = files.iter().map(|f| f.0).collect();
        for (name, text) in files {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        std::fs::write(dir.join(MANIFEST), manifest(kind, &names)).unwrap();
    }

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap()
    }

    #[test]
    fn a_rerun_replaces_only_the_files_the_manifest_lists() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        std::fs::create_dir(&out).unwrap();
        result(&out, Kind::Run, &[("a.csv", "old a"), ("gone.csv", "old"), ("charts/x.svg", "old x")]);
        std::fs::write(out.join("NOTES.txt"), "mine").unwrap();
        std::fs::create_dir(out.join("src")).unwrap();
        std::fs::write(out.join("src/app.js"), "mine too").unwrap();

        let st = Staging::new(&out, Kind::Run, false).unwrap();
        result(st.dir(), Kind::Run, &[("a.csv", "new a"), ("charts/y.svg", "new y")]);
        let done = st.commit().unwrap();

        assert_eq!(done.kept, vec!["NOTES.txt".to_string(), "src".to_string()]);
        assert_eq!(read(&out.join("a.csv")), "new a");
        assert_eq!(read(&out.join("charts/y.svg")), "new y");
        assert!(!out.join("gone.csv").exists() && !out.join("charts/x.svg").exists());
        assert_eq!(read(&out.join("NOTES.txt")), "mine");
        assert_eq!(read(&out.join("src/app.js")), "mine too");
        assert_eq!(parse_manifest(&std::fs::read(out.join(MANIFEST)).unwrap()).unwrap().0, Kind::Run);
        assert_eq!(top_level(&out).unwrap().len(), 5, "no working folder is left");
    }

    #[test]
    fn a_users_file_in_charts_survives_a_rerun_and_is_named_but_never_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        std::fs::create_dir(&out).unwrap();
        result(&out, Kind::Run, &[("a.csv", "old a"), ("charts/members.svg", "old"), ("charts/gone.svg", "old")]);
        std::fs::write(out.join("charts/members_annotated.svg"), "mine").unwrap();

        let st = Staging::new(&out, Kind::Run, false).unwrap();
        result(st.dir(), Kind::Run, &[("a.csv", "new a"), ("charts/members.svg", "new")]);
        let done = st.commit().unwrap();
        assert_eq!(done.kept, vec!["charts/members_annotated.svg".to_string()]);
        assert!(done.note().unwrap().contains("charts/members_annotated.svg"));
        assert_eq!(read(&out.join("charts/members.svg")), "new");
        assert_eq!(read(&out.join("charts/members_annotated.svg")), "mine");
        assert!(!out.join("charts/gone.svg").exists());

        // A result without charts keeps the user's file and the folder that holds it.
        let st = Staging::new(&out, Kind::Run, false).unwrap();
        result(st.dir(), Kind::Run, &[("a.csv", "newer a")]);
        st.commit().unwrap();
        assert!(!out.join("charts/members.svg").exists());
        assert_eq!(read(&out.join("charts/members_annotated.svg")), "mine");

        // A chart of the same name as the user's file is refused, and nothing changes.
        let st = Staging::new(&out, Kind::Run, true).unwrap();
        result(st.dir(), Kind::Run, &[("a.csv", "newest a"), ("charts/members_annotated.svg", "drawn")]);
        let e = st.commit().unwrap_err().to_string();
        assert!(e.contains("charts/members_annotated.svg that coprosim did not write"), "{e}");
        assert_eq!(read(&out.join("charts/members_annotated.svg")), "mine");
        assert_eq!(read(&out.join("a.csv")), "newer a");
    }

    #[test]
    fn an_old_manifest_that_did_not_list_its_charts_still_owns_them() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        std::fs::create_dir_all(out.join("charts")).unwrap();
        std::fs::write(out.join("charts/members.svg"), "old").unwrap();
        std::fs::write(out.join("a.csv"), "old a").unwrap();
        std::fs::write(out.join(MANIFEST), r#"{"tool": "coprosim", "files": {"a.csv": "x"}}"#).unwrap();
        let st = Staging::new(&out, Kind::Run, false).unwrap();
        result(st.dir(), Kind::Run, &[("a.csv", "new a"), ("charts/retention.svg", "new")]);
        assert!(st.commit().unwrap().kept.is_empty());
        assert!(!out.join("charts/members.svg").exists());
        assert_eq!(read(&out.join("charts/retention.svg")), "new");
    }

    #[test]
    fn foreign_and_other_kind_manifests_are_refused_before_any_work() {
        let tmp = tempfile::tempdir().unwrap();
        let web = tmp.path().join("webapp");
        std::fs::create_dir(&web).unwrap();
        std::fs::write(web.join(MANIFEST), r#"{"name": "my app", "icons": []}"#).unwrap();
        for force in [false, true] {
            let e = Staging::new(&web, Kind::Run, force).unwrap_err().to_string();
            assert!(e.contains("coprosim did not write"), "{e}");
        }
        let sweep = tmp.path().join("sweep");
        std::fs::create_dir(&sweep).unwrap();
        result(&sweep, Kind::Sweep, &[("points.csv", "p")]);
        let e = Staging::new(&sweep, Kind::Run, false).unwrap_err().to_string();
        assert!(e.contains("holds a coprosim sweep result, not a run"), "{e}");
        assert!(Staging::new(&sweep, Kind::Run, true).is_ok());
    }

    #[test]
    fn force_never_overwrites_a_file_coprosim_did_not_write() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("mine");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("a.csv"), "the user's own").unwrap();
        assert!(matches!(Staging::new(&out, Kind::Run, false), Err(OutputError::NotOurs { .. })));
        // A clash with a name the result writes is found after the work (here a.csv) ...
        let st = Staging::new(&out, Kind::Run, true).unwrap();
        result(st.dir(), Kind::Run, &[("a.csv", "new")]);
        let e = st.commit().unwrap_err().to_string();
        assert!(e.contains("a.csv that coprosim did not write"), "{e}");
        assert_eq!(read(&out.join("a.csv")), "the user's own");
        assert_eq!(top_level(&out).unwrap().len(), 1, "the working folder is removed");
        // ... and with a name every run writes, before it; a user's charts/ is not the tool's.
        std::fs::create_dir(out.join(CHARTS)).unwrap();
        let e = Staging::new(&out, Kind::Run, true).unwrap_err().to_string();
        assert!(e.contains("it holds charts that coprosim did not write"), "{e}");
        assert!(out.join(CHARTS).is_dir());
    }

    #[test]
    fn a_new_directory_is_put_in_place_whole_and_links_are_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("new/deeper/.");
        let st = Staging::new(&out, Kind::Run, false).unwrap();
        result(st.dir(), Kind::Run, &[("a.csv", "a")]);
        st.commit().unwrap();
        assert_eq!(read(&tmp.path().join("new/deeper/a.csv")), "a");
        #[cfg(unix)]
        {
            let real = tmp.path().join("real");
            std::fs::create_dir(&real).unwrap();
            let link = tmp.path().join("link");
            std::os::unix::fs::symlink(&real, &link).unwrap();
            let st = Staging::new(&link, Kind::Run, false).unwrap();
            result(st.dir(), Kind::Run, &[("a.csv", "b")]);
            st.commit().unwrap();
            assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
            assert_eq!(read(&real.join("a.csv")), "b");
            let dangling = tmp.path().join("dangling");
            std::os::unix::fs::symlink(tmp.path().join("file/below"), &dangling).unwrap();
            std::fs::write(tmp.path().join("file"), "x").unwrap();
            assert!(Staging::new(&dangling, Kind::Run, false).unwrap_err().to_string().contains("symbolic link"));
        }
        std::fs::write(tmp.path().join("plain"), "x").unwrap();
        let e = Staging::new(&tmp.path().join("plain"), Kind::Run, false).unwrap_err().to_string();
        assert!(e.contains("it is a file, expected a directory"), "{e}");
    }

    #[test]
    fn a_staging_dropped_without_a_commit_leaves_nothing() {
        // (A stop request is process-wide, so refusing to commit after one is tested on real
        // processes in tests/reliability.rs.)
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("r");
        let st = Staging::new(&out, Kind::Run, false).unwrap();
        let work = st.dir().to_path_buf();
        drop(st);
        assert!(!work.exists() && !out.exists());
    }
}
