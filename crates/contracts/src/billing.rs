//! Contract cases for the billing store: each event applied once (also when delivered
//! concurrently), older subscription events skipped, packs and refunds on the top-ups.

use crate::fixtures::{company, t0, user};
use crate::stores::AllStores;
use chrono::Duration;
use domain::billing::*;
use domain::budget::Subject;
use domain::{Period, Role};

fn event(id: &str, at_secs: i64) -> BillingEvent {
    BillingEvent {
        id: id.to_string(),
        event_type: "test.event".into(),
        created: t0() + Duration::seconds(at_secs),
        kind: EventKind::Other,
    }
}

fn change(
    sub: &str,
    payer: Subject,
    at_secs: i64,
    status: SubscriptionStatus,
    plan: &str,
) -> BillingEffect {
    BillingEffect::Subscription(SubscriptionChange {
        state: SubscriptionState {
            subscription_id: sub.to_string(),
            payer,
            status,
            plan_id: Some(plan.to_string()),
            period: Some(Period::calendar_month(t0())),
            last_event_at: t0() + Duration::seconds(at_secs),
        },
        set_plan: Some((plan.to_string(), None)),
        set_billing_period: Some(
            (status != SubscriptionStatus::Ended).then(|| Period::calendar_month(t0())),
        ),
        customer_id: Some(format!("cus_{sub}")),
    })
}

fn pack(payment: &str, payer: Subject, tokens: u64, amount: i64) -> BillingEffect {
    BillingEffect::PackPurchased(PackPurchase {
        payment_id: payment.to_string(),
        payer,
        pack_id: "pack-small".into(),
        tokens,
        amount,
        customer_id: None,
    })
}

pub async fn billing_event_applies_once<S: AllStores>(s: S) {
    let u = user("once@example.com", Role::Individual, None);
    s.insert_user(&u).await.unwrap();
    let payer = Subject::User(u.id);
    let effect = pack("pi_once", payer, 500, 1_000);
    for round in 0..10 {
        let outcome = s
            .apply_billing_event(&event("evt_once", 0), &effect)
            .await
            .unwrap();
        let expected = if round == 0 {
            ApplyOutcome::Applied
        } else {
            ApplyOutcome::Duplicate
        };
        assert_eq!(outcome, expected);
    }
    assert_eq!(s.topup(payer).await.unwrap().balance, 500);
}

pub async fn billing_concurrent_deliveries_apply_once<S: AllStores>(s: S) {
    let u = user("race@example.com", Role::Individual, None);
    s.insert_user(&u).await.unwrap();
    let payer = Subject::User(u.id);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                s.apply_billing_event(&event("evt_race", 0), &pack("pi_race", payer, 700, 100))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        if task.await.unwrap() == ApplyOutcome::Applied {
            applied += 1;
        }
    }
    assert_eq!(applied, 1);
    assert_eq!(s.topup(payer).await.unwrap().balance, 700);
}

pub async fn billing_older_subscription_events_change_nothing<S: AllStores>(s: S) {
    let u = user("order@example.com", Role::Individual, None);
    s.insert_user(&u).await.unwrap();
    let payer = Subject::User(u.id);
    let newer = change("sub_o", payer, 100, SubscriptionStatus::Active, "plus");
    assert_eq!(
        s.apply_billing_event(&event("evt_new", 100), &newer)
            .await
            .unwrap(),
        ApplyOutcome::Applied
    );
    let older = change("sub_o", payer, 50, SubscriptionStatus::Active, "annual");
    assert_eq!(
        s.apply_billing_event(&event("evt_old", 50), &older)
            .await
            .unwrap(),
        ApplyOutcome::Stale
    );
    let paid = s.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(paid.plan_id, "plus");
    assert_eq!(paid.billing_period, Some(Period::calendar_month(t0())));
    // Saving a copy read before the event (a profile edit) keeps what the event wrote.
    s.update_user(&u).await.unwrap();
    let kept = s.user_by_id(u.id).await.unwrap().unwrap().billing_period;
    assert_eq!(kept, Some(Period::calendar_month(t0())));
    let state = s.subscription("sub_o").await.unwrap().unwrap();
    assert_eq!(state.plan_id.as_deref(), Some("plus"));
    assert_eq!(state.last_event_at, t0() + Duration::seconds(100));
    assert_eq!(state.period, Some(Period::calendar_month(t0())));
    assert_eq!(
        s.customer_of(payer).await.unwrap().as_deref(),
        Some("cus_sub_o")
    );
    // Ended is final: a later "active" about the same subscription does not revive it.
    let ended = change("sub_o", payer, 200, SubscriptionStatus::Ended, "free");
    s.apply_billing_event(&event("evt_end", 200), &ended)
        .await
        .unwrap();
    let revived = change("sub_o", payer, 300, SubscriptionStatus::Active, "plus");
    assert_eq!(
        s.apply_billing_event(&event("evt_revive", 300), &revived)
            .await
            .unwrap(),
        ApplyOutcome::Stale
    );
    let ended = s.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(
        (ended.plan_id.as_str(), ended.billing_period),
        ("free", None)
    );
}

