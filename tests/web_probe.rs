//! `raqib probe web` against real servers on loopback, started by the test: plain HTTP, HTTPS
//! with a self-signed certificate (untrusted, trusted, expiring), a 500, a server that never
//! answers, redirect chains and loops, a closed port, an `.invalid` name, a slow page and a
//! reply that is not HTTP.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_raqib");
const ARABIC: &str = "مكتب الأحوال المدنية - عمّان";

/// A raw server: each connection gets `reply(request_path)` after `delay`, then closes.
/// `None` as reply: accept and never answer. Threads end with the process.
fn raw_server(
    delay: Duration,
    reply: impl Fn(&str) -> Option<Vec<u8>> + Send + Sync + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let reply = Arc::new(reply);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let reply = reply.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut req = Vec::new();
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&req).to_string();
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                std::thread::sleep(delay);
                match reply(&path) {
                    Some(bytes) => {
                        let _ = stream.write_all(&bytes);
                    }
                    None => std::thread::sleep(Duration::from_secs(30)),
                }
            });
        }
    });
    addr
}

fn http(status: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn page() -> String {
    format!("<!doctype html><html lang=\"ar\" dir=\"rtl\"><body><h1>{ARABIC}</h1></body></html>")
}

/// An HTTPS server with a self-signed certificate for 127.0.0.1 valid for `days` (+1 hour).
fn tls_server(days: i64) -> (SocketAddr, String) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    let not_after = (now + days * 86_400 + 3_600) as u64;
    params.not_after = rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs(not_after);
    params.is_ca = rcgen::IsCa::NoCa;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let pem = cert.pem();
    let certs = vec![cert.der().clone()];
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let Ok(mut conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::Stream::new(&mut conn, &mut stream);
                let mut buf = [0u8; 4096];
                let mut req = Vec::new();
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls.write_all(&http("200 OK", "", &page()));
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    (addr, pem)
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn config(&self, text: &str) -> std::path::PathBuf {
        let p = self.dir.path().join(format!("c{}.toml", fastrand_suffix()));
        std::fs::write(&p, text).unwrap();
        p
    }

    fn probe(&self, config: &Path, args: &[&str]) -> (Output, Option<Value>) {
        let out = Command::new(BIN)
            .arg("--config")
            .arg(config)
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["probe", "web", "--json"])
            .args(args)
            .output()
            .unwrap();
        let v = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .map(|l| serde_json::from_str(l).unwrap());
        (out, v)
    }
}

fn fastrand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

const FAST: &str = "[web]\ntimeout_ms = 1500\nslow_ms = 800\n";

