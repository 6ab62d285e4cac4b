//! SIP over TLS against kamailio with its TLS module (Debian `kamailio-tls-modules`) as the
//! trunk, in front of baresip on UDP: certificates made at test time with rcgen, trusted
//! through `[trunk] trust_ca_files`. In CI every peer is installed; locally a missing one
//! skips with the package to install.

mod peers;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use peers::{baresip, call, free_port, have, tls_pki, wait_sip, Proc};

const PROMPT: &str = "probes/calls/lab/greeting.wav";

fn has_tls_module() -> bool {
    let found = Path::new("/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so").exists();
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("kamailio's tls.so is missing in CI: scripts/setup must install kamailio-tls-modules");
        }
        eprintln!(
            "SKIP: kamailio tls.so not installed (install the Debian package kamailio-tls-modules)"
        );
    }
    found
}

fn config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The TLS trunk: kamailio listening on UDP (for readiness) and TLS, relaying to
/// `uas_port`, its log in `dir/kamailio.log`. (guard, TLS port, log path)
fn kamailio_tls(dir: &Path, cert: &Path, key: &Path, uas_port: u16) -> (Proc, u16, PathBuf) {
    let udp_port = free_port();
    let tls_port = free_port();
    let tls_cfg = dir.join("tls.cfg");
    std::fs::write(
        &tls_cfg,
        format!(
            "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n\
             private_key = {}\ncertificate = {}\n\n[client:default]\nverify_certificate = no\n\
             require_certificate = no\n",
            key.display(),
            cert.display()
        ),
    )
    .unwrap();
    let mut text = std::fs::read_to_string("tests/peers/kamailio-tls.cfg").unwrap();
    for (from, to) in [
        ("UDP_PORT", udp_port.to_string()),
        ("TLS_PORT", tls_port.to_string()),
        ("UAS_PORT", uas_port.to_string()),
        ("TLS_CFG", tls_cfg.display().to_string()),
    ] {
        text = text.replace(from, &to);
    }
    let cfg = dir.join("kamailio-tls.cfg");
    std::fs::write(&cfg, text).unwrap();
    let log = dir.join("kamailio.log");
    let child = Command::new("kamailio")
        .args(["-DD", "-E", "-f"])
        .arg(&cfg)
        .arg("-Y")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("kamailio starts");
    let proc = Proc(child);
    wait_sip(udp_port, Duration::from_secs(15));
    peers::wait_until("kamailio to listen on TLS", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", tls_port)).is_ok()
    });
    (proc, tls_port, log)
}

fn invites_relayed(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .matches("INVITE over")
        .count()
}

