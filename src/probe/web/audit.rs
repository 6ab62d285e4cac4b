//! The browser audit: each page of a site opened in headless Chromium as a citizen's visit,
//! timed from the page's own Navigation Timing and Largest Contentful Paint, judged by axe-core
//! and the Arabic service checks, and kept as a full-page screenshot.
//!
//! A site's home page (depth 0) is a first visit: a fresh browser context, no cookie, no
//! cache. The pages after it may continue in a context that one of the site's earlier pages
//! used, as a citizen who clicks on would: its renderer is warm, which is most of a page's
//! cost on a small machine (a cold renderer compiles and runs axe-core several times slower).
//! A context is only ever reused for the same origin, within [`IDLE_TAB_FOR`], and by the
//! browser that made it; parked and busy contexts together never outnumber the tabs.
//!
//! One browser serves a pool of tabs. A page that overruns its time is given up; if the
//! browser itself stops answering, or dies, it is killed and started again and the page is
//! tried once more, then reported `browser_error` (never the centre's fault).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use url::Url;

use super::a11y::{ArabicContrastRun, AxeRun, PageA11y, PageArabic, SiteA11y, SiteArabic};
use super::cdp::{Browser, CdpError};
use super::crawl::{self, Robots, Site};
use super::WebProbe;
use crate::config::{BrowserConfig, WebConfig};
use crate::probe::ms;
use crate::probe::ProbeError;

const PAGE_FACTS_JS: &str = include_str!("../../../probes/web/page_facts.js");
const AXE_RUN_JS: &str = include_str!("../../../probes/web/axe_run.js");
const ARABIC_CHECKS_JS: &str = include_str!("../../../probes/web/arabic_checks.js");
const ARABIC_CONTRAST_JS: &str = include_str!("../../../probes/web/arabic_contrast.js");
/// The pinned axe-core, empty when the build found none (`build.rs`).
const AXE_EMBEDDED: &str = include_str!(concat!(env!("OUT_DIR"), "/axe.min.js"));
/// Its version, as `raqib --version` says it.
pub const AXE_VERSION: &str = env!("RAQIB_AXE_VERSION");

/// How long a page that missed its load event has to answer a trivial script before it
/// counts as frozen.
const RESPONSIVE_WITHIN: Duration = Duration::from_secs(3);
/// How long the browser has to answer a ping, or to close a page, before it is restarted.
const BROWSER_ANSWERS_WITHIN: Duration = Duration::from_secs(5);
/// How long a context may wait for the next page of its site before it is closed.
const IDLE_TAB_FOR: Duration = Duration::from_secs(30);
/// How long a finished page has to give way to `about:blank` before its context is parked.
const PARK_WITHIN: Duration = Duration::from_secs(2);
/// The window a page is laid out in, in CSS pixels: a common desktop size.
const VIEWPORT: (u32, u32) = (1366, 768);

/// The tab's viewport: raqib's width, `height` tall.
async fn set_viewport(browser: &Browser, sid: Option<&str>, height: u32) -> Result<(), CdpError> {
    let size =
        json!({"width": VIEWPORT.0, "height": height, "deviceScaleFactor": 1, "mobile": false});
    browser
        .call("Emulation.setDeviceMetricsOverride", size, sid)
        .await
        .map(drop)
}

/// axe-core's source: the copy built into raqib (`build.rs`), or the file `[browser] axe_path`
/// names, whose relative path is tried from the current directory, then from raqib's source
/// tree.
fn read_axe(path: Option<&Path>) -> Result<String, AuditError> {
    match path {
        None if AXE_EMBEDDED.is_empty() => Err(AuditError::AxeMissing(Vec::new())),
        None => Ok(AXE_EMBEDDED.to_string()),
        Some(path) => {
            let mut tried = vec![path.to_path_buf()];
            if path.is_relative() {
                tried.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(path));
            }
            tried
                .iter()
                .find_map(|p| std::fs::read_to_string(p).ok())
                .ok_or(AuditError::AxeMissing(tried))
        }
    }
}

/// An empty list: the build carried no axe-core and no file was named.
fn axe_missing(tried: &[PathBuf]) -> String {
    match tried {
        [] => "this raqib was built without axe-core: run ./scripts/setup (npm ci in \
               probes/web) and build again, set browser.axe_path, or pass --no-browser"
            .into(),
        _ => format!(
            "axe-core is not at {}: fix browser.axe_path (or remove it to use the axe-core \
             built into raqib), or pass --no-browser",
            tried
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" nor ")
        ),
    }
}

