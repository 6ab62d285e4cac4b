//! The dashboard: server-rendered pages in Arabic (right to left, the default) or English,
//! no script and no external resource. An overview per period and agency, a page per centre
//! (scores over time, last calls with timeline and player, last web audits with screenshot,
//! cases, "probe now"), a page per result (everything stored, the SIP trace, the label form).
//! Forms carry a token derived from the session, so another site cannot post them.

use std::fmt::Write as _;
use std::path::PathBuf;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;

use super::{auth, param, App, Reply, Role, Who, SESSION_COOKIE};
use crate::probe::Channel;
use crate::report::html::{bars, esc, ltr};
use crate::report::{band_word, flag_word, num, trend_word, word, Lang};
use crate::score::period::Period;
use crate::score::CentreScores;
use crate::store::signins::SigninOutcome;
use crate::store::{ResultFilter, StoredResult};

const LANG_COOKIE: &str = "raqib_lang";
/// A dashboard session lasts a working day.
const SESSION_HOURS: i64 = 12;
/// Months of history on a centre page.
const HISTORY_MONTHS: usize = 6;

/// The dashboard's own words: (key, English, Arabic).
const WORDS: &[(&str, &str, &str)] = &[
    ("title", "raqib", "رقيب"),
    ("overview", "Overview", "نظرة عامة"),
    ("sign_in", "Sign in", "تسجيل الدخول"),
    ("sign_out", "Sign out", "تسجيل الخروج"),
    ("user", "User", "المستخدم"),
    ("password", "Password", "كلمة المرور"),
    (
        "bad_login",
        "Unknown user or wrong password.",
        "مستخدم غير معروف أو كلمة مرور خاطئة.",
    ),
    (
        "signin_delayed",
        "Too many failed sign-ins: try again in a while.",
        "محاولات دخول فاشلة كثيرة: حاول مرة أخرى بعد قليل.",
    ),
    ("period", "Period", "الفترة"),
    ("show", "Show", "عرض"),
    ("all_agencies", "All agencies", "جميع الجهات"),
    ("summary", "Summary", "الملخص"),
    ("centres", "Centres", "المراكز"),
    ("flagged", "Flagged centres", "المراكز المرصودة"),
    (
        "none_flagged",
        "No centre is flagged.",
        "لا يوجد مركز مرصود.",
    ),
    ("bands", "Phone bands", "فئات محور الهاتف"),
    ("agencies", "Agencies", "الجهات"),
    ("league", "League table", "ترتيب المراكز"),
    (
        "unranked",
        "Not ranked: not enough data this period",
        "خارج الترتيب: بيانات غير كافية في هذه الفترة",
    ),
    ("why_unranked", "Why", "السبب"),
    ("trends", "Trends", "الاتجاهات"),
    ("centre", "Centre", "المركز"),
    ("agency", "Agency", "الجهة"),
    ("overall", "Overall", "الكلية"),
    ("interval", "95 % interval", "فاصل الثقة 95٪"),
    ("calls", "Valid calls", "المكالمات الصالحة"),
    ("class", "Class", "التصنيف"),
    ("trend", "Phone trend", "اتجاه الهاتف"),
    ("mean_phone", "Mean phone score", "متوسط درجة الهاتف"),
    ("improved", "Improved", "تحسّن"),
    ("declined", "Declined", "تراجع"),
    ("unchanged", "Unchanged", "ثابت"),
    (
        "after_feedback",
        "Improved after feedback",
        "تحسّن بعد الملاحظات",
    ),
    ("threshold", "Threshold", "الحد"),
    ("region", "Region", "المنطقة"),
    ("hours", "Opening hours", "ساعات العمل"),
    ("numbers", "Numbers", "الأرقام"),
    ("sites", "Websites", "المواقع"),
    ("probe_now", "Probe now", "افحص الآن"),
    ("over_time", "Scores over time", "الدرجات عبر الزمن"),
    ("last_calls", "Last calls", "آخر المكالمات"),
    ("last_audits", "Last web audits", "آخر فحوص المواقع"),
    ("cases", "Open cases", "حالات المتابعة المفتوحة"),
    ("no_cases", "No open case.", "لا توجد حالة مفتوحة."),
    ("none", "None yet.", "لا شيء بعد."),
    ("time", "Time", "الوقت"),
    ("target", "Target", "الهدف"),
    ("outcome", "Outcome", "النتيجة"),
    ("answer_s", "Answer (s)", "الرد (ث)"),
    ("answer_type", "Answer type", "نوع الرد"),
    ("timeline", "Timeline", "المسار الزمني"),
    ("recording", "Recording", "التسجيل"),
    ("result", "Result", "النتيجة رقم"),
    ("status", "HTTP status", "حالة HTTP"),
    ("load_ms", "Total (ms)", "المدة (ملّي ث)"),
    ("a11y", "Accessibility", "سهولة الوصول"),
    ("screenshot", "Screenshot", "لقطة الشاشة"),
    ("violations", "Violations", "المخالفات"),
    ("opened", "Opened", "فُتحت"),
    ("due", "Due", "الاستحقاق"),
    ("score", "Score", "الدرجة"),
    ("detail", "Detail", "التفاصيل"),
    ("sip_trace", "SIP trace", "سجل SIP"),
    ("labels", "Labels", "التصنيفات اليدوية"),
    ("label_form", "Label this call", "صنّف هذه المكالمة"),
    ("reason", "What was heard", "ما سُمع"),
    (
        "time_to_person",
        "Seconds until a person spoke",
        "ثوانٍ حتى تحدث موظف",
    ),
    ("save", "Save label", "احفظ التصنيف"),
    ("by", "By", "بواسطة"),
    ("all_data", "Everything stored", "كل ما خُزّن"),
    ("first_response", "first response", "أول استجابة"),
    ("ringing", "ringing", "رنين"),
    ("answer", "answer", "الرد"),
    ("first_audio", "first audio", "أول صوت"),
    ("end", "end", "النهاية"),
    ("not_found", "Not found", "غير موجود"),
    ("back", "Back", "رجوع"),
    (
        "probe_failed",
        "The probe could not run",
        "تعذّر تشغيل الفحص",
    ),
];

