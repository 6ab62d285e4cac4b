//! RTCP (RFC 3550 §6): the compound packets a call's far end sends beside its RTP — sender
//! and receiver reports, SDES, BYE — and the RTCP-XR VoIP metrics block (RFC 3611 §4.7) when
//! the far end sends one; and raqib's own SR/RR, so that the far end echoes raqib's NTP time
//! (LSR) with how long it held it (DLSR), which gives the round trip of §6.4.1:
//! `RTT = arrival − LSR − DLSR`. That RTT replaces the configured delay in the E-model.
//!
//! Parsing is bounded and never panics: a hostile peer's datagram yields an error, counted.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub const SR: u8 = 200;
pub const RR: u8 = 201;
pub const SDES: u8 = 202;
pub const BYE: u8 = 203;
pub const XR: u8 = 207;

/// At most this many packets are read from one compound datagram.
const MAX_PACKETS: usize = 16;
/// At most this many RTT samples are kept per call (one per far-end report).
const MAX_SAMPLES: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtcpError {
    #[error("shorter than an RTCP header")]
    Short,
    #[error("not RTCP version 2")]
    Version,
    #[error("packet length runs past the datagram")]
    Length,
    #[error("packet type {0} is not RTCP")]
    Type(u8),
}

/// One report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    pub ssrc: u32,
    pub fraction_lost: u8,
    /// 24-bit signed.
    pub cumulative_lost: i32,
    pub highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    pub lsr: u32,
    pub dlsr: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    pub ntp: u64,
    pub rtp_timestamp: u32,
    pub packets: u32,
    pub octets: u32,
}

/// The RTCP-XR VoIP Metrics report block (RFC 3611 §4.7), raw as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoipBlock {
    pub ssrc: u32,
    pub loss_rate: u8,
    pub discard_rate: u8,
    pub burst_density: u8,
    pub gap_density: u8,
    pub round_trip_delay: u16,
    pub end_system_delay: u16,
    pub r_factor: u8,
    pub mos_lq: u8,
    pub mos_cq: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Sr {
        ssrc: u32,
        info: SenderInfo,
        blocks: Vec<ReportBlock>,
    },
    Rr {
        ssrc: u32,
        blocks: Vec<ReportBlock>,
    },
    /// Each chunk's SSRC and CNAME, if it has one.
    Sdes(Vec<(u32, Option<String>)>),
    Bye(Vec<u32>),
    Xr {
        ssrc: u32,
        voip: Vec<VoipBlock>,
    },
    /// APP, feedback and anything newer: skipped.
    Other(u8),
}

/// Whether a datagram on the RTP port is RTCP (RFC 5761 §4: packet types 192–223).
pub fn is_rtcp(buf: &[u8]) -> bool {
    buf.len() >= 8 && buf[0] >> 6 == 2 && (192..=223).contains(&buf[1])
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn blocks(b: &[u8], count: usize) -> Vec<ReportBlock> {
    b.chunks_exact(24)
        .take(count)
        .map(|r| {
            let lost = u32::from_be_bytes([0, r[5], r[6], r[7]]);
            ReportBlock {
                ssrc: u32_at(r, 0),
                fraction_lost: r[4],
                // Sign-extend the 24-bit field.
                cumulative_lost: ((lost << 8) as i32) >> 8,
                highest_seq: u32_at(r, 8),
                jitter: u32_at(r, 12),
                lsr: u32_at(r, 16),
                dlsr: u32_at(r, 20),
            }
        })
        .collect()
}

fn sdes(body: &[u8], count: usize) -> Vec<(u32, Option<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < count && i + 4 <= body.len() {
        let ssrc = u32_at(body, i);
        i += 4;
        let mut cname = None;
        // Items until a null octet, then padding to the next word.
        while i < body.len() && body[i] != 0 {
            let kind = body[i];
            let Some(&len) = body.get(i + 1) else { break };
            let Some(text) = body.get(i + 2..i + 2 + len as usize) else {
                i = body.len();
                break;
            };
            if kind == 1 {
                cname = Some(String::from_utf8_lossy(text).into_owned());
            }
            i += 2 + len as usize;
        }
        i = (i + 4) & !3;
        out.push((ssrc, cname));
    }
    out
}

fn xr(body: &[u8]) -> Vec<VoipBlock> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= body.len() {
        let kind = body[i];
        let len = (u16_at(body, i + 2) as usize + 1) * 4;
        let Some(b) = body.get(i + 4..i + len) else {
            break;
        };
        if kind == 7 && b.len() >= 32 {
            out.push(VoipBlock {
                ssrc: u32_at(b, 0),
                loss_rate: b[4],
                discard_rate: b[5],
                burst_density: b[6],
                gap_density: b[7],
                round_trip_delay: u16_at(b, 12),
                end_system_delay: u16_at(b, 14),
                r_factor: b[20],
                mos_lq: b[22],
                mos_cq: b[23],
            });
        }
        i += len;
    }
    out
}

