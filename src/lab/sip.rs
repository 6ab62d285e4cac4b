//! The lab's SIP centres: a user-agent server on loopback whose behaviour is chosen by the
//! dialled number (`[lab.phones]`) or by a Request-URI user such as `answer-1500`.
//!
//! Behaviours: `answer:MS[~JITTER]` (ring, answer, a greeting then silence: a person),
//! `human`, `ivr` (a prompt, then waits for an RFC 4733 digit), `music`, `voicemail`,
//! `busy` (486), `unavailable` (480), `declined` (603), `not_in_service` (404), `congested`
//! (503), `moved:USER` (302 to another lab user), `early` (183 with an announcement as early media, then 404), `never` (rings until
//! cancelled), `silent` (no response at all), `hangup:MS` (answers, then hangs up itself),
//! `cause:STATUS:CAUSE` (a final STATUS carrying `Reason: Q.850;cause=CAUSE`, as carriers'
//! gateways send), `byecause:CAUSE` (answers, then hangs up with a BYE carrying that cause),
//! `rtt:MS` (answers like `answer:500`, and holds each RTCP receiver report back by MS ms
//! while reporting that it held it for no time: the caller measures a round trip of MS ms),
//! `xr:MS` (answers like `answer:500` and sends RTCP-XR VoIP metrics giving a round trip of
//! MS ms),
//! `sit_early:CODE` (183, a special information tone of that code — `intercept`,
//! `vacant_code`, `reorder_intra`, … `information` — and the announcement as early media,
//! then 480, or 487 when cancelled), `sit_answer:CODE` (200, then the same), `announcement` (200, then the
//! announcement without tones).
//!
//! Every answered call answers raqib's RTCP sender reports with a receiver report whose
//! report block echoes LSR and DLSR (RFC 3550 §6.4.1), from RTP port + 1 or the port its
//! `a=rtcp:` names.
//!
//! Each call logs when its INVITE arrived and when its 200 OK left, the wire's ground truth
//! that benchmarks measure raqib's answer time against.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::probe::call::audio::sit::{self, SitVariant};
use crate::probe::call::media::RtpSender;
use crate::probe::call::sip::message::{uri_user, Message, StartLine};
use crate::probe::call::sip::sdp;
use crate::probe::call::sip::transport::{Incoming, UdpEndpoint};
use crate::probe::call::{read_wav_8k, rtp};

const GREETING: &[u8] = include_bytes!("../../probes/calls/lab/greeting.wav");
const IVR_PROMPT: &[u8] = include_bytes!("../../probes/calls/lab/ivr-prompt.wav");
const MUSIC: &[u8] = include_bytes!("../../probes/calls/lab/music.wav");
const VOICEMAIL: &[u8] = include_bytes!("../../probes/calls/lab/voicemail.wav");
const NOT_IN_SERVICE: &[u8] = include_bytes!("../../probes/calls/lab/not-in-service.wav");

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// Ring this long (± jitter), answer, then play `after`.
    Answer {
        ring_ms: u64,
        jitter_ms: u64,
        after: AfterAnswer,
        /// How long each RTCP report is held back without being counted in its DLSR.
        rtcp_delay_ms: u64,
        /// With each report, an RTCP-XR VoIP metrics block giving this round trip (0: none).
        xr_round_trip_ms: u16,
    },
    Reject(u16),
    /// A final status with `Reason: Q.850;cause=N`.
    Cause {
        status: u16,
        cause: u16,
    },
    /// 302 to the lab user of this name (`moved:answer-500`).
    Redirect(String),
    Early,
    /// 183, a SIT and the announcement as early media, then 480.
    EarlySit(SitVariant),
    Never,
    Silent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAnswer {
    Greeting,
    Ivr,
    Music,
    Voicemail,
    /// Greet, then hang up after this many ms.
    HangUp(u64),
    /// A network announcement, after a SIT of this code or none.
    Announcement(Option<SitVariant>),
    /// Greet, hang up after `ms` with `Reason: Q.850;cause=N` in the BYE.
    HangUpCause {
        ms: u64,
        cause: u16,
    },
}

