//! One test call as a user-agent client, as a state machine: `Dialing` (INVITE sent) →
//! `Proceeding` (a response) → `Ringing` (180/183) → `Answered` (2xx: ACK, after-answer
//! policy, BYE) → `Hangup(reason)`, each state carrying the instants reached, so every timing
//! of the result is a difference of two of them. 401/407 are answered once with digest
//! credentials; 3xx are followed up to a limit; the ring timeout sends CANCEL and waits for
//! the 487. Retransmissions, timeouts and response matching are the transaction layer's
//! (`sip::transaction`); the ACK and BYE of an answered call, the dialog's (`sip::dialog`).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::mpsc;

use super::audio;
use super::media::{self, Media};
use super::q850::{self, Q850};
use super::sip::dialog::Dialog;
use super::sip::digest;
use super::sip::message::{addr_uri, uri_host_port_or, Message};
use super::sip::random::{branch as new_branch, token};
use super::sip::reason;
use super::sip::sdp;
use super::sip::transaction::{
    ack_for_non_2xx, cancel_for, InviteClient, Key, Mismatch, NonInviteClient, Tick,
};
use super::sip::transport::{Incoming, Link, TlsConnectError, UdpEndpoint};
use super::srtp::{self, Crypto, Suite};
use super::{quality, CallOptions, CallOutcome, CallResult, CallTarget, RtpSummary, Settings};
use crate::config::{AfterAnswer, Transport};
use crate::probe::ms;

/// Messages kept in a trace; a flood beyond this is counted, not stored.
const MAX_TRACE: usize = 400;

struct Trace {
    t0: Instant,
    text: String,
    entries: usize,
    omitted: usize,
}

impl Trace {
    fn add(&mut self, at: Instant, dir: &str, peer: SocketAddr, raw: &[u8]) {
        if self.entries >= MAX_TRACE {
            self.omitted += 1;
            return;
        }
        self.entries += 1;
        let offset = at.saturating_duration_since(self.t0);
        let text = String::from_utf8_lossy(&raw[..raw.len().min(16_384)]);
        let _ = writeln!(
            self.text,
            "=== +{:.3} ms {dir} {peer} ({} bytes)",
            ms(offset),
            raw.len()
        );
        for line in text.split("\r\n") {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("authorization:") || lower.starts_with("proxy-authorization:") {
                let (name, _) = line.split_once(':').unwrap_or((line, ""));
                let _ = writeln!(self.text, "{name}: <credentials redacted>");
            } else if lower.starts_with("a=crypto:") {
                // SRTP master keys: whoever reads the evidence must not decrypt the media.
                let kept = line.split("inline:").next().unwrap_or(line);
                let _ = writeln!(self.text, "{kept}inline:<key redacted>");
            } else {
                let _ = writeln!(self.text, "{line}");
            }
        }
    }

    fn note(&mut self, at: Instant, what: &str) {
        let _ = writeln!(
            self.text,
            "=== +{:.3} ms {what}",
            ms(at.saturating_duration_since(self.t0))
        );
    }
}

/// The instants a call reached, each taken where its message left or reached the socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Instants {
    /// The first INVITE left: the origin of every timing but `total`.
    invite: Option<Instant>,
    /// The first response of any INVITE of the call (1xx or final).
    first_response: Option<Instant>,
    /// The first 180 Ringing or 183 Session Progress.
    ringing: Option<Instant>,
    /// The 2xx.
    answer: Option<Instant>,
}

impl Instants {
    /// Milliseconds from the first INVITE: first response, ringing, answer.
    fn timings(&self) -> (Option<f64>, Option<f64>, Option<f64>) {
        let since = |at: Option<Instant>| {
            let (at, origin) = (at?, self.invite?);
            Some(ms(at.saturating_duration_since(origin)))
        };
        (
            since(self.first_response),
            since(self.ringing),
            since(self.answer),
        )
    }
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hangup {
    /// No usable response within timer B (or the INVITE could not be sent).
    Unanswered,
    /// A final non-2xx response that was not followed (no redirect, no retry with credentials).
    Declined,
    /// raqib cancelled at the ring timeout, or the far end ended the call before answering.
    Cancelled,
    /// A 2xx without a To header: no dialog, nothing could be sent.
    NoDialog,
    /// A 2xx without a To tag: acknowledged and hung up at once (RFC 3261 §12.1.2).
    ProtocolError,
    /// raqib hung up when the after-answer policy was done.
    ByRaqib,
    /// The far end hung up first.
    ByRemote,
}

impl Hangup {
    /// Who ended an answered call, as the result says it.
    fn by(self) -> Option<&'static str> {
        match self {
            Hangup::ByRaqib | Hangup::ProtocolError => Some("raqib"),
            Hangup::ByRemote => Some("remote"),
            _ => None,
        }
    }
}

/// The call's state: `Dialing → Proceeding → Ringing → Answered → Hangup(reason)`, each
/// carrying the instants reached so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before any response (the first INVITE may not have left yet).
    Dialing(Instants),
    /// A response came: a 1xx, or a final one the call went on from (a redirect, a challenge).
    Proceeding(Instants),
    /// 180 Ringing or 183 Session Progress came.
    Ringing(Instants),
    Answered(Instants),
    Hangup(Instants, Hangup),
}

impl State {
    fn instants(&self) -> Instants {
        match *self {
            State::Dialing(i)
            | State::Proceeding(i)
            | State::Ringing(i)
            | State::Answered(i)
            | State::Hangup(i, _) => i,
        }
    }

    /// An INVITE left; the first one's instant stays the origin (redirects, challenges).
    fn invite_sent(&mut self, at: Instant) {
        if let State::Dialing(i) = self {
            i.invite.get_or_insert(at);
        }
    }

    /// A response of the current INVITE transaction arrived at `at`.
    fn response(&mut self, status: u16, at: Instant) {
        let mut i = self.instants();
        i.first_response.get_or_insert(at);
        let rings = matches!(status, 180 | 183) && i.ringing.is_none();
        if rings {
            i.ringing = Some(at);
        }
        *self = match *self {
            _ if rings => State::Ringing(i),
            State::Ringing(_) => State::Ringing(i),
            _ => State::Proceeding(i),
        };
    }

    fn answered(&mut self, at: Instant) {
        let mut i = self.instants();
        i.answer = Some(at);
        *self = State::Answered(i);
    }

    fn hang_up(&mut self, why: Hangup) {
        *self = State::Hangup(self.instants(), why);
    }

