//! The SDP of a test call (RFC 4566, offer/answer per RFC 3264): raqib offers PCMU, PCMA and
//! telephone-event, and reads from the answer where to send media and which codec was chosen.
//! RTCP goes to the RTP port + 1 unless `a=rtcp:` (RFC 3605) says otherwise, or onto the RTP
//! port itself when both sides say `a=rtcp-mux` (RFC 5761).

use std::net::{IpAddr, SocketAddr};

use crate::probe::call::srtp::Crypto;

/// The offer: audio on `rtp`, PCMU (0), PCMA (8), telephone-event (101); RTCP on `rtcp`
/// (named only when it is not the RTP port + 1), or multiplexed if the answer accepts.
pub fn offer(rtp: SocketAddr, rtcp: SocketAddr, session_id: u64) -> String {
    offer_with(rtp, rtcp, session_id, &[])
}

/// The offer, as RTP/SAVP with these `a=crypto` attributes (RFC 4568) when there are any.
pub fn offer_with(rtp: SocketAddr, rtcp: SocketAddr, session_id: u64, crypto: &[Crypto]) -> String {
    let ip = rtp.ip();
    let proto = if crypto.is_empty() {
        "RTP/AVP"
    } else {
        "RTP/SAVP"
    };
    let family = if ip.is_ipv6() { "IP6" } else { "IP4" };
    let rtcp_line = if rtcp.port() as u32 == rtp.port() as u32 + 1 {
        String::new()
    } else {
        format!("a=rtcp:{}\r\n", rtcp.port())
    };
    let mut sdp = format!(
        "v=0\r\no=raqib {session_id} {session_id} IN {family} {ip}\r\ns=raqib test call\r\n\
         c=IN {family} {ip}\r\nt=0 0\r\nm=audio {} {proto} 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n\
         a=ptime:20\r\n{rtcp_line}a=rtcp-mux\r\na=sendrecv\r\n",
        rtp.port()
    );
    for c in crypto {
        sdp += &format!("a=crypto:{}\r\n", c.attribute());
    }
    sdp
}

/// What an answer (or an offer, for the lab's UAS) says about audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Where the peer receives RTP; `None` when the stream is refused (port 0) or unusable.
    pub remote: Option<SocketAddr>,
    /// The first offered/answered payload type raqib can decode (0 or 8).
    pub codec: Option<u8>,
    /// The payload type of telephone-event, if the peer accepts RFC 4733 digits.
    pub telephone_event: Option<u8>,
    /// The stream's transport protocol: `RTP/AVP`, `RTP/SAVP`…
    pub proto: String,
    /// The values of the stream's `a=crypto` attributes (SDES, RFC 4568), unparsed.
    pub crypto: Vec<String>,
    /// Where the peer receives RTCP when it is not multiplexed.
    pub rtcp: Option<SocketAddr>,
    /// The peer multiplexes RTCP on the RTP port (`a=rtcp-mux`).
    pub rtcp_mux: bool,
}

