//! The audit log: [`domain::ports::AuditLog`].

/// Implements [`domain::ports::AuditLog`] for `$store` (see [`crate::impl_sql_stores!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_audit_log {
    ($store:ty) => {
        const _: () = {
            use domain::audit::AuditEntry;
            use domain::ports::*;
            use $crate::db_err;
            use $crate::reexports::diesel;
            use $crate::reexports::diesel::prelude::*;
            use $crate::reexports::diesel_async::RunQueryDsl;
            use $crate::reexports::domain;
            use $crate::rows::*;
            use $crate::schema::*;

            impl AuditLog for $store {
                async fn record(&self, entry: &AuditEntry) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_into(audit_log::table)
                        .values(AuditRow::from(entry))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn recent(&self, offset: u64, limit: u64) -> StoreResult<Vec<AuditEntry>> {
                    let mut conn = self.conn().await?;
                    let rows = audit_log::table
                        .select(AuditRow::as_select())
                        .order((audit_log::at.desc(), audit_log::id.desc()))
                        .offset(to_i64(offset))
                        .limit(to_i64(limit.max(1)))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(rows.into_iter().map(AuditEntry::from).collect())
                }
            }
        };
    };
}