fn w(lang: Lang, key: &str) -> &'static str {
    // A channel's name is the channel's own word.
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

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Ar => "ar",
        Lang::En => "en",
    }
}

/// The page's language: `?lang=` (remembered in a cookie), else the cookie, else Arabic.
fn lang_of(req: &Request<Incoming>) -> (Lang, bool) {
    let pick = |s: &str| match s {
        "en" => Some(Lang::En),
        "ar" => Some(Lang::Ar),
        _ => None,
    };
    if let Some(l) = param(req, "lang").as_deref().and_then(pick) {
        return (l, true);
    }
    let cookie = req
        .headers()
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| auth::cookie(h, LANG_COOKIE).and_then(pick));
    (cookie.unwrap_or(Lang::Ar), false)
}

fn html(status: StatusCode, lang: Lang, set_lang: bool, body: String) -> Reply {
    let mut r = Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header(
            "content-security-policy",
            "default-src 'none'; img-src 'self' data:; media-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        );
    if set_lang {
        r = r.header(
            "set-cookie",
            format!(
                "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                lang_code(lang)
            ),
        );
    }
    r.body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

fn redirect(to: &str, cookie: Option<String>) -> Reply {
    // A target that is no valid header value goes home rather than failing the response.
    let to = hyper::header::HeaderValue::from_str(to)
        .unwrap_or(hyper::header::HeaderValue::from_static("/"));
    let mut r = Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header("location", to)
        .header("cache-control", "no-store");
    if let Some(c) = cookie {
        r = r.header("set-cookie", c);
    }
    r.body(Full::new(Bytes::new())).expect("a valid response")
}

/// Only a path of this site, else `/`: printable ASCII starting with one `/`, and once
/// percent-decoded still one `/` first, no backslash and no control character or space —
/// browsers drop tabs and newlines from a URL (`/\t/evil.example` is `//evil.example`), and
/// some read `\` as `/`.
pub(super) fn local_path(next: Option<String>) -> String {
    let Some(n) = next else { return "/".into() };
    let decoded: String =
        url::form_urlencoded::parse(format!("p={}", n.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
    let same_site = |p: &str| {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p.contains('\\')
            && !p.chars().any(|c| c.is_control() || c.is_whitespace())
    };
    match n.bytes().all(|b| b.is_ascii_graphic()) && same_site(&n) && same_site(&decoded) {
        true => n,
        false => "/".into(),
    }
}

const STYLE: &str = "body{font-family:'DejaVu Sans',sans-serif;margin:0;color:#222;background:#fafafa}\
header{background:#0b4f6c;color:#fff;padding:.6em 1.2em;display:flex;gap:1.2em;align-items:center;flex-wrap:wrap}\
header a{color:#fff}header button{color:#fff;background:transparent;border:1px solid #fff;border-radius:3px;cursor:pointer}header .who{margin-inline-start:auto}\
main{padding:1em 1.5em}table{border-collapse:collapse;margin:.6em 0;background:#fff}\
th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top}th{background:#eee}\
.flag{color:#a00;font-weight:bold}.ok{color:#060}.muted{color:#666}\
section{margin-bottom:1.6em}form.inline{display:inline}img.shot{max-width:320px;border:1px solid #ccc}\
pre{background:#fff;border:1px solid #ccc;padding:.6em;overflow:auto;max-height:30em;direction:ltr;text-align:left}\
.error{background:#fee;border:1px solid #c00;padding:.6em}";

/// The frame of every signed-in page: header with navigation, language switch and sign-out.
fn shell(lang: Lang, who: Option<&Who>, switch_to: &str, title: &str, body: &str) -> String {
    let rtl = lang == Lang::Ar;
    let other = if rtl { "English" } else { "العربية" };
    let mut h = format!(
        "<!DOCTYPE html><html lang=\"{}\" dir=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{} · {}</title>\
         <style>{STYLE}</style></head><body><header><strong>{}</strong>",
        lang_code(lang),
        if rtl { "rtl" } else { "ltr" },
        esc(title),
        w(lang, "title"),
        w(lang, "title"),
    );
    if who.is_some() {
        let _ = write!(h, "<a href=\"/\">{}</a>", w(lang, "overview"));
    }
    let _ = write!(
        h,
        "<a id=\"lang-switch\" href=\"{}\" lang=\"{}\">{other}</a>",
        esc(switch_to),
        if rtl { "en" } else { "ar" }
    );
    if let Some(who) = who {
        let _ = write!(
            h,
            "<span class=\"who\">{} ({})</span><form class=\"inline\" method=\"post\" \
             action=\"/logout\">{}<button>{}</button></form>",
            esc(&who.name),
            who.role.as_str(),
            csrf_field(who),
            w(lang, "sign_out")
        );
    }
    h + "</header><main>" + body + "</main></body></html>"
}

/// `<table>` and its header row of the words of `keys`.
fn table_head(lang: Lang, keys: &[&str]) -> String {
    let cells: String = keys
        .iter()
        .map(|k| format!("<th>{}</th>", w(lang, k)))
        .collect();
    format!("<table><tr>{cells}</tr>")
}

/// The newest `limit` results of a centre on a channel.
async fn latest(
    app: &App,
    centre: &str,
    channel: &str,
    limit: i64,
) -> Result<Vec<StoredResult>, (StatusCode, String)> {
    app.store
        .results(&ResultFilter {
            centre_id: Some(centre.to_string()),
            channel: Some(channel.to_string()),
            limit: Some(limit),
            newest_first: true,
            ..ResultFilter::default()
        })
        .await
        .map_err(internal)
}

fn csrf_field(who: &Who) -> String {
    who.session.as_deref().map_or(String::new(), |s| {
        format!(
            "<input type=\"hidden\" name=\"_csrf\" value=\"{}\">",
            auth::csrf_of(s)
        )
    })
}

/// This page's URL with `lang` set to the other language, other parameters kept.
fn switch_link(req: &Request<Incoming>, lang: Lang) -> String {
    let to = if lang == Lang::Ar { "en" } else { "ar" };
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        if k != "lang" {
            q.append_pair(&k, &v);
        }
    }
    q.append_pair("lang", to);
    format!("{}?{}", req.uri().path(), q.finish())
}

/// A signed-out visitor: pages send them to sign in and back; other requests are refused.
pub(super) fn to_login(req: &Request<Incoming>) -> Reply {
    if req.method() == Method::GET {
        let next = req
            .uri()
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", &next)
            .finish();
        return redirect(&format!("/login?{q}"), None);
    }
    let (lang, _) = lang_of(req);
    html(
        StatusCode::UNAUTHORIZED,
        lang,
        false,
        shell(
            lang,
            None,
            "/login",
            w(lang, "sign_in"),
            "<p><a href=\"/login\">…</a></p>",
        ),
    )
}

/// The sign-in form, with the message of word `failed` above it when given.
fn login_page(lang: Lang, next: &str, failed: Option<&str>) -> String {
    let body = format!(
        "<h1>{}</h1>{}<form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\
         <p><label>{} <input name=\"name\" autocomplete=\"username\" required></label></p>\
         <p><label>{} <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label></p>\
         <p><button id=\"sign-in\">{}</button></p></form>",
        w(lang, "sign_in"),
        match failed {
            Some(key) => format!("<p class=\"error\" id=\"login-error\">{}</p>", w(lang, key)),
            None => String::new(),
        },
        esc(next),
        w(lang, "user"),
        w(lang, "password"),
        w(lang, "sign_in"),
    );
    let switch = format!("/login?lang={}", if lang == Lang::Ar { "en" } else { "ar" });
    shell(lang, None, &switch, w(lang, "sign_in"), &body)
}

/// The form fields of a urlencoded body.
fn form(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(f: &'a [(String, String)], key: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// `GET /login` shows the form; `POST /login` checks the password and starts a session.
pub(super) async fn login(app: &App, req: Request<Incoming>) -> Reply {
    let (lang, set_lang) = lang_of(&req);
    if req.method() == Method::GET {
        let next = local_path(param(&req, "next"));
        return html(
            StatusCode::OK,
            lang,
            set_lang,
            login_page(lang, &next, None),
        );
    }
    if req.method() != Method::POST {
        return html(StatusCode::METHOD_NOT_ALLOWED, lang, false, String::new());
    }
    let address = super::client_ip(app, &req).map_or("unknown".into(), |a| a.to_string());
    let f = match super::body(app, req).await {
        Ok(b) => form(&b),
        Err((s, m)) => return html(s, lang, false, esc(&m)),
    };
    // Names are short; a long one is kept (and counted) by its first 100 characters.
    let name: String = field(&f, "name")
        .unwrap_or("")
        .trim()
        .chars()
        .take(100)
        .collect();
    let password = field(&f, "password").unwrap_or("");
    let next = local_path(field(&f, "next").map(String::from));
    let failed = |e: crate::store::StoreError| {
        html(
            StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            false,
            esc(&e.to_string()),
        )
    };
    // One check at a time per name and per address, from the gate until the outcome is stored.
    let _name_turn = app.signins.turn(format!("name:{name}")).await;
    let _address_turn = app.signins.turn(format!("address:{address}")).await;
    match super::signin::gate(app, &name, &address).await {
        Err(e) => return failed(e),
        Ok(super::signin::Gate::Open) => {}
        Ok(super::signin::Gate::Delayed { retry_after, why }) => {
            let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            super::log(format!(
                "sign-in refused unchecked for {name:?} from {address}: {why}; retry after {secs} s"
            ));
            if let Err(e) = app
                .store
                .record_signin(&name, &address, SigninOutcome::Refused)
                .await
            {
                return failed(e);
            }
            let mut r = html(
                StatusCode::TOO_MANY_REQUESTS,
                lang,
                false,
                login_page(lang, &next, Some("signin_delayed")),
            );
            r.headers_mut()
                .insert(hyper::header::RETRY_AFTER, secs.into());
            return r;
        }
    }
    let stored = match app.store.password_of(&name).await {
        Ok(s) => s,
        Err(e) => {
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                false,
                esc(&e.to_string()),
            )
        }
    };
    // PBKDF2 takes a while by design: off the async workers. An unknown user costs the same
    // (a dummy hash), so the time of an answer does not tell which names exist.
    let password = password.to_string();
    let hash = stored.map(|(hash, _)| hash);
    let good = tokio::task::spawn_blocking(move || {
        auth::verify_password_or_dummy(&password, hash.as_deref())
    })
    .await
    .unwrap_or(false);
    let outcome = match good {
        true => SigninOutcome::Ok,
        false => SigninOutcome::Failed,
    };
    if let Err(e) = app.store.record_signin(&name, &address, outcome).await {
        return failed(e);
    }
    if !good {
        super::log(format!("sign-in failed for {name:?} from {address}"));
        return html(
            StatusCode::UNAUTHORIZED,
            lang,
            false,
            login_page(lang, &next, Some("bad_login")),
        );
    }
    let secret = match auth::new_secret("s_") {
        Ok(s) => s,
        Err(e) => {
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                false,
                esc(&e.to_string()),
            )
        }
    };
    let expires = chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    if let Err(e) = app.store.add_session(&name, &secret, expires).await {
        return html(
            StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            false,
            esc(&e.to_string()),
        );
    }
    redirect(
        &next,
        Some(format!(
            "{SESSION_COOKIE}={secret}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict",
            SESSION_HOURS * 3600
        )),
    )
}

/// A signed-in page or form.
pub(super) async fn page(app: &App, who: &Who, req: Request<Incoming>) -> Reply {
    let (lang, set_lang) = lang_of(&req);
    let path = req.uri().path().to_string();
    let switch = switch_link(&req, lang);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let got = match (req.method().clone(), segments.as_slice()) {
        (Method::GET, [""]) => overview(app, &req, lang).await,
        (Method::GET, ["centres", id]) => centre(app, who, &req, id, lang).await,
        (Method::GET, ["results", id]) => result(app, who, id, lang).await,
        (Method::POST, _) => {
            let id = segments.get(1).map(|s| s.to_string());
            return post(app, who, req, &path, id, lang).await;
        }
        _ => Err((StatusCode::NOT_FOUND, w(lang, "not_found").to_string())),
    };
    match got {
        Ok((title, body)) => html(
            StatusCode::OK,
            lang,
            set_lang,
            shell(lang, Some(who), &switch, &title, &body),
        ),
        Err((status, message)) => html(
            status,
            lang,
            set_lang,
            shell(
                lang,
                Some(who),
                &switch,
                w(lang, "not_found"),
                &format!("<p class=\"error\">{}</p>", esc(&message)),
            ),
        ),
    }
}

type Page = Result<(String, String), (StatusCode, String)>;

fn internal(e: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn name_of(lang: Lang, ar: &str, en: &str) -> String {
    esc(if lang == Lang::Ar { ar } else { en })
}

fn period_of(req: &Request<Incoming>) -> Result<Period, (StatusCode, String)> {
    match param(req, "period").filter(|p| !p.is_empty()) {
        Some(p) => Period::parse(&p).map_err(|e| (StatusCode::BAD_REQUEST, format!("period: {e}"))),
        None => Ok(Period::month_of(chrono::Utc::now())),
    }
}

fn centre_link(id: &str, period: &str, label: String) -> String {
    format!(
        "<a href=\"/centres/{}?period={}\">{label}</a>",
        enc(id),
        enc(period)
    )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn overview(app: &App, req: &Request<Incoming>, lang: Lang) -> Page {
    let period = period_of(req)?;
    let agency = param(req, "agency").filter(|a| !a.is_empty());
    let r = crate::report::build(
        &app.store,
        &app.config,
        &period,
        agency.as_deref(),
        chrono::Utc::now(),
    )
    .await
    .map_err(internal)?;
    let s = &r.summary;
    let mut h = String::new();
    let _ = write!(
        h,
        "<h1>{}{}</h1><form method=\"get\" action=\"/\"><label>{} \
         <input name=\"period\" value=\"{}\" size=\"10\"></label> ",
        w(lang, "overview"),
        agency
            .as_deref()
            .map_or(String::new(), |a| format!(" — {}", esc(a))),
        w(lang, "period"),
        esc(&r.period),
    );
    if let Some(a) = &agency {
        let _ = write!(
            h,
            "<input type=\"hidden\" name=\"agency\" value=\"{}\">",
            esc(a)
        );
    }
    let _ = write!(
        h,
        "<button>{}</button> <a href=\"/?period={}\">{}</a></form>",
        w(lang, "show"),
        enc(&r.period),
        w(lang, "all_agencies")
    );
    // Summary and bands.
    let _ = write!(
        h,
        "<section id=\"summary\"><h2>{}</h2><table>\
         <tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td class=\"flag\">{}</td></tr>\
         <tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr>\
         <tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr>\
         <tr><th>{}</th><td>{}</td></tr></table>",
        w(lang, "summary"),
        w(lang, "centres"),
        s.centres,
        w(lang, "flagged"),
        s.flagged,
        w(lang, "improved"),
        s.improved,
        w(lang, "declined"),
        s.declined,
        w(lang, "unchanged"),
        s.unchanged,
        w(lang, "after_feedback"),
        s.improved_after_feedback,
        w(lang, "threshold"),
        ltr(&format!("≤ {}", r.threshold)),
    );
    let b = &s.phone_bands;
    let _ = write!(
        h,
        "<h3>{}</h3>{}</section>",
        w(lang, "bands"),
        bars(
            &[
                (
                    &band_word(Some(crate::score::Band::Excellent), lang),
                    b.excellent,
                    "#2e7d32"
                ),
                (
                    &band_word(Some(crate::score::Band::Medium), lang),
                    b.medium,
                    "#f9a825"
                ),
                (
                    &band_word(Some(crate::score::Band::Weak), lang),
                    b.weak,
                    "#c62828"
                ),
            ],
            lang == Lang::Ar
        )
    );
    // Flagged list with confidence.
    let _ = write!(h, "<section id=\"flagged\"><h2>{}</h2>", w(lang, "flagged"));
    if r.flagged.is_empty() {
        let _ = write!(h, "<p>{}</p>", w(lang, "none_flagged"));
    } else {
        h += &table_head(
            lang,
            &["centre", "agency", "class", "phone", "interval", "calls"],
        );
        for f in &r.flagged {
            let mut class = say(flag_word(f.class, lang));
            for c in &f.critical {
                class += &format!(" · {} ({})", word(lang, "critical"), esc(c));
            }
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"flag\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                centre_link(&f.centre, &r.period, name_of(lang, &f.name_ar, &f.name_en)),
                esc(&f.agency),
                class,
                ltr(&num(f.phone_score)),
                ltr(&format!("{}–{}", num(f.phone_low), num(f.phone_high))),
                f.valid_calls
            );
        }
        h += "</table>";
    }
    h += "</section>";
    // Agencies.
    let _ = write!(
        h,
        "<section id=\"agencies\"><h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th></tr>",
        w(lang, "agencies"),
        w(lang, "agency"),
        w(lang, "centres"),
        w(lang, "flagged"),
        w(lang, "mean_phone"),
        w(lang, "improved"),
        w(lang, "declined")
    );
    for a in &r.agencies {
        let _ = write!(
            h,
            "<tr><td><a href=\"/?period={}&amp;agency={}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            enc(&r.period),
            enc(&a.agency),
            esc(&a.agency),
            a.centres,
            a.flagged,
            ltr(&num(a.mean_phone)),
            a.improved,
            a.declined
        );
    }
    h += "</table></section>";
    // League table: the ranked centres in their places (the report's order); the unscored
    // ones apart, below, each with its reason.
    let rows: Vec<&crate::report::CentreRow> =
        r.centres.iter().filter(|c| c.rank.is_some()).collect();
    let _ = write!(
        h,
        "<section id=\"league\"><h2>{}</h2><table><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        w(lang, "league"),
        w(lang, "centre"),
        w(lang, "agency"),
        w(lang, "phone"),
        w(lang, "calls"),
        w(lang, "class"),
        w(lang, "web"),
        w(lang, "overall"),
        w(lang, "trend")
    );
    for c in &rows {
        let flagged = matches!(
            c.flag,
            crate::score::FlagClass::Confirmed | crate::score::FlagClass::Provisional
        );
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td{}>{}</td><td>{}</td><td>{}</td><td>{} {}</td></tr>",
            c.rank.unwrap_or_default(),
            centre_link(&c.centre, &r.period, name_of(lang, &c.name_ar, &c.name_en)),
            esc(&c.agency),
            ltr(&num(c.phone_score)),
            band_word(c.phone_band, lang),
            c.valid_calls,
            if flagged { " class=\"flag\"" } else { "" },
            say(flag_word(c.flag, lang)),
            ltr(&num(c.web_score)),
            ltr(&num(c.overall)),
            trend_word(c.phone_trend, lang),
            c.phone_change.map_or(String::new(), |d| ltr(&format!("{d:+.1}"))),
        );
    }
    h += "</table>";
    let unranked: Vec<&crate::report::CentreRow> =
        r.centres.iter().filter(|c| c.rank.is_none()).collect();
    if !unranked.is_empty() {
        let _ = write!(
            h,
            "<h3 id=\"unranked\">{}</h3><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            w(lang, "unranked"),
            w(lang, "centre"),
            w(lang, "agency"),
            w(lang, "why_unranked")
        );
        for c in unranked {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                centre_link(&c.centre, &r.period, name_of(lang, &c.name_ar, &c.name_en)),
                esc(&c.agency),
                esc(&crate::report::unscored_words(&c.unscored, lang))
            );
        }
        h += "</table>";
    }
    h += "</section>";
    Ok((w(lang, "overview").to_string(), h))
}

/// A line chart of phone and web scores by period, with the threshold.
fn history_chart(
    points: &[(String, Option<f64>, Option<f64>)],
    threshold: f64,
    rtl: bool,
) -> String {
    let (wd, ht, pad) = (520.0, 220.0, 36.0);
    let n = points.len().max(2) as f64;
    // Time runs right to left in Arabic, as the text does.
    let x = |i: usize| {
        let t = pad + (wd - 2.0 * pad) * i as f64 / (n - 1.0);
        if rtl {
            wd - t
        } else {
            t
        }
    };
    let y = |v: f64| ht - pad - (ht - 2.0 * pad) * v / 100.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"history-chart\" width=\"{wd}\" height=\"{ht}\" role=\"img\">\
         <rect width=\"{wd}\" height=\"{ht}\" fill=\"#fff\"/>\
         <line x1=\"{pad}\" x2=\"{}\" y1=\"{t}\" y2=\"{t}\" stroke=\"#c62828\" stroke-dasharray=\"4\"/>",
        wd - pad,
        t = y(threshold)
    );
    for v in [0.0, 50.0, 100.0] {
        let _ = write!(
            svg,
            "<text x=\"4\" y=\"{}\" font-size=\"10\" direction=\"ltr\">{v}</text>",
            y(v) + 3.0
        );
    }
    for (series, colour) in [(0usize, "#0b4f6c"), (1, "#2e7d32")] {
        let pts: Vec<String> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let v = if series == 0 { p.1 } else { p.2 };
                v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))
            })
            .collect();
        if !pts.is_empty() {
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                pts.join(" ")
            );
            for p in &pts {
                let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
                let _ = write!(
                    svg,
                    "<circle cx=\"{px}\" cy=\"{py}\" r=\"3\" fill=\"{colour}\"/>"
                );
            }
        }
    }
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" direction=\"ltr\">{}</text>",
            x(i),
            ht - 8.0,
            esc(&p.0)
        );
    }
    svg + "</svg>"
}

