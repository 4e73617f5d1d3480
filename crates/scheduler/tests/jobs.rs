//! The jobs against the in-memory store, with a clock the tests move.

mod common;

use chrono::Duration;
use common::*;
use contracts::fixtures::{company, user};
use contracts::memory::MemoryStore;
use domain::Role;
use domain::billing::{
    BillingEffect, BillingEvent, EventKind, SubscriptionChange, SubscriptionState,
    SubscriptionStatus,
};
use domain::budget::Subject;
use domain::ports::{
    BillingStore, Clock, CompanyStore, KeyValue, ReportArchive, UsageLedger, UserStore,
};
use domain::services::budgets::usage_summary;
use scheduler::{Job, JobStore, Outcome, run_job};

async fn run<S: JobStore, A: ReportArchive>(
    store: &S,
    archive: &A,
    clock: &TestClock,
    holder: &str,
    job: Job,
) -> Outcome {
    run_job(store, archive, clock, &ctx(holder, 2), job)
        .await
        .unwrap()
}

#[tokio::test]
async fn new_month_is_fresh_with_or_without_the_rollover_and_topups_survive() {
    let store = MemoryStore::new();
    let archive = Recording::new();
    let clock = TestClock::at(march_20());
    let acme = company("Acme");
    store.insert_company(&acme).await.unwrap();
    let ana = user("ana@acme.example", Role::Employee, Some(acme.id));
    store.insert_user(&ana).await.unwrap();
    let pool = Subject::Company(acme.id);
    store.add_topup(pool, 500).await.unwrap();
    // 1,000 from the month's allowance, then 200 from the purchased top-up.
    spend(&store, &ana, Some(&acme), clock.now(), 1_200).await;
    let plans = catalog();
    let summary = |at| usage_summary(&store, &plans, &ana, Some(&acme), at);
    let in_march = summary(clock.now()).await.unwrap();
    assert_eq!((in_march.used, in_march.remaining), (1_200, Some(300)));

    clock.set(april_1());
    let before = summary(clock.now()).await.unwrap();
    assert_eq!(
        (before.used, before.remaining),
        (0, Some(1_300)),
        "fresh allowance before any job ran, top-up left intact"
    );

    let first = run(&store, &archive, &clock, "a", Job::CloseMonth).await;
    assert_eq!(first, Outcome::Ran { changed: 1 });
    assert_eq!(
        summary(clock.now()).await.unwrap(),
        before,
        "the job reset nothing"
    );
    assert_eq!(store.topup(pool).await.unwrap().balance, 300);
    let report = archive.get_report(acme.id, march()).await.unwrap().unwrap();
    assert_eq!(
        String::from_utf8(report).unwrap(),
        format!(
            "user_id,email,name,role,used_tokens\n{},ana@acme.example,{},employee,1200\ntotal,,,,1200\n",
            ana.id, ana.display_name
        )
    );
    assert!(
        store
            .get_value("period_closed:2026-03")
            .await
            .unwrap()
            .is_some()
    );

    let again = run(&store, &archive, &clock, "b", Job::CloseMonth).await;
    assert_eq!(
        again,
        Outcome::Ran { changed: 0 },
        "a second run changes nothing"
    );
    assert_eq!(archive.written().len(), 1, "not even rewritten");
    assert_eq!(summary(clock.now()).await.unwrap(), before);
    assert_eq!(store.topup(pool).await.unwrap().balance, 300);
    assert_eq!(
        store
            .counter(Subject::User(ana.id), march().key())
            .await
            .unwrap()
            .used,
        1_200,
        "March stays as history"
    );
}

#[tokio::test]
async fn report_refreshes_the_running_month_and_rewrites_only_what_changed() {
    let store = MemoryStore::new();
    let archive = Recording::new();
    let clock = TestClock::at(march_20());
    let companies = seed(&store, 3, 2).await;
    // March's reports, and February's (empty) while a billing period begun then may still run.
    assert_eq!(
        run(&store, &archive, &clock, "a", Job::Report).await,
        Outcome::Ran { changed: 6 }
    );
    assert_eq!(
        run(&store, &archive, &clock, "a", Job::Report).await,
        Outcome::Ran { changed: 0 }
    );
    let ana = user("late@acme.example", Role::Employee, Some(companies[1].id));
    store.insert_user(&ana).await.unwrap();
    spend(&store, &ana, Some(&companies[1]), clock.now(), 5).await;
    // That company's reports only: March's with her tokens, February's with her row at 0.
    assert_eq!(
        run(&store, &archive, &clock, "b", Job::Report).await,
        Outcome::Ran { changed: 2 }
    );
    let list = archive.list_reports(companies[1].id).await.unwrap();
    assert_eq!(list, ["2026-03", "2026-02"]);
}

