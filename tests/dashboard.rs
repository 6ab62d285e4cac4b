//! The dashboard in real headless Chromium against `raqib serve --listen`, with real lab calls
//! and a real browser audit behind it: signing in, both languages (`dir="rtl"` in Arabic),
//! the overview, a centre page (chart, player, screenshot served only to the signed-in), a
//! "probe now" from the page that lands in the results, the label form, and a viewer who gets
//! neither button nor form. Screenshots of the pages are checked not to be blank.

mod peers;

use peers::ok;

use std::path::Path;

use std::time::Duration;

use base64::Engine;
use peers::{json_lines, raqib};
use raqib::probe::web::cdp::{Browser, Event};
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedReceiver;

/// A page of the browser and its events.
struct Tab<'a> {
    browser: &'a Browser,
    sid: String,
    events: UnboundedReceiver<Event>,
}

impl<'a> Tab<'a> {
    async fn open(browser: &'a Browser, context: Option<&str>) -> Tab<'a> {
        let sid = browser.new_page(context).await.unwrap();
        let events = browser.subscribe(&sid);
        browser
            .call("Page.enable", json!({}), Some(&sid))
            .await
            .unwrap();
        browser
            .call(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
                Some(&sid),
            )
            .await
            .unwrap();
        Tab {
            browser,
            sid,
            events,
        }
    }

    async fn call(&self, method: &str, params: Value) -> Value {
        self.browser
            .call(method, params, Some(&self.sid))
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Runs `js` in the page; its value.
    async fn eval(&self, js: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(r["exceptionDetails"].is_null(), "{js}: {r}");
        r["result"]["value"].clone()
    }

    fn forget_events(&mut self) {
        while self.events.try_recv().is_ok() {}
    }

    async fn loaded(&mut self) {
        let waited = tokio::time::timeout(Duration::from_secs(90), async {
            while let Some(ev) = self.events.recv().await {
                if ev.method == "Page.loadEventFired" {
                    return;
                }
            }
        })
        .await;
        assert!(waited.is_ok(), "the page did not load within 90 s");
    }

    async fn go(&mut self, url: &str) {
        self.forget_events();
        self.call("Page.navigate", json!({"url": url})).await;
        self.loaded().await;
    }

    /// Runs `js` that leaves the page (a click, a submit) and waits for the next one.
    async fn act(&mut self, js: &str) {
        self.forget_events();
        self.eval(js).await;
        self.loaded().await;
    }

    async fn text(&self, js: &str) -> String {
        self.eval(js).await.as_str().unwrap_or_default().to_string()
    }

    async fn sign_in(&mut self, base: &str, name: &str, password: &str) {
        self.go(&format!("{base}/")).await;
        assert_eq!(self.text("location.pathname").await, "/login");
        self.act(&format!(
            "document.querySelector('[name=name]').value={name:?};\
             document.querySelector('[name=password]').value={password:?};\
             document.querySelector('#sign-in').click()"
        ))
        .await;
        assert_eq!(self.text("location.pathname").await, "/", "signed in");
    }

    /// A PNG of the viewport (also written to $RAQIB_SCREENSHOTS/NAME.png when set, to look at).
    async fn screenshot(&self, name: &str) -> String {
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let data = shot["data"].as_str().unwrap().to_string();
        if let Ok(dir) = std::env::var("RAQIB_SCREENSHOTS") {
            let png = base64::engine::general_purpose::STANDARD
                .decode(&data)
                .unwrap();
            std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
        }
        data
    }
}

/// How much of a screenshot is not its most common colour, and how many colours it has,
/// measured by Chromium itself on a canvas (no image crate needed).
async fn ink(tab: &Tab<'_>, png_base64: &str) -> (f64, u64) {
    let v = tab
        .eval(&format!(
            "new Promise(done => {{ const img = new Image(); img.onload = () => {{\
               const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;\
               const g = c.getContext('2d'); g.drawImage(img, 0, 0);\
               const d = g.getImageData(0, 0, c.width, c.height).data; const n = {{}};\
               for (let i = 0; i < d.length; i += 4) {{ const k = (d[i]>>4)+','+(d[i+1]>>4)+','+(d[i+2]>>4); n[k] = (n[k]||0)+1; }}\
               const counts = Object.values(n); const top = Math.max(...counts);\
               done([1 - top / (d.length / 4), counts.length]); }};\
             img.src = 'data:image/png;base64,{png_base64}'; }})"
        ))
        .await;
    (v[0].as_f64().unwrap(), v[1].as_u64().unwrap())
}

fn ready() -> bool {
    let axe = Path::new("probes/web/node_modules/axe-core/axe.min.js");
    if !peers::have("chromium", "chromium") {
        return false;
    }
    if !axe.is_file() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "{} is missing in CI: scripts/setup must run npm ci",
                axe.display()
            );
        }
        eprintln!("SKIP: axe-core missing (run ./scripts/setup)");
        return false;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_both_languages_with_probe_now_and_labels() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (lab, config, data) = peers::lab_with_phones(
        dir.path(),
        &[("+96265000301", "human"), ("+96265000302", "busy")],
        "",
    );
    let csv = dir.path().join("c.csv");
    std::fs::write(
        &csv,
        format!(
            "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
             jo-amman-civil,مكتب الأحوال المدنية - عمّان,Amman Civil Status Office,Civil Status,\
             Amman,Asia/Amman,Sun-Sat 00:00-24:00,+96265000301;+96265000302,\
             http://{}/ok/jo-amman-civil/\n",
            lab.http
        ),
    )
    .unwrap();
    let run = |args: &[&str]| ok(&raqib(&config, &data, args));
    run(&["centres", "import", csv.to_str().unwrap()]);
    run(&["sweep", "--channel", "phone"]);
    run(&["sweep", "--channel", "web"]);
    run(&["users", "add", "auditor1", "--role", "auditor"]);
    run(&["users", "add", "minister", "--role", "viewer"]);
    for (user, password) in [
        ("auditor1", "auditor password 1"),
        ("minister", "viewer password 1"),
    ] {
        assert_eq!(peers::set_password(&config, &data, user, password), Some(0));
    }
    let calls_before = json_lines(&raqib(&config, &data, &["results", "--json"]));
    assert_eq!(calls_before.len(), 3, "two calls and one site");

