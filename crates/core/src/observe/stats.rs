//! Cross-replication statistics, always reduced in replication order.

/// Mean, spread and percentiles of one quantity across replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Replications with a finite value.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1).
    pub sd: f64,
    /// 5th percentile.
    pub p05: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// The values a quantity can take, which its intervals must respect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Domain {
    /// A share or probability, in [0, 1].
    Share,
    /// A count with a known maximum, in [0, max] (coalitions surviving, of so many).
    UpTo(f64),
    /// A count or a ratio of counts, at least 0.
    NonNegative,
    /// Any real number.
    Real,
}

/// The 95% interval of a mean of `n` values with sample sd `sd`, on a scale that keeps it in
/// `domain`: the normal interval `mean ± 1.96 sd / √n` on the logit scale for shares (and for
/// counts up to a maximum, as shares of it) and on the log scale for non-negative quantities
/// (the delta method), back-transformed. A mean on
/// the domain's edge can only come from values all on that edge: its interval is that point.
/// NaN when fewer than two values.
pub fn mean_interval(mean: f64, sd: f64, n: usize, domain: Domain) -> (f64, f64) {
    if n < 2 || !mean.is_finite() || !sd.is_finite() {
        return (f64::NAN, f64::NAN);
    }
    let se = sd / (n as f64).sqrt();
    match domain {
        Domain::Real => (mean - 1.96 * se, mean + 1.96 * se),
        Domain::UpTo(max) if max > 0.0 => {
            let (lo, hi) = mean_interval(mean / max, sd / max, n, Domain::Share);
            (lo * max, hi * max)
        }
        Domain::UpTo(_) => (0.0, 0.0),
        Domain::NonNegative if mean <= 0.0 => (0.0, 0.0),
        Domain::NonNegative => {
            let w = libm::exp(1.96 * se / mean);
            (mean / w, mean * w)
        }
        Domain::Share if mean <= 0.0 || mean >= 1.0 => (mean.clamp(0.0, 1.0), mean.clamp(0.0, 1.0)),
        Domain::Share => {
            let logit = libm::log(mean / (1.0 - mean));
            let half = 1.96 * se / (mean * (1.0 - mean));
            let expit = |x: f64| 1.0 / (1.0 + libm::exp(-x));
            (expit(logit - half), expit(logit + half))
        }
    }
}

impl Summary {
    /// 95% interval of the mean within `domain` (see [`mean_interval`]).
    pub fn ci95(&self, domain: Domain) -> (f64, f64) {
        mean_interval(self.mean, self.sd, self.n, domain)
    }
}

/// Summarise the finite values (NaN marks "not defined in this replication"); `None` if none.
/// `values` is reordered (sorted) in place.
pub fn summarise(values: &mut Vec<f64>) -> Option<Summary> {
    values.retain(|v| v.is_finite());
    let n = values.len();
    if n == 0 {
        return None;
    }
    // Sum in the given (replication) order before sorting, so the mean never depends on threads.
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 { (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() } else { 0.0 };
    values.sort_by(f64::total_cmp);
    Some(Summary { n, mean, sd, p05: quantile(values, 0.05), p50: quantile(values, 0.5), p95: quantile(values, 0.95) })
}

/// Quantile of sorted values by linear interpolation (Hyndman and Fan type 7, R's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_stay_in_their_domain_and_are_normal_near_the_middle() {
        // A share near 0 with a wide spread: the normal interval would go below 0.
        let (lo, hi) = mean_interval(0.02, 0.1, 4, Domain::Share);
        assert!(0.0 < lo && lo < 0.02 && 0.02 < hi && hi < 1.0, "{lo} {hi}");
        let (lo, hi) = mean_interval(0.98, 0.1, 4, Domain::Share);
        assert!(0.0 < lo && hi < 1.0 && lo < 0.98 && 0.98 < hi, "{lo} {hi}");
        // A count of 0.5 members with sd 1: the normal interval reaches -0.48.
        let (lo, hi) = mean_interval(0.5, 1.0, 4, Domain::NonNegative);
        assert!(lo > 0.0 && lo < 0.5 && hi > 0.5, "{lo} {hi}");
        assert_eq!(mean_interval(0.0, 0.0, 10, Domain::NonNegative), (0.0, 0.0));
        // 0.9 of one coalition surviving, sd 0.3 over 20 replications: below 1, not 1.03.
        let (lo, hi) = mean_interval(0.9, 0.3, 20, Domain::UpTo(1.0));
        assert!(lo > 0.5 && hi < 1.0, "{lo} {hi}");
        let (lo2, hi2) = mean_interval(1.8, 0.6, 20, Domain::UpTo(2.0));
        assert!((lo2 - 2.0 * lo).abs() < 1e-12 && (hi2 - 2.0 * hi).abs() < 1e-12);
        assert_eq!(mean_interval(1.0, 0.0, 10, Domain::Share), (1.0, 1.0));
        // Near the middle with a small standard error the scales agree with the normal one.
        let (lo, hi) = mean_interval(0.5, 0.05, 100, Domain::Share);
        let (nlo, nhi) = mean_interval(0.5, 0.05, 100, Domain::Real);
        assert!((lo - nlo).abs() < 1e-5 && (hi - nhi).abs() < 1e-5);
        assert!(mean_interval(0.5, 0.1, 1, Domain::Share).0.is_nan());
    }

    #[test]
    fn summary_matches_hand_computation() {
        let mut v = vec![4.0, 1.0, f64::NAN, 3.0, 2.0];
        let s = summarise(&mut v).unwrap();
        assert_eq!(s.n, 4);
        assert_eq!(s.mean, 2.5);
        assert!((s.sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((s.p05 - 1.15).abs() < 1e-12);
        assert_eq!(s.p50, 2.5);
        assert!((s.p95 - 3.85).abs() < 1e-12);
        assert!(summarise(&mut vec![f64::NAN]).is_none());
    }
}
