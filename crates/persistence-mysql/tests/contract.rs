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
