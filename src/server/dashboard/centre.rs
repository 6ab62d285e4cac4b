//! A centre's page: who it is, its scores of the period and why they are what they are (what
//! counted and what did not, the parts of the phone score, what moved it against the period
//! before, or plainly why there is no score), six months as a chart, the last calls and web
//! audits with how each counts, and its open cases. Scores are the stored verdicts.

use std::fmt::Write as _;

use hyper::body::Incoming;
use hyper::Request;

use super::overview::{between, critical_words, flag_code, missing_reason, months_to, pct};
use super::result::{call_timeline, counts_words, screenshot, violations, web_outcome};
use super::words::{
    cap, date_of, hours_words, join, join_clauses, month_short, period_words, term, term_cap, w,
    when, zone_words,
};
use super::{
    cards, chart, esc, id_bdi, internal, latest, ltr, name_of, not_found, period_of, probe_button,
    summary_list, url_bdi, Agencies, App, Page, Who,
};
use crate::arabic::{counted, counted_en};
use crate::config::ScoringConfig;
use crate::probe::{code_of, Channel};
use crate::report::Lang;
use crate::score::period::Period;
use crate::score::CentreScores;
use crate::verdict::ResultScoring;

/// The parts of a call's score in the order SCORING.md lists them, as `call_weights` weighs them.
const COMPONENTS: [&str; 5] = [
    "network_answer",
    "ring_time",
    "reached_person",
    "time_to_person",
    "voice_quality",
];

fn score_of(e: Option<crate::score::stats::Estimate>) -> String {
    e.map_or("—".into(), |e| ltr(&format!("{:.1}", e.value)))
}

/// Results that do not count, by reason: "outside opening hours (2)، network fault (1)".
fn excluded_words(
    lang: Lang,
    ex: &std::collections::BTreeMap<crate::score::rules::Excluded, u64>,
) -> String {
    let parts: Vec<String> = ex
        .iter()
        .map(|(why, n)| format!("{} ({})", term(lang, &code_of(why)), ltr(&n.to_string())))
        .collect();
    join(lang, &parts)
}

