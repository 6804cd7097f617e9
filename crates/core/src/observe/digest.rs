//! One SHA-256 over every number a run reports, bit for bit.
//!
//! Why: the promise that a scenario and seed give the same results on x86-64, on ARM and in
//! WebAssembly is checked by comparing this digest across targets (`tests/wasm.rs`); any
//! float that differs in its last bit changes it.

use super::Results;
use super::stats::Summary;
use sha2::{Digest, Sha256};

struct Hasher(Sha256);

impl Hasher {
    fn f(&mut self, v: f64) {
        self.0.update(v.to_bits().to_le_bytes());
    }
    fn u(&mut self, v: u64) {
        self.0.update(v.to_le_bytes());
    }
    fn s(&mut self, v: &str) {
        self.u(v.len() as u64);
        self.0.update(v.as_bytes());
    }
    fn summary(&mut self, s: &Summary) {
        self.u(s.n as u64);
        for v in [s.mean, s.sd, s.p05, s.p50, s.p95] {
            self.f(v);
        }
    }
}

impl Results {
    /// SHA-256 (lowercase hex) of every reported number (series, retention, headline figures,
    /// Lorenz curve, each replication's values and yearly series) and of the diagnostics, in a fixed order.
    pub fn digest(&self) -> String {
        let mut h = Hasher(Sha256::new());
        for row in &self.series {
            h.u(row.tick as u64);
            h.s(&format!("{:?}", row.key));
            h.summary(&row.stats);
        }
        for row in &self.retention {
            h.s(row.curve);
            h.u(row.group.map_or(u64::MAX, |g| g as u64));
            h.u(row.tick as u64);
            for v in [row.estimate, row.ci_low, row.ci_high] {
                h.f(v);
            }
            h.summary(&row.band);
        }
        for row in &self.summary {
            h.s(&format!("{:?}", row.key));
            h.summary(&row.stats);
        }
        for (p, s) in &self.lorenz {
            h.f(*p);
            h.summary(s);
        }
        for rep in &self.replications {
            h.u(rep.len() as u64);
            for v in rep {
                h.f(*v);
            }
        }
        for rep in &self.yearly {
            h.u(rep.len() as u64);
            for v in rep {
                h.f(f64::from(*v));
            }
        }
        for d in &self.diagnostics {
            h.s(&d.kind);
            h.s(&d.message);
        }
        crate::text::hex(&h.0.finalize())
    }
}
