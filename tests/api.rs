//! The JSON API of `raqib serve --listen`: no endpoint answers without a token except
//! `/healthz`, a wrong token is 401, a viewer may read but not list users (403), an admin
//! may; a removed user's token stops working; tokens are stored hashed.

mod peers;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use peers::raqib;
use serde_json::Value;

/// One HTTP/1.1 request: (status, head, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    write!(s, "{head}Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    // Binary bodies (a recording) are read as text lossily: the tests look at their start.
    let raw = String::from_utf8_lossy(&bytes);
    let status = raw[9..12].parse().unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    (status, head.to_string(), body.to_string())
}

/// The JSON object of a body (chunked or not: the text between the outer braces).
fn json_of(body: &str) -> Value {
    let json = &body[body.find('{').unwrap_or(0)..=body.rfind('}').unwrap_or(0)];
    serde_json::from_str(json).unwrap_or(Value::Null)
}

/// One request with an optional bearer token; (status, JSON body).
fn call(port: u16, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    let (status, _, body) = http(port, method, path, &headers, body);
    (status, json_of(&body))
}

fn get(port: u16, path: &str, token: Option<&str>) -> (u16, Value) {
    call(port, "GET", path, token, "")
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

    let (_serve, port) = peers::serve_listen(&config, &data, &dir.path().join("serve.log"), &[]);
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
    let bytes = peers::store_bytes(&data);
    assert!(bytes.len() > 1000);
    assert!(!bytes.windows(admin.len()).any(|w| w == admin.as_bytes()));
}