/// Failed sub-request URLs kept per page.
const FAILED_URLS_KEPT: usize = 10;
/// Sitemap files read per site (index files included).
const SITEMAPS_READ: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{}", axe_missing(.0))]
    AxeMissing(Vec<PathBuf>),
    #[error(
        "Chromium is not at {0}: install it (apt-get install chromium), set browser.path, or \
         pass --no-browser"
    )]
    BrowserMissing(PathBuf),
    #[error(transparent)]
    Trust(#[from] ProbeError),
}

/// What became of one page's audit. `browser_error` and `audit_error` are raqib's side and
/// never count against a centre; the others are what a citizen's browser would meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageOutcome {
    /// Loaded and audited.
    Ok,
    /// The load event did not come in time; what had arrived was audited.
    LoadTimeout,
    /// The page froze its tab (a script that never yields).
    Unresponsive,
    /// The browser could not load it at all (refused, DNS, TLS…).
    LoadFailed,
    /// The page answered 4xx or 5xx (a broken link of the site): not audited further.
    HttpError,
    /// The browser crashed or hung, twice.
    BrowserError,
    /// raqib's own scripts failed in the page.
    AuditError,
}

impl PageOutcome {
    pub fn counts(self) -> bool {
        !matches!(self, PageOutcome::BrowserError | PageOutcome::AuditError)
    }
}

/// Milliseconds from the start of navigation, from the page's own timing entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PageTimings {
    pub ttfb: Option<f64>,
    pub dom_content_loaded: Option<f64>,
    pub load: Option<f64>,
    pub lcp: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditDurations {
    /// The whole audit of the page, in ms.
    pub total: f64,
    /// From the navigation to the load event (or its time limit), in ms.
    #[serde(default)]
    pub load: Option<f64>,
    /// Timings, LCP, links, the Arabic checks and the Arabic contrast read from the page, in ms.
    #[serde(default)]
    pub checks: Option<f64>,
    /// Injecting and running axe-core, in ms.
    pub axe: Option<f64>,
    /// The full-page screenshot, taken and written, in ms.
    #[serde(default)]
    pub screenshot: Option<f64>,
}

/// Everything the audit of one page found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PageAudit {
    pub url: String,
    /// Links from the home page (0), or from the sitemap (1).
    pub depth: u32,
    pub outcome: PageOutcome,
    pub detail: Option<String>,
    pub timings_ms: PageTimings,
    /// `console.error` calls and uncaught exceptions.
    pub console_errors: u64,
    /// Sub-requests that failed or answered 4xx/5xx.
    pub failed_requests: u64,
    pub failed_urls: Vec<String>,
    pub screenshot: Option<String>,
    pub a11y: Option<PageA11y>,
    pub arabic: Option<PageArabic>,
    pub audit_ms: AuditDurations,
    /// axe-core's version, from the page.
    #[serde(skip)]
    pub engine: Option<String>,
    #[serde(skip)]
    pub links: Vec<String>,
}

impl PageAudit {
    fn failed(url: &Url, depth: u32, outcome: PageOutcome, detail: String, t0: Instant) -> Self {
        PageAudit {
            url: url.to_string(),
            depth,
            outcome,
            detail: Some(detail),
            timings_ms: PageTimings::default(),
            console_errors: 0,
            failed_requests: 0,
            failed_urls: Vec::new(),
            screenshot: None,
            a11y: None,
            arabic: None,
            audit_ms: AuditDurations {
                total: ms(t0.elapsed()),
                ..AuditDurations::default()
            },
            engine: None,
            links: Vec::new(),
        }
    }
}

/// The home page's browser figures, as the web result carries them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BrowserSummary {
    pub outcome: PageOutcome,
    pub detail: Option<String>,
    pub timings_ms: PageTimings,
    pub console_errors: u64,
    pub failed_requests: u64,
    pub screenshot: Option<String>,
}

/// A site's audit: its home page's figures, its accessibility and Arabic checks over all
/// audited pages, and each page.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteAudit {
    pub browser: BrowserSummary,
    pub a11y: Option<SiteA11y>,
    pub arabic: Option<SiteArabic>,
    pub pages: Vec<PageAudit>,
}

