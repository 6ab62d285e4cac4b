//! The media side of a call: one RTP socket, a receiver task that keeps every packet's
//! arrival instant and payload (G.711 bytes, decoded only at the end: half the memory), and
//! the sender of the notice and of RFC 4733 digits; beside them the RTCP socket (RTP port + 1,
//! or the RTP socket itself with rtcp-mux) and raqib's periodic reports (`rtcp.rs`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::watch;

use super::sip::transport::kernel_time;
use super::{audio, g711, rtcp, rtp, srtp};

/// One received packet, as the end of the call needs it: no payload (the audio went to the
/// WAV file and the frame features as it arrived).
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// Whether the packet's audio was sound rather than silence.
    pub active: bool,
    /// Index in `Capture::frames` of the first frame this packet completed or began.
    pub frame: u32,
}

type Wav = hound::WavWriter<std::io::BufWriter<std::fs::File>>;

/// What a call heard, built as packets arrive: the audio streams to the WAV evidence, and
/// only 20 ms frame features stay in memory (a thousand 10 s calls fit in a few MB).
#[derive(Default)]
pub struct Capture {
    pub packets: Vec<Received>,
    pub frames: Vec<audio::Frame>,
    /// Samples written to the recording.
    pub samples: u64,
    /// Datagrams that were not RTP (a hostile or confused peer).
    pub junk: u64,
    /// When the last non-silent audio packet arrived (for IVR scripts waiting for silence).
    pub last_active: Option<Instant>,
    /// Why the recording could not be written, if so.
    pub wav_error: Option<String>,
    /// What the far end's RTCP said (round trips, its view of raqib's stream, XR).
    pub rtcp: rtcp::Session,
    wav: Option<Wav>,
    carry: Vec<i16>,
    listener: audio::Listener,
    /// Live statistics of the latest audio source, for raqib's report blocks.
    live: rtp::RtpStats,
    /// Expected and received packets at raqib's previous report (RFC 3550 A.3).
    prior: (u64, u64),
    /// SRTP was offered: packets are held until the answer's key can decrypt them.
    srtp_expected: bool,
    srtp_in: Option<srtp::Context>,
    pending: Vec<(Vec<u8>, Instant)>,
    /// SRTP packets that failed authentication (or came when no key could be agreed).
    pub srtp_rejected: u64,
}

/// Packets held before the answer's SRTP key is known (early media: 10 s at 50/s).
const MAX_PENDING: usize = 500;

impl Capture {
    fn audio(&mut self, pcm: &[i16], path: &std::path::Path) {
        if self.wav.is_none() && self.wav_error.is_none() {
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: 8000,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let opened = path
                .parent()
                .map(std::fs::create_dir_all)
                .transpose()
                .map_err(|e| e.to_string())
                .and_then(|_| hound::WavWriter::create(path, spec).map_err(|e| e.to_string()));
            match opened {
                Ok(w) => self.wav = Some(w),
                Err(e) => self.wav_error = Some(e),
            }
        }
        if let Some(w) = &mut self.wav {
            for &x in pcm {
                if let Err(e) = w.write_sample(x) {
                    self.wav_error = Some(e.to_string());
                    self.wav = None;
                    break;
                }
            }
        }
        self.samples += pcm.len() as u64;
        self.carry.extend_from_slice(pcm);
        let whole = self.carry.len() / audio::FRAME * audio::FRAME;
        for f in self.carry[..whole].chunks_exact(audio::FRAME) {
            self.frames.push(self.listener.frame(f));
        }
        self.carry.drain(..whole);
    }

    /// One datagram from the RTP socket: RTCP when multiplexed, else RTP, decrypted first
    /// when the call is SRTP.
    fn take(&mut self, raw: &[u8], at: Instant, wav: &std::path::Path, pcm: &mut Vec<i16>) {
        if rtcp::is_rtcp(raw) {
            // rtcp-mux (RFC 5761). An SRTP call's RTCP is SRTCP, which raqib does not decrypt.
            if !self.srtp_expected {
                self.rtcp.receive(raw, at);
            }
            return;
        }
        if !self.srtp_expected {
            return self.record(raw, at, wav, pcm);
        }
        match self.srtp_in.as_mut().map(|ctx| ctx.unprotect(raw)) {
            None => {
                if self.pending.len() < MAX_PENDING {
                    self.pending.push((raw.to_vec(), at));
                }
            }
            Some(Ok(plain)) => self.record(&plain, at, wav, pcm),
            Some(Err(_)) => self.srtp_rejected += 1,
        }
    }

