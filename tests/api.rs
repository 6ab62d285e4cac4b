//! The JSON API of `raqib serve --listen`: no endpoint answers without a token except
//! `/healthz`, a wrong token is 401, a viewer may read but not list users (403), an admin
//! may; a removed user's token stops working; tokens are stored hashed.

mod peers;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use peers::{free_port, raqib, Proc, BIN};
use serde_json::Value;

/// One HTTP/1.1 request; (status, JSON body).
fn get(port: u16, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or("");
    // Chunked or not, the JSON object is the text between the outer braces.
    let json = &body[body.find('{').unwrap_or(0)..=body.rfind('}').unwrap_or(0)];
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_string()
}

fn token(config: &Path, data: &Path, user: &str) -> String {
    ok(&raqib(config, data, &["users", "token", user]))
}

#[test]
fn every_endpoint_needs_a_token_of_the_right_role() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("raqib.toml");
    std::fs::write(&config, "").unwrap();
    let csv = dir.path().join("c.csv");
    std::fs::write(
        &csv,
        "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
         a,مركز,A,G,R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000101,\n",
    )
    .unwrap();
    ok(&raqib(
        &config,
        &data,
        &["centres", "import", csv.to_str().unwrap()],
    ));
    ok(&raqib(
        &config,
        &data,
        &["users", "add", "minister", "--role", "viewer"],
    ));
    ok(&raqib(
        &config,
        &data,
        &["users", "add", "root", "--role", "admin"],
    ));
    let dup = raqib(
        &config,
        &data,
        &["users", "add", "root", "--role", "viewer"],
    );
    assert_eq!(dup.status.code(), Some(2));
    let viewer = token(&config, &data, "minister");
    let admin = token(&config, &data, "root");
    assert!(viewer.starts_with("rq_") && viewer.len() > 40 && viewer != admin);
    assert_eq!(
        raqib(&config, &data, &["users", "token", "nobody"])
            .status
            .code(),
        Some(2)
    );

    let port = free_port();
    let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
    let _serve = Proc(
        Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the API never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get(port, "/healthz", None).0, 200);
    for path in [
        "/api/centres",
        "/api/results",
        "/api/scores",
        "/api/flags",
        "/api/users",
    ] {
        assert_eq!(get(port, path, None).0, 401, "{path} without a token");
        assert_eq!(
            get(port, path, Some("rq_wrong")).0,
            401,
            "{path} with a wrong token"
        );
    }
    let (status, centres) = get(port, "/api/centres", Some(&viewer));
    assert_eq!(status, 200);
    assert_eq!(
        (
            centres["total"].as_u64(),
            centres["items"][0]["id"].as_str()
        ),
        (Some(1), Some("a"))
    );
    let (status, results) = get(port, "/api/results?limit=5&offset=0", Some(&viewer));
    assert_eq!(
        (status, results["total"].as_u64(), results["limit"].as_u64()),
        (200, Some(0), Some(5))
    );
    assert_eq!(get(port, "/api/results?limit=x", Some(&viewer)).0, 400);
    let (status, scores) = get(port, "/api/scores?period=2026-11", Some(&viewer));
    assert_eq!((status, scores["period"].as_str()), (200, Some("2026-11")));
    assert_eq!(
        get(port, "/api/scores?period=nonsense", Some(&viewer)).0,
        400
    );
    assert_eq!(get(port, "/api/users", Some(&viewer)).0, 403);
    let (status, users) = get(port, "/api/users", Some(&admin));
    assert_eq!((status, users["total"].as_u64()), (200, Some(2)));
    assert_eq!(get(port, "/api/nothing", Some(&admin)).0, 404);
    // Removing a user revokes their token at once.
    ok(&raqib(&config, &data, &["users", "remove", "minister"]));
    assert_eq!(get(port, "/api/centres", Some(&viewer)).0, 401);
    // The store holds no token, only hashes.
    let db = std::fs::read(data.join("raqib.sqlite")).unwrap();
    let wal = std::fs::read(data.join("raqib.sqlite-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(admin.len()).any(|w| w == admin.as_bytes()));
    }
}
