//! The web availability probe: one HTTP(S) check of one URL as a citizen's first visit makes
//! it — a fresh DNS lookup, a fresh TCP connection and a full TLS handshake for every request,
//! redirects followed — with each phase timed on its own.
//!
//! `reqwest` hides its phases behind one call, so a hop is made a layer lower: the resolver,
//! `tokio::net::TcpStream`, `tokio-rustls` and hyper's HTTP/1 connection, each timed
//! (`hop.rs`), the way blackbox_exporter uses Go's httptrace.

pub mod a11y;
pub mod a11y_words;
pub mod audit;
#[doc(hidden)] // public for the dashboard's browser tests
pub mod cdp;
pub mod crawl;
mod hop;
pub mod tls;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use super::{ms, Channel, ProbeError};
use crate::config::{ContentCheck, WebConfig};
use crate::registry::Centre;

/// `up`: 2xx and content as expected; `degraded`: up, but slow or its certificate expires
/// soon; `down`: what a citizen gets is not the page; `error`: raqib could not run the check
/// (never counts against a centre).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebOutcome {
    Up,
    Degraded,
    Down,
    Error,
}

impl WebOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            WebOutcome::Up => "up",
            WebOutcome::Degraded => "degraded",
            WebOutcome::Down => "down",
            WebOutcome::Error => "error",
        }
    }
}

/// Why a check is `down` (or `error`: `local`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebReason {
    Dns,
    Connect,
    Tls,
    Timeout,
    HttpStatus,
    Content,
    Local,
}

/// Phase durations in milliseconds. `dns`, `connect` and `tls` are summed over the redirect
/// hops; `ttfb` runs from the start of the check to the first byte of the final response (as
/// a browser's Navigation Timing counts it, redirects included); `total` to the end of the body.
/// A phase the check never reached is `null`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebTimings {
    pub dns: Option<f64>,
    pub connect: Option<f64>,
    pub tls: Option<f64>,
    pub ttfb: Option<f64>,
    pub total: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebResult {
    pub channel: Channel,
    pub centre: Option<String>,
    pub target: String,
    #[serde(with = "crate::probe::utc_millis")]
    pub started_at: DateTime<Utc>,
    pub outcome: WebOutcome,
    pub reason: Option<WebReason>,
    pub http_status: Option<u16>,
    pub timings_ms: WebTimings,
    pub tls_days_left: Option<i64>,
    /// Each URL redirected to, in order.
    pub redirects: Vec<String>,
    /// Bytes of the final body read (up to `web.max_body_bytes`).
    pub body_bytes: Option<u64>,
    /// Why an `up` check is `degraded`: `slow`, `tls_expiring`.
    pub warnings: Vec<String>,
    /// A sentence for people: what failed and how.
    pub detail: Option<String>,
    /// The browser audit of the home page (`null` without one: `--no-browser`, or the site
    /// was not up).
    #[serde(default)]
    pub browser: Option<audit::BrowserSummary>,
    /// axe-core over the audited pages, with the automated accessibility score.
    #[serde(default)]
    pub a11y: Option<a11y::SiteA11y>,
    /// The Arabic service checks over the audited pages.
    #[serde(default)]
    pub arabic: Option<a11y::SiteArabic>,
    /// Each audited page: the home page first.
    #[serde(default)]
    pub pages: Vec<audit::PageAudit>,
}

impl WebResult {
    /// Whether the result says something about the centre (SCORING.md §1).
    pub fn counts(&self) -> bool {
        self.outcome != WebOutcome::Error
    }
}

/// One URL to check, with what must be found in its body.
#[derive(Debug, Clone)]
pub struct WebTarget {
    pub url: Url,
    pub centre: Option<String>,
    pub expect: Option<String>,
    /// The centre's registry numbers, which its pages should publish.
    pub phones: Vec<String>,
}

impl WebTarget {
    /// The targets of a centre: each of its websites, with the configured content check.
    pub fn of_centre(centre: &Centre, check: ContentCheck) -> Vec<WebTarget> {
        let expect = match check {
            ContentCheck::None => None,
            ContentCheck::NameAr => Some(centre.name_ar.clone()),
            ContentCheck::NameEn => Some(centre.name_en.clone()),
        };
        centre
            .websites
            .iter()
            .filter_map(|w| Url::parse(w).ok())
            .map(|url| WebTarget {
                url,
                centre: Some(centre.id.clone()),
                expect: expect.clone(),
                phones: centre.phones.clone(),
            })
            .collect()
    }
}

/// A user's URL that raqib will not check; each names the URL as it may be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("'{shown}' is not a URL: {error}")]
    NotAUrl {
        shown: String,
        error: url::ParseError,
    },
    #[error("'{0}' is not an http(s) URL with a host")]
    NotHttp(String),
    #[error(
        "'{0}': a URL with a user name or password is refused (raqib checks a site as a \
         citizen sees it, and would store the URL with the result)"
    )]
    Credentials(String),
}

