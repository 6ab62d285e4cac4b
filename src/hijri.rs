//! The Hijri date of a Gregorian date, by the Umm al-Qura calendar (Saudi Arabia's official
//! calendar, as ICU4X's `icu_calendar` carries it from KACST's published tables), for the
//! two things the region's centres do by it: keep other hours in Ramadan
//! ([`crate::registry::Centre::hours_on`]) and close on Eid (`[holidays]` entries such as
//! `hijri:10-01..10-03`, read by [`HijriHoliday`]).
//!
//! Umm al-Qura is computed ahead of time; countries that start Ramadan and Eid by sighting the
//! crescent may be a day apart from it. raqib follows Umm al-Qura and says so (README).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDate};
use icu_calendar::cal::Hijri;
use icu_calendar::{Date, Iso};

/// The ninth month.
pub const RAMADAN: u8 = 9;

/// A day of the Hijri (Umm al-Qura) calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HijriDate {
    pub year: i32,
    /// 1 (Muharram) to 12 (Dhu al-Hijjah).
    pub month: u8,
    pub day: u8,
}

/// The Umm al-Qura date of `date`.
pub fn hijri(date: NaiveDate) -> HijriDate {
    // A chrono date is always a valid ISO date.
    let iso = Date::try_new_iso(date.year(), date.month() as u8, date.day() as u8)
        .expect("a chrono date is a valid ISO date");
    let h = iso.to_calendar(Hijri::new_umm_al_qura());
    HijriDate {
        year: h.year().extended_year(),
        month: h.month().ordinal,
        day: h.day_of_month().0,
    }
}

/// Whether `date` falls in Ramadan by Umm al-Qura.
pub fn ramadan(date: NaiveDate) -> bool {
    hijri(date).month == RAMADAN
}

/// The Gregorian date of a Hijri day, `None` when that month has no such day (a 30th in a
/// 29-day month).
pub fn gregorian(year: i32, month: u8, day: u8) -> Option<NaiveDate> {
    let h = Date::try_new_hijri_with_calendar(year, month, day, Hijri::new_umm_al_qura()).ok()?;
    let iso = h.to_calendar(Iso);
    let back = NaiveDate::from_ymd_opt(
        iso.year().extended_year(),
        iso.month().ordinal as u32,
        iso.day_of_month().0 as u32,
    )?;
    // ICU clamps an impossible day into the month; refuse it instead.
    (hijri(back) == HijriDate { year, month, day }).then_some(back)
}

/// A holiday that recurs every Hijri year: one day (`hijri:10-01`, 1 Shawwal, Eid al-Fitr)
/// or a run of days (`hijri:12-10..12-13`, Eid al-Adha), inclusive, possibly across a month
/// end (`hijri:09-29..10-03`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HijriHoliday {
    /// (month, day) of the first day.
    pub from: (u8, u8),
    /// (month, day) of the last day; the same as `from` for one day.
    pub to: (u8, u8),
}

/// A Hijri holiday that does not parse: the message names the text and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HijriError(pub String);

/// How long a holiday may run, in days: a typo such as `12-10..02-13` would otherwise close
/// centres for months.
const MAX_HOLIDAY_DAYS: i64 = 30;

fn month_day(s: &str, whole: &str) -> Result<(u8, u8), HijriError> {
    let bad = || {
        HijriError(format!(
            "'{whole}': a Hijri day is MM-DD (month 01-12, day 01-30), like hijri:10-01 or \
             hijri:12-10..12-13"
        ))
    };
    let (m, d) = s.split_once('-').ok_or_else(bad)?;
    if m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (m, d): (u8, u8) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    if !(1..=12).contains(&m) || !(1..=30).contains(&d) {
        return Err(bad());
    }
    Ok((m, d))
}

impl FromStr for HijriHoliday {
    type Err = HijriError;

    fn from_str(s: &str) -> Result<Self, HijriError> {
        let rest = s
            .strip_prefix("hijri:")
            .ok_or_else(|| HijriError(format!("'{s}': a Hijri holiday starts with hijri:")))?;
        let (from, to) = match rest.split_once("..") {
            Some((a, b)) => (month_day(a, s)?, month_day(b, s)?),
            None => {
                let d = month_day(rest, s)?;
                (d, d)
            }
        };
        let h = HijriHoliday { from, to };
        // Months have 29 or 30 days: count as if all had 30, which is at most a day long.
        let span = |(m, d): (u8, u8)| i64::from(m) * 30 + i64::from(d);
        let mut len = span(to) - span(from);
        if len < 0 {
            len += 360;
        }
        if len + 1 > MAX_HOLIDAY_DAYS {
            return Err(HijriError(format!(
                "'{s}': a Hijri holiday runs at most {MAX_HOLIDAY_DAYS} days"
            )));
        }
        Ok(h)
    }
}

impl fmt::Display for HijriHoliday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hijri:{:02}-{:02}", self.from.0, self.from.1)?;
        if self.to != self.from {
            write!(f, "..{:02}-{:02}", self.to.0, self.to.1)?;
        }
        Ok(())
    }
}

