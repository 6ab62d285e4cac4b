//! A result's page: what was measured (in words, at the centre's local time), how it counts
//! for the centre and what its score is made of (as `verdict::result_scoring` scores it for
//! every surface), the evidence (recording, screenshot, SIP trace), the labels and the form.

use std::fmt::Write as _;

use super::words::{cap, join, secs, term, term_cap, w, when};
use super::{
    cards, centre_link, csrf_field, esc, evidence_file, id_bdi, internal, ltr, name_of, not_found,
    summary_list, url_bdi, App, Failure, Page, Role, Who,
};
use crate::config::ScoringConfig;
use crate::probe::call::{CallResult, CallTimings};
use crate::probe::code_of;
use crate::probe::web::WebResult;
use crate::report::Lang;
use crate::store::{Probe, StoredResult};
use crate::verdict::ResultScoring;

/// The moments of a call as a bar (hidden from screen readers: the words under it say the
/// same) and as words. Ringing is said only when it was seen, and as how long it rang.
pub(super) fn call_timeline(t: &CallTimings, lang: Lang) -> String {
    let total = t.total.max(1.0);
    let (wd, ht) = (300.0, 20.0);
    let rtl = lang == Lang::Ar;
    let x = |ms: f64| {
        let v = 4.0 + (wd - 8.0) * ms.min(total) / total;
        if rtl {
            wd - v
        } else {
            v
        }
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" viewBox=\"0 0 {wd} {ht}\" aria-hidden=\"true\">\
         <line x1=\"4\" x2=\"{}\" y1=\"10\" y2=\"10\" stroke=\"#999\" stroke-width=\"4\"/>",
        wd - 4.0
    );
    let first_audio = t.answer.zip(t.first_audio).map(|(a, f)| a + f);
    for (at, colour) in [
        (t.first_response, "#777"),
        (t.ringing, "#b07d00"),
        (t.answer, "#1e6b30"),
        (first_audio, "#0b4f6c"),
        (Some(total), "#222"),
    ] {
        if let Some(ms) = at {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"10\" r=\"5\" fill=\"{colour}\"/>",
                x(ms)
            );
        }
    }
    svg += "</svg>";
    format!(
        "{svg}<div class=\"muted\">{}</div>",
        timeline_words(t, lang)
    )
}

/// A call's moments in a sentence: "rang 3.0 s, answered 3.1 s after dialling", or
/// "answered without ringing, 0.4 s after dialling" — never "ringing 0.0 s".
pub(super) fn timeline_words(t: &CallTimings, lang: Lang) -> String {
    let s = |ms: f64| secs(lang, ms / 1000.0);
    // A ringing shorter than this reads as none: 180 and 200 arrived together.
    let rang = |from: f64, to: f64| (to - from >= 50.0).then_some(to - from);
    let mut parts = Vec::new();
    match (t.ringing, t.answer) {
        (Some(r), Some(a)) => match rang(r, a) {
            Some(d) => parts.push(match lang {
                Lang::En => format!("rang {}, answered {} after dialling", s(d), s(a)),
                Lang::Ar => format!("رنّ {} ثم تم الرد بعد {} من الاتصال", s(d), s(a)),
            }),
            None => parts.push(no_ring(lang, &s(a))),
        },
        (None, Some(a)) => parts.push(no_ring(lang, &s(a))),
        (Some(r), None) => parts.push(match lang {
            Lang::En => format!("rang {} without an answer", s(t.total - r)),
            Lang::Ar => format!("رنّ {} دون رد", s(t.total - r)),
        }),
        (None, None) => {
            if let Some(f) = t.first_response {
                parts.push(match lang {
                    Lang::En => format!("first reply from the network after {}", s(f)),
                    Lang::Ar => format!("أول استجابة من الشبكة بعد {}", s(f)),
                });
            }
        }
    }
    if let (Some(_), Some(f)) = (t.answer, t.first_audio) {
        parts.push(match lang {
            Lang::En => format!("first sound {} after the answer", s(f)),
            Lang::Ar => format!("أول صوت بعد {} من الرد", s(f)),
        });
    }
    parts.push(match lang {
        Lang::En => format!("ended after {}", s(t.total)),
        Lang::Ar => format!("انتهت بعد {}", s(t.total)),
    });
    cap(&join(lang, &parts))
}