/// Parses a user's URL: http or https with a host.
pub fn parse_url(s: &str) -> Result<Url, UrlError> {
    let shown = crate::redact::url(s);
    let url = Url::parse(s).map_err(|error| UrlError::NotAUrl {
        shown: shown.clone(),
        error,
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(UrlError::NotHttp(shown));
    }
    // A citizen's first visit has no credentials, and a result stores its URL: such a URL
    // would put a password into the store, the reports and the dashboard.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials(shown));
    }
    Ok(url)
}

/// Checks URLs; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct WebProbe {
    cfg: Arc<WebConfig>,
    tls: Arc<rustls::ClientConfig>,
}

/// What the hops of one check have measured so far; survives a timeout so that the result
/// still says how far the check got.
#[derive(Default)]
struct Progress {
    dns: Option<Duration>,
    connect: Option<Duration>,
    tls: Option<Duration>,
    phase: &'static str,
}

fn add(slot: &mut Option<Duration>, d: Duration) {
    *slot = Some(slot.unwrap_or_default() + d);
}

impl WebProbe {
    pub fn new(cfg: &WebConfig) -> Result<WebProbe, ProbeError> {
        Ok(WebProbe {
            tls: Arc::new(tls::client_config(cfg)?),
            cfg: Arc::new(cfg.clone()),
        })
    }

