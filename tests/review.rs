//! Calls the classifier was unsure of wait for an auditor: `raqib results --needs-review`,
//! `GET /api/results?needs_review=true` and the dashboard's review list show them, with the
//! guess and its confidence, until a label decides them; an unsure call never reaches a
//! person, and the label then counts.

mod peers;

use peers::{http, json_lines, ok, raqib};

#[test]
fn unsure_calls_wait_for_an_auditor_until_a_label_decides_them() {
    let dir = tempfile::tempdir().unwrap();
    // Asked for full certainty, raqib is unsure of every call: the lab's person is unknown.
    let (_lab, config, data) = peers::lab_with_phones(
        dir.path(),
        &[("+96265000101", "human"), ("+96265000102", "human")],
        "[call]\nafter_answer = \"listen:6\"\nmin_confidence = 1.0\n",
    );
    peers::import_centres(
        &config,
        &data,
        "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
         a,مركز الأمل,Hope centre,G,R,Asia/Amman,Sun-Sat 00:00-24:00,+96265000101;+96265000102,\n",
    );
    let first = peers::call(&config, &data, &["+96265000101"]);
    let second = peers::call(&config, &data, &["+96265000102"]);
    for v in [&first, &second] {
        assert_eq!(v["outcome"], "answered", "{v:#}");
        assert_eq!(v["answer_type"], "unknown", "{v:#}");
        assert_eq!(v["answer_type_guess"], "human", "{v:#}");
        let sure = v["answer_type_confidence"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&sure), "{v:#}");
    }
    let id = |v: &serde_json::Value| v["id"].as_i64().unwrap();

    // Both wait; neither counts as reaching a person.
    let waiting = json_lines(&raqib(
        &config,
        &data,
        &["results", "--needs-review", "--json"],
    ));
    let ids: Vec<i64> = waiting.iter().map(id).collect();
    assert_eq!(ids.len(), 2, "{waiting:#?}");
    assert!(ids.contains(&id(&first)) && ids.contains(&id(&second)));
    for w in &waiting {
        assert_eq!(w["scoring"]["call"]["reached_person"], false, "{w:#}");
    }
    let table = ok(&raqib(&config, &data, &["results", "--needs-review"]));
    assert!(table.contains("unknown (human? "), "{table}");

    // An auditor decides the first: it leaves the list, and its label counts.
    ok(&raqib(
        &config,
        &data,
        &[
            "label",
            &id(&first).to_string(),
            "--answer-type",
            "human",
            "--reason",
            "a clerk greeted in Arabic",
            "--by",
            "aud",
        ],
    ));
    let waiting = json_lines(&raqib(
        &config,
        &data,
        &["results", "--needs-review", "--json"],
    ));
    assert_eq!(
        waiting.iter().map(id).collect::<Vec<_>>(),
        vec![id(&second)]
    );
    let all = json_lines(&raqib(&config, &data, &["results", "--json"]));
    let labelled = all.iter().find(|r| id(r) == id(&first)).unwrap();
    assert_eq!(
        labelled["scoring"]["call"]["reached_person"], true,
        "{labelled:#}"
    );

    // The API and the dashboard list the one still waiting.
    ok(&raqib(
        &config,
        &data,
        &["users", "add", "boss", "--role", "viewer"],
    ));
    let token = ok(&raqib(&config, &data, &["users", "token", "boss"]));
    let bearer = format!("Bearer {}", token.trim());
    let (_serve, port) = peers::serve_listen(&config, &data, &dir.path().join("serve.log"), &[]);
    let auth = [("Authorization", bearer.as_str())];
    let (status, _, body) = http(port, "GET", "/api/results?needs_review=true", &auth, "");
    assert_eq!(status, 200, "{body}");
    let page = peers::json_of(&body);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page:#}");
    assert_eq!(id(&items[0]), id(&second));
    let (status, _, _) = http(port, "GET", "/api/results?needs_review=maybe", &auth, "");
    assert_eq!(status, 400);
    for (lang, words) in [("en", "Calls to review"), ("ar", "مكالمات للمراجعة")] {
        let (status, _, html) = http(port, "GET", &format!("/review?lang={lang}"), &auth, "");
        assert_eq!(status, 200, "{html}");
        assert!(html.contains(words), "{html}");
        assert!(
            html.contains(&format!("/results/{}#labels", id(&second))),
            "{html}"
        );
        assert!(
            !html.contains(&format!("/results/{}#labels", id(&first))),
            "{html}"
        );
    }
}