impl Behaviour {
    pub fn parse(s: &str) -> Option<Behaviour> {
        let s = s.trim().to_ascii_lowercase();
        let (name, arg) = match s.split_once([':', '-']) {
            Some((n, a)) => (n.to_string(), Some(a.to_string())),
            None => (s.clone(), None),
        };
        let answer = |ring_ms, jitter_ms, after| Behaviour::Answer {
            ring_ms,
            jitter_ms,
            after,
            rtcp_delay_ms: 0,
            xr_round_trip_ms: 0,
        };
        Some(match (name.as_str(), arg) {
            ("answer", Some(a)) => {
                let (ms, jitter) = match a.split_once(['~', '-']) {
                    Some((m, j)) => (m.parse().ok()?, j.parse().ok()?),
                    None => (a.parse().ok()?, 0),
                };
                answer(ms, jitter, AfterAnswer::Greeting)
            }
            ("human", None) => answer(3000, 1000, AfterAnswer::Greeting),
            ("ivr", None) => answer(1000, 0, AfterAnswer::Ivr),
            ("music", None) => answer(500, 0, AfterAnswer::Music),
            ("voicemail", None) => answer(8000, 0, AfterAnswer::Voicemail),
            ("hangup", Some(a)) => answer(500, 0, AfterAnswer::HangUp(a.parse().ok()?)),
            ("rtt", Some(a)) => Behaviour::Answer {
                ring_ms: 500,
                jitter_ms: 0,
                after: AfterAnswer::Greeting,
                rtcp_delay_ms: a.parse().ok().filter(|ms| *ms <= 10_000)?,
                xr_round_trip_ms: 0,
            },
            ("xr", Some(a)) => Behaviour::Answer {
                ring_ms: 500,
                jitter_ms: 0,
                after: AfterAnswer::Greeting,
                rtcp_delay_ms: 0,
                xr_round_trip_ms: a.parse().ok().filter(|ms| *ms > 0)?,
            },
            ("busy", None) => Behaviour::Reject(486),
            ("unavailable", None) => Behaviour::Reject(480),
            ("declined", None) => Behaviour::Reject(603),
            ("not_in_service", None) => Behaviour::Reject(404),
            ("congested", None) => Behaviour::Reject(503),
            ("reject", Some(code)) => {
                Behaviour::Reject(code.parse().ok().filter(|c| (300..700).contains(c))?)
            }
            ("cause", Some(a)) => {
                let (status, cause) = a.split_once([':', '-'])?;
                Behaviour::Cause {
                    status: status.parse().ok().filter(|c| (300..700).contains(c))?,
                    cause: cause.parse().ok().filter(|c| (1..=127).contains(c))?,
                }
            }
            ("byecause", Some(c)) => answer(
                500,
                0,
                AfterAnswer::HangUpCause {
                    ms: 1000,
                    cause: c.parse().ok().filter(|c| (1..=127).contains(c))?,
                },
            ),
            ("moved", Some(user)) if !user.is_empty() => Behaviour::Redirect(user),
            ("early", None) => Behaviour::Early,
            ("sit_early", Some(code)) => Behaviour::EarlySit(SitVariant::of_code(&code)?),
            ("sit_answer", Some(code)) => answer(
                300,
                0,
                AfterAnswer::Announcement(Some(SitVariant::of_code(&code)?)),
            ),
            ("announcement", None) => answer(300, 0, AfterAnswer::Announcement(None)),
            ("never", None) => Behaviour::Never,
            ("silent", None) => Behaviour::Silent,
            _ => return None,
        })
    }
}

/// When a lab call's INVITE arrived and its 200 OK left.
#[derive(Debug, Clone, Copy)]
pub struct WireTimes {
    pub invite_at: Instant,
    pub ok_at: Option<Instant>,
}

pub type WireLog = Arc<Mutex<HashMap<String, WireTimes>>>;

struct Prompts {
    greeting: Vec<i16>,
    ivr: Vec<i16>,
    music: Vec<i16>,
    voicemail: Vec<i16>,
    not_in_service: Vec<i16>,
    /// The announcement alone, without the tones its recording starts with.
    announcement: Vec<i16>,
}

/// The lab's not-in-service recording opens with 1040 ms of tones (330, 330, 380 ms).
const RECORDED_SIT_SAMPLES: usize = 1040 * 8;

/// A SIT exactly as the standard gives it, 40 ms of silence, then the announcement.
fn sit_then(variant: SitVariant, announcement: &[i16]) -> Vec<i16> {
    let mut x = sit::synthesize(&variant.tones(), -10.0);
    x.extend(std::iter::repeat_n(0, 320));
    x.extend_from_slice(announcement);
    x
}

