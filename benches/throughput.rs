//! Agent-ticks per second on the baseline scenario.
//!
//! `cargo bench --bench throughput`. Criterion reports throughput in elements per second,
//! where an element is one agent-tick. See docs/PERFORMANCE.md for recorded figures.

use coprosim::engine::{self, RunConfig};
use coprosim::observe::Catalogue;
use coprosim::scenario::Scenario;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

fn baseline(c: &mut Criterion) {
    let s = Scenario::baseline();
    let agent_ticks = s.population.size as u64 * s.ticks() as u64;
    let cat = Catalogue::new(&s);

    let mut group = c.benchmark_group("baseline");
    group.sample_size(20).measurement_time(Duration::from_secs(10));

    group.throughput(Throughput::Elements(agent_ticks));
    group.bench_function("one_replication_one_thread", |b| {
        let mut r = 0u32;
        b.iter(|| {
            r = r.wrapping_add(1);
            black_box(engine::run_replication(&s, &cat, s.simulation.seed, r))
        })
    });

    let replications = 16u32;
    group.throughput(Throughput::Elements(agent_ticks * replications as u64));
    group.bench_function("16_replications_all_threads", |b| {
        let cfg = RunConfig { replications, seed: s.simulation.seed, threads: 0 };
        b.iter(|| black_box(engine::run(&s, cfg, &|| {}).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, baseline);
criterion_main!(benches);
