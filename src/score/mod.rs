//! Scores, bands, flags and trends of ../shared/SCORING.md, computed from stored results and
//! auditor labels alone: the same store and `[scoring]` always give the same numbers.

pub mod agency;
pub mod cases;
pub mod load;
pub mod period;
pub mod rules;
pub mod stats;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::ScoringConfig;
use crate::registry::Centre;
use crate::store::{Probe, StoredResult};
use period::Period;
use rules::{CallScore, Excluded, Label, WebCheckScore};
use stats::{Estimate, SplitMix64};

/// One stored result as the methodology sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredResult {
    pub id: i64,
    pub centre: Option<String>,
    pub channel: String,
    pub started_at: String,
    pub outcome: String,
    /// Why it does not count against its centre (`null`: it counts).
    pub excluded: Option<Excluded>,
    pub call: Option<CallScore>,
    pub web: Option<WebCheckScore>,
    /// The call reached "not in service" (404, 410, 484, 604), counted or not: a dead number
    /// is a critical flag whatever the opening hours.
    #[serde(skip)]
    pub not_in_service: bool,
    #[serde(skip)]
    pub number: Option<String>,
    #[serde(skip)]
    pub target: String,
}

#[derive(Debug, thiserror::Error)]
#[error("result {id}: its stored data is not a {channel} result: {message}")]
pub struct ScoreError {
    pub id: i64,
    pub channel: String,
    pub message: String,
}

/// Scores one stored result with its label (if any).
pub fn score_result(
    r: &StoredResult,
    label: Option<&Label>,
    k: &ScoringConfig,
) -> Result<ScoredResult, ScoreError> {
    let mut out = ScoredResult {
        id: r.id,
        centre: r.centre_id.clone(),
        channel: r.channel.clone(),
        started_at: r.started_at.clone(),
        outcome: r.outcome.clone(),
        excluded: None,
        call: None,
        web: None,
        not_in_service: false,
        number: None,
        target: r.target.clone(),
    };
    match &r.probe {
        Probe::Call(c) => {
            out.number = c.number.clone();
            out.not_in_service = c.outcome == crate::probe::call::CallOutcome::NotInService;
            match rules::call_validity(c) {
                Ok(()) => out.call = Some(rules::call_score(c, label, k)),
                Err(why) => out.excluded = Some(why),
            }
        }
        Probe::Web(w) => match rules::web_validity(w) {
            Ok(()) => out.web = Some(rules::web_check_score(w, k)),
            Err(why) => out.excluded = Some(why),
        },
        Probe::Unreadable => out.excluded = Some(Excluded::Unreadable),
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Excellent,
    Medium,
    Weak,
}

pub fn band(score: f64, k: &ScoringConfig) -> Band {
    if score >= k.band_excellent {
        Band::Excellent
    } else if score <= k.band_weak {
        Band::Weak
    } else {
        Band::Medium
    }
}

/// The threshold rule's classes (SCORING.md §4).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FlagClass {
    Confirmed,
    Provisional,
    InsufficientData,
    Clear,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Critical {
    /// `number_not_in_service` or `site_down`.
    pub kind: String,
    pub detail: String,
    /// The results that show it.
    pub results: Vec<i64>,
}

/// What a channel's score is computed from: resampled as a whole by the bootstrap.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub enum Sample {
    #[default]
    Empty,
    /// Valid calls' scores.
    Phone(Vec<f64>),
    /// Valid checks' goodness, and the audits' performance and accessibility scores.
    Web {
        good: Vec<bool>,
        performance: Vec<f64>,
        accessibility: Vec<f64>,
    },
}

/// The indices of one resample, two from each 64-bit draw (its high half, then its low half):
/// half the generator's work, the most of a refresh. A resample begins on a fresh draw, so
/// every resample of a sample takes the same number of them (`Sample::draws`).
struct Picks<'a> {
    rng: &'a mut SplitMix64,
    low: Option<u32>,
}

impl<'a> Picks<'a> {
    fn new(rng: &'a mut SplitMix64) -> Self {
        Picks { rng, low: None }
    }

    /// Uniform in `0..n` (n > 0), by multiply-shift of 32 bits: unbiased enough for n ≪ 2³².
    fn below(&mut self, n: usize) -> usize {
        let half = match self.low.take() {
            Some(low) => low,
            None => {
                let x = self.rng.next_u64();
                self.low = Some(x as u32);
                (x >> 32) as u32
            }
        };
        ((half as u64 * n as u64) >> 32) as usize
    }
}

/// The mean of `xs.len()` picks from `xs` with replacement, without building the sample: the
/// picks in even places and those in odd places summed apart, then together. One running sum
/// would make every add wait for the one before: most of a bootstrap's time.
fn mean_of_picks(xs: &[f64], picks: &mut Picks) -> Option<f64> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let (mut even, mut odd) = (0.0, 0.0);
    for _ in 0..n / 2 {
        even += xs[picks.below(n)];
        odd += xs[picks.below(n)];
    }
    if n % 2 == 1 {
        even += xs[picks.below(n)];
    }
    Some((even + odd) / n as f64)
}

/// `mean_of_picks` from fresh `Picks`, each draw taken whole in the loop: its two picks go
/// one to each sum, and the generator's state stays in a register. A phone resample is this,
/// and it is most of a refresh's work: 2,000 resamples of 75 calls took 0.28 ms, against
/// 0.43 ms pick by pick.
fn mean_of_draws(xs: &[f64], rng: &mut SplitMix64) -> Option<f64> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let pick = |half: u64| xs[((half * n as u64) >> 32) as usize];
    let mut r = rng.clone();
    let (mut even, mut odd) = (0.0, 0.0);
    for _ in 0..n / 2 {
        let x = r.next_u64();
        even += pick(x >> 32);
        odd += pick(x & 0xffff_ffff);
    }
    if n % 2 == 1 {
        even += pick(r.next_u64() >> 32);
    }
    *rng = r;
    Some((even + odd) / n as f64)
}

impl Sample {
    pub fn value(&self, k: &ScoringConfig) -> Option<f64> {
        match self {
            Sample::Empty => None,
            Sample::Phone(xs) => (!xs.is_empty()).then(|| stats::mean(xs)),
            Sample::Web {
                good,
                performance,
                accessibility,
            } => web_value(good, performance, accessibility, k),
        }
    }

    /// The value of one bootstrap resample (each list redrawn to its own length, in the order
    /// good, performance, accessibility). Nothing is allocated: a refresh runs thousands.
    fn resampled_value(&self, rng: &mut SplitMix64, k: &ScoringConfig) -> Option<f64> {
        match self {
            Sample::Empty => None,
            Sample::Phone(xs) => mean_of_draws(xs, rng),
            Sample::Web {
                good,
                performance,
                accessibility,
            } => {
                let mut picks = Picks::new(rng);
                let n = good.len();
                let goods = (0..n).filter(|_| good[picks.below(n)]).count();
                let performance = mean_of_picks(performance, &mut picks);
                let accessibility = mean_of_picks(accessibility, &mut picks);
                web_value_of(goods, n, performance, accessibility, k)
            }
        }
    }