/// Parses a compound RTCP datagram (RFC 3550 §6.1). Packets after a malformed one are
/// dropped with it: the lengths can no longer be trusted.
pub fn parse(buf: &[u8]) -> Result<Vec<Packet>, RtcpError> {
    let mut out = Vec::new();
    let mut rest = buf;
    while !rest.is_empty() && out.len() < MAX_PACKETS {
        if rest.len() < 4 {
            return Err(RtcpError::Short);
        }
        if rest[0] >> 6 != 2 {
            return Err(RtcpError::Version);
        }
        let count = (rest[0] & 0x1f) as usize;
        let pt = rest[1];
        if !(192..=223).contains(&pt) {
            return Err(RtcpError::Type(pt));
        }
        let len = (u16_at(rest, 2) as usize + 1) * 4;
        let Some(packet) = rest.get(..len) else {
            return Err(RtcpError::Length);
        };
        let mut end = len;
        if rest[0] & 0x20 != 0 {
            let pad = packet[len - 1] as usize;
            if pad == 0 || pad > len - 4 {
                return Err(RtcpError::Length);
            }
            end -= pad;
        }
        let body = &packet[4..end];
        let ssrc = || {
            if body.len() >= 4 {
                Ok(u32_at(body, 0))
            } else {
                Err(RtcpError::Short)
            }
        };
        out.push(match pt {
            SR => {
                if body.len() < 24 {
                    return Err(RtcpError::Short);
                }
                Packet::Sr {
                    ssrc: ssrc()?,
                    info: SenderInfo {
                        ntp: ((u32_at(body, 4) as u64) << 32) | u32_at(body, 8) as u64,
                        rtp_timestamp: u32_at(body, 12),
                        packets: u32_at(body, 16),
                        octets: u32_at(body, 20),
                    },
                    blocks: blocks(&body[24..], count),
                }
            }
            RR => Packet::Rr {
                ssrc: ssrc()?,
                blocks: blocks(&body[4..], count),
            },
            SDES => Packet::Sdes(sdes(body, count)),
            BYE => Packet::Bye(
                body.chunks_exact(4)
                    .take(count)
                    .map(|c| u32_at(c, 0))
                    .collect(),
            ),
            XR => Packet::Xr {
                ssrc: ssrc()?,
                voip: xr(&body[4..]),
            },
            other => Packet::Other(other),
        });
        rest = &rest[len..];
    }
    Ok(out)
}

fn header(out: &mut Vec<u8>, count: u8, pt: u8) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0x80 | (count & 0x1f), pt, 0, 0]);
    at
}

fn close(out: &mut [u8], at: usize) {
    let words = ((out.len() - at) / 4 - 1) as u16;
    out[at + 2..at + 4].copy_from_slice(&words.to_be_bytes());
}

