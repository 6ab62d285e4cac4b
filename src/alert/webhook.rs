//! Alerts by webhook: one JSON POST over HTTP/1.1 (TLS for https, the system's CAs), success
//! being any 2xx status. The kind's keys: a contact's `webhook` URL and `format` (raqib's own
//! JSON, Slack or Microsoft Teams).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpStream;

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
        Ok(Box::new(WebhookNotifier {
            tls: tls_config().map_err(|e| AlertError::Setup(e.to_string()))?,
            timeout: super::email::timeout(&config.alerts),
        }))
    }
}

/// Webhooks set up for a run.
struct WebhookNotifier {
    /// For https webhooks, built once (it reads the system's CA files).
    tls: Arc<rustls::ClientConfig>,
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
            post(url, &body, &self.tls, self.timeout)
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

/// Why a POST to a webhook (or an HTTP gateway) failed, in the words deliveries record.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("{0}")]
    TlsSetup(#[from] rustls::Error),
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("bad URL: {0}")]
    BadUrl(#[from] url::ParseError),
    #[error("URL without host")]
    NoHost,
    #[error("connect {host}:{port}: {source}")]
    Connect {
        host: String,
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Request(#[from] hyper::http::Error),
    #[error("server name {host}: {source}")]
    ServerName {
        host: String,
        #[source]
        source: rustls::pki_types::InvalidDnsNameError,
    },
    #[error("TLS with {host}: {source}")]
    Tls {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    #[error("HTTP status {0}")]
    Status(u16),
}

/// The TLS settings for https webhooks: the system's CAs, read once.
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, PostError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Posts `body` to `url`; an error says what failed (connect, TLS, status). Also for a kind
/// that talks to an HTTP gateway.
pub async fn post(
    url: &str,
    body: &serde_json::Value,
    tls: &Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<(), PostError> {
    tokio::time::timeout(timeout, post_inner(url, body, tls))
        .await
        .unwrap_or_else(|_| Err(PostError::Timeout(timeout.as_secs())))
}

async fn post_inner(
    url: &str,
    body: &serde_json::Value,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<(), PostError> {
    let u = url::Url::parse(url)?;
    let host = u.host_str().ok_or(PostError::NoHost)?.to_string();
    let https = u.scheme() == "https";
    let port = u.port_or_known_default().unwrap_or(80);
    let tcp = TcpStream::connect((host.trim_matches(|c| c == '[' || c == ']'), port))
        .await
        .map_err(|source| PostError::Connect {
            host: host.clone(),
            port,
            source,
        })?;
    let path = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    };
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, u.authority())
        .header(
            hyper::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .header(
            hyper::header::USER_AGENT,
            concat!("raqib/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(body.to_string())))?;
    let status = if https {
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|source| PostError::ServerName {
                host: host.clone(),
                source,
            })?;
        let tls = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|source| PostError::Tls {
                host: host.clone(),
                source,
            })?;
        send(TokioIo::new(tls), request).await?
    } else {
        send(TokioIo::new(tcp), request).await?
    };
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(PostError::Status(status))
    }
}

async fn send<T>(io: T, request: hyper::Request<Full<Bytes>>) -> Result<u16, PostError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(conn);
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    // Read the body so the receiver sees a complete exchange.
    let _ = response.into_body().collect().await;
    Ok(status)
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
}
