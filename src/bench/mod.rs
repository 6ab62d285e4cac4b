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
    /// Mean of each phase of a page's audit, in ms: open (context and tab), load, checks,
    /// screenshot, close.
    pub phases_mean_ms: std::collections::BTreeMap<String, f64>,
    /// Highest sum of resident memory over the browser's processes, sampled every 100 ms.
    pub browser_peak_rss_mib: f64,
    /// Pages whose audit did not end `ok`.
    pub not_ok: usize,
    pub restarts: u64,
}

/// Audits `urls` (the lab's pages when empty: each sample centre's clean site and faulty
/// pages, cycled up to `pages`) with one browser and `tabs` tabs, screenshots kept in a
/// temporary directory.
pub async fn browser(
    config: &Config,
    pages: usize,
    tabs: usize,
    urls: Vec<url::Url>,
) -> Result<BrowserBench, BenchError> {
    use crate::probe::web::audit::{Auditor, PageOutcome};
    let centres = crate::registry::parse_csv(crate::registry::SAMPLE_CSV.as_bytes(), "sample")?;
    let lab = Lab::start(&LabConfig::on_free_ports(), &centres).await?;
    let urls: Vec<url::Url> = if urls.is_empty() {
        let mut all = Vec::new();
        for c in &centres {
            for path in [
                "ok/{}/",
                "ok/{}/services",
                "ok/{}/contact",
                "a11y/{}/",
                "a11y/{}/form",
            ] {
                let p = path.replace("{}", &c.id);
                all.push(url::Url::parse(&format!("http://{}/{p}", lab.http))?);
            }
        }
        all
    } else {
        urls
    };
    let list: Vec<url::Url> = urls.iter().cycle().take(pages).cloned().collect();
    let evidence = tempfile::tempdir()?;
    let mut cfg = config.browser.clone();
    cfg.tabs = tabs.clamp(1, 32);
    let auditor = Arc::new(Auditor::new(&cfg, &config.web, evidence.path())?);
    // Start the browser before the clock, as a sweep's first page would.
    let warm = auditor.audit_page(&list[0], 0).await;
    if warm.outcome != PageOutcome::Ok {
        return Err(BenchError::WarmUp(warm.detail.unwrap_or_default()));
    }
    let pid = auditor.browser_pid().await;
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                if let Some(pid) = pid {
                    let kib = group_rss_kib(pid);
                    peak.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
    };
    let started = Instant::now();
    let audits = futures::future::join_all(list.iter().map(|u| {
        let auditor = auditor.clone();
        async move { auditor.audit_page(u, 0).await }
    }))
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    sampler.abort();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let restarts = auditor.restarts();
    auditor.shutdown().await;
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
        pages_per_min: list.len() as f64 / elapsed * 60.0,
        page_mean_ms: mean(&page),
        page_p95_ms: percentile(&mut page, 0.95),
        axe_mean_ms: mean(&axe),
        axe_p95_ms: percentile(&mut axe, 0.95),
        browser_peak_rss_mib: peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0,
        not_ok: audits
            .iter()
            .filter(|a| a.outcome != PageOutcome::Ok)
            .count(),
        restarts,
    })
}

/// Sum of VmRSS (KiB) over the processes of process group `pgid`.
fn group_rss_kib(pgid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After "(comm)": state ppid pgrp …
        let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or_default();
        if after.split_whitespace().nth(2) != Some(&pgid.to_string()) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        total += status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
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
