//! What the dashboard says, in Arabic and English: its own words, one word for every stored
//! code (outcomes, classes, bands, answer types, reasons, channels, states), and times, dates
//! and periods as people read them. A page never shows a stored code: it asks here.

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::probe::Channel;
use crate::report::Lang;
use crate::score::period::{Kind, Period};

/// The stored codes in words: (code, English, Arabic). Arabic follows `crate::arabic::term`
/// where that has the code, so alerts, reports and the dashboard say the same.
const TERMS: &[(&str, &str, &str)] = &[
    // Call outcomes.
    ("answered", "answered", "تم الرد"),
    ("busy", "busy", "مشغول"),
    ("no_answer", "no answer", "لم يُرد"),
    ("rejected", "declined", "مرفوض"),
    (
        "not_in_service",
        "number not in service",
        "الرقم خارج الخدمة",
    ),
    ("unreachable", "unreachable", "تعذّر الوصول"),
    ("failed", "call failed", "فشل الاتصال"),
    (
        "refused",
        "refused by the dialling guard",
        "رفضه حارس الاتصال",
    ),
    ("error", "raqib could not run it", "خطأ في رقيب"),
    // Web check states, reasons and warnings.
    ("up", "up", "متاح"),
    ("degraded", "up, degraded", "متاح ببطء"),
    ("down", "down", "متوقف"),
    ("dns", "name not found (DNS)", "تعذّر العثور على اسم الموقع"),
    ("connect", "connection refused", "تعذّر الاتصال بالخادم"),
    ("tls", "certificate or TLS failure", "خلل في الشهادة الأمنية"),
    ("timeout", "too slow: timed out", "انتهت المهلة"),
    (
        "http_status",
        "error page or bad redirect",
        "صفحة خطأ أو تحويل خاطئ",
    ),
    ("content", "expected text missing", "النص المتوقع غير موجود"),
    ("local", "raqib's own fault", "خلل لدى رقيب"),
    ("slow", "slow", "بطيء"),
    (
        "tls_expiring",
        "certificate expiring soon",
        "الشهادة توشك أن تنتهي",
    ),
    // Browser page outcomes.
    ("ok", "loaded", "حُمّلت"),
    (
        "load_timeout",
        "load timed out",
        "لم يكتمل التحميل في الوقت",
    ),
    ("unresponsive", "page froze", "تجمّدت الصفحة"),
    ("load_failed", "could not load", "تعذّر التحميل"),
    ("http_error", "error page", "صفحة خطأ"),
    (
        "browser_error",
        "browser failure (raqib's side)",
        "خلل في المتصفح لدى رقيب",
    ),
    (
        "audit_error",
        "audit failure (raqib's side)",
        "خلل في الفحص لدى رقيب",
    ),
    // Flag classes, critical kinds, bands, trends, lists.
    ("confirmed", "confirmed", "مؤكد"),
    ("provisional", "provisional", "مبدئي"),
    ("insufficient_data", "insufficient data", "بيانات غير كافية"),
    ("clear", "clear", "سليم"),
    ("critical", "critical", "حرج"),
    (
        "number_not_in_service",
        "number not in service",
        "رقم خارج الخدمة",
    ),
    ("site_down", "site down", "الموقع متوقف"),
    ("excellent", "excellent", "ممتاز"),
    ("medium", "medium", "متوسط"),
    ("weak", "weak", "ضعيف"),
    ("improved", "improved", "تحسّن"),
    ("declined", "declined", "تراجع"),
    ("unchanged", "unchanged", "ثابت"),
    ("gold", "gold", "ذهبية"),
    ("silver", "silver", "فضية"),
    // Answer types.
    ("human", "a person", "موظف"),
    ("ivr", "automated menu (IVR)", "رد آلي تفاعلي"),
    ("voicemail", "voicemail", "بريد صوتي"),
    ("announcement", "recorded announcement", "رسالة مسجلة"),
    ("music", "hold music", "موسيقى انتظار"),
    (
        "tone",
        "a tone (ringback, busy or fax)",
        "نغمة (رنين أو انشغال أو فاكس)",
    ),
    ("silence", "silence", "صمت"),
    ("unknown", "unknown", "غير معروف"),
    // Why a result does not count.
    ("raqib_fault", "raqib's own fault", "خلل لدى رقيب"),
    (
        "network_fault",
        "network or carrier fault",
        "خلل في الشبكة أو لدى المشغّل",
    ),
    (
        "guard_refused",
        "refused by the dialling guard",
        "رفضه حارس الاتصال",
    ),
    ("outside_hours", "outside opening hours", "خارج ساعات العمل"),
    (
        "unreadable",
        "stored result unreadable",
        "نتيجة مخزنة غير مقروءة",
    ),
    // Who hung up.
    ("raqib", "raqib hung up", "أنهاها رقيب"),
    ("remote", "the centre hung up", "أنهاها المركز"),
    // Follow-up cases.
    ("open", "open", "مفتوحة"),
    ("overdue", "overdue", "متأخرة"),
    ("closed", "closed", "مغلقة"),
    // A call's score components.
    ("network_answer", "answered", "الرد على الاتصال"),
    ("ring_time", "time to answer", "سرعة الرد"),
    ("reached_person", "reached a person", "الوصول إلى موظف"),
    ("time_to_person", "time to a person", "الوقت حتى الموظف"),
    ("voice_quality", "voice quality", "جودة الصوت"),
    // Where "reached a person" came from.
    ("label", "an auditor's label", "تصنيف المدقق"),
    ("heuristic", "listening to the audio", "تحليل الصوت"),
    // Roles.
    ("viewer", "viewer", "مطّلع"),
    ("auditor", "auditor", "مدقق"),
    ("admin", "administrator", "مسؤول"),
];

