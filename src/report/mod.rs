//! Reports a minister's office can read: a period's summary, bands, flagged centres, trends
//! and per-agency tables, as JSON or as a CSV that Excel opens with Arabic intact (UTF-8 with a
//! byte-order mark, CRLF, formula-like text neutralised), as an HTML page (Arabic right to
//! left or English, SVG charts) and as that page printed to PDF by Chromium.

pub mod chart;
pub mod html;
pub mod pdf;
pub mod words;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::score::period::Period;
use crate::score::rules::Excluded;
use crate::score::{self, Band, CentreScores, CentreTrend, FlagClass, Trend};
use crate::store::{Store, StoreError};
use crate::verdict::{Verdict, VerdictError, Verdicts};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Verdict(#[from] VerdictError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the CSV: {0}")]
    Csv(String),
    #[error("printing the PDF: {0}")]
    Pdf(String),
    #[error("writing the JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ar,
    En,
}

/// What a report is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    /// Printed by the configured Chromium.
    Pdf,
    Csv,
    Json,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub period: String,
    pub against: String,
    pub agency: Option<String>,
    pub generated_at: String,
    pub cover: Cover,
    pub threshold: f64,
    pub summary: Summary,
    /// The key figures of this period and (with [`build_with_history`]) of the one before.
    pub figures: Figures,
    pub figures_before: Option<Figures>,
    /// With [`build_with_history`]: the six months up to the period's last, oldest first.
    pub history: Vec<HistoryPoint>,
    pub agencies: Vec<AgencyRow>,
    pub flagged: Vec<FlaggedRow>,
    pub centres: Vec<CentreRow>,
    /// With [`build_with_history`]: the accessibility rules the sites' latest audits of the
    /// period fail, the most widespread first.
    pub accessibility: Vec<A11yFinding>,
}

/// One accessibility rule across the sites: how many fail it, and one site's case of it.
#[derive(Debug, Clone, Serialize)]
pub struct A11yFinding {
    /// Sites whose latest audit of the period fails it.
    pub sites: u64,
    /// The first such site's centre, and its violation (element, page, pages sharing it).
    pub centre: String,
    pub example: crate::probe::web::a11y::Violation,
}

/// What is a person's to fix on the sites: the latest audit of each site in the period, its
/// violations merged by rule (the verdict keeps the accessibility score, not the findings).
async fn accessibility(
    store: &Store,
    period: &Period,
    centres: &[CentreRow],
) -> Result<Vec<A11yFinding>, ReportError> {
    let results = store
        .results(&crate::store::ResultFilter {
            channel: Some(crate::probe::Channel::Web.as_str().to_string()),
            since: Some(period.start()),
            until: Some(period.end()),
            newest_first: true,
            ..Default::default()
        })
        .await?;
    let mut seen = std::collections::BTreeSet::new();
    let mut found: Vec<A11yFinding> = Vec::new();
    for r in &results {
        let Some(centre) = r.centre_id.as_deref() else {
            continue;
        };
        let audit = r.probe.web().and_then(|w| w.a11y.as_ref());
        let in_report = centres.iter().any(|c| c.centre == centre);
        // Newest first: a site's first audit met is its latest.
        let (Some(audit), true) = (audit, in_report) else {
            continue;
        };
        if !seen.insert(r.target.clone()) {
            continue;
        }
        for v in &audit.violations {
            match found.iter_mut().find(|f| f.example.id == v.id) {
                Some(f) => f.sites += 1,
                None => found.push(A11yFinding {
                    sites: 1,
                    centre: centre.to_string(),
                    example: v.clone(),
                }),
            }
        }
    }
    let weight = |f: &A11yFinding| crate::probe::web::a11y::weight(&f.example.impact);
    found.sort_by(|a, b| {
        (b.sites as f64 * weight(b))
            .total_cmp(&(a.sites as f64 * weight(a)))
            .then(a.example.id.cmp(&b.example.id))
    });
    Ok(found)
}
/// What the cover says besides the figures: who issues the report, its marking, when.
#[derive(Debug, Clone, Serialize)]
pub struct Cover {
    pub issuer: Option<String>,
    pub issuer_ar: Option<String>,
    pub classification: Option<String>,
    pub classification_ar: Option<String>,
    /// The period's first and last days.
    pub from: String,
    pub to: String,
    /// `YYYY-MM-DD HH:MM` in `timezone`.
    pub issued_local: String,
    pub timezone: String,
}