    /// Decrypts what was held for the key, with each packet's own arrival instant.
    fn take_pending(&mut self, wav: &std::path::Path) {
        let mut pcm = Vec::new();
        for (raw, at) in std::mem::take(&mut self.pending) {
            self.take(&raw, at, wav, &mut pcm);
        }
    }

    fn record(&mut self, raw: &[u8], at: Instant, wav: &std::path::Path, pcm: &mut Vec<i16>) {
        let Some(p) = rtp::parse(raw) else {
            self.junk += 1;
            return;
        };
        if self.packets.len() >= MAX_PACKETS {
            return;
        }
        pcm.clear();
        let frame = self.frames.len() as u32;
        let active = g711::decode(p.payload_type, p.payload, pcm) && audio::is_active(pcm);
        if active {
            self.last_active = Some(at);
        }
        if !pcm.is_empty() {
            self.audio(pcm, wav);
        }
        if p.payload_type == 0 || p.payload_type == 8 {
            if p.ssrc != self.live.ssrc() {
                self.prior = (0, 0);
            }
            let secs = self.rtcp.clock.secs(at);
            self.live.record(&p, secs);
        }
        self.packets.push(Received {
            at,
            payload_type: p.payload_type,
            sequence: p.sequence,
            timestamp: p.timestamp,
            ssrc: p.ssrc,
            active,
            frame,
        });
    }

    fn finish(&mut self) {
        // Held for a key that never came: not heard.
        self.srtp_rejected += std::mem::take(&mut self.pending).len() as u64;
        if let Some(w) = self.wav.take() {
            if let Err(e) = w.finalize() {
                self.wav_error = Some(e.to_string());
            }
        }
    }
}

pub struct Media {
    pub socket: Arc<UdpSocket>,
    pub local: SocketAddr,
    /// Where raqib receives RTCP when the far end does not multiplex it.
    pub rtcp_local: SocketAddr,
    rtcp_socket: Arc<UdpSocket>,
    sender: tokio::sync::Mutex<RtpSender>,
    ssrc: u32,
    sent: Arc<Mutex<Sent>>,
    capture: Arc<Mutex<Capture>>,
    wav: std::path::PathBuf,
    /// What raqib sends is encrypted with this once the answer agreed on SRTP.
    srtp_out: Arc<Mutex<Option<srtp::Context>>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    reporter: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// An RTP socket on an even port and its RTCP socket on the next (RFC 3550 §11); when no
/// such pair is free after a few tries, any two ports (the offer then names the RTCP port,
/// RFC 3605).
async fn bind_pair(ip: std::net::IpAddr) -> std::io::Result<(UdpSocket, UdpSocket)> {
    for _ in 0..16 {
        let rtp = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let port = rtp.local_addr()?.port();
        if port % 2 == 0 {
            if let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(ip, port + 1)).await {
                return Ok((rtp, rtcp));
            }
        }
    }
    Ok((
        UdpSocket::bind(SocketAddr::new(ip, 0)).await?,
        UdpSocket::bind(SocketAddr::new(ip, 0)).await?,
    ))
}

/// At most this many packets are kept (20 minutes at 50 packets/s).
const MAX_PACKETS: usize = 60_000;

