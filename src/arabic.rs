//! Arabic for raqib's fixed English terms (flag classes, bands, trends, lists, channels, call
//! outcomes), one table for alerts and reports so a term reads the same everywhere.

/// The Arabic for `term`, or `term` itself when it has none.
pub fn term(term: &str) -> &str {
    if let Some(c) = crate::probe::Channel::parse(term) {
        return c.ar();
    }
    match term {
        "confirmed" => "مؤكد",
        "provisional" => "مبدئي",
        "critical" => "حرج",
        "insufficient_data" => "بيانات غير كافية",
        "clear" => "سليم",
        "excellent" => "ممتاز",
        "medium" => "متوسط",
        "weak" => "ضعيف",
        "improved" => "تحسّن",
        "declined" => "تراجع",
        "unchanged" => "ثابت",
        "gold" => "ذهبية",
        "silver" => "فضية",
        "answered" => "تم الرد",
        "busy" => "مشغول",
        "no_answer" => "لم يُرد",
        "rejected" => "مرفوض",
        "not_in_service" => "الرقم خارج الخدمة",
        "unreachable" => "تعذّر الوصول",
        "failed" => "فشل الاتصال",
        "refused" => "رفضه حارس الاتصال",
        "error" => "خطأ في رقيب",
        "unknown" => "غير معروف",
        "up" => "متاح",
        "degraded" => "متاح ببطء",
        "down" => "متوقف",
        "human" => "موظف",
        "ivr" => "رد آلي تفاعلي",
        "voicemail" => "بريد صوتي",
        "announcement" => "رسالة مسجلة",
        "music" => "موسيقى انتظار",
        "tone" => "نغمة (رنين أو انشغال أو فاكس)",
        "silence" => "صمت",
        "open" => "مفتوحة",
        "overdue" => "متأخرة",
        "closed" => "مغلقة",
        other => other,
    }
}

/// A noun's forms after a number, as Arabic writes them (CLDR's plural categories), in the
/// case raqib's sentences put a count in (after a preposition: "في", "من", "على"): one and
/// two have their own words and take no digit ("مكالمة واحدة", "مكالمتين"), 3–10 the plural
/// ("5 مكالمات"), 11–99 the singular in the accusative ("12 فحصًا"), and 0 and whole hundreds
/// the singular ("100 فحص"); after a hundred the last two digits decide.
pub struct Counted {
    pub one: &'static str,
    pub two: &'static str,
    pub few: &'static str,
    pub many: &'static str,
    pub other: &'static str,
}

pub const CALLS: Counted = Counted {
    one: "مكالمة واحدة",
    two: "مكالمتين",
    few: "مكالمات",
    many: "مكالمة",
    other: "مكالمة",
};

pub const TEST_CALLS: Counted = Counted {
    one: "مكالمة اختبارية واحدة",
    two: "مكالمتين اختباريتين",
    few: "مكالمات اختبارية",
    many: "مكالمة اختبارية",
    other: "مكالمة اختبارية",
};

pub const VALID_CALLS: Counted = Counted {
    one: "مكالمة صالحة واحدة",
    two: "مكالمتين صالحتين",
    few: "مكالمات صالحة",
    many: "مكالمة صالحة",
    other: "مكالمة صالحة",
};

pub const VALID_CHECKS: Counted = Counted {
    one: "فحص صالح واحد",
    two: "فحصين صالحين",
    few: "فحوص صالحة",
    many: "فحصًا صالحًا",
    other: "فحص صالح",
};

pub const HOURS: Counted = Counted {
    one: "ساعة واحدة",
    two: "ساعتين",
    few: "ساعات",
    many: "ساعة",
    other: "ساعة",
};

/// `n` and `noun` in agreement; `shown` is how the number is written (isolated, say).
pub fn counted(n: u64, shown: &str, noun: &Counted) -> String {
    match n {
        1 => noun.one.to_string(),
        2 => noun.two.to_string(),
        _ => {
            let form = match n % 100 {
                3..=10 => noun.few,
                11..=99 => noun.many,
                _ => noun.other,
            };
            format!("{shown} {form}")
        }
    }
}

/// `n` and an English noun: "1 call", "12 calls".
pub fn counted_en(n: u64, shown: &str, one: &str, many: &str) -> String {
    format!("{shown} {}", if n == 1 { one } else { many })
}

/// The city of an IANA zone as a reader names it: "Amman time", "توقيت عمّان". A city without
/// an Arabic name here keeps its Latin name, isolated (U+2068…U+2069) so it keeps its order.
pub fn zone_name(tz: &str, ar: bool) -> String {
    let city = tz.rsplit('/').next().unwrap_or(tz).replace('_', " ");
    if !ar {
        return if city == "UTC" {
            city
        } else {
            format!("{city} time")
        };
    }
    let ar_city = match city.as_str() {
        "Amman" => "عمّان",
        "Riyadh" => "الرياض",
        "Dubai" => "دبي",
        "Qatar" => "الدوحة",
        "Bahrain" => "المنامة",
        "Kuwait" => "الكويت",
        "Muscat" => "مسقط",
        "Cairo" => "القاهرة",
        "Casablanca" => "الدار البيضاء",
        "Baghdad" => "بغداد",
        "Beirut" => "بيروت",
        "Damascus" => "دمشق",
        "Tunis" => "تونس",
        "Algiers" => "الجزائر",
        "Khartoum" => "الخرطوم",
        "Tripoli" => "طرابلس",
        "Aden" => "عدن",
        "Gaza" | "Hebron" => "فلسطين",
        "UTC" => "التوقيت العالمي المنسّق",
        _ => return format!("توقيت \u{2068}{city}\u{2069}"),
    };
    if city == "UTC" {
        return ar_city.to_string();
    }
    format!("توقيت {ar_city}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_noun_agrees_with_its_number() {
        let c = |n: u64| counted(n, &n.to_string(), &VALID_CHECKS);
        assert_eq!(c(1), "فحص صالح واحد");
        assert_eq!(c(2), "فحصين صالحين");
        assert_eq!(c(3), "3 فحوص صالحة");
        assert_eq!(c(10), "10 فحوص صالحة");
        assert_eq!(c(11), "11 فحصًا صالحًا");
        assert_eq!(c(99), "99 فحصًا صالحًا");
        assert_eq!(c(100), "100 فحص صالح");
        assert_eq!(c(0), "0 فحص صالح");
        assert_eq!(c(103), "103 فحوص صالحة");
        assert_eq!(c(112), "112 فحصًا صالحًا");
        assert_eq!(counted(1, "1", &CALLS), "مكالمة واحدة");
        assert_eq!(counted_en(1, "1", "call", "calls"), "1 call");
        assert_eq!(counted_en(0, "0", "call", "calls"), "0 calls");
    }
}
