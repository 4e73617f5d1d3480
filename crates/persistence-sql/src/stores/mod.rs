//! Every store port and the usage ledger, written once for any diesel-async connection: one
//! file per port (or per pair of ports that share tables), each a macro that
//! [`impl_sql_stores!`](crate::impl_sql_stores) expands for an adapter's store type. What
//! needs no database (assembling rows into domain values) is in plain functions beside them,
//! and the ledger's transactions and group commit are generic code in [`crate::ledger`].
//!
//! The invoking crate passes its store type, which must have an inherent
//! `async fn conn(&self) -> Result<impl DerefMut<Target = Conn> + Send, StoreError>` and
//! `fn local_ledger(&self) -> &LocalLedger`, and must be `Clone` (a clone applies queued turns
//! in a task of its own, see [`crate::turn_queue`]); the connection type its transactions run
//! on; and its backend, `mysql` or `sqlite`, which decides how a write transaction opens:
//! `immediate_transaction` on SQLite (takes the write lock up front, so two writers never
//! deadlock on a lock upgrade) and `transaction` on MySQL (rows are locked in a fixed order
//! inside the transaction). How the ledger locks the rows it reads is the connection's
//! ([`crate::ledger::LedgerConn`]).

pub mod audit;
pub mod companies;
pub mod conversations;
pub mod jobs;
pub mod ledger;
pub mod library;
pub mod reports;
pub mod sessions;
pub mod users;

use domain::ports::{StoreError, StoreResult};

/// `Ok` when a statement that must change a row changed some, `NotFound` when it changed none.
pub fn found(rows: usize) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Implements every store port and the usage ledger for `$store`, whose transactions run on
/// `$conn` of backend `mysql` or `sqlite` (see the [module](crate::stores)).
#[macro_export]
macro_rules! impl_sql_stores {
    ($store:ty, $conn:ty, mysql) => {
        $crate::impl_sql_stores!(@impl $store, $conn, transaction);
    };
    ($store:ty, $conn:ty, sqlite) => {
        $crate::impl_sql_stores!(@impl $store, $conn, immediate_transaction);
    };
    (@impl $store:ty, $conn:ty, $begin:ident) => {
        $crate::impl_sql_store_base!($store, $conn);
        $crate::impl_user_store!($store, $begin);
        $crate::impl_session_store!($store);
        $crate::impl_company_stores!($store, $begin);
        $crate::impl_audit_log!($store);
        $crate::impl_conversation_store!($store, $begin);
        $crate::impl_library_store!($store, $begin);
        $crate::impl_job_stores!($store);
        $crate::impl_usage_reports!($store);
        $crate::impl_usage_ledger!($store, $begin);
    };
}

/// [`crate::ledger::SqlStore`] (from the store's inherent `conn` and `local_ledger`) and
/// [`domain::ports::Readiness`] for `$store`.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_store_base {
    ($store:ty, $conn:ty) => {
        const _: () = {
            use domain::ports::{Readiness, StoreResult};
            use std::ops::DerefMut;
            use $crate::reexports::diesel::{self, dsl};
            use $crate::reexports::diesel_async::RunQueryDsl;
            use $crate::reexports::domain;
            use $crate::{LocalLedger, db_err};

            impl $crate::ledger::SqlStore for $store {
                type Conn = $conn;

                fn connection(
                    &self,
                ) -> impl Future<Output = StoreResult<impl DerefMut<Target = $conn> + Send>> + Send
                {
                    self.conn()
                }

                fn local_ledger(&self) -> &LocalLedger {
                    <$store>::local_ledger(self)
                }
            }

            impl Readiness for $store {
                async fn ping(&self) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::select(dsl::sql::<diesel::sql_types::Integer>("1"))
                        .get_result::<i32>(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }
            }
        };
    };
}
