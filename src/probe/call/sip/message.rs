//! SIP messages (RFC 3261 §7): parsing that never panics and refuses the absurd, and
//! building of the few requests and responses raqib sends.
//!
//! Limits that a hostile peer meets: a message of at most 64 KiB, at most 128 header lines,
//! a Content-Length that must match what arrived (UDP) and stay under 64 KiB.

use std::fmt::Write as _;

pub const MAX_MESSAGE: usize = 65_535;
pub const MAX_HEADERS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty message")]
    Empty,
    #[error("message of {0} bytes exceeds 64 KiB")]
    TooLarge(usize),
    #[error("bad start line: {0}")]
    StartLine(String),
    #[error("bad header line: {0}")]
    Header(String),
    #[error("more than {MAX_HEADERS} header lines")]
    TooManyHeaders,
    #[error("no blank line after the headers")]
    Unterminated,
    #[error("bad Content-Length: {0}")]
    ContentLength(String),
    #[error("missing {0} header")]
    Missing(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { status: u16, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    /// Header names in their long lower-case form, values trimmed, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Long form of a compact header name (RFC 3261 §7.3.3), lower-cased.
fn long_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "i" => "call-id",
        "m" => "contact",
        "e" => "content-encoding",
        "l" => "content-length",
        "c" => "content-type",
        "f" => "from",
        "s" => "subject",
        "k" => "supported",
        "t" => "to",
        "v" => "via",
        _ => return lower,
    }
    .to_string()
}

