//! Alerts by webhook: one JSON POST through reqwest over HTTP/1.1 (rustls with ring and the
//! system's CAs for https, the proxy from the environment, only 307/308 redirects followed),
//! success being any 2xx status. The kind's keys: a contact's `webhook` URL and `format`
//! (raqib's own JSON, Slack or Microsoft Teams).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::message::{texts, Payload, Text};
use super::notifier::{self, Notifier, NotifierKind, NotifyError};
use super::AlertError;
use crate::config::{
    refuse_contact, AlertLang, AlertsConfig, Config, ConfigDoc, ConfigError, ContactConfig,
    Refusal,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    #[default]
    Json,
    Slack,
    Teams,
}

/// A contact's keys of this kind.
#[derive(Debug, Deserialize)]
struct WebhookContact {
    /// A webhook URL (http or https).
    #[allow(dead_code)] // read to refuse a wrong type at its line
    webhook: Option<String>,
    /// The webhook's payload: `json` (raqib's own), `slack` or `teams`.
    #[serde(default)]
    format: WebhookFormat,
}

/// The `webhook` kind of contact.
pub struct Webhook;

impl NotifierKind for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn options(&self) -> &'static [&'static str] {
        &["format"]
    }

    fn read(&self, doc: &ConfigDoc) -> Result<(), ConfigError> {
        notifier::read_contacts::<WebhookContact>(doc)
    }

    fn check_contact(
        &self,
        _alerts: &AlertsConfig,
        i: usize,
        c: &ContactConfig,
    ) -> Result<(), Refusal> {
        let w = notifier::address(c, "webhook");
        if !(w.starts_with("http://") || w.starts_with("https://")) {
            return Err(refuse_contact(
                i,
                "webhook",
                "not an http(s) URL (it must start with http:// or https://)",
            ));
        }
        Ok(())
    }

    /// `webhook:` and the URL without its secret (its path and credentials).
    fn target(&self, c: &ContactConfig) -> String {
        format!(
            "webhook:{}",
            crate::redact::webhook(notifier::address(c, "webhook"))
        )
    }

    /// Deliveries stored before webhook URLs were redacted named the whole URL.
    fn legacy_target(&self, c: &ContactConfig) -> Option<String> {
        Some(format!("webhook:{}", notifier::address(c, "webhook")))
    }

    fn help(&self) -> [&'static str; 2] {
        [
            "",
            "  [[alerts.contact]]\n  \
             agency = \"*\"\n  \
             webhook = \"https://hooks.slack.com/services/...\"\n  \
             format = \"slack\"                    # json | slack | teams",
        ]
    }

    fn notifier(&self, config: &Config) -> Result<Box<dyn Notifier>, AlertError> {
        let timeout = super::email::timeout(&config.alerts);
        Ok(Box::new(WebhookNotifier {
            client: Client::new(timeout).map_err(|e| AlertError::Setup(e.to_string()))?,
            timeout,
        }))
    }
}

/// Webhooks set up for a run.
struct WebhookNotifier {
    /// Built once for every webhook of the run.
    client: Client,
    timeout: Duration,
}

impl Notifier for WebhookNotifier {
    fn deliver<'a>(
        &'a self,
        contact: &'a ContactConfig,
        p: &'a Payload,
    ) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(async move {
            let format = notifier::options::<WebhookContact>(contact)
                .map_err(|e| NotifyError::Send(e.to_string()))?
                .format;
            let body = body(p, contact.lang, format);
            let url = notifier::address(contact, "webhook");
            post(&self.client, url, &body, self.timeout)
                .await
                .map_err(|e| NotifyError::Send(e.to_string()))
        })
    }
}

/// A webhook's JSON body.
pub fn body(p: &Payload, lang: AlertLang, format: WebhookFormat) -> Value {
    let t = texts(p, lang);
    let joined =
        |f: &dyn Fn(&Text) -> String| t.iter().map(|(_, x)| f(x)).collect::<Vec<_>>().join("\n\n");
    match format {
        WebhookFormat::Json => {
            let messages: serde_json::Map<String, Value> =
                t.iter().map(|(l, x)| (l.to_string(), json!(x))).collect();
            json!({ "raqib": "alert", "alert": p, "messages": messages })
        }
        WebhookFormat::Slack => json!({
            "text": joined(&|x| format!("*{}*\n{}", x.subject, x.body)),
        }),
        WebhookFormat::Teams => {
            let mut body = Vec::new();
            for (l, x) in &t {
                let rtl = *l == "ar";
                body.push(
                    json!({"type": "TextBlock", "text": x.subject, "weight": "Bolder",
                                 "size": "Medium", "wrap": true, "rtl": rtl}),
                );
                body.push(json!({"type": "TextBlock", "text": x.body, "wrap": true, "rtl": rtl}));
            }
            json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.5",
                        "body": body,
                    }
                }]
            })
        }
    }
}