fn push_block(out: &mut Vec<u8>, b: &ReportBlock) {
    out.extend_from_slice(&b.ssrc.to_be_bytes());
    out.push(b.fraction_lost);
    let lost = b.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32;
    out.extend_from_slice(&lost.to_be_bytes()[1..]);
    for v in [b.highest_seq, b.jitter, b.lsr, b.dlsr] {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// A compound report: SR (when `sender` is given) or RR, then SDES with the CNAME.
pub fn build_report(
    ssrc: u32,
    sender: Option<SenderInfo>,
    blocks: &[ReportBlock],
    cname: &str,
) -> Vec<u8> {
    let blocks = &blocks[..blocks.len().min(31)];
    let mut out = Vec::with_capacity(64 + 24 * blocks.len());
    let at = header(
        &mut out,
        blocks.len() as u8,
        if sender.is_some() { SR } else { RR },
    );
    out.extend_from_slice(&ssrc.to_be_bytes());
    if let Some(s) = sender {
        out.extend_from_slice(&s.ntp.to_be_bytes());
        for v in [s.rtp_timestamp, s.packets, s.octets] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    for b in blocks {
        push_block(&mut out, b);
    }
    close(&mut out, at);
    let at = header(&mut out, 1, SDES);
    out.extend_from_slice(&ssrc.to_be_bytes());
    let name = &cname.as_bytes()[..cname.len().min(255)];
    out.extend_from_slice(&[1, name.len() as u8]);
    out.extend_from_slice(name);
    // A null item ends the chunk, then padding to a word.
    out.push(0);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    close(&mut out, at);
    out
}

/// An XR packet (RFC 3611) from `ssrc` with one VoIP metrics block (the lab's; raqib sends
/// none). Fields raqib does not read are sent as 0.
pub fn build_xr_voip(ssrc: u32, b: &VoipBlock) -> Vec<u8> {
    let mut out = Vec::with_capacity(44);
    let at = header(&mut out, 0, XR);
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(&[7, 0, 0, 8]);
    out.extend_from_slice(&b.ssrc.to_be_bytes());
    out.extend_from_slice(&[b.loss_rate, b.discard_rate, b.burst_density, b.gap_density]);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&b.round_trip_delay.to_be_bytes());
    out.extend_from_slice(&b.end_system_delay.to_be_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&[b.r_factor, 127, b.mos_lq, b.mos_cq]);
    out.extend_from_slice(&[0; 8]);
    close(&mut out, at);
    out
}

/// BYE for `ssrc`, to append to a last report.
pub fn build_bye(ssrc: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    let at = header(&mut out, 1, BYE);
    out.extend_from_slice(&ssrc.to_be_bytes());
    close(&mut out, at);
    out
}

/// NTP time (RFC 5905: seconds since 1900 in the high 32 bits, fraction in the low 32).
pub fn ntp(t: SystemTime) -> u64 {
    const UNIX_TO_NTP: u64 = 2_208_988_800;
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    ((d.as_secs() + UNIX_TO_NTP) << 32) | (((d.subsec_nanos() as u64) << 32) / 1_000_000_000)
}

/// The middle 32 bits of an NTP time, the unit of LSR (1/65536 s).
pub fn mid32(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// Converts a 1/65536 s quantity to milliseconds.
pub fn units_ms(u: u32) -> f64 {
    u as f64 * 1000.0 / 65536.0
}

/// Round trip per RFC 3550 §6.4.1, in ms, from a report block's LSR and DLSR and the
/// report's arrival (middle 32 bits of NTP). `None` when the far end has no SR of ours yet
/// (LSR 0) or the result is implausible (more than a minute, or clearly negative).
pub fn round_trip_ms(arrival: u32, lsr: u32, dlsr: u32) -> Option<f64> {
    if lsr == 0 {
        return None;
    }
    let rtt = arrival.wrapping_sub(lsr).wrapping_sub(dlsr) as i32;
    // The fields have 15 µs resolution: a round trip on loopback can come out a hair under 0.
    if rtt < -66 {
        return None;
    }
    let ms = units_ms(rtt.max(0) as u32);
    (ms <= 60_000.0).then_some(ms)
}

/// Wall clock tied to the monotonic one, so that kernel arrival instants convert to NTP.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    instant: Instant,
    system: SystemTime,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            instant: Instant::now(),
            system: SystemTime::now(),
        }
    }
}

impl Clock {
    pub fn ntp(&self, at: Instant) -> u64 {
        let t = if at >= self.instant {
            self.system + at.duration_since(self.instant)
        } else {
            let back = self.instant.duration_since(at);
            self.system.checked_sub(back).unwrap_or(self.system)
        };
        ntp(t)
    }

