//! The verdict step: between scoring and its readers. For each centre and period it computes
//! once what leadership acts on — counts, components, score and interval, band, flag class,
//! critical flags, gold/silver, rank, the change against the period before — stores it, and
//! opens and closes the follow-up cases. The CLI, dashboard, API, report, alerts and
//! `/metrics` read the stored rows; none of them scores raw results.
//!
//! Freshness: storing a result or a label queues its centre (`verdict_dirty`, in the same
//! transaction); the next read, or the end of a job, refreshes just that centre in the stored
//! periods that contain the result, its agency's inherited web scores, the period's ranks and
//! the next period's trend. A period never computed, computed with other `[scoring]` knobs,
//! or whose registry changed is rebuilt whole before it is read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{AlertPeriod, Config, ScoringConfig};
use crate::score::period::{Kind, Period};
use crate::score::{self, cases, load, CentreScores, CentreTrend, Sample, ScoredResult};
use crate::store::verdicts::{VerdictPeriod, VerdictRow};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum VerdictError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Load(#[from] load::LoadError),
    #[error(transparent)]
    Score(#[from] score::ScoreError),
    #[error("stored verdict of {centre} for {period} is unreadable: {message}")]
    Corrupt {
        period: String,
        centre: String,
        message: String,
    },
}

/// What `verdicts.data` holds: the scores and the trend against the period before.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    scores: CentreScores,
    trend: Option<CentreTrend>,
}

/// What `verdicts.samples` holds: what the bootstrap and the agency web pools resample, read
/// only to recompute (the bulk of a row, so readers that show verdicts leave it).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Samples {
    phone: Sample,
    web: Sample,
    /// The scores' bootstrap standard errors: a trend against this period is built from them.
    #[serde(default)]
    phone_se: Option<f64>,
    #[serde(default)]
    web_se: Option<f64>,
}

/// A centre's verdict for a period, as every surface reads it.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub scores: CentreScores,
    /// Against the period before (`null` when either has no score).
    pub trend: Option<CentreTrend>,
    /// When it was computed (RFC 3339 UTC).
    pub computed_at: String,
}

/// The periods' verdicts this process last read, each at its stored version. Every write to a
/// period's verdicts raises its version in the same transaction, so a set kept at the version
/// the store names now is what a read would return; the overview reads eight periods a view
/// and decoding them took most of its time. A few periods are kept, the least used dropped.
mod kept {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use super::Verdict;

    /// Store id and period label.
    pub type Key = (u64, String);

    /// Enough for the overview's periods (six months, the period and the one before) and a
    /// quarter or two; about a megabyte each at 452 centres.
    const PERIODS: usize = 12;

    struct Kept {
        version: i64,
        verdicts: Arc<[Verdict]>,
        used: u64,
    }

    #[derive(Default)]
    struct All {
        sets: HashMap<Key, Kept>,
        clock: u64,
    }

    static ALL: Mutex<Option<All>> = Mutex::new(None);

    pub fn get(key: &Key, version: i64) -> Option<Arc<[Verdict]>> {
        let mut all = ALL.lock().unwrap_or_else(|e| e.into_inner());
        let all = all.get_or_insert_with(All::default);
        all.clock += 1;
        let clock = all.clock;
        let kept = all.sets.get_mut(key).filter(|k| k.version == version)?;
        kept.used = clock;
        Some(kept.verdicts.clone())
    }

    pub fn put(key: Key, version: i64, verdicts: Arc<[Verdict]>) {
        let mut all = ALL.lock().unwrap_or_else(|e| e.into_inner());
        let all = all.get_or_insert_with(All::default);
        // A slower reader of an older version does not replace a newer set.
        if all.sets.get(&key).is_some_and(|k| k.version > version) {
            return;
        }
        all.clock += 1;
        let used = all.clock;
        all.sets.insert(
            key,
            Kept {
                version,
                verdicts,
                used,
            },
        );
        while all.sets.len() > PERIODS {
            let oldest = all
                .sets
                .iter()
                .min_by_key(|(_, k)| k.used)
                .map(|(key, _)| key.clone());
            match oldest {
                Some(key) => all.sets.remove(&key),
                None => break,
            };
        }
    }
}

