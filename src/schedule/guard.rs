//! The dialling guard: the only door to the phone network. A number is dialled only if it is
//! E.164, in the registry (or explicitly `--unlisted` on demand), matches an allowed prefix,
//! and still has calls left under its daily cap in the centre's time zone. The cap is taken
//! in the store in one statement, so concurrent sweeps and probes cannot exceed it.
//!
//! A target may write a number in many forms (`+962…`, `00962…`, `962…`, `06…`, with
//! separators or percent-escapes in a `sip:` user part); [`dial_number`] brings every one of
//! them to the one E.164 form the prefixes and the cap are kept in, so no form slips past.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::config::GuardConfig;
use crate::registry::{check_e164, FieldError};
use crate::store::{Store, StoreError};

/// Why the guard will not dial a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    NotE164(#[from] FieldError),
    #[error("{number} is not in the registry (an auditor may add --unlisted)")]
    Unlisted { number: String },
    #[error("{number} matches no allowed prefix ([guard] allow_prefixes: {allowed})")]
    Prefix { number: String, allowed: String },
    #[error("{number} already had its {cap} call(s) on {day} ({tz}): the daily cap")]
    DailyCap {
        number: String,
        cap: i64,
        day: String,
        tz: Tz,
    },
}

pub struct DiallingGuard<'a> {
    cfg: &'a GuardConfig,
    store: &'a Store,
}

impl<'a> DiallingGuard<'a> {
    pub fn new(cfg: &'a GuardConfig, store: &'a Store) -> DiallingGuard<'a> {
        DiallingGuard { cfg, store }
    }

    /// `Ok(Ok(()))`: dial (one call has been taken from the cap); `Ok(Err(why))`: never dial.
    pub async fn admit(
        &self,
        number: &str,
        listed: bool,
        unlisted_allowed: bool,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        if let Err(e) = check_e164(number) {
            return Ok(Err(e.into()));
        }
        if !listed && !unlisted_allowed {
            return Ok(Err(Refusal::Unlisted {
                number: number.to_string(),
            }));
        }
        if !self
            .cfg
            .allow_prefixes
            .iter()
            .any(|p| number.starts_with(p.as_str()))
        {
            return Ok(Err(Refusal::Prefix {
                number: number.to_string(),
                allowed: if self.cfg.allow_prefixes.is_empty() {
                    "none".to_string()
                } else {
                    self.cfg.allow_prefixes.join(", ")
                },
            }));
        }
        let day = now.with_timezone(&tz).format("%Y-%m-%d").to_string();
        let cap = self.cfg.max_calls_per_number_per_day;
        if !self.store.take_dial(number, &day, cap).await? {
            return Ok(Err(Refusal::DailyCap {
                number: number.to_string(),
                cap,
                day,
                tz,
            }));
        }
        Ok(Ok(()))
    }
}

/// What the user part of a call target is, as far as the guard is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialNumber {
    /// A telephone number, in E.164 form: it passes the prefixes and the daily cap.
    E164(String),
    /// No telephone number (a lab or PBX extension by name): auditor-only (`--unlisted`).
    NotANumber,
    /// It reads as a telephone number raqib cannot put in E.164 form: never dialled.
    Unclear(String),
}

/// Digits at which a user part with other characters is taken for a number in disguise: an
/// extension name such as `answer-1500` has fewer, any national number has more.
const NUMBER_LIKE_DIGITS: usize = 7;