    /// The generator's draws one resample takes: one for every two values of the lists.
    fn draws(&self) -> usize {
        let picks = match self {
            Sample::Empty => 0,
            Sample::Phone(xs) => xs.len(),
            Sample::Web {
                good,
                performance,
                accessibility,
            } => good.len() + performance.len() + accessibility.len(),
        };
        picks.div_ceil(2)
    }

    /// The value with its seeded percentile-bootstrap interval, and the bootstrap's standard
    /// error (the spread of its resamples): a trend's interval is built from the two periods'
    /// standard errors, so it resamples nothing of its own.
    pub fn bootstrapped(&self, key: &str, k: &ScoringConfig) -> Option<Bootstrapped> {
        let value = self.value(k)?;
        let seed = stats::seed_for(k.seed, key);
        let vals = bootstrap(k, seed, self.draws(), |rng| self.resampled_value(rng, k));
        // To a millionth: a number of so few digits reads back from the stored JSON exactly
        // (serde_json's fast path), so a trend built from a stored period equals a rebuild's.
        let se = (stats::sd(&vals) * 1e6).round() / 1e6;
        Some(Bootstrapped {
            estimate: rounded(stats::percentile_interval(value, vals, k.confidence)),
            se,
        })
    }

    /// The value with its seeded percentile-bootstrap interval.
    pub fn estimate(&self, key: &str, k: &ScoringConfig) -> Option<Estimate> {
        self.bootstrapped(key, k).map(|b| b.estimate)
    }
}

/// A bootstrapped estimate and its standard error, unrounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrapped {
    pub estimate: Estimate,
    pub se: f64,
}

/// Draws in one bootstrap above which it is cut in parts run on every core.
const SPLIT_DRAWS: usize = 200_000;

thread_local! {
    /// Set on the threads of `on_every_core`: their bootstraps stay whole, the cores being
    /// busy with the other centres.
    static SHARING_CORES: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The statistics of `k.bootstrap_resamples` resamples, in order, each taking `draws` draws
/// from the generator seeded with `seed`. A large bootstrap outside a shared build (one centre's
/// refresh) is cut in parts side by side: each part's generator skips to where the part
/// begins, so the values are the same, in the same order, as drawn one after the other.
fn bootstrap(
    k: &ScoringConfig,
    seed: u64,
    draws: usize,
    stat: impl Fn(&mut SplitMix64) -> Option<f64> + Sync,
) -> Vec<f64> {
    let resamples = k.bootstrap_resamples;
    let part = |from: usize, to: usize| {
        let mut rng = SplitMix64::new(seed);
        rng.skip((from * draws) as u64);
        (from..to)
            .filter_map(|_| stat(&mut rng))
            .collect::<Vec<f64>>()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || resamples * draws < SPLIT_DRAWS || SHARING_CORES.get() {
        return part(0, resamples);
    }
    let chunk = resamples.div_ceil(threads);
    let part = &part;
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..resamples)
            .step_by(chunk)
            .map(|from| scope.spawn(move || part(from, (from + chunk).min(resamples))))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().expect("a bootstrap thread panicked"))
            .collect()
    })
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn rounded(e: Estimate) -> Estimate {
    Estimate {
        value: round1(e.value),
        low: round1(e.low),
        high: round1(e.high),
    }
}

/// Availability score from the share of good checks (SCORING.md §3).
pub fn availability_score(good: u64, valid: u64, k: &ScoringConfig) -> Option<f64> {
    (valid > 0).then(|| {
        let pct = 100.0 * good as f64 / valid as f64;
        100.0 * rules::linear_up(pct, k.availability_full_pct, k.availability_zero_pct)
    })
}

/// 0.4 availability + 0.3 performance + 0.3 accessibility; a part without data is left out
/// and the rest rescaled (a site checked with `--no-browser` is scored on availability).
fn web_value(good: &[bool], perf: &[f64], acc: &[f64], k: &ScoringConfig) -> Option<f64> {
    let mean = |xs: &[f64]| (!xs.is_empty()).then(|| stats::mean(xs));
    web_value_of(
        good.iter().filter(|g| **g).count(),
        good.len(),
        mean(perf),
        mean(acc),
        k,
    )
}

/// `web_value` from the count of good checks among `valid` and the two audit means.
fn web_value_of(
    goods: usize,
    valid: usize,
    perf: Option<f64>,
    acc: Option<f64>,
    k: &ScoringConfig,
) -> Option<f64> {
    let avail = availability_score(goods as u64, valid as u64, k)?;
    let parts = [
        (k.web_weights[0], Some(avail)),
        (k.web_weights[1], perf),
        (k.web_weights[2], acc),
    ];
    let weight: f64 = parts.iter().filter(|p| p.1.is_some()).map(|p| p.0).sum();
    let sum: f64 = parts.iter().filter_map(|(w, v)| v.map(|v| w * v)).sum();
    (weight > 0.0).then(|| sum / weight)
}

