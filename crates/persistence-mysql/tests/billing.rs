//! MySQL/MariaDB passes the billing-store contract.

use persistence_mysql::{MysqlStore, test_support};

async fn fresh() -> Option<MysqlStore> {
    let url = test_support::fresh_database_url().await?;
    Some(MysqlStore::open(&url, 8).await.expect("open mysql"))
}

contracts::billing_contract_tests!(fresh);
