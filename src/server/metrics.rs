//! Prometheus `/metrics` for `raqib serve --metrics-listen ADDR`: probes by channel and
//! outcome, probe durations, call answer times, this month's score per centre and channel,
//! sweep progress and alert deliveries, in the text exposition format 0.0.4.
//!
//! Every figure is read from the store, not counted in this process: probes made by
//! `raqib sweep` or `raqib probe` in other processes count, and a restart does not reset a
//! counter (it re-reads the store once). To stay cheap, a scrape reads only the results stored
//! since the previous one (by id, in pages); the score gauges, which need a period's scoring,
//! are recomputed at most once a minute.
//!
//! Besides, as Prometheus' exporters have them: `raqib_build_info`, the `process_*` metrics of
//! this process, evidence on disk per kind, and per target (as blackbox_exporter's `probe_*`)
//! whether its last probe succeeded, its last answer time and its certificate's expiry.
//!
//! Without `[server] metrics_token_env` this port has no authentication, unlike the API: it is
//! meant for a private scrape network, so listen on an address only Prometheus can reach.
//! With it, a scrape must bring `Authorization: Bearer TOKEN` (Prometheus' `authorization`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use tokio::sync::Mutex;

use super::ServerError;
use crate::config::Config;
use crate::probe::Channel;
use crate::score::period::Period;
use crate::store::retention::{self, EvidenceKind};
use crate::store::ResultTiming;
use crate::store::Store;

/// Probes run from a fraction of a second (an HTTP check) to minutes (an unanswered call).
const DURATION_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0];
/// Seconds from dialling to answer.
const ANSWER_BUCKETS: &[f64] = &[1.0, 2.0, 3.0, 5.0, 8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0];
/// Results read per query while catching up.
const PAGE: i64 = 5000;
/// How far the counting cursor trails the greatest result id seen: more than the writes any
/// number of agents can have in flight at once.
const TRAIL: i64 = 500;
/// How long a month's scores are reused before they are computed again.
const SCORES_TTL: Duration = Duration::from_secs(60);
/// How long the evidence directory's sizes are reused: walking it reads every file's size.
const EVIDENCE_TTL: Duration = Duration::from_secs(300);

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Observations in fixed buckets; rendered cumulative as Prometheus wants them.
#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    /// Per bucket, not cumulative; one more than `bounds` for +Inf.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    fn observe(&mut self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += v;
    }

    fn count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// (centre, channel, score) of the current month.
type Scores = Vec<(String, &'static str, f64)>;

/// What has been read from the store so far.
struct Tally {
    /// Every result id up to this one is counted (or never committed).
    cursor: i64,
    /// Ids above `cursor` counted already.
    seen: std::collections::BTreeSet<i64>,
    probes: BTreeMap<(String, String), u64>,
    durations: BTreeMap<String, Histogram>,
    answer: Histogram,
    /// (centre, channel, score) and when they were computed.
    scores: Option<(Instant, Scores)>,
    /// The latest probe of each (centre, channel, target).
    last: BTreeMap<(String, String, String), Last>,
    evidence: Option<(Instant, BTreeMap<EvidenceKind, retention::Tally>)>,
}

/// What a target's latest probe found.
#[derive(Debug, Clone)]
struct Last {
    started_at: String,
    success: bool,
    answer_secs: Option<f64>,
    /// Unix seconds, from the days left when it was checked.
    cert_expiry: Option<f64>,
}

struct Exporter {
    config: Config,
    store: Store,
    /// The bearer token a scrape must bring, when `[server] metrics_token_env` names one.
    token: Option<String>,
    tally: Mutex<Tally>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            cursor: 0,
            seen: Default::default(),
            probes: BTreeMap::new(),
            durations: BTreeMap::new(),
            answer: Histogram::new(ANSWER_BUCKETS),
            scores: None,
            last: BTreeMap::new(),
            evidence: None,
        }
    }
}

/// The bearer token `[server] metrics_token_env` names, read from the environment; an error
/// when it names a variable that is unset or empty.
pub fn token(config: &Config) -> Result<Option<String>, ServerError> {
    match &config.server.metrics_token_env {
        None => Ok(None),
        Some(var) => match std::env::var(var) {
            Ok(t) if !t.is_empty() => Ok(Some(t)),
            _ => Err(ServerError::MetricsToken(var.clone())),
        },
    }
}