    let (_serve, port) = peers::serve_listen(&config, &data, &dir.path().join("serve.log"), &[]);
    let base = format!("http://127.0.0.1:{port}");

    let browser = Browser::launch(Path::new("/usr/bin/chromium"), &[])
        .await
        .unwrap();
    let mut tab = Tab::open(&browser, None).await;
    tab.sign_in(&base, "auditor1", "auditor password 1").await;

    // Arabic first: right to left, the overview's sections, the flagged/league tables.
    assert_eq!(tab.text("document.documentElement.dir").await, "rtl");
    assert_eq!(tab.text("document.documentElement.lang").await, "ar");
    assert_eq!(
        tab.text("document.querySelector('h1').textContent").await,
        "نظرة عامة"
    );
    for id in ["summary", "flagged", "agencies", "league"] {
        assert_eq!(
            tab.eval(&format!("!!document.getElementById('{id}')"))
                .await,
            true,
            "section {id}"
        );
    }
    assert!(tab
        .text("document.getElementById('league').textContent")
        .await
        .contains("مكتب الأحوال المدنية - عمّان"));
    let (ar_ink, ar_colours) = ink(&tab, &tab.screenshot("overview-ar").await).await;
    assert!(
        ar_ink > 0.02 && ar_colours > 8,
        "Arabic overview looks blank: {ar_ink} {ar_colours}"
    );

    // English by the switch, remembered on the next page.
    tab.act("document.getElementById('lang-switch').click()")
        .await;
    assert_eq!(tab.text("document.documentElement.dir").await, "ltr");
    assert_eq!(
        tab.text("document.querySelector('h1').textContent").await,
        "Overview"
    );
    let (en_ink, en_colours) = ink(&tab, &tab.screenshot("overview-en").await).await;
    assert!(
        en_ink > 0.02 && en_colours > 8,
        "English overview looks blank: {en_ink} {en_colours}"
    );

