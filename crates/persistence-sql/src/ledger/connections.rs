//! [`LedgerConn`] for the SQLite and MySQL connection types. They differ in two words, how a
//! write transaction opens and how a select locks what it reads, so one macro writes both.

use super::{LedgerConn, transactions};
use crate::TxError;
use crate::balances::BalanceSheet;
use crate::rows::{CounterRow, MessageRow, ReservationRow, TopUpRow};
use crate::schema::{reservations, topups, usage_counters};
use crate::statements::{InsertRows, InsertableRow, UpsertRows, UpsertableRow, in_list};
use crate::turn_queue::{LedgerStepOutcome, TurnJob};
use diesel::QueryResult;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use domain::ReservationId;
use domain::budget::{BudgetLine, Reservation, ReservationRequest, ReservedPart, SettledTurn};

/// Implements [`LedgerConn`] for `$conn`, whose write transactions open with `$begin` and
/// whose selects lock with `$lock`.
macro_rules! impl_ledger_conn {
    ($conn:ty, $begin:ident, $lock:ident) => {
        impl LedgerConn for $conn {
            async fn reserve(
                &mut self,
                request: &ReservationRequest,
                lines: &[BudgetLine],
            ) -> Result<Reservation, TxError> {
                self.$begin(async |conn| -> Result<Reservation, TxError> {
                    transactions::reserve_in(conn, request, lines).await
                })
                .await
            }

            async fn settle(
                &mut self,
                id: ReservationId,
                known: Option<&[ReservedPart]>,
                actual: u64,
                exchange: Option<&[MessageRow; 2]>,
                lines: &[BudgetLine],
            ) -> Result<SettledTurn, TxError> {
                self.$begin(async |conn| -> Result<SettledTurn, TxError> {
                    transactions::settle_in(conn, id, known, actual, exchange, lines).await
                })
                .await
            }

            async fn apply_together(
                &mut self,
                jobs: &[TurnJob],
            ) -> Result<Vec<LedgerStepOutcome>, TxError> {
                self.$begin(async |conn| -> Result<Vec<LedgerStepOutcome>, TxError> {
                    transactions::together_in(conn, jobs).await
                })
                .await
            }

            async fn create_budget_rows(&mut self, lines: &[&BudgetLine]) -> QueryResult<()> {
                for line in lines {
                    diesel::insert_or_ignore_into(usage_counters::table)
                        .values((
                            usage_counters::subject.eq(line.subject.key()),
                            usage_counters::period_key.eq(line.period.key()),
                            usage_counters::used.eq(0_i64),
                            usage_counters::reserved.eq(0_i64),
                        ))
                        .execute(self)
                        .await?;
                    if line.may_use_topup {
                        diesel::insert_or_ignore_into(topups::table)
                            .values((
                                topups::subject.eq(line.subject.key()),
                                topups::balance.eq(0_i64),
                                topups::reserved.eq(0_i64),
                            ))
                            .execute(self)
                            .await?;
                    }
                }
                Ok(())
            }

            async fn lock_balances(&mut self, sheet: &mut BalanceSheet) -> QueryResult<()> {
                // One statement a line (a lone turn has one or two, and may settle in a period that
                // has since rolled over); a line's counter and top-up together.
                for (key, period_key, with_topup) in sheet.lines() {
                    let counter = usage_counters::table.find((&key, period_key));
                    if with_topup {
                        let row = counter
                            .left_join(
                                topups::table.on(topups::subject.eq(usage_counters::subject)),
                            )
                            .select((CounterRow::as_select(), Option::<TopUpRow>::as_select()))
                            .$lock()
                            .first(self)
                            .await
                            .optional()?;
                        if let Some((counter, topup)) = row {
                            sheet.set_counter(&key, period_key, counter);
                            if let Some(topup) = topup {
                                sheet.set_topup(&key, topup);
                            }
                        }
                    } else {
                        let row = counter
                            .select(CounterRow::as_select())
                            .$lock()
                            .first(self)
                            .await
                            .optional()?;
                        if let Some(counter) = row {
                            sheet.set_counter(&key, period_key, counter);
                        }
                    }
                }
                Ok(())
            }

            /// In the order `lock_balances` takes them: by key and period, a counter and then
            /// its subject's top-up. Rows of a wanted subject in another wanted period come
            /// too, and are ignored.
            async fn lock_balances_together(
                &mut self,
                sheet: &mut BalanceSheet,
            ) -> QueryResult<()> {
                let lines = sheet.lines();
                let mut keys: Vec<&str> = lines.iter().map(|(key, _, _)| key.as_str()).collect();
                let mut periods: Vec<i64> = lines.iter().map(|(_, period, _)| *period).collect();
                keys.dedup();
                periods.sort_unstable();
                periods.dedup();
                let rows: Vec<(String, i64, CounterRow, Option<TopUpRow>)> = usage_counters::table
                    .left_join(topups::table.on(topups::subject.eq(usage_counters::subject)))
                    .filter(in_list(usage_counters::subject, keys))
                    .filter(in_list(usage_counters::period_key, &periods))
                    .order((usage_counters::subject, usage_counters::period_key))
                    .select((
                        usage_counters::subject,
                        usage_counters::period_key,
                        CounterRow::as_select(),
                        Option::<TopUpRow>::as_select(),
                    ))
                    .$lock()
                    .load(self)
                    .await?;
                for (key, period_key, counter, topup) in rows {
                    sheet.set_counter(&key, period_key, counter);
                    if let Some(topup) = topup {
                        sheet.set_topup(&key, topup);
                    }
                }
                Ok(())
            }

            async fn reservation_parts(
                &mut self,
                id: ReservationId,
            ) -> Result<Vec<ReservedPart>, TxError> {
                let rows = reservations::table
                    .filter(reservations::id.eq(id.0))
                    .select(ReservationRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .iter()
                    .map(ReservationRow::part)
                    .collect::<Result<Vec<_>, _>>()?)
            }

            async fn delete_reservation(&mut self, id: ReservationId) -> QueryResult<usize> {
                diesel::delete(reservations::table.filter(reservations::id.eq(id.0)))
                    .execute(self)
                    .await
            }

            async fn delete_reservations(&mut self, ids: &[i64]) -> QueryResult<usize> {
                diesel::delete(reservations::table.filter(in_list(reservations::id, ids)))
                    .execute(self)
                    .await
            }

            async fn insert_rows<R: InsertableRow + Sync>(
                &mut self,
                rows: &[R],
            ) -> QueryResult<usize> {
                InsertRows(rows).execute(self).await
            }

            async fn upsert_rows<R: UpsertableRow + Sync>(
                &mut self,
                rows: &[R],
            ) -> QueryResult<usize> {
                UpsertRows(rows).execute(self).await
            }
        }
    };
}

// SQLite's write transaction (`BEGIN IMMEDIATE`) holds the whole database: every read in it
// stays true without a lock of its own.
use crate::WholeDatabaseLock as _;
impl_ledger_conn!(
    SyncConnectionWrapper<SqliteConnection>,
    immediate_transaction,
    already_locked
);
impl_ledger_conn!(AsyncMysqlConnection, transaction, for_update);