/// A stored code in words; a code this table lacks reads as "unknown", never as itself.
pub(crate) fn term(lang: Lang, code: &str) -> &'static str {
    if let Some(c) = Channel::parse(code) {
        return match lang {
            Lang::En => c.en(),
            Lang::Ar => c.ar_label(),
        };
    }
    let (_, en, ar) = TERMS
        .iter()
        .find(|(k, _, _)| *k == code)
        .copied()
        .unwrap_or(("", "unknown", "غير معروف"));
    match lang {
        Lang::En => en,
        Lang::Ar => ar,
    }
}

/// `term` with its first letter capitalised in English, for a cell or a heading.
pub(crate) fn term_cap(lang: Lang, code: &str) -> String {
    cap(term(lang, code))
}

pub(crate) fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The list separator and the "and" of the page's language: `، ` in Arabic.
pub(crate) fn join(lang: Lang, parts: &[String]) -> String {
    parts.join(match lang {
        Lang::En => ", ",
        Lang::Ar => "، ",
    })
}

/// Clauses of a sentence: `; ` in English, `؛ ` in Arabic.
pub(crate) fn join_clauses(lang: Lang, parts: &[String]) -> String {
    parts.join(match lang {
        Lang::En => "; ",
        Lang::Ar => "؛ ",
    })
}

/// The month's name (`month0` from 0), as the report writes it.
fn month_name(lang: Lang, month0: u32) -> &'static str {
    crate::report::words::month_name(month0 % 12 + 1, lang)
}

/// A period as people name it: "November 2026", "نوفمبر 2026", "Q4 2026"; a week or a range
/// as written.
pub(crate) fn period_words(lang: Lang, p: &Period) -> String {
    let y = p.from.year();
    match (p.kind, lang) {
        (Kind::Month, _) => format!("{} {y}", month_name(lang, p.from.month0())),
        (Kind::Quarter, Lang::En) => format!("Q{} {y}", p.from.month0() / 3 + 1),
        (Kind::Quarter, Lang::Ar) => {
            let q = ["الأول", "الثاني", "الثالث", "الرابع"][(p.from.month0() / 3) as usize % 4];
            format!("الربع {q} {y}")
        }
        (Kind::Year, _) => y.to_string(),
        (Kind::Week | Kind::Range, _) => p.label.clone(),
    }
}

const DAYS_EN: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const DAYS_AR: [&str; 7] = [
    "الأحد",
    "الاثنين",
    "الثلاثاء",
    "الأربعاء",
    "الخميس",
    "الجمعة",
    "السبت",
];