/// Whole-period builds in this process, one at a time.
static REBUILDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Queue entries taken at a time by a catch-up.
const QUEUE_BATCH: i64 = 2000;

/// The verdict step over one store, with the knobs it computes with.
pub struct Verdicts<'a> {
    store: &'a Store,
    k: &'a ScoringConfig,
    /// The period kind whose flags open follow-up cases (the alerts' period).
    cases_on: Kind,
}

/// What a stored verdict holds and how, by version: a verdict stored by an older raqib is
/// computed again before it is read (2: without the median time to answer; 3: intervals from
/// one draw per two picks; 4: the scores' standard errors kept, trends built from them).
const VERDICT_FORMAT: u32 = 4;

/// The `[scoring]` knobs a stored verdict was computed with, as a short digest: verdicts
/// computed with other knobs are rebuilt before they are read.
fn fingerprint(k: &ScoringConfig) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{VERDICT_FORMAT}:{k:?}").as_bytes(),
    );
    d.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn millis(t: &DateTime<Utc>) -> String {
    crate::probe::utc_millis::format(t)
}

impl<'a> Verdicts<'a> {
    pub fn new(store: &'a Store, config: &'a Config) -> Verdicts<'a> {
        Verdicts {
            store,
            k: &config.scoring,
            cases_on: match config.alerts.period {
                AlertPeriod::Month => Kind::Month,
                AlertPeriod::Quarter => Kind::Quarter,
            },
        }
    }

    /// Every centre's verdict for `period`, by centre id: refreshed first where a result or
    /// label arrived since, rebuilt first where it was never computed or is stale.
    pub async fn read(&self, period: &Period) -> Result<Arc<[Verdict]>, VerdictError> {
        let version = self.bring_up_to_date(period).await?;
        let key = (self.store.id(), period.label.clone());
        if let Some(kept) = version.and_then(|v| kept::get(&key, v)) {
            return Ok(kept);
        }
        let rows = self.store.verdicts(&period.label).await?;
        let read: Arc<[Verdict]> = rows.iter().map(decode).collect::<Result<_, _>>()?;
        if let Some(v) = version {
            kept::put(key, v, read.clone());
        }
        Ok(read)
    }

    /// One centre's verdict for `period` (a centre page reads six months of one centre, not
    /// six months of every centre).
    pub async fn one(
        &self,
        period: &Period,
        centre: &str,
    ) -> Result<Option<CentreScores>, VerdictError> {
        self.bring_up_to_date(period).await?;
        let row = self.store.verdict(&period.label, centre).await?;
        row.as_ref()
            .map(|r| decode(r).map(|v| v.scores))
            .transpose()
    }

    /// Refreshes what the queue holds and builds `period` when it is missing or stale.
    /// Returns the period's stored version (see `kept`).
    async fn bring_up_to_date(&self, period: &Period) -> Result<Option<i64>, VerdictError> {
        self.catch_up().await?;
        // Readers arriving together at a period to build wait for one build.
        let _one = REBUILDING.lock().await;
        self.ensure(period, true).await?;
        Ok(self.store.rerank_if_stale(&period.label).await?)
    }

    /// The scores of `read`, without the trends.
    pub async fn scores(&self, period: &Period) -> Result<Vec<CentreScores>, VerdictError> {
        Ok(self
            .read(period)
            .await?
            .iter()
            .map(|v| v.scores.clone())
            .collect())
    }

    /// The scores of `read` with the samples the bootstrap resamples: for trends against a
    /// period other than the one before (`raqib trends --against`).
    pub async fn scores_with_samples(
        &self,
        period: &Period,
    ) -> Result<Vec<CentreScores>, VerdictError> {
        self.bring_up_to_date(period).await?;
        let rows = self.store.verdicts_with_samples(&period.label).await?;
        rows.iter().map(|r| decode(r).map(|v| v.scores)).collect()
    }

    /// Rebuilds `period` whole from results and labels (`raqib verdicts refresh`).
    pub async fn rebuild(&self, period: &Period) -> Result<usize, VerdictError> {
        self.catch_up().await?;
        let _one = REBUILDING.lock().await;
        self.refresh_period(period, true).await
    }

    /// Rebuilds each of `periods` whole, in their order, telling `done` each period's centres
    /// and time. Each month's results are read and scored once: a longer period made of
    /// months rebuilt just before (a quarter after its three) is scored from theirs.
    pub async fn rebuild_all(
        &self,
        periods: &[Period],
        mut done: impl FnMut(&Period, usize, std::time::Duration),
    ) -> Result<usize, VerdictError> {
        self.catch_up().await?;
        let _one = REBUILDING.lock().await;
        let mut months: Vec<(Period, Vec<ScoredResult>)> = Vec::new();
        let mut centres = 0;
        for (i, p) in periods.iter().enumerate() {
            let t = std::time::Instant::now();
            let scored = match months_covering(&months, p) {
                Some(parts) => parts.concat(),
                None => load::scored_results(self.store, p, self.k).await?,
            };
            let n = self.store_period(p, true, &scored).await?;
            centres += n;
            if p.kind == Kind::Month {
                months.push((p.clone(), scored));
            }
            // A month is kept while a period still to come is made of it.
            let later = &periods[i + 1..];
            months.retain(|(m, _)| {
                later
                    .iter()
                    .any(|l| l.kind != Kind::Month && l.from <= m.from && m.until <= l.until)
            });
            done(p, n, t.elapsed());
        }
        Ok(centres)
    }

    /// The periods `raqib verdicts refresh --all` rebuilds: every stored one, and every month
    /// and quarter from the first result to the last.
    pub async fn all_periods(&self) -> Result<Vec<Period>, VerdictError> {
        let mut labels: BTreeSet<String> = self
            .store
            .verdict_periods()
            .await?
            .into_iter()
            .map(|p| p.period)
            .collect();
        if let Some((first, last)) = self.store.result_span().await? {
            let parse = |t: &str| DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&Utc));
            if let (Ok(first), Ok(last)) = (parse(&first), parse(&last)) {
                let mut month = Period::month_of(last);
                while month.end() > first {
                    labels.insert(month.label.clone());
                    labels.insert(Period::quarter_of(month.start()).label);
                    month = month.previous();
                }
            }
        }
        let mut out: Vec<Period> = labels
            .iter()
            .filter_map(|l| Period::parse(l).ok())
            .collect();
        // Oldest first: each period's "before" is then already stored. By end, then the
        // shorter first: a quarter comes after its months, and is scored from them.
        out.sort_by_key(|p| (p.until, std::cmp::Reverse(p.from)));
        Ok(out)
    }

    /// Makes sure `period`'s stored verdicts exist and were computed with today's knobs and
    /// registry (and, `with_trends`, against the period before).
    async fn ensure(&self, period: &Period, with_trends: bool) -> Result<(), VerdictError> {
        let want = self.fingerprint_for(with_trends);
        match self.store.verdict_period(&period.label).await? {
            Some(p)
                if !p.stale
                    && (p.fingerprint == want
                        || (!with_trends && p.fingerprint == self.fingerprint_for(true))) =>
            {
                Ok(())
            }
            _ => self.refresh_period(period, with_trends).await.map(|_| ()),
        }
    }

    /// A period stored without its trends (as the "period before" of another) carries a
    /// fingerprint of its own, so that reading it directly computes them.
    fn fingerprint_for(&self, with_trends: bool) -> String {
        let f = fingerprint(self.k);
        if with_trends {
            f
        } else {
            format!("{f}-no-trends")
        }
    }

    /// Computes and stores every centre's verdict of `period`: the one place results are
    /// scored for the surfaces. Returns the number of centres.
    async fn refresh_period(
        &self,
        period: &Period,
        with_trends: bool,
    ) -> Result<usize, VerdictError> {
        let scored = load::scored_results(self.store, period, self.k).await?;
        self.store_period(period, with_trends, &scored).await
    }

    /// `refresh_period` from the period's results already read and scored.
    async fn store_period(
        &self,
        period: &Period,
        with_trends: bool,
        scored: &[ScoredResult],
    ) -> Result<usize, VerdictError> {
        let now = Utc::now();
        let scores = load::period_scores(self.store, period, self.k, scored).await?;
        let trends: BTreeMap<String, CentreTrend> = if with_trends {
            let before_period = period.previous();
            Box::pin(self.ensure(&before_period, false)).await?;
            let before: Vec<CentreScores> = self
                .store
                .verdicts_with_samples(&before_period.label)
                .await?
                .iter()
                .map(|r| decode(r).map(|v| v.scores))
                .collect::<Result<_, _>>()?;
            score::centre_trends(&scores, &before, self.k)
                .into_iter()
                .map(|t| (t.centre.clone(), t))
                .collect()
        } else {
            BTreeMap::new()
        };
        if period.kind == self.cases_on {
            cases::sync(self.store, &scores, period, self.k, now).await?;
        }
        let computed_at = millis(&now);
        let rows: Vec<VerdictRow> = scores
            .iter()
            .map(|s| {
                encode(
                    &period.label,
                    s,
                    trends.get(&s.centre).cloned(),
                    &computed_at,
                )
            })
            .collect();
        self.store
            .replace_verdicts(
                &VerdictPeriod {
                    period: period.label.clone(),
                    starts_at: millis(&period.start()),
                    ends_at: millis(&period.end()),
                    fingerprint: self.fingerprint_for(with_trends),
                    stale: false,
                    computed_at: computed_at.clone(),
                },
                &rows,
            )
            .await?;
        Ok(rows.len())
    }

    /// Refreshes the centres queued by new results and labels, in the stored periods their
    /// results fall in; the queue entries are removed once their refresh is stored.
    pub async fn catch_up(&self) -> Result<usize, VerdictError> {
        // One catch-up at a time in this process: concurrent readers (a dashboard's requests)
        // wait for it rather than refresh the same centres side by side. Other processes may
        // refresh the same entries too; a refresh is idempotent.
        static CATCHING_UP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _one = CATCHING_UP.lock().await;
        let mut refreshed = 0;
        loop {
            let queue = self.store.dirty_verdicts(QUEUE_BATCH).await?;
            let Some(last) = queue.last().map(|d| d.id) else {
                return Ok(refreshed);
            };
            // A short batch was the whole queue: no second read to learn that it is empty.
            let whole = (queue.len() as i64) < QUEUE_BATCH;
            // The stored periods are few (months, quarters): matched to each entry here.
            let stored = self.store.verdict_periods().await?;
            let mut todo: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
            for d in &queue {
                let at = d.started_at.as_str();
                for (i, p) in stored.iter().enumerate() {
                    if p.starts_at.as_str() <= at && at < p.ends_at.as_str() {
                        todo.entry(d.centre.as_str()).or_default().insert(i);
                    }
                }
            }
            if todo.is_empty() {
                self.store.clear_dirty(last).await?;
                if whole {
                    return Ok(refreshed);
                }
                continue;
            }
            let centres = todo.len();
            for (n, (centre, ps)) in todo.into_iter().enumerate() {
                let ps: Vec<&VerdictPeriod> = ps.into_iter().map(|i| &stored[i]).collect();
                // The queue goes with the last centre's writes: a crash before leaves it whole.
                let done = (n + 1 == centres).then_some(last);
                refreshed += self.refresh_centre(&stored, &ps, centre, done).await?;
            }
            if whole {
                return Ok(refreshed);
            }
        }
    }

    /// Recomputes one centre's verdicts of the stored periods `ps` from its results (read once
    /// for them all), then what they move: its agency's inherited web scores, the periods'
    /// ranks, its trend in each period after, and its follow-up case; all written in one
    /// transaction, with the queue's removal up to `queue_done`. Returns the periods refreshed;
    /// one to be rebuilt whole (stale, other knobs) is left to its next read.
    async fn refresh_centre(
        &self,
        stored: &[VerdictPeriod],
        ps: &[&VerdictPeriod],
        centre_id: &str,
        queue_done: Option<i64>,
    ) -> Result<usize, VerdictError> {
        let with_trends = self.fingerprint_for(true);
        let without = self.fingerprint_for(false);
        let mut live: Vec<(&VerdictPeriod, Period, bool)> = ps
            .iter()
            .filter(|p| !p.stale && (p.fingerprint == with_trends || p.fingerprint == without))
            .filter_map(|p| {
                let period = Period::parse(&p.period).ok()?;
                Some((*p, period, p.fingerprint == with_trends))
            })
            .collect();
        // Oldest first: a refreshed period is then the "before" of the next one refreshed.
        live.sort_by_key(|(_, period, _)| (period.from, period.until));
        if live.is_empty() {
            self.store.put_refresh(&[], &[], queue_done).await?;
            return Ok(0);
        }
        let since = live.iter().map(|l| l.1.start()).min().expect("one period");
        let until = live.iter().map(|l| l.1.end()).max().expect("one period");
        // The centre's stored verdicts wanted: those refreshed, the periods before them (their
        // trends' base) and after them (whose trends they are the base of).
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        for (p, period, _) in &live {
            wanted.insert(p.period.clone());
            wanted.insert(period.previous().label);
        }
        for s in stored {
            if let Ok(n) = Period::parse(&s.period) {
                if live.iter().any(|(_, period, _)| n.previous() == *period) {
                    wanted.insert(s.period.clone());
                }
            }
        }
        let wanted: Vec<String> = wanted.into_iter().collect();
        // The results are most of the reading: the three small reads go one after the other
        // on a second connection meanwhile (more side by side only queue on two cores).
        let ((centre, labels, mut mine), results) = tokio::try_join!(
            async {
                let centre = self.store.centre(centre_id).await?;
                let labels = load::labels_of_centre(self.store, centre_id, since, until).await?;
                let kept = self.store.centre_verdicts(centre_id, &wanted).await?;
                // The centre's stored verdicts, kept current as periods are refreshed.
                let mut mine: BTreeMap<String, Verdict> = BTreeMap::new();
                for row in &kept {
                    mine.insert(row.period.clone(), decode(row)?);
                }
                Ok::<_, VerdictError>((centre, labels, mine))
            },
            async {
                // A task of its own: decoding the results then runs on the other core while
                // the small reads' round trips go on, not between them.
                let (store, id) = (self.store.clone(), centre_id.to_string());
                let read =
                    tokio::spawn(async move { store.results_of_centre(&id, since, until).await });
                Ok::<_, VerdictError>(read.await.expect("the results' read panicked")?)
            },
        )?;
        let Some(centre) = centre else {
            self.store.put_refresh(&[], &[], queue_done).await?;
            return Ok(0);
        };
        // In time order, as the results are: each period's part is a slice.
        let scored = results
            .iter()
            .map(|r| score::score_result(r, labels.get(&r.id), self.k))
            .collect::<Result<Vec<_>, _>>()?;
        let now = Utc::now();
        let computed_at = millis(&now);
        let mut rows: Vec<VerdictRow> = Vec::new();
        let mut reranked: Vec<String> = Vec::new();
        let mut cased: Vec<(Period, CentreScores)> = Vec::new();
        // Each period's scores from its slice of the results, the periods side by side (their
        // bootstraps are most of a refresh).
        let part = |i: usize| {
            let (p, period, _) = &live[i];
            score::one_centre_scores(
                &centre,
                slice(&scored, &p.starts_at, &p.ends_at),
                period,
                self.k,
                mine.get(&p.period).map(|o| &o.scores.web),
            )
        };
        let part = &part;
        let mut computed: Vec<CentreScores> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..live.len())
                .map(|i| scope.spawn(move || part(i)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a scoring thread panicked"))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .rev()
        .collect();
        for (p, period, trends) in &live {
            let mut fresh = computed.pop().expect("one per period");
            let old = mine.get(&p.period).cloned();
            let own_site = !score::inherits_web(&fresh, &centre);
            // Most new results are calls: the web part, and with it the agency's pool and every
            // inherited web score, is then as stored and its bootstraps need not run again.
            let web_unchanged = old.as_ref().is_some_and(|o| {
                !own_site
                    || (o.scores.web.inherited_from.is_none()
                        && o.scores.web.sample == fresh.web.sample)
            });
            // This centre first, then the agency's centres whose inherited web score moved.
            let mut changed: Vec<(CentreScores, Option<CentreTrend>)> = Vec::new();
            if web_unchanged {
                if let (false, Some(o)) = (own_site, &old) {
                    fresh.web = o.scores.web.clone();
                    score::finish(&mut fresh, self.k);
                }
                changed.push((fresh, None));
            } else {
                let mut agency: Vec<Verdict> = self
                    .store
                    .agency_verdicts(&p.period, &centre.agency)
                    .await?
                    .iter()
                    .filter(|r| r.centre != centre.id)
                    .map(decode)
                    .collect::<Result<_, _>>()?;
                let pool = score::web_pools(agency.iter().map(|v| &v.scores).chain([&fresh]))
                    .remove(&centre.agency);
                // The pool's estimate only when someone takes it: a bootstrap over every check
                // of the agency's sites, computed once for all who inherit it.
                let takers =
                    !own_site || agency.iter().any(|v| v.scores.web.inherited_from.is_some());
                let pooled = if takers {
                    score::pooled_web(&centre.agency, pool.as_ref(), self.k)
                } else {
                    None
                };
                if !own_site {
                    score::inherit_web(&mut fresh, pooled.as_ref(), self.k);
                    score::finish(&mut fresh, self.k);
                }
                changed.push((fresh, None));
                // A site of this centre's own changes what its agency's site-less centres
                // inherit.
                if own_site {
                    for v in agency
                        .iter_mut()
                        .filter(|v| v.scores.web.inherited_from.is_some())
                    {
                        score::inherit_web(&mut v.scores, pooled.as_ref(), self.k);
                        score::finish(&mut v.scores, self.k);
                        changed.push((v.scores.clone(), v.trend.clone()));
                    }
                }
            }
            if *trends {
                let before = mine.get(&period.previous().label);
                changed[0].1 =
                    before.map(|b| score::centre_trend(&changed[0].0, &b.scores, self.k));
            }
            // Its place and the others' are set when the period's table is next read.
            reranked.push(p.period.clone());
            for (s, trend) in &changed {
                rows.push(encode(&p.period, s, trend.clone(), &computed_at));
            }
            let (me, my_trend) = changed.swap_remove(0);
            // Its trend in the period after, unless that one is refreshed here too (later, as
            // the periods go oldest first).
            for next in stored {
                let Ok(n) = Period::parse(&next.period) else {
                    continue;
                };
                if n.previous() != *period
                    || next.fingerprint != with_trends
                    || live.iter().any(|l| l.0.period == next.period)
                {
                    continue;
                }
                if let Some(v) = mine.get_mut(&next.period) {
                    v.trend = Some(score::centre_trend(&v.scores, &me, self.k));
                    rows.push(encode(
                        &next.period,
                        &v.scores,
                        v.trend.clone(),
                        &v.computed_at,
                    ));
                }
            }
            if period.kind == self.cases_on {
                cased.push((period.clone(), me.clone()));
            }
            mine.insert(
                p.period.clone(),
                Verdict {
                    scores: me,
                    trend: my_trend,
                    computed_at: computed_at.clone(),
                },
            );
        }
        self.store.put_refresh(&rows, &reranked, queue_done).await?;
        for (period, s) in &cased {
            cases::sync(self.store, std::slice::from_ref(s), period, self.k, now).await?;
        }
        Ok(live.len())
    }
}

