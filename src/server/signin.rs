//! The sign-in limit: failed passwords are counted per user name and per client address in
//! the store (`signin_attempts`), and once either reaches its allowance within the window,
//! sign-ins for that name or from that address are refused unchecked (429 with Retry-After)
//! until a delay after the last failure has passed: `signin_delay_secs`, doubling with each
//! further failure, at most `signin_max_delay_secs`. A right password while delayed is refused
//! too. The user name's delay holds from every address (rotating addresses does not help a
//! guesser), so a guesser can delay a real user — by at most the longest delay at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::OwnedMutexGuard;

use super::App;
use crate::config::ServerConfig;
use crate::store::signins::Failures;
use crate::store::StoreError;

/// Sign-ins being checked, by user name and by address: an attempt waits for the one before
/// it with the same name or address, so that guesses sent in parallel are counted like
/// guesses one after another (else all of them pass the gate before any failure is stored).
#[derive(Default)]
pub(super) struct InFlight(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

/// The turn of one key, released (and forgotten when no one waits) on drop.
pub(super) struct Turn<'a> {
    set: &'a InFlight,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl InFlight {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<()>>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for the turn of `key` (take a user name's before an address's: one order, no
    /// deadlock).
    pub(super) async fn turn(&self, key: String) -> Turn<'_> {
        let m = self.map().entry(key.clone()).or_default().clone();
        Turn {
            set: self,
            key,
            guard: Some(m.lock_owned().await),
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut map = self.set.map();
        if map
            .get(&self.key)
            .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            map.remove(&self.key);
        }
    }
}

/// Whether a sign-in may be checked now.
#[derive(Debug, PartialEq)]
pub(super) enum Gate {
    Open,
    /// Refused until `retry_after` has passed; `why` says which limit.
    Delayed {
        retry_after: Duration,
        why: String,
    },
}

/// The delay after `failures` failures with `allowed` allowed: none below the allowance, then
/// `base` doubling per further failure, at most `max`.
pub(super) fn delay(
    failures: i64,
    allowed: u32,
    base: Duration,
    max: Duration,
) -> Option<Duration> {
    let over = failures - i64::from(allowed);
    if over < 0 {
        return None;
    }
    let factor = 1u32.checked_shl(over.min(31) as u32).unwrap_or(u32::MAX);
    Some(base.saturating_mul(factor).min(max))
}

/// How long is left of the delay `failures` earn, at `now`.
fn left(f: &Failures, allowed: u32, s: &ServerConfig, now: DateTime<Utc>) -> Option<Duration> {
    let d = delay(
        f.count,
        allowed,
        Duration::from_secs(s.signin_delay_secs),
        Duration::from_secs(s.signin_max_delay_secs),
    )?;
    let last = DateTime::parse_from_rfc3339(f.last_at.as_deref()?).ok()?;
    let until = last.with_timezone(&Utc) + chrono::Duration::from_std(d).ok()?;
    (until - now).to_std().ok().filter(|l| !l.is_zero())
}

/// Whether user `name` may try a password from `address` now.
pub(super) async fn gate(app: &App, name: &str, address: &str) -> Result<Gate, StoreError> {
    let s = &app.config.server;
    let now = Utc::now();
    let since = crate::probe::utc_millis::format(
        &(now - chrono::Duration::seconds(s.signin_window_secs as i64)),
    );
    let by_name = app.store.failures_of_name(name, &since).await?;
    let by_address = app.store.failures_of_address(address, &since).await?;
    let mut worst: Option<(Duration, String)> = None;
    for (f, allowed, what) in [
        (&by_name, s.signin_user_failures, format!("user {name:?}")),
        (
            &by_address,
            s.signin_address_failures,
            format!("address {address}"),
        ),
    ] {
        if let Some(l) = left(f, allowed, s, now) {
            if worst.as_ref().is_none_or(|(w, _)| l > *w) {
                worst = Some((l, format!("{what}: {} failed sign-ins", f.count)));
            }
        }
    }
    Ok(match worst {
        None => Gate::Open,
        Some((retry_after, why)) => Gate::Delayed { retry_after, why },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_at_the_allowance_and_double_up_to_the_cap() {
        let (b, m) = (Duration::from_secs(2), Duration::from_secs(60));
        let d = |n| delay(n, 5, b, m).map(|d| d.as_secs());
        assert_eq!(
            (d(0), d(4), d(5), d(6), d(7), d(9), d(10), d(500)),
            (
                None,
                None,
                Some(2),
                Some(4),
                Some(8),
                Some(32),
                Some(60),
                Some(60)
            )
        );
    }

    #[tokio::test]
    async fn turns_wait_for_each_other_and_are_forgotten() {
        let set = InFlight::default();
        let first = set.turn("name:a".into()).await;
        let other = set.turn("name:b".into()).await;
        let waiting = tokio::time::timeout(Duration::from_millis(50), set.turn("name:a".into()));
        assert!(waiting.await.is_err(), "a second turn of one key waits");
        drop((first, other));
        drop(set.turn("name:a".into()).await);
        assert!(set.map().is_empty());
    }

    #[test]
    fn the_delay_runs_from_the_last_failure() {
        let s = ServerConfig {
            signin_delay_secs: 10,
            ..ServerConfig::default()
        };
        let f = Failures {
            count: 5,
            last_at: Some("2026-12-01T10:00:00.000Z".into()),
        };
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        assert_eq!(
            left(&f, 5, &s, at("2026-12-01T10:00:04Z")),
            Some(Duration::from_secs(6))
        );
        assert_eq!(left(&f, 5, &s, at("2026-12-01T10:00:10Z")), None);
        assert_eq!(left(&f, 6, &s, at("2026-12-01T10:00:04Z")), None);
    }
}
