//! The baseline lands near MODEL.md's calibration targets: annual volunteer retention about
//! 65% (CPS volunteer supplement) and the top 10% of participants giving about half of all
//! hours (Statistics Canada CSGVP 2010: 53%). Checked as Monte Carlo intervals, not points.

use coprosim::engine::{self, RunConfig};
use coprosim::observe::stats::Domain;
use coprosim::scenario::Scenario;

#[test]
fn baseline_meets_calibration_targets() {
    let s = Scenario::baseline();
    let cfg = RunConfig { replications: 30, seed: s.simulation.seed, threads: 0 };
    let results = engine::run(&s, cfg, &|| {}).unwrap();
    let get = |metric: &str| {
        results
            .summary
            .iter()
            .find(|r| r.key.metric == metric && r.key.group.is_none() && r.key.coalition.is_none())
            .unwrap()
            .stats
    };
    let retention = get("annual_retention");
    let (lo, hi) = retention.ci95(Domain::Share);
    assert!(
        lo > 0.60 && hi < 0.70,
        "annual retention {:.3} (95% CI {lo:.3}-{hi:.3}) should be about 0.65",
        retention.mean
    );
    let top10 = get("top10_hours_share");
    let (lo, hi) = top10.ci95(Domain::Share);
    assert!(
        lo > 0.45 && hi < 0.60,
        "top-10% hours share {:.3} (95% CI {lo:.3}-{hi:.3}) should be about 0.53",
        top10.mean
    );
}