fn no_ring(lang: Lang, after: &str) -> String {
    match lang {
        Lang::En => format!("answered without ringing, {after} after dialling"),
        Lang::Ar => format!("تم الرد دون رنين، بعد {after} من الاتصال"),
    }
}

/// Whether a result counts against its centre, in words, with the call's score or the
/// reason it does not count.
pub(super) fn counts_words(lang: Lang, s: &ResultScoring, web: bool) -> String {
    match (&s.excluded, &s.call) {
        (Some(why), _) => format!(
            "<span class=\"muted\">{}: {}</span>",
            w(
                lang,
                if web {
                    "not_counted_web"
                } else {
                    "not_counted"
                }
            ),
            term(lang, &code_of(why))
        ),
        (None, Some(c)) => format!(
            "{} · {} {}",
            w(lang, "counted"),
            w(lang, "score"),
            ltr(&format!("{:.1}", c.score))
        ),
        (None, None) => w(lang, if web { "counted_web" } else { "counted" }).to_string(),
    }
}

/// A call's score parts: points earned of each part's maximum, or "not measured".
fn components_table(lang: Lang, s: &ResultScoring) -> String {
    let Some(c) = &s.call else {
        return String::new();
    };
    let rows: Vec<(&str, Vec<String>)> = c
        .components
        .iter()
        .map(|p| {
            (
                "component",
                vec![
                    term_cap(lang, p.name),
                    p.points.map_or(w(lang, "not_measured").to_string(), |v| {
                        ltr(&format!("{v:.1} / {:.0}", p.max))
                    }),
                ],
            )
        })
        .collect();
    cards(
        Some("components"),
        &[w(lang, "component"), w(lang, "points")],
        &rows,
    )
}

/// The "how it counts" section of a result.
fn scoring_section(lang: Lang, s: &ResultScoring, web: bool, k: &ScoringConfig) -> String {
    let mut h = format!(
        "<section id=\"scoring\"><h2>{}</h2><p id=\"counts\">{}</p>",
        w(lang, "how_scored"),
        counts_words(lang, s, web)
    );
    if let Some(c) = &s.call {
        h += &components_table(lang, s);
        if c.answered && !c.reached_person && c.score <= k.no_person_cap {
            let _ = write!(
                h,
                "<p>{} {}.</p>",
                w(lang, "capped"),
                ltr(&format!("{}", k.no_person_cap))
            );
        }
        if let Some(src) = c.person_source {
            let _ = write!(h, "<p>{} {}.</p>", w(lang, "person_from"), term(lang, src));
        }
    }
    if let Some(wc) = &s.web {
        let yes_no = |b: bool| w(lang, if b { "yes" } else { "no" });
        h += &summary_list(&[
            (w(lang, "availability"), yes_no(wc.good).to_string()),
            (
                w(lang, "performance"),
                wc.performance
                    .map_or("—".into(), |v| ltr(&format!("{v:.1}"))),
            ),
            (
                w(lang, "accessibility"),
                wc.accessibility
                    .map_or("—".into(), |v| ltr(&format!("{v:.1}"))),
            ),
        ]);
    }
    h + "</section>"
}

/// The axe violations of a site in words: description, WCAG criterion, element, page, and the
/// pages sharing it (the report's rendering).
pub(super) fn violations(web: Option<&WebResult>, lang: Lang) -> String {
    web.and_then(|w| w.a11y.as_ref())
        .map_or(String::new(), |a| {
            crate::report::html::a11y_findings(&a.violations, lang)
        })
}

/// The violations, or that there are none.
fn violations_or_none(lang: Lang, web: &WebResult) -> String {
    match web.a11y.as_ref().is_some_and(|a| a.violations.is_empty()) {
        true => match lang {
            Lang::En => "none".into(),
            Lang::Ar => "لا توجد".into(),
        },
        false => violations(Some(web), lang),
    }
}

/// A web check's screenshot, linked to the full image.
pub(super) fn screenshot(app: &App, web: Option<&WebResult>, lang: Lang) -> String {
    web.and_then(|w| w.browser.as_ref()?.screenshot.as_deref())
        .and_then(|p| super::super::evidence_url(&app.store, p))
        .map_or(String::new(), |u| {
            format!(
                "<a href=\"{u}\"><img class=\"shot\" alt=\"{}\" src=\"{u}\"></a>",
                w(lang, "screenshot_of"),
                u = esc(&u)
            )
        })
}

