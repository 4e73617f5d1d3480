//! The billing store, written once for both backends like [`crate::impl_sql_stores!`]: each
//! provider event is recorded by id and its effect applied in the same transaction, so a replay
//! (even a concurrent one) finds the id taken and changes nothing.
//!
//! Rows that decide something (a subscription, a purchase, a top-up balance) are locked with a
//! no-op `UPDATE` before they are read: MySQL then serialises two events about the same thing,
//! and SQLite holds the write lock from `BEGIN IMMEDIATE` anyway.

mod rows;
pub mod schema;

pub use rows::{
    DUPLICATE_EVENT, RETRY, SubscriptionRow, lost_race_retries, now_millis, subscription_from_row,
    subscription_to_row,
};

/// Implements [`domain::ports::BillingStore`] for `$store` (the store type of
/// [`crate::impl_sql_stores!`]); `$begin` opens a write transaction as there, and `$conn` is
/// the connection type its transactions run on.
#[macro_export]
macro_rules! impl_billing_store {
    ($store:ty, $begin:ident, $conn:ty) => {
        const _: () = {
            use domain::billing::*;
            use domain::budget::Subject;
            use domain::ports::*;
            use $crate::billing::schema::*;
            use $crate::billing::{
                DUPLICATE_EVENT, RETRY, lost_race_retries, now_millis, subscription_from_row,
                subscription_to_row,
            };
            use $crate::reexports::diesel;
            use $crate::reexports::diesel::prelude::*;
            use $crate::reexports::diesel::result::{DatabaseErrorKind, Error as DieselError};
            use $crate::reexports::diesel_async::{AsyncConnection, RunQueryDsl};
            use $crate::reexports::domain;
            use $crate::rows::{millis, to_i64};
            use $crate::schema::{companies, topups, users};
            use $crate::{TxError, db_err, is_transient, retry_when};

            fn marker(e: &TxError, text: &str) -> bool {
        matches!(e, TxError::Store(StoreError::Conflict(m)) if m == text)
            }

            impl $store {
                async fn billing_attempt(
                    &self,
                    event: &BillingEvent,
                    effect: &BillingEffect,
                ) -> Result<ApplyOutcome, TxError> {
                    let mut conn = self.conn().await?;
                    conn.$begin(async |conn| -> Result<ApplyOutcome, TxError> {
                        let inserted = diesel::insert_into(billing_events::table)
                            .values((
                                billing_events::event_id.eq(&event.id),
                                billing_events::event_type.eq(&event.event_type),
                                billing_events::created_at.eq(millis(event.created)),
                                billing_events::received_at.eq(now_millis()),
                            ))
                            .execute(conn)
                            .await;
                        match inserted {
                            Err(DieselError::DatabaseError(
                                DatabaseErrorKind::UniqueViolation,
                                _,
                            )) => {
                                return Err(TxError::Store(StoreError::Conflict(
                                    DUPLICATE_EVENT.into(),
                                )));
                            }
                            other => other?,
                        };
                        match effect {
                            BillingEffect::Nothing => Ok(ApplyOutcome::Applied),
                            BillingEffect::Customer { payer, customer_id } => {
                                save_customer_tx(conn, *payer, customer_id).await?;
                                Ok(ApplyOutcome::Applied)
                            }
                            BillingEffect::PackPurchased(purchase) => {
                                let n = diesel::insert_or_ignore_into(billing_purchases::table)
                                    .values((
                                        billing_purchases::payment_id.eq(&purchase.payment_id),
                                        billing_purchases::subject.eq(purchase.payer.key()),
                                        billing_purchases::pack_id.eq(&purchase.pack_id),
                                        billing_purchases::tokens.eq(to_i64(purchase.tokens)),
                                        billing_purchases::amount.eq(purchase.amount),
                                        billing_purchases::refunded_tokens.eq(0_i64),
                                    ))
                                    .execute(conn)
                                    .await?;
                                // Another event for the same payment credited it already.
                                if n == 1 {
                                    adjust_topup(conn, purchase.payer, to_i64(purchase.tokens))
                                        .await?;
                                }
                                if let Some(customer_id) = &purchase.customer_id {
                                    save_customer_tx(conn, purchase.payer, customer_id).await?;
                                }
                                Ok(ApplyOutcome::Applied)
                            }
                            BillingEffect::Subscription(change) => {
                                apply_subscription(conn, change).await
                            }
                            BillingEffect::Refund {
                                payment_id,
                                amount_refunded,
                            } => {
                                let locked =
                                    diesel::update(billing_purchases::table.find(payment_id))
                                        .set(
                                            billing_purchases::refunded_tokens
                                                .eq(billing_purchases::refunded_tokens),
                                        )
                                        .execute(conn)
                                        .await?;
                                if locked == 0 {
                                    // Not a pack we sold: nothing to take back.
                                    return Ok(ApplyOutcome::Applied);
                                }
                                let (subject, tokens, amount, already): (String, i64, i64, i64) =
                                    billing_purchases::table
                                        .find(payment_id)
                                        .select((
                                            billing_purchases::subject,
                                            billing_purchases::tokens,
                                            billing_purchases::amount,
                                            billing_purchases::refunded_tokens,
                                        ))
                                        .first(conn)
                                        .await?;
                                let total = to_i64(refunded_tokens(
                                    $crate::rows::to_u64(tokens),
                                    amount,
                                    *amount_refunded,
                                ));
                                if total > already {
                                    diesel::update(billing_purchases::table.find(payment_id))
                                        .set(billing_purchases::refunded_tokens.eq(total))
                                        .execute(conn)
                                        .await?;
                                    if let Some(payer) = Subject::parse_key(&subject) {
                                        adjust_topup(conn, payer, already - total).await?;
                                    }
                                }
                                Ok(ApplyOutcome::Applied)
                            }
                        }
                    })
                    .await
                }
            }

            async fn save_customer_tx(
                conn: &mut $conn,
                payer: Subject,
                customer_id: &str,
            ) -> Result<(), TxError> {
                diesel::delete(
                    billing_customers::table.filter(
                        billing_customers::subject
                            .eq(payer.key())
                            .or(billing_customers::customer_id.eq(customer_id)),
                    ),
                )
                .execute(conn)
                .await?;
                diesel::insert_into(billing_customers::table)
                    .values((
                        billing_customers::subject.eq(payer.key()),
                        billing_customers::customer_id.eq(customer_id),
                    ))
                    .execute(conn)
                    .await?;
                Ok(())
            }

            /// Adds (or removes) purchased tokens; never below zero nor below what open turns
            /// hold, the same rule as `UsageLedger::add_topup`.
            async fn adjust_topup(
                conn: &mut $conn,
                payer: Subject,
                tokens: i64,
            ) -> Result<(), TxError> {
                let key = payer.key();
                let locked = diesel::update(topups::table.find(&key))
                    .set(topups::reserved.eq(topups::reserved))
                    .execute(conn)
                    .await?;
                if locked == 0 {
                    diesel::insert_into(topups::table)
                        .values((
                            topups::subject.eq(&key),
                            topups::balance.eq(tokens.max(0)),
                            topups::reserved.eq(0_i64),
                        ))
                        .execute(conn)
                        .await
                        .map_err(lost_race_retries)?;
                    return Ok(());
                }
                let (balance, reserved): (i64, i64) = topups::table
                    .find(&key)
                    .select((topups::balance, topups::reserved))
                    .first(conn)
                    .await?;
                let balance = (balance + tokens).max(reserved).max(0);
                diesel::update(topups::table.find(&key))
                    .set(topups::balance.eq(balance))
                    .execute(conn)
                    .await?;
                Ok(())
            }

            async fn apply_subscription(
                conn: &mut $conn,
                change: &SubscriptionChange,
            ) -> Result<ApplyOutcome, TxError> {
                let id = &change.state.subscription_id;
                let locked = diesel::update(billing_subscriptions::table.find(id))
                    .set(
                        billing_subscriptions::last_event_at
                            .eq(billing_subscriptions::last_event_at),
                    )
                    .execute(conn)
                    .await?;
                let row = (
                    billing_subscriptions::subscription_id,
                    billing_subscriptions::subject,
                    billing_subscriptions::status,
                    billing_subscriptions::plan_id,
                    billing_subscriptions::period_start,
                    billing_subscriptions::period_end,
                    billing_subscriptions::last_event_at,
                );
                let current = if locked == 0 {
                    None
                } else {
                    let found = billing_subscriptions::table
                        .find(id)
                        .select(row)
                        .first(conn)
                        .await?;
                    Some(subscription_from_row(found)?)
                };
                if is_stale(current.as_ref(), change) {
                    return Ok(ApplyOutcome::Stale);
                }
                let (_, subject, status, plan_id, start, end, last) =
                    subscription_to_row(&change.state);
                // An event without a price keeps the plan we knew.
                let plan_id = plan_id.or_else(|| current.and_then(|c| c.plan_id));
                if locked == 0 {
                    diesel::insert_into(billing_subscriptions::table)
                        .values((
                            billing_subscriptions::subscription_id.eq(id),
                            billing_subscriptions::subject.eq(&subject),
                            billing_subscriptions::status.eq(&status),
                            billing_subscriptions::plan_id.eq(&plan_id),
                            billing_subscriptions::period_start.eq(start),
                            billing_subscriptions::period_end.eq(end),
                            billing_subscriptions::last_event_at.eq(last),
                        ))
                        .execute(conn)
                        .await
                        .map_err(lost_race_retries)?;
                } else {
                    diesel::update(billing_subscriptions::table.find(id))
                        .set((
                            billing_subscriptions::subject.eq(&subject),
                            billing_subscriptions::status.eq(&status),
                            billing_subscriptions::plan_id.eq(&plan_id),
                            billing_subscriptions::period_start.eq(start),
                            billing_subscriptions::period_end.eq(end),
                            billing_subscriptions::last_event_at.eq(last),
                        ))
                        .execute(conn)
                        .await?;
                }
                if let Some((plan, seats)) = &change.set_plan {
                    match change.state.payer {
                        Subject::User(user) => {
                            diesel::update(users::table.find(user.0))
                                .set(users::plan_id.eq(plan))
                                .execute(conn)
                                .await?;
                        }
                        Subject::Company(company) => {
                            diesel::update(companies::table.find(company.0))
                                .set(companies::plan_id.eq(plan))
                                .execute(conn)
                                .await?;
                            if let Some(seats) = seats {
                                let seats = i32::try_from(*seats).unwrap_or(i32::MAX);
                                diesel::update(companies::table.find(company.0))
                                    .set(companies::seat_limit.eq(seats))
                                    .execute(conn)
                                    .await?;
                            }
                        }
                    }
                }
                if let Some(period) = change.set_billing_period {
                    let start = period.map(|p| millis(p.start));
                    let end = period.map(|p| millis(p.end));
                    match change.state.payer {
                        Subject::User(user) => {
                            diesel::update(users::table.find(user.0))
                                .set((
                                    users::billing_period_start.eq(start),
                                    users::billing_period_end.eq(end),
                                ))
                                .execute(conn)
                                .await?;
                        }
                        Subject::Company(company) => {
                            diesel::update(companies::table.find(company.0))
                                .set((
                                    companies::billing_period_start.eq(start),
                                    companies::billing_period_end.eq(end),
                                ))
                                .execute(conn)
                                .await?;
                        }
                    }
                }
                if let Some(customer_id) = &change.customer_id {
                    save_customer_tx(conn, change.state.payer, customer_id).await?;
                }
                Ok(ApplyOutcome::Applied)
            }

            impl BillingStore for $store {
                async fn apply_billing_event(
                    &self,
                    event: &BillingEvent,
                    effect: &BillingEffect,
                ) -> StoreResult<ApplyOutcome> {
                    let worth_retrying = |e: &TxError| is_transient(e) || marker(e, RETRY);
                    match retry_when(worth_retrying, || self.billing_attempt(event, effect)).await {
                        Ok(outcome) => Ok(outcome),
                        Err(e) if marker(&e, DUPLICATE_EVENT) => Ok(ApplyOutcome::Duplicate),
                        Err(e) => Err(StoreError::from(e)),
                    }
                }

                async fn customer_of(&self, payer: Subject) -> StoreResult<Option<String>> {
                    let mut conn = self.conn().await?;
                    billing_customers::table
                        .find(payer.key())
                        .select(billing_customers::customer_id)
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)
                }

                async fn save_customer(
                    &self,
                    payer: Subject,
                    customer_id: &str,
                ) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    conn.$begin(async |conn| -> Result<(), TxError> {
                        save_customer_tx(conn, payer, customer_id).await
                    })
                    .await
                    .map_err(StoreError::from)
                }

                async fn subscription(
                    &self,
                    subscription_id: &str,
                ) -> StoreResult<Option<SubscriptionState>> {
                    let mut conn = self.conn().await?;
                    let row = billing_subscriptions::table
                        .find(subscription_id)
                        .select((
                            billing_subscriptions::subscription_id,
                            billing_subscriptions::subject,
                            billing_subscriptions::status,
                            billing_subscriptions::plan_id,
                            billing_subscriptions::period_start,
                            billing_subscriptions::period_end,
                            billing_subscriptions::last_event_at,
                        ))
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    row.map(subscription_from_row).transpose()
                }
            }
        };
    };
}