/// Why the phone score is what it is: what it rests on, what did not count, what cost it most
/// and what moved it since the period before; or, plainly, why there is none.
fn phone_why(
    lang: Lang,
    s: Option<&CentreScores>,
    before: Option<&CentreScores>,
    before_period: &Period,
    k: &ScoringConfig,
) -> String {
    let mut h = String::new();
    let Some(s) = s else {
        let _ = write!(
            h,
            "<p class=\"notice\" id=\"no-phone-score\"><strong>{}</strong>: {}.</p>",
            w(lang, "no_phone_score"),
            match lang {
                Lang::En => "no calls placed",
                Lang::Ar => "لم تُجرَ مكالمات",
            }
        );
        return h;
    };
    let p = &s.phone;
    let placed = p.valid_calls + p.excluded.values().sum::<u64>();
    let missing = s.unscored.iter().find(|m| m.channel == "phone");
    if let Some(m) = missing {
        let reason = missing_reason(lang, m);
        let _ = write!(
            h,
            "<p class=\"notice\" id=\"no-phone-score\"><strong>{}</strong>: {reason}.{}</p>",
            if p.score.is_none() {
                w(lang, "no_phone_score")
            } else {
                match lang {
                    Lang::En => "The phone score cannot flag or clear the centre yet",
                    Lang::Ar => "لا تكفي درجة الهاتف بعدُ لرصد المركز أو تبرئته",
                }
            },
            match lang {
                Lang::En => format!(
                    " {} placed, {} counted.",
                    counted_en(placed, &ltr(&placed.to_string()), "call", "calls"),
                    ltr(&p.valid_calls.to_string())
                ),
                Lang::Ar => format!(
                    " المكالمات المُجراة: {}، المحتسبة منها: {}.",
                    ltr(&placed.to_string()),
                    ltr(&p.valid_calls.to_string())
                ),
            }
        );
    }
    let mut lines = Vec::new();
    if let Some(e) = p.score {
        lines.push(match lang {
            Lang::En => format!(
                "{} {}, {} (95 %), on {} ({} needed).",
                w(lang, "score"),
                ltr(&format!("{:.1}", e.value)),
                between(lang, e.low, e.high),
                counted_en(
                    p.valid_calls,
                    &ltr(&p.valid_calls.to_string()),
                    "valid call",
                    "valid calls"
                ),
                ltr(&p.min_calls.to_string())
            ),
            Lang::Ar => format!(
                "الدرجة {}، {} (ثقة 95٪)، على {} (المطلوب {}).",
                ltr(&format!("{:.1}", e.value)),
                between(lang, e.low, e.high),
                counted(
                    p.valid_calls,
                    &ltr(&p.valid_calls.to_string()),
                    &crate::arabic::VALID_CALLS
                ),
                ltr(&p.min_calls.to_string())
            ),
        });
    }
    if !p.excluded.is_empty() {
        lines.push(format!(
            "{}: {}.",
            w(lang, "not_counted"),
            excluded_words(lang, &p.excluded)
        ));
    }
    for l in lines {
        let _ = write!(h, "<p>{l}</p>");
    }
    if p.valid_calls == 0 {
        return h;
    }
    // The parts: this period's mean points of each, the period before's, and the change.
    let max_of = |name: &str| {
        COMPONENTS
            .iter()
            .position(|c| *c == name)
            .map_or(0.0, |i| k.call_weights[i])
    };
    let part = |s: Option<&CentreScores>, name: &str| {
        s.and_then(|s| s.phone.components.get(name).copied().flatten())
    };
    let rows: Vec<(&str, Vec<String>)> = COMPONENTS
        .iter()
        .map(|name| {
            let (now, then) = (part(Some(s), name), part(before, name));
            let of = |v: Option<f64>| {
                v.map_or("—".into(), |v| {
                    ltr(&format!("{v:.1} / {:.0}", max_of(name)))
                })
            };
            (
                "component",
                vec![
                    term_cap(lang, name),
                    of(now),
                    of(then),
                    now.zip(then)
                        .map_or(String::new(), |(a, b)| ltr(&format!("{:+.1}", a - b))),
                ],
            )
        })
        .collect();
    h += &cards(
        Some("components"),
        &[
            w(lang, "component"),
            w(lang, "this_period"),
            &period_words(lang, before_period),
            w(lang, "change"),
        ],
        &rows,
    );
    // What cost it most: the two parts furthest below their maximum.
    let mut gaps: Vec<(&str, f64, f64)> = COMPONENTS
        .iter()
        .filter_map(|n| part(Some(s), n).map(|v| (*n, v, max_of(n))))
        .filter(|(_, v, max)| max - v > 0.05)
        .collect();
    gaps.sort_by(|a, b| (b.2 - b.1).total_cmp(&(a.2 - a.1)));
    if !gaps.is_empty() {
        let parts: Vec<String> = gaps
            .iter()
            .take(2)
            .map(|(n, v, max)| {
                format!("{} ({})", term(lang, n), ltr(&format!("{v:.1} / {max:.0}")))
            })
            .collect();
        let _ = write!(
            h,
            "<p id=\"cost-most\"><strong>{}</strong>: {}.</p>",
            w(lang, "cost_most"),
            join(lang, &parts)
        );
    }
    // What moved it: the change of the stored scores, and the parts that moved most.
    if let (Some(a), Some(b)) = (p.score, before.and_then(|b| b.phone.score)) {
        let d = a.value - b.value;
        let mut moved: Vec<(&str, f64)> = COMPONENTS
            .iter()
            .filter_map(|n| Some((*n, part(Some(s), n)? - part(before, n)?)))
            .filter(|(_, d)| d.abs() >= 0.05)
            .collect();
        moved.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()));
        let parts: Vec<String> = moved
            .iter()
            .take(2)
            .map(|(n, d)| format!("{} {}", term(lang, n), ltr(&format!("{d:+.1}"))))
            .collect();
        let against = period_words(lang, before_period);
        let head = match (lang, d.abs() < 0.05, d > 0.0) {
            (Lang::En, true, _) => format!("▬ unchanged on {against}"),
            (Lang::En, false, up) => format!(
                "{} {} points on {against}",
                if up { "▲ up" } else { "▼ down" },
                ltr(&format!("{:.1}", d.abs()))
            ),
            (Lang::Ar, true, _) => format!("▬ دون تغيير عن {against}"),
            (Lang::Ar, false, up) => format!(
                "{} {} نقطة عن {against}",
                if up {
                    "▲ ارتفاع"
                } else {
                    "▼ انخفاض"
                },
                ltr(&format!("{:.1}", d.abs()))
            ),
        };
        let _ = write!(
            h,
            "<p id=\"moved\"><strong>{}</strong>: {head}{}.</p>",
            w(lang, "moved"),
            match parts.is_empty() {
                true => String::new(),
                false => format!(
                    "{}{}",
                    match lang {
                        Lang::En => "; most: ",
                        Lang::Ar => "؛ أكثرها: ",
                    },
                    join(lang, &parts)
                ),
            }
        );
    }
    h
}

