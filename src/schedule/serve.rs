//! `raqib serve`: runs the `[[schedule]]` entries as one agent among any sharing the store. A
//! fire plans a sweep as job rows (phone calls at random instants inside each centre's opening
//! hours) — once per fire time, whichever agent is first. Each agent's worker claims the jobs
//! whose time has come, within its channel limits, under a lease it renews; it stores each
//! result and marks its job done in one transaction while it holds the lease. A job whose
//! agent died is claimed again once its lease runs out (at once by the same agent restarted);
//! a job with a result is never run again.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

use super::kit::Kit;
use super::plan::{self, WhenClosed};
use super::sweep::SweepError;
use crate::config::{Config, HolidayDate, ScheduleConfig, WhenClosedCfg};
use crate::cron::CronSchedule;
use crate::probe::Channel;
use crate::registry::{glob_match, Centre};
use crate::rng::SplitMix64;
use crate::store::agents::ClaimedJob;
use crate::store::{NewJob, NewResult, Store};

/// Country codes of the region's time zones, for `[holidays]` keyed by country.
const COUNTRY_OF_ZONE: [(&str, &str); 22] = [
    ("Asia/Amman", "JO"),
    ("Asia/Riyadh", "SA"),
    ("Asia/Dubai", "AE"),
    ("Asia/Qatar", "QA"),
    ("Asia/Bahrain", "BH"),
    ("Asia/Kuwait", "KW"),
    ("Asia/Muscat", "OM"),
    ("Asia/Baghdad", "IQ"),
    ("Asia/Beirut", "LB"),
    ("Asia/Damascus", "SY"),
    ("Asia/Aden", "YE"),
    ("Asia/Gaza", "PS"),
    ("Asia/Hebron", "PS"),
    ("Africa/Cairo", "EG"),
    ("Africa/Casablanca", "MA"),
    ("Africa/Tunis", "TN"),
    ("Africa/Algiers", "DZ"),
    ("Africa/Tripoli", "LY"),
    ("Africa/Khartoum", "SD"),
    ("Africa/Nouakchott", "MR"),
    ("Africa/Djibouti", "DJ"),
    ("Europe/London", "GB"),
];

/// The holidays that apply to a centre: its country's and its time zone's, as the dates they
/// fall on from two days before `now` to 30 days after (in the centre's time zone) — the days
/// a plan looks at; a Hijri holiday's dates are those of the years in that range.
pub fn holidays_of(config: &Config, centre: &Centre, now: DateTime<Utc>) -> Vec<NaiveDate> {
    let country = COUNTRY_OF_ZONE
        .iter()
        .find(|(z, _)| *z == centre.timezone)
        .map(|(_, c)| *c);
    let today = now.with_timezone(&centre.tz()).date_naive();
    let (from, to) = (today - Duration::days(2), today + Duration::days(30));
    let mut days: Vec<NaiveDate> = config
        .holidays
        .iter()
        .filter(|(k, _)| Some(k.as_str()) == country || **k == centre.timezone)
        .flat_map(|(_, d)| d.iter())
        .flat_map(|h| match h {
            HolidayDate::Day(d) => vec![*d],
            HolidayDate::Hijri(h) => h.days_between(from, to),
        })
        .collect();
    days.sort();
    days.dedup();
    days
}

/// A `[[schedule]]` selects by an agency, region or tag the registry does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[[schedule]] '{schedule}': no {what} '{name}' in the registry; known {what}s: {known}")]
pub struct UnknownSelector {
    pub schedule: String,
    /// agency, region or tag
    pub what: &'static str,
    pub name: String,
    /// The registry's, quoted and comma-separated, or `none`.
    pub known: String,
}

