//! `raqib report` end to end: real phone sweeps through `raqib lab` score two centres, a past
//! month gives one of them a follow-up case, and the CSV (Excel-ready, Arabic or English) and
//! JSON reports carry the summary, bands, flags, trends and "improved after feedback"; the
//! HTML and the PDF printed by Chromium read back (`pdftotext`) with their cover, summary, key
//! figures, flagged list with due dates and page numbers in both languages, and no stored code.
//! Also: the accessibility locale covers every rule and criterion of the pinned axe-core.

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
             [guard]\nallow_prefixes = [\"+962\"]\n\
             [report]\nissuer = \"Performance Unit\"\nissuer_ar = \"وحدة قياس الأداء\"\n\
             classification = \"Official\"\nclassification_ar = \"سري\"\ntimezone = \"Asia/Amman\"\n",
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
    // This month's flag opens its follow-up case: the report gives its due date.
    ok(&raqib(&config, &data, &["cases", "--period", &month]));
    let cases = json_lines(&raqib(&config, &data, &["cases", "--json"]));
    let case = cases
        .iter()
        .find(|c| c["centre"] == "weak" && c["period"] == month.as_str())
        .expect("a case for this month's flag");
    let due = chrono::DateTime::parse_from_rfc3339(case["due_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Amman)
        .format("%Y-%m-%d")
        .to_string();

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
    // No stored code in what a person reads, in either language.
    for lang in ["ar", "en"] {
        let html = ok(&raqib(
            &config,
            &data,
            &[
                "report", "--period", &month, "--format", "html", "--lang", lang,
            ],
        ));
        assert_no_codes(&visible_text(&html), lang);
        // Read on a phone as on a desktop: nothing runs past the screen's width.
        for width in [390, 1366] {
            let (scroll, inner) = peers::laid_out_widths(&html, &format!("report-{lang}"), width);
            assert!(
                scroll <= inner,
                "{lang} at {width} px: {scroll} px wide in a {inner} px window"
            );
        }
        // The flagged centre's owner is its agency (the registry names no other).
        let flagged = html.split("<section id=\"flagged\">").nth(1).unwrap();
        let flagged = flagged.split("</section>").next().unwrap();
        assert!(flagged.contains(">Agency T</div></td>"), "{flagged}");
        // Ids never break across lines.
        assert!(html.contains("bdi{white-space:nowrap}"), "{lang}");
        assert!(
            html.contains("<bdi dir=\"ltr\" class=\"id\">weak</bdi>"),
            "{lang}"
        );
    }
    // The PDF, printed by Chromium, read back with pdftotext in both languages.
    if peers::have("pdftotext", "poppler-utils") {
        let pdf_text = |lang: &str| {
            let pdf = dir.path().join(format!("r-{lang}.pdf"));
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
                    lang,
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
            String::from_utf8_lossy(&text.stdout).into_owned()
        };
        // Table cells wrap: compare with runs of white space made one space.
        let text = pdf_text("en")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let due_en = raqib::report::words::date(&due, raqib::report::Lang::En);
        let period_en = raqib::report::words::period(&month, raqib::report::Lang::En);
        for want in [
            "raqib report",
            "Executive summary",
            "Phone bands",
            "Flagged centres",
            "Agencies",
            "Annex: all centres",
            "=Weak centre",
            "Better centre",
            "Improved after feedback",
            // The cover: issuing unit, classification, period, date of issue in the unit's zone.
            "Performance Unit",
            "Official",
            "Service centres audit report",
            &period_en,
            "Date of issue",
            "Amman time",
            // The summary written from the figures, the key figures against last period.
            &format!("In {period_en}, raqib placed 10 test calls"),
            "Key figures",
            "Answer rate",
            "Calls reaching a person",
            "Centres flagged",
            "Six-month trend",
            "Top and bottom five",
            "Gold and silver lists",
            // The flagged centre: why, what class, by when and who owns it.
            "no person reached in 5 of 5 calls",
            "confirmed",
            &due_en,
            "Owner",
            "Coverage and method",
            "Calls placed: 10. Counted: 10.",
            "Page 1 of",
            "Page 2 of",
        ] {
            assert!(text.contains(want), "no {want:?} in the PDF text:\n{text}");
        }
        assert_no_codes(&text, "en");
        // pdftotext writes Arabic with direction marks and its own spacing around numbers:
        // compare without either. (Words with lam-alef are avoided: it decomposes them.)
        let squeeze = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace() && !is_bidi_mark(*c))
                .collect()
        };
        let raw = pdf_text("ar");
        let text = squeeze(&raw);
        let due_ar = raqib::report::words::date(&due, raqib::report::Lang::Ar);
        for want in [
            "وحدة قياس",
            "سري",
            "تقرير رصد أداء مراكز الخدمة",
            "الملخص التنفيذي",
            "أجرى رقيب 10 مكالمات اختبارية",
            "نسبة الرد",
            "المراكز المرصودة",
            "مركز ضعيف",
            &due_ar,
            "صفحة 1 من",
            "صفحة 2 من",
        ] {
            assert!(
                text.contains(&squeeze(want)),
                "no {want:?} in the Arabic PDF text:\n{raw}"
            );
        }
        let words: String = raw.chars().filter(|c| !is_bidi_mark(*c)).collect();
        assert_no_codes(&words, "ar");
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

fn is_bidi_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The text a reader sees: the page without its style sheet and tags.
fn visible_text(html: &str) -> String {
    let body = html.split("</style>").last().unwrap_or(html);
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&").replace("&quot;", "\"")
}

/// Stored codes (outcomes, classes, bands, answer types, reasons, channels): none in English
/// where it differs from its word (`insufficient_data`, `no_answer`); none at all in Arabic.
/// Arabic text uses the Arabic comma.
fn assert_no_codes(text: &str, lang: &str) {
    // This test's centre ids are words too; an id is shown as an id, not as a code.
    let ids = ["weak", "better"];
    // Outcomes and channels as the probe kinds list them; then classes, bands, answer types,
    // reasons and the rest of the stored words.
    let mut codes: Vec<&str> = Vec::new();
    for c in raqib::probe::Channel::ALL {
        codes.push(c.as_str());
        codes.extend(c.outcomes());
    }
    codes.extend([
        "confirmed",
        "provisional",
        "insufficient_data",
        "clear",
        "excellent",
        "medium",
        "weak",
        "human",
        "ivr",
        "voicemail",
        "announcement",
        "music",
        "silence",
        "unknown",
        "raqib_fault",
        "network_fault",
        "guard_refused",
        "outside_hours",
        "unreadable",
        "no_calls",
        "no_calls_in_hours",
        "too_few_calls",
        "no_web_checks",
        "number_not_in_service",
        "site_down",
        "improved",
        "declined",
        "unchanged",
        "gold",
        "silver",
    ]);
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !ids.contains(w))
        .collect();
    for code in &codes {
        let differs = code.contains('_') || *code == "ivr";
        if lang == "ar" || differs {
            assert!(
                !words.contains(code),
                "stored code {code:?} in the {lang} text:\n{text}"
            );
        }
    }
    if lang == "ar" {
        assert!(
            !text.contains(", "),
            "a Latin comma in the Arabic text:\n{text}"
        );
    }
}