impl HijriHoliday {
    /// The Gregorian days of this holiday that fall in `from..=to`.
    pub fn days_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        // Each Hijri year that overlaps the range, and the one before (a run may cross into
        // the next year, `12-29..01-02`).
        let (first, last) = (hijri(from).year - 1, hijri(to).year);
        for year in first..=last {
            let Some(start) = self.first_day(year) else {
                continue;
            };
            let end_year = if self.to < self.from { year + 1 } else { year };
            // A 30th the month lacks: the run ends on the month's last day.
            let end = gregorian(end_year, self.to.0, self.to.1)
                .or_else(|| gregorian(end_year, self.to.0, self.to.1 - 1));
            let Some(end) = end else { continue };
            let mut d = start;
            while d <= end {
                if d >= from && d <= to {
                    out.push(d);
                }
                d += Duration::days(1);
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The first day in Hijri `year`; a 30th the month lacks moves to the next month's 1st.
    fn first_day(&self, year: i32) -> Option<NaiveDate> {
        let (m, d) = self.from;
        gregorian(year, m, d).or_else(|| gregorian(year, m, d - 1).map(|x| x + Duration::days(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    // Expected dates from the published Umm al-Qura comparative calendar, as tabulated day by
    // day in github.com/dralshehri/ummalqura-calendar, data/ummalqura-calendar.csv (taken from
    // ummulqura.org.sa and the 2003 printed "تقويم أم القرى المقارن"): 1448-09-01 =
    // 2027-02-08, 1448-10-01 = 2027-03-09, 1448-12-10 = 2027-05-16, 1449-09-01 = 2028-01-28,
    // 1449-10-01 = 2028-02-26, 1449-12-10 = 2028-05-05.
    #[test]
    fn ramadan_and_eid_in_2027_and_2028_match_the_published_calendar() {
        let h = |y, m, dd| HijriDate {
            year: y,
            month: m,
            day: dd,
        };
        assert_eq!(hijri(d("2027-02-07")), h(1448, 8, 30));
        assert_eq!(hijri(d("2027-02-08")), h(1448, 9, 1));
        assert_eq!(hijri(d("2027-03-08")), h(1448, 9, 29));
        assert_eq!(hijri(d("2027-03-09")), h(1448, 10, 1));
        assert_eq!(hijri(d("2027-05-16")), h(1448, 12, 10));
        assert_eq!(hijri(d("2028-01-28")), h(1449, 9, 1));
        assert_eq!(hijri(d("2028-02-26")), h(1449, 10, 1));
        assert_eq!(hijri(d("2028-05-05")), h(1449, 12, 10));
        assert!(!ramadan(d("2027-02-07")));
        assert!(ramadan(d("2027-02-08")));
        assert!(ramadan(d("2027-03-08")));
        assert!(!ramadan(d("2027-03-09")));
        assert!(!ramadan(d("2028-01-27")));
        assert!(ramadan(d("2028-01-28")));
        assert!(ramadan(d("2028-02-25")));
        assert!(!ramadan(d("2028-02-26")));
        let days_2027 = (0..365)
            .map(|i| d("2027-01-01") + Duration::days(i))
            .filter(|x| ramadan(*x))
            .count();
        assert_eq!(days_2027, 29, "Ramadan 1448 has 29 days");
        assert_eq!(gregorian(1448, 9, 1), Some(d("2027-02-08")));
        assert_eq!(gregorian(1449, 12, 10), Some(d("2028-05-05")));
        assert_eq!(gregorian(1448, 9, 30), None, "Ramadan 1448 has no 30th");
    }

    #[test]
    fn hijri_holidays_parse_print_and_fall_on_their_days() {
        let fitr: HijriHoliday = "hijri:10-01..10-03".parse().unwrap();
        assert_eq!(fitr.to_string(), "hijri:10-01..10-03");
        assert_eq!(
            fitr.days_between(d("2027-01-01"), d("2028-12-31")),
            [
                d("2027-03-09"),
                d("2027-03-10"),
                d("2027-03-11"),
                d("2028-02-26"),
                d("2028-02-27"),
                d("2028-02-28")
            ]
        );
        let adha: HijriHoliday = "hijri:12-10..12-13".parse().unwrap();
        assert_eq!(
            adha.days_between(d("2027-05-01"), d("2027-05-31")),
            [
                d("2027-05-16"),
                d("2027-05-17"),
                d("2027-05-18"),
                d("2027-05-19")
            ]
        );
        let one: HijriHoliday = "hijri:10-01".parse().unwrap();
        assert_eq!(one.to_string(), "hijri:10-01");
        assert_eq!(
            one.days_between(d("2028-01-01"), d("2028-12-31")),
            [d("2028-02-26")]
        );
        // Across the year's end: 29 Dhu al-Hijjah 1448 to 1 Muharram 1449.
        let new_year: HijriHoliday = "hijri:12-29..01-01".parse().unwrap();
        assert_eq!(
            new_year.days_between(d("2027-06-01"), d("2027-06-30")),
            [d("2027-06-04"), d("2027-06-05"), d("2027-06-06")]
        );
        for bad in [
            "10-01",
            "hijri:13-01",
            "hijri:10-31",
            "hijri:1-1",
            "hijri:10-01..",
            "hijri:12-10..02-13",
            "hijri:shawwal",
        ] {
            assert!(bad.parse::<HijriHoliday>().is_err(), "{bad}");
        }
    }
}
