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
        "silence" => "صمت",
        "open" => "مفتوحة",
        "overdue" => "متأخرة",
        "closed" => "مغلقة",
        other => other,
    }
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