/// Why a POST to a webhook (or an HTTP gateway) failed, in the words deliveries record. No
/// message names the URL's path or query (a webhook's secret): only its host and port.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("TLS settings: {0}")]
    TlsSetup(#[from] rustls::Error),
    #[error("HTTP client settings: {0}")]
    Setup(String),
    #[error("bad URL: {0}")]
    BadUrl(#[from] url::ParseError),
    #[error("URL without host")]
    NoHost,
    /// `via`: ` through proxy HOST:PORT` when the environment named one for this URL.
    #[error("connect {host}{via}: {detail}")]
    Connect {
        host: String,
        via: String,
        detail: String,
    },
    #[error("TLS with {host}: {detail}")]
    Tls { host: String, detail: String },
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error(transparent)]
    Redirect(#[from] RedirectRefused),
    #[error("HTTP with {host}: {detail}")]
    Http { host: String, detail: String },
    #[error("HTTP status {0}")]
    Status(u16),
}

/// A redirect the webhook client will not follow; named by its status and Location's host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectRefused {
    #[error("redirect {status} to {host} refused: only 307 and 308 re-send a POST with its body")]
    Method { status: u16, host: String },
    #[error("redirect to http://{host} refused: it would leave https")]
    Downgrade { host: String },
    #[error("redirect to {host} refused: more than {MAX_REDIRECTS} redirects")]
    TooMany { host: String },
    #[error("redirect to a {scheme} URL refused: only http and https")]
    Scheme { scheme: String },
}

/// At most this many redirects for one POST: a receiver that moved needs one or two, more is
/// a loop.
pub const MAX_REDIRECTS: usize = 3;
/// At most this much of a response body is read. A receiver's answer matters only by its
/// status; reading a little lets the connection be kept for the next alert, and a broken or
/// hostile receiver sending an endless body cannot fill memory or hold the delivery.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Longest wait for a connection (TCP, and through a proxy), within a delivery's own timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS settings for https webhooks: the ring provider and the system's CAs, read once.
fn tls_config() -> Result<rustls::ClientConfig, PostError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The HTTP client for webhooks (and HTTP gateways), built once per notifier: it reads the
/// system's CA files and the proxy variables, and keeps connections for the next alert.
pub struct Client {
    http: reqwest::Client,
    /// The proxy rules reqwest read from the environment, read alike beside it, so that a
    /// connect error can name the proxy it went through.
    proxies: hyper_util::client::proxy::matcher::Matcher,
}

impl Client {
    /// `timeout` bounds each whole POST; connecting gets at most 10 s of it.
    pub fn new(timeout: Duration) -> Result<Client, PostError> {
        Ok(Client {
            http: http_client(timeout)?.build().map_err(setup)?,
            proxies: hyper_util::client::proxy::matcher::Matcher::from_system(),
        })
    }

    /// A client that ignores the proxy variables: for tests of loopback peers, whatever the
    /// environment they run in.
    #[cfg(test)]
    fn direct(timeout: Duration) -> Client {
        Client {
            http: http_client(timeout).unwrap().no_proxy().build().unwrap(),
            proxies: hyper_util::client::proxy::matcher::Matcher::builder().build(),
        }
    }

    /// ` through proxy HOST:PORT` when `u` goes through a proxy, else nothing. The proxy's
    /// URL may carry credentials: only its host and port are named.
    fn via(&self, u: &url::Url) -> String {
        let proxy = u
            .as_str()
            .parse::<http::Uri>()
            .ok()
            .and_then(|uri| self.proxies.intercept(&uri));
        match proxy.as_ref().and_then(|p| p.uri().authority()) {
            Some(a) => {
                let host = a.host();
                match a.port_u16() {
                    Some(port) => format!(" through proxy {host}:{port}"),
                    None => format!(" through proxy {host}"),
                }
            }
            None => String::new(),
        }
    }
}

