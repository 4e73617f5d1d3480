//! The ledger's rows: usage counters, top-ups and reservations.

use super::{corrupt, millis, to_i64, to_u64};
use crate::schema::*;
use diesel::prelude::*;
use domain::budget::{Counter, ReservationRequest, ReservedPart, Subject, TopUp};
use domain::ports::StoreError;

#[derive(Queryable, Selectable, Insertable, Debug, Clone, Copy)]
#[diesel(table_name = usage_counters)]
pub struct CounterRow {
    pub used: i64,
    pub reserved: i64,
}

impl From<CounterRow> for Counter {
    fn from(r: CounterRow) -> Self {
        Counter {
            used: to_u64(r.used),
            reserved: to_u64(r.reserved),
        }
    }
}

#[derive(Queryable, Selectable, Debug, Clone, Copy)]
#[diesel(table_name = topups)]
pub struct TopUpRow {
    pub balance: i64,
    pub reserved: i64,
}

impl From<TopUpRow> for TopUp {
    fn from(r: TopUpRow) -> Self {
        TopUp {
            balance: to_u64(r.balance),
            reserved: to_u64(r.reserved),
        }
    }
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = reservations)]
pub struct ReservationRow {
    pub id: i64,
    pub subject: String,
    pub period_key: i64,
    pub from_allowance: i64,
    pub from_topup: i64,
    pub amount: i64,
    pub expires_at: i64,
}

impl ReservationRow {
    /// The row of one part of a reservation.
    pub fn of(request: &ReservationRequest, part: &ReservedPart) -> Self {
        ReservationRow {
            id: request.id.0,
            subject: part.subject.key(),
            period_key: part.period_key,
            from_allowance: to_i64(part.from_allowance),
            from_topup: to_i64(part.from_topup),
            amount: to_i64(request.amount),
            expires_at: millis(request.expires_at),
        }
    }

    pub fn part(&self) -> Result<ReservedPart, StoreError> {
        Ok(ReservedPart {
            subject: Subject::parse_key(&self.subject)
                .ok_or_else(|| corrupt("reservations.subject"))?,
            period_key: self.period_key,
            from_allowance: to_u64(self.from_allowance),
            from_topup: to_u64(self.from_topup),
        })
    }
}
