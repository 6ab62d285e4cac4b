//! The browser audit in real headless Chromium (Debian's `chromium`) with the pinned
//! axe-core, against the lab's pages on loopback: a page with known faults, a clean Arabic
//! site with a sitemap and robots.txt, a page that never finishes loading, a page whose
//! script never yields, and a browser killed in the middle of a sweep.

mod peers;

use std::path::Path;
use std::time::{Duration, Instant};

use raqib::config::{BrowserConfig, Config, LabConfig, WebConfig};
use raqib::lab::Lab;
use raqib::probe::web::audit::{Auditor, PageOutcome};
use raqib::probe::web::{WebOutcome, WebProbe, WebResult, WebTarget};
use raqib::registry::{self, Centre};

use peers::browser_ready as ready;

fn centres() -> Vec<Centre> {
    registry::parse_csv(registry::SAMPLE_CSV.as_bytes(), "sample").unwrap()
}

fn web_config() -> WebConfig {
    WebConfig {
        trust_lab_ca: true,
        ..WebConfig::default()
    }
}

fn browser_config() -> BrowserConfig {
    BrowserConfig {
        tabs: 2,
        load_timeout_ms: 2_000,
        page_timeout_ms: 15_000,
        ..BrowserConfig::default()
    }
}

async fn lab(slow_ms: u64) -> Lab {
    let cfg = LabConfig {
        slow_ms,
        ..LabConfig::on_free_ports()
    };
    Lab::start(&cfg, &centres()).await.unwrap()
}

fn target(url: String, phones: &[&str]) -> WebTarget {
    WebTarget {
        url: url::Url::parse(&url).unwrap(),
        centre: None,
        expect: None,
        phones: phones.iter().map(|p| p.to_string()).collect(),
    }
}

/// A lab on free ports, the HTTP probe and an auditor with its evidence in a scratch directory.
struct Rig {
    lab: Lab,
    web: WebProbe,
    auditor: Auditor,
    dir: tempfile::TempDir,
}

/// `None` (the test skips) when Chromium or axe-core is missing outside CI.
async fn rig() -> Option<Rig> {
    if !ready() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    Some(Rig {
        lab: lab(0).await,
        web: WebProbe::new(&web_config()).unwrap(),
        auditor: Auditor::new(&browser_config(), &web_config(), dir.path()).unwrap(),
        dir,
    })
}