/// Rates as percentages with Wilson intervals.
fn rate(k_: u64, n: u64, k: &ScoringConfig) -> Option<Estimate> {
    stats::wilson(k_, n, k.confidence).map(|e| {
        rounded(Estimate {
            value: 100.0 * e.value,
            low: 100.0 * e.low,
            high: 100.0 * e.high,
        })
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PhoneScores {
    pub valid_calls: u64,
    /// Calls that do not count, by reason.
    pub excluded: BTreeMap<Excluded, u64>,
    pub score: Option<Estimate>,
    pub band: Option<Band>,
    pub answer_rate: Option<Estimate>,
    pub reached_person: Option<Estimate>,
    /// % of valid calls reaching a person within `service_level_secs` of dialling.
    pub service_level: Option<Estimate>,
    pub ring_no_answer: Option<Estimate>,
    pub mean_time_to_person_secs: Option<Estimate>,
    /// The median time from dialling to the answer over the valid answered calls.
    #[serde(default)]
    pub median_answer_secs: Option<f64>,
    /// The same calls counted by whole second to the answer: a report's median over every
    /// centre's calls is read from these, without the calls.
    #[serde(default)]
    pub answer_secs_counts: BTreeMap<u32, u64>,
    /// Mean points per component over the valid calls (`null` where never measured).
    pub components: BTreeMap<String, Option<f64>>,
    /// Valid calls needed in this period to flag or clear.
    pub min_calls: u64,
    #[serde(skip)]
    pub sample: Sample,
    /// The score's bootstrap standard error, kept with the sample (a trend is built from it).
    #[serde(skip)]
    pub score_se: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebScores {
    pub valid_checks: u64,
    pub excluded: BTreeMap<Excluded, u64>,
    pub availability_pct: Option<f64>,
    pub availability: Option<f64>,
    pub performance: Option<f64>,
    pub accessibility: Option<f64>,
    pub score: Option<Estimate>,
    pub band: Option<Band>,
    /// The agency whose sites' score this centre inherits (it has no site of its own).
    pub inherited_from: Option<String>,
    #[serde(skip)]
    pub sample: Sample,
    /// The score's bootstrap standard error, kept with the sample (a trend is built from it).
    #[serde(skip)]
    pub score_se: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CentreScores {
    pub centre: String,
    pub name_ar: String,
    pub name_en: String,
    pub agency: String,
    pub period: String,
    pub phone: PhoneScores,
    pub web: WebScores,
    /// 0.6 phone + 0.4 web, only when both channels have enough valid data (SCORING.md §4).
    pub overall: Option<f64>,
    pub band: Option<Band>,
    /// `gold` or `silver`.
    pub list: Option<String>,
    pub flag: FlagClass,
    pub critical: Vec<Critical>,
    /// Place in the league table of the period: scored centres only (by overall, then phone).
    pub rank: Option<u32>,
    /// Why there is no overall index: each channel short of data, and how short.
    pub unscored: Vec<Missing>,
}

/// A channel without enough valid data for the overall index, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Missing {
    /// `phone` or `web`.
    #[schema(value_type = crate::probe::Channel)]
    pub channel: String,
    /// `no_calls` (none placed), `no_calls_in_hours` (every call fell outside the centre's
    /// hours), `too_few_calls` (`valid` of `needed`), `no_web_checks`.
    #[schema(pattern = "^(no_calls|no_calls_in_hours|too_few_calls|no_web_checks)$")]
    pub reason: String,
    pub valid: u64,
    pub needed: u64,
}

fn phone_scores(rs: &[&ScoredResult], key: &str, min_calls: u64, k: &ScoringConfig) -> PhoneScores {
    let mut excluded = BTreeMap::new();
    let mut calls: Vec<&CallScore> = Vec::new();
    let mut no_answer = 0;
    for r in rs {
        match (&r.excluded, &r.call) {
            (Some(why), _) => *excluded.entry(*why).or_insert(0) += 1,
            (None, Some(c)) => {
                calls.push(c);
                no_answer += u64::from(r.outcome == "no_answer");
            }
            _ => {}
        }
    }
    let n = calls.len() as u64;
    let count = |f: &dyn Fn(&CallScore) -> bool| calls.iter().filter(|c| f(c)).count() as u64;
    let sample = phone_sample(rs.iter().copied());
    let ttp: Vec<f64> = calls.iter().filter_map(|c| c.time_to_person_secs).collect();
    let mut answer_secs: Vec<f64> = calls.iter().filter_map(|c| c.answer_secs).collect();
    answer_secs.sort_by(f64::total_cmp);
    let mut answer_secs_counts = BTreeMap::new();
    for s in &answer_secs {
        *answer_secs_counts.entry(s.max(0.0) as u32).or_insert(0) += 1;
    }
    let mut components = BTreeMap::new();
    for name in [
        "network_answer",
        "ring_time",
        "reached_person",
        "time_to_person",
        "voice_quality",
    ] {
        let pts: Vec<f64> = calls
            .iter()
            .filter_map(|c| c.components.iter().find(|x| x.name == name)?.points)
            .collect();
        components.insert(
            name.to_string(),
            (!pts.is_empty()).then(|| round1(stats::mean(&pts))),
        );
    }
    let score = sample.bootstrapped(&format!("{key}/phone"), k);
    PhoneScores {
        valid_calls: n,
        excluded,
        band: score.map(|s| band(s.estimate.value, k)),
        score: score.map(|s| s.estimate),
        score_se: score.map(|s| s.se),
        answer_rate: rate(count(&|c| c.answered), n, k),
        reached_person: rate(count(&|c| c.reached_person), n, k),
        service_level: rate(
            count(&|c| {
                c.person_after_dial_secs
                    .is_some_and(|s| s <= k.service_level_secs)
            }),
            n,
            k,
        ),
        ring_no_answer: rate(no_answer, n, k),
        mean_time_to_person_secs: Sample::Phone(ttp).estimate(&format!("{key}/ttp"), k),
        median_answer_secs: (!answer_secs.is_empty())
            .then(|| round1(stats::percentile(&answer_secs, 0.5))),
        answer_secs_counts,
        components,
        min_calls,
        sample,
    }
}

/// The phone channel's bootstrap sample: the valid calls' scores, in the results' order.
fn phone_sample<'a>(rs: impl IntoIterator<Item = &'a ScoredResult>) -> Sample {
    Sample::Phone(
        rs.into_iter()
            .filter(|r| r.excluded.is_none())
            .filter_map(|r| r.call.as_ref().map(|c| c.score))
            .collect(),
    )
}

fn web_scores(
    rs: &[&ScoredResult],
    key: &str,
    k: &ScoringConfig,
    known: Option<&WebScores>,
) -> WebScores {
    let mut excluded = BTreeMap::new();
    let (mut good, mut performance, mut accessibility) = (vec![], vec![], vec![]);
    for r in rs {
        match (&r.excluded, &r.web) {
            (Some(why), _) => *excluded.entry(*why).or_insert(0) += 1,
            (None, Some(w)) => {
                good.push(w.good);
                performance.extend(w.performance);
                accessibility.extend(w.accessibility);
            }
            _ => {}
        }
    }
    let n = good.len() as u64;
    let g = good.iter().filter(|g| **g).count() as u64;
    let mean = |xs: &Vec<f64>| (!xs.is_empty()).then(|| round1(stats::mean(xs)));
    let (perf, acc) = (mean(&performance), mean(&accessibility));
    let sample = Sample::Web {
        good,
        performance,
        accessibility,
    };
    let score = match known {
        Some(o) if o.inherited_from.is_none() && o.sample == sample => o
            .score
            .zip(o.score_se)
            .map(|(estimate, se)| Bootstrapped { estimate, se }),
        _ => sample.bootstrapped(&format!("{key}/web"), k),
    };
    WebScores {
        valid_checks: n,
        excluded,
        availability_pct: (n > 0).then(|| round1(100.0 * g as f64 / n as f64)),
        availability: availability_score(g, n, k).map(round1),
        performance: perf,
        accessibility: acc,
        band: score.map(|s| band(s.estimate.value, k)),
        score: score.map(|s| s.estimate),
        score_se: score.map(|s| s.se),
        inherited_from: None,
        sample,
    }
}

/// The critical flags of a centre's results: a number not in service; a site down longer than
/// `site_down_critical_hours` (from its first failed check to the next good one, or the last).
fn criticals(rs: &[&ScoredResult], k: &ScoringConfig) -> Vec<Critical> {
    let mut out = Vec::new();
    let mut dead: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in rs {
        if r.not_in_service {
            let number = r.number.clone().unwrap_or_else(|| r.target.clone());
            dead.entry(number).or_default().push(r.id);
        }
    }
    for (number, ids) in dead {
        out.push(Critical {
            kind: "number_not_in_service".into(),
            detail: format!("{number} is not in service ({} calls)", ids.len()),
            results: ids,
        });
    }
    let mut by_site: BTreeMap<&str, Vec<&ScoredResult>> = BTreeMap::new();
    for r in rs.iter().filter(|r| r.web.is_some()) {
        by_site.entry(&r.target).or_default().push(r);
    }
    let time = |r: &ScoredResult| {
        DateTime::parse_from_rfc3339(&r.started_at)
            .map(|t| t.with_timezone(&Utc))
            .ok()
    };
    for (site, checks) in by_site {
        let mut run: Vec<&ScoredResult> = Vec::new();
        let mut worst: Option<(f64, Vec<i64>)> = None;
        let mut close = |run: &mut Vec<&ScoredResult>, end: Option<DateTime<Utc>>| {
            if let (Some(first), Some(end)) = (run.first().and_then(|r| time(r)), end) {
                let hours = (end - first).num_seconds() as f64 / 3600.0;
                if hours > k.site_down_critical_hours && worst.as_ref().is_none_or(|w| hours > w.0)
                {
                    worst = Some((hours, run.iter().map(|r| r.id).collect()));
                }
            }
            run.clear();
        };
        for c in checks {
            if c.web.as_ref().is_some_and(|w| w.good) {
                close(&mut run, time(c));
            } else {
                run.push(c);
            }
        }
        let last = run.last().and_then(|r| time(r));
        close(&mut run, last);
        if let Some((hours, ids)) = worst {
            out.push(Critical {
                kind: "site_down".into(),
                detail: format!("{site} was down for {hours:.1} h"),
                results: ids,
            });
        }
    }
    out
}

/// Every centre's scores for a period, from its stored results and labels.
pub fn centre_scores(
    centres: &[Centre],
    results: &[ScoredResult],
    period: &Period,
    k: &ScoringConfig,
) -> Vec<CentreScores> {
    let mut by_centre: HashMap<&str, Vec<&ScoredResult>> = HashMap::new();
    for r in results {
        if let Some(c) = &r.centre {
            by_centre.entry(c).or_default().push(r);
        }
    }
    let min_calls = period.min_calls(k.min_calls_month, k.min_calls_quarter);
    let work: Vec<(&Centre, Vec<&ScoredResult>)> = centres
        .iter()
        .map(|c| (c, by_centre.remove(c.id.as_str()).unwrap_or_default()))
        .collect();
    // The bootstraps are most of a period's build: the centres are shared among the cores.
    let mut out: Vec<CentreScores> = on_every_core(&work, |(c, rs)| {
        channel_scores(c, rs, period, min_calls, k, None)
    });
    inherit_agency_web(&mut out, centres, k);
    for c in &mut out {
        finish(c, k);
    }
    rank(&mut out);
    out
}

/// `f` of each item, in order, the items shared among the cores (each a bootstrap or more).
fn on_every_core<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < 2 || threads < 2 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    SHARING_CORES.set(true);
                    part.iter().map(f).collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().expect("a scoring thread panicked"))
            .collect()
    })
}

