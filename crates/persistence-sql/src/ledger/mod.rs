//! The usage ledger's transactions and the group commit of chat turns, written once as
//! ordinary generic code.
//!
//! Two small traits are all that differ per backend: [`SqlStore`], what a store of
//! [`crate::impl_sql_stores!`] gives (a pooled connection and its [`LocalLedger`]), and
//! [`LedgerConn`], implemented for the SQLite and MySQL connection types
//! (`connections.rs`): how a write transaction opens, how rows are read locked, and the few
//! statements a ledger transaction sends. [`transactions`] holds what a reservation, a
//! settlement and a group of turns do inside their transaction, and [`group`] applies the
//! turns waiting in the [`crate::turn_queue`].

mod connections;
pub mod group;
pub mod transactions;

use crate::balances::BalanceSheet;
use crate::rows::MessageRow;
use crate::statements::{InsertableRow, UpsertableRow};
use crate::turn_queue::{LedgerStepOutcome, TurnJob, outcome};
use crate::{LocalLedger, TxError, db_err, ledger_err, retry_transient};
use diesel::QueryResult;
use domain::ReservationId;
use domain::budget::{
    BudgetLine, LedgerError, Reservation, ReservationRequest, ReservedPart, SettledTurn,
};
use domain::ports::StoreResult;
use std::future::Future;
use std::ops::DerefMut;

/// A store of [`crate::impl_sql_stores!`], as the generic ledger code sees it. A clone shares
/// the pool and the [`LocalLedger`]; a clone applies queued turns in a task of its own.
pub trait SqlStore: Clone + Send + Sync + 'static {
    /// The connection its transactions run on.
    type Conn: LedgerConn;

    /// A connection from the pool.
    fn connection(
        &self,
    ) -> impl Future<Output = StoreResult<impl DerefMut<Target = Self::Conn> + Send>> + Send;

    /// What this instance keeps in memory for its ledger.
    fn local_ledger(&self) -> &LocalLedger;
}

/// What the ledger needs from a backend's connection. A write transaction opens with
/// `BEGIN IMMEDIATE` on SQLite (the write lock up front, so two writers never deadlock on a
/// lock upgrade) and a plain `BEGIN` on MySQL, where rows are locked in a fixed order inside
/// the transaction: `SELECT … FOR UPDATE` there, while SQLite's write transaction already
/// holds the whole database ([`crate::WholeDatabaseLock`]).
pub trait LedgerConn: Send + Sized {
    /// [`transactions::reserve_in`] in a write transaction.
    fn reserve(
        &mut self,
        request: &ReservationRequest,
        lines: &[BudgetLine],
    ) -> impl Future<Output = Result<Reservation, TxError>> + Send;

    /// [`transactions::settle_in`] in a write transaction.
    fn settle(
        &mut self,
        id: ReservationId,
        known: Option<&[ReservedPart]>,
        actual: u64,
        exchange: Option<&[MessageRow; 2]>,
        lines: &[BudgetLine],
    ) -> impl Future<Output = Result<SettledTurn, TxError>> + Send;

    /// [`transactions::together_in`] in a write transaction.
    fn apply_together(
        &mut self,
        jobs: &[TurnJob],
    ) -> impl Future<Output = Result<Vec<LedgerStepOutcome>, TxError>> + Send;

    /// Creates the counter (and top-up, if the line may use one) of each line that has none,
    /// with `INSERT IGNORE` (MySQL) or `INSERT OR IGNORE` (SQLite).
    fn create_budget_rows(
        &mut self,
        lines: &[&BudgetLine],
    ) -> impl Future<Output = QueryResult<()>> + Send;

    /// Reads (and on MySQL locks) every row of `sheet`, line by line in key order.
    fn lock_balances(
        &mut self,
        sheet: &mut BalanceSheet,
    ) -> impl Future<Output = QueryResult<()>> + Send;

    /// Reads (and on MySQL locks) every row of `sheet` with one statement.
    fn lock_balances_together(
        &mut self,
        sheet: &mut BalanceSheet,
    ) -> impl Future<Output = QueryResult<()>> + Send;

    /// The parts of reservation `id` (none when it is gone).
    fn reservation_parts(
        &mut self,
        id: ReservationId,
    ) -> impl Future<Output = Result<Vec<ReservedPart>, TxError>> + Send;

    /// Deletes reservation `id`: the number of rows (parts) deleted.
    fn delete_reservation(
        &mut self,
        id: ReservationId,
    ) -> impl Future<Output = QueryResult<usize>> + Send;

