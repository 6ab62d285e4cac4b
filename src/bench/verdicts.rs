//! `raqib bench verdicts`: a store shaped like a ministry's year (centres × numbers × months
//! of in-hours calls, a daily check per site), then the figures leadership's screens depend
//! on: rebuilding every period, reading a period as the dashboard and API do (in process and
//! over HTTP), `/metrics`, refreshing after one new result, and the process's memory.
//! Printed, never asserted.

use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::probe::call::audio::AnswerType;
use crate::probe::call::{CallOutcome, CallResult, CallTarget, CallTimings, RtpSummary};
use crate::probe::web::{WebOutcome, WebResult, WebTimings};
use crate::probe::Channel;
use crate::registry::Centre;
use crate::rng::SplitMix64;
use crate::score::period::Period;
use crate::store::{NewResult, Store, StoreError};
use crate::verdict::{VerdictError, Verdicts};

#[derive(Debug, Serialize)]
pub struct VerdictsBench {
    pub store: String,
    pub centres: usize,
    pub months: u32,
    pub results: usize,
    pub load_s: f64,
    pub periods_rebuilt: usize,
    pub rebuild_all_s: f64,
    /// `Verdicts::read` of the current month (what every surface starts from), in process.
    pub read_p50_ms: f64,
    pub read_p99_ms: f64,
    /// The report the dashboard overview is drawn from, in process.
    pub report_p50_ms: f64,
    pub report_p99_ms: f64,
    /// Over HTTP on loopback, against `raqib serve` run as its own process.
    pub api_scores_p50_ms: f64,
    pub api_scores_p99_ms: f64,
    pub overview_p50_ms: f64,
    pub overview_p99_ms: f64,
    pub metrics_p50_ms: f64,
    pub metrics_p99_ms: f64,
    /// The first scrape after serve started (it may wait for the initial count).
    pub metrics_first_ms: f64,
    /// One new result stored, then its centre's verdicts refreshed.
    pub refresh_one_p50_ms: f64,
    pub refresh_one_p99_ms: f64,
    /// Where the refreshed verdicts differ from the same periods rebuilt whole (empty: none).
    pub refresh_differs: Vec<String>,
    /// Resident memory of the `raqib serve` process after its views.
    pub serve_rss_mb: f64,
    /// Resident memory of the bench process (it loaded and rebuilt everything).
    pub rss_mb: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Verdict(#[from] VerdictError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error("bench: {0}")]
    Other(String),
}

fn percentile(mut xs: Vec<f64>, p: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    if xs.is_empty() {
        return 0.0;
    }
    xs[((xs.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Resident memory of process `pid`, in MB (0 when unknown).
fn rss_mb_of(pid: Option<u32>) -> f64 {
    let Some(pid) = pid else {
        return 0.0;
    };
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The bench's registry: `n` centres in 12 agencies, 3 numbers each, two in three with a site
/// of their own (the rest inherit their agency's).
fn centres(n: usize) -> Vec<Centre> {
    let mut csv = String::from("id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n");
    for i in 0..n {
        let phones: Vec<String> = (0..3).map(|j| format!("+9626{i:04}{j:03}")).collect();
        let site = if i % 3 == 2 {
            String::new()
        } else {
            format!("https://c{i}.bench.invalid/")
        };
        csv += &format!(
            "c{i:04},مركز {i},Centre {i},Agency {},Region {},UTC,Sun-Sat 00:00-24:00,{},{site}\n",
            // Eleven agencies: with every third centre site-less, each agency has both kinds.
            i % 11,
            i % 5,
            phones.join(";")
        );
    }
    crate::registry::parse_csv(csv.as_bytes(), "bench").expect("the bench registry is valid")
}

fn call_result(
    c: &Centre,
    number: &str,
    at: DateTime<Utc>,
    rng: &mut SplitMix64,
    quality: usize,
) -> CallResult {
    let mut r = CallResult::start(
        &CallTarget {
            uri: format!("sip:{number}@127.0.0.1"),
            number: Some(number.to_string()),
            centre: Some(c.id.clone()),
            unlisted: false,
        },
        "notice".into(),
    );
    r.started_at = at;
    r.in_hours = Some(true);
    let roll = rng.below(100);
    // A centre's quality (0–99) sets how often it answers and whom one reaches.
    r.outcome = if roll < 40 + quality / 2 {
        CallOutcome::Answered
    } else if roll < 80 + quality / 5 {
        CallOutcome::NoAnswer
    } else {
        CallOutcome::Busy
    };
    let ring = 2000.0 + rng.below(40_000) as f64;
    r.timings_ms = CallTimings {
        first_response: Some(20.0),
        ringing: Some(40.0),
        answer: (r.outcome == CallOutcome::Answered).then_some(ring),
        first_audio: (r.outcome == CallOutcome::Answered).then_some(300.0),
        person: None,
        total: ring + 8000.0,
    };
    if r.outcome == CallOutcome::Answered {
        r.sip_status = Some(200);
        r.answer_type = Some(match rng.below(100) {
            x if x < quality => AnswerType::Human,
            x if x < 90 => AnswerType::Ivr,
            _ => AnswerType::Music,
        });
        r.answer_type_source = Some("heuristic".into());
        r.rtp = Some(RtpSummary {
            packets: 400,
            lost: rng.below(4) as u64,
            loss_pct: 0.5,
            jitter_ms: 2.0,
            mos: 4.2,
            ..Default::default()
        });
    } else {
        r.sip_status = Some(if r.outcome == CallOutcome::Busy {
            486
        } else {
            487
        });
    }
    r
}

fn web_result(c: &Centre, site: &str, at: DateTime<Utc>, rng: &mut SplitMix64) -> WebResult {
    let up = rng.below(100) < 97;
    WebResult {
        channel: Channel::Web,
        centre: Some(c.id.clone()),
        target: site.to_string(),
        started_at: at,
        outcome: if up { WebOutcome::Up } else { WebOutcome::Down },
        reason: None,
        http_status: up.then_some(200),
        timings_ms: WebTimings {
            dns: Some(1.0),
            connect: Some(2.0),
            tls: Some(5.0),
            ttfb: Some(80.0),
            total: 120.0,
        },
        tls_days_left: Some(60),
        redirects: Vec::new(),
        body_bytes: Some(20_000),
        warnings: Vec::new(),
        detail: None,
        browser: None,
        a11y: None,
        arabic: None,
        pages: Vec::new(),
    }
}

/// Stores `months` of results ending `now` for `registry`: `calls` in-hours calls per
/// number and month (each centre with its own quality), a daily check per site. Unqueued:
/// the periods are built whole after. Returns how many.
async fn fill(
    store: &Store,
    registry: &[Centre],
    months: u32,
    calls: usize,
    now: DateTime<Utc>,
    rng: &mut SplitMix64,
) -> Result<usize, BenchError> {
    let quality: Vec<usize> = registry.iter().map(|_| rng.below(100)).collect();
    let mut month = Period::month_of(now);
    for _ in 1..months {
        month = month.previous();
    }
    let mut results = 0;
    let mut batch: Vec<Row> = Vec::new();
    for m in 0..months {
        let start = month.start();
        let days = month.days().max(1) as usize;
        let last = if m + 1 == months {
            (now - start).num_days().max(1) as usize
        } else {
            days
        };
        for (i, c) in registry.iter().enumerate() {
            for number in &c.phones {
                for _ in 0..calls {
                    let at = start
                        + chrono::Duration::days(rng.below(last) as i64)
                        + chrono::Duration::seconds(rng.below(86_400) as i64);
                    let r = call_result(c, number, at, rng, quality[i]);
                    batch.push(Row {
                        channel: "phone",
                        centre: c.id.clone(),
                        target: r.target.clone(),
                        at,
                        outcome: r.outcome.as_str(),
                        data: serde_json::to_value(&r)
                            .map_err(|e| BenchError::Other(e.to_string()))?,
                    });
                }
            }
            for site in &c.websites {
                for d in 0..last {
                    let at = start + chrono::Duration::days(d as i64) + chrono::Duration::hours(3);
                    let w = web_result(c, site, at, rng);
                    batch.push(Row {
                        channel: "web",
                        centre: c.id.clone(),
                        target: site.clone(),
                        at,
                        outcome: w.outcome.as_str(),
                        data: serde_json::to_value(&w)
                            .map_err(|e| BenchError::Other(e.to_string()))?,
                    });
                }
            }
            if batch.len() >= 5000 {
                results += batch.len();
                flush(store, &mut batch).await?;
            }
        }
        month = Period::parse(&next_month_label(&month))
            .map_err(|e| BenchError::Other(e.to_string()))?;
    }
    results += batch.len();
    flush(store, &mut batch).await?;
    Ok(results)
}

/// Stores one new call of `c`'s first number at `at`, queued for a refresh as a sweep's are;
/// its id.
async fn new_call(
    store: &Store,
    c: &Centre,
    at: DateTime<Utc>,
    rng: &mut SplitMix64,
) -> Result<i64, BenchError> {
    let r = call_result(c, &c.phones[0], at, rng, 50);
    let data = serde_json::to_value(&r).map_err(|e| BenchError::Other(e.to_string()))?;
    Ok(store
        .insert_result(&NewResult {
            channel: "phone",
            centre_id: Some(&c.id),
            target: &r.target,
            started_at: r.started_at,
            outcome: r.outcome.as_str(),
            reason: None,
            sweep_id: None,
            data: &data,
            agent: None,
        })
        .await?)
}

/// Every stored verdict of `periods` as readers decode it (rank from its column), without
/// when it was computed: what a refresh and a rebuild must agree on.
async fn snapshot(
    store: &Store,
    periods: &[Period],
) -> Result<Vec<(String, String, serde_json::Value)>, BenchError> {
    let mut out = Vec::new();
    for p in periods {
        // As a reader sees them: ranked again first where a refresh moved a centre.
        store.rerank_if_stale(&p.label).await?;
        for row in store.verdicts_with_samples(&p.label).await? {
            let v = crate::verdict::decode(&row)?;
            let shown = serde_json::json!({
                "scores": v.scores,
                "samples": row.samples,
                "trend": v.trend,
            });
            out.push((row.period, row.centre, shown));
        }
    }
    Ok(out)
}

/// The first verdicts where the refreshed store and a rebuild of it differ, if any.
async fn refresh_against_rebuild(
    store: &Store,
    verdicts: &Verdicts<'_>,
    periods: &[Period],
) -> Result<Vec<String>, BenchError> {
    verdicts.catch_up().await?;
    let refreshed = snapshot(store, periods).await?;
    for p in periods {
        verdicts.rebuild(p).await?;
    }
    let rebuilt = snapshot(store, periods).await?;
    let mut differ: Vec<String> = Vec::new();
    if refreshed.len() != rebuilt.len() {
        differ.push(format!(
            "{} verdicts refreshed, {} rebuilt",
            refreshed.len(),
            rebuilt.len()
        ));
    }
    for (a, b) in refreshed.iter().zip(&rebuilt) {
        if a != b && differ.len() < 5 {
            differ.push(format!(
                "{} {}: refreshed {} rebuilt {}",
                a.0, a.1, a.2, b.2
            ));
        }
    }
    Ok(differ)
}

/// A result waiting in a batch for the store.
struct Row {
    channel: &'static str,
    centre: String,
    target: String,
    at: DateTime<Utc>,
    outcome: &'static str,
    data: serde_json::Value,
}

/// Stores `batch` in one transaction and empties it.
async fn flush(store: &Store, batch: &mut Vec<Row>) -> Result<(), StoreError> {
    let rows = std::mem::take(batch);
    let new: Vec<NewResult> = rows
        .iter()
        .map(|r| NewResult {
            channel: r.channel,
            centre_id: Some(&r.centre),
            target: &r.target,
            started_at: r.at,
            outcome: r.outcome,
            reason: None,
            sweep_id: None,
            data: &r.data,
            agent: None,
        })
        .collect();
    store.insert_results_unqueued(&new).await
}

/// One HTTP/1.1 GET on loopback; the time to the last byte.
async fn get(addr: std::net::SocketAddr, path: &str, header: &str) -> Result<Duration, BenchError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| BenchError::Other(e.to_string()))?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n{header}\r\n")
            .as_bytes(),
    )
    .await
    .map_err(|e| BenchError::Other(e.to_string()))?;
    let mut body = Vec::new();
    s.read_to_end(&mut body)
        .await
        .map_err(|e| BenchError::Other(e.to_string()))?;
    if !body.starts_with(b"HTTP/1.1 200") {
        return Err(BenchError::Other(format!(
            "GET {path}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )));
    }
    Ok(t.elapsed())
}

async fn timed<F, Fut>(n: usize, mut f: F) -> Result<(f64, f64), BenchError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Duration, BenchError>>,
{
    let mut xs = Vec::with_capacity(n);
    for _ in 0..n {
        xs.push(ms(f().await?));
    }
    Ok((percentile(xs.clone(), 0.5), percentile(xs, 0.99)))
}

/// Fills a fresh store (`url`, or SQLite in a temporary directory) with `months` months of
/// results for `n` centres, then measures.
pub async fn run(
    url: Option<&str>,
    n: usize,
    months: u32,
    calls_per_number: usize,
) -> Result<VerdictsBench, BenchError> {
    let dir = tempfile::tempdir().map_err(|e| BenchError::Other(e.to_string()))?;
    let store = Store::open(dir.path(), url).await?;
    let config = Config::default();
    let registry = centres(n);
    store.upsert_centres(&registry).await?;
    let mut rng = SplitMix64::new(7);
    let now = Utc::now();
    let t0 = Instant::now();
    let results = fill(&store, &registry, months, calls_per_number, now, &mut rng).await?;
    let load_s = t0.elapsed().as_secs_f64();
    store.analyze().await?;

    let verdicts = Verdicts::new(&store, &config);
    let t = Instant::now();
    let periods = verdicts.all_periods().await?;
    verdicts.rebuild_all(&periods, |_, _, _| {}).await?;
    let rebuild_all_s = t.elapsed().as_secs_f64();
    let this_month = Period::month_of(now);

    let (read_p50_ms, read_p99_ms) = timed(30, || async {
        let t = Instant::now();
        verdicts.read(&this_month).await?;
        Ok(t.elapsed())
    })
    .await?;
    let (report_p50_ms, report_p99_ms) = timed(30, || async {
        let t = Instant::now();
        crate::report::build(&store, &config, &this_month, None, Utc::now()).await?;
        Ok(t.elapsed())
    })
    .await?;

    // The real server on loopback: a viewer's token for the API, a session for the dashboard.
    store.add_user("bench", "viewer").await?;
    let token =
        crate::server::auth::new_secret("rq_").map_err(|e| BenchError::Other(e.to_string()))?;
    store.add_token("bench", &token).await?;
    let session =
        crate::server::auth::new_secret("s_").map_err(|e| BenchError::Other(e.to_string()))?;
    store
        .add_session("bench", &session, now + chrono::Duration::hours(1))
        .await?;
    // `raqib serve` as its own process on this store, as an operator runs it.
    let config_file = dir.path().join("bench.toml");
    std::fs::write(&config_file, "").map_err(|e| BenchError::Other(e.to_string()))?;
    let (serve, addr, metrics) = spawn_serve(&config_file, dir.path(), url).await?;
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let cookie = format!("Cookie: raqib_session={session}\r\n");
    let t = Instant::now();
    get(metrics, "/metrics", "").await?;
    let metrics_first_ms = ms(t.elapsed());
    let (api_scores_p50_ms, api_scores_p99_ms) =
        timed(100, || get(addr, "/api/scores?limit=500", &bearer)).await?;
    let (overview_p50_ms, overview_p99_ms) = timed(100, || get(addr, "/", &cookie)).await?;
    let (metrics_p50_ms, metrics_p99_ms) = timed(50, || get(metrics, "/metrics", "")).await?;
    // A day of views: a few hundred more pages and API reads.
    for _ in 0..100 {
        get(addr, "/", &cookie).await?;
        get(addr, "/api/scores?limit=500", &bearer).await?;
        get(addr, "/api/flags", &bearer).await?;
    }
    let serve_rss_mb = rss_mb_of(serve.id());

    // One new result, then the refresh its read triggers; a hundred of them (each a centre
    // of its own), so that the p99 is not simply the slowest.
    let mut refresh = Vec::new();
    for i in 0..100 {
        let c = &registry[(i * 37) % registry.len()];
        new_call(
            &store,
            c,
            now - chrono::Duration::minutes(i as i64 + 1),
            &mut rng,
        )
        .await?;
        let t = Instant::now();
        verdicts.catch_up().await?;
        refresh.push(ms(t.elapsed()));
    }
    // What the refreshes stored, against the same periods rebuilt whole.
    let touched = [Period::month_of(now), Period::quarter_of(now)];
    let refresh_differs = refresh_against_rebuild(&store, &verdicts, &touched).await?;
    let rss_mb = rss_mb_of(Some(std::process::id()));
    // The bench's own database goes with its directory (a PostgreSQL one outlives it).
    drop(serve);
    store.close().await;
    if let Some(url) = url {
        crate::store::drop_database_of(dir.path(), url).await?;
    }
    Ok(VerdictsBench {
        store: if store.is_postgres() {
            "postgres".into()
        } else {
            "sqlite".into()
        },
        centres: n,
        months,
        results,
        load_s,
        periods_rebuilt: periods.len(),
        rebuild_all_s,
        read_p50_ms,
        read_p99_ms,
        report_p50_ms,
        report_p99_ms,
        api_scores_p50_ms,
        api_scores_p99_ms,
        overview_p50_ms,
        overview_p99_ms,
        metrics_p50_ms,
        metrics_p99_ms,
        refresh_one_p50_ms: percentile(refresh.clone(), 0.5),
        refresh_one_p99_ms: percentile(refresh, 0.99),
        refresh_differs,
        metrics_first_ms,
        serve_rss_mb,
        rss_mb,
    })
}

/// Starts `raqib serve --listen … --metrics-listen …` on the bench's data directory and store
/// and reads the two addresses it prints.
async fn spawn_serve(
    config: &std::path::Path,
    data: &std::path::Path,
    url: Option<&str>,
) -> Result<
    (
        tokio::process::Child,
        std::net::SocketAddr,
        std::net::SocketAddr,
    ),
    BenchError,
> {
    use tokio::io::AsyncBufReadExt;
    let other = |e: std::io::Error| BenchError::Other(format!("raqib serve: {e}"));
    let exe = std::env::current_exe().map_err(other)?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("--config").arg(config).arg("--data-dir").arg(data);
    if let Some(u) = url {
        cmd.arg("--store").arg(u);
    }
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(other)?;
    let stderr = child.stderr.take().expect("piped");
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    let (mut api, mut metrics) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while api.is_none() || metrics.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = tokio::time::timeout(left, lines.next_line())
            .await
            .map_err(|_| BenchError::Other("raqib serve did not start within 60 s".into()))?
            .map_err(other)?
            .ok_or_else(|| BenchError::Other("raqib serve ended at start".into()))?;
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|a| a.split(['/', ' ']).next())
            .and_then(|a| a.parse().ok());
        if line.contains("dashboard and API") {
            api = addr;
        } else if line.contains("metrics on") {
            metrics = addr;
        }
    }
    // Keep reading its log so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((
        child,
        api.expect("read above"),
        metrics.expect("read above"),
    ))
}

fn next_month_label(p: &Period) -> String {
    let d = p.until;
    Utc.with_ymd_and_hms(d.year(), d.month(), 1, 0, 0, 0)
        .single()
        .map(|t| t.format("%Y-%m").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Results arriving one by one, each refreshed on its own (calls and site checks, in two
    /// months, with a label), leave the same verdicts as the periods rebuilt whole: ranks,
    /// inherited web scores, trends and all.
    #[tokio::test]
    async fn refreshing_result_by_result_equals_a_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        // The suite's PostgreSQL round sets RAQIB_STORE: the same test on that store.
        let url = std::env::var("RAQIB_STORE").ok();
        let store = Store::open(dir.path(), url.as_deref()).await.unwrap();
        let config = Config::default();
        // 24 centres in 11 agencies; every third has no site and inherits its agency's.
        let registry = centres(24);
        store.upsert_centres(&registry).await.unwrap();
        let mut rng = SplitMix64::new(3);
        let now = Utc::now();
        fill(&store, &registry, 2, 6, now, &mut rng).await.unwrap();
        let verdicts = Verdicts::new(&store, &config);
        let periods = verdicts.all_periods().await.unwrap();
        for p in &periods {
            verdicts.rebuild(p).await.unwrap();
        }
        let this_month = Period::month_of(now);
        let month_before = this_month.previous();
        for i in 0..30usize {
            let c = &registry[(i * 7) % registry.len()];
            // Alternately this month and the one before (whose change moves this month's trend).
            let at = if i % 2 == 0 {
                now - chrono::Duration::minutes(i as i64 + 1)
            } else {
                month_before.start() + chrono::Duration::hours(i as i64 + 1)
            };
            let id = new_call(&store, c, at, &mut rng).await.unwrap();
            if i == 4 {
                store
                    .add_label(
                        id,
                        &crate::store::NewLabel {
                            answer_type: "human",
                            time_to_person_secs: Some(9.0),
                            reason: "heard a person",
                            by: "test",
                        },
                    )
                    .await
                    .unwrap();
            }
            // A site of its own down: the agency's site-less centres inherit the change.
            if let (true, Some(site)) = (i % 5 == 0, c.websites.first()) {
                let w = web_result(c, site, at, &mut rng);
                let data = serde_json::to_value(&w).unwrap();
                store
                    .insert_result(&NewResult {
                        channel: "web",
                        centre_id: Some(&c.id),
                        target: site,
                        started_at: at,
                        outcome: "down",
                        reason: None,
                        sweep_id: None,
                        data: &data,
                        agent: None,
                    })
                    .await
                    .unwrap();
            }
            if i % 3 != 2 {
                verdicts.catch_up().await.unwrap();
            }
        }
        let differ = refresh_against_rebuild(&store, &verdicts, &periods)
            .await
            .unwrap();
        assert!(differ.is_empty(), "{differ:#?}");
    }

    /// What `reader` reads of `period` and what the store holds now, each as JSON.
    async fn read_and_held(
        reader: &Verdicts<'_>,
        store: &Store,
        period: &Period,
    ) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
        let shown =
            |v: &crate::verdict::Verdict| serde_json::json!([v.scores, v.trend, v.computed_at]);
        let read: Vec<_> = reader
            .read(period)
            .await
            .unwrap()
            .iter()
            .map(shown)
            .collect();
        let held = store
            .verdicts(&period.label)
            .await
            .unwrap()
            .iter()
            .map(|r| shown(&crate::verdict::decode(r).unwrap()))
            .collect();
        (read, held)
    }

    /// A period a reader keeps between reads is read again after each write that changes it,
    /// made through another handle on the same database as another process would: a centre
    /// refreshed after a new result, after a label, and the period rebuilt.
    #[tokio::test]
    async fn a_kept_period_is_read_again_after_each_write_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = std::env::var("RAQIB_STORE").ok();
        let store = Store::open(dir.path(), url.as_deref()).await.unwrap();
        let other = Store::open(dir.path(), url.as_deref()).await.unwrap();
        let config = Config::default();
        let registry = centres(12);
        store.upsert_centres(&registry).await.unwrap();
        let mut rng = SplitMix64::new(11);
        let now = Utc::now();
        fill(&store, &registry, 1, 4, now, &mut rng).await.unwrap();
        let month = Period::month_of(now);
        let (reader, writer) = (
            Verdicts::new(&store, &config),
            Verdicts::new(&other, &config),
        );
        let (first, held) = read_and_held(&reader, &store, &month).await;
        assert_eq!(first, held);
        // The same read again is the kept set, and still what is held.
        assert_eq!(read_and_held(&reader, &store, &month).await.0, first);

        let id = new_call(
            &other,
            &registry[3],
            now - chrono::Duration::minutes(1),
            &mut rng,
        )
        .await
        .unwrap();
        writer.catch_up().await.unwrap();
        let (after_call, held) = read_and_held(&reader, &store, &month).await;
        assert_eq!(after_call, held);
        assert_ne!(after_call, first, "the new call changed nothing read");

        other
            .add_label(
                id,
                &crate::store::NewLabel {
                    answer_type: "voicemail",
                    time_to_person_secs: None,
                    reason: "a machine",
                    by: "test",
                },
            )
            .await
            .unwrap();
        writer.catch_up().await.unwrap();
        let (after_label, held) = read_and_held(&reader, &store, &month).await;
        assert_eq!(after_label, held);
        assert_ne!(after_label, after_call, "the label changed nothing read");

        writer.rebuild(&month).await.unwrap();
        let (rebuilt, held) = read_and_held(&reader, &store, &month).await;
        assert_eq!(rebuilt, held);
        assert_ne!(
            rebuilt, after_label,
            "the rebuild's time is not what is read"
        );
    }

    /// A quarter scored from the months rebuilt before it (`verdicts refresh --all`) has the
    /// same verdicts as the quarter read whole, and so do the months.
    #[tokio::test]
    async fn rebuilding_all_from_months_equals_each_period_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let url = std::env::var("RAQIB_STORE").ok();
        let store = Store::open(dir.path(), url.as_deref()).await.unwrap();
        let config = Config::default();
        let registry = centres(12);
        store.upsert_centres(&registry).await.unwrap();
        let mut rng = SplitMix64::new(5);
        let now = Utc::now();
        // Five months: at least one quarter is made of three of them whatever today is.
        fill(&store, &registry, 5, 4, now, &mut rng).await.unwrap();
        let verdicts = Verdicts::new(&store, &config);
        let periods = verdicts.all_periods().await.unwrap();
        let quarters: Vec<&Period> = periods
            .iter()
            .filter(|p| p.kind == crate::score::period::Kind::Quarter)
            .collect();
        assert!(quarters.len() >= 2, "{periods:?}");
        // Each quarter after its months: the order that lets it be scored from them.
        let at = |p: &Period| periods.iter().position(|x| x == p).unwrap();
        for q in &quarters {
            for m in periods.iter().filter(|m| {
                m.kind == crate::score::period::Kind::Month
                    && q.from <= m.from
                    && m.until <= q.until
            }) {
                assert!(at(m) < at(q), "{} listed after {}", m.label, q.label);
            }
        }
        let mut told = Vec::new();
        verdicts
            .rebuild_all(&periods, |p, n, _| told.push((p.label.clone(), n)))
            .await
            .unwrap();
        assert_eq!(told.len(), periods.len());
        assert!(told.iter().all(|(_, n)| *n == registry.len()), "{told:?}");
        let from_months = snapshot(&store, &periods).await.unwrap();
        for p in &periods {
            verdicts.rebuild(p).await.unwrap();
        }
        let read_whole = snapshot(&store, &periods).await.unwrap();
        assert_eq!(from_months.len(), read_whole.len());
        for (a, b) in from_months.iter().zip(&read_whole) {
            assert_eq!(a, b);
        }
    }
}