/// A web check's outcome in words, with why it was down or degraded.
pub(super) fn web_outcome(lang: Lang, web: &WebResult) -> String {
    let mut why: Vec<String> = web
        .reason
        .map(|r| term(lang, &code_of(&r)).to_string())
        .into_iter()
        .collect();
    why.extend(web.warnings.iter().map(|x| term(lang, x).to_string()));
    match why.is_empty() {
        true => term_cap(lang, web.outcome.as_str()),
        false => format!(
            "{} ({})",
            term_cap(lang, web.outcome.as_str()),
            join(lang, &why)
        ),
    }
}

/// A duration measured in milliseconds: under a second in milliseconds, so that a fast
/// phase does not read as "0.0 s".
fn ms_words(lang: Lang, ms: Option<f64>) -> String {
    match ms {
        None => "—".into(),
        Some(v) if v < 1000.0 => format!(
            "<bdi class=\"nb\">{v:.0}</bdi> {}",
            if lang == Lang::Ar {
                "ملّي ث"
            } else {
                "ms"
            }
        ),
        Some(v) => secs(lang, v / 1000.0),
    }
}

fn web_sections(app: &App, lang: Lang, web: &WebResult) -> String {
    let t = &web.timings_ms;
    let mut check = vec![
        (w(lang, "outcome"), web_outcome(lang, web)),
        (
            w(lang, "status"),
            web.http_status.map_or("—".into(), |s| ltr(&s.to_string())),
        ),
    ];
    let phases = [
        ("DNS", t.dns),
        ("TCP", t.connect),
        ("TLS", t.tls),
        ("TTFB", t.ttfb),
        ("", Some(t.total)),
    ];
    let timings: Vec<String> = phases
        .iter()
        .filter_map(|(name, v)| {
            let v = (*v)?;
            Some(match *name {
                "" => format!("{} {}", w(lang, "load_s"), ms_words(lang, Some(v))),
                n => format!("{} {}", ltr(n), ms_words(lang, Some(v))),
            })
        })
        .collect();
    check.push((w(lang, "timings"), join(lang, &timings)));
    if !web.redirects.is_empty() {
        let r: Vec<String> = web.redirects.iter().map(|u| url_bdi(u)).collect();
        check.push(("→", r.join("<br>")));
    }
    let mut h = format!(
        "<section id=\"http-check\"><h2>{}</h2>{}</section>",
        w(lang, "http_check"),
        summary_list(&check)
    );
    if let Some(b) = &web.browser {
        let rows = [
            (w(lang, "outcome"), term_cap(lang, &code_of(&b.outcome))),
            (
                w(lang, "load_s"),
                ms_words(lang, b.timings_ms.load.or(b.timings_ms.dom_content_loaded)),
            ),
            ("LCP", ms_words(lang, b.timings_ms.lcp)),
            (w(lang, "screenshot"), screenshot(app, Some(web), lang)),
        ];
        let _ = write!(
            h,
            "<section id=\"browser\"><h2>{}</h2>{}</section>",
            w(lang, "browser"),
            summary_list(&rows)
        );
    }
    if let Some(a) = &web.a11y {
        let _ = write!(
            h,
            "<section id=\"a11y\"><h2>{}</h2>{}</section>",
            w(lang, "accessibility"),
            summary_list(&[
                (w(lang, "a11y"), ltr(&format!("{:.1}", a.score))),
                (w(lang, "violations"), violations_or_none(lang, web)),
            ])
        );
    }
    if let Some(ar) = &web.arabic {
        let yes_no = |b: bool| {
            format!(
                "<span class=\"{}\">{}</span>",
                if b { "good" } else { "flag" },
                w(lang, if b { "yes" } else { "no" })
            )
        };
        let mut rows = vec![
            (w(lang, "lang_ok"), yes_no(ar.lang_ok)),
            (w(lang, "rtl_ok"), yes_no(ar.rtl_ok)),
            (w(lang, "language_switch"), yes_no(ar.language_switch)),
            (
                w(lang, "accessibility_statement"),
                yes_no(ar.accessibility_statement),
            ),
            (w(lang, "hours_published"), yes_no(ar.hours_published)),
            (w(lang, "charset_ok"), yes_no(ar.charset_ok)),
        ];
        if let Some(m) = ar.phone_matches {
            let missing: Vec<String> = ar.phones_missing.iter().map(|p| id_bdi(p)).collect();
            rows.push((
                w(lang, "phone_matches"),
                match missing.is_empty() {
                    true => yes_no(m),
                    false => format!("{} ({})", yes_no(m), join(lang, &missing)),
                },
            ));
        }
        let _ = write!(
            h,
            "<section id=\"arabic\"><h2>{}</h2>{}</section>",
            w(lang, "arabic_checks"),
            summary_list(&rows)
        );
    }
    h
}

