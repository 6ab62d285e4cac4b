//! Alerts by email over SMTP (lettre): STARTTLS, TLS or plain to a local relay; the password
//! read from the environment variable `password_env` names, never from the file.

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::AlertError;
use crate::config::{SmtpConfig, SmtpSecurity};

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
    ) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("address '{to}': {e}"))?;
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
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
