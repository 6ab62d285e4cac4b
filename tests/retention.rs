//! Evidence retention on a real store: `raqib store prune` deletes recordings, SIP traces and
//! screenshots past `[retention]`, each kind on its own clock; the result keeps its row, its
//! measurements and its score, and says (in its JSON and on its page, in Arabic and English)
//! which evidence expired. A dry run deletes nothing; files no row names go by their day.

mod peers;

use std::path::Path;

use peers::{http, json_lines, ok, raqib};

#[test]
fn prune_deletes_old_evidence_and_the_result_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (_lab, config, data) = peers::lab_with_phones(
        dir.path(),
        &[("+96265000101", "human")],
        "[call]\nafter_answer = \"listen:2\"\n\
         [retention]\nrecordings_days = 10\ntraces_days = 40\nscreenshots_days = 0\n",
    );
    peers::import_centres(
        &config,
        &data,
        "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
         a,مركز الأمل,Hope centre,G,R,Asia/Amman,Sun-Sat 00:00-24:00,+96265000101,\n",
    );
    let call = peers::call(&config, &data, &["+96265000101"]);
    let id = call["id"].as_i64().unwrap();
    let recording = call["recording"].as_str().unwrap().to_string();
    let trace = call["sip_trace"].as_str().unwrap().to_string();
    assert!(Path::new(&recording).is_file() && Path::new(&trace).is_file());
    // A recording no row names (a process killed before it stored its result), in an old day,
    // and a file of no evidence kind beside it.
    let old_day = data.join("evidence/calls/2020-01-01");
    std::fs::create_dir_all(&old_day).unwrap();
    std::fs::write(old_day.join("120000-orphan.wav"), vec![0u8; 1000]).unwrap();
    std::fs::write(old_day.join("notes.md"), "kept").unwrap();
    let score_before = scores_json(&config, &data);

    // Today nothing of this call is old enough; only the orphan goes, and only when not dry.
    let today = chrono::Utc::now().date_naive();
    let as_of = |days: u64| (today + chrono::Days::new(days)).to_string();
    let dry = prune(&config, &data, &["--dry-run", "--as-of", &as_of(20)]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["deleted"]["recordings"]["files"], 2, "{dry:#}");
    assert_eq!(dry["deleted"]["traces"]["files"], 0, "{dry:#}");
    assert_eq!(dry["results_marked"], 1);
    assert!(
        dry["before"].get("screenshots").is_none(),
        "0 keeps for ever: {dry:#}"
    );
    assert!(Path::new(&recording).is_file() && old_day.join("120000-orphan.wav").is_file());
    assert!(stored(&config, &data, id).get("evidence_expired").is_none());

    // Twenty days on: the recording goes, the trace (40 days) stays.
    let done = prune(&config, &data, &["--as-of", &as_of(20)]);
    assert_eq!(done["deleted"]["recordings"]["files"], 2, "{done:#}");
    assert!(done["deleted"]["recordings"]["bytes"].as_u64().unwrap() > 1000);
    assert!(!Path::new(&recording).exists() && Path::new(&trace).is_file());
    assert!(!old_day.join("120000-orphan.wav").exists());
    assert!(old_day.join("notes.md").is_file(), "only evidence files go");
    let r = stored(&config, &data, id);
    assert!(r["recording"].is_null(), "{r:#}");
    assert_eq!(r["sip_trace"], trace.as_str());
    assert!(r["evidence_expired"]["recording"].is_string(), "{r:#}");
    assert!(r["evidence_expired"].get("sip_trace").is_none());
    assert_eq!(r["outcome"], "answered");
    assert_eq!(r["timings_ms"]["answer"], call["timings_ms"]["answer"]);
    assert_eq!(scores_json(&config, &data), score_before, "the score stays");

    // Again: nothing left to do for recordings. Fifty days on, the trace goes too.
    let again = prune(&config, &data, &["--as-of", &as_of(20)]);
    assert_eq!(again["deleted"]["recordings"]["files"], 0);
    assert_eq!(again["results_marked"], 0);
    let later = prune(&config, &data, &["--as-of", &as_of(50)]);
    assert_eq!(later["deleted"]["traces"]["files"], 1, "{later:#}");
    assert!(!Path::new(&trace).exists());
    let r = stored(&config, &data, id);
    assert!(
        r["evidence_expired"]["sip_trace"].is_string()
            && r["evidence_expired"]["recording"].is_string()
    );

    // The call's page says what expired, in words, in both languages.
    ok(&raqib(
        &config,
        &data,
        &["users", "add", "boss", "--role", "viewer"],
    ));
    let token = ok(&raqib(&config, &data, &["users", "token", "boss"]));
    let bearer = format!("Bearer {}", token.trim());
    let (_serve, port) = peers::serve_listen(&config, &data, &dir.path().join("serve.log"), &[]);
    let auth = [("Authorization", bearer.as_str())];
    for (lang, words) in [
        ("en", "The recording, the SIP trace: deleted on"),
        ("ar", "التسجيل الصوتي، سجل SIP: حُذفت في"),
    ] {
        let (status, _, html) = http(
            port,
            "GET",
            &format!("/results/{id}?lang={lang}"),
            &auth,
            "",
        );
        assert_eq!(status, 200, "{html}");
        assert!(html.contains(words), "{lang}: {html}");
        assert!(
            !html.contains("<audio"),
            "no player for a deleted recording"
        );
    }
}

fn prune(config: &Path, data: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["store", "prune", "--json"];
    args.extend_from_slice(extra);
    json_lines(&raqib(config, data, &args)).remove(0)
}

fn stored(config: &Path, data: &Path, id: i64) -> serde_json::Value {
    json_lines(&raqib(config, data, &["results", "--json"]))
        .into_iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

fn scores_json(config: &Path, data: &Path) -> Vec<serde_json::Value> {
    json_lines(&raqib(config, data, &["scores", "--json"]))
}
