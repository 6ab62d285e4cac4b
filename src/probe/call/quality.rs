//! Voice quality by the E-model (ITU-T G.107) as ../shared/SCORING.md §2 specifies it for
//! G.711 with loss concealment: delay from RTCP or a configured default, loss and jitter from
//! the receiver statistics.

/// R-factor from one-way delay `d` (ms), jitter (ms) and packet loss (%).
pub fn r_factor(delay_ms: f64, jitter_ms: f64, loss_pct: f64) -> f64 {
    const IE: f64 = 0.0;
    const BPL: f64 = 25.1;
    const BURST_R: f64 = 1.0;
    let d = delay_ms + 2.0 * jitter_ms + 10.0;
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    let ppl = loss_pct.max(0.0);
    let ie_eff = IE + (95.0 - IE) * ppl / (ppl / BURST_R + BPL);
    93.2 - id - ie_eff
}

/// The one-way delay `d` for the E-model: half the RTCP round trip when one was measured,
/// else the configured default.
///
/// G.107's `Ta` is mouth-to-ear delay. RTCP's round trip (RFC 3550 §6.4.1) is the network's
/// both ways with the far end's holding time (DLSR) taken out, so half of it is the one-way
/// network delay, assuming a symmetric path. The jitter buffer (2 × jitter) and G.711's
/// packetisation and look-ahead (10 ms) are not in the round trip: `r_factor` adds them to
/// either figure, as SCORING.md's `d_eff` does. The configured default stands for a typical
/// path and is used only when no report about raqib's stream came back.
pub fn one_way_delay_ms(rtt_ms: Option<f64>, default_ms: f64) -> f64 {
    match rtt_ms {
        Some(rtt) if rtt.is_finite() && rtt >= 0.0 => rtt / 2.0,
        _ => default_ms,
    }
}

/// Mean opinion score from an R-factor (G.107 Annex B).
pub fn mos_from_r(r: f64) -> f64 {
    if r < 0.0 {
        1.0
    } else if r > 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r)
    }
}

pub fn mos(delay_ms: f64, jitter_ms: f64, loss_pct: f64) -> f64 {
    mos_from_r(r_factor(delay_ms, jitter_ms, loss_pct))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoring_md_check_values() {
        // SCORING.md: "all defaults give R = 93.2, MOS ≈ 4.41" — the 93.2 is before delay;
        // with the 100 ms default delay and no jitter or loss: d_eff = 110 ms, Id = 2.64.
        let r = r_factor(100.0, 0.0, 0.0);
        assert!((r - 90.56).abs() < 1e-9, "{r}");
        assert!((mos_from_r(93.2) - 4.41).abs() < 0.005);
        // Issue 5: 100 ms, 20 ms jitter, 1 % loss ≈ 4.2.
        let m = mos(100.0, 20.0, 1.0);
        assert!((m - 4.2).abs() < 0.06, "{m}");
    }

    #[test]
    fn bounds_and_monotony() {
        assert_eq!(mos_from_r(-5.0), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
        let mut last = 5.0;
        for loss in 0..50 {
            let m = mos(100.0, 10.0, loss as f64);
            assert!(m <= last);
            last = m;
        }
        assert!(mos(400.0, 0.0, 0.0) < mos(100.0, 0.0, 0.0));
    }

    #[test]
    fn measured_round_trip_replaces_the_default() {
        assert_eq!(one_way_delay_ms(None, 100.0), 100.0);
        assert_eq!(one_way_delay_ms(Some(600.0), 100.0), 300.0);
        assert_eq!(one_way_delay_ms(Some(f64::NAN), 100.0), 100.0);
        // 600 ms round trip: d_eff = 310 ms, past G.107's 177.3 ms knee.
        let r = r_factor(one_way_delay_ms(Some(600.0), 100.0), 0.0, 0.0);
        let id = 0.024 * 310.0 + 0.11 * (310.0 - 177.3);
        assert!((r - (93.2 - id)).abs() < 1e-9, "{r}");
    }
}
