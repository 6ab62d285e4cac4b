//! What an alert says, in Arabic and English: a subject and a body per language, which each
//! notifier kind shapes into its own form (an email's text and HTML in `email.rs`, webhook
//! payloads in `webhook.rs`). Made only from an alert's stored payload, so a retried delivery
//! says exactly what the first try said.

use serde::{Deserialize, Serialize};

use crate::arabic::term;
use crate::config::AlertLang;

/// Everything a message is made from; stored as the alert's payload.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// A link (`[alerts] evidence_url`) or the recording's path in the store.
    pub evidence: Option<String>,
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

/// One language's message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Text {
    pub subject: String,
    pub body: String,
}

fn num(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.1}"))
}

fn score_line(p: &Payload, ar: bool) -> String {
    match p.score {
        Some(s) if ar => format!(
            "الدرجة: {:.1} (فاصل الثقة 95٪: {:.1}–{:.1})، وحدّ المتابعة {}٪ أو أقل",
            s.value,
            s.low,
            s.high,
            p.threshold.unwrap_or(60.0)
        ),
        Some(s) => format!(
            "Score: {:.1} (95 % interval {:.1}–{:.1}); follow-up at {} % or less",
            s.value,
            s.low,
            s.high,
            p.threshold.unwrap_or(60.0)
        ),
        None if ar => "الدرجة: غير متاحة".into(),
        None => "Score: not available".into(),
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
    let mut lines: Vec<String> = Vec::new();
    let subject = match (p.kind.as_str(), ar) {
        ("test", true) => {
            lines.push("هذه رسالة اختبار من رقيب للتحقق من وصول التنبيهات عبر هذه القناة.".into());
            "رقيب: رسالة اختبار".to_string()
        }
        ("test", false) => {
            lines.push("This is a test message from raqib: this alert channel works.".into());
            "raqib: test message".to_string()
        }
        ("escalation", _) | ("resolved", _) => {
            let case = p.case.as_ref();
            let id = case.map_or(0, |k| k.id);
            let (opened, due) = case.map_or(("-", "-"), |k| (&k.opened_at[..], &k.due_at[..]));
            let escalation = p.kind == "escalation";
            match (escalation, ar) {
                (true, true) => lines.push(format!(
                    "حالة المتابعة رقم {id} للمركز {name} ({}) فُتحت في {opened} بسبب فترة {period}، وكان موعدها {due}، ولم تُغلق بعد.",
                    c.id
                )),
                (true, false) => lines.push(format!(
                    "Follow-up case {id} for {name} ({}) was opened on {opened} for period {period}, was due on {due}, and is still open.",
                    c.id
                )),
                (false, true) => lines.push(format!(
                    "أُغلقت حالة المتابعة رقم {id} للمركز {name} ({}): لم يعد المركز تحت حدّ المتابعة في فترة {}.",
                    c.id,
                    case.and_then(|k| k.closed_by_period.as_deref()).unwrap_or("-")
                )),
                (false, false) => lines.push(format!(
                    "Follow-up case {id} for {name} ({}) is closed: the centre was clear in period {}.",
                    c.id,
                    case.and_then(|k| k.closed_by_period.as_deref()).unwrap_or("-")
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
            lines.push(format!("المركز: {name} ({})", c.id));
            lines.push(format!("الجهة: {}", c.agency));
            lines.push(format!("الفترة: {period}"));
            lines.push(format!("المحور: {}", term(channel)));
            lines.push(score_line(p, true));
            lines.push(format!("التصنيف: {}", term(class)));
            if let Some(n) = p.valid_calls {
                lines.push(format!(
                    "المكالمات الصالحة: {n} (الحد الأدنى {})",
                    p.min_calls.unwrap_or(0)
                ));
            }
            format!(
                "رقيب: {name} — {} {} ({})",
                term(channel),
                num(p.score.map(|s| s.value)),
                term(class)
            )
        }
        (_, false) => {
            lines.push(format!("Centre: {name} ({})", c.id));
            lines.push(format!("Agency: {}", c.agency));
            lines.push(format!("Period: {period}"));
            lines.push(format!("Channel: {channel}"));
            lines.push(score_line(p, false));
            lines.push(format!("Class: {}", class.replace('_', " ")));
            if let Some(n) = p.valid_calls {
                lines.push(format!(
                    "Valid calls: {n} (at least {} needed)",
                    p.min_calls.unwrap_or(0)
                ));
            }
            format!(
                "raqib: {name} — {channel} {} ({})",
                num(p.score.map(|s| s.value)),
                class.replace('_', " ")
            )
        }
    };
    if let Some(prev) = &p.previous {
        lines.push(if ar {
            format!(
                "سبق التنبيه لهذه الفترة: {} بدرجة {}",
                term(prev.class.as_deref().unwrap_or("-")),
                num(prev.score)
            )
        } else {
            format!(
                "Alerted before for this period: {} at {}",
                prev.class.as_deref().unwrap_or("-").replace('_', " "),
                num(prev.score)
            )
        });
    }
    for k in &p.critical {
        lines.push(if ar {
            format!("تنبيه حرج: {} (النتائج {:?})", k.detail, k.results)
        } else {
            format!("Critical: {} (results {:?})", k.detail, k.results)
        });
    }
    if !p.worst_calls.is_empty() {
        lines.push(String::new());
        lines.push(
            if ar {
                "أسوأ المكالمات:"
            } else {
                "Worst calls:"
            }
            .into(),
        );
        for w in &p.worst_calls {
            let number = w.number.as_deref().unwrap_or("-");
            let evidence = w.evidence.as_deref().unwrap_or("-");
            lines.push(if ar {
                format!(
                    "- {} ‎{number}‎: {}، الرنين {} ث، الرد بعد {} ث، الدرجة {:.1}، النتيجة رقم {} — الدليل: {evidence}",
                    w.started_at,
                    term(&w.outcome),
                    num(w.ring_secs),
                    num(w.answer_secs),
                    w.score,
                    w.id
                )
            } else {
                format!(
                    "- {} {number}: {}, ringing after {} s, answered after {} s, score {:.1}, result {} — evidence: {evidence}",
                    w.started_at,
                    w.outcome.replace('_', " "),
                    num(w.ring_secs),
                    num(w.answer_secs),
                    w.score,
                    w.id
                )
            });
        }
    }
    Text {
        subject,
        body: lines.join("\n") + "\n",
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
            }],
            ..Payload::default()
        }
    }

    #[test]
    fn a_flag_names_centre_score_class_and_worst_call_in_both_languages() {
        let ar = render(&flag(), true);
        assert_eq!(ar.subject, "رقيب: مركز عمّان — الهاتف 41.2 (مؤكد)");
        assert!(ar.body.contains("فاصل الثقة 95٪: 30.0–52.5"), "{}", ar.body);
        assert!(ar.body.contains("مشغول") && ar.body.contains("results/7"));
        let en = render(&flag(), false);
        assert_eq!(en.subject, "raqib: Amman centre — phone 41.2 (confirmed)");
        assert!(en.body.contains("Valid calls: 12 (at least 5 needed)"));
    }
}
