//! Contract case for the safety-plan store: one plan per person, replaced whole, really
//! deleted, and gone with the person.

use crate::fixtures::{company, t0, user};
use crate::stores::AllStores;
use chrono::Duration;
use domain::safety_plan::SealedSafetyPlan;
use domain::{Role, UserId};

fn plan(user: UserId, sealed: &[u8], minutes: i64) -> SealedSafetyPlan {
    SealedSafetyPlan {
        user_id: user,
        sealed: sealed.to_vec(),
        updated_at: t0() + Duration::minutes(minutes),
    }
}

pub async fn safety_plans_are_each_persons_own<S: AllStores>(s: S) {
    let acme = company("Acme");
    s.insert_company(&acme).await.unwrap();
    let ana = user("ana@example.com", Role::Individual, None);
    let bia = user("bia@acme.com", Role::Employee, Some(acme.id));
    s.insert_user(&ana).await.unwrap();
    s.insert_user(&bia).await.unwrap();
    assert_eq!(s.safety_plan(ana.id).await.unwrap(), None);

    let first = plan(ana.id, b"\x00sealed-1\xff", 0);
    s.put_safety_plan(&first).await.unwrap();
    assert_eq!(s.safety_plan(ana.id).await.unwrap(), Some(first));
    let replaced = plan(ana.id, &[7u8; 70_000], 5);
    s.put_safety_plan(&replaced).await.unwrap();
    assert_eq!(
        s.safety_plan(ana.id).await.unwrap(),
        Some(replaced.clone()),
        "replaced whole, large plans included"
    );
    let theirs = plan(bia.id, b"sealed-bia", 1);
    s.put_safety_plan(&theirs).await.unwrap();
    assert_eq!(s.safety_plan(ana.id).await.unwrap(), Some(replaced));

    assert!(s.delete_safety_plan(ana.id).await.unwrap());
    assert_eq!(s.safety_plan(ana.id).await.unwrap(), None);
    assert!(!s.delete_safety_plan(ana.id).await.unwrap());
    assert_eq!(
        s.safety_plan(bia.id).await.unwrap(),
        Some(theirs),
        "another person's plan is untouched"
    );

    // A plan goes with its person, whether deleted alone or with their company.
    s.put_safety_plan(&plan(ana.id, b"again", 9)).await.unwrap();
    s.delete_user(ana.id).await.unwrap();
    assert_eq!(s.safety_plan(ana.id).await.unwrap(), None);
    s.delete_company(acme.id).await.unwrap();
    assert_eq!(s.safety_plan(bia.id).await.unwrap(), None);
}
