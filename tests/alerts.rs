//! Alerts end to end: real phone sweeps through `raqib lab` flag a centre, and the alert
//! reaches a real SMTP server (aiosmtpd, STARTTLS and AUTH) and a webhook receiver in JSON,
//! Slack and Teams form; it is not sent twice; an overdue case escalates to the second list;
//! a clear later period sends "resolved"; a failing receiver is retried with back-off and a
//! dead one recorded as failed; `raqib serve` alerts after its own sweep. Webhooks follow only
//! redirects that keep a POST, cut an endless answer short, time out on a silent receiver
//! and go through the proxy the environment names.

mod peers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Utc};
use peers::{
    eventually, free_port, json_lines, python_module, raqib, spawn_ready, start_lab,
    wait_for_due_retries, wait_until, Proc, BIN, LAB_PORTS,
};
use serde_json::Value;

const PASSWORD_ENV: &str = "RAQIB_TEST_SMTP_PASSWORD";
const PASSWORD: &str = "s3cret-smtp-pw";

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `raqib` with the SMTP password in its environment.
fn raqib_pw(config: &Path, data: &Path, args: &[&str]) -> Output {
    peers::raqib_env(config, data, &[(PASSWORD_ENV, PASSWORD)], args)
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// aiosmtpd on loopback requiring STARTTLS (a self-signed certificate for 127.0.0.1, written
/// to `dir/smtp-ca.pem`) and AUTH.
fn smtp_sink(dir: &Path, out: &Path) -> (Proc, u16) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    write(&dir.join("smtp-ca.pem"), &cert.cert.pem());
    write(&dir.join("smtp-key.pem"), &cert.signing_key.serialize_pem());
    let port = free_port();
    let mut cmd = Command::new("python3");
    cmd.arg(peers_dir().join("smtp_sink.py"))
        .arg(port.to_string())
        .arg(out)
        .arg("--cert")
        .arg(dir.join("smtp-ca.pem"))
        .arg("--key")
        .arg(dir.join("smtp-key.pem"))
        .arg("--auth")
        .arg(format!("raqib:{PASSWORD}"));
    let (proc, _) = spawn_ready(cmd, "smtp ready:", Duration::from_secs(20));
    (proc, port)
}

/// `webhook_sink.py` writing to `out`, with its options (`--fail /flaky:2`, …).
fn webhook_sink(out: &Path, options: &[&str]) -> (Proc, u16) {
    let mut cmd = Command::new("python3");
    cmd.arg(peers_dir().join("webhook_sink.py"))
        .arg(out)
        .args(options);
    let (proc, line) = spawn_ready(cmd, "webhook ready:", Duration::from_secs(20));
    (proc, line.rsplit(' ').next().unwrap().parse().unwrap())
}

/// The first day of the month `back` months before this one.
fn month_start(back: u32) -> NaiveDate {
    let today = Utc::now().date_naive();
    let mut d = today.with_day(1).unwrap();
    for _ in 0..back {
        d = (d - chrono::Duration::days(1)).with_day(1).unwrap();
    }
    d
}

/// Copies of stored results into `centre`'s history, one a day from the 3rd of `month`.
fn copy_results(data: &Path, centre: &str, from: &[Value], month: NaiveDate) {
    let copies: Vec<_> = from
        .iter()
        .enumerate()
        .map(|(i, r)| (r, month.with_day(3 + i as u32).unwrap().to_string()))
        .collect();
    peers::copy_results(data, centre, &copies);
}

fn lab_numbers(prefix: &str, behaviour: &str) -> (Vec<String>, String) {
    let numbers: Vec<String> = (1..=5).map(|i| format!("{prefix}{i:02}")).collect();
    let toml = numbers
        .iter()
        .map(|n| format!("\"{n}\" = \"{behaviour}\"\n"))
        .collect();
    (numbers, toml)
}

