//! # persistence-sqlite
//!
//! The embedded default: every store port and the usage ledger on one SQLite file, so a fresh
//! machine runs the server with no database server. The queries are shared with MySQL
//! ([`persistence_sql::impl_sql_stores!`]); this crate brings the pool, the SQLite settings and
//! the SQLite migrations (`migrations/sqlite`).

use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use domain::ports::Readiness;
use domain::ports::StoreError;
use futures::FutureExt;
use std::path::Path;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

type Conn = SyncConnectionWrapper<SqliteConnection>;

/// Per-connection settings. WAL lets readers and one writer work at once; `busy_timeout` makes a
/// second writer wait instead of failing; `secure_delete` overwrites deleted rows (conversations
/// must really be gone after a delete, not linger in free pages).
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;";

#[derive(Debug, thiserror::Error)]
pub enum SqliteSetupError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open SQLite database {path}: {message}")]
    Open { path: String, message: String },
    /// Also what a read-only or full data directory gives at start-up: the message says which.
    #[error("cannot prepare SQLite database {path}: {message}")]
    Migrations { path: String, message: String },
}

/// The SQLite adapter: a small pool of connections to one database file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: Pool<Conn>,
    ledger: std::sync::Arc<persistence_sql::LocalLedger>,
}

/// Turns `sqlite://path`, `sqlite:path` or a plain path into a file path.
pub fn path_from_url(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<SqliteStore, SqliteSetupError> {
        let path = path_from_url(url).to_string();
        if let Some(dir) = Path::new(&path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| SqliteSetupError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        // SQLite says only "unable to open database file" for a read-only file system or a
        // file it may not write; the OS error says which.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| SqliteSetupError::Open {
                path: path.clone(),
                message: format!("the file is not writable: {e}"),
            })?;
        run_migrations(&path).await?;
        let mut config = ManagerConfig::default();
        config.custom_setup = Box::new(|url| {
            async move {
                let mut conn = Conn::establish(url).await?;
                conn.batch_execute(PRAGMAS)
                    .await
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(conn)
            }
            .boxed()
        });
        let manager = AsyncDieselConnectionManager::<Conn>::new_with_config(&path, config);
        let pool =
            Pool::builder(manager)
                .max_size(8)
                .build()
                .map_err(|e| SqliteSetupError::Open {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
        let store = SqliteStore {
            pool,
            ledger: Default::default(),
        };
        store.ping().await.map_err(|e| SqliteSetupError::Open {
            path,
            message: e.to_string(),
        })?;
        Ok(store)
    }

    fn local_ledger(&self) -> &persistence_sql::LocalLedger {
        &self.ledger
    }

    async fn conn(&self) -> Result<Object<Conn>, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

/// Applies pending migrations on a plain synchronous connection, off the async runtime.
pub async fn run_migrations(path: &str) -> Result<usize, SqliteSetupError> {
    let path = path.to_string();
    let failed = |path: &str, message: String| SqliteSetupError::Migrations {
        path: path.to_string(),
        message,
    };
    let task_path = path.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let path = task_path;
        let mut conn = SqliteConnection::establish(&path).map_err(|e| SqliteSetupError::Open {
            path: path.clone(),
            message: e.to_string(),
        })?;
        conn.batch_execute(PRAGMAS)
            .map_err(|e| failed(&path, e.to_string()))?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| failed(&path, e.to_string()))?;
        Ok(applied.len())
    })
    .await
    .map_err(|e| failed(&path, e.to_string()))?
}

persistence_sql::impl_sql_stores!(SqliteStore, Conn, sqlite);
persistence_sql::impl_billing_store!(SqliteStore, immediate_transaction, Conn);
persistence_sql::impl_safety_plan_store!(SqliteStore);
