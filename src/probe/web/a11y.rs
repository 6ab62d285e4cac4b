//! What the browser audit judges: axe-core's findings, the Arabic service checks, and the
//! accessibility score of SCORING.md §3 (Lighthouse's weighting: critical 10, serious 7,
//! moderate 3, minor 1; each Arabic check one rule of weight 3). Labelled "automated": a
//! score, never a conformance claim.

use serde::{Deserialize, Serialize};

/// Weight of an axe impact.
pub fn weight(impact: &str) -> f64 {
    match impact {
        "critical" => 10.0,
        "serious" => 7.0,
        "moderate" => 3.0,
        "minor" => 1.0,
        _ => 3.0,
    }
}

/// Weight of each Arabic service check inside the accessibility score.
pub const ARABIC_CHECK_WEIGHT: f64 = 3.0;

/// raqib's own rule for the contrast of Arabic text, beside axe's `color-contrast` (which
/// takes cursive Arabic for icon ligatures and skips it).
pub const ARABIC_CONTRAST: &str = "arabic-color-contrast";
/// Its impact: that of axe's `color-contrast`, so it weighs the same in the score.
pub const ARABIC_CONTRAST_IMPACT: &str = "serious";

/// A rule a page (or a site) fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    /// WCAG success criteria, e.g. `1.1.1`.
    pub wcag: Vec<String>,
    /// Elements that fail it (summed over pages for a site).
    pub nodes: u64,
    /// The first failing element's selector, to find it.
    pub selector: Option<String>,
    /// The first failing element's HTML, at most `a11y_words::SNIPPET_CHARS` characters.
    #[serde(default)]
    pub html: Option<String>,
    pub help: String,
    /// Pages of the site that fail it.
    #[serde(default = "one")]
    pub pages: u64,
    /// The first page (of a site's) where it occurs.
    #[serde(default)]
    pub page: Option<String>,
    /// For `arabic-color-contrast`: the failing elements as measured (at most 50 per page).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contrast: Vec<ContrastNode>,
}

/// One element holding Arabic text, as `probes/web/arabic_contrast.js` measured it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContrastNode {
    /// A CSS selector that finds the element.
    pub selector: String,
    /// The element's opening tag and the start of its text.
    pub html: String,
    /// The measured contrast ratio (WCAG 2.x), to two decimals.
    pub ratio: f64,
    /// What WCAG 1.4.3 asks of it: 4.5, or 3 for large text.
    pub expected: f64,
    /// The text colour and the background as painted (alpha and opacity composited), `#rrggbb`.
    pub fg: String,
    pub bg: String,
    /// Font size in CSS pixels and weight.
    pub font_size: f64,
    pub font_weight: u32,
    /// Large text: ≥ 24 px, or ≥ 18.66 px and bold.
    pub large: bool,
    /// Why a person must judge it instead: `image` or `gradient` behind the text, or
    /// `overlap` (an element that is not an ancestor lies over or under it).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What `probes/web/arabic_contrast.js` returns for a page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ArabicContrastRun {
    /// Visible elements with Arabic text measured.
    pub checked: u64,
    /// Of them, below their threshold.
    pub failed: u64,
    /// Of them, whose background raqib cannot determine.
    pub to_review: u64,
    /// Elements left to axe's own `color-contrast`, which reported them.
    #[serde(default)]
    pub by_axe: u64,
    pub violations: Vec<ContrastNode>,
    pub review: Vec<ContrastNode>,
}

fn one() -> u64 {
    1
}