impl Media {
    /// Binds the call's RTP and RTCP sockets; what arrives is recorded to `wav` (decrypted
    /// first when `srtp`: held until `secure` gives the key).
    pub async fn bind(
        ip: std::net::IpAddr,
        wav: std::path::PathBuf,
        srtp: bool,
    ) -> std::io::Result<Media> {
        let (socket, rtcp_socket) = bind_pair(ip).await?;
        let (socket, rtcp_socket) = (Arc::new(socket), Arc::new(rtcp_socket));
        let local = socket.local_addr()?;
        let rtcp_local = rtcp_socket.local_addr()?;
        let sender = RtpSender::new();
        let (ssrc, sent) = (sender.ssrc, sender.sent.clone());
        let capture = Arc::new(Mutex::new(Capture {
            rtcp: rtcp::Session::new(ssrc, rtcp::Clock::default()),
            live: rtp::RtpStats::new(8000),
            srtp_expected: srtp,
            ..Default::default()
        }));
        let (stop, mut stopped) = watch::channel(false);
        let task = {
            let socket = socket.clone();
            let rtcp_socket = rtcp_socket.clone();
            let capture = capture.clone();
            let wav = wav.clone();
            // Arrival instants from the kernel where it offers them: jitter and the first audio
            // must not grow with this process's load.
            let stamped = kernel_time::enable(&*socket);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 2048];
                let mut control = vec![0u8; 2048];
                let mut pcm = Vec::with_capacity(1024);
                loop {
                    let recv = async {
                        if stamped {
                            socket
                                .async_io(tokio::io::Interest::READABLE, || {
                                    kernel_time::recv_from(&*socket, &mut buf)
                                })
                                .await
                        } else {
                            socket
                                .recv_from(&mut buf)
                                .await
                                .map(|(n, from)| (n, from, Instant::now()))
                        }
                    };
                    tokio::select! {
                        r = recv => {
                            let Ok((n, _from, at)) = r else { continue };
                            let Ok(mut c) = capture.lock() else { return };
                            c.take(&buf[..n], at, &wav, &mut pcm);
                        }
                        r = rtcp_socket.recv_from(&mut control) => {
                            let Ok((n, _from)) = r else { continue };
                            let at = Instant::now();
                            let Ok(mut c) = capture.lock() else { return };
                            if !c.srtp_expected {
                                c.rtcp.receive(&control[..n], at);
                            }
                        }
                        _ = stopped.changed() => return,
                    }
                }
            })
        };
        Ok(Media {
            socket,
            local,
            rtcp_local,
            rtcp_socket,
            sender: tokio::sync::Mutex::new(sender),
            ssrc,
            sent,
            capture,
            wav,
            srtp_out: Default::default(),
            stop,
            task,
            reporter: Mutex::new(None),
        })
    }

    /// The answer agreed on SRTP: encrypt with `outbound`, decrypt with `inbound` (also what
    /// arrived before, held until now).
    pub fn secure(&self, outbound: srtp::Context, inbound: srtp::Context) {
        if let Ok(mut o) = self.srtp_out.lock() {
            *o = Some(outbound);
        }
        if let Ok(mut c) = self.capture.lock() {
            c.srtp_in = Some(inbound);
            c.take_pending(&self.wav);
        }
    }

    /// Starts raqib's reports to the far end's RTCP address `to` (its RTP address with
    /// `mux`): an SR once raqib has sent audio, else an RR, each with SDES; BYE at the end.
    /// Never on an SRTP call: its reports would have to be SRTCP, which raqib does not send.
    pub fn start_rtcp(&self, to: SocketAddr, mux: bool) {
        if self.capture.lock().map_or(true, |c| c.srtp_expected) {
            return;
        }
        let socket = if mux {
            self.socket.clone()
        } else {
            self.rtcp_socket.clone()
        };
        let (capture, sent, ssrc) = (self.capture.clone(), self.sent.clone(), self.ssrc);
        let cname = format!("raqib@{}", self.local.ip());
        let mut stopped = self.stop.subscribe();
        let task = tokio::spawn(async move {
            let mut wait = rtcp::first_interval();
            loop {
                let last = tokio::select! {
                    _ = tokio::time::sleep(wait) => false,
                    _ = stopped.changed() => true,
                };
                let mut pkt = report(&capture, &sent, ssrc, &cname, Instant::now());
                if last {
                    pkt.extend(rtcp::build_bye(ssrc));
                }
                let _ = socket.send_to(&pkt, to).await;
                if last {
                    return;
                }
                wait = rtcp::next_interval();
            }
        });
        if let Ok(mut r) = self.reporter.lock() {
            if let Some(old) = r.replace(task) {
                old.abort();
            }
        }
    }

    /// When non-silent audio last arrived.
    pub fn last_active(&self) -> Option<Instant> {
        self.capture.lock().ok().and_then(|c| c.last_active)
    }

    /// Stops receiving, closes the recording and hands over what was captured.
    pub async fn finish(self) -> Capture {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let reporter = self.reporter.lock().ok().and_then(|mut r| r.take());
        if let Some(r) = reporter {
            let _ = r.await;
        }
        let mut c = self
            .capture
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default();
        c.finish();
        c
    }

    /// Sends `samples` as 20 ms G.711 packets of `payload_type` to `to`, paced in real time,
    /// until done or `stop` returns true.
    pub async fn play(
        &self,
        samples: &[i16],
        payload_type: u8,
        to: SocketAddr,
        stop: impl FnMut() -> bool,
    ) {
        self.sender
            .lock()
            .await
            .play_protected(
                &self.socket,
                samples,
                payload_type,
                to,
                stop,
                Some(&self.srtp_out),
            )
            .await;
    }

    /// Sends one RFC 4733 digit: 100 ms of events every 20 ms, then three end packets.
    pub async fn send_digit(&self, digit: char, payload_type: u8, to: SocketAddr) {
        let event = match digit {
            '0'..='9' => digit as u8 - b'0',
            '*' => 10,
            '#' => 11,
            'A'..='D' => digit as u8 - b'A' + 12,
            _ => return,
        };
        // Events belong to the audio stream (RFC 4733 §2.1): its SSRC, sequence and clock.
        let mut sender = self.sender.lock().await;
        let ssrc = sender.ssrc;
        let mut seq = sender.seq;
        let ts = sender.ts;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for i in 0..5u16 {
            tick.tick().await;
            let duration = (i + 1) * 160;
            let payload = [event, 10, (duration >> 8) as u8, duration as u8];
            let pkt = rtp::build(payload_type, i == 0, seq, ts, ssrc, &payload);
            self.send(&pkt, to).await;
            sender.note(payload.len(), ts);
            seq = seq.wrapping_add(1);
        }
        for _ in 0..3 {
            let duration = 5 * 160u16;
            let payload = [event, 0x80 | 10, (duration >> 8) as u8, duration as u8];
            let pkt = rtp::build(payload_type, false, seq, ts, ssrc, &payload);
            self.send(&pkt, to).await;
            sender.note(payload.len(), ts);
            seq = seq.wrapping_add(1);
        }
        sender.seq = seq;
        sender.ts = ts.wrapping_add(5 * 160);
        sender.started = true;
    }
}

