//! One writer at a time per output directory, and the cleaning up after writers that were
//! killed.
//!
//! A command that writes a result first takes the directory's *writer lock*: an advisory lock
//! on a hidden file beside the directory (`.NAME.coprosim-writer`, or inside it when the parent
//! cannot be written). A second writer waits, saying which process holds the directory, and
//! goes on when that one finishes; Ctrl-C stops the wait. The lock file names its holder
//! (process, host, start, command) and is removed when the holder finishes.
//!
//! While the lock is held no other coprosim process can be writing there, so the temporary
//! working folders (`partial-PID`) found then belong to writers that were killed (SIGKILL, a
//! power cut): they are removed. Resumable working folders (an interrupted sweep or
//! calibration) are kept for their rerun.
//!
//! Why beside and not inside: a result is first built beside a directory that does not exist
//! yet and renamed into place, and an interrupted run must leave no directory behind.

use super::{OutputError, io};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Suffix of the lock file's name.
const LOCK_SUFFIX: &str = "coprosim-writer";
/// Marker of a temporary working folder's name (see [`super::commit::Staging::new`]).
const PARTIAL: &str = ".coprosim-partial-";

/// Lock files held by this process, removed by [`release_all`] when it quits at once.
static HELD: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The writer lock of one output directory, released (and its file removed) when dropped.
#[derive(Debug)]
pub struct WriterLock {
    file: Option<File>,
    path: PathBuf,
    /// Working folders of killed writers that were removed on taking the lock.
    pub cleaned: Vec<PathBuf>,
}

/// Who holds a lock, as written into its file.
fn holder_line() -> String {
    let host = Some(host()).filter(|h| !h.is_empty()).unwrap_or_else(|| "this host".into());
    let started = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let command: Vec<String> = std::env::args().collect();
    format!(
        "process {} on {host}, started at unix time {started}, running `{}`\n",
        std::process::id(),
        command.join(" ")
    )
}

/// Where the lock file of `target` (an absolute, resolved output directory) goes: beside it,
/// or inside it when its parent cannot take a file.
fn lock_path(target: &Path) -> (PathBuf, Option<PathBuf>) {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let beside = target.parent().map(|p| p.join(format!(".{name}.{LOCK_SUFFIX}")));
    let inside = target.join(format!(".{LOCK_SUFFIX}"));
    match beside {
        Some(b) => (b, Some(inside)),
        None => (inside, None),
    }
}

/// Take the writer lock of the output directory `target` (resolved by
/// [`super::commit::resolve`]), waiting while another process holds it. `waiting` is called
/// once, with a description of the holder, if the lock is busy. Returns an interruption
/// error when a stop is requested during the wait.
pub fn lock(target: &Path, waiting: &dyn Fn(&str)) -> Result<WriterLock, OutputError> {
    let shown = target.display().to_string();
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| OutputError::Unusable {
            path: shown.clone(),
            reason: format!("cannot create {}: {e}", parent.display()),
        })?;
    }
    let (first, fallback) = lock_path(target);
    let open = |p: &Path| OpenOptions::new().create(true).truncate(false).read(true).write(true).open(p);
    let mut told = false;
    loop {
        let (path, mut file) = match open(&first) {
            Ok(f) => (first.clone(), f),
            Err(e) => {
                let cannot = |e: std::io::Error| OutputError::Unusable {
                    path: shown.clone(),
                    reason: format!("cannot write there: {e}"),
                };
                match &fallback {
                    Some(inside) if target.is_dir() => (inside.clone(), open(inside).map_err(cannot)?),
                    _ => return Err(cannot(e)),
                }
            }
        };
        match file.try_lock() {
            Ok(()) => {}
            // A file system without locks (some network mounts; NFS without its lock daemon
            // says ENOLCK): write unguarded, as before, and clean nothing up.
            Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported || no_locks(&e) => {
                return Ok(WriterLock { file: None, path, cleaned: Vec::new() });
            }
            Err(TryLockError::Error(e)) => return Err(io(&path)(e)),
            Err(TryLockError::WouldBlock) => {
                if !told {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    waiting(if holder.is_empty() { "another coprosim process" } else { holder });
                    told = true;
                }
                if crate::stop::requested() {
                    return Err(OutputError::Interrupted { path: shown });
                }
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        }
        // The holder before us removed the file as it finished: this lock is on a file no
        // longer at `path`, which a newcomer may have made anew and locked. Start again.
        if !same_file(&file, &path) {
            continue;
        }
        file.set_len(0).map_err(io(&path))?;
        file.rewind().map_err(io(&path))?;
        file.write_all(holder_line().as_bytes()).map_err(io(&path))?;
        HELD.lock().unwrap_or_else(|e| e.into_inner()).push(path.clone());
        let cleaned = remove_abandoned(target);
        return Ok(WriterLock { file: Some(file), path, cleaned });
    }
}