/// Parses the first audio stream; `None` when there is no usable SDP.
pub fn parse(body: &[u8]) -> Option<Media> {
    let text = std::str::from_utf8(body).ok()?;
    let mut session_addr: Option<IpAddr> = None;
    let mut media_addr: Option<IpAddr> = None;
    let mut port: Option<u16> = None;
    let mut formats: Vec<u8> = Vec::new();
    let mut telephone_event = None;
    let mut rtcp_attr: Option<(u16, Option<IpAddr>)> = None;
    let mut rtcp_mux = false;
    let mut proto = String::new();
    let mut crypto = Vec::new();
    let mut in_audio = false;
    let mut seen_audio = false;
    for line in text.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            if seen_audio {
                break;
            }
            let mut parts = m.split_whitespace();
            in_audio = parts.next() == Some("audio");
            if in_audio {
                seen_audio = true;
                port = parts.next().and_then(|p| p.split('/').next()?.parse().ok());
                proto = parts.next().unwrap_or_default().to_string();
                formats = parts.filter_map(|f| f.parse().ok()).collect();
            }
        } else if let Some(c) = line.strip_prefix("c=") {
            let addr = c
                .split_whitespace()
                .nth(2)
                .and_then(|a| a.split('/').next()?.parse().ok());
            if in_audio {
                media_addr = addr;
            } else if !seen_audio {
                session_addr = addr;
            }
        } else if let Some(r) = line.strip_prefix("a=rtcp:") {
            if in_audio {
                // RFC 3605: `a=rtcp:PORT [IN IP4 ADDR]`.
                let mut parts = r.split_whitespace();
                if let Some(p) = parts.next().and_then(|p| p.parse().ok()) {
                    rtcp_attr = Some((p, parts.nth(2).and_then(|a| a.parse().ok())));
                }
            }
        } else if let Some(c) = line.strip_prefix("a=crypto:") {
            if in_audio {
                crypto.push(c.trim().to_string());
            }
        } else if line == "a=rtcp-mux" {
            rtcp_mux |= in_audio;
        } else if let Some(r) = line.strip_prefix("a=rtpmap:") {
            if in_audio {
                let (pt, enc) = r.split_once(' ')?;
                if enc.to_ascii_lowercase().starts_with("telephone-event/8000") {
                    telephone_event = pt.parse().ok();
                }
            }
        }
    }
    if !seen_audio {
        return None;
    }
    let addr = media_addr.or(session_addr);
    let remote = match (addr, port) {
        (Some(ip), Some(p)) if p != 0 && !ip.is_unspecified() => Some(SocketAddr::new(ip, p)),
        _ => None,
    };
    let rtcp = remote.and_then(|r| match rtcp_attr {
        Some((p, ip)) if p != 0 => Some(SocketAddr::new(ip.unwrap_or(r.ip()), p)),
        Some(_) => None,
        None => r.port().checked_add(1).map(|p| SocketAddr::new(r.ip(), p)),
    });
    Some(Media {
        remote,
        codec: formats.iter().copied().find(|f| *f == 0 || *f == 8),
        telephone_event,
        proto,
        crypto,
        rtcp,
        rtcp_mux,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_answer() {
        let a = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 10004 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
        let m = parse(a.as_bytes()).unwrap();
        assert_eq!(m.remote, Some("127.0.0.1:10004".parse().unwrap()));
        assert_eq!(m.codec, Some(8));
        assert_eq!(m.telephone_event, Some(101));
        assert_eq!(m.rtcp, Some("127.0.0.1:10005".parse().unwrap()));
        assert!(!m.rtcp_mux);
    }

    #[test]
    fn our_offer_parses_back() {
        let o = offer(
            "127.0.0.1:4000".parse().unwrap(),
            "127.0.0.1:4001".parse().unwrap(),
            7,
        );
        assert!(!o.contains("a=rtcp:"));
        let m = parse(o.as_bytes()).unwrap();
        assert_eq!(m.remote, Some("127.0.0.1:4000".parse().unwrap()));
        assert_eq!(m.codec, Some(0));
        assert_eq!(m.telephone_event, Some(101));
        assert!(m.rtcp_mux);
        assert_eq!(m.proto, "RTP/AVP");
        assert!(m.crypto.is_empty());
        let c = Crypto {
            tag: 1,
            suite: crate::probe::call::srtp::Suite::AesCm128HmacSha1_80,
            key: crate::probe::call::srtp::MasterKey::random(),
        };
        let o = offer_with(
            "127.0.0.1:4000".parse().unwrap(),
            "127.0.0.1:4001".parse().unwrap(),
            7,
            std::slice::from_ref(&c),
        );
        let m = parse(o.as_bytes()).unwrap();
        assert_eq!(m.proto, "RTP/SAVP");
        assert_eq!(m.crypto, vec![c.attribute()]);
        let o = offer(
            "127.0.0.1:4000".parse().unwrap(),
            "127.0.0.1:5007".parse().unwrap(),
            7,
        );
        let m = parse(o.as_bytes()).unwrap();
        assert_eq!(m.rtcp, Some("127.0.0.1:5007".parse().unwrap()));
    }

    #[test]
    fn rtcp_attribute_with_an_address() {
        let a = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 10004 RTP/AVP 0\r\na=rtcp:53020 IN IP4 127.0.0.9\r\n";
        let m = parse(a.as_bytes()).unwrap();
        assert_eq!(m.rtcp, Some("127.0.0.9:53020".parse().unwrap()));
    }

    #[test]
    fn refused_or_broken_streams() {
        assert_eq!(
            parse(b"v=0\r\nm=audio 0 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\n")
                .unwrap()
                .remote,
            None
        );
        assert!(parse(b"not sdp").is_none());
        assert_eq!(
            parse(b"m=audio 5000 RTP/AVP 18\r\nc=IN IP4 127.0.0.1\r\n")
                .unwrap()
                .codec,
            None
        );
    }
}
