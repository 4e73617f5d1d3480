//! The in-memory fake passes the same store, ledger and billing-store contracts as the SQL
//! adapters.

async fn fresh() -> Option<contracts::memory::MemoryStore> {
    Some(contracts::memory::MemoryStore::new())
}

contracts::store_contract_tests!(fresh);
contracts::billing_contract_tests!(fresh);
