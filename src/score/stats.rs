//! Intervals for SCORING.md §4: Wilson score intervals for rates (Brown, Cai & DasGupta 2001)
//! and a seeded percentile bootstrap for means, so that the same data always gives the same
//! numbers (no hidden state, no clock, no thread RNG).

use serde::Serialize;

/// A point estimate with its interval, in the unit of the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// The two-sided normal quantile for a confidence level (0.80–0.999), by Acklam's rational
/// approximation (relative error below 1.2e-9): enough for a 4-decimal interval.
#[allow(clippy::excessive_precision)] // the published coefficients, kept verbatim
pub fn z_for(confidence: f64) -> f64 {
    let p = 1.0 - (1.0 - confidence) / 2.0;
    // Acklam's coefficients for the central and upper regions (p ≥ 0.5 here).
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383577518672690e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    if p <= 0.97575 {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

/// Wilson score interval of `k` successes in `n` trials, as a share 0–1; `None` for `n = 0`.
pub fn wilson(k: u64, n: u64, confidence: f64) -> Option<Estimate> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let z = z_for(confidence);
    let p = k / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Estimate {
        value: p,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

pub use crate::rng::SplitMix64;

/// A stable seed for one series (FNV-1a of its key, mixed with the configured seed), so that
/// a centre's interval does not change when another centre's data does.
pub fn seed_for(base: u64, key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^ base
}

pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    // Linear interpolation between order statistics (type 7, as R and NumPy default).
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The standard deviation of `xs` about their mean, with `n - 1` in the denominator (the
/// bootstrap's standard error when `xs` are its resamples); 0 for fewer than two.
pub fn sd(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// The percentile interval of bootstrap statistics around `value`: `percentile` of them
/// sorted, from the four order statistics it reads, each selected in linear time (a refresh
/// sorted thousands of values only to read four).
pub fn percentile_interval(value: f64, mut stats: Vec<f64>, confidence: f64) -> Estimate {
    let a = (1.0 - confidence) / 2.0;
    let mut at = |q: f64| {
        let pos = q * (stats.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        let (_, low, above) = stats.select_nth_unstable_by(lo, f64::total_cmp);
        let low = *low;
        // The next order statistic is the least of those above.
        let high = if hi == lo {
            low
        } else {
            above.iter().copied().min_by(f64::total_cmp).unwrap_or(low)
        };
        low + (high - low) * (pos - lo as f64)
    };
    Estimate {
        value,
        low: at(a),
        high: at(1.0 - a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn normal_quantiles() {
        assert!(close(z_for(0.95), 1.959964, 1e-6));
        assert!(close(z_for(0.90), 1.644854, 1e-6));
        assert!(close(z_for(0.99), 2.575829, 1e-6));
    }

    #[test]
    fn wilson_against_newcombe_1998() {
        // Newcombe, Statistics in Medicine 17:857–872 (1998), Table I, method 3 (Wilson
        // score without continuity correction), 95 %.
        for (k, n, lo, hi) in [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ] {
            let e = wilson(k, n, 0.95).unwrap();
            assert!(close(e.low, lo, 5e-5), "{k}/{n}: {e:?}");
            assert!(close(e.high, hi, 5e-5), "{k}/{n}: {e:?}");
        }
        assert_eq!(wilson(0, 0, 0.95), None);
    }

    #[test]
    fn percentile_interval_selects_as_a_sort_would() {
        let mut rng = SplitMix64::new(9);
        for n in [1usize, 2, 3, 40, 2000, 1999] {
            let stats: Vec<f64> = (0..n).map(|_| rng.below(500) as f64 / 7.0).collect();
            let mut sorted = stats.clone();
            sorted.sort_by(f64::total_cmp);
            for confidence in [0.95, 0.9, 0.5, 0.999] {
                let a = (1.0 - confidence) / 2.0;
                let e = percentile_interval(1.0, stats.clone(), confidence);
                assert_eq!(e.low, percentile(&sorted, a), "n {n} at {confidence}");
                assert_eq!(
                    e.high,
                    percentile(&sorted, 1.0 - a),
                    "n {n} at {confidence}"
                );
            }
        }
    }

    #[test]
    fn percentile_interval_interpolates() {
        let e = percentile_interval(5.0, (0..=100).rev().map(f64::from).collect(), 0.9);
        assert!(
            close(e.low, 5.0, 1e-9) && close(e.high, 95.0, 1e-9),
            "{e:?}"
        );
    }
}