/// Binds `addr` and serves `/metrics` in the background; returns the bound address.
pub async fn start(
    addr: SocketAddr,
    config: Config,
    store: Store,
) -> Result<SocketAddr, ServerError> {
    let limits = config.server.clone();
    let token = token(&config)?;
    let exporter = Arc::new(Exporter {
        config,
        store,
        token,
        tally: Mutex::new(Tally::default()),
    });
    // Count what the store holds now, before the first scrape asks: after a restart that
    // reads every result once, which would otherwise time the first scrape out.
    {
        let exporter = exporter.clone();
        tokio::spawn(async move {
            let mut tally = exporter.tally.lock().await;
            let _ = exporter.catch_up(&mut tally).await;
        });
    }
    super::listen(addr, &limits, exporter, |exporter, req| async move {
        handle(&exporter, req).await
    })
    .await
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", CONTENT_TYPE)
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

async fn handle(exporter: &Exporter, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.uri().path() != "/metrics" {
        return text(StatusCode::NOT_FOUND, "only /metrics here\n".into());
    }
    if let Some(token) = &exporter.token {
        let given = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !super::auth::same_secret(given.as_bytes(), token.as_bytes()) {
            let mut r = text(
                StatusCode::UNAUTHORIZED,
                "a bearer token is needed\n".into(),
            );
            r.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static("Bearer realm=\"raqib metrics\""),
            );
            return r;
        }
    }
    if req.method() != hyper::Method::GET {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n".into());
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET"),
        );
        return r;
    }
    match exporter.render().await {
        Ok(body) => text(StatusCode::OK, body),
        // Prometheus then marks the scrape failed (`up` 0) instead of keeping stale figures.
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

impl Exporter {
    async fn render(&self) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        let mut tally = self.tally.lock().await;
        self.catch_up(&mut tally).await?;
        let fresh = matches!(&tally.scores, Some((at, _)) if at.elapsed() < SCORES_TTL);
        if !fresh {
            tally.scores = Some((Instant::now(), self.scores().await?));
        }
        let sweeps = self.store.running_sweeps().await?;
        let deliveries = self.store.delivery_counts().await?;
        let evidence_fresh =
            matches!(&tally.evidence, Some((at, _)) if at.elapsed() < EVIDENCE_TTL);
        if !evidence_fresh {
            let store = self.store.clone();
            let sizes = tokio::task::spawn_blocking(move || store.evidence_on_disk()).await?;
            tally.evidence = Some((Instant::now(), sizes));
        }

        let mut out = String::new();
        header(
            &mut out,
            "raqib_build_info",
            "gauge",
            "Always 1: the version of raqib and of the axe-core built into it.",
        );
        sample(
            &mut out,
            "raqib_build_info",
            &[
                ("version", env!("CARGO_PKG_VERSION")),
                ("axe_core", crate::probe::web::audit::AXE_VERSION),
            ],
            1.0,
        );
        process_metrics(&mut out);
        if let Some((_, sizes)) = &tally.evidence {
            for (name, help) in [
                (
                    "raqib_evidence_bytes",
                    "Bytes of evidence files on disk, by kind; [retention] bounds them.",
                ),
                ("raqib_evidence_files", "Evidence files on disk, by kind."),
            ] {
                header(&mut out, name, "gauge", help);
                for (kind, t) in sizes {
                    let n = if name == "raqib_evidence_bytes" {
                        t.bytes
                    } else {
                        t.files
                    };
                    sample(&mut out, name, &[("kind", kind.as_str())], n as f64);
                }
            }
        }
        targets(&mut out, &tally.last);
        header(
            &mut out,
            "raqib_probes_total",
            "counter",
            "Probe results stored, by channel and outcome.",
        );
        for ((channel, outcome), n) in &tally.probes {
            sample(
                &mut out,
                "raqib_probes_total",
                &[("channel", channel), ("outcome", outcome)],
                *n as f64,
            );
        }
        header(
            &mut out,
            "raqib_probe_duration_seconds",
            "histogram",
            "How long each probe took (a call from the first INVITE to its end; a web check to the end of the body).",
        );
        for (channel, h) in &tally.durations {
            histogram(
                &mut out,
                "raqib_probe_duration_seconds",
                &[("channel", channel)],
                h,
            );
        }
        header(
            &mut out,
            "raqib_call_answer_seconds",
            "histogram",
            "Seconds from the first INVITE to the answer, of answered calls.",
        );
        histogram(&mut out, "raqib_call_answer_seconds", &[], &tally.answer);
        header(
            &mut out,
            "raqib_score",
            "gauge",
            "This month's score (0-100) per centre and channel; recomputed at most once a minute.",
        );
        if let Some((_, scores)) = &tally.scores {
            for (centre, channel, score) in scores {
                sample(
                    &mut out,
                    "raqib_score",
                    &[("centre", centre), ("channel", channel)],
                    *score,
                );
            }
        }
        header(
            &mut out,
            "raqib_score_threshold",
            "gauge",
            "A phone score at or below this flags the centre.",
        );
        sample(
            &mut out,
            "raqib_score_threshold",
            &[],
            self.config.scoring.threshold,
        );
        let running: Vec<_> = sweeps
            .iter()
            .filter(|s| s.live_status() == "running")
            .collect();
        header(
            &mut out,
            "raqib_sweeps_running",
            "gauge",
            "Sweeps running now (abandoned ones not counted).",
        );
        sample(&mut out, "raqib_sweeps_running", &[], running.len() as f64);
        let progress = [
            ("raqib_sweep_jobs", "Probes planned by each running sweep."),
            (
                "raqib_sweep_jobs_done",
                "Probes done so far by each running sweep.",
            ),
        ];
        for (name, help) in progress {
            header(&mut out, name, "gauge", help);
            for s in &running {
                let id = s.id.to_string();
                let labels = [
                    ("sweep", id.as_str()),
                    ("channel", s.channel.as_str()),
                    ("schedule", s.schedule.as_deref().unwrap_or("")),
                ];
                let n = if name == "raqib_sweep_jobs" {
                    s.total
                } else {
                    s.done
                };
                sample(&mut out, name, &labels, n as f64);
            }
        }
        header(
            &mut out,
            "raqib_alert_deliveries",
            "gauge",
            "Alert deliveries by status (pending, sent, failed).",
        );
        let mut by_status: BTreeMap<String, i64> = ["failed", "pending", "sent"]
            .into_iter()
            .map(|s| (s.to_string(), 0))
            .collect();
        by_status.extend(deliveries);
        for (status, n) in &by_status {
            sample(
                &mut out,
                "raqib_alert_deliveries",
                &[("status", status)],
                *n as f64,
            );
        }
        Ok(out)
    }

    /// Counts the results stored since the last scrape, a page at a time, each once.
    ///
    /// Ids are not visible in order when several agents write (PostgreSQL hands out an id
    /// before its transaction commits): the cursor trails the greatest id seen by `TRAIL` ids,
    /// and the ids counted above it are remembered, so a result that commits late is counted
    /// when it appears and none twice.
    async fn catch_up(&self, tally: &mut Tally) -> Result<(), crate::store::StoreError> {
        let mut from = tally.cursor;
        loop {
            let page = self.store.result_timings(from, PAGE).await?;
            for r in &page {
                if tally.seen.insert(r.id) {
                    count(tally, r);
                }
                from = r.id;
            }
            if (page.len() as i64) < PAGE {
                break;
            }
        }
        if let Some(&max) = tally.seen.last() {
            let mark = max - TRAIL;
            if mark > tally.cursor {
                tally.cursor = mark;
                tally.seen = tally.seen.split_off(&(mark + 1));
            }
        }
        Ok(())
    }

    async fn scores(&self) -> Result<Scores, crate::verdict::VerdictError> {
        let period = Period::month_of(chrono::Utc::now());
        let all = crate::verdict::Verdicts::new(&self.store, &self.config)
            .scores(&period)
            .await?;
        let mut out = Vec::new();
        for c in all {
            if let Some(s) = &c.phone.score {
                out.push((c.centre.clone(), Channel::Phone.as_str(), s.value));
            }
            if let Some(s) = &c.web.score {
                out.push((c.centre.clone(), Channel::Web.as_str(), s.value));
            }
        }
        Ok(out)
    }
}

