//! Opening the database `DATABASE_URL` selects, with migrations applied.

use crate::settings::{DatabaseKind, Settings, SettingsError};
use persistence_mysql::MysqlStore;
use persistence_sqlite::SqliteStore;
use std::time::Duration;

pub enum Database {
    Sqlite(SqliteStore),
    Mysql(MysqlStore),
}

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("DATABASE_URL: {0}")]
    Sqlite(#[from] persistence_sqlite::SqliteSetupError),
    #[error("DATABASE_URL: {0}")]
    Mysql(#[from] persistence_mysql::MysqlSetupError),
    #[error("DATABASE_URL: no answer from the database within {0:?}")]
    Timeout(Duration),
}

/// How long start-up waits for the database before giving up with a clear message.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the configured database and applies pending migrations.
pub async fn open(settings: &Settings) -> Result<Database, DatabaseError> {
    let open = async {
        Ok(match settings.database()? {
            DatabaseKind::Sqlite(path) => Database::Sqlite(SqliteStore::open(&path).await?),
            DatabaseKind::Mysql(url) => {
                Database::Mysql(MysqlStore::open(&url, settings.mysql_pool_size).await?)
            }
        })
    };
    tokio::time::timeout(CONNECT_TIMEOUT, open)
        .await
        .map_err(|_| DatabaseError::Timeout(CONNECT_TIMEOUT))?
}

/// Applies pending migrations only (for `botpsicologo migrate` and `cargo xtask migrate`).
pub async fn migrate(settings: &Settings) -> Result<usize, DatabaseError> {
    Ok(match settings.database()? {
        DatabaseKind::Sqlite(path) => {
            if let Some(dir) = std::path::Path::new(&path).parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            persistence_sqlite::run_migrations(&path).await?
        }
        DatabaseKind::Mysql(url) => persistence_mysql::run_migrations(&url).await?,
    })
}
