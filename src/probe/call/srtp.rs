//! SRTP (RFC 3711) with keys exchanged in SDP (SDES, RFC 4568): AES-CM-128 with HMAC-SHA1
//! tags of 80 or 32 bits, no MKI, key derivation rate 0. raqib encrypts what it sends and
//! decrypts what it hears, so the recording and the classifier work as on plain RTP. SDES
//! keys travel in the SIP body: they are offered only over TLS (the call refuses otherwise).

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use base64::Engine as _;

/// The crypto suites raqib speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    AesCm128HmacSha1_80,
    AesCm128HmacSha1_32,
}

impl Suite {
    pub fn name(self) -> &'static str {
        match self {
            Suite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Suite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    pub fn parse(name: &str) -> Option<Suite> {
        [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32]
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    fn tag_len(self) -> usize {
        match self {
            Suite::AesCm128HmacSha1_80 => 10,
            Suite::AesCm128HmacSha1_32 => 4,
        }
    }
}

/// A master key and salt: 16 + 14 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    pub key: [u8; 16],
    pub salt: [u8; 14],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// A fresh key from the system's random source.
    pub fn random() -> MasterKey {
        use ring::rand::SecureRandom;
        let mut bytes = [0u8; 30];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system's random source works");
        MasterKey::from_bytes(&bytes).expect("30 bytes")
    }

    fn from_bytes(b: &[u8]) -> Option<MasterKey> {
        if b.len() != 30 {
            return None;
        }
        let mut key = [0u8; 16];
        let mut salt = [0u8; 14];
        key.copy_from_slice(&b[..16]);
        salt.copy_from_slice(&b[16..]);
        Some(MasterKey { key, salt })
    }

    /// The `inline:` key parameter's value (RFC 4568 §6.1): base64 of key and salt.
    pub fn inline(&self) -> String {
        let mut b = self.key.to_vec();
        b.extend_from_slice(&self.salt);
        base64::engine::general_purpose::STANDARD.encode(b)
    }
}

/// One `a=crypto` line of an SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crypto {
    pub tag: u32,
    pub suite: Suite,
    pub key: MasterKey,
}

impl Crypto {
    /// The attribute's value after `a=crypto:`.
    pub fn attribute(&self) -> String {
        format!(
            "{} {} inline:{}",
            self.tag,
            self.suite.name(),
            self.key.inline()
        )
    }

    /// Reads `1 AES_CM_128_HMAC_SHA1_80 inline:KEY[|lifetime]`; an unknown suite, an MKI, a
    /// second key or session parameters (which change what is encrypted) make it unusable.
    pub fn parse(value: &str) -> Result<Crypto, CryptoError> {
        let mut parts = value.split_whitespace();
        let tag = parts
            .next()
            .and_then(|t| t.parse().ok())
            .ok_or(CryptoError::Malformed)?;
        let suite_name = parts.next().ok_or(CryptoError::Malformed)?;
        let suite =
            Suite::parse(suite_name).ok_or_else(|| CryptoError::Suite(suite_name.to_string()))?;
        let params = parts.next().ok_or(CryptoError::Malformed)?;
        if params.contains(';') {
            return Err(CryptoError::Unsupported("more than one key".into()));
        }
        if let Some(extra) = parts.next() {
            return Err(CryptoError::Unsupported(format!(
                "session parameter {extra}"
            )));
        }
        let inline = params
            .strip_prefix("inline:")
            .ok_or(CryptoError::Malformed)?;
        let mut fields = inline.split('|');
        let b64 = fields.next().unwrap_or("");
        for f in fields {
            if f.contains(':') {
                return Err(CryptoError::Unsupported("an MKI".into()));
            }
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| CryptoError::Malformed)?;
        let key = MasterKey::from_bytes(&bytes).ok_or(CryptoError::Malformed)?;
        Ok(Crypto { tag, suite, key })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("malformed a=crypto attribute")]
    Malformed,
    #[error("crypto suite {0} is not spoken (AES_CM_128_HMAC_SHA1_80 and _32 are)")]
    Suite(String),
    #[error("a=crypto with {0} is not supported")]
    Unsupported(String),
}