    fn hangup(&self) -> Option<Hangup> {
        match self {
            State::Hangup(_, why) => Some(*why),
            _ => None,
        }
    }
}

struct Call<'a> {
    s: &'a Settings,
    link: Link,
    rx: mpsc::UnboundedReceiver<Incoming>,
    udp: Option<UdpEndpoint>,
    call_id: String,
    from_tag: String,
    from: String,
    to: String,
    contact: String,
    next_hop: SocketAddr,
    cseq: u32,
    trace: Trace,
    state: State,
    malformed: usize,
    /// Responses that parsed but belong to no transaction of this call: more than one Via
    /// (RFC 3261 §8.1.3.3) or another branch (§17.1.3).
    discarded: usize,
    /// The SDES keys offered (empty: plain RTP).
    offered_crypto: Vec<Crypto>,
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        if let Some(u) = &self.udp {
            u.leave(&self.call_id);
        }
    }
}

impl Call<'_> {
    fn via(&self, branch: &str) -> String {
        format!(
            "SIP/2.0/{} {};branch={branch};rport",
            self.link.transport_name(),
            self.link.local_addr()
        )
    }

    async fn send(&mut self, m: &Message, to: SocketAddr) -> Option<Instant> {
        let bytes = m.to_bytes();
        match self.link.send(&bytes, to).await {
            Ok(at) => {
                self.trace.add(at, "sent to", to, &bytes);
                Some(at)
            }
            Err(e) => {
                let now = Instant::now();
                self.trace.note(now, &format!("send to {to} failed: {e}"));
                None
            }
        }
    }

    /// Next message until `deadline`; malformed ones are traced and counted, not returned.
    async fn recv(&mut self, deadline: Instant) -> Option<(Message, Instant, SocketAddr)> {
        loop {
            let got = tokio::time::timeout_at(deadline.into(), self.rx.recv()).await;
            let incoming = match got {
                Ok(Some(i)) => i,
                Ok(None) => {
                    // TCP closed: nothing more will come.
                    tokio::time::sleep_until(deadline.into()).await;
                    return None;
                }
                Err(_) => return None,
            };
            self.trace
                .add(incoming.at, "received from", incoming.from, &incoming.raw);
            match incoming.parsed {
                Ok(m) if m.status().is_some() && m.header_values("via").len() != 1 => {
                    // A response with other than one Via was not sent to us (RFC 3261
                    // §8.1.3.3): it may be a proxy's misrouted or forged reply.
                    self.discarded += 1;
                    let n = m.header_values("via").len();
                    self.trace.note(
                        incoming.at,
                        &format!("discarded: {n} Via headers in a response"),
                    );
                }
                Ok(m) => return Some((m, incoming.at, incoming.from)),
                Err(e) => {
                    self.malformed += 1;
                    self.trace
                        .note(incoming.at, &format!("malformed, ignored: {e}"));
                }
            }
        }
    }

    fn request(&self, method: &str, uri: &str, branch: &str, cseq: u32, to: &str) -> Message {
        let mut m = Message::request(method, uri);
        m.push("via", self.via(branch))
            .push("max-forwards", "70")
            .push("from", format!("{};tag={}", self.from, self.from_tag))
            .push("to", to.to_string())
            .push("call-id", self.call_id.clone())
            .push("cseq", format!("{cseq} {method}"));
        m
    }

    /// The dialog a 2xx to `invite` creates; `None` without a To header.
    fn dialog(&self, ok: &Message, invite: &Message) -> Option<Dialog> {
        Dialog::from_2xx(ok, invite, self.next_hop, self.s.outbound_proxy.is_some())
    }

    /// Answers requests the far end sends inside the call; returns true for a BYE.
    async fn answer_request(&mut self, m: &Message, from: SocketAddr) -> bool {
        let method = m.method().unwrap_or_default().to_string();
        let (status, reason) = match method.as_str() {
            "ACK" => return false,
            "BYE" | "OPTIONS" | "INFO" | "UPDATE" | "NOTIFY" => (200, "OK"),
            "CANCEL" => (200, "OK"),
            "INVITE" => (488, "Not Acceptable Here"),
            _ => (405, "Method Not Allowed"),
        };
        let r = m.response(status, reason, None);
        // Responses go back where the request came from (RFC 3581 symmetric response).
        self.send(&r, from).await;
        method == "BYE"
    }
}