/// One centre's scores of `period` from its own `results`, as `centre_scores` gives them.
/// `known_web` is its stored web part: when its own sites' sample is the same (a refresh
/// after a call), its interval is taken as it is rather than bootstrapped again; the interval
/// depends on nothing else.
pub fn one_centre_scores(
    centre: &Centre,
    results: &[ScoredResult],
    period: &Period,
    k: &ScoringConfig,
    known_web: Option<&WebScores>,
) -> CentreScores {
    let min_calls = period.min_calls(k.min_calls_month, k.min_calls_quarter);
    let rs: Vec<&ScoredResult> = results
        .iter()
        .filter(|r| r.centre.as_deref() == Some(centre.id.as_str()))
        .collect();
    let mut out = vec![channel_scores(centre, &rs, period, min_calls, k, known_web)];
    inherit_agency_web(&mut out, std::slice::from_ref(centre), k);
    let mut one = out.pop().expect("one centre");
    finish(&mut one, k);
    rank(std::slice::from_mut(&mut one));
    one
}

/// One centre's channel scores and critical flags of `period` from its results, before the
/// agency's web is inherited and the verdict finished.
fn channel_scores(
    c: &Centre,
    rs: &[&ScoredResult],
    period: &Period,
    min_calls: u64,
    k: &ScoringConfig,
    known_web: Option<&WebScores>,
) -> CentreScores {
    let key = format!("{}/{}", c.id, period.label);
    let phone_rs: Vec<&ScoredResult> = rs
        .iter()
        .copied()
        .filter(|r| r.channel == "phone")
        .collect();
    let web_rs: Vec<&ScoredResult> = rs.iter().copied().filter(|r| r.channel == "web").collect();
    CentreScores {
        centre: c.id.clone(),
        name_ar: c.name_ar.clone(),
        name_en: c.name_en.clone(),
        agency: c.agency.clone(),
        period: period.label.clone(),
        phone: phone_scores(&phone_rs, &key, min_calls, k),
        web: web_scores(&web_rs, &key, k, known_web),
        overall: None,
        band: None,
        list: None,
        flag: FlagClass::InsufficientData,
        critical: criticals(rs, k),
        rank: None,
        unscored: Vec::new(),
    }
}

/// The league table's places: scored centres only, by overall index then phone score (ties
/// share nothing: the centre id settles them, so the order is stable).
pub fn rank(all: &mut [CentreScores]) {
    let mut order: Vec<usize> = (0..all.len())
        .filter(|&i| all[i].overall.is_some())
        .collect();
    let key = |c: &CentreScores| (c.overall, c.phone.score.map(|e| e.value));
    order.sort_by(|&a, &b| {
        league_order(
            (key(&all[a]), &all[a].centre),
            (key(&all[b]), &all[b].centre),
        )
    });
    for (place, i) in order.into_iter().enumerate() {
        all[i].rank = Some(place as u32 + 1);
    }
}

/// The league table's order of two centres by ((overall, phone score), id): the higher
/// index first, then the higher phone score, then the id.
pub fn league_order(
    a: ((Option<f64>, Option<f64>), &str),
    b: ((Option<f64>, Option<f64>), &str),
) -> std::cmp::Ordering {
    let key = |k: (Option<f64>, Option<f64>)| (k.0.unwrap_or(f64::MIN), k.1.unwrap_or(f64::MIN));
    let (ka, kb) = (key(a.0), key(b.0));
    kb.0.total_cmp(&ka.0)
        .then(kb.1.total_cmp(&ka.1))
        .then(a.1.cmp(b.1))
}

/// An agency's own sites' checks pooled: what its centres without a site inherit.
#[derive(Debug, Clone, Default)]
pub struct WebPool {
    pub good: Vec<bool>,
    pub performance: Vec<f64>,
    pub accessibility: Vec<f64>,
}

/// The web pools of every agency, from the centres' own web samples (inherited ones left out).
pub fn web_pools<'a>(all: impl IntoIterator<Item = &'a CentreScores>) -> BTreeMap<String, WebPool> {
    let mut pooled: BTreeMap<String, WebPool> = BTreeMap::new();
    for c in all {
        if c.web.inherited_from.is_some() {
            continue;
        }
        if let Sample::Web {
            good,
            performance,
            accessibility,
        } = &c.web.sample
        {
            let e = pooled.entry(c.agency.clone()).or_default();
            e.good.extend(good);
            e.performance.extend(performance);
            e.accessibility.extend(accessibility);
        }
    }
    pooled
}

