//! The call probe against SIP stacks written by other hands: baresip (Debian), PJSIP through
//! pjsua2 (PyPI) and kamailio (Debian) as a proxy demanding digest authentication. In CI every
//! peer is installed; locally a missing one skips with the package to install.

mod peers;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use peers::{baresip, call, free_port, have, python_module, Proc};
use serde_json::Value;

const PROMPT: &str = "probes/calls/lab/greeting.wav";

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn config(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("raqib.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn prompt() -> PathBuf {
    std::fs::canonicalize(PROMPT).unwrap()
}

/// Mean absolute amplitude of a recording after `skip` seconds: sound, not silence.
fn loudness(path: &str, skip: f64) -> f64 {
    let r = hound::WavReader::open(path).unwrap();
    let s: Vec<i16> = r.into_samples::<i16>().map(Result::unwrap).collect();
    let tail = &s[((skip * 8000.0) as usize).min(s.len())..];
    tail.iter().map(|x| (*x as f64).abs()).sum::<f64>() / tail.len().max(1) as f64
}

#[test]
fn baresip_answers_plays_and_hangs_up_over_udp_and_tcp() {
    if !have("baresip", "baresip-core") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _uas = baresip(&dir.path().join("bs"), port, &prompt(), false);
    let data = dir.path().join("data");
    let udp = config(dir.path(), "");
    let r = call(
        &udp,
        &data,
        &[
            &format!("sip:uas@127.0.0.1:{port}"),
            "--unlisted",
            "--after-answer",
            "listen:5",
        ],
    );
    assert_eq!(r["outcome"], "answered", "{r:#}");
    assert!(f(&r["timings_ms"]["answer"]) < 200.0);
    // baresip hangs up itself when its prompt file ends (1.2 s): a far-end BYE.
    assert_eq!(r["hangup_by"], "remote", "{r:#}");
    assert!(f(&r["timings_ms"]["total"]) < 4000.0);
    let rtp = &r["rtp"];
    assert!(rtp["packets"].as_u64().unwrap() >= 40, "{rtp}");
    assert_eq!(rtp["lost"], 0);
    assert!(
        loudness(r["recording"].as_str().unwrap(), 0.0) > 300.0,
        "the prompt was heard"
    );

    // The same over TCP.
    let tcp = config(dir.path(), "[trunk]\ntransport = \"tcp\"\n");
    let r = call(
        &tcp,
        &data,
        &[
            &format!("sip:uas@127.0.0.1:{port};transport=tcp"),
            "--unlisted",
            "--after-answer",
            "listen:5",
        ],
    );
    assert_eq!(r["outcome"], "answered", "{r:#}");
    let trace = std::fs::read_to_string(r["sip_trace"].as_str().unwrap()).unwrap();
    assert!(trace.contains("SIP/2.0/TCP"), "{trace}");
    assert!(r["rtp"]["packets"].as_u64().unwrap() >= 40);
}

#[test]
fn baresip_ringing_is_cancelled_at_the_ring_timeout() {
    if !have("baresip", "baresip-core") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _uas = baresip(&dir.path().join("bs"), port, &prompt(), true);
    let cfg = config(dir.path(), "");
    let r = call(
        &cfg,
        &dir.path().join("data"),
        &[
            &format!("sip:uas@127.0.0.1:{port}"),
            "--unlisted",
            "--ring-timeout",
            "2",
        ],
    );
    assert_eq!(r["outcome"], "no_answer", "{r:#}");
    assert_eq!(r["sip_status"], 487);
    assert!(f(&r["timings_ms"]["ringing"]) < 200.0);
    assert!(
        (2000.0..3000.0).contains(&f(&r["timings_ms"]["total"])),
        "{r:#}"
    );
}

fn pjsua(port: u16, mode: &str, delay_ms: u64) -> (Proc, std::sync::mpsc::Receiver<String>) {
    let mut cmd = Command::new("python3");
    cmd.arg("tests/peers/pjsua_uas.py")
        .arg(port.to_string())
        .arg(mode)
        .arg(delay_ms.to_string())
        .arg(prompt());
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let proc = Proc(child);
    // pjlib prints its start-up lines first; wait for ours, with a deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l.starts_with("ready") => break,
            Ok(_) => continue,
            Err(_) => panic!("pjsua printed no ready line within 20 s"),
        }
    }
    (proc, rx)
}