    /// Seconds since this clock started (any fixed origin suits jitter).
    pub fn secs(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.instant).as_secs_f64()
    }
}

/// What the far end reported about raqib's stream, from its last report block on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FarEndReport {
    /// Reports received whose blocks were about raqib's stream.
    pub reports: u64,
    /// Packets lost since its previous report, in % (the block's fraction lost).
    pub fraction_lost_pct: f64,
    /// Packets of raqib's stream lost in all.
    pub cumulative_lost: i64,
    /// Interarrival jitter it measured on raqib's stream, in ms.
    pub jitter_ms: f64,
}

/// The RTCP-XR VoIP metrics the far end sent (RFC 3611 §4.7), decoded; absent values are
/// `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct XrVoip {
    pub loss_rate_pct: f64,
    pub discard_rate_pct: f64,
    pub round_trip_ms: Option<f64>,
    pub end_system_delay_ms: Option<f64>,
    pub r_factor: Option<f64>,
    pub mos_lq: Option<f64>,
    pub mos_cq: Option<f64>,
}

impl From<&VoipBlock> for XrVoip {
    fn from(b: &VoipBlock) -> XrVoip {
        let some16 = |v: u16| (v != 0).then_some(v as f64);
        // 127 means "unavailable" for R and MOS.
        let r = |v: u8| (v != 127 && v <= 120).then_some(v as f64);
        let mos = |v: u8| (v != 127 && (10..=50).contains(&v)).then_some(v as f64 / 10.0);
        XrVoip {
            loss_rate_pct: b.loss_rate as f64 * 100.0 / 256.0,
            discard_rate_pct: b.discard_rate as f64 * 100.0 / 256.0,
            round_trip_ms: some16(b.round_trip_delay),
            end_system_delay_ms: some16(b.end_system_delay),
            r_factor: r(b.r_factor),
            mos_lq: mos(b.mos_lq),
            mos_cq: mos(b.mos_cq),
        }
    }
}

/// The RTCP side of one call: what arrived, and what raqib's reports need to echo.
#[derive(Debug, Default)]
pub struct Session {
    /// raqib's SSRC: report blocks about it carry the round trip.
    pub our_ssrc: u32,
    pub clock: Clock,
    /// Round trips measured from the far end's report blocks, in ms, in order.
    pub rtts: Vec<f64>,
    pub far_end: Option<FarEndReport>,
    pub xr: Option<XrVoip>,
    /// Compound packets that parsed, and those that did not.
    pub received: u64,
    pub malformed: u64,
    pub bye: bool,
    pub cname: Option<String>,
    /// The far end's last SR per source: its middle 32 bits and when it arrived (for LSR/DLSR).
    last_sr: HashMap<u32, (u32, Instant)>,
}

impl Session {
    pub fn new(our_ssrc: u32, clock: Clock) -> Session {
        Session {
            our_ssrc,
            clock,
            ..Default::default()
        }
    }

    /// Takes in one datagram that arrived at `at`.
    pub fn receive(&mut self, buf: &[u8], at: Instant) {
        let packets = match parse(buf) {
            Ok(p) => p,
            Err(_) => {
                self.malformed += 1;
                return;
            }
        };
        self.received += 1;
        let arrival = mid32(self.clock.ntp(at));
        for p in packets {
            match p {
                Packet::Sr { ssrc, info, blocks } => {
                    if self.last_sr.len() < 16 || self.last_sr.contains_key(&ssrc) {
                        self.last_sr.insert(ssrc, (mid32(info.ntp), at));
                    }
                    self.blocks(&blocks, arrival);
                }
                Packet::Rr { blocks, .. } => self.blocks(&blocks, arrival),
                Packet::Sdes(chunks) => {
                    if let Some(c) = chunks.into_iter().find_map(|(_, c)| c) {
                        self.cname = Some(c.chars().take(64).collect());
                    }
                }
                Packet::Bye(_) => self.bye = true,
                Packet::Xr { voip, .. } => {
                    if let Some(v) = voip.first() {
                        self.xr = Some(v.into());
                    }
                }
                Packet::Other(_) => {}
            }
        }
    }