/// Why the browser, not the page, ended an audit: it is restarted and the page tried again.
#[derive(Debug, thiserror::Error)]
pub enum BrowserFault {
    #[error(transparent)]
    Cdp(#[from] CdpError),
    #[error("the browser did not answer {0}")]
    NoAnswer(String),
    #[error("the browser closed the page")]
    Closed,
}

/// Why a page's audit stopped early.
enum Stop {
    /// The browser is gone or answered nothing: restart it and try again.
    Browser(BrowserFault),
    /// The page's fault or raqib's script's: a result.
    Page(PageOutcome, String),
}

impl From<CdpError> for Stop {
    fn from(e: CdpError) -> Stop {
        match e {
            CdpError::Remote { .. } => Stop::Page(PageOutcome::AuditError, e.to_string()),
            e => Stop::Browser(e.into()),
        }
    }
}

struct Slot {
    browser: Option<Arc<Browser>>,
    generation: u64,
}

/// A context whose page is done, parked on `about:blank` for the next page of its origin.
struct IdleTab {
    tab: Tab,
    origin: String,
    generation: u64,
    since: Instant,
}

/// One browser and its tabs; share it (`Arc`) between the tasks of a sweep.
pub struct Auditor {
    cfg: BrowserConfig,
    /// Flags beyond the fixed ones: the extra CAs the HTTP check trusts.
    flags: Vec<String>,
    axe_src: String,
    evidence: PathBuf,
    slot: tokio::sync::Mutex<Slot>,
    tabs: Semaphore,
    /// One full-page screenshot at a time: a page grown to its whole height is rastered whole;
    /// on tall pages with four tabs this took a tenth off the browser's peak memory.
    raster: tokio::sync::Mutex<()>,
    idle: std::sync::Mutex<Vec<IdleTab>>,
    restarts: AtomicU64,
}

impl Auditor {
    /// Checks that Chromium and axe-core are where the config says; the browser starts with
    /// the first page and trusts the CAs of `web` as the HTTP check does.
    pub fn new(
        cfg: &BrowserConfig,
        web: &WebConfig,
        evidence_dir: &Path,
    ) -> Result<Auditor, AuditError> {
        let spki = super::tls::extra_ca_spki_hashes(web)?;
        let mut flags = match spki.is_empty() {
            true => Vec::new(),
            false => vec![format!(
                "--ignore-certificate-errors-spki-list={}",
                spki.join(",")
            )],
        };
        flags.extend(cfg.args.iter().cloned());
        if !cfg.path.is_file() {
            return Err(AuditError::BrowserMissing(cfg.path.clone()));
        }
        let axe_src = read_axe(cfg.axe_path.as_deref())?;
        Ok(Auditor {
            cfg: cfg.clone(),
            flags,
            axe_src,
            evidence: evidence_dir.join("web"),
            slot: tokio::sync::Mutex::new(Slot {
                browser: None,
                generation: 0,
            }),
            tabs: Semaphore::new(cfg.tabs),
            raster: tokio::sync::Mutex::new(()),
            idle: std::sync::Mutex::new(Vec::new()),
            restarts: AtomicU64::new(0),
        })
    }

    /// How many times the browser was killed and started again.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// The running browser's main process id, if one runs.
    pub async fn browser_pid(&self) -> Option<u32> {
        let slot = self.slot.lock().await;
        slot.browser.as_ref().and_then(|b| b.pid())
    }

    /// The browser contexts (visits, busy or parked) the running browser holds now.
    pub async fn contexts(&self) -> Option<usize> {
        let browser = self.slot.lock().await.browser.clone()?;
        let answer = browser
            .call("Target.getBrowserContexts", json!({}), None)
            .await
            .ok()?;
        answer["browserContextIds"].as_array().map(Vec::len)
    }

    async fn browser(&self) -> Result<(Arc<Browser>, u64), CdpError> {
        let mut slot = self.slot.lock().await;
        if let Some(b) = &slot.browser {
            if b.is_alive() {
                return Ok((b.clone(), slot.generation));
            }
            self.restarts.fetch_add(1, Ordering::Relaxed);
        }
        let b = Arc::new(Browser::launch(&self.cfg.path, &self.flags).await?);
        slot.browser = Some(b.clone());
        slot.generation += 1;
        Ok((b, slot.generation))
    }

