//! The overview of a period: key figures against the period before, the flagged list first,
//! the phone bands and six months as charts, then agencies and the league table. Figures come
//! from the stored verdicts (and the report built from them); nothing is rescored here.

use std::collections::HashMap;
use std::fmt::Write as _;

use hyper::body::Incoming;
use hyper::Request;

use super::words::{self, cap, join, join_clauses, period_words, term, term_cap, w};
use super::{
    cards, centre_link, chart, enc, esc, internal, ltr, name_of, param, period_of, Agencies, Page,
    HISTORY_MONTHS,
};
use crate::config::ScoringConfig;
use crate::report::Lang;
use crate::score::period::{Kind, Period};
use crate::score::{self, Band, CentreScores, Critical, FlagClass, Missing};
use crate::verdict::Verdicts;

/// A period's key figures, from its stored verdicts.
#[derive(Debug, Default)]
struct Figures {
    /// Centres with at least one valid call or web check.
    audited: usize,
    flagged: usize,
    confirmed: usize,
    provisional: usize,
    /// Flagged for a critical fault alone, and for a low score on too few calls: with the two
    /// above, every flagged centre once.
    critical_only: usize,
    too_few_calls: usize,
    /// The median seconds from dialling to the answer, over every answered valid call.
    median_answer: Option<f64>,
    /// Mean of the centres' phone scores.
    mean_phone: Option<f64>,
    /// Valid calls answered, and reaching a person, in % of all valid calls.
    answer_rate: Option<f64>,
    reached: Option<f64>,
    /// Valid web checks up, in % of all valid checks of the centres' own sites.
    sites_up: Option<f64>,
}

/// The tiles' figures: the report's key figures (`report::figures`, so the two never differ),
/// and the centres audited.
fn figures(all: &[&CentreScores], k: &ScoringConfig) -> Figures {
    let f = crate::report::figures(all, k);
    Figures {
        critical_only: f.critical_only,
        too_few_calls: f.too_few_calls,
        median_answer: f.median_answer_secs.map(f64::from),
        audited: all
            .iter()
            .filter(|c| {
                c.phone.valid_calls > 0
                    || (c.web.valid_checks > 0 && c.web.inherited_from.is_none())
            })
            .count(),
        flagged: f.flagged,
        confirmed: f.confirmed,
        provisional: f.provisional,
        mean_phone: f.mean_phone,
        answer_rate: f.answer_rate,
        reached: f.reached_person_rate,
        sites_up: f.sites_up,
    }
}

/// How a figure is compared: a count, a score in points, or a share in percentage points.
#[derive(Clone, Copy)]
enum Unit {
    Count,
    Points,
    Percent,
    Seconds,
}

/// The change of a figure against the period before, with an arrow and words, so that the
/// direction never rests on colour.
fn delta(lang: Lang, unit: Unit, now: Option<f64>, before: Option<f64>, against: &str) -> String {
    let (Some(a), Some(b)) = (now, before) else {
        return format!(
            "<span class=\"delta muted\">{}</span>",
            w(lang, "no_change_data")
        );
    };
    let d = a - b;
    let size = match unit {
        Unit::Count | Unit::Seconds => format!("{}", d.abs().round()),
        Unit::Points | Unit::Percent => format!("{:.1}", d.abs()),
    };
    let still = match unit {
        Unit::Count | Unit::Seconds => d.abs() < 0.5,
        _ => d.abs() < 0.05,
    };
    let unit_word = match unit {
        Unit::Count => "",
        Unit::Points => w(lang, "points_unit"),
        Unit::Percent => w(lang, "pct_points"),
        Unit::Seconds => w(lang, "seconds_unit"),
    };
    let text = match (lang, still, d > 0.0) {
        (Lang::En, true, _) => format!("= no change on {against}"),
        (Lang::Ar, true, _) => format!("= دون تغيير عن {against}"),
        (Lang::En, false, up) => match unit {
            Unit::Count => format!(
                "{} {} {} than {against}",
                if up { "▲" } else { "▼" },
                ltr(&size),
                if up { "more" } else { "fewer" }
            ),
            _ => format!(
                "{} {} {} {unit_word} on {against}",
                if up { "▲ up" } else { "▼ down" },
                ltr(&size),
                ""
            )
            .replace("  ", " "),
        },
        (Lang::Ar, false, up) => match unit {
            Unit::Count => format!(
                "{} {} عن {against}",
                if up {
                    "▲ بزيادة"
                } else {
                    "▼ بنقص"
                },
                ltr(&size)
            ),
            _ => format!(
                "{} {} {unit_word} عن {against}",
                if up {
                    "▲ ارتفاع"
                } else {
                    "▼ انخفاض"
                },
                ltr(&size)
            ),
        },
    };
    format!("<span class=\"delta\">{text}</span>")
}

