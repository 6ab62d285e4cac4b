//! Schedule expressions as crontab(5) means them: five fields (minute hour day-of-month month
//! day-of-week) or six with seconds first, names allowed, 0 and 7 both Sunday, day-of-month
//! and day-of-week ORed when both are restricted, `@daily` and friends — evaluated in a named
//! time zone with Vixie cron's DST rule (a fixed time skipped by spring-forward runs right
//! after the jump; one repeated by fall-back runs once). croner does the evaluation: its
//! numbering is crontab's, unlike the `cron` crate's (1 = Sunday, 0 rejected, seconds needed).
//! A leaf: the config checks its expressions with it, the scheduler and the alert digest run them.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

#[derive(Debug, thiserror::Error)]
#[error("schedule '{expr}': {message}")]
pub struct CronError {
    pub expr: String,
    pub message: String,
}

#[derive(Clone)]
pub struct CronSchedule {
    expr: String,
    cron: Cron,
    tz: Tz,
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSchedule({:?} in {})", self.expr, self.tz)
    }
}

/// crontab(5)'s nicknames; `@reboot` has no meaning for a service and is refused.
fn nickname(expr: &str) -> Option<&'static str> {
    Some(match expr {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => return None,
    })
}

impl CronSchedule {
    pub fn parse(expr: &str, tz: Tz) -> Result<CronSchedule, CronError> {
        let err = |message: String| CronError {
            expr: expr.to_string(),
            message,
        };
        let trimmed = expr.trim();
        let pattern = match nickname(trimmed) {
            Some(p) => p.to_string(),
            None if trimmed.starts_with('@') => {
                return Err(err(
                    "unknown nickname (use @yearly, @monthly, @weekly, @daily, @hourly)".into(),
                ))
            }
            None => trimmed.to_string(),
        };
        let fields = pattern.split_whitespace().count();
        if !(5..=6).contains(&fields) {
            return Err(err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with \
                 seconds first, got {fields}"
            )));
        }
        // croner's extensions (L, W, #, ?) are not crontab(5): a pasted line must mean what
        // crontab means, and a config that works here must work in crontab.
        if pattern.contains(['L', 'W', '#', '?']) {
            let upper = pattern.to_ascii_uppercase();
            let names_only = upper
                .split_whitespace()
                .all(|f| !f.contains('#') && !f.contains('?') && !has_extension_letter(f));
            if !names_only {
                return Err(err("L, W, # and ? are not crontab(5) syntax".into()));
            }
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build()
            .parse(&pattern)
            .map_err(|e| err(format!("not a crontab(5) expression: {e}")))?;
        Ok(CronSchedule {
            expr: expr.to_string(),
            cron,
            tz,
        })
    }

    pub fn expr(&self) -> &str {
        &self.expr
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The first fire time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&whole_second(t).with_timezone(&self.tz), false)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// The latest fire time in `(since, now]`, if one fell within `grace` of `now`: the run a
    /// service that was down should make once at start-up.
    pub fn missed(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        grace: Duration,
    ) -> Option<DateTime<Utc>> {
        let last = self
            .cron
            .find_previous_occurrence(&whole_second(now).with_timezone(&self.tz), true)
            .ok()?
            .with_timezone(&Utc);
        (last > since && now - last <= grace).then_some(last)
    }
}

