//! SQLite passes the store, ledger and billing-store contracts.

use persistence_sqlite::SqliteStore;
use std::sync::atomic::{AtomicU32, Ordering};

static N: AtomicU32 = AtomicU32::new(0);

async fn fresh() -> Option<SqliteStore> {
    // Files under cargo's per-crate temporary directory: removed with the target directory.
    let path = format!(
        "{}/contract-{}-{}.db",
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

contracts::store_contract_tests!(fresh);
contracts::billing_contract_tests!(fresh);

#[tokio::test]
async fn reopening_keeps_data_and_migrations_are_idempotent() {
    use domain::ports::UserStore;
    let path = format!(
        "{}/reopen-{}.db",
        env!("CARGO_TARGET_TMPDIR"),
        std::process::id()
    );
    let _ = std::fs::remove_file(&path);
    let u = contracts::fixtures::user("keep@example.com", domain::Role::Individual, None);
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.insert_user(&u).await.unwrap();
    }
    assert_eq!(persistence_sqlite::run_migrations(&path).await.unwrap(), 0);
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.user_by_id(u.id).await.unwrap(), Some(u));
}

#[tokio::test]
async fn unwritable_location_is_a_clear_error() {
    let err = SqliteStore::open("sqlite:///proc/botpsicologo/x.db")
        .await
        .err()
        .expect("must fail");
    assert!(err.to_string().contains("/proc/botpsicologo"), "{err}");
}
