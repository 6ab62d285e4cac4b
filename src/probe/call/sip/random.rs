//! Identifiers that must not be guessed: Call-IDs, tags, branches and digest cnonces (RFC 3261
//! §19.3). An off-path attacker who can predict them can forge a BYE, a CANCEL or a response
//! that the call would accept, so they come from the operating system's CSPRNG through ring,
//! never from a fast seeded generator.

use ring::rand::{SecureRandom, SystemRandom};

/// 128 random bits as 32 lower-case hex digits.
pub fn token() -> String {
    let mut bytes = [0u8; 16];
    // ring reads getrandom(2); it fails only if the kernel has no entropy source at all, and
    // then no identifier raqib could make would be safe: stopping is the honest answer.
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random source (getrandom) failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A Via branch: RFC 3261's magic cookie, then 128 random bits.
pub fn branch() -> String {
    format!("z9hG4bK{}", token())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_128_bits_and_do_not_repeat() {
        let a: Vec<String> = (0..1000).map(|_| token()).collect();
        assert!(a
            .iter()
            .all(|t| t.len() == 32 && t.bytes().all(|c| c.is_ascii_hexdigit())));
        let distinct: std::collections::HashSet<_> = a.iter().collect();
        assert_eq!(distinct.len(), a.len());
        assert!(branch().starts_with("z9hG4bK") && branch().len() == 39);
    }
}