/// A call's timeline: a bar from dialling to hang-up with its moments marked, and the
/// moments in words under it.
fn call_timeline(t: &crate::probe::call::CallTimings, lang: Lang) -> String {
    let total = t.total.max(1.0);
    let answer = t.answer;
    let (wd, ht) = (300.0, 20.0);
    let rtl = lang == Lang::Ar;
    let x = |ms: f64| {
        let v = 4.0 + (wd - 8.0) * ms.min(total) / total;
        if rtl {
            wd - v
        } else {
            v
        }
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"{wd}\" height=\"{ht}\" role=\"img\">\
         <line x1=\"4\" x2=\"{}\" y1=\"10\" y2=\"10\" stroke=\"#999\" stroke-width=\"4\"/>",
        wd - 4.0
    );
    let mut words = Vec::new();
    // `first_audio` counts from the answer; the others from the first INVITE.
    let moments = [
        ("first_response", t.first_response, "#777"),
        ("ringing", t.ringing, "#f9a825"),
        ("answer", answer, "#2e7d32"),
        (
            "first_audio",
            answer.zip(t.first_audio).map(|(a, f)| a + f),
            "#0b4f6c",
        ),
        ("end", Some(total), "#222"),
    ];
    for (key, at, colour) in moments {
        let Some(ms) = at else { continue };
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"10\" r=\"5\" fill=\"{colour}\"><title>{} {:.0} ms</title></circle>",
            x(ms),
            w(lang, key),
            ms
        );
        words.push(format!(
            "<span style=\"color:{colour}\">●</span> {} {}",
            w(lang, key),
            ltr(&format!("{:.1} s", ms / 1000.0))
        ));
    }
    format!(
        "{svg}</svg><div class=\"muted\">{}</div>",
        words.join(" · ")
    )
}

