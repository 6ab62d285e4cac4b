//! Alerts by email over SMTP (lettre): STARTTLS, TLS or plain to a local relay; the password
//! read from the environment variable `password_env` names, never from the file. The kind's
//! keys: `[alerts.smtp]`, `[alerts] from`, and a contact's `email`.

use std::time::Duration;

use futures::future::BoxFuture;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use super::message::{texts, Payload};
use super::notifier::{self, Notifier, NotifierKind, NotifyError};
use super::AlertError;
use crate::config::{
    refuse, refuse_contact, AlertLang, AlertsConfig, Config, ConfigDoc, ConfigError,
    ContactConfig, Refusal,
};

/// `[alerts.smtp]`: the server alert emails go through.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default: 587 with STARTTLS, 465 with TLS, 25 without.
    pub port: Option<u16>,
    #[serde(default)]
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// The environment variable holding the SMTP password.
    pub password_env: Option<String>,
    /// PEM files of extra CAs to trust (a unit's private CA).
    #[serde(default)]
    pub trust_ca_files: Vec<std::path::PathBuf>,
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
}

fn default_smtp_timeout() -> u64 {
    30
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which the server must offer.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine.
    None,
}

/// A contact's key of this kind.
#[derive(Debug, Deserialize)]
struct EmailContact {
    /// An email address.
    #[allow(dead_code)] // read to refuse a wrong type at its line
    email: Option<String>,
}

/// The `email` kind of contact.
pub struct Email;

fn smtp(alerts: &AlertsConfig) -> Result<Option<SmtpConfig>, notifier::OptionsError> {
    notifier::table(alerts, "smtp")
}

/// How long one delivery may take: `[alerts.smtp] timeout_secs`, 30 s without it. Webhooks
/// wait as long (they have no timeout key of their own).
pub fn timeout(alerts: &AlertsConfig) -> Duration {
    let secs = smtp(alerts).ok().flatten().map_or(30, |s| s.timeout_secs);
    Duration::from_secs(secs)
}

impl NotifierKind for Email {
    fn name(&self) -> &'static str {
        "email"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["smtp"]
    }

    fn read(&self, doc: &ConfigDoc) -> Result<(), ConfigError> {
        doc.read::<SmtpConfig>("alerts.smtp")?;
        notifier::read_contacts::<EmailContact>(doc)
    }

    fn check(&self, a: &AlertsConfig) -> Result<(), Refusal> {
        if !a.from.contains('@') {
            return Err(refuse(
                "alerts.from",
                format!("'{}' is not an email address", a.from),
            ));
        }
        if let Some(m) = smtp(a).map_err(|e| refuse("alerts.smtp", e.to_string()))? {
            match (&m.username, &m.password_env) {
                (Some(_), None) => {
                    return Err(refuse(
                        "alerts.smtp.username",
                        "needs password_env: the name of the environment variable that holds the password",
                    ))
                }
                (None, Some(_)) => return Err(refuse("alerts.smtp.password_env", "needs username")),
                _ => {}
            }
        }
        Ok(())
    }

    fn check_contact(
        &self,
        a: &AlertsConfig,
        i: usize,
        c: &ContactConfig,
    ) -> Result<(), Refusal> {
        let e = notifier::address(c, "email");
        if !e.contains('@') {
            return Err(refuse_contact(
                i,
                "email",
                &format!("'{e}' is not an email address"),
            ));
        }
        if !a.notifier.contains_key("smtp") {
            return Err(refuse_contact(
                i,
                "email",
                "an email contact needs [alerts.smtp]",
            ));
        }
        Ok(())
    }

    fn target(&self, c: &ContactConfig) -> String {
        format!("email:{}", notifier::address(c, "email"))
    }

    fn help(&self) -> [&'static str; 2] {
        [
            "  [alerts.smtp]\n  \
             host = \"smtp.unit.gov.example\"  # security = starttls (default) | tls | none\n  \
             username = \"raqib\"\n  \
             password_env = \"RAQIB_SMTP_PASSWORD\"",
            "  [[alerts.contact]]\n  \
             agency = \"Civil Status Department\"   # or \"*\"\n  \
             email = \"director@csd.gov.example\"\n  \
             lang = \"ar\"                         # ar | en | both",
        ]
    }

    fn notifier(&self, config: &Config) -> Result<Box<dyn Notifier>, AlertError> {
        let smtp = match smtp(&config.alerts).map_err(|e| AlertError::Setup(e.to_string()))? {
            Some(s) => Some(SmtpNotifier::new(&s, &config.alerts.from)?),
            None => None,
        };
        Ok(Box::new(EmailNotifier { smtp }))
    }
}