#[test]
fn calls_over_tls_through_kamailio_are_answered_measured_and_verified() {
    if !have("kamailio", "kamailio") || !have("baresip", "baresip-core") || !has_tls_module() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls_pki(&dir.path().join("pki"), &["127.0.0.1"]);
    let uas_port = free_port();
    let _uas = baresip(
        &dir.path().join("bs"),
        uas_port,
        &std::fs::canonicalize(PROMPT).unwrap(),
        false,
    );
    let (_trunk, port, log) = kamailio_tls(dir.path(), &cert, &key, uas_port);
    let data = dir.path().join("data");
    let tls = config(
        dir.path(),
        "tls.toml",
        &format!(
            "[trunk]\ntransport = \"tls\"\ntrust_ca_files = [\"{}\"]\n",
            ca.display()
        ),
    );

    // A TLS trunk: sip: URI, the trunk's transport.
    let r = call(
        &tls,
        &data,
        &[
            &format!("sip:uas@127.0.0.1:{port}"),
            "--unlisted",
            "--after-answer",
            "listen:5",
        ],
    );
    assert_eq!(r["outcome"], "answered", "{r:#}");
    assert!(r["timings_ms"]["answer"].as_f64().unwrap() < 500.0, "{r:#}");
    // baresip hangs up when its prompt ends; the BYE comes back through kamailio over TLS.
    assert_eq!(r["hangup_by"], "remote", "{r:#}");
    assert!(r["rtp"]["packets"].as_u64().unwrap() >= 40, "{r:#}");
    assert_eq!(r["transport"], "tls", "{r:#}");
    let trace = std::fs::read_to_string(r["sip_trace"].as_str().unwrap()).unwrap();
    assert!(trace.contains("Via: SIP/2.0/TLS 127.0.0.1:"), "{trace}");
    assert!(trace.contains(";transport=tls>"), "{trace}");
    assert!(trace.contains("SIP/2.0 200 OK"), "{trace}");
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(log_text().contains("INVITE over tls"), "{}", log_text());

    // A sips: target from a UDP trunk: dialled over TLS all the same, to 5061 unless told.
    let udp = config(
        dir.path(),
        "udp.toml",
        &format!("[trunk]\ntrust_ca_files = [\"{}\"]\n", ca.display()),
    );
    let r = call(
        &udp,
        &data,
        &[
            &format!("sips:uas@127.0.0.1:{port}"),
            "--unlisted",
            "--after-answer",
            "hangup",
        ],
    );
    assert_eq!(r["outcome"], "answered", "{r:#}");
    assert_eq!(r["hangup_by"], "raqib", "{r:#}");
    let trace = std::fs::read_to_string(r["sip_trace"].as_str().unwrap()).unwrap();
    assert!(trace.contains("INVITE sips:uas@127.0.0.1:"), "{trace}");
    assert!(trace.contains("Contact: <sips:raqib@127.0.0.1:"), "{trace}");
    assert!(trace.contains("Via: SIP/2.0/TLS"), "{trace}");
    assert_eq!(log_text().matches("INVITE over tls").count(), 2);
    assert_eq!(log_text().matches("INVITE over udp").count(), 0);

    // A final answer over TLS is classified as over any transport.
    let r = call(
        &tls,
        &data,
        &[&format!("sip:busy@127.0.0.1:{port}"), "--unlisted"],
    );
    assert_eq!(
        (r["outcome"].as_str(), r["sip_status"].as_u64()),
        (Some("busy"), Some(486)),
        "{r:#}"
    );

    // Untrusted certificates: another CA, and a certificate that does not name the host.
    let before = invites_relayed(&log);
    let (other_ca, _, _) = tls_pki(&dir.path().join("other"), &["127.0.0.1"]);
    let untrusted = config(
        dir.path(),
        "untrusted.toml",
        &format!(
            "[trunk]\ntransport = \"tls\"\ntrust_ca_files = [\"{}\"]\n",
            other_ca.display()
        ),
    );
    for (cfg, uri, why) in [
        (
            &untrusted,
            format!("sip:uas@127.0.0.1:{port}"),
            "the certificate is not trusted",
        ),
        (
            &tls,
            format!("sips:uas@127.0.0.2:{port}"),
            "the certificate does not name 127.0.0.2",
        ),
    ] {
        let r = call(cfg, &data, &[&uri, "--unlisted"]);
        assert_eq!(r["outcome"], "failed", "{uri}: {r:#}");
        let detail = r["detail"].as_str().unwrap();
        assert!(
            detail.contains("TLS handshake") && detail.contains(why),
            "{uri}: {detail}"
        );
        assert!(detail.contains("nothing was sent"), "{detail}");
        assert!(r["sip_trace"].is_null(), "{r:#}");
    }
    assert_eq!(
        invites_relayed(&log),
        before,
        "an INVITE reached kamailio: {}",
        log_text()
    );
}

/// Mean absolute amplitude of a recording after `skip` seconds: sound, not silence.
fn loudness(path: &Path, skip: f64) -> f64 {
    let r = hound::WavReader::open(path).unwrap();
    let s: Vec<i16> = r.into_samples::<i16>().map(Result::unwrap).collect();
    let tail = &s[((skip * 8000.0) as usize).min(s.len())..];
    tail.iter().map(|x| (*x as f64).abs()).sum::<f64>() / tail.len().max(1) as f64
}

/// baresip answering over TLS (its port + 1) with SRTP mandatory (`mediaenc=srtp-mand`),
/// playing the prompt; its `sndfile` module writes what it decoded to a WAV in `dir`, its log
/// goes to `dir/baresip.log`. (guard, TLS port)
fn baresip_srtp(dir: &Path, cert: &Path, key: &Path) -> (Proc, u16) {
    std::fs::create_dir_all(dir).unwrap();
    let both = dir.join("cert-and-key.pem");
    std::fs::write(
        &both,
        std::fs::read_to_string(cert).unwrap() + &std::fs::read_to_string(key).unwrap(),
    )
    .unwrap();
    // baresip listens for TLS one port above its UDP/TCP port.
    let port = loop {
        let p = free_port();
        if p < 65535 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            break p;
        }
    };
    std::fs::write(
        dir.join("config"),
        format!(
            "sip_listen 127.0.0.1:{port}\nsip_certificate {}\nnet_interface 127.0.0.1\n\
             dns_server 127.0.0.1:53\naudio_source aufile,{}\naudio_alert aufile,/dev/null\n\
             audio_player aufile,/dev/null\nrtp_ports 20000-29999\nsnd_path {}\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\n\
             module srtp.so\nmodule sndfile.so\nmodule_app account.so\nmodule_app menu.so\n",
            both.display(),
            std::fs::canonicalize(PROMPT).unwrap().display(),
            dir.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("accounts"),
        "<sip:uas@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA;mediaenc=srtp-mand\n",
    )
    .unwrap();
    let child = Command::new("baresip")
        .arg("-f")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("baresip.log")).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("baresip starts");
    let proc = Proc(child);
    wait_sip(port, Duration::from_secs(15));
    peers::wait_until("baresip to listen on TLS", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port + 1)).is_ok()
    });
    (proc, port + 1)
}