    // The centre page: chart, two calls with timelines, one with a recording, the audit with
    // its screenshot, and the probe buttons of an auditor.
    tab.act("document.querySelector('#league a[href^=\"/centres/jo-amman-civil\"]').click()")
        .await;
    assert_eq!(
        tab.text("location.pathname").await,
        "/centres/jo-amman-civil"
    );
    assert_eq!(tab.text("document.documentElement.lang").await, "en");
    assert_eq!(
        tab.eval("document.querySelectorAll('#history-chart').length")
            .await,
        1
    );
    assert_eq!(
        tab.eval("document.querySelectorAll('tr.call').length")
            .await,
        2
    );
    assert_eq!(
        tab.eval("document.querySelectorAll('tr.call svg.timeline').length")
            .await,
        2
    );
    assert_eq!(
        tab.eval("document.querySelectorAll('#calls audio').length")
            .await,
        1
    );
    let shot_width = tab
        .eval(
            "new Promise(done => { const i = document.querySelector('img.shot');\
             if (!i) return done(0); if (i.complete) return done(i.naturalWidth);\
             i.onload = () => done(i.naturalWidth); i.onerror = () => done(-1); })",
        )
        .await;
    assert!(
        shot_width.as_i64().unwrap() > 100,
        "screenshot not shown: {shot_width} {}",
        ok(&raqib(
            &config,
            &data,
            &["results", "--json", "--channel", "web"]
        ))
    );
    // The recording is served to this session, as audio.
    let audio = tab
        .eval(
            "fetch(document.querySelector('#calls audio').getAttribute('src'))\
             .then(r => [r.status, r.headers.get('content-type')])",
        )
        .await;
    assert_eq!(audio, json!([200, "audio/wav"]));
    assert_eq!(
        tab.eval("document.querySelectorAll('.probe-now').length")
            .await,
        3
    );
    let centre_shot = tab.screenshot("centre-en").await;
    let (c_ink, _) = ink(&tab, &centre_shot).await;
    assert!(c_ink > 0.02, "centre page looks blank: {c_ink}");

    // Probe now: the human number, from the page; the result page follows.
    tab.act("document.getElementById('probe-phone-0').click()")
        .await;
    let path = tab.text("location.pathname").await;
    let id: i64 = path
        .strip_prefix("/results/")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("probe now led to {path}"));
    assert_eq!(
        tab.text("document.getElementById('outcome').textContent")
            .await,
        "answered"
    );
    tab.screenshot("result-en").await;
    assert!(tab
        .text("document.getElementById('sip-trace').textContent")
        .await
        .contains("INVITE sip:+96265000301"));
    let after: Vec<Value> = json_lines(&raqib(&config, &data, &["results", "--json"]));
    let probed = after.iter().find(|r| r["id"] == id).expect("stored");
    assert_eq!(
        (
            probed["number"].as_str(),
            probed["outcome"].as_str(),
            probed["sweep"].as_i64()
        ),
        (Some("+96265000301"), Some("answered"), None)
    );
    assert_eq!(after.len(), calls_before.len() + 1);

    // The label form: the label is stored with the auditor's name and shown.
    tab.act(
        "document.querySelector('#label-form [name=answer_type]').value='ivr';\
         document.querySelector('#label-form [name=reason]').value='a menu, then music';\
         document.querySelector('#label-form').submit()",
    )
    .await;
    assert_eq!(
        tab.eval("document.querySelectorAll('tr.label').length")
            .await,
        1
    );
    let labels: Value = serde_json::from_str(
        ok(&raqib(&config, &data, &["results", "--json"]))
            .lines()
            .find(|l| l.contains(&format!("\"id\":{id},")))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(labels["scoring"]["label"]["by"], "auditor1");
    assert_eq!(labels["scoring"]["label"]["answer_type"], "ivr");

    // Back on the centre page the new call is the first row.
    tab.go(&format!("{base}/centres/jo-amman-civil")).await;
    assert_eq!(
        tab.eval("document.querySelectorAll('tr.call').length")
            .await,
        3
    );
    assert_eq!(
        tab.text("document.querySelector('tr.call a').getAttribute('href')")
            .await,
        format!("/results/{id}")
    );

    // A viewer, in a browser context of their own: no probe button, no label form, and the
    // form's endpoint refuses them.
    let ctx = browser
        .call("Target.createBrowserContext", json!({}), None)
        .await
        .unwrap();
    let mut viewer = Tab::open(&browser, ctx["browserContextId"].as_str()).await;
    viewer.sign_in(&base, "minister", "viewer password 1").await;
    assert_eq!(
        viewer.text("document.documentElement.dir").await,
        "rtl",
        "a new visitor reads Arabic"
    );
    viewer.go(&format!("{base}/centres/jo-amman-civil")).await;
    assert_eq!(
        viewer
            .eval("document.querySelectorAll('.probe-now').length")
            .await,
        0
    );
    viewer.go(&format!("{base}/results/{id}")).await;
    let (r_ink, _) = ink(&viewer, &viewer.screenshot("result-ar").await).await;
    assert!(r_ink > 0.02, "Arabic result page looks blank: {r_ink}");
    assert_eq!(
        viewer.eval("!!document.getElementById('label-form')").await,
        false
    );
    assert_eq!(
        viewer
            .eval("document.querySelectorAll('tr.label').length")
            .await,
        1
    );
    let csrf = viewer
        .text("document.querySelector('[name=_csrf]').value")
        .await;
    let refused = viewer
        .eval(&format!(
            "fetch('/probe', {{method: 'POST', headers: {{'content-type': 'application/x-www-form-urlencoded'}},\
             body: 'channel=phone&target=%2B96265000301&_csrf={csrf}'}}).then(r => r.status)"
        ))
        .await;
    assert_eq!(refused, 403);
    // Signing out ends the session: the next page asks to sign in again.
    viewer
        .act("document.querySelector('form[action=\"/logout\"] button').click()")
        .await;
    viewer.go(&format!("{base}/centres/jo-amman-civil")).await;
    assert_eq!(viewer.text("location.pathname").await, "/login");
    browser.close(Duration::from_secs(2)).await;
    assert_eq!(
        json_lines(&raqib(&config, &data, &["results", "--json"])).len(),
        calls_before.len() + 1,
        "the viewer's refused probe placed no call"
    );
}

