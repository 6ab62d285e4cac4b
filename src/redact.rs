//! What of a secret-bearing URL may be shown or stored. Credentials ride in URLs in two
//! places raqib meets: user information (`http://user:pw@host/`) and webhook paths (Slack's
//! and Teams' secret is the path itself). Every message, log line and stored row that names
//! such a URL names it through here.

use url::Url;

/// `url` with its user information replaced by `***`; text that is no URL is returned as is.
pub fn url(text: &str) -> String {
    match Url::parse(text) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_password(None);
            let _ = u.set_username("***");
            u.to_string()
        }
        _ => text.to_string(),
    }
}

/// A webhook URL as shown: scheme, host and port, then `/…` when a path or query followed
/// (their secret is elided), and a fingerprint of the whole URL so two webhooks on one host
/// stay apart. The fingerprint is 32 bits of SHA-256: it tells contacts apart, nothing more.
pub fn webhook(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let print: String = digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match Url::parse(text) {
        Ok(u) if u.host_str().is_some() => {
            let host = u.host_str().unwrap_or_default();
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            let rest = if u.path() != "/" || u.query().is_some() {
                "/…"
            } else {
                "/"
            };
            format!("{}://{host}{port}{rest} #{print}", u.scheme())
        }
        _ => format!("(unreadable URL) #{print}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_information_is_never_shown() {
        let shown = super::url("http://user:pw@example.invalid:8080/a?b=c");
        assert_eq!(shown, "http://***@example.invalid:8080/a?b=c");
        assert_eq!(
            super::url("http://example.invalid/"),
            "http://example.invalid/"
        );
        assert_eq!(super::url("not a url"), "not a url");
    }

    #[test]
    fn a_webhook_shows_its_host_and_a_fingerprint_only() {
        let a = super::webhook("https://u:pw@hooks.example.invalid/services/T0/B0/SLACKSECRET");
        assert!(a.starts_with("https://hooks.example.invalid/… #"), "{a}");
        assert!(!a.contains("SLACKSECRET") && !a.contains("pw") && !a.contains("u:"));
        let b = super::webhook("https://hooks.example.invalid/services/T0/B0/OTHER");
        assert_ne!(a, b, "two webhooks on one host stay apart");
        assert!(!super::webhook("https://x.invalid/?token=S").contains('S'));
    }
}
