//! Contract cases for the usage ledger: the no-overspend invariant (rule 2) and the shape of
//! reservation, settlement and reclaim, identical on every adapter.

use crate::fixtures::{id, line, message, request, t0};
use crate::stores::AllStores;
use chrono::Duration;
use domain::budget::*;
use domain::conversation::Author;
use domain::{CompanyId, Period, ReservationId, UserId};

mod concurrency;
pub use concurrency::*;

fn me() -> Subject {
    Subject::User(UserId(id()))
}

fn period_key() -> i64 {
    Period::calendar_month(t0()).key()
}

pub async fn ledger_reserve_and_settle<S: AllStores>(s: S) {
    let who = me();
    let r = s
        .reserve(request(300, vec![line(who, Some(1_000), false)]))
        .await
        .unwrap();
    assert_eq!(r.parts.len(), 1);
    assert_eq!(r.parts[0].from_allowance, 300);
    assert_eq!(
        s.counter(who, period_key()).await.unwrap(),
        Counter {
            used: 0,
            reserved: 300
        }
    );
    assert!(s.settle(r.id, 120).await.unwrap());
    assert_eq!(
        s.counter(who, period_key()).await.unwrap(),
        Counter {
            used: 120,
            reserved: 0
        }
    );
}

pub async fn ledger_insufficient_changes_nothing<S: AllStores>(s: S) {
    let who = me();
    let first = s
        .reserve(request(800, vec![line(who, Some(1_000), false)]))
        .await
        .unwrap();
    let err = s
        .reserve(request(201, vec![line(who, Some(1_000), false)]))
        .await
        .unwrap_err();
    assert_eq!(err, LedgerError::InsufficientBudget { subject: who });
    assert_eq!(
        s.counter(who, period_key()).await.unwrap(),
        Counter {
            used: 0,
            reserved: 800
        }
    );
    s.settle(first.id, 800).await.unwrap();
    assert_eq!(
        s.counter(who, period_key()).await.unwrap(),
        Counter {
            used: 800,
            reserved: 0
        }
    );
}

pub async fn ledger_all_lines_or_nothing<S: AllStores>(s: S) {
    let person = me();
    let company = Subject::Company(CompanyId(id()));
    let lines = || vec![line(person, None, false), line(company, Some(100), true)];
    let err = s.reserve(request(150, lines())).await.unwrap_err();
    assert_eq!(err, LedgerError::InsufficientBudget { subject: company });
    assert_eq!(
        s.counter(person, period_key()).await.unwrap(),
        Counter::default(),
        "person line rolled back"
    );
    let ok = s.reserve(request(60, lines())).await.unwrap();
    assert_eq!(ok.parts.len(), 2);
    assert_eq!(s.counter(person, period_key()).await.unwrap().reserved, 60);
    assert_eq!(s.counter(company, period_key()).await.unwrap().reserved, 60);
}

pub async fn ledger_topups_after_allowance<S: AllStores>(s: S) {
    let who = me();
    s.add_topup(who, 500).await.unwrap();
    let r = s
        .reserve(request(300, vec![line(who, Some(100), true)]))
        .await
        .unwrap();
    assert_eq!(
        (r.parts[0].from_allowance, r.parts[0].from_topup),
        (100, 200)
    );
    assert_eq!(
        s.topup(who).await.unwrap(),
        TopUp {
            balance: 500,
            reserved: 200
        }
    );
    // The turn used 250: 100 from the allowance, 150 from top-ups; the other 50 are released.
    assert!(s.settle(r.id, 250).await.unwrap());
    assert_eq!(
        s.counter(who, period_key()).await.unwrap(),
        Counter {
            used: 100,
            reserved: 0
        }
    );
    assert_eq!(
        s.topup(who).await.unwrap(),
        TopUp {
            balance: 350,
            reserved: 0
        }
    );
    let err = s
        .reserve(request(351, vec![line(who, Some(100), true)]))
        .await
        .unwrap_err();
    assert_eq!(err, LedgerError::InsufficientBudget { subject: who });
}

/// A turn's charge and its messages land together, and the settlement reports the balance of
/// each line as it left it; a turn whose reservation was already reclaimed stores its messages
/// and charges nothing.
pub async fn ledger_settle_turn_charges_and_stores_together<S: AllStores>(s: S) {
    let person = UserId(id());
    let who = Subject::User(person);
    let pool = Subject::Company(CompanyId(id()));
    s.add_topup(pool, 500).await.unwrap();
    // The pool's allowance of 50 is too small: 50 of the 100 come from its top-ups.
    let lines = vec![line(who, Some(1_000), false), line(pool, Some(50), true)];
    let r = s.reserve(request(100, lines.clone())).await.unwrap();
    let exchange = [
        message(person, Author::User, b"question"),
        message(person, Author::Assistant, b"answer"),
    ];
    let turn = s.settle_turn(&r, 60, &exchange, &lines).await.unwrap();
    assert!(turn.settled);
    let person_after = Counter {
        used: 60,
        reserved: 0,
    };
    assert_eq!(s.counter(who, period_key()).await.unwrap(), person_after);
    let pool_after = Balance {
        counter: Counter {
            used: 50,
            reserved: 0,
        },
        topup: TopUp {
            balance: 490,
            reserved: 0,
        },
    };
    assert_eq!(
        s.counter(pool, period_key()).await.unwrap(),
        pool_after.counter
    );
    assert_eq!(s.topup(pool).await.unwrap(), pool_after.topup);
    assert_eq!(
        turn.balances,
        vec![
            Balance {
                counter: person_after,
                topup: TopUp::default()
            },
            pool_after
        ]
    );
    assert_eq!(s.messages_page(person, None, 10).await.unwrap().len(), 2);

    let lines = vec![line(who, Some(1_000), false)];
    let late = s.reserve(request(100, lines.clone())).await.unwrap();
    assert_eq!(
        s.reclaim_expired(t0() + Duration::days(1)).await.unwrap(),
        1
    );
    let exchange = [
        message(person, Author::User, b"again"),
        message(person, Author::Assistant, b"late answer"),
    ];
    let turn = s.settle_turn(&late, 60, &exchange, &lines).await.unwrap();
    assert!(!turn.settled);
    assert_eq!(turn.balances[0].counter, person_after);
    assert_eq!(s.counter(who, period_key()).await.unwrap().used, 60);
    assert_eq!(s.messages_page(person, None, 10).await.unwrap().len(), 4);
    // Stored once: the same messages again are refused and charge nothing.
    let again = s.reserve(request(100, lines.clone())).await.unwrap();
    assert!(s.settle_turn(&again, 60, &exchange, &lines).await.is_err());
    assert_eq!(s.counter(who, period_key()).await.unwrap().used, 60);
    assert_eq!(s.messages_page(person, None, 10).await.unwrap().len(), 4);
}

