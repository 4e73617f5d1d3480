//! The in-memory fake passes the billing-store contract.

async fn fresh() -> Option<contracts::memory::MemoryStore> {
    Some(contracts::memory::MemoryStore::new())
}

contracts::billing_contract_tests!(fresh);
