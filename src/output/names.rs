//! The names of the files and folders a result writes, in one place: the commit rules need
//! them (which names a result of each kind may write) as much as the writers do, and neither
//! should have to ask the other.

/// The manifest that marks a directory as a coprosim result.
pub const MANIFEST: &str = "manifest.json";
/// The scenario a run simulated, every default filled in and every override applied: run it
/// to reproduce the result (its SHA-256 is the manifest's `resolved_sha256`).
pub const RESOLVED_SCENARIO: &str = "resolved_scenario.toml";
/// The per-replication file of a run, and of a sweep (every point's replications).
pub const REPLICATIONS: &str = "replications.csv";
/// A run's series by replication at each whole year of the recorded period.
pub const REPLICATION_SERIES: &str = "replication_series.csv";
/// The tool's own subfolder of charts; a chart is the result's when its manifest lists it.
pub const CHARTS: &str = "charts";
/// A run's explorer page.
pub const EXPLORER: &str = "explorer.html";
/// A run's agent snapshots (`run --agents`).
pub const AGENTS: &str = "agents.csv";
/// A run's event log (`run --events`).
pub const EVENTS: &str = "events.csv";
/// A run's membership spells (`run --events`).
pub const SPELLS: &str = "spells.csv";
/// The snapshots as Parquet (`run --parquet`).
pub const AGENTS_PARQUET: &str = "agents.parquet";
/// The event log as Parquet.
pub const EVENTS_PARQUET: &str = "events.parquet";
/// A run's first replication as a programme's roster (`run --roster`).
pub const ROSTER: &str = "roster.csv";
/// The spells as Parquet.
pub const SPELLS_PARQUET: &str = "spells.parquet";
/// A run's folder of warm states (`run --save-state`).
pub const WARM_DIR: &str = "warm";
/// A sweep's description.
pub const SWEEP_JSON: &str = "sweep.json";
/// A sweep's completed points, one checksummed JSON line each.
pub const PROGRESS: &str = "progress.jsonl";
/// A sweep's whole trajectories.
pub const SWEEP_SERIES: &str = "series.csv";
/// The folder of a Sobol or Morris sweep's export for SALib.
pub const SALIB: &str = "salib";
