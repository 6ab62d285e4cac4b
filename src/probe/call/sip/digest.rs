//! HTTP Digest authentication for SIP (RFC 3261 §22, RFC 2617 with qop=auth), MD5. The
//! password never leaves this function's arguments: it is not logged or traced.

use md5::{Digest, Md5};

use super::message::split_commas;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Option<String>,
    pub qop_auth: bool,
}

/// Parses a `WWW-Authenticate` / `Proxy-Authenticate` value; `None` if not Digest/MD5.
pub fn parse_challenge(v: &str) -> Option<Challenge> {
    let rest = v.trim().strip_prefix("Digest")?.trim();
    let mut c = Challenge {
        realm: String::new(),
        nonce: String::new(),
        opaque: None,
        algorithm: None,
        qop_auth: false,
    };
    for item in split_commas(rest) {
        let (k, val) = item.split_once('=')?;
        let val = val.trim().trim_matches('"').to_string();
        match k.trim().to_ascii_lowercase().as_str() {
            "realm" => c.realm = val,
            "nonce" => c.nonce = val,
            "opaque" => c.opaque = Some(val),
            "algorithm" => c.algorithm = Some(val),
            "qop" => c.qop_auth = val.split(',').any(|q| q.trim() == "auth"),
            _ => {}
        }
    }
    if c.nonce.is_empty() {
        return None;
    }
    if let Some(a) = &c.algorithm {
        if !a.eq_ignore_ascii_case("MD5") {
            return None;
        }
    }
    Some(c)
}

fn hex_md5(s: &str) -> String {
    let d = Md5::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Authorization` / `Proxy-Authorization` value for one request.
pub fn authorization(
    c: &Challenge,
    user: &str,
    password: &str,
    method: &str,
    uri: &str,
    nc: u32,
    cnonce: &str,
) -> String {
    let ha1 = hex_md5(&format!("{user}:{}:{password}", c.realm));
    let ha2 = hex_md5(&format!("{method}:{uri}"));
    let mut v = if c.qop_auth {
        let response = hex_md5(&format!("{ha1}:{}:{nc:08x}:{cnonce}:auth:{ha2}", c.nonce));
        format!(
            "Digest username=\"{user}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5, qop=auth, nc={nc:08x}, cnonce=\"{cnonce}\"",
            c.realm, c.nonce
        )
    } else {
        let response = hex_md5(&format!("{ha1}:{}:{ha2}", c.nonce));
        format!(
            "Digest username=\"{user}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5",
            c.realm, c.nonce
        )
    };
    if let Some(o) = &c.opaque {
        v.push_str(&format!(", opaque=\"{o}\""));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2617_example() {
        // RFC 2617 §3.5 (HTTP, but the same computation).
        let c = parse_challenge(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .unwrap();
        let v = authorization(
            &c,
            "Mufasa",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            1,
            "0a4f113b",
        );
        assert!(
            v.contains("response=\"6629fae49393a05397450978507c4ef1\""),
            "{v}"
        );
        assert!(v.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
    }

    #[test]
    fn refuses_other_schemes() {
        assert!(parse_challenge("Basic realm=\"x\"").is_none());
        assert!(parse_challenge("Digest realm=\"x\"").is_none());
        assert!(parse_challenge("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256").is_none());
    }
}