impl Media {
    async fn send(&self, pkt: &[u8], to: SocketAddr) {
        if let Some(p) = protect(Some(&self.srtp_out), pkt) {
            let _ = self.socket.send_to(&p, to).await;
        }
    }
}

/// The packet as it goes on the wire: SRTP when a context is set; `None` when it cannot be.
fn protect(srtp: Option<&Mutex<Option<srtp::Context>>>, pkt: &[u8]) -> Option<Vec<u8>> {
    match srtp {
        None => Some(pkt.to_vec()),
        Some(m) => match &mut *m.lock().ok()? {
            Some(ctx) => ctx.protect(pkt),
            None => Some(pkt.to_vec()),
        },
    }
}

/// raqib's report at `now`: SR once it has sent RTP, else RR; a report block on the source
/// it hears, echoing that source's last SR (LSR, DLSR) so the far end can measure too.
fn report(
    capture: &Mutex<Capture>,
    sent: &Mutex<Sent>,
    ssrc: u32,
    cname: &str,
    now: Instant,
) -> Vec<u8> {
    let s = sent.lock().map(|s| *s).unwrap_or_default();
    let Ok(mut c) = capture.lock() else {
        return rtcp::build_report(ssrc, None, &[], cname);
    };
    let sender = s.last_at.map(|at| rtcp::SenderInfo {
        ntp: c.rtcp.clock.ntp(now),
        // The RTP time of the same instant (§6.4.1), extrapolated from the last packet.
        rtp_timestamp: s
            .last_ts
            .wrapping_add((now.saturating_duration_since(at).as_secs_f64() * 8000.0) as u32),
        packets: s.packets,
        octets: s.octets,
    });
    let mut blocks = Vec::new();
    if c.live.received > 0 {
        let (expected, received) = (c.live.expected(), c.live.received);
        let expected_interval = expected.saturating_sub(c.prior.0);
        let received_interval = received.saturating_sub(c.prior.1);
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| f.min(255) as u8);
        c.prior = (expected, received);
        let (lsr, dlsr) = c.rtcp.lsr_dlsr(c.live.ssrc(), now);
        blocks.push(rtcp::ReportBlock {
            ssrc: c.live.ssrc(),
            fraction_lost: fraction,
            cumulative_lost: expected.saturating_sub(received).min(0x7f_ffff) as i32,
            highest_seq: c.live.extended_max(),
            jitter: c.live.jitter_units(),
            lsr,
            dlsr,
        });
    }
    rtcp::build_report(ssrc, sender, &blocks, cname)
}

/// What raqib has sent on its stream, for its sender reports.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sent {
    pub packets: u32,
    pub octets: u32,
    /// The RTP timestamp of the last packet sent, and when it left.
    pub last_ts: u32,
    pub last_at: Option<Instant>,
}

/// One outgoing RTP stream: its SSRC, sequence and timestamp carry on across prompts.
pub struct RtpSender {
    ssrc: u32,
    seq: u16,
    ts: u32,
    started: bool,
    sent: Arc<Mutex<Sent>>,
}

impl Default for RtpSender {
    fn default() -> Self {
        RtpSender::new()
    }
}

