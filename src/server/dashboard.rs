//! The dashboard: server-rendered pages in Arabic (right to left, the default) or English,
//! no script and no external resource. An overview per period and agency (key figures against
//! the period before, the flagged list first, charts, agencies, league table), a page per
//! centre (why its scores are what they are, six months, last calls and web audits, cases,
//! "probe now"), a page per result (everything stored, how it counts, the SIP trace, the label
//! form). Every stored code is shown as words (`words`), every time in the centre's zone.
//! Forms carry a token derived from the session, so another site cannot post them.

mod centre;
mod chart;
mod overview;
mod result;
mod review;
mod words;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};

use super::{auth, param, App, Reply, Role, Who, SESSION_COOKIE};
use crate::report::Lang;
use crate::score::period::Period;
use crate::store::signins::SigninOutcome;
use crate::store::{ResultFilter, StoredResult};
use words::{term, w};

const LANG_COOKIE: &str = "raqib_lang";
/// A dashboard session lasts a working day.
const SESSION_HOURS: i64 = 12;
/// Months of history on the overview and a centre page.
const HISTORY_MONTHS: usize = 6;

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

/// One stylesheet for both languages: logical properties only (`inline-start`, not left), a
/// 1.2 type scale on a 17 px body, and below 700 px every table of rows becomes one card per
/// row, so a phone never scrolls the page sideways.
const STYLE: &str = "\
:root{--ink:#1d1d1d;--muted:#555;--brand:#0b4f6c;--line:#cfd4d8;--flag:#a4161a;--ok:#1e6b30;--bg:#f4f6f7}\
*{box-sizing:border-box}\
body{font-family:'Noto Naskh Arabic','Noto Sans Arabic','Noto Sans','DejaVu Sans',sans-serif;font-size:17px;line-height:1.55;margin:0;color:var(--ink);background:var(--bg)}\
html[lang=en] body{font-family:'Noto Sans','DejaVu Sans',sans-serif}\
h1{font-size:1.73em;line-height:1.25;margin:.4em 0 .5em}h2{font-size:1.44em;margin:1.2em 0 .5em}h3{font-size:1.2em;margin:1em 0 .4em}\
a{color:var(--brand);text-decoration-thickness:1px;text-underline-offset:.18em}a:hover{text-decoration-thickness:2px}\
:focus-visible{outline:3px solid #f0a500;outline-offset:2px}\
.skip{position:absolute;inset-inline-start:-999em}.skip:focus{inset-inline-start:1em;top:.5em;background:#fff;padding:.3em .6em;z-index:2}\
header{background:var(--brand);color:#fff;padding:.5em 1.2em;display:flex;gap:.4em 1.2em;align-items:center;flex-wrap:wrap}\
header a{color:#fff}header .brand{font-weight:bold;font-size:1.2em;color:#fff;text-decoration:none}\
header button{color:#fff;background:transparent;border:1px solid #fff;border-radius:4px;cursor:pointer;font:inherit;padding:.1em .6em}\
header .who{margin-inline-start:auto}\
main{padding:.6em 1.2em 2em;max-width:84em;margin:0 auto}\
footer{padding:1em 1.2em;border-top:1px solid var(--line);color:var(--muted);font-size:.9em}\
section{margin-bottom:1.8em}\
bdi.id,bdi.nb,.nb{white-space:nowrap;unicode-bidi:isolate}\
bdi.url{overflow-wrap:anywhere;word-break:break-all;unicode-bidi:isolate}\
.muted{color:var(--muted)}.flag{color:var(--flag);font-weight:bold}.good{color:var(--ok)}\
.wide{overflow-x:auto;max-width:100%}\
table{border-collapse:collapse;margin:.6em 0;background:#fff;width:100%}\
th,td{border-bottom:1px solid var(--line);padding:.45em .6em;vertical-align:top;text-align:start;overflow-wrap:break-word}\
thead th{background:#e8edf0;font-size:.9em}tbody tr:hover{background:#f7fafb}\
dl.summary{display:grid;grid-template-columns:minmax(8em,max-content) 1fr;gap:0;background:#fff;border:1px solid var(--line);border-radius:6px;margin:.6em 0}\
dl.summary>div{display:contents}dl.summary dt,dl.summary dd{margin:0;padding:.45em .7em;border-bottom:1px solid var(--line);overflow-wrap:break-word;min-width:0}\
dl.summary dt{font-weight:bold;background:#f0f3f5}\
ul.tiles{list-style:none;padding:0;margin:.6em 0;display:grid;grid-template-columns:repeat(auto-fill,minmax(11em,1fr));gap:.7em}\
.tile{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.6em .8em}\
.tile .label{display:block;font-size:.9em;color:var(--muted)}.tile .value{display:block;font-size:1.73em;font-weight:bold}\
.tile .delta{display:block;font-size:.88em}.tile .value .sub{display:block;font-size:.5em;font-weight:normal;color:var(--muted)}.tile.alarm{border-inline-start:5px solid var(--flag)}\
.notice{background:#fff8e1;border:1px solid #c99700;border-radius:6px;padding:.6em .8em}\
.error{background:#fdecea;border:1px solid var(--flag);border-radius:6px;padding:.6em .8em}\
.charts{display:flex;flex-wrap:wrap;gap:1.2em}.charts figure{margin:0;flex:1 1 20em;background:#fff;border:1px solid var(--line);border-radius:6px;padding:.6em}\
figcaption{font-weight:bold;margin-bottom:.3em}svg.chart{width:100%;height:auto;max-width:36em;display:block}\
svg.timeline{width:100%;max-width:300px;height:auto;display:block}\
ul.legend{list-style:none;padding:0;margin:.3em 0;display:flex;flex-wrap:wrap;gap:.2em 1.2em;font-size:.9em}\
form.inline{display:inline}form.period{display:flex;flex-wrap:wrap;gap:.5em;align-items:center}\
input,select,textarea,button{font:inherit;max-width:100%}\
main button{background:var(--brand);color:#fff;border:0;border-radius:4px;padding:.25em .8em;cursor:pointer}\
img.shot{max-width:min(320px,100%);height:auto;border:1px solid var(--line)}audio{max-width:100%}\
pre{background:#fff;border:1px solid var(--line);padding:.6em;overflow:auto;max-height:30em;max-width:100%;direction:ltr;text-align:left;font-size:.8em}\
@media (max-width:700px){\
main{padding:.5em .8em 2em}body{font-size:16px}\
table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}\
table.cards{background:transparent}\
table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}\
table.cards tr{background:#fff;border:1px solid var(--line);border-radius:6px;margin:.6em 0;padding:.3em .7em}\
table.cards td{border:0;padding:.2em 0}\
table.cards td[data-label]::before{content:attr(data-label);display:block;font-size:.85em;color:var(--muted)}\
dl.summary{grid-template-columns:1fr}dl.summary dt{border-bottom:0}\
}";

