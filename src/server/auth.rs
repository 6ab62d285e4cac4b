//! Who is asking: bearer tokens (API), session cookies (dashboard), passwords (sign-in).
//! Passwords are PBKDF2-HMAC-SHA256 with a random salt (OWASP's 600,000 iterations); tokens
//! and cookies are 256-bit random, stored only as their SHA-256.

use std::num::NonZeroU32;

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

const ITERATIONS: u32 = 600_000;
const SCHEME: &str = "pbkdf2-sha256";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the system gave no randomness")]
    NoRandomness,
    #[error("a password has at least 12 characters")]
    ShortPassword,
}

fn random<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut raw = [0u8; N];
    SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| AuthError::NoRandomness)?;
    Ok(raw)
}

/// A new secret for a token (`rq_…`) or a session cookie.
pub fn new_secret(prefix: &str) -> Result<String, AuthError> {
    Ok(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(random::<32>()?)
    ))
}

/// `pbkdf2-sha256$ITERATIONS$SALT$HASH` (base64 without padding).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < 12 {
        return Err(AuthError::ShortPassword);
    }
    let salt = random::<16>()?;
    let mut out = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(ITERATIONS).expect("non-zero"),
        &salt,
        password.as_bytes(),
        &mut out,
    );
    Ok(format!(
        "{SCHEME}${ITERATIONS}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    ))
}

/// Whether two secrets are equal, in time that depends on their lengths only.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Whether `password` matches `stored` (compared in constant time by ring).
pub fn verify_password(password: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some(SCHEME), Some(iter), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Some(iter), Ok(salt), Ok(hash)) = (
        iter.parse::<u32>().ok().and_then(NonZeroU32::new),
        STANDARD_NO_PAD.decode(salt),
        STANDARD_NO_PAD.decode(hash),
    ) else {
        return false;
    };
    ring::pbkdf2::verify(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iter,
        &salt,
        password.as_bytes(),
        &hash,
    )
    .is_ok()
}

/// A hash of a password no one knows, checked when a user is unknown or has no password, so
/// that such a sign-in takes as long as a wrong password of a real user (no timing tells which
/// names exist).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let secret = new_secret("dummy-").unwrap_or_else(|_| "dummy-password-unknowable".into());
        hash_password(&secret).unwrap_or_default()
    })
}

/// Whether `password` matches `stored`; without `stored` the dummy hash is checked (and
/// `false` returned), taking the same time.
pub fn verify_password_or_dummy(password: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(s) => verify_password(password, s),
        None => {
            let _ = verify_password(password, dummy_hash());
            false
        }
    }
}

/// The form token that proves a POST came from a page of this session (not another site).
pub fn csrf_of(session: &str) -> String {
    crate::store::users::token_hash(&format!("csrf:{session}"))
}

/// The value of cookie `name` in a `Cookie:` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_itself() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("pbkdf2-sha256$600000$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("correct horse battery", "plain"));
        // The same password twice gives two salts.
        assert_ne!(h, hash_password("correct horse battery").unwrap());
        assert!(matches!(
            hash_password("short"),
            Err(AuthError::ShortPassword)
        ));
    }

    #[test]
    fn no_password_verifies_against_the_dummy() {
        assert!(dummy_hash().starts_with("pbkdf2-sha256$600000$"));
        assert!(!verify_password_or_dummy("anything at all", None));
        let h = hash_password("correct horse battery").unwrap();
        assert!(verify_password_or_dummy("correct horse battery", Some(&h)));
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = "a=1; raqib_session=xyz; raqib_session_old=no";
        assert_eq!(cookie(h, "raqib_session"), Some("xyz"));
        assert_eq!(cookie(h, "raqib"), None);
    }
}
