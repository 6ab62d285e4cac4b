//! Reports a minister's office can read: a period's summary, bands, flagged centres, trends
//! and per-agency tables, as JSON or as a CSV that Excel opens with Arabic intact (UTF-8 with a
//! byte-order mark, CRLF, formula-like text neutralised), as an HTML page (Arabic right to
//! left or English, SVG charts) and as that page printed to PDF by Chromium.

pub mod html;
pub mod pdf;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::score::period::Period;
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
    pub threshold: f64,
    pub summary: Summary,
    pub agencies: Vec<AgencyRow>,
    pub flagged: Vec<FlaggedRow>,
    pub centres: Vec<CentreRow>,
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
    let verdicts: Vec<Verdict> = Verdicts::new(store, config)
        .read(period)
        .await?
        .into_iter()
        .filter(|v| agency.is_none_or(|a| a == v.scores.agency))
        .collect();
    let trends: BTreeMap<String, CentreTrend> = verdicts
        .iter()
        .filter_map(|v| Some((v.scores.centre.clone(), v.trend.clone()?)))
        .collect();
    let after: Vec<CentreScores> = verdicts.into_iter().map(|v| v.scores).collect();
    let trend_of = |id: &str| trends.get(id);
    let start = crate::probe::utc_millis::format(&period.start());
    // Cases as stored: a report never opens or closes one.
    let cases = store.cases().await?;
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
        .map(|c| FlaggedRow {
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
                let fed_back = cases
                    .iter()
                    .any(|k| k.centre == c.centre && k.period_end.as_str() <= start.as_str());
                if fed_back {
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
    Ok(Report {
        period: period.label.clone(),
        against: before_period.label,
        agency: agency.map(str::to_string),
        generated_at: crate::probe::utc_millis::format(&now),
        threshold: k.threshold,
        summary,
        agencies,
        flagged,
        centres,
    })
}

/// Why a centre has no overall index, in words: "phone: 3 of 5 calls needed".
pub fn unscored_words(m: &[score::Missing], lang: Lang) -> String {
    let parts: Vec<String> = m
        .iter()
        .map(|m| {
            let why = match (m.reason.as_str(), lang) {
                ("no_calls", Lang::En) => "no calls placed".to_string(),
                ("no_calls", Lang::Ar) => "لم تُجرَ مكالمات".to_string(),
                ("no_calls_in_hours", Lang::En) => "no calls in opening hours".to_string(),
                ("no_calls_in_hours", Lang::Ar) => "لا مكالمات في ساعات العمل".to_string(),
                ("too_few_calls", Lang::En) => {
                    format!("{} of {} calls needed", m.valid, m.needed)
                }
                ("too_few_calls", Lang::Ar) => {
                    format!("{} من {} مكالمات مطلوبة", m.valid, m.needed)
                }
                (_, Lang::En) => "no website check".to_string(),
                (_, Lang::Ar) => "لا فحص للموقع".to_string(),
            };
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
        Format::Pdf => pdf::print(chromium, &html::render(r, lang)).await?,
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