/// A share as the report writes it: "50.0 %" (no-break space), "50.0٪".
pub(super) fn pct(lang: Lang, x: Option<f64>) -> String {
    let sign = match lang {
        Lang::En => "\u{a0}%",
        Lang::Ar => "٪",
    };
    x.map_or("—".into(), |v| ltr(&format!("{v:.1}{sign}")))
}

fn points(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| ltr(&format!("{v:.1}")))
}

/// The key-figure tiles of `now` against `before`.
fn tiles(lang: Lang, now: &Figures, before: &Figures, against: &str) -> String {
    // What the flagged are, each class once, as "label: count" (no noun to agree).
    let classes: Vec<String> = [
        (now.confirmed, "confirmed", "مؤكد"),
        (now.provisional, "provisional", "مبدئي"),
        (now.critical_only, "critical fault", "خلل حرج"),
        (
            now.too_few_calls,
            "low on too few calls",
            "منخفض على مكالمات قليلة",
        ),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, en, ar)| {
        let label = match lang {
            Lang::En => en,
            Lang::Ar => ar,
        };
        format!("{label}: {}", ltr(&n.to_string()))
    })
    .collect();
    let flagged_value = format!(
        "{}<span class=\"sub\">{}</span>",
        ltr(&now.flagged.to_string()),
        join(lang, &classes)
    );
    let seconds = |x: Option<f64>| {
        x.map_or("—".into(), |v| {
            format!("{} {}", ltr(&format!("{v:.0}")), w(lang, "seconds_unit"))
        })
    };
    let items: [(&str, String, String, bool); 7] = [
        (
            "audited",
            ltr(&now.audited.to_string()),
            delta(
                lang,
                Unit::Count,
                Some(now.audited as f64),
                Some(before.audited as f64),
                against,
            ),
            false,
        ),
        (
            "flagged_short",
            flagged_value,
            delta(
                lang,
                Unit::Count,
                Some(now.flagged as f64),
                Some(before.flagged as f64),
                against,
            ),
            now.flagged > 0,
        ),
        (
            "mean_phone",
            points(now.mean_phone),
            delta(
                lang,
                Unit::Points,
                now.mean_phone,
                before.mean_phone,
                against,
            ),
            false,
        ),
        (
            "answer_rate",
            pct(lang, now.answer_rate),
            delta(
                lang,
                Unit::Percent,
                now.answer_rate,
                before.answer_rate,
                against,
            ),
            false,
        ),
        (
            "median_answer",
            seconds(now.median_answer),
            delta(
                lang,
                Unit::Seconds,
                now.median_answer,
                before.median_answer,
                against,
            ),
            false,
        ),
        (
            "reached_person",
            pct(lang, now.reached),
            delta(lang, Unit::Percent, now.reached, before.reached, against),
            false,
        ),
        (
            "sites_up",
            pct(lang, now.sites_up),
            delta(lang, Unit::Percent, now.sites_up, before.sites_up, against),
            false,
        ),
    ];
    let mut h = String::from("<ul class=\"tiles\">");
    for (key, value, change, alarm) in items {
        let _ = write!(
            h,
            "<li class=\"tile{}\" id=\"tile-{key}\"><span class=\"label\">{}</span>\
             <span class=\"value\">{value}</span>{change}</li>",
            if alarm { " alarm" } else { "" },
            w(lang, key)
        );
    }
    h + "</ul>"
}

/// A centre's critical flags in words: "critical: number not in service +962…".
pub(super) fn critical_words(lang: Lang, critical: &[Critical]) -> Vec<String> {
    critical
        .iter()
        .map(|c| {
            // The stored detail starts with the number or the site it is about.
            let what = match c.kind.as_str() {
                "number_not_in_service" => c
                    .detail
                    .split_whitespace()
                    .next()
                    .filter(|n| n.starts_with('+') || n.starts_with(|ch: char| ch.is_ascii_digit()))
                    .map(super::id_bdi),
                "site_down" => c
                    .detail
                    .split(" was down")
                    .next()
                    .filter(|s| s.contains("://"))
                    .map(super::url_bdi),
                _ => None,
            };
            format!(
                "{}: {}{}",
                term(lang, "critical"),
                term(lang, &c.kind),
                what.map_or(String::new(), |x| format!(" {x}"))
            )
        })
        .collect()
}