/// A period's key figures, from its stored verdicts. Calls are pooled over centres: a
/// centre's answered and reached-a-person calls are its rates times its valid calls.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub centres: usize,
    /// Centres with a phone score.
    pub phone_scored: usize,
    pub flagged: usize,
    pub confirmed: usize,
    pub provisional: usize,
    pub critical: usize,
    /// The flagged neither confirmed nor provisional: for a critical fault alone, or for a low
    /// phone score on too few calls. With the two above, every flagged centre once.
    pub critical_only: usize,
    pub too_few_calls: usize,
    /// Calls placed in the period, counted or not.
    pub calls_placed: u64,
    pub valid_calls: u64,
    /// Calls not counted, by reason.
    pub excluded: BTreeMap<Excluded, u64>,
    pub answered: u64,
    pub reached_person: u64,
    /// % of valid calls answered.
    pub answer_rate: Option<f64>,
    /// % of valid calls that reached a person.
    pub reached_person_rate: Option<f64>,
    /// The median over centres of each centre's mean time to reach a person (the verdict
    /// keeps each centre's mean, not each call's time).
    pub median_time_to_person_secs: Option<f64>,
    /// The median time from dialling to the answer over every valid answered call, to the
    /// whole second (each verdict counts its calls by second).
    pub median_answer_secs: Option<u32>,
    /// Mean of the centres' phone scores.
    pub mean_phone: Option<f64>,
    /// % of counted website checks that found the site up.
    pub sites_up: Option<f64>,
    pub web_checks: u64,
}

/// One month of the trend chart.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPoint {
    pub period: String,
    pub mean_phone: Option<f64>,
    pub answer_rate: Option<f64>,
    pub reached_person_rate: Option<f64>,
    pub flagged: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub centres: usize,
    /// Phone bands of the centres with a phone score.
    pub phone_bands: BandCounts,
    pub flagged: usize,
    pub confirmed: usize,
    pub provisional: usize,
    pub critical: usize,
    pub improved: usize,
    pub declined: usize,
    pub unchanged: usize,
    /// Centres with a follow-up case for an earlier period (the feedback) whose phone score
    /// improved against the previous period.
    pub improved_after_feedback: usize,
}

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct BandCounts {
    pub excellent: usize,
    pub medium: usize,
    pub weak: usize,
}

#[derive(Debug, Serialize)]
pub struct AgencyRow {
    pub agency: String,
    pub centres: usize,
    pub phone_bands: BandCounts,
    pub flagged: usize,
    /// Mean of the centres' phone scores.
    pub mean_phone: Option<f64>,
    pub improved: usize,
    pub declined: usize,
}

#[derive(Debug, Serialize)]
pub struct FlaggedRow {
    pub centre: String,
    pub name_ar: String,
    pub name_en: String,
    pub agency: String,
    pub class: FlagClass,
    pub critical: Vec<String>,
    pub phone_score: Option<f64>,
    pub phone_low: Option<f64>,
    pub phone_high: Option<f64>,
    pub valid_calls: u64,
    /// Valid calls answered and reaching a person (from the verdict's rates).
    pub answered: u64,
    pub reached_person: u64,
    /// The median seconds from dialling to the answer of its answered calls.
    pub median_answer_secs: Option<f64>,
    /// The follow-up case's due date (`YYYY-MM-DD` in the report's zone), if one is open.
    pub due_on: Option<String>,
    /// Who answers for it: the centre's agency (the registry names no other owner).
    pub owner: String,
    #[serde(skip)]
    pub criticals: Vec<score::Critical>,
}

#[derive(Debug, Serialize)]
pub struct CentreRow {
    pub centre: String,
    pub name_ar: String,
    pub name_en: String,
    pub agency: String,
    pub phone_score: Option<f64>,
    pub phone_low: Option<f64>,
    pub phone_high: Option<f64>,
    pub phone_band: Option<Band>,
    pub valid_calls: u64,
    pub flag: FlagClass,
    pub web_score: Option<f64>,
    pub web_band: Option<Band>,
    pub overall: Option<f64>,
    pub band: Option<Band>,
    pub list: Option<String>,
    pub phone_trend: Option<Trend>,
    pub phone_change: Option<f64>,
    /// Place in the league table; `null` for a centre without an overall index.
    pub rank: Option<u32>,
    /// Why the centre has no overall index (each channel short of data).
    pub unscored: Vec<score::Missing>,
}

