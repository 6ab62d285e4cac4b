//! What an alert says, in Arabic and English: a subject and a body per language, which each
//! notifier kind shapes into its own form (an email's text and HTML in `email.rs`, webhook
//! payloads in `webhook.rs`). Made only from an alert's stored payload, so a retried delivery
//! says exactly what the first try said.

use serde::{Deserialize, Serialize};

use crate::arabic::term;
use crate::config::AlertLang;

/// Everything a message is made from; stored as the alert's payload (fields added later
/// default, so an older stored alert still renders).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Payload {
    /// `flag`, `escalation`, `resolved` or `test`.
    pub kind: String,
    pub centre: Option<CentreRef>,
    pub channel: Option<String>,
    pub period: Option<String>,
    pub class: Option<String>,
    pub score: Option<Interval>,
    pub threshold: Option<f64>,
    pub valid_calls: Option<u64>,
    pub min_calls: Option<u64>,
    pub critical: Vec<CriticalRef>,
    pub worst_calls: Vec<WorstCall>,
    pub case: Option<CaseRef>,
    /// The alert this one follows for the same centre, channel and period (class, score).
    pub previous: Option<Previous>,
    /// The centre's page of the period on the dashboard (`[server] public_url`).
    pub link: Option<String>,
    /// The centre's IANA zone: times are shown in it, named.
    pub timezone: Option<String>,
    /// What the period's valid calls had in common.
    pub reason: Option<Reason>,
    /// When the improvement plan is due (the follow-up case's date, `YYYY-MM-DD`).
    pub due_on: Option<String>,
    pub follow_up_days: Option<i64>,
}