/// A site of someone else's on loopback: answers every request with a page saying so.
fn other_site() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().map_while(Result::ok) {
            use std::io::{Read, Write};
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let page = "<!DOCTYPE html><title>other</title><h1 id=other>another site</h1>";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    port
}

/// Item 6: a sign-in link whose `next` hides a second slash behind a tab (`/%09/host`, which
/// Chromium reads as `//host`) lands on this site, in real Chromium; so does a form whose
/// `next` field was changed to such a path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_link_never_leads_to_another_site() {
    if !peers::have("chromium", "chromium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("raqib.toml");
    std::fs::write(&config, "").unwrap();
    ok(&raqib(
        &config,
        &data,
        &["users", "add", "minister", "--role", "viewer"],
    ));
    assert_eq!(
        peers::set_password(&config, &data, "minister", "viewer password 1"),
        Some(0)
    );
    let (_serve, port) = peers::serve_listen(&config, &data, &dir.path().join("serve.log"), &[]);
    let base = format!("http://127.0.0.1:{port}");
    let other = other_site();
    let browser = Browser::launch(Path::new("/usr/bin/chromium"), &[])
        .await
        .unwrap();
    let fill = "document.querySelector('[name=name]').value='minister';\
                document.querySelector('[name=password]').value='viewer password 1';";
    for (how, link, change) in [
        (
            "a link",
            format!("{base}/login?next=/%09/127.0.0.1:{other}/"),
            String::new(),
        ),
        (
            "a changed form",
            format!("{base}/login"),
            format!("document.querySelector('[name=next]').value='/\\t/127.0.0.1:{other}/';"),
        ),
        (
            "a newline",
            format!("{base}/login"),
            format!("document.querySelector('[name=next]').value='/\\n/127.0.0.1:{other}/';"),
        ),
    ] {
        let ctx = browser
            .call("Target.createBrowserContext", json!({}), None)
            .await
            .unwrap();
        let mut tab = Tab::open(&browser, ctx["browserContextId"].as_str()).await;
        tab.go(&link).await;
        assert_eq!(tab.text("location.pathname").await, "/login", "{how}");
        tab.eval(&format!(
            "window.__csp = [];\
             document.addEventListener('securitypolicyviolation', \
               e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));\
             {fill}{change}setTimeout(() => document.querySelector('#sign-in').click(), 0); true"
        ))
        .await;
        // Where the browser lands: polled (a page on another site may never finish loading).
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let landed = loop {
            let href = browser
                .call(
                    "Runtime.evaluate",
                    json!({"expression": "document.readyState == 'complete' ? location.href : ''",
                           "returnByValue": true}),
                    Some(&tab.sid),
                )
                .await
                .ok()
                .and_then(|v| v["result"]["value"].as_str().map(String::from))
                .unwrap_or_default();
            if !href.is_empty() && !href.contains("/login") {
                break href;
            }
            if std::time::Instant::now() > deadline {
                let csp = tab.eval("JSON.stringify(window.__csp)").await;
                panic!("{how}: still on {href:?} after 30 s; CSP violations: {csp}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(
            landed,
            format!("{base}/"),
            "{how}: signed in and sent off the site"
        );
        assert_eq!(tab.eval("!!document.getElementById('other')").await, false);
    }
    browser.close(Duration::from_secs(2)).await;
}

/// Stored codes that a page must never show as they are stored (issue 17): besides every
/// channel's outcomes, each class, band, answer type, reason, state and part of a score.
const OTHER_CODES: &[&str] = &[
    "dns",
    "connect",
    "tls",
    "timeout",
    "http_status",
    "content",
    "local",
    "slow",
    "tls_expiring",
    "ok",
    "load_timeout",
    "unresponsive",
    "load_failed",
    "http_error",
    "browser_error",
    "audit_error",
    "confirmed",
    "provisional",
    "insufficient_data",
    "clear",
    "critical",
    "number_not_in_service",
    "site_down",
    "excellent",
    "medium",
    "weak",
    "improved",
    "declined",
    "unchanged",
    "gold",
    "silver",
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
    "raqib",
    "remote",
    "open",
    "overdue",
    "closed",
    "network_answer",
    "ring_time",
    "reached_person",
    "time_to_person",
    "voice_quality",
    "label",
    "heuristic",
    "viewer",
    "auditor",
    "admin",
    "phone",
    "web",
    "no_calls",
    "no_calls_in_hours",
    "too_few_calls",
    "no_web_checks",
];

fn stored_codes() -> Vec<&'static str> {
    raqib::probe::Channel::ALL
        .iter()
        .flat_map(|c| c.outcomes().iter().copied())
        .chain(OTHER_CODES.iter().copied())
        .collect()
}

/// Codes that are no English word as people read them: an English page must not show them.
const NOT_ENGLISH: &[&str] = &[
    "human",
    "ivr",
    "heuristic",
    "rejected",
    "dns",
    "tls",
    "ok",
    "admin",
];

/// The text a reader sees, without evidence shown verbatim (the SIP trace, the stored JSON,
/// technical detail marked as English) and without URLs.
const VISIBLE_TEXT_JS: &str = "(() => { const b = document.body.cloneNode(true);\
    b.querySelectorAll('pre, details, [lang=en]:not(html)').forEach(e => e.remove());\
    return b.innerText.replace(/\\S+:\\/\\/\\S+/g, ' '); })()";

/// The stored codes `text` shows as they are stored, and codes written twice in a row
/// ("answered answered", "متاح up").
fn raw_codes(text: &str, arabic: bool) -> Vec<String> {
    let tokens: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .collect();
    let codes = stored_codes();
    let mut found = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let code = codes.contains(t);
        let shown = if arabic {
            code
        } else {
            code && (t.contains('_') || NOT_ENGLISH.contains(t))
        };
        let twice = code && tokens.get(i + 1).is_some_and(|n| n.eq_ignore_ascii_case(t));
        if shown || twice {
            found.push(t.to_string());
        }
    }
    found
}

