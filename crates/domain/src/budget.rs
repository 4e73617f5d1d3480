//! Token budgets and the usage ledger: real tokens, no overspend, monthly periods.
//!
//! A *wallet* (an individual, or a company's pool) has an allowance per [`Period`] and a balance of
//! purchased top-up tokens that survives period boundaries. An employee's turn also has to fit
//! their personal cap. Before a model call the turn reserves its worst case against every
//! [`BudgetLine`] in one atomic step
//! ([`UsageLedger::reserve`](crate::ports::UsageLedger::reserve)); afterwards it settles to the
//! real usage and the rest is released. Invariant for every counter: `used + reserved <= allowance`.

use crate::{CompanyId, Period, ReservationId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Whose tokens these are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Subject {
    User(UserId),
    Company(CompanyId),
}

impl Subject {
    /// Stable storage key, e.g. `u:42` or `c:7`.
    pub fn key(&self) -> String {
        match self {
            Subject::User(id) => format!("u:{id}"),
            Subject::Company(id) => format!("c:{id}"),
        }
    }

    pub fn parse_key(key: &str) -> Option<Subject> {
        let (kind, id) = key.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        match kind {
            "u" => Some(Subject::User(UserId(id))),
            "c" => Some(Subject::Company(CompanyId(id))),
            _ => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// One budget a turn has to fit in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLine {
    pub subject: Subject,
    pub period: Period,
    /// Tokens allowed in the period; `None` means uncapped (usage is still counted, for reports).
    pub allowance: Option<u64>,
    /// Whether tokens beyond the allowance may come from the subject's purchased top-ups.
    pub may_use_topup: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationRequest {
    pub id: ReservationId,
    /// Worst case of the turn: prompt tokens plus the maximum output.
    pub amount: u64,
    pub lines: Vec<BudgetLine>,
    /// After this instant the lease is considered abandoned and may be reclaimed.
    pub expires_at: DateTime<Utc>,
}

/// How one line of a reservation was covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedPart {
    pub subject: Subject,
    pub period_key: i64,
    pub from_allowance: u64,
    pub from_topup: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub id: ReservationId,
    pub amount: u64,
    pub parts: Vec<ReservedPart>,
    pub expires_at: DateTime<Utc>,
}

/// Usage of one subject in one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    pub used: u64,
    pub reserved: u64,
}

/// Purchased tokens of one subject: `balance` left, of which `reserved` are held by open turns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopUp {
    pub balance: u64,
    pub reserved: u64,
}

/// A line's counter and its subject's top-up (zero when the line may not use top-ups).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub counter: Counter,
    pub topup: TopUp,
}

impl ReservedPart {
    /// Holds the part: what [`UsageLedger::reserve`](crate::ports::UsageLedger::reserve) does to
    /// its line's balance.
    pub fn hold(&self, balance: &mut Balance) {
        balance.counter.reserved += self.from_allowance;
        balance.topup.reserved += self.from_topup;
    }

    /// Lets the part go, charging `actual` tokens of it (see [`charge_part`]): what
    /// [`UsageLedger::settle`](crate::ports::UsageLedger::settle) does to its line's balance.
    pub fn settle(&self, actual: u64, balance: &mut Balance) {
        let (charge_allowance, charge_topup) = charge_part(self, actual);
        balance.counter.reserved = balance.counter.reserved.saturating_sub(self.from_allowance);
        balance.counter.used += charge_allowance;
        balance.topup.reserved = balance.topup.reserved.saturating_sub(self.from_topup);
        balance.topup.balance = balance.topup.balance.saturating_sub(charge_topup);
    }
}

/// What [`UsageLedger::settle_turn`](crate::ports::UsageLedger::settle_turn) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledTurn {
    /// `false` when the reservation no longer existed (nothing was charged).
    pub settled: bool,
    /// The balance of each line asked for, in order, as the settlement left it.
    pub balances: Vec<Balance>,
}

/// What the caller sees of a budget: `{"used","reserved","limit","remaining"}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageSummary {
    pub used: u64,
    pub reserved: u64,
    /// Allowance of the period plus top-up balance; `None` when uncapped.
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The turn does not fit; nothing was reserved.
    #[error("not enough tokens left in the budget of {subject}")]
    InsufficientBudget { subject: Subject },
    #[error("a reservation with this id exists already")]
    DuplicateReservation,
    #[error("usage ledger unavailable: {0}")]
    Unavailable(String),
}

