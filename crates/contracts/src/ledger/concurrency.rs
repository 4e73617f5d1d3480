//! Contract cases for the usage ledger under contention: many reservations and turns at once.

use super::{me, period_key};
use crate::fixtures::{id, line, message, request};
use crate::stores::AllStores;
use domain::budget::*;
use domain::conversation::Author;
use domain::{CompanyId, UserId};
use std::collections::HashMap;

/// Rule 2 under contention: 100 concurrent turns of 10 tokens against an allowance of 500 shared
/// by a person line and a company line: exactly 50 succeed and used never exceeds the limit.
pub async fn ledger_concurrent_reservations_never_overspend<S: AllStores>(s: S) {
    let person = me();
    let company = Subject::Company(CompanyId(id()));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let req = request(
                10,
                vec![line(person, None, false), line(company, Some(500), false)],
            );
            match s.reserve(req).await {
                Ok(r) => {
                    tokio::task::yield_now().await;
                    assert!(s.settle(r.id, 10).await.unwrap());
                    true
                }
                Err(LedgerError::InsufficientBudget { .. }) => false,
                Err(e) => panic!("unexpected ledger error: {e}"),
            }
        }));
    }
    let mut granted = 0;
    for t in tasks {
        if t.await.unwrap() {
            granted += 1;
        }
    }
    assert_eq!(granted, 50);
    assert_eq!(
        s.counter(company, period_key()).await.unwrap(),
        Counter {
            used: 500,
            reserved: 0
        }
    );
    assert_eq!(
        s.counter(person, period_key()).await.unwrap(),
        Counter {
            used: 500,
            reserved: 0
        }
    );
}

/// Many turns at once, as a busy server runs them (adapters may apply concurrent turns
/// together): every one is charged exactly what it reports, its messages are stored whether or
/// not its reservation still existed, and no budget is ever exceeded.
pub async fn ledger_concurrent_turns_are_charged_exactly<S: AllStores>(s: S) {
    const PERSON_CAP: u64 = 400;
    const POOL: u64 = 1_000;
    const POOL_TOPUP: u64 = 300;
    let people: Vec<UserId> = (0..4).map(|_| UserId(id())).collect();
    let pool = Subject::Company(CompanyId(id()));
    s.add_topup(pool, POOL_TOPUP as i64).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..80_u64 {
        let (s, person) = (s.clone(), people[i as usize % people.len()]);
        tasks.push(tokio::spawn(async move {
            let lines = vec![
                line(Subject::User(person), Some(PERSON_CAP), false),
                line(pool, Some(POOL), true),
            ];
            let reservation = match s.reserve(request(50, lines.clone())).await {
                Ok(reservation) => reservation,
                Err(LedgerError::InsufficientBudget { .. }) => return (person, None),
                Err(e) => panic!("unexpected ledger error: {e}"),
            };
            tokio::task::yield_now().await;
            // Every tenth turn outlives its lease: reclaimed before the reply is settled.
            let reclaimed = i % 10 == 0;
            if reclaimed {
                assert!(s.settle(reservation.id, 0).await.unwrap());
            }
            let actual = 20 + i % 25;
            let exchange = [
                message(person, Author::User, b"question"),
                message(person, Author::Assistant, b"answer"),
            ];
            let turn = s
                .settle_turn(&reservation, actual, &exchange, &lines)
                .await
                .unwrap();
            assert_eq!(turn.settled, !reclaimed);
            let [mine, ours] = turn.balances[..] else {
                panic!("one balance per line: {:?}", turn.balances)
            };
            assert!(mine.counter.used + mine.counter.reserved <= PERSON_CAP);
            assert!(ours.counter.used + ours.counter.reserved <= POOL);
            (person, Some(if reclaimed { 0 } else { actual }))
        }));
    }
    let mut charged: HashMap<UserId, u64> = HashMap::new();
    let mut answered: HashMap<UserId, usize> = HashMap::new();
    for task in tasks {
        if let (person, Some(actual)) = task.await.unwrap() {
            *charged.entry(person).or_default() += actual;
            *answered.entry(person).or_default() += 1;
        }
    }
    assert!(!answered.is_empty(), "some turns fit the budgets");
    let mut total = 0;
    for person in &people {
        let counter = s
            .counter(Subject::User(*person), period_key())
            .await
            .unwrap();
        let theirs = charged.get(person).copied().unwrap_or(0);
        assert_eq!(
            counter,
            Counter {
                used: theirs,
                reserved: 0
            },
            "{person:?}"
        );
        assert!(counter.used <= PERSON_CAP);
        let stored = s.messages_page(*person, None, 1_000).await.unwrap().len();
        assert_eq!(stored, 2 * answered.get(person).copied().unwrap_or(0));
        total += theirs;
    }
    let pool_counter = s.counter(pool, period_key()).await.unwrap();
    let pool_topup = s.topup(pool).await.unwrap();
    assert_eq!((pool_counter.reserved, pool_topup.reserved), (0, 0));
    assert!(pool_counter.used <= POOL);
    assert_eq!(
        pool_counter.used + (POOL_TOPUP - pool_topup.balance),
        total,
        "the pool paid every charged token once, from its allowance or its top-ups"
    );
}
