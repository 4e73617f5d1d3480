//! The usage ledger of the in-memory fake: reservations, settlement and balances.

use super::content::insert_messages;
use super::{MemoryStore, State};
use chrono::{DateTime, Utc};
use domain::budget::*;
use domain::conversation::SealedMessage;
use domain::ports::UsageLedger;
use domain::*;

impl UsageLedger for MemoryStore {
    async fn reserve(&self, request: ReservationRequest) -> Result<Reservation, LedgerError> {
        let mut s = self.state();
        if s.reservations.contains_key(&request.id) {
            return Err(LedgerError::DuplicateReservation);
        }
        let parts = plan_parts(request.amount, &request.lines, |line| {
            s.balance(line.subject, line.period.key(), line.may_use_topup)
        })
        .map_err(|subject| LedgerError::InsufficientBudget { subject })?;
        for part in &parts {
            let with_topup = part.from_topup > 0;
            let mut balance = s.balance(part.subject, part.period_key, with_topup);
            part.hold(&mut balance);
            s.put_balance(part.subject, part.period_key, balance, with_topup);
        }
        let reservation = Reservation {
            id: request.id,
            amount: request.amount,
            parts,
            expires_at: request.expires_at,
        };
        s.reservations.insert(request.id, reservation.clone());
        Ok(reservation)
    }

    async fn settle(&self, id: ReservationId, actual: u64) -> Result<bool, LedgerError> {
        Ok(settle(&mut self.state(), id, actual))
    }

    async fn settle_turn(
        &self,
        reservation: &Reservation,
        actual: u64,
        exchange: &[SealedMessage; 2],
        lines: &[BudgetLine],
    ) -> Result<SettledTurn, LedgerError> {
        // One lock for all: the same all-or-nothing as the SQL adapters' transaction.
        let mut s = self.state();
        insert_messages(&mut s, exchange).map_err(|e| LedgerError::Unavailable(e.to_string()))?;
        let settled = settle(&mut s, reservation.id, actual);
        let balances = lines
            .iter()
            .map(|l| s.balance(l.subject, l.period.key(), l.may_use_topup))
            .collect();
        Ok(SettledTurn { settled, balances })
    }

    async fn reclaim_expired(&self, now: DateTime<Utc>) -> Result<u64, LedgerError> {
        let expired: Vec<ReservationId> = self
            .state()
            .reservations
            .values()
            .filter(|r| r.expires_at < now)
            .map(|r| r.id)
            .collect();
        let mut reclaimed = 0;
        for id in expired {
            if self.settle(id, 0).await? {
                reclaimed += 1;
            }
        }
        Ok(reclaimed)
    }

    async fn counter(&self, subject: Subject, period_key: i64) -> Result<Counter, LedgerError> {
        Ok(self
            .state()
            .counters
            .get(&(subject, period_key))
            .copied()
            .unwrap_or_default())
    }

    async fn topup(&self, subject: Subject) -> Result<TopUp, LedgerError> {
        Ok(self
            .state()
            .topups
            .get(&subject)
            .copied()
            .unwrap_or_default())
    }

    async fn add_topup(&self, subject: Subject, tokens: i64) -> Result<TopUp, LedgerError> {
        let mut s = self.state();
        let topup = s.topups.entry(subject).or_default();
        let balance = (topup.balance as i64 + tokens)
            .max(topup.reserved as i64)
            .max(0);
        topup.balance = balance as u64;
        Ok(*topup)
    }

    async fn topups_of(
        &self,
        subjects: Vec<Subject>,
    ) -> Result<Vec<(Subject, TopUp)>, LedgerError> {
        let s = self.state();
        Ok(subjects
            .into_iter()
            .filter_map(|subject| s.topups.get(&subject).map(|t| (subject, *t)))
            .collect())
    }

    async fn counters_in_period(
        &self,
        subjects: Vec<Subject>,
        period_key: i64,
    ) -> Result<Vec<(Subject, Counter)>, LedgerError> {
        let s = self.state();
        Ok(subjects
            .into_iter()
            .filter_map(|subject| {
                s.counters
                    .get(&(subject, period_key))
                    .map(|c| (subject, *c))
            })
            .collect())
    }
}

/// Charges `actual` of reservation `id` and releases the rest; `false` when it is gone.
fn settle(s: &mut State, id: ReservationId, actual: u64) -> bool {
    let Some(reservation) = s.reservations.remove(&id) else {
        return false;
    };
    for part in &reservation.parts {
        let with_topup = part.from_topup > 0;
        let mut balance = s.balance(part.subject, part.period_key, with_topup);
        part.settle(actual, &mut balance);
        s.put_balance(part.subject, part.period_key, balance, with_topup);
    }
    true
}

impl State {
    /// A line's balance; the top-up is left at zero unless `with_topup`.
    fn balance(&self, subject: Subject, period_key: i64, with_topup: bool) -> Balance {
        Balance {
            counter: self
                .counters
                .get(&(subject, period_key))
                .copied()
                .unwrap_or_default(),
            topup: if with_topup {
                self.topups.get(&subject).copied().unwrap_or_default()
            } else {
                TopUp::default()
            },
        }
    }

    /// Stores a balance read by [`State::balance`] with the same `with_topup`.
    fn put_balance(
        &mut self,
        subject: Subject,
        period_key: i64,
        balance: Balance,
        with_topup: bool,
    ) {
        self.counters.insert((subject, period_key), balance.counter);
        if with_topup {
            self.topups.insert(subject, balance.topup);
        }
    }
}
