//! When a centre may be called: its opening hours in its own time zone as UTC spans, minus
//! holidays, and call instants spread over a span with random jitter so that a centre cannot
//! learn when the robot calls. Pure functions of the clock they are given, so the scheduler's
//! tests control time.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::registry::Centre;
use crate::rng::SplitMix64;

/// A span in which a centre is open, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What a phone schedule does when it fires while a centre is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenClosed {
    /// No call to that centre this run.
    Skip,
    /// Call in the centre's next opening window.
    Defer,
}

/// A local time as UTC: the earlier of a repeated (fall-back) time, and for a time skipped by
/// spring-forward the first instant after the jump, as clocks on the wall show it.
fn to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    let mut probe = local;
    for _ in 0..(4 * 60) {
        probe += Duration::minutes(1);
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    // No zone skips four hours; keep a defined answer anyway.
    Utc.from_utc_datetime(&local)
}

/// The spans in which `centre` is open that start on its local date `day`, by the hours in
/// force that day (Ramadan's, when it has them); none on a holiday. A window past midnight
/// belongs to the day it opened (`Sun 22:00-02:00` ends Monday 02:00).
pub fn open_spans(centre: &Centre, day: NaiveDate, holidays: &[NaiveDate]) -> Vec<Span> {
    if holidays.contains(&day) {
        return Vec::new();
    }
    let tz = centre.tz();
    let mut spans: Vec<Span> = centre
        .hours_on(day)
        .0
        .iter()
        .filter(|r| r.opens_on(day.weekday()))
        .map(|r| {
            let close_day = if r.close > r.open {
                day
            } else {
                day + Duration::days(1)
            };
            Span {
                start: to_utc(tz, day.and_time(r.open)),
                end: to_utc(tz, close_day.and_time(r.close)),
            }
        })
        .filter(|s| s.end > s.start)
        .collect();
    spans.sort_by_key(|s| s.start);
    spans
}

/// The first open span that has not ended at `after` (its start clipped to `after`), looking
/// `horizon_days` ahead.
pub fn next_open(
    centre: &Centre,
    after: DateTime<Utc>,
    holidays: &[NaiveDate],
    horizon_days: i64,
) -> Option<Span> {
    let local_day = after.with_timezone(&centre.tz()).date_naive();
    // From the day before: a window opened yesterday may run past midnight into today.
    (-1..=horizon_days)
        .flat_map(|d| open_spans(centre, local_day + Duration::days(d), holidays))
        .filter(|s| s.end > after)
        .map(|s| Span {
            start: s.start.max(after),
            end: s.end,
        })
        .min_by_key(|s| s.start)
}