/// Why a centre has no overall index or no phone score, in words:
/// "Phone: 3 of 5 calls needed؛ Web: no website check".
pub(super) fn missing_words(lang: Lang, missing: &[Missing]) -> String {
    let parts: Vec<String> = missing
        .iter()
        .map(|m| format!("{}: {}", term(lang, &m.channel), missing_reason(lang, m)))
        .collect();
    join_clauses(lang, &parts)
}

pub(super) fn missing_reason(lang: Lang, m: &Missing) -> String {
    crate::report::words::missing_reason(m, lang)
}

/// An interval in words: "between 52.0 and 65.0".
pub(super) fn between(lang: Lang, low: f64, high: f64) -> String {
    match lang {
        Lang::En => format!(
            "between {} and {}",
            ltr(&format!("{low:.1}")),
            ltr(&format!("{high:.1}"))
        ),
        Lang::Ar => format!(
            "بين {} و{}",
            ltr(&format!("{low:.1}")),
            ltr(&format!("{high:.1}"))
        ),
    }
}

fn band_colour(b: Band) -> &'static str {
    match b {
        Band::Excellent => "#1e6b30",
        Band::Medium => "#b07d00",
        Band::Weak => "#a4161a",
    }
}

fn band_code(b: Band) -> &'static str {
    match b {
        Band::Excellent => "excellent",
        Band::Medium => "medium",
        Band::Weak => "weak",
    }
}

pub(super) fn flag_code(f: FlagClass) -> &'static str {
    match f {
        FlagClass::Confirmed => "confirmed",
        FlagClass::Provisional => "provisional",
        FlagClass::InsufficientData => "insufficient_data",
        FlagClass::Clear => "clear",
    }
}

/// The months of the chart: the last `HISTORY_MONTHS` ending with the period's last month.
pub(super) fn months_to(period: &Period) -> Vec<Period> {
    let mut p = Period::month_of(period.end() - chrono::Duration::seconds(1));
    let mut months = Vec::new();
    for _ in 0..HISTORY_MONTHS {
        months.push(p.clone());
        p = p.previous();
    }
    months.reverse();
    months
}