/// ENOLCK: the file system cannot lock (NFS without lockd).
fn no_locks(e: &std::io::Error) -> bool {
    cfg!(target_os = "linux") && e.raw_os_error() == Some(37)
}

/// The host name, as recorded in lock files and working folders.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
}

/// Name of the marker a working folder holds: the host of the process that made it.
pub const HOST_MARKER: &str = ".coprosim-host";

/// Whether the working folder `dir` of process `pid` was surely left by a process that is
/// gone: made on this host (its marker says so) and no process `pid` running here. Where
/// that cannot be known (no `/proc`, another host, a view of the folder through another
/// mount), it is kept: a live writer's folder must never be removed, even by a lock that
/// another view of the same directory does not share.
fn abandoned(dir: &Path, pid: &str) -> bool {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return false;
    }
    let made_here = std::fs::read_to_string(dir.join(HOST_MARKER)).is_ok_and(|h| h.trim() == host());
    made_here && !proc.join(pid).exists()
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// Remove the temporary working folders of killed writers, beside `target` and inside it.
/// Called with the writer lock held, and each folder checked to be of a process of this host
/// that is gone ([`abandoned`]), so no live writer's folder is removed.
fn remove_abandoned(target: &Path) -> Vec<PathBuf> {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let beside_prefix = format!(".{name}{PARTIAL}");
    let mut out = Vec::new();
    let mut sweep = |dir: &Path, prefix: &str| {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let n = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = n.strip_prefix(prefix) else { continue };
            let ours = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
            if ours
                && entry.path().is_dir()
                && abandoned(&entry.path(), pid)
                && std::fs::remove_dir_all(entry.path()).is_ok()
            {
                out.push(entry.path());
            }
        }
    };
    if let Some(parent) = target.parent() {
        sweep(parent, &beside_prefix);
    }
    sweep(target, PARTIAL);
    out
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            // Removed while still held, so that a waiter that then locks the old file sees
            // that it is gone and starts again on a new one.
            let _ = std::fs::remove_file(&self.path);
            HELD.lock().unwrap_or_else(|e| e.into_inner()).retain(|p| p != &self.path);
            drop(file);
        }
    }
}

/// Remove this process's lock files (a second Ctrl-C, just before exiting: no destructor
/// runs then). The locks themselves end with the process.
pub fn release_all() {
    for path in HELD.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_file_is_removed_on_release_and_stale_working_folders_are_cleaned() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        std::fs::create_dir(&target).unwrap();
        // PIDs above Linux's largest (2^22) never belong to a running process.
        let killed_beside = tmp.path().join(".out.coprosim-partial-4999998");
        let killed_inside = target.join(".coprosim-partial-4999997");
        let resumable = target.join(".coprosim-sweep-0123456789abcdef");
        let other = tmp.path().join(".other.coprosim-partial-99");
        for d in [&killed_beside, &killed_inside, &resumable, &other] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join(HOST_MARKER), host()).unwrap();
        }
        // A folder of a live process (this one) and one made on another host are kept.
        let live = tmp.path().join(format!(".out.coprosim-partial-{}", std::process::id()));
        let elsewhere = target.join(".coprosim-partial-4999996");
        std::fs::create_dir(&live).unwrap();
        std::fs::write(live.join(HOST_MARKER), host()).unwrap();
        std::fs::create_dir(&elsewhere).unwrap();
        std::fs::write(elsewhere.join(HOST_MARKER), "another-host").unwrap();
        let lock = lock(&target, &|_| panic!("nobody else holds it")).unwrap();
        let lock_file = tmp.path().join(".out.coprosim-writer");
        assert!(std::fs::read_to_string(&lock_file).unwrap().contains(&format!("process {}", std::process::id())));
        let mut cleaned = lock.cleaned.clone();
        cleaned.sort();
        assert_eq!(cleaned, vec![killed_beside.clone(), killed_inside.clone()]);
        assert!(resumable.exists() && other.exists(), "resumable work and other outputs' folders are kept");
        assert!(live.exists() && elsewhere.exists(), "a live process's and another host's folders are kept");
        drop(lock);
        assert!(!lock_file.exists());
    }

    #[test]
    fn a_second_writer_waits_and_is_told_who_holds_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        let first = lock(&target, &|_| panic!("free")).unwrap();
        let target2 = target.clone();
        let told = std::sync::Arc::new(Mutex::new(String::new()));
        let told2 = told.clone();
        let second = std::thread::spawn(move || {
            let l = lock(&target2, &|who| *told2.lock().unwrap() = who.to_string()).unwrap();
            drop(l);
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(!second.is_finished(), "the second writer waits");
        drop(first);
        second.join().unwrap();
        assert!(told.lock().unwrap().contains(&format!("process {}", std::process::id())), "{}", told.lock().unwrap());
    }
}