fn load(b: &[u8]) -> Vec<i16> {
    read_wav_8k(b).unwrap_or_default()
}

/// Starts the lab's UAS on `addr`; returns its address and the wire log.
pub async fn serve(
    tasks: &mut tokio::task::JoinSet<()>,
    addr: SocketAddr,
    phones: HashMap<String, Behaviour>,
) -> std::io::Result<(SocketAddr, WireLog)> {
    let ep = UdpEndpoint::bind(addr).await?;
    let local = ep.local_addr();
    let mut unmatched = ep.accept_unmatched();
    let log: WireLog = Default::default();
    let prompts = Arc::new(Prompts {
        greeting: load(GREETING),
        ivr: load(IVR_PROMPT),
        music: load(MUSIC),
        voicemail: load(VOICEMAIL),
        not_in_service: load(NOT_IN_SERVICE),
        announcement: load(NOT_IN_SERVICE)
            .get(RECORDED_SIT_SAMPLES..)
            .unwrap_or_default()
            .to_vec(),
    });
    let wire = log.clone();
    tasks.spawn(async move {
        // Call-ID → (CSeq of its INVITE, the task): a new INVITE in the same call (after a
        // 302 or a 401) is a new transaction and gets a task of its own.
        let mut calls: HashMap<String, (u32, mpsc::UnboundedSender<Incoming>)> = HashMap::new();
        while let Some(incoming) = unmatched.recv().await {
            let Ok(m) = &incoming.parsed else { continue };
            let id = m.call_id().to_string();
            calls.retain(|_, (_, tx)| !tx.is_closed());
            let cseq = m.cseq().map(|c| c.0).unwrap_or(0);
            let new_invite =
                m.method() == Some("INVITE") && calls.get(&id).is_some_and(|(n, _)| *n != cseq);
            if let Some((_, tx)) = calls.get(&id).filter(|_| !new_invite) {
                let _ = tx.send(incoming);
                continue;
            }
            if m.method() != Some("INVITE") {
                if m.method().is_some_and(|x| x != "ACK") {
                    let r = m.response(481, "Call/Transaction Does Not Exist", None);
                    let _ = ep.send_raw(&r.to_bytes(), incoming.from).await;
                }
                continue;
            }
            let user = match &m.start {
                StartLine::Request { uri, .. } => uri_user(uri).unwrap_or("").to_string(),
                _ => String::new(),
            };
            let behaviour = phones
                .get(&user)
                .cloned()
                .or_else(|| Behaviour::parse(&user))
                .unwrap_or(Behaviour::Reject(404));
            if let Ok(mut w) = wire.lock() {
                w.insert(
                    id.clone(),
                    WireTimes {
                        invite_at: incoming.at,
                        ok_at: None,
                    },
                );
            }
            let (tx, rx) = mpsc::unbounded_channel();
            calls.insert(id, (cseq, tx));
            let ep = ep.clone();
            let prompts = prompts.clone();
            let wire = wire.clone();
            tokio::spawn(async move {
                uas(ep, incoming, rx, behaviour, prompts, wire).await;
            });
        }
    });
    Ok((local, log))
}

struct Uas {
    ep: UdpEndpoint,
    peer: SocketAddr,
    invite: Message,
    to_tag: String,
    last: Option<Vec<u8>>,
    /// A `Reason` value every final non-2xx response carries.
    reason: Option<String>,
}

impl Uas {
    async fn respond(&mut self, status: u16, reason: &str, body: Option<&str>) -> Instant {
        let mut r = self.invite.response(status, reason, Some(&self.to_tag));
        if status > 100 {
            r.push("contact", format!("<sip:lab@{}>", self.ep.local_addr()));
        }
        if let (300.., Some(reason)) = (status, &self.reason) {
            r.push("reason", reason.clone());
        }
        if let Some(b) = body {
            r.push("content-type", "application/sdp");
            r.body = b.as_bytes().to_vec();
        }
        let bytes = r.to_bytes();
        let at = self
            .ep
            .send_raw(&bytes, self.peer)
            .await
            .unwrap_or_else(|_| Instant::now());
        self.last = Some(bytes);
        at
    }