/// The frame of every page: a skip link, the header (navigation, language switch, who is
/// signed in), the page, and a footer that links the accessibility statement.
fn shell(lang: Lang, who: Option<&Who>, switch_to: &str, title: &str, body: &str) -> String {
    let rtl = lang == Lang::Ar;
    let other = if rtl { "English" } else { "العربية" };
    let mut h = format!(
        "<!DOCTYPE html><html lang=\"{}\" dir=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} · {}</title>\
         <style>{STYLE}</style></head><body><a class=\"skip\" href=\"#main\">{}</a><header>\
         <a class=\"brand\" href=\"/\">{}</a>",
        lang_code(lang),
        if rtl { "rtl" } else { "ltr" },
        esc(title),
        w(lang, "title"),
        w(lang, "skip"),
        w(lang, "title"),
    );
    if who.is_some() {
        let _ = write!(
            h,
            "<a href=\"/\">{}</a><a href=\"/review\">{}</a>",
            w(lang, "overview"),
            w(lang, "review")
        );
    }
    let _ = write!(
        h,
        "<a id=\"lang-switch\" href=\"{}\" lang=\"{}\" hreflang=\"{}\">{other}</a>",
        esc(switch_to),
        if rtl { "en" } else { "ar" },
        if rtl { "en" } else { "ar" }
    );
    if let Some(who) = who {
        let _ = write!(
            h,
            "<span class=\"who\">{} ({})</span><form class=\"inline\" method=\"post\" \
             action=\"/logout\">{}<button>{}</button></form>",
            esc(&who.name),
            term(lang, who.role.as_str()),
            csrf_field(who),
            w(lang, "sign_out")
        );
    }
    let _ = write!(
        h,
        "</header><main id=\"main\">{body}</main><footer><a href=\"/accessibility\">{}</a></footer></body></html>",
        w(lang, "statement")
    );
    h
}