/// Adds one stored result to the tally.
fn count(tally: &mut Tally, r: &ResultTiming) {
    *tally
        .probes
        .entry((r.channel.clone(), r.outcome.clone()))
        .or_insert(0) += 1;
    let phone = r.channel == Channel::Phone.as_str();
    let answer = if phone { r.answer_ms } else { None };
    if let Some(ms) = r.total_ms {
        tally
            .durations
            .entry(r.channel.clone())
            .or_insert_with(|| Histogram::new(DURATION_BUCKETS))
            .observe(ms / 1000.0);
    }
    if phone && r.outcome == "answered" {
        if let Some(ms) = answer {
            tally.answer.observe(ms / 1000.0);
        }
    }
    let key = (
        r.centre_id.clone().unwrap_or_default(),
        r.channel.clone(),
        r.target.clone(),
    );
    if tally
        .last
        .get(&key)
        .is_some_and(|l| l.started_at > r.started_at)
    {
        return;
    }
    let checked = chrono::DateTime::parse_from_rfc3339(&r.started_at)
        .map(|t| t.timestamp() as f64)
        .ok();
    tally.last.insert(
        key,
        Last {
            started_at: r.started_at.clone(),
            success: matches!(r.outcome.as_str(), "answered" | "up" | "degraded"),
            answer_secs: answer
                .filter(|_| r.outcome == "answered")
                .map(|ms| ms / 1000.0),
            cert_expiry: r
                .tls_days_left
                .zip(checked)
                .map(|(days, at)| at + days * 86_400.0),
        },
    );
}