    async fn resend_last(&self) {
        if let Some(b) = &self.last {
            let _ = self.ep.send_raw(b, self.peer).await;
        }
    }
}

fn answer_sdp(rtp: SocketAddr, rtcp: SocketAddr, codec: u8) -> String {
    let name = if codec == 8 { "PCMA" } else { "PCMU" };
    // RFC 3605: name the RTCP port when it is not the RTP port + 1.
    let rtcp_line = if rtcp.port() as u32 == rtp.port() as u32 + 1 {
        String::new()
    } else {
        format!("a=rtcp:{}\r\n", rtcp.port())
    };
    format!(
        "v=0\r\no=lab 1 1 IN IP4 {ip}\r\ns=raqib lab\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP {codec} 101\r\na=rtpmap:{codec} {name}/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n{rtcp_line}",
        ip = rtp.ip(),
        port = rtp.port()
    )
}

/// Aborts a task when the call's handler returns, whichever way it does.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Answers each RTCP sender report with a receiver report about the sender's stream:
/// LSR from the SR, DLSR the time held minus `delay` (which it waits on top), so the caller
/// measures a round trip `delay` longer than the wire's. Replies go to `to` (the offer's RTCP
/// address), else to where the SR came from.
///
/// With `xr_round_trip_ms`, every report from the caller (SR or RR) is also answered with an
/// RTCP-XR VoIP metrics block (RFC 3611 §4.7) on the caller's stream giving that round trip.
async fn rtcp_responder(
    socket: UdpSocket,
    to: Option<SocketAddr>,
    delay: Duration,
    xr_round_trip_ms: u16,
) {
    use crate::probe::call::rtcp;
    let ssrc = fastrand::u32(..);
    let mut buf = [0u8; 1500];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            return;
        };
        let at = Instant::now();
        let Ok(packets) = rtcp::parse(&buf[..n]) else {
            continue;
        };
        for p in packets {
            let caller = match &p {
                rtcp::Packet::Sr { ssrc, .. } | rtcp::Packet::Rr { ssrc, .. } => Some(*ssrc),
                _ => None,
            };
            if let (Some(caller), 1..) = (caller, xr_round_trip_ms) {
                let xr = rtcp::build_xr_voip(
                    ssrc,
                    &rtcp::VoipBlock {
                        ssrc: caller,
                        loss_rate: 0,
                        discard_rate: 0,
                        burst_density: 0,
                        gap_density: 0,
                        round_trip_delay: xr_round_trip_ms,
                        end_system_delay: 40,
                        r_factor: 90,
                        mos_lq: 43,
                        mos_cq: 42,
                    },
                );
                let mut out = rtcp::build_report(ssrc, None, &[], "lab@raqib");
                out.extend(xr);
                let _ = socket.send_to(&out, to.unwrap_or(from)).await;
            }
            let rtcp::Packet::Sr {
                ssrc: sender, info, ..
            } = p
            else {
                continue;
            };
            tokio::time::sleep(delay).await;
            let held = at.elapsed().saturating_sub(delay).as_secs_f64();
            let block = rtcp::ReportBlock {
                ssrc: sender,
                fraction_lost: 0,
                cumulative_lost: 0,
                highest_seq: 0,
                jitter: 0,
                lsr: rtcp::mid32(info.ntp),
                dlsr: (held * 65536.0) as u32,
            };
            let rr = rtcp::build_report(ssrc, None, &[block], "lab@raqib");
            let _ = socket.send_to(&rr, to.unwrap_or(from)).await;
        }
    }
}

/// What happened while waiting: keep going, a CANCEL, a BYE, a digit.
enum Event {
    Timeout,
    Cancel,
    Bye,
    Gone,
}

