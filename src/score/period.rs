//! Reporting periods: `2026-11`, `2026-W47` (ISO week), `2026-Q4`, `2026`, `FROM..TO` (dates,
//! inclusive). Periods are UTC days: a result belongs to the period its start falls in.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Week,
    Month,
    Quarter,
    Year,
    Range,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub kind: Kind,
    /// The label as the user wrote it (normalised).
    pub label: String,
    /// First day, inclusive.
    pub from: NaiveDate,
    /// Day after the last, exclusive.
    pub until: NaiveDate,
}

#[derive(Debug, thiserror::Error)]
#[error("period '{0}': expected YYYY-MM, YYYY-Www, YYYY-Qn, YYYY or YYYY-MM-DD..YYYY-MM-DD")]
pub struct PeriodError(pub String);

fn month_start(y: i32, m: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, 1)
}

fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    let m0 = d.month0() + months;
    month_start(d.year() + (m0 / 12) as i32, m0 % 12 + 1).expect("valid month")
}

impl Period {
    pub fn parse(s: &str) -> Result<Period, PeriodError> {
        let err = || PeriodError(s.to_string());
        let s = s.trim();
        if let Some((a, b)) = s.split_once("..") {
            let from = NaiveDate::parse_from_str(a.trim(), "%Y-%m-%d").map_err(|_| err())?;
            let to = NaiveDate::parse_from_str(b.trim(), "%Y-%m-%d").map_err(|_| err())?;
            if to < from {
                return Err(err());
            }
            return Ok(Period {
                kind: Kind::Range,
                label: format!("{from}..{to}"),
                from,
                until: to + Duration::days(1),
            });
        }
        let (year, rest) = match s.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (s, None),
        };
        if year.len() != 4 {
            return Err(err());
        }
        let y: i32 = year.parse().map_err(|_| err())?;
        let num = |r: &str| r.parse::<u32>().map_err(|_| err());
        let (kind, from, until) = match rest {
            None => {
                let from = month_start(y, 1).ok_or_else(err)?;
                (Kind::Year, from, add_months(from, 12))
            }
            Some(r) if r.starts_with(['W', 'w']) => {
                let w = num(&r[1..])?;
                let from = NaiveDate::from_isoywd_opt(y, w, Weekday::Mon).ok_or_else(err)?;
                (Kind::Week, from, from + Duration::days(7))
            }
            Some(r) if r.starts_with(['Q', 'q']) => {
                let q = num(&r[1..])?;
                if !(1..=4).contains(&q) {
                    return Err(err());
                }
                let from = month_start(y, 3 * q - 2).ok_or_else(err)?;
                (Kind::Quarter, from, add_months(from, 3))
            }
            Some(r) if r.len() == 2 => {
                let from = month_start(y, num(r)?).ok_or_else(err)?;
                (Kind::Month, from, add_months(from, 1))
            }
            _ => return Err(err()),
        };
        let label = match kind {
            Kind::Year => format!("{y}"),
            Kind::Week => format!("{y}-W{:02}", from.iso_week().week()),
            Kind::Quarter => format!("{y}-Q{}", from.month0() / 3 + 1),
            _ => format!("{y}-{:02}", from.month()),
        };
        Ok(Period {
            kind,
            label,
            from,
            until,
        })
    }

    /// The month that contains `t`.
    pub fn month_of(t: DateTime<Utc>) -> Period {
        Period::parse(&t.format("%Y-%m").to_string()).expect("a month label")
    }

    /// The quarter that contains `t`.
    pub fn quarter_of(t: DateTime<Utc>) -> Period {
        Period::parse(&format!("{}-Q{}", t.year(), t.month0() / 3 + 1)).expect("a quarter label")
    }

    /// The period of the same kind just before this one (same length for a range).
    pub fn previous(&self) -> Period {
        let (from, until) = match self.kind {
            Kind::Week => (self.from - Duration::days(7), self.from),
            Kind::Month | Kind::Quarter | Kind::Year => {
                let months = match self.kind {
                    Kind::Month => 1,
                    Kind::Quarter => 3,
                    _ => 12,
                };
                let total = self.from.year() * 12 + self.from.month0() as i32 - months;
                let from = month_start(total.div_euclid(12), total.rem_euclid(12) as u32 + 1)
                    .expect("valid month");
                (from, self.from)
            }
            Kind::Range => (self.from - (self.until - self.from), self.from),
        };
        let label = match self.kind {
            Kind::Range => format!("{}..{}", from, until - Duration::days(1)),
            Kind::Week => format!("{}-W{:02}", from.iso_week().year(), from.iso_week().week()),
            Kind::Month => format!("{}-{:02}", from.year(), from.month()),
            Kind::Quarter => format!("{}-Q{}", from.year(), from.month0() / 3 + 1),
            Kind::Year => format!("{}", from.year()),
        };
        Period {
            kind: self.kind,
            label,
            from,
            until,
        }
    }

    pub fn days(&self) -> i64 {
        (self.until - self.from).num_days()
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.from.and_hms_opt(0, 0, 0).unwrap().and_utc()
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.until.and_hms_opt(0, 0, 0).unwrap().and_utc()
    }

    /// Valid calls needed to flag or clear a centre: the month's minimum up to 31 days, the
    /// quarter's up to 92, and the quarter's per started quarter beyond.
    pub fn min_calls(&self, month: u64, quarter: u64) -> u64 {
        match self.days() {
            d if d <= 31 => month,
            d if d <= 92 => quarter,
            d => quarter * (d as u64).div_ceil(92),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn every_form_parses_to_its_days() {
        let p = Period::parse("2026-11").unwrap();
        assert_eq!(
            (p.from, p.until, p.kind),
            (d("2026-11-01"), d("2026-12-01"), Kind::Month)
        );
        let p = Period::parse("2026-W47").unwrap();
        assert_eq!((p.from, p.until), (d("2026-11-16"), d("2026-11-23")));
        let p = Period::parse("2026-Q4").unwrap();
        assert_eq!((p.from, p.until), (d("2026-10-01"), d("2027-01-01")));
        let p = Period::parse("2026-11-01..2026-11-22").unwrap();
        assert_eq!(
            (p.from, p.until, p.days()),
            (d("2026-11-01"), d("2026-11-23"), 22)
        );
        assert_eq!(Period::parse("2026").unwrap().days(), 365);
        for bad in [
            "2026-13",
            "2026-Q5",
            "2026-W54",
            "26-11",
            "2026-11-22..2026-11-01",
            "x",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn previous_periods() {
        assert_eq!(
            Period::parse("2026-01").unwrap().previous().label,
            "2025-12"
        );
        assert_eq!(
            Period::parse("2026-Q1").unwrap().previous().label,
            "2025-Q4"
        );
        assert_eq!(
            Period::parse("2026-W01").unwrap().previous().label,
            "2025-W52"
        );
        let r = Period::parse("2026-11-11..2026-11-20").unwrap().previous();
        assert_eq!(r.label, "2026-11-01..2026-11-10");
    }

    #[test]
    fn minimum_calls_follow_the_length() {
        let m = |s: &str| Period::parse(s).unwrap().min_calls(5, 20);
        assert_eq!(
            (m("2026-11"), m("2026-W47"), m("2026-Q4"), m("2026")),
            (5, 5, 20, 80)
        );
    }
}
