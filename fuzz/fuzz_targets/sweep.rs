//! Any bytes given to the sweep-file parser and validator yield a sweep or an error, never a
//! panic; a valid sweep also plans its points.
#![no_main]
use coprosim_core::engine::sweep::{Sweep, plan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(s) = Sweep::parse(text, "fuzz.toml", &coprosim_core::scenario::base::no_files)
        && s.design_points().is_some_and(|n| n <= 100_000)
    {
        let _ = plan(&s);
    }
});
