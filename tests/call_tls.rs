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
