//! `raqib bench`: throughput figures printed, never asserted by tests.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::Semaphore;

use crate::config::{Config, LabConfig};
use crate::lab::Lab;
use crate::probe::web::{WebOutcome, WebProbe, WebTarget};
use crate::registry::Centre;

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
) -> anyhow::Result<WebBench> {
    let centre: Centre =
        crate::registry::parse_csv(crate::registry::SAMPLE_CSV.as_bytes(), "sample")?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("no sample centre"))?;
    let lab_cfg = LabConfig {
        http_listen: "127.0.0.1:0".parse()?,
        https_listen: "127.0.0.1:0".parse()?,
        expired_https_listen: "127.0.0.1:0".parse()?,
        slow_ms: 0,
        sip_listen: "127.0.0.1:0".parse()?,
        phones: Default::default(),
    };
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