    fn blocks(&mut self, blocks: &[ReportBlock], arrival: u32) {
        for b in blocks.iter().filter(|b| b.ssrc == self.our_ssrc) {
            if let Some(rtt) = round_trip_ms(arrival, b.lsr, b.dlsr) {
                if self.rtts.len() < MAX_SAMPLES {
                    self.rtts.push(rtt);
                }
            }
            let reports = self.far_end.as_ref().map_or(0, |f| f.reports) + 1;
            self.far_end = Some(FarEndReport {
                reports,
                fraction_lost_pct: b.fraction_lost as f64 * 100.0 / 256.0,
                cumulative_lost: b.cumulative_lost as i64,
                // raqib sends G.711: 8000 timestamp units a second.
                jitter_ms: b.jitter as f64 / 8.0,
            });
        }
    }

    /// LSR and DLSR for a report block about `ssrc` sent at `now`.
    pub fn lsr_dlsr(&self, ssrc: u32, now: Instant) -> (u32, u32) {
        match self.last_sr.get(&ssrc) {
            Some(&(lsr, at)) => {
                let held = now.saturating_duration_since(at).as_secs_f64();
                (lsr, (held * 65536.0).min(u32::MAX as f64) as u32)
            }
            None => (0, 0),
        }
    }

    /// The median of the measured round trips (robust to one report delayed in a queue).
    pub fn rtt_ms(&self) -> Option<f64> {
        median(&self.rtts)
    }

    /// The round trip to use and where it came from: raqib's own measurement first, then the
    /// far end's XR figure.
    pub fn round_trip(&self) -> Option<(f64, &'static str)> {
        self.rtt_ms().map(|r| (r, "rtcp")).or_else(|| {
            self.xr
                .as_ref()
                .and_then(|x| x.round_trip_ms)
                .map(|r| (r, "rtcp_xr"))
        })
    }
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    })
}

/// How often raqib reports: the first report soon after media starts (so a short call still
/// gets an answer to it), then every 2–4 s. RFC 3550 §6.2 asks 5 s on average for large
/// sessions; a two-party call at 64 kbit/s is allowed its reduced minimum (360 / 64 ≈ 5.6 s)
/// or less, and test calls last seconds, so raqib reports more often and randomises the
/// interval (×0.5–1.5 around 3 s) to avoid synchronising with the far end.
pub fn first_interval() -> Duration {
    Duration::from_millis(500)
}