fn call_rows(app: &App, lang: Lang, call: &CallResult) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    if let Some(t) = call.answer_type {
        let mut said = term_cap(lang, &code_of(&t));
        if let Some(g) = call.answer_type_guess {
            said += &format!(" · {}: {}", w(lang, "guess"), term(lang, g.code()));
        }
        if let Some(c) = call.answer_type_confidence {
            said += &format!(
                " · {}: {}",
                w(lang, "confidence"),
                super::overview::pct(lang, Some(c * 100.0))
            );
        }
        rows.push((w(lang, "answer_type"), said));
    }
    if let Some(ms) = call.timings_ms.person {
        rows.push((w(lang, "person_spoke"), secs(lang, ms / 1000.0)));
    }
    if let Some(by) = &call.hangup_by {
        rows.push((w(lang, "hung_up"), term_cap(lang, by)));
    }
    rows.push((w(lang, "timeline"), call_timeline(&call.timings_ms, lang)));
    rows.extend(network_rows(lang, call));
    if let Some(u) = call
        .recording
        .as_deref()
        .and_then(|p| super::super::evidence_url(&app.store, p))
    {
        rows.push((
            w(lang, "recording"),
            format!(
                "<audio id=\"player\" controls preload=\"none\" src=\"{}\"></audio>",
                esc(&u)
            ),
        ));
    }
    rows
}

/// What the network said and how the call was carried, in words: the carrier's Q.850 cause,
/// special information tones, the voice quality with where its delay came from, and whether
/// signalling and voice were encrypted.
fn network_rows(lang: Lang, call: &CallResult) -> Vec<(&'static str, String)> {
    let ar = lang == Lang::Ar;
    let pick = |en: &str, ar_text: &str| {
        if ar {
            ar_text.to_string()
        } else {
            en.to_string()
        }
    };
    let mut rows = Vec::new();
    if let Some(q) = &call.q850 {
        let cause = ltr(&q.cause.to_string());
        let mut said = match crate::probe::call::q850::words(q.cause) {
            Some((en, ar_text)) => format!(
                "{} · {} {cause}",
                cap(&pick(en, ar_text)),
                w(lang, "q850_cause")
            ),
            None => format!("{} {cause}", cap(w(lang, "q850_cause"))),
        };
        let from = if q.from == "bye" {
            "q850_in_bye"
        } else {
            "q850_in_final"
        };
        let _ = write!(said, " · {}", w(lang, from));
        rows.push((w(lang, "q850"), said));
    }
    if let Some(sit) = &call.sit {
        let (ar_text, en) = sit.variant.words();
        let when_heard = if sit.early {
            "sit_early"
        } else {
            "sit_after_answer"
        };
        rows.push((
            w(lang, "sit"),
            format!(
                "{} · {} · {}",
                cap(&pick(en, ar_text)),
                w(lang, when_heard),
                w(lang, "sit_at").replace("{s}", &secs(lang, sit.at_ms / 1000.0))
            ),
        ));
    }
    // Early media alone has no voice quality: the score leaves it out too.
    let answered = call.timings_ms.answer.is_some();
    if let Some(q) = call.rtp.as_ref().filter(|q| answered && q.packets > 0) {
        let ms = |v: f64| format!("{} {}", ltr(&format!("{v:.0}")), w(lang, "ms_unit"));
        let delay = match (q.rtt_source.as_deref(), q.rtt_ms, q.delay_ms) {
            (Some("rtcp"), Some(rtt), _) => w(lang, "rtt_rtcp").replace("{ms}", &ms(rtt)),
            (Some("rtcp_xr"), Some(rtt), _) => w(lang, "rtt_xr").replace("{ms}", &ms(rtt)),
            (_, _, Some(d)) => w(lang, "delay_assumed").replace("{ms}", &ms(d)),
            _ => String::new(),
        };
        let mut said = format!("MOS {}", ltr(&format!("{:.2}", q.mos)));
        if !delay.is_empty() {
            let _ = write!(said, " · {delay}");
        }
        rows.push((w(lang, "voice_quality_row"), said));
    }
    if let Some(t) = call.transport.as_deref() {
        let key = match (t, call.srtp) {
            ("tls", true) => "link_tls_srtp",
            ("tls", false) => "link_tls",
            ("tcp", _) => "link_tcp",
            _ => "link_udp",
        };
        rows.push((w(lang, "link"), w(lang, key).to_string()));
    }
    rows
}