/// The low score in figures a reader can check: calls that reached no person, the median ring.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Reason {
    pub calls: u64,
    pub answered: u64,
    pub no_person: u64,
    /// Seconds from the INVITE to the answer (or, unanswered, to the ringing).
    pub median_ring_secs: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CentreRef {
    pub id: String,
    pub name_ar: String,
    pub name_en: String,
    pub agency: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Interval {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CriticalRef {
    pub kind: String,
    pub detail: String,
    pub results: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorstCall {
    pub id: i64,
    pub number: Option<String>,
    pub started_at: String,
    pub outcome: String,
    pub ring_secs: Option<f64>,
    pub answer_secs: Option<f64>,
    pub score: f64,
    /// A link (`[alerts] evidence_url`, else the dashboard's result page) or the recording's
    /// path in the store.
    pub evidence: Option<String>,
    #[serde(default)]
    pub answer_type: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRef {
    pub id: i64,
    pub opened_at: String,
    pub due_at: String,
    pub closed_at: Option<String>,
    pub closed_by_period: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Previous {
    pub class: Option<String>,
    pub score: Option<f64>,
}

/// One language's message: the subject and a plain-text body (what `body` serialises), and
/// the same content in parts for an HTML mail (key figures as rows, the worst calls as a
/// table, one link). Ids, numbers, dates and URLs are isolated with FSI…PDI in the text
/// (`iso`), which HTML turns into `<bdi>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Text {
    pub subject: String,
    pub body: String,
    #[serde(skip)]
    pub rows: Vec<(String, String)>,
    #[serde(skip)]
    pub notes: Vec<String>,
    /// Column heads, then one row per worst call.
    #[serde(skip)]
    pub calls: Option<(Vec<String>, Vec<Vec<String>>)>,
    /// The button: its words and where it leads.
    #[serde(skip)]
    pub link: Option<(String, String)>,
}

pub const FSI: char = '\u{2068}';
pub const PDI: char = '\u{2069}';

/// `s` isolated from the text around it, so that an id, number or URL keeps its own order
/// inside Arabic.
fn iso(s: impl std::fmt::Display) -> String {
    format!("{FSI}{s}{PDI}")
}

fn num(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.1}"))
}

/// English words for the stored codes (the Arabic ones are `crate::arabic::term`).
fn en(code: &str) -> &str {
    match code {
        "insufficient_data" => "insufficient data",
        "web" => "website",
        "no_answer" => "no answer",
        "not_in_service" => "number not in service",
        "refused" => "refused by the dialling guard",
        "error" => "raqib's own error",
        "human" => "a person",
        "ivr" => "an automated menu (IVR)",
        "voicemail" => "voicemail",
        "announcement" => "a recorded announcement",
        "music" => "hold music",
        "tone" => "a tone (ringback, busy or fax)",
        "silence" => "silence",
        "site_down" => "site down",
        other => other,
    }
}

fn word(code: &str, ar: bool) -> String {
    if ar {
        term(code).to_string()
    } else {
        en(code).to_string()
    }
}

/// A stored UTC instant as the centre's local time, its zone named ("15:21 Amman time").
fn local_time(utc: &str, tz: Option<&str>, ar: bool) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(utc) else {
        return if ar { iso(utc) } else { utc.to_string() };
    };
    let zone = tz.and_then(|z| z.parse::<chrono_tz::Tz>().ok());
    let (stamp, name) = match zone {
        Some(z) => (
            t.with_timezone(&z).format("%Y-%m-%d %H:%M").to_string(),
            crate::arabic::zone_name(z.name(), ar),
        ),
        None => (t.format("%Y-%m-%d %H:%M").to_string(), "UTC".to_string()),
    };
    if ar {
        format!("{} {name}", iso(stamp))
    } else {
        format!("{stamp} {name}")
    }
}

fn score_line(p: &Payload, ar: bool) -> String {
    match p.score {
        Some(s) if ar => format!(
            "{} (فاصل الثقة 95٪: {})، وحدّ المتابعة {}٪ أو أقل",
            iso(format!("{:.1}", s.value)),
            iso(format!("{:.1}–{:.1}", s.low, s.high)),
            iso(p.threshold.unwrap_or(60.0))
        ),
        Some(s) => format!(
            "{:.1} (95 % interval {:.1}–{:.1}); follow-up at {} % or less",
            s.value,
            s.low,
            s.high,
            p.threshold.unwrap_or(60.0)
        ),
        None if ar => "غير متاحة".into(),
        None => "not available".into(),
    }
}

/// A critical flag's detail in Arabic. The verdict stores it as an English sentence (`score`
/// writes "N is not in service (K calls)" and "SITE was down for H h"); an unknown shape is
/// shown isolated as it is.
fn critical_ar(detail: &str) -> String {
    if let Some((number, rest)) = detail.split_once(" is not in service (") {
        let calls = rest.trim_end_matches(" calls)").trim_end_matches(" call)");
        return format!("الرقم {} خارج الخدمة ({calls} مكالمات)", iso(number));
    }
    if let Some((site, rest)) = detail.split_once(" was down for ") {
        let hours = rest.trim_end_matches(" h");
        return format!("الموقع {} متوقف منذ {} ساعة", iso(site), iso(hours));
    }
    iso(detail)
}

/// The reason in words: "no person reached in 4 of 6 calls; median ring 45 s".
fn reason_line(r: &Reason, ar: bool) -> String {
    let ring = r.median_ring_secs.map(|s| format!("{s:.0}"));
    match ar {
        true => {
            let mut line = format!(
                "لم يُرد موظف في {} من {} مكالمات (رُدّ على {} منها)",
                r.no_person, r.calls, r.answered
            );
            if let Some(s) = ring {
                line += &format!("؛ وسيط مدة الرنين {s} ث");
            }
            line
        }
        false => {
            let mut line = format!(
                "no person reached in {} of {} calls ({} answered)",
                r.no_person, r.calls, r.answered
            );
            if let Some(s) = ring {
                line += &format!("; median ring {s} s");
            }
            line
        }
    }
}

/// The message in one language.
pub fn render(p: &Payload, ar: bool) -> Text {
    let blank = CentreRef::default();
    let c = p.centre.as_ref().unwrap_or(&blank);
    let name = if ar { &c.name_ar } else { &c.name_en };
    let channel = p
        .channel
        .as_deref()
        .unwrap_or(crate::probe::Channel::Phone.as_str());
    let class = p.class.as_deref().unwrap_or("");
    let period = p.period.as_deref().unwrap_or("-");
    let tz = p.timezone.as_deref();
    // Ids, periods, dates and URLs keep their order inside Arabic; English needs no marks.
    let i = |s: &str| if ar { iso(s) } else { s.to_string() };
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
    let subject = match (p.kind.as_str(), ar) {
        ("test", true) => {
            notes.push("هذه رسالة اختبار من رقيب للتحقق من وصول التنبيهات عبر هذه القناة.".into());
            "رقيب: رسالة اختبار".to_string()
        }
        ("test", false) => {
            notes.push("This is a test message from raqib: this alert channel works.".into());
            "raqib: test message".to_string()
        }
        ("escalation", _) | ("resolved", _) => {
            let case = p.case.as_ref();
            let id = case.map_or(0, |k| k.id);
            let day = |s: &str| i(&s.chars().take(10).collect::<String>());
            let (opened, due) = case.map_or(("-".into(), "-".into()), |k| {
                (day(&k.opened_at), day(&k.due_at))
            });
            let closed_by = i(case
                .and_then(|k| k.closed_by_period.as_deref())
                .unwrap_or("-"));
            let escalation = p.kind == "escalation";
            match (escalation, ar) {
                (true, true) => notes.push(format!(
                    "حالة المتابعة رقم {} للمركز {name} ({}) فُتحت في {opened} بسبب فترة {}، وكان موعدها {due}، ولم تُغلق بعد.",
                    iso(id), iso(&c.id), iso(period)
                )),
                (true, false) => notes.push(format!(
                    "Follow-up case {id} for {name} ({}) was opened on {opened} for period {period}, was due on {due}, and is still open.",
                    c.id
                )),
                (false, true) => notes.push(format!(
                    "أُغلقت حالة المتابعة رقم {} للمركز {name} ({}): لم يعد المركز تحت حدّ المتابعة في فترة {closed_by}.",
                    iso(id), iso(&c.id)
                )),
                (false, false) => notes.push(format!(
                    "Follow-up case {id} for {name} ({}) is closed: the centre was clear in period {closed_by}.",
                    c.id
                )),
            }
            match (escalation, ar) {
                (true, true) => format!("رقيب: تصعيد — حالة متابعة متأخرة: {name}"),
                (true, false) => format!("raqib: escalation — overdue follow-up: {name}"),
                (false, true) => format!("رقيب: تمت المعالجة — {name}"),
                (false, false) => format!("raqib: resolved — {name}"),
            }
        }
        (_, true) => {
            row("المركز", format!("{name} ({})", iso(&c.id)));
            row("الجهة", iso(&c.agency));
            row("الفترة", iso(period));
            row("المحور", term(channel).into());
            row("الدرجة", score_line(p, true));
            row("التصنيف", term(class).into());
            if let Some(n) = p.valid_calls {
                row(
                    "المكالمات الصالحة",
                    format!("{n} (الحد الأدنى {})", p.min_calls.unwrap_or(0)),
                );
            }
            if let Some(r) = &p.reason {
                row("السبب", reason_line(r, true));
            }
            if let Some(due) = &p.due_on {
                row(
                    "المطلوب",
                    format!(
                        "خطة تحسين خلال {} يومًا، أي قبل {}",
                        p.follow_up_days.unwrap_or(100),
                        iso(due)
                    ),
                );
            }
            format!(
                "رقيب: {name} — {} {} ({})",
                term(channel),
                num(p.score.map(|s| s.value)),
                term(class)
            )
        }
        (_, false) => {
            row("Centre", format!("{name} ({})", c.id));
            row("Agency", c.agency.clone());
            row("Period", period.into());
            row("Channel", en(channel).into());
            row("Score", score_line(p, false));
            row("Class", en(class).into());
            if let Some(n) = p.valid_calls {
                row(
                    "Valid calls",
                    format!("{n} (at least {} needed)", p.min_calls.unwrap_or(0)),
                );
            }
            if let Some(r) = &p.reason {
                row("Reason", reason_line(r, false));
            }
            if let Some(due) = &p.due_on {
                row(
                    "Requested",
                    format!(
                        "an improvement plan within {} days, by {due}",
                        p.follow_up_days.unwrap_or(100)
                    ),
                );
            }
            format!(
                "raqib: {name} — {} {} ({})",
                en(channel),
                num(p.score.map(|s| s.value)),
                en(class)
            )
        }
    };
    if let Some(prev) = &p.previous {
        let class = prev.class.as_deref().unwrap_or("-");
        notes.push(if ar {
            format!(
                "سبق التنبيه لهذه الفترة: {} بدرجة {}",
                term(class),
                iso(num(prev.score))
            )
        } else {
            format!(
                "Alerted before for this period: {} at {}",
                en(class),
                num(prev.score)
            )
        });
    }
    for k in &p.critical {
        let results = |sep: &str| {
            k.results
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(sep)
        };
        notes.push(if ar {
            format!(
                "تنبيه حرج: {} (النتائج {})",
                critical_ar(&k.detail),
                results("، ")
            )
        } else {
            format!("Critical: {} (results {})", k.detail, results(", "))
        });
    }
    let calls = (!p.worst_calls.is_empty()).then(|| {
        let head: Vec<String> = if ar {
            [
                "الوقت",
                "الرقم",
                "النتيجة",
                "من ردّ",
                "الرنين (ث)",
                "الدرجة",
                "الدليل",
            ]
        } else {
            [
                "Time",
                "Number",
                "Outcome",
                "Answered by",
                "Ring (s)",
                "Score",
                "Evidence",
            ]
        }
        .map(String::from)
        .to_vec();
        let body: Vec<Vec<String>> = p
            .worst_calls
            .iter()
            .map(|w| {
                vec![
                    local_time(&w.started_at, tz, ar),
                    i(w.number.as_deref().unwrap_or("-")),
                    word(&w.outcome, ar),
                    w.answer_type.as_deref().map_or("-".into(), |t| word(t, ar)),
                    i(&num(w.answer_secs.or(w.ring_secs))),
                    i(&format!("{:.1}", w.score)),
                    i(w.evidence.as_deref().unwrap_or("-")),
                ]
            })
            .collect();
        (head, body)
    });
    let link = p.link.as_ref().map(|u| {
        let words = if ar {
            "عرض النتيجة في لوحة رقيب"
        } else {
            "Open the result on the dashboard"
        };
        (words.to_string(), u.clone())
    });

    let mut lines: Vec<String> = rows.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    lines.extend(notes.iter().cloned());
    if let Some((head, body)) = &calls {
        lines.push(String::new());
        lines.push(
            if ar {
                "أسوأ المكالمات:"
            } else {
                "Worst calls:"
            }
            .into(),
        );
        for r in body.iter() {
            let r: &Vec<String> = r;
            lines.push(if ar {
                format!(
                    "- {} {}: {}، {}: {}، {} {} ث، {} {}، {}: {}",
                    r[0], r[1], r[2], head[3], r[3], "الرنين", r[4], head[5], r[5], head[6], r[6]
                )
            } else {
                format!(
                    "- {} {}: {}, answered by {}, ring {} s, score {}, evidence: {}",
                    r[0], r[1], r[2], r[3], r[4], r[5], r[6]
                )
            });
        }
    }
    if let Some((words, url)) = &link {
        lines.push(String::new());
        lines.push(format!("{words}: {}", i(url)));
    }
    Text {
        subject,
        body: lines.join("\n") + "\n",
        rows,
        notes,
        calls,
        link,
    }
}

/// The texts for a contact's language(s), Arabic first.
pub fn texts(p: &Payload, lang: AlertLang) -> Vec<(&'static str, Text)> {
    match lang {
        AlertLang::Ar => vec![("ar", render(p, true))],
        AlertLang::En => vec![("en", render(p, false))],
        AlertLang::Both => vec![("ar", render(p, true)), ("en", render(p, false))],
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A confirmed phone flag with one worst call: the messages' test payload.
    pub(crate) fn flag() -> Payload {
        Payload {
            kind: "flag".into(),
            centre: Some(CentreRef {
                id: "jo-amman".into(),
                name_ar: "مركز عمّان".into(),
                name_en: "Amman centre".into(),
                agency: "CSD".into(),
            }),
            channel: Some("phone".into()),
            period: Some("2026-11".into()),
            class: Some("confirmed".into()),
            score: Some(Interval {
                value: 41.25,
                low: 30.0,
                high: 52.5,
            }),
            threshold: Some(60.0),
            valid_calls: Some(12),
            min_calls: Some(5),
            worst_calls: vec![WorstCall {
                id: 7,
                number: Some("+96265000101".into()),
                started_at: "2026-11-03T08:00:00.000Z".into(),
                outcome: "busy".into(),
                ring_secs: None,
                answer_secs: None,
                score: 0.0,
                evidence: Some("https://raqib.example/results/7".into()),
                answer_type: None,
            }],
            ..Payload::default()
        }
    }

    #[test]
    fn a_critical_flag_reads_in_arabic() {
        assert_eq!(
            critical_ar("+96522001001 is not in service (5 calls)"),
            "الرقم \u{2068}+96522001001\u{2069} خارج الخدمة (5 مكالمات)"
        );
        assert_eq!(
            critical_ar("https://a.example/ was down for 25.5 h"),
            "الموقع \u{2068}https://a.example/\u{2069} متوقف منذ \u{2068}25.5\u{2069} ساعة"
        );
        assert_eq!(critical_ar("other"), "\u{2068}other\u{2069}");
    }

    #[test]
    fn a_flag_names_centre_score_class_and_worst_call_in_both_languages() {
        let ar = render(&flag(), true);
        assert_eq!(ar.subject, "رقيب: مركز عمّان — الهاتف 41.2 (مؤكد)");
        assert!(
            ar.body
                .contains("فاصل الثقة 95٪: \u{2068}30.0–52.5\u{2069}"),
            "{}",
            ar.body
        );
        assert!(ar.body.contains("مشغول") && ar.body.contains("results/7"));
        let en = render(&flag(), false);
        assert_eq!(en.subject, "raqib: Amman centre — phone 41.2 (confirmed)");
        assert!(en.body.contains("Valid calls: 12 (at least 5 needed)"));
    }
}