pub(super) async fn page(app: &super::App, req: &Request<Incoming>, lang: Lang) -> Page {
    let period = period_of(req, lang)?;
    let agency = param(req, "agency").filter(|a| !a.is_empty());
    let k = &app.config.scoring;
    let failed = |e: crate::verdict::VerdictError| internal(lang, e);
    // The report and the verdicts of the period, the one before and six months, each period
    // read once, all side by side: read one after the other they took about 90 ms.
    let verdicts = Verdicts::new(&app.store, &app.config);
    let before = period.previous();
    let months = months_to(&period);
    let mut wanted: Vec<&Period> = Vec::new();
    for p in months.iter().chain([&period, &before]) {
        if !wanted.iter().any(|w| w.label == p.label) {
            wanted.push(p);
        }
    }
    let reads = futures::future::try_join_all(wanted.iter().map(|p| {
        let verdicts = &verdicts;
        async move { verdicts.read(p).await.map(|v| (p.label.clone(), v)) }
    }));
    let report = crate::report::build(
        &app.store,
        &app.config,
        &period,
        agency.as_deref(),
        chrono::Utc::now(),
    );
    let (r, all) = tokio::join!(report, reads);
    let r = r.map_err(|e| internal(lang, e))?;
    let all = all.map_err(failed)?;
    let read: HashMap<&str, Vec<&CentreScores>> = all
        .iter()
        .map(|(label, vs)| {
            let mine = vs
                .iter()
                .map(|v| &v.scores)
                .filter(|c| agency.as_deref().is_none_or(|a| a == c.agency))
                .collect();
            (label.as_str(), mine)
        })
        .collect();
    let agencies = Agencies::load(app, lang).await?;
    let empty = Vec::new();
    let of = |p: &Period| read.get(p.label.as_str()).unwrap_or(&empty);
    let now = of(&period);
    let (fig_now, fig_before) = (figures(now, k), figures(of(&before), k));
    let against = period_words(lang, &before);
    let mut h = String::new();
    let _ = write!(
        h,
        "<h1>{}{}</h1><p class=\"lede\">{} <strong>{}</strong></p>\
         <form class=\"period\" method=\"get\" action=\"/\"><label>{} \
         <input name=\"period\" value=\"{}\" size=\"10\" dir=\"ltr\"></label>",
        w(lang, "overview"),
        agency
            .as_deref()
            .map_or(String::new(), |a| format!(" — {}", esc(agencies.name(a)))),
        w(lang, "period"),
        period_words(lang, &period),
        w(lang, "period"),
        esc(&r.period),
    );
    if let Some(a) = &agency {
        let _ = write!(
            h,
            "<input type=\"hidden\" name=\"agency\" value=\"{}\">",
            esc(a)
        );
    }
    let _ = write!(
        h,
        "<button>{}</button> <a href=\"/?period={}\">{}</a></form>",
        w(lang, "show"),
        enc(&r.period),
        w(lang, "all_agencies")
    );
    // Key figures.
    let s = &r.summary;
    let trends = [
        ("improved", s.improved),
        ("declined", s.declined),
        ("unchanged", s.unchanged),
        ("after_feedback", s.improved_after_feedback),
    ]
    .map(|(key, n)| format!("{}: {}", w(lang, key), ltr(&n.to_string())));
    let _ = write!(
        h,
        "<section id=\"summary\"><h2>{}</h2>{}<p class=\"muted\">{}. {}: {}.</p></section>",
        w(lang, "figures"),
        tiles(lang, &fig_now, &fig_before, &against),
        join(lang, &trends),
        w(lang, "threshold"),
        match lang {
            Lang::En => format!(
                "a phone score of {} or under",
                ltr(&r.threshold.to_string())
            ),
            Lang::Ar => format!("درجة هاتف {} أو أقل", ltr(&r.threshold.to_string())),
        },
    );
    // The flagged list first, each with its interval in words and what makes it critical.
    let _ = write!(h, "<section id=\"flagged\"><h2>{}</h2>", w(lang, "flagged"));
    let flagged = score::flagged(now, k);
    if flagged.is_empty() {
        let _ = write!(h, "<p>{}</p>", w(lang, "none_flagged"));
    } else {
        let rows: Vec<(&str, Vec<String>)> = flagged
            .iter()
            .map(|c| {
                let mut class = vec![term_cap(lang, flag_code(c.flag))];
                class.extend(critical_words(lang, &c.critical));
                (
                    "",
                    vec![
                        centre_link(&c.centre, &r.period, name_of(lang, &c.name_ar, &c.name_en)),
                        esc(agencies.name(&c.agency)),
                        format!("<span class=\"flag\">{}</span>", join(lang, &class)),
                        points(c.phone.score.map(|e| e.value)),
                        c.phone
                            .score
                            .map_or("—".into(), |e| between(lang, e.low, e.high)),
                        ltr(&c.phone.valid_calls.to_string()),
                    ],
                )
            })
            .collect();
        h += &cards(
            None,
            &[
                w(lang, "centre"),
                w(lang, "agency"),
                w(lang, "class"),
                w(lang, "phone"),
                w(lang, "interval"),
                w(lang, "calls"),
            ],
            &rows,
        );
    }
    h += "</section>";
    // Charts: the phone bands of the period, and six months.
    let b = &s.phone_bands;
    let unscored = now.iter().filter(|c| c.phone.score.is_none()).count();
    let band_items: Vec<(String, usize, &str)> = [
        (Band::Excellent, b.excellent),
        (Band::Medium, b.medium),
        (Band::Weak, b.weak),
    ]
    .into_iter()
    .map(|(band, n)| (term_cap(lang, band_code(band)), n, band_colour(band)))
    .chain([(w(lang, "no_score").to_string(), unscored, "#767676")])
    .collect();
    let band_desc = join(
        lang,
        &band_items
            .iter()
            .map(|(l, n, _)| format!("{l}: {n}"))
            .collect::<Vec<_>>(),
    );
    let labels: Vec<String> = months.iter().map(|m| words::month_short(lang, m)).collect();
    let month_figs: Vec<Figures> = months.iter().map(|m| figures(of(m), k)).collect();
    let series = [
        chart::Series {
            name: w(lang, "mean_phone"),
            colour: "#0b4f6c",
            dash: None,
            values: month_figs.iter().map(|f| f.mean_phone).collect(),
        },
        chart::Series {
            name: w(lang, "answer_rate"),
            colour: "#1e6b30",
            dash: Some("7 4"),
            values: month_figs.iter().map(|f| f.answer_rate).collect(),
        },
    ];
    let history_desc = join_clauses(
        lang,
        &months
            .iter()
            .zip(&month_figs)
            .map(|(m, f)| {
                format!(
                    "{}: {} {}, {} {}",
                    period_words(lang, m),
                    w(lang, "mean_phone"),
                    f.mean_phone.map_or("—".into(), |v| format!("{v:.1}")),
                    w(lang, "flagged_short"),
                    f.flagged
                )
            })
            .collect::<Vec<_>>(),
    );
    let threshold_label = format!("{} {}", w(lang, "threshold"), r.threshold);
    let _ = write!(
        h,
        "<section id=\"charts\"><h2>{}</h2><div class=\"charts\">\
         <figure><figcaption>{}</figcaption>{}</figure>\
         <figure><figcaption>{} — {}</figcaption>{}{}",
        w(lang, "bands"),
        w(lang, "bands"),
        chart::bars(
            "bands-chart",
            w(lang, "bands"),
            &band_desc,
            &band_items,
            lang == Lang::Ar
        ),
        w(lang, "history"),
        w(lang, "mean_phone"),
        chart::lines(
            "overview-history",
            w(lang, "history"),
            &history_desc,
            &labels,
            &series,
            Some((k.threshold, &threshold_label)),
            lang == Lang::Ar,
        ),
        chart::legend(&series, Some(&threshold_label)),
    );
    let rows: Vec<(&str, Vec<String>)> = months
        .iter()
        .zip(&month_figs)
        .map(|(m, f)| {
            (
                "",
                vec![
                    period_words(lang, m),
                    points(f.mean_phone),
                    pct(lang, f.answer_rate),
                    ltr(&f.flagged.to_string()),
                ],
            )
        })
        .collect();
    let _ = write!(
        h,
        "<details><summary>{}</summary>{}</details></figure></div></section>",
        w(lang, "figures"),
        cards(
            None,
            &[
                w(lang, "period"),
                w(lang, "mean_phone"),
                w(lang, "answer_rate"),
                w(lang, "flagged_short"),
            ],
            &rows
        )
    );
    // Agencies.
    let rows: Vec<(&str, Vec<String>)> = r
        .agencies
        .iter()
        .map(|a| {
            (
                "",
                vec![
                    format!(
                        "<a href=\"/?period={}&amp;agency={}\">{}</a>",
                        enc(&r.period),
                        enc(&a.agency),
                        esc(agencies.name(&a.agency))
                    ),
                    ltr(&a.centres.to_string()),
                    ltr(&a.flagged.to_string()),
                    points(a.mean_phone),
                    ltr(&a.improved.to_string()),
                    ltr(&a.declined.to_string()),
                ],
            )
        })
        .collect();
    let _ = write!(
        h,
        "<section id=\"agencies\"><h2>{}</h2>{}</section>",
        w(lang, "agencies"),
        cards(
            None,
            &[
                w(lang, "agency"),
                w(lang, "centres"),
                w(lang, "flagged_short"),
                w(lang, "mean_phone"),
                w(lang, "improved"),
                w(lang, "declined"),
            ],
            &rows
        )
    );
    // League table: the ranked centres in their places (the report's order); the unscored
    // ones apart, below, each with its reason.
    let rows: Vec<(&str, Vec<String>)> = r
        .centres
        .iter()
        .filter(|c| c.rank.is_some())
        .map(|c| {
            let flagged = matches!(c.flag, FlagClass::Confirmed | FlagClass::Provisional);
            (
                "",
                vec![
                    ltr(&c.rank.unwrap_or_default().to_string()),
                    centre_link(&c.centre, &r.period, name_of(lang, &c.name_ar, &c.name_en)),
                    esc(agencies.name(&c.agency)),
                    format!(
                        "{} {}",
                        points(c.phone_score),
                        c.phone_band
                            .map_or(String::new(), |b| term(lang, band_code(b)).into())
                    ),
                    ltr(&c.valid_calls.to_string()),
                    format!(
                        "<span{}>{}</span>",
                        if flagged { " class=\"flag\"" } else { "" },
                        term_cap(lang, flag_code(c.flag))
                    ),
                    points(c.web_score),
                    points(c.overall),
                    c.phone_trend.map_or(String::new(), |t| {
                        let code = match t {
                            score::Trend::Improved => "improved",
                            score::Trend::Declined => "declined",
                            score::Trend::Unchanged => "unchanged",
                        };
                        format!(
                            "{} {}",
                            term_cap(lang, code),
                            c.phone_change
                                .map_or(String::new(), |d| ltr(&format!("{d:+.1}")))
                        )
                    }),
                ],
            )
        })
        .collect();
    let _ = write!(h, "<section id=\"league\"><h2>{}</h2>", w(lang, "league"));
    if !rows.is_empty() {
        h += &cards(
            Some("league-table"),
            &[
                "#",
                w(lang, "centre"),
                w(lang, "agency"),
                w(lang, "phone"),
                w(lang, "calls"),
                w(lang, "class"),
                w(lang, "web"),
                w(lang, "overall"),
                w(lang, "trend"),
            ],
            &rows,
        );
    }
    let unranked: Vec<(&str, Vec<String>)> = r
        .centres
        .iter()
        .filter(|c| c.rank.is_none())
        .map(|c| {
            (
                "",
                vec![
                    centre_link(&c.centre, &r.period, name_of(lang, &c.name_ar, &c.name_en)),
                    esc(agencies.name(&c.agency)),
                    cap(&missing_words(lang, &c.unscored)),
                ],
            )
        })
        .collect();
    if !unranked.is_empty() {
        let _ = write!(h, "<h3 id=\"unranked\">{}</h3>", w(lang, "unranked"));
        h += &cards(
            None,
            &[
                w(lang, "centre"),
                w(lang, "agency"),
                w(lang, "why_unranked"),
            ],
            &unranked,
        );
    }
    h += "</section>";
    let title = match period.kind {
        Kind::Month | Kind::Quarter | Kind::Year => {
            format!("{} — {}", w(lang, "overview"), period_words(lang, &period))
        }
        _ => w(lang, "overview").to_string(),
    };
    Ok((title, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reads_as_an_arrow_and_words() {
        let d = delta(
            Lang::En,
            Unit::Points,
            Some(60.0),
            Some(57.0),
            "October 2026",
        );
        assert!(
            d.contains("▲ up") && d.contains("3.0") && d.contains("points on October 2026"),
            "{d}"
        );
        let d = delta(Lang::Ar, Unit::Count, Some(1.0), Some(3.0), "أكتوبر 2026");
        assert!(
            d.contains("▼ بنقص") && d.contains(">2<") && d.contains("عن أكتوبر 2026"),
            "{d}"
        );
        let d = delta(Lang::Ar, Unit::Percent, Some(50.0), None, "x");
        assert!(d.contains("لا رقم للفترة السابقة"));
    }

    #[test]
    fn rates_are_weighted_by_valid_calls() {
        let k = ScoringConfig::default();
        let mut a: CentreScores = serde_json::from_value(serde_json::json!({
            "centre": "a", "name_ar": "أ", "name_en": "A", "agency": "G", "period": "2026-11",
            "phone": {"valid_calls": 9, "excluded": {}, "score": null, "band": null,
                      "answer_rate": {"value": 100.0, "low": 70.0, "high": 100.0},
                      "reached_person": null, "service_level": null, "ring_no_answer": null,
                      "mean_time_to_person_secs": null, "components": {}, "min_calls": 5},
            "web": {"valid_checks": 0, "excluded": {}, "availability_pct": null, "availability": null,
                    "performance": null, "accessibility": null, "score": null, "band": null,
                    "inherited_from": null},
            "overall": null, "band": null, "list": null, "flag": "insufficient_data",
            "critical": [], "rank": null, "unscored": []
        }))
        .unwrap();
        let mut b = a.clone();
        b.centre = "b".into();
        b.phone.valid_calls = 1;
        b.phone.answer_rate = Some(crate::score::stats::Estimate {
            value: 0.0,
            low: 0.0,
            high: 80.0,
        });
        a.phone.reached_person = None;
        let f = figures(&[&a, &b], &k);
        assert_eq!(f.answer_rate, Some(90.0));
        assert_eq!(f.audited, 2);
    }
}