/// A stored evidence path, if it is a readable file inside the evidence directory.
async fn evidence_file(app: &App, stored: &str) -> Option<PathBuf> {
    let root = tokio::fs::canonicalize(app.store.evidence_dir())
        .await
        .ok()?;
    let full = tokio::fs::canonicalize(stored).await.ok()?;
    full.starts_with(&root).then_some(full)
}

/// A stored term (outcome, answer type, case status or class) for people: Arabic from
/// `arabic::term`, English with spaces for underscores.
fn outcome_word(lang: Lang, term: &str) -> String {
    match lang {
        Lang::Ar => say(crate::arabic::term(term)),
        Lang::En => say(term),
    }
}

/// A fixed term for people: `no_answer` reads "no answer" in English.
fn say(term: &str) -> String {
    esc(&term.replace('_', " "))
}

fn probe_button(who: &Who, lang: Lang, channel: &str, target: &str, id: &str) -> String {
    if who.role < Role::Auditor {
        return String::new();
    }
    format!(
        "<form class=\"inline probe\" method=\"post\" action=\"/probe\">{}\
         <input type=\"hidden\" name=\"channel\" value=\"{channel}\">\
         <input type=\"hidden\" name=\"target\" value=\"{}\">\
         <button class=\"probe-now\" id=\"{id}\">{}</button></form>",
        csrf_field(who),
        esc(target),
        w(lang, "probe_now")
    )
}