fn http_client(timeout: Duration) -> Result<reqwest::ClientBuilder, PostError> {
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        // The proxy comes from HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY (or their
        // lower-case forms), read here: reqwest's default, kept by adding no `.proxy()`.
        .redirect(reqwest::redirect::Policy::custom(|a| match judge_redirect(
            a.status().as_u16(),
            a.url(),
            a.previous(),
        ) {
            Ok(()) => a.follow(),
            Err(e) => a.error(e),
        }))
        // A Referer would hand the webhook's URL, secret and all, to the redirect's target.
        .referer(false)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .user_agent(concat!("raqib/", env!("CARGO_PKG_VERSION"))))
}

fn setup(e: reqwest::Error) -> PostError {
    PostError::Setup(causes(&e))
}

/// Whether a webhook's POST follows a redirect to `next` (`previous`: the URLs requested so
/// far). 301, 302 and 303 make a client re-send a POST as a GET without its body: the
/// receiver would answer 200 and the alert be lost, so they are errors, as is a redirect
/// from https to http (the alert in clear), to another scheme, or past `MAX_REDIRECTS`.
fn judge_redirect(
    status: u16,
    next: &url::Url,
    previous: &[url::Url],
) -> Result<(), RedirectRefused> {
    let host = host_port(next);
    if !matches!(next.scheme(), "http" | "https") {
        return Err(RedirectRefused::Scheme {
            scheme: next.scheme().to_string(),
        });
    }
    if !matches!(status, 307 | 308) {
        return Err(RedirectRefused::Method { status, host });
    }
    if previous.iter().any(|u| u.scheme() == "https") && next.scheme() == "http" {
        return Err(RedirectRefused::Downgrade { host });
    }
    if previous.len() > MAX_REDIRECTS {
        return Err(RedirectRefused::TooMany { host });
    }
    Ok(())
}

/// `host` or `host:port` (a port the URL names), never the path.
fn host_port(u: &url::Url) -> String {
    let host = u.host_str().unwrap_or("?");
    match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// Posts `body` to `url` within `timeout`; an error says what failed (connect, TLS, timeout,
/// redirect, status) without the URL's path. Also for a kind that talks to an HTTP gateway.
pub async fn post(
    client: &Client,
    url: &str,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<(), PostError> {
    let u = url::Url::parse(url)?;
    if u.host_str().is_none() {
        return Err(PostError::NoHost);
    }
    let host = format!(
        "{}:{}",
        u.host_str().unwrap_or_default(),
        u.port_or_known_default().unwrap_or(80)
    );
    let fail = |e: reqwest::Error| request_error(e, client, &u, &host, timeout);
    let mut response = client
        .http
        .post(u.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .body(body.to_string())
        .timeout(timeout)
        .send()
        .await
        .map_err(fail)?;
    let status = response.status().as_u16();
    // The status alone decides. The body is read up to MAX_RESPONSE_BYTES, chunk by chunk,
    // and dropped: a 2xx with a larger, endless or stalled body is still delivered (the
    // receiver took the alert; sending it again would repeat it).
    let mut read = 0;
    while read < MAX_RESPONSE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => break,
        }
    }
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(PostError::Status(status))
    }
}

/// A failed request in raqib's words: reqwest's own message names the whole URL, so it is
/// never shown; its causes are, with the URL's path scrubbed should one repeat it.
fn request_error(
    e: reqwest::Error,
    client: &Client,
    u: &url::Url,
    host: &str,
    timeout: Duration,
) -> PostError {
    let scrub = |text: String| {
        let path = &u[url::Position::BeforePath..];
        if path.len() > 1 {
            text.replace(path, "/…")
        } else {
            text
        }
    };
    for c in chain(&e) {
        if let Some(r) = c.downcast_ref::<RedirectRefused>() {
            return PostError::Redirect(r.clone());
        }
        if c.is::<rustls::Error>() {
            return PostError::Tls {
                host: host.to_string(),
                detail: scrub(causes(&e)),
            };
        }
    }
    if e.is_connect() {
        let detail = if e.is_timeout() {
            format!(
                "no connection within {} s",
                CONNECT_TIMEOUT.min(timeout).as_secs()
            )
        } else {
            scrub(causes(&e))
        };
        return PostError::Connect {
            host: host.to_string(),
            via: client.via(u),
            detail,
        };
    }
    if e.is_timeout() {
        return PostError::Timeout(timeout.as_secs());
    }
    PostError::Http {
        host: host.to_string(),
        detail: scrub(causes(&e)),
    }
}