impl RtpSender {
    pub fn new() -> RtpSender {
        RtpSender {
            ssrc: fastrand::u32(..),
            seq: fastrand::u16(..),
            ts: fastrand::u32(..),
            started: false,
            sent: Default::default(),
        }
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Counts a packet of `payload` bytes with timestamp `ts` that just left.
    fn note(&self, payload: usize, ts: u32) {
        if let Ok(mut s) = self.sent.lock() {
            s.packets = s.packets.wrapping_add(1);
            s.octets = s.octets.wrapping_add(payload as u32);
            s.last_ts = ts;
            s.last_at = Some(Instant::now());
        }
    }

    /// Sends `samples` as 20 ms G.711 packets, paced in real time, until done or `stop`.
    pub async fn play(
        &mut self,
        socket: &UdpSocket,
        samples: &[i16],
        payload_type: u8,
        to: SocketAddr,
        stop: impl FnMut() -> bool,
    ) {
        self.play_protected(socket, samples, payload_type, to, stop, None)
            .await
    }

    /// `play`, each packet encrypted with the SRTP context when one is set.
    pub async fn play_protected(
        &mut self,
        socket: &UdpSocket,
        samples: &[i16],
        payload_type: u8,
        to: SocketAddr,
        mut stop: impl FnMut() -> bool,
        srtp: Option<&Mutex<Option<srtp::Context>>>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for frame in samples.chunks(audio::FRAME) {
            tick.tick().await;
            if stop() {
                return;
            }
            let payload = g711::encode(payload_type, frame);
            let pkt = rtp::build(
                payload_type,
                !self.started,
                self.seq,
                self.ts,
                self.ssrc,
                &payload,
            );
            self.started = true;
            if let Some(p) = protect(srtp, &pkt) {
                let _ = socket.send_to(&p, to).await;
            }
            self.note(payload.len(), self.ts);
            self.seq = self.seq.wrapping_add(1);
            self.ts = self.ts.wrapping_add(frame.len() as u32);
        }
    }
}

/// What the captured packets say, split at the answer instant.
pub struct Heard {
    /// Index in `Capture::frames` where audio after the answer starts.
    pub answer_frame: usize,
    pub early_packets: u64,
    /// The first non-silent packet after answer.
    pub first_audio_at: Option<Instant>,
    /// Statistics per source: a peer may switch SSRC (early media, then the answer).
    pub sources: Vec<rtp::RtpStats>,
}

impl Heard {
    pub fn packets(&self) -> u64 {
        self.sources.iter().map(|s| s.received).sum()
    }

    pub fn lost(&self) -> u64 {
        self.sources.iter().map(|s| s.lost()).sum()
    }

    pub fn loss_pct(&self) -> f64 {
        let expected: u64 = self.sources.iter().map(|s| s.expected()).sum();
        if expected == 0 {
            0.0
        } else {
            self.lost() as f64 * 100.0 / expected as f64
        }
    }

    /// The jitter of the source that sent the most packets.
    pub fn jitter_ms(&self) -> f64 {
        self.sources
            .iter()
            .max_by_key(|s| s.received)
            .map(|s| s.jitter_ms())
            .unwrap_or(0.0)
    }
}

pub fn analyse(c: &Capture, t0: Instant, answer_at: Option<Instant>) -> Heard {
    let mut answer_frame = None;
    let mut early_packets = 0;
    let mut first_audio_at = None;
    let mut sources: std::collections::HashMap<u32, rtp::RtpStats> = Default::default();
    for p in &c.packets {
        let after = answer_at.is_some_and(|a| p.at >= a);
        if !after {
            early_packets += 1;
        }
        if after && answer_frame.is_none() {
            answer_frame = Some(p.frame as usize);
        }
        // telephone-event and comfort noise are not audio and not the stream's statistics.
        if p.payload_type != 0 && p.payload_type != 8 {
            continue;
        }
        sources
            .entry(p.ssrc)
            .or_insert_with(|| rtp::RtpStats::new(8000))
            .record(
                &rtp::RtpPacket {
                    payload_type: p.payload_type,
                    marker: false,
                    sequence: p.sequence,
                    timestamp: p.timestamp,
                    ssrc: p.ssrc,
                    payload: &[],
                },
                p.at.duration_since(t0).as_secs_f64(),
            );
        if after && first_audio_at.is_none() && p.active {
            first_audio_at = Some(p.at);
        }
    }
    Heard {
        answer_frame: answer_frame.unwrap_or(c.frames.len()),
        early_packets,
        first_audio_at,
        sources: sources.into_values().collect(),
    }
}
