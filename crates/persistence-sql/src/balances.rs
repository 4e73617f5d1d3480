//! The budget rows one ledger transaction works on, read together and written back.
//!
//! A reservation or a settlement reads every counter and top-up it touches, locked (`FOR
//! UPDATE` on MySQL; SQLite's write transaction holds the whole database), computes the new
//! amounts with the domain's rules ([`ReservedPart::hold`], [`ReservedPart::settle`]) and writes
//! them back. Rows are always locked in the same order (by subject key and period: a counter,
//! then its subject's top-up), so two turns never deadlock on them.

use crate::rows::{CounterRow, TopUpRow, to_i64};
use domain::budget::{Balance, BudgetLine, ReservationRequest, ReservedPart, Subject, plan_parts};

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
    /// Whether a part held or settled here changed the counter, or the top-up.
    counter_changed: bool,
    topup_changed: bool,
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
                counter_changed: false,
                topup_changed: false,
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

    /// The balance of `part`'s line, to change in place; the rows the part changes (the counter
    /// when it holds allowance tokens, the top-up when it holds top-up tokens) are noted for
    /// [`BalanceSheet::changed`]. Its line must have been asked
    /// for with [`BalanceSheet::want`] (the ledger asks for every part it changes).
    pub fn of_part(&mut self, part: &ReservedPart) -> &mut Balance {
        let entry = self
            .entry_mut(part.subject, part.period_key)
            .expect("every part's line is on the sheet");
        entry.counter_changed |= part.from_allowance > 0;
        entry.topup_changed |= part.from_topup > 0;
        &mut entry.balance
    }

    /// Holds `request.amount` on every one of `lines` (rows read and locked): the parts held,
    /// or the first subject that cannot cover it, in which case nothing is held.
    pub fn hold(
        &mut self,
        request: &ReservationRequest,
        lines: &[BudgetLine],
    ) -> Result<Vec<ReservedPart>, Subject> {
        let parts = plan_parts(request.amount, lines, |line| {
            self.get(line.subject, line.period.key())
        })?;
        for part in &parts {
            part.hold(self.of_part(part));
        }
        Ok(parts)
    }

    /// Whether no subject is on the sheet for two periods. A top-up belongs to its subject, not
    /// to a period, so two lines of one subject would each hold a copy of it.
    pub fn one_period_per_subject(&self) -> bool {
        let mut keys: Vec<&str> = self.0.iter().map(|e| e.key.as_str()).collect();
        keys.sort_unstable();
        keys.windows(2).all(|pair| pair[0] != pair[1])
    }

    /// Each row changed since it was read, with its new amounts: `(subject key, period key,
    /// counter, top-up)`, `None` for a row left as it was.
    pub fn changed(
        &self,
    ) -> impl Iterator<Item = (&str, i64, Option<RowAmounts>, Option<RowAmounts>)> {
        self.0
            .iter()
            .filter(|e| e.counter_changed || e.topup_changed)
            .map(|e| {
                let (counter, topup) = amounts(&e.balance);
                (
                    e.key.as_str(),
                    e.period_key,
                    e.counter_changed.then_some(counter),
                    e.topup_changed.then_some(topup),
                )
            })
    }

    fn entry_mut(&mut self, subject: Subject, period_key: i64) -> Option<&mut Entry> {
        self.0
            .iter_mut()
            .find(|e| e.subject == subject && e.period_key == period_key)
    }
}

/// New amounts of one row: `(used, reserved)` of a counter, `(balance, reserved)` of a top-up.
pub type RowAmounts = (i64, i64);

/// The amounts of a balance's counter row and top-up row.
fn amounts(balance: &Balance) -> (RowAmounts, RowAmounts) {
    (
        (
            to_i64(balance.counter.used),
            to_i64(balance.counter.reserved),
        ),
        (
            to_i64(balance.topup.balance),
            to_i64(balance.topup.reserved),
        ),
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

    fn month_line(subject: Subject, allowance: u64, may_use_topup: bool) -> BudgetLine {
        use chrono::TimeZone;
        let start = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        BudgetLine {
            subject,
            period: domain::Period::calendar_month(start),
            allowance: Some(allowance),
            may_use_topup,
        }
    }

    fn ask(amount: u64, lines: &[BudgetLine]) -> ReservationRequest {
        ReservationRequest {
            id: domain::ReservationId(1),
            amount,
            lines: lines.to_vec(),
            expires_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn holds_change_only_the_rows_they_use_and_a_refusal_changes_nothing() {
        let person = Subject::User(UserId(1));
        let pool = Subject::Company(CompanyId(2));
        let lines = [month_line(pool, 50, true), month_line(person, 1_000, false)];
        let period = lines[0].period.key();
        let mut sheet = BalanceSheet::default();
        for line in &lines {
            sheet.want(line.subject, period, line.may_use_topup);
        }
        let counter = CounterRow {
            used: 0,
            reserved: 0,
        };
        sheet.set_counter(&pool.key(), period, counter);
        sheet.set_counter(&person.key(), period, counter);
        sheet.set_topup(
            &pool.key(),
            TopUpRow {
                balance: 100,
                reserved: 0,
            },
        );
        assert_eq!(sheet.changed().count(), 0, "nothing changed by reading");

        // 200 fits the person but not the pool (50 + 100): nothing is held anywhere.
        assert_eq!(sheet.hold(&ask(200, &lines), &lines), Err(pool));
        assert_eq!(sheet.changed().count(), 0);

        let parts = sheet.hold(&ask(120, &lines), &lines).unwrap();
        assert_eq!(
            (parts[0].from_allowance, parts[0].from_topup),
            (50, 70),
            "the pool's allowance first, then its top-ups"
        );
        let mut changed: Vec<_> = sheet.changed().collect();
        changed.sort();
        assert_eq!(
            changed,
            vec![
                (pool.key().as_str(), period, Some((0, 50)), Some((100, 70))),
                (person.key().as_str(), period, Some((0, 120)), None),
            ]
        );
    }

    #[test]
    fn a_subject_in_two_periods_is_noticed() {
        let person = Subject::User(UserId(1));
        let mut sheet = BalanceSheet::default();
        sheet.want(person, 10, false);
        sheet.want(Subject::Company(CompanyId(2)), 10, true);
        assert!(sheet.one_period_per_subject());
        sheet.want(person, 11, true);
        assert!(!sheet.one_period_per_subject());
    }
}