impl Message {
    /// Parses one whole message (a UDP datagram, or a framed TCP message).
    pub fn parse(buf: &[u8]) -> Result<Message, ParseError> {
        if buf.len() > MAX_MESSAGE {
            return Err(ParseError::TooLarge(buf.len()));
        }
        // Keep-alive CRLFs before a message are allowed (RFC 5626).
        let start = buf
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .ok_or(ParseError::Empty)?;
        let buf = &buf[start..];
        let head_end = find(buf, b"\r\n\r\n").ok_or(ParseError::Unterminated)?;
        let head = std::str::from_utf8(&buf[..head_end])
            .map_err(|_| ParseError::Header("not UTF-8".into()))?;
        let mut lines = head.split("\r\n");
        let first = lines.next().ok_or(ParseError::Empty)?;
        let start = parse_start(first)?;
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                // Folded continuation of the previous header.
                let last = headers
                    .last_mut()
                    .ok_or_else(|| ParseError::Header(truncate(line)))?;
                let joined = format!("{} {}", last.1, line.trim());
                last.1 = joined.trim().to_string();
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| ParseError::Header(truncate(line)))?;
            let name = name.trim();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ParseError::Header(truncate(line)));
            }
            if headers.len() == MAX_HEADERS {
                return Err(ParseError::TooManyHeaders);
            }
            headers.push((long_name(name), value.trim().to_string()));
        }
        let rest = &buf[head_end + 4..];
        let mut msg = Message {
            start,
            headers,
            body: Vec::new(),
        };
        let len = match msg.header("content-length") {
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| ParseError::ContentLength(truncate(v)))?,
            None => rest.len(),
        };
        if len > rest.len() {
            return Err(ParseError::ContentLength(format!(
                "{len} announced, {} present",
                rest.len()
            )));
        }
        msg.body = rest[..len].to_vec();
        for required in ["via", "call-id", "cseq", "from", "to"] {
            if msg.header(required).is_none() {
                return Err(ParseError::Missing(match required {
                    "via" => "Via",
                    "call-id" => "Call-ID",
                    "cseq" => "CSeq",
                    "from" => "From",
                    _ => "To",
                }));
            }
        }
        let (seq, _) = msg
            .cseq()
            .ok_or_else(|| ParseError::Header("CSeq".into()))?;
        let _ = seq;
        Ok(msg)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, comma-separated values split (for Via, Record-Route, Contact).
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| split_commas(v))
            .collect()
    }

    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match &self.start {
            StartLine::Response { reason, .. } => Some(reason),
            _ => None,
        }
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            _ => None,
        }
    }

    /// The Request-URI of a request.
    pub fn uri(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            _ => None,
        }
    }

    pub fn call_id(&self) -> &str {
        self.header("call-id").unwrap_or_default()
    }

    /// CSeq number and method.
    pub fn cseq(&self) -> Option<(u32, &str)> {
        let v = self.header("cseq")?;
        let (n, m) = v.split_once(char::is_whitespace)?;
        Some((n.trim().parse().ok()?, m.trim()))
    }

    /// The branch parameter of the top Via.
    pub fn top_branch(&self) -> Option<String> {
        let via = self.header_values("via").into_iter().next()?;
        param(&via, "branch")
    }

    /// The tag parameter of the To (or From) header.
    pub fn tag(&self, header: &str) -> Option<String> {
        param(self.header(header)?, "tag")
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        match &self.start {
            StartLine::Request { method, uri } => {
                let _ = write!(out, "{method} {uri} SIP/2.0\r\n");
            }
            StartLine::Response { status, reason } => {
                let _ = write!(out, "SIP/2.0 {status} {reason}\r\n");
            }
        }
        for (n, v) in &self.headers {
            if n == "content-length" {
                continue;
            }
            let _ = write!(out, "{}: {v}\r\n", canonical(n));
        }
        let _ = write!(out, "Content-Length: {}\r\n\r\n", self.body.len());
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    pub fn request(method: &str, uri: &str) -> Message {
        Message {
            start: StartLine::Request {
                method: method.into(),
                uri: uri.into(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn push(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.headers.push((long_name(name), value.into()));
        self
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        let name = long_name(name);
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    /// A response to this request, copying Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6).
    pub fn response(&self, status: u16, reason: &str, to_tag: Option<&str>) -> Message {
        let mut r = Message {
            start: StartLine::Response {
                status,
                reason: reason.into(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        };
        for (n, v) in &self.headers {
            if matches!(
                n.as_str(),
                "via" | "from" | "call-id" | "cseq" | "record-route"
            ) {
                r.headers.push((n.clone(), v.clone()));
            } else if n == "to" {
                let mut to = v.clone();
                if let Some(tag) = to_tag {
                    if param(v, "tag").is_none() {
                        to.push_str(";tag=");
                        to.push_str(tag);
                    }
                }
                r.headers.push((n.clone(), to));
            }
        }
        r
    }
}

fn canonical(name: &str) -> String {
    match name {
        "call-id" => "Call-ID".into(),
        "cseq" => "CSeq".into(),
        "www-authenticate" => "WWW-Authenticate".into(),
        _ => name
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_start(line: &str) -> Result<StartLine, ParseError> {
    let bad = || ParseError::StartLine(truncate(line));
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status: u16 = code.parse().map_err(|_| bad())?;
        if !(100..=699).contains(&status) || code.len() != 3 {
            return Err(bad());
        }
        return Ok(StartLine::Response {
            status,
            reason: reason.to_string(),
        });
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some("SIP/2.0"), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if method.is_empty() || !method.bytes().all(is_token_char) || uri.is_empty() {
        return Err(bad());
    }
    Ok(StartLine::Request {
        method: method.into(),
        uri: uri.into(),
    })
}

/// RFC 3261 §25.1: `token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" /
/// "'" / "~")`; a method is a token, and methods are case-sensitive (`bye` is not `BYE`).
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// Splits a header value at commas outside quotes and angle brackets.
pub fn split_commas(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth_angle = false;
    let mut quoted = false;
    let mut cur = String::new();
    for c in v.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => depth_angle = true,
            '>' if !quoted => depth_angle = false,
            ',' if !quoted && !depth_angle => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// A `;name=value` parameter of a header value (outside `<...>`), case-insensitive name.
pub fn param(v: &str, name: &str) -> Option<String> {
    let after = match v.rfind('>') {
        Some(i) => &v[i + 1..],
        None => v,
    };
    after.split(';').skip(1).find_map(|p| {
        let (k, val) = p.split_once('=').unwrap_or((p, ""));
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| val.trim().trim_matches('"').to_string())
    })
}

/// The URI inside a name-addr (`"x" <sip:a@b>;tag=1` → `sip:a@b`) or an addr-spec.
pub fn addr_uri(v: &str) -> String {
    match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => v[a + 1..b].to_string(),
        _ => v.split(';').next().unwrap_or("").trim().to_string(),
    }
}

/// Host and port of a SIP URI (`sip:user@host:port;params`), default port 5060.
pub fn uri_host_port(uri: &str) -> Option<(String, u16)> {
    uri_host_port_or(uri, 5060)
}

/// The host and port of a SIP URI, `default` when it names no port (5061 for TLS).
pub fn uri_host_port_or(uri: &str, default: u16) -> Option<(String, u16)> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let rest = rest.split([';', '?']).next()?;
    let hostport = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        let port = after
            .strip_prefix(':')
            .map(|p| p.parse().ok())
            .unwrap_or(Some(default))?;
        return Some((h.to_string(), port));
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((hostport.to_string(), default)),
    }
}

/// The user part of a SIP URI.
pub fn uri_user(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    rest.split_once('@')
        .map(|(u, _)| u.split(';').next().unwrap_or(u))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc;rport=5060\r\nFrom: <sip:raqib@127.0.0.1>;tag=f1\r\nt: \"Centre\" <sip:+96265000101@127.0.0.1>;tag=t9\r\ni: call-1\r\nCSeq: 1 INVITE\r\nContact: <sip:uas@127.0.0.1:5062>\r\nRecord-Route: <sip:p1;lr>, <sip:p2;lr>\r\nContent-Type: application/sdp\r\nl: 4\r\n\r\nv=0\r\n";

    #[test]
    fn parses_a_response_with_compact_headers() {
        let m = Message::parse(OK.as_bytes()).unwrap();
        assert_eq!(m.status(), Some(200));
        assert_eq!(m.reason(), Some("OK"));
        assert_eq!(m.call_id(), "call-1");
        assert_eq!(m.cseq(), Some((1, "INVITE")));
        assert_eq!(m.top_branch().as_deref(), Some("z9hG4bKabc"));
        assert_eq!(m.tag("to").as_deref(), Some("t9"));
        assert_eq!(m.tag("from").as_deref(), Some("f1"));
        assert_eq!(m.body, b"v=0\r");
        assert_eq!(
            m.header_values("record-route"),
            ["<sip:p1;lr>", "<sip:p2;lr>"]
        );
        assert_eq!(
            addr_uri(m.header("contact").unwrap()),
            "sip:uas@127.0.0.1:5062"
        );
        let again = Message::parse(&m.to_bytes()).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn refuses_hostile_input_without_panicking() {
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\r\n\r\n".to_vec(),
            b"garbage".to_vec(),
            b"SIP/2.0 2000 OK\r\n\r\n".to_vec(),
            b"SIP/2.0 099 Low\r\n\r\n".to_vec(),
            b"SIP/2.0 200 OK\r\nno colon here\r\n\r\n".to_vec(),
            OK.replace("l: 4", "l: 99999999999999999999").into_bytes(),
            OK.replace("l: 4", "l: 400").into_bytes(),
            OK.replace("i: call-1\r\n", "").into_bytes(),
            OK.replace("CSeq: 1 INVITE", "CSeq: x").into_bytes(),
            vec![0xff; 300],
            format!("SIP/2.0 200 OK\r\nX: {}\r\n\r\n", "a".repeat(70_000)).into_bytes(),
            format!("SIP/2.0 180 R\r\n{}\r\n", "X: y\r\n".repeat(200)).into_bytes(),
        ];
        for c in cases {
            assert!(
                Message::parse(&c).is_err(),
                "{:?}",
                String::from_utf8_lossy(&c[..c.len().min(60)])
            );
        }
    }

    #[test]
    fn found_by_fuzzing_an_empty_folded_line_leaves_no_trailing_space() {
        let text = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 2 \r\n \r\n\r\n";
        // "CSeq: 2" with an empty continuation is no valid CSeq, before or after printing.
        assert!(Message::parse(text.as_bytes()).is_err());
        let folded = text.replace("CSeq: 2 \r\n \r\n", "CSeq: 2\r\n INVITE\r\n");
        let m = Message::parse(folded.as_bytes()).unwrap();
        assert_eq!(m.cseq(), Some((2, "INVITE")));
        let again = Message::parse(&m.to_bytes()).unwrap();
        assert_eq!((again.cseq(), &again.start), (m.cseq(), &m.start));
    }

    #[test]
    fn unknown_status_codes_parse() {
        for code in [199u16, 699] {
            let text = OK.replace("200 OK", &format!("{code} Odd"));
            assert_eq!(
                Message::parse(text.as_bytes()).unwrap().status(),
                Some(code)
            );
        }
    }

    #[test]
    fn uri_parts() {
        assert_eq!(
            uri_host_port("sip:+962@127.0.0.1:5070"),
            Some(("127.0.0.1".into(), 5070))
        );
        assert_eq!(
            uri_host_port("sip:trunk.example;transport=tcp"),
            Some(("trunk.example".into(), 5060))
        );
        assert_eq!(
            uri_host_port("sip:u@[::1]:5062"),
            Some(("::1".into(), 5062))
        );
        assert_eq!(uri_user("sip:+96265000101@x"), Some("+96265000101"));
        assert_eq!(param("<sip:a@b;lr>;tag=9", "tag").as_deref(), Some("9"));
        assert_eq!(param("<sip:a@b;tag=no>", "tag"), None);
    }

    #[test]
    fn a_response_copies_the_transaction_headers() {
        let req = "INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5000;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(req.as_bytes()).unwrap();
        assert_eq!(m.method(), Some("INVITE"));
        let r = m.response(180, "Ringing", Some("uas1"));
        let r = Message::parse(&r.to_bytes()).unwrap();
        assert_eq!(r.status(), Some(180));
        assert_eq!(r.tag("to").as_deref(), Some("uas1"));
        assert_eq!(r.top_branch().as_deref(), Some("z9hG4bK1"));
    }
    /// The valid messages of RFC 4475 §3.1.1 (all but 3.1.1.11 `mpart01`, whose body is
    /// binary): each parses, with the fields the RFC says it has. Long runs in 3.1.1.7 are
    /// built with `repeat`, which keeps the lines' shape rather than every byte.
    #[test]
    fn rfc4475_valid_messages_parse() {
        let sdp = |ip: &str| {
            format!(
                "v=0\r\no=mhandley 29739 7272939 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
                 m=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n"
            )
        };
        // 3.1.1.1 wsinv: a short tortuous INVITE.
        let wsinv = [
            "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0",
            "TO :",
            " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
            "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>",
            "  ;",
            "  tag = 98asjd8",
            "MaX-fOrWaRdS: 0068",
            "Call-ID: wsinv.ndaksdj@192.0.2.1",
            "Content-Length   : 150",
            "cseq: 0009",
            "  INVITE",
            "Via  : SIP  /   2.0",
            " /UDP",
            "    192.0.2.2;branch=390skdjuw",
            "s :",
            "NewFangledHeader:   newfangled value",
            " continued newfangled value",
            "UnknownHeaderWithUnusualValue: ;;,,;;,;",
            "Content-Type: application/sdp",
            "Route:",
            " <sip:services.example.com;lr;unknownwith=value;unknown-no-value>",
            "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
            "  branch  =   z9hG4bK9ikj8  ,",
            " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
            " z9hG4bK30239",
            "m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =",
            "      newvalue ;",
            "  secondparam ; q = 0.33",
            "",
            "",
        ]
        .join("\r\n")
            + &sdp("192.0.2.3");
        let m = Message::parse(wsinv.as_bytes()).unwrap();
        assert_eq!(m.method(), Some("INVITE"));
        assert_eq!(m.cseq(), Some((9, "INVITE")));
        assert_eq!(m.call_id(), "wsinv.ndaksdj@192.0.2.1");
        assert_eq!(m.header_values("via").len(), 3);
        assert_eq!(m.top_branch().as_deref(), Some("390skdjuw"));
        assert_eq!(m.tag("to").as_deref(), Some("1918181833n"));
        assert_eq!(m.body.len(), 150);

        // 3.1.1.2 intmeth: every token character in the method, odd bytes everywhere else.
        let method = "!interesting-Method0123456789_*+`.%indeed'~";
        let mut intmeth = format!(
            "{method} sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\r\n\
             Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\r\n"
        )
        .into_bytes();
        intmeth.extend_from_slice(
            b"To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7F\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>\r\n",
        );
        intmeth.extend_from_slice(
            format!(
                "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.\r\n\
                 Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}}{{\r\n\
                 CSeq: 139122385 {method}\r\n\
                 Max-Forwards: 255\r\n\
                 extensionHeader-!.%*+_`'~:\u{feff}大停電\r\n\
                 Content-Length: 0\r\n\r\n"
            )
            .as_bytes(),
        );
        let m = Message::parse(&intmeth).unwrap();
        assert_eq!(m.method(), Some(method));
        assert_eq!(m.cseq(), Some((139122385, method)));
        assert_eq!(m.top_branch().as_deref(), Some("z9hG4bK-.!%66*_+`'~"));
        assert_eq!(m.tag("from").as_deref(), Some("_token~1'+`*%!-."));
        let again = Message::parse(&m.to_bytes()).unwrap();
        assert_eq!(again.method(), Some(method));

        // 3.1.1.3 esc01: escapes in URIs, a compact Content-Type, a folded Contact.
        let esc01 = "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0\r\n\
             To: sip:%75se%72@example.com\r\n\
             From: <sip:I%20have%20spaces@example.net>;tag=938\r\n\
             Max-Forwards: 87\r\n\
             i: esc01.239409asdfakjkn23onasd0-3234\r\n\
             CSeq: 234234 INVITE\r\n\
             Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw\r\n\
             C: application/sdp\r\n\
             Contact:\r\n  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>\r\n\
             Content-Length: 150\r\n\r\n"
            .to_string()
            + &sdp("192.0.2.1");
        let m = Message::parse(esc01.as_bytes()).unwrap();
        assert_eq!(m.call_id(), "esc01.239409asdfakjkn23onasd0-3234");
        assert_eq!(m.header("content-type"), Some("application/sdp"));
        assert_eq!(
            addr_uri(m.header("contact").unwrap()),
            "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31"
        );

        // 3.1.1.4 escnull: %00 in URIs.
        let escnull = "REGISTER sip:example.com SIP/2.0\r\n\
             To: sip:null-%00-null@example.com\r\n\
             From: sip:null-%00-null@example.com;tag=839923423\r\n\
             Max-Forwards: 70\r\n\
             Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd\r\n\
             CSeq: 14398234 REGISTER\r\n\
             Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw\r\n\
             Contact: <sip:%00@host5.example.com>\r\n\
             Contact: <sip:%00%00@host5.example.com>\r\n\
             L:0\r\n\r\n";
        let m = Message::parse(escnull.as_bytes()).unwrap();
        assert_eq!(m.header_values("contact").len(), 2);

        // 3.1.1.5 esc02: % in a method is no escape; C%6Fntact is not Contact.
        let esc02 = "RE%47IST%45R sip:registrar.example.com SIP/2.0\r\n\
             To: \"%Z%45\" <sip:resource@example.com>\r\n\
             From: \"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23\r\n\
             Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf\r\n\
             Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234\r\n\
             CSeq: 29344 RE%47IST%45R\r\n\
             Max-Forwards: 70\r\n\
             Contact: <sip:alias1@host1.example.com>\r\n\
             C%6Fntact: <sip:alias2@host2.example.com>\r\n\
             Contact: <sip:alias3@host3.example.com>\r\n\
             l: 0\r\n\r\n";
        let m = Message::parse(esc02.as_bytes()).unwrap();
        assert_eq!(m.method(), Some("RE%47IST%45R"));
        assert_eq!(m.cseq(), Some((29344, "RE%47IST%45R")));
        assert_eq!(m.header_values("contact").len(), 2);

        // 3.1.1.6 lwsdisp: no space between display name and <.
        let lwsdisp = "OPTIONS sip:user@example.com SIP/2.0\r\n\
             To: sip:user@example.com\r\n\
             From: caller<sip:caller@example.com>;tag=323\r\n\
             Max-Forwards: 70\r\n\
             Call-ID: lwsdisp.1234abcd@funky.example.com\r\n\
             CSeq: 60 OPTIONS\r\n\
             Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw\r\n\
             l: 0\r\n\r\n";
        let m = Message::parse(lwsdisp.as_bytes()).unwrap();
        assert_eq!(m.tag("from").as_deref(), Some("323"));

        // 3.1.1.7 longreq: long values everywhere and 34 Vias under every spelling of the name.
        let lon = |n: usize| "long".repeat(n);
        let mut longreq = format!(
            "INVITE sip:user@example.com SIP/2.0\r\n\
             To: \"I have a user name of {} proportion\" <sip:user@example.com:6000;unknownparam1=very{}value;longparamname{}=shortvalue;very{}ParameterNameWithNoValue>\r\n\
             F: sip:{}@example.net;tag=12982{}424;unknownheaderparamname{}=unknowheaderparamvalue{};unknownValuelessparamname{}\r\n\
             Call-ID: longreq.one{}longcallid\r\n\
             CSeq: 3882340 INVITE\r\n\
             Unknown-{}-Name:unknown-{}-value;unknown-{}-parameter-name =unknown-{}-parameter-value\r\n",
            "extreme ".repeat(10).trim_end(),
            lon(20),
            "name".repeat(25),
            lon(24),
            "amazinglylongcallername".repeat(5),
            "98298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298298",
            "name".repeat(20),
            "value".repeat(15),
            "paramname".repeat(10),
            "really".repeat(20),
            "Long".repeat(20),
            lon(20),
            lon(20),
            lon(20),
        );
        let spellings = [
            "Via", "v", "V", "Via", "ViA", "VIa", "VIA", "via", "viA", "vIa", "vIA", "V ", "v ",
            "V  ", "v  ", "Via ", "Via  ",
        ];
        for (i, name) in spellings.iter().enumerate() {
            longreq += &format!("{name}: SIP/2.0/TCP sip{}.example.com\r\n", 33 - i);
        }
        for n in (1..=16).rev() {
            longreq += &format!("Via: SIP/2.0/TCP sip{n}.example.com\r\n");
        }
        longreq += &format!(
            "Via: SIP/2.0/TCP host.example.com;received=192.0.2.5;branch=very{}branchvalue\r\n\
             Max-Forwards: 70\r\n\
             Contact: <sip:{}@host5.example.net>\r\n\
             Content-Type: application/sdp\r\n\
             l: 150\r\n\r\n",
            lon(50),
            "amazinglylongcallername".repeat(5)
        );
        longreq += &sdp("192.0.2.1");
        let m = Message::parse(longreq.as_bytes()).unwrap();
        let vias = m.header_values("via");
        assert_eq!(vias.len(), 34);
        assert_eq!(vias[0], "SIP/2.0/TCP sip33.example.com");
        assert!(m.top_branch().is_none());
        assert_eq!(m.cseq(), Some((3882340, "INVITE")));
        assert_eq!(m.body.len(), 150);

        // 3.1.1.8 dblreq: a second request after Content-Length 0 in the same datagram is
        // not part of the first.
        let dblreq = "REGISTER sip:example.com SIP/2.0\r\n\
             To: sip:j.user@example.com\r\n\
             From: sip:j.user@example.com;tag=43251j3j324\r\n\
             Max-Forwards: 8\r\n\
             I: dblreq.0ha0isndaksdj99sdfafnl3lk233412\r\n\
             Contact: sip:j.user@host.example.com\r\n\
             CSeq: 8 REGISTER\r\n\
             Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492\r\n\
             Content-Length: 0\r\n\r\n\
             INVITE sip:joe@example.com SIP/2.0\r\n\
             t: sip:joe@example.com\r\n\
             From: sip:caller@example.net;tag=141334\r\n\
             Max-Forwards: 8\r\n\
             Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15\r\n\
             CSeq: 8 INVITE\r\n\
             Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234\r\n\
             Content-Type: application/sdp\r\n\
             Content-Length: 150\r\n\r\n"
            .to_string()
            + &sdp("192.0.2.15").replace("m=video", "m =video");
        let m = Message::parse(dblreq.as_bytes()).unwrap();
        assert_eq!(m.method(), Some("REGISTER"));
        assert_eq!(m.call_id(), "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
        assert!(m.body.is_empty());

        // 3.1.1.9 semiuri: a ; in the user part, a folded Accept.
        let semiuri = "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0\r\n\
             To: sip:j_user@example.com\r\n\
             From: sip:caller@example.org;tag=33242\r\n\
             Max-Forwards: 3\r\n\
             Call-ID: semiuri.0ha0isndaksdj\r\n\
             CSeq: 8 OPTIONS\r\n\
             Accept: application/sdp, application/pkcs7-mime,\r\n  multipart/mixed, multipart/signed,\r\n  message/sip, message/sipfrag\r\n\
             Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw\r\n\
             l: 0\r\n\r\n";
        let m = Message::parse(semiuri.as_bytes()).unwrap();
        assert_eq!(m.header_values("accept").len(), 6);

        // 3.1.1.10 transports: five Vias, some of unknown transports.
        let transports = "OPTIONS sip:user@example.com SIP/2.0\r\n\
             To: sip:user@example.com\r\n\
             From: <sip:caller@example.com>;tag=323\r\n\
             Max-Forwards: 70\r\n\
             Call-ID:  transports.kijh4akdnaqjkwendsasfdj\r\n\
             Accept: application/sdp\r\n\
             CSeq: 60 OPTIONS\r\n\
             Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw\r\n\
             Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf\r\n\
             Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj\r\n\
             Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en\r\n\
             Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee\r\n\
             l: 0\r\n\r\n";
        let m = Message::parse(transports.as_bytes()).unwrap();
        assert_eq!(m.header_values("via").len(), 5);
        assert_eq!(m.top_branch().as_deref(), Some("z9hG4bKkdjuw"));

        // 3.1.1.12 unreason: a reason phrase of UTF-8 and odd characters.
        let unreason = "SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое\r\n\
             Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923\r\n\
             Call-ID: unreason.1234ksdfak3j2erwedfsASdf\r\n\
             CSeq: 35 INVITE\r\n\
             From: sip:user@example.com;tag=11141343\r\n\
             To: sip:user@example.edu;tag=2229\r\n\
             Content-Length: 154\r\n\
             Content-Type: application/sdp\r\n\
             Contact: <sip:user@host198.example.com>\r\n\r\n"
            .to_string()
            + &sdp("192.0.2.198");
        let m = Message::parse(unreason.as_bytes()).unwrap();
        assert_eq!(m.status(), Some(200));
        assert_eq!(
            m.reason(),
            Some("= 2**3 * 5**2 но сто девяносто девять - простое")
        );
        assert_eq!(m.body.len(), 154);

        // 3.1.1.13 noreason: an empty reason phrase.
        let noreason = "SIP/2.0 100 \r\n\
             Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\r\n\
             Call-ID: noreason.asndj203insdf99223ndf\r\n\
             CSeq: 35 INVITE\r\n\
             From: <sip:user@example.com>;tag=39ansfi3\r\n\
             To: <sip:user@example.edu>;tag=902jndnke3\r\n\
             Content-Length: 0\r\n\
             Contact: <sip:user@host105.example.com>\r\n\r\n";
        let m = Message::parse(noreason.as_bytes()).unwrap();
        assert_eq!((m.status(), m.reason()), (Some(100), Some("")));
    }

    #[test]
    fn methods_are_rfc3261_tokens() {
        for ok in [
            "INVITE",
            "RE%47IST%45R",
            "!interesting-Method0123456789_*+`.%indeed'~",
            "bye",
        ] {
            assert!(
                matches!(parse_start(&format!("{ok} sip:a@b SIP/2.0")), Ok(StartLine::Request { method, .. }) if method == ok),
                "{ok}"
            );
        }
        for bad in [
            "INV(ITE", "INV\"ITE", "INVITE:", "INV/ITE", "INVITÉ", "INV@ITE", "",
        ] {
            assert!(
                parse_start(&format!("{bad} sip:a@b SIP/2.0")).is_err(),
                "{bad:?}"
            );
        }
    }
}
