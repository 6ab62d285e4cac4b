//! Digest authentication beyond MD5, checked by peers that compute the answer themselves:
//! kamailio's auth module set to SHA-256 (REGISTER and INVITE), and a Python registrar/UAS
//! (`peers/digest_uas.py`, hashlib) for SHA-512-256, several challenges in one response and a
//! trunk that offers only `qop=auth-int`.

mod peers;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use peers::{free_port, have, raqib_with_password, wait_until, Proc};
use serde_json::Value;

fn config(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("raqib.toml");
    std::fs::write(
        &path,
        format!(
            "[call]\ntimer_t1_ms = 50\n[trunk]\nuri_template = \"sip:{{number}}@127.0.0.1:{port}\"\nusername = \"raqib\"\npassword_env = \"RAQIB_TEST_TRUNK_PASSWORD\"\nregister_expires = 60\n"
        ),
    )
    .unwrap();
    path
}

fn json(config: &Path, data: &Path, password: &str, args: &[&str]) -> Value {
    let out = raqib_with_password(config, data, Some(password), args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The Python peer offering `offer`; its port and the lines it prints after `ready`.
fn digest_uas(offer: &str) -> (Proc, u16, Arc<Mutex<Vec<String>>>) {
    let mut child = Command::new("python3")
        .args(["tests/peers/digest_uas.py", "s3cret-lab", offer])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let proc = Proc(child);
    let ready = lines.next().unwrap().unwrap();
    let port = ready.strip_prefix("ready ").unwrap().parse().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            keep.lock().unwrap().push(l);
        }
    });
    (proc, port, seen)
}

fn saw(seen: &Arc<Mutex<Vec<String>>>, line: &str) {
    wait_until(
        &format!("the peer to print {line:?}"),
        Duration::from_secs(5),
        || seen.lock().unwrap().iter().any(|l| l == line),
    );
}