/// Per target, as blackbox_exporter's `probe_*` gauges.
fn targets(out: &mut String, last: &BTreeMap<(String, String, String), Last>) {
    type Of = fn(&Last) -> Option<f64>;
    let families: [(&str, &str, Of); 4] = [
        (
            "raqib_probe_success",
            "Whether the latest probe of the target succeeded (a call answered; a site up or degraded).",
            |l| Some(if l.success { 1.0 } else { 0.0 }),
        ),
        (
            "raqib_probe_answer_seconds",
            "Seconds to answer of the target's latest call, when it was answered.",
            |l| l.answer_secs,
        ),
        (
            "raqib_probe_ssl_earliest_cert_expiry",
            "Unix time the site's certificate expires, as its latest check saw it (to the day).",
            |l| l.cert_expiry,
        ),
        (
            "raqib_probe_last_run_timestamp_seconds",
            "Unix time the target's latest probe started.",
            |l| {
                chrono::DateTime::parse_from_rfc3339(&l.started_at)
                    .ok()
                    .map(|t| t.timestamp_millis() as f64 / 1e3)
            },
        ),
    ];
    for (name, help, value_of) in families {
        header(out, name, "gauge", help);
        for ((centre, channel, target), l) in last {
            if let Some(v) = value_of(l) {
                let labels = [
                    ("centre", centre.as_str()),
                    ("channel", channel.as_str()),
                    ("target", target.as_str()),
                ];
                sample(out, name, &labels, v);
            }
        }
    }
}