impl Tab<'_> {
    /// PNGs of the whole page, in parts 1600 px high, written to $RAQIB_SCREENSHOTS/NAME-N.png
    /// when set, to look at.
    async fn screenshot_page(&self, name: &str) {
        let Ok(dir) = std::env::var("RAQIB_SCREENSHOTS") else {
            return;
        };
        let size = self
            .eval("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            .await;
        let (width, height) = (size[0].as_f64().unwrap(), size[1].as_f64().unwrap());
        let mut top = 0.0;
        let mut part = 0;
        while top < height {
            let shot = self
                .call(
                    "Page.captureScreenshot",
                    json!({"format": "png", "captureBeyondViewport": true,
                           "clip": {"x": 0, "y": top, "width": width,
                                    "height": (height - top).min(1600.0), "scale": 1}}),
                )
                .await;
            let png = base64::engine::general_purpose::STANDARD
                .decode(shot["data"].as_str().unwrap())
                .unwrap();
            std::fs::write(Path::new(&dir).join(format!("{name}-{part}.png")), png).unwrap();
            top += 1600.0;
            part += 1;
        }
    }

    async fn viewport(&self, width: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": if mobile { 844 } else { 900 },
                   "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
    }

    /// raqib's own audit of this page, as the web probe runs it: axe-core on the configured
    /// tags, then the Arabic service checks.
    async fn audit(
        &self,
        axe: &str,
    ) -> (
        raqib::probe::web::a11y::AxeRun,
        raqib::probe::web::a11y::PageArabic,
    ) {
        const AXE_RUN_JS: &str = include_str!("../probes/web/axe_run.js");
        const ARABIC_CHECKS_JS: &str = include_str!("../probes/web/arabic_checks.js");
        let arabic = self.text(&format!("({ARABIC_CHECKS_JS})()")).await;
        self.eval(&format!("{axe};true")).await;
        let tags =
            serde_json::to_string(&raqib::config::BrowserConfig::default().axe_tags).unwrap();
        let run = self.text(&format!("({AXE_RUN_JS})({tags})")).await;
        (
            serde_json::from_str(&run).unwrap(),
            serde_json::from_str(&arabic).unwrap(),
        )
    }
}