/// Why a received packet was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnprotectError {
    #[error("too short for SRTP")]
    Short,
    #[error("authentication tag does not match")]
    Auth,
    #[error("replayed packet")]
    Replay,
    #[error("too many sources")]
    Streams,
}

/// AES-CM (RFC 3711 §4.1.1): XORs `data` with the keystream of AES in counter mode from `iv`.
fn aes_cm(cipher: &aes::Aes128, iv: [u8; 16], data: &mut [u8]) {
    let start = u128::from_be_bytes(iv);
    for (j, chunk) in data.chunks_mut(16).enumerate() {
        let mut block = aes::Block::from(start.wrapping_add(j as u128).to_be_bytes());
        cipher.encrypt_block(&mut block);
        for (d, k) in chunk.iter_mut().zip(block.iter()) {
            *d ^= k;
        }
    }
}

/// The key derivation of RFC 3711 §4.3.1 with a key derivation rate of 0.
fn derive(master: &MasterKey, label: u8, out: &mut [u8]) {
    let cipher = aes::Aes128::new(&master.key.into());
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(&master.salt);
    iv[7] ^= label;
    out.fill(0);
    aes_cm(&cipher, iv, out);
}

/// One direction of an SRTP stream (RTP only: raqib sends no RTCP, and ignores SRTCP).
pub struct Context {
    suite: Suite,
    cipher: aes::Aes128,
    auth: ring::hmac::Key,
    salt: [u8; 14],
    /// Each SSRC's roll-over state: a peer may switch sources (early media, the answer, digits).
    streams: std::collections::HashMap<u32, Stream>,
}

/// One source's roll-over counter, highest sequence number (RFC 3711 §3.3.1), replay window.
#[derive(Default)]
struct Stream {
    roc: u32,
    last_seq: Option<u16>,
    /// Indices received recently (a 64-packet window), against replays.
    window_top: u64,
    window: u64,
}

/// More sources than any call has: a flood of SSRCs cannot grow the map without end.
const MAX_STREAMS: usize = 64;