/// Opening hours for people: "Sunday to Thursday, 08:00–15:00" / "من الأحد إلى الخميس،
/// 08:00–15:00"; several ranges with `; ` (`؛ `).
pub(crate) fn hours_words(lang: Lang, hours: &crate::registry::OpeningHours) -> String {
    let day = |i: usize| match lang {
        Lang::En => DAYS_EN[i % 7],
        Lang::Ar => DAYS_AR[i % 7],
    };
    let time = |t: chrono::NaiveTime| match t.hour() == 23 && t.minute() == 59 && t.second() == 59 {
        true => "24:00".to_string(),
        false => format!("{:02}:{:02}", t.hour(), t.minute()),
    };
    let parts: Vec<String> = hours
        .0
        .iter()
        .map(|r| {
            let on = |i: usize| r.days & (1 << (i % 7)) != 0;
            // Runs of consecutive days, a run may wrap past Saturday (`Sat-Wed`).
            let mut runs = Vec::new();
            if (0..7).all(on) {
                runs.push(match lang {
                    Lang::En => "every day".to_string(),
                    Lang::Ar => "كل يوم".to_string(),
                });
            } else {
                for start in (0..7).filter(|&i| on(i) && !on(i + 6)) {
                    let mut end = start;
                    while on(end + 1) {
                        end += 1;
                    }
                    runs.push(match (end == start, lang) {
                        (true, _) => day(start).to_string(),
                        (false, Lang::En) => format!("{} to {}", day(start), day(end)),
                        (false, Lang::Ar) => format!("من {} إلى {}", day(start), day(end)),
                    });
                }
            }
            format!(
                "{}{} <bdi class=\"nb\" dir=\"ltr\">{}–{}</bdi>",
                join(lang, &runs),
                if lang == Lang::Ar { "،" } else { "," },
                time(r.open),
                time(r.close)
            )
        })
        .collect();
    join_clauses(lang, &parts)
}

/// A short month label for a chart's axis: "Nov" / "نوفمبر".
pub(crate) fn month_short(lang: Lang, p: &Period) -> String {
    match lang {
        Lang::En => month_name(lang, p.from.month0())[..3].to_string(),
        Lang::Ar => month_name(lang, p.from.month0()).to_string(),
    }
}

/// A zone named for people: "Amman time" / "توقيت عمّان", as alerts and the report name it.
pub(crate) fn zone_words(lang: Lang, tz: chrono_tz::Tz) -> String {
    super::esc(&crate::arabic::zone_name(tz.name(), lang == Lang::Ar))
}

/// A stored instant (RFC 3339) in zone `tz`, for people: "22 November 2026, 15:21 Amman
/// time" / "22 نوفمبر 2026، 15:21 توقيت عمّان". HTML; the stored text itself when it is no
/// instant.
pub(crate) fn when(lang: Lang, stored: &str, tz: chrono_tz::Tz) -> String {
    let Ok(t) = DateTime::parse_from_rfc3339(stored) else {
        return super::ltr(stored);
    };
    when_at(lang, t.with_timezone(&Utc), tz)
}

pub(crate) fn when_at(lang: Lang, t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let l = t.with_timezone(&tz);
    let date = format!("{} {} {}", l.day(), month_name(lang, l.month0()), l.year());
    let time = format!("{:02}:{:02}", l.hour(), l.minute());
    let sep = match lang {
        Lang::En => ", ",
        Lang::Ar => "، ",
    };
    format!(
        "<span class=\"when\">{date}{sep}<bdi class=\"nb\">{time}</bdi> {}</span>",
        zone_words(lang, tz)
    )
}

/// A stored instant as a date only, in `tz`: "22 November 2026".
pub(crate) fn date_of(lang: Lang, stored: &str, tz: chrono_tz::Tz) -> String {
    match DateTime::parse_from_rfc3339(stored) {
        Ok(t) => {
            let l = t.with_timezone(&tz);
            format!("{} {} {}", l.day(), month_name(lang, l.month0()), l.year())
        }
        Err(_) => super::ltr(stored),
    }
}

/// Seconds for people: "3.2 s" / "3.2 ث", kept left to right.
pub(crate) fn secs(lang: Lang, s: f64) -> String {
    let unit = match lang {
        Lang::En => "s",
        Lang::Ar => "ث",
    };
    format!("<bdi class=\"nb\">{s:.1}</bdi> {unit}")
}