/// Every route of the OpenAPI document refuses a request without a token (401); writes need
/// the auditor role (403 for a viewer) and a bearer token (a dashboard cookie is not enough);
/// an auditor probes (a real lab call; a number outside the registry is refused by the guard
/// and stored as such) and labels through the API; cases, sweeps and labels are listed;
/// dashboard sessions start with a password, end with sign-out, and evidence is served only
/// inside the evidence directory and only when signed in.
#[test]
fn writes_need_an_auditor_and_sessions_guard_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let (_lab, config, data) = peers::lab_with_phones(dir.path(), &[("+96265000101", "human")], "");
    let csv = dir.path().join("c.csv");
    std::fs::write(
        &csv,
        "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
         a,مركز,A,G,R,Asia/Amman,Sun-Sat 00:00-24:00,+96265000101,\n",
    )
    .unwrap();
    ok(&raqib(
        &config,
        &data,
        &["centres", "import", csv.to_str().unwrap()],
    ));
    for (user, role) in [("boss", "viewer"), ("aud", "auditor")] {
        ok(&raqib(
            &config,
            &data,
            &["users", "add", user, "--role", role],
        ));
    }
    let viewer = token(&config, &data, "boss");
    let auditor = token(&config, &data, "aud");
    let (_serve, port) = peers::serve_listen(&config, &data, &dir.path().join("serve.log"), &[]);

    // Every documented route and method: 401 without a token.
    let (_, doc) = get(port, "/api/openapi.json", Some(&viewer));
    let mut routes = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let path = path.replace("{id}", "1");
        for method in ops.as_object().unwrap().keys() {
            let status = call(port, &method.to_uppercase(), &path, None, "{}").0;
            let expected = if path == "/healthz" { 200 } else { 401 };
            assert_eq!(status, expected, "{method} {path} without a token");
            routes += 1;
        }
    }
    assert!(routes >= 13, "{routes} routes documented");
    assert_eq!(
        call(port, "DELETE", "/api/centres", Some(&viewer), "").0,
        405
    );

    // A viewer reads but may not probe or label.
    let probe = r#"{"channel": "phone", "target": "+96265000101"}"#;
    assert_eq!(
        call(port, "POST", "/api/probe", Some(&viewer), probe).0,
        403
    );
    let label = |id: i64| {
        format!(r#"{{"result": {id}, "answer_type": "ivr", "reason": "a menu in Arabic"}}"#)
    };
    assert_eq!(
        call(port, "POST", "/api/labels", Some(&viewer), &label(1)).0,
        403
    );

    // An auditor probes: a real call through the lab, answered and stored.
    let (status, probed) = call(port, "POST", "/api/probe", Some(&auditor), probe);
    assert_eq!(status, 200, "{probed}");
    let call_id = probed["items"][0]["id"].as_i64().unwrap();
    assert_eq!(
        (
            probed["total"].as_u64(),
            probed["items"][0]["outcome"].as_str()
        ),
        (Some(1), Some("answered"))
    );
    // A number outside the registry is refused by the guard, never dialled, and stored.
    let (status, refused) = call(
        port,
        "POST",
        "/api/probe",
        Some(&auditor),
        r#"{"channel": "phone", "target": "+96265009999"}"#,
    );
    assert_eq!(status, 200, "{refused}");
    assert_eq!(refused["items"][0]["outcome"], "refused");
    for bad in [
        r#"{"channel": "fax", "target": "a"}"#,
        r#"{"channel": "phone", "target": "nowhere"}"#,
        r#"{"channel": "phone"}"#,
        r#"{"channel": "phone", "target": "a", "extra": 1}"#,
        "not json",
    ] {
        let (status, v) = call(port, "POST", "/api/probe", Some(&auditor), bad);
        assert_eq!(status, 400, "{bad}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    // The auditor labels the answered call; a refused one cannot be labelled.
    let (status, labelled) = call(port, "POST", "/api/labels", Some(&auditor), &label(call_id));
    assert_eq!(status, 201, "{labelled}");
    assert_eq!(
        (labelled["by"].as_str(), labelled["answer_type"].as_str()),
        (Some("aud"), Some("ivr"))
    );
    let refused_id = refused["items"][0]["id"].as_i64().unwrap();
    let (status, v) = call(
        port,
        "POST",
        "/api/labels",
        Some(&auditor),
        &label(refused_id),
    );
    assert_eq!(status, 400);
    assert!(
        v["error"].as_str().unwrap().contains("only answered calls"),
        "{v}"
    );

    // Reads: the result with its label, labels by result, cases, sweeps, one centre.
    let (status, one) = get(port, &format!("/api/results/{call_id}"), Some(&viewer));
    assert_eq!(status, 200);
    assert_eq!(one["labels"][0]["reason"], "a menu in Arabic");
    assert_eq!(one["scoring"]["counts"], true);
    assert_eq!(get(port, "/api/results/999999", Some(&viewer)).0, 404);
    assert_eq!(get(port, "/api/results/x", Some(&viewer)).0, 400);
    let (_, labels) = get(
        port,
        &format!("/api/labels?result={call_id}"),
        Some(&viewer),
    );
    assert_eq!(labels["total"], 1);
    assert_eq!(get(port, "/api/labels?result=x", Some(&viewer)).0, 400);
    let (status, cases) = get(port, "/api/cases", Some(&viewer));
    assert_eq!((status, cases["items"].is_array()), (200, true));
    assert_eq!(get(port, "/api/cases?status=pending", Some(&viewer)).0, 400);
    let (status, sweeps) = get(port, "/api/sweeps", Some(&viewer));
    assert_eq!(
        (status, sweeps["total"].as_u64()),
        (200, Some(0)),
        "on-demand probes are no sweep"
    );
    // Lists come a page at a time.
    let (_, two) = get(port, "/api/results?limit=1", Some(&viewer));
    assert_eq!(two["next_offset"], 1);
    let (_, first) = get(port, "/api/labels?limit=1&offset=0", Some(&viewer));
    assert_eq!(
        (first["total"].as_u64(), first["next_offset"].as_u64()),
        (Some(1), None)
    );
    let (_, none) = get(port, "/api/labels?limit=1&offset=1", Some(&viewer));
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(get(port, "/api/centres?limit=0x", Some(&viewer)).0, 400);
    let (status, centre) = get(port, "/api/centres/a", Some(&viewer));
    assert_eq!(
        (status, centre["phones"][0].as_str()),
        (200, Some("+96265000101"))
    );
    assert_eq!(get(port, "/api/centres/zz", Some(&viewer)).0, 404);
    let (_, phone) = get(port, "/api/results?channel=phone", Some(&viewer));
    assert_eq!(phone["items"].as_array().unwrap().len(), 2);
    assert_eq!(get(port, "/api/results?channel=fax", Some(&viewer)).0, 400);

    // Dashboard: signed out, pages send to /login and evidence is refused.
    let recording = one["recording"].as_str().unwrap().to_string();
    let rel = &recording[recording.find("/evidence/").unwrap()..];
    let (status, head, _) = http(port, "GET", rel, &[], "");
    assert_eq!(status, 303);
    assert!(head.contains("location: /login?next="), "{head}");
    // A bearer token reads evidence; nothing outside the evidence directory is served.
    let auth = format!("Bearer {viewer}");
    let (status, head, body) = http(port, "GET", rel, &[("Authorization", &auth)], "");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: audio/wav") && body.starts_with("RIFF"));
    for sneaky in [
        "/evidence/../raqib.sqlite",
        "/evidence/%2e%2e/raqib.sqlite",
        "/evidence/..%2fraqib.sqlite",
        "/evidence/",
    ] {
        let (status, _, _) = http(port, "GET", sneaky, &[("Authorization", &auth)], "");
        assert_eq!(status, 404, "{sneaky}");
    }
    // Sign-in with a password: wrong is 401, right gives an HttpOnly session cookie.
    assert_eq!(
        peers::set_password(&config, &data, "boss", "short"),
        Some(2),
        "a short password is bad input"
    );
    assert_eq!(
        peers::set_password(&config, &data, "boss", "a long viewer password"),
        Some(0)
    );
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let (status, _, _) = http(
        port,
        "POST",
        "/login",
        &form,
        "name=boss&password=wrong+one+entirely&next=%2F",
    );
    assert_eq!(status, 401);
    let (status, _, _) = http(
        port,
        "POST",
        "/login",
        &form,
        "name=nobody&password=x&next=%2F",
    );
    assert_eq!(status, 401);
    let (status, head, _) = http(
        port,
        "POST",
        "/login",
        &form,
        "name=boss&password=a+long+viewer+password&next=https%3A%2F%2Fevil.invalid%2F",
    );
    assert_eq!(status, 303);
    assert!(
        head.contains("location: /\r\n"),
        "never redirected off the site: {head}"
    );
    let cookie_line = head
        .lines()
        .find(|l| l.starts_with("set-cookie: raqib_session="))
        .unwrap();
    assert!(cookie_line.contains("HttpOnly") && cookie_line.contains("SameSite=Strict"));
    let session = cookie_line["set-cookie: ".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let with_cookie = [("Cookie", session.as_str())];
    let (status, _, page) = http(port, "GET", "/", &with_cookie, "");
    assert_eq!(status, 200);
    assert!(page.contains("dir=\"rtl\""));
    // The session reads the API but cannot write through it (a cross-site form could).
    assert_eq!(http(port, "GET", "/api/centres", &with_cookie, "").0, 200);
    let cookie_and_json = [
        ("Cookie", session.as_str()),
        ("Content-Type", "application/json"),
    ];
    assert_eq!(
        http(port, "POST", "/api/probe", &cookie_and_json, probe).0,
        401
    );
    // Forms without the session's form token are refused; with it, sign-out ends the session.
    let cookie_and_form = [
        ("Cookie", session.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    assert_eq!(
        http(port, "POST", "/logout", &cookie_and_form, "_csrf=forged").0,
        403
    );
    let start = page.find("name=\"_csrf\" value=\"").unwrap() + 20;
    let csrf = &page[start..start + 64];
    let (status, _, _) = http(
        port,
        "POST",
        "/logout",
        &cookie_and_form,
        &format!("_csrf={csrf}"),
    );
    assert_eq!(status, 303);
    assert_eq!(
        http(port, "GET", "/", &with_cookie, "").0,
        303,
        "the session ended"
    );
    // Passwords are not stored as such.
    let bytes = peers::store_bytes(&data);
    let needle = b"a long viewer password";
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
}