/// Places one call and always returns a result.
pub(super) async fn place(
    s: &Settings,
    udp: &tokio::sync::OnceCell<UdpEndpoint>,
    target: &CallTarget,
    opts: &CallOptions,
) -> CallResult {
    let t0 = Instant::now();
    let mut result = CallResult::start(target, opts.after_answer.to_string());
    let started_at = result.started_at;
    let fail = |mut r: CallResult, detail: String| {
        r.detail = Some(detail);
        r.timings_ms.total = ms(t0.elapsed());
        r
    };

    // Before any look-up or socket: a URI that asks for TLS is never sent in clear.
    let transport = match uri_transport(&target.uri, s.transport) {
        Ok(t) => t,
        Err(why) => return fail(result, why.to_string()),
    };

    // SDES keys ride in the SIP body: they are never offered on a link that is not TLS.
    if s.srtp && transport != Transport::Tls {
        return fail(
            result,
            format!(
                "SRTP is required ([trunk] srtp) but '{}' would go over {}: its keys are never sent in clear SIP; not dialled",
                target.uri,
                format!("{transport:?}").to_uppercase()
            ),
        );
    }

    // Where the INVITE goes: the outbound proxy, else the Request-URI's host.
    let default_port = if transport == Transport::Tls {
        5061
    } else {
        5060
    };
    let hop = match &s.outbound_proxy {
        Some(p) => {
            let p = p
                .strip_prefix("sips:")
                .or_else(|| p.strip_prefix("sip:"))
                .unwrap_or(p);
            uri_host_port_or(&format!("sip:{p}"), default_port)
        }
        None => uri_host_port_or(&target.uri, default_port),
    };
    let Some((host, port)) = hop else {
        return fail(result, format!("no host in '{}'", target.uri));
    };
    let next_hop = match tokio::net::lookup_host((host.as_str(), port)).await {
        Ok(mut a) => match a.next() {
            Some(a) => a,
            None => return fail(result, format!("{host}: no address")),
        },
        Err(e) => return fail(result, format!("cannot resolve {host}: {e}")),
    };
    let local_ip = s.bind.ip();
    let call_id = format!("{}@raqib", token());
    let (wav, trace) = evidence_paths(&s.evidence_dir, &started_at, &call_id);
    let media = match Media::bind(local_ip, wav.clone(), s.srtp).await {
        Ok(m) => m,
        Err(e) => return fail(result, format!("cannot open an RTP socket: {e}")),
    };
    let (link, rx, udp_owned) = match transport {
        Transport::Udp => {
            let u = match udp.get_or_try_init(|| UdpEndpoint::bind(s.bind)).await {
                Ok(u) => u,
                Err(e) => return fail(result, format!("cannot bind UDP on {}: {e}", s.bind)),
            };
            let rx = u.join(&call_id);
            (
                Link::Udp {
                    endpoint: u.clone(),
                    peer: next_hop,
                },
                rx,
                Some(u.clone()),
            )
        }
        Transport::Tcp => {
            let (tx, rx) = mpsc::unbounded_channel();
            match Link::connect_tcp(next_hop, tx).await {
                Ok(l) => (l, rx, None),
                Err(e) => {
                    // The trunk refused the connection: the centre was never reached.
                    result.outcome = CallOutcome::Unreachable;
                    return fail(result, format!("TCP connection to {next_hop} failed: {e}"));
                }
            }
        }
        Transport::Tls => {
            let tls = match s
                .tls
                .get_or_try_init(|| async { super::sip::tls::client_config(&s.trust_ca_files) })
                .await
            {
                Ok(t) => t.clone(),
                Err(e) => return fail(result, e.to_string()),
            };
            let (tx, rx) = mpsc::unbounded_channel();
            // The certificate must name the host the INVITE goes to (RFC 5922 §7).
            match Link::connect_tls(next_hop, &host, tls, s.t1 * 64, tx).await {
                Ok(l) => (l, rx, None),
                Err(TlsConnectError::Connect(e)) => {
                    result.outcome = CallOutcome::Unreachable;
                    return fail(
                        result,
                        format!("TCP connection to {next_hop} for TLS failed: {e}"),
                    );
                }
                Err(TlsConnectError::Handshake(e)) => {
                    // Never retried in clear: what was asked to be protected stays unsent.
                    result.outcome = CallOutcome::Failed;
                    return fail(
                        result,
                        format!(
                            "TLS handshake with {host} ({next_hop}) failed, nothing was sent: {e}"
                        ),
                    );
                }
                Err(e @ TlsConnectError::Timeout(_)) => {
                    result.outcome = CallOutcome::Unreachable;
                    return fail(
                        result,
                        format!("{host} ({next_hop}): {e}; nothing was sent"),
                    );
                }
                Err(e @ TlsConnectError::Name(..)) => return fail(result, e.to_string()),
            }
        }
    };
    let from = match &s.caller_id {
        Some(name) => format!("\"{}\" <{}>", name.replace('"', ""), s.from),
        None => format!("<{}>", s.from),
    };
    let local = link.local_addr();
    result.transport = Some(link.transport_name().to_lowercase());
    // A sips: Request-URI asks for a sips: Contact (RFC 5630 §3.1.3); sip: over TLS says so.
    let contact = if target.uri.to_ascii_lowercase().starts_with("sips:") {
        format!("<sips:raqib@{local}>")
    } else {
        format!(
            "<sip:raqib@{local};transport={}>",
            link.transport_name().to_lowercase()
        )
    };
    let mut call = Call {
        s,
        contact,
        link,
        rx,
        udp: udp_owned,
        call_id,
        from_tag: token(),
        from,
        to: format!("<{}>", target.uri),
        next_hop,
        cseq: 1,
        trace: Trace {
            t0,
            text: String::new(),
            entries: 0,
            omitted: 0,
        },
        state: State::Dialing(Instants::default()),
        malformed: 0,
        discarded: 0,
        offered_crypto: Vec::new(),
    };
    if s.srtp {
        // Both tag lengths, each with its own key; the answer picks one (RFC 4568 §7.1.1).
        call.offered_crypto = [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32]
            .into_iter()
            .zip(1..)
            .map(|(suite, tag)| Crypto {
                tag,
                suite,
                key: srtp::MasterKey::random(),
            })
            .collect();
    }
    let offer = sdp::offer_with(
        media.local,
        media.rtcp_local,
        fastrand::u64(1..1 << 40),
        &call.offered_crypto,
    );

    result.outcome = dial(&mut call, &mut result, target, opts, &offer, &media, t0).await;
    let reached = call.state.instants();
    let answer_at = reached.answer;
    (
        result.timings_ms.first_response,
        result.timings_ms.ringing,
        result.timings_ms.answer,
    ) = reached.timings();
    result.hangup_by = call.state.hangup().and_then(Hangup::by).map(String::from);

    // What was heard, and the evidence.
    let capture = media.finish().await;
    let heard = media::analyse(&capture, t0, answer_at);
    result.early_media = heard.early_packets > 0;
    if let (Some(a), Some(f)) = (answer_at, heard.first_audio_at) {
        result.timings_ms.first_audio = Some(ms(f.saturating_duration_since(a)));
    }
    if heard.packets() > 0 {
        let rt = capture.rtcp.round_trip();
        let delay = quality::one_way_delay_ms(rt.map(|r| r.0), s.default_delay_ms);
        let mos = quality::mos(delay, heard.jitter_ms(), heard.loss_pct());
        result.rtp = Some(RtpSummary {
            packets: heard.packets(),
            lost: heard.lost(),
            loss_pct: round3(heard.loss_pct()),
            jitter_ms: round3(heard.jitter_ms()),
            mos: round3(mos),
            rtt_ms: rt.map(|r| round3(r.0)),
            rtt_source: Some(rt.map_or("configured", |r| r.1).into()),
            delay_ms: Some(round3(delay)),
            far_end: capture.rtcp.far_end.clone().map(|mut f| {
                f.fraction_lost_pct = round3(f.fraction_lost_pct);
                f.jitter_ms = round3(f.jitter_ms);
                f
            }),
            xr: capture.rtcp.xr.clone(),
        });
    }
    if capture.rtcp.received + capture.rtcp.malformed > 0 {
        let r = &capture.rtcp;
        call.trace.note(
            Instant::now(),
            &format!(
                "RTCP: {} reports, {} malformed, {} round trips measured{}",
                r.received,
                r.malformed,
                r.rtts.len(),
                if r.bye { ", BYE received" } else { "" }
            ),
        );
    }
    if result.outcome == CallOutcome::Answered && opts.after_answer != AfterAnswer::Hangup {
        let window = (s.classify.as_millis() / 20) as usize;
        let after = &capture.frames[heard.answer_frame.min(capture.frames.len())..];
        let heard = audio::classify(&after[..after.len().min(window)], s.min_confidence);
        result.answer_type = Some(heard.answer_type);
        result.answer_type_source = Some("heuristic".into());
        result.answer_type_confidence = Some(round3(heard.confidence));
        if heard.answer_type != heard.guess {
            result.answer_type_guess = Some(heard.guess);
        }
        result.timings_ms.person = heard.person_ms;
    }
    // A network announcement's tones, in early media or after answer, say more than the SIP
    // status: a 183 then a 480, or a 200, behind "number not in service" is that.
    if let Some(found) = audio::sit::detect(&capture.frames) {
        mark_sit(&mut result, found, &capture, heard.answer_frame, t0);
    }
    if capture.junk > 0 {
        call.trace.note(
            Instant::now(),
            &format!("{} datagrams on the RTP port were not RTP", capture.junk),
        );
    }
    if capture.srtp_rejected > 0 {
        call.trace.note(
            Instant::now(),
            &format!(
                "{} SRTP packets failed authentication or had no key: not heard",
                capture.srtp_rejected
            ),
        );
    }
    if call.trace.omitted > 0 {
        let n = call.trace.omitted;
        call.trace
            .note(Instant::now(), &format!("{n} further messages not kept"));
    }
    result.timings_ms.total = ms(t0.elapsed());
    if capture.samples > 0 {
        match &capture.wav_error {
            None => result.recording = Some(wav.display().to_string()),
            Some(e) => call
                .trace
                .note(Instant::now(), &format!("recording not written: {e}")),
        }
    }
    if let Some(dir) = trace.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if std::fs::write(&trace, &call.trace.text).is_ok() {
        result.sip_trace = Some(trace.display().to_string());
    }
    result
}