fn add_band(b: &mut BandCounts, band: Option<Band>) {
    match band {
        Some(Band::Excellent) => b.excellent += 1,
        Some(Band::Medium) => b.medium += 1,
        Some(Band::Weak) => b.weak += 1,
        None => {}
    }
}

/// The calls a rate (a % of `n`, as the verdict rounds it) stands for.
fn count_of(rate: Option<score::stats::Estimate>, n: u64) -> u64 {
    rate.map_or(0, |r| (r.value * n as f64 / 100.0).round() as u64)
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    (n > 0).then(|| {
        let m = if n % 2 == 1 {
            xs[n / 2]
        } else {
            (xs[n / 2 - 1] + xs[n / 2]) / 2.0
        };
        score::round1(m)
    })
}

fn pct(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| score::round1(100.0 * part as f64 / whole as f64))
}

/// A period's key figures from its centres' stored scores (nothing is rescored).
pub fn figures<C: std::borrow::Borrow<CentreScores>>(
    all: &[C],
    k: &crate::config::ScoringConfig,
) -> Figures {
    let mut f = Figures {
        centres: all.len(),
        ..Figures::default()
    };
    for c in score::flagged(all, k) {
        f.flagged += 1;
        match c.flag {
            FlagClass::Confirmed => f.confirmed += 1,
            FlagClass::Provisional => f.provisional += 1,
            _ if !c.critical.is_empty() => f.critical_only += 1,
            _ => f.too_few_calls += 1,
        }
        f.critical += usize::from(!c.critical.is_empty());
    }
    let (mut ttp, mut phone, mut up) = (Vec::new(), Vec::new(), 0);
    let mut answer_secs: BTreeMap<u32, u64> = BTreeMap::new();
    for c in all.iter().map(C::borrow) {
        let p = &c.phone;
        for (s, n) in &p.answer_secs_counts {
            *answer_secs.entry(*s).or_insert(0) += n;
        }
        f.valid_calls += p.valid_calls;
        f.calls_placed += p.valid_calls + p.excluded.values().sum::<u64>();
        for (why, n) in &p.excluded {
            *f.excluded.entry(*why).or_insert(0) += n;
        }
        f.answered += count_of(p.answer_rate, p.valid_calls);
        f.reached_person += count_of(p.reached_person, p.valid_calls);
        ttp.extend(p.mean_time_to_person_secs.map(|e| e.value));
        phone.extend(p.score.map(|e| e.value));
        f.web_checks += c.web.valid_checks;
        up += c.web.availability_pct.map_or(0, |a| {
            (a * c.web.valid_checks as f64 / 100.0).round() as u64
        });
    }
    f.phone_scored = phone.len();
    f.answer_rate = pct(f.answered, f.valid_calls);
    f.reached_person_rate = pct(f.reached_person, f.valid_calls);
    f.median_time_to_person_secs = median(ttp);
    // The lower median second: the first whose running count reaches half the calls.
    let answered: u64 = answer_secs.values().sum();
    let mut seen = 0;
    f.median_answer_secs = answer_secs.iter().find_map(|(s, n)| {
        seen += n;
        (2 * seen >= answered).then_some(*s)
    });
    f.mean_phone =
        (!phone.is_empty()).then(|| score::round1(phone.iter().sum::<f64>() / phone.len() as f64));
    f.sites_up = pct(up, f.web_checks);
    f
}

/// The month that holds the period's last day.
fn last_month(period: &Period) -> Period {
    let last = period.until.pred_opt().unwrap_or(period.from);
    Period::parse(&last.format("%Y-%m").to_string()).expect("a month label")
}