impl Context {
    pub fn new(suite: Suite, master: &MasterKey) -> Context {
        let mut k_e = [0u8; 16];
        let mut k_a = [0u8; 20];
        let mut k_s = [0u8; 14];
        derive(master, 0x00, &mut k_e);
        derive(master, 0x01, &mut k_a);
        derive(master, 0x02, &mut k_s);
        Context {
            suite,
            cipher: aes::Aes128::new(&k_e.into()),
            auth: ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &k_a),
            salt: k_s,
            streams: Default::default(),
        }
    }

    fn iv(&self, ssrc: u32, index: u64) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(&self.salt);
        for (i, b) in ssrc.to_be_bytes().iter().enumerate() {
            iv[4 + i] ^= b;
        }
        for (i, b) in index.to_be_bytes()[2..].iter().enumerate() {
            iv[8 + i] ^= b;
        }
        iv
    }

    fn tag(&self, authenticated: &[u8], roc: u32) -> ring::hmac::Tag {
        let mut m = ring::hmac::Context::with_key(&self.auth);
        m.update(authenticated);
        m.update(&roc.to_be_bytes());
        m.sign()
    }

    fn stream(&mut self, ssrc: u32) -> Option<&mut Stream> {
        if !self.streams.contains_key(&ssrc) && self.streams.len() >= MAX_STREAMS {
            return None;
        }
        Some(self.streams.entry(ssrc).or_default())
    }

    /// Encrypts and authenticates an RTP packet for sending; `None` for a packet that is no RTP.
    pub fn protect(&mut self, rtp: &[u8]) -> Option<Vec<u8>> {
        let header = header_len(rtp)?;
        let seq = u16::from_be_bytes([rtp[2], rtp[3]]);
        let ssrc = u32::from_be_bytes([rtp[8], rtp[9], rtp[10], rtp[11]]);
        let st = self.stream(ssrc)?;
        if let Some(last) = st.last_seq {
            // The sequence wrapped: a new roll-over.
            if seq < last && last - seq > 0x8000 {
                st.roc = st.roc.wrapping_add(1);
            }
        }
        st.last_seq = Some(seq);
        let roc = st.roc;
        let index = ((roc as u64) << 16) | seq as u64;
        let mut out = rtp.to_vec();
        aes_cm(&self.cipher, self.iv(ssrc, index), &mut out[header..]);
        let tag = self.tag(&out, roc);
        out.extend_from_slice(&tag.as_ref()[..self.suite.tag_len()]);
        Some(out)
    }

    /// Checks and decrypts a received SRTP packet into plain RTP.
    pub fn unprotect(&mut self, srtp: &[u8]) -> Result<Vec<u8>, UnprotectError> {
        let tag_len = self.suite.tag_len();
        if srtp.len() < 12 + tag_len {
            return Err(UnprotectError::Short);
        }
        let (body, tag) = srtp.split_at(srtp.len() - tag_len);
        let header = header_len(body).ok_or(UnprotectError::Short)?;
        let seq = u16::from_be_bytes([body[2], body[3]]);
        let ssrc = u32::from_be_bytes([body[8], body[9], body[10], body[11]]);
        let (st_roc, st_last) = match self.streams.get(&ssrc) {
            Some(st) => (st.roc, st.last_seq),
            None => (0, None),
        };
        // RFC 3711 §3.3.1: the roll-over counter this packet most probably belongs to.
        let roc = match st_last {
            None => st_roc,
            Some(s_l) if s_l < 0x8000 => {
                if seq > s_l && seq - s_l > 0x8000 {
                    st_roc.wrapping_sub(1)
                } else {
                    st_roc
                }
            }
            Some(s_l) => {
                if seq < s_l - 0x8000 {
                    st_roc.wrapping_add(1)
                } else {
                    st_roc
                }
            }
        };
        let index = ((roc as u64) << 16) | seq as u64;
        if st_last.is_some() && self.streams.get(&ssrc).is_some_and(|st| st.replayed(index)) {
            return Err(UnprotectError::Replay);
        }
        let expected = self.tag(body, roc);
        let differs = expected.as_ref()[..tag_len]
            .iter()
            .zip(tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if differs != 0 {
            return Err(UnprotectError::Auth);
        }
        let mut out = body.to_vec();
        aes_cm(&self.cipher, self.iv(ssrc, index), &mut out[header..]);
        // Only an authentic packet moves the state on.
        let st = self.stream(ssrc).ok_or(UnprotectError::Streams)?;
        match st.last_seq {
            None => {
                st.last_seq = Some(seq);
                st.window_top = index;
                st.window = 1;
            }
            Some(s_l) => {
                if roc == st.roc.wrapping_add(1) || (roc == st.roc && seq > s_l) {
                    st.roc = roc;
                    st.last_seq = Some(seq);
                }
                st.remember(index);
            }
        }
        Ok(out)
    }
}

impl Stream {
    fn replayed(&self, index: u64) -> bool {
        if index > self.window_top {
            return false;
        }
        let back = self.window_top - index;
        back >= 64 || self.window & (1 << back) != 0
    }

    fn remember(&mut self, index: u64) {
        if index > self.window_top {
            let shift = index - self.window_top;
            self.window = if shift >= 64 { 0 } else { self.window << shift };
            self.window |= 1;
            self.window_top = index;
        } else {
            self.window |= 1 << (self.window_top - index);
        }
    }
}

