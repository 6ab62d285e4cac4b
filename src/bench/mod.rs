//! `raqib bench`: throughput figures printed, never asserted by tests. `verdicts.rs` is
//! `raqib bench verdicts`; the web, call, browser and agents benches are here.

pub mod answer_type;
pub mod verdicts;

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::Semaphore;

use crate::config::{Config, LabConfig};
use crate::lab::{Lab, LabError};
use crate::probe::web::audit::AuditError;
use crate::probe::web::{parse_url, UrlError, WebOutcome, WebProbe, WebTarget};
use crate::probe::ProbeError;
use crate::registry::{Centre, RegistryError};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("reading {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {error}")]
    BadUrl {
        path: String,
        line: usize,
        error: UrlError,
    },
    #[error("{path}: no URL")]
    NoUrl { path: String },
    #[error("no sample centre")]
    NoSample,
    #[error(transparent)]
    CallOptions(#[from] crate::probe::call::ivr::IvrError),
    #[error("pa11y-ci: {0}")]
    Pa11y(String),
    #[error("the warm-up page was not audited: {0}")]
    WarmUp(String),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Url(#[from] url::ParseError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Acquire(#[from] tokio::sync::AcquireError),
    #[error(transparent)]
    Join(#[from] tokio::task::JoinError),
}

/// The URLs of a file for `bench browser`: one per line; blank lines and `#` comments skipped.
pub fn read_urls(path: &std::path::Path) -> Result<Vec<url::Url>, BenchError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Read {
        path: shown.clone(),
        source,
    })?;
    let mut list = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        list.push(parse_url(line).map_err(|error| BenchError::BadUrl {
            path: shown.clone(),
            line: i + 1,
            error,
        })?);
    }
    if list.is_empty() {
        return Err(BenchError::NoUrl { path: shown });
    }
    Ok(list)
}

#[derive(Debug, Serialize)]
pub struct WebBench {
    pub tls: bool,
    pub checks: usize,
    pub concurrency: usize,
    pub elapsed_s: f64,
    pub checks_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub failed: usize,
}

