//! A sweep: every target of the selected centres on one channel, with bounded concurrency,
//! each result stored the moment its probe ends.
//!
//! Probes run as their own tasks, so storing one result never delays the timing of another.
//! Phone targets pass the dialling guard first; a refused number is stored as `refused` and
//! never dialled.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::IsTerminal;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{mpsc, Semaphore};

use crate::config::Config;
use crate::probe::call::CallResult;
use crate::probe::web::audit::AuditError;
use crate::probe::web::{WebOutcome, WebResult};
use crate::probe::{Channel, ProbeError};
use crate::registry::Centre;
use crate::schedule::kit::Kit;
use crate::store::{NewResult, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error("no centre matches '{0}'")]
    NoCentres(String),
    #[error("call.after_answer: {0}")]
    Script(#[source] crate::probe::call::ivr::IvrError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error("{0}")]
    Alerts(String),
}

/// How progress is shown while a sweep runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStyle {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    /// Nothing (benchmarks, tests of the library).
    Quiet,
}

/// One finished probe, whatever the channel, as the sweep stores and counts it.
pub struct Done {
    pub data: serde_json::Value,
    pub channel: Channel,
    pub centre: Option<String>,
    pub target: String,
    pub started_at: DateTime<Utc>,
    pub outcome: &'static str,
    pub reason: Option<String>,
    /// The duration the summary's median is taken of (web: total; phone: answer).
    pub metric_ms: Option<f64>,
    pub detail: Option<String>,
    /// Whether this outcome is fine (no problem to show in the summary).
    pub fine: bool,
    /// The site's automated accessibility score (web, with the browser audit).
    pub a11y: Option<f64>,
}

impl Done {
    /// The result as the store takes it.
    pub fn stored(&self, sweep: Option<i64>) -> NewResult<'_> {
        NewResult {
            channel: self.channel.as_str(),
            centre_id: self.centre.as_deref(),
            target: &self.target,
            started_at: self.started_at,
            outcome: self.outcome,
            reason: self.reason.as_deref(),
            sweep_id: sweep,
            data: &self.data,
            agent: None,
        }
    }

    pub fn web(r: &WebResult) -> Done {
        let data = serde_json::to_value(r).unwrap_or_default();
        Done {
            outcome: r.outcome.as_str(),
            reason: r.reason.as_ref().map(crate::probe::code_of),
            data,
            channel: Channel::Web,
            centre: r.centre.clone(),
            target: r.target.clone(),
            started_at: r.started_at,
            metric_ms: r.http_status.map(|_| r.timings_ms.total),
            detail: r.detail.clone(),
            fine: r.outcome == WebOutcome::Up,
            a11y: r.a11y.as_ref().map(|a| a.score),
        }
    }

    pub fn call(r: &CallResult) -> Done {
        let data = serde_json::to_value(r).unwrap_or_default();
        Done {
            outcome: r.outcome.as_str(),
            reason: None,
            data,
            channel: Channel::Phone,
            centre: r.centre.clone(),
            target: r.target.clone(),
            started_at: r.started_at,
            metric_ms: r.timings_ms.answer,
            detail: r.detail.clone(),
            fine: r.outcome == crate::probe::call::CallOutcome::Answered,
            a11y: None,
        }
    }
}

/// The totals of one centre in a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct CentreTally {
    pub centre: String,
    pub checks: usize,
    /// Count per outcome (every outcome of the channel, zeros included).
    #[serde(flatten)]
    pub outcomes: BTreeMap<String, usize>,
    /// Median of the channel's key duration (web: total, phone: answer), in ms.
    pub median_ms: Option<f64>,
    /// The first problem seen, for the summary's last column.
    pub problem: Option<String>,
    /// Mean automated accessibility score of the centre's sites (web sweeps with the
    /// browser audit).
    pub a11y: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SweepSummary {
    pub sweep: i64,
    pub channel: Channel,
    pub status: String,
    pub elapsed_ms: f64,
    pub checks: usize,
    #[serde(flatten)]
    pub outcomes: BTreeMap<String, usize>,
    pub centres: Vec<CentreTally>,
}

type Job = Pin<Box<dyn Future<Output = Done> + Send>>;

fn zeros(channel: Channel) -> BTreeMap<String, usize> {
    channel
        .outcomes()
        .iter()
        .map(|o| (o.to_string(), 0))
        .collect()
}