/// The scored results started in `[from, until)` (RFC 3339 UTC) of `rs`, in time order.
fn slice<'a>(rs: &'a [ScoredResult], from: &str, until: &str) -> &'a [ScoredResult] {
    let a = rs.partition_point(|r| r.started_at.as_str() < from);
    let b = rs.partition_point(|r| r.started_at.as_str() < until);
    &rs[a..b.max(a)]
}

/// The scored results of the months that make up `p` exactly (a quarter of three months held),
/// in time order; `None` when they do not.
fn months_covering<'a>(
    months: &'a [(Period, Vec<ScoredResult>)],
    p: &Period,
) -> Option<Vec<&'a [ScoredResult]>> {
    if p.kind == Kind::Month {
        return None;
    }
    let mut parts: Vec<&(Period, Vec<ScoredResult>)> = months
        .iter()
        .filter(|(m, _)| p.from <= m.from && m.until <= p.until)
        .collect();
    parts.sort_by_key(|(m, _)| m.from);
    let mut reached = p.from;
    for (m, _) in &parts {
        if m.from != reached {
            return None;
        }
        reached = m.until;
    }
    (reached == p.until).then(|| parts.iter().map(|(_, s)| s.as_slice()).collect())
}

/// How one stored result counts, as shown beside it: in `raqib results`, on the result page
/// and `/api/results/{id}`, and in an alert's worst calls.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResultScoring {
    /// Whether it counts against its centre.
    pub counts: bool,
    pub excluded: Option<score::rules::Excluded>,
    pub call: Option<score::rules::CallScore>,
    pub web: Option<score::rules::WebCheckScore>,
    /// The auditor's label in force, if any.
    pub label: Option<score::rules::Label>,
}