/// `n` availability checks, each on a fresh connection (and a full TLS handshake with `tls`),
/// against the lab's page on
/// a free loopback port, `concurrency` at a time. The server shares this process and its cores.
pub async fn web(
    config: &Config,
    n: usize,
    concurrency: usize,
    tls: bool,
) -> Result<WebBench, BenchError> {
    let centre: Centre =
        crate::registry::parse_csv(crate::registry::SAMPLE_CSV.as_bytes(), "sample")?
            .into_iter()
            .next()
            .ok_or(BenchError::NoSample)?;
    let lab_cfg = LabConfig::on_free_ports();
    let lab = Lab::start(&lab_cfg, std::slice::from_ref(&centre)).await?;
    let mut web = config.web.clone();
    web.trust_lab_ca = true;
    let probe = WebProbe::new(&web)?;
    let url = if tls {
        format!("https://{}/ok/{}/", lab.https, centre.id)
    } else {
        format!("http://{}/ok/{}/", lab.http, centre.id)
    };
    let url = url::Url::parse(&url)?;
    let target = Arc::new(WebTarget {
        url,
        centre: None,
        expect: Some(centre.name_ar.clone()),
        phones: Vec::new(),
    });
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let permit = limit.clone().acquire_owned().await?;
        let probe = probe.clone();
        let target = target.clone();
        tasks.spawn(async move {
            let r = probe.check_or_error(&target).await;
            drop(permit);
            r
        });
    }
    let mut totals = Vec::with_capacity(n);
    let mut failed = 0;
    while let Some(r) = tasks.join_next().await {
        let r = r?;
        if r.outcome != WebOutcome::Up {
            failed += 1;
        }
        totals.push(r.timings_ms.total);
    }
    let elapsed = started.elapsed().as_secs_f64();
    lab.stop();
    totals.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        totals
            .get(((totals.len() as f64 * p) as usize).min(totals.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    Ok(WebBench {
        tls,
        checks: n,
        concurrency,
        elapsed_s: (elapsed * 1000.0).round() / 1000.0,
        checks_per_s: (n as f64 / elapsed).round(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        failed,
    })
}

#[derive(Debug, Serialize)]
pub struct CallBench {
    pub calls: usize,
    pub concurrency: usize,
    pub answer_ms: u64,
    pub listen_secs: u64,
    pub elapsed_s: f64,
    pub calls_per_s: f64,
    pub answered: usize,
    /// |raqib's answer time − the lab's wire record (INVITE in → 200 OK out)|, ms; `null`
    /// with an external lab, whose record this process cannot see.
    pub error_vs_wire_p50_ms: Option<f64>,
    pub error_vs_wire_p99_ms: Option<f64>,
    pub error_vs_wire_max_ms: Option<f64>,
    /// |raqib's answer time − the scripted delay|, ms (includes the lab's own lateness).
    pub error_vs_script_p50_ms: f64,
    pub error_vs_script_p99_ms: f64,
    pub rtp_packets: u64,
    pub rtp_lost: u64,
    /// Peak resident memory of this process (raqib and the lab together), MB.
    pub peak_rss_mb: f64,
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    (v[i] * 1000.0).round() / 1000.0
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| (kb / 1024.0 * 10.0).round() / 10.0)
        .unwrap_or(0.0)
}

/// `n` calls to the lab's `answer-MS` UAS on a free loopback port, `concurrency` in flight;
/// after answer, hang up at once or listen `listen_secs` to the lab's greeting and silence
/// (50 RTP packets/s per call, recorded to WAV). The lab shares this process and its cores.
pub async fn calls(
    config: &Config,
    n: usize,
    concurrency: usize,
    answer_ms: u64,
    listen_secs: u64,
    external_lab: Option<std::net::SocketAddr>,
) -> Result<CallBench, BenchError> {
    use crate::config::AfterAnswer;
    use crate::probe::call::{CallOptions, CallOutcome, CallProbe, CallTarget};

    let lab_cfg = LabConfig::on_free_ports();
    // In-process unless told where a separate `raqib lab` listens (then RSS is raqib's own,
    // and the wire record is not available).
    let lab = match external_lab {
        Some(_) => None,
        None => Some(Lab::start(&lab_cfg, &[]).await?),
    };
    let sip = match (&lab, external_lab) {
        (Some(l), _) => l.sip,
        (None, Some(a)) => a,
        (None, None) => unreachable!(),
    };
    let evidence = std::env::temp_dir().join(format!("raqib-bench-{}", std::process::id()));
    let mut cfg = config.clone();
    cfg.trunk.transport = crate::config::Transport::Udp;
    cfg.trunk.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let probe = CallProbe::new(&cfg, &evidence).await?;
    let after = if listen_secs == 0 {
        AfterAnswer::Hangup
    } else {
        AfterAnswer::Listen(listen_secs)
    };
    let opts = CallOptions::new(
        std::time::Duration::from_secs(30),
        after,
        &cfg.call.scripts_dir,
    )?;
    let uri = format!("sip:answer-{answer_ms}@{sip}");
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let permit = limit.clone().acquire_owned().await?;
        let (probe, opts) = (probe.clone(), opts.clone());
        let target = CallTarget {
            uri: uri.clone(),
            number: None,
            centre: None,
            unlisted: true,
        };
        tasks.spawn(async move {
            let r = probe.call(&target, &opts).await;
            drop(permit);
            r
        });
    }
    let mut results = Vec::with_capacity(n);
    while let Some(r) = tasks.join_next().await {
        results.push(r?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let wire = lab
        .as_ref()
        .and_then(|l| l.wire.lock().ok().map(|w| w.clone()))
        .unwrap_or_default();
    let mut vs_wire = Vec::new();
    let mut vs_script = Vec::new();
    let (mut packets, mut lost) = (0, 0);
    for r in &results {
        if let Some(rtp) = &r.rtp {
            packets += rtp.packets;
            lost += rtp.lost;
        }
        let Some(answer) = r.timings_ms.answer else {
            continue;
        };
        vs_script.push((answer - answer_ms as f64).abs());
        // The trace names the Call-ID: `<time>-<id>.sip.txt`; the lab logged the same call.
        let id = r
            .sip_trace
            .as_deref()
            .and_then(|p| p.rsplit('-').next())
            .and_then(|f| f.strip_suffix(".sip.txt"))
            .map(|id| format!("{id}@raqib"));
        if let Some(t) = id.and_then(|id| wire.get(&id).copied()) {
            if let Some(ok) = t.ok_at {
                let truth = ok.duration_since(t.invite_at).as_secs_f64() * 1000.0;
                vs_wire.push((answer - truth).abs());
            }
        }
    }
    if let Some(l) = lab {
        l.stop();
    }
    let _ = std::fs::remove_dir_all(&evidence);
    let answered = results
        .iter()
        .filter(|r| r.outcome == CallOutcome::Answered)
        .count();
    Ok(CallBench {
        calls: n,
        concurrency,
        answer_ms,
        listen_secs,
        elapsed_s: (elapsed * 1000.0).round() / 1000.0,
        calls_per_s: (n as f64 / elapsed * 10.0).round() / 10.0,
        answered,
        error_vs_wire_max_ms: (!vs_wire.is_empty()).then(|| percentile(&mut vs_wire.clone(), 1.0)),
        error_vs_wire_p50_ms: (!vs_wire.is_empty()).then(|| percentile(&mut vs_wire.clone(), 0.5)),
        error_vs_wire_p99_ms: (!vs_wire.is_empty()).then(|| percentile(&mut vs_wire, 0.99)),
        error_vs_script_p50_ms: percentile(&mut vs_script.clone(), 0.5),
        error_vs_script_p99_ms: percentile(&mut vs_script, 0.99),
        rtp_packets: packets,
        rtp_lost: lost,
        peak_rss_mb: peak_rss_mb(),
    })
}

#[derive(Debug, Serialize)]
pub struct BrowserBench {
    pub pages: usize,
    pub tabs: usize,
    pub elapsed_s: f64,
    pub pages_per_min: f64,
    /// Mean and 95th percentile of a page's whole audit (open, load, axe, screenshot, close).
    pub page_mean_ms: f64,
    pub page_p95_ms: f64,
    /// Mean and 95th percentile of injecting and running axe-core on a page.
    pub axe_mean_ms: f64,
    pub axe_p95_ms: f64,
    /// Mean of each phase of a page's audit, in ms: load, checks, axe, screenshot; `other`
    /// is the rest (a context and tab opened or reused, the viewport, closing).
    pub phases_mean_ms: std::collections::BTreeMap<String, f64>,
    /// Highest sum of resident memory over the browser's processes, sampled every 100 ms: it
    /// counts the pages they share (Chromium's code) once per process.
    pub browser_peak_rss_mib: f64,
    /// Highest sum of proportional set sizes: shared pages divided between the processes, so
    /// the memory the browser really holds.
    pub browser_peak_pss_mib: f64,
    /// Pages whose audit did not end `ok`.
    pub not_ok: usize,
    pub restarts: u64,
    /// pa11y-ci on the same pages, with `--pa11y`.
    pub pa11y: Option<Pa11yBench>,
}

/// pa11y-ci (axe runner, the same axe-core) on the same pages, tabs as its concurrency.
#[derive(Debug, Serialize)]
pub struct Pa11yBench {
    pub version: String,
    pub pages: usize,
    pub elapsed_s: f64,
    /// A run with the first page alone: Node, pa11y-ci and its browser starting.
    pub startup_s: f64,
    /// Pages per minute after its start-up: (pages − 1) / (elapsed − startup), as raqib's
    /// figure is taken with its browser already running.
    pub pages_per_min: f64,
    pub peak_rss_mib: f64,
    pub peak_pss_mib: f64,
    /// raqib's pages per minute over pa11y-ci's.
    pub speedup: f64,
    /// Each page's axe violations (rule, nodes) and needs-review rules agree.
    pub findings_identical: bool,
    pub mismatches: Vec<String>,
}

/// The axe tags pa11y's `WCAG2AA` standard runs; raqib runs the same ones when compared.
pub const PA11Y_WCAG2AA_TAGS: &[&str] =
    &["wcag2a", "wcag21a", "wcag2aa", "wcag21aa", "best-practice"];

/// The lab's pages as sites: each sample centre's home page (a first visit), then its other
/// pages (continuing the visit).
fn lab_pages(
    http: std::net::SocketAddr,
    centres: &[Centre],
) -> Result<Vec<(url::Url, u32)>, BenchError> {
    let mut all = Vec::new();
    for c in centres {
        for (path, depth) in [
            ("ok/{}/", 0),
            ("ok/{}/services", 1),
            ("ok/{}/contact", 1),
            ("a11y/{}/", 0),
            ("a11y/{}/form", 1),
        ] {
            let p = path.replace("{}", &c.id);
            all.push((url::Url::parse(&format!("http://{http}/{p}"))?, depth));
        }
    }
    Ok(all)
}

/// A file's URLs as sites: the first of each origin a first visit, the others continuing it.
fn as_visits(urls: Vec<url::Url>) -> Vec<(url::Url, u32)> {
    let mut seen = std::collections::HashSet::new();
    urls.into_iter()
        .map(|u| {
            let depth = u32::from(!seen.insert(u.origin().ascii_serialization()));
            (u, depth)
        })
        .collect()
}

/// Audits `urls` (the lab's pages when empty: each sample centre's clean site and faulty
/// pages, cycled up to `pages`) with one browser and `tabs` tabs, screenshots kept in a
/// temporary directory; with `pa11y` (pa11y-ci's path), the same pages through pa11y-ci, and
/// both tools' findings compared.
pub async fn browser(
    config: &Config,
    pages: usize,
    tabs: usize,
    urls: Vec<url::Url>,
    pa11y: Option<&std::path::Path>,
) -> Result<BrowserBench, BenchError> {
    use crate::probe::web::audit::{Auditor, PageOutcome};
    let centres = crate::registry::parse_csv(crate::registry::SAMPLE_CSV.as_bytes(), "sample")?;
    let lab = Lab::start(&LabConfig::on_free_ports(), &centres).await?;
    let urls = if urls.is_empty() {
        lab_pages(lab.http, &centres)?
    } else {
        as_visits(urls)
    };
    let list: Vec<(url::Url, u32)> = urls.iter().cycle().take(pages).cloned().collect();
    let evidence = tempfile::tempdir()?;
    let mut cfg = config.browser.clone();
    cfg.tabs = tabs.clamp(1, 32);
    if pa11y.is_some() {
        cfg.axe_tags = PA11Y_WCAG2AA_TAGS.iter().map(|t| t.to_string()).collect();
    }
    let auditor = Arc::new(Auditor::new(&cfg, &config.web, evidence.path())?);
    // Start the browser before the clock, as a sweep's first page would.
    let warm = auditor.audit_page(&list[0].0, 0).await;
    if warm.outcome != PageOutcome::Ok {
        return Err(BenchError::WarmUp(warm.detail.unwrap_or_default()));
    }
    let pid = auditor.browser_pid().await;
    let sampler = PeakSampler::start(pid);
    let started = Instant::now();
    let audits = futures::future::join_all(list.iter().map(|(u, depth)| {
        let auditor = auditor.clone();
        async move { auditor.audit_page(u, *depth).await }
    }))
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let (peak_rss, peak_pss) = sampler.stop();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let restarts = auditor.restarts();
    auditor.shutdown().await;
    let pages_per_min = list.len() as f64 / elapsed * 60.0;
    let pa11y = match pa11y {
        Some(bin) => {
            let page_list: Vec<url::Url> = list.iter().map(|(u, _)| u.clone()).collect();
            let p = pa11y_ci(bin, &config.browser, &page_list, cfg.tabs).await?;
            let mismatches = compare_findings(&audits, &p.issues_by_url);
            Some(Pa11yBench {
                version: p.version,
                pages: page_list.len(),
                elapsed_s: round2(p.elapsed_s),
                startup_s: round2(p.startup_s),
                pages_per_min: round2(p.pages_per_min),
                peak_rss_mib: p.peak_rss_mib,
                peak_pss_mib: p.peak_pss_mib,
                speedup: round2(pages_per_min / p.pages_per_min.max(f64::MIN_POSITIVE)),
                findings_identical: mismatches.is_empty(),
                mismatches,
            })
        }
        None => None,
    };
    lab.stop();
    let mut page: Vec<f64> = audits.iter().map(|a| a.audit_ms.total).collect();
    let mut phases = std::collections::BTreeMap::new();
    for (name, pick) in [
        (
            "load",
            (|d| d.load) as fn(&crate::probe::web::audit::AuditDurations) -> Option<f64>,
        ),
        ("checks", |d| d.checks),
        ("axe", |d| d.axe),
        ("screenshot", |d| d.screenshot),
        ("other", |d| {
            Some(
                d.total
                    - d.load.unwrap_or(0.0)
                    - d.checks.unwrap_or(0.0)
                    - d.axe.unwrap_or(0.0)
                    - d.screenshot.unwrap_or(0.0),
            )
        }),
    ] {
        let v: Vec<f64> = audits.iter().filter_map(|a| pick(&a.audit_ms)).collect();
        phases.insert(name.to_string(), (mean(&v) * 10.0).round() / 10.0);
    }
    let mut axe: Vec<f64> = audits.iter().filter_map(|a| a.audit_ms.axe).collect();
    Ok(BrowserBench {
        phases_mean_ms: phases,
        pages: list.len(),
        tabs: cfg.tabs,
        elapsed_s: elapsed,
        pages_per_min,
        page_mean_ms: mean(&page),
        page_p95_ms: percentile(&mut page, 0.95),
        axe_mean_ms: mean(&axe),
        axe_p95_ms: percentile(&mut axe, 0.95),
        browser_peak_rss_mib: peak_rss,
        browser_peak_pss_mib: peak_pss,
        not_ok: audits
            .iter()
            .filter(|a| a.outcome != PageOutcome::Ok)
            .count(),
        restarts,
        pa11y,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The peak memory of a process and its descendants until stopped: RSS sampled every 100 ms,
/// PSS every 300 ms.
struct PeakSampler {
    task: tokio::task::JoinHandle<()>,
    rss: Arc<std::sync::atomic::AtomicU64>,
    pss: Arc<std::sync::atomic::AtomicU64>,
}

impl PeakSampler {
    fn start(root: Option<u32>) -> PeakSampler {
        let rss = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let pss = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (r, p) = (rss.clone(), pss.clone());
        let task = tokio::spawn(async move {
            for tick in 0u64.. {
                if let Some(root) = root {
                    // PSS walks every page table of every process: read each 100 ms, it took
                    // an eighth of the run's CPU from the browsers it measured.
                    let (kr, kp) = tree_memory_kib(root, tick % 3 == 0);
                    r.fetch_max(kr, std::sync::atomic::Ordering::Relaxed);
                    p.fetch_max(kp, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
        PeakSampler { task, rss, pss }
    }

    /// (peak RSS, peak PSS) in MiB.
    fn stop(self) -> (f64, f64) {
        self.task.abort();
        let mib = |a: &std::sync::atomic::AtomicU64| {
            (a.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0).round()
        };
        (mib(&self.rss), mib(&self.pss))
    }
}

/// What one pa11y-ci run measured, before it is compared.
struct Pa11yRun {
    version: String,
    elapsed_s: f64,
    startup_s: f64,
    pages_per_min: f64,
    peak_rss_mib: f64,
    peak_pss_mib: f64,
    /// URL → (axe rule, needs review) → nodes.
    issues_by_url:
        std::collections::HashMap<String, std::collections::BTreeMap<(String, bool), u64>>,
}

/// Runs pa11y-ci twice (the first page alone, for its start-up; then every page) with the
/// axe runner, the browser raqib uses and `tabs` as its concurrency.
async fn pa11y_ci(
    bin: &std::path::Path,
    browser: &crate::config::BrowserConfig,
    urls: &[url::Url],
    tabs: usize,
) -> Result<Pa11yRun, BenchError> {
    let dir = tempfile::tempdir()?;
    let mut args = vec![
        "--headless=new".to_string(),
        "--disable-gpu".to_string(),
        "--hide-scrollbars".to_string(),
    ];
    if crate::probe::web::cdp::sandbox_off() {
        args.push("--no-sandbox".into());
    }
    // The same browser as raqib's, down to the features it turns off: the comparison is of
    // the tools, not of Chromium's headless window furniture.
    args.extend(crate::probe::web::cdp::with_disabled_features(
        &browser.args,
    ));
    let write = |name: &str,
                 list: &[url::Url]|
     -> Result<(std::path::PathBuf, std::path::PathBuf), BenchError> {
        let report = dir.path().join(format!("{name}.report.json"));
        let cfg = serde_json::json!({
            "defaults": {
                "runners": ["axe"],
                "standard": "WCAG2AA",
                "includeWarnings": true,
                "includeNotices": true,
                "timeout": browser.page_timeout_ms,
                // To a file: `--json` on stdout is cut at the pipe's 64 KiB when pa11y-ci
                // exits (2, as pages have issues) before node has written it all.
                "reporters": [["json", {"fileName": report}]],
                "chromeLaunchConfig": {
                    "executablePath": browser.path,
                    "args": args,
                },
            },
            "concurrency": tabs,
            "urls": list.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        });
        let path = dir.path().join(name);
        std::fs::write(&path, cfg.to_string())?;
        Ok((path, report))
    };
    let one = write("one.json", &urls[..1])?;
    let all = write("all.json", urls)?;
    let run = |(config, report): (std::path::PathBuf, std::path::PathBuf)| async move {
        let mut child = tokio::process::Command::new(bin)
            .arg("--config")
            .arg(&config)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .map_err(|e| BenchError::Pa11y(format!("cannot run {}: {e}", bin.display())))?;
        let sampler = PeakSampler::start(child.id());
        let started = Instant::now();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let read = |pipe: Option<tokio::process::ChildStdout>| async move {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                use tokio::io::AsyncReadExt;
                let _ = p.read_to_string(&mut text).await;
            }
            text
        };
        let read_err = |pipe: Option<tokio::process::ChildStderr>| async move {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                use tokio::io::AsyncReadExt;
                let _ = p.read_to_string(&mut text).await;
            }
            text
        };
        let (out, err, status) = tokio::join!(read(stdout), read_err(stderr), child.wait());
        let elapsed = started.elapsed().as_secs_f64();
        let memory = sampler.stop();
        // pa11y-ci exits 2 when a page has issues: its JSON still says everything.
        let text = std::fs::read_to_string(&report).unwrap_or_default();
        let report: serde_json::Value = serde_json::from_str(&text).map_err(|_| {
            BenchError::Pa11y(format!(
                "pa11y-ci ended {} without a JSON report: {}",
                status.map(|s| s.to_string()).unwrap_or_default(),
                err.lines()
                    .chain(out.lines())
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or_default()
            ))
        })?;
        Ok::<_, BenchError>((report, elapsed, memory))
    };
    let (_, startup_s, _) = run(one).await?;
    let (report, elapsed_s, (peak_rss_mib, peak_pss_mib)) = run(all).await?;
    let mut issues_by_url = std::collections::HashMap::new();
    for (url, issues) in report["results"].as_object().into_iter().flatten() {
        let Some(issues) = issues.as_array() else {
            continue;
        };
        let mut found = std::collections::BTreeMap::<(String, bool), u64>::new();
        for i in issues {
            let Some(code) = i["code"].as_str() else {
                // A page pa11y-ci could not load is reported as a message, not an issue.
                return Err(BenchError::Pa11y(format!(
                    "pa11y-ci could not audit {url}: {}",
                    i["message"]
                )));
            };
            let review = i["runnerExtras"]["needsFurtherReview"]
                .as_bool()
                .unwrap_or(false);
            *found.entry((code.to_string(), review)).or_default() += 1;
        }
        issues_by_url.insert(url.clone(), found);
    }
    let version = std::process::Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let marginal = (elapsed_s - startup_s).max(f64::MIN_POSITIVE);
    let pages_per_min = match urls.len() {
        1 => 60.0 / elapsed_s,
        n => (n - 1) as f64 / marginal * 60.0,
    };
    Ok(Pa11yRun {
        version,
        elapsed_s,
        startup_s,
        pages_per_min,
        peak_rss_mib,
        peak_pss_mib,
        issues_by_url,
    })
}

/// Where raqib's and pa11y-ci's axe findings differ, page by page: the rules each reports as
/// violations with their node counts, and the rules each leaves for review (raqib keeps no
/// node count for those). raqib's own rules (`arabic-…`) are not axe's and are left out.
fn compare_findings(
    audits: &[crate::probe::web::audit::PageAudit],
    pa11y: &std::collections::HashMap<String, std::collections::BTreeMap<(String, bool), u64>>,
) -> Vec<String> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    for a in audits {
        if !done.insert(a.url.clone()) {
            continue;
        }
        let Some(theirs) = pa11y.get(&a.url) else {
            out.push(format!("{}: no pa11y-ci result", a.url));
            continue;
        };
        let Some(ours) = &a.a11y else {
            out.push(format!("{}: no raqib result ({:?})", a.url, a.outcome));
            continue;
        };
        let ours_v: BTreeMap<&str, u64> = ours
            .violations
            .iter()
            .filter(|v| !v.id.starts_with("arabic-"))
            .map(|v| (v.id.as_str(), v.nodes))
            .collect();
        let theirs_v: BTreeMap<&str, u64> = theirs
            .iter()
            .filter(|((_, review), _)| !review)
            .map(|((id, _), n)| (id.as_str(), *n))
            .collect();
        if ours_v != theirs_v {
            out.push(format!(
                "{}: violations raqib {ours_v:?}, pa11y-ci {theirs_v:?}",
                a.url
            ));
        }
        let ours_r: BTreeSet<&str> = ours
            .needs_review_rules
            .iter()
            .filter(|id| !id.starts_with("arabic-"))
            .map(String::as_str)
            .collect();
        let theirs_r: BTreeSet<&str> = theirs
            .keys()
            .filter(|(_, review)| *review)
            .map(|(id, _)| id.as_str())
            .collect();
        if ours_r != theirs_r {
            out.push(format!(
                "{}: needs review raqib {ours_r:?}, pa11y-ci {theirs_r:?}",
                a.url
            ));
        }
    }
    out
}

/// Sum of VmRSS and of Pss (KiB) over process `root` and all its descendants (Chromium's
/// renderers are its children; puppeteer starts its browser in a process group of its own);
/// Pss is 0 unless `with_pss`.
fn tree_memory_kib(root: u32, with_pss: bool) -> (u64, u64) {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return (0, 0);
    };
    let mut parent = std::collections::HashMap::new();
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After "(comm)": state ppid …
        let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or_default();
        if let Some(ppid) = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
        {
            parent.insert(pid, ppid);
        }
    }
    let in_tree = |mut pid: u32| {
        for _ in 0..64 {
            if pid == root {
                return true;
            }
            match parent.get(&pid) {
                Some(&p) if p != 0 => pid = p,
                _ => return false,
            }
        }
        false
    };
    let field = |text: &str, name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (mut rss, mut pss) = (0, 0);
    for &pid in parent.keys().filter(|&&p| in_tree(p)) {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            rss += field(&status, "VmRSS:");
        }
        if !with_pss {
            continue;
        }
        if let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
            pss += field(&rollup, "Pss:");
        }
    }
    (rss, pss)
}

#[derive(Debug, Serialize)]
pub struct AgentsBench {
    pub store: String,
    pub agents: usize,
    pub jobs: usize,
    pub batch: i64,
    pub elapsed_s: f64,
    pub jobs_per_s: f64,
    /// Jobs each agent completed.
    pub per_agent: Vec<usize>,
    /// Results stored for the sweep: equal to `jobs` when no job ran twice or was lost.
    pub results: usize,
}

/// `jobs` sweep jobs claimed and completed by `agents` agents, each with its own connection
/// pool as separate processes would have, probes replaced by an instant answer: the store's
/// claim (lease) and complete (result under the lease) round trips, nothing else. Runs in a
/// fresh data directory: `url` (with `{data_dir}` for a fresh PostgreSQL database) or SQLite.
pub async fn agents(
    url: Option<&str>,
    agents: usize,
    jobs: usize,
    batch: i64,
) -> Result<AgentsBench, crate::store::StoreError> {
    use crate::store::{NewJob, NewResult, ResultFilter, Store};
    let dir = tempfile::tempdir().map_err(|source| crate::store::StoreError::DataDir {
        path: "a temporary directory".into(),
        source,
    })?;
    let planner = Store::open(dir.path(), url).await?;
    let targets: Vec<String> = (0..jobs).map(|i| format!("+9626{i:07}")).collect();
    let now = chrono::Utc::now();
    let new: Vec<NewJob> = targets
        .iter()
        .map(|t| NewJob {
            centre: "bench",
            target: t,
            not_before: now,
        })
        .collect();
    let sweep = planner
        .plan_sweep("phone", "bench", now, &[], &new)
        .await?
        .expect("a fresh store has no sweep");
    let mut stores = Vec::new();
    for _ in 0..agents {
        stores.push(Store::open(dir.path(), url).await?);
    }
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, store) in stores.into_iter().enumerate() {
        tasks.spawn(async move {
            let name = format!("bench-{i}");
            let data = serde_json::json!({"outcome": "answered", "timings_ms": {"answer": 0.0, "total": 0.0}});
            let mut done = 0usize;
            loop {
                let now = chrono::Utc::now();
                let claimed = store
                    .claim_jobs(&name, &[sweep], now, now + chrono::Duration::seconds(60), batch)
                    .await?;
                if claimed.is_empty() {
                    break;
                }
                for job in claimed {
                    let r = NewResult {
                        channel: "phone",
                        centre_id: Some("bench"),
                        target: &job.target,
                        started_at: chrono::Utc::now(),
                        outcome: "answered",
                        reason: None,
                        sweep_id: Some(sweep),
                        data: &data,
                        agent: Some(&name),
                    };
                    if store.complete_claimed(job.id, &name, &r).await?.is_some() {
                        done += 1;
                    }
                }
            }
            store.close().await;
            Ok::<usize, crate::store::StoreError>(done)
        });
    }
    let mut per_agent = Vec::new();
    while let Some(r) = tasks.join_next().await {
        per_agent.push(r.expect("a bench agent panicked")?);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let results = planner
        .results(&ResultFilter {
            sweep_id: Some(sweep),
            ..ResultFilter::default()
        })
        .await?
        .len();
    planner.close().await;
    Ok(AgentsBench {
        store: if planner.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
        .into(),
        agents,
        jobs,
        batch,
        elapsed_s: elapsed,
        jobs_per_s: jobs as f64 / elapsed,
        per_agent,
        results,
    })
}
