//! One test call as a user-agent client (RFC 3261 §17.1 and §12–15), as a state machine:
//! `Dialing` (INVITE sent, retransmitted over UDP by timer A until any response, given up by
//! timer B) → `Proceeding` (1xx) → `Ringing` (180/183) → `Answered` (2xx: ACK, after-answer
//! policy, BYE) or a final failure (ACK in the same transaction) → `Hangup`. 401/407 are
//! answered once with digest credentials; 3xx are followed up to a limit; the ring timeout
//! sends CANCEL and waits for the 487.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::mpsc;

use super::audio;
use super::media::{self, Media};
use super::sip::digest;
use super::sip::message::{addr_uri, uri_host_port, Message};
use super::sip::random::{branch as new_branch, token};
use super::sip::sdp;
use super::sip::transport::{Incoming, Link, UdpEndpoint};
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

/// The call's state, with the instants taken at its transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Dialing,
    Proceeding,
    Ringing,
    Answered,
    Hangup,
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
    /// When the first INVITE left: the origin of every timing but `total`.
    first_invite: Option<Instant>,
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
    let after_answer = match &opts.after_answer {
        AfterAnswer::Hangup => "hangup".to_string(),
        AfterAnswer::Notice => "notice".to_string(),
        AfterAnswer::Listen(n) => format!("listen:{n}"),
        AfterAnswer::Ivr(n) => format!("ivr:{n}"),
    };
    let mut result = CallResult::start(target, after_answer);
    let started_at = result.started_at;
    let fail = |mut r: CallResult, detail: String| {
        r.detail = Some(detail);
        r.timings_ms.total = ms(t0.elapsed());
        r
    };

    // Before any look-up or socket: a URI that asks for TLS is never sent in clear.
    let transport = match uri_transport(&target.uri, s.transport) {
        Ok(t) => t,
        Err(why) => return fail(result, why),
    };

    // Where the INVITE goes: the outbound proxy, else the Request-URI's host.
    let hop = match &s.outbound_proxy {
        Some(p) => {
            let p = p.strip_prefix("sip:").unwrap_or(p);
            uri_host_port(&format!("sip:{p}"))
        }
        None => uri_host_port(&target.uri),
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
    let media = match Media::bind(local_ip, wav.clone()).await {
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
    };
    let from = match &s.caller_id {
        Some(name) => format!("\"{}\" <{}>", name.replace('"', ""), s.from),
        None => format!("<{}>", s.from),
    };
    let local = link.local_addr();
    let mut call = Call {
        s,
        contact: format!(
            "<sip:raqib@{local};transport={}>",
            link.transport_name().to_lowercase()
        ),
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
        state: State::Dialing,
        malformed: 0,
        discarded: 0,
        first_invite: None,
    };
    let offer = sdp::offer(media.local, fastrand::u64(1..1 << 40));

    let mut answer_at = None;
    let outcome = dial(
        &mut call,
        &mut result,
        target,
        opts,
        &offer,
        &media,
        t0,
        &mut answer_at,
    )
    .await;
    result.outcome = outcome;
    call.state = State::Hangup;

    // What was heard, and the evidence.
    let capture = media.finish().await;
    let heard = media::analyse(&capture, t0, answer_at);
    result.early_media = heard.early_packets > 0;
    if let (Some(a), Some(f)) = (answer_at, heard.first_audio_at) {
        result.timings_ms.first_audio = Some(ms(f.saturating_duration_since(a)));
    }
    if heard.packets() > 0 {
        let mos = quality::mos(s.default_delay_ms, heard.jitter_ms(), heard.loss_pct());
        result.rtp = Some(RtpSummary {
            packets: heard.packets(),
            lost: heard.lost(),
            loss_pct: round3(heard.loss_pct()),
            jitter_ms: round3(heard.jitter_ms()),
            mos: round3(mos),
        });
    }
    if result.outcome == CallOutcome::Answered && opts.after_answer != AfterAnswer::Hangup {
        let window = (s.classify.as_millis() / 20) as usize;
        let after = &capture.frames[heard.answer_frame.min(capture.frames.len())..];
        result.answer_type = Some(audio::classify_frames(&after[..after.len().min(window)]));
        result.answer_type_source = Some("heuristic".into());
    }
    if capture.junk > 0 {
        call.trace.note(
            Instant::now(),
            &format!("{} datagrams on the RTP port were not RTP", capture.junk),
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

/// The transport a Request-URI asks for (its `transport` parameter), else the trunk's.
/// `sips:` and `transport=tls` are refused: raqib speaks no TLS yet, and sending such a
/// request over UDP or TCP would put in clear what the caller asked to protect.
fn uri_transport(uri: &str, trunk: Transport) -> Result<Transport, String> {
    let lower = uri.to_ascii_lowercase();
    if lower.starts_with("sips:") {
        return Err(format!(
            "'{uri}' asks for TLS (sips:), which raqib does not speak yet: not dialled"
        ));
    }
    let rest = lower.strip_prefix("sip:").unwrap_or(&lower);
    // Parameters follow the host; the user part may itself hold a ';' (RFC 4475 §3.1.1.9).
    let host_part = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let host_part = host_part.split('?').next().unwrap_or("");
    let asked = host_part.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim() == "transport").then(|| v.trim().to_string())
    });
    match asked.as_deref() {
        None => Ok(trunk),
        Some("udp") => Ok(Transport::Udp),
        Some("tcp") => Ok(Transport::Tcp),
        Some("tls") => Err(format!(
            "'{uri}' asks for TLS (transport=tls), which raqib does not speak yet: not dialled"
        )),
        Some(other) => Err(format!(
            "'{uri}' asks for transport={other}; raqib speaks udp and tcp: not dialled"
        )),
    }
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

#[allow(clippy::too_many_arguments)]
async fn dial(
    call: &mut Call<'_>,
    result: &mut CallResult,
    target: &CallTarget,
    opts: &CallOptions,
    offer: &str,
    media: &Media,
    t0: Instant,
    answer_at: &mut Option<Instant>,
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
        let fin = invite_transaction(call, result, &invite, ring_deadline).await;
        match fin {
            Final::Silent => {
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
                if let Some(m) = &last {
                    result.sip_status = m.status();
                    result.sip_reason = m.reason().map(String::from);
                }
                result.detail = Some(format!(
                    "no answer within the ring timeout of {} s; cancelled",
                    opts.ring_timeout.as_secs()
                ));
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
                    let current = if call.link.reliable() {
                        Transport::Tcp
                    } else {
                        Transport::Udp
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
                    let challenge = m.header(challenge_header).and_then(digest::parse_challenge);
                    if let (Some(c), Some(user), Some(pw)) =
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
                let outcome = CallOutcome::of_status(status);
                result.detail = Some(match status {
                    300..=399 => format!(
                        "{status} redirect not followed (limit {} or no Contact)",
                        call.s.max_redirects
                    ),
                    401 | 407 if auth_tried => "credentials refused".into(),
                    401 | 407 => "authentication demanded and no credentials configured".into(),
                    _ => format!("{status} {}", m.reason().unwrap_or_default()),
                });
                return outcome;
            }
            Final::Answered(ok, at) => {
                result.sip_status = ok.status();
                result.sip_reason = ok.reason().map(String::from);
                let origin = call.first_invite.unwrap_or(t0);
                result.timings_ms.answer = Some(ms(at.saturating_duration_since(origin)));
                *answer_at = Some(at);
                call.state = State::Answered;
                return answered(call, result, &request_uri, ok, opts, media).await;
            }
        }
    }
}

/// Sends the INVITE and runs its client transaction to a final response.
async fn invite_transaction(
    call: &mut Call<'_>,
    result: &mut CallResult,
    invite: &Message,
    ring_deadline: Instant,
) -> Final {
    let to = call.next_hop;
    let first_send = call.send(invite, to).await;
    let Some(sent_at) = first_send else {
        return Final::Silent;
    };
    let t0 = *call.first_invite.get_or_insert(sent_at);
    let branch = invite.top_branch().unwrap_or_default();
    let cseq = call.cseq;
    let t1 = call.s.t1;
    let timer_b = sent_at + t1 * 64;
    let mut retransmit = (!call.link.reliable()).then(|| (sent_at + t1, t1));
    let mut responded = false;
    let mut cancel: Option<(Message, Instant, Duration)> = None; // CANCEL, next retransmit, interval
    let mut cancel_deadline: Option<Instant> = None;
    let mut last_provisional: Option<Message> = None;
    loop {
        // Every armed timer is a wake-up. The ring timeout is armed until it has done its
        // work: once it passes with no provisional response it can do nothing (no CANCEL
        // before a 1xx, RFC 3261 §9.1) and is disarmed until one arrives; left armed, a
        // deadline in the past woke this loop at once, over and over, for a core's worth of
        // CPU until timer B.
        let ring_armed = cancel.is_none() && (responded || Instant::now() < ring_deadline);
        let mut deadline = match (cancel.is_some(), cancel_deadline) {
            (true, Some(d)) => d,
            _ if responded => ring_deadline,
            _ if ring_armed => timer_b.min(ring_deadline),
            _ => timer_b,
        };
        if let Some((at, _)) = retransmit {
            deadline = deadline.min(at);
        }
        if let Some((_, at, _)) = &cancel {
            if !call.link.reliable() {
                deadline = deadline.min(*at);
            }
        }
        let got = call.recv(deadline).await;
        let now = Instant::now();
        let Some((m, at, from)) = got else {
            if let Some((next, interval)) = retransmit {
                if now >= next && !responded && now < timer_b {
                    call.send(invite, to).await;
                    let interval = interval * 2;
                    retransmit = Some((next + interval, interval));
                    continue;
                }
            }
            if let Some((c, next, interval)) = cancel.take() {
                if cancel_deadline.is_some_and(|d| now >= d) {
                    return Final::Cancelled(last_provisional);
                }
                if now >= next {
                    call.send(&c, to).await;
                    let interval = (interval * 2).min(Duration::from_secs(4));
                    cancel = Some((c, next + interval, interval));
                } else {
                    cancel = Some((c, next, interval));
                }
                continue;
            }
            if !responded && now >= timer_b {
                return Final::Silent;
            }
            if now >= ring_deadline && cancel.is_none() {
                if responded {
                    // RFC 3261 §9.1: CANCEL only after a provisional response.
                    let mut c = call.request(
                        "CANCEL",
                        invite_uri(invite),
                        &branch,
                        cseq,
                        &call.to.clone(),
                    );
                    c.headers.retain(|(n, _)| n != "via");
                    c.headers.insert(
                        0,
                        (
                            "via".into(),
                            invite.header("via").unwrap_or_default().to_string(),
                        ),
                    );
                    call.send(&c, to).await;
                    cancel_deadline = Some(now + t1 * 64);
                    cancel = Some((c, now + t1, t1));
                    retransmit = None;
                    continue;
                }
                // Nothing heard at all: timer B decides (unreachable).
                if now >= timer_b {
                    return Final::Silent;
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
        match m.cseq() {
            Some((n, "INVITE")) if n == cseq => {}
            _ => continue, // a response to our CANCEL, or a stray one
        }
        if m.top_branch().as_deref() != Some(branch.as_str()) {
            // Not this transaction's (RFC 3261 §17.1.3): a 2xx with another branch is no
            // answer to this INVITE, whatever its CSeq says.
            call.discarded += 1;
            let theirs = m.top_branch().unwrap_or_default();
            call.trace.note(
                at,
                &format!("discarded: branch {theirs:?} is not this INVITE's"),
            );
            continue;
        }
        responded = true;
        retransmit = None;
        if result.timings_ms.first_response.is_none() {
            result.timings_ms.first_response = Some(ms(at.saturating_duration_since(t0)));
        }
        match status {
            100..=199 => {
                if matches!(status, 180 | 183) && result.timings_ms.ringing.is_none() {
                    result.timings_ms.ringing = Some(ms(at.saturating_duration_since(t0)));
                    call.state = State::Ringing;
                } else if call.state == State::Dialing {
                    call.state = State::Proceeding;
                }
                last_provisional = Some(m);
            }
            200..=299 => {
                if cancel.is_some() {
                    // Answered after we gave up: acknowledge and hang up at once.
                    let ack = ack_for_2xx(call, &m, invite_uri(invite));
                    if let Some((dest, ack)) = ack {
                        call.send(&ack, dest).await;
                        let bye = bye_for(call, &m, invite_uri(invite));
                        if let Some((dest, bye)) = bye {
                            call.send(&bye, dest).await;
                        }
                    }
                    return Final::Cancelled(Some(m));
                }
                return Final::Answered(m, at);
            }
            _ => {
                // Non-2xx final: ACK within the transaction (RFC 3261 §17.1.1.3).
                let mut ack = Message::request("ACK", invite_uri(invite));
                ack.push("via", invite.header("via").unwrap_or_default().to_string())
                    .push("max-forwards", "70")
                    .push(
                        "from",
                        invite.header("from").unwrap_or_default().to_string(),
                    )
                    .push("to", m.header("to").unwrap_or_default().to_string())
                    .push("call-id", call.call_id.clone())
                    .push("cseq", format!("{cseq} ACK"));
                call.send(&ack, to).await;
                if cancel.is_some() {
                    return Final::Cancelled(Some(m));
                }
                return Final::Failed(m);
            }
        }
    }
}

fn invite_uri(invite: &Message) -> &str {
    match &invite.start {
        super::sip::message::StartLine::Request { uri, .. } => uri,
        _ => "",
    }
}

/// The dialog's route: where in-dialog requests go and with which Route headers.
fn dialog_route(
    call: &Call<'_>,
    ok: &Message,
    fallback_uri: &str,
) -> (String, Vec<String>, SocketAddr) {
    let remote_target = ok
        .header_values("contact")
        .first()
        .map(|c| addr_uri(c))
        .unwrap_or_else(|| fallback_uri.to_string());
    let mut routes = ok.header_values("record-route");
    routes.reverse();
    // An outbound proxy, or the first route, or the remote target decides the next hop.
    let dest = if call.s.outbound_proxy.is_some() {
        call.next_hop
    } else if let Some(first) = routes.first() {
        resolve_now(&addr_uri(first)).unwrap_or(call.next_hop)
    } else {
        resolve_now(&remote_target).unwrap_or(call.next_hop)
    };
    (remote_target, routes, dest)
}

/// Address literals only: names in a Contact are not resolved again (the next hop is kept).
fn resolve_now(uri: &str) -> Option<SocketAddr> {
    let (h, p) = uri_host_port(uri)?;
    let ip: std::net::IpAddr = h.parse().ok()?;
    Some(SocketAddr::new(ip, p))
}

fn in_dialog(
    call: &Call<'_>,
    ok: &Message,
    method: &str,
    cseq: u32,
    fallback_uri: &str,
) -> Option<(SocketAddr, Message)> {
    let (remote_target, routes, dest) = dialog_route(call, ok, fallback_uri);
    let to = ok.header("to")?.to_string();
    let branch = new_branch();
    let mut m = call.request(method, &remote_target, &branch, cseq, &to);
    for r in routes {
        m.push("route", r);
    }
    Some((dest, m))
}

fn ack_for_2xx(call: &Call<'_>, ok: &Message, fallback_uri: &str) -> Option<(SocketAddr, Message)> {
    let cseq = ok.cseq().map(|c| c.0).unwrap_or(call.cseq);
    in_dialog(call, ok, "ACK", cseq, fallback_uri)
}

fn bye_for(call: &Call<'_>, ok: &Message, fallback_uri: &str) -> Option<(SocketAddr, Message)> {
    in_dialog(call, ok, "BYE", call.cseq + 1, fallback_uri)
}

/// After the 200 OK: ACK, the after-answer policy, BYE (unless the far end hung up first).
async fn answered(
    call: &mut Call<'_>,
    result: &mut CallResult,
    request_uri: &str,
    ok: Message,
    opts: &CallOptions,
    media: &Media,
) -> CallOutcome {
    let no_tag = ok.tag("to").is_none();
    let Some((ack_dest, ack)) = ack_for_2xx(call, &ok, request_uri) else {
        result.detail = Some("200 OK without a To header".into());
        return CallOutcome::Failed;
    };
    call.send(&ack, ack_dest).await;
    let ack_bytes = ack.to_bytes();
    let answer = sdp::parse(&ok.body);
    if no_tag {
        // A dialog cannot exist without the remote tag (RFC 3261 §12.1.2): end it now.
        if let Some((dest, bye)) = bye_for(call, &ok, request_uri) {
            call.send(&bye, dest).await;
        }
        result.detail = Some("protocol error: 200 OK without a To tag; hung up".into());
        result.hangup_by = Some("raqib".into());
        return CallOutcome::Failed;
    }
    let ok_cseq = ok.cseq().map(|c| c.0).unwrap_or(call.cseq);

    // The policy runs while the call keeps answering what the far end sends.
    let remote_media = answer.as_ref().and_then(|a| a.remote);
    let codec = answer.as_ref().and_then(|a| a.codec).unwrap_or(0);
    let events = answer.as_ref().and_then(|a| a.telephone_event);
    let remote_bye = std::sync::atomic::AtomicBool::new(false);
    let (bye_tx, bye_rx) = tokio::sync::watch::channel(false);
    let policy_done = &tokio::sync::Notify::new();
    let notice = call.s.notice.clone();
    let answered_at = Instant::now();
    let mut ivr_report = None;
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
                    remote_bye.store(true, std::sync::atomic::Ordering::Relaxed);
                    let _ = bye_tx.send(true);
                    return;
                }
            } else if m.status().is_some_and(|s| (200..300).contains(&s))
                && m.cseq()
                    .is_some_and(|(n, meth)| n == ok_cseq && meth == "INVITE")
            {
                // A retransmitted 200 OK: the ACK was lost; send it again, same result.
                let _ = call.link.send(&ack_bytes, ack_dest).await;
                call.trace
                    .note(Instant::now(), "200 OK retransmitted: ACK sent again");
            }
        }
    };
    tokio::join!(policy, listen);
    result.ivr = ivr_report;
    if remote_bye.load(std::sync::atomic::Ordering::Relaxed) {
        result.hangup_by = Some("remote".into());
        result.detail = Some("the far end hung up".into());
        return CallOutcome::Answered;
    }

    // BYE, a non-INVITE transaction: timer E retransmits over UDP, timer F gives up.
    call.cseq = ok_cseq;
    let Some((dest, bye)) = bye_for(call, &ok, request_uri) else {
        return CallOutcome::Answered;
    };
    let bye_cseq = ok_cseq + 1;
    result.hangup_by = Some("raqib".into());
    call.send(&bye, dest).await;
    let t1 = call.s.t1;
    let give_up = Instant::now() + t1 * 64;
    let mut next = Instant::now() + t1;
    let mut interval = t1;
    loop {
        let wait = if call.link.reliable() {
            give_up
        } else {
            next.min(give_up)
        };
        match call.recv(wait).await {
            Some((m, _, from)) => {
                if m.method().is_some() {
                    if call.answer_request(&m, from).await {
                        break; // both sides said BYE
                    }
                    continue;
                }
                if m.cseq()
                    .is_some_and(|(n, meth)| n == bye_cseq && meth == "BYE")
                    && m.status().is_some_and(|s| s >= 200)
                {
                    break;
                }
                if m.status().is_some_and(|s| (200..300).contains(&s))
                    && m.cseq().is_some_and(|(_, meth)| meth == "INVITE")
                {
                    let _ = call.link.send(&ack_bytes, ack_dest).await;
                }
            }
            None => {
                let now = Instant::now();
                if now >= give_up {
                    call.trace.note(now, "no response to BYE (timer F)");
                    break;
                }
                call.send(&bye, dest).await;
                interval = (interval * 2).min(Duration::from_secs(4));
                next = now + interval;
            }
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
        for uri in [
            "sips:a@h",
            "SIPS:a@h",
            "sip:a@h;transport=tls",
            "sip:a@h;transport=sctp",
        ] {
            assert!(uri_transport(uri, Udp).is_err(), "{uri}");
        }
    }

    /// Defence in depth: whatever the command layer lets through, the UAC itself never sends
    /// a request that asked for TLS, on either transport.
    #[tokio::test]
    async fn a_uri_that_asks_for_tls_is_refused_before_any_packet() {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.set_nonblocking(true).unwrap();
        let port = udp.local_addr().unwrap().port();
        let tcp = std::net::TcpListener::bind(("127.0.0.1", port)).ok();
        if let Some(t) = &tcp {
            t.set_nonblocking(true).unwrap();
        }
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
                assert_eq!(r.outcome, CallOutcome::Error, "{uri}");
                assert!(r.detail.as_deref().unwrap().contains("TLS"), "{uri}");
                assert!(r.sip_trace.is_none(), "{uri}: nothing to trace");
            }
        }
        // Sends on loopback are complete when send returns: anything sent is queued here now.
        let mut buf = [0u8; 2048];
        assert!(udp.recv_from(&mut buf).is_err(), "a datagram was sent");
        if let Some(t) = tcp {
            assert!(t.accept().is_err(), "a connection was opened");
        }
    }

    #[test]
    fn answer_types_serialise_snake_case() {
        let v = serde_json::to_value(audio::AnswerType::Voicemail).unwrap();
        assert_eq!(v, "voicemail");
    }
}