/// The dashboard's own words: (key, English, Arabic).
const WORDS: &[(&str, &str, &str)] = &[
    ("title", "raqib", "رقيب"),
    ("overview", "Overview", "نظرة عامة"),
    ("sign_in", "Sign in", "تسجيل الدخول"),
    ("sign_out", "Sign out", "تسجيل الخروج"),
    ("user", "User", "المستخدم"),
    ("password", "Password", "كلمة المرور"),
    ("bad_login", "Unknown user or wrong password.", "مستخدم غير معروف أو كلمة مرور خاطئة."),
    (
        "signin_delayed",
        "Too many failed sign-ins: try again in a while.",
        "محاولات دخول فاشلة كثيرة: حاول مرة أخرى بعد قليل.",
    ),
    ("period", "Period", "الفترة"),
    ("show", "Show", "عرض"),
    ("all_agencies", "All agencies", "جميع الجهات"),
    ("figures", "Key figures", "الأرقام الرئيسية"),
    ("centres", "Centres", "المراكز"),
    ("audited", "Centres audited", "المراكز المدققة"),
    ("flagged", "Flagged centres", "المراكز المرصودة"),
    ("flagged_short", "Flagged", "المرصودة"),
    ("none_flagged", "No centre is flagged.", "لا يوجد مركز مرصود."),
    ("bands", "Phone bands", "فئات محور الهاتف"),
    ("agencies", "Agencies", "الجهات"),
    ("league", "League table", "ترتيب المراكز"),
    ("unranked", "Not ranked: not enough data this period", "خارج الترتيب: بيانات غير كافية في هذه الفترة"),
    ("why_unranked", "Why", "السبب"),
    ("centre", "Centre", "المركز"),
    ("agency", "Agency", "الجهة"),
    ("overall", "Overall", "الدرجة الكلية"),
    ("interval", "95 % interval", "فاصل الثقة 95٪"),
    ("calls", "Valid calls", "المكالمات الصالحة"),
    ("class", "Class", "التصنيف"),
    ("trend", "Phone trend", "اتجاه الهاتف"),
    ("mean_phone", "Mean phone score", "متوسط درجة الهاتف"),
    ("answer_rate", "Calls answered", "المكالمات التي تم الرد عليها"),
    ("median_answer", "Median time to answer", "وسيط زمن الرد"),
    ("reached_person", "Calls reaching a person", "المكالمات التي وصلت إلى موظف"),
    ("sites_up", "Site checks up", "فحوص المواقع المتاحة"),
    ("improved", "Improved", "تحسّن"),
    ("declined", "Declined", "تراجع"),
    ("unchanged", "Unchanged", "ثابت"),
    ("after_feedback", "Improved after feedback", "تحسّن بعد الملاحظات"),
    ("threshold", "Threshold", "الحد"),
    ("history", "Six months", "ستة أشهر"),
    ("region", "Region", "المنطقة"),
    ("hours", "Opening hours", "ساعات العمل"),
    (
        "hours_ramadan",
        "Opening hours in Ramadan (Umm al-Qura calendar)",
        "ساعات العمل في رمضان (تقويم أم القرى)",
    ),
    ("numbers", "Numbers", "الأرقام"),
    ("sites", "Websites", "المواقع"),
    ("probe_now", "Probe now", "افحص الآن"),
    ("over_time", "Scores over six months", "الدرجات خلال ستة أشهر"),
    ("last_calls", "Last calls", "آخر المكالمات"),
    ("last_audits", "Last web audits", "آخر فحوص المواقع"),
    ("cases", "Open cases", "حالات المتابعة المفتوحة"),
    ("no_cases", "No open case.", "لا توجد حالة مفتوحة."),
    ("none", "None yet.", "لا شيء بعد."),
    ("time", "Time", "الوقت"),
    ("channel", "Channel", "المحور"),
    ("target", "Target", "الهدف"),
    ("number", "Number", "الرقم"),
    ("site", "Site", "الموقع"),
    ("outcome", "Outcome", "النتيجة"),
    ("answer_type", "Answer type", "نوع الرد"),
    ("timeline", "Timeline", "المسار الزمني"),
    ("recording", "Recording", "التسجيل"),
    ("evidence", "Evidence", "الأدلة"),
    (
        "evidence_expired",
        "deleted on {when} under the retention policy; the measurements and the score stay",
        "حُذفت في {when} وفق سياسة الاحتفاظ بالأدلة؛ القياسات والدرجة باقية",
    ),
    ("recordings", "The recording", "التسجيل الصوتي"),
    ("traces", "the SIP trace", "سجل SIP"),
    ("screenshots", "the screenshots", "لقطات الشاشة"),
    ("result", "Result", "نتيجة"),
    ("call_kind", "Call", "مكالمة"),
    ("web_kind", "Site check", "فحص موقع"),
    ("status", "HTTP status", "حالة HTTP"),
    ("load_s", "Loaded in", "مدة التحميل"),
    ("a11y", "Accessibility score", "درجة سهولة الوصول"),
    ("screenshot", "Screenshot", "لقطة الشاشة"),
    ("screenshot_of", "Screenshot of the page", "لقطة شاشة للصفحة"),
    ("violations", "Accessibility violations", "مخالفات سهولة الوصول"),
    ("opened", "Opened", "فُتحت"),
    ("due", "Due", "الاستحقاق"),
    ("score", "Score", "الدرجة"),
    ("detail", "Technical detail (English)", "تفاصيل تقنية (بالإنجليزية)"),
    ("sip_trace", "SIP trace", "سجل SIP"),
    ("show_trace", "The messages as exchanged", "الرسائل كما تُبودلت"),
    ("labels", "Labels", "التصنيفات اليدوية"),
    ("label_form", "Label this call", "صنّف هذه المكالمة"),
    ("reason", "What was heard", "ما سُمع"),
    ("time_to_person_field", "Seconds until a person spoke", "ثوانٍ حتى تحدث موظف"),
    ("save", "Save label", "احفظ التصنيف"),
    ("by", "By", "بواسطة"),
    ("all_data", "Everything stored", "كل ما خُزّن"),
    ("counts", "Counts", "يُحتسب"),
    ("counted", "Counted", "محتسبة"),
    ("not_counted", "Not counted", "غير محتسبة"),
    ("counted_web", "Counted", "محتسب"),
    ("not_counted_web", "Not counted", "غير محتسب"),
    ("how_scored", "How it scores", "كيف احتُسبت"),
    ("component", "Part of the score", "عنصر الدرجة"),
    ("points", "Points", "النقاط"),
    ("not_measured", "not measured: left out, the rest rescaled", "لم يُقَس: استُبعد وأعيد توزيع الباقي"),
    ("call_score", "Call score", "درجة المكالمة"),
    ("capped", "No person reached: the call's score is capped at", "لم يُوصل إلى موظف: سقف درجة المكالمة"),
    ("person_from", "Whether a person answered was decided by", "حُدّد الوصول إلى موظف من خلال"),
    ("why_score", "Why the score is what it is", "لماذا هذه الدرجة"),
    ("no_score", "No score", "بلا درجة"),
    ("no_phone_score", "No phone score this period", "لا توجد درجة للهاتف في هذه الفترة"),
    ("no_web_score", "No website score this period", "لا توجد درجة للموقع في هذه الفترة"),
    ("this_period", "This period", "هذه الفترة"),
    ("before", "Period before", "الفترة السابقة"),
    ("change", "Change", "التغيّر"),
    ("moved", "What moved the score", "ما الذي حرّك الدرجة"),
    ("cost_most", "Cost it most", "أكثر ما خفض الدرجة"),
    ("availability", "Checks up", "الفحوص المتاحة"),
    ("performance", "Speed (largest paint)", "السرعة"),
    ("accessibility", "Accessibility", "سهولة الوصول"),
    ("inherited", "No site of its own: the agency's sites' score", "لا موقع خاص به: درجة مواقع الجهة"),
    ("arabic_checks", "Arabic service checks", "فحوص الخدمة العربية"),
    ("lang_ok", "Page language declared correctly", "لغة الصفحة معلنة بشكل صحيح"),
    ("rtl_ok", "Right-to-left direction on Arabic pages", "اتجاه من اليمين إلى اليسار في الصفحات العربية"),
    ("language_switch", "Link to the other language", "رابط إلى اللغة الأخرى"),
    ("accessibility_statement", "Accessibility statement", "بيان إمكانية الوصول"),
    ("phone_matches", "Published numbers match the registry", "الأرقام المنشورة تطابق السجل"),
    ("hours_published", "Opening hours published", "ساعات العمل منشورة"),
    ("charset_ok", "Arabic text readable (character encoding right)", "النص العربي مقروء (ترميز الأحرف صحيح)"),
    ("yes", "yes", "نعم"),
    ("no", "no", "لا"),
    ("timings", "Timings", "التوقيتات"),
    ("browser", "In the browser", "في المتصفح"),
    ("http_check", "Availability check", "فحص الإتاحة"),
    ("hung_up", "Ended by", "أنهى المكالمة"),
    ("not_found", "Page not found", "الصفحة غير موجودة"),
    ("no_centre", "There is no centre with this id", "لا يوجد مركز بهذا المعرّف"),
    ("no_result", "There is no result with this number", "لا توجد نتيجة بهذا الرقم"),
    ("no_page", "There is no page at this address.", "لا توجد صفحة بهذا العنوان."),
    ("bad_request", "The request cannot be read", "تعذّرت قراءة الطلب"),
    ("bad_period", "is not a period. Write a month as 2026-11, a quarter as 2026-Q4, a year as 2026, a week as 2026-W47, or dates as 2026-11-01..2026-11-15.", "ليست فترة صالحة. اكتب الشهر هكذا 2026-11، والربع 2026-Q4، والسنة 2026، والأسبوع 2026-W47، أو تاريخين هكذا 2026-11-01..2026-11-15."),
    ("server_error", "raqib could not show this page", "تعذّر على رقيب عرض هذه الصفحة"),
    ("server_error_text", "Something failed on raqib's side; the detail below is for the unit's engineers.", "حدث خلل لدى رقيب؛ التفاصيل أدناه لمهندسي الوحدة."),
    ("back", "Back to the overview", "العودة إلى النظرة العامة"),
    ("probe_failed", "The probe could not run", "تعذّر تشغيل الفحص"),
    ("refused_title", "Not allowed", "غير مسموح"),
    ("stale_form", "The form is stale: reload the page and try again.", "انتهت صلاحية النموذج: أعد تحميل الصفحة وحاول مرة أخرى."),
    ("auditor_needed", "Only an auditor may do this.", "هذا الإجراء للمدققين فقط."),
    ("nothing_probed", "Nothing was probed.", "لم يُفحص شيء."),
    ("not_seconds", "is not a number of seconds.", "ليس عددًا من الثواني."),
    ("statement", "Accessibility statement", "بيان إمكانية الوصول"),
    ("skip", "Skip to the content", "انتقل إلى المحتوى"),
    ("against", "against", "مقارنة بـ"),
    ("no_change_data", "no figure for the period before", "لا رقم للفترة السابقة"),
    ("points_unit", "points", "نقطة"),
    ("seconds_unit", "s", "ث"),
    ("pct_points", "percentage points", "نقطة مئوية"),
    ("next_step", "What happens next", "الخطوة التالية"),
    ("review", "Calls to review", "مكالمات للمراجعة"),
    (
        "review_intro",
        "raqib could not tell with enough confidence what answered these calls. They do not count as reaching a person until an auditor listens to the recording and labels the call.",
        "لم يتمكن رقيب من تحديد من أجاب على هذه المكالمات بثقة كافية. لا تُحتسب وصولاً إلى موظف حتى يستمع مدقق إلى التسجيل ويصنّف المكالمة.",
    ),
    ("review_none", "No call is waiting for an auditor.", "لا توجد مكالمة بانتظار مدقق."),
    (
        "review_more",
        "The 200 newest calls are shown; label them to see older ones, or list all with raqib results --needs-review.",
        "تُعرض أحدث 200 مكالمة؛ صنّفها لتظهر المكالمات الأقدم، أو اعرضها كلها بالأمر raqib results --needs-review.",
    ),
    ("guess", "raqib's guess", "تخمين رقيب"),
    ("confidence", "Confidence", "درجة الثقة"),
    ("action", "Action", "الإجراء"),
    ("listen_and_label", "Listen and label", "استمع وصنّف"),
    ("person_spoke", "A person spoke after", "تحدث موظف بعد"),
    ("q850", "The network's reason (Q.850)", "سبب الشبكة (Q.850)"),
    ("q850_cause", "cause", "السبب رقم"),
    ("q850_in_final", "given when the call was refused", "ورد مع رفض المكالمة"),
    ("q850_in_bye", "given when the far end hung up", "ورد عند إنهاء الطرف الآخر للمكالمة"),
    ("sit", "Special information tones", "نغمات المعلومات الخاصة"),
    ("sit_early", "heard before any answer", "سُمعت قبل الرد"),
    ("sit_after_answer", "heard after the answer", "سُمعت بعد الرد"),
    ("sit_at", "{s} after dialling", "بعد {s} من بدء الاتصال"),
    ("voice_quality_row", "Voice quality", "جودة الصوت"),
    ("ms_unit", "ms", "مللي ثانية"),
    ("rtt_rtcp", "round trip {ms}, measured by RTCP", "زمن الذهاب والإياب {ms}، مقيس عبر RTCP"),
    (
        "rtt_xr",
        "round trip {ms}, reported by the far end (RTCP-XR)",
        "زمن الذهاب والإياب {ms}، كما أبلغ عنه الطرف الآخر (RTCP-XR)",
    ),
    (
        "delay_assumed",
        "no RTCP report: a delay of {ms} assumed",
        "لا تقارير RTCP: افتُرض تأخير قدره {ms}",
    ),
    ("link", "Connection", "الاتصال"),
    (
        "link_tls_srtp",
        "Encrypted: signalling over TLS, voice over SRTP",
        "مشفّر: الإشارات عبر TLS والصوت عبر SRTP",
    ),
    (
        "link_tls",
        "Signalling encrypted over TLS; voice not encrypted",
        "الإشارات مشفّرة عبر TLS؛ الصوت غير مشفّر",
    ),
    ("link_udp", "Not encrypted (UDP)", "غير مشفّر (UDP)"),
    ("link_tcp", "Not encrypted (TCP)", "غير مشفّر (TCP)"),
];