async fn centre(app: &App, who: &Who, req: &Request<Incoming>, id: &str, lang: Lang) -> Page {
    let id = url::form_urlencoded::parse(format!("i={id}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let c = app
        .store
        .centre(&id)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            (
                StatusCode::NOT_FOUND,
                format!("{} '{id}'", w(lang, "not_found")),
            )
        })?;
    let period = period_of(req)?;
    let k = &app.config.scoring;
    let title = name_of(lang, &c.name_ar, &c.name_en);
    let mut h = format!(
        "<h1>{title}</h1><table><tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr>\
         <tr><th>{}</th><td>{} ({})</td></tr>",
        w(lang, "agency"),
        esc(&c.agency),
        w(lang, "region"),
        esc(&c.region),
        w(lang, "hours"),
        ltr(&c.hours.to_string()),
        ltr(&c.timezone),
    );
    let _ = write!(h, "<tr><th>{}</th><td>", w(lang, "numbers"));
    for (i, n) in c.phones.iter().enumerate() {
        let _ = write!(
            h,
            "<div>{} {}</div>",
            ltr(n),
            probe_button(
                who,
                lang,
                Channel::Phone.as_str(),
                n,
                &format!("probe-phone-{i}")
            )
        );
    }
    let _ = write!(h, "</td></tr><tr><th>{}</th><td>", w(lang, "sites"));
    for (i, s) in c.websites.iter().enumerate() {
        let _ = write!(
            h,
            "<div>{} {}</div>",
            ltr(s),
            probe_button(
                who,
                lang,
                Channel::Web.as_str(),
                s,
                &format!("probe-web-{i}")
            )
        );
    }
    h += "</td></tr></table>";
    // Scores: this period in full, the months before as a chart.
    let mut history = Vec::new();
    let mut p = Period::month_of(period.end() - chrono::Duration::seconds(1));
    let mut months = Vec::new();
    for _ in 0..HISTORY_MONTHS {
        months.push(p.clone());
        p = p.previous();
    }
    months.reverse();
    let verdicts = crate::verdict::Verdicts::new(&app.store, &app.config);
    for m in &months {
        let s = verdicts.one(m, &c.id).await.map_err(internal)?;
        history.push((
            m.label.clone(),
            s.as_ref()
                .and_then(|s| s.phone.score.as_ref().map(|e| e.value)),
            s.as_ref()
                .and_then(|s| s.web.score.as_ref().map(|e| e.value)),
        ));
    }
    let now_scores = verdicts.one(&period, &c.id).await.map_err(internal)?;
    let cs: Option<&CentreScores> = now_scores.as_ref();
    let _ = write!(
        h,
        "<section id=\"scores\"><h2>{} {}</h2><table><tr><th></th><th>{}</th><th>{}</th><th>{}</th></tr>",
        w(lang, "score"),
        ltr(&period.label),
        w(lang, "score"),
        w(lang, "interval"),
        w(lang, "calls"),
    );
    if let Some(s) = cs {
        let est = |e: &Option<crate::score::stats::Estimate>| {
            e.as_ref().map_or((String::new(), String::new()), |e| {
                (
                    ltr(&format!("{:.1}", e.value)),
                    ltr(&format!("{:.1}–{:.1}", e.low, e.high)),
                )
            })
        };
        let (pv, pi) = est(&s.phone.score);
        let (wv, wi) = est(&s.web.score);
        let _ = write!(
            h,
            "<tr><th>{}</th><td id=\"phone-score\">{pv} {}</td><td>{pi}</td><td>{}</td></tr>\
             <tr><th>{}</th><td id=\"web-score\">{wv} {}</td><td>{wi}</td><td>{}</td></tr>\
             <tr><th>{}</th><td colspan=\"3\">{}</td></tr>",
            w(lang, "phone"),
            band_word(s.phone.band, lang),
            s.phone.valid_calls,
            w(lang, "web"),
            band_word(s.web.band, lang),
            s.web.valid_checks,
            w(lang, "class"),
            say(flag_word(s.flag, lang)),
        );
    }
    let _ = write!(
        h,
        "</table><h3>{}</h3>{}<p class=\"muted\"><span style=\"color:#0b4f6c\">━ {}</span> · \
         <span style=\"color:#2e7d32\">━ {}</span> · <span style=\"color:#c62828\">┅ {} {}</span></p></section>",
        w(lang, "over_time"),
        history_chart(&history, k.threshold, lang == Lang::Ar),
        w(lang, "phone"),
        w(lang, "web"),
        w(lang, "threshold"),
        ltr(&k.threshold.to_string())
    );
    // Last calls.
    let calls = latest(app, &c.id, Channel::Phone.as_str(), 20).await?;
    let _ = write!(
        h,
        "<section id=\"calls\"><h2>{}</h2>",
        w(lang, "last_calls")
    );
    if calls.is_empty() {
        let _ = write!(h, "<p>{}</p>", w(lang, "none"));
    } else {
        h += &table_head(
            lang,
            &[
                "result",
                "time",
                "target",
                "outcome",
                "answer_type",
                "timeline",
                "recording",
            ],
        );
        for r in &calls {
            let Some(call) = r.probe.call() else {
                continue;
            };
            let player = match call.recording.as_deref() {
                Some(p) => super::evidence_url(&app.store, p).map_or(String::new(), |u| {
                    format!(
                        "<audio controls preload=\"none\" src=\"{}\"></audio>",
                        esc(&u)
                    )
                }),
                None => String::new(),
            };
            let _ = write!(
                h,
                "<tr class=\"call\"><td><a href=\"/results/{id}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{player}</td></tr>",
                ltr(&format!("#{}", r.id)),
                ltr(&r.started_at),
                ltr(call.number.as_deref().unwrap_or(&r.target)),
                outcome_word(lang, &r.outcome),
                call.answer_type
                    .as_ref()
                    .map_or(String::new(), |a| outcome_word(lang, &crate::probe::code_of(a))),
                call_timeline(&call.timings_ms, lang),
                id = r.id,
            );
        }
        h += "</table>";
    }
    h += "</section>";
    // Last web audits.
    let audits = latest(app, &c.id, Channel::Web.as_str(), 10).await?;
    let _ = write!(
        h,
        "<section id=\"audits\"><h2>{}</h2>",
        w(lang, "last_audits")
    );
    if audits.is_empty() {
        let _ = write!(h, "<p>{}</p>", w(lang, "none"));
    } else {
        h += &table_head(
            lang,
            &[
                "result",
                "time",
                "target",
                "outcome",
                "load_ms",
                "a11y",
                "violations",
                "screenshot",
            ],
        );
        for r in &audits {
            h += &web_row(app, r, lang);
        }
        h += "</table>";
    }
    h += "</section>";
    // Open cases.
    let now = chrono::Utc::now();
    let cases: Vec<_> = app
        .store
        .cases()
        .await
        .map_err(internal)?
        .into_iter()
        .filter(|x| x.centre == c.id && x.closed_at.is_none())
        .collect();
    let _ = write!(h, "<section id=\"cases\"><h2>{}</h2>", w(lang, "cases"));
    if cases.is_empty() {
        let _ = write!(h, "<p>{}</p>", w(lang, "no_cases"));
    } else {
        h += &table_head(
            lang,
            &["period", "phone", "class", "score", "opened", "due"],
        );
        for x in &cases {
            let st = crate::score::cases::status(x, now);
            let st = serde_json::to_value(st).ok();
            let st = st.as_ref().and_then(Value::as_str).unwrap_or("open");
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"flag\">{} ({})</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ltr(&x.period),
                esc(word(
                    lang,
                    Channel::parse(&x.channel).unwrap_or(Channel::Phone).as_str()
                )),
                outcome_word(lang, &x.class),
                outcome_word(lang, st),
                ltr(&num(x.score)),
                ltr(&x.opened_at),
                ltr(&x.due_at),
            );
        }
        h += "</table>";
    }
    h += "</section>";
    Ok((title, h))
}