/// `t` without its fraction of a second: croner keeps part of a fraction it is given in the
/// fire times it returns (a missed 05:00 came back as 05:00:00.001), and fire times are whole
/// seconds.
fn whole_second(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Whether a field uses croner's L or W (a day name like `WED` or `JUL` is fine).
fn has_extension_letter(field: &str) -> bool {
    const NAMES: [&str; 19] = [
        "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
        "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let mut rest = field.to_string();
    for n in NAMES {
        rest = rest.replace(n, "");
    }
    rest.contains(['L', 'W'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(tz: Tz, s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        tz.from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn local(tz: Tz, t: DateTime<Utc>) -> String {
        t.with_timezone(&tz)
            .format("%Y-%m-%d %a %H:%M:%S %Z")
            .to_string()
    }

    fn fires(expr: &str, tz: Tz, from: &str, n: usize) -> Vec<String> {
        let s = CronSchedule::parse(expr, tz).unwrap();
        let mut t = at(tz, from);
        (0..n)
            .map(|_| {
                t = s.next_after(t).unwrap();
                local(tz, t)
            })
            .collect()
    }

    #[test]
    fn sunday_is_0_and_7_and_names_work() {
        let amman = chrono_tz::Asia::Amman;
        // 2026-11-22 is a Sunday.
        for expr in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN", "0 9 * * sun"] {
            assert_eq!(
                fires(expr, amman, "2026-11-20 00:00", 1),
                ["2026-11-22 Sun 09:00:00 +03"],
                "{expr}"
            );
        }
        // The Gulf's Sunday–Thursday week by range and by names.
        let a = fires(
            "30 8 * * 0-4",
            chrono_tz::Asia::Riyadh,
            "2026-11-19 09:00",
            6,
        );
        let b = fires(
            "30 8 * * SUN-THU",
            chrono_tz::Asia::Riyadh,
            "2026-11-19 09:00",
            6,
        );
        assert_eq!(a, b);
        assert_eq!(a[0], "2026-11-22 Sun 08:30:00 +03");
        assert_eq!(a[4], "2026-11-26 Thu 08:30:00 +03");
        assert_eq!(a[5], "2026-11-29 Sun 08:30:00 +03");
        assert_eq!(
            fires("0 0 1 JAN *", chrono_tz::Asia::Dubai, "2026-11-01 00:00", 1),
            ["2027-01-01 Fri 00:00:00 +04"]
        );
    }

    #[test]
    fn day_of_month_and_day_of_week_are_ored_as_in_crontab() {
        // crontab(5): "30 4 1,15 * 5" runs on the 1st and 15th AND every Friday.
        let f = fires(
            "30 4 1,15 * 5",
            chrono_tz::Asia::Qatar,
            "2026-11-01 05:00",
            4,
        );
        assert_eq!(
            f,
            [
                "2026-11-06 Fri 04:30:00 +03",
                "2026-11-13 Fri 04:30:00 +03",
                "2026-11-15 Sun 04:30:00 +03",
                "2026-11-20 Fri 04:30:00 +03"
            ]
        );
    }

    #[test]
    fn steps_ranges_seconds_and_nicknames() {
        let bh = chrono_tz::Asia::Bahrain;
        assert_eq!(
            fires("*/20 9-10 * * *", bh, "2026-11-23 10:30", 3),
            [
                "2026-11-23 Mon 10:40:00 +03",
                "2026-11-24 Tue 09:00:00 +03",
                "2026-11-24 Tue 09:20:00 +03"
            ]
        );
        assert_eq!(
            fires("15 0 8 * * *", bh, "2026-11-23 07:00", 1),
            ["2026-11-23 Mon 08:00:15 +03"],
            "six fields: seconds first"
        );
        assert_eq!(
            fires("@daily", bh, "2026-11-23 07:00", 1),
            ["2026-11-24 Tue 00:00:00 +03"]
        );
        for bad in [
            "0 9 * *",
            "0 9 * * * * *",
            "61 * * * *",
            "0 9 L * *",
            "0 9 * * 5#2",
            "@reboot",
            "0 9 * * 8",
        ] {
            assert!(CronSchedule::parse(bad, bh).is_err(), "{bad}");
        }
    }

    #[test]
    fn dst_follows_vixie_cron_in_london() {
        let london = chrono_tz::Europe::London;
        // 2026-03-29: 01:00 GMT jumps to 02:00 BST; 01:30 does not exist that day.
        assert_eq!(
            fires("30 1 * * *", london, "2026-03-28 12:00", 2),
            ["2026-03-29 Sun 02:00:00 BST", "2026-03-30 Mon 01:30:00 BST"]
        );
        // 2026-10-25: 02:00 BST falls back to 01:00 GMT; 01:30 happens twice, runs once.
        let f = fires("30 1 * * *", london, "2026-10-24 12:00", 2);
        assert_eq!(
            f,
            ["2026-10-25 Sun 01:30:00 BST", "2026-10-26 Mon 01:30:00 GMT"]
        );
    }

    #[test]
    fn a_run_missed_while_down_is_made_once_within_the_grace_time() {
        let amman = chrono_tz::Asia::Amman;
        let s = CronSchedule::parse("0 2 * * *", amman).unwrap();
        let last_run = at(amman, "2026-11-21 02:00");
        let now = at(amman, "2026-11-22 02:40");
        assert_eq!(
            s.missed(last_run, now, Duration::hours(1)),
            Some(at(amman, "2026-11-22 02:00"))
        );
        assert_eq!(
            s.missed(last_run, now, Duration::minutes(30)),
            None,
            "too late"
        );
        let ran = at(amman, "2026-11-22 02:00");
        assert_eq!(s.missed(ran, now, Duration::hours(1)), None, "already ran");
        // A clock reading with a fraction of a second still gives whole-second fire times.
        for ms in [1, 123, 999] {
            let now = now + Duration::milliseconds(ms);
            assert_eq!(
                s.missed(last_run, now, Duration::hours(1)),
                Some(at(amman, "2026-11-22 02:00")),
                "{ms} ms"
            );
            assert_eq!(s.next_after(now), Some(at(amman, "2026-11-23 02:00")));
        }
    }
}
