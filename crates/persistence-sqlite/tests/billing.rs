//! SQLite passes the billing-store contract.

use persistence_sqlite::SqliteStore;
use std::sync::atomic::{AtomicU32, Ordering};

static N: AtomicU32 = AtomicU32::new(0);

async fn fresh() -> Option<SqliteStore> {
    let path = format!(
        "{}/billing-{}-{}.db",
        env!("CARGO_TARGET_TMPDIR"),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let _ = std::fs::remove_file(&path);
    Some(
        SqliteStore::open(&format!("sqlite://{path}"))
            .await
            .expect("open sqlite"),
    )
}

contracts::billing_contract_tests!(fresh);