/// One web audit as a table row: outcome, time, a11y score, violations and the screenshot.
fn web_row(app: &App, r: &StoredResult, lang: Lang) -> String {
    let web = r.probe.web();
    let shot = web
        .and_then(|w| w.browser.as_ref()?.screenshot.as_deref())
        .and_then(|p| super::evidence_url(&app.store, p))
        .map_or(String::new(), |u| {
            format!(
                "<a href=\"{u}\"><img class=\"shot\" loading=\"lazy\" alt=\"{}\" src=\"{u}\"></a>",
                w(lang, "screenshot"),
                u = esc(&u)
            )
        });
    let a11y = web.and_then(|w| w.a11y.as_ref());
    // Each violation in words: description, WCAG criterion, element, page, pages sharing it.
    let violations = a11y.map_or(String::new(), |a| {
        crate::report::html::a11y_findings(&a.violations, lang)
    });
    format!(
        "<tr class=\"audit\"><td><a href=\"/results/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{shot}</td></tr>",
        r.id,
        ltr(&format!("#{}", r.id)),
        ltr(&r.started_at),
        ltr(&r.target),
        outcome_word(lang, &r.outcome),
        ltr(&num(web.map(|w| w.timings_ms.total))),
        ltr(&num(a11y.map(|a| a.score))),
        violations,
    )
}

