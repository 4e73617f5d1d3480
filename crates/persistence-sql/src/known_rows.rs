//! The budget rows (usage counters and top-ups) this process knows to exist.
//!
//! A reservation needs its rows to exist before its transaction starts (see
//! `ensure_budget_rows`), which costs an `INSERT IGNORE` per row on every turn. Rows are never
//! deleted, so once one is known to exist the next turns of the period can skip its insert: two
//! statements fewer per turn of an individual, three of a company member.

use domain::budget::BudgetLine;
use std::collections::HashSet;
use std::sync::Mutex;

/// A row: a subject's counter of one period, or its top-up balance (`None`).
type RowKey = (String, Option<i64>);

#[derive(Debug, Default)]
pub struct KnownBudgetRows(Mutex<HashSet<RowKey>>);

impl KnownBudgetRows {
    /// Beyond this many rows the set starts again, so memory stays bounded (the cost is one
    /// `INSERT IGNORE` per row the next time it is used).
    const MAX_ROWS: usize = 200_000;

    fn rows(line: &BudgetLine) -> impl Iterator<Item = RowKey> {
        let subject = line.subject.key();
        let topup = line.may_use_topup.then(|| (subject.clone(), None));
        std::iter::once((subject, Some(line.period.key()))).chain(topup)
    }

    fn set(&self) -> std::sync::MutexGuard<'_, HashSet<RowKey>> {
        // The set is only a cache: after a panic elsewhere its content is still valid.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The lines whose rows are not all known to exist.
    pub fn unknown<'a>(&self, lines: &'a [BudgetLine]) -> Vec<&'a BudgetLine> {
        let set = self.set();
        lines
            .iter()
            .filter(|line| !Self::rows(line).all(|row| set.contains(&row)))
            .collect()
    }

    /// Records that the rows of `lines` exist now.
    pub fn remember(&self, lines: &[&BudgetLine]) {
        let mut set = self.set();
        if set.len() >= Self::MAX_ROWS {
            set.clear();
        }
        set.extend(lines.iter().flat_map(|line| Self::rows(line)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::budget::Subject;
    use domain::{CompanyId, Period, UserId};

    fn line(subject: Subject, may_use_topup: bool, month: u32) -> BudgetLine {
        use chrono::TimeZone;
        BudgetLine {
            subject,
            period: Period::calendar_month(
                chrono::Utc
                    .with_ymd_and_hms(2026, month, 5, 0, 0, 0)
                    .unwrap(),
            ),
            allowance: Some(1_000),
            may_use_topup,
        }
    }

    #[test]
    fn rows_are_known_per_subject_period_and_top_up() {
        let known = KnownBudgetRows::default();
        let person = line(Subject::User(UserId(1)), false, 3);
        let company = line(Subject::Company(CompanyId(2)), true, 3);
        let lines = [person.clone(), company.clone()];
        assert_eq!(known.unknown(&lines).len(), 2);
        known.remember(&known.unknown(&lines));
        assert!(known.unknown(&lines).is_empty());
        // A new month is a new counter row; a line that may now use top-ups needs that row too.
        let april = [line(Subject::User(UserId(1)), false, 4)];
        assert_eq!(known.unknown(&april).len(), 1);
        let with_topup = [line(Subject::User(UserId(1)), true, 3)];
        assert_eq!(known.unknown(&with_topup).len(), 1);
    }
}
