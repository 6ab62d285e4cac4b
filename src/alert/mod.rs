//! Alerts to agency leadership: rules over flags and follow-up cases decide what is worth
//! saying (once per centre × channel × period, again only if the score worsens or the class
//! changes), each contact gets a delivery row, and deliveries are tried with back-off until
//! sent or recorded as failed. Alerts read flags and cases, never raw probe results, except
//! to name a flag's worst calls as evidence. A contact is reached through one notifier kind
//! (email, webhook): each is a file implementing `notifier::NotifierKind`, listed by `kinds!`.

pub mod message;
pub mod notifier;

/// Declares each notifier kind's module (`src/alert/<module>.rs`) and lists its type in
/// `KINDS`: adding a kind is its file and one line here.
macro_rules! kinds {
    ($($module:ident::$kind:ident),+ $(,)?) => {
        $(pub mod $module;)+
        /// Every notifier kind, in the order their keys and help lines are listed.
        pub static KINDS: &[&dyn NotifierKind] = &[$(&$module::$kind),+];
    };
}

kinds! {
    email::Email,
    webhook::Webhook,
}

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::{Config, ContactConfig};
use crate::probe::Channel;
use crate::registry::Centre;
use crate::score::cases::{self, CaseStatus};
use crate::score::load::LoadError;
use crate::score::period::Period;
use crate::score::{CentreScores, FlagClass};
use crate::store::alerts::NewAlert;
use crate::store::{Case, ResultFilter, Store, StoreError};
use message::{CaseRef, CentreRef, CriticalRef, Interval, Payload, Previous, Reason, WorstCall};
use notifier::NotifierKind;
pub use notifier::{Notifiers, NotifyError};

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Verdict(#[from] crate::verdict::VerdictError),
    #[error("alert set-up: {0}")]
    Setup(String),
    /// Another holder of the agents' `alerts` lease is evaluating or sending.
    #[error("an agent is evaluating or sending alerts right now: try again in a minute")]
    Busy,
}

/// A score this much lower than the last alert's is "worse" (below it, rounding noise).
const WORSE_BY: f64 = 0.05;
/// How many of a flag's lowest-scored calls an alert names.
const WORST_CALLS: usize = 3;

/// What one evaluation decided.
#[derive(Debug, Default, Serialize)]
pub struct Evaluated {
    pub period: String,
    /// Ids of the alerts stored.
    pub alerts: Vec<i64>,
    /// Flags already alerted in the same state.
    pub unchanged: usize,
}

/// Contacts for a centre's agency: the primary list, or the escalation list.
fn contacts<'a>(config: &'a Config, agency: &str, escalation: bool) -> Vec<&'a ContactConfig> {
    config
        .alerts
        .contact
        .iter()
        .filter(|c| c.escalation == escalation && (c.agency == "*" || c.agency == agency))
        .collect()
}

fn centre_ref(c: &Centre) -> CentreRef {
    CentreRef {
        id: c.id.clone(),
        name_ar: c.name_ar.clone(),
        name_en: c.name_en.clone(),
        agency: c.agency.clone(),
    }
}

fn case_ref(c: &Case) -> CaseRef {
    CaseRef {
        id: c.id,
        opened_at: c.opened_at.clone(),
        due_at: c.due_at.clone(),
        closed_at: c.closed_at.clone(),
        closed_by_period: c.closed_by_period.clone(),
    }
}

