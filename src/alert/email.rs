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
    // Mail clients ignore most CSS: tables for layout, inline styles, one button.
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head>\
         <body style=\"margin:0;padding:16px;background:#f3f4f6\">",
    );
    for (l, x) in &t {
        let dir = if *l == "ar" { "rtl" } else { "ltr" };
        let font = if *l == "ar" {
            "'Noto Naskh Arabic','Noto Sans Arabic',Tahoma,sans-serif"
        } else {
            "'Noto Sans',Arial,sans-serif"
        };
        let align = if *l == "ar" { "right" } else { "left" };
        html += &format!(
            "<table role=\"presentation\" lang=\"{l}\" dir=\"{dir}\" width=\"100%\" \
             cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:640px;margin:0 auto 16px;\
             background:#ffffff;border:1px solid #d1d5db;font-family:{font};font-size:16px;\
             line-height:1.6;color:#111827;text-align:{align}\"><tr><td style=\"padding:16px\">\
             <h2 style=\"margin:0 0 12px;font-size:20px\">{}</h2>",
            html_of(&x.subject)
        );
        if !x.rows.is_empty() {
            html += "<table role=\"presentation\" width=\"100%\" cellpadding=\"6\" cellspacing=\"0\" style=\"border-collapse:collapse\">";
            for (k, v) in &x.rows {
                html += &format!(
                    "<tr><th scope=\"row\" style=\"text-align:{align};vertical-align:top;\
                     white-space:nowrap;border-bottom:1px solid #e5e7eb;color:#374151\">{}</th>\
                     <td style=\"border-bottom:1px solid #e5e7eb\">{}</td></tr>",
                    html_of(k),
                    html_of(v)
                );
            }
            html += "</table>";
        }
        for n in &x.notes {
            html += &format!("<p style=\"margin:12px 0 0\">{}</p>", html_of(n));
        }
        if let Some((head, body)) = &x.calls {
            // Two columns, each stacking its parts, so that the table fits a phone's 390 px
            // (six columns did not, and mail clients honour no layout switch): when and which
            // number; what happened, with each further part named, and the evidence linked.
            let caption = if *l == "ar" { "أسوأ المكالمات" } else { "Worst calls" };
            let (call, what) = if *l == "ar" {
                ("المكالمة", "ما جرى")
            } else {
                ("Call", "What happened")
            };
            let cell = "border:1px solid #e5e7eb;vertical-align:top;word-break:break-word";
            html += &format!(
                "<table width=\"100%\" cellpadding=\"6\" cellspacing=\"0\" \
                 style=\"border-collapse:collapse;margin-top:16px;font-size:14px\">\
                 <caption style=\"text-align:{align};font-weight:bold;padding-bottom:4px\">{caption}</caption>\
                 <tr><th scope=\"col\" style=\"text-align:{align};background:#f3f4f6;{cell}\">{call}</th>\
                 <th scope=\"col\" style=\"text-align:{align};background:#f3f4f6;{cell}\">{what}</th></tr>"
            );
            for r in body {
                let part = |i: usize| r.get(i).map(String::as_str).unwrap_or_default();
                let mut lines = Vec::new();
                for (i, value) in r.iter().enumerate().skip(2) {
                    // The evidence: a link when it is one. A long URL would widen the table
                    // past a phone's screen: the link carries it, the cell names the result.
                    let plain = value.trim_matches(['\u{2068}', '\u{2069}']);
                    if i + 1 == r.len() && plain.starts_with("http") {
                        let id = plain.rsplit('/').next().unwrap_or(plain);
                        let words = if *l == "ar" { "النتيجة" } else { "result" };
                        lines.push(format!(
                            "<a href=\"{}\">{words} <bdi dir=\"ltr\">{}</bdi></a>",
                            escape(plain),
                            escape(id)
                        ));
                    } else if i == 2 {
                        lines.push(format!("<strong>{}</strong>", html_of(value)));
                    } else {
                        let name = head.get(i).map(String::as_str).unwrap_or_default();
                        lines.push(format!("{}: {}", html_of(name), html_of(value)));
                    }
                }
                html += &format!(
                    "<tr><td style=\"{cell}\">{}<br><bdi dir=\"ltr\" style=\"white-space:nowrap\">{}</bdi></td>\
                     <td style=\"{cell}\">{}</td></tr>",
                    html_of(part(0)),
                    escape(part(1).trim_matches(['\u{2068}', '\u{2069}'])),
                    lines.join("<br>")
                );
            }
            html += "</table>";
        }
        if let Some((words, url)) = &x.link {
            html += &format!(
                "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" style=\"margin-top:20px\">\
                 <tr><td style=\"background:#1d4ed8;border-radius:4px\">\
                 <a href=\"{}\" style=\"display:inline-block;padding:10px 18px;color:#ffffff;\
                 text-decoration:none;font-weight:bold\">{}</a></td></tr></table>",
                escape(url),
                html_of(words)
            );
        }
        html += "</td></tr></table>";
    }
    html += "</body></html>";
    (subject, text, html)
}

