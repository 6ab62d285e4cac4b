//! G.711 μ-law (PCMU, payload type 0) and A-law (PCMA, 8) to and from 16-bit linear PCM,
//! by the ITU-T G.711 segment rules.

pub fn ulaw_to_linear(u: u8) -> i16 {
    let u = !u;
    let sign = u & 0x80;
    let exponent = (u >> 4) & 0x07;
    let mantissa = u & 0x0f;
    let magnitude = ((((mantissa as i32) << 3) + 0x84) << exponent) - 0x84;
    (if sign != 0 { -magnitude } else { magnitude }) as i16
}

pub fn alaw_to_linear(a: u8) -> i16 {
    let a = a ^ 0x55;
    let sign = a & 0x80;
    let exponent = (a >> 4) & 0x07;
    let mantissa = (a & 0x0f) as i32;
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    (if sign != 0 { magnitude } else { -magnitude }) as i16
}

pub fn linear_to_ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32635;
    let mut s = sample as i32;
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(CLIP) + BIAS;
    let exponent = (7 - (s.leading_zeros() as i32 - 17)).clamp(0, 7);
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) | mantissa) as u8
}

pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut s = sample as i32;
    let sign = if s >= 0 { 0x80 } else { 0 };
    if s < 0 {
        s = -s - 1;
    }
    s = s.min(32767);
    let byte = if s < 256 {
        (s >> 4) as u8
    } else {
        let exponent = (31 - (s as u32).leading_zeros()) as i32 - 7; // 1..=7
        let mantissa = (s >> (exponent + 3)) & 0x0f;
        ((exponent << 4) | mantissa) as u8
    };
    (byte | sign) ^ 0x55
}

/// Encodes samples as PCMA for payload type 8, else PCMU.
pub fn encode(payload_type: u8, samples: &[i16]) -> Vec<u8> {
    samples
        .iter()
        .map(|&s| {
            if payload_type == 8 {
                linear_to_alaw(s)
            } else {
                linear_to_ulaw(s)
            }
        })
        .collect()
}

/// Decodes a payload of the given static payload type; `None` for other codecs.
pub fn decode(payload_type: u8, payload: &[u8], out: &mut Vec<i16>) -> bool {
    match payload_type {
        0 => out.extend(payload.iter().map(|&b| ulaw_to_linear(b))),
        8 => out.extend(payload.iter().map(|&b| alaw_to_linear(b))),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(ulaw_to_linear(0xff), 0);
        assert_eq!(ulaw_to_linear(0x7f), 0);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xaa), 32256);
        assert_eq!(alaw_to_linear(0x2a), -32256);
    }

    #[test]
    fn round_trips_every_code() {
        for c in 0..=255u8 {
            let u = ulaw_to_linear(c);
            // 0x7f and 0xff are both zero; every other code maps back to itself.
            if c != 0x7f {
                assert_eq!(linear_to_ulaw(u), c, "ulaw {c:#x} -> {u}");
            }
            let a = alaw_to_linear(c);
            assert_eq!(linear_to_alaw(a), c, "alaw {c:#x} -> {a}");
        }
    }

    #[test]
    fn encoding_error_is_small() {
        for s in (-32000i32..32000).step_by(97) {
            let s = s as i16;
            let u = ulaw_to_linear(linear_to_ulaw(s)) as i32;
            let a = alaw_to_linear(linear_to_alaw(s)) as i32;
            let tol = (s as i32).abs() / 16 + 16;
            assert!((u - s as i32).abs() <= tol, "ulaw {s} -> {u}");
            assert!((a - s as i32).abs() <= tol, "alaw {s} -> {a}");
        }
    }
}
