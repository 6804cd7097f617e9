//! Participation inequality: Gini of hours contributed and the share given by the top 10%.

/// Gini coefficient of non-negative values (0 = equal, towards 1 = concentrated).
/// Sorts a copy; returns 0 for fewer than two values or a zero total.
pub fn gini(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let total: f64 = v.iter().sum();
    if n < 2 || total <= 0.0 {
        return 0.0;
    }
    // G = sum_i (2i - n - 1) x_(i) / (n sum x), i = 1..n over ascending order.
    let weighted: f64 = v.iter().enumerate().map(|(i, x)| (2.0 * (i as f64 + 1.0) - n as f64 - 1.0) * x).sum();
    weighted / (n as f64 * total)
}

/// Share of the total given by the top `fraction` of contributors (at least one contributor).
pub fn top_share(values: &[f64], fraction: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = v.iter().sum();
    if v.is_empty() || total <= 0.0 {
        return 0.0;
    }
    let k = ((v.len() as f64 * fraction).ceil() as usize).clamp(1, v.len());
    v[..k].iter().sum::<f64>() / total
}

/// Points of the Lorenz curve on the grid `p = 0, 1/k, …, 1`: the share of the total held by
/// the bottom share `p` of contributors, interpolating linearly between contributors.
pub fn lorenz(values: &[f64], k: usize) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let total: f64 = v.iter().sum();
    let n = v.len();
    if n == 0 || total <= 0.0 {
        return (0..=k).map(|i| i as f64 / k as f64).collect();
    }
    let mut cumulative = Vec::with_capacity(n + 1);
    cumulative.push(0.0);
    for x in &v {
        cumulative.push(cumulative.last().unwrap() + x / total);
    }
    (0..=k)
        .map(|i| {
            let pos = i as f64 / k as f64 * n as f64;
            let lo = (pos.floor() as usize).min(n);
            let hi = (lo + 1).min(n);
            cumulative[lo] + (pos - lo as f64) * (cumulative[hi] - cumulative[lo])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_of_equal_and_concentrated() {
        assert_eq!(gini(&[5.0; 10]), 0.0);
        let mut one = vec![0.0; 9];
        one.push(10.0);
        assert!((gini(&one) - 0.9).abs() < 1e-12);
        assert!((gini(&[1.0, 2.0, 3.0, 4.0]) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn lorenz_of_equal_and_concentrated() {
        let equal = lorenz(&[2.0; 4], 4);
        assert_eq!(equal, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        let skewed = lorenz(&[0.0, 0.0, 0.0, 4.0], 4);
        assert_eq!(skewed, vec![0.0, 0.0, 0.0, 0.0, 1.0]);
        let half = lorenz(&[1.0, 3.0], 4);
        assert_eq!(half, vec![0.0, 0.125, 0.25, 0.625, 1.0]);
    }

    #[test]
    fn top_ten_percent_share() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!((top_share(&v, 0.1) - 10.0 / 55.0).abs() < 1e-12);
        assert_eq!(top_share(&[], 0.1), 0.0);
    }
}