/// Whether `c` takes its agency's web score: no site of its own and no check of its own.
pub fn inherits_web(c: &CentreScores, centre: &Centre) -> bool {
    centre.websites.is_empty() && c.web.valid_checks == 0
}

/// An agency's pooled web score with its sample, as each of its site-less centres takes it.
#[derive(Debug, Clone)]
pub struct PooledWeb {
    pub score: Option<Bootstrapped>,
    pub sample: Sample,
}

/// The pooled score of `agency`'s sites (its bootstrap keyed by the agency, so every centre
/// that inherits it shows the same figures): computed once per agency, not once per centre.
pub fn pooled_web(agency: &str, pool: Option<&WebPool>, k: &ScoringConfig) -> Option<PooledWeb> {
    let pool = pool.filter(|p| !p.good.is_empty())?;
    let sample = Sample::Web {
        good: pool.good.clone(),
        performance: pool.performance.clone(),
        accessibility: pool.accessibility.clone(),
    };
    Some(PooledWeb {
        score: sample.bootstrapped(&format!("agency/{agency}/web"), k),
        sample,
    })
}

/// Gives `c` its agency's pooled web score (SCORING.md §3), or none when there is none.
pub fn inherit_web(c: &mut CentreScores, pooled: Option<&PooledWeb>, k: &ScoringConfig) {
    let Some(p) = pooled else {
        c.web.score = None;
        c.web.band = None;
        c.web.inherited_from = None;
        c.web.sample = Sample::Empty;
        c.web.score_se = None;
        return;
    };
    c.web.score = p.score.map(|s| s.estimate);
    c.web.score_se = p.score.map(|s| s.se);
    c.web.band = p.score.map(|s| band(s.estimate.value, k));
    c.web.inherited_from = Some(c.agency.clone());
    c.web.sample = p.sample.clone();
}

/// Centres without a site of their own take their agency's web score (SCORING.md §3): the
/// checks of all the agency's sites pooled.
fn inherit_agency_web(out: &mut [CentreScores], centres: &[Centre], k: &ScoringConfig) {
    let pools = web_pools(out.iter());
    let mut pooled: BTreeMap<String, Option<PooledWeb>> = BTreeMap::new();
    for (c, centre) in out.iter_mut().zip(centres) {
        if inherits_web(c, centre) {
            let p = pooled
                .entry(c.agency.clone())
                .or_insert_with(|| pooled_web(&c.agency, pools.get(&c.agency), k));
            inherit_web(c, p.as_ref(), k);
        }
    }
}

/// The centre's overall index, band, flag class, list and reasons, from its channels' scores.
pub fn finish(c: &mut CentreScores, k: &ScoringConfig) {
    let (p, w) = (c.phone.score, c.web.score);
    c.unscored.clear();
    if c.phone.valid_calls < c.phone.min_calls || p.is_none() {
        let outside = c.phone.excluded.get(&Excluded::OutsideHours).copied();
        let placed = c.phone.valid_calls + c.phone.excluded.values().sum::<u64>();
        c.unscored.push(Missing {
            channel: "phone".into(),
            reason: match (c.phone.valid_calls, outside) {
                (0, _) if placed == 0 => "no_calls",
                (0, Some(n)) if n > 0 => "no_calls_in_hours",
                _ => "too_few_calls",
            }
            .into(),
            valid: c.phone.valid_calls,
            needed: c.phone.min_calls,
        });
    }
    if w.is_none() {
        c.unscored.push(Missing {
            channel: "web".into(),
            reason: "no_web_checks".into(),
            valid: c.web.valid_checks,
            needed: 1,
        });
    }
    // The index exists only when both channels stand on enough data: one channel alone would
    // rank a centre whose phone was never tested beside one whose phone was.
    c.overall = match (p, w) {
        (Some(p), Some(w)) if c.unscored.is_empty() => Some(round1(
            k.overall_weights[0] * p.value + k.overall_weights[1] * w.value,
        )),
        _ => None,
    };
    c.band = c.overall.map(|o| band(o, k));
    c.flag = match p {
        _ if c.phone.valid_calls < c.phone.min_calls => FlagClass::InsufficientData,
        Some(s) if s.value <= k.threshold && s.high <= k.threshold => FlagClass::Confirmed,
        Some(s) if s.value <= k.threshold => FlagClass::Provisional,
        Some(_) => FlagClass::Clear,
        None => FlagClass::InsufficientData,
    };
    // Gold and silver: both channels scored and at the cut-off with their intervals' lower
    // bounds too, the phone's data sufficient, and no critical flag open.
    let clears = |cut: f64| {
        c.critical.is_empty()
            && c.overall.is_some()
            && c.flag == FlagClass::Clear
            && [p, w]
                .iter()
                .flatten()
                .all(|e| e.value >= cut && e.low >= cut)
            && p.is_some()
            && w.is_some()
    };
    c.list = if clears(k.gold) {
        Some("gold".into())
    } else if clears(k.silver) {
        Some("silver".into())
    } else {
        None
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Improved,
    Declined,
    Unchanged,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelTrend {
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub change: Option<Estimate>,
    /// `null` when either period has no score.
    pub trend: Option<Trend>,
    pub band_before: Option<Band>,
    pub band_after: Option<Band>,
}

/// The flagged list leadership follows up, the same in `raqib flags`, reports and the API:
/// critical flags first, then confirmed, provisional, and the centres at or under the
/// threshold without enough valid calls; lowest phone score first within a class.
pub fn flagged<'a, C: std::borrow::Borrow<CentreScores>>(
    all: &'a [C],
    k: &ScoringConfig,
) -> Vec<&'a CentreScores> {
    let mut out: Vec<&CentreScores> = all
        .iter()
        .map(C::borrow)
        .filter(|c| {
            !c.critical.is_empty()
                || matches!(c.flag, FlagClass::Confirmed | FlagClass::Provisional)
                || (c.flag == FlagClass::InsufficientData
                    && c.phone.score.is_some_and(|s| s.value <= k.threshold))
        })
        .collect();
    out.sort_by(|a, b| {
        // Critical flags first (`is_empty` false sorts first), then by class and score.
        a.critical
            .is_empty()
            .cmp(&b.critical.is_empty())
            .then(a.flag.cmp(&b.flag))
            .then(
                a.phone
                    .score
                    .map(|s| s.value)
                    .unwrap_or(f64::MAX)
                    .total_cmp(&b.phone.score.map(|s| s.value).unwrap_or(f64::MAX)),
            )
            .then(a.centre.cmp(&b.centre))
    });
    out
}

/// One centre's trends between two periods, phone and web.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CentreTrend {
    pub centre: String,
    pub agency: String,
    pub period: String,
    pub against: String,
    pub phone: ChannelTrend,
    pub web: ChannelTrend,
}