    /// Deletes the reservations `ids` with one statement: the number of rows deleted.
    fn delete_reservations(
        &mut self,
        ids: &[i64],
    ) -> impl Future<Output = QueryResult<usize>> + Send;

    /// Inserts `rows` with one statement ([`crate::statements::InsertRows`]).
    fn insert_rows<R: InsertableRow + Sync>(
        &mut self,
        rows: &[R],
    ) -> impl Future<Output = QueryResult<usize>> + Send;

    /// Writes `rows` with one statement ([`crate::statements::UpsertRows`]).
    fn upsert_rows<R: UpsertableRow + Sync>(
        &mut self,
        rows: &[R],
    ) -> impl Future<Output = QueryResult<usize>> + Send;
}

/// Creates the counter and top-up rows a reservation touches, outside the transaction: inside
/// it, MySQL's shared locks from a duplicate-key insert could deadlock two transactions that
/// then both want the row exclusively.
pub async fn ensure_budget_rows<S: SqlStore>(store: &S, lines: &[BudgetLine]) -> StoreResult<()> {
    // Rows are never deleted: those known to exist need no insert.
    let unknown = store.local_ledger().known_rows.unknown(lines);
    if unknown.is_empty() {
        return Ok(());
    }
    let mut conn = store.connection().await?;
    conn.create_budget_rows(&unknown).await.map_err(db_err)?;
    store.local_ledger().known_rows.remember(&unknown);
    Ok(())
}

/// `UsageLedger::reserve`: queued, and applied with the turns waiting at the same moment.
pub async fn reserve<S: SqlStore>(
    store: &S,
    request: ReservationRequest,
) -> Result<Reservation, LedgerError> {
    let (job, answer) = TurnJob::reserve(request);
    group::queue_turn_job(store, job);
    outcome(answer).await
}

/// `UsageLedger::settle_turn`: queued like [`reserve`].
pub async fn settle_turn<S: SqlStore>(
    store: &S,
    reservation: &Reservation,
    actual: u64,
    exchange: [MessageRow; 2],
    lines: &[BudgetLine],
) -> Result<SettledTurn, LedgerError> {
    let (job, answer) = TurnJob::settle(reservation.clone(), actual, exchange, lines.to_vec());
    group::queue_turn_job(store, job);
    outcome(answer).await
}

/// `UsageLedger::settle`: settles (or releases, with `actual` 0) reservation `id` at once.
pub async fn settle<S: SqlStore>(
    store: &S,
    id: ReservationId,
    actual: u64,
) -> Result<bool, LedgerError> {
    let done = retry_transient(|| try_settle(store, id, None, actual, None, &[])).await?;
    Ok(done.settled)
}

/// A reservation in a transaction of its own.
pub async fn reserve_alone<S: SqlStore>(
    store: &S,
    request: &ReservationRequest,
) -> Result<Reservation, LedgerError> {
    let mut lines = request.lines.clone();
    lines.sort_by_key(|l| l.subject);
    ensure_budget_rows(store, &lines)
        .await
        .map_err(ledger_err)?;
    Ok(retry_transient(|| try_reserve(store, request, &lines)).await?)
}

/// A turn's settlement in a transaction of its own.
pub async fn settle_turn_alone<S: SqlStore>(
    store: &S,
    reservation: &Reservation,
    actual: u64,
    rows: &[MessageRow; 2],
    lines: &[BudgetLine],
) -> Result<SettledTurn, LedgerError> {
    let known = Some(reservation.parts.as_slice());
    Ok(
        retry_transient(|| try_settle(store, reservation.id, known, actual, Some(rows), lines))
            .await?,
    )
}

async fn try_reserve<S: SqlStore>(
    store: &S,
    request: &ReservationRequest,
    lines: &[BudgetLine],
) -> Result<Reservation, TxError> {
    let mut conn = store.connection().await?;
    conn.reserve(request, lines).await
}

async fn try_settle<S: SqlStore>(
    store: &S,
    id: ReservationId,
    known: Option<&[ReservedPart]>,
    actual: u64,
    exchange: Option<&[MessageRow; 2]>,
    lines: &[BudgetLine],
) -> Result<SettledTurn, TxError> {
    let mut conn = store.connection().await?;
    conn.settle(id, known, actual, exchange, lines).await
}

async fn try_together<S: SqlStore>(
    store: &S,
    jobs: &[TurnJob],
) -> Result<Vec<LedgerStepOutcome>, TxError> {
    let mut conn = store.connection().await?;
    conn.apply_together(jobs).await
}
