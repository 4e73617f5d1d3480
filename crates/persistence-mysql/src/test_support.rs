//! Fresh databases for tests: each test gets its own, so tests run in parallel.
//!
//! The server comes from `TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`). When it cannot
//! be reached, tests are skipped with a loud message, except under `CI=true`, where they fail.

use diesel_async::{AsyncConnection, AsyncMysqlConnection, SimpleAsyncConnection};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;

static COUNTER: AtomicU32 = AtomicU32::new(0);
static SWEPT: OnceCell<()> = OnceCell::const_new();

pub fn server_url() -> String {
    std::env::var("TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_string())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Creates an empty database and returns its URL, or `None` (after saying so) when the server
/// is unreachable outside CI.
pub async fn fresh_database_url() -> Option<String> {
    let server = server_url();
    let mut admin = match AsyncMysqlConnection::establish(&format!("{server}/test")).await {
        Ok(conn) => conn,
        Err(e) if in_ci() => panic!("MySQL unreachable at {server} under CI=true: {e}"),
        Err(e) => {
            eprintln!("SKIPPED: MySQL unreachable at {server}: {e}");
            return None;
        }
    };
    SWEPT
        .get_or_init(|| async { sweep_old_databases(&mut admin).await })
        .await;
    let name = format!(
        "bp_t{}_{}_{}",
        now_secs(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    admin
        .batch_execute(&format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        .await
        .expect("create test database");
    Some(format!("{server}/{name}"))
}

/// Drops test databases left by runs more than an hour old, so the server does not fill up.
async fn sweep_old_databases(admin: &mut AsyncMysqlConnection) {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let names: Vec<Name> = diesel::sql_query(
        "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE 'bp\\_t%'",
    )
    .load(admin)
    .await
    .unwrap_or_default();
    let cutoff = now_secs().saturating_sub(3_600);
    for Name { name } in names {
        let created: u64 = name
            .trim_start_matches("bp_t")
            .split('_')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
        if created < cutoff {
            let _ = admin
                .batch_execute(&format!("DROP DATABASE `{name}`"))
                .await;
        }
    }
}
