//! # persistence-mysql
//!
//! Every store port and the usage ledger on MySQL or MariaDB, for production and multi-instance
//! deployments (quotas hold globally because every instance reserves in the same rows). The
//! queries are shared with SQLite ([`persistence_sql::impl_sql_stores!`]); this crate brings the
//! pool and the MySQL migrations (`migrations/mysql`).

use diesel_async::AsyncMysqlConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use domain::ports::Readiness;
use domain::ports::StoreError;
use std::time::Duration;

mod pool;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/mysql");

#[derive(Debug, thiserror::Error)]
pub enum MysqlSetupError {
    #[error("cannot connect to MySQL at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("MySQL migrations failed: {0}")]
    Migrations(String),
}

/// The MySQL adapter: a pool of connections shared by all requests of this instance.
#[derive(Clone)]
pub struct MysqlStore {
    pool: Pool<AsyncMysqlConnection>,
    ledger: std::sync::Arc<persistence_sql::LocalLedger>,
}

/// `mysql://user:password@host/db` with the password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl MysqlStore {
    /// Connects, applies pending migrations and checks the pool answers.
    pub async fn open(url: &str, pool_size: usize) -> Result<MysqlStore, MysqlSetupError> {
        run_migrations(url).await?;
        let pool = Pool::builder(pool::manager(url))
            .max_size(pool_size.max(1))
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| MysqlSetupError::Connect {
                url: redact(url),
                message: e.to_string(),
            })?;
        let store = MysqlStore {
            pool,
            ledger: Default::default(),
        };
        store.ping().await.map_err(|e| MysqlSetupError::Connect {
            url: redact(url),
            message: e.to_string(),
        })?;
        Ok(store)
    }

    fn local_ledger(&self) -> &persistence_sql::LocalLedger {
        &self.ledger
    }

    async fn conn(&self) -> Result<Object<AsyncMysqlConnection>, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

/// Applies pending migrations. The migration harness is synchronous (it blocks on the async
/// connection internally), so it runs on a blocking thread.
pub async fn run_migrations(url: &str) -> Result<usize, MysqlSetupError> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut conn =
            <AsyncConnectionWrapper<AsyncMysqlConnection> as diesel::Connection>::establish(&url)
                .map_err(|e| MysqlSetupError::Connect {
                url: redact(&url),
                message: e.to_string(),
            })?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| MysqlSetupError::Migrations(e.to_string()))?;
        Ok(applied.len())
    })
    .await
    .map_err(|e| MysqlSetupError::Migrations(e.to_string()))?
}

persistence_sql::impl_sql_stores!(MysqlStore, AsyncMysqlConnection, mysql);
persistence_sql::impl_billing_store!(MysqlStore, transaction, AsyncMysqlConnection);
persistence_sql::impl_safety_plan_store!(MysqlStore);

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("mysql://root:secret@127.0.0.1:3306/db"),
            "mysql://root:***@127.0.0.1:3306/db"
        );
        assert_eq!(
            super::redact("mysql://127.0.0.1/db"),
            "mysql://127.0.0.1/db"
        );
    }
}

#[cfg(feature = "test-support")]
pub mod test_support;