/// What the web score rests on, or why there is none.
fn web_why(lang: Lang, s: Option<&CentreScores>, agencies: &Agencies) -> String {
    let Some(x) = s.map(|s| &s.web) else {
        return String::new();
    };
    let mut h = String::new();
    if x.score.is_none() {
        let _ = write!(
            h,
            "<p class=\"notice\" id=\"no-web-score\"><strong>{}</strong>: {}.</p>",
            w(lang, "no_web_score"),
            match lang {
                Lang::En => "no website check",
                Lang::Ar => "لا فحص للموقع",
            }
        );
        return h;
    }
    if let Some(a) = &x.inherited_from {
        let _ = write!(
            h,
            "<p>{}: {}.</p>",
            w(lang, "inherited"),
            esc(agencies.name(a))
        );
    }
    let parts = [
        (
            "availability",
            x.availability_pct.map(|v| pct(lang, Some(v))),
        ),
        (
            "performance",
            x.performance.map(|v| ltr(&format!("{v:.1}"))),
        ),
        (
            "accessibility",
            x.accessibility.map(|v| ltr(&format!("{v:.1}"))),
        ),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some(format!("{} {}", w(lang, k), v?)))
    .collect::<Vec<_>>();
    if parts.is_empty() {
        return h;
    }
    let _ = write!(
        h,
        "<p>{}{}</p>",
        join(lang, &parts),
        match lang {
            Lang::En => format!(
                ", on {}.",
                counted_en(
                    x.valid_checks,
                    &ltr(&x.valid_checks.to_string()),
                    "valid check",
                    "valid checks"
                )
            ),
            Lang::Ar => format!(
                "، على {}.",
                counted(
                    x.valid_checks,
                    &ltr(&x.valid_checks.to_string()),
                    &crate::arabic::VALID_CHECKS
                )
            ),
        }
    );
    if !x.excluded.is_empty() {
        let _ = write!(
            h,
            "<p>{}: {}.</p>",
            w(lang, "not_counted_web"),
            excluded_words(lang, &x.excluded)
        );
    }
    h
}

fn or_dash(s: String) -> String {
    if s.is_empty() {
        "—".into()
    } else {
        s
    }
}

fn result_link(id: i64) -> String {
    format!("<a href=\"/results/{id}\">{}</a>", ltr(&format!("#{id}")))
}

fn tile(label: &str, id: &str, value: String, note: String) -> String {
    format!(
        "<li class=\"tile\"><span class=\"label\">{}</span><span class=\"value\" id=\"{id}\">{value}</span>\
         <span class=\"delta\">{note}</span></li>",
        esc(label)
    )
}