/// Stores a special information tone found in the call and classifies the call by it.
fn mark_sit(
    result: &mut CallResult,
    found: audio::sit::Found,
    capture: &media::Capture,
    answer_frame: usize,
    t0: Instant,
) {
    let variant = found.variant;
    let arrived = capture
        .packets
        .iter()
        .rev()
        .find(|p| p.frame as usize <= found.frame)
        .map_or(0.0, |p| ms(p.at.saturating_duration_since(t0)));
    let early = found.frame < answer_frame;
    result.sit = Some(audio::sit::SitDetection {
        variant,
        at_ms: ((arrived + found.offset_ms) * 10.0).round() / 10.0,
        early,
        tones: found.tones.to_vec(),
    });
    if !matches!(result.outcome, CallOutcome::Error | CallOutcome::Refused) {
        result.outcome = if variant.not_in_service() {
            CallOutcome::NotInService
        } else {
            CallOutcome::Failed
        };
    }
    // English as every technical detail: pages say the tones in the reader's words from `sit`.
    let (_, en) = variant.words();
    let en_when = if early {
        "before any answer (early media)"
    } else {
        "after the answer"
    };
    let then = result
        .detail
        .take()
        .map_or(String::new(), |d| format!(" Then: {d}"));
    result.detail = Some(format!("Special information tones {en_when}: {en}.{then}"));
}

/// The transport a Request-URI asks for (its `transport` parameter), else the trunk's; TLS
/// for `sips:` (RFC 5630). Nothing that asked for TLS, by the URI or by a TLS trunk, is ever
/// sent over UDP or TCP in clear.
fn uri_transport(uri: &str, trunk: Transport) -> Result<Transport, TransportRefused> {
    let lower = uri.to_ascii_lowercase();
    let sips = lower.starts_with("sips:");
    let rest = lower
        .strip_prefix("sips:")
        .or_else(|| lower.strip_prefix("sip:"))
        .unwrap_or(&lower);
    // Parameters follow the host; the user part may itself hold a ';' (RFC 4475 §3.1.1.9).
    let host_part = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let host_part = host_part.split('?').next().unwrap_or("");
    let asked = host_part.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim() == "transport").then(|| v.trim().to_string())
    });
    let chosen = match asked.as_deref() {
        None if sips => Transport::Tls,
        None => trunk,
        // RFC 3261 §26.2.2: sips: over "tcp" means TLS over TCP.
        Some("tcp") if sips => Transport::Tls,
        Some("udp") => Transport::Udp,
        Some("tcp") => Transport::Tcp,
        Some("tls") => Transport::Tls,
        Some(other) => {
            return Err(TransportRefused::Other {
                uri: uri.to_string(),
                transport: other.to_string(),
            })
        }
    };
    if chosen != Transport::Tls && (sips || trunk == Transport::Tls) {
        return Err(TransportRefused::Clear {
            uri: uri.to_string(),
            transport: format!("{chosen:?}").to_lowercase(),
        });
    }
    Ok(chosen)
}

/// A Request-URI asking for a transport raqib does not speak, or for clear text where TLS
/// was asked for: the call is not placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportRefused {
    #[error("'{uri}' asks for transport={transport} where TLS is required (sips: or a TLS trunk): not dialled in clear")]
    Clear { uri: String, transport: String },
    #[error("'{uri}' asks for transport={transport}; raqib speaks udp, tcp and tls: not dialled")]
    Other { uri: String, transport: String },
}

