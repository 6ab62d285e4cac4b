//! The README's main job: `raqib demo` on the embedded default, with the lab on its
//! configured ports, sweeps the sample centres and prints the summary.

use std::process::Command;

use serde_json::Value;

#[test]
fn the_demo_sweeps_the_lab_and_summarises() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_raqib"))
        .env_remove("RAQIB_CONFIG")
        .current_dir(data.path()) // no config/raqib.toml here: the embedded default
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
    // 15 sample numbers, each with its lab behaviour (config/raqib.toml [lab.phones]).
    let p = &both["phone"];
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
        [9, 1, 1, 1, 2, 1, 0],
        "{p:#}"
    );
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

    // The human summary names the problems.
    let out = Command::new(env!("CARGO_BIN_EXE_raqib"))
        .current_dir(data.path())
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
    ] {
        assert!(table.contains(needle), "missing {needle:?} in\n{table}");
    }
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