pub async fn billing_company_plan_and_seats<S: AllStores>(s: S) {
    let c = company("Billing Ltda");
    s.insert_company(&c).await.unwrap();
    let payer = Subject::Company(c.id);
    let BillingEffect::Subscription(mut sub) = change(
        "sub_c",
        payer,
        10,
        SubscriptionStatus::Active,
        "company-pro",
    ) else {
        unreachable!("change builds a subscription effect")
    };
    sub.set_plan = Some(("company-pro".into(), Some(25)));
    s.apply_billing_event(&event("evt_c", 10), &BillingEffect::Subscription(sub))
        .await
        .unwrap();
    let after = s.company_by_id(c.id).await.unwrap().unwrap();
    assert_eq!(
        (after.plan_id.as_str(), after.seat_limit),
        ("company-pro", 25)
    );
    assert_eq!(after.billing_period, Some(Period::calendar_month(t0())));
    s.update_company(&c).await.unwrap();
    let kept = s.company_by_id(c.id).await.unwrap().unwrap().billing_period;
    assert_eq!(kept, Some(Period::calendar_month(t0())));
}

pub async fn billing_refunds_take_back_pack_tokens_once<S: AllStores>(s: S) {
    let u = user("refund@example.com", Role::Individual, None);
    s.insert_user(&u).await.unwrap();
    let payer = Subject::User(u.id);
    s.apply_billing_event(&event("evt_buy", 0), &pack("pi_r", payer, 1_000, 2_000))
        .await
        .unwrap();
    let half = BillingEffect::Refund {
        payment_id: "pi_r".into(),
        amount_refunded: 1_000,
    };
    s.apply_billing_event(&event("evt_r1", 1), &half)
        .await
        .unwrap();
    assert_eq!(s.topup(payer).await.unwrap().balance, 500);
    // Stripe reports the refunded total; a later full refund takes only the rest.
    let full = BillingEffect::Refund {
        payment_id: "pi_r".into(),
        amount_refunded: 2_000,
    };
    s.apply_billing_event(&event("evt_r2", 2), &full)
        .await
        .unwrap();
    s.apply_billing_event(&event("evt_r3", 3), &full)
        .await
        .unwrap();
    assert_eq!(s.topup(payer).await.unwrap().balance, 0);
    // A refund of a payment we never sold changes nothing.
    let unknown = BillingEffect::Refund {
        payment_id: "pi_unknown".into(),
        amount_refunded: 10,
    };
    assert_eq!(
        s.apply_billing_event(&event("evt_r4", 4), &unknown)
            .await
            .unwrap(),
        ApplyOutcome::Applied
    );
}

pub async fn billing_customers_round_trip<S: AllStores>(s: S) {
    let a = Subject::User(domain::UserId(crate::fixtures::id()));
    let b = Subject::Company(domain::CompanyId(crate::fixtures::id()));
    assert_eq!(s.customer_of(a).await.unwrap(), None);
    s.save_customer(a, "cus_a").await.unwrap();
    s.save_customer(b, "cus_b").await.unwrap();
    s.save_customer(a, "cus_a2").await.unwrap();
    assert_eq!(s.customer_of(a).await.unwrap().as_deref(), Some("cus_a2"));
    assert_eq!(s.customer_of(b).await.unwrap().as_deref(), Some("cus_b"));
    assert_eq!(s.subscription("sub_none").await.unwrap(), None);
}
