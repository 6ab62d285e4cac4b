//! `raqib report` end to end: real phone sweeps through `raqib lab` score two centres, a past
//! month gives one of them a follow-up case, and the CSV (Excel-ready, Arabic or English) and
//! JSON reports carry the summary, bands, flags, trends and "improved after feedback".

mod peers;

use peers::ok;

use std::path::Path;

use chrono::{Datelike, Utc};
use peers::{json_lines, raqib, start_lab, LAB_PORTS};
use serde_json::Value;

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn csv_and_json_reports_for_leadership() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut phones = String::from("[lab.phones]\n");
    let number = |c: u32, i: u32| format!("+9626500{c}{i:03}");
    for i in 0..5 {
        phones += &format!(
            "\"{}\" = \"busy\"\n\"{}\" = \"human\"\n",
            number(1, i),
            number(2, i)
        );
    }
    let lab_config = dir.path().join("lab.toml");
    write(&lab_config, &format!("{LAB_PORTS}{phones}"));
    let lab = start_lab(&lab_config, &data.join("lab"));
    let config = dir.path().join("raqib.toml");
    write(
        &config,
        &format!(
            "[trunk]\nuri_template = \"sip:{{number}}@{}\"\nmax_channels = 10\n\
             [guard]\nallow_prefixes = [\"+962\"]\n",
            lab.sip
        ),
    );
    let list = |c| (0..5).map(|i| number(c, i)).collect::<Vec<_>>().join(";");
    let csv_in = dir.path().join("c.csv");
    write(
        &csv_in,
        &format!(
            "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
             weak,مركز ضعيف,=Weak centre,Agency T,R,Asia/Amman,Sun-Sat 00:00-24:00,{},\n\
             better,مركز تحسّن,Better centre,Agency T,R,Asia/Amman,Sun-Sat 00:00-24:00,{},\n",
            list(1),
            list(2)
        ),
    );
    ok(&raqib(
        &config,
        &data,
        &["centres", "import", csv_in.to_str().unwrap()],
    ));
    ok(&raqib(&config, &data, &["sweep", "--channel", "phone"]));
    // Last month 'better' was as weak as 'weak' is now: copies of the busy calls give it a
    // confirmed flag there, and `cases` opens its follow-up case.
    let results = json_lines(&raqib(&config, &data, &["results", "--json"]));
    let busy: Vec<&Value> = results.iter().filter(|r| r["centre"] == "weak").collect();
    let today = Utc::now().date_naive();
    let last_month = (today.with_day(1).unwrap() - chrono::Duration::days(1))
        .with_day(1)
        .unwrap();
    let copies: Vec<_> = busy
        .iter()
        .enumerate()
        .map(|(i, r)| (*r, last_month.with_day(3 + i as u32).unwrap().to_string()))
        .collect();
    peers::copy_results(&data, "better", &copies);
    let prev = last_month.format("%Y-%m").to_string();
    ok(&raqib(&config, &data, &["cases", "--period", &prev]));
    let month = today.format("%Y-%m").to_string();

    let json: Value = serde_json::from_str(&ok(&raqib(
        &config,
        &data,
        &["report", "--period", &month, "--format", "json"],
    )))
    .unwrap();
    assert_eq!(
        (json["period"].as_str(), json["against"].as_str()),
        (Some(&month[..]), Some(&prev[..]))
    );
    let s = &json["summary"];
    assert_eq!(
        (
            s["centres"].as_u64(),
            s["flagged"].as_u64(),
            s["confirmed"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{s}"
    );
    assert_eq!(
        s["phone_bands"],
        serde_json::json!({"excellent": 1, "medium": 0, "weak": 1})
    );
    assert_eq!(
        (
            s["improved"].as_u64(),
            s["improved_after_feedback"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(json["flagged"][0]["centre"], "weak");
    assert_eq!(json["flagged"][0]["phone_score"], 0.0);
    let agency = &json["agencies"][0];
    assert_eq!(
        (
            agency["agency"].as_str(),
            agency["centres"].as_u64(),
            agency["flagged"].as_u64()
        ),
        (Some("Agency T"), Some(2), Some(1))
    );
    let better = json["centres"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["centre"] == "better")
        .unwrap();
    assert_eq!(better["phone_trend"], "improved");
    assert_eq!(better["phone_change"], 100.0);

    // The Arabic CSV: BOM, Arabic header and words; a formula-like name neutralised.
    let out = dir.path().join("r.csv");
    let run = raqib(
        &config,
        &data,
        &[
            "report",
            "--period",
            &month,
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    ok(&run);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("المركز,الاسم,الجهة,درجة الهاتف"),
        "{}",
        lines[0]
    );
    let weak = lines.iter().find(|l| l.starts_with("weak,")).unwrap();
    assert!(
        weak.contains("مركز ضعيف")
            && weak.contains(",0.0,")
            && weak.contains("مؤكد")
            && weak.contains("ضعيف"),
        "{weak}"
    );
    let better = lines.iter().find(|l| l.starts_with("better,")).unwrap();
    assert!(
        better.contains("تحسّن") && better.contains("+100.0"),
        "{better}"
    );
    let en = ok(&raqib(
        &config,
        &data,
        &[
            "report", "--period", &month, "--format", "csv", "--lang", "en",
        ],
    ));
    assert!(en.contains("centre,name,agency,phone score"));
    assert!(en.contains("'=Weak centre"), "{en}");
    // HTML in Arabic: right to left, every section, the chart, names escaped.
    let html = ok(&raqib(
        &config,
        &data,
        &["report", "--period", &month, "--format", "html"],
    ));
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"));
    for id in ["summary", "bands", "flagged", "agencies", "centres"] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "no {id}");
    }
    assert!(
        html.contains("<svg") && html.contains("المراكز المرصودة") && html.contains("مركز ضعيف")
    );
    // PDF in English, printed by Chromium, read back with pdftotext.
    if peers::have("pdftotext", "poppler-utils") {
        let pdf = dir.path().join("r.pdf");
        ok(&raqib(
            &config,
            &data,
            &[
                "report",
                "--period",
                &month,
                "--format",
                "pdf",
                "--lang",
                "en",
                "--out",
                pdf.to_str().unwrap(),
            ],
        ));
        let bytes = std::fs::read(&pdf).unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
        let text = std::process::Command::new("pdftotext")
            .arg(&pdf)
            .arg("-")
            .output()
            .unwrap();
        // Table cells wrap: compare with runs of white space made one space.
        let text = String::from_utf8_lossy(&text.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for want in [
            "raqib report",
            "Summary",
            "Phone bands",
            "Flagged centres",
            "Agencies",
            "All centres",
            "=Weak centre",
            "Better centre",
            "Improved after feedback",
        ] {
            assert!(text.contains(want), "no {want:?} in the PDF text:\n{text}");
        }
    }
    // An agency the registry does not know is bad input that names the known ones: an empty
    // report would read as "nothing to follow up".
    let other = raqib(
        &config,
        &data,
        &[
            "report", "--period", &month, "--agency", "Nobody", "--format", "json",
        ],
    );
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("known agencies: 'Agency T'"));
    drop(lab);
}
