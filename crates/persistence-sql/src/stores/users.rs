//! The people: [`domain::ports::UserStore`].

/// Implements [`domain::ports::UserStore`] for `$store` (see [`crate::impl_sql_stores!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_user_store {
    ($store:ty, $begin:ident) => {
        const _: () = {
            use domain::ports::*;
            use domain::*;
            use $crate::reexports::diesel;
            use $crate::reexports::diesel::prelude::*;
            use $crate::reexports::diesel_async::RunQueryDsl;
            use $crate::reexports::domain;
            use $crate::rows::*;
            use $crate::schema::*;
            use $crate::stores::found;
            use $crate::{TxError, contains_pattern, db_err};

            // `transaction` is `AsyncConnection`'s; SQLite's `immediate_transaction` is its own.
            #[allow(unused_imports)]
            use $crate::reexports::diesel_async::AsyncConnection;

            impl UserStore for $store {
                async fn insert_user(&self, user: &User) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_into(users::table)
                        .values(UserRow::from(user))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
                    let mut conn = self.conn().await?;
                    let row = users::table
                        .find(id.0)
                        .select(UserRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    row.map(User::try_from).transpose()
                }

                async fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
                    let mut conn = self.conn().await?;
                    let row = users::table
                        .filter(users::email.eq(email.as_str()))
                        .select(UserRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    row.map(User::try_from).transpose()
                }

                async fn update_user(&self, user: &User) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    let n = diesel::update(users::table.find(user.id.0))
                        .set(UserRow::from(user))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    found(n)
                }

                async fn delete_user(&self, id: UserId) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    conn.$begin(async |conn| -> Result<(), TxError> {
                        diesel::delete(sessions::table.filter(sessions::user_id.eq(id.0)))
                            .execute(conn)
                            .await?;
                        diesel::delete(messages::table.filter(messages::user_id.eq(id.0)))
                            .execute(conn)
                            .await?;
                        let n = diesel::delete(users::table.find(id.0))
                            .execute(conn)
                            .await?;
                        Ok(found(n)?)
                    })
                    .await
                    .map_err(StoreError::from)
                }

                async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<User>> {
                    let mut conn = self.conn().await?;
                    let mut q = users::table.select(UserRow::as_select()).into_boxed();
                    if let Some(company) = query.company_id {
                        q = q.filter(users::company_id.eq(company.0));
                    }
                    if let Some(search) = query
                        .search
                        .as_deref()
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                    {
                        let pattern = $crate::contains_pattern(&search.to_lowercase());
                        q = q.filter(
                            users::email
                                .like(pattern.clone())
                                .escape('\\')
                                .or(users::display_name.like(pattern).escape('\\')),
                        );
                    }
                    let rows = q
                        .order(users::email.asc())
                        .offset(to_i64(query.offset))
                        .limit(to_i64(query.limit.max(1)))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    rows.into_iter().map(User::try_from).collect()
                }

                async fn count_users(&self) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n: i64 = users::table
                        .count()
                        .get_result(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(to_u64(n))
                }

                async fn count_company_members(&self, company: CompanyId) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n: i64 = users::table
                        .filter(users::company_id.eq(company.0))
                        .count()
                        .get_result(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(to_u64(n))
                }
            }
        };
    };
}
