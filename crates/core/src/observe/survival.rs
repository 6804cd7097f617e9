//! Kaplan–Meier survival of membership spells, with censoring at the horizon.
//!
//! Spells are streamed into per-duration histograms of events and censorings, so memory is
//! proportional to the horizon, not to the number of spells.

/// Counts of spells ending (event) or censored at each duration in ticks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpellHistogram {
    /// Spells that ended in an exit after exactly `d` ticks.
    pub events: Vec<u64>,
    /// Spells still running (censored) after exactly `d` ticks.
    pub censored: Vec<u64>,
}

impl SpellHistogram {
    /// Empty histogram for durations `0..=max_duration`.
    pub fn new(max_duration: usize) -> Self {
        SpellHistogram { events: vec![0; max_duration + 1], censored: vec![0; max_duration + 1] }
    }

    /// Record one spell.
    #[inline]
    pub fn add(&mut self, duration: u32, exited: bool) {
        let d = (duration as usize).min(self.events.len() - 1);
        if exited { self.events[d] += 1 } else { self.censored[d] += 1 }
    }

    /// Add another histogram of the same length.
    pub fn merge(&mut self, other: &SpellHistogram) {
        for (a, b) in self.events.iter_mut().zip(&other.events) {
            *a += b;
        }
        for (a, b) in self.censored.iter_mut().zip(&other.censored) {
            *a += b;
        }
    }

    /// Number of spells recorded.
    pub fn spells(&self) -> u64 {
        self.events.iter().sum::<u64>() + self.censored.iter().sum::<u64>()
    }
}

/// One point of a Kaplan–Meier curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmPoint {
    /// Duration in ticks.
    pub duration: usize,
    /// Estimated probability a spell lasts beyond `duration`.
    pub survival: f64,
    /// Greenwood variance of the estimate.
    pub variance: f64,
    /// Spells at risk at `duration` (not ended or censored before it).
    pub at_risk: u64,
}

impl KmPoint {
    /// 95% interval of the survival on the log-log scale (Kalbfleisch and Prentice; R's
    /// `survfit(conf.type = "log-log")`): `S^exp(±1.96 σ / |ln S|)` with `σ²` Greenwood's
    /// sum. It always lies in [0, 1]; at `S` = 0 or 1 it is that point.
    pub fn ci95(&self) -> (f64, f64) {
        let s = self.survival;
        if s <= 0.0 || s >= 1.0 {
            return (s, s);
        }
        let sigma = (self.variance / (s * s)).sqrt();
        let w = libm::exp(1.96 * sigma / libm::log(s).abs());
        (libm::pow(s, w), libm::pow(s, 1.0 / w))
    }
}

/// Kaplan–Meier estimate at every duration: `S(d) = prod_{j <= d} (1 - e_j / n_j)`, with
/// Greenwood's variance `S(d)^2 sum_{j <= d} e_j / (n_j (n_j - e_j))`. Censored spells leave the
/// risk set after their duration (the usual convention: censoring after events at ties).
pub fn kaplan_meier(h: &SpellHistogram) -> Vec<KmPoint> {
    let mut at_risk: u64 = h.spells();
    let mut s = 1.0;
    let mut greenwood = 0.0;
    let mut out = Vec::with_capacity(h.events.len());
    for d in 0..h.events.len() {
        let e = h.events[d];
        let n = at_risk;
        if n > 0 && e > 0 {
            s *= 1.0 - e as f64 / n as f64;
            if n > e {
                greenwood += e as f64 / (n as f64 * (n - e) as f64);
            }
        }
        out.push(KmPoint { duration: d, survival: s, variance: s * s * greenwood, at_risk: n });
        at_risk -= e + h.censored[d];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_example_with_censoring() {
        // Durations 2, 3+, 3, 5, 5+, 6 (+ = censored). By hand:
        // d=2: n=6, e=1 -> S = 5/6
        // d=3: n=5, e=1 (the censored 3 leaves after) -> S = 5/6 * 4/5 = 2/3
        // d=5: n=3, e=1 -> S = 2/3 * 2/3 = 4/9
        // d=6: n=1, e=1 -> S = 0
        let mut h = SpellHistogram::new(8);
        for (d, exited) in [(2, true), (3, false), (3, true), (5, true), (5, false), (6, true)] {
            h.add(d, exited);
        }
        let km = kaplan_meier(&h);
        let s: Vec<f64> = km.iter().map(|p| p.survival).collect();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(s[1], 1.0));
        assert!(close(s[2], 5.0 / 6.0));
        assert!(close(s[3], 2.0 / 3.0));
        assert!(close(s[4], 2.0 / 3.0));
        assert!(close(s[5], 4.0 / 9.0));
        assert!(close(s[6], 0.0));
        assert_eq!(km[3].at_risk, 5);
        assert_eq!(km[5].at_risk, 3);
        // Greenwood at d=3: S^2 * (1/(6*5) + 1/(5*4)) = 4/9 * (1/30 + 1/20)
        assert!(close(km[3].variance, 4.0 / 9.0 * (1.0 / 30.0 + 1.0 / 20.0)));
        // Log-log interval at d=3, computed independently (Python, math module):
        // s=2/3; v=1/30+1/20; w=exp(1.96*sqrt(v)/abs(log(s))); (s**w, s**(1/w))
        // = (0.194608..., 0.904436...). The plain Greenwood interval would reach 1.0439.
        let (lo, hi) = km[3].ci95();
        assert!((lo - 0.194_608).abs() < 1e-5 && (hi - 0.904_436).abs() < 1e-5, "{lo} {hi}");
        assert_eq!(km[6].ci95(), (0.0, 0.0));
        assert_eq!(km[1].ci95(), (1.0, 1.0));
    }

    #[test]
    fn all_censored_keeps_survival_at_one() {
        let mut h = SpellHistogram::new(3);
        h.add(1, false);
        h.add(3, false);
        assert!(kaplan_meier(&h).iter().all(|p| p.survival == 1.0));
    }
}
