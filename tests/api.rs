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
    // Seven stored results, one a day in October (their content does not matter to the
    // results endpoint; the scores asked for below are of November).
    let result = serde_json::json!({"target": "+96265000101", "outcome": "busy"});
    let days: Vec<_> = (1..=7)
        .map(|d| (&result, format!("2026-10-{d:02}")))
        .collect();
    peers::copy_results(&data, "a", &days);
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
    // Pages of results, newest first.
    let page = |q: &str| {
        let (status, v) = get(port, &format!("/api/results?{q}"), Some(&viewer));
        assert_eq!(status, 200, "{v}");
        let days: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["started_at"].as_str().unwrap()[..10].to_string())
            .collect();
        (days, v["next_offset"].as_i64())
    };
    let (first, next) = page("limit=5");
    assert_eq!(first[0], "2026-10-07");
    assert_eq!((first.len(), next), (5, Some(5)));
    let (rest, next) = page("limit=5&offset=5");
    assert_eq!(
        (rest, next),
        (
            vec!["2026-10-02".to_string(), "2026-10-01".to_string()],
            None
        )
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
    // The OpenAPI document is served (behind the token like the rest) and validates.
    assert_eq!(get(port, "/api/openapi.json", None).0, 401);
    let (status, doc) = get(port, "/api/openapi.json", Some(&viewer));
    assert_eq!((status, doc["openapi"].as_str()), (200, Some("3.1.0")));
    if peers::python_module("openapi_spec_validator", "openapi-spec-validator") {
        let file = dir.path().join("openapi.json");
        std::fs::write(&file, doc.to_string()).unwrap();
        let check = Command::new("python3")
            .args(["-m", "openapi_spec_validator"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
    }
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