    /// Kills the browser of `generation` unless another task already replaced it.
    async fn restart(&self, generation: u64) {
        let mut slot = self.slot.lock().await;
        if slot.generation == generation {
            if let Some(b) = slot.browser.take() {
                b.kill();
                self.restarts.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Closes the browser (at the end of a sweep).
    pub async fn shutdown(&self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let b = self.slot.lock().await.browser.take();
        if let Some(b) = b {
            match Arc::try_unwrap(b) {
                Ok(b) => b.close(Duration::from_secs(2)).await,
                Err(b) => b.kill(),
            }
        }
    }

    /// Audits one page, restarting the browser and retrying once if the browser fails.
    pub async fn audit_page(&self, url: &Url, depth: u32) -> PageAudit {
        let Ok(_tab) = self.tabs.acquire().await else {
            return PageAudit::failed(
                url,
                depth,
                PageOutcome::AuditError,
                "the auditor is shut".into(),
                Instant::now(),
            );
        };
        let t0 = Instant::now();
        let mut why = String::new();
        for _attempt in 0..2 {
            let (browser, generation) = match self.browser().await {
                Ok(b) => b,
                Err(e) => {
                    why = format!("the browser did not start: {e}");
                    continue;
                }
            };
            match self.attempt(&browser, generation, url, depth, t0).await {
                Ok(audit) => return audit,
                Err(e) => {
                    why = e.to_string();
                    self.restart(generation).await;
                }
            }
        }
        PageAudit::failed(
            url,
            depth,
            PageOutcome::BrowserError,
            format!("{why} (after one restart)"),
            t0,
        )
    }

    /// One try in a fresh browser context; `Err` means the browser must be restarted.
    async fn attempt(
        &self,
        browser: &Browser,
        generation: u64,
        url: &Url,
        depth: u32,
        t0: Instant,
    ) -> Result<PageAudit, BrowserFault> {
        let answered = |what: &str| BrowserFault::NoAnswer(what.to_string());
        let origin = url.origin().ascii_serialization();
        let reused = match depth {
            0 => None,
            _ => self.take_idle(browser, &origin, generation).await,
        };
        let opened = match reused {
            Some(tab) => tab,
            None => {
                self.evict_idle(browser, generation, 0).await;
                tokio::time::timeout(BROWSER_ANSWERS_WITHIN, open_tab(browser))
                    .await
                    .map_err(|_| answered("when a tab was opened"))??
            }
        };
        let budget = Duration::from_millis(self.cfg.page_timeout_ms);
        let inspected =
            tokio::time::timeout(budget, self.inspect(browser, &opened, url, depth, t0)).await;
        let inspected = match inspected {
            // A page that ended well leaves its context for the site's next page.
            Ok(Ok(audit)) if audit.outcome == PageOutcome::Ok => {
                if park(browser, &opened).await {
                    browser.detach(&opened.session);
                    self.keep_idle(browser, opened, origin, generation).await;
                    return Ok(audit);
                }
                Ok(Ok(audit))
            }
            other => other,
        };
        browser.detach(&opened.session);
        let closed_ok = dispose(browser, &opened).await;
        match inspected {
            Ok(Ok(audit)) => {
                if !closed_ok {
                    // The result stands; a browser that cannot close a tab goes.
                    browser.kill();
                }
                Ok(audit)
            }
            Ok(Err(Stop::Page(outcome, detail))) => {
                if !closed_ok {
                    browser.kill();
                }
                Ok(PageAudit::failed(url, depth, outcome, detail, t0))
            }
            Ok(Err(Stop::Browser(e))) => Err(e),
            Err(_) => {
                // Over time: the page's fault if the browser still answers, else the browser's.
                let ping = tokio::time::timeout(
                    BROWSER_ANSWERS_WITHIN,
                    browser.call("Browser.getVersion", json!({}), None),
                )
                .await;
                if matches!(ping, Ok(Ok(_))) && closed_ok {
                    Ok(PageAudit::failed(
                        url,
                        depth,
                        PageOutcome::Unresponsive,
                        format!(
                            "the page's audit did not end within {} ms",
                            self.cfg.page_timeout_ms
                        ),
                        t0,
                    ))
                } else {
                    Err(answered(&format!("within {} ms", self.cfg.page_timeout_ms)))
                }
            }
        }
    }

    /// A parked context of `origin` from this browser, the others past their time closed.
    async fn take_idle(&self, browser: &Browser, origin: &str, generation: u64) -> Option<Tab> {
        let (found, stale) = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let (stale, fresh): (Vec<IdleTab>, Vec<IdleTab>) = idle
                .drain(..)
                .partition(|t| t.generation != generation || t.since.elapsed() > IDLE_TAB_FOR);
            *idle = fresh;
            let found = idle
                .iter()
                .position(|t| t.origin == origin)
                .map(|i| idle.remove(i).tab);
            (found, stale)
        };
        for t in stale.into_iter().filter(|t| t.generation == generation) {
            dispose(browser, &t.tab).await;
        }
        found
    }

    /// Parks `tab` for the next page of `origin`, then [`Self::evict_idle`].
    async fn keep_idle(&self, browser: &Browser, tab: Tab, origin: String, generation: u64) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(IdleTab {
                tab,
                origin,
                generation,
                since: Instant::now(),
            });
        // The caller still holds its tab permit, but its context is now among the parked.
        self.evict_idle(browser, generation, 1).await;
    }

    /// Closes the oldest parked contexts until parked and busy ones (a page about to open its
    /// context counts as busy) are no more than the tabs: each holds a renderer, and memory is
    /// what a small machine lacks first. `parked_busy` of the busy permits belong to pages
    /// whose context is already counted as parked.
    async fn evict_idle(&self, browser: &Browser, generation: u64, parked_busy: usize) {
        let busy = (self.cfg.tabs.saturating_sub(self.tabs.available_permits()))
            .saturating_sub(parked_busy);
        let evicted = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let over = (idle.len() + busy)
                .saturating_sub(self.cfg.tabs)
                .min(idle.len());
            idle.drain(..over).collect::<Vec<_>>()
        };
        for t in evicted.into_iter().filter(|t| t.generation == generation) {
            dispose(browser, &t.tab).await;
        }
    }

