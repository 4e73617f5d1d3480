//! The jobs on MySQL/MariaDB: two schedulers at once, and a crash mid-rollover.

mod common;

use chrono::Duration;
use common::*;
use domain::UserId;
use domain::account::{Session, SessionKind};
use domain::budget::Subject;
use domain::ports::{SessionStore, UsageLedger};
use persistence_mysql::{MysqlStore, test_support};
use scheduler::{Job, Outcome, run_job};

async fn fresh() -> Option<MysqlStore> {
    let url = test_support::fresh_database_url().await?;
    Some(MysqlStore::open(&url, 8).await.expect("open mysql"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_schedulers_started_at_once_run_each_job_once() {
    let Some(store) = fresh().await else { return };
    let companies = seed(&store, 40, 3).await;
    // Three turns abandoned by a crashed server, and two expired sessions.
    let who = Subject::User(UserId(1));
    for _ in 0..3 {
        store
            .reserve(contracts::fixtures::request(
                10,
                vec![contracts::fixtures::line(who, None, false)],
            ))
            .await
            .unwrap();
    }
    for n in 0..2 {
        store
            .insert_session(&Session {
                token_hash: format!("expired-{n}"),
                user_id: UserId(1),
                kind: SessionKind::Web,
                csrf_token: "x".into(),
                created_at: march_20() - Duration::days(30),
                expires_at: march_20() - Duration::days(1),
            })
            .await
            .unwrap();
    }
    let clock = TestClock::at(april_1());
    // Each scheduler writes to its own directory, so the files show who did the work.
    let (dir_a, dir_b) = (Recording::new(), Recording::new());
    let (ctx_a, ctx_b) = (ctx("a", 5), ctx("b", 5));
    for job in [Job::CloseMonth, Job::Reclaim, Job::Purge] {
        let (a, b) = tokio::join!(
            run_job(&store, &dir_a, &clock, &ctx_a, job),
            run_job(&store, &dir_b, &clock, &ctx_b, job)
        );
        let changed = |o: Outcome| match o {
            Outcome::Ran { changed } => changed,
            Outcome::Busy => 0,
        };
        let total = changed(a.unwrap()) + changed(b.unwrap());
        let expected = match job {
            Job::CloseMonth => companies.len() as u64,
            Job::Reclaim => 3,
            _ => 2,
        };
        assert_eq!(total, expected, "{job:?} done once between the two");
    }
    let (a, b) = (dir_a.written().len(), dir_b.written().len());
    assert!(
        (a, b) == (companies.len(), 0) || (a, b) == (0, companies.len()),
        "one scheduler wrote every report, the other none: {a} and {b}"
    );
    for holder in ["c", "d"] {
        assert_eq!(
            run_job(&store, &dir_a, &clock, &ctx(holder, 5), Job::CloseMonth)
                .await
                .unwrap(),
            Outcome::Ran { changed: 0 }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crashed_rollover_resumes_on_mysql() {
    let Some(store) = fresh().await else { return };
    crash_and_resume(&store).await;
}