/// Reads `period`'s stored verdicts (the verdict step opens and closes the cases), then
/// stores the alerts they call for: flags (new, worse or of another class), escalations of
/// overdue cases, resolutions of closed ones.
pub async fn evaluate(
    store: &Store,
    config: &Config,
    period: &Period,
    now: DateTime<Utc>,
) -> Result<Evaluated, AlertError> {
    let k = &config.scoring;
    let scores = crate::verdict::Verdicts::new(store, config)
        .scores(period)
        .await?;
    let centres = store.centres().await?;
    let mut done = Evaluated {
        period: period.label.clone(),
        ..Evaluated::default()
    };
    for s in &scores {
        let Some(centre) = centres.iter().find(|c| c.id == s.centre) else {
            continue;
        };
        for (channel, class) in flag_classes(s) {
            let (score, valid, min) = match channel {
                Channel::Phone => (
                    s.phone.score,
                    Some(s.phone.valid_calls),
                    Some(s.phone.min_calls),
                ),
                Channel::Web => (s.web.score, Some(s.web.valid_checks), None),
            };
            let value = score.map(|e| e.value);
            let last = store
                .last_alert(
                    "flag",
                    &s.centre,
                    channel.as_str(),
                    Some(&period.label),
                    None,
                )
                .await?;
            if !news(last.as_ref(), class, value) {
                done.unchanged += 1;
                continue;
            }
            let (worst_calls, reason) = if channel == Channel::Phone {
                worst_calls(store, config, &s.centre, period).await?
            } else {
                (Vec::new(), None)
            };
            // The verdict step opened the case; its due date is the one the agency is held to.
            let due = store
                .cases()
                .await?
                .into_iter()
                .find(|k| k.centre == s.centre && k.period == period.label)
                .map(|k| k.due_at.chars().take(10).collect::<String>())
                .unwrap_or_else(|| {
                    (now + Duration::days(k.follow_up_days))
                        .with_timezone(&centre.tz())
                        .format("%Y-%m-%d")
                        .to_string()
                });
            let payload = Payload {
                kind: "flag".into(),
                centre: Some(centre_ref(centre)),
                channel: Some(channel.as_str().into()),
                period: Some(period.label.clone()),
                class: Some(class.into()),
                score: score.map(|e| Interval {
                    value: e.value,
                    low: e.low,
                    high: e.high,
                }),
                threshold: Some(k.threshold),
                valid_calls: valid,
                min_calls: min,
                critical: s
                    .critical
                    .iter()
                    .filter(|x| critical_channel(&x.kind) == channel)
                    .map(|x| CriticalRef {
                        kind: x.kind.clone(),
                        detail: x.detail.clone(),
                        results: x.results.clone(),
                    })
                    .collect(),
                worst_calls,
                case: None,
                previous: last.map(|(class, score)| Previous { class, score }),
                link: dashboard_link(config, &s.centre, &period.label),
                timezone: Some(centre.timezone.clone()),
                reason,
                due_on: Some(due),
                follow_up_days: Some(k.follow_up_days),
            };
            let to = contacts(config, &centre.agency, false);
            done.alerts
                .push(store_alert(store, &payload, value, None, &to).await?);
        }
    }
    for case in store.cases().await? {
        let Some(centre) = centres.iter().find(|c| c.id == case.centre) else {
            continue;
        };
        let kind = match cases::status(&case, now) {
            CaseStatus::Overdue => "escalation",
            // Only a case leadership was told about is reported resolved (a case is kept on
            // the phone channel; a critical flag that opened it may have been alerted on web).
            CaseStatus::Closed if alerted(store, &case).await? => "resolved",
            _ => continue,
        };
        let sent = store
            .last_alert(kind, &case.centre, &case.channel, None, Some(case.id))
            .await?;
        if sent.is_some() {
            continue;
        }
        let payload = Payload {
            kind: kind.into(),
            centre: Some(centre_ref(centre)),
            channel: Some(case.channel.clone()),
            period: Some(case.period.clone()),
            class: Some(case.class.clone()),
            score: case.score.map(|v| Interval {
                value: v,
                low: v,
                high: v,
            }),
            threshold: Some(k.threshold),
            case: Some(case_ref(&case)),
            link: dashboard_link(config, &case.centre, &case.period),
            timezone: Some(centre.timezone.clone()),
            ..Payload::default()
        };
        let to = contacts(config, &centre.agency, kind == "escalation");
        done.alerts
            .push(store_alert(store, &payload, case.score, Some(case.id), &to).await?);
    }
    Ok(done)
}

