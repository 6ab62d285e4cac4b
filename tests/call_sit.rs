//! Special information tones over real calls: the lab (a separate `raqib lab` process) plays
//! each code's exact tones and an announcement as early media behind a 183 that ends in 480,
//! or after a 200; raqib must name the code, classify the call by it and say so, and hear no
//! tone in an announcement or a greeting without one.

mod peers;

use peers::{call, start_lab, LAB_PORTS};
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn each_special_information_tone_is_named_in_early_media_and_after_answer() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("raqib.toml");
    std::fs::write(&config, format!("[call]\nclassify_secs = 8\n{LAB_PORTS}")).unwrap();
    let data = dir.path().join("data");
    let lab = start_lab(&config, &data);

    // (lab user, after-answer, outcome, status, variant or none, early)
    type Case<'a> = (&'a str, &'a str, &'a str, u64, Option<&'a str>, bool);
    let cases: Vec<Case> = vec![
        // Cancelled on the ring timeout while the announcement plays: still not in service.
        (
            "sit_early:vacant_code",
            "hangup --ring-timeout 3",
            "not_in_service",
            487,
            Some("vacant_code"),
            true,
        ),
        (
            "sit_early:intercept",
            "hangup",
            "not_in_service",
            480,
            Some("intercept"),
            true,
        ),
        (
            "sit_early:vacant_code",
            "hangup",
            "not_in_service",
            480,
            Some("vacant_code"),
            true,
        ),
        (
            "sit_early:reorder_inter",
            "hangup",
            "failed",
            480,
            Some("reorder_inter"),
            true,
        ),
        (
            "sit_early:no_circuit_intra",
            "hangup",
            "failed",
            480,
            Some("no_circuit_intra"),
            true,
        ),
        (
            "sit_answer:intercept",
            "listen:8",
            "not_in_service",
            200,
            Some("intercept"),
            false,
        ),
        (
            "sit_answer:vacant_code",
            "listen:8",
            "not_in_service",
            200,
            Some("vacant_code"),
            false,
        ),
        (
            "sit_answer:reorder_intra",
            "listen:8",
            "failed",
            200,
            Some("reorder_intra"),
            false,
        ),
        (
            "sit_answer:no_circuit_inter",
            "listen:8",
            "failed",
            200,
            Some("no_circuit_inter"),
            false,
        ),
        (
            "sit_answer:information",
            "listen:8",
            "not_in_service",
            200,
            Some("information"),
            false,
        ),
        ("announcement", "listen:8", "answered", 200, None, false),
        ("answer-500", "listen:4", "answered", 200, None, false),
    ];
    let results: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|(user, after, ..)| {
                let (config, data, sip) = (&config, &data, &lab.sip);
                s.spawn(move || {
                    let uri = format!("sip:{user}@{sip}");
                    let mut args = vec![uri.as_str(), "--unlisted", "--after-answer"];
                    args.extend(after.split_whitespace());
                    call(config, data, &args)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    for ((user, _, outcome, status, variant, early), r) in cases.iter().zip(&results) {
        assert_eq!(r["outcome"], *outcome, "{user}: {r:#}");
        assert_eq!(r["sip_status"].as_u64(), Some(*status), "{user}: {r:#}");
        let Some(variant) = variant else {
            assert!(
                r["sit"].is_null(),
                "{user}: a tone where there was none: {r:#}"
            );
            continue;
        };
        let sit = &r["sit"];
        eprintln!("{user}: {sit} detail: {}", r["detail"]);
        assert_eq!(sit["variant"], *variant, "{user}: {r:#}");
        assert_eq!(sit["early"], *early, "{user}: {r:#}");
        assert_eq!(r["early_media"], *early, "{user}: {r:#}");
        // The tones as heard: three, in order, each within a few Hz and ms of the standard.
        let tones = sit["tones"].as_array().unwrap();
        assert_eq!(tones.len(), 3, "{user}: {sit}");
        assert!(
            (f(&tones[2]["hz"])
                - if *variant == "information" {
                    1800.0
                } else {
                    1776.7
                })
            .abs()
                < 3.0,
            "{sit}"
        );
        for t in tones {
            assert!((250.0..=400.0).contains(&f(&t["ms"])), "{user}: {sit}");
        }
        // When: the lab plays the tones as soon as it sent the 183 or the 200.
        let at = f(&sit["at_ms"]);
        let t = &r["timings_ms"];
        let from = if *early {
            f(&t["first_response"])
        } else {
            f(&t["answer"])
        };
        assert!(
            at >= from - 5.0 && at <= from + 300.0,
            "{user}: tones at {at}, from {from}: {r:#}"
        );
        let detail = r["detail"].as_str().unwrap();
        // English, as every technical detail; pages word the tones from `sit`.
        assert!(
            detail.starts_with("Special information tones")
                && !detail
                    .chars()
                    .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
            "{user}: {detail}"
        );
        if *early {
            assert!(
                detail.contains(if *status == 487 { "cancelled" } else { "480" }),
                "{user}: the status is still told: {detail}"
            );
        } else {
            // What answered is still an announcement: the tones change the outcome only.
            assert_eq!(r["answer_type"], "announcement", "{user}: {r:#}");
        }
    }
    drop(lab);
}

/// The lab's announcement after tones of `variant`, as a WAV for another peer to play.
fn sit_wav(dir: &std::path::Path, variant: raqib::probe::call::audio::sit::SitVariant) -> String {
    let recorded = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/probes/calls/lab/not-in-service.wav"
    ))
    .unwrap();
    let announcement = raqib::probe::call::read_wav_8k(&recorded).unwrap();
    let mut x = raqib::probe::call::audio::sit::synthesize(&variant.tones(), -10.0);
    x.extend(std::iter::repeat_n(0, 320));
    // The recording opens with its own tones (1040 ms): only its words are wanted.
    x.extend_from_slice(&announcement[1040 * 8..]);
    let path = dir.join(format!("{}.wav", variant.code()));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for s in x {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    path.display().to_string()
}

/// Not only the lab's own hands: PJSIP plays the tones as early media and after answer,
/// through its own media clock and jitter buffer.
#[test]
fn pjsip_plays_the_tones_in_early_media_and_after_answer() {
    use raqib::probe::call::audio::sit::SitVariant;
    if !peers::python_module("pjsua2", "pjsua2-python") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("raqib.toml");
    std::fs::write(&config, "[call]\nclassify_secs = 8\n").unwrap();
    let data = dir.path().join("data");
    // (pjsua mode, its delay, the tones, after-answer, outcome, early)
    let cases = [
        (
            "early",
            3000,
            SitVariant::VacantCode,
            "listen:1",
            "not_in_service",
            true,
        ),
        (
            "ringing",
            300,
            SitVariant::NoCircuitIntra,
            "listen:4",
            "failed",
            false,
        ),
    ];
    for (mode, delay, variant, after, outcome, early) in cases {
        let port = peers::free_port();
        let wav = sit_wav(dir.path(), variant);
        let mut cmd = std::process::Command::new("python3");
        cmd.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/pjsua_uas.py"
        ))
        .arg(port.to_string())
        .arg(mode)
        .arg(delay.to_string())
        .arg(&wav);
        let (_uas, _) = peers::spawn_ready(cmd, "ready", std::time::Duration::from_secs(20));
        let uri = format!("sip:uas@127.0.0.1:{port}");
        let r = call(
            &config,
            &data,
            &[&uri, "--unlisted", "--after-answer", after],
        );
        assert_eq!(r["sip_status"], 200, "{mode}: {r:#}");
        assert_eq!(r["outcome"], outcome, "{mode}: {r:#}");
        assert_eq!(r["sit"]["variant"], variant.code(), "{mode}: {r:#}");
        assert_eq!(r["sit"]["early"], early, "{mode}: {r:#}");
    }
}