/// Text kept left to right inside Arabic text (numbers, ranges, codes of other systems).
fn ltr(s: &str) -> String {
    format!("<bdi dir=\"ltr\" class=\"nb\">{}</bdi>", esc(s))
}

/// An id (centre, number): isolated, left to right, never broken across lines.
fn id_bdi(s: &str) -> String {
    format!("<bdi dir=\"ltr\" class=\"id\">{}</bdi>", esc(s))
}

/// A URL: isolated and left to right, but free to break anywhere on a narrow screen.
fn url_bdi(s: &str) -> String {
    format!("<bdi dir=\"ltr\" class=\"url\">{}</bdi>", esc(s))
}

fn esc(s: &str) -> String {
    crate::report::html::esc(s)
}

/// A table of rows that becomes one card per row on a phone: each cell carries its column's
/// name. `rows` are (the row's class, its cells as HTML).
fn cards(id: Option<&str>, heads: &[&str], rows: &[(&str, Vec<String>)]) -> String {
    let mut h = format!(
        "<div class=\"wide\"><table class=\"cards\"{}><thead><tr>",
        id.map_or(String::new(), |i| format!(" id=\"{i}\""))
    );
    for head in heads {
        let _ = write!(h, "<th scope=\"col\">{}</th>", esc(head));
    }
    h += "</tr></thead><tbody>";
    for (class, cells) in rows {
        if class.is_empty() {
            h += "<tr>";
        } else {
            let _ = write!(h, "<tr class=\"{class}\">");
        }
        for (head, cell) in heads.iter().zip(cells) {
            let _ = write!(h, "<td data-label=\"{}\">{cell}</td>", esc(head));
        }
        h += "</tr>";
    }
    h + "</tbody></table></div>"
}

/// A summary list (label: value pairs) as GOV.UK lays one out; `rows` are (label, HTML).
fn summary_list(rows: &[(&str, String)]) -> String {
    let mut h = String::from("<dl class=\"summary\">");
    for (k, v) in rows {
        let _ = write!(h, "<div><dt>{}</dt><dd>{v}</dd></div>", esc(k));
    }
    h + "</dl>"
}

/// The newest `limit` results of a centre on a channel.
async fn latest(
    app: &App,
    centre: &str,
    channel: &str,
    limit: i64,
    lang: Lang,
) -> Result<Vec<StoredResult>, Failure> {
    app.store
        .results(&ResultFilter {
            centre_id: Some(centre.to_string()),
            channel: Some(channel.to_string()),
            limit: Some(limit),
            newest_first: true,
            ..ResultFilter::default()
        })
        .await
        .map_err(|e| internal(lang, e))
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
            &format!(
                "<h1>{}</h1><p><a href=\"/login\">{}</a></p>",
                w(lang, "sign_in"),
                w(lang, "sign_in")
            ),
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
            tracing::warn!(
                user = ?name,
                %address,
                "sign-in refused unchecked: {why}; retry after {secs} s"
            );
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
        tracing::warn!(user = ?name, %address, "sign-in failed");
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

/// A page that could not be shown: its status, the word of its title, and what to say, in
/// the page's language (HTML); `detail` is raqib's own message for engineers.
struct Failure {
    status: StatusCode,
    title: &'static str,
    message: String,
    detail: Option<String>,
}

impl Failure {
    fn new(status: StatusCode, title: &'static str, message: String) -> Failure {
        Failure {
            status,
            title,
            message,
            detail: None,
        }
    }
}

/// The 404 of a missing thing: the word of `what` and the id asked for.
fn not_found(lang: Lang, what: &str, asked: &str) -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("{}: {}", w(lang, what), id_bdi(asked)),
    )
}

fn internal(lang: Lang, e: impl std::fmt::Display) -> Failure {
    Failure {
        detail: Some(e.to_string()),
        ..Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            w(lang, "server_error_text").to_string(),
        )
    }
}

type Page = Result<(String, String), Failure>;

