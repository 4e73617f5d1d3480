//! Allowance periods. Usage is keyed by period, so a new period starts with a fresh allowance the
//! moment the clock crosses the boundary, whether or not the scheduler has run.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A half-open span of time `[start, end)` over which an allowance applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Period {
    /// The calendar month (UTC) containing `at`: the default period for everyone.
    pub fn calendar_month(at: DateTime<Utc>) -> Period {
        let start = month_start(at.year(), at.month());
        let (next_year, next_month) = if at.month() == 12 {
            (at.year() + 1, 1)
        } else {
            (at.year(), at.month() + 1)
        };
        Period {
            start,
            end: month_start(next_year, next_month),
        }
    }

    /// The period that applies at `at`: a billing period (from the payment provider) when one is
    /// known and covers `at`, otherwise the calendar month.
    pub fn current(at: DateTime<Utc>, billing: Option<Period>) -> Period {
        match billing {
            Some(p) if p.contains(at) => p,
            _ => Period::calendar_month(at),
        }
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }

    /// The key usage rows are stored under: the start of the period in Unix seconds.
    pub fn key(&self) -> i64 {
        self.start.timestamp()
    }

    /// `2026-03` style label for reports and pages.
    pub fn label(&self) -> String {
        self.start.format("%Y-%m").to_string()
    }
}

fn month_start(year: i32, month: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .expect("the first of a month at midnight UTC always exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_month_boundaries() {
        let last_second = Utc.with_ymd_and_hms(2026, 3, 31, 23, 59, 59).unwrap();
        let march = Period::calendar_month(last_second);
        assert_eq!(march.label(), "2026-03");
        let april = Period::calendar_month(march.end);
        assert_eq!(april.label(), "2026-04");
        assert_ne!(march.key(), april.key());
        let december = Period::calendar_month(Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap());
        assert_eq!(Period::calendar_month(december.end).label(), "2027-01");
    }

    #[test]
    fn billing_period_applies_only_while_current() {
        let at = Utc.with_ymd_and_hms(2026, 3, 20, 0, 0, 0).unwrap();
        let billing = Period {
            start: Utc.with_ymd_and_hms(2026, 3, 15, 0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 4, 15, 0, 0, 0).unwrap(),
        };
        assert_eq!(Period::current(at, Some(billing)), billing);
        let later = Utc.with_ymd_and_hms(2026, 4, 20, 0, 0, 0).unwrap();
        assert_eq!(Period::current(later, Some(billing)).label(), "2026-04");
    }
}
