//! The dialling guard: the only door to the phone network. A number is dialled only if it is
//! E.164, in the registry (or explicitly `--unlisted` on demand), matches an allowed prefix,
//! and still has calls left under its daily cap in the centre's time zone. The cap is taken
//! in the store in one statement, so concurrent sweeps and probes cannot exceed it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::config::GuardConfig;
use crate::registry::check_e164;
use crate::store::{Store, StoreError};

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
    ) -> Result<Result<(), String>, StoreError> {
        if let Err(e) = check_e164(number) {
            return Ok(Err(e));
        }
        if !listed && !unlisted_allowed {
            return Ok(Err(format!(
                "{number} is not in the registry (an auditor may add --unlisted)"
            )));
        }
        if !self
            .cfg
            .allow_prefixes
            .iter()
            .any(|p| number.starts_with(p.as_str()))
        {
            return Ok(Err(format!(
                "{number} matches no allowed prefix ([guard] allow_prefixes: {})",
                if self.cfg.allow_prefixes.is_empty() {
                    "none".to_string()
                } else {
                    self.cfg.allow_prefixes.join(", ")
                }
            )));
        }
        let day = now.with_timezone(&tz).format("%Y-%m-%d").to_string();
        let cap = self.cfg.max_calls_per_number_per_day;
        if !self.store.take_dial(number, &day, cap).await? {
            return Ok(Err(format!(
                "{number} already had its {cap} call(s) on {day} ({tz}): the daily cap"
            )));
        }
        Ok(Ok(()))
    }
}