    async fn inspect(
        &self,
        browser: &Browser,
        tab: &Tab,
        url: &Url,
        depth: u32,
        t0: Instant,
    ) -> Result<PageAudit, Stop> {
        let sid = Some(tab.session.as_str());
        let mut events = browser.subscribe(&tab.session);
        for method in ["Page.enable", "Runtime.enable"] {
            browser.call(method, json!({}), sid).await?;
        }
        // Only the events are read: no response body is kept for the protocol.
        let no_bodies = json!({"maxTotalBufferSize": 0, "maxResourceBufferSize": 0});
        browser.call("Network.enable", no_bodies, sid).await?;
        browser
            .call("Page.setBypassCSP", json!({"enabled": true}), sid)
            .await?;
        set_viewport(browser, sid, VIEWPORT.1).await?;
        let t_load = Instant::now();
        let nav = browser
            .call("Page.navigate", json!({"url": url.as_str()}), sid)
            .await?;
        if let Some(err) = nav.get("errorText").and_then(Value::as_str) {
            return Err(Stop::Page(
                PageOutcome::LoadFailed,
                format!("the browser could not load the page: {err}"),
            ));
        }
        let mut seen = Seen::default();
        let load_deadline =
            tokio::time::Instant::now() + Duration::from_millis(self.cfg.load_timeout_ms);
        let mut loaded = false;
        while !loaded {
            match tokio::time::timeout_at(load_deadline, events.recv()).await {
                Err(_) => break,
                Ok(None) => return Err(Stop::Browser(BrowserFault::Closed)),
                Ok(Some(ev)) => loaded = seen.take(&ev, url),
            }
        }
        if let Some(status @ 400..) = seen.document_status {
            return Err(Stop::Page(
                PageOutcome::HttpError,
                format!("the page answered HTTP {status}"),
            ));
        }
        let mut outcome = PageOutcome::Ok;
        let mut detail = None;
        if !loaded {
            outcome = PageOutcome::LoadTimeout;
            detail = Some(format!(
                "the load event did not fire within {} ms",
                self.cfg.load_timeout_ms
            ));
            let alive = tokio::time::timeout(RESPONSIVE_WITHIN, evaluate(browser, sid, "1")).await;
            if alive.is_err() {
                return Err(Stop::Page(
                    PageOutcome::Unresponsive,
                    format!(
                        "the page froze its tab: no load event within {} ms and no answer to a \
                         script within {} s",
                        self.cfg.load_timeout_ms,
                        RESPONSIVE_WITHIN.as_secs()
                    ),
                ));
            }
        }
        let load_ms = ms(t_load.elapsed());
        let t_checks = Instant::now();
        let facts: Facts = parse(evaluate(browser, sid, &format!("({PAGE_FACTS_JS})()")).await?)?;
        let mut arabic: PageArabic =
            parse(evaluate(browser, sid, &format!("({ARABIC_CHECKS_JS})()")).await?)?;
        arabic.declared_by(seen.document_content_type.as_deref());
        let mut checks_ms = ms(t_checks.elapsed());
        let t_axe = Instant::now();
        evaluate(browser, sid, &self.axe_src).await?;
        let tags = serde_json::to_string(&self.cfg.axe_tags).unwrap_or_default();
        let axe: AxeRun = parse(evaluate(browser, sid, &format!("({AXE_RUN_JS})({tags})")).await?)?;
        let axe_ms = ms(t_axe.elapsed());
        // After axe, which marks the text its own contrast rule reported.
        let t_contrast = Instant::now();
        let contrast: ArabicContrastRun =
            parse(evaluate(browser, sid, &format!("({ARABIC_CONTRAST_JS})()")).await?)?;
        checks_ms += ms(t_contrast.elapsed());
        let t_shot = Instant::now();
        let screenshot = if self.cfg.screenshots {
            Some(self.screenshot(browser, sid, url).await?)
        } else {
            None
        };
        let shot_ms = screenshot.as_ref().map(|_| ms(t_shot.elapsed()));
        while let Ok(ev) = events.try_recv() {
            seen.take(&ev, url);
        }
        Ok(PageAudit {
            url: url.to_string(),
            depth,
            outcome,
            detail,
            timings_ms: PageTimings {
                ttfb: facts.ttfb.map(round),
                dom_content_loaded: facts.dom_content_loaded.map(round),
                load: facts.load.map(round),
                lcp: facts.lcp.map(round),
            },
            console_errors: seen.console_errors,
            failed_requests: seen.failed_requests,
            failed_urls: seen.failed_urls,
            screenshot,
            a11y: Some({
                let mut a11y = PageA11y::from_axe(&axe);
                a11y.add_arabic_contrast(&contrast);
                a11y
            }),
            arabic: Some(arabic),
            audit_ms: AuditDurations {
                total: ms(t0.elapsed()),
                load: Some(load_ms),
                checks: Some(checks_ms),
                axe: Some(axe_ms),
                screenshot: shot_ms,
            },
            engine: Some(axe.version),
            links: facts.links,
        })
    }