#[test]
fn pjsip_answer_times_and_early_media() {
    if !python_module("pjsua2", "pjsua2-python") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let data = dir.path().join("data");
    for delay in [700u64, 1500] {
        let port = free_port();
        let (_uas, lines) = pjsua(port, "ringing", delay);
        let r = call(
            &cfg,
            &data,
            &[
                &format!("sip:uas@127.0.0.1:{port}"),
                "--unlisted",
                "--after-answer",
                "hangup",
            ],
        );
        assert_eq!(r["outcome"], "answered", "{r:#}");
        // pjsua's own record: ms from the INVITE reaching it to its 200 OK leaving.
        let wire: f64 = std::iter::from_fn(|| lines.recv_timeout(Duration::from_secs(5)).ok())
            .find(|l| l.starts_with("answered"))
            .unwrap()
            .split_whitespace()
            .nth(2)
            .unwrap()
            .parse()
            .unwrap();
        let measured = f(&r["timings_ms"]["answer"]);
        assert!(
            (measured - wire).abs() < 20.0,
            "raqib {measured} ms vs pjsua {wire} ms"
        );
        assert!(
            (measured - delay as f64).abs() < 50.0,
            "raqib {measured} ms vs {delay} ms scripted"
        );
        assert!(f(&r["timings_ms"]["ringing"]) < 100.0);
    }
    // 183 with the prompt as early media, answered 2 s later.
    let port = free_port();
    let (_uas, _lines) = pjsua(port, "early", 2000);
    let r = call(
        &cfg,
        &data,
        &[
            &format!("sip:uas@127.0.0.1:{port}"),
            "--unlisted",
            "--after-answer",
            "listen:1",
        ],
    );
    assert_eq!(r["outcome"], "answered", "{r:#}");
    assert_eq!(r["early_media"], true, "{r:#}");
    assert!(loudness(r["recording"].as_str().unwrap(), 0.0) > 300.0);
    // The far end hangs up 800 ms after answering.
    let port = free_port();
    let (_uas, _lines) = pjsua(port, "hangup", 800);
    let r = call(
        &cfg,
        &data,
        &[
            &format!("sip:uas@127.0.0.1:{port}"),
            "--unlisted",
            "--after-answer",
            "listen:5",
        ],
    );
    assert_eq!(r["hangup_by"], "remote", "{r:#}");
    assert!(f(&r["timings_ms"]["total"]) < 3000.0);
}

#[test]
fn kamailio_digest_auth_in_front_of_baresip() {
    if !have("kamailio", "kamailio") || !have("baresip", "baresip-core") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let uas_port = free_port();
    let _uas = baresip(&dir.path().join("bs"), uas_port, &prompt(), false);
    let proxy_port = free_port();
    let _proxy = peers::kamailio(
        dir.path(),
        "kamailio.cfg",
        &[
            ("PROXY_PORT", proxy_port.to_string()),
            ("UAS_PORT", uas_port.to_string()),
        ],
        proxy_port,
    );
    let cfg = config(
        dir.path(),
        &format!(
            "[trunk]\nuri_template = \"sip:{{number}}@127.0.0.1:{uas_port}\"\noutbound_proxy = \"127.0.0.1:{proxy_port}\"\nusername = \"raqib\"\npassword_env = \"RAQIB_TEST_TRUNK_PASSWORD\"\n"
        ),
    );
    let data = dir.path().join("data");
    let uri = format!("sip:uas@127.0.0.1:{uas_port}");
    let run = |password: &str| {
        let args = [
            "probe",
            "call",
            "--json",
            "--unlisted",
            "--after-answer",
            "listen:1",
            &uri,
        ];
        let out = peers::raqib_with_password(&cfg, &data, Some(password), &args);
        assert!(out.status.success());
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let ok = run("s3cret-lab");
    assert_eq!(ok["outcome"], "answered", "{ok:#}");
    let trace = std::fs::read_to_string(ok["sip_trace"].as_str().unwrap()).unwrap();
    assert!(trace.contains("407 Proxy Authentication Required"));
    assert!(trace.contains("Proxy-Authorization: <credentials redacted>"));
    assert!(
        !trace.contains("s3cret-lab"),
        "the password leaked into the trace"
    );
    let bad = run("wrong");
    assert_eq!(
        (bad["outcome"].as_str(), bad["sip_status"].as_u64()),
        (Some("rejected"), Some(407))
    );
    assert_eq!(bad["detail"], "credentials refused");
}

#[test]
fn kamailio_registrar_with_digest_auth() {
    if !have("kamailio", "kamailio") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _registrar = peers::kamailio(
        dir.path(),
        "kamailio-registrar.cfg",
        &[("PROXY_PORT", port.to_string())],
        port,
    );
    let cfg = config(
        dir.path(),
        &format!(
            "[trunk]\nuri_template = \"sip:{{number}}@127.0.0.1:{port}\"\nusername = \"raqib\"\npassword_env = \"RAQIB_TEST_TRUNK_PASSWORD\"\nregister_expires = 600\n"
        ),
    );
    let data = dir.path().join("data");
    let run = |password: &str| {
        let out = peers::raqib_with_password(
            &cfg,
            &data,
            Some(password),
            &["probe", "register", "--json"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let ok = run("s3cret-lab");
    assert_eq!(
        (ok["ok"].as_bool(), ok["status"].as_u64()),
        (Some(true), Some(200)),
        "{ok:#}"
    );
    assert_eq!(ok["authenticated"], true);
    // The registrar caps the 600 s asked for at its max_expires of 300.
    assert_eq!(ok["expires"], 300);
    let bad = run("wrong");
    assert_eq!(
        (bad["ok"].as_bool(), bad["status"].as_u64()),
        (Some(false), Some(401))
    );
    assert_eq!(bad["detail"], "credentials refused");
    // Without the variable set, raqib says which one is missing and places nothing.
    let out = peers::raqib_with_password(&cfg, &data, None, &["probe", "register"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RAQIB_TEST_TRUNK_PASSWORD"));
}