/// Every agency, region and tag a `[[schedule]]` names must exist in `centres` (when there
/// are any): a misspelt one would make a sweep of nothing, silently, every time it fires.
pub fn check_selectors(
    schedules: &[ScheduleConfig],
    centres: &[Centre],
) -> Result<(), UnknownSelector> {
    if centres.is_empty() {
        return Ok(());
    }
    let known = |of: fn(&Centre) -> Vec<&str>| {
        let mut v: Vec<&str> = centres.iter().flat_map(of).collect();
        v.sort();
        v.dedup();
        v
    };
    let agencies = known(|c| vec![c.agency.as_str()]);
    let regions = known(|c| vec![c.region.as_str()]);
    let tags = known(|c| c.tags.iter().map(String::as_str).collect());
    let list = |v: &[&str]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.iter()
                .map(|x| format!("'{x}'"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    for s in schedules {
        let unknown = |what: &'static str, name: &str, known: &[&str]| UnknownSelector {
            schedule: s.name.clone(),
            what,
            name: name.to_string(),
            known: list(known),
        };
        if let Some(a) = s.agency.as_deref().filter(|a| !agencies.contains(a)) {
            return Err(unknown("agency", a, &agencies));
        }
        if let Some(r) = s.region.as_deref().filter(|r| !regions.contains(r)) {
            return Err(unknown("region", r, &regions));
        }
        if let Some(t) = s.tags.iter().find(|t| !tags.contains(&t.as_str())) {
            return Err(unknown("tag", t, &tags));
        }
    }
    Ok(())
}

fn selects(s: &ScheduleConfig, c: &Centre) -> bool {
    glob_match(&s.centres, &c.id)
        && s.agency.as_ref().is_none_or(|a| a == &c.agency)
        && s.region.as_ref().is_none_or(|r| r == &c.region)
        && s.tags.iter().all(|t| c.tags.contains(t))
}

/// The scheduler's idea of now: the system clock, or one started at a chosen instant that then
/// runs at real speed (tests of the scheduler at a given weekday, hour and zone).
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    offset: Duration,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock reading `start` now.
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock {
            offset: start - Utc::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// What an agent probes with, per channel: built at start for the channels of its schedules and
/// of the open sweeps, else when a sweep of that channel first needs it (an agent without
/// schedules still works the sweeps other agents plan).
struct Kits {
    /// Per channel (every one of `Channel::ALL`): its kit once built, and its limit.
    of: HashMap<Channel, (tokio::sync::OnceCell<Kit>, Arc<Semaphore>)>,
    config: Config,
    store: Store,
}

impl Kits {
    fn new(config: &Config, store: &Store) -> Kits {
        Kits {
            of: Channel::ALL
                .into_iter()
                .map(|ch| {
                    let limit = Kit::concurrency(ch, config).max(1);
                    (ch, (Default::default(), Arc::new(Semaphore::new(limit))))
                })
                .collect(),
            config: config.clone(),
            store: store.clone(),
        }
    }

    /// The channel's kit, built now if it was not; `Err` when it cannot be (logged by the
    /// caller once).
    async fn ready(&self, channel: Channel) -> Result<&Kit, SweepError> {
        self.of[&channel]
            .0
            .get_or_try_init(|| Kit::new(channel, &self.config, &self.store))
            .await
    }

    fn limit(&self, channel: Channel) -> &Arc<Semaphore> {
        &self.of[&channel].1
    }

    async fn shutdown(&self) {
        for (kit, _) in self.of.values() {
            if let Some(k) = kit.get() {
                k.shutdown().await;
            }
        }
    }
}

/// This process as an agent: its name and tags.
#[derive(Debug, Clone)]
pub struct Agent {
    pub name: String,
    pub tags: Vec<String>,
}

impl Agent {
    /// The config's `[agent]`, the host name when it names none.
    pub fn of_config(config: &Config) -> Agent {
        Agent {
            name: config
                .agent
                .name
                .clone()
                .unwrap_or_else(crate::store::this_host),
            tags: config.agent.tags.clone(),
        }
    }

    /// Whether this agent may run the jobs of a sweep needing `tags`.
    pub fn fits(&self, tags: &[String]) -> bool {
        tags.iter().all(|t| self.tags.contains(t))
    }
}

/// When the scheduler last renewed its leases, for `/healthz` of `raqib serve --listen`: one
/// process, so an atomic it shares with the HTTP server (a store row could not say anything
/// when the store itself is what fails, and the store has its own check).
#[derive(Debug)]
pub struct Heartbeat {
    /// Unix milliseconds of the last beat.
    last: std::sync::atomic::AtomicI64,
    /// A beat older than this means the scheduler stalled (its leases would lapse).
    pub stale_after: std::time::Duration,
}

impl Heartbeat {
    /// A heartbeat that counts as beaten now (start-up takes a while before the first beat).
    pub fn new(config: &Config) -> Heartbeat {
        let h = Heartbeat {
            last: Default::default(),
            stale_after: std::time::Duration::from_secs(config.serve.lease_secs),
        };
        h.beat();
        h
    }

    pub fn beat(&self) {
        self.last.store(
            Utc::now().timestamp_millis(),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The last beat, as Unix milliseconds.
    pub fn last_millis(&self) -> i64 {
        self.last.load(std::sync::atomic::Ordering::Relaxed)
    }
}

pub struct Server {
    config: Config,
    store: Store,
    clock: Clock,
    agent: Agent,
    /// Wakes the worker when this agent planned a sweep.
    planned: Arc<tokio::sync::Notify>,
    /// Present when `[[alerts.contact]]` entries exist.
    alerter: Option<Arc<crate::alert::Alerter>>,
    schedules: Vec<(ScheduleConfig, CronSchedule)>,
    kits: Arc<Kits>,
    heartbeat: Option<Arc<Heartbeat>>,
}

impl Server {
    pub async fn new(config: Config, store: Store) -> Result<Server, SweepError> {
        let schedules = config
            .schedule
            .iter()
            .map(|s| {
                let cron = CronSchedule::parse(&s.cron.0, s.timezone.0)
                    .expect("checked when the config was read");
                (s.clone(), cron)
            })
            .collect::<Vec<_>>();
        // Kits for the channels of the schedules, and of sweeps still open in the store.
        let left = store.open_sweeps().await?;
        let uses = |ch: Channel| {
            schedules
                .iter()
                .any(|(s, _)| Channel::of_schedule(s.channel) == ch)
                || left.iter().any(|w| w.channel == ch.as_str())
        };
        let kits = Arc::new(Kits::new(&config, &store));
        // A bad trunk or browser set-up is an error at start for the channels in use (the
        // browser first, as before there were more channels).
        for ch in [Channel::Web, Channel::Phone] {
            if uses(ch) {
                kits.ready(ch).await?;
            }
        }
        let alerter = match config.alerts.contact.is_empty() {
            true => None,
            false => Some(Arc::new(
                crate::alert::Alerter::new(&config, &store)
                    .map_err(|e| SweepError::Alerts(e.to_string()))?
                    .with_owner(&Agent::of_config(&config).name),
            )),
        };
        Ok(Server {
            clock: Clock::system(),
            agent: Agent::of_config(&config),
            planned: Arc::new(tokio::sync::Notify::new()),
            alerter,
            config,
            store,
            schedules,
            kits,
            heartbeat: None,
        })
    }

    /// The same server beating `heartbeat` each time it renews its leases.
    pub fn with_heartbeat(mut self, heartbeat: Arc<Heartbeat>) -> Server {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// The same server reading time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Server {
        self.clock = clock;
        self
    }

    /// Runs until `stop` resolves: then no job is started any more, jobs in progress end and
    /// are stored, and unfinished sweeps stay `running` for the next start to finish.
    pub async fn run(
        self,
        run_now: &[String],
        stop: impl Future<Output = ()>,
    ) -> Result<(), SweepError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut executors: JoinSet<()> = JoinSet::new();
        if let Some(a) = &self.alerter {
            executors.spawn(a.clone().run(stop_rx.clone()));
        }
        // Jobs a killed run of this agent held are free again at once; other agents' after
        // their leases.
        self.store
            .register_agent(
                &self.agent.name,
                &self.agent.tags,
                Duration::seconds(self.config.serve.lease_secs as i64),
            )
            .await?;
        tracing::info!(
            agent = %self.agent.name,
            "agent '{}'{}",
            self.agent.name,
            match self.agent.tags.is_empty() {
                true => String::new(),
                false => format!(" ({})", self.agent.tags.join(", ")),
            }
        );
        executors.spawn(self.heartbeat(stop_rx.clone()));
        executors.spawn(self.worker(stop_rx.clone()));
        let now = self.clock.now();
        let grace = Duration::minutes(self.config.serve.grace_minutes as i64);
        let mut next: Vec<Option<DateTime<Utc>>> = Vec::new();
        let mut due_now: Vec<(usize, DateTime<Utc>)> = Vec::new();
        for (i, (s, cron)) in self.schedules.iter().enumerate() {
            if run_now.contains(&s.name) {
                due_now.push((i, now));
            } else if let Some(last) = self.store.last_fired(&s.name).await? {
                if let Some(missed) = cron.missed(last, now, grace) {
                    tracing::info!(
                        schedule = %s.name,
                        "schedule '{}' missed its run at {missed}: running it now",
                        s.name
                    );
                    due_now.push((i, missed));
                }
            }
            next.push(cron.next_after(now));
        }
        tracing::info!(
            "{} schedules; next: {}",
            self.schedules.len(),
            self.schedules
                .iter()
                .zip(&next)
                .map(|((s, _), n)| format!(
                    "{} at {}",
                    s.name,
                    n.map_or("never".into(), |t| t.to_rfc3339())
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        tokio::pin!(stop);
        loop {
            for (i, fired_at) in due_now.drain(..) {
                let name = self.schedules[i].0.name.clone();
                if self.store.schedule_running(&name).await? {
                    tracing::info!(
                        schedule = %name,
                        "schedule '{name}' is still running: this fire is skipped"
                    );
                    continue;
                }
                if self.plan(i, fired_at).await? {
                    self.planned.notify_one();
                }
            }
            let now = self.clock.now();
            let soonest = next.iter().flatten().min().copied();
            let wait = soonest
                .map(|t| (t - now).to_std().unwrap_or_default())
                .unwrap_or(std::time::Duration::from_secs(3600));
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(wait) => {}
            }
            let now = self.clock.now();
            for (i, (_, cron)) in self.schedules.iter().enumerate() {
                if let Some(t) = next[i] {
                    if t <= now {
                        due_now.push((i, t));
                        next[i] = cron.next_after(now);
                    }
                }
            }
        }
        tracing::info!("stopping: no new jobs; waiting for those in progress");
        let _ = stop_tx.send(true);
        while executors.join_next().await.is_some() {}
        self.kits.shutdown().await;
        tracing::info!("stopped");
        Ok(())
    }

    /// Plans the sweep of schedule `i` fired at `fired_at`; `false` when no job results or
    /// another agent planned this fire already.
    async fn plan(&self, i: usize, fired_at: DateTime<Utc>) -> Result<bool, SweepError> {
        let (s, _) = &self.schedules[i];
        let centres: Vec<Centre> = self
            .store
            .centres()
            .await?
            .into_iter()
            .filter(|c| selects(s, c))
            .collect();
        let now = self.clock.now();
        let mut jobs: Vec<(String, String, DateTime<Utc>)> = Vec::new();
        let channel = Channel::of_schedule(s.channel);
        // How a channel's jobs are spread in time: sites at once, calls inside opening hours.
        match channel {
            Channel::Web => {
                for c in &centres {
                    for w in Kit::planned(channel, c) {
                        jobs.push((c.id.clone(), w.clone(), now));
                    }
                }
            }
            Channel::Phone => {
                let seed = now.timestamp_nanos_opt().unwrap_or_default() as u64 ^ i as u64;
                let mut rng = SplitMix64::new(seed);
                let when_closed = match s.when_closed {
                    WhenClosedCfg::Skip => WhenClosed::Skip,
                    WhenClosedCfg::Defer => WhenClosed::Defer,
                };
                let margin = Duration::seconds(self.config.serve.call_margin_secs as i64);
                let extra = self.provisional(&centres).await;
                let spread = Duration::minutes(s.spread_minutes as i64);
                for c in &centres {
                    let rounds = if extra.contains(&c.id) { 2 } else { 1 };
                    let numbers: Vec<&String> = (0..rounds)
                        .flat_map(|_| Kit::planned(channel, c).iter())
                        .collect();
                    let holidays = holidays_of(&self.config, c, now);
                    let Some(times) = plan::call_instants(
                        c,
                        now,
                        numbers.len(),
                        margin,
                        spread,
                        when_closed,
                        &holidays,
                        &mut rng,
                    ) else {
                        tracing::info!(
                            centre = %c.id,
                            "{}: closed now, or no window before closing: skipped",
                            c.id
                        );
                        continue;
                    };
                    // Instants come sorted; numbers take them in a shuffled order so that
                    // a centre's first number is not always called first.
                    let mut order: Vec<usize> = (0..numbers.len()).collect();
                    for k in (1..order.len()).rev() {
                        order.swap(k, (rng.next_u64() % (k as u64 + 1)) as usize);
                    }
                    for (k, at) in order.into_iter().zip(times) {
                        jobs.push((c.id.clone(), numbers[k].clone(), at));
                    }
                }
            }
        }
        if jobs.is_empty() {
            tracing::info!(schedule = %s.name, "schedule '{}': nothing to do now", s.name);
            return Ok(false);
        }
        let new: Vec<NewJob> = jobs
            .iter()
            .map(|(c, t, at)| NewJob {
                centre: c,
                target: t,
                not_before: *at,
            })
            .collect();
        match self
            .store
            .plan_sweep(channel.as_str(), &s.name, fired_at, &s.agent_tags, &new)
            .await?
        {
            Some(id) => {
                tracing::info!(
                    schedule = %s.name,
                    sweep = id,
                    "schedule '{}': sweep {id} planned with {} jobs",
                    s.name,
                    jobs.len()
                );
                Ok(true)
            }
            None => {
                tracing::info!(
                    schedule = %s.name,
                    "schedule '{}': the fire of {fired_at} was planned by another agent",
                    s.name
                );
                Ok(false)
            }
        }
    }

    /// Centres whose phone flag this quarter is provisional and that may take another call per
    /// number without passing `max_calls_quarter` valid calls: they get a second round
    /// (SCORING.md §4, "the scheduler adds calls to settle it"). A failure to score only
    /// means no extra calls.
    async fn provisional(&self, centres: &[Centre]) -> std::collections::HashSet<String> {
        let quarter = crate::score::period::Period::quarter_of(self.clock.now());
        let k = &self.config.scoring;
        match crate::verdict::Verdicts::new(&self.store, &self.config)
            .scores(&quarter)
            .await
        {
            Ok(scores) => scores
                .into_iter()
                .filter(|s| s.flag == crate::score::FlagClass::Provisional)
                .filter(|s| {
                    let phones = centres
                        .iter()
                        .find(|c| c.id == s.centre)
                        .map_or(0, |c| c.phones.len() as u64);
                    s.phone.valid_calls + 2 * phones <= k.max_calls_quarter
                })
                .map(|s| {
                    tracing::info!(centre = %s.centre, "{}: provisional flag: extra calls", s.centre);
                    s.centre
                })
                .collect(),
            Err(e) => {
                tracing::warn!("no extra calls for provisional flags: {e}");
                Default::default()
            }
        }
    }

    /// Renews this agent's leases (and heartbeat) every third of a lease until stopped.
    fn heartbeat(
        &self,
        mut stop: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let (store, clock, name) = (self.store.clone(), self.clock, self.agent.name.clone());
        let beat = self.heartbeat.clone();
        let lease = Duration::seconds(self.config.serve.lease_secs as i64);
        let every = (lease / 3)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(1));
        async move {
            if let Some(b) = &beat {
                b.beat();
            }
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
                match store.heartbeat(&name, clock.now() + lease).await {
                    Ok(()) => {
                        if let Some(b) = &beat {
                            b.beat();
                        }
                    }
                    Err(e) => tracing::error!("heartbeat: {e}"),
                }
            }
        }
    }

    /// Claims and runs due jobs of the open sweeps this agent fits, within the channel
    /// limits, until stopped; then waits for the jobs in progress.
    fn worker(&self, mut stop: watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
        let store = self.store.clone();
        let kits = self.kits.clone();
        let alerter = self.alerter.clone();
        let clock = self.clock;
        let agent = self.agent.clone();
        let planned = self.planned.clone();
        let lease = Duration::seconds(self.config.serve.lease_secs as i64);
        async move {
            let mut tasks: JoinSet<()> = JoinSet::new();
            let mut centres: HashMap<String, Centre> = HashMap::new();
            // The registry as of the open sweeps: read again when they change.
            let mut known: Vec<i64> = Vec::new();
            // Channels whose kit could not be built, said once.
            let mut unready: std::collections::HashSet<Channel> = Default::default();
            loop {
                if *stop.borrow() {
                    break;
                }
                let now = clock.now();
                let open = match store.open_sweeps().await {
                    Ok(o) => o,
                    Err(e) => {
                        tracing::error!("open sweeps: {e}");
                        Vec::new()
                    }
                };
                let ids: Vec<i64> = open.iter().map(|s| s.id).collect();
                if ids != known {
                    if let Ok(all) = store.centres().await {
                        centres = all.into_iter().map(|c| (c.id.clone(), c)).collect();
                        known = ids;
                    }
                }
                let mut waiting = Vec::new();
                for channel in Channel::ALL {
                    let limit = kits.limit(channel);
                    let ids: Vec<i64> = open
                        .iter()
                        .filter(|s| s.channel == channel.as_str() && agent.fits(&s.agent_tags))
                        .map(|s| s.id)
                        .collect();
                    if ids.is_empty() {
                        continue;
                    }
                    if let Err(e) = kits.ready(channel).await {
                        if unready.insert(channel) {
                            tracing::error!("cannot run {channel} jobs here: {e}");
                        }
                        continue;
                    }
                    waiting.extend(ids.iter().copied());
                    let free = limit.available_permits() as i64;
                    if ids.is_empty() || free == 0 {
                        continue;
                    }
                    let claimed = match store
                        .claim_jobs(&agent.name, &ids, now, now + lease, free)
                        .await
                    {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::error!("claiming jobs: {e}");
                            continue;
                        }
                    };
                    if claimed.iter().any(|j| !centres.contains_key(&j.centre)) {
                        if let Ok(all) = store.centres().await {
                            centres = all.into_iter().map(|c| (c.id.clone(), c)).collect();
                        }
                    }
                    for job in claimed {
                        let permit = limit.clone().try_acquire_owned().ok();
                        let centre = centres.get(&job.centre).cloned();
                        let (store, kits, alerter, name) = (
                            store.clone(),
                            kits.clone(),
                            alerter.clone(),
                            agent.name.clone(),
                        );
                        let span = tracing::info_span!(
                            "job",
                            sweep = job.sweep_id,
                            job = job.id,
                            centre = %job.centre,
                            agent = %name
                        );
                        tasks.spawn(
                            async move {
                                let _permit = permit;
                                run_claimed(
                                    &store,
                                    &kits,
                                    alerter.as_deref(),
                                    &name,
                                    centre,
                                    job,
                                    channel,
                                )
                                .await;
                            }
                            .instrument(span),
                        );
                    }
                }
                // Until the next job is due, a second at most: other agents plan sweeps and
                // leases run out without telling this one.
                let next = store.next_due(&waiting).await.ok().flatten();
                let wait = next
                    .map(|t| (t - clock.now()).to_std().unwrap_or_default())
                    .unwrap_or(std::time::Duration::from_secs(1))
                    .min(std::time::Duration::from_secs(1));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = planned.notified() => {}
                    _ = stop.wait_for(|s| *s) => break,
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                }
            }
            while tasks.join_next().await.is_some() {}
        }
    }
}

/// Runs one claimed job and stores its result while the lease holds; the agent that stores a
/// sweep's last result finishes it and evaluates the alerts.
async fn run_claimed(
    store: &Store,
    kits: &Kits,
    alerter: Option<&crate::alert::Alerter>,
    agent: &str,
    centre: Option<Centre>,
    job: ClaimedJob,
    channel: Channel,
) {
    match centre {
        Some(centre) => {
            let kit = kits
                .ready(channel)
                .await
                .expect("jobs are claimed once the kit is ready");
            let done = kit.run(&centre, &kit.target_of(&centre, &job.target)).await;
            let r = NewResult {
                agent: Some(agent),
                ..done.stored(Some(job.sweep_id))
            };
            match store.complete_claimed(job.id, agent, &r).await {
                Ok(Some(_)) => {}
                Ok(None) => tracing::warn!(
                    "job {}: its lease passed to another agent: this result is not stored",
                    job.id
                ),
                Err(e) => tracing::error!("job {}: the result could not be stored: {e}", job.id),
            }
        }
        None => {
            tracing::warn!(
                "job {}: centre '{}' left the registry: skipped",
                job.id,
                job.centre
            );
            if let Err(e) = store.skip_claimed(job.id, agent).await {
                tracing::error!("job {}: {e}", job.id);
            }
        }
    }
    match store.finish_if_done(job.sweep_id).await {
        Ok(true) => {
            tracing::info!("sweep {} finished", job.sweep_id);
            if let Some(a) = alerter {
                a.evaluate(&format!("after sweep {}", job.sweep_id)).await;
            }
        }
        Ok(false) => {}
        Err(e) => tracing::error!("sweep {}: {e}", job.sweep_id),
    }
}