/// The `process_*` metrics Prometheus' client libraries export, from /proc (Linux).
fn process_metrics(out: &mut String) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as f64;
    let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse::<f64>().ok())
    });
    let open_fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as f64)
        .ok();
    let max_fds = {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `l` is a valid rlimit to write to.
        (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) } == 0).then_some(l.rlim_cur as f64)
    };
    let figures = [
        (
            "process_cpu_seconds_total",
            "counter",
            "User and system CPU time spent in seconds.",
            field(14).zip(field(15)).map(|(u, s)| (u + s) / ticks),
        ),
        (
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            field(24).map(|p| p * page),
        ),
        (
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            field(23),
        ),
        (
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            field(22).zip(boot).map(|(t, b)| b + t / ticks),
        ),
        (
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            open_fds,
        ),
        (
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
            max_fds,
        ),
    ];
    for (name, kind, help, value) in figures {
        if let Some(v) = value {
            header(out, name, kind, help);
            sample(out, name, &[], v);
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", number(value));
}

/// `_bucket` lines (cumulative, `+Inf` last and equal to `_count`), then `_sum` and `_count`.
fn histogram(out: &mut String, name: &str, labels: &[(&str, &str)], h: &Histogram) {
    let bucket = format!("{name}_bucket");
    let mut cumulative = 0;
    for (i, n) in h.counts.iter().enumerate() {
        cumulative += n;
        let le = h.bounds.get(i).map_or("+Inf".to_string(), |b| number(*b));
        let mut with_le = labels.to_vec();
        with_le.push(("le", &le));
        sample(out, &bucket, &with_le, cumulative as f64);
    }
    sample(out, &format!("{name}_sum"), labels, h.sum);
    sample(out, &format!("{name}_count"), labels, h.count() as f64);
}

/// A value as the exposition format writes it (Go's float syntax for the infinities).
fn number(v: f64) -> String {
    match v {
        f64::INFINITY => "+Inf".into(),
        f64::NEG_INFINITY => "-Inf".into(),
        v if v.is_nan() => "NaN".into(),
        v => v.to_string(),
    }
}

/// A label value: backslash, double quote and line feed escaped.
fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A HELP text: backslash and line feed escaped (quotes are fine there).
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_and_newline() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("two\nlines"), "two\\nlines");
        assert_eq!(escape_label("مركز عمّان"), "مركز عمّان");
        let mut out = String::new();
        sample(
            &mut out,
            "raqib_score",
            &[("centre", "x\"y\\z\n"), ("channel", "phone")],
            61.5,
        );
        assert_eq!(
            out,
            "raqib_score{centre=\"x\\\"y\\\\z\\n\",channel=\"phone\"} 61.5\n"
        );
        assert_eq!(escape_help("a\\b\nc \"q\""), "a\\\\b\\nc \"q\"");
    }

    #[test]
    fn numbers_use_the_formats_spelling() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(f64::NAN), "NaN");
    }

    #[test]
    fn a_histogram_renders_cumulative_buckets_sum_and_count() {
        const B: &[f64] = &[1.0, 2.5, 5.0];
        let mut h = Histogram::new(B);
        // On a bound counts in that bucket (le is "less or equal").
        for v in [0.5, 1.0, 2.0, 4.0, 7.0, 9.0] {
            h.observe(v);
        }
        let mut out = String::new();
        histogram(&mut out, "x_seconds", &[("channel", "phone")], &h);
        assert_eq!(
            out,
            "x_seconds_bucket{channel=\"phone\",le=\"1\"} 2\n\
             x_seconds_bucket{channel=\"phone\",le=\"2.5\"} 3\n\
             x_seconds_bucket{channel=\"phone\",le=\"5\"} 4\n\
             x_seconds_bucket{channel=\"phone\",le=\"+Inf\"} 6\n\
             x_seconds_sum{channel=\"phone\"} 23.5\n\
             x_seconds_count{channel=\"phone\"} 6\n"
        );
        let mut empty = String::new();
        histogram(&mut empty, "y", &[], &Histogram::new(B));
        assert!(empty.starts_with("y_bucket{le=\"1\"} 0\n"), "{empty}");
        assert!(empty.ends_with("y_bucket{le=\"+Inf\"} 0\ny_sum 0\ny_count 0\n"));
    }

    #[test]
    fn a_result_counts_once_with_its_timings() {
        let mut tally = Tally::default();
        let result = |id, channel: &str, outcome: &str, total, answer| ResultTiming {
            id,
            channel: channel.into(),
            outcome: outcome.into(),
            total_ms: total,
            answer_ms: answer,
            centre_id: Some("c".into()),
            target: format!("t{id}"),
            started_at: format!("2026-12-0{id}T10:00:00.000Z"),
            tls_days_left: None,
        };
        count(
            &mut tally,
            &result(1, "phone", "answered", Some(9000.0), Some(3200.0)),
        );
        count(&mut tally, &result(2, "phone", "busy", Some(120.0), None));
        count(&mut tally, &result(3, "web", "up", None, None));
        assert_eq!(tally.probes[&("phone".into(), "answered".into())], 1);
        assert_eq!(tally.probes[&("web".into(), "up".into())], 1);
        assert_eq!(tally.answer.count(), 1);
        assert_eq!(tally.answer.sum, 3.2);
        assert_eq!(tally.durations["phone"].count(), 2);
        assert!(!tally.durations.contains_key("web"));
    }
}