async fn next_event(
    uas: &mut Uas,
    rx: &mut mpsc::UnboundedReceiver<Incoming>,
    until: Instant,
) -> Event {
    loop {
        let got = tokio::time::timeout_at(until.into(), rx.recv()).await;
        let incoming = match got {
            Err(_) => return Event::Timeout,
            Ok(None) => return Event::Gone,
            Ok(Some(i)) => i,
        };
        let Ok(m) = incoming.parsed else { continue };
        match m.method() {
            Some("INVITE") => uas.resend_last().await,
            Some("ACK") => {}
            Some("CANCEL") => {
                let ok = m.response(200, "OK", Some(&uas.to_tag));
                let _ = uas.ep.send_raw(&ok.to_bytes(), incoming.from).await;
                return Event::Cancel;
            }
            Some("BYE") => {
                let ok = m.response(200, "OK", Some(&uas.to_tag));
                let _ = uas.ep.send_raw(&ok.to_bytes(), incoming.from).await;
                return Event::Bye;
            }
            Some(_) => {
                let ok = m.response(200, "OK", Some(&uas.to_tag));
                let _ = uas.ep.send_raw(&ok.to_bytes(), incoming.from).await;
            }
            None => {}
        }
    }
}

async fn uas(
    ep: UdpEndpoint,
    first: Incoming,
    mut rx: mpsc::UnboundedReceiver<Incoming>,
    behaviour: Behaviour,
    prompts: Arc<Prompts>,
    wire: WireLog,
) {
    let Ok(invite) = first.parsed else { return };
    let call_id = invite.call_id().to_string();
    let offer = sdp::parse(&invite.body);
    let remote_media = offer.as_ref().and_then(|o| o.remote);
    let codec = offer.as_ref().and_then(|o| o.codec).unwrap_or(0);
    let Ok(rtp_socket) = UdpSocket::bind(SocketAddr::new(ep.local_addr().ip(), 0)).await else {
        return;
    };
    let rtp_socket = Arc::new(rtp_socket);
    let rtp_local = rtp_socket.local_addr().unwrap_or(ep.local_addr());
    let rtcp_socket = match UdpSocket::bind(SocketAddr::new(
        rtp_local.ip(),
        rtp_local.port().checked_add(1).unwrap_or(0),
    ))
    .await
    {
        Ok(s) => s,
        Err(_) => match UdpSocket::bind(SocketAddr::new(rtp_local.ip(), 0)).await {
            Ok(s) => s,
            Err(_) => return,
        },
    };
    let rtcp_local = rtcp_socket.local_addr().unwrap_or(rtp_local);
    let mut rtcp_socket = Some(rtcp_socket);
    let remote_rtcp = offer.as_ref().and_then(|o| o.rtcp);
    let mut uas = Uas {
        ep,
        peer: first.from,
        invite,
        to_tag: crate::probe::call::sip::random::token(),
        last: None,
        reason: None,
    };
    let sdp_answer = answer_sdp(rtp_local, rtcp_local, codec);
    let t1 = Duration::from_millis(500);
    match behaviour {
        Behaviour::Silent => {
            // Never answer anything: raqib's timer B must decide.
            while rx.recv().await.is_some() {}
        }
        Behaviour::Reject(code) => {
            uas.respond(100, "Trying", None).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let reason = match code {
                486 => "Busy Here",
                480 => "Temporarily Unavailable",
                603 => "Decline",
                404 => "Not Found",
                503 => "Service Unavailable",
                _ => "Lab",
            };
            final_until_ack(&mut uas, &mut rx, code, reason, t1).await;
        }
        Behaviour::Cause { status, cause } => {
            uas.respond(100, "Trying", None).await;
            uas.respond(180, "Ringing", None).await;
            uas.reason = Some(format!("Q.850;cause={cause};text=\"lab cause {cause}\""));
            let reason = match status {
                486 => "Busy Here",
                480 => "Temporarily Unavailable",
                404 => "Not Found",
                403 => "Forbidden",
                503 => "Service Unavailable",
                _ => "Lab",
            };
            final_until_ack(&mut uas, &mut rx, status, reason, t1).await;
        }
        Behaviour::Redirect(user) => {
            let mut r = uas
                .invite
                .response(302, "Moved Temporarily", Some(&uas.to_tag));
            r.push("contact", format!("<sip:{user}@{}>", uas.ep.local_addr()));
            let bytes = r.to_bytes();
            let _ = uas.ep.send_raw(&bytes, uas.peer).await;
            uas.last = Some(bytes);
            // Wait for the ACK, resending on a retransmitted INVITE.
            let end = Instant::now() + t1 * 64;
            while let Ok(Some(i)) = tokio::time::timeout_at(end.into(), rx.recv()).await {
                match i.parsed.as_ref().ok().and_then(|m| m.method()) {
                    Some("ACK") => break,
                    Some("INVITE") => uas.resend_last().await,
                    _ => {}
                }
            }
        }
        Behaviour::Never => {
            uas.respond(100, "Trying", None).await;
            uas.respond(180, "Ringing", None).await;
            let end = Instant::now() + Duration::from_secs(600);
            if let Event::Cancel = next_event(&mut uas, &mut rx, end).await {
                final_until_ack(&mut uas, &mut rx, 487, "Request Terminated", t1).await;
            }
        }
        Behaviour::Early => {
            uas.respond(100, "Trying", None).await;
            uas.respond(183, "Session Progress", Some(&sdp_answer))
                .await;
            if let Some(to) = remote_media {
                let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
                play(
                    &rtp_socket,
                    &mut Stream::new(),
                    &prompts.not_in_service,
                    codec,
                    to,
                    &stop,
                )
                .await;
            }
            final_until_ack(&mut uas, &mut rx, 404, "Not Found", t1).await;
        }
        Behaviour::EarlySit(variant) => {
            uas.respond(100, "Trying", None).await;
            uas.respond(183, "Session Progress", Some(&sdp_answer))
                .await;
            let mut cancelled = false;
            if let Some(to) = remote_media {
                let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let audio = sit_then(variant, &prompts.announcement);
                let far = Instant::now() + Duration::from_secs(600);
                let mut stream = Stream::new();
                // A caller may give up (CANCEL) while the announcement plays.
                tokio::select! {
                    _ = play(&rtp_socket, &mut stream, &audio, codec, to, &stop) => {}
                    e = next_event(&mut uas, &mut rx, far) => match e {
                        Event::Cancel => cancelled = true,
                        _ => return,
                    },
                }
            }
            if cancelled {
                final_until_ack(&mut uas, &mut rx, 487, "Request Terminated", t1).await;
            } else {
                // A status that alone would say nothing of the number: only the tones do.
                final_until_ack(&mut uas, &mut rx, 480, "Temporarily Unavailable", t1).await;
            }
        }
        Behaviour::Answer {
            ring_ms,
            jitter_ms,
            after,
            rtcp_delay_ms,
            xr_round_trip_ms,
        } => {
            uas.respond(100, "Trying", None).await;
            uas.respond(180, "Ringing", None).await;
            let jitter = if jitter_ms > 0 {
                fastrand::i64(-(jitter_ms as i64)..=jitter_ms as i64)
            } else {
                0
            };
            let ring = Duration::from_millis((ring_ms as i64 + jitter).max(0) as u64);
            // Aim at the INVITE's arrival, not at this task's wake-up.
            let answer_at = first.at + ring;
            match next_event(&mut uas, &mut rx, answer_at).await {
                Event::Timeout => {}
                Event::Cancel => {
                    final_until_ack(&mut uas, &mut rx, 487, "Request Terminated", t1).await;
                    return;
                }
                _ => return,
            }
            let ok_at = uas.respond(200, "OK", Some(&sdp_answer)).await;
            let _rtcp = rtcp_socket.take().map(|socket| {
                AbortOnDrop(tokio::spawn(rtcp_responder(
                    socket,
                    remote_rtcp,
                    Duration::from_millis(rtcp_delay_ms),
                    xr_round_trip_ms,
                )))
            });
            if let Ok(mut w) = wire.lock() {
                if let Some(t) = w.get_mut(&call_id) {
                    t.ok_at = Some(ok_at);
                }
            }
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let player = remote_media.map(|to| {
                let socket = rtp_socket.clone();
                let stop = stop.clone();
                let prompts = prompts.clone();
                tokio::spawn(async move {
                    let st = &mut Stream::new();
                    match after {
                        AfterAnswer::Greeting
                        | AfterAnswer::HangUp(_)
                        | AfterAnswer::HangUpCause { .. } => {
                            play(&socket, st, &prompts.greeting, codec, to, &stop).await;
                            silence(&socket, st, codec, to, &stop, Duration::from_secs(600)).await;
                        }
                        AfterAnswer::Music => loop {
                            play(&socket, st, &prompts.music, codec, to, &stop).await;
                            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                                return;
                            }
                        },
                        AfterAnswer::Announcement(variant) => {
                            let audio = match variant {
                                Some(v) => sit_then(v, &prompts.announcement),
                                None => prompts.announcement.clone(),
                            };
                            play(&socket, st, &audio, codec, to, &stop).await;
                            silence(&socket, st, codec, to, &stop, Duration::from_secs(600)).await;
                        }
                        AfterAnswer::Voicemail => {
                            play(&socket, st, &prompts.voicemail, codec, to, &stop).await;
                            silence(&socket, st, codec, to, &stop, Duration::from_secs(600)).await;
                        }
                        AfterAnswer::Ivr => {
                            play(&socket, st, &prompts.ivr, codec, to, &stop).await;
                            // Wait for a digit (RFC 4733) for up to 10 s, sending silence.
                            let digit = tokio::select! {
                                d = receive_digit(&socket) => d,
                                _ = silence(&socket, st, codec, to, &stop, Duration::from_secs(10)) => None,
                            };
                            if digit.is_some() {
                                play(&socket, st, &prompts.greeting, codec, to, &stop).await;
                            }
                            silence(&socket, st, codec, to, &stop, Duration::from_secs(600)).await;
                        }
                    }
                })
            });
            // 200 OK is retransmitted (timer G) until the ACK arrives.
            let mut interval = t1;
            let give_up = Instant::now() + t1 * 64;
            let mut acked = false;
            while !acked && Instant::now() < give_up {
                let until = Instant::now() + interval;
                loop {
                    match tokio::time::timeout_at(until.into(), rx.recv()).await {
                        Ok(Some(i)) => {
                            if let Ok(m) = &i.parsed {
                                if m.method() == Some("ACK") {
                                    acked = true;
                                    break;
                                }
                                if m.method() == Some("BYE") {
                                    let ok = m.response(200, "OK", Some(&uas.to_tag));
                                    let _ = uas.ep.send_raw(&ok.to_bytes(), i.from).await;
                                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                                    return;
                                }
                            }
                        }
                        Ok(None) => return,
                        Err(_) => break,
                    }
                }
                if !acked {
                    uas.resend_last().await;
                    interval = (interval * 2).min(Duration::from_secs(4));
                }
            }
            let end = match after {
                AfterAnswer::HangUp(ms) | AfterAnswer::HangUpCause { ms, .. } => {
                    Instant::now() + Duration::from_millis(ms)
                }
                _ => Instant::now() + Duration::from_secs(600),
            };
            match next_event(&mut uas, &mut rx, end).await {
                Event::Timeout
                    if matches!(
                        after,
                        AfterAnswer::HangUp(_) | AfterAnswer::HangUpCause { .. }
                    ) =>
                {
                    // The lab hangs up: a BYE inside the dialog, to the caller's Contact.
                    let contact = uas
                        .invite
                        .header("contact")
                        .map(crate::probe::call::sip::message::addr_uri);
                    let target = contact.unwrap_or_else(|| "sip:raqib@127.0.0.1".into());
                    let mut bye = Message::request("BYE", &target);
                    bye.push(
                        "via",
                        format!(
                            "SIP/2.0/UDP {};branch={}",
                            uas.ep.local_addr(),
                            crate::probe::call::sip::random::branch()
                        ),
                    )
                    .push("max-forwards", "70")
                    .push(
                        "from",
                        format!(
                            "{};tag={}",
                            uas.invite.header("to").unwrap_or_default(),
                            uas.to_tag
                        ),
                    )
                    .push(
                        "to",
                        uas.invite.header("from").unwrap_or_default().to_string(),
                    )
                    .push("call-id", call_id.clone())
                    .push("cseq", "1 BYE");
                    if let AfterAnswer::HangUpCause { cause, .. } = after {
                        bye.push("reason", format!("Q.850;cause={cause}"));
                    }
                    let _ = uas.ep.send_raw(&bye.to_bytes(), uas.peer).await;
                    let _ = next_event(&mut uas, &mut rx, Instant::now() + Duration::from_secs(2))
                        .await;
                }
                _ => {}
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            if let Some(p) = player {
                p.abort();
            }
        }
    }
}

