//! REGISTER with the trunk (RFC 3261 §10), answered once with digest credentials when
//! challenged, and refreshed before it expires while probes run. Each REGISTER is a
//! non-INVITE client transaction (`sip::transaction`): timer E retransmits, timer F gives up.

use std::net::SocketAddr;
use std::time::Instant;

use serde::Serialize;

use super::sip::message::{param, uri_host_port, Message};
use super::sip::transaction::{Key, NonInviteClient, Tick};
use super::sip::transport::UdpEndpoint;
use super::sip::{digest, random};
use super::Settings;

#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    pub registrar: String,
    pub ok: bool,
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// Seconds the registrar granted.
    pub expires: Option<u32>,
    pub authenticated: bool,
    pub elapsed_ms: f64,
    pub detail: Option<String>,
}

/// Where REGISTER goes: the outbound proxy, else the host of the trunk's URI template.
fn registrar(s: &Settings) -> Option<(String, SocketAddr, String)> {
    let (host, port) = match &s.outbound_proxy {
        Some(p) => uri_host_port(&format!("sip:{}", p.strip_prefix("sip:").unwrap_or(p)))?,
        None => uri_host_port(&s.uri_template.replace("{number}", "x"))?,
    };
    let ip: std::net::IpAddr = host.parse().ok()?;
    let domain = uri_host_port(&s.from)
        .map(|(h, _)| h)
        .unwrap_or(host.clone());
    Some((format!("sip:{domain}"), SocketAddr::new(ip, port), host))
}

/// One registration (with a retry on 401/407), over the trunk's UDP endpoint.
pub(super) async fn register(
    s: &Settings,
    udp: &UdpEndpoint,
    call_id: &str,
    cseq: &mut u32,
    expires: u32,
) -> Registration {
    let started = Instant::now();
    let mut reg = Registration {
        registrar: String::new(),
        ok: false,
        status: None,
        reason: None,
        expires: None,
        authenticated: false,
        elapsed_ms: 0.0,
        detail: None,
    };
    let Some((uri, dest, _host)) = registrar(s) else {
        reg.detail = Some(
            "the registrar must be an address literal (outbound_proxy or uri_template host)".into(),
        );
        return reg;
    };
    reg.registrar = dest.to_string();
    let mut rx = udp.join(call_id);
    let local = udp.local_addr();
    let from_tag = random::token();
    let mut auth: Option<(String, String)> = None;
    for _attempt in 0..2 {
        *cseq += 1;
        let branch = random::branch();
        let mut m = Message::request("REGISTER", &uri);
        m.push("via", format!("SIP/2.0/UDP {local};branch={branch};rport"))
            .push("max-forwards", "70")
            .push("from", format!("<{}>;tag={from_tag}", s.from))
            .push("to", format!("<{}>", s.from))
            .push("call-id", call_id.to_string())
            .push("cseq", format!("{} REGISTER", *cseq))
            .push("contact", format!("<sip:raqib@{local}>"))
            .push("expires", expires.to_string());
        if let Some((h, v)) = &auth {
            m.push(h, v.clone());
        }
        let key = Key {
            branch,
            cseq: *cseq,
            method: "REGISTER".into(),
        };
        let bytes = m.to_bytes();
        let mut tx = NonInviteClient::new(Instant::now(), s.t1, false);
        let _ = udp.send_raw(&bytes, dest).await;
        let mut fin: Option<Message> = None;
        while let Some(wait) = tx.deadline() {
            match tokio::time::timeout_at(wait.into(), rx.recv()).await {
                Ok(Some(i)) => {
                    let Ok(r) = i.parsed else { continue };
                    let Some(status) = r.status() else { continue };
                    if key.mismatch(&r).is_none() && tx.on_response(status) {
                        fin = Some(r);
                    }
                }
                // The route is gone: nothing more will come.
                Ok(None) => break,
                Err(_) => match tx.on_timer(Instant::now()) {
                    Tick::Retransmit => {
                        let _ = udp.send_raw(&bytes, dest).await;
                    }
                    Tick::TimedOut => break,
                    Tick::Wait => {}
                },
            }
        }
        let Some(r) = fin else {
            reg.detail = Some(format!(
                "no final response within {} ms",
                (s.t1 * 64).as_millis()
            ));
            break;
        };
        let status = r.status().unwrap_or(0);
        reg.status = Some(status);
        reg.reason = r.reason().map(String::from);
        if (status == 401 || status == 407) && auth.is_none() {
            let header = if status == 401 {
                "www-authenticate"
            } else {
                "proxy-authenticate"
            };
            let challenge = digest::choose(&digest::challenges(&r, header));
            if let (Some(_), Some(_), Err(why)) = (&s.username, &s.password, &challenge) {
                if *why != digest::ChallengeError::NoDigest {
                    reg.detail = Some(why.to_string());
                    break;
                }
            }
            if let (Ok(c), Some(user), Some(pw)) = (challenge, &s.username, &s.password) {
                let value =
                    digest::authorization(&c, user, pw, "REGISTER", &uri, 1, &random::token());
                let name = if status == 401 {
                    "authorization"
                } else {
                    "proxy-authorization"
                };
                auth = Some((name.to_string(), value));
                reg.authenticated = true;
                continue;
            }
            reg.detail = Some("authentication demanded and no credentials configured".into());
            break;
        }
        if (200..300).contains(&status) {
            reg.ok = true;
            let granted = r
                .header_values("contact")
                .iter()
                .find_map(|c| param(c, "expires").and_then(|e| e.parse().ok()))
                .or_else(|| r.header("expires").and_then(|e| e.parse().ok()));
            reg.expires = Some(granted.unwrap_or(expires));
        } else if status == 401 || status == 407 {
            reg.detail = Some("credentials refused".into());
        } else {
            reg.detail = Some(format!("{status} {}", r.reason().unwrap_or_default()));
        }
        break;
    }
    udp.leave(call_id);
    reg.elapsed_ms = crate::probe::ms(started.elapsed());
    reg
}