async fn result(app: &App, who: &Who, id: &str, lang: Lang) -> Page {
    let Ok(id) = id.parse::<i64>() else {
        return Err((StatusCode::NOT_FOUND, w(lang, "not_found").to_string()));
    };
    let r = app
        .store
        .result(id)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            (
                StatusCode::NOT_FOUND,
                format!("{} #{id}", w(lang, "not_found")),
            )
        })?;
    let call = r.probe.call();
    let detail = match &r.probe {
        crate::store::Probe::Call(c) => c.detail.as_deref(),
        crate::store::Probe::Web(w) => w.detail.as_deref(),
        crate::store::Probe::Unreadable => None,
    };
    let title = format!("{} #{id}", w(lang, "result"));
    let mut h = format!(
        "<h1>{} {}</h1><table>",
        w(lang, "result"),
        ltr(&format!("#{id}"))
    );
    let mut row = |k: &str, v: String| {
        let _ = write!(h, "<tr><th>{}</th><td>{v}</td></tr>", w(lang, k));
    };
    if let Some(c) = &r.centre_id {
        row("centre", centre_link(c, &r.started_at[..7], esc(c)));
    }
    row("time", ltr(&r.started_at));
    row("target", ltr(&r.target));
    row(
        "outcome",
        format!(
            "<span id=\"outcome\">{}</span> {}",
            outcome_word(lang, &r.outcome),
            ltr(&r.outcome)
        ),
    );
    if let Some(detail) = detail {
        row("detail", esc(detail));
    }
    if let Some(call) = call {
        let _ = write!(
            h,
            "<tr><th>{}</th><td>{}</td></tr>",
            w(lang, "timeline"),
            call_timeline(&call.timings_ms, lang)
        );
        if let Some(u) = call
            .recording
            .as_deref()
            .and_then(|p| super::evidence_url(&app.store, p))
        {
            let _ = write!(
                h,
                "<tr><th>{}</th><td><audio id=\"player\" controls preload=\"none\" src=\"{}\"></audio></td></tr>",
                w(lang, "recording"),
                esc(&u)
            );
        }
    } else {
        h += "</table><table>";
        h += &web_row(app, &r, lang);
    }
    h += "</table>";
    // The SIP trace as written.
    if let Some(p) = call.and_then(|c| c.sip_trace.as_deref()) {
        if let Some(f) = evidence_file(app, p).await {
            let text = tokio::fs::read(&f).await.unwrap_or_default();
            let cut = &text[..text.len().min(256 * 1024)];
            let _ = write!(
                h,
                "<section id=\"sip-trace\"><h2>{}</h2><pre>{}</pre></section>",
                w(lang, "sip_trace"),
                esc(&String::from_utf8_lossy(cut))
            );
        }
    }
    // Labels so far and the form.
    if r.channel == Channel::Phone.as_str() {
        let labels: Vec<_> = app.store.labels_of(id).await.map_err(internal)?;
        let _ = write!(h, "<section id=\"labels\"><h2>{}</h2>", w(lang, "labels"));
        if labels.is_empty() {
            let _ = write!(h, "<p>{}</p>", w(lang, "none"));
        } else {
            h += &table_head(lang, &["time", "answer_type", "reason", "by"]);
            for l in &labels {
                let _ = write!(
                    h,
                    "<tr class=\"label\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    ltr(&l.at),
                    outcome_word(lang, &l.answer_type),
                    esc(&l.reason),
                    esc(&l.by)
                );
            }
            h += "</table>";
        }
        if who.role >= Role::Auditor && r.outcome == "answered" {
            let _ = write!(
                h,
                "<h3>{}</h3><form id=\"label-form\" method=\"post\" action=\"/results/{id}/label\">{}\
                 <p><label>{} <select name=\"answer_type\">",
                w(lang, "label_form"),
                csrf_field(who),
                w(lang, "answer_type")
            );
            for t in [
                "human",
                "ivr",
                "voicemail",
                "announcement",
                "music",
                "silence",
                "unknown",
            ] {
                let _ = write!(h, "<option value=\"{t}\">{}</option>", esc(word(lang, t)));
            }
            let _ = write!(
                h,
                "</select></label></p><p><label>{} <textarea name=\"reason\" required></textarea></label></p>\
                 <p><label>{} <input name=\"time_to_person\" type=\"number\" min=\"0\" max=\"3600\" step=\"0.1\"></label></p>\
                 <p><button>{}</button></p></form>",
                w(lang, "reason"),
                w(lang, "time_to_person"),
                w(lang, "save")
            );
        }
        h += "</section>";
    }
    let pretty = serde_json::to_string_pretty(&r.to_json()).unwrap_or_default();
    let _ = write!(
        h,
        "<details><summary>{}</summary><pre>{}</pre></details>",
        w(lang, "all_data"),
        esc(&pretty)
    );
    Ok((title, h))
}

