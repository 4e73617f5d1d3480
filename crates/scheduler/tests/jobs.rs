//! Jobs against the in-memory store: each does its work once and nothing the second time.

use chrono::Duration;
use contracts::fixtures::{line, request, t0};
use contracts::memory::MemoryStore;
use domain::UserId;
use domain::budget::{Subject, UsageLedger};
use scheduler::{Job, run_job};

#[tokio::test]
async fn reclaim_releases_expired_leases_once() {
    let store = MemoryStore::new();
    let who = Subject::User(UserId(1));
    let lease = store
        .reserve(request(100, vec![line(who, Some(1_000), false)]))
        .await
        .unwrap();
    let later = lease.expires_at + Duration::seconds(1);
    assert_eq!(
        run_job(&store, Job::Reclaim, t0()).await.unwrap().changed,
        0
    );
    assert_eq!(
        run_job(&store, Job::Reclaim, later).await.unwrap().changed,
        1
    );
    assert_eq!(
        run_job(&store, Job::Reclaim, later).await.unwrap().changed,
        0,
        "idempotent"
    );
    let counter = store.counter(who, lease.parts[0].period_key).await.unwrap();
    assert_eq!(
        (counter.used, counter.reserved),
        (0, 0),
        "nothing charged for a dead turn"
    );
}