/// The causes of `e`, outermost first. An `io::Error`'s own `source()` skips the error it
/// wraps (where rustls's is), so it is stepped into instead.
fn chain<'e>(
    e: &'e (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'e (dyn std::error::Error + 'static)> {
    std::iter::successors(e.source(), |c| match c.downcast_ref::<std::io::Error>() {
        Some(io) => io
            .get_ref()
            .map(|inner| inner as &(dyn std::error::Error + 'static)),
        None => c.source(),
    })
}

/// The causes of a reqwest error, outermost first, without reqwest's own words (which name
/// the URL) and without the wrappers' empty ones.
fn causes(e: &reqwest::Error) -> String {
    let mut out: Vec<String> = Vec::new();
    for c in chain(e) {
        let text = c.to_string();
        if !text.starts_with("client error (") && out.last() != Some(&text) {
            out.push(text);
        }
    }
    if out.is_empty() {
        "the request failed".into()
    } else {
        out.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::message::{render, tests::flag};

    #[test]
    fn webhook_formats_carry_the_text() {
        let p = flag();
        let j = body(&p, AlertLang::En, WebhookFormat::Json);
        assert_eq!(j["alert"]["centre"]["id"], "jo-amman");
        assert_eq!(j["messages"]["en"]["subject"], render(&p, false).subject);
        assert!(j["messages"].get("ar").is_none());
        let s = body(&p, AlertLang::Ar, WebhookFormat::Slack);
        assert!(s["text"].as_str().unwrap().contains("مركز عمّان"));
        let t = body(&p, AlertLang::Ar, WebhookFormat::Teams);
        let card = &t["attachments"][0]["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["body"][0]["rtl"], true);
    }

    #[test]
    fn only_307_and_308_are_followed_within_https_and_three_hops() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        let from = [u("https://hooks.invalid/services/SECRET")];
        let next = u("https://other.invalid:8443/new/SECRET2");
        assert_eq!(judge_redirect(307, &next, &from), Ok(()));
        assert_eq!(judge_redirect(308, &next, &from), Ok(()));
        for status in [301, 302, 303] {
            let e = judge_redirect(status, &next, &from).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "redirect {status} to other.invalid:8443 refused: \
                     only 307 and 308 re-send a POST with its body"
                )
            );
        }
        let down = judge_redirect(307, &u("http://hooks.invalid/x"), &from).unwrap_err();
        assert_eq!(
            down,
            RedirectRefused::Downgrade {
                host: "hooks.invalid".into()
            }
        );
        let four = [from[0].clone(), next.clone(), next.clone(), next.clone()];
        assert_eq!(judge_redirect(307, &next, &four[..3]), Ok(()));
        let e = judge_redirect(307, &next, &four).unwrap_err();
        assert_eq!(
            e.to_string(),
            "redirect to other.invalid:8443 refused: more than 3 redirects"
        );
        let ftp = judge_redirect(307, &u("ftp://hooks.invalid/x"), &from).unwrap_err();
        assert!(matches!(ftp, RedirectRefused::Scheme { .. }), "{ftp}");
    }

    #[tokio::test]
    async fn a_failed_post_names_the_host_never_the_path() {
        // A port nothing listens on (bound, then released).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let timeout = Duration::from_secs(5);
        let client = Client::direct(timeout);
        let url = format!("http://127.0.0.1:{port}/services/T0/SECRET?token=QSECRET");
        let e = post(&client, &url, &json!({}), timeout).await.unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, PostError::Connect { .. }), "{text}");
        assert!(
            text.starts_with(&format!("connect 127.0.0.1:{port}: ")),
            "{text}"
        );
        assert!(
            !text.contains("SECRET") && !text.contains("services"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn https_to_a_plain_http_peer_is_a_tls_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut s, _) = listener.accept().unwrap();
            let _ = s.read(&mut [0u8; 1024]);
            let _ = s.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n");
        });
        let timeout = Duration::from_secs(5);
        let url = format!("https://127.0.0.1:{port}/services/SECRET");
        let e = post(&Client::direct(timeout), &url, &json!({}), timeout)
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, PostError::Tls { .. }), "{text}");
        assert!(
            text.starts_with(&format!("TLS with 127.0.0.1:{port}: ")),
            "{text}"
        );
        assert!(!text.contains("SECRET"), "{text}");
    }
}
