//! The budget rows one ledger transaction works on, read together and written back.
//!
//! A reservation or a settlement reads every counter and top-up it touches, locked (`FOR
//! UPDATE` on MySQL; SQLite's write transaction holds the whole database), computes the new
//! amounts with the domain's rules ([`ReservedPart::hold`], [`ReservedPart::settle`]) and writes
//! them back. Rows are always locked in the same order (by subject key and period: a counter,
//! then its subject's top-up), so two turns never deadlock on them.

use crate::rows::{CounterRow, TopUpRow, to_i64};
use domain::budget::{Balance, ReservedPart, Subject};

/// One subject's counter of one period, and its top-up when `with_topup`.
#[derive(Debug)]
struct Entry {
    subject: Subject,
    key: String,
    period_key: i64,
    with_topup: bool,
    counter_found: bool,
    topup_found: bool,
    balance: Balance,
}

/// The balances of a transaction, by subject and period.
#[derive(Debug, Default)]
pub struct BalanceSheet(Vec<Entry>);

impl BalanceSheet {
    /// Asks for the counter of `subject` in `period_key`, and its top-up if `with_topup`.
    pub fn want(&mut self, subject: Subject, period_key: i64, with_topup: bool) {
        match self.entry_mut(subject, period_key) {
            Some(entry) => entry.with_topup |= with_topup,
            None => self.0.push(Entry {
                subject,
                key: subject.key(),
                period_key,
                with_topup,
                counter_found: false,
                topup_found: false,
                balance: Balance::default(),
            }),
        }
    }

    /// The rows to read, in lock order (by key, then period): each subject's counter of a
    /// period, and whether its top-up comes too.
    pub fn lines(&self) -> Vec<(String, i64, bool)> {
        let mut lines: Vec<(String, i64, bool)> = self
            .0
            .iter()
            .map(|e| (e.key.clone(), e.period_key, e.with_topup))
            .collect();
        lines.sort();
        lines
    }

    pub fn set_counter(&mut self, key: &str, period_key: i64, row: CounterRow) {
        for entry in self.0.iter_mut() {
            if entry.key == key && entry.period_key == period_key {
                entry.balance.counter = row.into();
                entry.counter_found = true;
            }
        }
    }

    pub fn set_topup(&mut self, key: &str, row: TopUpRow) {
        for entry in self.0.iter_mut().filter(|e| e.with_topup && e.key == key) {
            entry.balance.topup = row.into();
            entry.topup_found = true;
        }
    }

    /// Whether every wanted row exists (a reservation must not hold tokens on a missing row).
    pub fn all_found(&self) -> bool {
        self.0
            .iter()
            .all(|e| e.counter_found && (e.topup_found || !e.with_topup))
    }

    /// The balance of `subject` in `period_key` (zero if it was not wanted or has no row).
    pub fn get(&self, subject: Subject, period_key: i64) -> Balance {
        self.0
            .iter()
            .find(|e| e.subject == subject && e.period_key == period_key)
            .map(|e| e.balance)
            .unwrap_or_default()
    }

    /// The balance of `part`'s line, to change in place. Its line must have been asked for
    /// with [`BalanceSheet::want`] (the ledger asks for every part it changes).
    pub fn of_part(&mut self, part: &ReservedPart) -> &mut Balance {
        &mut self
            .entry_mut(part.subject, part.period_key)
            .expect("every part's line is on the sheet")
            .balance
    }

    fn entry_mut(&mut self, subject: Subject, period_key: i64) -> Option<&mut Entry> {
        self.0
            .iter_mut()
            .find(|e| e.subject == subject && e.period_key == period_key)
    }
}

/// New amounts of one row: `(used, reserved)` of a counter, `(balance, reserved)` of a top-up.
pub type RowAmounts = (i64, i64);

/// The new amounts of the rows `part` changed: the counter when the part holds allowance
/// tokens, the top-up when it holds top-up tokens.
pub fn changed_rows(
    part: &ReservedPart,
    balance: &Balance,
) -> (Option<RowAmounts>, Option<RowAmounts>) {
    let counter = (
        to_i64(balance.counter.used),
        to_i64(balance.counter.reserved),
    );
    let topup = (
        to_i64(balance.topup.balance),
        to_i64(balance.topup.reserved),
    );
    (
        (part.from_allowance > 0).then_some(counter),
        (part.from_topup > 0).then_some(topup),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{CompanyId, UserId};

    #[test]
    fn wanted_rows_are_merged_and_filled_by_key_and_period() {
        let person = Subject::User(UserId(1));
        let pool = Subject::Company(CompanyId(2));
        let mut sheet = BalanceSheet::default();
        sheet.want(person, 10, false);
        sheet.want(pool, 10, false);
        sheet.want(pool, 10, true);
        // Lock order: by key ("c:…" before "u:…"), whatever order they were asked in.
        assert_eq!(
            sheet.lines(),
            vec![(pool.key(), 10, true), (person.key(), 10, false)]
        );
        sheet.set_counter(
            &person.key(),
            10,
            CounterRow {
                used: 1,
                reserved: 2,
            },
        );
        sheet.set_counter(
            &person.key(),
            9,
            CounterRow {
                used: 7,
                reserved: 7,
            },
        );
        sheet.set_counter(
            &pool.key(),
            10,
            CounterRow {
                used: 3,
                reserved: 4,
            },
        );
        assert!(!sheet.all_found(), "the pool's top-up is still missing");
        sheet.set_topup(
            &pool.key(),
            TopUpRow {
                balance: 5,
                reserved: 6,
            },
        );
        assert!(sheet.all_found());
        assert_eq!(sheet.get(person, 10).counter.used, 1);
        assert_eq!(sheet.get(pool, 10).topup.balance, 5);
        assert_eq!(sheet.get(pool, 9), Balance::default());
    }
}