#[tokio::test]
async fn a_stripe_billed_company_rolls_on_its_invoice_not_on_the_first() {
    let store = MemoryStore::new();
    let archive = Recording::new();
    let clock = TestClock::at(march_20());
    let invoice = domain::Period {
        start: march_20() - Duration::days(5),
        end: march_20() + Duration::days(26),
    };
    let mut acme = company("Billed");
    acme.billing_period = Some(invoice);
    store.insert_company(&acme).await.unwrap();
    let ana = user("ana@billed.example", Role::Employee, Some(acme.id));
    store.insert_user(&ana).await.unwrap();
    spend(&store, &ana, Some(&acme), clock.now(), 300).await;
    let plans = catalog();
    let summary = |at| usage_summary(&store, &plans, &ana, Some(&acme), at);

    clock.set(april_1());
    assert_eq!(
        run(&store, &archive, &clock, "a", Job::CloseMonth).await,
        Outcome::Ran { changed: 1 }
    );
    let on_the_first = summary(clock.now()).await.unwrap();
    assert_eq!(
        (on_the_first.used, on_the_first.remaining),
        (300, Some(700)),
        "still inside the invoice period: nothing starts afresh on the 1st"
    );
    clock.advance(Duration::days(4));
    spend(&store, &ana, Some(&acme), clock.now(), 200).await;
    // The period began in March, so March's report keeps growing until it ends.
    run(&store, &archive, &clock, "a", Job::Report).await;
    let report = String::from_utf8(archive.get_report(acme.id, march()).await.unwrap().unwrap());
    assert!(report.unwrap().ends_with("total,,,,500\n"));

    // The next invoice (as `invoice.paid` records it) starts a fresh allowance.
    let next = domain::Period {
        start: invoice.end,
        end: invoice.end + Duration::days(30),
    };
    let paid = BillingEffect::Subscription(SubscriptionChange {
        state: SubscriptionState {
            subscription_id: "sub_billed".into(),
            payer: Subject::Company(acme.id),
            status: SubscriptionStatus::Active,
            plan_id: Some("team".into()),
            period: Some(next),
            last_event_at: next.start,
        },
        set_plan: None,
        set_billing_period: Some(Some(next)),
        customer_id: None,
    });
    let event = BillingEvent {
        id: "evt_renewed".into(),
        event_type: "invoice.paid".into(),
        created: next.start,
        kind: EventKind::Other,
    };
    store.apply_billing_event(&event, &paid).await.unwrap();
    clock.set(next.start + Duration::hours(1));
    let renewed = summary(clock.now()).await.unwrap();
    assert_eq!((renewed.used, renewed.remaining), (0, Some(1_000)));
}

#[tokio::test]
async fn a_crashed_rollover_is_resumed_by_another_scheduler_without_double_work() {
    let store = MemoryStore::new();
    crash_and_resume(&store).await;
}

#[tokio::test]
async fn reclaim_and_purge_do_their_work_once() {
    let store = MemoryStore::new();
    let archive = Recording::new();
    let clock = TestClock::at(march_20());
    let who = Subject::User(domain::UserId(1));
    let lease = store
        .reserve(contracts::fixtures::request(
            100,
            vec![contracts::fixtures::line(who, Some(1_000), false)],
        ))
        .await
        .unwrap();
    clock.set(lease.expires_at - Duration::seconds(1));
    assert_eq!(
        run(&store, &archive, &clock, "a", Job::Reclaim).await,
        Outcome::Ran { changed: 0 }
    );
    clock.set(lease.expires_at + Duration::seconds(1));
    assert_eq!(
        run(&store, &archive, &clock, "a", Job::Reclaim).await,
        Outcome::Ran { changed: 1 }
    );
    assert_eq!(
        run(&store, &archive, &clock, "b", Job::Reclaim).await,
        Outcome::Ran { changed: 0 }
    );
    let counter = store.counter(who, lease.parts[0].period_key).await.unwrap();
    assert_eq!(
        (counter.used, counter.reserved),
        (0, 0),
        "nothing charged for a dead turn"
    );
    assert_eq!(
        run(&store, &archive, &clock, "a", Job::Purge).await,
        Outcome::Ran { changed: 0 }
    );
}

#[tokio::test]
async fn a_month_without_companies_is_closed_too() {
    let store = MemoryStore::new();
    let clock = TestClock::at(april_1());
    let archive = Recording::new();
    assert_eq!(
        run(&store, &archive, &clock, "a", Job::CloseMonth).await,
        Outcome::Ran { changed: 0 }
    );
    let closed = store.get_value("period_closed:2026-03").await.unwrap();
    assert!(closed.is_some());
}
