//! RTP receive side (RFC 3550): the fixed header with CSRCs, extension and padding, and the
//! receiver statistics of Appendix A — extended sequence numbers, expected and lost packets,
//! and interarrival jitter (A.8). Parsing never panics: a hostile peer gets `None`.

/// A parsed RTP packet, borrowing its payload from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub payload_type: u8,
    pub marker: bool,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload: &'a [u8],
}

/// Parses one datagram; `None` for anything that is not RTP version 2 or is inconsistent.
pub fn parse(buf: &[u8]) -> Option<RtpPacket<'_>> {
    if buf.len() < 12 || buf[0] >> 6 != 2 {
        return None;
    }
    let padding = buf[0] & 0x20 != 0;
    let extension = buf[0] & 0x10 != 0;
    let csrc_count = (buf[0] & 0x0f) as usize;
    let payload_type = buf[1] & 0x7f;
    // RTCP shares the port in rtcp-mux; its packet types 200..=204 land on PT 72..=76.
    if (72..=76).contains(&payload_type) {
        return None;
    }
    let mut start = 12 + 4 * csrc_count;
    if extension {
        let ext = buf.get(start..start + 4)?;
        let words = u16::from_be_bytes([ext[2], ext[3]]) as usize;
        start += 4 + 4 * words;
    }
    let mut end = buf.len();
    if padding {
        let pad = *buf.last()? as usize;
        if pad == 0 || pad > end.saturating_sub(start) {
            return None;
        }
        end -= pad;
    }
    if start > end {
        return None;
    }
    Some(RtpPacket {
        payload_type,
        marker: buf[1] & 0x80 != 0,
        sequence: u16::from_be_bytes([buf[2], buf[3]]),
        timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
        ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
        payload: &buf[start..end],
    })
}

/// Builds an RTP packet (for the notice raqib plays and for the lab's UAS).
pub fn build(pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + payload.len());
    out.push(0x80);
    out.push(pt & 0x7f | if marker { 0x80 } else { 0 });
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ts.to_be_bytes());
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Receiver statistics for one source (RFC 3550 A.1, A.3, A.8).
#[derive(Debug, Clone, Default)]
pub struct RtpStats {
    started: bool,
    ssrc: u32,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    pub received: u64,
    /// Interarrival jitter in timestamp units, as A.8 keeps it.
    jitter: f64,
    last_transit: Option<i64>,
    clock_rate: u32,
}

impl RtpStats {
    pub fn new(clock_rate: u32) -> RtpStats {
        RtpStats {
            clock_rate,
            ..Default::default()
        }
    }

    /// Counts a packet that arrived at `arrival` seconds (any fixed origin).
    pub fn record(&mut self, p: &RtpPacket<'_>, arrival: f64) {
        if !self.started || p.ssrc != self.ssrc {
            // A new source (or the first): statistics restart, as a receiver would.
            *self = RtpStats::new(self.clock_rate);
            self.started = true;
            self.ssrc = p.ssrc;
            self.base_seq = p.sequence as u32;
            self.max_seq = p.sequence;
        } else {
            let delta = p.sequence.wrapping_sub(self.max_seq);
            if delta != 0 && delta < 0x8000 {
                if p.sequence < self.max_seq {
                    self.cycles += 1;
                }
                self.max_seq = p.sequence;
            }
        }
        self.received += 1;
        let arrival_ts = (arrival * self.clock_rate as f64) as i64;
        let transit = arrival_ts - p.timestamp as i64;
        if let Some(last) = self.last_transit {
            let d = (transit - last).unsigned_abs() as f64;
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
    }

    pub fn expected(&self) -> u64 {
        if !self.started {
            return 0;
        }
        let extended_max = ((self.cycles as u64) << 16) + self.max_seq as u64;
        extended_max + 1 - self.base_seq as u64
    }

    /// Packets expected but not received (duplicates can make the difference negative: 0 then).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }

    pub fn loss_pct(&self) -> f64 {
        let e = self.expected();
        if e == 0 {
            0.0
        } else {
            self.lost() as f64 * 100.0 / e as f64
        }
    }

    /// The extended highest sequence number received (cycles in the high 16 bits).
    pub fn extended_max(&self) -> u32 {
        (self.cycles << 16) | self.max_seq as u32
    }

    /// Interarrival jitter in timestamp units, as an RTCP report block carries it.
    pub fn jitter_units(&self) -> u32 {
        self.jitter as u32
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    pub fn jitter_ms(&self) -> f64 {
        if self.clock_rate == 0 {
            0.0
        } else {
            self.jitter * 1000.0 / self.clock_rate as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_with_csrc_extension_and_padding() {
        let mut p = vec![
            0x80 | 0x20 | 0x10 | 2,
            0x80 | 8,
            0x12,
            0x34,
            0,
            0,
            1,
            0,
            0xde,
            0xad,
            0xbe,
            0xef,
        ];
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]); // 2 CSRCs
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 9, 9, 9, 9]); // extension of one word
        p.extend_from_slice(&[1, 2, 3]); // payload
        p.extend_from_slice(&[0, 0, 3]); // 3 bytes of padding
        let r = parse(&p).unwrap();
        assert_eq!(r.payload_type, 8);
        assert!(r.marker);
        assert_eq!(r.sequence, 0x1234);
        assert_eq!(r.timestamp, 256);
        assert_eq!(r.ssrc, 0xdeadbeef);
        assert_eq!(r.payload, &[1, 2, 3]);
    }

    #[test]
    fn refuses_what_is_not_rtp() {
        assert!(parse(&[]).is_none());
        assert!(parse(&[0x40; 20]).is_none()); // version 1
        assert!(parse(&[0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_none()); // 15 CSRCs, no room
        let mut bad_pad = build(0, false, 1, 1, 1, &[1, 2]);
        bad_pad[0] |= 0x20;
        *bad_pad.last_mut().unwrap() = 200;
        assert!(parse(&bad_pad).is_none());
        assert!(parse(&build(72, false, 1, 1, 1, &[])).is_none()); // RTCP SR
    }

    #[test]
    fn counts_loss_across_wraparound() {
        let mut s = RtpStats::new(8000);
        let mut t = 0.0;
        for (i, seq) in (65530u16..=65535).chain(0..10).enumerate() {
            if seq == 2 || seq == 65533 {
                continue; // two lost
            }
            let pkt = build(0, false, seq, (i as u32) * 160, 7, &[0xff; 160]);
            s.record(&parse(&pkt).unwrap(), t);
            t += 0.02;
        }
        assert_eq!(s.expected(), 16);
        assert_eq!(s.lost(), 2);
        assert!((s.loss_pct() - 12.5).abs() < 1e-9);
    }

    #[test]
    fn steady_packets_have_no_jitter_and_late_ones_do() {
        let mut s = RtpStats::new(8000);
        for i in 0..50u32 {
            let pkt = build(0, false, i as u16, i * 160, 1, &[0; 160]);
            s.record(&parse(&pkt).unwrap(), i as f64 * 0.02);
        }
        assert!(s.jitter_ms() < 0.01, "{}", s.jitter_ms());
        // Alternate 10 ms early and late: D = 20 ms each time, J converges to 20 ms.
        let mut s = RtpStats::new(8000);
        for i in 0..400u32 {
            let skew = if i % 2 == 0 { 0.01 } else { -0.01 };
            let pkt = build(0, false, i as u16, i * 160, 1, &[0; 160]);
            s.record(&parse(&pkt).unwrap(), i as f64 * 0.02 + skew);
        }
        assert!((s.jitter_ms() - 20.0).abs() < 0.5, "{}", s.jitter_ms());
    }
}
