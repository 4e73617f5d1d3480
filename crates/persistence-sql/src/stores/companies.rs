//! Companies and their invitations: [`domain::ports::CompanyStore`] and
//! [`domain::ports::InvitationStore`].

/// Implements the company and invitation stores for `$store` (see [`crate::impl_sql_stores!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_company_stores {
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
            use $crate::{TxError, db_err};

            // `transaction` is `AsyncConnection`'s; SQLite's `immediate_transaction` is its own.
            #[allow(unused_imports)]
            use $crate::reexports::diesel_async::AsyncConnection;

            impl CompanyStore for $store {
                async fn insert_company(&self, company: &Company) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_into(companies::table)
                        .values(CompanyRow::from(company))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn company_by_id(&self, id: CompanyId) -> StoreResult<Option<Company>> {
                    let mut conn = self.conn().await?;
                    let row = companies::table
                        .find(id.0)
                        .select(CompanyRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    Ok(row.map(Company::from))
                }

                async fn update_company(&self, company: &Company) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    let n = diesel::update(companies::table.find(company.id.0))
                        .set(CompanyRow::from(company))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    found(n)
                }

                async fn delete_company(&self, id: CompanyId) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    conn.$begin(async |conn| -> Result<(), TxError> {
                        let members: Vec<i64> = users::table
                            .filter(users::company_id.eq(id.0))
                            .select(users::id)
                            .load(conn)
                            .await?;
                        diesel::delete(sessions::table.filter(sessions::user_id.eq_any(&members)))
                            .execute(conn)
                            .await?;
                        diesel::delete(messages::table.filter(messages::user_id.eq_any(&members)))
                            .execute(conn)
                            .await?;
                        diesel::delete(users::table.filter(users::company_id.eq(id.0)))
                            .execute(conn)
                            .await?;
                        diesel::delete(invitations::table.filter(invitations::company_id.eq(id.0)))
                            .execute(conn)
                            .await?;
                        let n = diesel::delete(companies::table.find(id.0))
                            .execute(conn)
                            .await?;
                        Ok(found(n)?)
                    })
                    .await
                    .map_err(StoreError::from)
                }

                async fn list_companies(&self) -> StoreResult<Vec<Company>> {
                    let mut conn = self.conn().await?;
                    let rows = companies::table
                        .select(CompanyRow::as_select())
                        .order(companies::name.asc())
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(rows.into_iter().map(Company::from).collect())
                }
            }

            impl InvitationStore for $store {
                async fn insert_invitation(&self, invitation: &Invitation) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_into(invitations::table)
                        .values(InvitationRow::from(invitation))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn invitation_by_hash(
                    &self,
                    token_hash: &str,
                ) -> StoreResult<Option<Invitation>> {
                    let mut conn = self.conn().await?;
                    let row = invitations::table
                        .find(token_hash)
                        .select(InvitationRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    row.map(Invitation::try_from).transpose()
                }

                async fn mark_invitation_accepted(
                    &self,
                    token_hash: &str,
                    at: chrono::DateTime<chrono::Utc>,
                ) -> StoreResult<bool> {
                    let mut conn = self.conn().await?;
                    // Conditional update: of two racing acceptances exactly one matches the row.
                    let n = diesel::update(
                        invitations::table
                            .filter(invitations::token_hash.eq(token_hash))
                            .filter(invitations::accepted_at.is_null()),
                    )
                    .set(invitations::accepted_at.eq(millis(at)))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    Ok(n == 1)
                }

                async fn invitations_of_company(
                    &self,
                    company: CompanyId,
                ) -> StoreResult<Vec<Invitation>> {
                    let mut conn = self.conn().await?;
                    let rows = invitations::table
                        .filter(invitations::company_id.eq(company.0))
                        .select(InvitationRow::as_select())
                        .order(invitations::created_at.desc())
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    rows.into_iter().map(Invitation::try_from).collect()
                }

                async fn delete_invitation(&self, token_hash: &str) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::delete(invitations::table.find(token_hash))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn purge_expired_invitations(
                    &self,
                    now: chrono::DateTime<chrono::Utc>,
                ) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n = diesel::delete(
                        invitations::table.filter(invitations::expires_at.lt(millis(now))),
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
