//! Sweeps end to end: `raqib lab` as a real process on free loopback ports, centres imported
//! from a CSV that points at it, `raqib sweep` storing each result as it ends, and `raqib
//! results` reading the store while a sweep writes and after one is killed.

mod peers;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use peers::{eventually, json_lines, raqib, start_lab, Lab, BIN};
use serde_json::Value;

struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    data: PathBuf,
    lab: Lab,
}

fn setup(lab_slow_ms: u64, web_slow_ms: u64) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("raqib.toml");
    std::fs::write(
        &config,
        format!(
            "[web]\ntimeout_ms = 30000\nslow_ms = {web_slow_ms}\ncontent_check = \"name_ar\"\ntrust_lab_ca = true\nconcurrency = 4\n\n\
             [lab]\nhttp_listen = \"127.0.0.1:0\"\nhttps_listen = \"127.0.0.1:0\"\nexpired_https_listen = \"127.0.0.1:0\"\nsip_listen = \"127.0.0.1:0\"\nslow_ms = {lab_slow_ms}\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let lab = start_lab(&config, &data);
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (h, s, x) = (&lab.http, &lab.https, &lab.expired);
    let csv = format!(
        "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
jo-amman-civil,مكتب الأحوال المدنية - عمّان,Amman Civil Status Office,Civil Status,Amman,Asia/Amman,Sun-Thu 08:00-15:00,+96265000101,http://{h}/ok/jo-amman-civil/;https://{s}/ok/jo-amman-civil/\n\
jo-irbid-civil,مكتب الأحوال المدنية - إربد,Irbid Civil Status Office,Civil Status,Irbid,Asia/Amman,Sun-Thu 08:00-15:00,+96227000201,http://{h}/slow/jo-irbid-civil/\n\
jo-zarqa-licensing,مركز ترخيص السواقين والمركبات - الزرقاء,Zarqa Licensing,Licensing,Zarqa,Asia/Amman,Sun-Thu 08:30-14:30,+96253000301,http://{h}/error/jo-zarqa-licensing/\n\
sa-riyadh-passports,إدارة الجوازات - الرياض,Riyadh Passports,Passports,Riyadh,Asia/Riyadh,Sun-Thu 08:00-14:30,+966112000401,https://{x}/ok/sa-riyadh-passports/\n\
ae-dubai-economy,مركز خدمة دائرة الاقتصاد - دبي,Dubai Economy,Economy,Dubai,Asia/Dubai,Mon-Fri 07:30-15:30,+97143000601,http://{h}/moved/ae-dubai-economy/\n\
kw-hawalli-civil-id,مركز خدمة البطاقة المدنية - حولي,Hawalli Civil ID,Civil ID,Hawalli,Asia/Kuwait,Sun-Thu 07:30-13:30,+96522001001,http://{closed}/\n\
qa-doha-labour,مركز خدمات وزارة العمل - الدوحة,Doha Labour,Labour,Doha,Asia/Qatar,Sun-Thu 07:00-13:00,+97444000801,http://{h}/ok/jo-amman-civil/\n"
    );
    let csv_path = dir.path().join("centres.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let out = raqib(
        &config,
        &data,
        &["centres", "import", csv_path.to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Setup {
        _dir: dir,
        config,
        data,
        lab,
    }
}

fn outcome_of(results: &[Value], target_part: &str) -> (String, Option<String>) {
    let r = results
        .iter()
        .find(|r| r["target"].as_str().unwrap().contains(target_part))
        .unwrap_or_else(|| panic!("no result for {target_part}"));
    (
        r["outcome"].as_str().unwrap().to_string(),
        r["reason"].as_str().map(String::from),
    )
}

#[test]
fn a_sweep_stores_every_outcome_and_summarises() {
    let s = setup(800, 400);
    let out = raqib(&s.config, &s.data, &["sweep", "--channel", "web", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Piped stderr gets one plain progress line per result.
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(
        progress.contains("[1/8] ") && progress.contains("[8/8] "),
        "{progress}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["status"], "finished");
    assert_eq!(summary["checks"], 8);
    assert_eq!(
        (
            &summary["up"],
            &summary["degraded"],
            &summary["down"],
            &summary["error"]
        ),
        (
            &Value::from(3),
            &Value::from(1),
            &Value::from(4),
            &Value::from(0)
        ),
        "{summary:#}"
    );
    let amman = summary["centres"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["centre"] == "jo-amman-civil")
        .unwrap();
    assert_eq!(
        (amman["checks"].as_i64(), amman["up"].as_i64()),
        (Some(2), Some(2))
    );

    let sweep = summary["sweep"].as_i64().unwrap().to_string();
    let results = json_lines(&raqib(
        &s.config,
        &s.data,
        &["results", "--sweep", &sweep, "--json"],
    ));
    assert_eq!(results.len(), 8);
    let h = &s.lab.http;
    assert_eq!(
        outcome_of(&results, &format!("{h}/ok/jo-amman-civil")).0,
        "up"
    );
    assert_eq!(outcome_of(&results, "/slow/").0, "degraded");
    assert_eq!(
        outcome_of(&results, "/error/"),
        ("down".into(), Some("http_status".into()))
    );
    assert_eq!(
        outcome_of(&results, &s.lab.expired),
        ("down".into(), Some("tls".into()))
    );
    assert_eq!(outcome_of(&results, "/moved/").0, "up");
    let https = results
        .iter()
        .find(|r| r["target"].as_str().unwrap().contains(&s.lab.https))
        .unwrap();
    assert_eq!(https["outcome"], "up");
    assert!(https["tls_days_left"].as_i64().unwrap() > 365 * 40);
    assert!(https["timings_ms"]["tls"].as_f64().unwrap() > 0.0);
    let doha = results
        .iter()
        .find(|r| r["centre"] == "qa-doha-labour")
        .unwrap();
    assert_eq!(
        (doha["outcome"].as_str(), doha["reason"].as_str()),
        (Some("down"), Some("content"))
    );
    let kuwait = results
        .iter()
        .find(|r| r["centre"] == "kw-hawalli-civil-id")
        .unwrap();
    assert_eq!(kuwait["reason"], "connect");
    for r in &results {
        assert_eq!(r["channel"], "web");
        assert_eq!(r["sweep"].as_i64(), summary["sweep"].as_i64());
    }

    // Filters: by centre, channel and date.
    let amman = json_lines(&raqib(
        &s.config,
        &s.data,
        &[
            "results",
            "--centre",
            "jo-amman-civil",
            "--channel",
            "web",
            "--json",
        ],
    ));
    assert_eq!(amman.len(), 2);
    let future = json_lines(&raqib(
        &s.config,
        &s.data,
        &["results", "--since", "2999-01-01", "--json"],
    ));
    assert!(future.is_empty());
    let bad = raqib(&s.config, &s.data, &["results", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_glob_selects_centres_and_a_miss_is_bad_input() {
    let s = setup(100, 50);
    let out = raqib(
        &s.config,
        &s.data,
        &["sweep", "--centres", "jo-*,ae-*", "--json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["checks"], 5);
    let ids: Vec<&str> = summary["centres"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["centre"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "ae-dubai-economy",
            "jo-amman-civil",
            "jo-irbid-civil",
            "jo-zarqa-licensing"
        ]
    );
    let none = raqib(&s.config, &s.data, &["sweep", "--centres", "xx-*"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no centre matches 'xx-*'"));
}

#[test]
fn results_are_readable_while_a_sweep_writes_and_survive_kill_9() {
    // The slow page takes 20 s: the sweep is still running when the fast results are in.
    let s = setup(20_000, 10_000);
    let mut sweep = Command::new(BIN)
        .arg("--config")
        .arg(&s.config)
        .arg("--data-dir")
        .arg(&s.data)
        .args(["sweep", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    eventually(Duration::from_secs(15), || {
        seen = json_lines(&raqib(&s.config, &s.data, &["results", "--json"]));
        seen.len() >= 7
    });
    assert_eq!(
        seen.len(),
        7,
        "fast results were not readable during the sweep"
    );
    assert!(
        sweep.try_wait().unwrap().is_none(),
        "the sweep ended before the slow page answered"
    );
    let status = || {
        let sweeps = json_lines(&raqib(&s.config, &s.data, &["sweeps", "--json"]));
        assert_eq!(sweeps.len(), 1, "{sweeps:?}");
        let w = &sweeps[0];
        (
            w["status"].as_str().unwrap().to_string(),
            w["done"].as_i64(),
            w["total"].as_i64(),
        )
    };
    assert_eq!(status(), ("running".into(), Some(7), Some(8)));
    sweep.kill().unwrap(); // SIGKILL
    sweep.wait().unwrap();
    // Its row still says running; its process is gone: abandoned, with what it had done.
    assert_eq!(status(), ("abandoned".into(), Some(7), Some(8)));
    let after = json_lines(&raqib(&s.config, &s.data, &["results", "--json"]));
    assert_eq!(
        after, seen,
        "results written before kill -9 changed or vanished"
    );
    assert!(after
        .iter()
        .all(|r| !r["target"].as_str().unwrap().contains("/slow/")));
}

#[test]
fn the_store_runs_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mode = rt.block_on(async {
        let store = raqib::store::Store::open_data_dir(dir.path())
            .await
            .unwrap();
        store.journal_mode().await.unwrap()
    });
    assert_eq!(mode, "wal");
}
