//! Percentiles over recorded samples.

use serde_json::{json, Value};

/// Nearest-rank percentile (`p` in 0..=100) of an ascending slice; NaN when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Mean of the samples left after dropping `cut` (e.g. 0.1) of them at each end; NaN when empty.
/// Robust to the odd scheduling hiccup, and unlike the median it averages out clock
/// quantisation (the Worker's Server-Timing durations are whole milliseconds).
pub fn trimmed_mean(samples: &[f64], cut: f64) -> f64 {
    let s = sorted(samples);
    let k = (s.len() as f64 * cut).floor() as usize;
    let kept = &s[k..s.len() - k];
    if kept.is_empty() {
        f64::NAN
    } else {
        kept.iter().sum::<f64>() / kept.len() as f64
    }
}

pub fn median(samples: &[f64]) -> f64 {
    percentile(&sorted(samples), 50.0)
}

/// `{n, p50, p95, p99, max, mean}` in the samples' unit (milliseconds here), rounded to µs.
pub fn summary(samples: &[f64]) -> Value {
    let s = sorted(samples);
    let mean = if s.is_empty() {
        f64::NAN
    } else {
        s.iter().sum::<f64>() / s.len() as f64
    };
    json!({
        "n": s.len(),
        "p50": round3(percentile(&s, 50.0)),
        "p95": round3(percentile(&s, 95.0)),
        "p99": round3(percentile(&s, 99.0)),
        "max": round3(s.last().copied().unwrap_or(f64::NAN)),
        "mean": round3(mean),
    })
}

/// Rounded to 3 decimals; NaN/inf become JSON null.
pub fn round3(x: f64) -> Value {
    if x.is_finite() {
        // `+ 0.0` turns -0.0 into 0.0.
        json!((x * 1000.0).round() / 1000.0 + 0.0)
    } else {
        Value::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&s, 50.0), 50.0);
        assert_eq!(percentile(&s, 99.0), 99.0);
        assert_eq!(percentile(&s, 100.0), 100.0);
        assert_eq!(percentile(&[3.0], 99.0), 3.0);
        assert!(percentile(&[], 50.0).is_nan());
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        let t: Vec<f64> = (0..10).map(f64::from).chain([1000.0]).collect();
        assert_eq!(trimmed_mean(&t, 0.1), 5.0);
        assert!(trimmed_mean(&[], 0.1).is_nan());
    }
}