/// How much of `amount` a line takes from the allowance and how much from top-ups, or `None` when
/// it cannot be covered. Shared by every ledger adapter so they all decide the same way.
pub fn split_line(
    line: &BudgetLine,
    counter: Counter,
    topup: TopUp,
    amount: u64,
) -> Option<(u64, u64)> {
    let from_allowance = match line.allowance {
        None => amount,
        Some(allowance) => {
            let free = allowance.saturating_sub(counter.used + counter.reserved);
            free.min(amount)
        }
    };
    let from_topup = amount - from_allowance;
    if from_topup == 0 {
        return Some((from_allowance, 0));
    }
    let topup_free = topup.balance.saturating_sub(topup.reserved);
    (line.may_use_topup && topup_free >= from_topup).then_some((from_allowance, from_topup))
}

/// How `amount` is covered on each of `lines` (each line's balance given by `balance_of`): the
/// parts to hold, or the first subject that cannot cover it. Every line is decided before any
/// is held, so a reservation takes all its lines or none.
pub fn plan_parts(
    amount: u64,
    lines: &[BudgetLine],
    mut balance_of: impl FnMut(&BudgetLine) -> Balance,
) -> Result<Vec<ReservedPart>, Subject> {
    lines
        .iter()
        .map(|line| {
            let balance = balance_of(line);
            let (from_allowance, from_topup) =
                split_line(line, balance.counter, balance.topup, amount).ok_or(line.subject)?;
            Ok(ReservedPart {
                subject: line.subject,
                period_key: line.period.key(),
                from_allowance,
                from_topup,
            })
        })
        .collect()
}

/// How a settled part is charged: allowance first, then top-ups, never more than was reserved.
pub fn charge_part(part: &ReservedPart, actual: u64) -> (u64, u64) {
    let charge = actual.min(part.from_allowance + part.from_topup);
    let from_allowance = charge.min(part.from_allowance);
    (from_allowance, charge - from_allowance)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn line(allowance: Option<u64>, may_use_topup: bool) -> BudgetLine {
        BudgetLine {
            subject: Subject::User(UserId(1)),
            period: Period::calendar_month(Utc::now()),
            allowance,
            may_use_topup,
        }
    }

    #[test]
    fn split_prefers_allowance_then_topup() {
        let counter = Counter {
            used: 80,
            reserved: 10,
        };
        let topup = TopUp {
            balance: 50,
            reserved: 0,
        };
        assert_eq!(
            split_line(&line(Some(100), true), counter, topup, 5),
            Some((5, 0))
        );
        assert_eq!(
            split_line(&line(Some(100), true), counter, topup, 30),
            Some((10, 20))
        );
        assert_eq!(
            split_line(&line(Some(100), false), counter, topup, 30),
            None
        );
        assert_eq!(split_line(&line(Some(100), true), counter, topup, 61), None);
        assert_eq!(
            split_line(&line(None, false), counter, topup, 1_000),
            Some((1_000, 0))
        );
    }

    /// A company pool's part: 10 tokens from the allowance, 20 from top-ups.
    fn pool_part() -> ReservedPart {
        ReservedPart {
            subject: Subject::Company(CompanyId(2)),
            period_key: 0,
            from_allowance: 10,
            from_topup: 20,
        }
    }

    #[test]
    fn charge_never_exceeds_reservation() {
        let part = pool_part();
        assert_eq!(charge_part(&part, 5), (5, 0));
        assert_eq!(charge_part(&part, 25), (10, 15));
        assert_eq!(charge_part(&part, 500), (10, 20));
    }

    #[test]
    fn a_held_part_settles_back_to_the_charge_alone() {
        let part = pool_part();
        let before = Balance {
            counter: Counter {
                used: 5,
                reserved: 1,
            },
            topup: TopUp {
                balance: 100,
                reserved: 2,
            },
        };
        let mut balance = before;
        part.hold(&mut balance);
        assert_eq!((balance.counter.reserved, balance.topup.reserved), (11, 22));
        part.settle(25, &mut balance);
        assert_eq!(
            balance,
            Balance {
                counter: Counter {
                    used: 15,
                    reserved: 1
                },
                topup: TopUp {
                    balance: 85,
                    reserved: 2
                },
            }
        );
    }

    #[test]
    fn subject_keys_round_trip() {
        for s in [Subject::User(UserId(42)), Subject::Company(CompanyId(7))] {
            assert_eq!(Subject::parse_key(&s.key()), Some(s));
        }
        assert_eq!(Subject::parse_key("x:1"), None);
    }
}