/// Builds the report of `period` (against the period before it), for one agency or all,
/// from the stored verdicts.
pub async fn build(
    store: &Store,
    config: &Config,
    period: &Period,
    agency: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Report, ReportError> {
    let k = &config.scoring;
    let before_period = period.previous();
    let read = Verdicts::new(store, config).read(period).await?;
    let verdicts: Vec<&Verdict> = read
        .iter()
        .filter(|v| agency.is_none_or(|a| a == v.scores.agency))
        .collect();
    let trends: BTreeMap<&str, &CentreTrend> = verdicts
        .iter()
        .filter_map(|v| Some((v.scores.centre.as_str(), v.trend.as_ref()?)))
        .collect();
    let after: Vec<&CentreScores> = verdicts.iter().map(|v| &v.scores).collect();
    let trend_of = |id: &str| trends.get(id).copied();
    let start = crate::probe::utc_millis::format(&period.start());
    let tz = config.report.timezone.0;
    let local_day = |utc: &str| {
        DateTime::parse_from_rfc3339(utc)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d").to_string())
            .ok()
    };
    // Cases as stored: a report never opens or closes one.
    // Those of the period and those still open (all cases grow for years), and the centres
    // given feedback before the period, each read once.
    let (cases, fed_back) = tokio::try_join!(
        store.cases_of_period_or_open(&period.label),
        store.centres_with_case_ended_by(&start),
    )?;
    let mut summary = Summary {
        centres: after.len(),
        ..Summary::default()
    };
    let mut agencies: BTreeMap<String, (AgencyRow, Vec<f64>)> = BTreeMap::new();
    let mut centres = Vec::new();
    // The same list as `raqib flags` and the API, in its order.
    let list = score::flagged(&after, k);
    summary.flagged = list.len();
    for f in &list {
        match f.flag {
            FlagClass::Confirmed => summary.confirmed += 1,
            FlagClass::Provisional => summary.provisional += 1,
            _ => {}
        }
        if !f.critical.is_empty() {
            summary.critical += 1;
        }
    }
    let flagged: Vec<FlaggedRow> = list
        .iter()
        .map(|c| {
            // The follow-up case of this period, else the centre's open one.
            let case = cases
                .iter()
                .filter(|k| k.centre == c.centre)
                .find(|k| k.period == period.label)
                .or_else(|| {
                    cases
                        .iter()
                        .find(|k| k.centre == c.centre && k.closed_at.is_none())
                });
            FlaggedRow {
                centre: c.centre.clone(),
                name_ar: c.name_ar.clone(),
                name_en: c.name_en.clone(),
                agency: c.agency.clone(),
                class: c.flag,
                critical: c.critical.iter().map(|x| x.detail.clone()).collect(),
                phone_score: c.phone.score.map(|e| e.value),
                phone_low: c.phone.score.map(|e| e.low),
                phone_high: c.phone.score.map(|e| e.high),
                valid_calls: c.phone.valid_calls,
                answered: count_of(c.phone.answer_rate, c.phone.valid_calls),
                reached_person: count_of(c.phone.reached_person, c.phone.valid_calls),
                median_answer_secs: c.phone.median_answer_secs,
                due_on: case.and_then(|k| local_day(&k.due_at)),
                owner: c.agency.clone(),
                criticals: c.critical.clone(),
            }
        })
        .collect();
    for c in &after {
        let t = trend_of(&c.centre);
        let phone_trend = t.and_then(|t| t.phone.trend);
        add_band(&mut summary.phone_bands, c.phone.band);
        let a = agencies.entry(c.agency.clone()).or_insert_with(|| {
            (
                AgencyRow {
                    agency: c.agency.clone(),
                    centres: 0,
                    phone_bands: BandCounts::default(),
                    flagged: 0,
                    mean_phone: None,
                    improved: 0,
                    declined: 0,
                },
                Vec::new(),
            )
        });
        a.0.centres += 1;
        add_band(&mut a.0.phone_bands, c.phone.band);
        if let Some(s) = c.phone.score {
            a.1.push(s.value);
        }
        match phone_trend {
            Some(Trend::Improved) => {
                summary.improved += 1;
                a.0.improved += 1;
                if fed_back.contains(&c.centre) {
                    summary.improved_after_feedback += 1;
                }
            }
            Some(Trend::Declined) => {
                summary.declined += 1;
                a.0.declined += 1;
            }
            Some(Trend::Unchanged) => summary.unchanged += 1,
            None => {}
        }
        if list.iter().any(|f| f.centre == c.centre) {
            a.0.flagged += 1;
        }
        centres.push(CentreRow {
            centre: c.centre.clone(),
            name_ar: c.name_ar.clone(),
            name_en: c.name_en.clone(),
            agency: c.agency.clone(),
            phone_score: c.phone.score.map(|e| e.value),
            phone_low: c.phone.score.map(|e| e.low),
            phone_high: c.phone.score.map(|e| e.high),
            phone_band: c.phone.band,
            valid_calls: c.phone.valid_calls,
            flag: c.flag,
            web_score: c.web.score.map(|e| e.value),
            web_band: c.web.band,
            overall: c.overall,
            band: c.band,
            list: c.list.clone(),
            phone_trend,
            phone_change: t.and_then(|t| t.phone.change).map(|e| e.value),
            rank: c.rank,
            unscored: c.unscored.clone(),
        });
    }
    // The league table's order: ranked centres by place, then the unscored ones by id.
    centres.sort_by(|a, b| {
        (a.rank.is_none(), a.rank, &a.centre).cmp(&(b.rank.is_none(), b.rank, &b.centre))
    });
    let agencies = agencies
        .into_values()
        .map(|(mut row, scores)| {
            row.mean_phone = (!scores.is_empty())
                .then(|| score::round1(scores.iter().sum::<f64>() / scores.len() as f64));
            row
        })
        .collect();
    let r = &config.report;
    let last_day = period.until.pred_opt().unwrap_or(period.from);
    Ok(Report {
        period: period.label.clone(),
        against: before_period.label,
        agency: agency.map(str::to_string),
        generated_at: crate::probe::utc_millis::format(&now),
        cover: Cover {
            issuer: r.issuer.clone(),
            issuer_ar: r.issuer_ar.clone().or_else(|| r.issuer.clone()),
            classification: r.classification.clone(),
            classification_ar: r
                .classification_ar
                .clone()
                .or_else(|| r.classification.clone()),
            from: period.from.to_string(),
            to: last_day.to_string(),
            issued_local: now.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
            timezone: tz.name().to_string(),
        },
        threshold: k.threshold,
        figures: figures(&after, k),
        figures_before: None,
        history: Vec::new(),
        summary,
        agencies,
        flagged,
        centres,
        accessibility: Vec::new(),
    })
}

/// The report as [`build`] makes it, with the period before's key figures, six months of
/// history and the sites' accessibility findings (seven more periods' verdicts and the
/// period's web results read: for the printed report, not the dashboard's every view).
pub async fn build_with_history(
    store: &Store,
    config: &Config,
    period: &Period,
    agency: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Report, ReportError> {
    let mut report = build(store, config, period, agency, now).await?;
    let k = &config.scoring;
    let step = Verdicts::new(store, config);
    let read = |p: Period| {
        let step = &step;
        async move {
            let read = step.read(&p).await?;
            let all: Vec<&CentreScores> = read
                .iter()
                .map(|v| &v.scores)
                .filter(|c| agency.is_none_or(|a| a == c.agency))
                .collect();
            Ok::<_, ReportError>(figures(&all, k))
        }
    };
    report.figures_before = Some(read(period.previous()).await?);
    report.accessibility = accessibility(store, period, &report.centres).await?;
    let mut months = vec![last_month(period)];
    while months.len() < 6 {
        let earlier = months.last().expect("one month").previous();
        months.push(earlier);
    }
    months.reverse();
    for m in months {
        let label = m.label.clone();
        let f = if label == report.period {
            report.figures.clone()
        } else {
            read(m).await?
        };
        report.history.push(HistoryPoint {
            period: label,
            mean_phone: f.mean_phone,
            answer_rate: f.answer_rate,
            reached_person_rate: f.reached_person_rate,
            flagged: f.flagged,
        });
    }
    Ok(report)
}

/// Why a centre has no overall index, in words: "phone: 3 of 5 calls needed".
pub fn unscored_words(m: &[score::Missing], lang: Lang) -> String {
    let parts: Vec<String> = m
        .iter()
        .map(|m| {
            let why = words::missing_reason(m, lang);
            let channel = match lang {
                Lang::En => m.channel.as_str(),
                Lang::Ar => crate::arabic::term(&m.channel),
            };
            format!("{channel}: {why}")
        })
        .collect();
    parts.join(match lang {
        Lang::En => "; ",
        Lang::Ar => "؛ ",
    })
}

pub(crate) fn word(lang: Lang, en: &str) -> &str {
    match lang {
        Lang::En => en,
        Lang::Ar => crate::arabic::term(en),
    }
}

pub(crate) fn band_word(b: Option<Band>, lang: Lang) -> String {
    b.map_or(String::new(), |b| {
        word(
            lang,
            match b {
                Band::Excellent => "excellent",
                Band::Medium => "medium",
                Band::Weak => "weak",
            },
        )
        .into()
    })
}

pub(crate) fn flag_word(f: FlagClass, lang: Lang) -> &'static str {
    match (f, lang) {
        // The stored code is `insufficient_data`; English readers get words, not the code.
        (FlagClass::InsufficientData, Lang::En) => "insufficient data",
        _ => word(
            lang,
            match f {
                FlagClass::Confirmed => "confirmed",
                FlagClass::Provisional => "provisional",
                FlagClass::InsufficientData => "insufficient_data",
                FlagClass::Clear => "clear",
            },
        ),
    }
}

pub(crate) fn trend_word(t: Option<Trend>, lang: Lang) -> String {
    t.map_or(String::new(), |t| {
        word(
            lang,
            match t {
                Trend::Improved => "improved",
                Trend::Declined => "declined",
                Trend::Unchanged => "unchanged",
            },
        )
        .into()
    })
}

pub(crate) fn num(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v:.1}"))
}

