//! One verdict per centre and period, computed once by the verdict step and read by every
//! surface: `scores --json`, `/api/scores`, the report JSON, the dashboard and an alert carry
//! the same figures for the same centre. Real lab calls and a real web check feed it; a new
//! result refreshes the stored verdict; cases open in the verdict step, not in `flags`.

mod peers;

use peers::ok;

use chrono::{Timelike, Utc};
use peers::{http, json_lines, json_of, raqib};
use serde_json::Value;

/// (value, low, high) of a `{"value", "low", "high"}` estimate.
fn triple(e: &Value) -> (f64, f64, f64) {
    (
        e["value"].as_f64().unwrap(),
        e["low"].as_f64().unwrap(),
        e["high"].as_f64().unwrap(),
    )
}

#[test]
fn every_surface_reads_the_same_stored_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, config, data) = peers::lab_with_phones(
        dir.path(),
        &[
            ("+96265000201", "human"),
            ("+96265000202", "busy"),
            ("+96265000203", "not_in_service"),
        ],
        "max_calls_per_number_per_day = 20\n",
    );
    // c is closed now (a one-hour window twelve hours away): its dead number is still critical.
    let closed = (Utc::now().hour() + 12) % 24;
    let month = Utc::now().format("%Y-%m").to_string();
    let today = Utc::now().format("%Y-%m-%d").to_string();
    peers::import_centres(
        &config,
        &data,
        &format!(
            "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
             a,مركز أ,Centre A,Agency V,R,UTC,Sun-Sat 00:00-24:00,+96265000201,\n\
             b,مركز ب,Centre B,Agency V,R,UTC,Sun-Sat 00:00-24:00,+96265000202,\n\
             c,مركز ج,Centre C,Agency V,R,UTC,Sun-Sat {closed:02}:00-{:02}:00,+96265000203,http://{}/ok/jo-amman-civil/\n",
            closed + 1,
            lab.http
        ),
    );
    let mut calls = Vec::new();
    for id in ["a", "b", "c"] {
        calls.push(json_lines(&raqib(&config, &data, &["probe", "call", id, "--json"])).remove(0));
    }
    assert_eq!(calls[2]["outcome"], "not_in_service");
    assert_eq!(calls[2]["in_hours"], false);
    let web = json_lines(&raqib(
        &config,
        &data,
        &["probe", "web", "c", "--no-browser", "--json"],
    ));
    assert_eq!(web[0]["outcome"], "up", "{web:?}");
    // Four more valid calls each for a and b (copies of the real ones): 5, the month's minimum.
    for (centre, call) in [("a", &calls[0]), ("b", &calls[1])] {
        let copies: Vec<(&Value, String)> = (0..4).map(|_| (call, today.clone())).collect();
        peers::copy_results(&data, centre, &copies);
    }

    let scores = |centre: &str| -> Value {
        let out = raqib(
            &config,
            &data,
            &["scores", "--period", &month, "--centre", centre, "--json"],
        );
        json_lines(&out).remove(0)
    };
    let (a, b, c) = (scores("a"), scores("b"), scores("c"));
    // c: the dead number is critical although the call fell outside its hours, and its web
    // score alone makes no overall index, band or place.
    assert_eq!(c["critical"][0]["kind"], "number_not_in_service", "{c:#}");
    assert_eq!(c["web"]["score"]["value"], 100.0);
    assert!(
        c["overall"].is_null() && c["band"].is_null() && c["rank"].is_null(),
        "{c:#}"
    );
    assert_eq!(c["unscored"][0]["reason"], "no_calls_in_hours", "{c:#}");
    // a and b inherit their agency's web score; b is flagged and ranks below a.
    assert_eq!(b["flag"], "confirmed", "{b:#}");
    assert_eq!(
        (a["rank"].as_u64(), b["rank"].as_u64()),
        (Some(1), Some(2)),
        "{a:#}\n{b:#}"
    );
    let b_phone = triple(&b["phone"]["score"]);

    // The case was opened by the verdict step (no `flags` has run).
    let cases = json_lines(&raqib(
        &config,
        &data,
        &["cases", "--period", &month, "--json"],
    ));
    let open: Vec<&Value> = cases.iter().filter(|k| k["status"] == "open").collect();
    assert_eq!(open.len(), 2, "b confirmed and c critical: {cases:#?}");
    ok(&raqib(&config, &data, &["flags", "--period", &month]));
    let again = json_lines(&raqib(
        &config,
        &data,
        &["cases", "--period", &month, "--json"],
    ));
    assert_eq!(again, cases, "flags and cases only read");

    // The report JSON.
    let report: Value = serde_json::from_str(&ok(&raqib(
        &config,
        &data,
        &["report", "--period", &month, "--format", "json"],
    )))
    .unwrap();
    let row = report["centres"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["centre"] == "b")
        .unwrap();
    assert_eq!(
        (
            row["phone_score"].as_f64().unwrap(),
            row["phone_low"].as_f64().unwrap(),
            row["phone_high"].as_f64().unwrap()
        ),
        b_phone
    );
    let order: Vec<&str> = report["centres"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["centre"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["a", "b", "c"], "ranked first, the unscored after");

    // An alert's payload.
    ok(&raqib(
        &config,
        &data,
        &["alerts", "run", "--period", &month],
    ));
    let alerts = json_lines(&raqib(&config, &data, &["alerts", "--json"]));
    let flag = alerts
        .iter()
        .find(|x| x["kind"] == "flag" && x["centre"] == "b" && x["channel"] == "phone")
        .unwrap_or_else(|| panic!("no phone flag alert for b: {alerts:#?}"));
    assert_eq!(flag["score"].as_f64(), Some(b_phone.0), "{flag:#}");

    // The API and the dashboard.
    ok(&raqib(
        &config,
        &data,
        &["users", "add", "viewer", "--role", "viewer"],
    ));
    let token = ok(&raqib(&config, &data, &["users", "token", "viewer"]))
        .trim()
        .to_string();
    assert_eq!(
        peers::set_password(&config, &data, "viewer", "viewer password 1"),
        Some(0)
    );
    let (_serve, port) = peers::serve_listen(&config, &data, &dir.path().join("serve.log"), &[]);
    let bearer = format!("Bearer {token}");
    let (status, _, body) = http(
        port,
        "GET",
        &format!("/api/scores?period={month}"),
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let api = json_of(&body);
    let item = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["centre"] == "b")
        .unwrap();
    assert_eq!(triple(&item["phone"]["score"]), b_phone);
    assert_eq!(item["rank"], 2);

    let (status, head, _) = http(
        port,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "name=viewer&password=viewer+password+1&next=%2F",
    );
    assert_eq!(status, 303, "{head}");
    let cookie = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    let (status, _, page) = http(
        port,
        "GET",
        &format!("/?period={month}&lang=en"),
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(status, 200);
    let shown = format!("{:.1}", b_phone.0);
    assert!(
        page.contains(&shown),
        "the overview shows b's phone score {shown}"
    );
    let league = &page[page.find("id=\"league\"").unwrap()..];
    assert!(league.find("Centre A").unwrap() < league.find("Centre B").unwrap());
    let unranked = &league[league
        .find("id=\"unranked\"")
        .expect("the unscored are listed apart")..];
    assert!(
        unranked.contains("Centre C") && unranked.contains("no calls in opening hours"),
        "{unranked}"
    );

    // A new result refreshes the stored verdict on the next read: a's sixth call counts.
    let before = a["phone"]["valid_calls"].as_u64().unwrap();
    json_lines(&raqib(&config, &data, &["probe", "call", "a", "--json"]));
    assert_eq!(
        scores("a")["phone"]["valid_calls"].as_u64(),
        Some(before + 1)
    );
    drop(lab);
}
