//! Blocks of a calibration's attempts computed apart from it (`calibrate --block`, one per
//! Slurm array task) and read back by the calibration that accepts them in attempt order
//! (`calibrate --blocks`, the merge step).
//!
//! A block is attempts `first..first + count` of generation `g`. Its file is one line, the
//! SHA-256 of a JSON text and that text, as the generations log writes a generation. The text
//! names the calibration, the tool's version and the *basis*: the SHA-256 of the log lines of
//! generations `0..g`, which the attempts were proposed from. A block is used only when all
//! of them match and the checksum holds, so a generation never mixes attempts computed from
//! two different pasts; anything else is treated as not there (and recomputed by a rerun).

use super::calibration::CalibrationInfo;
pub use super::calibration::{Attempts, basis, decode, encode};
use super::{OutputError, io, write_atomic};
use crate::inference::abc::{Generation, Particle};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The folder of `info`'s blocks of generation `g` inside `blocks`.
fn folder(blocks: &Path, info: &CalibrationInfo, g: usize) -> PathBuf {
    blocks.join(format!("calibration-{}", &info.identity[..16])).join(format!("generation-{g:03}"))
}

fn file_name(first: u64, count: usize) -> String {
    format!("attempts-{first:012}-{count}.jsonl")
}

/// Where the block of attempts `first..first + count` of generation `g` is kept.
pub fn path(blocks: &Path, info: &CalibrationInfo, g: usize, first: u64, count: usize) -> PathBuf {
    folder(blocks, info, g).join(file_name(first, count))
}

/// Save a block of attempts of the generation after `before`, atomically (a task killed while
/// writing leaves no block). Returns its path.
pub fn save(
    blocks: &Path,
    info: &CalibrationInfo,
    before: &[Generation],
    first: u64,
    attempts: &[Option<Particle>],
) -> Result<PathBuf, OutputError> {
    let dir = folder(blocks, info, before.len());
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    write_atomic(&dir, &file_name(first, attempts.len()), encode(info, before, first, attempts).as_bytes())
}

/// The block at `path` if it is a verified block of `info`'s generation after `before` that
/// starts at `first` and holds `count` attempts.
pub fn read(path: &Path, info: &CalibrationInfo, before: &[Generation], first: u64, count: usize) -> Option<Attempts> {
    let text = std::fs::read_to_string(path).ok()?;
    decode(&text, info, before.len(), &basis(info, before))
        .filter(|(f, a)| *f == first && a.len() == count)
        .map(|(_, a)| a)
}

/// Where a merge finds its blocks.
#[derive(Debug)]
enum Source {
    /// Files in a folder (`calibrate --blocks DIR`).
    Folder(PathBuf),
    /// Blocks' texts handed over in memory (the Python package's executors).
    Texts(Vec<String>),
}

/// The blocks a merge reads, generation by generation: each batch of attempts the sampler asks
/// for is cut from a verified block that covers it.
#[derive(Debug)]
pub struct Blocks<'a> {
    source: Source,
    info: &'a CalibrationInfo,
    /// The generation whose blocks are loaded, and its verified blocks by first attempt.
    loaded: Option<(usize, BTreeMap<u64, Attempts>)>,
    /// Block files present but refused (another past, another version, damaged), for the user.
    pub refused: Vec<PathBuf>,
}

impl<'a> Blocks<'a> {
    /// The blocks of `info`'s calibration kept in `dir`.
    pub fn new(dir: &Path, info: &'a CalibrationInfo) -> Blocks<'a> {
        Blocks { source: Source::Folder(dir.to_path_buf()), info, loaded: None, refused: Vec::new() }
    }

    /// Blocks given as their texts ([`encode`]); those of other generations or pasts are not used.
    pub fn of_texts(texts: Vec<String>, info: &'a CalibrationInfo) -> Blocks<'a> {
        Blocks { source: Source::Texts(texts), info, loaded: None, refused: Vec::new() }
    }

    /// Attempts `first..first + count` of the generation after `before`, if a verified block
    /// holds them all.
    pub fn batch(&mut self, before: &[Generation], first: u64, count: usize) -> Option<Attempts> {
        let g = before.len();
        if self.loaded.as_ref().is_none_or(|(loaded, _)| *loaded != g) {
            self.loaded = Some((g, self.load(before)));
        }
        let (_, blocks) = self.loaded.as_ref().expect("just loaded");
        let (&start, block) =
            blocks.range(..=first).rev().find(|&(&start, block)| (first - start) as usize + count <= block.len())?;
        let offset = (first - start) as usize;
        Some(block[offset..offset + count].to_vec())
    }

    /// Every verified block of the generation after `before`.
    fn load(&mut self, before: &[Generation]) -> BTreeMap<u64, Attempts> {
        let g = before.len();
        let basis = basis(self.info, before);
        let mut out = BTreeMap::new();
        let mut keep = |first: u64, block: Attempts| {
            // Of two blocks that start together, the longer covers more.
            if out.get(&first).is_none_or(|b: &Attempts| b.len() < block.len()) {
                out.insert(first, block);
            }
        };
        match &self.source {
            Source::Texts(texts) => {
                for (first, block) in texts.iter().filter_map(|t| decode(t, self.info, g, &basis)) {
                    keep(first, block);
                }
            }
            Source::Folder(dir) => {
                let folder = folder(dir, self.info, g);
                let Ok(entries) = std::fs::read_dir(&folder) else { return out };
                let mut names: Vec<String> =
                    entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
                names.sort();
                for name in names {
                    let Some((first, count)) = name
                        .strip_prefix("attempts-")
                        .and_then(|n| n.strip_suffix(".jsonl"))
                        .and_then(|n| n.split_once('-'))
                        .and_then(|(f, c)| Some((f.parse::<u64>().ok()?, c.parse::<usize>().ok()?)))
                    else {
                        continue;
                    };
                    let path = folder.join(&name);
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    match decode(&text, self.info, g, &basis).filter(|(f, a)| *f == first && a.len() == count) {
                        Some((first, block)) => keep(first, block),
                        None => self.refused.push(path),
                    }
                }
            }
        }
        out
    }
}