/// Text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) is prefixed
/// with an apostrophe (OWASP's advice for CSV injection).
fn cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

const HEADER_EN: [&str; 16] = [
    "centre",
    "name",
    "agency",
    "phone score",
    "phone 95% low",
    "phone 95% high",
    "phone band",
    "valid calls",
    "flag",
    "web score",
    "web band",
    "overall",
    "band",
    "list",
    "phone trend",
    "phone change",
];

const HEADER_AR: [&str; 16] = [
    "المركز",
    "الاسم",
    "الجهة",
    "درجة الهاتف",
    "الحد الأدنى 95٪",
    "الحد الأعلى 95٪",
    "فئة الهاتف",
    "المكالمات الصالحة",
    "التصنيف",
    "درجة الموقع",
    "فئة الموقع",
    "الدرجة الكلية",
    "الفئة",
    "القائمة",
    "اتجاه الهاتف",
    "تغيّر الهاتف",
];

/// `r` as `format`; a PDF is printed by the Chromium at `chromium`.
pub async fn render(
    r: &Report,
    format: Format,
    lang: Lang,
    chromium: &Path,
) -> Result<Vec<u8>, ReportError> {
    Ok(match format {
        Format::Html => html::render(r, lang).into_bytes(),
        Format::Pdf => {
            let (header, footer) = (html::page_header(r, lang), html::page_footer(r, lang));
            let running = pdf::Running {
                header: &header,
                footer: &footer,
            };
            pdf::print(chromium, &html::render(r, lang), &running).await?
        }
        Format::Json => {
            let mut b = serde_json::to_vec_pretty(r)?;
            b.push(b'\n');
            b
        }
        Format::Csv => csv(r, lang)?,
    })
}