/// The length of an RTP header with its CSRCs and extension; `None` if `p` is no RTP.
fn header_len(p: &[u8]) -> Option<usize> {
    if p.len() < 12 || p[0] >> 6 != 2 {
        return None;
    }
    let mut len = 12 + 4 * (p[0] & 0x0f) as usize;
    if p[0] & 0x10 != 0 {
        let ext = p.get(len + 2..len + 4)?;
        len += 4 + 4 * u16::from_be_bytes([ext[0], ext[1]]) as usize;
    }
    (len <= p.len()).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 3711 Appendix B.2: the AES-CM keystream.
    #[test]
    fn aes_cm_keystream_of_rfc_3711_b2() {
        let cipher = aes::Aes128::new_from_slice(&hex("2B7E151628AED2A6ABF7158809CF4F3C")).unwrap();
        let iv: [u8; 16] = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000").try_into().unwrap();
        let mut ks = vec![0u8; 48];
        aes_cm(&cipher, iv, &mut ks);
        assert_eq!(
            ks,
            hex(
                "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB \
                 41E95B3BB0A2E8DD477901E4FCA894C0"
            )
        );
        // Blocks 0xFEFF..0xFF01 of the same stream.
        let mut ks = vec![0u8; 16 * 0xFF02];
        aes_cm(&cipher, iv, &mut ks);
        assert_eq!(
            ks[16 * 0xFEFF..],
            hex(
                "EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE \
                 6A2CC3787889374FBEB4C81B17BA6C44"
            )
        );
        // The session salt of B.2 and SSRC 0, index 0 give that IV.
        let master = MasterKey::from_bytes(&[0u8; 30]).unwrap();
        let mut c = Context::new(Suite::AesCm128HmacSha1_80, &master);
        c.salt.copy_from_slice(&hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"));
        assert_eq!(c.iv(0, 0), iv);
    }

    /// RFC 3711 Appendix B.3: the session keys derived from a master key and salt.
    #[test]
    fn key_derivation_of_rfc_3711_b3() {
        let master = MasterKey {
            key: hex("E1F97A0D3E018BE0D64FA32C06DE4139").try_into().unwrap(),
            salt: hex("0EC675AD498AFEEBB6960B3AABE6").try_into().unwrap(),
        };
        let mut k_e = [0u8; 16];
        derive(&master, 0, &mut k_e);
        assert_eq!(k_e.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
        let mut k_s = [0u8; 14];
        derive(&master, 2, &mut k_s);
        assert_eq!(k_s.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
        // The RFC lists 94 bytes of the authentication key stream; HMAC-SHA1 uses 20.
        let mut k_a = [0u8; 94];
        derive(&master, 1, &mut k_a);
        assert_eq!(
            k_a.to_vec(),
            hex(
                "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE \
                 E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25 \
                 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
            )
        );
    }

    fn packet(seq: u16, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef];
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn round_trip_across_a_rollover_and_forgeries_refused() {
        for suite in [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32] {
            let key = MasterKey::random();
            let mut tx = Context::new(suite, &key);
            let mut rx = Context::new(suite, &key);
            let payload = [0x55u8; 160];
            for seq in (0xfff0u16..=0xffff).chain(0..0x10) {
                let plain = packet(seq, &payload);
                let sent = tx.protect(&plain).unwrap();
                assert_eq!(sent.len(), plain.len() + suite.tag_len());
                assert_ne!(sent[12..172], plain[12..], "the payload is encrypted");
                assert_eq!(sent[..12], plain[..12], "the header is not");
                let mut forged = sent.clone();
                forged[20] ^= 1;
                assert_eq!(rx.unprotect(&forged), Err(UnprotectError::Auth));
                assert_eq!(rx.unprotect(&sent).unwrap(), plain, "{seq}");
                assert_eq!(rx.unprotect(&sent), Err(UnprotectError::Replay));
            }
            assert_eq!(rx.streams[&0xdeadbeef].roc, 1);
            // Another key's packets are not authentic.
            let mut other = Context::new(suite, &MasterKey::random());
            let p = other.protect(&packet(0x20, &payload)).unwrap();
            assert_eq!(rx.unprotect(&p), Err(UnprotectError::Auth));
        }
    }

    #[test]
    fn crypto_attributes() {
        let c = Crypto {
            tag: 1,
            suite: Suite::AesCm128HmacSha1_80,
            key: MasterKey::random(),
        };
        assert_eq!(Crypto::parse(&c.attribute()), Ok(c.clone()));
        let with_lifetime = format!("{}|2^31", c.attribute());
        assert_eq!(Crypto::parse(&with_lifetime).unwrap().key, c.key);
        assert!(matches!(
            Crypto::parse(&format!("{}|2^20|1:4", c.attribute())),
            Err(CryptoError::Unsupported(_))
        ));
        assert!(matches!(
            Crypto::parse(&format!("{} UNENCRYPTED_SRTP", c.attribute())),
            Err(CryptoError::Unsupported(_))
        ));
        assert!(matches!(
            Crypto::parse("1 F8_128_HMAC_SHA1_80 inline:AAAA"),
            Err(CryptoError::Suite(_))
        ));
        assert_eq!(
            Crypto::parse("1 AES_CM_128_HMAC_SHA1_32 inline:c2hvcnQ="),
            Err(CryptoError::Malformed)
        );
    }
}