#[test]
fn a_flag_reaches_leadership_once_escalates_when_overdue_and_resolves() {
    if !python_module("aiosmtpd", "aiosmtpd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (weak, weak_toml) = lab_numbers("+962650001", "busy");
    let (good, good_toml) = lab_numbers("+962650002", "human");
    let lab_config = dir.path().join("lab.toml");
    write(
        &lab_config,
        &format!("{LAB_PORTS}[lab.phones]\n{weak_toml}{good_toml}"),
    );
    let lab = start_lab(&lab_config, &data.join("lab"));
    let mails = dir.path().join("mails.jsonl");
    let hooks = dir.path().join("hooks.jsonl");
    let (_smtp, smtp_port) = smtp_sink(dir.path(), &mails);
    let (_hook, hook_port) = webhook_sink(&hooks, &["--fail", "/flaky:2"]);
    let dead = free_port();
    let hook = |path: &str| format!("http://127.0.0.1:{hook_port}{path}");
    let config = dir.path().join("raqib.toml");
    write(
        &config,
        &format!(
            "[trunk]\nuri_template = \"sip:{{number}}@{sip}\"\nmax_channels = 10\n\
             [guard]\nallow_prefixes = [\"+962\"]\n\
             [scoring]\nfollow_up_days = 0\n\
             [server]\npublic_url = \"https://raqib.unit.example/\"\n\
             [alerts]\nfrom = \"raqib <raqib@unit.example>\"\n\
             evidence_url = \"https://raqib.unit.example/results/{{id}}\"\n\
             retry_secs = 1\nretry_attempts = 3\n\
             [alerts.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"starttls\"\n\
             username = \"raqib\"\npassword_env = \"{PASSWORD_ENV}\"\n\
             trust_ca_files = [\"{ca}\"]\ntimeout_secs = 10\n\
             [[alerts.contact]]\nagency = \"Agency T\"\nemail = \"director@agency.example\"\nlang = \"ar\"\n\
             [[alerts.contact]]\nagency = \"*\"\nemail = \"deputy@agency.example\"\nlang = \"en\"\n\
             [[alerts.contact]]\nagency = \"Agency T\"\nwebhook = \"{json}\"\nformat = \"json\"\nlang = \"both\"\n\
             [[alerts.contact]]\nagency = \"*\"\nwebhook = \"{slack}\"\nformat = \"slack\"\n\
             [[alerts.contact]]\nagency = \"*\"\nwebhook = \"{teams}\"\nformat = \"teams\"\n\
             [[alerts.contact]]\nagency = \"*\"\nwebhook = \"{flaky}\"\n\
             [[alerts.contact]]\nname = \"dead\"\nagency = \"*\"\nwebhook = \"http://127.0.0.1:{dead}/x\"\n\
             [[alerts.contact]]\nagency = \"*\"\nemail = \"minister@gov.example\"\nescalation = true\n\
             [[alerts.contact]]\nagency = \"Other agency\"\nemail = \"other@gov.example\"\n",
            sip = lab.sip,
            ca = dir.path().join("smtp-ca.pem").display(),
            json = hook("/json"),
            slack = hook("/slack"),
            teams = hook("/teams"),
            flaky = hook("/flaky"),
        ),
    );
    let csv = dir.path().join("c.csv");
    write(
        &csv,
        &format!(
            "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
             weak,مركز الخدمة الضعيف,Weak centre,Agency T,R,Asia/Amman,Sun-Sat 00:00-24:00,{},\n\
             good,مركز جيد,Good centre,Agency T,R,Asia/Amman,Sun-Sat 00:00-24:00,{},\n",
            weak.join(";"),
            good.join(";")
        ),
    );
    ok(&raqib(
        &config,
        &data,
        &["centres", "import", csv.to_str().unwrap()],
    ));
    ok(&raqib(&config, &data, &["sweep", "--channel", "phone"]));
    let results = json_lines(&raqib(&config, &data, &["results", "--json"]));
    let of = |c: &str| -> Vec<Value> {
        results
            .iter()
            .filter(|r| r["centre"] == c)
            .cloned()
            .collect()
    };
    assert_eq!((of("weak").len(), of("good").len()), (5, 5));
    // History: two months ago the weak centre's five busy calls (a confirmed flag), last month
    // five calls that reached a person (clear).
    let flagged = month_start(2);
    let cleared = month_start(1);
    let label = |d: NaiveDate| d.format("%Y-%m").to_string();
    copy_results(&data, "weak", &of("weak"), flagged);
    copy_results(&data, "weak", &of("good"), cleared);

    // 1. The flag: one alert, to the agency's primary contacts only.
    let run = |period: &str| {
        let out = raqib_pw(
            &config,
            &data,
            &["alerts", "run", "--period", period, "--json"],
        );
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out, v)
    };
    let (out, first) = run(&label(flagged));
    ok(&out);
    assert_eq!(
        first["evaluated"]["alerts"].as_array().unwrap().len(),
        1,
        "{first}"
    );
    assert_eq!(
        (
            first["delivered"]["sent"].as_u64(),
            first["delivered"]["retrying"].as_u64()
        ),
        (Some(5), Some(2)),
        "{first}"
    );
    let mail = lines(&mails);
    assert_eq!(mail.len(), 2, "{mail:#?}");
    let ar = mail
        .iter()
        .find(|m| m["rcpt_tos"][0] == "director@agency.example")
        .expect("the Arabic mail");
    assert_eq!(ar["rcpt_tos"].as_array().unwrap().len(), 1);
    assert_eq!(
        (ar["tls"].as_bool(), ar["login"].as_str()),
        (Some(true), Some("raqib"))
    );
    assert_eq!(ar["mail_from"], "raqib@unit.example");
    let raw = ar["subject_raw"].as_str().unwrap();
    assert!(
        raw.is_ascii() && raw.to_ascii_lowercase().contains("=?utf-8?"),
        "{raw}"
    );
    assert_eq!(
        ar["subject"],
        "رقيب: مركز الخدمة الضعيف — الهاتف 0.0 (مؤكد)"
    );
    let text = ar["text"].as_str().unwrap();
    for want in [
        "الجهة: \u{2068}Agency T\u{2069}",
        &format!("الفترة: \u{2068}{}\u{2069}", label(flagged)),
        "التصنيف: مؤكد",
        "المكالمات الصالحة: 5",
        "أسوأ المكالمات:",
        "مشغول",
        "https://raqib.unit.example/results/",
    ] {
        assert!(text.contains(want), "no {want:?} in {text}");
    }
    assert!(ar["html"].as_str().unwrap().contains("dir=\"rtl\""));
    // The reason in words, what is asked and by when, the link to the dashboard, local times,
    // and every id, period and URL isolated in the Arabic (FSI…PDI in text, <bdi> in HTML).
    let link = format!(
        "https://raqib.unit.example/centres/weak?period={}",
        label(flagged)
    );
    for want in [
        "السبب: لم يُرد موظف في 5 من 5 مكالمات",
        "المطلوب: خطة تحسين خلال 0 يومًا، أي قبل \u{2068}",
        "توقيت عمّان",
        &format!("\u{2068}{link}\u{2069}"),
    ] {
        assert!(text.contains(want), "no {want:?} in {text}");
    }
    let html = ar["html"].as_str().unwrap();
    for want in [
        &format!("href=\"{link}\""),
        &format!("<bdi dir=\"ltr\">{}</bdi>", label(flagged)),
        "<th scope=\"row\"",
        "<bdi dir=\"ltr\">Agency T</bdi>",
    ] {
        assert!(html.contains(want), "no {want:?} in {html}");
    }
    let en_mail = mail
        .iter()
        .find(|m| m["rcpt_tos"][0] == "deputy@agency.example")
        .unwrap();
    // Read on a phone: the mail lays out within 390 px, worst-calls table and all.
    for (m, name) in [(ar, "mail-ar"), (en_mail, "mail-en")] {
        for width in [390, 1366] {
            let (scroll, inner) = peers::laid_out_widths(m["html"].as_str().unwrap(), name, width);
            assert!(
                scroll <= inner,
                "{name} at {width} px: {scroll} px wide in a {inner} px window"
            );
        }
    }
    let en_text = en_mail["text"].as_str().unwrap();
    for want in [
        "Reason: no person reached in 5 of 5 calls",
        "Requested: an improvement plan within 0 days, by 20",
        "Amman time",
        &link,
    ] {
        assert!(en_text.contains(want), "no {want:?} in {en_text}");
    }
    // Words, never stored codes, in either language; local times, never UTC stamps.
    for m in [ar, en_mail] {
        for part in ["text", "html"] {
            let shown = m[part].as_str().unwrap();
            for code in [
                "no_answer",
                "not_in_service",
                "insufficient_data",
                "site_down",
                ".000Z",
            ] {
                assert!(!shown.contains(code), "{code:?} shown in {shown}");
            }
        }
    }
    for part in ["text", "html"] {
        let shown = ar[part].as_str().unwrap();
        for code in ["busy", "confirmed", "phone", "answered", "human", "UTC"] {
            assert!(!shown.contains(code), "{code:?} shown in {shown}");
        }
    }
    let en = mail
        .iter()
        .find(|m| m["rcpt_tos"][0] == "deputy@agency.example")
        .expect("the English mail");
    assert_eq!(en["subject"], "raqib: Weak centre — phone 0.0 (confirmed)");
    assert!(en["text"].as_str().unwrap().contains("Worst calls:"));
    let hooks_of = |path: &str| -> Vec<Value> {
        lines(&hooks)
            .into_iter()
            .filter(|h| h["path"] == path)
            .map(|h| h["body"].clone())
            .collect()
    };
    let json = hooks_of("/json");
    assert_eq!(json.len(), 1);
    let alert = &json[0]["alert"];
    assert_eq!(
        (
            alert["kind"].as_str(),
            alert["centre"]["id"].as_str(),
            alert["class"].as_str(),
            alert["period"].as_str()
        ),
        (
            Some("flag"),
            Some("weak"),
            Some("confirmed"),
            Some(label(flagged).as_str())
        )
    );
    assert_eq!(alert["score"]["value"], 0.0);
    assert_eq!(alert["worst_calls"].as_array().unwrap().len(), 3);
    assert_eq!(json[0]["messages"]["ar"]["subject"], ar["subject"]);
    assert_eq!(json[0]["messages"]["en"]["subject"], en["subject"]);
    assert!(hooks_of("/slack")[0]["text"]
        .as_str()
        .unwrap()
        .contains("مركز الخدمة الضعيف"));
    assert_eq!(
        hooks_of("/teams")[0]["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );

    // 2. The same state again: no new flag alert. The case (due at once) is now overdue: the
    // escalation goes to the second list only. The flaky receiver fails its second try.
    wait_for_due_retries(&config, &data, Duration::from_secs(10));
    let (out, second) = run(&label(flagged));
    ok(&out);
    assert_eq!(second["evaluated"]["unchanged"], 1, "{second}");
    assert_eq!(second["evaluated"]["alerts"].as_array().unwrap().len(), 1);
    let mail = lines(&mails);
    assert_eq!(mail.len(), 3, "{mail:#?}");
    assert_eq!(
        mail[2]["rcpt_tos"],
        serde_json::json!(["minister@gov.example"])
    );
    assert!(
        mail[2]["subject"]
            .as_str()
            .unwrap()
            .starts_with("رقيب: تصعيد"),
        "{}",
        mail[2]["subject"]
    );

    // 3. Last month was clear: the case closes and the primary contacts hear it is resolved.
    // The flaky receiver takes its third try; the dead one has failed three times: recorded,
    // and the command says so with exit 1.
    wait_for_due_retries(&config, &data, Duration::from_secs(10));
    let (out, third) = run(&label(cleared));
    assert_eq!(out.status.code(), Some(1), "{third}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 deliveries failed for good"));
    assert_eq!(third["delivered"]["failed"], 1, "{third}");
    let mail = lines(&mails);
    let resolved: Vec<_> = mail
        .iter()
        .filter(|m| {
            let s = m["subject"].as_str().unwrap();
            s.starts_with("رقيب: تمت المعالجة") || s.starts_with("raqib: resolved")
        })
        .collect();
    assert_eq!(resolved.len(), 2, "{mail:#?}");
    assert!(mail.iter().all(|m| m["rcpt_tos"][0] != "other@gov.example"));
    assert_eq!(
        hooks_of("/flaky").len(),
        2,
        "the flag on its 3rd try, then the resolution"
    );

    let alerts = json_lines(&raqib(&config, &data, &["alerts", "--json"]));
    let kinds: Vec<_> = alerts.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["resolved", "escalation", "flag"]);
    let flag = &alerts[2];
    // Deliveries name a webhook without its path (where its secret would be): by host and
    // the fingerprint of the whole URL.
    let delivery = |url: &str| {
        let shown = format!("webhook:{}", raqib::redact::webhook(url));
        assert!(!shown.contains(url), "{shown}");
        flag["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["contact"] == shown.as_str())
            .unwrap_or_else(|| panic!("no delivery to {shown}: {flag:#}"))
            .clone()
    };
    let flaky = delivery(&hook("/flaky"));
    assert_eq!(
        (flaky["status"].as_str(), flaky["attempts"].as_i64()),
        (Some("sent"), Some(3))
    );
    assert!(flaky["last_error"].as_str().unwrap().contains("500"));
    let gone = delivery(&format!("http://127.0.0.1:{dead}/x"));
    assert_eq!(
        (gone["status"].as_str(), gone["attempts"].as_i64()),
        (Some("failed"), Some(3))
    );
    assert!(
        gone["last_error"].as_str().unwrap().contains("connect"),
        "{gone}"
    );
    // The password is never printed.
    let listed = raqib(&config, &data, &["alerts"]);
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(PASSWORD));
    drop(lab);
}