/// Sends a final response and retransmits it (timer G) until the ACK comes (or timer H).
async fn final_until_ack(
    uas: &mut Uas,
    rx: &mut mpsc::UnboundedReceiver<Incoming>,
    code: u16,
    reason: &str,
    t1: Duration,
) {
    uas.respond(code, reason, None).await;
    let give_up = Instant::now() + t1 * 64;
    let mut interval = t1;
    while Instant::now() < give_up {
        let until = (Instant::now() + interval).min(give_up);
        match tokio::time::timeout_at(until.into(), rx.recv()).await {
            Ok(Some(i)) => {
                if let Ok(m) = &i.parsed {
                    match m.method() {
                        Some("ACK") => return,
                        Some("INVITE") => uas.resend_last().await,
                        _ => {}
                    }
                }
            }
            Ok(None) => return,
            Err(_) => {
                uas.resend_last().await;
                interval = (interval * 2).min(Duration::from_secs(4));
            }
        }
    }
}

type Stream = RtpSender;

async fn play(
    socket: &UdpSocket,
    stream: &mut Stream,
    samples: &[i16],
    codec: u8,
    to: SocketAddr,
    stop: &std::sync::atomic::AtomicBool,
) {
    stream
        .play(socket, samples, codec, to, || {
            stop.load(std::sync::atomic::Ordering::Relaxed)
        })
        .await;
}