pub async fn ledger_settle_once<S: AllStores>(s: S) {
    let who = me();
    let r = s
        .reserve(request(100, vec![line(who, Some(1_000), false)]))
        .await
        .unwrap();
    assert!(
        s.settle(r.id, 500).await.unwrap(),
        "charges at most what was reserved"
    );
    assert!(
        !s.settle(r.id, 100).await.unwrap(),
        "second settle does nothing"
    );
    assert!(
        !s.settle(ReservationId(id()), 1).await.unwrap(),
        "unknown reservation"
    );
    assert_eq!(
        s.counter(who, period_key()).await.unwrap(),
        Counter {
            used: 100,
            reserved: 0
        }
    );
}

pub async fn ledger_reclaims_expired<S: AllStores>(s: S) {
    let who = me();
    let lease = s
        .reserve(request(400, vec![line(who, Some(1_000), false)]))
        .await
        .unwrap();
    let mut later = request(100, vec![line(who, Some(1_000), false)]);
    later.expires_at = t0() + Duration::hours(1);
    s.reserve(later).await.unwrap();
    assert_eq!(
        s.reclaim_expired(t0()).await.unwrap(),
        0,
        "nothing expired yet"
    );
    assert_eq!(
        s.reclaim_expired(lease.expires_at + Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.counter(who, period_key()).await.unwrap(),
        Counter {
            used: 0,
            reserved: 100
        }
    );
    assert!(
        !s.settle(lease.id, 400).await.unwrap(),
        "a reclaimed lease cannot be charged"
    );
}

pub async fn ledger_periods_are_independent<S: AllStores>(s: S) {
    let who = me();
    let march = line(who, Some(100), false);
    let r = s.reserve(request(100, vec![march.clone()])).await.unwrap();
    s.settle(r.id, 100).await.unwrap();
    let mut april = march.clone();
    april.period = Period::calendar_month(march.period.end);
    let r = s.reserve(request(100, vec![april.clone()])).await.unwrap();
    assert!(s.settle(r.id, 40).await.unwrap());
    assert_eq!(s.counter(who, march.period.key()).await.unwrap().used, 100);
    assert_eq!(s.counter(who, april.period.key()).await.unwrap().used, 40);
}

pub async fn ledger_topup_adjustments<S: AllStores>(s: S) {
    let who = me();
    assert_eq!(s.topup(who).await.unwrap(), TopUp::default());
    assert_eq!(s.add_topup(who, 300).await.unwrap().balance, 300);
    assert_eq!(s.add_topup(who, 200).await.unwrap().balance, 500);
    assert_eq!(
        s.add_topup(who, -900).await.unwrap().balance,
        0,
        "never below zero"
    );
    s.add_topup(who, 100).await.unwrap();
    s.reserve(request(80, vec![line(who, Some(0), true)]))
        .await
        .unwrap();
    let after = s.add_topup(who, -100).await.unwrap();
    assert_eq!(
        after,
        TopUp {
            balance: 80,
            reserved: 80
        },
        "never below what open turns hold"
    );
}

pub async fn ledger_duplicate_reservation<S: AllStores>(s: S) {
    let who = me();
    let req = request(10, vec![line(who, Some(1_000), false)]);
    s.reserve(req.clone()).await.unwrap();
    assert_eq!(
        s.reserve(req).await.unwrap_err(),
        LedgerError::DuplicateReservation
    );
    assert_eq!(s.counter(who, period_key()).await.unwrap().reserved, 10);
}

pub async fn ledger_counters_in_period<S: AllStores>(s: S) {
    let (a, b, c) = (me(), me(), me());
    for (who, amount) in [(a, 10), (b, 20)] {
        let r = s
            .reserve(request(amount, vec![line(who, None, false)]))
            .await
            .unwrap();
        s.settle(r.id, amount).await.unwrap();
    }
    let mut got = s
        .counters_in_period(vec![a, b, c], period_key())
        .await
        .unwrap();
    got.sort_by_key(|(subject, _)| *subject);
    let mut want = vec![
        (
            a,
            Counter {
                used: 10,
                reserved: 0,
            },
        ),
        (
            b,
            Counter {
                used: 20,
                reserved: 0,
            },
        ),
    ];
    want.sort_by_key(|(subject, _)| *subject);
    assert_eq!(got, want);

    // Top-ups the same way: only the subjects that have some.
    s.add_topup(b, 500).await.unwrap();
    assert_eq!(
        s.topups_of(vec![a, b, c]).await.unwrap(),
        vec![(
            b,
            TopUp {
                balance: 500,
                reserved: 0
            }
        )]
    );
}
