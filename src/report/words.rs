//! The report's words for what it shows, in Arabic and English: periods and dates, why calls
//! were not counted, critical faults and why a centre is flagged. A stored code never reaches
//! the page; numbers and ids are left to the HTML to isolate.

use super::{FlaggedRow, Lang};
use crate::arabic::{counted, counted_en, CALLS, HOURS};
use crate::score::rules::Excluded;
use crate::score::Critical;

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const MONTHS_AR: [&str; 12] = [
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
];

/// The name of month `m` (1–12).
pub(crate) fn month_name(m: u32, lang: Lang) -> &'static str {
    let i = (m.clamp(1, 12) - 1) as usize;
    match lang {
        Lang::En => MONTHS_EN[i],
        Lang::Ar => MONTHS_AR[i],
    }
}

/// `2026-11-23` → "23 November 2026" / "23 نوفمبر 2026"; anything else as it is.
pub fn date(iso: &str, lang: Lang) -> String {
    match chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => {
            use chrono::Datelike;
            format!("{} {} {}", d.day(), month_name(d.month(), lang), d.year())
        }
        Err(_) => iso.to_string(),
    }
}

/// A period label in words: "November 2026", "الربع الرابع 2026", "week 47 of 2026".
pub fn period(label: &str, lang: Lang) -> String {
    let Ok(p) = crate::score::period::Period::parse(label) else {
        return label.to_string();
    };
    use crate::score::period::Kind;
    use chrono::Datelike;
    let y = p.from.year();
    match (p.kind, lang) {
        (Kind::Month, _) => format!("{} {y}", month_name(p.from.month(), lang)),
        (Kind::Quarter, Lang::En) => format!("Q{} {y}", p.from.month0() / 3 + 1),
        (Kind::Quarter, Lang::Ar) => {
            let q = ["الأول", "الثاني", "الثالث", "الرابع"][(p.from.month0() / 3) as usize];
            format!("الربع {q} من {y}")
        }
        (Kind::Year, Lang::En) => format!("the year {y}"),
        (Kind::Year, Lang::Ar) => format!("عام {y}"),
        (Kind::Week, Lang::En) => format!("week {} of {y}", p.from.iso_week().week()),
        (Kind::Week, Lang::Ar) => format!("الأسبوع {} من {y}", p.from.iso_week().week()),
        (Kind::Range, _) => {
            let last = p.until.pred_opt().unwrap_or(p.from).to_string();
            let (a, b) = (date(&p.from.to_string(), lang), date(&last, lang));
            match lang {
                Lang::En => format!("{a} to {b}"),
                Lang::Ar => format!("من {a} إلى {b}"),
            }
        }
    }
}

/// A month label for a chart's axis: "Nov 2026" / "نوفمبر 2026".
pub fn month_short(label: &str, lang: Lang) -> String {
    match label.split_once('-') {
        Some((y, m)) => match (m.parse::<u32>(), lang) {
            (Ok(m), Lang::En) => format!("{} {y}", &month_name(m, lang)[..3]),
            (Ok(m), Lang::Ar) => format!("{} {y}", month_name(m, lang)),
            (Err(_), _) => label.to_string(),
        },
        None => label.to_string(),
    }
}

/// Why calls were not counted.
pub fn excluded(e: Excluded, lang: Lang) -> &'static str {
    match (e, lang) {
        (Excluded::RaqibFault, Lang::En) => "raqib itself could not place the call",
        (Excluded::RaqibFault, Lang::Ar) => "تعذّر على رقيب نفسه إجراء المكالمة",
        (Excluded::NetworkFault, Lang::En) => "network or carrier fault",
        (Excluded::NetworkFault, Lang::Ar) => "عطل في الشبكة أو لدى مشغّل الاتصالات",
        (Excluded::GuardRefused, Lang::En) => "refused by the dialling guard (never dialled)",
        (Excluded::GuardRefused, Lang::Ar) => "رفضها حارس الاتصال (لم يُطلب الرقم)",
        (Excluded::OutsideHours, Lang::En) => "placed outside the centre's opening hours",
        (Excluded::OutsideHours, Lang::Ar) => "أُجريت خارج ساعات عمل المركز",
        (Excluded::Unreadable, Lang::En) => "stored result could not be read",
        (Excluded::Unreadable, Lang::Ar) => "نتيجة مخزّنة تعذّرت قراءتها",
    }
}

