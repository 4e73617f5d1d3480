//! Contract cases for the ports the scheduler and the operators lean on: job leases, the
//! crisis counter, write-once values and the usage reports.

use super::AllStores;
use crate::fixtures::{company, t0, user};
use chrono::Duration;
use domain::ports::*;
use domain::*;
use std::collections::HashMap;

pub async fn job_leases_exclusive_and_taken_over<S: AllStores>(s: S) {
    let ttl = Duration::seconds(30);
    assert_eq!(
        s.acquire_lease("rollover", "a", t0(), ttl).await.unwrap(),
        Some(String::new())
    );
    assert_eq!(
        s.acquire_lease("rollover", "b", t0(), ttl).await.unwrap(),
        None,
        "held by a"
    );
    assert!(
        s.save_progress("rollover", "a", "company:42", t0(), ttl)
            .await
            .unwrap()
    );
    assert!(
        !s.save_progress("rollover", "b", "x", t0(), ttl)
            .await
            .unwrap(),
        "b holds nothing"
    );
    assert_eq!(
        s.acquire_lease("rollover", "a", t0(), ttl)
            .await
            .unwrap()
            .as_deref(),
        Some("company:42"),
        "re-entrant"
    );
    assert_eq!(
        s.acquire_lease("purge", "b", t0(), ttl).await.unwrap(),
        Some(String::new()),
        "jobs are independent"
    );
    let later = t0() + Duration::seconds(31);
    assert_eq!(
        s.acquire_lease("rollover", "b", later, ttl)
            .await
            .unwrap()
            .as_deref(),
        Some("company:42"),
        "a died: b takes over and resumes"
    );
    assert!(
        !s.save_progress("rollover", "a", "y", later, ttl)
            .await
            .unwrap(),
        "a lost it"
    );
    s.release_lease("rollover", "b").await.unwrap();
    assert!(
        s.acquire_lease("rollover", "a", later, ttl)
            .await
            .unwrap()
            .is_some(),
        "released"
    );
}

pub async fn crisis_counter_is_aggregate<S: AllStores>(s: S) {
    for day in [100, 100, 101, 102] {
        s.count_crisis(day).await.unwrap();
    }
    assert_eq!(s.crisis_total(0).await.unwrap(), 4);
    assert_eq!(s.crisis_total(101).await.unwrap(), 2);
    assert_eq!(s.crisis_total(103).await.unwrap(), 0);
}

pub async fn key_values_are_written_once<S: AllStores>(s: S) {
    assert_eq!(s.get_value("canary").await.unwrap(), None);
    assert!(s.put_value_once("canary", &[1, 2, 3]).await.unwrap());
    assert!(!s.put_value_once("canary", &[9]).await.unwrap());
    assert_eq!(s.get_value("canary").await.unwrap(), Some(vec![1, 2, 3]));
}

/// Spends `tokens` of `who` in `period` through the ledger, as a settled turn would.
async fn spend<S: AllStores>(s: &S, who: domain::budget::Subject, period: Period, tokens: u64) {
    let mut line = crate::fixtures::line(who, None, false);
    line.period = period;
    let r = s
        .reserve(crate::fixtures::request(tokens, vec![line]))
        .await
        .unwrap();
    assert!(s.settle(r.id, tokens).await.unwrap());
}

pub async fn usage_reports_by_company<S: AllStores + UsageReports>(s: S) {
    use domain::budget::Subject;
    let march = Period::calendar_month(t0());
    let april = Period::calendar_month(march.end);
    // A billing period that began in March counts in March's report.
    let billing = Period {
        start: march.start + Duration::days(14),
        end: april.start + Duration::days(14),
    };
    let (c1, c2, empty) = (company("One"), company("Two"), company("Empty"));
    for c in [&c1, &c2, &empty] {
        s.insert_company(c).await.unwrap();
    }
    let ana = user("ana@one.example", Role::CompanyManager, Some(c1.id));
    let bia = user("bia@one.example", Role::Employee, Some(c1.id));
    let caio = user("caio@two.example", Role::Employee, Some(c2.id));
    let solo = user("solo@example.com", Role::Individual, None);
    for u in [&ana, &bia, &caio, &solo] {
        s.insert_user(u).await.unwrap();
    }
    spend(&s, Subject::User(ana.id), march, 100).await;
    spend(&s, Subject::User(ana.id), billing, 30).await;
    spend(&s, Subject::User(ana.id), april, 1_000).await;
    spend(&s, Subject::User(caio.id), march, 50).await;
    spend(&s, Subject::User(solo.id), march, 7).await;

    let used = s.usage_by_person(march).await.unwrap();
    assert_eq!(
        used,
        HashMap::from([(ana.id, 130), (caio.id, 50), (solo.id, 7)]),
        "every person's counters starting in March, summed; nobody else"
    );
    let april_used = s.usage_by_person(april).await.unwrap();
    assert_eq!(
        april_used,
        HashMap::from([(ana.id, 1_000)]),
        "periods stay apart"
    );

    let first = s.company_members(None, 2).await.unwrap();
    let summary: Vec<(CompanyId, Vec<UserId>)> = first
        .iter()
        .map(|c| (c.company_id, c.people.iter().map(|p| p.user_id).collect()))
        .collect();
    assert_eq!(
        summary,
        vec![(c1.id, vec![ana.id, bia.id]), (c2.id, vec![caio.id])]
    );
    let ana_row = &first[0].people[0];
    assert_eq!(
        (ana_row.email.as_str(), ana_row.role),
        ("ana@one.example", Role::CompanyManager)
    );
    assert_eq!(ana_row.display_name, ana.display_name);
    let rest = s.company_members(Some(c2.id), 10).await.unwrap();
    assert_eq!(rest.len(), 1, "resumes after the given company");
    assert_eq!((rest[0].company_id, rest[0].people.len()), (empty.id, 0));
    assert!(
        s.company_members(Some(empty.id), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