pub(super) async fn page(
    app: &App,
    who: &Who,
    req: &Request<Incoming>,
    id: &str,
    lang: Lang,
) -> Page {
    let id = url::form_urlencoded::parse(format!("i={id}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let c = app
        .store
        .centre(&id)
        .await
        .map_err(|e| internal(lang, e))?
        .ok_or_else(|| not_found(lang, "no_centre", &id))?;
    let period = period_of(req, lang)?;
    let k = &app.config.scoring;
    let agencies = Agencies::load(app, lang).await?;
    let tz = c.tz();
    let title = name_of(lang, &c.name_ar, &c.name_en).to_string();
    let mut h = format!("<h1>{}</h1>", esc(&title));
    let numbers: Vec<String> = c
        .phones
        .iter()
        .enumerate()
        .map(|(i, n)| {
            format!(
                "<div>{} {}</div>",
                id_bdi(n),
                probe_button(
                    who,
                    lang,
                    Channel::Phone.as_str(),
                    n,
                    &format!("probe-phone-{i}")
                )
            )
        })
        .collect();
    let sites: Vec<String> = c
        .websites
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "<div>{} {}</div>",
                url_bdi(s),
                probe_button(
                    who,
                    lang,
                    Channel::Web.as_str(),
                    s,
                    &format!("probe-web-{i}")
                )
            )
        })
        .collect();
    let in_zone = |h| format!("{} ({})", hours_words(lang, h), zone_words(lang, tz));
    let mut summary = vec![
        (w(lang, "agency"), esc(agencies.name(&c.agency))),
        (
            w(lang, "region"),
            esc(match (lang, &c.region_ar) {
                (Lang::Ar, Some(ar)) => ar,
                _ => &c.region,
            }),
        ),
        (w(lang, "hours"), in_zone(&c.hours)),
    ];
    if let Some(r) = &c.hours_ramadan {
        summary.push((w(lang, "hours_ramadan"), in_zone(r)));
    }
    summary.push((w(lang, "numbers"), or_dash(numbers.concat())));
    summary.push((w(lang, "sites"), or_dash(sites.concat())));
    h += &summary_list(&summary);
    // Scores: six months of stored verdicts, this period and the one before among them.
    let verdicts = crate::verdict::Verdicts::new(&app.store, &app.config);
    let months = months_to(&period);
    let before_period = period.previous();
    let mut history: Vec<(Period, Option<CentreScores>)> = Vec::new();
    for m in &months {
        let s = verdicts
            .one(m, &c.id)
            .await
            .map_err(|e| internal(lang, e))?;
        history.push((m.clone(), s));
    }
    let find = |p: &Period| {
        history
            .iter()
            .find(|(m, _)| m.label == p.label)
            .map(|x| x.1.clone())
    };
    let now = match find(&period) {
        Some(s) => s,
        None => verdicts
            .one(&period, &c.id)
            .await
            .map_err(|e| internal(lang, e))?,
    };
    let before = match find(&before_period) {
        Some(s) => s,
        None => verdicts
            .one(&before_period, &c.id)
            .await
            .map_err(|e| internal(lang, e))?,
    };
    let _ = write!(
        h,
        "<section id=\"scores\"><h2>{} — {}</h2><ul class=\"tiles\">",
        w(lang, "score"),
        period_words(lang, &period)
    );
    let s = now.as_ref();
    let phone = s.and_then(|s| s.phone.score);
    let web = s.and_then(|s| s.web.score);
    let band = |b: Option<crate::score::Band>| b.map(|b| term_cap(lang, &code_of(&b)));
    let note = |e: Option<crate::score::stats::Estimate>,
                b: Option<crate::score::Band>,
                n: u64,
                unit: &str| {
        let mut parts: Vec<String> = band(b).into_iter().collect();
        if let Some(e) = e {
            parts.push(between(lang, e.low, e.high));
        }
        // "label: count", so that no noun has to agree with the number.
        parts.push(format!("{unit}: {}", ltr(&n.to_string())));
        join(lang, &parts)
    };
    h += &tile(
        w(lang, "phone"),
        "phone-score",
        score_of(phone),
        note(
            phone,
            s.and_then(|s| s.phone.band),
            s.map_or(0, |s| s.phone.valid_calls),
            match lang {
                Lang::En => "valid calls",
                Lang::Ar => "المكالمات الصالحة",
            },
        ),
    );
    h += &tile(
        w(lang, "web"),
        "web-score",
        score_of(web),
        note(
            web,
            s.and_then(|s| s.web.band),
            s.map_or(0, |s| s.web.valid_checks),
            match lang {
                Lang::En => "valid checks",
                Lang::Ar => "الفحوص الصالحة",
            },
        ),
    );
    let mut class = vec![term_cap(
        lang,
        flag_code(s.map_or(crate::score::FlagClass::InsufficientData, |s| s.flag)),
    )];
    if let Some(s) = s {
        class.extend(critical_words(lang, &s.critical));
    }
    h += &tile(
        w(lang, "class"),
        "class",
        format!("<span class=\"flag-class\">{}</span>", class.remove(0)),
        join(lang, &class),
    );
    h += "</ul>";
    let _ = write!(
        h,
        "<h3 id=\"why\">{}</h3><h4>{}</h4>{}<h4>{}</h4>{}",
        w(lang, "why_score"),
        w(lang, "phone"),
        phone_why(lang, s, before.as_ref(), &before_period, k),
        w(lang, "web"),
        web_why(lang, s, &agencies)
    );
    // Six months.
    let labels: Vec<String> = months.iter().map(|m| month_short(lang, m)).collect();
    let series = [
        chart::Series {
            name: w(lang, "phone"),
            colour: "#0b4f6c",
            dash: None,
            values: history
                .iter()
                .map(|(_, s)| s.as_ref().and_then(|s| s.phone.score.map(|e| e.value)))
                .collect(),
        },
        chart::Series {
            name: w(lang, "web"),
            colour: "#1e6b30",
            dash: Some("7 4"),
            values: history
                .iter()
                .map(|(_, s)| s.as_ref().and_then(|s| s.web.score.map(|e| e.value)))
                .collect(),
        },
    ];
    let fmt = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.1}"));
    let desc = join_clauses(
        lang,
        &months
            .iter()
            .enumerate()
            .map(|(i, m)| {
                format!(
                    "{}: {} {}، {} {}",
                    period_words(lang, m),
                    w(lang, "phone"),
                    fmt(series[0].values[i]),
                    w(lang, "web"),
                    fmt(series[1].values[i])
                )
                .replace("، ", if lang == Lang::Ar { "، " } else { ", " })
            })
            .collect::<Vec<_>>(),
    );
    let threshold = format!("{} {}", w(lang, "threshold"), k.threshold);
    let table: Vec<(&str, Vec<String>)> = months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                "",
                vec![
                    period_words(lang, m),
                    ltr(&fmt(series[0].values[i])),
                    ltr(&fmt(series[1].values[i])),
                ],
            )
        })
        .collect();
    let _ = write!(
        h,
        "<h3>{}</h3><figure class=\"history\">{}{}<details><summary>{}</summary>{}</details></figure></section>",
        w(lang, "over_time"),
        chart::lines(
            "history-chart",
            w(lang, "over_time"),
            &desc,
            &labels,
            &series,
            Some((k.threshold, &threshold)),
            lang == Lang::Ar
        ),
        chart::legend(&series, Some(&threshold)),
        w(lang, "figures"),
        cards(
            None,
            &[w(lang, "period"), w(lang, "phone"), w(lang, "web")],
            &table
        ),
    );
    // Last calls, each with how it counts.
    let calls = latest(app, &c.id, Channel::Phone.as_str(), 20, lang).await?;
    let scoring = scorings(app, &calls, lang).await?;
    let _ = write!(
        h,
        "<section id=\"calls\"><h2>{}</h2>",
        w(lang, "last_calls")
    );
    if calls.is_empty() {
        let _ = write!(h, "<p>{}</p>", w(lang, "none"));
    } else {
        let rows: Vec<(&str, Vec<String>)> = calls
            .iter()
            .zip(&scoring)
            .filter_map(|(r, sc)| {
                let call = r.probe.call()?;
                let player = call
                    .recording
                    .as_deref()
                    .and_then(|p| super::super::evidence_url(&app.store, p))
                    .map_or(String::new(), |u| {
                        format!(
                            "<audio controls preload=\"none\" src=\"{}\"></audio>",
                            esc(&u)
                        )
                    });
                Some((
                    "call",
                    vec![
                        result_link(r.id),
                        when(lang, &r.started_at, tz),
                        id_bdi(call.number.as_deref().unwrap_or(&r.target)),
                        term_cap(lang, &r.outcome),
                        call.answer_type
                            .as_ref()
                            .map_or(String::new(), |a| term_cap(lang, &code_of(a))),
                        counts_words(lang, sc, false),
                        call_timeline(&call.timings_ms, lang),
                        player,
                    ],
                ))
            })
            .collect();
        h += &cards(
            None,
            &[
                w(lang, "result"),
                w(lang, "time"),
                w(lang, "number"),
                w(lang, "outcome"),
                w(lang, "answer_type"),
                w(lang, "counts"),
                w(lang, "timeline"),
                w(lang, "recording"),
            ],
            &rows,
        );
    }
    h += "</section>";
    // Last web audits.
    let audits = latest(app, &c.id, Channel::Web.as_str(), 10, lang).await?;
    let scoring = scorings(app, &audits, lang).await?;
    let _ = write!(
        h,
        "<section id=\"audits\"><h2>{}</h2>",
        w(lang, "last_audits")
    );
    if audits.is_empty() {
        let _ = write!(h, "<p>{}</p>", w(lang, "none"));
    } else {
        let rows: Vec<(&str, Vec<String>)> = audits
            .iter()
            .zip(&scoring)
            .map(|(r, sc)| {
                let web = r.probe.web();
                (
                    "audit",
                    vec![
                        result_link(r.id),
                        when(lang, &r.started_at, tz),
                        url_bdi(&r.target),
                        web.map_or_else(|| term_cap(lang, &r.outcome), |x| web_outcome(lang, x)),
                        web.map_or("—".into(), |x| {
                            super::words::secs(lang, x.timings_ms.total / 1000.0)
                        }),
                        web.and_then(|x| x.a11y.as_ref())
                            .map_or("—".into(), |a| ltr(&format!("{:.1}", a.score))),
                        counts_words(lang, sc, true),
                        violations(web, lang),
                        screenshot(app, web, lang),
                    ],
                )
            })
            .collect();
        h += &cards(
            None,
            &[
                w(lang, "result"),
                w(lang, "time"),
                w(lang, "site"),
                w(lang, "outcome"),
                w(lang, "load_s"),
                w(lang, "a11y"),
                w(lang, "counts"),
                w(lang, "violations"),
                w(lang, "screenshot"),
            ],
            &rows,
        );
    }
    h += "</section>";
    // Open cases.
    let now_utc = chrono::Utc::now();
    let cases: Vec<_> = app
        .store
        .cases()
        .await
        .map_err(|e| internal(lang, e))?
        .into_iter()
        .filter(|x| x.centre == c.id && x.closed_at.is_none())
        .collect();
    let _ = write!(h, "<section id=\"cases\"><h2>{}</h2>", w(lang, "cases"));
    if cases.is_empty() {
        let _ = write!(h, "<p>{}</p>", w(lang, "no_cases"));
    } else {
        let rows: Vec<(&str, Vec<String>)> = cases
            .iter()
            .map(|x| {
                let st = crate::score::cases::status(x, now_utc);
                (
                    "case",
                    vec![
                        Period::parse(&x.period)
                            .map_or_else(|_| ltr(&x.period), |p| period_words(lang, &p)),
                        term_cap(lang, &x.channel),
                        format!(
                            "<span class=\"flag\">{}</span> ({})",
                            term_cap(lang, &x.class),
                            term(lang, &code_of(&st))
                        ),
                        x.score.map_or("—".into(), |v| ltr(&format!("{v:.1}"))),
                        date_of(lang, &x.opened_at, tz),
                        date_of(lang, &x.due_at, tz),
                    ],
                )
            })
            .collect();
        h += &cards(
            None,
            &[
                w(lang, "period"),
                w(lang, "channel"),
                w(lang, "class"),
                w(lang, "score"),
                w(lang, "opened"),
                w(lang, "due"),
            ],
            &rows,
        );
    }
    h += "</section>";
    Ok((cap(&title), h))
}

/// How each of `results` counts, as every surface shows it.
async fn scorings(
    app: &App,
    results: &[crate::store::StoredResult],
    lang: Lang,
) -> Result<Vec<ResultScoring>, super::Failure> {
    if results.is_empty() {
        return Ok(Vec::new());
    }
    crate::verdict::result_scoring(&app.store, &app.config.scoring, results)
        .await
        .map_err(|e| internal(lang, e))
}