async fn silence(
    socket: &UdpSocket,
    stream: &mut Stream,
    codec: u8,
    to: SocketAddr,
    stop: &std::sync::atomic::AtomicBool,
    for_: Duration,
) {
    // One second at a time: a call's silence costs 16 KB, not minutes of samples.
    let second = vec![0i16; 8000];
    let mut left = for_;
    while !left.is_zero() && !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let chunk = left.min(Duration::from_secs(1));
        let n = (chunk.as_millis() as usize / 20) * 160;
        play(socket, stream, &second[..n.min(8000)], codec, to, stop).await;
        left = left.saturating_sub(chunk);
    }
}

/// Waits for the first RFC 4733 event packet (payload type 96..=127 with 4 bytes).
async fn receive_digit(socket: &UdpSocket) -> Option<u8> {
    let mut buf = [0u8; 512];
    loop {
        let (n, _) = socket.recv_from(&mut buf).await.ok()?;
        if let Some(p) = rtp::parse(&buf[..n]) {
            if (96..=127).contains(&p.payload_type) && p.payload.len() >= 4 {
                return Some(p.payload[0]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviours_parse() {
        assert_eq!(
            Behaviour::parse("answer-1500"),
            Some(Behaviour::Answer {
                ring_ms: 1500,
                jitter_ms: 0,
                after: AfterAnswer::Greeting,
                rtcp_delay_ms: 0,
                xr_round_trip_ms: 0,
            })
        );
        assert_eq!(
            Behaviour::parse("rtt-400"),
            Some(Behaviour::Answer {
                ring_ms: 500,
                jitter_ms: 0,
                after: AfterAnswer::Greeting,
                rtcp_delay_ms: 400,
                xr_round_trip_ms: 0,
            })
        );
        assert_eq!(
            Behaviour::parse("answer:800~200"),
            Some(Behaviour::Answer {
                ring_ms: 800,
                jitter_ms: 200,
                after: AfterAnswer::Greeting,
                rtcp_delay_ms: 0,
                xr_round_trip_ms: 0,
            })
        );
        assert_eq!(Behaviour::parse("busy"), Some(Behaviour::Reject(486)));
        assert_eq!(Behaviour::parse("reject-699"), Some(Behaviour::Reject(699)));
        assert_eq!(
            Behaviour::parse("cause-480-19"),
            Some(Behaviour::Cause {
                status: 480,
                cause: 19
            })
        );
        assert_eq!(Behaviour::parse("cause:200:19"), None);
        assert_eq!(Behaviour::parse("cause-486-0"), None);
        assert_eq!(
            Behaviour::parse("byecause-16"),
            Some(Behaviour::Answer {
                ring_ms: 500,
                jitter_ms: 0,
                after: AfterAnswer::HangUpCause {
                    ms: 1000,
                    cause: 16
                },
                rtcp_delay_ms: 0,
                xr_round_trip_ms: 0,
            })
        );
        assert_eq!(Behaviour::parse("+96265000101"), None);
        assert_eq!(Behaviour::parse("answer-x"), None);
        assert_eq!(
            Behaviour::parse("sit_early:vacant_code"),
            Some(Behaviour::EarlySit(SitVariant::VacantCode))
        );
        assert_eq!(Behaviour::parse("sit_early-nothing"), None);
    }
}