/// Runs `jobs` with at most `concurrency` in flight, storing each result as it ends.
async fn run(
    store: &Store,
    channel: Channel,
    selection: &str,
    centres: &[Centre],
    jobs: Vec<Job>,
    concurrency: usize,
    style: ProgressStyle,
) -> Result<SweepSummary, SweepError> {
    let started = Instant::now();
    let sweep = store
        .start_sweep(channel.as_str(), selection, jobs.len() as i64)
        .await?;
    let progress = Progress::new(style, jobs.len());
    let (tx, mut rx) = mpsc::channel::<Done>(64);
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let launcher = tokio::spawn(async move {
        for job in jobs {
            let Ok(permit) = limit.clone().acquire_owned().await else {
                break;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let done = job.await;
                drop(permit);
                let _ = tx.send(done).await;
            });
        }
    });

    let mut tallies: BTreeMap<String, (CentreTally, Vec<f64>)> = BTreeMap::new();
    let mut a11y: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for c in centres {
        if Kit::has_targets(channel, c) {
            tallies.insert(c.id.clone(), (tally(&c.id, channel), Vec::new()));
        }
    }
    let mut interrupted = false;
    let mut stored = 0usize;
    loop {
        let done = tokio::select! {
            r = rx.recv() => match r { Some(r) => r, None => break },
            _ = tokio::signal::ctrl_c() => { interrupted = true; break; }
        };
        let written = store.insert_result(&done.stored(Some(sweep))).await;
        if let Err(e) = written {
            launcher.abort();
            let _ = store.finish_sweep(sweep, "failed").await;
            return Err(e.into());
        }
        stored += 1;
        progress.result(&done);
        let key = done.centre.clone().unwrap_or_default();
        let (t, metrics) = tallies
            .entry(key.clone())
            .or_insert_with(|| (tally(&key, channel), Vec::new()));
        t.checks += 1;
        *t.outcomes.entry(done.outcome.to_string()).or_default() += 1;
        if let Some(m) = done.metric_ms {
            metrics.push(m);
        }
        if let Some(score) = done.a11y {
            a11y.entry(key.clone()).or_default().push(score);
        }
        if t.problem.is_none() && !done.fine {
            t.problem = done.detail.clone().or(Some(done.outcome.to_string()));
        }
    }
    launcher.abort();
    progress.finish();
    let status = if interrupted {
        "interrupted"
    } else {
        "finished"
    };
    store.finish_sweep(sweep, status).await?;

    let centres: Vec<CentreTally> = tallies
        .into_values()
        .map(|(mut t, mut m)| {
            t.median_ms = median(&mut m);
            t.a11y = a11y
                .get(&t.centre)
                .map(|s| crate::probe::web::a11y::round1(s.iter().sum::<f64>() / s.len() as f64));
            t
        })
        .collect();
    let mut outcomes = zeros(channel);
    for t in &centres {
        for (k, v) in &t.outcomes {
            *outcomes.entry(k.clone()).or_default() += v;
        }
    }
    Ok(SweepSummary {
        sweep,
        channel,
        status: status.into(),
        elapsed_ms: crate::probe::ms(started.elapsed()),
        checks: stored,
        outcomes,
        centres,
    })
}

fn tally(centre: &str, channel: Channel) -> CentreTally {
    CentreTally {
        centre: centre.to_string(),
        checks: 0,
        outcomes: zeros(channel),
        median_ms: None,
        problem: None,
        a11y: None,
    }
}

/// Runs a sweep of `centres` on `channel`: every target of every centre through the channel's
/// kit. An empty selection is refused, naming `selection`.
pub async fn run_channel(
    config: &Config,
    store: &Store,
    channel: Channel,
    centres: &[Centre],
    selection: &str,
    style: ProgressStyle,
) -> Result<SweepSummary, SweepError> {
    if centres.is_empty() {
        return Err(SweepError::NoCentres(selection.to_string()));
    }
    let kit = Kit::new(channel, config, store).await?;
    let jobs: Vec<Job> = centres
        .iter()
        .flat_map(|c| kit.targets(c).into_iter().map(move |t| (c, t)))
        .map(|(centre, target)| {
            let (kit, centre) = (kit.clone(), centre.clone());
            Box::pin(async move { kit.run(&centre, &target).await }) as Job
        })
        .collect();
    let summary = run(
        store,
        channel,
        selection,
        centres,
        jobs,
        Kit::concurrency(channel, config),
        style,
    )
    .await;
    kit.shutdown().await;
    summary
}

/// Runs a web sweep over `centres` and returns its summary.
pub async fn run_web(
    config: &Config,
    store: &Store,
    centres: &[Centre],
    selection: &str,
    style: ProgressStyle,
) -> Result<SweepSummary, SweepError> {
    run_channel(config, store, Channel::Web, centres, selection, style).await
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        ((v[m - 1] + v[m]) / 2.0 * 1000.0).round() / 1000.0
    })
}

/// A bar on a terminal, one plain line per result when piped; both on stderr.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
}

impl Progress {
    fn new(style: ProgressStyle, total: usize) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (style == ProgressStyle::Auto && terminal).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            plain: style == ProgressStyle::Auto && !terminal,
            total,
            done: Default::default(),
        }
    }

    fn result(&self, d: &Done) {
        let n = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let line = format!(
            "{} {} {}{}{}",
            d.centre.as_deref().unwrap_or("-"),
            d.target,
            d.outcome,
            d.reason
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default(),
            d.metric_ms
                .map(|m| format!(" {m:.0} ms"))
                .unwrap_or_default()
        );
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(line);
        } else if self.plain {
            eprintln!("[{n}/{}] {line}", self.total);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
