//! Parameter sweeps: designs, and points × replications in parallel, resumable and
//! shardable.
//!
//! Every point's result depends only on the sweep and the point's index: its scenario is the
//! base with the axis values applied, and its replications draw from ChaCha8 streams keyed by
//! a seed derived from (sweep seed, point index), or in a Sobol design from (sweep seed,
//! Saltelli block), shared by the block's rows (B's and the dummy's row from a second one when
//! the design has the dummy; [`Plan::seeds`]). Each completed point has a progress line
//! ([`line_for`]) with a SHA-256 of its content, which the command line appends to
//! `progress.jsonl`, so an interrupted sweep resumes by recomputing only what is missing, and
//! shards (`--shard K/N`, points with index ≡ K−1 mod N) can run anywhere and be merged. The
//! final files are a function of the sorted point results alone, so a straight run, a resumed
//! one and merged shards give the same bytes.

mod file;
pub use file::*;

use super::run_replication_or_stop;
use crate::observe::Catalogue;
use crate::observe::morris::morris_points;
use crate::observe::reading::reading;
use crate::observe::sensitivity::saltelli_points;
use crate::observe::stats::summarise;
use crate::scenario::Scenario;
use crate::scenario::keys::{Slot, slot};
use crate::scenario::outputs::OutputSpec;
use crate::stream::ChaCha8Rng;
use crate::text::sha256_hex;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// What the finished sweep needs to know about itself; stored in `sweep.json` so that
/// `merge` can finish a sharded sweep without the original files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepInfo {
    /// SHA-256 of the resolved sweep and base scenario.
    pub identity: String,
    /// Sweep name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Axis key paths.
    pub axes: Vec<String>,
    /// Output labels.
    pub outputs: Vec<String>,
    /// Human labels of the axes (the file's `label`, or made from the key path).
    #[serde(default)]
    pub axis_labels: Vec<String>,
    /// Human labels of the outputs.
    #[serde(default)]
    pub output_labels: Vec<String>,
    /// Labels of the whole trajectories recorded at every point (empty when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<String>,
    /// Human labels of the trajectories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series_labels: Vec<String>,
    /// The years (from founding) at which every trajectory is read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series_years: Vec<f64>,
    /// "grid", "latin_hypercube" or "sobol".
    pub design: String,
    /// Axis value counts of a grid (for the heatmap).
    pub grid_shape: Vec<usize>,
    /// Sobol base samples N (0 for other designs).
    pub sobol_base_samples: usize,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// Master seed.
    pub seed: u64,
    /// Replications per point.
    pub replications: u32,
    /// Points in the whole sweep.
    pub points: usize,
    /// This directory's shard (K, N), if sharded.
    pub shard: Option<(usize, usize)>,
    /// Coalitions of the base scenario (the range of `coalitions_surviving`); 0 in sweep
    /// descriptions written before it was recorded.
    #[serde(default)]
    pub coalitions: usize,
    /// Grid levels p of a Morris design (0 for other designs).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub morris_levels: usize,
    /// Each axis's (min, max) in a Sobol or Morris design, for the SALib problem; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bounds: Vec<(f64, f64)>,
    /// Whether a Sobol or Morris design has the dummy input (the replications' random stream)
    /// after its axes: a Sobol block's last row then runs A's parameters on B's streams; a
    /// Morris trajectory's points draw from a second seed once the dummy has moved.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dummy: bool,
    /// The choices of each axis that has them (text or true/false parameters), by axis; a
    /// point's value on such an axis is the choice's position. Empty when no axis has choices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Vec<String>>,
}

impl SweepInfo {
    /// The human label of axis `a` (its key path in a description written before labels).
    pub fn axis_label(&self, a: usize) -> &str {
        self.axis_labels.get(a).unwrap_or(&self.axes[a])
    }

    /// The human label of output `o` (its label in a description written before labels).
    pub fn output_label(&self, o: usize) -> &str {
        self.output_labels.get(o).unwrap_or(&self.outputs[o])
    }