    async fn screenshot(
        &self,
        browser: &Browser,
        sid: Option<&str>,
        url: &Url,
    ) -> Result<String, Stop> {
        // The whole page: the viewport grown to the content's height (a clip beyond the
        // viewport shifts right-to-left pages sideways), then back, so that the tall raster
        // is let go before the next page's is made.
        let raster = self.raster.lock().await;
        let metrics = browser
            .call("Page.getLayoutMetrics", json!({}), sid)
            .await?;
        let height = metrics["cssContentSize"]["height"]
            .as_f64()
            .unwrap_or(f64::from(VIEWPORT.1))
            .clamp(
                f64::from(VIEWPORT.1),
                f64::from(self.cfg.max_screenshot_height),
            );
        set_viewport(browser, sid, height.ceil() as u32).await?;
        let shot = browser
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "optimizeForSpeed": true}),
                sid,
            )
            .await?;
        set_viewport(browser, sid, VIEWPORT.1).await?;
        drop(raster);
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| Stop::Page(PageOutcome::AuditError, format!("screenshot: {e}")))?;
        let now = chrono::Utc::now();
        let dir = self.evidence.join(now.format("%Y-%m-%d").to_string());
        let slug: String = format!("{}{}", url.host_str().unwrap_or("page"), url.path())
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .trim_matches('-')
            .chars()
            .take(80)
            .collect();
        let path = dir.join(format!(
            "{}-{slug}-{:06x}.png",
            now.format("%H%M%S%.3f"),
            fastrand::u32(..0xff_ffff)
        ));
        let written = async {
            tokio::fs::create_dir_all(&dir).await?;
            tokio::fs::write(&path, &png).await
        }
        .await;
        written.map_err(|e| {
            Stop::Page(
                PageOutcome::AuditError,
                format!("cannot keep the screenshot {}: {e}", path.display()),
            )
        })?;
        Ok(path.display().to_string())
    }

    /// Audits a site: the home page, then up to `pages` more (sitemap first, else links up
    /// to `browser.crawl_depth`), robots.txt respected.
    pub async fn audit_site(
        &self,
        web: &WebProbe,
        home: &Url,
        phones: &[String],
        pages: usize,
    ) -> SiteAudit {
        let site = Site::new(home);
        let home_audit = self.audit_page(site.home(), 0).await;
        let mut audits = vec![home_audit];
        if pages > 0 && audits[0].outcome.counts() && audits[0].outcome != PageOutcome::LoadFailed {
            let robots = match site.robots_url() {
                Some(u) => web
                    .fetch_text(&u)
                    .await
                    .map(|t| Robots::parse(&t))
                    .unwrap_or_default(),
                None => Robots::default(),
            };
            let mut chosen: Vec<Url> = vec![site.home().clone()];
            let from_sitemap = sitemap_pages(web, &site, &robots).await;
            let mut next = crawl::pick(&site, &robots, from_sitemap, &mut chosen, pages);
            let mut depth = 1;
            if next.is_empty() {
                next = crawl::pick(&site, &robots, audits[0].links.clone(), &mut chosen, pages);
            }
            while !next.is_empty() {
                let done =
                    futures::future::join_all(next.iter().map(|u| self.audit_page(u, depth))).await;
                let links: Vec<String> = done.iter().flat_map(|a| a.links.clone()).collect();
                audits.extend(done);
                depth += 1;
                let left = pages + 1 - chosen.len().min(pages + 1);
                if depth > self.cfg.crawl_depth || left == 0 {
                    break;
                }
                next = crawl::pick(&site, &robots, links, &mut chosen, left);
            }
        }
        summarise(audits, phones)
    }
}

