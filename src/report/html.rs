//! The report as one self-contained HTML page (no script, no external resource): Arabic right
//! to left or English, for a minister's office — a cover, an executive summary written from the
//! figures, key figures against the period before, charts, the league's ends, the flagged
//! centres and what happens next, coverage and method — printable as PDF by the same Chromium.

use super::{band_word, chart, flag_word, trend_word, words, Lang, Report};
use crate::probe::web::a11y::Violation;
use crate::probe::web::a11y_words;

/// Numbers, ranges, dates and codes kept left to right inside Arabic text.
pub(crate) fn ltr(s: &str) -> String {
    format!("<bdi dir=\"ltr\">{}</bdi>", esc(s))
}

pub(crate) fn esc(s: &str) -> String {
    // One pass: pages escape every name and cell, thousands a view.
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
:root{--ink:#1d2939;--muted:#475467;--line:#d0d5dd;--accent:#0b4f6c;--bad:#b42318;--good:#067647}\
*{box-sizing:border-box}html{font-size:17px}\
body{font-family:'Noto Naskh Arabic','Noto Sans Arabic','Noto Sans','DejaVu Sans',sans-serif;\
margin:0;color:var(--ink);line-height:1.6;background:#fff}\
main{max-width:1060px;margin:0 auto;padding:24px}\
bdi{white-space:nowrap}.url{white-space:normal;overflow-wrap:anywhere}\
h1{font-size:2.07rem;line-height:1.3;margin:.3em 0}\
h2{font-size:1.44rem;line-height:1.3;border-block-end:2px solid var(--accent);padding-block-end:4px;margin-block:1.8em .6em}\
h3{font-size:1.2rem;margin-block:1em .4em}p{margin-block:.5em}\
.cover{padding-block:8px 24px}.marking{display:inline-block;border:2px solid var(--bad);color:var(--bad);\
font-weight:bold;padding:2px 12px;margin-block-end:16px}\
.issuer{font-size:1.2rem;color:var(--muted);margin:0}.sub{font-size:1.2rem;margin:0 0 1em}\
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0}\
dl.meta dt{font-weight:bold;color:var(--muted)}dl.meta dd{margin:0}\
.lede{font-size:1.1rem;max-width:75ch}\
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:12px;padding:0;margin:0;list-style:none}\
.tile{border:1px solid var(--line);border-inline-start:6px solid var(--accent);border-radius:6px;padding:10px 14px;break-inside:avoid}\
.tile .k{font-weight:bold;color:var(--muted);margin:0}.tile .v{font-size:1.9rem;font-weight:bold;margin:0}\
.tile .c{font-size:.9rem;margin:0}\
.scroll{overflow-x:auto}\
table{border-collapse:collapse;width:100%;margin:.4em 0 1em}\
th,td{border-block-end:1px solid var(--line);padding:6px 8px;text-align:start;vertical-align:top}\
thead th{background:#f2f4f7;border-block-end:2px solid var(--ink)}tr{break-inside:avoid}\
.flag{color:var(--bad);font-weight:bold}.due{white-space:nowrap}.id{color:var(--muted);font-size:.85em}\
.pair{display:grid;grid-template-columns:1fr 1fr;gap:18px}figure{margin:0;break-inside:avoid}\
.note{color:var(--muted);font-size:.92rem}\
.ltr-block{display:block;direction:ltr;text-align:left;unicode-bidi:isolate;overflow-wrap:anywhere;font-size:.85em}\
#accessibility td:first-child{width:45%}ul.plain{padding-inline-start:1.2em;margin:.3em 0}\
@media (max-width:640px){html{font-size:16px}main{padding:14px}.pair{grid-template-columns:1fr}\
dl.meta{grid-template-columns:1fr;gap:0}dl.meta dd{margin-block-end:8px}h1{font-size:1.6rem}\
table.cards thead{display:none}table.cards tr{display:block;border:1px solid var(--line);border-radius:6px;\
margin-block-end:10px;padding:6px 10px}table.cards td{display:grid;grid-template-columns:38% 1fr;gap:8px;\
border:0;padding:3px 0}table.cards td::before{content:attr(data-label);font-weight:bold;color:var(--muted)}}\
@media print{html{font-size:10.5pt}main{max-width:none;padding:0}.scroll{overflow:visible}\
table{font-size:.92rem}.cover{break-after:page;padding-block-start:30mm}\
h2{break-after:avoid}#flagged{break-before:page}}";

/// A table that becomes one card per row on a phone (each cell labelled with its header).
fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut h = String::from("<div class=\"scroll\"><table class=\"cards\"><thead><tr>");
    for c in head {
        h += &format!("<th scope=\"col\">{}</th>", esc(c));
    }
    h += "</tr></thead><tbody>";
    for row in rows {
        h += "<tr>";
        for (cell, label) in row.iter().zip(head) {
            // One wrapper: a phone's card lays a cell out as two grid items, label and content.
            h += &format!("<td data-label=\"{}\"><div>{cell}</div></td>", esc(label));
        }
        h += "</tr>";
    }
    h + "</tbody></table></div>"
}

/// `x` with one decimal, kept left to right; `none` when there is no figure.
fn fig(x: Option<f64>, none: &str) -> String {
    x.map_or_else(|| esc(none), |v| ltr(&format!("{v:.1}")))
}

/// Counts read in the page's direction, each isolated: in Arabic the first is on the right,
/// under the first word of its header.
fn series(counts: &[usize]) -> String {
    let shown: Vec<String> = counts.iter().map(|n| ltr(&n.to_string())).collect();
    shown.join(" · ")
}

/// A centre's name in the page's language with its id beside it, the id never broken.
fn centre(name_ar: &str, name_en: &str, id: &str, lang: Lang) -> String {
    let name = if lang == Lang::Ar { name_ar } else { name_en };
    format!(
        "{} <bdi dir=\"ltr\" class=\"id\">{}</bdi>",
        esc(name),
        esc(id)
    )
}

fn plural<'a>(n: impl Into<u64>, one: &'a str, many: &'a str) -> &'a str {
    if n.into() == 1 {
        one
    } else {
        many
    }
}

/// How a key figure is counted: a share or time (one decimal) or a number of centres.
#[derive(Clone, Copy)]
enum Measure {
    Decimal(&'static str),
    Count,
}

/// A key figure's change against the period before, with an arrow that is not colour alone.
fn change(
    now: Option<f64>,
    before: Option<Option<f64>>,
    m: Measure,
    lang: Lang,
    prev: &str,
) -> String {
    let rtl = lang == Lang::Ar;
    let shown = |v: f64| match m {
        Measure::Decimal(unit) => ltr(&format!("{v:.1}{unit}")),
        Measure::Count => ltr(&format!("{v:.0}")),
    };
    match (now, before) {
        (_, None) => String::new(),
        (Some(a), Some(Some(b))) => {
            let d = a - b;
            let by = shown(d.abs());
            let (arrow, words) = match (d.abs() < 0.05, d > 0.0, m, rtl) {
                (true, _, _, false) => ("=", "no change against".to_string()),
                (true, _, _, true) => ("=", "دون تغيير عن".to_string()),
                (false, true, Measure::Count, false) => ("▲", format!("{by} more than")),
                (false, false, Measure::Count, false) => ("▼", format!("{by} fewer than")),
                (false, true, _, false) => ("▲", format!("{by} higher than")),
                (false, false, _, false) => ("▼", format!("{by} lower than")),
                (false, true, _, true) => ("▲", format!("بزيادة {by} عن")),
                (false, false, _, true) => ("▼", format!("بنقص {by} عن")),
            };
            let was = match m {
                Measure::Decimal(_) => ltr(&format!("{b:.1}")),
                Measure::Count => ltr(&format!("{b:.0}")),
            };
            format!(
                "<span aria-hidden=\"true\">{arrow}</span> {words} {} ({was})",
                esc(prev)
            )
        }
        (_, Some(_)) if rtl => format!("لا رقم للمقارنة في {}", esc(prev)),
        (_, Some(_)) => format!("no figure for {} to compare", esc(prev)),
    }
}

/// The executive summary: one paragraph written from the figures.
fn summary_paragraph(r: &Report, lang: Lang) -> String {
    let f = &r.figures;
    let period = words::period(&r.period, lang);
    let prev = words::period(&r.against, lang);
    let n = |x: u64| ltr(&x.to_string());
    let p1 = |x: f64| ltr(&format!("{x:.1}"));
    let threshold = ltr(&format!("{}", r.threshold));
    let before = r.figures_before.as_ref();
    let golds = r
        .centres
        .iter()
        .filter(|c| c.list.as_deref() == Some("gold"))
        .count();
    let silvers = r
        .centres
        .iter()
        .filter(|c| c.list.as_deref() == Some("silver"))
        .count();
    let s = &r.summary;
    let mut out = Vec::new();
    match lang {
        Lang::En => {
            let scope = r
                .agency
                .as_deref()
                .map_or(String::new(), |a| format!(" of {}", esc(a)));
            out.push(format!(
                "In {period}, raqib placed {} test {} to the {} {}{scope}; {} counted.",
                n(f.calls_placed),
                plural(f.calls_placed, "call", "calls"),
                n(f.centres as u64),
                plural(f.centres as u64, "centre", "centres"),
                n(f.valid_calls)
            ));
            match (f.answer_rate, f.reached_person_rate) {
                (Some(a), Some(p)) => {
                    let mut line = format!(
                        "{}\u{a0}% of the counted calls were answered and {}\u{a0}% reached a person",
                        p1(a),
                        p1(p)
                    );
                    if let Some((Some(a0), Some(p0))) =
                        before.map(|b| (b.answer_rate, b.reached_person_rate))
                    {
                        line += &format!(
                            ", against {}\u{a0}% and {}\u{a0}% in {prev}",
                            p1(a0),
                            p1(p0)
                        );
                    }
                    out.push(line + ".");
                }
                _ => out.push("No call counted, so no answer rate can be given.".into()),
            }
            if f.flagged == 0 {
                out.push(format!(
                    "No centre is at or under the follow-up threshold of {threshold} on the phone."
                ));
            } else {
                let mut line = format!(
                    "{} {} at or under the follow-up threshold of {threshold} on the phone ({} confirmed, {} provisional)",
                    n(f.flagged as u64),
                    plural(f.flagged as u64, "centre is", "centres are"),
                    n(f.confirmed as u64),
                    n(f.provisional as u64)
                );
                if f.critical > 0 {
                    line += &format!(
                        "; {} {} a critical fault (a number out of service or a website down)",
                        n(f.critical as u64),
                        plural(f.critical as u64, "has", "have")
                    );
                }
                out.push(line + ". Each owes an improvement plan by the due date shown in the list of flagged centres.");
            }
            out.push(format!(
                "Against {prev}, {} improved and {} declined on the phone.",
                n(s.improved as u64),
                n(s.declined as u64)
            ));
            out.push(if golds + silvers == 0 {
                "No centre qualified for the gold or silver list.".to_string()
            } else {
                format!(
                    "{} qualified for the gold list and {} for the silver.",
                    n(golds as u64),
                    n(silvers as u64)
                )
            });
        }
        Lang::Ar => {
            let scope = r
                .agency
                .as_deref()
                .map_or(String::new(), |a| format!(" التابعة لـ{}", esc(a)));
            out.push(format!(
                "في {period}، أجرى رقيب {} إلى المراكز{scope} وعددها {}؛ احتُسب منها {}.",
                crate::arabic::counted(
                    f.calls_placed,
                    &n(f.calls_placed),
                    &crate::arabic::TEST_CALLS
                ),
                n(f.centres as u64),
                n(f.valid_calls)
            ));
            match (f.answer_rate, f.reached_person_rate) {
                (Some(a), Some(p)) => {
                    let mut line = format!(
                        "رُدّ على {}٪ من المكالمات المحتسبة ووصل {}٪ منها إلى موظف",
                        p1(a),
                        p1(p)
                    );
                    if let Some((Some(a0), Some(p0))) =
                        before.map(|b| (b.answer_rate, b.reached_person_rate))
                    {
                        line += &format!("، مقابل {}٪ و{}٪ في {prev}", p1(a0), p1(p0));
                    }
                    out.push(line + ".");
                }
                _ => out.push("لم تُحتسب أي مكالمة، فلا نسبة رد تُذكر.".into()),
            }
            if f.flagged == 0 {
                out.push(format!(
                    "لا يوجد مركز عند حدّ المتابعة ({threshold}) أو دونه في محور الهاتف."
                ));
            } else {
                let mut line = format!(
                    "عدد المراكز عند حدّ المتابعة ({threshold}) أو دونه في محور الهاتف {} ({} مؤكد و{} مبدئي)",
                    n(f.flagged as u64),
                    n(f.confirmed as u64),
                    n(f.provisional as u64)
                );
                if f.critical > 0 {
                    line += &format!(
                        "؛ ولدى {} منها خلل حرج (رقم خارج الخدمة أو موقع متوقف)",
                        n(f.critical as u64)
                    );
                }
                out.push(line + ". وعلى كل منها خطة تحسين حتى تاريخ الاستحقاق المبيّن في قائمة المراكز المرصودة.");
            }
            out.push(format!(
                "مقارنةً بالفترة السابقة ({prev}): تحسّن {} وتراجع {} في محور الهاتف.",
                n(s.improved as u64),
                n(s.declined as u64)
            ));
            out.push(if golds + silvers == 0 {
                "لم يتأهل أي مركز للقائمة الذهبية أو الفضية.".to_string()
            } else {
                format!(
                    "تأهل {} للقائمة الذهبية و{} للفضية.",
                    n(golds as u64),
                    n(silvers as u64)
                )
            });
        }
    }
    out.join(" ")
}

/// The PDF's running header: the issuing unit and the classification on every page.
pub fn page_header(r: &Report, lang: Lang) -> String {
    let rtl = lang == Lang::Ar;
    let c = &r.cover;
    let (issuer, marking) = if rtl {
        (&c.issuer_ar, &c.classification_ar)
    } else {
        (&c.issuer, &c.classification)
    };
    running(
        rtl,
        &[
            esc(issuer.as_deref().unwrap_or_default()),
            marking
                .as_deref()
                .map_or(String::new(), |m| format!("<b>{}</b>", esc(m))),
        ],
    )
}

/// The PDF's running footer: the report, the page number of the total, the classification.
pub fn page_footer(r: &Report, lang: Lang) -> String {
    let rtl = lang == Lang::Ar;
    let c = &r.cover;
    let marking = if rtl {
        &c.classification_ar
    } else {
        &c.classification
    };
    let page = if rtl {
        "صفحة <span class=\"pageNumber\"></span> من <span class=\"totalPages\"></span>"
    } else {
        "Page <span class=\"pageNumber\"></span> of <span class=\"totalPages\"></span>"
    };
    let title = if rtl {
        "تقرير رقيب"
    } else {
        "raqib report"
    };
    running(
        rtl,
        &[
            format!("{} · {}", esc(title), esc(&words::period(&r.period, lang))),
            page.to_string(),
            marking
                .as_deref()
                .map_or(String::new(), |m| format!("<b>{}</b>", esc(m))),
        ],
    )
}

/// Chromium renders header and footer templates apart from the page: every style inline.
fn running(rtl: bool, parts: &[String]) -> String {
    let mut h = format!(
        "<div dir=\"{}\" style=\"width:100%;margin:0 14mm;font-size:8pt;color:#344054;\
         font-family:'Noto Naskh Arabic','Noto Sans Arabic','DejaVu Sans',sans-serif;\
         display:flex;justify-content:space-between;gap:8mm\">",
        if rtl { "rtl" } else { "ltr" }
    );
    for p in parts {
        h += &format!("<span>{p}</span>");
    }
    h + "</div>"
}

const TITLE_EN: &str = "Service centres audit report";
const TITLE_AR: &str = "تقرير رصد أداء مراكز الخدمة";

pub fn render(r: &Report, lang: Lang) -> String {
    let rtl = lang == Lang::Ar;
    let t = |en: &'static str, ar: &'static str| if rtl { ar } else { en };
    let code = if rtl { "ar" } else { "en" };
    let s = &r.summary;
    let f = &r.figures;
    let none = t("none", "لا يوجد");
    let no_figure = t("no figure", "لا رقم");
    let period_words = words::period(&r.period, lang);
    let prev_words = words::period(&r.against, lang);
    let title = t(TITLE_EN, TITLE_AR);
    let c = &r.cover;
    let (issuer, marking) = if rtl {
        (&c.issuer_ar, &c.classification_ar)
    } else {
        (&c.issuer, &c.classification)
    };
    let mut h = format!(
        "<!DOCTYPE html><html lang=\"{code}\" dir=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} — {}</title><style>{STYLE}</style></head><body><main>",
        if rtl { "rtl" } else { "ltr" },
        esc(title),
        esc(&period_words)
    );
    // The cover.
    h += "<header class=\"cover\" id=\"cover\">";
    if let Some(m) = marking {
        h += &format!("<p class=\"marking\">{}</p>", esc(m));
    }
    if let Some(i) = issuer {
        h += &format!("<p class=\"issuer\">{}</p>", esc(i));
    }
    h += &format!(
        "<h1>{}</h1><p class=\"sub\">{}{}</p>",
        esc(title),
        esc(&period_words),
        r.agency
            .as_deref()
            .map_or(String::new(), |a| format!(" — {}", esc(a)))
    );
    let zone = crate::arabic::zone_name(&c.timezone, rtl);
    let (day, time) = c
        .issued_local
        .split_once(' ')
        .unwrap_or((&c.issued_local, ""));
    h += &format!(
        "<dl class=\"meta\"><dt>{}</dt><dd>{} {} {}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}{} {} {}</dd>",
        t("Period", "الفترة"),
        esc(&words::date(&c.from, lang)),
        t("to", "إلى"),
        esc(&words::date(&c.to, lang)),
        t("Compared with", "مقارنةً بـ"),
        esc(&prev_words),
        t("Date of issue", "تاريخ الإصدار"),
        esc(&words::date(day, lang)),
        t(",", "،"),
        ltr(time),
        esc(&zone)
    );
    if let Some(i) = issuer {
        h += &format!(
            "<dt>{}</dt><dd>{}</dd>",
            t("Issued by", "الجهة المُصدِرة"),
            esc(i)
        );
    }
    if let Some(m) = marking {
        h += &format!(
            "<dt>{}</dt><dd>{}</dd>",
            t("Classification", "التصنيف الأمني"),
            esc(m)
        );
    }
    h += "</dl></header>";

    // Executive summary.
    h += &format!(
        "<section id=\"summary\"><h2>{}</h2><p class=\"lede\">{}</p></section>",
        t("Executive summary", "الملخص التنفيذي"),
        summary_paragraph(r, lang)
    );

    // Key figures against the period before.
    let b = r.figures_before.as_ref();
    let tile = |k: &str, v: String, c: String| {
        format!("<li class=\"tile\"><p class=\"k\">{}</p><p class=\"v\">{v}</p><p class=\"c\">{c}</p></li>", esc(k))
    };
    let pts = Measure::Decimal(t(" points", " نقطة"));
    let pct_unit = |x: Option<f64>| {
        x.map_or_else(
            || esc(no_figure),
            |v| format!("{}{}", ltr(&format!("{v:.1}")), t("\u{a0}%", "٪")),
        )
    };
    let mut tiles = String::new();
    tiles += &tile(
        t("Answer rate", "نسبة الرد"),
        pct_unit(f.answer_rate),
        change(
            f.answer_rate,
            b.map(|b| b.answer_rate),
            pts,
            lang,
            &prev_words,
        ),
    );
    tiles += &tile(
        t("Calls reaching a person", "مكالمات وصلت إلى موظف"),
        pct_unit(f.reached_person_rate),
        change(
            f.reached_person_rate,
            b.map(|b| b.reached_person_rate),
            pts,
            lang,
            &prev_words,
        ),
    );
    tiles += &tile(
        t(
            "Time from answer to a person (median of centres)",
            "الزمن من الرد إلى موظف (وسيط المراكز)",
        ),
        f.median_time_to_person_secs.map_or_else(
            || esc(no_figure),
            |v| format!("{} {}", ltr(&format!("{v:.1}")), t("s", "ث")),
        ),
        change(
            f.median_time_to_person_secs,
            b.map(|b| b.median_time_to_person_secs),
            Measure::Decimal(t(" s", " ث")),
            lang,
            &prev_words,
        ),
    );
    tiles += &tile(
        t(
            "Time from dialling to the answer (median of calls)",
            "الزمن من الاتصال إلى الرد (وسيط المكالمات)",
        ),
        f.median_answer_secs.map_or_else(
            || esc(no_figure),
            |v| format!("{} {}", ltr(&v.to_string()), t("s", "ث")),
        ),
        change(
            f.median_answer_secs.map(f64::from),
            b.map(|b| b.median_answer_secs.map(f64::from)),
            Measure::Decimal(t(" s", " ث")),
            lang,
            &prev_words,
        ),
    );
    // Each flagged class once, as "label: count" (no noun to agree with the number).
    let classes: Vec<String> = [
        (f.confirmed, t("confirmed", "مؤكد")),
        (f.provisional, t("provisional", "مبدئي")),
        (f.critical_only, t("critical fault", "خلل حرج")),
        (
            f.too_few_calls,
            t("low on too few calls", "منخفض على مكالمات قليلة"),
        ),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, label)| format!("{label}: {}", ltr(&n.to_string())))
    .collect();
    tiles += &tile(
        t("Centres flagged", "المراكز المرصودة"),
        format!(
            "{}</p><p class=\"c\">{}",
            ltr(&f.flagged.to_string()),
            classes.join(t(", ", "، "))
        ),
        change(
            Some(f.flagged as f64),
            b.map(|b| Some(b.flagged as f64)),
            Measure::Count,
            lang,
            &prev_words,
        ),
    );
    tiles += &tile(
        t("Mean phone score", "متوسط درجة الهاتف"),
        fig(f.mean_phone, no_figure),
        change(
            f.mean_phone,
            b.map(|b| b.mean_phone),
            pts,
            lang,
            &prev_words,
        ),
    );
    tiles += &tile(
        t("Website checks up", "فحوص المواقع المتاحة"),
        pct_unit(f.sites_up),
        change(f.sites_up, b.map(|b| b.sites_up), pts, lang, &prev_words),
    );
    tiles += &tile(
        t("Improved after feedback", "تحسّن بعد المتابعة"),
        ltr(&s.improved_after_feedback.to_string()),
        esc(t(
            "centres with a follow-up case from an earlier period whose phone score rose",
            "مراكز لها حالة متابعة من فترة سابقة وارتفعت درجتها في محور الهاتف",
        )),
    );
    h += &format!(
        "<section id=\"figures\"><h2>{}</h2><ul class=\"tiles\">{tiles}</ul></section>",
        t("Key figures", "الأرقام الرئيسية")
    );

    // Flagged centres: what is wrong, how sure, what happens next and by when.
    h += &format!(
        "<section id=\"flagged\"><h2>{}</h2>",
        t("Flagged centres", "المراكز المرصودة")
    );
    if r.flagged.is_empty() {
        h += &format!(
            "<p>{}</p>",
            t("No centre is flagged.", "لا يوجد مركز مرصود.")
        );
    } else {
        h += &format!(
            "<p>{}</p>",
            t(
                "Each flagged centre owes an improvement plan by its due date; the owner is the centre's agency.",
                "على كل مركز مرصود تقديم خطة تحسين حتى تاريخ الاستحقاق؛ والمسؤول عنها الجهة التابع لها المركز."
            )
        );
        let rows: Vec<Vec<String>> = r
            .flagged
            .iter()
            .map(|fl| {
                let score = match (fl.phone_score, fl.phone_low, fl.phone_high) {
                    (Some(v), Some(lo), Some(hi)) => format!(
                        "{}<br><span class=\"note\">{}</span>",
                        ltr(&format!("{v:.1}")),
                        match lang {
                            Lang::En => format!(
                                "between {} and {}",
                                ltr(&format!("{lo:.1}")),
                                ltr(&format!("{hi:.1}"))
                            ),
                            Lang::Ar => format!(
                                "بين {} و{}",
                                ltr(&format!("{lo:.1}")),
                                ltr(&format!("{hi:.1}"))
                            ),
                        }
                    ),
                    _ => esc(no_figure),
                };
                let mut reason = vec![esc(&words::reason(fl, lang))];
                for c in &fl.criticals {
                    let (w, subject) = words::critical(c, lang);
                    reason.push(format!(
                        "<strong>{}</strong> <bdi dir=\"ltr\" class=\"url\">{}</bdi>",
                        esc(&w),
                        esc(&subject)
                    ));
                }
                vec![
                    centre(&fl.name_ar, &fl.name_en, &fl.centre, lang),
                    format!(
                        "<span class=\"flag\">{}</span><br>{score}",
                        flag_word(fl.class, lang)
                    ),
                    reason.join(t("; ", "؛ ")),
                    fl.due_on.as_deref().map_or_else(
                        || esc(t("no follow-up case open", "لم تُفتح حالة متابعة")),
                        |d| format!("<span class=\"due\">{}</span>", esc(&words::date(d, lang))),
                    ),
                    esc(&fl.owner),
                ]
            })
            .collect();
        h += &table(
            &[
                t("Centre", "المركز"),
                t("Class and phone score", "التصنيف ودرجة الهاتف"),
                t("Reason", "السبب"),
                t("Plan due", "موعد خطة التحسين"),
                t("Owner", "المسؤول"),
            ],
            &rows,
        );
    }
    h += "</section>";

    // Phone bands and the trend.
    let bands = &s.phone_bands;
    let band_items = [
        (t("Excellent", "ممتاز"), bands.excellent, "#067647"),
        (t("Medium", "متوسط"), bands.medium, "#b54708"),
        (t("Weak", "ضعيف"), bands.weak, "#b42318"),
    ];
    let band_rows: Vec<Vec<String>> = band_items
        .iter()
        .map(|(l, n, _)| vec![esc(l), ltr(&n.to_string())])
        .collect();
    h += &format!(
        "<section id=\"bands\"><h2>{}</h2><div class=\"pair\"><figure>{}</figure>{}</div></section>",
        t("Phone bands", "فئات محور الهاتف"),
        chart::bars("bands-chart", &band_items, lang, t("Centres by phone band", "المراكز حسب فئة الهاتف")),
        table(&[t("Band", "الفئة"), t("Centres", "المراكز")], &band_rows)
    );
    if !r.history.is_empty() {
        let labels: Vec<String> = r
            .history
            .iter()
            .map(|p| words::month_short(&p.period, lang))
            .collect();
        let series = [
            chart::Series {
                name: t("Mean phone score", "متوسط درجة الهاتف"),
                values: r.history.iter().map(|p| p.mean_phone).collect(),
                colour: "#0b4f6c",
                dash: "none",
            },
            chart::Series {
                name: t(
                    "% of calls reaching a person",
                    "٪ المكالمات الواصلة إلى موظف",
                ),
                values: r.history.iter().map(|p| p.reached_person_rate).collect(),
                colour: "#7a5af8",
                dash: "7 4",
            },
        ];
        let svg = chart::lines(
            "trend-chart",
            &labels,
            &series,
            r.threshold,
            lang,
            t("Six months of phone results", "ستة أشهر من نتائج الهاتف"),
            t("Mean phone score and share of calls reaching a person per month, with the follow-up threshold", "متوسط درجة الهاتف ونسبة المكالمات الواصلة إلى موظف في كل شهر، مع حدّ المتابعة"),
        );
        let rows: Vec<Vec<String>> = r
            .history
            .iter()
            .zip(&labels)
            .map(|(p, l)| {
                vec![
                    esc(l),
                    fig(p.mean_phone, no_figure),
                    fig(p.answer_rate, no_figure),
                    fig(p.reached_person_rate, no_figure),
                    ltr(&p.flagged.to_string()),
                ]
            })
            .collect();
        h += &format!(
            "<section id=\"trend\"><h2>{}</h2><figure>{svg}</figure>{}</section>",
            t("Six-month trend", "الاتجاه خلال ستة أشهر"),
            table(
                &[
                    t("Month", "الشهر"),
                    t("Mean phone score", "متوسط درجة الهاتف"),
                    t("Answer rate %", "نسبة الرد ٪"),
                    t("Reaching a person %", "الوصول إلى موظف ٪"),
                    t("Flagged", "المرصودة"),
                ],
                &rows
            )
        );
    }

    // Top and bottom five of the league table.
    let ranked: Vec<&super::CentreRow> = r.centres.iter().filter(|c| c.rank.is_some()).collect();
    let top_n = ranked.len().div_ceil(2).min(5);
    let league_head = [
        t("Place", "الترتيب"),
        t("Centre", "المركز"),
        t("Agency", "الجهة"),
        t("Overall", "الدرجة الكلية"),
        t("Phone", "الهاتف"),
    ];
    let league_row = |c: &&super::CentreRow| {
        vec![
            ltr(&c.rank.map_or(String::new(), |r| r.to_string())),
            centre(&c.name_ar, &c.name_en, &c.centre, lang),
            esc(&c.agency),
            fig(c.overall, no_figure),
            fig(c.phone_score, no_figure),
        ]
    };
    h += &format!(
        "<section id=\"ranking\"><h2>{}</h2>",
        t("Top and bottom five", "الخمسة الأوائل والخمسة الأواخر")
    );
    if ranked.is_empty() {
        h += &format!(
            "<p>{}</p>",
            t(
                "No centre has an overall index this period (each needs enough calls and a website check).",
                "لا مركز له درجة كلية في هذه الفترة (يلزم لكل مركز عدد كافٍ من المكالمات وفحص لموقعه)."
            )
        );
    } else {
        let top: Vec<Vec<String>> = ranked.iter().take(top_n).map(league_row).collect();
        let bottom: Vec<Vec<String>> = ranked
            .iter()
            .skip(top_n)
            .rev()
            .take(5)
            .map(league_row)
            .collect();
        h += &format!(
            "<h3>{}</h3>{}",
            t("Top", "الأوائل"),
            table(&league_head, &top)
        );
        h += &format!(
            "<h3>{}</h3>",
            t("Bottom (lowest first)", "الأواخر (الأدنى أولًا)")
        );
        h += &if bottom.is_empty() {
            format!(
                "<p>{}</p>",
                t(
                    "Too few ranked centres for a bottom list.",
                    "المراكز المرتّبة أقل من أن تُفرد لها قائمة أواخر."
                )
            )
        } else {
            table(&league_head, &bottom)
        };
    }
    h += "</section>";

    // Gold and silver.
    h += &format!(
        "<section id=\"lists\"><h2>{}</h2>",
        t("Gold and silver lists", "القائمتان الذهبية والفضية")
    );
    let on = |list: &str| -> Vec<String> {
        r.centres
            .iter()
            .filter(|c| c.list.as_deref() == Some(list))
            .map(|c| centre(&c.name_ar, &c.name_en, &c.centre, lang))
            .collect()
    };
    let (gold, silver) = (on("gold"), on("silver"));
    if gold.is_empty() && silver.is_empty() {
        h += &format!(
            "<p>{}</p>",
            t(
                "None qualified this period.",
                "لم يتأهل أي مركز في هذه الفترة."
            )
        );
    } else {
        for (name, items) in [
            (t("Gold", "الذهبية"), gold),
            (t("Silver", "الفضية"), silver),
        ] {
            h += &format!(
                "<h3>{name}</h3>{}",
                if items.is_empty() {
                    format!("<p>{}</p>", t("None qualified.", "لم يتأهل أي مركز."))
                } else {
                    format!(
                        "<ul class=\"plain\"><li>{}</li></ul>",
                        items.join("</li><li>")
                    )
                }
            );
        }
    }
    h += "</section>";

    // Accessibility: what the sites' owners have to fix, most widespread first.
    if !r.accessibility.is_empty() {
        let rows: Vec<Vec<String>> = r
            .accessibility
            .iter()
            .map(|a| {
                let f = a11y_words::finding(&a.example, rtl);
                let name = r.centres.iter().find(|c| c.centre == a.centre).map_or_else(
                    || ltr(&a.centre),
                    |c| centre(&c.name_ar, &c.name_en, &c.centre, lang),
                );
                vec![
                    format!(
                        "{}<br><span class=\"note\">{} · {}</span>",
                        esc(&f.description),
                        esc(&f.impact),
                        f.criteria
                            .iter()
                            .map(|c| esc(c))
                            .collect::<Vec<_>>()
                            .join(t("; ", "؛ "))
                    ),
                    ltr(&a.sites.to_string()),
                    format!("{name}<br>{}", a11y_findings_where(&f, lang)),
                ]
            })
            .collect();
        h += &format!(
            "<section id=\"accessibility\"><h2>{}</h2><p class=\"note\">{}</p>{}</section>",
            t("Accessibility findings", "ملاحظات سهولة الوصول"),
            t(
                "From each website's latest automated audit in the period (axe-core): what fails, the WCAG success criterion, how many sites share it and where to find one case.",
                "من آخر فحص آلي لكل موقع في الفترة (axe-core): ما الذي يخفق، ومعيار النجاح في WCAG، وعدد المواقع التي تشترك فيه، وأين توجد حالة منه."
            ),
            table(
                &[
                    t("Finding and WCAG criterion", "الملاحظة ومعيار WCAG"),
                    t("Sites", "المواقع"),
                    t("Example", "مثال"),
                ],
                &rows
            )
        );
    }

    // Agencies.
    let rows: Vec<Vec<String>> = r
        .agencies
        .iter()
        .map(|a| {
            let b = &a.phone_bands;
            vec![
                esc(&a.agency),
                ltr(&a.centres.to_string()),
                series(&[b.excellent, b.medium, b.weak]),
                ltr(&a.flagged.to_string()),
                fig(a.mean_phone, no_figure),
                series(&[a.improved, a.declined]),
            ]
        })
        .collect();
    h += &format!(
        "<section id=\"agencies\"><h2>{}</h2>{}</section>",
        t("Agencies", "الجهات"),
        table(
            &[
                t("Agency", "الجهة"),
                t("Centres", "المراكز"),
                t("Excellent · medium · weak", "ممتاز · متوسط · ضعيف"),
                t("Flagged", "المرصودة"),
                t("Mean phone score", "متوسط درجة الهاتف"),
                t("Improved · declined", "تحسّن · تراجع"),
            ],
            &rows
        )
    );

    // Coverage and method.
    let not_counted = f.calls_placed - f.valid_calls.min(f.calls_placed);
    h += &format!(
        "<section id=\"coverage\"><h2>{}</h2><p>{}</p>",
        t("Coverage and method", "التغطية والمنهجية"),
        match lang {
            Lang::En => format!(
                "Calls placed: {}. Counted: {}. Not counted: {}{}",
                ltr(&f.calls_placed.to_string()),
                ltr(&f.valid_calls.to_string()),
                ltr(&not_counted.to_string()),
                if not_counted > 0 {
                    ", for these reasons:"
                } else {
                    "."
                }
            ),
            Lang::Ar => format!(
                "المكالمات المُجراة: {}. المحتسبة: {}. غير المحتسبة: {}{}",
                ltr(&f.calls_placed.to_string()),
                ltr(&f.valid_calls.to_string()),
                ltr(&not_counted.to_string()),
                if not_counted > 0 {
                    "، للأسباب التالية:"
                } else {
                    "."
                }
            ),
        }
    );
    if not_counted > 0 {
        h += "<ul class=\"plain\">";
        for (why, n) in &f.excluded {
            h += &format!(
                "<li>{}: {}</li>",
                esc(words::excluded(*why, lang)),
                ltr(&n.to_string())
            );
        }
        h += "</ul>";
    }
    h += &format!(
        "<p>{}</p><p class=\"note\">{}</p></section>",
        match lang {
            Lang::En => format!(
                "Website checks counted: {}. Centres audited: {}, of which {} have a phone score.",
                ltr(&f.web_checks.to_string()),
                ltr(&f.centres.to_string()),
                ltr(&f.phone_scored.to_string())
            ),
            Lang::Ar => format!(
                "فحوص المواقع المحتسبة: {}. المراكز المشمولة: {}، منها {} لها درجة في محور الهاتف.",
                ltr(&f.web_checks.to_string()),
                ltr(&f.centres.to_string()),
                ltr(&f.phone_scored.to_string())
            ),
        },
        match lang {
            Lang::En => format!(
                "Method. Every figure is read from raqib's stored verdicts; nothing is rescored for this report. \
                 A call counts when it was placed in the centre's opening hours and raqib, the network and the \
                 dialling guard let it through. A centre is flagged when its phone score is at or under {}: \
                 confirmed when its whole 95 % interval is too, provisional when the interval reaches above. \
                 Answer and person rates pool every centre's counted calls; the time from answer to a person is \
                 the median of the centres' own means (the verdict keeps each centre's mean, not each call's \
                 time, and no time to answer). Accessibility scores \
                 are automated checks, never a conformance claim.",
                ltr(&r.threshold.to_string())
            ),
            Lang::Ar => format!(
                "المنهجية: كل رقم هنا مقروء من أحكام رقيب المخزّنة، ولم يُعَد حساب أي درجة لهذا التقرير. \
                 تُحتسب المكالمة إذا أُجريت في ساعات عمل المركز ولم يمنعها خلل في رقيب أو في الشبكة ولا حارس الاتصال. \
                 ويُرصد المركز إذا كانت درجته في محور الهاتف {} أو أقل: مؤكدًا إذا كان فاصل الثقة 95٪ كله كذلك، \
                 ومبدئيًا إذا تجاوز الفاصل ذلك الحد. نسبتا الرد والوصول إلى موظف مجمّعتان من المكالمات المحتسبة لكل المراكز، \
                 والزمن من الرد إلى موظف هو وسيط متوسطات المراكز (يحفظ الحكم متوسط كل مركز لا زمن كل مكالمة، ولا يحفظ زمن الرد). \
                 ودرجات سهولة الوصول فحوص آلية وليست إقرارًا بالمطابقة.",
                ltr(&r.threshold.to_string())
            ),
        }
    );

    // The annex: every centre.
    let rows: Vec<Vec<String>> = r
        .centres
        .iter()
        .map(|c| {
            vec![
                centre(&c.name_ar, &c.name_en, &c.centre, lang),
                format!(
                    "{} {}",
                    fig(c.phone_score, none),
                    band_word(c.phone_band, lang)
                ),
                flag_word(c.flag, lang).to_string(),
                fig(c.web_score, none),
                if c.overall.is_some() {
                    fig(c.overall, none)
                } else {
                    esc(&super::unscored_words(&c.unscored, lang))
                },
                format!(
                    "{} {}",
                    trend_word(c.phone_trend, lang),
                    c.phone_change
                        .map_or(String::new(), |v| ltr(&format!("{v:+.1}")))
                ),
                ltr(&c.valid_calls.to_string()),
            ]
        })
        .collect();
    h += &format!(
        "<section id=\"centres\"><h2>{}</h2>{}</section>",
        t("Annex: all centres", "ملحق: جميع المراكز"),
        table(
            &[
                t("Centre", "المركز"),
                t("Phone", "الهاتف"),
                t("Class", "التصنيف"),
                t("Web", "الموقع"),
                t("Overall", "الكلية"),
                t("Phone trend", "اتجاه الهاتف"),
                t("Valid calls", "المكالمات الصالحة"),
            ],
            &rows
        )
    );
    h += "</main></body></html>\n";
    h
}

/// A site's accessibility findings as a list a site's owner can act on: per violation the
/// plain description, its WCAG criteria, its impact, the element (selector and HTML), the
/// page and how many pages share it. For the report and the dashboard's web result page.
pub fn a11y_findings(violations: &[Violation], lang: Lang) -> String {
    let rtl = lang == Lang::Ar;
    let t = |en: &'static str, ar: &'static str| if rtl { ar } else { en };
    if violations.is_empty() {
        return format!(
            "<p>{}</p>",
            t(
                "No accessibility violation found.",
                "لم تُرصد مخالفات لسهولة الوصول."
            )
        );
    }
    let mut h = String::from("<ul class=\"findings\">");
    for v in violations {
        let f = a11y_words::finding(v, rtl);
        h += &format!(
            "<li><p><strong>{}</strong> ({})</p><p>{}: {}</p><p>{}</p>",
            esc(&f.description),
            esc(&f.impact),
            t("WCAG", "معيار WCAG"),
            f.criteria
                .iter()
                .map(|c| esc(c))
                .collect::<Vec<_>>()
                .join(t("; ", "؛ ")),
            a11y_findings_where(&f, lang)
        );
        // raqib's Arabic contrast rule carries its measurements: the first few, in words.
        for n in v.contrast.iter().take(3) {
            h += &format!(
                "<p><bdi dir=\"ltr\">{}</bdi>: {}</p>",
                esc(&n.selector),
                esc(&a11y_words::contrast_line(n, rtl))
            );
        }
        h += "</li>";
    }
    h + "</ul>"
}

/// Where a finding is: its first page, the element's selector and its HTML.
fn a11y_findings_where(f: &a11y_words::Finding, lang: Lang) -> String {
    let t = |en: &'static str, ar: &'static str| if lang == Lang::Ar { ar } else { en };
    let on_pages = match lang {
        Lang::En => format!(
            "{} {} on {} {}",
            ltr(&f.elements.to_string()),
            plural(f.elements, "element", "elements"),
            ltr(&f.pages.to_string()),
            plural(f.pages, "page", "pages")
        ),
        Lang::Ar => format!(
            "{} عنصر في {} صفحة",
            ltr(&f.elements.to_string()),
            ltr(&f.pages.to_string())
        ),
    };
    [
        Some(on_pages),
        f.page.as_deref().map(|p| {
            format!(
                "{}: <span dir=\"ltr\" class=\"ltr-block\">{}</span>",
                t("first on", "أول صفحة"),
                esc(p)
            )
        }),
        f.selector.as_deref().map(|s| {
            format!(
                "{}: <code dir=\"ltr\" class=\"ltr-block\">{}</code>",
                t("element", "العنصر"),
                esc(s)
            )
        }),
        f.snippet
            .as_deref()
            .map(|s| format!("<code dir=\"ltr\" class=\"ltr-block\">{}</code>", esc(s))),
    ]
    .into_iter()
    .flatten()
    // Addresses and markup run left to right, each on its own line: broken inside Arabic
    // text they would read out of order.
    .map(|line| format!("<div>{line}</div>"))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_is_escaped_and_words_kept() {
        assert_eq!(
            esc(r#"<a href="x">مركز & "Centre"</a>"#),
            "&lt;a href=&quot;x&quot;&gt;مركز &amp; &quot;Centre&quot;&lt;/a&gt;"
        );
        assert_eq!(esc("&amp;"), "&amp;amp;");
    }
}
