//! Agent-ticks per second on the baseline scenario.
//!
//! `cargo bench --bench throughput`. Criterion reports throughput in elements per second,
//! where an element is one agent-tick. See docs/PERFORMANCE.md for recorded figures.

use coprosim::engine::{self, RunConfig};
use coprosim::input::Load;
use coprosim::observe::Catalogue;
use coprosim::scenario::Scenario;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

/// The baseline town under the second version's settings (docs/ODD.md, "Model versions"):
/// the third version's mechanisms at their neutral values, so its throughput can be compared
/// with the third version's in one run.
fn second_version() -> Scenario {
    let mut s = Scenario::baseline();
    let b = &mut s.behaviour;
    (b.life_event_rate, b.reconsider_weeks, b.friends_made, b.role_fit_sd, b.start_cost) = (0.0, 0.0, 0.0, 0.0, 0.0);
    (b.base_exit, b.aspiration_mean, b.join_max, b.hours_dispersion) = (0.31, -0.05, 0.18, 1.06);
    b.fairness_weight = 0.3;
    s.organisation.allocation_by_standing = 0.0;
    for g in &mut s.population.groups {
        g.spare_time = 1.0;
    }
    for c in &mut s.coalitions {
        c.purpose = coprosim::scenario::Purpose::General;
    }
    s
}

/// The baseline under the first version's settings (docs/ODD.md, "Model versions"), without
/// a burn-in: the reference the second version's throughput is compared with, in one run.
fn first_version() -> Scenario {
    let mut s = second_version();
    s.simulation.burn_in_years = 0;
    s.organisation.role_capacity = false;
    s.organisation.credentialed_roles = false;
    s.behaviour.expectation_noise = 0.0;
    s.behaviour.newcomer_exit_multiplier = 2.0;
    s.behaviour.lived_experience_role_payoff = 1.0;
    s.behaviour.aspiration_mean = 0.25;
    s.behaviour.base_exit = 0.22;
    s
}

/// One replication of `s` after another on this thread, counted in agent-ticks (the burn-in's
/// included).
fn one_replication(group: &mut criterion::BenchmarkGroup<criterion::measurement::WallTime>, name: &str, s: &Scenario) {
    let cat = Catalogue::new(s);
    group.throughput(Throughput::Elements(s.population.size as u64 * s.total_ticks() as u64));
    group.bench_function(name, |b| {
        let mut r = 0u32;
        b.iter(|| {
            r = r.wrapping_add(1);
            black_box(engine::run_replication(s, &cat, s.simulation.seed, r))
        })
    });
}

fn baseline(c: &mut Criterion) {
    let s = Scenario::baseline();
    // Every simulated tick counts, the burn-in's included.
    let agent_ticks = s.population.size as u64 * s.total_ticks() as u64;

    let mut group = c.benchmark_group("baseline");
    group.sample_size(20).measurement_time(Duration::from_secs(10));

    one_replication(&mut group, "one_replication_one_thread", &s);

    let replications = 16u32;
    group.throughput(Throughput::Elements(agent_ticks * replications as u64));
    group.bench_function("16_replications_all_threads", |b| {
        let cfg = RunConfig { replications, seed: s.simulation.seed, threads: 0 };
        b.iter(|| black_box(engine::run(&s, cfg, &|| {}).unwrap()))
    });
    one_replication(&mut group, "second_version_one_replication_one_thread", &second_version());
    one_replication(&mut group, "first_version_one_replication_one_thread", &first_version());
    group.finish();
}

/// Calibration simulations per second: a batch of 64 simulations of the 4-parameter baseline
/// calibration (`scenarios/calibration/baseline.toml`, parameters drawn from its priors), on
/// every core, as the sampler runs them. A calibration of `n` simulations takes about
/// `n / rate` seconds plus its posterior predictive simulations.
fn calibration(c: &mut Criterion) {
    use coprosim::inference::calibrate;
    use coprosim::inference::targets::Targets;
    use rand::SeedableRng;
    use rayon::prelude::*;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/calibration/baseline.toml");
    let t = Targets::load(&path).expect("the shipped targets file is valid");
    let cat = Catalogue::new(&t.base);
    let fitted = t.fitted();
    let batch = 64u64;
    let mut group = c.benchmark_group("calibration");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    group.throughput(Throughput::Elements(batch));
    group.bench_function("baseline_64_simulations_all_threads", |b| {
        let mut round = 0u64;
        b.iter(|| {
            round += 1;
            let out: Vec<Option<Vec<f64>>> = (0..batch)
                .into_par_iter()
                .map(|k| {
                    let mut rng = chacha20::ChaCha8Rng::seed_from_u64(round);
                    rng.set_stream(k);
                    let theta: Vec<f64> = t.priors.iter().map(|p| p.sample(&mut rng)).collect();
                    calibrate::simulate(&t, &cat, &theta, &mut rng, &fitted)
                })
                .collect();
            black_box(out)
        })
    });
    group.finish();
}

