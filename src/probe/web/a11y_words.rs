//! Accessibility findings in words a site's owner can act on, in Arabic and English: a plain
//! sentence per axe rule and the WCAG criterion's name, from `probes/web/a11y_locale.json`
//! (axe ships no Arabic locale, so raqib keeps its own beside the pinned axe-core). The
//! report, the CLI and the dashboard describe a stored [`Violation`] through [`finding`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::a11y::Violation;

const LOCALE_JSON: &str = include_str!("../../../probes/web/a11y_locale.json");

/// Longest HTML snippet kept per violation, in characters.
pub const SNIPPET_CHARS: usize = 240;

#[derive(Debug, Deserialize)]
pub struct Words {
    pub en: String,
    pub ar: String,
}

impl Words {
    pub fn get(&self, arabic: bool) -> &str {
        if arabic {
            &self.ar
        } else {
            &self.en
        }
    }
}

/// The locale file as parsed.
#[derive(Debug, Deserialize)]
pub struct Locale {
    /// The axe-core version the sentences were written for.
    pub axe_core: String,
    /// WCAG success criterion (`1.1.1`) → its name.
    pub criteria: BTreeMap<String, Words>,
    /// axe rule id → a plain sentence on what is wrong and whom it stops.
    pub rules: BTreeMap<String, Words>,
}

/// The locale compiled into raqib; a file that does not parse fails every test that reads it.
pub fn locale() -> &'static Locale {
    static LOCALE: OnceLock<Locale> = OnceLock::new();
    LOCALE.get_or_init(|| serde_json::from_str(LOCALE_JSON).expect("a11y_locale.json parses"))
}

/// One violation, said in one language.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// What is wrong, in a sentence (axe's own English help for a rule the locale lacks).
    pub description: String,
    /// `1.1.1 Non-text Content`; "best practice" when axe ties the rule to no criterion.
    pub criteria: Vec<String>,
    pub impact: String,
    pub rule: String,
    pub elements: u64,
    pub selector: Option<String>,
    pub snippet: Option<String>,
    pub page: Option<String>,
    /// Pages of the site that share it.
    pub pages: u64,
}

/// axe's impact in words.
pub fn impact_word(impact: &str, arabic: bool) -> &str {
    match (impact, arabic) {
        ("critical", false) => "critical",
        ("critical", true) => "حرج",
        ("serious", false) => "serious",
        ("serious", true) => "جسيم",
        ("moderate", false) => "moderate",
        ("moderate", true) => "متوسط الأثر",
        ("minor", false) => "minor",
        ("minor", true) => "طفيف",
        (_, false) => "unrated",
        (_, true) => "غير مصنّف",
    }
}

/// `1.1.1 Non-text Content` / `1.1.1 المحتوى غير النصي`; the bare number for a criterion the
/// locale lacks.
pub fn criterion(c: &str, arabic: bool) -> String {
    match locale().criteria.get(c) {
        Some(w) => format!("{c} {}", w.get(arabic)),
        None => c.to_string(),
    }
}

/// `s` cut to `max` characters (on a character boundary), with an ellipsis when cut.
pub fn bounded(s: &str, max: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

pub fn finding(v: &Violation, arabic: bool) -> Finding {
    let l = locale();
    let criteria = if v.wcag.is_empty() {
        vec![if arabic {
            "ممارسة فضلى (لا معيار WCAG)".to_string()
        } else {
            "best practice (no WCAG criterion)".to_string()
        }]
    } else {
        v.wcag.iter().map(|c| criterion(c, arabic)).collect()
    };
    Finding {
        description: l
            .rules
            .get(&v.id)
            .map_or_else(|| v.help.clone(), |w| w.get(arabic).to_string()),
        criteria,
        impact: impact_word(&v.impact, arabic).to_string(),
        rule: v.id.clone(),
        elements: v.nodes,
        selector: v.selector.as_deref().map(|s| bounded(s, SNIPPET_CHARS)),
        snippet: v.html.as_deref().map(|s| bounded(s, SNIPPET_CHARS)),
        page: v.page.clone(),
        pages: v.pages,
    }
}

/// One measured element of `arabic-color-contrast`, in words: "contrast 2.1:1 where 4.5:1 is
/// needed · text #999999 on #ffffff · 16 px, weight 400".
pub fn contrast_line(n: &super::a11y::ContrastNode, arabic: bool) -> String {
    let ratio = |r: f64| format!("{}:1", (r * 100.0).round() / 100.0);
    let size = (n.font_size * 10.0).round() / 10.0;
    let why = n.reason.as_deref().map(|r| review_reason(r, arabic));
    let mut line = match (arabic, why) {
        (false, None) => format!(
            "contrast {} where {} is needed",
            ratio(n.ratio),
            ratio(n.expected)
        ),
        (true, None) => format!("التباين {} والمطلوب {}", ratio(n.ratio), ratio(n.expected)),
        (false, Some(w)) => format!(
            "to review: {w} (measured over the colours alone {})",
            ratio(n.ratio)
        ),
        (true, Some(w)) => format!("للمراجعة: {w} (القياس على الألوان وحدها {})", ratio(n.ratio)),
    };
    if arabic {
        line += &format!(
            " · النص {} على {} · {size} px بوزن {}{}",
            n.fg,
            n.bg,
            n.font_weight,
            if n.large { "، نص كبير" } else { "" }
        );
    } else {
        line += &format!(
            " · text {} on {} · {size} px, weight {}{}",
            n.fg,
            n.bg,
            n.font_weight,
            if n.large { ", large text" } else { "" }
        );
    }
    line
}

/// Why raqib left an element's contrast to a person.
pub fn review_reason(reason: &str, arabic: bool) -> &'static str {
    match (reason, arabic) {
        ("image", false) => "an image behind the text",
        ("image", true) => "صورة خلف النص",
        ("gradient", false) => "a colour gradient behind the text",
        ("gradient", true) => "تدرّج لوني خلف النص",
        (_, false) => "another element lies over or under the text",
        (_, true) => "عنصر آخر فوق النص أو تحته",
    }
}

