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