/// A critical fault in words, and the number or site it concerns (for the page to isolate).
pub fn critical(c: &Critical, lang: Lang) -> (String, String) {
    // The verdict names the number or site first in its detail ("N is not in service (K
    // calls)", "SITE was down for H h").
    let subject = c.detail.split(' ').next().unwrap_or_default().to_string();
    let n = c.results.len();
    let words = match (c.kind.as_str(), lang) {
        ("number_not_in_service", Lang::En) => format!(
            "number out of service in {}:",
            counted_en(n as u64, &n.to_string(), "call", "calls")
        ),
        ("number_not_in_service", Lang::Ar) => format!(
            "رقم خارج الخدمة في {}:",
            counted(n as u64, &n.to_string(), &CALLS)
        ),
        ("site_down", _) => {
            let hours = c
                .detail
                .rsplit(' ')
                .nth(1)
                .and_then(|h| h.parse::<f64>().ok())
                .map_or(String::new(), |h| format!("{h:.0}"));
            let h = hours.parse::<u64>().unwrap_or(0);
            match lang {
                Lang::En => format!(
                    "website down for {}:",
                    counted_en(h, &hours, "hour", "hours")
                ),
                Lang::Ar => format!("الموقع متوقف منذ {}:", counted(h, &hours, &HOURS)),
            }
        }
        (_, Lang::En) => "critical fault:".to_string(),
        (_, Lang::Ar) => "خلل حرج:".to_string(),
    };
    (words, subject)
}

/// Why a channel has too little data for the overall index: "3 of 5 calls needed".
pub(crate) fn missing_reason(m: &crate::score::Missing, lang: Lang) -> String {
    match (m.reason.as_str(), lang) {
        ("no_calls", Lang::En) => "no calls placed".into(),
        ("no_calls", Lang::Ar) => "لم تُجرَ مكالمات".into(),
        ("no_calls_in_hours", Lang::En) => "no calls in opening hours".into(),
        ("no_calls_in_hours", Lang::Ar) => "لا مكالمات في ساعات العمل".into(),
        ("too_few_calls", Lang::En) => format!(
            "{} of {} needed",
            m.valid,
            counted_en(m.needed, &m.needed.to_string(), "call", "calls")
        ),
        ("too_few_calls", Lang::Ar) => format!(
            "{} من {} مطلوبة",
            m.valid,
            counted(m.needed, &m.needed.to_string(), &CALLS)
        ),
        (_, Lang::En) => "no website check".into(),
        (_, Lang::Ar) => "لا فحص للموقع".into(),
    }
}

/// Why a flagged centre scores low, from its verdict's figures: "no person reached in 5 of 5
/// calls (0 answered)".
pub fn reason(f: &FlaggedRow, lang: Lang) -> String {
    let (n, answered) = (f.valid_calls, f.answered);
    let missed = n.saturating_sub(f.reached_person);
    let median = f.median_answer_secs.map(|s| format!("{s:.0}"));
    match lang {
        Lang::En => format!(
            "no person reached in {missed} of {} ({answered} answered){}",
            counted_en(n, &n.to_string(), "call", "calls"),
            median.map_or(String::new(), |s| format!(
                "; median time to answer {s}\u{a0}s"
            ))
        ),
        Lang::Ar => format!(
            "لم يُرد موظف في {missed} من {} (رُدّ على {answered} منها){}",
            counted(n, &n.to_string(), &CALLS),
            median.map_or(String::new(), |s| format!("؛ وسيط زمن الرد {s}\u{a0}ث"))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_dates_in_words() {
        assert_eq!(period("2026-11", Lang::En), "November 2026");
        assert_eq!(period("2026-11", Lang::Ar), "نوفمبر 2026");
        assert_eq!(period("2026-Q4", Lang::Ar), "الربع الرابع من 2026");
        assert_eq!(period("2026-Q4", Lang::En), "Q4 2026");
        assert_eq!(
            period("2026-11-01..2026-11-15", Lang::En),
            "1 November 2026 to 15 November 2026"
        );
        assert_eq!(date("2027-03-02", Lang::Ar), "2 مارس 2027");
        assert_eq!(month_short("2026-09", Lang::En), "Sep 2026");
    }

    #[test]
    fn critical_faults_in_words() {
        let dead = Critical {
            kind: "number_not_in_service".into(),
            detail: "+96265000199 is not in service (5 calls)".into(),
            results: vec![1, 2, 3, 4, 5],
        };
        assert_eq!(
            critical(&dead, Lang::Ar),
            (
                "رقم خارج الخدمة في 5 مكالمات:".to_string(),
                "+96265000199".to_string()
            )
        );
        let down = Critical {
            kind: "site_down".into(),
            detail: "https://x.example/ was down for 30.4 h".into(),
            results: vec![9],
        };
        assert_eq!(critical(&down, Lang::En).0, "website down for 30 hours:");
    }
}