    /// How a point's value on axis `axis` reads: the choice's text on an axis of choices, the
    /// number otherwise.
    pub fn value_text(&self, axis: usize, v: f64) -> String {
        match self.choices.get(axis).and_then(|c| c.get(v as usize)) {
            Some(text) => text.clone(),
            None => crate::text::num(v),
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The points of a sweep.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Axis values of each point, in point order.
    pub points: Vec<Vec<f64>>,
    /// Values per grid axis (empty for other designs).
    pub grid_shape: Vec<usize>,
    /// The seed each point's replications draw from, in point order.
    pub seeds: Vec<u64>,
}

/// One output's statistics at a point.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct OutputStat {
    /// Mean over replications (None when undefined in every replication).
    pub mean: Option<f64>,
    /// Sample standard deviation.
    pub sd: Option<f64>,
    /// Replications in which the output was defined.
    pub n: u32,
}

/// A finished point.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PointResult {
    /// Point index.
    pub index: usize,
    /// Axis values.
    pub values: Vec<f64>,
    /// Output statistics in output order.
    pub outputs: Vec<OutputStat>,
    /// Every replication's value of every output, replication by replication (the value of
    /// output `o` in replication `r` at `r * outputs + o`), None where undefined: the raw
    /// values behind `outputs`, for `replications.csv`. Required in a progress line, so a line
    /// written before it was kept is recomputed, not read as a point without values.
    pub replications: Vec<Option<f64>>,
    /// Statistics of every trajectory at every year, trajectory by trajectory (trajectory `k`
    /// at year `y` at `k * years + y`); empty when the sweep records none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<OutputStat>,
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of point `index`: every point gets its own, whatever else runs.
pub fn point_seed(seed: u64, index: usize) -> u64 {
    mix(seed ^ mix(index as u64 + 1))
}

/// The seed of point `index` of a grid or Latin hypercube: its own, or with common random
/// numbers point 0's.
fn common_or_own_seed(s: &Sweep, index: usize) -> u64 {
    point_seed(s.file.seed, if s.file.common_random_numbers { 0 } else { index })
}

/// The seed of the second set of random streams of Saltelli block `block`: B's, and the
/// dummy's row's.
fn b_stream_seed(seed: u64, block: usize) -> u64 {
    mix(point_seed(seed, block) ^ 0xb_57ea_0000)
}

/// The seeds of a Saltelli design's points. The rows of a block (A, B, A with one column of
/// B for each input) share their block's seed: common random numbers, so that the
/// differences the estimators take between A and each AB_i are the parameters' effects and
/// not replication noise (with a seed per row, an inert parameter scored a total-order index
/// of 0.2). With the dummy, the random stream is itself an input: B draws from a second seed,
/// and the dummy's row (A's parameters on B's streams) differs from A by replication noise
/// alone, so its indices are the noise floor.
fn saltelli_seeds(seed: u64, blocks: usize, inputs: usize, dummy: bool) -> Vec<u64> {
    let rows = inputs + 2;
    (0..blocks * rows)
        .map(|i| {
            let (block, row) = (i / rows, i % rows);
            if dummy && (row == 1 || row == rows - 1) { b_stream_seed(seed, block) } else { point_seed(seed, block) }
        })
        .collect()
}

/// Choose the sweep's points.
pub fn plan(s: &Sweep) -> Plan {
    let axes = &s.file.axes;
    let k = axes.len();
    let integer: Vec<bool> = axes.iter().map(|a| slot(&s.base, &a.key) == Ok(Slot::Integer)).collect();
    let scale = |unit: &[f64]| -> Vec<f64> {
        unit.iter()
            .zip(axes)
            .zip(&integer)
            .map(|((u, a), &int)| {
                let (lo, hi) = a.bounds().expect("validated");
                let v = lo + u * (hi - lo);
                if int { v.round() } else { v }
            })
            .collect()
    };
    match s.file.design.kind {
        DesignKind::Grid => {
            let values: Vec<Vec<f64>> = axes.iter().map(|a| a.grid_values()).collect();
            let mut points = vec![Vec::new()];
            for axis in &values {
                points = points.iter().flat_map(|p| axis.iter().map(move |v| [p.as_slice(), &[*v]].concat())).collect();
            }
            let seeds = (0..points.len()).map(|i| common_or_own_seed(s, i)).collect();
            Plan { points, grid_shape: values.iter().map(Vec::len).collect(), seeds }
        }
        DesignKind::LatinHypercube => {
            let n = s.file.design.points as usize;
            let mut rng = ChaCha8Rng::seed_from_u64(s.file.seed);
            rng.set_stream(0x1a7e_c0de);
            let mut columns: Vec<Vec<f64>> = Vec::with_capacity(k);
            for _ in 0..k {
                let mut strata: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    strata.swap(i, rng.random_range(0..=i));
                }
                columns.push(strata.iter().map(|&st| (st as f64 + rng.random::<f64>()) / n as f64).collect());
            }
            let points = (0..n).map(|j| scale(&columns.iter().map(|c| c[j]).collect::<Vec<_>>())).collect();
            Plan { points, grid_shape: Vec::new(), seeds: (0..n).map(|i| common_or_own_seed(s, i)).collect() }
        }
        DesignKind::Sobol => {
            let n = s.file.design.base_samples as usize;
            let inputs = s.design_inputs();
            // The dummy's column (the last) picks the random streams, not a parameter: `scale`
            // takes the axes' columns only.
            let points = saltelli_points(n, inputs, s.file.seed).iter().map(|u| scale(&u[..k])).collect();
            Plan { points, grid_shape: Vec::new(), seeds: saltelli_seeds(s.file.seed, n, inputs, s.has_dummy()) }
        }
        DesignKind::Morris => {
            let r = s.file.design.trajectories as usize;
            let inputs = s.design_inputs();
            let unit = morris_points(r, inputs, s.file.design.levels as usize, s.file.seed);
            // A trajectory's points share its seed (common random numbers, so that each step's
            // difference is the moved parameter's effect); once the dummy has moved they draw
            // from the trajectory's second seed, so the dummy's step is replication noise alone.
            let seeds = unit
                .iter()
                .enumerate()
                .map(|(i, u)| {
                    let t = i / (inputs + 1);
                    let moved = s.has_dummy() && u[inputs - 1] != unit[t * (inputs + 1)][inputs - 1];
                    if moved { b_stream_seed(s.file.seed, t) } else { point_seed(s.file.seed, t) }
                })
                .collect();
            Plan { points: unit.iter().map(|u| scale(&u[..k])).collect(), grid_shape: Vec::new(), seeds }
        }
    }
}