/// Issue 17, items 2, 4 and 5: every page of the dashboard (overview, centre pages, a call's
/// and a site check's result, the error pages, the accessibility statement), in Arabic and
/// English, at 1366 and 390 px in real Chromium: no sideways scrolling, no stored code shown
/// as stored, 0 axe violations and every Arabic service check true; times in the centre's
/// zone, names in the page's language, and why a score is what it is (or why there is none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_reads_in_words_fits_a_phone_and_passes_raqibs_own_audit() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (lab, config, data) = peers::lab_with_phones(
        dir.path(),
        &[
            ("+96265000401", "human"),
            // Busy as a carrier's gateway says it: 486 with Q.850 cause 17.
            ("+96265000402", "cause:486:17"),
            ("+96265000403", "human"),
        ],
        "",
    );
    // The second centre is open one minute a day: its call falls outside its hours.
    peers::import_centres(
        &config,
        &data,
        &format!(
            "id,name_ar,name_en,agency,agency_ar,region,region_ar,timezone,hours,phones,websites\n\
             jo-amman-civil,مكتب الأحوال المدنية - عمّان,Amman Civil Status Office,Civil Status,\
             دائرة الأحوال المدنية,Amman Governorate,محافظة العاصمة,Asia/Amman,Sun-Sat 00:00-24:00,\
             +96265000401;+96265000402,http://{}/ok/jo-amman-civil/\n\
             jo-zarqa-civil,مكتب الأحوال المدنية - الزرقاء,Zarqa Civil Status Office,Civil Status,\
             دائرة الأحوال المدنية,Zarqa,,Asia/Amman,Sun-Sat 03:00-03:01,+96265000403,\n",
            lab.http
        ),
    );
    let run = |args: &[&str]| ok(&raqib(&config, &data, args));
    run(&["sweep", "--channel", "phone"]);
    run(&["sweep", "--channel", "web"]);
    run(&["users", "add", "auditor1", "--role", "auditor"]);
    assert_eq!(
        peers::set_password(&config, &data, "auditor1", "auditor password 1"),
        Some(0)
    );
    let results = json_lines(&raqib(&config, &data, &["results", "--json"]));
    let id_of = |pred: &dyn Fn(&Value) -> bool| {
        results
            .iter()
            .find(|r| pred(r))
            .and_then(|r| r["id"].as_i64())
            .expect("a stored result")
    };
    let busy = id_of(&|r| r["number"] == "+96265000402");
    let outside = id_of(&|r| r["number"] == "+96265000403");
    let site = id_of(&|r| r["channel"] == "web");

    let (_serve, port) = peers::serve_listen(&config, &data, &dir.path().join("serve.log"), &[]);
    let base = format!("http://127.0.0.1:{port}");
    let browser = Browser::launch(Path::new("/usr/bin/chromium"), &[])
        .await
        .unwrap();
    let mut tab = Tab::open(&browser, None).await;
    // As the web probe audits a page: raqib's scripts run whatever the page's CSP says.
    tab.call("Page.setBypassCSP", json!({"enabled": true}))
        .await;
    tab.sign_in(&base, "auditor1", "auditor password 1").await;
    let axe = std::fs::read_to_string("probes/web/node_modules/axe-core/axe.min.js").unwrap();

    let pages = [
        ("overview", "/".to_string()),
        ("centre", "/centres/jo-amman-civil".to_string()),
        ("centre-outside", "/centres/jo-zarqa-civil".to_string()),
        ("result-call", format!("/results/{busy}")),
        ("result-outside", format!("/results/{outside}")),
        ("result-web", format!("/results/{site}")),
        ("not-found", "/centres/no-such-centre".to_string()),
        ("bad-period", "/?period=2026-13".to_string()),
        ("statement", "/accessibility".to_string()),
    ];
    let mut failures = Vec::new();
    for (lang, arabic) in [("ar", true), ("en", false)] {
        let mut checks = Vec::new();
        for (name, path) in &pages {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = format!("{base}{path}{sep}lang={lang}");
            for (width, mobile) in [(1366, false), (390, true)] {
                tab.viewport(width, mobile).await;
                tab.go(&url).await;
                let shot = format!("{name}-{lang}-{width}");
                tab.screenshot_page(&shot).await;
                let (scroll, inner) = (
                    tab.eval("document.scrollingElement.scrollWidth").await,
                    tab.eval("innerWidth").await,
                );
                if scroll.as_i64() > inner.as_i64() {
                    let wide = tab
                        .eval(
                            "[...document.querySelectorAll('main *')].filter(e => \
                             e.getBoundingClientRect().right > innerWidth + 1 || \
                             e.getBoundingClientRect().left < -1).slice(0, 5)\
                             .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 40))",
                        )
                        .await;
                    failures.push(format!(
                        "{shot}: scrolls sideways ({scroll} > {inner}): {wide}"
                    ));
                }
                let (axe_run, page_arabic) = tab.audit(&axe).await;
                for v in &axe_run.violations {
                    failures.push(format!(
                        "{shot}: axe {} ({}) on {} element(s), e.g. {:?}",
                        v.id, v.impact, v.nodes, v.selector
                    ));
                }
                // raqib's own contrast rule for the Arabic text axe skips.
                const ARABIC_CONTRAST_JS: &str = include_str!("../probes/web/arabic_contrast.js");
                let contrast: raqib::probe::web::a11y::ArabicContrastRun =
                    serde_json::from_str(&tab.text(&format!("({ARABIC_CONTRAST_JS})()")).await)
                        .unwrap();
                if arabic && contrast.checked == 0 {
                    failures.push(format!("{shot}: no Arabic text measured for contrast"));
                }
                for n in &contrast.violations {
                    failures.push(format!(
                        "{shot}: arabic-color-contrast {}: {}",
                        n.selector,
                        raqib::probe::web::a11y_words::contrast_line(n, false)
                    ));
                }
                if width == 1366 {
                    let text = tab.text(VISIBLE_TEXT_JS).await;
                    let raw = raw_codes(&text, arabic);
                    if !raw.is_empty() {
                        failures.push(format!("{shot}: stored codes shown: {raw:?}"));
                    }
                    for pattern in ["T\\d\\d:\\d\\d", "\\d\\d:\\d\\d:\\d\\d", "\\.\\d\\d\\dZ"] {
                        let found = tab
                            .eval(&format!("new RegExp({pattern:?}).test({VISIBLE_TEXT_JS})"))
                            .await;
                        if found == true {
                            failures.push(format!("{shot}: a raw time ({pattern})"));
                        }
                    }
                    if !page_arabic.lang_ok || !page_arabic.rtl_ok {
                        failures.push(format!("{shot}: language or direction: {page_arabic:?}"));
                    }
                    checks.push(page_arabic);
                }
            }
        }
        // The dashboard as a site, the way raqib judges a centre's: every check true,
        // the centre page publishing the centre's registry numbers.
        if !failures.is_empty() {
            break;
        }
        let refs: Vec<_> = checks.iter().collect();
        let site = raqib::probe::web::a11y::SiteArabic::combine(
            &refs,
            &["+96265000401".to_string(), "+96265000402".to_string()],
        )
        .unwrap();
        assert!(
            site.lang_ok
                && site.rtl_ok
                && site.language_switch
                && site.accessibility_statement
                && site.hours_published
                && site.phone_matches == Some(true),
            "{lang}: {site:?}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Names, agencies, times and reasons in the page's language.
    for (lang, name, agency, region, zone, outside_why, needed, not_counted) in [
        (
            "ar",
            "مكتب الأحوال المدنية - عمّان",
            "دائرة الأحوال المدنية",
            "محافظة العاصمة",
            "توقيت عمّان",
            "لا مكالمات في ساعات العمل",
            "2 من 5 مكالمات مطلوبة",
            "غير محتسبة: خارج ساعات العمل",
        ),
        (
            "en",
            "Amman Civil Status Office",
            "Civil Status",
            "Amman Governorate",
            "Amman time",
            "no calls in opening hours",
            "2 of 5 calls needed",
            "Not counted: outside opening hours",
        ),
    ] {
        tab.viewport(1366, false).await;
        tab.go(&format!("{base}/results/{busy}?lang={lang}")).await;
        let main = tab.text("document.querySelector('main').innerText").await;
        assert!(
            main.contains(name),
            "{lang}: the centre's name on its result: {main}"
        );
        assert!(
            !main.contains("jo-amman-civil"),
            "{lang}: an id instead of a name"
        );
        assert!(main.contains(zone), "{lang}: local time named: {main}");
        let cause = if lang == "ar" {
            "المستخدم مشغول"
        } else {
            "User busy"
        };
        assert!(
            main.contains(cause),
            "{lang}: the network's Q.850 reason in words: {main}"
        );
        assert!(
            tab.eval("document.querySelectorAll('#components tr.component').length")
                .await
                == 5,
            "{lang}: the call's score parts"
        );
        tab.go(&format!("{base}/?lang={lang}")).await;
        let agencies = tab
            .text("document.getElementById('agencies').innerText")
            .await;
        assert!(agencies.contains(agency), "{lang}: {agencies}");
        for tile in [
            "audited",
            "flagged_short",
            "answer_rate",
            "reached_person",
            "sites_up",
        ] {
            assert_eq!(
                tab.eval(&format!("!!document.querySelector('#tile-{tile} .delta')"))
                    .await,
                true,
                "{lang}: tile {tile} with its change"
            );
        }
        assert_eq!(
            tab.eval("document.querySelectorAll('svg.chart title').length")
                .await,
            2
        );
        tab.go(&format!("{base}/centres/jo-amman-civil?lang={lang}"))
            .await;
        let why = tab
            .text("document.getElementById('no-phone-score').innerText")
            .await;
        assert!(why.contains(needed), "{lang}: {why}");
        let main = tab.text("document.querySelector('main').innerText").await;
        assert!(main.contains(region), "{lang}: the region named: {main}");
        assert_eq!(
            tab.eval("getComputedStyle(document.querySelector('bdi.id')).whiteSpace")
                .await,
            "nowrap"
        );
        tab.go(&format!("{base}/centres/jo-zarqa-civil?lang={lang}"))
            .await;
        let why = tab
            .text("document.getElementById('no-phone-score').innerText")
            .await;
        assert!(why.contains(outside_why), "{lang}: {why}");
        let counts = tab
            .text("document.querySelector('tr.call').innerText")
            .await;
        assert!(counts.contains(not_counted), "{lang}: {counts}");
    }

    // Error pages: the status, and a title and message in the page's language.
    for (lang, path, status, title) in [
        ("ar", "/?period=2026-13", 400, "تعذّرت قراءة الطلب"),
        ("en", "/?period=2026-13", 400, "The request cannot be read"),
        ("ar", "/centres/nowhere", 404, "الصفحة غير موجودة"),
        ("en", "/no/such/page", 404, "Page not found"),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        tab.go(&format!("{base}{path}{sep}lang={lang}")).await;
        assert_eq!(
            tab.text("document.querySelector('h1').textContent").await,
            title
        );
        let message = tab
            .text(
                "(() => { const e = document.getElementById('error').cloneNode(true);\
                   e.querySelectorAll('bdi').forEach(b => b.remove()); return e.textContent; })()",
            )
            .await;
        let latin_words = message
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 3)
            .count();
        match lang {
            "ar" => assert_eq!(
                latin_words, 0,
                "an English message under an Arabic title: {message}"
            ),
            _ => assert!(
                !message
                    .chars()
                    .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
                "{message}"
            ),
        }
        let got = tab
            .eval(&format!("fetch({path:?}).then(r => r.status)"))
            .await;
        assert_eq!(got, status, "{path}");
    }
    browser.close(Duration::from_secs(2)).await;
}

#[test]
fn raw_codes_are_found_beside_their_words_and_alone() {
    assert_eq!(raw_codes("Outcome: answered answered", false), ["answered"]);
    assert_eq!(raw_codes("متاح up", true), ["up"]);
    assert_eq!(
        raw_codes("Not counted: outside opening hours", false),
        Vec::<String>::new()
    );
    assert_eq!(
        raw_codes("class: insufficient_data", false),
        ["insufficient_data"]
    );
    assert!(raw_codes("مدقق auditor1 جهة", true).is_empty());
}