/// axe's raw findings on one page, as `probes/web/axe_run.js` returns them.
#[derive(Debug, Clone, Deserialize)]
pub struct AxeRun {
    pub version: String,
    pub violations: Vec<AxeViolation>,
    pub passes: Vec<AxePass>,
    pub incomplete: Vec<AxeIncomplete>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AxeViolation {
    pub id: String,
    pub impact: String,
    pub tags: Vec<String>,
    pub nodes: u64,
    pub selector: Option<String>,
    #[serde(default)]
    pub html: Option<String>,
    pub help: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AxePass {
    pub id: String,
    pub impact: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AxeIncomplete {
    pub id: String,
    pub nodes: u64,
}

/// WCAG success criteria from axe tags: `wcag111` → `1.1.1`, `wcag1412` → `1.4.12`; level
/// tags such as `wcag2aa` are not criteria.
pub fn wcag_criteria(tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter_map(|t| {
            let d = t.strip_prefix("wcag")?;
            if d.len() < 3 || !d.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(format!("{}.{}.{}", &d[..1], &d[1..2], &d[2..]))
        })
        .collect()
}

/// One page's accessibility, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PageA11y {
    pub violations: Vec<Violation>,
    /// Rules axe could not decide ("incomplete"): for a person to review, never violations.
    pub needs_review: u64,
    pub needs_review_rules: Vec<String>,
    pub passed_rules: u64,
    pub score: f64,
    #[serde(skip)]
    pub passes: Vec<(String, String)>,
    /// Arabic text whose contrast a person must judge (background an image, a gradient, or
    /// not an ancestor), at most 50.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contrast_review: Vec<ContrastNode>,
}

impl PageA11y {
    pub fn from_axe(run: &AxeRun) -> PageA11y {
        PageA11y {
            violations: run
                .violations
                .iter()
                .map(|v| Violation {
                    id: v.id.clone(),
                    impact: v.impact.clone(),
                    wcag: wcag_criteria(&v.tags),
                    nodes: v.nodes,
                    selector: v.selector.clone(),
                    html: v
                        .html
                        .as_deref()
                        .map(|h| super::a11y_words::bounded(h, super::a11y_words::SNIPPET_CHARS)),
                    help: v.help.clone(),
                    pages: 1,
                    page: None,
                    contrast: Vec::new(),
                })
                .collect(),
            needs_review: run.incomplete.len() as u64,
            needs_review_rules: run.incomplete.iter().map(|i| i.id.clone()).collect(),
            passed_rules: run.passes.len() as u64,
            score: 0.0,
            passes: run
                .passes
                .iter()
                .map(|p| (p.id.clone(), p.impact.clone()))
                .collect(),
            contrast_review: Vec::new(),
        }
    }

    /// Adds raqib's Arabic contrast rule, shaped as axe's: a violation when any measured
    /// element fails, a passed rule when elements were measured and none failed, needs-review
    /// for those it could not measure. A page without visible Arabic text does not apply it.
    pub fn add_arabic_contrast(&mut self, run: &ArabicContrastRun) {
        if run.failed > 0 {
            let first = run.violations.first();
            self.violations.push(Violation {
                id: ARABIC_CONTRAST.into(),
                impact: ARABIC_CONTRAST_IMPACT.into(),
                wcag: vec!["1.4.3".into()],
                nodes: run.failed,
                selector: first.map(|n| n.selector.clone()),
                html: first
                    .map(|n| super::a11y_words::bounded(&n.html, super::a11y_words::SNIPPET_CHARS)),
                help: "Arabic text must have sufficient colour contrast (raqib's own check; \
                       axe-core skips Arabic)"
                    .into(),
                pages: 1,
                page: None,
                contrast: run.violations.clone(),
            });
        } else if run.checked > run.to_review {
            self.passes
                .push((ARABIC_CONTRAST.into(), ARABIC_CONTRAST_IMPACT.into()));
            self.passed_rules += 1;
        }
        if run.to_review > 0 {
            self.needs_review += 1;
            self.needs_review_rules.push(ARABIC_CONTRAST.into());
            self.contrast_review = run.review.clone();
        }
    }

    /// `100 · Σ weight(passed) / Σ weight(applicable)` over axe's decided rules and the
    /// applicable Arabic checks; a page with nothing applicable scores 100.
    pub fn compute_score(&mut self, checks: &[Option<bool>]) {
        let mut passed: f64 = self.passes.iter().map(|(_, i)| weight(i)).sum();
        let mut applicable = passed
            + self
                .violations
                .iter()
                .map(|v| weight(&v.impact))
                .sum::<f64>();
        for c in checks.iter().flatten() {
            applicable += ARABIC_CHECK_WEIGHT;
            if *c {
                passed += ARABIC_CHECK_WEIGHT;
            }
        }
        self.score = if applicable == 0.0 {
            100.0
        } else {
            round1(100.0 * passed / applicable)
        };
    }
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A site's accessibility: the union of its pages' violations and the mean of their scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SiteA11y {
    /// `axe-core X.Y.Z`.
    pub engine: String,
    pub violations: Vec<Violation>,
    pub needs_review: u64,
    /// 0–100, automated.
    pub score: f64,
    /// Pages whose audit produced a score.
    pub pages: u64,
}

impl SiteA11y {
    /// `pages` are `(url, audit)` pairs, the home page first.
    pub fn combine(engine: &str, pages: &[(&str, &PageA11y)]) -> Option<SiteA11y> {
        if pages.is_empty() {
            return None;
        }
        let mut violations: Vec<Violation> = Vec::new();
        let mut needs_review: Vec<String> = Vec::new();
        for (url, p) in pages {
            for v in &p.violations {
                match violations.iter_mut().find(|x| x.id == v.id) {
                    Some(x) => {
                        x.nodes += v.nodes;
                        x.pages += 1;
                    }
                    None => violations.push(Violation {
                        page: Some(url.to_string()),
                        ..v.clone()
                    }),
                }
            }
            for r in &p.needs_review_rules {
                if !needs_review.contains(r) {
                    needs_review.push(r.clone());
                }
            }
        }
        // Worst first: impact, then how many elements fail.
        violations.sort_by(|a, b| {
            weight(&b.impact)
                .total_cmp(&weight(&a.impact))
                .then(b.nodes.cmp(&a.nodes))
                .then(a.id.cmp(&b.id))
        });
        let score = pages.iter().map(|(_, p)| p.score).sum::<f64>() / pages.len() as f64;
        Some(SiteA11y {
            engine: format!("axe-core {engine}"),
            violations,
            needs_review: needs_review.len() as u64,
            score: round1(score),
            pages: pages.len() as u64,
        })
    }
}

/// One page's Arabic service checks, as `probes/web/arabic_checks.js` returns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PageArabic {
    /// `arabic`, `latin` or `none`: the script of most of the page's letters.
    pub script: String,
    pub lang: String,
    pub lang_ok: bool,
    pub rtl_ok: bool,
    pub language_switch: bool,
    pub accessibility_statement: bool,
    /// Phone numbers the page publishes (digits, a leading `+` kept).
    pub phones: Vec<String>,
    pub hours_published: bool,
    /// The text reads as written: false when it shows UTF-8 Arabic decoded with a single-byte
    /// charset ("Ø§Ù„…") or many U+FFFD marks. Then every check above that reads the page's
    /// words is false too. True in results stored before raqib looked.
    #[serde(default = "yes")]
    pub charset_ok: bool,
    /// The encoding Chromium decoded the page with (`document.characterSet`).
    #[serde(default)]
    pub charset: String,
    /// Whether the page declares its encoding: a charset in its Content-Type, a meta charset,
    /// or a byte-order mark. `null` in results stored before raqib looked.
    #[serde(default)]
    pub charset_declared: Option<bool>,
    /// A garbled word as the page shows it, for a person to see the fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mojibake_sample: Option<String>,
}

fn yes() -> bool {
    true
}

impl PageArabic {
    /// Adds what the HTTP response said to what the page declares: the Content-Type's
    /// charset, or a byte-order mark (Chromium reads a page over HTTP as UTF-8 or UTF-16
    /// undeclared only when a BOM says so).
    pub fn declared_by(&mut self, content_type: Option<&str>) {
        let in_header = content_type.is_some_and(|c| c.to_ascii_lowercase().contains("charset="));
        let meta = self.charset_declared.unwrap_or(false);
        let bom = self.charset.to_ascii_lowercase().starts_with("utf-");
        self.charset_declared = Some(in_header || meta || bom);
    }
}

/// A site's Arabic service checks: language and direction must hold on every page; the rest
/// holds when any audited page has it (a citizen finds the statement from any page's footer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SiteArabic {
    pub lang_ok: bool,
    pub rtl_ok: bool,
    pub language_switch: bool,
    pub accessibility_statement: bool,
    /// Every registry number of the centre is published; `null` when there is none to match.
    pub phone_matches: Option<bool>,
    pub hours_published: bool,
    /// Registry numbers no audited page publishes.
    pub phones_missing: Vec<String>,
    /// Every audited page's text reads as written (no mojibake).
    #[serde(default = "yes")]
    pub charset_ok: bool,
    /// Pages whose text is garbled by a wrong or missing charset (filled by the audit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charset_pages: Vec<String>,
}

impl SiteArabic {
    pub fn combine(pages: &[&PageArabic], registry: &[String]) -> Option<SiteArabic> {
        if pages.is_empty() {
            return None;
        }
        let published: Vec<&String> = pages.iter().flat_map(|p| &p.phones).collect();
        let missing: Vec<String> = registry
            .iter()
            .filter(|r| !published.iter().any(|p| phone_matches(r, p)))
            .cloned()
            .collect();
        Some(SiteArabic {
            lang_ok: pages.iter().all(|p| p.lang_ok),
            rtl_ok: pages.iter().all(|p| p.rtl_ok),
            language_switch: pages.iter().any(|p| p.language_switch),
            accessibility_statement: pages.iter().any(|p| p.accessibility_statement),
            phone_matches: (!registry.is_empty()).then_some(missing.is_empty()),
            hours_published: pages.iter().any(|p| p.hours_published),
            phones_missing: missing,
            charset_ok: pages.iter().all(|p| p.charset_ok),
            charset_pages: Vec::new(),
        })
    }