/// The trends of every centre scored in both `after` and `before`. A trend is arithmetic on
/// each period's stored score and standard error: no thread is worth spawning for them.
pub fn centre_trends(
    after: &[CentreScores],
    before: &[CentreScores],
    k: &ScoringConfig,
) -> Vec<CentreTrend> {
    let before: HashMap<&str, &CentreScores> =
        before.iter().map(|b| (b.centre.as_str(), b)).collect();
    after
        .iter()
        .filter_map(|a| Some(centre_trend(a, before.get(a.centre.as_str())?, k)))
        .collect()
}

/// One centre's trends between `before` and `after`, from each period's score and its
/// bootstrap's standard error (nothing is resampled).
pub fn centre_trend(a: &CentreScores, b: &CentreScores, k: &ScoringConfig) -> CentreTrend {
    let side = |sample: &Sample, se: Option<f64>| sample.value(k).zip(se);
    CentreTrend {
        centre: a.centre.clone(),
        agency: a.agency.clone(),
        period: a.period.clone(),
        against: b.period.clone(),
        phone: trend(
            side(&a.phone.sample, a.phone.score_se),
            side(&b.phone.sample, b.phone.score_se),
            k,
        ),
        web: trend(
            side(&a.web.sample, a.web.score_se),
            side(&b.web.sample, b.web.score_se),
            k,
        ),
    }
}