/// When to place `n` calls to a centre for a schedule run at `now`: instants drawn uniformly
/// from the first `spread` of the open span (leaving `margin` before closing so a call can
/// ring out inside hours). `None` when the centre is closed and `Skip` applies, or no window
/// is found.
#[allow(clippy::too_many_arguments)] // each is one of the schedule's independent knobs
pub fn call_instants(
    centre: &Centre,
    now: DateTime<Utc>,
    n: usize,
    margin: Duration,
    spread: Duration,
    when_closed: WhenClosed,
    holidays: &[NaiveDate],
    rng: &mut SplitMix64,
) -> Option<Vec<DateTime<Utc>>> {
    let span = next_open(centre, now, holidays, 14)?;
    if span.start > now && when_closed == WhenClosed::Skip {
        return None;
    }
    let start = span.start.max(now);
    let usable = (span.end - margin).min(start + spread) - start;
    if usable <= Duration::zero() {
        return None;
    }
    let ms = usable.num_milliseconds() as u64;
    let mut out: Vec<DateTime<Utc>> = (0..n)
        .map(|_| start + Duration::milliseconds((rng.next_u64() % ms) as i64))
        .collect();
    out.sort();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::days(1);

    fn centre(tz: &str, hours: &str) -> Centre {
        crate::registry::parse_csv(
            format!(
                "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
                 c,م,C,A,R,{tz},{hours},+96265000101,\n"
            )
            .as_bytes(),
            "t",
        )
        .unwrap()
        .remove(0)
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn span(a: &str, b: &str) -> Span {
        Span {
            start: utc(a),
            end: utc(b),
        }
    }

    #[test]
    fn gulf_weekend_friday_saturday_and_a_holiday() {
        let c = centre("Asia/Riyadh", "Sun-Thu 08:00-14:30");
        // 2026-11-26 is a Thursday, 27 Friday, 28 Saturday.
        assert_eq!(
            open_spans(&c, d("2026-11-26"), &[]),
            [span("2026-11-26T05:00:00Z", "2026-11-26T11:30:00Z")]
        );
        assert!(open_spans(&c, d("2026-11-27"), &[]).is_empty());
        assert!(open_spans(&c, d("2026-11-28"), &[]).is_empty());
        // Thursday evening: the next window is Sunday morning (a holiday Sunday: Monday).
        let after = utc("2026-11-26T15:00:00Z");
        assert_eq!(
            next_open(&c, after, &[], 14).unwrap().start,
            utc("2026-11-29T05:00:00Z")
        );
        assert_eq!(
            next_open(&c, after, &[d("2026-11-29")], 14).unwrap().start,
            utc("2026-11-30T05:00:00Z")
        );
    }

    #[test]
    fn saturday_sunday_weekend_and_other_gulf_zones() {
        let c = centre("Asia/Dubai", "Mon-Fri 07:30-15:30");
        assert!(open_spans(&c, d("2026-11-28"), &[]).is_empty());
        assert!(open_spans(&c, d("2026-11-29"), &[]).is_empty());
        assert_eq!(
            open_spans(&c, d("2026-11-27"), &[]),
            [span("2026-11-27T03:30:00Z", "2026-11-27T11:30:00Z")]
        );
        for (tz, start) in [
            ("Asia/Qatar", "2026-11-23T04:00:00Z"),
            ("Asia/Bahrain", "2026-11-23T04:00:00Z"),
            ("Asia/Amman", "2026-11-23T04:00:00Z"),
        ] {
            let c = centre(tz, "Sun-Thu 07:00-13:00");
            assert_eq!(
                open_spans(&c, d("2026-11-23"), &[])[0].start,
                utc(start),
                "{tz}"
            );
        }
    }

    #[test]
    fn hours_across_midnight_belong_to_the_day_they_open() {
        let c = centre("Asia/Amman", "Sun-Thu 22:00-02:00");
        assert_eq!(
            open_spans(&c, d("2026-11-26"), &[]),
            [span("2026-11-26T19:00:00Z", "2026-11-26T23:00:00Z")]
        );
        // Friday 01:00 local is still Thursday's window.
        let s = next_open(&c, utc("2026-11-26T22:00:00Z"), &[], 14).unwrap();
        assert_eq!(s, span("2026-11-26T22:00:00Z", "2026-11-26T23:00:00Z"));
    }

    #[test]
    fn dst_days_in_london_shorten_and_lengthen_windows() {
        let c = centre("Europe/London", "Sun 00:30-03:00");
        // 2026-03-29: clocks jump 01:00 → 02:00, so the window is 1.5 h long.
        let s = open_spans(&c, d("2026-03-29"), &[])[0];
        assert_eq!(s, span("2026-03-29T00:30:00Z", "2026-03-29T02:00:00Z"));
        // 2026-10-25: 01:00–02:00 happens twice: 3.5 h.
        let s = open_spans(&c, d("2026-10-25"), &[])[0];
        assert_eq!(s.end - s.start, Duration::minutes(210));
        // A window opening inside the skipped hour opens when the clocks show 02:00.
        let c = centre("Europe/London", "Sun 01:30-04:00");
        assert_eq!(
            open_spans(&c, d("2026-03-29"), &[])[0].start,
            utc("2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn calls_are_spread_inside_hours_skip_or_defer_when_closed() {
        let c = centre("Asia/Riyadh", "Sun-Thu 08:00-14:30");
        let margin = Duration::minutes(2);
        let open_now = utc("2026-11-23T06:00:00Z"); // Monday 09:00 in Riyadh
        let mut rng = SplitMix64::new(1);
        let calls = call_instants(
            &c,
            open_now,
            200,
            margin,
            DAY,
            WhenClosed::Skip,
            &[],
            &mut rng,
        )
        .unwrap();
        let end = utc("2026-11-23T11:30:00Z") - margin;
        assert!(calls.iter().all(|t| *t >= open_now && *t < end));
        // Jitter: spread over the window, not bunched at its start.
        let first_hour = calls
            .iter()
            .filter(|t| **t < open_now + Duration::hours(1))
            .count();
        assert!(
            (20..=60).contains(&first_hour),
            "{first_hour} of 200 in the first of 5.5 h"
        );
        // Friday: skipped, or deferred to Sunday's window.
        let friday = utc("2026-11-27T06:00:00Z");
        let mut rng = SplitMix64::new(1);
        assert_eq!(
            call_instants(&c, friday, 3, margin, DAY, WhenClosed::Skip, &[], &mut rng),
            None
        );
        let deferred =
            call_instants(&c, friday, 3, margin, DAY, WhenClosed::Defer, &[], &mut rng).unwrap();
        assert!(deferred
            .iter()
            .all(|t| *t >= utc("2026-11-29T05:00:00Z") && *t < utc("2026-11-29T11:28:00Z")));
        // The same seed gives the same plan.
        let again = |seed| {
            call_instants(
                &c,
                open_now,
                5,
                margin,
                DAY,
                WhenClosed::Skip,
                &[],
                &mut SplitMix64::new(seed),
            )
        };
        assert_eq!(again(9), again(9));
        assert_ne!(again(9), again(10));
    }

    #[test]
    fn calls_stay_within_the_spread_and_the_margin_before_closing() {
        // Asia/Qatar, Sun-Thu 07:00-13:00 (UTC+3): a run at 12:00 local has 58 usable minutes
        // with a 2-minute margin, whatever the spread; a run at 08:00 with a 30-minute spread
        // keeps every call inside 08:00-08:30.
        let c = centre("Asia/Qatar", "Sun-Thu 07:00-13:00");
        let margin = Duration::minutes(2);
        let mut rng = SplitMix64::new(7);
        let late = utc("2026-11-23T09:00:00Z");
        let calls =
            call_instants(&c, late, 100, margin, DAY, WhenClosed::Skip, &[], &mut rng).unwrap();
        assert!(calls
            .iter()
            .all(|t| *t >= late && *t < utc("2026-11-23T09:58:00Z")));
        let early = utc("2026-11-23T05:00:00Z");
        let spread = Duration::minutes(30);
        let calls = call_instants(
            &c,
            early,
            100,
            margin,
            spread,
            WhenClosed::Skip,
            &[],
            &mut rng,
        )
        .unwrap();
        assert!(calls.iter().all(|t| *t >= early && *t < early + spread));
        assert!(calls.iter().any(|t| *t >= early + Duration::minutes(20)));
        // One minute before closing: no room for a call.
        let closing = utc("2026-11-23T09:59:00Z");
        assert_eq!(
            call_instants(&c, closing, 1, margin, DAY, WhenClosed::Skip, &[], &mut rng),
            None
        );
    }
}