/// Whether a flag alert went out for the centre and period a case was opened for.
async fn alerted(store: &Store, case: &Case) -> Result<bool, StoreError> {
    for channel in Channel::ALL {
        let last = store
            .last_alert(
                "flag",
                &case.centre,
                channel.as_str(),
                Some(&case.period),
                None,
            )
            .await?;
        if last.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a flag is news after the last alert for its centre, channel and period (class
/// and score): the first alert, another class, or a score worse by more than rounding.
fn news(last: Option<&(Option<String>, Option<f64>)>, class: &str, value: Option<f64>) -> bool {
    match last {
        None => true,
        Some((last_class, last_score)) => {
            let worse = matches!((value, last_score), (Some(v), Some(l)) if v < l - WORSE_BY);
            last_class.as_deref() != Some(class) || worse
        }
    }
}

/// The channels a centre is flagged on, with the class: the threshold rule on the phone, a
/// critical flag on the channel it concerns.
fn flag_classes(s: &CentreScores) -> Vec<(Channel, &'static str)> {
    let mut out = Vec::new();
    let critical_on = |ch| s.critical.iter().any(|x| critical_channel(&x.kind) == ch);
    match s.flag {
        FlagClass::Confirmed => out.push((Channel::Phone, "confirmed")),
        FlagClass::Provisional => out.push((Channel::Phone, "provisional")),
        _ if critical_on(Channel::Phone) => out.push((Channel::Phone, "critical")),
        _ => {}
    }
    if critical_on(Channel::Web) {
        out.push((Channel::Web, "critical"));
    }
    out
}

fn critical_channel(kind: &str) -> Channel {
    match kind {
        "site_down" => Channel::Web,
        _ => Channel::Phone,
    }
}

async fn store_alert(
    store: &Store,
    p: &Payload,
    score: Option<f64>,
    case_id: Option<i64>,
    to: &[&ContactConfig],
) -> Result<i64, AlertError> {
    let contacts: Vec<String> = to.iter().map(|c| notifier::target(c)).collect();
    let id = store
        .add_alert(&NewAlert {
            kind: &p.kind,
            centre: p.centre.as_ref().map(|c| c.id.as_str()),
            channel: p.channel.as_deref(),
            period: p.period.as_deref(),
            class: p.class.as_deref(),
            score,
            case_id,
            payload: &serde_json::to_value(p).expect("a payload is JSON"),
            contacts: &contacts,
        })
        .await?;
    if contacts.is_empty() {
        tracing::warn!(
            alert = id,
            centre = p.centre.as_ref().map_or("", |c| c.id.as_str()),
            "alert {id} ({}): no contact configured for agency '{}'",
            p.kind,
            p.centre.as_ref().map_or("", |c| c.agency.as_str())
        );
    }
    Ok(id)
}

/// The centre's page of the period on the dashboard (`[server] public_url`).
fn dashboard_link(config: &Config, centre: &str, period: &str) -> Option<String> {
    let base = config.server.public_url.as_deref()?.trim_end_matches('/');
    Some(format!("{base}/centres/{centre}?period={period}"))
}

/// A flagged centre's lowest-scored valid calls of the period, as evidence, and what its
/// valid calls had in common (the reason in words).
async fn worst_calls(
    store: &Store,
    config: &Config,
    centre: &str,
    period: &Period,
) -> Result<(Vec<WorstCall>, Option<Reason>), AlertError> {
    let results = store
        .results(&ResultFilter {
            centre_id: Some(centre.into()),
            channel: Some(Channel::Phone.as_str().into()),
            since: Some(period.start()),
            until: Some(period.end()),
            ..ResultFilter::default()
        })
        .await?;
    let mut calls = Vec::new();
    let (mut reason, mut rings) = (Reason::default(), Vec::new());
    let scoring = crate::verdict::result_scoring(store, &config.scoring, &results).await?;
    for (r, scored) in results.iter().zip(&scoring) {
        let (Some(c), true, Some(call)) = (r.probe.call(), scored.counts, &scored.call) else {
            continue;
        };
        let secs = |ms: Option<f64>| ms.map(|ms| ms / 1000.0);
        let public = config.server.public_url.as_deref();
        let evidence = match (&config.alerts.evidence_url, public) {
            (Some(u), _) => Some(u.replace("{id}", &r.id.to_string())),
            (None, Some(base)) => Some(format!("{}/results/{}", base.trim_end_matches('/'), r.id)),
            (None, None) => c.recording.clone(),
        };
        reason.calls += 1;
        reason.answered += u64::from(call.answered);
        reason.no_person += u64::from(!call.reached_person);
        rings.extend(secs(c.timings_ms.answer.or(c.timings_ms.ringing)));
        calls.push(WorstCall {
            id: r.id,
            number: c.number.clone(),
            started_at: crate::probe::utc_millis::format(&c.started_at),
            outcome: c.outcome.as_str().into(),
            ring_secs: secs(c.timings_ms.ringing),
            answer_secs: secs(c.timings_ms.answer),
            score: call.score,
            evidence,
            answer_type: c
                .answer_type
                .and_then(|t| serde_json::to_value(t).ok())
                .and_then(|v| v.as_str().map(String::from)),
        });
    }
    calls.sort_by(|a, b| a.score.total_cmp(&b.score).then(a.id.cmp(&b.id)));
    calls.truncate(WORST_CALLS);
    rings.sort_by(f64::total_cmp);
    reason.median_ring_secs = rings.get(rings.len() / 2).copied();
    Ok((calls, (reason.calls > 0).then_some(reason)))
}

/// What one delivery round did.
#[derive(Debug, Default, Serialize)]
pub struct Delivered {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    /// One line per attempt: `alert N → contact: sent | error`.
    pub attempts: Vec<String>,
}

/// The wait before try `attempts + 1`: `retry_secs`, doubled per try, at most an hour.
pub fn backoff(config: &Config, attempts: u32) -> Duration {
    let secs = config
        .alerts
        .retry_secs
        .saturating_mul(1u64 << attempts.min(20))
        .min(3600);
    Duration::seconds(secs as i64)
}

/// Evaluates `period` and tries every due delivery once, now (`raqib alerts run`), under the
/// agents' `alerts` lease taken as `owner`: no alert is made or sent twice while a `raqib serve`
/// evaluates too. `AlertError::Busy` while another holds it.
pub async fn run_now(
    store: &Store,
    config: &Config,
    notifiers: &Notifiers,
    period: &Period,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<(Evaluated, Delivered), AlertError> {
    let until = now + Duration::minutes(ALERTS_LEASE_MINUTES);
    if !store.take_lease("alerts", owner, until).await? {
        return Err(AlertError::Busy);
    }
    let work = async {
        let evaluated = evaluate(store, config, period, now).await?;
        let delivered = deliver_due(store, config, notifiers, Utc::now()).await?;
        Ok((evaluated, delivered))
    }
    .await;
    store.release_lease("alerts", owner).await?;
    work
}

/// Tries every delivery that is due; a failure is retried later with back-off, and after
/// `retry_attempts` tries is recorded as failed.
pub async fn deliver_due(
    store: &Store,
    config: &Config,
    notifiers: &Notifiers,
    now: DateTime<Utc>,
) -> Result<Delivered, AlertError> {
    let mut done = Delivered::default();
    for (d, _kind, payload) in store.due_deliveries(now).await? {
        let contact = config.alerts.contact.iter().find(|c| {
            notifier::target(c) == d.contact
                || notifier::legacy_target(c).as_ref() == Some(&d.contact)
        });
        let outcome = match (contact, serde_json::from_value::<Payload>(payload)) {
            (None, _) => Err(NotifyError::Gone),
            (_, Err(e)) => Err(NotifyError::Unreadable(e)),
            (Some(c), Ok(p)) => notifiers.send(c, &p).await,
        };
        let tries = d.attempts as u32 + 1;
        match outcome {
            Ok(()) => {
                store.record_attempt(d.id, Ok(())).await?;
                done.sent += 1;
                done.attempts
                    .push(format!("alert {} → {}: sent", d.alert_id, d.contact));
            }
            Err(e) => {
                let gone = contact.is_none();
                let retry_at = (!gone && tries < config.alerts.retry_attempts)
                    .then(|| Utc::now() + backoff(config, tries - 1));
                store
                    .record_attempt(d.id, Err((&e.to_string(), retry_at)))
                    .await?;
                let what = match retry_at {
                    Some(at) => {
                        done.retrying += 1;
                        format!("try {tries} failed, again at {}", at.format("%H:%M:%S"))
                    }
                    None => {
                        done.failed += 1;
                        format!("FAILED after {tries} tries")
                    }
                };
                let line = format!("alert {} → {}: {what}: {e}", d.alert_id, d.contact);
                tracing::warn!(alert = d.alert_id, contact = %d.contact, "{line}");
                done.attempts.push(line);
            }
        }
    }
    Ok(done)
}

/// One test message through every configured contact, reported per contact (nothing
/// stored: a test says whether a channel works now).
pub async fn test(
    config: &Config,
) -> Result<Vec<(String, Result<(), notifier::NotifyError>)>, AlertError> {
    let notifiers = Notifiers::new(config)?;
    let p = Payload {
        kind: "test".into(),
        ..Payload::default()
    };
    let mut out = Vec::new();
    for c in &config.alerts.contact {
        let sent = notifiers.send(c, &p).await;
        out.push((notifier::target(c), sent));
    }
    Ok(out)
}

/// Alerts inside `raqib serve`: evaluated after each sweep and on the digest schedule,
/// deliveries retried as they fall due. One evaluation at a time.
pub struct Alerter {
    config: Config,
    store: Store,
    notifiers: Notifiers,
    busy: tokio::sync::Mutex<()>,
    /// Who holds the store's `alerts` lease while working: agents sharing a store take turns,
    /// so no alert is made or sent twice.
    owner: String,
}

/// How long an evaluation or a round of deliveries may hold the `alerts` lease (it is given
/// back when done; a process that dies keeps it this long).
const ALERTS_LEASE_MINUTES: i64 = 10;

impl Alerter {
    pub fn new(config: &Config, store: &Store) -> Result<Alerter, AlertError> {
        Ok(Alerter {
            notifiers: Notifiers::new(config)?,
            config: config.clone(),
            store: store.clone(),
            busy: tokio::sync::Mutex::new(()),
            owner: format!("{}:{}", crate::store::this_host(), std::process::id()),
        })
    }

    /// The same alerter taking the `alerts` lease as `owner` (the agent's name).
    pub fn with_owner(mut self, owner: &str) -> Alerter {
        self.owner = owner.to_string();
        self
    }

    /// Takes the `alerts` lease; `false` (and a log line) while another agent works.
    async fn lease(&self) -> bool {
        let until = Utc::now() + chrono::Duration::minutes(ALERTS_LEASE_MINUTES);
        match self.store.take_lease("alerts", &self.owner, until).await {
            Ok(true) => true,
            Ok(false) => false,
            Err(e) => {
                tracing::error!("alerts lease: {e}");
                false
            }
        }
    }

    async fn unlease(&self) {
        if let Err(e) = self.store.release_lease("alerts", &self.owner).await {
            tracing::error!("alerts lease: {e}");
        }
    }

    /// Evaluates the current period and delivers; errors are logged (a later run tries again).
    pub async fn evaluate(&self, why: &str) {
        let _one = self.busy.lock().await;
        if !self.lease().await {
            tracing::info!("{why}: another agent is evaluating alerts");
            return;
        }
        let now = Utc::now();
        match evaluate(
            &self.store,
            &self.config,
            &default_period(&self.config, now),
            now,
        )
        .await
        {
            Ok(e) => tracing::info!(
                "{why}: {} new alerts for {} ({} unchanged)",
                e.alerts.len(),
                e.period,
                e.unchanged
            ),
            Err(e) => tracing::error!("{why}: evaluation failed: {e}"),
        }
        self.deliver_locked().await;
        self.unlease().await;
    }

    async fn deliver_locked(&self) {
        match deliver_due(&self.store, &self.config, &self.notifiers, Utc::now()).await {
            Ok(d) if d.sent + d.retrying + d.failed > 0 => tracing::info!(
                "deliveries: {} sent, {} to retry, {} failed",
                d.sent,
                d.retrying,
                d.failed
            ),
            Ok(_) => {}
            Err(e) => tracing::error!("deliveries: {e}"),
        }
    }

    /// Until `stop`: the digest schedule, and due retries checked every few seconds.
    pub async fn run(self: std::sync::Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let digest = self.config.alerts.digest.as_ref().map(|c| {
            crate::cron::CronSchedule::parse(&c.0, self.config.alerts.digest_timezone.0)
                .expect("checked when the config was read")
        });
        let tick = StdDuration::from_secs(self.config.alerts.retry_secs.clamp(1, 30));
        let mut next_digest = digest.as_ref().and_then(|d| d.next_after(Utc::now()));
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = tokio::time::sleep(tick) => {}
            }
            if let (Some(d), Some(t)) = (&digest, next_digest) {
                if t <= Utc::now() {
                    next_digest = d.next_after(Utc::now());
                    self.evaluate("digest").await;
                    continue;
                }
            }
            let _one = self.busy.lock().await;
            if self.lease().await {
                self.deliver_locked().await;
                self.unlease().await;
            }
        }
    }
}

/// The period alerts look at when none is named: the current month or quarter.
pub fn default_period(config: &Config, now: DateTime<Utc>) -> Period {
    match config.alerts.period {
        crate::config::AlertPeriod::Month => Period::month_of(now),
        crate::config::AlertPeriod::Quarter => Period::quarter_of(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_is_news_once_then_only_if_worse_or_of_another_class() {
        let last = (Some("provisional".to_string()), Some(55.0));
        assert!(news(None, "provisional", Some(55.0)));
        assert!(!news(Some(&last), "provisional", Some(55.0)));
        assert!(
            !news(Some(&last), "provisional", Some(54.98)),
            "rounding is not news"
        );
        assert!(
            !news(Some(&last), "provisional", Some(58.0)),
            "better is not news"
        );
        assert!(news(Some(&last), "provisional", Some(50.0)));
        assert!(news(Some(&last), "confirmed", Some(55.0)));
        assert!(news(Some(&last), "critical", None));
    }

    #[test]
    fn backoff_doubles_from_retry_secs_up_to_an_hour() {
        let mut c = Config::default();
        c.alerts.retry_secs = 60;
        let waits: Vec<i64> = (0..8).map(|a| backoff(&c, a).num_seconds()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }
}
