//! # persistence-sql
//!
//! The part of persistence that SQLite and MySQL share: the diesel [`schema`], the [`rows`] and
//! their conversions, the usage ledger's transactions and group commit ([`ledger`], generic
//! over the connection), and [`impl_sql_stores!`], which implements every store port once for
//! any diesel-async connection, one file per port in [`stores`] ([`impl_billing_store!`] and
//! [`impl_safety_plan_store!`] add the billing and safety-plan stores). `persistence-sqlite`
//! and `persistence-mysql` only bring a pool, migrations and the transaction flavour of their
//! backend.
//!
//! The ports are implemented by macros rather than generic code because diesel-async has no
//! released `MultiConnection` (an enum of both connections, as diesel has): a query written
//! once must be compiled once per concrete connection type, and the ports are foreign traits
//! that a generic impl here could not implement for the adapters' store types.

#[doc(hidden)]
pub mod balances;
pub mod billing;
mod known_rows;
#[doc(hidden)]
pub mod ledger;
pub mod rows;
#[doc(hidden)]
pub mod safety_plans;
pub mod schema;
#[doc(hidden)]
pub mod statements;
#[doc(hidden)]
pub mod stores;
#[doc(hidden)]
pub mod turn_queue;

pub use known_rows::KnownBudgetRows;

/// What one instance keeps in memory for its ledger: the budget rows it knows to exist, and the
/// turns waiting to be applied together ([`turn_queue`]). A store holds one, shared by its
/// clones.
#[derive(Debug, Default)]
pub struct LocalLedger {
    pub known_rows: KnownBudgetRows,
    pub turns: turn_queue::TurnQueue,
}

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use domain::budget::{LedgerError, Subject};
use domain::ports::StoreError;

/// Re-exported so the macro expands in adapter crates without extra dependencies.
#[doc(hidden)]
pub mod reexports {
    pub use diesel;
    pub use diesel_async;
    pub use domain;
    pub use futures;
    pub use metrics;
    pub use tokio;
    pub use tracing;
}

/// SQLite's stand-in for diesel's `.for_update()`, which it does not have: a write transaction
/// there (`BEGIN IMMEDIATE`) already holds the whole database, so every read in it stays true.
pub trait WholeDatabaseLock: Sized {
    fn already_locked(self) -> Self {
        self
    }
}

impl<T> WholeDatabaseLock for T {}

/// Maps a diesel error to the domain's store error. Unique-key violations become `Conflict` so
/// services can say "e-mail already registered"; everything else is the database being unwell.
pub fn db_err(e: DieselError) -> StoreError {
    match e {
        DieselError::NotFound => StoreError::NotFound,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            StoreError::Conflict(info.message().to_string())
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// Errors inside a ledger transaction: a budget that does not fit rolls the transaction back.
#[derive(Debug)]
pub enum TxError {
    Db(DieselError),
    Store(StoreError),
    Insufficient(Subject),
    /// A group of turns that must be applied one by one instead (see [`turn_queue`]); rolls
    /// the group back and never reaches a caller.
    NotTogether(&'static str),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        TxError::Db(e)
    }
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        TxError::Store(e)
    }
}

impl From<TxError> for StoreError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Db(e) => db_err(e),
            TxError::Store(e) => e,
            TxError::Insufficient(s) => StoreError::Conflict(format!("insufficient budget: {s}")),
            TxError::NotTogether(why) => StoreError::Unavailable(why.to_string()),
        }
    }
}

impl From<TxError> for LedgerError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Insufficient(subject) => LedgerError::InsufficientBudget { subject },
            TxError::Db(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                LedgerError::DuplicateReservation
            }
            other => LedgerError::Unavailable(StoreError::from(other).to_string()),
        }
    }
}

pub fn ledger_err(e: StoreError) -> LedgerError {
    LedgerError::Unavailable(e.to_string())
}

/// Whether a failed ledger transaction is worth one more try (lock contention, deadlock victim,
/// busy SQLite), as opposed to a definite answer.
pub fn is_transient(e: &TxError) -> bool {
    match e {
        TxError::Db(DieselError::DatabaseError(kind, info)) => {
            matches!(kind, DatabaseErrorKind::SerializationFailure) || {
                let msg = info.message().to_ascii_lowercase();
                msg.contains("deadlock")
                    || msg.contains("lock wait")
                    || msg.contains("locked")
                    || msg.contains("busy")
            }
        }
        _ => false,
    }
}

/// How many times a ledger transaction is tried before a transient error is given up on.
const LEDGER_ATTEMPTS: usize = 5;

/// Runs a ledger transaction, and runs it again after a short, growing pause while it fails
/// transiently ([`is_transient`]: it lost a lock race), at most [`LEDGER_ATTEMPTS`] times.
pub async fn retry_transient<T, F, Fut>(run: F) -> Result<T, TxError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, TxError>>,
{
    retry_when(is_transient, run).await
}

/// [`retry_transient`] for the errors `worth_retrying` picks.
pub async fn retry_when<T, F, Fut>(
    worth_retrying: impl Fn(&TxError) -> bool,
    mut run: F,
) -> Result<T, TxError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, TxError>>,
{
    let mut attempt = 1;
    loop {
        match run().await {
            Err(e) if attempt < LEDGER_ATTEMPTS && worth_retrying(&e) => {
                let millis = 2_u64.saturating_pow(attempt as u32).min(100);
                tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
                attempt += 1;
            }
            done => return done,
        }
    }
}

/// SQL `LIKE` pattern matching `needle` anywhere, with wildcards in the needle escaped.
pub fn contains_pattern(needle: &str) -> String {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
