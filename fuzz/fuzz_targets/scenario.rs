//! Any bytes given to the scenario parser and validator yield a scenario or an error, never a
//! panic; a scenario that validates also initialises and runs a few ticks without panicking
//! (scaled down so that each input stays fast).
#![no_main]
use coprosim_core::engine::replication_rng;
use coprosim_core::model::Model;
use coprosim_core::scenario::Scenario;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut s) = Scenario::parse(text, "fuzz.toml") else { return };
    s.population.size = s.population.size.min(300);
    s.population.network.mean_degree = s.population.network.mean_degree.min(20);
    for c in &mut s.coalitions {
        c.founders = c.founders.min(10);
    }
    if !s.problems().is_empty() {
        return;
    }
    let mut rng = replication_rng(s.simulation.seed, 0);
    let mut model = Model::new(&s, &mut rng);
    for _ in 0..s.ticks().min(30) {
        model.step(&mut rng);
    }
});