fn ids(r: &WebResult) -> Vec<String> {
    let mut v: Vec<String> = r
        .a11y
        .as_ref()
        .unwrap()
        .violations
        .iter()
        .map(|v| v.id.clone())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_page_gives_exactly_its_rule_ids() {
    let Some(Rig {
        lab,
        web,
        auditor,
        dir: _dir,
    }) = rig().await
    else {
        return;
    };
    let url = format!("http://{}/a11y/jo-amman-civil/", lab.http);
    let r = web.check_site(&target(url, &[]), Some(&auditor), 0).await;
    assert_eq!(r.outcome, WebOutcome::Up);
    assert_eq!(
        ids(&r),
        [
            "button-name",
            "color-contrast",
            "html-has-lang",
            "image-alt",
            "label",
            "link-name"
        ]
    );
    let a11y = r.a11y.as_ref().unwrap();
    assert!(a11y.engine.starts_with("axe-core 4."), "{}", a11y.engine);
    let alt = a11y
        .violations
        .iter()
        .find(|v| v.id == "image-alt")
        .unwrap();
    assert_eq!(alt.impact, "critical");
    assert_eq!(alt.wcag, ["1.1.1"]);
    assert_eq!(alt.nodes, 1);
    assert_eq!(alt.selector.as_deref(), Some("img"));
    // The element as written and the page it is on, for a person to find it; then in words.
    let html = alt.html.as_deref().unwrap_or_default();
    assert!(html.starts_with("<img") && !html.contains("alt="), "{html}");
    assert_eq!(alt.page.as_deref(), Some(r.pages[0].url.as_str()));
    let ar = raqib::probe::web::a11y_words::finding(alt, true);
    assert_eq!(ar.criteria, ["1.1.1 المحتوى غير النصي"]);
    assert!(ar.description.contains("نص بديل"), "{}", ar.description);
    // The duplicated id an ARIA reference points at is for a person to review, not a violation.
    let page = r.pages[0].a11y.as_ref().unwrap();
    assert_eq!(page.needs_review_rules, ["duplicate-id-aria"]);
    assert_eq!(a11y.needs_review, 1);
    assert!(a11y.score < 80.0 && a11y.score > 0.0, "{}", a11y.score);
    let ar = r.arabic.as_ref().unwrap();
    assert!(!ar.lang_ok, "no lang attribute");
    assert!(ar.rtl_ok, "an English page needs no rtl");
    assert!(!ar.accessibility_statement && !ar.language_switch);
    assert_eq!(ar.phone_matches, None);
    auditor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_arabic_site_passes_every_check_and_its_sitemap_is_crawled() {
    let Some(Rig {
        lab,
        web,
        auditor,
        dir: _dir,
    }) = rig().await
    else {
        return;
    };
    // Over TLS with the lab's CA, as a centre's site would be.
    let url = format!("https://{}/ok/jo-amman-civil/", lab.https);
    let r = web
        .check_site(
            &target(url.clone(), &["+96265000101", "+96265000102"]),
            Some(&auditor),
            10,
        )
        .await;
    let pages: Vec<&str> = r.pages.iter().map(|p| p.url.as_str()).collect();
    // The sitemap's pages of this centre; /private is disallowed by robots.txt.
    assert_eq!(
        pages,
        [
            url.clone(),
            format!("{url}services"),
            format!("{url}contact")
        ]
    );
    assert!(r.pages.iter().all(|p| p.outcome == PageOutcome::Ok));
    assert!(ids(&r).is_empty(), "{:?}", ids(&r));
    let a11y = r.a11y.as_ref().unwrap();
    assert_eq!(a11y.score, 100.0);
    assert_eq!(a11y.pages, 3);
    let ar = r.arabic.as_ref().unwrap();
    assert!(ar.lang_ok && ar.rtl_ok && ar.language_switch && ar.accessibility_statement);
    assert!(ar.hours_published);
    assert_eq!(ar.phone_matches, Some(true));

    let b = r.browser.as_ref().unwrap();
    assert_eq!(b.outcome, PageOutcome::Ok);
    let t = &b.timings_ms;
    let (ttfb, dcl, load) = (
        t.ttfb.unwrap(),
        t.dom_content_loaded.unwrap(),
        t.load.unwrap(),
    );
    assert!(ttfb > 0.0 && ttfb <= dcl && dcl <= load, "{t:?}");
    assert!(
        t.lcp.is_some(),
        "a page with text has a Largest Contentful Paint"
    );
    assert_eq!((b.console_errors, b.failed_requests), (0, 0));
    // A real full-page screenshot: a PNG of the viewport's width, not a blank page.
    let png = std::fs::read(b.screenshot.as_ref().unwrap()).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width, 1366);
    assert!(
        png.len() > 10_000,
        "a page of text is more than a blank PNG: {}",
        png.len()
    );
    assert!(b
        .screenshot
        .as_ref()
        .unwrap()
        .starts_with(&_dir.path().display().to_string()));

    // A number the registry has and the site does not publish.
    let r = web
        .check_site(
            &target(url.clone(), &["+96265000101", "+96265009999"]),
            Some(&auditor),
            0,
        )
        .await;
    let ar = r.arabic.as_ref().unwrap();
    assert_eq!(ar.phone_matches, Some(false));
    assert_eq!(ar.phones_missing, ["+96265009999"]);
    assert!(r.a11y.as_ref().unwrap().score < 100.0);
    auditor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crawl_keeps_its_budget_and_follows_links_without_a_sitemap() {
    let Some(Rig {
        lab,
        web,
        auditor,
        dir: _dir,
    }) = rig().await
    else {
        return;
    };
    let url = format!("http://{}/ok/sa-jeddah-passports/", lab.http);
    let r = web.check_site(&target(url, &[]), Some(&auditor), 1).await;
    assert_eq!(r.pages.len(), 2, "the home page and one more");
    // The faulty site is not in the sitemap: its pages come from the home page's links.
    let url = format!("http://{}/a11y/sa-jeddah-passports/", lab.http);
    let r = web
        .check_site(&target(url.clone(), &[]), Some(&auditor), 5)
        .await;
    let pages: Vec<(&str, u32)> = r.pages.iter().map(|p| (p.url.as_str(), p.depth)).collect();
    assert_eq!(
        pages,
        [(url.as_str(), 0), (format!("{url}form").as_str(), 1)]
    );
    let a11y = r.a11y.as_ref().unwrap();
    let label = a11y.violations.iter().find(|v| v.id == "label").unwrap();
    assert_eq!((label.pages, label.nodes), (2, 2));
    assert_eq!(
        label.page.as_deref(),
        Some(url.as_str()),
        "the first page it is on"
    );
    auditor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_that_never_load_or_never_yield_end_on_time() {
    let Some(Rig {
        lab,
        web,
        auditor,
        dir: _dir,
    }) = rig().await
    else {
        return;
    };

    let t0 = Instant::now();
    let url = format!("http://{}/hang/jo-amman-civil/", lab.http);
    let r = web.check_site(&target(url, &[]), Some(&auditor), 0).await;
    let b = r.browser.as_ref().unwrap();
    assert_eq!(b.outcome, PageOutcome::LoadTimeout, "{:?}", b.detail);
    assert!(b.timings_ms.load.is_none());
    assert!(b.timings_ms.dom_content_loaded.is_some());
    assert!(r.a11y.is_some(), "what arrived is still audited");
    assert!(t0.elapsed() < Duration::from_secs(12), "{:?}", t0.elapsed());

    let t0 = Instant::now();
    let url = format!("http://{}/loop/jo-amman-civil/", lab.http);
    let r = web.check_site(&target(url, &[]), Some(&auditor), 0).await;
    let b = r.browser.as_ref().unwrap();
    assert_eq!(b.outcome, PageOutcome::Unresponsive, "{:?}", b.detail);
    assert!(b.outcome.counts(), "a frozen page is the site's fault");
    assert!(r.a11y.is_none());
    assert!(t0.elapsed() < Duration::from_secs(16), "{:?}", t0.elapsed());

    // The browser still audits the next page.
    let url = format!("http://{}/ok/jo-amman-civil/", lab.http);
    let r = web.check_site(&target(url, &[]), Some(&auditor), 0).await;
    assert_eq!(r.browser.as_ref().unwrap().outcome, PageOutcome::Ok);
    auditor.shutdown().await;
}

/// The process ids of live Chromium main processes started by this test process with
/// `marker` among their flags (tests run in parallel in one process).
fn our_browsers(marker: &str) -> Vec<i32> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid …
        let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or_default();
        let mut fields = after.split_whitespace();
        let (state, ppid) = (
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if ppid == me && state != "Z" && String::from_utf8_lossy(&cmdline).contains(marker) {
            found.push(pid);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_killed_mid_sweep_is_restarted_and_no_page_is_lost() {
    if !ready() {
        return;
    }
    // Slow pages, so that the kill lands while pages are loading.
    let lab = lab(1_500).await;
    let dir = tempfile::tempdir().unwrap();
    let store = raqib::store::Store::open(dir.path(), std::env::var("RAQIB_STORE").ok().as_deref())
        .await
        .unwrap();
    let mut centres = centres();
    for c in &mut centres {
        c.websites = vec![format!("http://{}/slow/{}/", lab.http, c.id)];
    }
    let centres: Vec<Centre> = centres.into_iter().take(6).collect();
    let config = Config {
        web: WebConfig {
            slow_ms: 5_000,
            ..web_config()
        },
        browser: BrowserConfig {
            pages_per_site: 0,
            // Marks this test's browser among those of the tests running beside it.
            args: vec![MARKER.to_string()],
            ..browser_config()
        },
        ..Config::default()
    };
    const MARKER: &str = "--raqib-test=killed-mid-sweep";
    let killer = tokio::spawn(async {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let pids = our_browsers(MARKER);
            if let Some(pid) = pids.first() {
                // Let a page be loading (1.5 s each), then kill the browser and its renderers.
                tokio::time::sleep(Duration::from_millis(2_000)).await;
                unsafe {
                    libc::killpg(*pid, libc::SIGKILL);
                }
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let summary = raqib::schedule::sweep::run_web(
        &config,
        &store,
        &centres,
        "*",
        raqib::schedule::sweep::ProgressStyle::Quiet,
    )
    .await
    .unwrap();
    assert!(killer.await.unwrap(), "the sweep's browser was never seen");
    assert_eq!(summary.checks, 6);
    let results = store
        .results(&raqib::store::ResultFilter::default())
        .await
        .unwrap();
    assert_eq!(results.len(), 6);
    for r in &results {
        let data = r.to_json();
        let browser = &data["browser"];
        assert_eq!(browser["outcome"], "ok", "{}: {browser}", r.target);
        assert!(data["a11y"]["score"].as_f64().is_some());
    }
    // The sweep closed its browser (reaped within a moment).
    let deadline = Instant::now() + Duration::from_secs(5);
    while !our_browsers(MARKER).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the sweep left its browser running"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_cannot_run_is_browser_error_and_does_not_count() {
    if !ready() {
        return;
    }
    let lab = lab(0).await;
    let dir = tempfile::tempdir().unwrap();
    let web = WebProbe::new(&web_config()).unwrap();
    let cfg = BrowserConfig {
        path: "/bin/false".into(),
        ..browser_config()
    };
    let auditor = Auditor::new(&cfg, &web_config(), dir.path()).unwrap();
    let url = format!("http://{}/ok/jo-amman-civil/", lab.http);
    let t0 = Instant::now();
    let r = web.check_site(&target(url, &[]), Some(&auditor), 3).await;
    assert_eq!(r.outcome, WebOutcome::Up, "the HTTP check stands");
    let b = r.browser.as_ref().unwrap();
    assert_eq!(b.outcome, PageOutcome::BrowserError);
    assert!(!b.outcome.counts());
    assert!(
        b.detail.as_ref().unwrap().contains("after one restart"),
        "{:?}",
        b.detail
    );
    assert!(r.a11y.is_none());
    assert_eq!(
        r.pages.len(),
        1,
        "no crawl behind a browser that does not run"
    );
    assert!(t0.elapsed() < Duration::from_secs(15));
}

#[test]
fn the_cli_json_carries_the_browser_a11y_and_arabic_fields() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("raqib.toml");
    std::fs::write(
        &config,
        format!("{}\n[web]\ntrust_lab_ca = true\n", peers::LAB_PORTS),
    )
    .unwrap();
    let lab = peers::start_lab(&config, dir.path());
    let url = format!("http://{}/ok/jo-amman-civil/", lab.http);
    let out = peers::raqib(
        &config,
        dir.path(),
        &["probe", "web", &url, "--pages", "0", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = &peers::json_lines(&out)[0];
    let b = &r["browser"];
    for key in ["dom_content_loaded", "load", "lcp"] {
        assert!(b["timings_ms"][key].is_number(), "{key}: {b}");
    }
    assert!(b["console_errors"].is_u64() && b["failed_requests"].is_u64());
    assert!(Path::new(b["screenshot"].as_str().unwrap()).is_file());
    assert!(r["a11y"]["engine"]
        .as_str()
        .unwrap()
        .starts_with("axe-core "));
    assert_eq!(r["a11y"]["violations"], serde_json::json!([]));
    assert!(r["a11y"]["needs_review"].is_u64());
    assert_eq!(r["a11y"]["score"], 100.0);
    for key in [
        "lang_ok",
        "rtl_ok",
        "language_switch",
        "accessibility_statement",
        "hours_published",
    ] {
        assert_eq!(r["arabic"][key], true, "{key}");
    }
    assert!(
        r["arabic"]["phone_matches"].is_null(),
        "a bare URL has no registry numbers"
    );

    // --no-browser: the HTTP check alone, the fields null.
    let out = peers::raqib(
        &config,
        dir.path(),
        &["probe", "web", &url, "--no-browser", "--json"],
    );
    let r = &peers::json_lines(&out)[0];
    assert!(r["browser"].is_null() && r["a11y"].is_null() && r["arabic"].is_null());

    // A browser that is not installed: a clear error, exit 2, nothing half-done.
    std::fs::write(
        &config,
        format!(
            "{}\n[browser]\npath = \"/nonexistent/chromium\"\n",
            peers::LAB_PORTS
        ),
    )
    .unwrap();
    let out = peers::raqib(&config, dir.path(), &["probe", "web", &url]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Chromium is not at /nonexistent/chromium") && err.contains("--no-browser"),
        "{err}"
    );
}

/// A server of two pages on a free loopback port: `/set` sets a cookie, `/check` adds an image
/// without alt text (an axe `image-alt` violation) when the cookie is there. Cookies ignore the
/// port, so a context reused across two such servers would carry the cookie over. `/slow` is
/// `/check` answered after 1.5 s.
fn cookie_site() -> url::Url {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]);
            if head.starts_with("GET /slow ") {
                std::thread::sleep(std::time::Duration::from_millis(1500));
            }
            let script = if head.starts_with("GET /set ") {
                "document.cookie = 'visited=1; path=/';"
            } else {
                "if (document.cookie.includes('visited=1')) { \
                 const i = document.createElement('img'); i.src = 'data:,'; \
                 document.querySelector('main').append(i); }"
            };
            let body = format!(
                "<!doctype html><html lang=\"ar\" dir=\"rtl\"><head><meta charset=\"utf-8\">\
                 <title>مركز</title></head><body><main><h1>مركز الخدمة</h1>\
                 <script>{script}</script></main></body></html>"
            );
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url::Url::parse(&format!("http://{addr}/")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sites_later_pages_continue_its_visit_and_no_other_origin_or_first_visit_shares_it() {
    let Some(rig) = rig().await else { return };
    let (a, b) = (cookie_site(), cookie_site());
    let image_alt = |audit: &raqib::probe::web::audit::PageAudit| {
        assert_eq!(audit.outcome, PageOutcome::Ok, "{:?}", audit.detail);
        audit
            .a11y
            .as_ref()
            .unwrap()
            .violations
            .iter()
            .any(|v| v.id == "image-alt")
    };
    let set = rig.auditor.audit_page(&a.join("set").unwrap(), 0).await;
    assert!(!image_alt(&set));
    // The next page of the same origin continues the visit: the cookie is there.
    let next = rig.auditor.audit_page(&a.join("check").unwrap(), 1).await;
    assert!(
        image_alt(&next),
        "a later page of the site did not continue its visit"
    );
    // Another origin on the same host, even as a later page, never gets that context.
    let other = rig.auditor.audit_page(&b.join("check").unwrap(), 1).await;
    assert!(
        !image_alt(&other),
        "another origin saw the first one's cookie"
    );
    // A home page is a first visit: a fresh context, no cookie.
    let home = rig.auditor.audit_page(&a.join("check").unwrap(), 0).await;
    assert!(
        !image_alt(&home),
        "a first visit carried an earlier visit's cookie"
    );
    rig.auditor.shutdown().await;
}

/// Renderer processes under the browser process `root`.
fn renderers_of(root: u32) -> usize {
    let mut parent = std::collections::HashMap::new();
    let mut renderer = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let (Ok(stat), Ok(cmd)) = (
            std::fs::read_to_string(format!("/proc/{pid}/stat")),
            std::fs::read(format!("/proc/{pid}/cmdline")),
        ) else {
            continue;
        };
        let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or_default();
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parent.insert(pid, ppid);
        }
        if String::from_utf8_lossy(&cmd).contains("--type=renderer") {
            renderer.push(pid);
        }
    }
    let under = |mut pid: u32| {
        while let Some(&p) = parent.get(&pid) {
            if p == root {
                return true;
            }
            pid = p;
        }
        false
    };
    renderer.into_iter().filter(|&p| under(p)).count()
}

/// Each context holds a renderer: parked ones give way to new visits, so that busy and parked
/// together never outnumber the tabs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_visits_give_way_and_contexts_never_outnumber_the_tabs() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = browser_config();
    cfg.tabs = 2;
    let auditor = Auditor::new(&cfg, &web_config(), dir.path()).unwrap();
    let sites: Vec<url::Url> = (0..4).map(|_| cookie_site()).collect();
    // Two visits end well and park their contexts.
    let set: Vec<url::Url> = sites[..2].iter().map(|s| s.join("set").unwrap()).collect();
    let first = futures::future::join_all(set.iter().map(|u| auditor.audit_page(u, 0))).await;
    for a in &first {
        assert_eq!(a.outcome, PageOutcome::Ok, "{:?}", a.detail);
    }
    assert_eq!(
        auditor.contexts().await,
        Some(2),
        "the two visits were not parked"
    );
    // One renderer a visit, and one for the browser's first blank tab: no renderer of the
    // headless window's own furniture (Chromium 156 preloads an omnibox popup per context).
    let pid = auditor.browser_pid().await.unwrap();
    let renderers = renderers_of(pid);
    assert!(renderers <= 3, "{renderers} renderers for two visits");
    // Two new visits whose pages take 1.5 s: while they load, the parked ones are gone.
    let second = sites[2..]
        .iter()
        .map(|s| s.join("slow").unwrap())
        .collect::<Vec<_>>();
    let running = futures::future::join_all(second.iter().map(|u| auditor.audit_page(u, 0)));
    let watch = async {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        auditor.contexts().await
    };
    let (done, during) = tokio::join!(running, watch);
    for a in &done {
        assert_eq!(a.outcome, PageOutcome::Ok, "{:?}", a.detail);
    }
    assert_eq!(
        during,
        Some(2),
        "two busy visits and two parked ones lived at once with two tabs"
    );
    auditor.shutdown().await;
}

#[test]
fn the_browser_bench_audits_the_same_pages_as_pa11y_ci_with_the_same_axe_findings() {
    if !ready() {
        return;
    }
    let pa11y = Path::new("probes/bench/node_modules/.bin/pa11y-ci");
    if !pa11y.is_file() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "{} is missing in CI: scripts/setup must run npm ci in probes/bench",
                pa11y.display()
            );
        }
        eprintln!("SKIP: pa11y-ci missing (run ./scripts/setup)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_raqib"))
        .args(["--data-dir"])
        .arg(dir.path())
        .args([
            "bench", "browser", "--pages", "5", "--tabs", "2", "--pa11y", "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(b["pages"], 5);
    assert_eq!(b["not_ok"], 0, "{b}");
    let p = &b["pa11y"];
    assert_eq!(p["pages"], 5, "{b}");
    // The lab's faulty pages have violations and needs-review rules: the comparison has
    // something to compare, and it must agree.
    assert_eq!(p["findings_identical"], true, "{}", p["mismatches"]);
    assert!(p["pages_per_min"].as_f64().unwrap() > 0.0);
    assert!(b["browser_peak_pss_mib"].as_f64().unwrap() > 0.0);
    assert!(p["peak_pss_mib"].as_f64().unwrap() > 0.0);
}
