//! The dialog a 2xx to our INVITE creates (RFC 3261 §12.1.2): its identifiers, where
//! in-dialog requests go (remote target, route set, next hop), and the ACK and BYE built from
//! them (§12.2.1, §13.2.2.4, §15.1.1). The call owns one once answered; a late 2xx after a
//! CANCEL gets one too, only to be acknowledged and hung up.

use std::net::SocketAddr;

use super::message::{addr_uri, uri_host_port, Message};

#[derive(Debug, Clone)]
pub struct Dialog {
    pub call_id: String,
    /// Our From header, with our tag.
    pub local: String,
    /// Their To header as the 2xx carried it.
    pub remote: String,
    /// Their tag: a 2xx without one creates no dialog (§12.1.2), and the call ends at once.
    pub remote_tag: Option<String>,
    /// Where in-dialog requests are addressed: the 2xx's Contact, else the INVITE's
    /// Request-URI.
    pub remote_target: String,
    /// The 2xx's Record-Route, reversed.
    pub route_set: Vec<String>,
    /// Where in-dialog requests are sent.
    pub next_hop: SocketAddr,
    /// The CSeq of the INVITE that created the dialog: the ACK's, and one below the BYE's.
    pub invite_cseq: u32,
}

impl Dialog {
    /// The dialog `ok` creates for `invite`, sent to `first_hop`. Through an outbound proxy
    /// in-dialog requests keep that hop; else the first route, or the remote target, decides.
    /// `None` when `ok` or `invite` lacks what a dialog needs (a To header, a CSeq).
    pub fn from_2xx(
        ok: &Message,
        invite: &Message,
        first_hop: SocketAddr,
        outbound_proxy: bool,
    ) -> Option<Dialog> {
        let remote = ok.header("to")?.to_string();
        let (invite_cseq, _) = invite.cseq()?;
        let remote_target = ok
            .header_values("contact")
            .first()
            .map(|c| addr_uri(c))
            .unwrap_or_else(|| invite.uri().unwrap_or_default().to_string());
        let mut route_set = ok.header_values("record-route");
        route_set.reverse();
        let next_hop = if outbound_proxy {
            first_hop
        } else if let Some(first) = route_set.first() {
            address_literal(&addr_uri(first)).unwrap_or(first_hop)
        } else {
            address_literal(&remote_target).unwrap_or(first_hop)
        };
        Some(Dialog {
            call_id: invite.call_id().to_string(),
            local: invite.header("from").unwrap_or_default().to_string(),
            remote,
            remote_tag: ok.tag("to"),
            remote_target,
            route_set,
            next_hop,
            invite_cseq,
        })
    }

    /// A request inside the dialog, with `via` (the sender knows its transport and branch).
    pub fn request(&self, method: &str, cseq: u32, via: String) -> Message {
        let mut m = Message::request(method, &self.remote_target);
        m.push("via", via)
            .push("max-forwards", "70")
            .push("from", self.local.clone())
            .push("to", self.remote.clone())
            .push("call-id", self.call_id.clone())
            .push("cseq", format!("{cseq} {method}"));
        for r in &self.route_set {
            m.push("route", r.clone());
        }
        m
    }

    /// The ACK for the 2xx: a transaction of its own, with the INVITE's CSeq (§13.2.2.4).
    pub fn ack(&self, via: String) -> Message {
        self.request("ACK", self.invite_cseq, via)
    }

    pub fn bye(&self, via: String) -> Message {
        self.request("BYE", self.invite_cseq + 1, via)
    }
}

/// Address literals only: names in a Contact or Route are not resolved again (the first hop
/// is kept).
fn address_literal(uri: &str) -> Option<SocketAddr> {
    let (h, p) = uri_host_port(uri)?;
    let ip: std::net::IpAddr = h.parse().ok()?;
    Some(SocketAddr::new(ip, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> Message {
        let mut m = Message::request("INVITE", "sip:+962@127.0.0.1:5070");
        m.push("via", "SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKa")
            .push("from", "<sip:raqib@127.0.0.1>;tag=ours")
            .push("to", "<sip:+962@127.0.0.1:5070>")
            .push("call-id", "c@raqib")
            .push("cseq", "3 INVITE");
        m
    }

    fn ok(extra: &str) -> Message {
        let raw = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKa\r\n\
             From: <sip:raqib@127.0.0.1>;tag=ours\r\nTo: <sip:+962@127.0.0.1:5070>;tag=theirs\r\n\
             Call-ID: c@raqib\r\nCSeq: 3 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        Message::parse(raw.as_bytes()).unwrap()
    }

    #[test]
    fn in_dialog_requests_follow_contact_and_record_route() {
        let hop: SocketAddr = "127.0.0.1:5070".parse().unwrap();
        let d = Dialog::from_2xx(
            &ok("Contact: <sip:uas@127.0.0.1:7000>\r\n\
                 Record-Route: <sip:127.0.0.2:5080;lr>, <sip:127.0.0.3:5090;lr>\r\n"),
            &invite(),
            hop,
            false,
        )
        .unwrap();
        assert_eq!(d.remote_tag.as_deref(), Some("theirs"));
        assert_eq!(d.remote_target, "sip:uas@127.0.0.1:7000");
        assert_eq!(d.next_hop, "127.0.0.3:5090".parse().unwrap());
        let bye = d.bye("SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKb".into());
        assert_eq!(bye.uri(), Some("sip:uas@127.0.0.1:7000"));
        assert_eq!(bye.cseq(), Some((4, "BYE")));
        assert_eq!(
            bye.header_values("route"),
            ["<sip:127.0.0.3:5090;lr>", "<sip:127.0.0.2:5080;lr>"]
        );
        assert_eq!(bye.header("from"), Some("<sip:raqib@127.0.0.1>;tag=ours"));
        assert_eq!(
            bye.header("to"),
            Some("<sip:+962@127.0.0.1:5070>;tag=theirs")
        );
        assert_eq!(
            d.ack(String::new()).cseq(),
            Some((3, "ACK")),
            "the ACK keeps the INVITE's CSeq"
        );
        // Through an outbound proxy every request takes the first hop.
        let d = Dialog::from_2xx(
            &ok("Contact: <sip:uas@127.0.0.1:7000>\r\n"),
            &invite(),
            hop,
            true,
        )
        .unwrap();
        assert_eq!(d.next_hop, hop);
    }

    #[test]
    fn without_contact_the_request_uri_and_a_name_keeps_the_first_hop() {
        let hop: SocketAddr = "127.0.0.1:5070".parse().unwrap();
        let d = Dialog::from_2xx(&ok(""), &invite(), hop, false).unwrap();
        assert_eq!(d.remote_target, "sip:+962@127.0.0.1:5070");
        let d = Dialog::from_2xx(
            &ok("Contact: <sip:uas@pbx.example:7000>\r\n"),
            &invite(),
            hop,
            false,
        )
        .unwrap();
        assert_eq!(d.next_hop, hop, "names are not resolved again");
    }
}