/// Forms: sign-out, labels, probe now. Each checks the session's form token.
async fn post(
    app: &App,
    who: &Who,
    req: Request<Incoming>,
    path: &str,
    id: Option<String>,
    lang: Lang,
) -> Reply {
    let fail = |status: StatusCode, message: String| {
        html(
            status,
            lang,
            false,
            shell(
                lang,
                Some(who),
                "/",
                w(lang, "probe_failed"),
                &format!(
                    "<p class=\"error\" id=\"error\">{}</p><p><a href=\"/\">{}</a></p>",
                    esc(&message),
                    w(lang, "back")
                ),
            ),
        )
    };
    let f = match super::body(app, req).await {
        Ok(b) => form(&b),
        Err((s, m)) => return fail(s, m),
    };
    if let Some(s) = &who.session {
        if field(&f, "_csrf") != Some(auth::csrf_of(s).as_str()) {
            return fail(
                StatusCode::FORBIDDEN,
                "the form is stale: reload the page".into(),
            );
        }
    }
    match path {
        "/logout" => {
            if let Some(s) = &who.session {
                if let Err(e) = app.store.end_session(s).await {
                    return fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
                }
            }
            redirect(
                "/login",
                Some(format!(
                    "{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
                )),
            )
        }
        "/probe" => {
            if who.role < Role::Auditor {
                return fail(StatusCode::FORBIDDEN, "the auditor role is needed".into());
            }
            let channel = field(&f, "channel").unwrap_or("");
            let target = field(&f, "target").unwrap_or("");
            match super::probe_now(app, channel, target, false, false, None).await {
                Ok(ids) if !ids.is_empty() => redirect(&format!("/results/{}", ids[0]), None),
                Ok(_) => fail(StatusCode::BAD_REQUEST, "nothing was probed".into()),
                Err((s, m)) => fail(s, m),
            }
        }
        _ if path.ends_with("/label") && path.starts_with("/results/") => {
            if who.role < Role::Auditor {
                return fail(StatusCode::FORBIDDEN, "the auditor role is needed".into());
            }
            let Some(rid) = id.and_then(|i| i.parse::<i64>().ok()) else {
                return fail(StatusCode::NOT_FOUND, w(lang, "not_found").into());
            };
            let ttp = match field(&f, "time_to_person").map(str::trim) {
                None | Some("") => None,
                Some(t) => match t.parse::<f64>() {
                    Ok(v) => Some(v),
                    Err(_) => {
                        return fail(
                            StatusCode::BAD_REQUEST,
                            format!("'{t}' is not a number of seconds"),
                        )
                    }
                },
            };
            match super::label(
                app,
                who,
                rid,
                field(&f, "answer_type").unwrap_or("").to_string(),
                field(&f, "reason").unwrap_or("").to_string(),
                ttp,
            )
            .await
            {
                Ok(_) => redirect(&format!("/results/{rid}#labels"), None),
                Err((s, m)) => fail(s, m),
            }
        }
        _ => fail(StatusCode::NOT_FOUND, w(lang, "not_found").into()),
    }
}