/// Escaped text whose FSI…PDI isolates become `<bdi>`: marked left to right when they hold
/// no Arabic letter (figures, ids, URLs), so that the order does not rest on a mail client's
/// support for `<bdi>`'s automatic direction; else by their first strong letter.
fn html_of(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find('\u{2068}') {
        out += &escape(&rest[..start]);
        let after = &rest[start + '\u{2068}'.len_utf8()..];
        let end = after.find('\u{2069}').unwrap_or(after.len());
        let inner = &after[..end];
        let rtl = inner.chars().any(|c| ('\u{0590}'..='\u{08ff}').contains(&c));
        let open = if rtl { "<bdi>" } else { "<bdi dir=\"ltr\">" };
        out += &format!("{open}{}</bdi>", escape(inner));
        rest = after.get(end + '\u{2069}'.len_utf8()..).unwrap_or("");
    }
    out + &escape(rest)
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
    use crate::alert::message::{render, tests::flag, WorstCall};

    #[test]
    fn an_email_carries_both_languages_arabic_right_to_left() {
        let (ar, en) = (render(&flag(), true), render(&flag(), false));
        let (subject, text, html) = message(&flag(), AlertLang::Both);
        assert_eq!(subject, format!("{} | {}", ar.subject, en.subject));
        assert!(text.starts_with(&ar.body) && text.ends_with(&en.body));
        assert!(html.contains("dir=\"rtl\"") && html.contains("dir=\"ltr\""));
    }

    /// A flag as `alerts run` stores it: reason, due date, link, zone, three worst calls.
    fn full_flag() -> Payload {
        let mut p = flag();
        p.link = Some("https://raqib.unit.example/centres/jo-amman?period=2026-12".into());
        p.timezone = Some("Asia/Amman".into());
        p.period = Some("2026-12".into());
        p.class = Some("insufficient_data".into());
        p.reason = Some(crate::alert::message::Reason {
            calls: 6,
            answered: 5,
            no_person: 4,
            median_ring_secs: Some(45.0),
        });
        p.due_on = Some("2027-03-11".into());
        p.critical = vec![crate::alert::message::CriticalRef {
            kind: "number_not_in_service".into(),
            detail: "+96265000101 is not in service (1 calls)".into(),
            results: vec![7],
        }];
        p.follow_up_days = Some(100);
        let call = p.worst_calls[0].clone();
        p.worst_calls = (0..3)
            .map(|n| WorstCall {
                id: 7 + n,
                started_at: format!("2026-12-0{}T12:21:00.000Z", n + 1),
                outcome: ["not_in_service", "no_answer", "answered"][n as usize].into(),
                answer_type: (n == 2).then(|| "ivr".into()),
                ring_secs: Some(45.0),
                answer_secs: (n == 2).then_some(45.0),
                evidence: Some(format!("https://raqib.unit.example/results/{}", 7 + n)),
                ..call.clone()
            })
            .collect();
        p
    }

    #[test]
    fn a_mail_gives_reason_due_date_link_and_local_times_in_words() {
        let p = full_flag();
        let (_, ar_text, ar_html) = message(&p, AlertLang::Ar);
        let (_, en_text, en_html) = message(&p, AlertLang::En);
        for want in [
            "السبب: لم يُرد موظف في 4 من 6 مكالمات (رُدّ على 5 منها)؛ وسيط مدة الرنين 45 ث",
            "المطلوب: خطة تحسين خلال 100 يومًا، أي قبل \u{2068}2027-03-11\u{2069}",
            "\u{2068}2026-12-01 15:21\u{2069} توقيت عمّان",
            "الفترة: \u{2068}2026-12\u{2069}",
            "تنبيه حرج: الرقم \u{2068}+96265000101\u{2069} خارج الخدمة (1 مكالمات) (النتائج 7)",
            "\u{2068}https://raqib.unit.example/centres/jo-amman?period=2026-12\u{2069}",
        ] {
            assert!(ar_text.contains(want), "no {want:?} in {ar_text}");
        }
        for want in [
            "Reason: no person reached in 4 of 6 calls (5 answered); median ring 45 s",
            "Requested: an improvement plan within 100 days, by 2027-03-11",
            "2026-12-01 15:21 Amman time",
            "Class: insufficient data",
        ] {
            assert!(en_text.contains(want), "no {want:?} in {en_text}");
        }
        assert!(ar_html.contains("<bdi dir=\"ltr\">2026-12</bdi>") && ar_html.contains("dir=\"rtl\""));
        assert!(ar_html.contains(
            "href=\"https://raqib.unit.example/centres/jo-amman?period=2026-12\""
        ));
        for shown in [&ar_text, &ar_html, &en_text, &en_html] {
            for code in ["not_in_service", "no_answer", "insufficient_data", "ivr<", ".000Z"] {
                assert!(!shown.contains(code), "{code:?} in {shown}");
            }
        }
        // `RAQIB_MAIL_SHOTS=DIR` keeps the two mails as files, to look at in a browser.
        if let Some(dir) = std::env::var_os("RAQIB_MAIL_SHOTS") {
            let dir = std::path::PathBuf::from(dir);
            std::fs::write(dir.join("alert-ar.html"), &ar_html).unwrap();
            std::fs::write(dir.join("alert-en.html"), &en_html).unwrap();
        }
    }

    #[test]
    fn html_is_escaped() {
        let mut p = flag();
        p.centre.as_mut().unwrap().name_en = "<script>".into();
        let (_, _, html) = message(&p, AlertLang::En);
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));
    }
}
