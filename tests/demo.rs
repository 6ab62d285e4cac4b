//! The README's main job: `raqib demo` on the default config and sample centres sweeps the
//! lab's centres and prints the summary. The lab's fixed ports move to free ones, so that a
//! `raqib lab` running on them does not fail the suite.

mod peers;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The default config and sample centres with every lab port (and the closed one) replaced
/// by a free port; the config's path.
fn demo_on_free_ports(dir: &Path) -> PathBuf {
    let mut ports = BTreeSet::new();
    while ports.len() < 5 {
        ports.insert(peers::free_port());
    }
    let ports: Vec<u16> = ports.into_iter().collect();
    let moved = |text: &str| {
        let mut text = text.to_string();
        for (fixed, free) in ["18080", "18443", "18444", "18099", "5070"]
            .iter()
            .zip(&ports)
        {
            text = text.replace(&format!("127.0.0.1:{fixed}"), &format!("127.0.0.1:{free}"));
        }
        text
    };
    let centres = dir.join("centres.csv");
    std::fs::write(&centres, moved(raqib::registry::SAMPLE_CSV)).unwrap();
    let config = moved(raqib::config::EMBEDDED)
        .replacen(
            "[registry]\n",
            &format!(
                "[registry]\nsample_centres = {:?}\n",
                centres.display().to_string()
            ),
            1,
        )
        .replacen(
            "[lab]\n",
            &format!("[lab]\nsip_listen = \"127.0.0.1:{}\"\n", ports[4]),
            1,
        );
    assert!(
        config.contains("sample_centres") && config.contains("sip_listen"),
        "the default config has no [registry] or [lab] section any more"
    );
    let path = dir.join("raqib.toml");
    std::fs::write(&path, config).unwrap();
    path
}

#[test]
fn the_demo_sweeps_the_lab_and_summarises() {
    let data = tempfile::tempdir().unwrap();
    let config = demo_on_free_ports(data.path());
    let out = Command::new(env!("CARGO_BIN_EXE_raqib"))
        .env_remove("RAQIB_CONFIG")
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(data.path())
        .args(["demo", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let both: Value = serde_json::from_slice(&out.stdout).unwrap();
    // 15 sample numbers, each with its lab behaviour (config/raqib.toml [lab.phones]), called
    // once per round; a month's verdict needs 5 valid calls, so 5 rounds.
    let rounds = both["phone"].as_array().unwrap();
    assert_eq!(rounds.len(), 5, "{:#}", both["phone"]);
    for p in rounds {
        assert_eq!(p["checks"], 15, "{p:#}");
        let count = |k: &str| p[k].as_i64().unwrap();
        assert_eq!(
            [
                count("answered"),
                count("busy"),
                count("no_answer"),
                count("rejected"),
                count("not_in_service"),
                count("failed"),
                count("refused"),
            ],
            [8, 2, 1, 1, 2, 1, 0],
            "{p:#}"
        );
    }
    // 13 sample centres with 14 websites: a 500, an expired certificate and a closed port are
    // down; the slow page is degraded; the rest (a redirect among them) are up.
    let s = &both["web"];
    assert_eq!(s["checks"], 14, "{s:#}");
    assert_eq!(
        (
            s["up"].as_i64(),
            s["degraded"].as_i64(),
            s["down"].as_i64(),
            s["error"].as_i64()
        ),
        (Some(10), Some(1), Some(3), Some(0)),
        "{s:#}"
    );
    let centres = s["centres"].as_array().unwrap();
    assert_eq!(centres.len(), 13);
    // Chromium audits every site that is up: the lab's pages are clean but for om-muscat-housing's,
    // which carries the known axe-core violations.
    for c in centres {
        let (id, a11y) = (c["centre"].as_str().unwrap(), &c["a11y"]);
        match id {
            "om-muscat-housing" => {
                let score = a11y.as_f64().unwrap();
                assert!(score > 0.0 && score < 90.0, "{c:#}");
            }
            "jo-zarqa-licensing" | "kw-hawalli-civil-id" | "sa-riyadh-passports" => {
                assert!(a11y.is_null(), "{c:#}")
            }
            _ => assert_eq!(a11y.as_f64(), Some(100.0), "{c:#}"),
        }
    }

    // The lab's centres are open whenever the demo runs, so the rounds give verdicts: the
    // flagged list holds confirmed centres, a provisional one (one line of two is busy) and
    // the critical dead numbers.
    let flagged: Vec<(String, String, bool)> = both["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["centre"].as_str().unwrap().to_string(),
                f["class"].as_str().unwrap().to_string(),
                f["critical"].as_bool().unwrap(),
            )
        })
        .collect();
    let has = |centre: &str, class: &str, critical: bool| {
        flagged.contains(&(centre.to_string(), class.to_string(), critical))
    };
    assert!(has("jo-amman-civil", "provisional", false), "{flagged:?}");
    assert!(has("jo-zarqa-licensing", "confirmed", false), "{flagged:?}");
    assert!(has("jo-irbid-civil", "confirmed", false), "{flagged:?}");
    assert!(has("kw-hawalli-civil-id", "confirmed", true), "{flagged:?}");
    assert!(has("ae-abudhabi-health", "confirmed", true), "{flagged:?}");
    assert!(
        !flagged.iter().any(|f| f.0 == "om-muscat-housing"),
        "{flagged:?}"
    );
    // The report, in HTML and printed to PDF.
    let reports: Vec<PathBuf> = both["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| PathBuf::from(r.as_str().unwrap()))
        .collect();
    assert_eq!(reports.len(), 2, "{reports:?}");
    let html = std::fs::read_to_string(&reports[0]).unwrap();
    assert!(
        html.contains("jo-amman-civil") || html.contains("عمّان"),
        "{html}"
    );
    assert!(std::fs::read(&reports[1]).unwrap().starts_with(b"%PDF"));
    assert_eq!(both["user"], "demo");

    // The human summary names the problems and ends with the flagged list, the report and
    // how to open the dashboard.
    let out = Command::new(env!("CARGO_BIN_EXE_raqib"))
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(data.path())
        .args(["demo", "--no-browser"]) // the browser was checked above: halve the test's time
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "jo-zarqa-licensing",
        "final status 500",
        "certificate expired",
        "slow: ",
        "total",
        "phone round 5",
    ] {
        assert!(table.contains(needle), "missing {needle:?} in\n{table}");
    }
    let end = &table[table.find("at or under 60").expect("no flagged list")..];
    let line = |id: &str| {
        end.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} not in the flagged list:\n{end}"))
    };
    assert!(line("jo-amman-civil").contains("provisional"), "{end}");
    assert!(line("jo-amman-civil").contains("phone 50.0 ["), "{end}");
    assert!(line("jo-zarqa-licensing").contains("confirmed"), "{end}");
    assert!(line("kw-hawalli-civil-id").contains("CRITICAL"), "{end}");
    assert!(end.contains("improvement plan"), "{end}");
    assert!(end.contains("report written: "), "{end}");
    assert!(end.contains("serve --listen 127.0.0.1:"), "{end}");
    assert!(
        end.contains("sign in as 'demo' with the password "),
        "{end}"
    );
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["centres", "--help"],
        vec!["centres", "import", "--help"],
        vec!["centres", "list", "--help"],
        vec!["probe", "web", "--help"],
        vec!["sweep", "--help"],
        vec!["results", "--help"],
        vec!["lab", "--help"],
        vec!["demo", "--help"],
        vec!["bench", "web", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_raqib"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_raqib"))
        .arg("nonsense")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