/// The pages a site's sitemaps list, index files followed, same origin only.
async fn sitemap_pages(web: &WebProbe, site: &Site, robots: &Robots) -> Vec<String> {
    let mut queue: Vec<Url> = robots
        .sitemaps
        .iter()
        .filter_map(|s| site.home().join(s).ok())
        .filter(|u| u.origin() == site.home().origin())
        .collect();
    if queue.is_empty() {
        queue.extend(site.default_sitemap());
    }
    let mut pages = Vec::new();
    let mut read = 0;
    while let Some(url) = queue.pop() {
        if read >= SITEMAPS_READ {
            break;
        }
        read += 1;
        let Some(xml) = web.fetch_text(&url).await else {
            continue;
        };
        let (index, locs) = crawl::parse_sitemap(&xml);
        if index {
            queue.extend(
                locs.iter()
                    .filter_map(|l| Url::parse(l).ok())
                    .filter(|u| u.origin() == site.home().origin()),
            );
        } else {
            pages.extend(locs);
        }
    }
    pages
}

/// The site's figures from its pages' audits.
fn summarise(mut pages: Vec<PageAudit>, phones: &[String]) -> SiteAudit {
    let engine = pages
        .iter()
        .find_map(|p| p.engine.clone())
        .unwrap_or_default();
    let arabic_pages: Vec<&PageArabic> = pages.iter().filter_map(|p| p.arabic.as_ref()).collect();
    let mut arabic = SiteArabic::combine(&arabic_pages, phones);
    if let Some(site) = &mut arabic {
        site.charset_pages = pages
            .iter()
            .filter(|p| p.arabic.as_ref().is_some_and(|a| !a.charset_ok))
            .map(|p| p.url.clone())
            .collect();
    }
    if let Some(site) = &arabic {
        for p in &mut pages {
            if let (Some(a11y), Some(ar)) = (p.a11y.as_mut(), p.arabic.as_ref()) {
                a11y.compute_score(&site.scored(ar));
            }
        }
    }
    let a11y_pages: Vec<(&str, &PageA11y)> = pages
        .iter()
        .filter_map(|p| Some((p.url.as_str(), p.a11y.as_ref()?)))
        .collect();
    let a11y = SiteA11y::combine(&engine, &a11y_pages);
    let home = &pages[0];
    SiteAudit {
        browser: BrowserSummary {
            outcome: home.outcome,
            detail: home.detail.clone(),
            timings_ms: home.timings_ms.clone(),
            console_errors: home.console_errors,
            failed_requests: home.failed_requests,
            screenshot: home.screenshot.clone(),
        },
        a11y,
        arabic,
        pages,
    }
}

struct Tab {
    context: String,
    session: String,
}

/// Moves a finished page's tab to `about:blank`, so that nothing of the page runs on while
/// it waits; false when the tab does not get there in time (it is then closed).
async fn park(browser: &Browser, tab: &Tab) -> bool {
    let sid = Some(tab.session.as_str());
    let mut events = browser.subscribe(&tab.session);
    let blank = async {
        browser
            .call("Page.navigate", json!({"url": "about:blank"}), sid)
            .await
            .ok()?;
        while let Some(ev) = events.recv().await {
            if ev.method == "Page.loadEventFired" {
                return Some(());
            }
        }
        None
    };
    matches!(tokio::time::timeout(PARK_WITHIN, blank).await, Ok(Some(())))
}

