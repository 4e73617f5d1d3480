//! Sign-in sessions: [`domain::ports::SessionStore`].

use crate::rows::{MessageRow, SessionRow, UserRow};
use domain::User;
use domain::account::Session;
use domain::conversation::SealedMessage;
use domain::ports::StoreResult;

/// A session, its person and their newest messages (newest first), from the rows of the join
/// `session_with_recent_messages` reads; `None` without rows (no such session, or a person
/// without messages).
#[allow(clippy::type_complexity)]
pub fn with_recent_messages(
    rows: Vec<(SessionRow, UserRow, MessageRow)>,
) -> StoreResult<Option<(Session, User, Vec<SealedMessage>)>> {
    let mut rows = rows.into_iter();
    let Some((session, user, newest)) = rows.next() else {
        return Ok(None);
    };
    let recent = std::iter::once(newest)
        .chain(rows.map(|(_, _, message)| message))
        .map(SealedMessage::try_from)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some((session.try_into()?, user.try_into()?, recent)))
}

/// Implements [`domain::ports::SessionStore`] for `$store` (see [`crate::impl_sql_stores!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_session_store {
    ($store:ty) => {
        const _: () = {
            use domain::account::Session;
            use domain::conversation::SealedMessage;
            use domain::ports::*;
            use domain::*;
            use $crate::db_err;
            use $crate::reexports::diesel;
            use $crate::reexports::diesel::prelude::*;
            use $crate::reexports::diesel_async::RunQueryDsl;
            use $crate::reexports::domain;
            use $crate::rows::*;
            use $crate::schema::*;
            use $crate::stores::sessions::with_recent_messages;

            impl SessionStore for $store {
                async fn insert_session(&self, session: &Session) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_into(sessions::table)
                        .values(SessionRow::from(session))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn session_with_user(
                    &self,
                    token_hash: &str,
                ) -> StoreResult<Option<(Session, User)>> {
                    let mut conn = self.conn().await?;
                    let row = sessions::table
                        .inner_join(users::table.on(users::id.eq(sessions::user_id)))
                        .filter(sessions::token_hash.eq(token_hash))
                        .select((SessionRow::as_select(), UserRow::as_select()))
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    row.map(|(session, user)| Ok((session.try_into()?, user.try_into()?)))
                        .transpose()
                }

                async fn session_with_recent_messages(
                    &self,
                    token_hash: &str,
                    limit: u64,
                ) -> StoreResult<Option<(Session, User, Vec<SealedMessage>)>> {
                    let mut conn = self.conn().await?;
                    // An inner join, which both databases answer by reading the newest rows of
                    // `messages_user` backwards and stopping at `limit`; with a left join (to
                    // keep the session of a person without messages) MariaDB reads and sorts
                    // the person's whole history. So that case, rare, takes a second query.
                    let rows: Vec<(SessionRow, UserRow, MessageRow)> = sessions::table
                        .inner_join(users::table.on(users::id.eq(sessions::user_id)))
                        .inner_join(messages::table.on(messages::user_id.eq(sessions::user_id)))
                        .filter(sessions::token_hash.eq(token_hash))
                        .order(messages::id.desc())
                        .limit(to_i64(limit.max(1)))
                        .select((
                            SessionRow::as_select(),
                            UserRow::as_select(),
                            MessageRow::as_select(),
                        ))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    drop(conn);
                    match with_recent_messages(rows)? {
                        Some(found) => Ok(Some(found)),
                        // No messages yet: the session and its person alone.
                        None => Ok(self
                            .session_with_user(token_hash)
                            .await?
                            .map(|(session, user)| (session, user, Vec::new()))),
                    }
                }

                async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::delete(sessions::table.find(token_hash))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn delete_user_sessions(&self, user: UserId) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n = diesel::delete(sessions::table.filter(sessions::user_id.eq(user.0)))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(n as u64)
                }

                async fn purge_expired_sessions(
                    &self,
                    now: chrono::DateTime<chrono::Utc>,
                ) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n = diesel::delete(
                        sessions::table.filter(sessions::expires_at.le(millis(now))),
                    )
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    Ok(n as u64)
                }
            }
        };
    };
}