/// Warm starts: `scenarios/sweeps/austerity_depth.toml` (the baseline town, eight depths of a
/// cut in year 43, on common random numbers), two replications a point on all cores, with the
/// points sharing each replication's burn-in and first recorded years (warm) and each
/// simulating its own (cold). The same results; the ratio of the two is what sharing saves.
/// The end-to-end figure with 100 replications a point is measured with `coprosim sweep` and
/// `--cold` side by side (docs/PERFORMANCE.md).
fn warm_sweep(c: &mut Criterion) {
    use coprosim::engine::sweep;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps/austerity_depth.toml");
    let mut s = coprosim::engine::sweep::Sweep::load(&path).expect("the shipped sweep is valid");
    s.file.replications = 2;
    let plan = sweep::plan(&s);
    let outputs = s.outputs();
    let all: Vec<usize> = (0..plan.points.len()).collect();
    let mut group = c.benchmark_group("warm_sweep");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    for (name, share) in [
        ("austerity_depth_8_points_2_replications_warm", true),
        ("austerity_depth_8_points_2_replications_cold", false),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(sweep::run_batch_sharing(&s, &outputs, &plan, &all, share, &|| {})))
        });
    }
    group.finish();
}

/// Throughput as the town grows: the baseline's programmes and behaviour at 100,000 and
/// 1,000,000 residents, one year from founding (52 ticks, no burn-in; initialisation
/// included): one replication on one thread; one replication on all cores (its blocks of
/// agents decide in parallel, `coprosim_core::model::blocks`); and as many replications as
/// threads on all cores. Building the million-agent world alone is timed too. Peak memory is
/// measured outside Criterion: `/usr/bin/time -v coprosim run scenarios/scale/million.toml
/// --no-charts` (docs/PERFORMANCE.md).
fn scale(c: &mut Criterion) {
    let mut group = c.benchmark_group("scale");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a pool of one thread");
    for size in [100_000u32, 1_000_000] {
        let mut s = Scenario::baseline();
        (s.population.size, s.simulation.burn_in_years, s.simulation.years) = (size, 0, 1);
        let cat = Catalogue::new(&s);
        let agent_ticks = size as u64 * s.total_ticks() as u64;
        group.throughput(Throughput::Elements(agent_ticks));
        group.bench_function(format!("{size}_agents_one_replication_one_thread"), |b| {
            let mut r = 0u32;
            b.iter(|| {
                r = r.wrapping_add(1);
                one_thread.install(|| black_box(engine::run_replication(&s, &cat, s.simulation.seed, r)))
            })
        });
        group.bench_function(format!("{size}_agents_one_replication_all_threads"), |b| {
            let mut r = 0u32;
            b.iter(|| {
                r = r.wrapping_add(1);
                black_box(engine::run_replication(&s, &cat, s.simulation.seed, r))
            })
        });
        let threads = rayon::current_num_threads() as u32;
        group.throughput(Throughput::Elements(agent_ticks * threads as u64));
        group.bench_function(format!("{size}_agents_one_replication_per_thread_all_threads"), |b| {
            let cfg = RunConfig { replications: threads, seed: s.simulation.seed, threads: 0 };
            b.iter(|| black_box(engine::run(&s, cfg, &|| {}).unwrap()))
        });
    }
    let mut s = Scenario::baseline();
    (s.population.size, s.simulation.burn_in_years, s.simulation.years) = (1_000_000, 0, 1);
    group.throughput(Throughput::Elements(1_000_000));
    group.bench_function("1000000_agents_initialise", |b| {
        let mut r = 0u32;
        b.iter(|| {
            r = r.wrapping_add(1);
            black_box(coprosim::model::Model::new(&s, &mut engine::replication_rng(s.simulation.seed, r)))
        })
    });
    group.finish();
}

criterion_group!(benches, baseline, calibration, warm_sweep, scale);
criterion_main!(benches);