/// Closes a tab's context: false when the browser did not (in time).
async fn dispose(browser: &Browser, tab: &Tab) -> bool {
    let closed = tokio::time::timeout(
        BROWSER_ANSWERS_WITHIN,
        browser.call(
            "Target.disposeBrowserContext",
            json!({"browserContextId": tab.context}),
            None,
        ),
    )
    .await;
    matches!(closed, Ok(Ok(_)))
}

async fn open_tab(browser: &Browser) -> Result<Tab, CdpError> {
    let ctx = browser
        .call(
            "Target.createBrowserContext",
            json!({"disposeOnDetach": true}),
            None,
        )
        .await?;
    let context = ctx["browserContextId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let session = browser.new_page(Some(&context)).await?;
    Ok(Tab { context, session })
}

/// Events counted while a page loads and is audited.
#[derive(Default)]
struct Seen {
    /// The HTTP status of the page itself (after redirects).
    document_status: Option<u64>,
    /// Its Content-Type header, for the charset it declares.
    document_content_type: Option<String>,
    /// Request id → URL, to name the requests that fail.
    requests: std::collections::HashMap<String, String>,
    console_errors: u64,
    failed_requests: u64,
    failed_urls: Vec<String>,
}

impl Seen {
    /// Counts `ev`; true when it is the page's load event.
    fn take(&mut self, ev: &super::cdp::Event, page: &Url) -> bool {
        let p = &ev.params;
        match ev.method.as_str() {
            "Page.loadEventFired" => return true,
            "Runtime.consoleAPICalled" if p["type"] == "error" => self.console_errors += 1,
            "Runtime.exceptionThrown" => self.console_errors += 1,
            "Network.requestWillBeSent" => {
                if let (Some(id), Some(u)) = (p["requestId"].as_str(), p["request"]["url"].as_str())
                {
                    self.requests.insert(id.to_string(), u.to_string());
                }
            }
            "Network.loadingFailed" if p["canceled"] != true => {
                let id = p["requestId"].as_str().unwrap_or_default();
                let at = self
                    .requests
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string());
                self.fail(format!(
                    "{at} ({})",
                    p["errorText"].as_str().unwrap_or_default()
                ));
            }
            "Network.responseReceived" => {
                let status = p["response"]["status"].as_u64().unwrap_or(0);
                let at = p["response"]["url"].as_str().unwrap_or_default();
                if p["type"] == "Document" && p["requestId"] == p["loaderId"] {
                    self.document_status = Some(status);
                    self.document_content_type = p["response"]["headers"]
                        .as_object()
                        .and_then(|h| {
                            h.iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                                .and_then(|(_, v)| v.as_str())
                        })
                        .map(str::to_string);
                    return false;
                }
                // The browser asks for /favicon.ico by itself: not the page's request.
                let own = p["type"] == "Other" && at.ends_with("/favicon.ico");
                if status >= 400 && at != page.as_str() && !own {
                    self.fail(format!("{at} ({status})"));
                }
            }
            _ => {}
        }
        false
    }

    fn fail(&mut self, what: String) {
        self.failed_requests += 1;
        if self.failed_urls.len() < FAILED_URLS_KEPT {
            self.failed_urls.push(what);
        }
    }
}

#[derive(Deserialize)]
struct Facts {
    ttfb: Option<f64>,
    dom_content_loaded: Option<f64>,
    load: Option<f64>,
    lcp: Option<f64>,
    links: Vec<String>,
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Evaluates `expression` in the page and returns its value (promises awaited).
async fn evaluate(browser: &Browser, sid: Option<&str>, expression: &str) -> Result<Value, Stop> {
    let r = browser
        .call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            sid,
        )
        .await?;
    if let Some(ex) = r.get("exceptionDetails") {
        let text = ex["exception"]["description"]
            .as_str()
            .or(ex["text"].as_str())
            .unwrap_or("an exception");
        return Err(Stop::Page(
            PageOutcome::AuditError,
            format!("raqib's script failed in the page: {}", first_line(text)),
        ));
    }
    Ok(r["result"]["value"].clone())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, Stop> {
    let text = v.as_str().unwrap_or_default();
    serde_json::from_str(text).map_err(|e| {
        Stop::Page(
            PageOutcome::AuditError,
            format!("raqib's script returned something unexpected: {e}"),
        )
    })
}