#[test]
fn alerts_test_reports_each_contact_and_a_missing_password_is_bad_input() {
    if !python_module("aiosmtpd", "aiosmtpd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mails = dir.path().join("mails.jsonl");
    let hooks = dir.path().join("hooks.jsonl");
    let (_smtp, smtp_port) = smtp_sink(dir.path(), &mails);
    let (_hook, hook_port) = webhook_sink(&hooks, &[]);
    let config = dir.path().join("raqib.toml");
    write(
        &config,
        &format!(
            "[alerts.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\n\
             username = \"raqib\"\npassword_env = \"{PASSWORD_ENV}\"\ntrust_ca_files = [\"{ca}\"]\n\
             [[alerts.contact]]\nagency = \"*\"\nemail = \"ops@unit.example\"\nlang = \"both\"\n\
             [[alerts.contact]]\nagency = \"*\"\nwebhook = \"http://127.0.0.1:{hook_port}/t\"\nformat = \"slack\"\n\
             [[alerts.contact]]\nagency = \"*\"\nwebhook = \"http://nowhere.invalid/t\"\n",
            ca = dir.path().join("smtp-ca.pem").display(),
        ),
    );
    let out = raqib_pw(&config, &data, &["alerts", "test", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json_lines(&out);
    let oks: Vec<_> = report.iter().map(|r| r["ok"].as_bool().unwrap()).collect();
    assert_eq!(oks, [true, true, false], "{report:#?}");
    assert!(report[2]["error"]
        .as_str()
        .unwrap()
        .contains("nowhere.invalid"));
    let mail = lines(&mails);
    assert_eq!(mail.len(), 1);
    assert_eq!(
        mail[0]["subject"],
        "رقيب: رسالة اختبار | raqib: test message"
    );
    assert_eq!(lines(&hooks).len(), 1);
    // Nothing is stored by a test.
    assert!(json_lines(&raqib(&config, &data, &["alerts", "--json"])).is_empty());
    // Without the password variable: bad input (exit 2), naming the variable, not a value.
    let out = raqib(&config, &data, &["alerts", "test"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(PASSWORD_ENV) && err.contains("not set"),
        "{err}"
    );
}

#[test]
fn serve_alerts_after_its_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (weak, weak_toml) = lab_numbers("+962650001", "busy");
    let lab_config = dir.path().join("lab.toml");
    write(
        &lab_config,
        &format!("{LAB_PORTS}[lab.phones]\n{weak_toml}"),
    );
    let lab = start_lab(&lab_config, &data.join("lab"));
    let hooks = dir.path().join("hooks.jsonl");
    let (_hook, hook_port) = webhook_sink(&hooks, &[]);
    let config = dir.path().join("raqib.toml");
    write(
        &config,
        &format!(
            "[trunk]\nuri_template = \"sip:{{number}}@{sip}\"\n[guard]\nallow_prefixes = [\"+962\"]\n\
             [serve]\ncall_margin_secs = 0\n\
             [server]\npublic_url = \"https://raqib.unit.example\"\n\
             [[schedule]]\nname = \"calls\"\ncron = \"0 0 1 1 *\"\ntimezone = \"Asia/Amman\"\nchannel = \"phone\"\nspread_minutes = 1\n\
             [[alerts.contact]]\nagency = \"*\"\nwebhook = \"http://127.0.0.1:{hook_port}/h\"\n",
            sip = lab.sip
        ),
    );
    let csv = dir.path().join("c.csv");
    write(
        &csv,
        &format!(
            "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
             weak,م,Weak,A,R,Asia/Amman,Sun-Sat 00:00-24:00,{},\n",
            weak.join(";")
        ),
    );
    ok(&raqib(
        &config,
        &data,
        &["centres", "import", csv.to_str().unwrap()],
    ));
    // Without the dashboard's public address an alert would have nothing to link to.
    let no_url = dir.path().join("no-url.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    write(
        &no_url,
        &text.replace("public_url = \"https://raqib.unit.example\"\n", ""),
    );
    let out = raqib(&no_url, &data, &["serve", "--run", "calls"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs [server] public_url"));
    let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
    let serve = Proc(
        peers::without_proxy(&mut Command::new(BIN))
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .args(["serve", "--run", "calls"])
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    assert!(
        eventually(Duration::from_secs(120), || !lines(&hooks).is_empty()),
        "no alert from serve: {}",
        std::fs::read_to_string(dir.path().join("serve.log")).unwrap()
    );
    let got = lines(&hooks);
    assert_eq!(got[0]["body"]["alert"]["centre"]["id"], "weak");
    assert_eq!(got[0]["body"]["alert"]["class"], "confirmed");
    // Every call was placed before the alert: the sweep had finished.
    let sweeps = json_lines(&raqib(&config, &data, &["sweeps", "--json"]));
    assert_eq!(
        (sweeps[0]["done"].as_i64(), sweeps[0]["status"].as_str()),
        (Some(5), Some("finished"))
    );
    drop(serve);
    drop(lab);
}

/// Every webhook contact of `urls` (JSON format) for `alerts test`, with `[alerts.smtp]` only
/// for its `timeout_secs`, which webhooks share.
fn webhook_config(path: &Path, timeout_secs: u64, urls: &[String]) {
    let contacts: String = urls
        .iter()
        .map(|u| format!("[[alerts.contact]]\nagency = \"*\"\nwebhook = \"{u}\"\n"))
        .collect();
    write(
        path,
        &format!(
            "[alerts.smtp]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\ntimeout_secs = {timeout_secs}\n{contacts}"
        ),
    );
}

/// Each contact's error in a `raqib alerts test --json` report (empty when it went out).
fn test_errors(out: &Output) -> Vec<String> {
    json_lines(out)
        .iter()
        .map(|r| r["error"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn webhooks_follow_only_307_and_308_cut_endless_answers_and_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hooks = dir.path().join("hooks.jsonl");
    let (_hook, port) = webhook_sink(
        &hooks,
        &[
            "--redirect",
            "307",
            "/moved/SECRET1?token=QSECRET1",
            "/to",
            "--redirect",
            "302",
            "/found/SECRET2",
            "/to",
            "--redirect",
            "307",
            "/loop/SECRET3",
            "/loop/SECRET3",
            "--endless",
            "/endless/SECRET4",
        ],
    );
    // A receiver that never answers: connections wait in its backlog, never accepted.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let at = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let config = dir.path().join("raqib.toml");
    webhook_config(
        &config,
        3,
        &[
            at("/moved/SECRET1?token=QSECRET1"),
            at("/found/SECRET2"),
            at("/loop/SECRET3"),
            at("/endless/SECRET4"),
            format!("http://127.0.0.1:{silent_port}/silent/SECRET5"),
        ],
    );
    let started = Instant::now();
    let out = raqib(&config, &data, &["alerts", "test", "--json"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    let errors = test_errors(&out);
    assert_eq!(
        errors,
        [
            String::new(),
            format!(
                "redirect 302 to 127.0.0.1:{port} refused: only 307 and 308 re-send a POST with its body"
            ),
            format!("redirect to 127.0.0.1:{port} refused: more than 3 redirects"),
            String::new(),
            "no answer within 3 s".to_string(),
        ]
    );
    // The silent receiver held the run for its timeout, no longer (slack for a slow start).
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(15),
        "{took:?}"
    );
    for text in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(text).contains("SECRET"));
    }
    let got = lines(&hooks);
    let at_path = |p: &str| -> Vec<&Value> { got.iter().filter(|h| h["path"] == p).collect() };
    // The 307 is followed with the same POST: method, type and body.
    let (moved, to) = (at_path("/moved/SECRET1?token=QSECRET1"), at_path("/to"));
    assert_eq!((moved.len(), to.len()), (1, 1), "{got:#?}");
    assert_eq!(to[0]["body"], moved[0]["body"]);
    assert_eq!(to[0]["body"]["alert"]["kind"], "test");
    assert_eq!(to[0]["content_type"], "application/json; charset=utf-8");
    // The 302 was asked once and not re-sent as anything; the loop asked 1 + 3 times.
    assert_eq!(at_path("/found/SECRET2")[0]["redirected"], 302);
    assert_eq!(at_path("/found/SECRET2").len(), 1);
    assert_eq!(at_path("/loop/SECRET3").len(), 4);
    // The endless body: raqib hung up after its first 64 KiB (what the sink wrote beyond that
    // sat in socket buffers), long before the sink's own cap of 256 MiB.
    wait_until("the endless answer to end", Duration::from_secs(10), || {
        lines(&hooks).iter().any(|h| h["endless_sent"].is_u64())
    });
    let sent = lines(&hooks)
        .iter()
        .find_map(|h| h["endless_sent"].as_u64())
        .unwrap();
    assert!(sent < 64 * 1024 * 1024, "{sent} bytes sent");
    drop(silent);
}

#[test]
fn webhooks_go_through_the_proxy_the_environment_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hooks = dir.path().join("hooks.jsonl");
    // The sink as the proxy: it answers an absolute-form request itself and records its URL.
    let (_proxy, port) = webhook_sink(&hooks, &[]);
    let proxy = format!("http://127.0.0.1:{port}");
    let hidden = "http://hook.invalid/services/T0/PROXYSECRET?token=Q1";
    let config = dir.path().join("raqib.toml");
    webhook_config(
        &config,
        10,
        &[hidden.to_string(), format!("{proxy}/direct")],
    );
    for (round, [http, no]) in [["HTTP_PROXY", "NO_PROXY"], ["http_proxy", "no_proxy"]]
        .into_iter()
        .enumerate()
    {
        let out = peers::raqib_env(
            &config,
            &data,
            &[(http, &proxy), (no, "127.0.0.1")],
            &["alerts", "test", "--json"],
        );
        ok(&out);
        let got = lines(&hooks);
        assert_eq!(got.len(), 2 * (round + 1), "{got:#?}");
        let new = &got[2 * round..];
        // hook.invalid resolves nowhere: it was reached through the proxy only.
        assert_eq!(
            (new[0]["path"].as_str(), new[0]["host"].as_str()),
            (Some(hidden), Some("hook.invalid")),
            "{http}"
        );
        assert_eq!(new[0]["body"]["alert"]["kind"], "test");
        // NO_PROXY keeps loopback direct: an origin-form request.
        assert_eq!(new[1]["path"], "/direct", "{no}");
    }
    // Without a proxy the same webhook cannot be reached, and the error names its host only.
    let out = raqib(&config, &data, &["alerts", "test", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let errors = test_errors(&out);
    assert!(
        errors[0].starts_with("connect hook.invalid:80: "),
        "{errors:?}"
    );
    assert!(!errors[0].contains("PROXYSECRET") && !errors[0].contains("Q1"));
    assert_eq!(errors[1], "");
    assert_eq!(lines(&hooks).len(), 5);
    // A proxy that cannot be reached is named, without the credentials its URL carries.
    let dead = free_port();
    let out = peers::raqib_env(
        &config,
        &data,
        &[
            (
                "HTTP_PROXY",
                &format!("http://user:PROXYPW@127.0.0.1:{dead}"),
            ),
            ("NO_PROXY", "127.0.0.1"),
        ],
        &["alerts", "test", "--json"],
    );
    let errors = test_errors(&out);
    assert!(
        errors[0].starts_with(&format!(
            "connect hook.invalid:80 through proxy 127.0.0.1:{dead}: "
        )),
        "{errors:?}"
    );
    assert!(!errors[0].contains("PROXYPW") && !errors[0].contains("PROXYSECRET"));
    assert_eq!(errors[1], "");
    assert_eq!(lines(&hooks).len(), 6);
}