/// The scoring of each of `results` with the labels in force: the one place a single result
/// is scored for display, as the verdict step scores it for the period.
pub async fn result_scoring(
    store: &Store,
    k: &ScoringConfig,
    results: &[crate::store::StoredResult],
) -> Result<Vec<ResultScoring>, VerdictError> {
    let labels = match results {
        [one] => load::label_of(store, one.id)
            .await?
            .map(|l| std::iter::once((one.id, l)).collect())
            .unwrap_or_default(),
        _ => load::labels(store).await?,
    };
    results
        .iter()
        .map(|r| {
            let label = labels.get(&r.id);
            let s = score::score_result(r, label, k)?;
            Ok(ResultScoring {
                counts: s.excluded.is_none(),
                excluded: s.excluded,
                call: s.call,
                web: s.web,
                label: label.cloned(),
            })
        })
        .collect()
}

fn encode(
    period: &str,
    s: &CentreScores,
    trend: Option<CentreTrend>,
    computed_at: &str,
) -> VerdictRow {
    let samples = Samples {
        phone: s.phone.sample.clone(),
        web: s.web.sample.clone(),
        phone_se: s.phone.score_se,
        web_se: s.web.score_se,
    };
    let stored = Stored {
        scores: s.clone(),
        trend,
    };
    VerdictRow {
        period: period.to_string(),
        centre: s.centre.clone(),
        agency: s.agency.clone(),
        flag: serde_json::to_value(s.flag)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        overall: s.overall,
        phone_score: s.phone.score.map(|e| e.value),
        rank: s.rank.map(i64::from),
        data: serde_json::to_string(&stored).expect("a verdict serialises"),
        samples: Some(serde_json::to_string(&samples).expect("samples serialise")),
        computed_at: computed_at.to_string(),
    }
}

pub(crate) fn decode(row: &VerdictRow) -> Result<Verdict, VerdictError> {
    let corrupt = |e: serde_json::Error| VerdictError::Corrupt {
        period: row.period.clone(),
        centre: row.centre.clone(),
        message: e.to_string(),
    };
    let stored: Stored = serde_json::from_str(&row.data).map_err(corrupt)?;
    let mut scores = stored.scores;
    // The rank column is kept apart (a centre's move re-ranks others without rewriting them).
    scores.rank = row.rank.and_then(|r| u32::try_from(r).ok());
    if let Some(samples) = &row.samples {
        let samples: Samples = serde_json::from_str(samples).map_err(corrupt)?;
        scores.phone.sample = samples.phone;
        scores.web.sample = samples.web;
        scores.phone.score_se = samples.phone_se;
        scores.web.score_se = samples.web_se;
    }
    Ok(Verdict {
        scores,
        trend: stored.trend,
        computed_at: row.computed_at.clone(),
    })
}