/// SRTP end to end with a stack written by other hands: baresip's `srtp` module decrypts what
/// raqib sends (its recording holds the notice) and raqib decrypts baresip's prompt (raqib's
/// recording holds it, and the RTP statistics count it).
#[test]
fn srtp_over_tls_with_baresip_both_ways() {
    if !have("baresip", "baresip-core") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls_pki(&dir.path().join("pki"), &["127.0.0.1"]);
    let bs = dir.path().join("bs");
    let (_uas, port) = baresip_srtp(&bs, &cert, &key);
    let data = dir.path().join("data");
    let cfg = config(
        dir.path(),
        "srtp.toml",
        &format!(
            "[trunk]\ntransport = \"tls\"\nsrtp = true\ntrust_ca_files = [\"{}\"]\n",
            ca.display()
        ),
    );
    let r = call(
        &cfg,
        &data,
        &[
            &format!("sip:uas@127.0.0.1:{port}"),
            "--unlisted",
            "--after-answer",
            "notice",
        ],
    );
    assert_eq!(r["outcome"], "answered", "{r:#}");
    assert_eq!(r["srtp"], true, "{r:#}");
    assert_eq!(r["transport"], "tls", "{r:#}");
    let rtp = &r["rtp"];
    assert!(rtp["packets"].as_u64().unwrap() >= 40, "{r:#}");
    assert_eq!(rtp["lost"], 0, "{r:#}");
    // baresip's prompt, decrypted: sound, not the noise that undecrypted bytes would make
    // (which the classifier would also hear as sound: the trace says none were rejected).
    let heard = Path::new(r["recording"].as_str().unwrap());
    assert!(loudness(heard, 0.0) > 300.0, "the prompt was heard");
    let trace = std::fs::read_to_string(r["sip_trace"].as_str().unwrap()).unwrap();
    assert!(
        trace.contains("m=audio") && trace.contains("RTP/SAVP"),
        "{trace}"
    );
    assert!(
        trace.contains("SRTP agreed: AES_CM_128_HMAC_SHA1_"),
        "{trace}"
    );
    assert!(!trace.contains("SRTP packets failed"), "{trace}");
    // The keys are evidence of nothing and would decrypt the media: never in the trace.
    assert!(trace.contains("inline:<key redacted>"), "{trace}");
    assert_eq!(
        trace.matches("inline:").count(),
        trace.matches("inline:<key redacted>").count(),
        "{trace}"
    );
    // What raqib sent, as baresip decrypted and decoded it: the notice.
    let log = std::fs::read_to_string(bs.join("baresip.log")).unwrap();
    assert!(!log.contains("failed to decrypt"), "{log}");
    let decoded = || {
        std::fs::read_dir(&bs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
    };
    peers::wait_until("baresip's recording", Duration::from_secs(5), || {
        decoded().is_some()
    });
    let theirs = decoded().unwrap();
    assert!(
        loudness(&theirs, 0.0) > 100.0,
        "baresip heard raqib's notice: {} in {}",
        loudness(&theirs, 0.0),
        theirs.display()
    );

    // SRTP required but the URI asks for UDP: the keys would travel in clear, so nothing is sent.
    let sips_template = config(
        dir.path(),
        "sips-template.toml",
        &format!(
            "[trunk]\nuri_template = \"sips:{{number}}@127.0.0.1:{port}\"\nsrtp = true\ntrust_ca_files = [\"{}\"]\n",
            ca.display()
        ),
    );
    let r = call(
        &sips_template,
        &data,
        &[
            &format!("sip:uas@127.0.0.1:{};transport=udp", port - 1),
            "--unlisted",
        ],
    );
    assert_eq!(r["outcome"], "error", "{r:#}");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("never sent in clear"),
        "{r:#}"
    );
    assert!(r["sip_trace"].is_null(), "{r:#}");
}
