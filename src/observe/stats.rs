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

impl Summary {
    /// Normal-approximation 95% interval of the mean.
    pub fn ci95(&self) -> (f64, f64) {
        let half = if self.n > 1 { 1.96 * self.sd / (self.n as f64).sqrt() } else { f64::NAN };
        (self.mean - half, self.mean + half)
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