fn run(env: &Env, cfg: &str, url: &str, extra: &[&str]) -> Value {
    let c = env.config(cfg);
    let mut args = vec![url];
    args.extend_from_slice(extra);
    let (out, v) = env.probe(&c, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    v.unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn plain_http_up_with_every_phase_timed() {
    let env = Env::new();
    let body = page();
    let len = body.len();
    let addr = raw_server(Duration::ZERO, move |_| Some(http("200 OK", "", &body)));
    let url = format!("http://{addr}/");
    let r = run(&env, FAST, &url, &[]);
    assert_eq!(
        (r["outcome"].as_str(), r["reason"].as_str()),
        (Some("up"), None),
        "{r:#}"
    );
    assert_eq!(r["http_status"], 200);
    assert_eq!(r["channel"], "web");
    assert!(r["centre"].is_null());
    assert_eq!(r["target"], url.as_str());
    let t = &r["timings_ms"];
    assert_eq!(num(&t["dns"]), 0.0, "an address literal needs no lookup");
    assert!(t["tls"].is_null());
    assert!(
        num(&t["connect"]) >= 0.0 && num(&t["ttfb"]) <= num(&t["total"]),
        "{t}"
    );
    assert_eq!(r["body_bytes"].as_u64(), Some(len as u64));
    assert!(r["tls_days_left"].is_null());
    assert_eq!(r["redirects"], serde_json::json!([]));
    assert!(chrono::DateTime::parse_from_rfc3339(r["started_at"].as_str().unwrap()).is_ok());

    // The content check: present Arabic text passes, absent text is `content`.
    let r = run(&env, FAST, &url, &["--expect", ARABIC]);
    assert_eq!(r["outcome"], "up");
    let r = run(&env, FAST, &url, &["--expect", "وزارة غير موجودة"]);
    assert_eq!(
        (r["outcome"].as_str(), r["reason"].as_str()),
        (Some("down"), Some("content"))
    );

    // Stored, with the same id `results` shows.
    let stored = Command::new(BIN)
        .arg("--data-dir")
        .arg(env.dir.path().join("data"))
        .args(["results", "--json"])
        .output()
        .unwrap();
    let rows: Vec<Value> = String::from_utf8_lossy(&stored.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["id"], r["id"]);
    assert_eq!(rows[2]["reason"], "content");
}

#[test]
fn https_self_signed_untrusted_trusted_and_expiring() {
    let env = Env::new();
    let (addr, pem) = tls_server(45);
    let url = format!("https://{addr}/");
    let r = run(&env, FAST, &url, &[]);
    assert_eq!(
        (r["outcome"].as_str(), r["reason"].as_str()),
        (Some("down"), Some("tls")),
        "{r:#}"
    );
    assert!(r["tls_days_left"].is_null());
    assert!(num(&r["timings_ms"]["tls"]) > 0.0);

    let ca = env.dir.path().join("ca.pem");
    std::fs::write(&ca, &pem).unwrap();
    let trusted = format!("{FAST}trust_ca_files = [\"{}\"]\n", ca.display());
    let r = run(&env, &trusted, &url, &[]);
    assert_eq!(r["outcome"], "up", "{r:#}");
    assert_eq!(r["tls_days_left"], 45);
    assert!(num(&r["timings_ms"]["tls"]) > 0.0);

    // Trusted but expiring within tls_warn_days (14 by default): degraded.
    let (addr, pem) = tls_server(5);
    std::fs::write(&ca, &pem).unwrap();
    let r = run(&env, &trusted, &format!("https://{addr}/"), &[]);
    assert_eq!(r["outcome"], "degraded", "{r:#}");
    assert_eq!(r["tls_days_left"], 5);
    assert_eq!(r["warnings"], serde_json::json!(["tls_expiring"]));
}

#[test]
fn status_timeout_redirects_and_failures() {
    let env = Env::new();
    let e500 = raw_server(Duration::ZERO, |_| {
        Some(http("500 Internal Server Error", "", "oops"))
    });
    let r = run(&env, FAST, &format!("http://{e500}/"), &[]);
    assert_eq!(
        (r["reason"].as_str(), r["http_status"].as_u64()),
        (Some("http_status"), Some(500))
    );
    assert_eq!(r["outcome"], "down");

    let silent = raw_server(Duration::ZERO, |_| None);
    let r = run(&env, FAST, &format!("http://{silent}/"), &[]);
    assert_eq!(
        (r["outcome"].as_str(), r["reason"].as_str()),
        (Some("down"), Some("timeout"))
    );
    let total = num(&r["timings_ms"]["total"]);
    assert!(
        (1500.0..2500.0).contains(&total),
        "timed out after {total} ms"
    );
    assert!(r["timings_ms"]["ttfb"].is_null());

    // A loop a -> b -> a, and a chain of two hops that ends well.
    let lp = raw_server(Duration::ZERO, |path| {
        Some(match path {
            "/a" => http("302 Found", "Location: /b\r\n", ""),
            "/b" => http("301 Moved Permanently", "Location: /a\r\n", ""),
            "/1" => http("302 Found", "Location: /2\r\n", ""),
            "/2" => http("307 Temporary Redirect", "Location: /end\r\n", ""),
            "/end" => http("200 OK", "", &page()),
            "/x1" => http("302 Found", "Location: /x2\r\n", ""),
            "/x2" => http("302 Found", "Location: /x3\r\n", ""),
            "/x3" => http("302 Found", "Location: /x4\r\n", ""),
            _ => http("200 OK", "", "end"),
        })
    });
    let r = run(&env, FAST, &format!("http://{lp}/a"), &[]);
    assert_eq!(
        (r["outcome"].as_str(), r["reason"].as_str()),
        (Some("down"), Some("http_status"))
    );
    assert_eq!(
        r["redirects"],
        serde_json::json!([format!("http://{lp}/b"), format!("http://{lp}/a")])
    );
    assert!(r["detail"].as_str().unwrap().contains("redirect loop"));
    let r = run(&env, FAST, &format!("http://{lp}/1"), &[]);
    assert_eq!(r["outcome"], "up", "{r:#}");
    assert_eq!(
        r["redirects"],
        serde_json::json!([format!("http://{lp}/2"), format!("http://{lp}/end")])
    );
    let two = format!("{FAST}max_redirects = 2\n");
    let r = run(&env, &two, &format!("http://{lp}/x1"), &[]);
    assert_eq!(
        (r["outcome"].as_str(), r["reason"].as_str()),
        (Some("down"), Some("http_status"))
    );
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("more than 2 redirects"),
        "{r:#}"
    );

    // A closed port, a name that cannot resolve, a reply that is not HTTP.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let r = run(&env, FAST, &format!("http://{closed}/"), &[]);
    assert_eq!(
        (r["outcome"].as_str(), r["reason"].as_str()),
        (Some("down"), Some("connect"))
    );
    let r = run(&env, FAST, "http://nowhere.invalid/", &[]);
    assert_eq!(
        (r["outcome"].as_str(), r["reason"].as_str()),
        (Some("down"), Some("dns"))
    );
    assert!(r["timings_ms"]["connect"].is_null());
    let junk = raw_server(Duration::ZERO, |_| {
        Some(b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec())
    });
    let r = run(&env, FAST, &format!("http://{junk}/"), &[]);
    assert_eq!(
        (r["outcome"].as_str(), r["reason"].as_str()),
        (Some("down"), Some("http_status")),
        "{r:#}"
    );
    assert!(r["detail"].as_str().unwrap().contains("malformed"));
}

#[test]
fn a_slow_page_is_degraded() {
    let env = Env::new();
    let body = page();
    let slow = raw_server(Duration::from_millis(1000), move |_| {
        Some(http("200 OK", "", &body))
    });
    let r = run(&env, FAST, &format!("http://{slow}/"), &[]);
    assert_eq!(r["outcome"], "degraded", "{r:#}");
    assert_eq!(r["warnings"], serde_json::json!(["slow"]));
    assert!(num(&r["timings_ms"]["ttfb"]) >= 1000.0);
}

#[test]
fn bad_targets_are_bad_input() {
    let env = Env::new();
    let c = env.config(FAST);
    for target in ["ftp://example.invalid/", "not-a-centre", "http://"] {
        let (out, v) = env.probe(&c, &[target]);
        assert_eq!(out.status.code(), Some(2), "{target}");
        assert!(v.is_none());
        assert!(!out.stderr.is_empty());
    }
}
