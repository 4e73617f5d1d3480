//! Sealed chat messages: [`domain::ports::ConversationStore`].

/// Implements [`domain::ports::ConversationStore`] for `$store` (see
/// [`crate::impl_sql_stores!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_conversation_store {
    ($store:ty, $begin:ident) => {
        const _: () = {
            use domain::conversation::SealedMessage;
            use domain::ports::ConversationStore;
            use domain::ports::*;
            use domain::*;
            use $crate::reexports::diesel;
            use $crate::reexports::diesel::prelude::*;
            use $crate::reexports::diesel_async::RunQueryDsl;
            use $crate::reexports::domain;
            use $crate::rows::*;
            use $crate::schema::*;
            use $crate::{TxError, db_err};

            // `transaction` is `AsyncConnection`'s; SQLite's `immediate_transaction` is its own.
            #[allow(unused_imports)]
            use $crate::reexports::diesel_async::AsyncConnection;

            impl ConversationStore for $store {
                async fn insert_messages(&self, messages: &[SealedMessage]) -> StoreResult<()> {
                    let rows: Vec<MessageRow> = messages.iter().map(MessageRow::from).collect();
                    let mut conn = self.conn().await?;
                    // One statement per row: diesel has no multi-row insert for SQLite through the
                    // async wrapper, and a turn only ever stores two messages.
                    conn.$begin(async |conn| -> Result<(), TxError> {
                        for row in &rows {
                            diesel::insert_into(messages::table)
                                .values(row)
                                .execute(conn)
                                .await?;
                        }
                        Ok(())
                    })
                    .await
                    .map_err(StoreError::from)
                }

                async fn messages_page(
                    &self,
                    user: UserId,
                    before: Option<MessageId>,
                    limit: u64,
                ) -> StoreResult<Vec<SealedMessage>> {
                    let mut conn = self.conn().await?;
                    let mut q = messages::table
                        .filter(messages::user_id.eq(user.0))
                        .select(MessageRow::as_select())
                        .into_boxed();
                    if let Some(before) = before {
                        q = q.filter(messages::id.lt(before.0));
                    }
                    let rows = q
                        .order(messages::id.desc())
                        .limit(to_i64(limit.max(1)))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    rows.into_iter().map(SealedMessage::try_from).collect()
                }

                async fn delete_messages(&self, user: UserId) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n = diesel::delete(messages::table.filter(messages::user_id.eq(user.0)))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(n as u64)
                }
            }
        };
    };
}