/// Email set up for a run: without `[alerts.smtp]`, every email delivery fails.
struct EmailNotifier {
    smtp: Option<SmtpNotifier>,
}

impl Notifier for EmailNotifier {
    fn deliver<'a>(
        &'a self,
        contact: &'a ContactConfig,
        p: &'a Payload,
    ) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(async move {
            let smtp = self.smtp.as_ref().ok_or(NotifyError::NotConfigured("smtp"))?;
            let (subject, text, html) = message(p, contact.lang);
            smtp.send(notifier::address(contact, "email"), &subject, text, html)
                .await
        })
    }
}

/// An email's subject, plain text and HTML for a contact's language(s).
pub fn message(p: &Payload, lang: AlertLang) -> (String, String, String) {
    let t = texts(p, lang);
    let subject = t
        .iter()
        .map(|(_, x)| x.subject.as_str())
        .collect::<Vec<_>>()
        .join(" | ");
    let text = t
        .iter()
        .map(|(_, x)| x.body.as_str())
        .collect::<Vec<_>>()
        .join("\n————————\n\n");
    let mut html = String::from("<!DOCTYPE html><html><body>");
    for (l, x) in &t {
        let dir = if *l == "ar" { "rtl" } else { "ltr" };
        html += &format!(
            "<div lang=\"{l}\" dir=\"{dir}\" style=\"font-family:sans-serif\"><h3>{}</h3>{}</div>",
            escape(&x.subject),
            x.body
                .lines()
                .map(|line| format!("<p style=\"margin:0.2em 0\">{}</p>", escape(line)))
                .collect::<String>()
        );
    }
    html += "</body></html>";
    (subject, text, html)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SMTP transport and sender, checked and set up once.
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpNotifier {
    /// Checks the settings (sender, CA files, password variable) without connecting.
    pub fn new(cfg: &SmtpConfig, from: &str) -> Result<SmtpNotifier, AlertError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| AlertError::Setup(format!("alerts.from '{from}': {e}")))?;
        let setup = |e: lettre::transport::smtp::Error| AlertError::Setup(format!("smtp: {e}"));
        let tls = || -> Result<TlsParameters, AlertError> {
            let mut b = TlsParameters::builder(cfg.host.clone());
            for path in &cfg.trust_ca_files {
                let pem = std::fs::read(path).map_err(|e| {
                    AlertError::Setup(format!(
                        "alerts.smtp.trust_ca_files {}: {e}",
                        path.display()
                    ))
                })?;
                let cert = Certificate::from_pem(&pem).map_err(|e| {
                    AlertError::Setup(format!(
                        "alerts.smtp.trust_ca_files {}: {e}",
                        path.display()
                    ))
                })?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls().map_err(setup)
        };
        let (port, tls) = match cfg.security {
            SmtpSecurity::Starttls => (587, Tls::Required(tls()?)),
            SmtpSecurity::Tls => (465, Tls::Wrapper(tls()?)),
            SmtpSecurity::None => (25, Tls::None),
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
            .port(cfg.port.unwrap_or(port))
            .tls(tls)
            .timeout(Some(Duration::from_secs(cfg.timeout_secs)));
        if let (Some(user), Some(var)) = (&cfg.username, &cfg.password_env) {
            let password = std::env::var(var).map_err(|_| {
                AlertError::Setup(format!(
                    "alerts.smtp.password_env: the environment variable {var} is not set"
                ))
            })?;
            b = b.credentials(Credentials::new(user.clone(), password));
        }
        Ok(SmtpNotifier {
            transport: b.build(),
            from,
        })
    }

    /// Sends one message (plain text and HTML alternatives) to `to`.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        text: String,
        html: String,
    ) -> Result<(), NotifyError> {
        let to: Mailbox = to.parse().map_err(|e| NotifyError::Address {
            address: to.to_string(),
            reason: format!("{e}"),
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(html),
                    ),
            )
            .map_err(|e| NotifyError::Send(format!("building the message: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| NotifyError::Send(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::message::{render, tests::flag};

    #[test]
    fn an_email_carries_both_languages_arabic_right_to_left() {
        let (ar, en) = (render(&flag(), true), render(&flag(), false));
        let (subject, text, html) = message(&flag(), AlertLang::Both);
        assert_eq!(subject, format!("{} | {}", ar.subject, en.subject));
        assert!(text.starts_with(&ar.body) && text.ends_with(&en.body));
        assert!(html.contains("dir=\"rtl\"") && html.contains("dir=\"ltr\""));
    }

    #[test]
    fn html_is_escaped() {
        let mut p = flag();
        p.centre.as_mut().unwrap().name_en = "<script>".into();
        let (_, _, html) = message(&p, AlertLang::En);
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));
    }
}