    /// Runs one check. A failing site is an `Ok` result; `Err` only for raqib's own faults.
    pub async fn check(&self, target: &WebTarget) -> Result<WebResult, ProbeError> {
        let started_at = Utc::now();
        let t0 = Instant::now();
        let deadline =
            tokio::time::Instant::from_std(t0 + Duration::from_millis(self.cfg.timeout_ms));
        let mut progress = Progress::default();
        let mut redirects: Vec<String> = Vec::new();
        let mut url = target.url.clone();
        let mut result = WebResult {
            channel: Channel::Web,
            centre: target.centre.clone(),
            target: target.url.to_string(),
            started_at,
            outcome: WebOutcome::Down,
            reason: None,
            http_status: None,
            timings_ms: WebTimings::default(),
            tls_days_left: None,
            redirects: Vec::new(),
            body_bytes: None,
            warnings: Vec::new(),
            detail: None,
            browser: None,
            a11y: None,
            arabic: None,
            pages: Vec::new(),
        };
        let finish = |mut r: WebResult, p: &Progress, redirects: Vec<String>| {
            r.timings_ms.dns = p.dns.map(ms);
            r.timings_ms.connect = p.connect.map(ms);
            r.timings_ms.tls = p.tls.map(ms);
            r.timings_ms.total = ms(t0.elapsed());
            r.redirects = redirects;
            r
        };
        loop {
            let hop = tokio::time::timeout_at(
                deadline,
                hop::fetch(&url, &self.cfg, &self.tls, &mut progress),
            )
            .await;
            let response = match hop {
                Err(_) => {
                    result.reason = Some(WebReason::Timeout);
                    result.detail = Some(format!(
                        "no complete answer within {} ms (timed out {})",
                        self.cfg.timeout_ms, progress.phase
                    ));
                    return Ok(finish(result, &progress, redirects));
                }
                Ok(Err(hop::HopError::Local(source))) => {
                    return Err(ProbeError::Local {
                        target: url.to_string(),
                        source,
                    })
                }
                Ok(Err(hop::HopError::Failed(reason, detail))) => {
                    result.reason = Some(reason);
                    result.detail = Some(detail);
                    if reason == WebReason::Tls {
                        result.tls_days_left = None;
                    }
                    return Ok(finish(result, &progress, redirects));
                }
                Ok(Ok(r)) => r,
            };
            result.http_status = Some(response.status);
            if response.tls_days_left.is_some() {
                // The certificate that matters is the final page's; earlier hops are overwritten.
                result.tls_days_left = response.tls_days_left;
            }
            if let Some(location) = response.location {
                let next = match url.join(&location) {
                    Ok(n) if matches!(n.scheme(), "http" | "https") => n,
                    _ => {
                        result.reason = Some(WebReason::HttpStatus);
                        result.detail = Some(format!(
                            "{} redirects to an unusable location '{location}'",
                            response.status
                        ));
                        return Ok(finish(result, &progress, redirects));
                    }
                };
                if next == target.url || redirects.iter().any(|r| *r == next.as_str()) {
                    redirects.push(next.to_string());
                    result.reason = Some(WebReason::HttpStatus);
                    result.detail = Some(format!("redirect loop back to {next}"));
                    return Ok(finish(result, &progress, redirects));
                }
                redirects.push(next.to_string());
                if redirects.len() > self.cfg.max_redirects as usize {
                    result.reason = Some(WebReason::HttpStatus);
                    result.detail = Some(format!("more than {} redirects", self.cfg.max_redirects));
                    return Ok(finish(result, &progress, redirects));
                }
                url = next;
                continue;
            }
            result.timings_ms.ttfb = Some(ms(response.first_byte.duration_since(t0)));
            result.body_bytes = Some(response.body_len);
            if !(200..300).contains(&response.status) {
                result.reason = Some(WebReason::HttpStatus);
                result.detail = Some(format!("final status {}", response.status));
                return Ok(finish(result, &progress, redirects));
            }
            if let Some(expect) = &target.expect {
                let body = String::from_utf8_lossy(&response.body);
                if !body.contains(expect.as_str()) {
                    result.reason = Some(WebReason::Content);
                    result.detail = Some(format!(
                        "the page does not contain '{expect}'{}",
                        if response.truncated {
                            " (in the part read)"
                        } else {
                            ""
                        }
                    ));
                    return Ok(finish(result, &progress, redirects));
                }
            }
            let mut r = finish(result, &progress, redirects);
            r.outcome = WebOutcome::Up;
            if r.timings_ms.total > self.cfg.slow_ms as f64 {
                r.warnings.push("slow".into());
            }
            if matches!(r.tls_days_left, Some(d) if d < self.cfg.tls_warn_days) {
                r.warnings.push("tls_expiring".into());
            }
            if !r.warnings.is_empty() {
                r.outcome = WebOutcome::Degraded;
                r.detail = Some(
                    r.warnings
                        .iter()
                        .map(|w| match w.as_str() {
                            "slow" => format!(
                                "slow: {:.0} ms > {} ms",
                                r.timings_ms.total, self.cfg.slow_ms
                            ),
                            _ => format!(
                                "certificate expires in {} days (< {})",
                                r.tls_days_left.unwrap_or_default(),
                                self.cfg.tls_warn_days
                            ),
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                );
            }
            return Ok(r);
        }
    }

    /// Like [`check`](Self::check), but raqib's own failure becomes a stored `error` result.
    pub async fn check_or_error(&self, target: &WebTarget) -> WebResult {
        let started_at = Utc::now();
        match self.check(target).await {
            Ok(r) => r,
            Err(e) => WebResult {
                channel: Channel::Web,
                centre: target.centre.clone(),
                target: target.url.to_string(),
                started_at,
                outcome: WebOutcome::Error,
                reason: Some(WebReason::Local),
                http_status: None,
                timings_ms: WebTimings {
                    total: ms((Utc::now() - started_at).to_std().unwrap_or_default()),
                    ..Default::default()
                },
                tls_days_left: None,
                redirects: Vec::new(),
                body_bytes: None,
                warnings: Vec::new(),
                detail: Some(e.to_string()),
                browser: None,
                a11y: None,
                arabic: None,
                pages: Vec::new(),
            },
        }
    }

    /// The HTTP check, then — when the site answered and an auditor is given — the browser
    /// audit of its final page and up to `pages` more.
    pub async fn check_site(
        &self,
        target: &WebTarget,
        auditor: Option<&audit::Auditor>,
        pages: usize,
    ) -> WebResult {
        let mut result = self.check_or_error(target).await;
        let Some(auditor) = auditor else {
            return result;
        };
        if !matches!(result.outcome, WebOutcome::Up | WebOutcome::Degraded) {
            return result;
        }
        let home = result
            .redirects
            .last()
            .and_then(|r| Url::parse(r).ok())
            .unwrap_or_else(|| target.url.clone());
        let site = auditor.audit_site(self, &home, &target.phones, pages).await;
        result.browser = Some(site.browser);
        result.a11y = site.a11y;
        result.arabic = site.arabic;
        result.pages = site.pages;
        result
    }

    /// The body of `url` as text if it answers 2xx within the check's limits (robots.txt,
    /// sitemaps); redirects followed.
    pub async fn fetch_text(&self, url: &Url) -> Option<String> {
        let mut url = url.clone();
        let mut progress = Progress::default();
        for _ in 0..=self.cfg.max_redirects.min(5) {
            let hop = tokio::time::timeout(
                Duration::from_millis(self.cfg.timeout_ms),
                hop::fetch(&url, &self.cfg, &self.tls, &mut progress),
            )
            .await
            .ok()?
            .ok()?;
            match hop.location {
                Some(l) => url = url.join(&l).ok()?,
                None if (200..300).contains(&hop.status) && !hop.truncated => {
                    return Some(String::from_utf8_lossy(&hop.body).into_owned())
                }
                None => return None,
            }
        }
        None
    }
}