/// The dashboard's word for `key` (a channel's name for a channel).
pub(crate) fn w(lang: Lang, key: &str) -> &'static str {
    if let Some(c) = Channel::parse(key) {
        return match lang {
            Lang::En => c.en(),
            Lang::Ar => c.ar_label(),
        };
    }
    let (_, en, ar) = WORDS
        .iter()
        .find(|(k, _, _)| *k == key)
        .copied()
        .unwrap_or(("", "?", "?"));
    match lang {
        Lang::En => en,
        Lang::Ar => ar,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_has_words_in_both_languages_and_arabic_agrees_with_the_shared_table() {
        let arabic = |s: &str| s.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c));
        for (code, en, ar) in TERMS {
            assert!(!en.contains('_'), "{code}: {en}");
            assert!(arabic(ar), "{code}: {ar}");
            let shared = crate::arabic::term(code);
            if shared != *code {
                assert_eq!(shared, *ar, "{code}");
            }
        }
        assert_eq!(term(Lang::Ar, "up"), "متاح");
        assert_eq!(term(Lang::En, "no_answer"), "no answer");
        assert_eq!(term(Lang::En, "never_stored"), "unknown");
    }

    #[test]
    fn times_in_the_centre_zone_named_without_seconds() {
        let tz: chrono_tz::Tz = "Asia/Amman".parse().unwrap();
        let ar = when(Lang::Ar, "2026-11-22T12:21:43.150Z", tz);
        assert!(ar.contains("22 نوفمبر 2026، "), "{ar}");
        assert!(ar.contains("15:21</bdi> توقيت عمّان"), "{ar}");
        let en = when(Lang::En, "2026-11-22T12:21:43.150Z", tz);
        assert!(en.contains("22 November 2026, ") && en.contains("15:21</bdi> Amman time"));
        assert!(!en.contains(":43") && !en.contains('Z'));
        let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(zone_words(Lang::En, paris), "Paris time");
    }

    #[test]
    fn opening_hours_in_words() {
        let h: crate::registry::OpeningHours =
            "Sun-Thu 08:00-15:00; Sat-Mon 10:00-24:00".parse().unwrap();
        let en = hours_words(Lang::En, &h);
        assert!(en.starts_with("Sunday to Thursday, <bdi"), "{en}");
        assert!(
            en.contains(">08:00–15:00</bdi>; Saturday to Monday, "),
            "{en}"
        );
        assert!(en.ends_with(">10:00–24:00</bdi>"), "{en}");
        let ar = hours_words(Lang::Ar, &h);
        assert!(ar.starts_with("من الأحد إلى الخميس، <bdi"), "{ar}");
        assert!(ar.contains("؛ من السبت إلى الاثنين"), "{ar}");
        let every: crate::registry::OpeningHours = "Sun-Sat 00:00-24:00".parse().unwrap();
        assert!(hours_words(Lang::Ar, &every).starts_with("كل يوم، "));
    }

    #[test]
    fn periods_in_words() {
        let p = Period::parse("2026-11").unwrap();
        assert_eq!(period_words(Lang::Ar, &p), "نوفمبر 2026");
        assert_eq!(period_words(Lang::En, &p), "November 2026");
        let q = Period::parse("2026-Q4").unwrap();
        assert_eq!(period_words(Lang::Ar, &q), "الربع الرابع 2026");
    }
}