#[test]
fn the_strongest_of_several_challenges_is_answered_and_verified() {
    if !have("python3", "python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Three challenges in one 401/407, strongest in the middle.
    let (_peer, port, seen) = digest_uas("MD5,SHA-512-256,SHA-256");
    let cfg = config(dir.path(), port);
    let reg = json(&cfg, &data, "s3cret-lab", &["probe", "register", "--json"]);
    assert_eq!(
        (reg["ok"].as_bool(), reg["status"].as_u64()),
        (Some(true), Some(200)),
        "{reg:#}"
    );
    assert_eq!(reg["authenticated"], true);
    saw(&seen, "verified SHA-512-256 REGISTER");
    let uri = format!("sip:uas@127.0.0.1:{port}");
    let call = json(
        &cfg,
        &data,
        "s3cret-lab",
        &["probe", "call", "--json", "--unlisted", &uri],
    );
    // The peer answers good credentials with 486: the call got past authentication.
    assert_eq!(
        (call["outcome"].as_str(), call["sip_status"].as_u64()),
        (Some("busy"), Some(486)),
        "{call:#}"
    );
    saw(&seen, "verified SHA-512-256 INVITE");
    // A wrong password is computed with the same algorithm and refused by the peer.
    let bad = json(&cfg, &data, "wrong", &["probe", "register", "--json"]);
    assert_eq!(bad["ok"], false, "{bad:#}");
    saw(&seen, "refused SHA-512-256 REGISTER");
    assert!(
        !seen.lock().unwrap().iter().any(|l| l.contains("MD5")),
        "a weaker challenge was answered: {:?}",
        seen.lock().unwrap()
    );

    // SHA-256 beside MD5 only: SHA-256.
    let (_peer, port, seen) = digest_uas("MD5,SHA-256");
    let cfg = config(dir.path(), port);
    let reg = json(&cfg, &data, "s3cret-lab", &["probe", "register", "--json"]);
    assert_eq!(reg["ok"], true, "{reg:#}");
    saw(&seen, "verified SHA-256 REGISTER");
}

#[test]
fn a_trunk_offering_only_auth_int_is_refused_clearly_and_not_retried() {
    if !have("python3", "python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_peer, port, seen) = digest_uas("auth-int:SHA-256,MD5");
    let cfg = config(dir.path(), port);
    let reg = json(&cfg, &data, "s3cret-lab", &["probe", "register", "--json"]);
    assert_eq!(
        (reg["ok"].as_bool(), reg["status"].as_u64()),
        (Some(false), Some(401)),
        "{reg:#}"
    );
    assert_eq!(reg["authenticated"], false);
    assert!(
        reg["detail"].as_str().unwrap().contains("qop=auth-int"),
        "{reg:#}"
    );
    let uri = format!("sip:uas@127.0.0.1:{port}");
    let call = json(
        &cfg,
        &data,
        "s3cret-lab",
        &["probe", "call", "--json", "--unlisted", &uri],
    );
    // raqib's limit, not the centre's: outcome error, which never counts.
    assert_eq!(
        (call["outcome"].as_str(), call["sip_status"].as_u64()),
        (Some("error"), Some(407)),
        "{call:#}"
    );
    assert!(
        call["detail"].as_str().unwrap().contains("qop=auth-int"),
        "{call:#}"
    );
    let trace = std::fs::read_to_string(call["sip_trace"].as_str().unwrap()).unwrap();
    assert_eq!(trace.matches("INVITE sip:").count(), 1, "retried: {trace}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "credentials were sent: {:?}",
        seen.lock().unwrap()
    );
}

#[test]
fn kamailio_checks_sha256_on_register_and_invite() {
    if !have("kamailio", "kamailio") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    // Behind kamailio: the lab's UAS, which answers.
    let lab_cfg = dir.path().join("lab.toml");
    std::fs::write(&lab_cfg, peers::LAB_PORTS).unwrap();
    let lab = peers::start_lab(&lab_cfg, &dir.path().join("lab-data"));
    let uas_port: u16 = lab.sip.rsplit_once(':').unwrap().1.parse().unwrap();
    let _proxy = peers::kamailio(
        dir.path(),
        "kamailio-sha256.cfg",
        &[
            ("PROXY_PORT", port.to_string()),
            ("UAS_PORT", uas_port.to_string()),
        ],
        port,
    );
    let cfg = config(dir.path(), port);
    let reg = json(&cfg, &data, "s3cret-lab", &["probe", "register", "--json"]);
    assert_eq!(
        (reg["ok"].as_bool(), reg["status"].as_u64()),
        (Some(true), Some(200)),
        "{reg:#}"
    );
    assert_eq!(reg["expires"], 60);
    let bad = json(&cfg, &data, "wrong", &["probe", "register", "--json"]);
    assert_eq!(
        (bad["ok"].as_bool(), bad["status"].as_u64()),
        (Some(false), Some(401)),
        "{bad:#}"
    );
    assert_eq!(bad["detail"], "credentials refused");

    let uri = format!("sip:answer-200@127.0.0.1:{port}");
    let args = [
        "probe",
        "call",
        "--json",
        "--unlisted",
        "--after-answer",
        "hangup",
        &uri,
    ];
    let ok = json(&cfg, &data, "s3cret-lab", &args);
    assert_eq!(ok["outcome"], "answered", "{ok:#}");
    let trace = std::fs::read_to_string(ok["sip_trace"].as_str().unwrap()).unwrap();
    assert!(
        trace.contains("algorithm=SHA-256"),
        "kamailio did not ask for SHA-256: {trace}"
    );
    assert!(trace.contains("Proxy-Authorization: <credentials redacted>"));
    let bad = json(&cfg, &data, "wrong", &args);
    assert_eq!(
        (bad["outcome"].as_str(), bad["sip_status"].as_u64()),
        (Some("rejected"), Some(407)),
        "{bad:#}"
    );
    assert_eq!(bad["detail"], "credentials refused");
}
