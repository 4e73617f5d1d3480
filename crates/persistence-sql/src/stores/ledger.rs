//! The usage ledger, [`domain::ports::UsageLedger`]: a turn's reservation and settlement go
//! through the group commit of [`crate::ledger`]; the rest are plain reads and the top-up.

/// Implements [`domain::ports::UsageLedger`] for `$store` (see [`crate::impl_sql_stores!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_usage_ledger {
    ($store:ty, $begin:ident) => {
        const _: () = {
            use domain::budget::*;
            use domain::conversation::SealedMessage;
            use domain::ports::*;
            use domain::*;
            use $crate::reexports::diesel;
            use $crate::reexports::diesel::prelude::*;
            use $crate::reexports::diesel_async::RunQueryDsl;
            use $crate::reexports::domain;
            use $crate::rows::*;
            use $crate::schema::*;
            use $crate::{TxError, db_err, ledger, ledger_err};

            // `transaction` is `AsyncConnection`'s; SQLite's `immediate_transaction` is its own.
            #[allow(unused_imports)]
            use $crate::reexports::diesel_async::AsyncConnection;

            impl UsageLedger for $store {
                async fn reserve(
                    &self,
                    request: ReservationRequest,
                ) -> Result<Reservation, LedgerError> {
                    ledger::reserve(self, request).await
                }

                async fn settle(
                    &self,
                    id: ReservationId,
                    actual: u64,
                ) -> Result<bool, LedgerError> {
                    ledger::settle(self, id, actual).await
                }

                async fn settle_turn(
                    &self,
                    reservation: &Reservation,
                    actual: u64,
                    exchange: &[SealedMessage; 2],
                    lines: &[BudgetLine],
                ) -> Result<SettledTurn, LedgerError> {
                    let exchange = exchange.each_ref().map(MessageRow::from);
                    ledger::settle_turn(self, reservation, actual, exchange, lines).await
                }

                async fn reclaim_expired(
                    &self,
                    now: chrono::DateTime<chrono::Utc>,
                ) -> Result<u64, LedgerError> {
                    let ids: Vec<i64> = {
                        let mut conn = self.conn().await.map_err(ledger_err)?;
                        reservations::table
                            .filter(reservations::expires_at.lt(millis(now)))
                            .select(reservations::id)
                            .distinct()
                            .limit(10_000)
                            .load(&mut *conn)
                            .await
                            .map_err(|e| ledger_err(db_err(e)))?
                    };
                    let mut reclaimed = 0;
                    for id in ids {
                        if self.settle(ReservationId(id), 0).await? {
                            reclaimed += 1;
                        }
                    }
                    Ok(reclaimed)
                }

                async fn counter(
                    &self,
                    subject: Subject,
                    period_key: i64,
                ) -> Result<Counter, LedgerError> {
                    let mut conn = self.conn().await.map_err(ledger_err)?;
                    let row = usage_counters::table
                        .find((subject.key(), period_key))
                        .select(CounterRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(|e| ledger_err(db_err(e)))?;
                    Ok(row.map(Counter::from).unwrap_or_default())
                }

                async fn topup(&self, subject: Subject) -> Result<TopUp, LedgerError> {
                    let mut conn = self.conn().await.map_err(ledger_err)?;
                    let row = topups::table
                        .find(subject.key())
                        .select(TopUpRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(|e| ledger_err(db_err(e)))?;
                    Ok(row.map(TopUp::from).unwrap_or_default())
                }

                async fn add_topup(
                    &self,
                    subject: Subject,
                    tokens: i64,
                ) -> Result<TopUp, LedgerError> {
                    let key = subject.key();
                    {
                        let mut conn = self.conn().await.map_err(ledger_err)?;
                        diesel::insert_or_ignore_into(topups::table)
                            .values((
                                topups::subject.eq(&key),
                                topups::balance.eq(0_i64),
                                topups::reserved.eq(0_i64),
                            ))
                            .execute(&mut *conn)
                            .await
                            .map_err(|e| ledger_err(db_err(e)))?;
                    }
                    let mut conn = self.conn().await.map_err(ledger_err)?;
                    conn.$begin(async |conn| -> Result<TopUp, TxError> {
                        diesel::update(topups::table.find(&key))
                            .set(topups::reserved.eq(topups::reserved))
                            .execute(conn)
                            .await?;
                        let current: TopUpRow = topups::table
                            .find(&key)
                            .select(TopUpRow::as_select())
                            .first(conn)
                            .await?;
                        // Removing tokens (a refund) never takes the balance below what open turns
                        // hold, nor below zero.
                        let balance = (current.balance + tokens).max(current.reserved).max(0);
                        diesel::update(topups::table.find(&key))
                            .set(topups::balance.eq(balance))
                            .execute(conn)
                            .await?;
                        Ok(TopUp {
                            balance: to_u64(balance),
                            reserved: to_u64(current.reserved),
                        })
                    })
                    .await
                    .map_err(LedgerError::from)
                }

                async fn topups_of(
                    &self,
                    subjects: Vec<Subject>,
                ) -> Result<Vec<(Subject, TopUp)>, LedgerError> {
                    let keys: Vec<String> = subjects.iter().map(Subject::key).collect();
                    let mut conn = self.conn().await.map_err(ledger_err)?;
                    let mut out = Vec::new();
                    for batch in keys.chunks(1_000) {
                        let rows: Vec<(String, TopUpRow)> = topups::table
                            .filter(topups::subject.eq_any(batch))
                            .select((topups::subject, TopUpRow::as_select()))
                            .load(&mut *conn)
                            .await
                            .map_err(|e| ledger_err(db_err(e)))?;
                        out.extend(rows.into_iter().filter_map(|(key, row)| {
                            Subject::parse_key(&key).map(|subject| (subject, TopUp::from(row)))
                        }));
                    }
                    Ok(out)
                }

                async fn counters_in_period(
                    &self,
                    subjects: Vec<Subject>,
                    period_key: i64,
                ) -> Result<Vec<(Subject, Counter)>, LedgerError> {
                    let keys: Vec<String> = subjects.iter().map(Subject::key).collect();
                    let mut conn = self.conn().await.map_err(ledger_err)?;
                    let mut out = Vec::new();
                    for batch in keys.chunks(1_000) {
                        let rows: Vec<(String, i64, i64)> = usage_counters::table
                            .filter(usage_counters::period_key.eq(period_key))
                            .filter(usage_counters::subject.eq_any(batch))
                            .select((
                                usage_counters::subject,
                                usage_counters::used,
                                usage_counters::reserved,
                            ))
                            .load(&mut *conn)
                            .await
                            .map_err(|e| ledger_err(db_err(e)))?;
                        for (key, used, reserved) in rows {
                            if let Some(subject) = Subject::parse_key(&key) {
                                out.push((
                                    subject,
                                    Counter {
                                        used: to_u64(used),
                                        reserved: to_u64(reserved),
                                    },
                                ));
                            }
                        }
                    }
                    Ok(out)
                }
            }
        };
    };
}
