//! The `Reason` header (RFC 3326): why a request or a response ended a call, as the protocol
//! that decided it says so. Carriers' gateways put the PSTN's own reason there
//! (`Reason: Q.850;cause=17;text="User busy"`). A message may carry several Reason headers and
//! each may hold several comma-separated values; a peer's value is never trusted to be well
//! formed: what does not parse is skipped.

use super::message::Message;

/// The longest `text` kept: a hostile peer's kilobytes are not stored with every result.
const MAX_TEXT: usize = 160;

/// One value of a Reason header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// `Q.850`, `SIP` or another token, as sent.
    pub protocol: String,
    pub cause: u32,
    pub text: Option<String>,
}

impl Reason {
    pub fn is_q850(&self) -> bool {
        self.protocol.eq_ignore_ascii_case("Q.850")
    }
}

/// Every well-formed value of every Reason header of `m`, in order.
pub fn reasons(m: &Message) -> Vec<Reason> {
    m.header_values("reason")
        .iter()
        .filter_map(|v| parse(v))
        .collect()
}

/// The first Q.850 cause (1–127, the range Q.850 defines) of `m`.
pub fn q850(m: &Message) -> Option<Reason> {
    reasons(m)
        .into_iter()
        .find(|r| r.is_q850() && (1..=127).contains(&r.cause))
}

/// Parses one value: `protocol *(; param)`, with `cause` required (RFC 3326 §2).
pub fn parse(v: &str) -> Option<Reason> {
    let mut parts = split_semicolons(v).into_iter();
    let protocol = parts.next()?.trim().to_string();
    if protocol.is_empty() || !protocol.bytes().all(is_token_char) {
        return None;
    }
    let mut cause = None;
    let mut text = None;
    for p in parts {
        let (k, val) = p.split_once('=').unwrap_or((&p, ""));
        let val = val.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            // Digits only: `+17`, `0x11` or a number past u32 are not a cause.
            "cause"
                if !val.is_empty() && val.len() <= 9 && val.bytes().all(|b| b.is_ascii_digit()) =>
            {
                cause = val.parse().ok();
            }
            "text" => text = Some(unquote(val)),
            _ => {}
        }
    }
    Some(Reason {
        protocol,
        cause: cause?,
        text: text.filter(|t| !t.is_empty()),
    })
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// Splits at `;` outside a quoted string (a `text` may hold `;`).
fn split_semicolons(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in v.chars() {
        if quoted && escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == ';' && !quoted {
            out.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// A quoted-string's content (quoted pairs undone), control characters dropped, cut short.
fn unquote(v: &str) -> String {
    let inner = v
        .strip_prefix('"')
        .map(|s| s.strip_suffix('"').unwrap_or(s))
        .unwrap_or(v);
    let mut out = String::new();
    let mut escaped = false;
    for c in inner.chars() {
        if !escaped && c == '\\' {
            escaped = true;
            continue;
        }
        escaped = false;
        if !c.is_control() {
            out.push(c);
        }
        if out.chars().count() >= MAX_TEXT {
            break;
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(headers: &str) -> Message {
        let raw = format!(
            "BYE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n{headers}Content-Length: 0\r\n\r\n"
        );
        Message::parse(raw.as_bytes()).unwrap()
    }

    #[test]
    fn rfc3326_examples() {
        let r = parse("SIP ;cause=200 ;text=\"Call completed elsewhere\"").unwrap();
        assert_eq!(
            (r.protocol.as_str(), r.cause, r.text.as_deref()),
            ("SIP", 200, Some("Call completed elsewhere"))
        );
        assert!(!r.is_q850());
        let r = parse("Q.850 ;cause=16 ;text=\"Terminated\"").unwrap();
        assert!(r.is_q850());
        assert_eq!((r.cause, r.text.as_deref()), (16, Some("Terminated")));
    }

    #[test]
    fn several_headers_and_values() {
        let m = msg(
            "Reason: SIP;cause=480;text=\"a, b; c\", Q.850;cause=19\r\nReason: q.850;cause=17\r\n",
        );
        let all = reasons(&m);
        assert_eq!(all.len(), 3, "{all:?}");
        assert_eq!(all[0].text.as_deref(), Some("a, b; c"));
        // The first Q.850 value wins, whatever its protocol's case.
        assert_eq!(q850(&m).map(|r| r.cause), Some(19));
        let m = msg("Reason: SIP;cause=487\r\nReason: Q.850;cause=34\r\n");
        assert_eq!(q850(&m).map(|r| r.cause), Some(34));
    }

    #[test]
    fn hostile_values_are_skipped_never_a_panic() {
        for v in [
            "",
            ";",
            "Q.850",
            "Q.850;cause",
            "Q.850;cause=",
            "Q.850;cause=-1",
            "Q.850;cause=+17",
            "Q.850;cause=0x11",
            "Q.850;cause=99999999999999999999",
            "Q.850;cause=1.5",
            "Q 850;cause=17",
            "\"Q.850\";cause=17",
            "Q.850;text=\"unterminated;cause=17",
            "Q.850;cause=١٧",
        ] {
            assert_eq!(parse(v), None, "{v:?}");
        }
        // Out of Q.850's range: parsed, but no Q.850 cause.
        let m = msg("Reason: Q.850;cause=0, Q.850;cause=128, Q.850;cause=999999999\r\n");
        assert_eq!(reasons(&m).len(), 3);
        assert_eq!(q850(&m), None);
        // A long text with control characters and a dangling escape is cut and cleaned.
        let long = format!("Q.850;cause=17;text=\"{}\u{7}\\\"", "x".repeat(5000));
        let r = parse(&long).unwrap();
        assert_eq!(r.text.as_deref().map(str::len), Some(MAX_TEXT));
        let r = parse("Q.850;cause=21;text=\"say \\\"no\\\"\";x=\"y;z\"").unwrap();
        assert_eq!((r.cause, r.text.as_deref()), (21, Some("say \"no\"")));
    }
}