/// Reads `user` (a bare target or the user part of a `sip:` URI) as a telephone number.
///
/// Forms, after percent-decoding and dropping visual separators (RFC 3966: `-`, `.`, `(`,
/// `)`, spaces): `+CC…` and `00CC…` are international; `0…` is national, read in the
/// country of the one registry number it is (`registry`) or else in the trunk's
/// `country_code`; other digits are E.164 without its `+`, the form trunks commonly take.
pub fn dial_number(user: &str, registry: &[String], country_code: Option<&str>) -> DialNumber {
    let decoded = percent_decode(user);
    // A password (`user:pw@`) or URI parameters (`;phone-context=…`) are not the number.
    let decoded = decoded.split([';', ':']).next().unwrap_or("");
    let compact: String = decoded
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' ' | '\t'))
        .collect();
    let digits = compact.chars().filter(char::is_ascii_digit).count();
    let plus = compact.strip_prefix('+');
    let body = plus.unwrap_or(&compact);
    if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit()) {
        return if plus.is_some() || digits >= NUMBER_LIKE_DIGITS {
            DialNumber::Unclear(format!(
                "'{user}' reads as a telephone number in a form raqib cannot check (only digits, \
                 separators and a leading + or 00)"
            ))
        } else {
            DialNumber::NotANumber
        };
    }
    let e164 = if plus.is_some() {
        format!("+{body}")
    } else if let Some(international) = body.strip_prefix("00") {
        format!("+{international}")
    } else if let Some(national) = body.strip_prefix('0') {
        let national = national.trim_start_matches('0');
        let owners: Vec<&String> = registry
            .iter()
            .filter(|n| crate::probe::web::a11y::phone_matches(n, body))
            .collect();
        match (owners.as_slice(), country_code) {
            ([one], _) => (*one).clone(),
            ([], Some(cc)) => format!("+{cc}{national}"),
            ([], None) => {
                return DialNumber::Unclear(format!(
                    "'{user}' is a national number and [trunk] country_code is not set: write \
                     it as +CC…"
                ))
            }
            (_, _) => {
                return DialNumber::Unclear(format!(
                    "'{user}' is a national number of several registry countries: write it as \
                     +CC…"
                ))
            }
        }
    } else {
        format!("+{body}")
    };
    match check_e164(&e164) {
        Ok(()) => DialNumber::E164(e164),
        Err(e) => DialNumber::Unclear(format!("'{user}' read as {e164}: {e}")),
    }
}

/// `%XX` escapes decoded (RFC 3261 allows them in a user part); a bad escape stays as it is.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(s: &str) -> DialNumber {
        DialNumber::E164(s.into())
    }

    #[test]
    fn every_form_of_a_number_comes_to_one_e164() {
        let reg = vec!["+96265000131".to_string(), "+966112000431".to_string()];
        for form in [
            "+96265000131",
            "0096265000131",
            "96265000131",
            "065000131",
            "+962-6-500-0131",
            "+962 (6) 500.0131",
            "%2B96265000131",
            "%30%30962%36%35000131",
            "0096265000131;phone-context=+962",
            "0096265000131:secret",
        ] {
            assert_eq!(
                dial_number(form, &reg, None),
                e164("+96265000131"),
                "{form}"
            );
        }
        assert_eq!(
            dial_number("00966112000431", &reg, None),
            e164("+966112000431")
        );
        assert_eq!(
            dial_number("966112000431", &[], None),
            e164("+966112000431")
        );
    }

    #[test]
    fn a_national_number_takes_the_trunk_country_or_is_refused() {
        assert_eq!(
            dial_number("065000999", &[], Some("962")),
            e164("+96265000999")
        );
        assert!(matches!(
            dial_number("065000999", &[], None),
            DialNumber::Unclear(_)
        ));
        // The same national digits in two registry countries: ambiguous, never dialled.
        let reg = vec!["+96265000131".to_string(), "+97165000131".to_string()];
        assert!(matches!(
            dial_number("065000131", &reg, Some("962")),
            DialNumber::Unclear(_)
        ));
    }

    #[test]
    fn names_are_not_numbers_but_disguised_numbers_are_never_dialled() {
        for name in ["uas", "answer-1500", "lab", "x", ""] {
            assert_eq!(
                dial_number(name, &[], None),
                DialNumber::NotANumber,
                "{name}"
            );
        }
        for odd in [
            "tel0096265000131",
            "0096265000131x",
            "*310096265000131",
            "+962abc",
            "911",
            "+0123456789",
        ] {
            assert!(
                matches!(dial_number(odd, &[], Some("962")), DialNumber::Unclear(_)),
                "{odd}"
            );
        }
    }
}