/// The offered key the answer chose and the answer's own key (RFC 4568 §7.1.2: the answer
/// repeats an offered tag and suite with its key for the other direction).
fn agreed_srtp<'a>(
    offered: &'a [Crypto],
    answer: Option<&sdp::Media>,
) -> Result<(&'a Crypto, Crypto), String> {
    let a = answer.ok_or("no SDP")?;
    if a.proto != "RTP/SAVP" {
        return Err(format!("the answer's stream is {}", a.proto));
    }
    let mut last_problem = "no a=crypto".to_string();
    for value in &a.crypto {
        match Crypto::parse(value) {
            Ok(theirs) => {
                if let Some(ours) = offered
                    .iter()
                    .find(|o| o.tag == theirs.tag && o.suite == theirs.suite)
                {
                    return Ok((ours, theirs));
                }
                last_problem = format!("a=crypto tag {} was not offered", theirs.tag);
            }
            Err(e) => last_problem = e.to_string(),
        }
    }
    Err(last_problem)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn evidence_paths(
    dir: &std::path::Path,
    started: &chrono::DateTime<Utc>,
    call_id: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let day = dir
        .join("calls")
        .join(started.format("%Y-%m-%d").to_string());
    let stem = format!(
        "{}-{}",
        started.format("%H%M%S"),
        call_id.split('@').next().unwrap_or(call_id)
    );
    (
        day.join(format!("{stem}.wav")),
        day.join(format!("{stem}.sip.txt")),
    )
}

/// What one INVITE transaction ended with.
enum Final {
    Answered(Message, Instant),
    Failed(Message),
    /// No response at all within timer B.
    Silent,
    /// The ring timeout passed; CANCEL was sent and the transaction ended.
    Cancelled(Option<Message>),
}

/// Runs INVITE transactions (again after a followed redirect or a challenge) until the call
/// is answered or over; the state ends in `Hangup` on every path.
async fn dial(
    call: &mut Call<'_>,
    result: &mut CallResult,
    target: &CallTarget,
    opts: &CallOptions,
    offer: &str,
    media: &Media,
    t0: Instant,
) -> CallOutcome {
    let ring_deadline = t0 + opts.ring_timeout;
    let mut request_uri = target.uri.clone();
    let mut auth: Option<(String, String)> = None; // (header, value)
    let mut auth_tried = false;
    let mut nc = 0u32;
    loop {
        let branch = new_branch();
        let cseq = call.cseq;
        let mut invite = call.request("INVITE", &request_uri, &branch, cseq, &call.to.clone());
        invite
            .push("contact", call.contact.clone())
            .push("allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE")
            .push("user-agent", concat!("raqib/", env!("CARGO_PKG_VERSION")))
            .push("content-type", "application/sdp");
        if let Some((h, v)) = &auth {
            invite.push(h, v.clone());
        }
        invite.body = offer.as_bytes().to_vec();
        let fin = invite_transaction(call, &invite, ring_deadline).await;
        match fin {
            Final::Silent => {
                call.state.hang_up(Hangup::Unanswered);
                if let Some(u) = &call.udp {
                    call.malformed += u.junk_since(call.next_hop, t0);
                }
                let unusable = call.malformed + call.discarded;
                result.detail = Some(if call.discarded > 0 {
                    format!(
                        "only replies that cannot be used within {} ms: {} malformed, {} not for this INVITE",
                        ms(call.s.t1 * 64),
                        call.malformed,
                        call.discarded
                    )
                } else if call.malformed > 0 {
                    format!(
                        "only malformed replies ({}) within {} ms",
                        call.malformed,
                        ms(call.s.t1 * 64)
                    )
                } else {
                    format!("no response within {} ms (timer B)", ms(call.s.t1 * 64))
                });
                return if unusable > 0 {
                    CallOutcome::Failed
                } else {
                    CallOutcome::Unreachable
                };
            }
            Final::Cancelled(last) => {
                call.state.hang_up(Hangup::Cancelled);
                if let Some(m) = &last {
                    result.sip_status = m.status();
                    result.sip_reason = m.reason().map(String::from);
                    // Kept, not used: raqib's CANCEL ended the call, whatever the cause says.
                    if m.status().is_some_and(|s| s >= 200) {
                        result.q850 = reason::q850(m).and_then(|r| Q850::of(&r, "final_response"));
                    }
                }
                let mut detail = format!(
                    "no answer within the ring timeout of {} s; cancelled",
                    opts.ring_timeout.as_secs()
                );
                if let Some(q) = &result.q850 {
                    let _ = write!(detail, "; {}", q.describe());
                }
                result.detail = Some(detail);
                return CallOutcome::NoAnswer;
            }
            Final::Failed(m) => {
                let status = m.status().unwrap_or(500);
                result.sip_status = Some(status);
                result.sip_reason = m.reason().map(String::from);
                if status / 100 == 3 && (result.redirects.len() as u32) < call.s.max_redirects {
                    let next = m.header_values("contact").first().map(|c| addr_uri(c));
                    // The link is open already: follow only where it may carry the request
                    // (never a sips: or transport=tls target in clear).
                    let current = match call.link.transport_name() {
                        "TLS" => Transport::Tls,
                        "TCP" => Transport::Tcp,
                        _ => Transport::Udp,
                    };
                    let same_link = next
                        .as_deref()
                        .is_some_and(|u| uri_transport(u, current) == Ok(current));
                    if let (Some(next), true) = (next, same_link) {
                        request_uri = next;
                        result.redirects.push(request_uri.clone());
                        call.cseq += 1;
                        continue;
                    }
                }
                if (status == 401 || status == 407) && !auth_tried {
                    let challenge_header = if status == 401 {
                        "www-authenticate"
                    } else {
                        "proxy-authenticate"
                    };
                    let challenge = digest::choose(&digest::challenges(&m, challenge_header));
                    if let (Some(_), Some(_), Err(why)) =
                        (&call.s.username, &call.s.password, &challenge)
                    {
                        if *why != digest::ChallengeError::NoDigest {
                            // The trunk asks what raqib cannot do: raqib's limit, not the
                            // centre's, so the call never counts.
                            call.state.hang_up(Hangup::Declined);
                            result.detail = Some(why.to_string());
                            return CallOutcome::Error;
                        }
                    }
                    if let (Ok(c), Some(user), Some(pw)) =
                        (challenge, &call.s.username, &call.s.password)
                    {
                        nc += 1;
                        let value = digest::authorization(
                            &c,
                            user,
                            pw,
                            "INVITE",
                            &request_uri,
                            nc,
                            &token(),
                        );
                        let header = if status == 401 {
                            "authorization"
                        } else {
                            "proxy-authorization"
                        };
                        auth = Some((header.to_string(), value));
                        auth_tried = true;
                        call.cseq += 1;
                        continue;
                    }
                }
                call.state.hang_up(Hangup::Declined);
                let mut outcome = CallOutcome::of_status(status);
                let mut detail = match status {
                    300..=399 => format!(
                        "{status} redirect not followed (limit {} or no Contact)",
                        call.s.max_redirects
                    ),
                    401 | 407 if auth_tried => "credentials refused".into(),
                    401 | 407 => "authentication demanded and no credentials configured".into(),
                    _ => format!("{status} {}", m.reason().unwrap_or_default()),
                };
                result.q850 = reason::q850(&m).and_then(|r| Q850::of(&r, "final_response"));
                if let Some(q) = &result.q850 {
                    let _ = write!(detail, "; {}", q.describe());
                    // Redirects and challenges are about raqib's request, not the far end.
                    let refined = (!matches!(status, 300..=399 | 401 | 407))
                        .then(|| q850::refine(q.cause))
                        .flatten();
                    if let Some(o) = refined.filter(|o| *o != outcome) {
                        outcome = o;
                        let _ = write!(detail, ": classified as {}", o.as_str().replace('_', " "));
                    }
                }
                result.detail = Some(detail);
                return outcome;
            }
            Final::Answered(ok, at) => {
                result.sip_status = ok.status();
                result.sip_reason = ok.reason().map(String::from);
                call.state.answered(at);
                return answered(call, result, &invite, ok, opts, media).await;
            }
        }
    }
}

/// A CANCEL sent for the INVITE, as its own non-INVITE transaction.
struct Cancel {
    request: Message,
    key: Key,
    tx: NonInviteClient,
}

/// Sends the INVITE and runs its client transaction to a final response; at the ring
/// timeout (once something was heard) sends CANCEL and waits for the INVITE's 487.
async fn invite_transaction(
    call: &mut Call<'_>,
    invite: &Message,
    ring_deadline: Instant,
) -> Final {
    let to = call.next_hop;
    let Some(key) = Key::of(invite) else {
        return Final::Silent;
    };
    let Some(sent_at) = call.send(invite, to).await else {
        return Final::Silent;
    };
    call.state.invite_sent(sent_at);
    let reliable = call.link.reliable();
    let t1 = call.s.t1;
    let mut tx = InviteClient::new(sent_at, t1, reliable);
    let mut cancel: Option<Cancel> = None;
    let mut last_provisional: Option<Message> = None;
    loop {
        // The ring timeout is armed until it has done its work: once it passes with no
        // provisional response it can do nothing (no CANCEL before a 1xx, RFC 3261 §9.1) and
        // is disarmed until one arrives; left armed, a deadline in the past woke this loop at
        // once, over and over, for a core's worth of CPU until timer B.
        let deadline = match &cancel {
            // After its final response the CANCEL's timer F still bounds the wait for the 487.
            Some(c) => c.tx.deadline().unwrap_or(c.tx.timer_f()),
            None => {
                let ring_armed = tx.responded() || Instant::now() < ring_deadline;
                match (tx.deadline(), ring_armed) {
                    (Some(d), true) => d.min(ring_deadline),
                    (Some(d), false) => d,
                    (None, _) => ring_deadline,
                }
            }
        };
        let got = call.recv(deadline).await;
        let now = Instant::now();
        let Some((m, at, from)) = got else {
            if let Some(c) = &mut cancel {
                if now >= c.tx.timer_f() {
                    return Final::Cancelled(last_provisional);
                }
                if c.tx.on_timer(now) == Tick::Retransmit {
                    let request = c.request.clone();
                    call.send(&request, to).await;
                }
                continue;
            }
            match tx.on_timer(now) {
                Tick::Retransmit => {
                    call.send(invite, to).await;
                    continue;
                }
                Tick::TimedOut => return Final::Silent,
                Tick::Wait => {}
            }
            if now >= ring_deadline && tx.responded() {
                // RFC 3261 §9.1: CANCEL only after a provisional response.
                let request = cancel_for(invite);
                let sent = call.send(&request, to).await.unwrap_or(now);
                if let Some(key) = Key::of(&request) {
                    cancel = Some(Cancel {
                        request,
                        key,
                        tx: NonInviteClient::new(sent, t1, reliable),
                    });
                }
            }
            continue;
        };
        if m.method().is_some() {
            if call.answer_request(&m, from).await {
                // A BYE before the answer ends the attempt like a failure without status.
                return Final::Cancelled(None);
            }
            continue;
        }
        let Some(status) = m.status() else { continue };
        if let Some(c) = &mut cancel {
            if c.key.mismatch(&m).is_none() {
                c.tx.on_response(status);
                continue;
            }
        }
        match key.mismatch(&m) {
            None => {}
            Some(Mismatch::Branch(theirs)) => {
                // Our CSeq under another branch: a 2xx of it is no answer to this INVITE.
                call.discarded += 1;
                call.trace.note(
                    at,
                    &format!("discarded: branch {theirs:?} is not this INVITE's"),
                );
                continue;
            }
            Some(_) => continue, // a stray response
        }
        tx.on_response();
        call.state.response(status, at);
        match status {
            100..=199 => last_provisional = Some(m),
            200..=299 => {
                if cancel.is_some() {
                    // Answered after we gave up: acknowledge and hang up at once.
                    if let Some(d) = call.dialog(&m, invite) {
                        let ack = d.ack(call.via(&new_branch()));
                        call.send(&ack, d.next_hop).await;
                        let bye = d.bye(call.via(&new_branch()));
                        call.send(&bye, d.next_hop).await;
                    }
                    return Final::Cancelled(Some(m));
                }
                return Final::Answered(m, at);
            }
            _ => {
                call.send(&ack_for_non_2xx(invite, &m), to).await;
                if cancel.is_some() {
                    return Final::Cancelled(Some(m));
                }
                return Final::Failed(m);
            }
        }
    }
}

/// After the 200 OK: ACK, the after-answer policy, BYE (unless the far end hung up first).
async fn answered(
    call: &mut Call<'_>,
    result: &mut CallResult,
    invite: &Message,
    ok: Message,
    opts: &CallOptions,
    media: &Media,
) -> CallOutcome {
    let Some(dialog) = call.dialog(&ok, invite) else {
        call.state.hang_up(Hangup::NoDialog);
        result.detail = Some("200 OK without a To header".into());
        return CallOutcome::Failed;
    };
    let ack = dialog.ack(call.via(&new_branch()));
    call.send(&ack, dialog.next_hop).await;
    let ack_bytes = ack.to_bytes();
    let answer = sdp::parse(&ok.body);
    if dialog.remote_tag.is_none() {
        // A dialog cannot exist without the remote tag (RFC 3261 §12.1.2): end it now.
        let bye = dialog.bye(call.via(&new_branch()));
        call.send(&bye, dialog.next_hop).await;
        call.state.hang_up(Hangup::ProtocolError);
        result.detail = Some("protocol error: 200 OK without a To tag; hung up".into());
        return CallOutcome::Failed;
    }

    // The policy runs while the call keeps answering what the far end sends.
    let mut remote_media = answer.as_ref().and_then(|a| a.remote);
    if !call.offered_crypto.is_empty() {
        match agreed_srtp(&call.offered_crypto, answer.as_ref()) {
            Ok((ours, theirs)) => {
                media.secure(
                    srtp::Context::new(ours.suite, &ours.key),
                    srtp::Context::new(theirs.suite, &theirs.key),
                );
                result.srtp = true;
                call.trace.note(
                    Instant::now(),
                    &format!("SRTP agreed: {}", ours.suite.name()),
                );
            }
            Err(why) => {
                // Nothing is sent in clear where SRTP was required.
                remote_media = None;
                call.trace.note(
                    Instant::now(),
                    &format!("no SRTP in the answer ({why}): no media sent, none recorded"),
                );
                result.detail = Some(format!(
                    "answered without the SRTP that was required ({why}): no media sent, none recorded"
                ));
            }
        }
    }
    let codec = answer.as_ref().and_then(|a| a.codec).unwrap_or(0);
    let events = answer.as_ref().and_then(|a| a.telephone_event);
    if let Some(a) = &answer {
        let to = if a.rtcp_mux { a.remote } else { a.rtcp };
        if let Some(to) = to {
            media.start_rtcp(to, a.rtcp_mux);
        }
    }
    let remote_bye = std::sync::atomic::AtomicBool::new(false);
    let (bye_tx, bye_rx) = tokio::sync::watch::channel(false);
    let policy_done = &tokio::sync::Notify::new();
    let notice = call.s.notice.clone();
    let answered_at = Instant::now();
    let mut ivr_report = None;
    let mut bye_q850 = None;
    let policy = async {
        let hung_up = || remote_bye.load(std::sync::atomic::Ordering::Relaxed);
        let wait = |d: Duration| {
            let mut bye = bye_rx.clone();
            async move {
                tokio::select! {
                    _ = tokio::time::sleep(d) => {}
                    _ = bye.wait_for(|b| *b) => {}
                }
            }
        };
        match &opts.after_answer {
            AfterAnswer::Hangup => {}
            AfterAnswer::Notice => {
                if let Some(to) = remote_media {
                    media.play(&notice, codec, to, hung_up).await;
                }
            }
            AfterAnswer::Listen(n) => wait(Duration::from_secs(*n)).await,
            AfterAnswer::Ivr(name) => {
                let mut report = super::ivr::IvrReport {
                    script: name.clone(),
                    digits_sent: String::new(),
                    reaches_agent: false,
                    problem: None,
                };
                if let Some(script) = &opts.ivr {
                    let mut step_start = answered_at;
                    for step in &script.steps {
                        let deadline = step_start + Duration::from_secs(script.max_wait_secs);
                        match step.condition() {
                            Ok(super::ivr::After::Pause(d)) => wait(d).await,
                            _ => {
                                // The prompt was heard and has been silent for silence_ms.
                                let quiet = Duration::from_millis(script.silence_ms);
                                loop {
                                    let now = Instant::now();
                                    if hung_up() || now >= deadline {
                                        break;
                                    }
                                    if media.last_active().is_some_and(|t| {
                                        t > step_start && now.duration_since(t) >= quiet
                                    }) {
                                        break;
                                    }
                                    wait(Duration::from_millis(20)).await;
                                }
                            }
                        }
                        if hung_up() {
                            break;
                        }
                        match (events, remote_media) {
                            (Some(pt), Some(to)) => {
                                for d in step.digits.chars() {
                                    media.send_digit(d, pt, to).await;
                                    report.digits_sent.push(d);
                                }
                            }
                            _ => {
                                report.problem = Some(
                                    "the answer offers no telephone-event: digits not sent".into(),
                                );
                                break;
                            }
                        }
                        step_start = Instant::now();
                    }
                    report.reaches_agent =
                        script.reaches_agent && report.problem.is_none() && !hung_up();
                    wait(Duration::from_secs(script.listen_secs)).await;
                }
                ivr_report = Some(report);
            }
        }
        policy_done.notify_one();
    };
    let listen = async {
        let far = Instant::now() + Duration::from_secs(24 * 3600);
        loop {
            let got = tokio::select! {
                g = call.recv(far) => g,
                _ = policy_done.notified() => return,
            };
            let Some((m, _at, from)) = got else { return };
            if m.method().is_some() {
                if call.answer_request(&m, from).await {
                    bye_q850 = reason::q850(&m).and_then(|r| Q850::of(&r, "bye"));
                    remote_bye.store(true, std::sync::atomic::Ordering::Relaxed);
                    let _ = bye_tx.send(true);
                    return;
                }
            } else if m.status().is_some_and(|s| (200..300).contains(&s))
                && m.cseq() == Some((dialog.invite_cseq, "INVITE"))
            {
                // A retransmitted 200 OK: the ACK was lost; send it again, same result.
                let _ = call.link.send(&ack_bytes, dialog.next_hop).await;
                call.trace
                    .note(Instant::now(), "200 OK retransmitted: ACK sent again");
            }
        }
    };
    tokio::join!(policy, listen);
    result.ivr = ivr_report;
    if remote_bye.load(std::sync::atomic::Ordering::Relaxed) {
        call.state.hang_up(Hangup::ByRemote);
        // Answered is answered: a BYE's cause is kept and said, never reclassifies the call.
        result.detail = Some(match &bye_q850 {
            Some(q) => format!("the far end hung up; {}", q.describe()),
            None => "the far end hung up".into(),
        });
        result.q850 = bye_q850;
        return CallOutcome::Answered;
    }

    // BYE, a non-INVITE transaction: timer E retransmits over UDP, timer F gives up.
    call.state.hang_up(Hangup::ByRaqib);
    let bye = dialog.bye(call.via(&new_branch()));
    let Some(key) = Key::of(&bye) else {
        return CallOutcome::Answered;
    };
    let sent = call.send(&bye, dialog.next_hop).await;
    let mut tx = NonInviteClient::new(
        sent.unwrap_or_else(Instant::now),
        call.s.t1,
        call.link.reliable(),
    );
    while let Some(wait) = tx.deadline() {
        let Some((m, _, from)) = call.recv(wait).await else {
            let now = Instant::now();
            match tx.on_timer(now) {
                Tick::Retransmit => {
                    call.send(&bye, dialog.next_hop).await;
                }
                Tick::TimedOut => {
                    call.trace.note(now, "no response to BYE (timer F)");
                    break;
                }
                Tick::Wait => {}
            }
            continue;
        };
        if m.method().is_some() {
            if call.answer_request(&m, from).await {
                break; // both sides said BYE
            }
            continue;
        }
        let Some(status) = m.status() else { continue };
        if key.mismatch(&m).is_none() {
            if tx.on_response(status) {
                break;
            }
        } else if (200..300).contains(&status) && m.cseq().is_some_and(|(_, meth)| meth == "INVITE")
        {
            let _ = call.link.send(&ack_bytes, dialog.next_hop).await;
        }
    }
    CallOutcome::Answered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_classify_as_the_issue_says() {
        use CallOutcome::*;
        for (s, o) in [
            (200, Answered),
            (486, Busy),
            (600, Busy),
            (404, NotInService),
            (484, NotInService),
            (403, Rejected),
            (603, Rejected),
            (480, Rejected),
            (408, Failed),
            (500, Failed),
            (503, Failed),
            (699, Busy),
        ] {
            assert_eq!(CallOutcome::of_status(s), o, "{s}");
        }
    }

    #[test]
    fn the_uri_chooses_the_transport() {
        use Transport::*;
        for (uri, trunk, want) in [
            ("sip:a@h", Udp, Ok(Udp)),
            ("sip:a@h", Tcp, Ok(Tcp)),
            ("sip:a@h:5070;transport=tcp", Udp, Ok(Tcp)),
            ("sip:a@h;lr;TRANSPORT=TCP", Udp, Ok(Tcp)),
            ("sip:a@h;transport=udp", Tcp, Ok(Udp)),
            (
                "sip:a@h;transport=udp?subject=x;transport=tcp",
                Tcp,
                Ok(Udp),
            ),
            // RFC 4475 §3.1.1.9: the ';' is the user's, not a parameter.
            ("sip:user;transport=tcp@h", Udp, Ok(Udp)),
        ] {
            assert_eq!(uri_transport(uri, trunk), want, "{uri}");
        }
        for (uri, trunk) in [
            ("sips:a@h", Udp),
            ("SIPS:a@h", Tcp),
            ("sip:a@h;transport=tls", Udp),
            ("sip:a@h;transport=TLS", Tcp),
            ("sips:a@h;transport=tcp", Udp),
            ("sips:a@h;transport=tls", Tls),
            ("sip:a@h", Tls),
        ] {
            assert_eq!(uri_transport(uri, trunk), Ok(Tls), "{uri}");
        }
        // Clear text where TLS was asked for, and transports raqib does not speak.
        for (uri, trunk) in [
            ("sips:a@h;transport=udp", Tls),
            ("sip:a@h;transport=udp", Tls),
            ("sip:a@h;transport=tcp", Tls),
            ("sip:a@h;transport=sctp", Udp),
        ] {
            assert!(uri_transport(uri, trunk).is_err(), "{uri}");
        }
    }

    /// Defence in depth: whatever the command layer lets through, a URI that asks for TLS
    /// never leaves in clear, whatever the trunk's transport: the only bytes the far end gets
    /// are a TLS handshake, and when that fails the call is a classified failure.
    #[tokio::test]
    async fn a_uri_that_asks_for_tls_is_never_sent_in_clear() {
        use tokio::io::AsyncReadExt;
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.set_nonblocking(true).unwrap();
        let port = udp.local_addr().unwrap().port();
        let tcp = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        // Reads what each connection sends first, then closes it (no TLS spoken here).
        let (seen_tx, mut seen) = mpsc::unbounded_channel::<Vec<u8>>();
        let listener = tokio::spawn(async move {
            loop {
                let (mut c, _) = tcp.accept().await.unwrap();
                let mut buf = vec![0u8; 4096];
                let n = c.read(&mut buf).await.unwrap_or(0);
                let _ = seen_tx.send(buf[..n].to_vec());
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let opts =
            CallOptions::new(Duration::from_secs(2), AfterAnswer::Hangup, dir.path()).unwrap();
        for transport in [Transport::Udp, Transport::Tcp] {
            let mut config = crate::config::Config::default();
            config.trunk.transport = transport;
            let probe = super::super::CallProbe::new(&config, dir.path())
                .await
                .unwrap();
            for uri in [
                format!("sips:uas@127.0.0.1:{port}"),
                format!("sip:uas@127.0.0.1:{port};transport=tls"),
            ] {
                let target = CallTarget {
                    uri: uri.clone(),
                    number: None,
                    centre: None,
                    unlisted: true,
                };
                let r = probe.call(&target, &opts).await;
                assert_eq!(r.outcome, CallOutcome::Failed, "{uri}: {r:?}");
                let detail = r.detail.as_deref().unwrap();
                assert!(
                    detail.contains("TLS handshake") && detail.contains("nothing was sent"),
                    "{uri}: {detail}"
                );
                assert!(r.sip_trace.is_none(), "{uri}: nothing to trace");
                let first = seen.recv().await.unwrap();
                // A TLS handshake record (RFC 8446 §5.1: type 22), no SIP.
                assert_eq!(first.first(), Some(&0x16), "{uri}: {first:?}");
                assert!(!String::from_utf8_lossy(&first).contains("INVITE"));
            }
        }
        // Sends on loopback are complete when send returns: anything sent is queued here now.
        let mut buf = [0u8; 2048];
        assert!(udp.recv_from(&mut buf).is_err(), "a datagram was sent");
        listener.abort();
    }

    #[test]
    fn the_state_keeps_each_instant_and_the_reason() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut s = State::Dialing(Instants::default());
        s.invite_sent(at(0));
        s.response(100, at(10));
        assert!(matches!(s, State::Proceeding(_)));
        s.response(180, at(30));
        s.response(183, at(40));
        assert!(matches!(s, State::Ringing(_)));
        // A redirect's new INVITE keeps the first one as the origin.
        s.invite_sent(at(50));
        s.answered(at(250));
        s.hang_up(Hangup::ByRemote);
        assert_eq!(s.hangup().and_then(Hangup::by), Some("remote"));
        assert_eq!(
            s.instants().timings(),
            (Some(10.0), Some(30.0), Some(250.0))
        );
        let mut s = State::Dialing(Instants::default());
        s.invite_sent(at(0));
        s.response(486, at(5));
        s.hang_up(Hangup::Declined);
        assert_eq!(s.hangup().and_then(Hangup::by), None);
        assert_eq!(s.instants().timings(), (Some(5.0), None, None));
    }

    #[test]
    fn answer_types_serialise_snake_case() {
        let v = serde_json::to_value(audio::AnswerType::Voicemail).unwrap();
        assert_eq!(v, "voicemail");
    }
}