    /// The checks that enter a page's score, with this page's own language and direction.
    pub fn scored(&self, page: &PageArabic) -> [Option<bool>; 5] {
        [
            Some(page.lang_ok),
            (page.script == "arabic").then_some(page.rtl_ok),
            Some(self.language_switch),
            Some(self.accessibility_statement),
            self.phone_matches,
        ]
    }
}

/// Whether a number published on a page is the registry's E.164 `registry` number, written
/// internationally (`+962…`, `00962…`) or nationally (`06…`, the trunk 0 before the national
/// significant number).
pub fn phone_matches(registry: &str, published: &str) -> bool {
    let want: String = registry.chars().filter(char::is_ascii_digit).collect();
    let (international, digits) = if let Some(rest) = published.strip_prefix('+') {
        (true, rest.to_string())
    } else if let Some(rest) = published.strip_prefix("00") {
        (true, rest.to_string())
    } else {
        (false, published.to_string())
    };
    let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
    if international {
        return digits == want;
    }
    let national = digits.trim_start_matches('0');
    national.len() >= 6 && want.len() > national.len() && want.ends_with(national) && {
        // What precedes the national number must be a country code (1–3 digits).
        (1..=3).contains(&(want.len() - national.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_from_tags() {
        let tags: Vec<String> = [
            "cat.text-alternatives",
            "wcag2a",
            "wcag111",
            "wcag1412",
            "wcag2411",
            "EN-9.1.1.1",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(wcag_criteria(&tags), ["1.1.1", "1.4.12", "2.4.11"]);
    }

    #[test]
    fn weighted_score_by_hand() {
        let run = AxeRun {
            version: "4.14.1".into(),
            violations: vec![AxeViolation {
                id: "image-alt".into(),
                impact: "critical".into(),
                tags: vec!["wcag111".into()],
                nodes: 2,
                selector: Some("img".into()),
                html: Some("<img src=\"a.png\">".into()),
                help: "Images must have alternative text".into(),
            }],
            passes: vec![
                AxePass {
                    id: "html-has-lang".into(),
                    impact: "serious".into(),
                },
                AxePass {
                    id: "list".into(),
                    impact: "serious".into(),
                },
                AxePass {
                    id: "x".into(),
                    impact: "minor".into(),
                },
            ],
            incomplete: vec![AxeIncomplete {
                id: "color-contrast".into(),
                nodes: 3,
            }],
        };
        let mut page = PageA11y::from_axe(&run);
        page.compute_score(&[]);
        // passed 7 + 7 + 1 = 15; applicable 15 + 10 = 25 → 60.
        assert_eq!(page.score, 60.0);
        assert_eq!(page.needs_review, 1);
        // Two Arabic checks (one passes), one not applicable: (15 + 3) / (25 + 6) = 58.06…
        page.compute_score(&[Some(true), Some(false), None]);
        assert_eq!(page.score, 58.1);
        let mut empty = PageA11y::from_axe(&AxeRun {
            version: "x".into(),
            violations: vec![],
            passes: vec![],
            incomplete: vec![],
        });
        empty.compute_score(&[]);
        assert_eq!(empty.score, 100.0);
    }

    #[test]
    fn arabic_contrast_is_a_rule_shaped_and_weighed_as_axes() {
        let node = |ratio: f64, reason: Option<&str>| ContrastNode {
            selector: "#p".into(),
            html: "<p id=\"p\">نص".into(),
            ratio,
            expected: 4.5,
            fg: "#777777".into(),
            bg: "#ffffff".into(),
            font_size: 16.0,
            font_weight: 400,
            large: false,
            reason: reason.map(String::from),
        };
        let page = || {
            PageA11y::from_axe(&AxeRun {
                version: "x".into(),
                violations: vec![],
                passes: vec![AxePass {
                    id: "html-has-lang".into(),
                    impact: "serious".into(),
                }],
                incomplete: vec![],
            })
        };
        // Failing: a serious violation of 1.4.3 carrying its measurements; 7 / (7 + 7) = 50.
        let mut failing = page();
        failing.add_arabic_contrast(&ArabicContrastRun {
            checked: 3,
            failed: 2,
            to_review: 0,
            by_axe: 0,
            violations: vec![node(4.48, None), node(2.1, None)],
            review: vec![],
        });
        let v = &failing.violations[0];
        assert_eq!(
            (v.id.as_str(), v.impact.as_str(), v.nodes),
            (ARABIC_CONTRAST, "serious", 2)
        );
        assert_eq!(v.wcag, ["1.4.3"]);
        assert_eq!(v.selector.as_deref(), Some("#p"));
        assert_eq!(v.contrast.len(), 2);
        failing.compute_score(&[]);
        assert_eq!(failing.score, 50.0);
        // Passing: a passed rule. Only to review: not scored, counted for review.
        let mut passing = page();
        passing.add_arabic_contrast(&ArabicContrastRun {
            checked: 2,
            failed: 0,
            to_review: 1,
            by_axe: 0,
            violations: vec![],
            review: vec![node(2.0, Some("gradient"))],
        });
        assert!(passing.violations.is_empty());
        assert_eq!(passing.passed_rules, 2);
        assert_eq!(passing.needs_review_rules, [ARABIC_CONTRAST]);
        assert_eq!(passing.contrast_review.len(), 1);
        let mut review_only = page();
        review_only.add_arabic_contrast(&ArabicContrastRun {
            checked: 1,
            failed: 0,
            to_review: 1,
            by_axe: 0,
            violations: vec![],
            review: vec![node(2.0, Some("image"))],
        });
        assert_eq!(review_only.passed_rules, 1);
        // No Arabic text: the rule does not apply.
        let mut none = page();
        none.add_arabic_contrast(&ArabicContrastRun::default());
        assert_eq!((none.passed_rules, none.needs_review), (1, 0));
        // A result stored before the rule reads.
        let old: Violation = serde_json::from_str(
            r#"{"id":"label","impact":"critical","wcag":[],"nodes":1,"selector":null,"help":"h"}"#,
        )
        .unwrap();
        assert!(old.contrast.is_empty());
        let old: PageArabic = serde_json::from_str(
            r#"{"script":"arabic","lang":"ar","lang_ok":true,"rtl_ok":true,"language_switch":true,
               "accessibility_statement":true,"phones":[],"hours_published":true}"#,
        )
        .unwrap();
        assert!(old.charset_ok && old.charset_declared.is_none());
    }

    #[test]
    fn charset_declared_by_header_meta_or_bom() {
        let mut p: PageArabic = serde_json::from_str(
            r#"{"script":"arabic","lang":"ar","lang_ok":true,"rtl_ok":true,"language_switch":true,
               "accessibility_statement":true,"phones":[],"hours_published":true,
               "charset":"windows-1252","charset_declared":false}"#,
        )
        .unwrap();
        p.declared_by(Some("text/html"));
        assert_eq!(p.charset_declared, Some(false));
        p.declared_by(Some("text/html; Charset=UTF-8"));
        assert_eq!(p.charset_declared, Some(true));
        p.charset_declared = Some(false);
        p.charset = "UTF-8".into();
        p.declared_by(None);
        assert_eq!(p.charset_declared, Some(true), "a BOM");
    }

    #[test]
    fn site_combines_pages() {
        let v = |id: &str, impact: &str, nodes| Violation {
            id: id.into(),
            impact: impact.into(),
            wcag: vec![],
            nodes,
            selector: None,
            html: None,
            help: String::new(),
            pages: 1,
            page: None,
            contrast: vec![],
        };
        let a = PageA11y {
            violations: vec![v("label", "critical", 1), v("link-name", "serious", 2)],
            needs_review: 1,
            needs_review_rules: vec!["color-contrast".into()],
            passed_rules: 10,
            score: 80.0,
            passes: vec![],
            contrast_review: vec![],
        };
        let b = PageA11y {
            violations: vec![v("link-name", "serious", 3)],
            needs_review: 1,
            needs_review_rules: vec!["color-contrast".into()],
            passed_rules: 10,
            score: 91.0,
            passes: vec![],
            contrast_review: vec![],
        };
        let site = SiteA11y::combine("4.14.1", &[("https://x/", &a), ("https://x/b", &b)]).unwrap();
        assert_eq!(site.engine, "axe-core 4.14.1");
        assert_eq!(site.score, 85.5);
        assert_eq!(site.needs_review, 1);
        let ids: Vec<_> = site
            .violations
            .iter()
            .map(|v| (v.id.as_str(), v.nodes, v.pages))
            .collect();
        assert_eq!(ids, [("label", 1, 1), ("link-name", 5, 2)]);
        // Each names the first page it occurs on.
        assert_eq!(site.violations[1].page.as_deref(), Some("https://x/"));
    }

    #[test]
    fn phone_numbers_in_every_usual_writing() {
        let r = "+96265000101";
        for ok in ["+96265000101", "0096265000101", "065000101", "65000101"] {
            assert!(phone_matches(r, ok), "{ok}");
        }
        for bad in [
            "+96265000102",
            "5000101",
            "+9626500010",
            "0096265000100",
            "123",
        ] {
            assert!(!phone_matches(r, bad), "{bad}");
        }
        // Gulf numbers have no trunk 0 in some writings: 8001234567 for +9718001234567.
        assert!(phone_matches("+9718001234567", "8001234567"));
    }

    #[test]
    fn site_arabic_checks() {
        let page = |lang_ok, phones: &[&str], statement| PageArabic {
            script: "arabic".into(),
            lang: "ar".into(),
            lang_ok,
            rtl_ok: true,
            language_switch: false,
            accessibility_statement: statement,
            phones: phones.iter().map(|s| s.to_string()).collect(),
            hours_published: false,
            charset_ok: true,
            charset: "UTF-8".into(),
            charset_declared: Some(true),
            mojibake_sample: None,
        };
        let a = page(true, &["065000101"], false);
        let b = page(false, &["+96265000102"], true);
        let reg = vec!["+96265000101".to_string(), "+96265000102".into()];
        let s = SiteArabic::combine(&[&a, &b], &reg).unwrap();
        assert!(!s.lang_ok && s.rtl_ok && s.accessibility_statement && !s.language_switch);
        assert_eq!(s.phone_matches, Some(true));
        let s = SiteArabic::combine(&[&a], &reg).unwrap();
        assert_eq!(s.phone_matches, Some(false));
        assert_eq!(s.phones_missing, ["+96265000102"]);
        assert_eq!(SiteArabic::combine(&[&a], &[]).unwrap().phone_matches, None);
        assert_eq!(
            s.scored(&a),
            [
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                Some(false)
            ]
        );
    }
}
