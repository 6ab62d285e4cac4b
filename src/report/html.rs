//! The report as one self-contained HTML page (no script, no external resource): Arabic right
//! to left or English, with SVG bar charts, printable as PDF by the same Chromium.

use super::{band_word, flag_word, num, trend_word, Lang, Report};

/// Numbers, ranges, dates and codes kept left to right inside Arabic text.
pub(crate) fn ltr(s: &str) -> String {
    format!("<bdi dir=\"ltr\">{}</bdi>", esc(s))
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

struct Words {
    title: &'static str,
    summary: &'static str,
    bands: &'static str,
    flagged: &'static str,
    agencies: &'static str,
    centres: &'static str,
    period: &'static str,
    against: &'static str,
    generated: &'static str,
    n_centres: &'static str,
    n_flagged: &'static str,
    confirmed: &'static str,
    provisional: &'static str,
    critical: &'static str,
    improved: &'static str,
    declined: &'static str,
    unchanged: &'static str,
    after_feedback: &'static str,
    excellent: &'static str,
    medium: &'static str,
    weak: &'static str,
    centre: &'static str,
    agency: &'static str,
    phone: &'static str,
    interval: &'static str,
    calls: &'static str,
    class: &'static str,
    web: &'static str,
    overall: &'static str,
    trend: &'static str,
    mean_phone: &'static str,
    none_flagged: &'static str,
}

const EN: Words = Words {
    title: "raqib report",
    summary: "Summary",
    bands: "Phone bands",
    flagged: "Flagged centres",
    agencies: "Agencies",
    centres: "All centres",
    period: "Period",
    against: "compared with",
    generated: "Generated",
    n_centres: "Centres",
    n_flagged: "Flagged",
    confirmed: "confirmed",
    provisional: "provisional",
    critical: "critical",
    improved: "Improved",
    declined: "Declined",
    unchanged: "Unchanged",
    after_feedback: "Improved after feedback",
    excellent: "Excellent",
    medium: "Medium",
    weak: "Weak",
    centre: "Centre",
    agency: "Agency",
    phone: "Phone",
    interval: "95 % interval",
    calls: "Valid calls",
    class: "Class",
    web: "Web",
    overall: "Overall",
    trend: "Phone trend",
    mean_phone: "Mean phone score",
    none_flagged: "No centre is flagged.",
};

const AR: Words = Words {
    title: "تقرير رقيب",
    summary: "الملخص",
    bands: "فئات محور الهاتف",
    flagged: "المراكز المرصودة",
    agencies: "الجهات",
    centres: "جميع المراكز",
    period: "الفترة",
    against: "مقارنةً بـ",
    generated: "أُعدّ في",
    n_centres: "عدد المراكز",
    n_flagged: "المراكز المرصودة",
    confirmed: "مؤكد",
    provisional: "مبدئي",
    critical: "حرج",
    improved: "تحسّن",
    declined: "تراجع",
    unchanged: "ثابت",
    after_feedback: "تحسّن بعد الملاحظات",
    excellent: "ممتاز",
    medium: "متوسط",
    weak: "ضعيف",
    centre: "المركز",
    agency: "الجهة",
    phone: "الهاتف",
    interval: "فاصل الثقة 95٪",
    calls: "المكالمات الصالحة",
    class: "التصنيف",
    web: "الموقع",
    overall: "الكلية",
    trend: "اتجاه الهاتف",
    mean_phone: "متوسط درجة الهاتف",
    none_flagged: "لا يوجد مركز مرصود.",
};

/// A horizontal bar chart of `(label, value, colour)`.
pub(crate) fn bars(items: &[(&str, usize, &str)], rtl: bool) -> String {
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let (w, row) = (480.0, 28.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" role=\"img\">",
        row * items.len() as f64 + 4.0
    );
    for (i, (label, v, colour)) in items.iter().enumerate() {
        let y = i as f64 * row + 2.0;
        let len = 300.0 * *v as f64 / max as f64;
        // Text runs in the document's direction: "start" is the right edge in Arabic.
        let (bar_x, text_x) = if rtl {
            (w - 130.0 - len, w - 4.0)
        } else {
            (130.0, 4.0)
        };
        let anchor = "start";
        svg += &format!(
            "<text x=\"{text_x}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"13\">{} ({v})</text>\
             <rect x=\"{bar_x}\" y=\"{y}\" width=\"{len}\" height=\"{}\" fill=\"{colour}\"/>",
            y + 17.0,
            esc(label),
            row - 8.0
        );
    }
    svg + "</svg>"
}

pub fn render(r: &Report, lang: Lang) -> String {
    let (t, rtl) = match lang {
        Lang::Ar => (&AR, true),
        Lang::En => (&EN, false),
    };
    let code = if rtl { "ar" } else { "en" };
    let s = &r.summary;
    let name = |ar: &str, en: &str| esc(if rtl { ar } else { en });
    let mut h = format!(
        "<!DOCTYPE html><html lang=\"{code}\" dir=\"{}\"><head><meta charset=\"utf-8\">\
         <title>{} {}</title><style>\
         body{{font-family:'DejaVu Sans',sans-serif;margin:2em;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0}}th,td{{border:1px solid #bbb;padding:4px 8px}}\
         th{{background:#eee}}.flag{{color:#a00;font-weight:bold}}section{{page-break-inside:avoid}}\
         </style></head><body>",
        if rtl { "rtl" } else { "ltr" },
        t.title,
        esc(&r.period)
    );
    h += &format!(
        "<h1>{}{}</h1><p>{} {} · {} {} · {} {}</p>",
        t.title,
        r.agency
            .as_deref()
            .map_or(String::new(), |a| format!(" — {}", esc(a))),
        t.period,
        ltr(&r.period),
        t.against,
        ltr(&r.against),
        t.generated,
        ltr(&r.generated_at)
    );
    h += &format!(
        "<section id=\"summary\"><h2>{}</h2><table>\
         <tr><th>{}</th><td>{}</td></tr>\
         <tr><th>{}</th><td>{} ({} {}, {} {}, {} {})</td></tr>\
         <tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr>\
         <tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr></table></section>",
        t.summary,
        t.n_centres,
        s.centres,
        t.n_flagged,
        s.flagged,
        s.confirmed,
        t.confirmed,
        s.provisional,
        t.provisional,
        s.critical,
        t.critical,
        t.improved,
        s.improved,
        t.declined,
        s.declined,
        t.unchanged,
        s.unchanged,
        t.after_feedback,
        s.improved_after_feedback
    );
    let b = &s.phone_bands;
    h += &format!(
        "<section id=\"bands\"><h2>{}</h2>{}</section>",
        t.bands,
        bars(
            &[
                (t.excellent, b.excellent, "#2e7d32"),
                (t.medium, b.medium, "#f9a825"),
                (t.weak, b.weak, "#c62828"),
            ],
            rtl
        )
    );
    h += &format!("<section id=\"flagged\"><h2>{}</h2>", t.flagged);
    if r.flagged.is_empty() {
        h += &format!("<p>{}</p>", t.none_flagged);
    } else {
        h += &format!(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            t.centre, t.agency, t.phone, t.interval, t.calls, t.class
        );
        for f in &r.flagged {
            h += &format!(
                "<tr><td>{} ({})</td><td>{}</td><td class=\"flag\">{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                name(&f.name_ar, &f.name_en),
                ltr(&f.centre),
                esc(&f.agency),
                num(f.phone_score),
                ltr(&format!("{}–{}", num(f.phone_low), num(f.phone_high))),
                f.valid_calls,
                flag_word(f.class, lang),
                if f.critical.is_empty() {
                    String::new()
                } else {
                    format!(" · {}: {}", t.critical, esc(&f.critical.join("; ")))
                }
            );
        }
        h += "</table>";
    }
    h += "</section>";
    h += &format!(
        "<section id=\"agencies\"><h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t.agencies,
        t.agency,
        t.n_centres,
        t.excellent,
        t.medium,
        t.weak,
        t.n_flagged,
        t.mean_phone,
        t.improved
    );
    for a in &r.agencies {
        h += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.agency),
            a.centres,
            a.phone_bands.excellent,
            a.phone_bands.medium,
            a.phone_bands.weak,
            a.flagged,
            num(a.mean_phone),
            a.improved
        );
    }
    h += "</table></section>";
    h += &format!(
        "<section id=\"centres\"><h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t.centres, t.centre, t.phone, t.class, t.web, t.overall, t.trend, t.calls
    );
    for c in &r.centres {
        h += &format!(
            "<tr><td>{} ({})</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td></tr>",
            name(&c.name_ar, &c.name_en),
            ltr(&c.centre),
            num(c.phone_score),
            band_word(c.phone_band, lang),
            flag_word(c.flag, lang),
            num(c.web_score),
            if c.overall.is_some() {
                num(c.overall)
            } else {
                esc(&super::unscored_words(&c.unscored, lang))
            },
            trend_word(c.phone_trend, lang),
            c.phone_change
                .map_or(String::new(), |v| ltr(&format!("{v:+.1}"))),
            c.valid_calls
        );
    }
    h += "</table></section></body></html>\n";
    h
}