/// A signed-in page or form.
pub(super) async fn page(app: &App, who: &Who, req: Request<Incoming>) -> Reply {
    let (lang, set_lang) = lang_of(&req);
    let path = req.uri().path().to_string();
    let switch = switch_link(&req, lang);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let got = match (req.method().clone(), segments.as_slice()) {
        (Method::GET, [""]) => overview::page(app, &req, lang).await,
        (Method::GET, ["centres", id]) => centre::page(app, who, &req, id, lang).await,
        (Method::GET, ["results", id]) => result::page(app, who, id, lang).await,
        (Method::GET, ["review"]) => review::page(app, lang).await,
        (Method::POST, _) => {
            let id = segments.get(1).map(|s| s.to_string());
            return post(app, who, req, &path, id, lang).await;
        }
        _ => Err(Failure::new(
            StatusCode::NOT_FOUND,
            "not_found",
            w(lang, "no_page").to_string(),
        )),
    };
    match got {
        Ok((title, body)) => html(
            StatusCode::OK,
            lang,
            set_lang,
            shell(lang, Some(who), &switch, &title, &body),
        ),
        Err(f) => failure_page(lang, set_lang, Some(who), &switch, f),
    }
}

/// A localized error page: its title and message in the page's language.
fn failure_page(lang: Lang, set_lang: bool, who: Option<&Who>, switch: &str, f: Failure) -> Reply {
    let title = w(lang, f.title);
    let detail = f.detail.map_or(String::new(), |d| {
        format!("<pre lang=\"en\" id=\"error-detail\">{}</pre>", esc(&d))
    });
    let body = format!(
        "<h1>{title}</h1><p class=\"error\" id=\"error\">{}</p>{detail}<p><a href=\"/\">{}</a></p>",
        f.message,
        w(lang, "back")
    );
    html(
        f.status,
        lang,
        set_lang,
        shell(lang, who, switch, title, &body),
    )
}

/// `GET /accessibility`: what raqib's own pages promise and how that is checked.
pub(super) fn statement(req: &Request<Incoming>, who: Option<&Who>) -> Reply {
    let (lang, set_lang) = lang_of(req);
    let body = match lang {
        Lang::Ar => "<h1>بيان إمكانية الوصول</h1>\
            <p>صُممت صفحات رقيب لتكون قابلة للاستخدام بقارئات الشاشة ولوحة المفاتيح وعلى شاشات الهاتف، \
            بالعربية من اليمين إلى اليسار وبالإنجليزية.</p>\
            <ul><li>تُفحص كل صفحة من صفحات اللوحة آليًا بأداة axe-core وفق معايير WCAG 2.2 بمستوييها A وAA، \
            وبفحوص الخدمة العربية التي يجريها رقيب على مواقع المراكز، ويُشترط ألا تظهر أي مخالفة.</li>\
            <li>لكل رسم بياني عنوان ووصف نصي وجدول بالأرقام نفسها.</li>\
            <li>لا تعتمد الصفحات على اللون وحده: لكل فئة ولكل تغيّر كلمة وسهم.</li></ul>\
            <p>الفحص الآلي لا يثبت المطابقة الكاملة. للإبلاغ عن عائق، راسل وحدة الأداء التي تدير رقيب.</p>"
            .to_string(),
        Lang::En => "<h1>Accessibility statement</h1>\
            <p>raqib's pages are made to be used with a screen reader, with the keyboard and on a \
            phone, in Arabic (right to left) and in English.</p>\
            <ul><li>Every page of the dashboard is checked automatically with axe-core against WCAG 2.2 \
            A and AA, and with the Arabic service checks raqib makes of centres' sites; no violation is allowed.</li>\
            <li>Every chart has a title, a description in words and a table of the same figures.</li>\
            <li>Nothing relies on colour alone: every band and every change has a word and an arrow.</li></ul>\
            <p>An automated check is not a conformance claim. To report a barrier, write to the \
            performance unit that runs raqib.</p>"
            .to_string(),
    };
    let switch = format!(
        "/accessibility?lang={}",
        if lang == Lang::Ar { "en" } else { "ar" }
    );
    html(
        StatusCode::OK,
        lang,
        set_lang,
        shell(lang, who, &switch, w(lang, "statement"), &body),
    )
}

/// The period asked for (`?period=`), else this month; a period that does not parse is a
/// 400 that says, in the page's language, how to write one.
fn period_of(req: &Request<Incoming>, lang: Lang) -> Result<Period, Failure> {
    match param(req, "period").filter(|p| !p.trim().is_empty()) {
        Some(p) => Period::parse(&p).map_err(|_| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("{} {}", ltr(&p), w(lang, "bad_period")),
            )
        }),
        None => Ok(Period::month_of(chrono::Utc::now())),
    }
}

/// A centre's name in the page's language.
fn name_of<'a>(lang: Lang, ar: &'a str, en: &'a str) -> &'a str {
    if lang == Lang::Ar {
        ar
    } else {
        en
    }
}

