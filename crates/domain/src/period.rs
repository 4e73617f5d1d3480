//! Allowance periods. Usage is keyed by period, so a new period starts with a fresh allowance the
//! moment the clock crosses the boundary, whether or not the scheduler has run.

use chrono::{DateTime, Datelike, Duration, Months, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// The longest monthly billing period: a month anchored on the 31st runs from Feb 28 to Mar 31.
const MAX_MONTH_DAYS: i64 = 31;

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

    /// The allowance period that applies at `at` for a payer whose latest billing period (from
    /// the payment provider) is `billing`:
    /// - inside a billing period of up to a month, that period: the allowance renews on the
    ///   invoice date, not on the 1st;
    /// - inside a longer one (a yearly subscription), the month of it that contains `at`,
    ///   counted from its start: the allowance still renews monthly;
    /// - after it ended while the subscription is still on (the next invoice is late), whole
    ///   months carried on from its end, so the next `invoice.paid`, whose period starts exactly
    ///   there, keeps the same key instead of granting a second fresh allowance;
    /// - without one (free or hand-assigned plans, a subscription that ended), or before it
    ///   starts, the calendar month.
    pub fn current(at: DateTime<Utc>, billing: Option<Period>) -> Period {
        match billing {
            Some(b) if b.contains(at) && b.end <= b.start + Duration::days(MAX_MONTH_DAYS) => b,
            Some(b) if b.contains(at) => Period::month_from(b.start, at).clamped_to(b.end),
            Some(b) if at >= b.end => Period::month_from(b.end, at),
            _ => Period::calendar_month(at),
        }
    }

    /// The month, counted in whole months from `anchor` (`anchor <= at`), that contains `at`.
    /// Months are added to the anchor itself (a 31st anchor gives Feb 28, then Mar 31), as
    /// payment providers count billing months.
    fn month_from(anchor: DateTime<Utc>, at: DateTime<Utc>) -> Period {
        let after = |n: u32| {
            anchor
                .checked_add_months(Months::new(n))
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        // Whole months between the two, possibly one too many when `at`'s day is earlier.
        let months = (at.year() - anchor.year()) * 12 + at.month() as i32 - anchor.month() as i32;
        let mut n = u32::try_from(months.max(0)).unwrap_or(0);
        while n > 0 && after(n) > at {
            n -= 1;
        }
        Period {
            start: after(n),
            end: after(n + 1),
        }
    }

    fn clamped_to(self, end: DateTime<Utc>) -> Period {
        Period {
            start: self.start,
            end: self.end.min(end),
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

    fn at(month: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, month, day, 12, 0, 0).unwrap()
    }

    fn span(start: DateTime<Utc>, end: DateTime<Utc>) -> Period {
        Period { start, end }
    }

    #[test]
    fn a_monthly_invoice_period_replaces_the_calendar_month() {
        let billing = span(at(3, 15), at(4, 15));
        assert_eq!(Period::current(at(3, 20), Some(billing)), billing);
        // The 1st of the next month is still inside the invoice period: same key, no reset.
        let first = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
        assert_eq!(Period::current(first, Some(billing)).key(), billing.key());
        // Before the subscription started, the calendar month.
        assert_eq!(Period::current(at(3, 10), Some(billing)).label(), "2026-03");
        assert_eq!(Period::current(at(3, 10), None).label(), "2026-03");
    }

    #[test]
    fn a_late_invoice_keeps_the_key_the_next_period_will_have() {
        let billing = span(at(3, 15), at(4, 15));
        let carried = Period::current(at(4, 20), Some(billing));
        assert_eq!(carried, span(at(4, 15), at(5, 15)));
        // The invoice that finally arrives starts where the last one ended: the same key.
        let next = span(at(4, 15), at(5, 15));
        assert_eq!(Period::current(at(4, 20), Some(next)).key(), carried.key());
        assert_eq!(
            Period::current(at(6, 1), Some(billing)),
            span(at(5, 15), at(6, 15))
        );
    }

    #[test]
    fn a_yearly_period_renews_monthly_from_its_start() {
        let start = Utc.with_ymd_and_hms(2026, 1, 31, 9, 0, 0).unwrap();
        let year = span(start, start.with_year(2027).unwrap());
        let feb = Period::current(at(2, 10), Some(year));
        assert_eq!(
            feb,
            span(start, Utc.with_ymd_and_hms(2026, 2, 28, 9, 0, 0).unwrap())
        );
        // Counted from the anchor, not from the short month: back to the 31st.
        let march = Period::current(at(3, 30), Some(year));
        assert_eq!(march.start, feb.end);
        assert_eq!(
            march.end,
            Utc.with_ymd_and_hms(2026, 3, 31, 9, 0, 0).unwrap()
        );
        // The last month ends with the year.
        let last = Period::current(
            Utc.with_ymd_and_hms(2027, 1, 30, 0, 0, 0).unwrap(),
            Some(year),
        );
        assert_eq!(
            last.start,
            Utc.with_ymd_and_hms(2026, 12, 31, 9, 0, 0).unwrap()
        );
        assert_eq!(last.end, year.end);
    }

    #[test]
    fn a_month_of_31_days_is_still_one_billing_month() {
        let billing = span(at(2, 28), at(3, 31));
        assert_eq!(Period::current(at(3, 29), Some(billing)), billing);
    }
}