impl SweepInfo {
    /// Describe a sweep (and shard) for `sweep.json`.
    pub fn new(s: &Sweep, plan: &Plan, shard: Option<(usize, usize)>) -> SweepInfo {
        let design = match s.file.design.kind {
            DesignKind::Grid => "grid",
            DesignKind::LatinHypercube => "latin_hypercube",
            DesignKind::Sobol => "sobol",
            DesignKind::Morris => "morris",
        };
        SweepInfo {
            identity: s.identity(),
            name: s.file.name.clone(),
            description: s.file.description.clone(),
            axes: s.file.axes.iter().map(|a| a.key.clone()).collect(),
            outputs: s.outputs().iter().map(OutputSpec::label).collect(),
            axis_labels: s.axis_labels(),
            output_labels: s.outputs().iter().map(OutputSpec::human_label).collect(),
            series: s.trajectories().iter().map(OutputSpec::label).collect(),
            series_labels: s.trajectories().iter().map(OutputSpec::human_label).collect(),
            series_years: s.trajectory_years(),
            design: design.into(),
            grid_shape: plan.grid_shape.clone(),
            sobol_base_samples: if s.file.design.kind == DesignKind::Sobol {
                s.file.design.base_samples as usize
            } else {
                0
            },
            bootstrap: s.file.design.bootstrap as usize,
            seed: s.file.seed,
            replications: s.file.replications,
            points: plan.points.len(),
            shard,
            coalitions: s.base.coalitions.len(),
            morris_levels: if s.file.design.kind == DesignKind::Morris { s.file.design.levels as usize } else { 0 },
            dummy: s.has_dummy(),
            bounds: if matches!(s.file.design.kind, DesignKind::Sobol | DesignKind::Morris) {
                s.file.axes.iter().map(|a| a.bounds().expect("validated")).collect()
            } else {
                Vec::new()
            },
            choices: if s.file.axes.iter().any(|a| !a.choices.is_empty()) {
                s.file.axes.iter().map(|a| a.choice_names()).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Whether point `index` belongs to this directory's shard.
    pub fn owns(&self, index: usize) -> bool {
        self.shard.is_none_or(|(k, n)| index % n == k - 1)
    }

    /// Points this directory must hold.
    pub fn owned(&self) -> usize {
        (0..self.points).filter(|&i| self.owns(i)).count()
    }
}

/// The base with point `values` applied.
fn point_scenario(s: &Sweep, values: &[f64]) -> Scenario {
    let mut scenario: Scenario = s.base.clone();
    for (axis, v) in s.file.axes.iter().zip(values) {
        scenario = axis.apply(&scenario, *v).expect("every axis value was validated before running");
    }
    scenario
}

/// What a point reads from each replication: the outputs, then each trajectory at each of the
/// base's whole years (None where a reading is undefined for this point's catalogue).
fn readings(s: &Sweep, outputs: &[OutputSpec], cat: &Catalogue) -> Vec<Option<crate::observe::reading::OutputReading>> {
    // Validated against the base scenario; an axis that moves the clock (`simulation.years`)
    // can put a series' year outside a point's recorded period, where it is undefined.
    // Trajectories are read as outputs at each of the base's whole years, after the outputs.
    let years = s.trajectory_years();
    let mut wanted: Vec<_> = outputs.iter().map(|o| reading(o, cat).ok()).collect();
    for spec in s.trajectories() {
        wanted.extend(years.iter().map(|&y| reading(&OutputSpec { year: Some(y), ..spec.clone() }, cat).ok()));
    }
    wanted
}

/// A point's result from its replications' readings.
fn assemble(index: usize, values: &[f64], outputs: usize, per_rep: &[Vec<f64>]) -> PointResult {
    let o = outputs;
    let width = per_rep.first().map_or(o, Vec::len);
    let replications = per_rep.iter().flat_map(|rep| &rep[..o]).map(|&v| v.is_finite().then_some(v)).collect();
    let stat = |k: usize| {
        let mut v: Vec<f64> = per_rep.iter().map(|rep| rep[k]).collect();
        match summarise(&mut v) {
            Some(st) => OutputStat { mean: Some(st.mean), sd: Some(st.sd), n: st.n as u32 },
            None => OutputStat { mean: None, sd: None, n: 0 },
        }
    };
    PointResult {
        index,
        values: values.to_vec(),
        outputs: (0..o).map(stat).collect(),
        replications,
        series: (o..width).map(stat).collect(),
    }
}

/// Run one point: apply its axis values to the base and run its replications, drawing from
/// ChaCha8 streams of `seed`, in parallel.
/// None when a stop is requested before every replication finished.
pub fn run_point(s: &Sweep, outputs: &[OutputSpec], index: usize, values: &[f64], seed: u64) -> Option<PointResult> {
    let scenario = point_scenario(s, values);
    let cat = Catalogue::new(&scenario);
    let wanted = readings(s, outputs, &cat);
    let per_rep: Vec<Vec<f64>> = crate::par::map(0..s.file.replications as usize, |r| {
        let rec = run_replication_or_stop(&scenario, &cat, seed, r as u32)?;
        Some(wanted.iter().map(|w| w.map_or(f64::NAN, |w| w.read(&rec, &cat))).collect())
    })
    .into_iter()
    .collect::<Option<_>>()?;
    Some(assemble(index, values, outputs.len(), &per_rep))
}

/// Run points that share their history (the same seed and burn-in; [`super::warm::can_share`])
/// together: each replication's common history once, then each point from a copy of it
/// ([`super::warm::Arms`]). The same results as [`run_point`] for each, in the order given.
fn run_group(s: &Sweep, outputs: &[OutputSpec], points: &[(usize, &[f64])], seed: u64) -> Option<Vec<PointResult>> {
    let scenarios: Vec<Scenario> = points.iter().map(|(_, v)| point_scenario(s, v)).collect();
    let arms = super::warm::Arms::new(&scenarios).expect("grouped points share their history");
    let cat = |k: usize| arms.catalogue(k);
    let wanted: Vec<_> = (0..points.len()).map(|k| readings(s, outputs, cat(k))).collect();
    let per_rep: Vec<Vec<Vec<f64>>> = crate::par::map(0..s.file.replications as usize, |r| {
        let records = arms.run(seed, r as u32, &super::stop_requested)?;
        Some(
            records
                .iter()
                .zip(&wanted)
                .enumerate()
                .map(|(k, (rec, wanted))| wanted.iter().map(|w| w.map_or(f64::NAN, |w| w.read(rec, cat(k)))).collect())
                .collect(),
        )
    })
    .into_iter()
    .collect::<Option<_>>()?;
    Some(
        points
            .iter()
            .enumerate()
            .map(|(k, (index, values))| {
                let reps: Vec<Vec<f64>> = per_rep.iter().map(|rep| rep[k].clone()).collect();
                assemble(*index, values, outputs.len(), &reps)
            })
            .collect(),
    )
}

/// The JSON text of a progress line: the point and the sweep it belongs to, so that a line
/// copied from another sweep (or another seed) is never taken for one of this sweep's points.
#[derive(Serialize, Deserialize)]
struct ProgressLine<S, P> {
    sweep: S,
    seed: u64,
    point: P,
}

/// A progress line of `info`'s sweep: the SHA-256 of the JSON text, a space, and that exact text.
pub fn line_for(info: &SweepInfo, p: &PointResult) -> String {
    let line = ProgressLine { sweep: info.identity.as_str(), seed: info.seed, point: p };
    let body = serde_json::to_string(&line).expect("point serialises");
    format!("{} {body}", sha256_hex(body.as_bytes()))
}

/// The verified lines of a progress file.
#[derive(Debug, Default, PartialEq)]
pub struct Progress {
    /// Points of this sweep, in file order.
    pub points: Vec<PointResult>,
    /// Intact lines that belong to another sweep or seed, or to a version of coprosim whose
    /// lines carried no identity or no replication values: never used.
    pub foreign: usize,
}

/// The verified point results of `info`'s sweep in the text of a progress file. A line is
/// kept only if the SHA-256 of its JSON text, byte for byte, matches its recorded checksum (a
/// write cut short or an edited value is dropped and recomputed) and it names this sweep and
/// seed.
pub fn parse_progress(text: &str, info: &SweepInfo) -> Progress {
    let mut out = Progress::default();
    for (sum, body) in text.lines().filter_map(|l| l.split_once(' ')) {
        if sha256_hex(body.as_bytes()) != sum {
            continue;
        }
        match serde_json::from_str::<ProgressLine<String, PointResult>>(body) {
            Ok(l) if l.sweep == info.identity && l.seed == info.seed => out.points.push(l.point),
            _ => out.foreign += 1,
        }
    }
    out
}

/// The points `indices` of `plan`, computed in parallel and returned in the order given;
/// `on_point` is called as each completes. Points that a stop request cut short are left out.
/// Points that share their history (common random numbers and a burn-in their parameters do
/// not change) simulate it once per replication: warm starts, with the same results.
pub fn run_batch(
    s: &Sweep,
    outputs: &[OutputSpec],
    plan: &Plan,
    indices: &[usize],
    on_point: &(dyn Fn() + Sync),
) -> Vec<PointResult> {
    run_batch_sharing(s, outputs, plan, indices, true, on_point)
}

/// [`run_batch`], sharing points' common history only if `share` (false: every point simulates
/// its own, for checking that sharing changes nothing, and for timing it).
pub fn run_batch_sharing(
    s: &Sweep,
    outputs: &[OutputSpec],
    plan: &Plan,
    indices: &[usize],
    share: bool,
    on_point: &(dyn Fn() + Sync),
) -> Vec<PointResult> {
    let groups = if share { sharing_groups(s, plan, indices) } else { indices.iter().map(|&i| vec![i]).collect() };
    let mut done: Vec<PointResult> = crate::par::map_slice(&groups, |group| {
        if super::stop_requested() {
            return None;
        }
        let results = if let [i] = group[..] {
            vec![run_point(s, outputs, i, &plan.points[i], plan.seeds[i])?]
        } else {
            let points: Vec<(usize, &[f64])> = group.iter().map(|&i| (i, &plan.points[i][..])).collect();
            run_group(s, outputs, &points, plan.seeds[group[0]])?
        };
        for _ in &results {
            on_point();
        }
        Some(results)
    })
    .into_iter()
    .flatten()
    .flatten()
    .collect();
    let position: std::collections::HashMap<usize, usize> = indices.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    done.sort_by_key(|p| position[&p.index]);
    done
}

/// `indices` cut into groups of points that can share their history: the same seed, and
/// scenarios that [`super::warm::can_share`]. Groups keep the order of their first point.
fn sharing_groups(s: &Sweep, plan: &Plan, indices: &[usize]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_key: std::collections::HashMap<(u64, String, u32), usize> = std::collections::HashMap::new();
    for &i in indices {
        let scenario = point_scenario(s, &plan.points[i]);
        let key = (plan.seeds[i], super::warm::burn_in_identity(&scenario), scenario.total_ticks());
        let g = *by_key.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

/// Parse `K/N` (1 ≤ K ≤ N).
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let (k, n) = text.split_once('/').ok_or_else(|| format!("found \"{text}\", expected K/N, e.g. 2/8"))?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| format!("found \"{text}\", expected whole numbers K/N"))?,
        n.trim().parse().map_err(|_| format!("found \"{text}\", expected whole numbers K/N"))?,
    );
    if n == 0 || k == 0 || k > n {
        return Err(format!("found \"{text}\", expected 1 <= K <= N"));
    }
    Ok((k, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(design: &str, axes: &str) -> Sweep {
        let text = format!("name = \"t\"\nbase = \"baseline\"\nreplications = 2\nseed = 5\n[design]\n{design}\n{axes}");
        Sweep::parse(&text, "t.toml", &crate::scenario::base::no_files).unwrap()
    }

    const TWO_AXES: &str = "[[axes]]\nkey = \"coalitions[0].governance.voice\"\nvalues = [0.2, 0.8]\n[[axes]]\nkey = \"policy.performance_regime\"\nmin = 0\nmax = 1\nsteps = 3\n";

    #[test]
    fn grid_is_the_cartesian_product_first_axis_slowest() {
        let p = plan(&sweep("kind = \"grid\"", TWO_AXES));
        assert_eq!(p.points.len(), 6);
        assert_eq!(p.points[0], vec![0.2, 0.0]);
        assert_eq!(p.points[1], vec![0.2, 0.5]);
        assert_eq!(p.points[3], vec![0.8, 0.0]);
        assert_eq!(p.grid_shape, vec![2, 3]);
    }

    #[test]
    fn latin_hypercube_has_one_point_per_stratum() {
        let s = sweep(
            "kind = \"latin_hypercube\"\npoints = 10",
            TWO_AXES.replace("values = [0.2, 0.8]", "min = 0.0\nmax = 1.0").as_str(),
        );
        let p = plan(&s);
        assert_eq!(p.points.len(), 10);
        for axis in 0..2 {
            let mut strata: Vec<usize> = p.points.iter().map(|x| (x[axis] * 10.0).floor() as usize).collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_saltelli_block_shares_its_seeds_and_the_dummy_takes_bs() {
        let axes = TWO_AXES.replace("values = [0.2, 0.8]", "min = 0.2\nmax = 0.8").replace("steps = 3\n", "");
        let p = plan(&sweep("kind = \"sobol\"\nbase_samples = 4", &axes));
        // Blocks of A, B, AB_1, AB_2 and the dummy's row: A's parameters on B's streams.
        assert_eq!(p.points.len(), 4 * 5);
        for block in p.seeds.chunks(5).zip(p.points.chunks(5)) {
            let (seeds, points) = block;
            assert_eq!([seeds[2], seeds[3]], [seeds[0]; 2]);
            assert_eq!(seeds[4], seeds[1]);
            assert_ne!(seeds[0], seeds[1]);
            assert_eq!(points[4], points[0]);
            assert_eq!((points[2][0], points[2][1]), (points[1][0], points[0][1]));
        }
        assert_ne!(p.seeds[0], p.seeds[5], "each block draws anew");
        // Without the dummy every row of a block draws from one seed.
        let p = plan(&sweep("kind = \"sobol\"\nbase_samples = 4\ndummy = false", &axes));
        assert_eq!(p.points.len(), 4 * 4);
        assert!(p.seeds.chunks(4).all(|b| b.iter().all(|s| *s == b[0])));
    }

    #[test]
    fn point_seeds_are_distinct_and_stable() {
        let seeds: std::collections::HashSet<u64> = (0..1000).map(|i| point_seed(5, i)).collect();
        assert_eq!(seeds.len(), 1000);
        assert_eq!(point_seed(5, 17), point_seed(5, 17));
    }

    fn info(seed: u64) -> SweepInfo {
        let s = sweep("kind = \"grid\"", TWO_AXES);
        let mut info = SweepInfo::new(&s, &plan(&s), None);
        info.seed = seed;
        info
    }

    #[test]
    fn torn_progress_lines_are_dropped() {
        let info = info(5);
        let p = PointResult {
            index: 3,
            values: vec![0.5],
            outputs: vec![OutputStat { mean: Some(0.6), sd: Some(0.1), n: 2 }],
            replications: vec![Some(0.5), Some(0.7)],
            series: vec![],
        };
        let good = line_for(&info, &p);
        let tampered = good.replace("0.6", "0.7");
        assert_ne!(tampered, good);
        let torn = &good[..good.len() / 2];
        let text = format!("{good}\n{tampered}\n{torn}");
        assert_eq!(parse_progress(&text, &info), Progress { points: vec![p.clone()], foreign: 0 });
        // An intact line written before points kept their replications' values is recomputed.
        let body = good.split_once(' ').unwrap().1.replace(",\"replications\":[0.5,0.7]", "");
        let old = format!("{} {body}", sha256_hex(body.as_bytes()));
        assert_ne!(old, good);
        assert_eq!(parse_progress(&old, &info), Progress { points: vec![], foreign: 1 });
    }

    #[test]
    fn progress_lines_of_another_sweep_or_seed_are_foreign() {
        let (mine, other_seed) = (info(5), info(6));
        let mut other_sweep = info(5);
        other_sweep.identity = "0".repeat(64);
        let p = PointResult { index: 0, values: vec![0.2, 0.0], outputs: vec![], replications: vec![], series: vec![] };
        let text = [&mine, &other_seed, &other_sweep].map(|i| line_for(i, &p) + "\n").concat();
        assert_eq!(parse_progress(&text, &mine), Progress { points: vec![p], foreign: 2 });
    }

    #[test]
    fn progress_log_round_trips_floats_exactly() {
        // serde_json's default float parser can be off by one ULP; the log must not be.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let points: Vec<PointResult> = (0..2000)
            .map(|i| PointResult {
                index: i,
                values: vec![rng.random::<f64>(), rng.random::<f64>() * 1e5],
                outputs: vec![OutputStat { mean: Some(rng.random::<f64>() * 600.0), sd: Some(rng.random()), n: 3 }],
                replications: vec![Some(rng.random::<f64>()), None, Some(rng.random::<f64>() * 1e-300)],
                series: vec![OutputStat { mean: Some(rng.random::<f64>() * 40.0), sd: None, n: 1 }],
            })
            .collect();
        let info = info(3);
        let text: String = points.iter().map(|p| line_for(&info, p) + "\n").collect();
        assert_eq!(parse_progress(&text, &info).points, points);
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(parse_shard("2/8"), Ok((2, 8)));
        assert!(parse_shard("0/8").is_err() && parse_shard("9/8").is_err() && parse_shard("x").is_err());
    }
}
