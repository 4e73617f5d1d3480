//! The databases a run uses: a fresh SQLite file or MySQL database per run, and MySQL's own
//! counters of what the server sent it.

use super::{Backend, BenchResult, REDIS_URL};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, SimpleAsyncConnection};
use std::path::Path;

pub(super) const SERVER_SERVER: &str = "mysql://root@127.0.0.1:3306";

/// A fresh database for a run: a file in a temporary directory, or a new MySQL database that is
/// dropped afterwards.
pub struct Database {
    pub url: String,
    pub redis: String,
    pub(super) mysql_name: Option<String>,
}

impl Database {
    pub async fn create(backend: Backend, dir: &Path, tag: &str) -> BenchResult<Database> {
        match backend {
            Backend::Sqlite => Ok(Database {
                url: format!("sqlite://{}", dir.join(format!("{tag}.db")).display()),
                redis: String::new(),
                mysql_name: None,
            }),
            Backend::MysqlRedis => {
                let name = format!("bench_{}_{tag}", std::process::id());
                mysql_admin(&format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4")).await?;
                Ok(Database {
                    url: format!("{SERVER_SERVER}/{name}"),
                    redis: REDIS_URL.to_string(),
                    mysql_name: Some(name),
                })
            }
        }
    }

    pub async fn drop_it(&self) {
        if let Some(name) = &self.mysql_name {
            let _ = mysql_admin(&format!("DROP DATABASE IF EXISTS `{name}`")).await;
        }
    }
}

pub(super) async fn mysql_admin(sql: &str) -> BenchResult<()> {
    mysql_server()
        .await?
        .batch_execute(sql)
        .await
        .map_err(|e| format!("MySQL `{sql}`: {e}"))
}

pub(super) async fn mysql_server() -> BenchResult<AsyncMysqlConnection> {
    AsyncMysqlConnection::establish(&format!("{SERVER_SERVER}/mysql"))
        .await
        .map_err(|e| format!("MySQL at {SERVER_SERVER}: {e}"))
}

/// A counter of `SHOW GLOBAL STATUS` (such as `Questions`, the statements clients sent).
pub async fn mysql_status(variable: &str) -> BenchResult<u64> {
    use diesel_async::RunQueryDsl as _;
    #[derive(diesel::QueryableByName)]
    struct Status {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "Value")]
        value: String,
    }
    let rows: Vec<Status> = diesel::sql_query(format!("SHOW GLOBAL STATUS LIKE '{variable}'"))
        .load(&mut mysql_server().await?)
        .await
        .map_err(|e| format!("MySQL status {variable}: {e}"))?;
    rows.into_iter()
        .next()
        .and_then(|r| r.value.parse().ok())
        .ok_or_else(|| format!("MySQL has no status counter {variable}"))
}