fn centre_link(id: &str, period: &str, label: &str) -> String {
    format!(
        "<a href=\"/centres/{}?period={}\">{}</a>",
        enc(id),
        enc(period),
        esc(label)
    )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Agencies' Arabic names from the registry (`agency_ar`), by their stored name: a page in
/// Arabic shows those, and the stored name where a centre gives none.
struct Agencies(HashMap<String, String>);

impl Agencies {
    async fn load(app: &App, lang: Lang) -> Result<Agencies, Failure> {
        let mut m = HashMap::new();
        if lang == Lang::Ar {
            m.extend(
                app.store
                    .agency_names_ar()
                    .await
                    .map_err(|e| internal(lang, e))?,
            );
        }
        Ok(Agencies(m))
    }

    fn name<'a>(&'a self, agency: &'a str) -> &'a str {
        self.0.get(agency).map_or(agency, String::as_str)
    }
}

/// A stored evidence path, if it is a readable file inside the evidence directory.
async fn evidence_file(app: &App, stored: &str) -> Option<PathBuf> {
    let root = tokio::fs::canonicalize(app.store.evidence_dir())
        .await
        .ok()?;
    let full = tokio::fs::canonicalize(stored).await.ok()?;
    full.starts_with(&root).then_some(full)
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

/// Forms: sign-out, labels, probe now. Each checks the session's form token.
async fn post(
    app: &App,
    who: &Who,
    req: Request<Incoming>,
    path: &str,
    id: Option<String>,
    lang: Lang,
) -> Reply {
    let fail =
        |status: StatusCode, title: &'static str, message: String, detail: Option<String>| {
            failure_page(
                lang,
                false,
                Some(who),
                "/",
                Failure {
                    status,
                    title,
                    message,
                    detail,
                },
            )
        };
    let refused = |key: &str| {
        fail(
            StatusCode::FORBIDDEN,
            "refused_title",
            w(lang, key).to_string(),
            None,
        )
    };
    let probe_failed = |s: StatusCode, m: String| {
        fail(
            s,
            "probe_failed",
            w(lang, "probe_failed").to_string(),
            Some(m),
        )
    };
    let f = match super::body(app, req).await {
        Ok(b) => form(&b),
        Err((s, m)) => {
            return fail(
                s,
                "bad_request",
                w(lang, "bad_request").to_string(),
                Some(m),
            )
        }
    };
    if let Some(s) = &who.session {
        if field(&f, "_csrf") != Some(auth::csrf_of(s).as_str()) {
            return refused("stale_form");
        }
    }
    match path {
        "/logout" => {
            if let Some(s) = &who.session {
                if let Err(e) = app.store.end_session(s).await {
                    return failure_page(lang, false, Some(who), "/", internal(lang, e));
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
                return refused("auditor_needed");
            }
            let channel = field(&f, "channel").unwrap_or("");
            let target = field(&f, "target").unwrap_or("");
            match super::probe_now(app, channel, target, false, false, None).await {
                Ok(ids) if !ids.is_empty() => redirect(&format!("/results/{}", ids[0]), None),
                Ok(_) => probe_failed(StatusCode::BAD_REQUEST, w(lang, "nothing_probed").into()),
                Err((s, m)) => probe_failed(s, m),
            }
        }
        _ if path.ends_with("/label") && path.starts_with("/results/") => {
            if who.role < Role::Auditor {
                return refused("auditor_needed");
            }
            let Some(rid) = id.as_deref().and_then(|i| i.parse::<i64>().ok()) else {
                let asked = id.unwrap_or_default();
                return failure_page(
                    lang,
                    false,
                    Some(who),
                    "/",
                    not_found(lang, "no_result", &asked),
                );
            };
            let ttp = match field(&f, "time_to_person").map(str::trim) {
                None | Some("") => None,
                Some(t) => match t.parse::<f64>() {
                    Ok(v) => Some(v),
                    Err(_) => {
                        return fail(
                            StatusCode::BAD_REQUEST,
                            "bad_request",
                            format!("{} {}", ltr(t), w(lang, "not_seconds")),
                            None,
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
                Err((s, m)) => fail(s, "bad_request", w(lang, "bad_request").into(), Some(m)),
            }
        }
        _ => fail(
            StatusCode::NOT_FOUND,
            "not_found",
            w(lang, "no_page").to_string(),
            None,
        ),
    }
}
