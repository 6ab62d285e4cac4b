//! A sweep: every target of the selected centres on one channel, with bounded concurrency,
//! each result stored the moment its probe ends.
//!
//! Probes run as their own tasks, so storing one result never delays the timing of another.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::{mpsc, Semaphore};

use crate::config::Config;
use crate::probe::web::{WebOutcome, WebProbe, WebResult, WebTarget};
use crate::probe::{Channel, ProbeError};
use crate::registry::Centre;
use crate::store::{NewResult, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error("no centre matches '{0}'")]
    NoCentres(String),
    #[error("the {0} channel cannot be swept yet: this build has no {0} probe")]
    Unsupported(Channel),
}

/// How progress is shown while a sweep runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStyle {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    /// Nothing (benchmarks, tests of the library).
    Quiet,
}

/// The totals of one centre in a sweep.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CentreTally {
    pub centre: String,
    pub checks: usize,
    pub up: usize,
    pub degraded: usize,
    pub down: usize,
    pub error: usize,
    /// Median `total` of the checks that got an answer, in ms.
    pub median_total_ms: Option<f64>,
    /// The first problem seen, for the summary's last column.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SweepSummary {
    pub sweep: i64,
    pub channel: Channel,
    pub status: String,
    pub elapsed_ms: f64,
    pub checks: usize,
    pub up: usize,
    pub degraded: usize,
    pub down: usize,
    pub error: usize,
    pub centres: Vec<CentreTally>,
}

/// Runs a web sweep over `centres` and returns its summary.
pub async fn run_web(
    config: &Config,
    store: &Store,
    centres: &[Centre],
    selection: &str,
    style: ProgressStyle,
) -> Result<SweepSummary, SweepError> {
    let probe = WebProbe::new(&config.web)?;
    let targets: Vec<WebTarget> = centres
        .iter()
        .flat_map(|c| WebTarget::of_centre(c, config.web.content_check))
        .collect();
    let started = Instant::now();
    let sweep = store
        .start_sweep(Channel::Web.as_str(), selection, targets.len() as i64)
        .await?;
    let progress = Progress::new(style, targets.len());

    let (tx, mut rx) = mpsc::channel::<WebResult>(64);
    let limit = Arc::new(Semaphore::new(config.web.concurrency));
    let launcher = tokio::spawn(async move {
        for target in targets {
            let Ok(permit) = limit.clone().acquire_owned().await else {
                break;
            };
            let probe = probe.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let result = probe.check_or_error(&target).await;
                drop(permit);
                let _ = tx.send(result).await;
            });
        }
    });

    let mut tallies: BTreeMap<String, (CentreTally, Vec<f64>)> = centres
        .iter()
        .filter(|c| !c.websites.is_empty())
        .map(|c| {
            (
                c.id.clone(),
                (
                    CentreTally {
                        centre: c.id.clone(),
                        ..Default::default()
                    },
                    Vec::new(),
                ),
            )
        })
        .collect();
    let mut interrupted = false;
    let mut stored = 0usize;
    loop {
        let result = tokio::select! {
            r = rx.recv() => match r { Some(r) => r, None => break },
            _ = tokio::signal::ctrl_c() => { interrupted = true; break; }
        };
        let data = serde_json::to_value(&result).unwrap_or_default();
        let written = store
            .insert_result(&NewResult {
                channel: Channel::Web.as_str(),
                centre_id: result.centre.as_deref(),
                target: &result.target,
                started_at: result.started_at,
                outcome: outcome_text(result.outcome),
                reason: data["reason"].as_str(),
                sweep_id: Some(sweep),
                data: &data,
            })
            .await;
        if let Err(e) = written {
            launcher.abort();
            let _ = store.finish_sweep(sweep, "failed").await;
            return Err(e.into());
        }
        stored += 1;
        progress.result(&result);
        let key = result.centre.clone().unwrap_or_default();
        let (tally, totals) = tallies.entry(key.clone()).or_insert_with(|| {
            (
                CentreTally {
                    centre: key,
                    ..Default::default()
                },
                Vec::new(),
            )
        });
        tally.checks += 1;
        match result.outcome {
            WebOutcome::Up => tally.up += 1,
            WebOutcome::Degraded => tally.degraded += 1,
            WebOutcome::Down => tally.down += 1,
            WebOutcome::Error => tally.error += 1,
        }
        if result.http_status.is_some() {
            totals.push(result.timings_ms.total);
        }
        if tally.problem.is_none() && result.outcome != WebOutcome::Up {
            tally.problem = result.detail.clone();
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
        .map(|(mut t, mut totals)| {
            t.median_total_ms = median(&mut totals);
            t
        })
        .collect();
    let sum = |f: fn(&CentreTally) -> usize| centres.iter().map(f).sum();
    Ok(SweepSummary {
        sweep,
        channel: Channel::Web,
        status: status.into(),
        elapsed_ms: crate::probe::ms(started.elapsed()),
        checks: stored,
        up: sum(|t| t.up),
        degraded: sum(|t| t.degraded),
        down: sum(|t| t.down),
        error: sum(|t| t.error),
        centres,
    })
}

fn outcome_text(o: WebOutcome) -> &'static str {
    match o {
        WebOutcome::Up => "up",
        WebOutcome::Degraded => "degraded",
        WebOutcome::Down => "down",
        WebOutcome::Error => "error",
    }
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

    fn result(&self, r: &WebResult) {
        let n = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let line = format!(
            "{} {} {}{} {:.0} ms",
            r.centre.as_deref().unwrap_or("-"),
            r.target,
            outcome_text(r.outcome),
            r.reason
                .map(|x| format!(
                    " ({})",
                    serde_json::to_value(x)
                        .unwrap_or_default()
                        .as_str()
                        .unwrap_or("")
                ))
                .unwrap_or_default(),
            r.timings_ms.total
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
