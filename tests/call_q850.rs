//! Q.850 causes (`Reason: Q.850;cause=N`, RFC 3326) refine a call's outcome: real calls over
//! loopback to the lab's UAS sending each cause of the table on a final response and on a BYE,
//! and to kamailio acting as a carrier's gateway that adds the cause to its own replies.

mod peers;

use std::path::{Path, PathBuf};

use peers::{call, free_port, have, start_lab, LAB_PORTS};
use serde_json::Value;

fn env(extra: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("raqib.toml");
    std::fs::write(&config, format!("{extra}\n{LAB_PORTS}")).unwrap();
    let data = dir.path().join("data");
    (dir, config, data)
}

/// Places each call in its own thread; (user, result) in the order given.
fn calls(config: &Path, data: &Path, list: &[(String, Vec<String>)]) -> Vec<Value> {
    std::thread::scope(|s| {
        let handles: Vec<_> = list
            .iter()
            .map(|(_, args)| {
                s.spawn(move || {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    call(config, data, &args)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn each_cause_of_the_table_from_a_peer_that_sends_it() {
    let (_dir, config, data) = env("[call]\ntimer_t1_ms = 50\n");
    let lab = start_lab(&config, &data);
    // (lab user, outcome, status, cause, words in the detail)
    let table: &[(&str, &str, u64, u64, &str)] = &[
        // A gateway's coarse status, refined by the cause.
        (
            "cause-480-1",
            "not_in_service",
            480,
            1,
            "unallocated number",
        ),
        ("cause-503-17", "busy", 503, 17, "user busy"),
        ("cause-480-18", "no_answer", 480, 18, "no user responding"),
        ("cause-480-19", "no_answer", 480, 19, "no answer"),
        ("cause-486-21", "rejected", 486, 21, "call rejected"),
        ("cause-404-22", "not_in_service", 404, 22, "number changed"),
        (
            "cause-480-27",
            "failed",
            480,
            27,
            "destination out of order",
        ),
        (
            "cause-480-28",
            "not_in_service",
            480,
            28,
            "invalid number format",
        ),
        // Congestion and network failures: a network fault, never the centre's.
        ("cause-486-34", "failed", 486, 34, "no circuit available"),
        ("cause-404-38", "failed", 404, 38, "network out of order"),
        ("cause-480-41", "failed", 480, 41, "temporary failure"),
        (
            "cause-603-42",
            "failed",
            603,
            42,
            "switching equipment congestion",
        ),
        ("cause-486-47", "failed", 486, 47, "resource unavailable"),
        // Causes that say nothing more than the status: the status decides.
        ("cause-486-16", "busy", 486, 16, "normal call clearing"),
        ("cause-480-31", "rejected", 480, 31, "normal, unspecified"),
        (
            "cause-404-3",
            "not_in_service",
            404,
            3,
            "no route to destination",
        ),
        // A challenge is about raqib's request: its cause refines nothing.
        ("cause-401-17", "rejected", 401, 17, "user busy"),
    ];
    let mut list: Vec<(String, Vec<String>)> = table
        .iter()
        .map(|(user, ..)| {
            let uri = format!("sip:{user}@{}", lab.sip);
            (user.to_string(), vec![uri, "--unlisted".into()])
        })
        .collect();
    // Answered calls the far end ends with a cause: they stay answered.
    for user in ["byecause-16", "byecause-34"] {
        list.push((
            user.into(),
            vec![
                format!("sip:{user}@{}", lab.sip),
                "--unlisted".into(),
                "--after-answer".into(),
                "listen:10".into(),
            ],
        ));
    }
    let results = calls(&config, &data, &list);
    for ((user, outcome, status, cause, words), r) in table.iter().zip(&results) {
        assert_eq!(r["outcome"], *outcome, "{user}: {r:#}");
        assert_eq!(r["sip_status"].as_u64(), Some(*status), "{user}: {r:#}");
        let q = &r["q850"];
        assert_eq!(q["cause"].as_u64(), Some(*cause), "{user}: {r:#}");
        assert_eq!(q["from"], "final_response", "{user}");
        assert_eq!(q["text"], format!("lab cause {cause}"), "{user}");
        let detail = r["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("Q.850 cause {cause} ({words})")),
            "{user}: {detail}"
        );
    }
    for (i, cause) in [(table.len(), 16), (table.len() + 1, 34)] {
        let r = &results[i];
        assert_eq!(r["outcome"], "answered", "{r:#}");
        assert_eq!(r["hangup_by"], "remote", "{r:#}");
        assert_eq!(r["q850"]["cause"].as_u64(), Some(cause), "{r:#}");
        assert_eq!(r["q850"]["from"], "bye", "{r:#}");
        assert!(
            r["detail"]
                .as_str()
                .unwrap()
                .starts_with(&format!("the far end hung up; Q.850 cause {cause}")),
            "{r:#}"
        );
    }
    // A call without a Reason has none stored.
    let plain = call(
        &config,
        &data,
        &[&format!("sip:busy@{}", lab.sip), "--unlisted"],
    );
    assert_eq!(plain["outcome"], "busy");
    assert!(plain["q850"].is_null(), "{plain:#}");
}

/// kamailio as the carrier's gateway: its own replies (sl_send_reply with append_to_reply)
/// carry the cause, so the Reason header raqib reads is not one the lab wrote.
#[test]
fn kamailio_as_a_gateway_sends_causes() {
    if !have("kamailio", "kamailio") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let uas_port = free_port();
    let _gw = peers::kamailio(
        dir.path(),
        "kamailio-sha256.cfg",
        &[
            ("PROXY_PORT", port.to_string()),
            ("UAS_PORT", uas_port.to_string()),
        ],
        port,
    );
    let (_d, config, data) = env(&format!(
        "[call]\ntimer_t1_ms = 50\n[trunk]\nuri_template = \"sip:{{number}}@127.0.0.1:{port}\"\noutbound_proxy = \"127.0.0.1:{port}\"\n"
    ));
    let list: Vec<(String, Vec<String>)> = ["gw-busy", "gw-noanswer", "gw-congestion"]
        .iter()
        .map(|u| {
            (
                u.to_string(),
                vec![format!("sip:{u}@127.0.0.1:{port}"), "--unlisted".into()],
            )
        })
        .collect();
    let results = calls(&config, &data, &list);
    for (r, (outcome, status, cause, text)) in results.iter().zip([
        ("busy", 503, 17, "User busy"),
        ("no_answer", 480, 19, "No answer"),
        ("failed", 486, 34, "No circuit/channel available"),
    ]) {
        assert_eq!(r["outcome"], outcome, "{r:#}");
        assert_eq!(r["sip_status"].as_u64(), Some(status), "{r:#}");
        assert_eq!(r["q850"]["cause"].as_u64(), Some(cause), "{r:#}");
        assert_eq!(r["q850"]["text"], text, "{r:#}");
    }
}

/// A peer not written in Rust hangs up with a BYE whose Reason headers hold hostile values
/// beside one good cause: the good one is kept, the call stays answered, nothing breaks.
#[test]
fn a_python_peer_hangs_up_with_hostile_reasons_and_one_good_cause() {
    if !have("python3", "python3") {
        return;
    }
    let (_dir, config, data) = env("[call]\ntimer_t1_ms = 50\n");
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["tests/peers/hostile_uas.py", "bye_cause"]);
    let (_peer, line) = peers::spawn_ready(cmd, "ready", std::time::Duration::from_secs(10));
    let port = line.split_whitespace().nth(1).unwrap();
    let r = call(
        &config,
        &data,
        &[
            &format!("sip:x@127.0.0.1:{port}"),
            "--unlisted",
            "--after-answer",
            "listen:10",
        ],
    );
    assert_eq!(r["outcome"], "answered", "{r:#}");
    assert_eq!(r["hangup_by"], "remote", "{r:#}");
    assert_eq!(r["q850"]["cause"], 16, "{r:#}");
    assert_eq!(r["q850"]["from"], "bye");
    assert_eq!(r["q850"]["text"], "Normal call clearing");
    assert_eq!(
        r["detail"],
        "the far end hung up; Q.850 cause 16 (normal call clearing)"
    );
    // The listen policy would have run 10 s: the BYE ended the call.
    assert!(r["timings_ms"]["total"].as_f64().unwrap() < 5000.0, "{r:#}");
}