/// The page's character encoding in words, when its text is garbled.
pub fn charset_words(charset: &str, declared: Option<bool>, arabic: bool) -> String {
    match (declared, arabic) {
        (Some(false), false) => format!(
            "the page declares no character encoding and the browser read it as {charset}: its Arabic shows as garbled symbols"
        ),
        (Some(false), true) => format!(
            "الصفحة لا تعلن ترميز أحرفها فقرأها المتصفح بترميز {charset}: يظهر نصها العربي رموزًا مشوّهة"
        ),
        (_, false) => format!(
            "the browser read the page as {charset} and its Arabic shows as garbled symbols: the declared encoding is wrong"
        ),
        (_, true) => format!(
            "قرأ المتصفح الصفحة بترميز {charset} فظهر نصها العربي رموزًا مشوّهة: الترميز المعلن خاطئ"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_alt() -> Violation {
        Violation {
            id: "image-alt".into(),
            impact: "critical".into(),
            wcag: vec!["1.1.1".into()],
            nodes: 2,
            selector: Some("img".into()),
            help: "Images must have alternative text".into(),
            pages: 2,
            html: Some("<img src=\"a.png\">".into()),
            page: Some("http://127.0.0.1/a11y/x/".into()),
            contrast: vec![],
        }
    }

    #[test]
    fn a_violation_in_both_languages() {
        let en = finding(&image_alt(), false);
        assert_eq!(en.criteria, ["1.1.1 Non-text Content"]);
        assert!(en.description.contains("no text alternative"), "{en:?}");
        assert_eq!((en.impact.as_str(), en.pages), ("critical", 2));
        let ar = finding(&image_alt(), true);
        assert_eq!(ar.criteria, ["1.1.1 المحتوى غير النصي"]);
        assert!(ar.description.contains("نص بديل"), "{ar:?}");
        assert_eq!(ar.impact, "حرج");
        // Arabic sentences use the Arabic comma.
        for w in locale().rules.values().chain(locale().criteria.values()) {
            assert!(!w.ar.contains(", "), "Latin comma in {:?}", w.ar);
        }
    }

    #[test]
    fn arabic_contrast_in_both_languages() {
        let mut v = image_alt();
        v.id = super::super::a11y::ARABIC_CONTRAST.into();
        v.wcag = vec!["1.4.3".into()];
        let en = finding(&v, false);
        let ar = finding(&v, true);
        assert!(en.description.contains("Arabic text"), "{en:?}");
        assert!(ar.description.contains("النص العربي"), "{ar:?}");
        assert_eq!(ar.criteria, ["1.4.3 التباين (الحد الأدنى)"]);
        let n = super::super::a11y::ContrastNode {
            selector: "#p".into(),
            html: "<p id=\"p\">نص".into(),
            ratio: 2.32,
            expected: 4.5,
            fg: "#aaaaaa".into(),
            bg: "#ffffff".into(),
            font_size: 16.0,
            font_weight: 400,
            large: false,
            reason: None,
        };
        assert_eq!(
            contrast_line(&n, false),
            "contrast 2.32:1 where 4.5:1 is needed · text #aaaaaa on #ffffff · 16 px, weight 400"
        );
        assert_eq!(
            contrast_line(&n, true),
            "التباين 2.32:1 والمطلوب 4.5:1 · النص #aaaaaa على #ffffff · 16 px بوزن 400"
        );
        let review = super::super::a11y::ContrastNode {
            reason: Some("gradient".into()),
            ..n
        };
        assert!(contrast_line(&review, true).contains("تدرّج لوني"));
        assert!(!charset_words("windows-1252", Some(false), true).contains(", "));
    }

    #[test]
    fn unknown_rules_fall_back_and_snippets_are_bounded() {
        let mut v = image_alt();
        v.id = "not-a-rule".into();
        v.wcag.clear();
        v.html = Some("x".repeat(1000));
        let f = finding(&v, false);
        assert_eq!(f.description, "Images must have alternative text");
        assert_eq!(f.criteria, ["best practice (no WCAG criterion)"]);
        let snippet = f.snippet.unwrap();
        assert_eq!(snippet.chars().count(), SNIPPET_CHARS + 1);
        assert!(snippet.ends_with('…'));
        assert_eq!(bounded("عربي", 2), "عر…");
    }
}