/// Writes `bytes` beside `path` and renames it there: a reader never sees half a report.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = path.with_extension("partial");
    let failed = |p: &Path| {
        let path = p.display().to_string();
        move |source| ReportError::Write { path, source }
    };
    std::fs::write(&tmp, bytes).map_err(failed(&tmp))?;
    std::fs::rename(&tmp, path).map_err(failed(path))
}

/// One row per centre, for Excel: UTF-8 with a byte-order mark, CRLF line ends.
pub fn csv(r: &Report, lang: Lang) -> Result<Vec<u8>, ReportError> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let err = |e: csv::Error| ReportError::Csv(e.to_string());
        w.write_record(if lang == Lang::Ar {
            HEADER_AR
        } else {
            HEADER_EN
        })
        .map_err(err)?;
        for c in &r.centres {
            let name = if lang == Lang::Ar {
                &c.name_ar
            } else {
                &c.name_en
            };
            w.write_record([
                cell(&c.centre),
                cell(name),
                cell(&c.agency),
                num(c.phone_score),
                num(c.phone_low),
                num(c.phone_high),
                band_word(c.phone_band, lang),
                c.valid_calls.to_string(),
                flag_word(c.flag, lang).to_string(),
                num(c.web_score),
                band_word(c.web_band, lang),
                num(c.overall),
                band_word(c.band, lang),
                c.list
                    .as_deref()
                    .map_or(String::new(), |l| word(lang, l).to_string()),
                trend_word(c.phone_trend, lang),
                c.phone_change.map_or(String::new(), |v| format!("{v:+.1}")),
            ])
            .map_err(err)?;
        }
        w.flush().map_err(|e| ReportError::Csv(e.to_string()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_text_is_neutralised_and_numbers_are_not() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("مركز"), "مركز");
        assert_eq!(num(Some(-3.25)), "-3.2");
    }

    #[test]
    fn words_in_arabic_and_english() {
        assert_eq!(flag_word(FlagClass::Confirmed, Lang::Ar), "مؤكد");
        assert_eq!(flag_word(FlagClass::Confirmed, Lang::En), "confirmed");
        assert_eq!(band_word(Some(Band::Weak), Lang::Ar), "ضعيف");
        assert_eq!(trend_word(Some(Trend::Improved), Lang::Ar), "تحسّن");
    }
}