pub fn next_interval() -> Duration {
    Duration::from_millis(1500 + fastrand::u64(..3000))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SR with one report block and an SDES, laid out by hand from RFC 3550 §6.4.1 / §6.5.
    fn hand_made_sr() -> Vec<u8> {
        let mut p = vec![
            0x81, 200, 0, 12, // V=2 RC=1 SR, length 12 words
            0x11, 0x22, 0x33, 0x44, // sender SSRC
            0xe0, 0, 0, 1, 0x80, 0, 0, 0, // NTP 0xe0000001.80000000
            0, 0, 0x1f, 0x40, // RTP timestamp 8000
            0, 0, 0, 50, // packets
            0, 0, 0x1f, 0x40, // octets
            0xaa, 0xbb, 0xcc, 0xdd, // block SSRC
            64, 0xff, 0xff, 0xfe, // fraction 64/256, cumulative lost −2
            0, 1, 0, 10, // highest seq: cycle 1, seq 10
            0, 0, 0, 80, // jitter 80 units = 10 ms
            0x12, 0x34, 0x56, 0x78, // LSR
            0, 1, 0, 0, // DLSR 1 s
        ];
        p.extend_from_slice(&[0x81, 202, 0, 3, 0x11, 0x22, 0x33, 0x44, 1, 3, b'a', b'b']);
        p.extend_from_slice(&[b'c', 0, 0, 0]);
        p
    }

    #[test]
    fn parses_a_hand_made_sr_and_sdes() {
        let got = parse(&hand_made_sr()).unwrap();
        assert_eq!(got.len(), 2);
        let Packet::Sr { ssrc, info, blocks } = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(*ssrc, 0x11223344);
        assert_eq!(info.ntp, 0xe000_0001_8000_0000);
        assert_eq!(
            (info.rtp_timestamp, info.packets, info.octets),
            (8000, 50, 8000)
        );
        assert_eq!(
            blocks[0],
            ReportBlock {
                ssrc: 0xaabbccdd,
                fraction_lost: 64,
                cumulative_lost: -2,
                highest_seq: 0x1_000a,
                jitter: 80,
                lsr: 0x12345678,
                dlsr: 0x10000,
            }
        );
        assert_eq!(
            got[1],
            Packet::Sdes(vec![(0x11223344, Some("abc".to_string()))])
        );
    }

    #[test]
    fn parses_rr_bye_and_xr_voip_metrics() {
        let mut p = vec![0x80, 201, 0, 1, 0, 0, 0, 9]; // RR with no blocks
        p.extend_from_slice(&[0x81, 203, 0, 1, 0, 0, 0, 9]); // BYE
                                                             // XR (RFC 3611): header, sender SSRC, one VoIP metrics block (BT=7, length 8).
        p.extend_from_slice(&[0x80, 207, 0, 10, 0, 0, 0, 9, 7, 0, 0, 8]);
        p.extend_from_slice(&[0xaa, 0xbb, 0xcc, 0xdd]); // source SSRC
        p.extend_from_slice(&[13, 0, 0, 0]); // loss 13/256, discard, burst, gap densities
        p.extend_from_slice(&[0, 0, 0, 0]); // burst, gap durations
        p.extend_from_slice(&[0, 120, 0, 40]); // round trip 120 ms, end system 40 ms
        p.extend_from_slice(&[0, 0, 0, 0]); // signal, noise, RERL, Gmin
        p.extend_from_slice(&[88, 127, 41, 127]); // R 88, ext R n/a, MOS-LQ 4.1, MOS-CQ n/a
        p.extend_from_slice(&[0; 8]); // RX config, JB
        let got = parse(&p).unwrap();
        assert_eq!(
            got[0],
            Packet::Rr {
                ssrc: 9,
                blocks: vec![]
            }
        );
        assert_eq!(got[1], Packet::Bye(vec![9]));
        let Packet::Xr { voip, .. } = &got[2] else {
            panic!()
        };
        let x = XrVoip::from(&voip[0]);
        assert_eq!(x.round_trip_ms, Some(120.0));
        assert_eq!(x.end_system_delay_ms, Some(40.0));
        assert_eq!(x.r_factor, Some(88.0));
        assert_eq!(x.mos_lq, Some(4.1));
        assert_eq!(x.mos_cq, None);
        assert!((x.loss_rate_pct - 5.078).abs() < 0.001);
        let mut s = Session::new(0xaabbccdd, Clock::default());
        s.receive(&p, Instant::now());
        assert!(s.bye);
        // What the lab builds reads back the same.
        let again = build_xr_voip(9, &voip[0]);
        assert_eq!(again, p[16..]);
        assert_eq!(s.round_trip(), Some((120.0, "rtcp_xr")));
    }

    #[test]
    fn our_reports_parse_back() {
        let b = ReportBlock {
            ssrc: 5,
            fraction_lost: 3,
            cumulative_lost: 70_000,
            highest_seq: 1234,
            jitter: 7,
            lsr: 11,
            dlsr: 12,
        };
        let info = SenderInfo {
            ntp: 42,
            rtp_timestamp: 1,
            packets: 2,
            octets: 3,
        };
        let mut sr = build_report(77, Some(info), &[b], "raqib@127.0.0.1");
        sr.extend(build_bye(77));
        assert_eq!(sr.len() % 4, 0);
        assert!(is_rtcp(&sr));
        let got = parse(&sr).unwrap();
        assert_eq!(
            got[0],
            Packet::Sr {
                ssrc: 77,
                info,
                blocks: vec![b]
            }
        );
        assert_eq!(
            got[1],
            Packet::Sdes(vec![(77, Some("raqib@127.0.0.1".into()))])
        );
        assert_eq!(got[2], Packet::Bye(vec![77]));
        let rr = build_report(77, None, &[], "x");
        assert_eq!(
            parse(&rr).unwrap()[0],
            Packet::Rr {
                ssrc: 77,
                blocks: vec![]
            }
        );
    }

    #[test]
    fn round_trip_is_arrival_minus_lsr_minus_dlsr() {
        // §6.4.1's example: A=0xb710:8000, LSR=0xb705:2000, DLSR=5.25 s → 6.125 s.
        let rtt = round_trip_ms(0xb710_8000, 0xb705_2000, 0x0005_4000).unwrap();
        assert!((rtt - 6125.0).abs() < 1e-6, "{rtt}");
        assert_eq!(round_trip_ms(5, 0, 0), None); // no SR of ours yet
        assert_eq!(round_trip_ms(0x10000, 0x20000, 0), None); // reported before sent
        assert_eq!(round_trip_ms(0x10000, 0x10001, 0), Some(0.0)); // rounding on loopback
    }

    #[test]
    fn a_report_about_our_stream_gives_rtt_and_far_end_figures() {
        let clock = Clock::default();
        let sent_at = clock.instant + Duration::from_millis(100);
        let lsr = mid32(clock.ntp(sent_at));
        let mut s = Session::new(0xabc, clock);
        let block = |ssrc, dlsr| ReportBlock {
            ssrc,
            fraction_lost: 128,
            cumulative_lost: 4,
            highest_seq: 0,
            jitter: 160,
            lsr,
            dlsr,
        };
        // Held 50 ms by the far end, arriving 130 ms after sending: RTT 80 ms.
        let rr = build_report(9, None, &[block(0xabc, 65536 / 20), block(1, 0)], "far");
        s.receive(&rr, sent_at + Duration::from_millis(130));
        let rtt = s.rtt_ms().unwrap();
        assert!((rtt - 80.0).abs() < 0.1, "{rtt}");
        assert_eq!(s.round_trip().unwrap().1, "rtcp");
        let f = s.far_end.as_ref().unwrap();
        assert_eq!((f.reports, f.cumulative_lost), (1, 4));
        assert_eq!((f.fraction_lost_pct, f.jitter_ms), (50.0, 20.0));
        assert_eq!(s.cname.as_deref(), Some("far"));
    }

    #[test]
    fn refuses_what_is_not_rtcp() {
        assert_eq!(parse(&[0x80, 200]), Err(RtcpError::Short));
        assert_eq!(parse(&[0x40, 200, 0, 0]), Err(RtcpError::Version));
        assert_eq!(parse(&[0x80, 0, 0, 0]), Err(RtcpError::Type(0)));
        assert_eq!(
            parse(&[0x80, 201, 0, 9, 0, 0, 0, 0]),
            Err(RtcpError::Length)
        );
        assert_eq!(parse(&[0x80, 200, 0, 1, 0, 0, 0, 0]), Err(RtcpError::Short)); // SR, no info
        assert_eq!(
            parse(&[0xa0, 201, 0, 1, 0, 0, 0, 0]),
            Err(RtcpError::Length)
        ); // pad 0
        assert!(!is_rtcp(&crate::probe::call::rtp::build(
            0,
            false,
            1,
            1,
            1,
            &[]
        )));
    }

    #[test]
    fn random_and_truncated_bytes_never_panic() {
        let mut rng = fastrand::Rng::with_seed(3550);
        let good = hand_made_sr();
        let mut s = Session::new(0xaabbccdd, Clock::default());
        for _ in 0..100_000 {
            let len = rng.usize(..200);
            let mut b: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            if rng.bool() && !b.is_empty() {
                // Keep it plausible so the parser goes deep: version 2, an RTCP type.
                b[0] = 0x80 | (b[0] & 0x3f);
                if b.len() > 1 {
                    b[1] = [200, 201, 202, 203, 207][rng.usize(..5)];
                }
            }
            let _ = parse(&b);
            s.receive(&b, Instant::now());
            let cut = rng.usize(..=good.len());
            let _ = parse(&good[..cut]);
            let mut flipped = good.clone();
            let i = rng.usize(..flipped.len());
            flipped[i] = rng.u8(..);
            let _ = parse(&flipped);
        }
        assert!(s.malformed > 0);
    }
}