/// Improved when the change is at least `trend_delta` and its interval excludes 0; declined in
/// mirror; otherwise unchanged (SCORING.md §4). Each side is a period's score and its bootstrap
/// standard error. The periods' samples are independent, so the change's standard error is
/// the root of the sum of their squares, and its interval the normal one around the change
/// (the standard bootstrap interval, Efron & Tibshirani 1993, §13.3): a trend then costs no
/// resampling, where the percentile interval of paired resamples drew both periods again.
pub fn trend(
    after: Option<(f64, f64)>,
    before: Option<(f64, f64)>,
    k: &ScoringConfig,
) -> ChannelTrend {
    let change = after.zip(before).map(|((a, sa), (b, sb))| {
        let half = stats::z_for(k.confidence) * sa.hypot(sb);
        let d = a - b;
        rounded(Estimate {
            value: d,
            low: d - half,
            high: d + half,
        })
    });
    let (a, b) = (after.map(|s| round1(s.0)), before.map(|s| round1(s.0)));
    ChannelTrend {
        before: b,
        after: a,
        trend: change.map(|d| {
            if d.value >= k.trend_delta && d.low > 0.0 {
                Trend::Improved
            } else if d.value <= -k.trend_delta && d.high < 0.0 {
                Trend::Declined
            } else {
                Trend::Unchanged
            }
        }),
        change,
        band_before: b.map(|s| band(s, k)),
        band_after: a.map(|s| band(s, k)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::rules::Component;

    fn k() -> ScoringConfig {
        ScoringConfig::default()
    }

    fn centre(id: &str, agency: &str, websites: &[&str]) -> Centre {
        crate::registry::parse_csv(
            format!(
                "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
                 {id},م,C,{agency},R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000101,{}\n",
                websites.join(";")
            )
            .as_bytes(),
            "t",
        )
        .unwrap()
        .remove(0)
    }

    fn call(id: i64, centre: &str, score: f64, answered: bool, outcome: &str) -> ScoredResult {
        ScoredResult {
            id,
            centre: Some(centre.into()),
            channel: "phone".into(),
            started_at: format!("2026-11-0{}T10:00:00.000Z", 1 + id % 9),
            outcome: outcome.into(),
            excluded: None,
            call: Some(CallScore {
                score,
                components: vec![Component {
                    name: "network_answer",
                    max: 25.0,
                    points: Some(if answered { 25.0 } else { 0.0 }),
                }],
                answered,
                reached_person: answered && score > 55.0,
                person_source: None,
                time_to_person_secs: None,
                person_after_dial_secs: answered.then_some(5.0),
                answer_secs: answered.then_some(3.0),
                not_in_service: outcome == "not_in_service",
                note: None,
            }),
            web: None,
            not_in_service: outcome == "not_in_service",
            number: Some("+96265000101".into()),
            target: "sip:x".into(),
        }
    }

    fn check(
        id: i64,
        centre: &str,
        at: &str,
        good: bool,
        lcp: Option<f64>,
        a11y: Option<f64>,
    ) -> ScoredResult {
        ScoredResult {
            id,
            centre: Some(centre.into()),
            channel: "web".into(),
            started_at: at.into(),
            outcome: if good { "up" } else { "down" }.into(),
            excluded: None,
            call: None,
            web: Some(WebCheckScore {
                good,
                performance: lcp.map(|l| 100.0 * rules::linear_down(l, 2500.0, 4000.0)),
                accessibility: a11y,
            }),
            not_in_service: false,
            number: None,
            target: "https://site.example/".into(),
        }
    }

    fn month() -> Period {
        Period::parse("2026-11").unwrap()
    }

    /// The median time to answer of a centre's answered calls, and of every centre's calls
    /// from their counts by second (the report's key figure).
    #[test]
    fn median_time_to_answer_per_centre_and_over_all_calls() {
        let timed = |id: i64, centre: &str, secs: Option<f64>| {
            let mut r = call(id, centre, 70.0, secs.is_some(), "answered");
            if let Some(c) = r.call.as_mut() {
                c.answer_secs = secs;
            }
            r
        };
        let rs = vec![
            timed(1, "a", Some(2.4)),
            timed(2, "a", Some(30.0)),
            timed(3, "a", Some(7.9)),
            timed(4, "a", None),
            timed(5, "b", Some(40.2)),
            timed(6, "b", Some(41.0)),
        ];
        let centres = [centre("a", "Ag", &[]), centre("b", "Ag", &[])];
        let out = centre_scores(&centres, &rs, &month(), &k());
        assert_eq!(out[0].phone.median_answer_secs, Some(7.9));
        assert_eq!(
            out[0].phone.answer_secs_counts,
            BTreeMap::from([(2, 1), (7, 1), (30, 1)])
        );
        assert_eq!(out[1].phone.median_answer_secs, Some(40.6));
        // 2, 7, 30, 40, 41: the third call's second.
        assert_eq!(
            crate::report::figures(&out, &k()).median_answer_secs,
            Some(30)
        );
        assert_eq!(
            crate::report::figures(&out[..0], &k()).median_answer_secs,
            None
        );
    }

    #[test]
    fn web_score_by_hand_and_inherited_by_a_centre_without_a_site() {
        // 999 good of 1000 checks = 99.9 % → availability 100; LCP 3250 ms → 50; a11y 80:
        // 0.4·100 + 0.3·50 + 0.3·80 = 79.
        let mut rs: Vec<ScoredResult> = (0..1000)
            .map(|i| check(i, "a", "2026-11-02T00:00:00.000Z", i != 0, None, None))
            .collect();
        rs.push(check(
            1000,
            "a",
            "2026-11-02T00:00:00.000Z",
            true,
            Some(3250.0),
            Some(80.0),
        ));
        let centres = [
            centre("a", "Ag", &["https://site.example/"]),
            centre("b", "Ag", &[]),
        ];
        let out = centre_scores(&centres, &rs, &month(), &k());
        let a = &out[0].web;
        assert_eq!(a.availability, Some(100.0));
        assert_eq!((a.performance, a.accessibility), (Some(50.0), Some(80.0)));
        assert_eq!(a.score.unwrap().value, 79.0);
        let b = &out[1].web;
        assert_eq!(b.inherited_from.as_deref(), Some("Ag"));
        assert_eq!(b.score.unwrap().value, 79.0);
        // 98.95 % availability is half way between 98 and 99.9.
        assert_eq!(availability_score(1979, 2000, &k()), Some(50.0));
    }

    #[test]
    fn the_threshold_rule_and_bands() {
        let k = k();
        assert_eq!(band(85.0, &k), Band::Excellent);
        assert_eq!(band(84.9, &k), Band::Medium);
        assert_eq!(band(60.0, &k), Band::Weak, "60 is weak: inclusive");
        let centres = [
            centre("c", "Ag", &[]),
            centre("d", "Ag", &[]),
            centre("e", "Ag", &[]),
        ];
        let mut rs = Vec::new();
        // c: 20 calls all at 60 → interval [60, 60]: confirmed (60 is inclusive).
        rs.extend((0..20).map(|i| call(i, "c", 60.0, true, "answered")));
        // d: 4 calls at 0: below the month's minimum of 5.
        rs.extend((100..104).map(|i| call(i, "d", 0.0, false, "busy")));
        // e: 61 on 20 calls: clear, medium band.
        rs.extend((200..220).map(|i| call(i, "e", 61.0, true, "answered")));
        let out = centre_scores(&centres, &rs, &month(), &k);
        assert_eq!(out[0].flag, FlagClass::Confirmed);
        assert_eq!(out[1].flag, FlagClass::InsufficientData);
        assert_eq!(out[2].flag, FlagClass::Clear);
        assert_eq!(out[2].phone.band, Some(Band::Medium));
        assert_eq!(out[2].list, None, "no web score: no list");
    }

    #[test]
    fn critical_flags_not_in_service_and_a_site_down_over_24_hours() {
        let centres = [centre("c", "Ag", &["https://site.example/"])];
        let rs = vec![
            call(1, "c", 0.0, false, "not_in_service"),
            check(2, "c", "2026-11-02T00:00:00.000Z", false, None, None),
            check(3, "c", "2026-11-02T12:00:00.000Z", false, None, None),
            check(4, "c", "2026-11-03T00:30:00.000Z", true, None, None),
            // Down again for only 2 hours: not critical on its own.
            check(5, "c", "2026-11-04T00:00:00.000Z", false, None, None),
            check(6, "c", "2026-11-04T02:00:00.000Z", true, None, None),
        ];
        let out = centre_scores(&centres, &rs, &month(), &k());
        let kinds: Vec<&str> = out[0].critical.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(kinds, ["number_not_in_service", "site_down"]);
        assert_eq!(out[0].critical[1].results, [2, 3]);
        assert!(out[0].critical[1].detail.contains("24.5 h"));
    }

    /// A call outside the centre's hours, as stored: excluded, and scored no further.
    fn outside_hours(id: i64, centre: &str, outcome: &str) -> ScoredResult {
        ScoredResult {
            excluded: Some(Excluded::OutsideHours),
            call: None,
            ..call(id, centre, 0.0, false, outcome)
        }
    }

    #[test]
    fn a_dead_number_is_critical_whatever_the_hours() {
        let centres = [centre("c", "Ag", &["https://site.example/"])];
        let rs = vec![
            outside_hours(1, "c", "not_in_service"),
            check(2, "c", "2026-11-02T00:00:00.000Z", true, None, None),
        ];
        let out = centre_scores(&centres, &rs, &month(), &k());
        assert_eq!(out[0].critical[0].kind, "number_not_in_service");
        assert_eq!(out[0].critical[0].results, [1]);
        // The web score alone makes no overall, band or list: the phone is unscored, and why.
        assert_eq!(out[0].web.score.unwrap().value, 100.0);
        assert_eq!(
            (
                out[0].overall,
                out[0].band,
                out[0].list.clone(),
                out[0].rank
            ),
            (None, None, None, None)
        );
        assert_eq!(
            out[0].unscored,
            [Missing {
                channel: "phone".into(),
                reason: "no_calls_in_hours".into(),
                valid: 0,
                needed: 5
            }]
        );
    }

    #[test]
    fn the_overall_index_needs_both_channels_and_the_league_ranks_scored_centres_only() {
        let site = ["https://site.example/"];
        let centres = [
            centre("a", "Ag", &site),
            centre("b", "Ag", &site),
            centre("c", "Ag", &site),
            centre("d", "Ag", &site),
        ];
        let mut rs = Vec::new();
        rs.push(check(1, "a", "2026-11-02T00:00:00.000Z", true, None, None));
        // a: 5 calls at 55 (flagged), b: 5 at 90, c: 3 at 100 (too few), d: no web check.
        rs.extend((10..15).map(|i| call(i, "a", 55.0, true, "answered")));
        rs.extend((20..25).map(|i| call(i, "b", 90.0, true, "answered")));
        rs.extend((30..33).map(|i| call(i, "c", 100.0, true, "answered")));
        rs.extend((40..45).map(|i| call(i, "d", 90.0, true, "answered")));
        let out = centre_scores(&centres, &rs, &month(), &k());
        // Only a's own site was checked; b, c, d have sites of their own, unchecked.
        assert_eq!(out[0].overall, Some(round1(0.6 * 55.0 + 0.4 * 100.0)));
        assert_eq!(out[0].rank, Some(1));
        assert_eq!(out[1].overall, None);
        assert_eq!(
            out[1].unscored,
            [Missing {
                channel: "web".into(),
                reason: "no_web_checks".into(),
                valid: 0,
                needed: 1
            }]
        );
        assert_eq!(
            out[2].unscored[0],
            Missing {
                channel: "phone".into(),
                reason: "too_few_calls".into(),
                valid: 3,
                needed: 5
            }
        );
        assert!(out[1..]
            .iter()
            .all(|c| c.rank.is_none() && c.band.is_none()));
        // With web checks for b, b ranks above the flagged a.
        rs.push(check(2, "b", "2026-11-02T00:00:00.000Z", true, None, None));
        let out = centre_scores(&centres, &rs, &month(), &k());
        assert_eq!((out[1].rank, out[0].rank), (Some(1), Some(2)));
    }

    /// A period's side of a trend, as `centre_trend` takes it from a channel's scores.
    fn side(xs: Vec<f64>) -> Option<(f64, f64)> {
        let s = Sample::Phone(xs);
        Some((s.value(&k())?, s.bootstrapped("c/p", &k())?.se))
    }

    #[test]
    fn trends_need_the_delta_and_an_interval_excluding_zero() {
        let k = k();
        let up = trend(side(vec![80.0; 20]), side(vec![70.0; 20]), &k);
        assert_eq!(up.trend, Some(Trend::Improved));
        let small = trend(side(vec![74.0; 20]), side(vec![70.0; 20]), &k);
        assert_eq!(
            small.trend,
            Some(Trend::Unchanged),
            "a change under 5 points"
        );
        // +16.7 on average, but so noisy that the interval includes 0.
        let noisy_after: Vec<f64> = (0..6)
            .map(|i| if i % 2 == 0 { 100.0 } else { 0.0 })
            .collect();
        let noisy_before: Vec<f64> = (0..6).map(|i| if i < 2 { 100.0 } else { 0.0 }).collect();
        let n = trend(side(noisy_after), side(noisy_before), &k);
        let change = n.change.unwrap();
        assert!(change.value > 5.0 && change.low < 0.0, "{change:?}");
        assert_eq!(n.trend, Some(Trend::Unchanged));
        // The same +16.7 over 120 calls a period is settled.
        let many = |xs: Vec<f64>| side(xs.repeat(20));
        let sure = trend(
            many(
                (0..6)
                    .map(|i| if i % 2 == 0 { 100.0 } else { 0.0 })
                    .collect(),
            ),
            many((0..6).map(|i| if i < 2 { 100.0 } else { 0.0 }).collect()),
            &k,
        );
        assert_eq!(sure.trend, Some(Trend::Improved), "{:?}", sure.change);
        let down = trend(side(vec![50.0; 20]), side(vec![70.0; 20]), &k);
        assert_eq!(down.trend, Some(Trend::Declined));
        assert_eq!(trend(side(vec![]), side(vec![1.0]), &k).trend, None);
    }

    /// A bootstrap's standard error is the spread of its resamples: for a mean, close to the
    /// sample's standard deviation over the root of its size.
    #[test]
    fn a_bootstrap_standard_error_is_that_of_the_mean() {
        let xs: Vec<f64> = (0..40)
            .map(|i| if i % 4 == 0 { 0.0 } else { 100.0 })
            .collect();
        let se = Sample::Phone(xs.clone())
            .bootstrapped("c/p", &k())
            .unwrap()
            .se;
        // Population sd 43.3 over the root of 40.
        let expected = 43.30127 / 40f64.sqrt();
        assert!(
            (se - expected).abs() < 0.05 * expected,
            "{se} vs {expected}"
        );
        assert_eq!(
            Sample::Phone(vec![42.0; 8])
                .bootstrapped("c/p", &k())
                .unwrap()
                .se,
            0.0
        );
    }

    #[test]
    fn intervals_are_seeded_and_repeatable() {
        let xs: Vec<f64> = (0..10).map(|i| if i < 6 { 100.0 } else { 0.0 }).collect();
        let s = Sample::Phone(xs);
        let (a, b) = (s.estimate("c/p", &k()), s.estimate("c/p", &k()));
        assert_eq!(a, b, "same data, same seed, same numbers");
        let a = a.unwrap();
        assert!(a.value == 60.0 && a.low < 60.0 && a.high > 60.0, "{a:?}");
        let flat = Sample::Phone(vec![42.0; 8]).estimate("c/p", &k()).unwrap();
        assert_eq!((flat.low, flat.high), (42.0, 42.0));
    }

    /// The bootstrap draws without building each resample; its values must be those of the
    /// resample built and valued, pick for pick, or stored intervals would move; and each
    /// resample takes `draws()` from the generator, or a bootstrap cut across the cores would
    /// skip to the wrong place.
    #[test]
    fn a_resample_is_valued_as_if_it_were_built() {
        fn built(xs: &[f64], picks: &mut Picks) -> Vec<f64> {
            (0..xs.len()).map(|_| xs[picks.below(xs.len())]).collect()
        }
        // Summed as `mean_of_picks` does: even places, odd places, then together.
        fn mean(xs: &[f64]) -> Option<f64> {
            let part = |r: usize| xs.iter().skip(r).step_by(2).sum::<f64>();
            (!xs.is_empty()).then(|| (part(0) + part(1)) / xs.len() as f64)
        }
        let mut data = SplitMix64::new(11);
        for round in 0..300 {
            let n = data.below(40);
            let xs: Vec<f64> = (0..n).map(|_| data.below(1001) as f64 / 10.0).collect();
            let good: Vec<bool> = (0..data.below(30)).map(|_| data.below(4) > 0).collect();
            let perf: Vec<f64> = (0..data.below(5)).map(|_| data.below(101) as f64).collect();
            let acc: Vec<f64> = (0..data.below(5)).map(|_| data.below(101) as f64).collect();
            let web = Sample::Web {
                good: good.clone(),
                performance: perf.clone(),
                accessibility: acc.clone(),
            };
            let phone_sample = Sample::Phone(xs.clone());
            let (mut a, mut b) = (SplitMix64::new(round), SplitMix64::new(round));
            let mut taken = 0u64;
            for _ in 0..20 {
                let phone = mean(&built(&xs, &mut Picks::new(&mut a)));
                assert_eq!(phone_sample.resampled_value(&mut b, &k()), phone);
                let mut picks = Picks::new(&mut a);
                let goods: Vec<bool> = (0..good.len())
                    .map(|_| good[picks.below(good.len())])
                    .collect();
                let (p, c) = (built(&perf, &mut picks), built(&acc, &mut picks));
                let g = goods.iter().filter(|g| **g).count();
                let whole = web_value_of(g, goods.len(), mean(&p), mean(&c), &k());
                assert_eq!(web.resampled_value(&mut b, &k()), whole, "round {round}");
                taken += (phone_sample.draws() + web.draws()) as u64;
                let mut skipped = SplitMix64::new(round);
                skipped.skip(taken);
                assert_eq!(skipped.next_u64(), b.clone().next_u64(), "round {round}");
            }
        }
    }

    /// Property: adding a valid answered call never lowers the answer rate; scores and
    /// intervals stay in 0..=100.
    #[test]
    fn an_answered_call_never_lowers_the_answer_rate() {
        let mut rng = SplitMix64::new(5);
        let centres = [centre("c", "Ag", &[])];
        for round in 0..200 {
            let n = 1 + rng.below(30);
            let rs: Vec<ScoredResult> = (0..n as i64)
                .map(|i| {
                    let answered = rng.below(2) == 0;
                    let score = if answered { rng.below(101) as f64 } else { 0.0 };
                    call(
                        i,
                        "c",
                        score,
                        answered,
                        if answered { "answered" } else { "busy" },
                    )
                })
                .collect();
            let before = centre_scores(&centres, &rs, &month(), &k());
            let mut more = rs.clone();
            more.push(call(99, "c", rng.below(101) as f64, true, "answered"));
            let after = centre_scores(&centres, &more, &month(), &k());
            let (b, a) = (
                before[0].phone.answer_rate.unwrap(),
                after[0].phone.answer_rate.unwrap(),
            );
            assert!(a.value >= b.value, "round {round}: {b:?} → {a:?}");
            for c in [&before[0], &after[0]] {
                let s = c.phone.score.unwrap();
                assert!(0.0 <= s.low && s.low <= s.value && s.value <= s.high && s.high <= 100.0);
            }
        }
    }
}
