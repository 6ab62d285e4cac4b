//! Scores, flags, labels and cases end to end: `raqib lab` as a real process whose numbers
//! answer as a person or are busy, two real phone sweeps through it, and the threshold rule
//! landing each centre in its expected class.

mod peers;

use std::path::Path;

use peers::{json_lines, raqib, start_lab, LAB_PORTS};
use serde_json::Value;

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Centre → its numbers' lab behaviours.
const CENTRES: [(&str, &[&str]); 4] = [
    // Every call reaches a person: clear.
    ("t-always", &["human"; 5]),
    // Always busy: score 0 with a zero-width interval, confirmed.
    ("t-never", &["busy"; 5]),
    // 3 of 5 numbers reach a person: a mean of 60 whose interval crosses 60, provisional.
    ("t-sometimes", &["human", "human", "human", "busy", "busy"]),
    // Two calls in all: under the month's minimum of 5, insufficient data.
    ("t-few", &["human"]),
];

/// Copies of a stored result, re-dated to each of `days`, for the case history.
fn backdate(data: &Path, centre: &str, from: &Value, days: &[&str]) {
    let copies: Vec<_> = days.iter().map(|d| (from, d.to_string())).collect();
    peers::copy_results(data, centre, &copies);
}

#[test]
fn a_lab_sweep_lands_each_centre_in_its_class() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut phones = String::from("[lab.phones]\n");
    let mut csv = String::from("id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n");
    for (i, (id, behaviours)) in CENTRES.iter().enumerate() {
        let numbers: Vec<String> = (0..behaviours.len())
            .map(|j| format!("+9626500{i}{j:03}"))
            .collect();
        for (n, b) in numbers.iter().zip(behaviours.iter()) {
            phones += &format!("\"{n}\" = \"{b}\"\n");
        }
        csv += &format!(
            "{id},مركز {i},Centre {i},Agency T,R,Asia/Amman,Sun-Sat 00:00-24:00,{},\n",
            numbers.join(";")
        );
    }
    let lab_config = dir.path().join("lab.toml");
    write(&lab_config, &format!("{LAB_PORTS}{phones}"));
    let lab = start_lab(&lab_config, &data.join("lab"));
    let config = dir.path().join("raqib.toml");
    write(
        &config,
        &format!(
            "[trunk]\nuri_template = \"sip:{{number}}@{}\"\nmax_channels = 16\n\
             [call]\nring_timeout_secs = 10\n\
             [guard]\nallow_prefixes = [\"+962\"]\n\
             [scoring]\nfollow_up_days = 0\n",
            lab.sip
        ),
    );
    let csv_path = dir.path().join("c.csv");
    write(&csv_path, &csv);
    ok(&raqib(
        &config,
        &data,
        &["centres", "import", csv_path.to_str().unwrap()],
    ));
    for _ in 0..2 {
        ok(&raqib(&config, &data, &["sweep", "--channel", "phone"]));
    }
    // Today ± 1 day (UTC): the sweeps' period whatever the hour.
    let today = chrono::Utc::now().date_naive();
    let period = format!(
        "{}..{}",
        today - chrono::Duration::days(1),
        today + chrono::Duration::days(1)
    );
    let scores = |args: &[&str]| {
        let mut all = vec!["scores", "--period", &period, "--json"];
        all.extend(args);
        json_lines(&raqib(&config, &data, &all))
    };
    let first = scores(&[]);
    assert_eq!(first.len(), 4);
    let by_id = |rows: &[Value], id: &str| -> Value {
        rows.iter()
            .find(|r| r["centre"] == id)
            .unwrap_or_else(|| panic!("no {id}"))
            .clone()
    };
    let class = |rows: &[Value], id: &str| by_id(rows, id)["flag"].as_str().unwrap().to_string();
    let always = by_id(&first, "t-always");
    assert_eq!(always["phone"]["valid_calls"], 10, "{always:#}");
    assert_eq!(class(&first, "t-always"), "clear", "{always:#}");
    assert!(always["phone"]["score"]["value"].as_f64().unwrap() >= 90.0);
    let never = by_id(&first, "t-never");
    assert_eq!(class(&first, "t-never"), "confirmed", "{never:#}");
    assert_eq!(never["phone"]["score"]["high"], 0.0);
    assert_eq!(never["phone"]["answer_rate"]["value"], 0.0);
    let sometimes = by_id(&first, "t-sometimes");
    assert_eq!(class(&first, "t-sometimes"), "provisional", "{sometimes:#}");
    let s = &sometimes["phone"]["score"];
    assert!(s["value"].as_f64().unwrap() <= 60.0 && s["high"].as_f64().unwrap() > 60.0);
    // 6 of 10 answered: the Wilson interval of 60 % at n = 10 is 31.3–83.2 %.
    let rate = &sometimes["phone"]["answer_rate"];
    assert_eq!(
        (
            rate["value"].as_f64(),
            rate["low"].as_f64(),
            rate["high"].as_f64()
        ),
        (Some(60.0), Some(31.3), Some(83.2)),
        "{rate}"
    );
    let few = by_id(&first, "t-few");
    assert_eq!(few["phone"]["valid_calls"], 2);
    assert_eq!(class(&first, "t-few"), "insufficient_data");

    // The same store gives the same numbers, intervals included.
    assert_eq!(scores(&[]), first, "scores must reproduce exactly");

    // Flags: exactly the confirmed and the provisional centre, confirmed first.
    let flags = json_lines(&raqib(
        &config,
        &data,
        &["flags", "--period", &period, "--json"],
    ));
    let flagged: Vec<(&str, &str)> = flags
        .iter()
        .map(|f| (f["centre"].as_str().unwrap(), f["class"].as_str().unwrap()))
        .collect();
    assert_eq!(
        flagged,
        [("t-never", "confirmed"), ("t-sometimes", "provisional")]
    );

    // The verdict step opened one case each for the month (cases follow the alerts' period,
    // a month by default; a three-day window opens none), due at once here
    // (follow_up_days = 0): overdue.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let cases = json_lines(&raqib(
        &config,
        &data,
        &["cases", "--period", &month, "--json"],
    ));
    let open: Vec<(&str, &str)> = cases
        .iter()
        .map(|c| (c["centre"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(open, [("t-never", "overdue"), ("t-sometimes", "overdue")]);

    // An auditor relabels one of t-sometimes' person calls as voicemail: its score falls from
    // 100 to 55 and the centre's mean with it; the label is kept with who and why.
    let results = json_lines(&raqib(
        &config,
        &data,
        &["results", "--centre", "t-sometimes", "--json"],
    ));
    let answered = results
        .iter()
        .find(|r| r["outcome"] == "answered")
        .expect("an answered call");
    let id = answered["id"].as_i64().unwrap().to_string();
    let before = sometimes["phone"]["score"]["value"].as_f64().unwrap();
    let out = raqib(
        &config,
        &data,
        &[
            "label",
            &id,
            "--answer-type",
            "voicemail",
            "--reason",
            "a recorded message, no clerk",
            "--by",
            "auditor-1",
            "--json",
        ],
    );
    ok(&out);
    let label: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (label["by"].as_str(), label["score"].as_f64()),
        (Some("auditor-1"), Some(55.0))
    );
    let after = by_id(&scores(&["--centre", "t-sometimes"]), "t-sometimes");
    let now = after["phone"]["score"]["value"].as_f64().unwrap();
    assert!((before - now - 4.5).abs() < 0.051, "{before} → {now}");

    // A busy call has nothing to label: bad input, nothing stored.
    let busy = json_lines(&raqib(
        &config,
        &data,
        &["results", "--centre", "t-never", "--json"],
    ))[0]["id"]
        .to_string();
    let out = raqib(
        &config,
        &data,
        &["label", &busy, "--answer-type", "human", "--reason", "x"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only answered calls"));
    let out = raqib(&config, &data, &["scores", "--period", "2026-13"]);
    assert_eq!(out.status.code(), Some(2));

    // A case's life: t-always was weak in 2026-09 (five busy calls: confirmed), the flag opens
    // a case; a clear 2026-10 (five calls reaching a person) closes it; trends see the change.
    let good = results
        .iter()
        .find(|r| r["outcome"] == "answered" && r["id"].as_i64().unwrap().to_string() != id)
        .unwrap();
    let busy_call = &json_lines(&raqib(
        &config,
        &data,
        &["results", "--centre", "t-never", "--json"],
    ))[0];
    let sept = [
        "2026-09-01",
        "2026-09-02",
        "2026-09-03",
        "2026-09-06",
        "2026-09-07",
    ];
    let oct = [
        "2026-10-04",
        "2026-10-05",
        "2026-10-06",
        "2026-10-07",
        "2026-10-08",
    ];
    backdate(&data, "t-always", busy_call, &sept);
    backdate(&data, "t-always", good, &oct);
    let class_in = |p: &str| {
        let rows = json_lines(&raqib(
            &config,
            &data,
            &["scores", "--period", p, "--centre", "t-always", "--json"],
        ));
        rows[0]["flag"].as_str().unwrap().to_string()
    };
    assert_eq!(
        (class_in("2026-09"), class_in("2026-10")),
        ("confirmed".into(), "clear".into())
    );
    let case_of = |p: &str| {
        json_lines(&raqib(&config, &data, &["cases", "--period", p, "--json"]))
            .into_iter()
            .find(|c| c["centre"] == "t-always")
            .unwrap()
    };
    let opened = case_of("2026-09");
    assert_eq!(
        (opened["class"].as_str(), opened["period"].as_str()),
        (Some("confirmed"), Some("2026-09"))
    );
    let closed = case_of("2026-10");
    assert_eq!(
        (
            closed["status"].as_str(),
            closed["closed_by_period"].as_str()
        ),
        (Some("closed"), Some("2026-10"))
    );
    let trends = json_lines(&raqib(
        &config,
        &data,
        &["trends", "--period", "2026-10", "--json"],
    ));
    let t = trends.iter().find(|t| t["centre"] == "t-always").unwrap();
    assert_eq!(t["against"], "2026-09");
    assert_eq!(t["phone"]["trend"], "improved", "{t:#}");
    assert_eq!(t["phone"]["change"]["value"], 100.0);
    let agencies = trends.last().unwrap();
    assert_eq!(agencies["agencies"][0]["improved"], 1, "{agencies}");
    drop(lab);
}