/// What of a result's evidence retention deleted, and when: "The recording, the SIP trace:
/// deleted on …".
fn expired_evidence(lang: Lang, json: &str, tz: chrono_tz::Tz) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let expired = v.get("evidence_expired")?.as_object()?;
    let mut what = Vec::new();
    let mut at = None;
    for (key, word) in [
        ("recording", "recordings"),
        ("sip_trace", "traces"),
        ("screenshot", "screenshots"),
    ] {
        if let Some(t) = expired.get(key).and_then(|t| t.as_str()) {
            what.push(w(lang, word).to_string());
            at = Some(t.to_string());
        }
    }
    let at = at?;
    let sep = if lang == Lang::Ar { "، " } else { ", " };
    if let Some(first) = what.first_mut() {
        // "the SIP trace" leads the sentence when the recording was kept.
        let mut c = first.chars();
        *first = c
            .next()
            .map_or(String::new(), |f| f.to_uppercase().chain(c).collect());
    }
    Some(format!(
        "<span id=\"evidence-expired\">{}: {}</span>",
        what.join(sep),
        w(lang, "evidence_expired").replace("{when}", &when(lang, &at, tz))
    ))
}

pub(super) async fn page(app: &App, who: &Who, id: &str, lang: Lang) -> Page {
    let Ok(id) = id.parse::<i64>() else {
        return Err(not_found(lang, "no_result", id));
    };
    let failed = |e: crate::store::StoreError| internal(lang, e);
    let r: StoredResult = app
        .store
        .result(id)
        .await
        .map_err(failed)?
        .ok_or_else(|| not_found(lang, "no_result", &id.to_string()))?;
    let centre = match &r.centre_id {
        Some(c) => app.store.centre(c).await.map_err(failed)?,
        None => None,
    };
    // A result without a centre is shown in the unit's zone.
    let tz = centre
        .as_ref()
        .map_or(app.config.alerts.digest_timezone.0, |c| c.tz());
    let scoring =
        crate::verdict::result_scoring(&app.store, &app.config.scoring, std::slice::from_ref(&r))
            .await
            .map_err(|e| internal(lang, e))?
            .remove(0);
    let (kind, detail) = match &r.probe {
        Probe::Call(c) => (w(lang, "call_kind"), c.detail.as_deref()),
        Probe::Web(x) => (w(lang, "web_kind"), x.detail.as_deref()),
        Probe::Unreadable => (w(lang, "result"), None),
    };
    let title = format!("{kind} #{id}");
    let mut h = format!("<h1>{kind} {}</h1>", ltr(&format!("#{id}")));
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(c) = &r.centre_id {
        let label = centre
            .as_ref()
            .map_or(c.as_str(), |x| name_of(lang, &x.name_ar, &x.name_en));
        rows.push((
            w(lang, "centre"),
            centre_link(c, r.started_at.get(..7).unwrap_or(""), label),
        ));
    }
    rows.push((w(lang, "time"), when(lang, &r.started_at, tz)));
    let call = r.probe.call();
    match call.and_then(|c| c.number.as_deref()) {
        Some(n) => rows.push((w(lang, "number"), id_bdi(n))),
        None => rows.push((w(lang, "target"), url_bdi(&r.target))),
    }
    rows.push((
        w(lang, "outcome"),
        format!("<span id=\"outcome\">{}</span>", term(lang, &r.outcome)),
    ));
    if let Some(call) = call {
        rows.extend(call_rows(app, lang, call));
    }
    if let Some(expired) = expired_evidence(lang, &r.json, tz) {
        rows.push((w(lang, "evidence"), expired));
    }
    if let Some(d) = detail {
        rows.push((
            w(lang, "detail"),
            format!("<span lang=\"en\" dir=\"ltr\">{}</span>", esc(d)),
        ));
    }
    h += &summary_list(&rows);
    h += &scoring_section(lang, &scoring, call.is_none(), &app.config.scoring);
    if let Some(web) = r.probe.web() {
        h += &web_sections(app, lang, web);
    }
    // The SIP trace as written.
    if let Some(p) = call.and_then(|c| c.sip_trace.as_deref()) {
        if let Some(f) = evidence_file(app, p).await {
            let text = tokio::fs::read(&f).await.unwrap_or_default();
            let cut = &text[..text.len().min(256 * 1024)];
            let _ = write!(
                h,
                "<section id=\"sip-trace\"><h2>{}</h2><details><summary>{}</summary>\
                 <pre lang=\"en\" tabindex=\"0\">{}</pre></details></section>",
                w(lang, "sip_trace"),
                w(lang, "show_trace"),
                esc(&String::from_utf8_lossy(cut))
            );
        }
    }
    if r.channel == crate::probe::Channel::Phone.as_str() {
        h += &labels(app, who, &r, lang, tz).await?;
    }
    let pretty = serde_json::to_string_pretty(&r.to_json()).unwrap_or_default();
    let _ = write!(
        h,
        "<details><summary>{}</summary><pre lang=\"en\" tabindex=\"0\">{}</pre></details>",
        w(lang, "all_data"),
        esc(&pretty)
    );
    Ok((title, h))
}

