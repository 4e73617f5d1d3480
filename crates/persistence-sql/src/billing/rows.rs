//! Billing rows and the markers of a billing transaction.

use crate::TxError;
use crate::rows::{from_millis, millis, period_from_millis};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use domain::billing::{SubscriptionState, SubscriptionStatus};
use domain::budget::Subject;
use domain::ports::StoreError;

/// A `billing_subscriptions` row: `(id, subject, status, plan, start, end, last_event_at)`.
pub type SubscriptionRow = (
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
);

pub fn subscription_from_row(row: SubscriptionRow) -> Result<SubscriptionState, StoreError> {
    let (subscription_id, subject, status, plan_id, start, end, last_event_at) = row;
    let corrupt =
        |what: &str| StoreError::Unavailable(format!("billing_subscriptions: bad {what}"));
    Ok(SubscriptionState {
        subscription_id,
        payer: Subject::parse_key(&subject).ok_or_else(|| corrupt("subject"))?,
        status: SubscriptionStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        plan_id,
        period: period_from_millis(start, end),
        last_event_at: from_millis(last_event_at),
    })
}

pub fn subscription_to_row(s: &SubscriptionState) -> SubscriptionRow {
    (
        s.subscription_id.clone(),
        s.payer.key(),
        s.status.as_str().to_string(),
        s.plan_id.clone(),
        s.period.map(|p| millis(p.start)),
        s.period.map(|p| millis(p.end)),
        millis(s.last_event_at),
    )
}

/// Marks, inside a billing transaction, that the event id was taken by an earlier delivery.
pub const DUPLICATE_EVENT: &str = "billing event already recorded";
/// Marks a lost race to create a row; the transaction is simply tried again.
pub const RETRY: &str = "billing row created concurrently";

/// A unique-key violation while creating a row: another delivery created it first, so the
/// transaction is tried again (it then finds the row).
pub fn lost_race_retries(e: DieselError) -> TxError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            TxError::Store(StoreError::Conflict(RETRY.into()))
        }
        other => TxError::Db(other),
    }
}

/// Now, in Unix milliseconds: when an event was received (kept for support, decides nothing).
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
