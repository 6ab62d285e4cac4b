//! `raqib store migrate`: a unit's SQLite history (real lab calls and checks, a label, a user
//! and token, a follow-up case) moved into PostgreSQL reads back the same through every
//! command; a second migration into the filled store is refused; new rows continue after the
//! copied ids.

mod peers;

use std::path::Path;

use peers::{json_lines, raqib_env};
use serde_json::Value;

fn postgres() -> Option<String> {
    peers::postgres_url("store migrate")
}

#[test]
fn store_migrate_moves_a_units_history_to_postgres() {
    let Some(url) = postgres() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (lab, config, data) = peers::lab_with_phones(
        dir.path(),
        &[("+96265000501", "human"), ("+96265000502", "busy")],
        "",
    );
    let csv = dir.path().join("c.csv");
    std::fs::write(
        &csv,
        format!(
            "id,name_ar,name_en,agency,region,timezone,hours,hours_ramadan,phones,websites\n\
             a,مركز أ,A,G,R,Asia/Amman,Sun-Sat 00:00-24:00,Sun-Sat 00:00-24:00,+96265000501;+96265000502,\
             http://{}/ok/jo-amman-civil/\n",
            lab.http
        ),
    )
    .unwrap();
    let sqlite_file = data.join("raqib.sqlite");
    let sqlite = format!("sqlite://{}", sqlite_file.display());
    // Commands on one store or the other.
    let on = |store: &str, args: &[&str]| {
        let out = raqib_env(&config, &data, &[("RAQIB_STORE", store)], args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    on(&sqlite, &["centres", "import", csv.to_str().unwrap()]);
    on(&sqlite, &["sweep", "--channel", "phone"]);
    on(&sqlite, &["sweep", "--channel", "web", "--no-browser"]);
    let answered = json_lines(&on(&sqlite, &["results", "--json"]))
        .into_iter()
        .find(|r| r["outcome"] == "answered")
        .unwrap();
    let id = answered["id"].as_i64().unwrap().to_string();
    on(
        &sqlite,
        &[
            "label",
            &id,
            "--answer-type",
            "ivr",
            "--reason",
            "a menu",
            "--by",
            "auditor",
        ],
    );
    on(&sqlite, &["users", "add", "boss", "--role", "viewer"]);
    let token = String::from_utf8(on(&sqlite, &["users", "token", "boss"]).stdout).unwrap();
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    on(&sqlite, &["cases", "--period", &month]);

    let reads: [&[&str]; 6] = [
        &["results", "--json"],
        &["scores", "--period", &month, "--json"],
        &["centres", "list", "--json"],
        &["users", "list", "--json"],
        &["sweeps", "--json"],
        &["cases", "--period", &month, "--json"],
    ];
    let before: Vec<Vec<Value>> = reads.iter().map(|a| json_lines(&on(&sqlite, a))).collect();
    assert_eq!(before[2][0]["hours_ramadan"], "Sun-Sat 00:00-24:00");

    let out = on(
        &sqlite,
        &[
            "store", "migrate", "--from", &sqlite, "--to", &url, "--json",
        ],
    );
    let copied: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        copied["tables"]["results"], 3,
        "two calls and a site: {copied}"
    );
    assert_eq!(copied["tables"]["labels"], 1);
    assert_eq!(copied["tables"]["api_tokens"], 1);
    assert!(
        !copied["to"].as_str().unwrap().contains(":raqib@"),
        "password shown: {copied}"
    );
    for (args, was) in reads.iter().zip(&before) {
        assert_eq!(&json_lines(&on(&url, args)), was, "{args:?} after the move");
    }
    assert!(token.starts_with("rq_"));

    // A second migration into the filled store is refused and changes nothing.
    let again = raqib_env(
        &config,
        &data,
        &[],
        &["store", "migrate", "--from", &sqlite, "--to", &url],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    // A source that does not exist is bad input, and no empty file is left behind.
    let ghost = dir.path().join("ghost.sqlite");
    let missing = raqib_env(
        &config,
        &data,
        &[],
        &[
            "store",
            "migrate",
            "--from",
            &format!("sqlite://{}", ghost.display()),
            "--to",
            &url,
        ],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(!Path::new(&ghost).exists());

    // New rows continue after the copied ids.
    let max = before[0]
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .max()
        .unwrap();
    let probed = json_lines(&on(&url, &["probe", "call", "+96265000502", "--json"]));
    assert_eq!(probed[0]["id"].as_i64(), Some(max + 1));
}