/// Labels so far and, for an auditor on an answered call, the form.
async fn labels(
    app: &App,
    who: &Who,
    r: &StoredResult,
    lang: Lang,
    tz: chrono_tz::Tz,
) -> Result<String, Failure> {
    let id = r.id;
    let labels: Vec<_> = app
        .store
        .labels_of(id)
        .await
        .map_err(|e| internal(lang, e))?;
    let mut h = format!("<section id=\"labels\"><h2>{}</h2>", w(lang, "labels"));
    if labels.is_empty() {
        let _ = write!(h, "<p>{}</p>", w(lang, "none"));
    } else {
        let rows: Vec<(&str, Vec<String>)> = labels
            .iter()
            .map(|l| {
                (
                    "label",
                    vec![
                        when(lang, &l.at, tz),
                        term_cap(lang, &l.answer_type),
                        esc(&l.reason),
                        esc(&l.by),
                    ],
                )
            })
            .collect();
        h += &cards(
            None,
            &[
                w(lang, "time"),
                w(lang, "answer_type"),
                w(lang, "reason"),
                w(lang, "by"),
            ],
            &rows,
        );
    }
    if who.role >= Role::Auditor && r.outcome == "answered" {
        let _ = write!(
            h,
            "<h3>{}</h3><form id=\"label-form\" method=\"post\" action=\"/results/{id}/label\">{}\
             <p><label>{} <select name=\"answer_type\">",
            w(lang, "label_form"),
            csrf_field(who),
            w(lang, "answer_type")
        );
        for t in crate::probe::call::audio::AnswerType::ALL {
            let t = code_of(&t);
            let _ = write!(h, "<option value=\"{t}\">{}</option>", term_cap(lang, &t));
        }
        let _ = write!(
            h,
            "</select></label></p><p><label>{} <textarea name=\"reason\" required></textarea></label></p>\
             <p><label>{} <input name=\"time_to_person\" type=\"number\" min=\"0\" max=\"3600\" step=\"0.1\"></label></p>\
             <p><button>{}</button></p></form>",
            w(lang, "reason"),
            w(lang, "time_to_person_field"),
            w(lang, "save")
        );
    }
    Ok(h + "</section>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ringing: Option<f64>, answer: Option<f64>) -> CallTimings {
        CallTimings {
            first_response: Some(2.0),
            ringing,
            answer,
            first_audio: None,
            person: None,
            total: 9000.0,
        }
    }

    #[test]
    fn ringing_is_said_only_when_it_was_seen() {
        let en = timeline_words(&t(Some(2.0), Some(3100.0)), Lang::En);
        assert!(
            en.starts_with("Rang <bdi class=\"nb\">3.1</bdi> s, answered"),
            "{en}"
        );
        let en = timeline_words(&t(Some(2.0), Some(20.0)), Lang::En);
        assert!(en.starts_with("Answered without ringing"), "{en}");
        assert!(!en.contains("Rang") && !en.contains(" rang"), "{en}");
        let ar = timeline_words(&t(None, Some(400.0)), Lang::Ar);
        assert!(ar.starts_with("تم الرد دون رنين، بعد"), "{ar}");
        let ar = timeline_words(&t(Some(1000.0), None), Lang::Ar);
        assert!(
            ar.contains("رنّ") && ar.contains("دون رد") && ar.contains("، انتهت"),
            "{ar}"
        );
    }
}
