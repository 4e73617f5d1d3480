//! MySQL/MariaDB passes the same store, ledger and billing-store contracts as SQLite and the
//! in-memory fake.

use persistence_mysql::{MysqlStore, test_support};

async fn fresh() -> Option<MysqlStore> {
    let url = test_support::fresh_database_url().await?;
    Some(MysqlStore::open(&url, 8).await.expect("open mysql"))
}

contracts::store_contract_tests!(fresh);
contracts::billing_contract_tests!(fresh);

#[tokio::test]
async fn migrations_are_idempotent() {
    let Some(url) = test_support::fresh_database_url().await else {
        return;
    };
    assert!(persistence_mysql::run_migrations(&url).await.unwrap() > 0);
    assert_eq!(persistence_mysql::run_migrations(&url).await.unwrap(), 0);
}

#[tokio::test]
async fn unreachable_server_is_a_clear_error() {
    let err = MysqlStore::open("mysql://root:pw@127.0.0.1:1/nothing", 1)
        .await
        .err()
        .expect("must fail");
    let message = err.to_string();
    assert!(
        message.contains("127.0.0.1:1") && !message.contains("pw@"),
        "{message}"
    );
}

/// A pooled connection the server has closed (restart, `wait_timeout`, `KILL`) costs at most the
/// one query that finds it dead: the pool then checks it, drops it and connects anew.
#[tokio::test]
async fn a_connection_closed_by_the_server_is_replaced() {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
    use domain::ports::Readiness;
    let Some(url) = test_support::fresh_database_url().await else {
        return;
    };
    let database = url.rsplit('/').next().unwrap().to_string();
    // One connection, so every call below gets the same one until it is replaced.
    let store = MysqlStore::open(&url, 1).await.expect("open mysql");
    store.ping().await.expect("first ping");
    #[derive(diesel::QueryableByName)]
    struct Process {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let mut admin = AsyncMysqlConnection::establish(&url).await.unwrap();
    let pooled: Vec<Process> = diesel::sql_query(
        "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
    )
    .bind::<Text, _>(&database)
    .load(&mut admin)
    .await
    .unwrap();
    assert!(!pooled.is_empty(), "the pool's connection is listed");
    for process in pooled {
        // One may already be gone (the migrations' connection closing): ignore that error.
        let _ = diesel::sql_query(format!("KILL {}", process.id))
            .execute(&mut admin)
            .await;
    }
    // The first use may find the connection dead; from then on the pool has a fresh one.
    let _ = store.ping().await;
    for _ in 0..3 {
        store
            .ping()
            .await
            .expect("a fresh connection after the old one died");
    }
}
