//! RTCP on real calls: baresip (Debian) sends its receiver and sender reports, raqib measures
//! the round trip from them (RFC 3550 §6.4.1), stores it and computes the MOS with half of
//! it instead of the configured delay; the lab's UAS holds its reports back by a known time,
//! so a longer measured round trip must lower the MOS.

mod peers;

use std::path::{Path, PathBuf};

use peers::{baresip_with, call, free_port, have, lab_with_phones};
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A 440 Hz tone of `secs` as 8 kHz mono 16-bit WAV.
fn tone(path: &Path, secs: f64) -> PathBuf {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(secs * 8000.0) as usize {
        let x = (i as f64 * 440.0 * std::f64::consts::TAU / 8000.0).sin();
        w.write_sample((x * 8000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    std::fs::canonicalize(path).unwrap()
}

/// The E-model of SCORING.md §2 for G.711 with no loss: what the stored MOS must equal.
fn mos(delay_ms: f64, jitter_ms: f64) -> f64 {
    let d = delay_ms + 2.0 * jitter_ms + 10.0;
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    let r: f64 = 93.2 - id;
    1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r)
}

fn check_measured(rtp: &Value, low: f64, high: f64) -> f64 {
    assert_eq!(rtp["rtt_source"], "rtcp", "{rtp:#}");
    let rtt = f(&rtp["rtt_ms"]);
    assert!(
        rtt >= low && rtt < high,
        "rtt {rtt} not in {low}..{high}: {rtp:#}"
    );
    assert!((f(&rtp["delay_ms"]) - rtt / 2.0).abs() < 0.01, "{rtp:#}");
    assert_eq!(rtp["lost"], 0, "{rtp:#}");
    let expected = mos(rtt / 2.0, f(&rtp["jitter_ms"]));
    assert!(
        (f(&rtp["mos"]) - expected).abs() < 0.002,
        "{expected}: {rtp:#}"
    );
    rtt
}

#[test]
fn baresip_reports_give_a_measured_round_trip() {
    baresip_call("");
}

/// The same with RTP and RTCP on one port (RFC 5761): raqib offers `a=rtcp-mux`, baresip
/// accepts it when configured to.
#[test]
fn baresip_reports_over_rtcp_mux() {
    baresip_call("rtcp_mux yes\n");
}

fn baresip_call(extra: &str) -> Value {
    if !have("baresip", "baresip-core") {
        return Value::Null;
    }
    let dir = tempfile::tempdir().unwrap();
    // baresip hangs up when its audio file ends, and reports every 5 s: a 14 s tone keeps the
    // call up while raqib's 9 s notice plays.
    let far = tone(&dir.path().join("far.wav"), 14.0);
    let notice = tone(&dir.path().join("notice.wav"), 9.0);
    let port = free_port();
    let _uas = baresip_with(&dir.path().join("bs"), port, &far, false, extra);
    let config = dir.path().join("raqib.toml");
    std::fs::write(
        &config,
        format!("[call]\nnotice_file = \"{}\"\n", notice.display()),
    )
    .unwrap();
    let r = call(
        &config,
        &dir.path().join("data"),
        &[&format!("sip:uas@127.0.0.1:{port}"), "--unlisted"],
    );
    assert_eq!(r["outcome"], "answered", "{r:#}");
    let rtp = &r["rtp"];
    // Loopback: well under 20 ms there and back. It is measured (a number, source `rtcp`),
    // but may read 0: LSR and DLSR count in 1/65536 s (15 µs), about a loopback round trip.
    let rtt = check_measured(rtp, 0.0, 20.0);
    // Half of a loopback round trip is far under the 100 ms default: a higher MOS than the
    // default would give.
    assert!(
        f(&rtp["mos"]) > mos(100.0, f(&rtp["jitter_ms"])) + 0.03,
        "{rtp:#}"
    );
    let far_end = &rtp["far_end"];
    assert!(far_end["reports"].as_u64().unwrap() >= 1, "{rtp:#}");
    assert_eq!(far_end["cumulative_lost"], 0, "{rtp:#}");
    let trace = std::fs::read_to_string(r["sip_trace"].as_str().unwrap()).unwrap();
    assert!(trace.contains("RTCP: "), "{trace}");
    // The offer says a=rtcp-mux; baresip's answer repeats it only when it multiplexes.
    let muxed = extra.contains("rtcp_mux yes");
    assert_eq!(
        trace.matches("a=rtcp-mux").count(),
        1 + muxed as usize,
        "{trace}"
    );
    eprintln!("baresip ({extra:?}) round trip {rtt} ms, rtp {rtp}");
    r
}

/// The lab's `rtt:400` holds each receiver report 400 ms and reports a DLSR without it: raqib
/// must measure about 400 ms, store it, and compute a lower MOS than with the lab's honest
/// reports — and lower than the configured 100 ms default would give, so the test fails if
/// the default were still used.
#[test]
fn a_longer_measured_round_trip_lowers_the_mos() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, config, data) = lab_with_phones(dir.path(), &[], "");
    let results: Vec<Value> = std::thread::scope(|s| {
        let calls: Vec<_> = ["answer-500", "rtt-400"]
            .iter()
            .map(|user| {
                let (config, data, sip) = (&config, &data, &lab.sip);
                s.spawn(move || call(config, data, &[&format!("sip:{user}@{sip}"), "--unlisted"]))
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let (honest, slow) = (&results[0]["rtp"], &results[1]["rtp"]);
    let near = check_measured(honest, 0.0, 20.0);
    // The lab's timer wakes late, never early: 400 ms plus a few (up to 100 on a busy machine).
    let far = check_measured(slow, 400.0, 500.0);
    assert!(far > near + 380.0);
    let (m_near, m_far) = (f(&honest["mos"]), f(&slow["mos"]));
    assert!(m_far < m_near - 0.1, "{m_far} vs {m_near}");
    let default = mos(100.0, f(&slow["jitter_ms"]));
    assert!(m_far < default - 0.1, "{m_far} vs the default's {default}");
    eprintln!(
        "lab round trips {near} ms and {far} ms: MOS {m_near} and {m_far} (default {default})"
    );
}

/// When raqib cannot measure (it only listens, so no SR of its own is echoed) but the far end
/// sends RTCP-XR VoIP metrics, their round trip is used, and the metrics are stored.
#[test]
fn xr_voip_metrics_give_the_round_trip_when_raqib_cannot_measure() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, config, data) = lab_with_phones(dir.path(), &[], "");
    let r = call(
        &config,
        &data,
        &[
            &format!("sip:xr-300@{}", lab.sip),
            "--unlisted",
            "--after-answer",
            "listen:2",
        ],
    );
    let rtp = &r["rtp"];
    assert_eq!(rtp["rtt_source"], "rtcp_xr", "{rtp:#}");
    assert_eq!(f(&rtp["rtt_ms"]), 300.0);
    assert_eq!(f(&rtp["delay_ms"]), 150.0);
    let xr = &rtp["xr"];
    assert_eq!(f(&xr["round_trip_ms"]), 300.0, "{xr}");
    assert_eq!(f(&xr["end_system_delay_ms"]), 40.0, "{xr}");
    assert_eq!(f(&xr["r_factor"]), 90.0, "{xr}");
    assert_eq!(f(&xr["mos_lq"]), 4.3, "{xr}");
    let expected = mos(150.0, f(&rtp["jitter_ms"]));
    assert!((f(&rtp["mos"]) - expected).abs() < 0.002, "{rtp:#}");
}

/// With no RTCP answer (raqib only listens, so it sends no SR to be echoed), the configured
/// delay stands and says so.
#[test]
fn without_reports_the_configured_delay_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, config, data) = lab_with_phones(dir.path(), &[], "[call]\ndefault_delay_ms = 150\n");
    let r = call(
        &config,
        &data,
        &[
            &format!("sip:answer-300@{}", lab.sip),
            "--unlisted",
            "--after-answer",
            "listen:2",
        ],
    );
    let rtp = &r["rtp"];
    assert_eq!(rtp["rtt_source"], "configured", "{rtp:#}");
    assert!(rtp["rtt_ms"].is_null(), "{rtp:#}");
    assert_eq!(f(&rtp["delay_ms"]), 150.0);
    let expected = mos(150.0, f(&rtp["jitter_ms"]));
    assert!((f(&rtp["mos"]) - expected).abs() < 0.002, "{rtp:#}");
}