/// The sentences of `probes/web/a11y_locale.json` were written for one axe-core: the pinned
/// one. Every rule it ships and every WCAG criterion its tags name has words in both
/// languages, so an upgrade of axe that adds a rule fails here until the words are written.
#[test]
fn the_accessibility_locale_covers_the_pinned_axe() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("probes/web");
    let read =
        |p: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    let pin = read(&web.join("package.json"))["dependencies"]["axe-core"]
        .as_str()
        .unwrap()
        .to_string();
    let locale = raqib::probe::web::a11y_words::locale();
    assert_eq!(
        locale.axe_core, pin,
        "a11y_locale.json was written for another axe-core than the pinned one"
    );
    let axe = web.join("node_modules/axe-core");
    if !axe.exists() {
        assert!(
            std::env::var("CI").is_err(),
            "axe-core is not installed in CI: scripts/setup runs npm ci in probes/web"
        );
        eprintln!("SKIP: axe-core not installed (npm ci in probes/web)");
        return;
    }
    assert_eq!(
        read(&axe.join("package.json"))["version"].as_str(),
        Some(&pin[..])
    );
    if !peers::have("node", "nodejs") {
        return;
    }
    // The rules as the pinned axe itself lists them, with their tags.
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg(
            "const a = require(process.argv[1]); \
             console.log(JSON.stringify(a.getRules().map(r => [r.ruleId, r.tags])))",
        )
        .arg(&axe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules: Vec<(String, Vec<String>)> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rules.len() > 80, "{} rules", rules.len());
    let mut missing = Vec::new();
    for (id, tags) in &rules {
        match locale.rules.get(id) {
            Some(w) if !w.en.trim().is_empty() && !w.ar.trim().is_empty() => {}
            _ => missing.push(format!("rule {id}")),
        }
        for c in raqib::probe::web::a11y::wcag_criteria(tags) {
            if !locale.criteria.contains_key(&c) {
                missing.push(format!("criterion {c} (rule {id})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "a11y_locale.json lacks words for: {}",
        missing.join(", ")
    );
}
