//! The safety plan's rules with the store mocked: only the caller's own plan is ever read,
//! written or deleted; it reaches the store sealed for its owner; bad input never reaches it.

use super::safety_plan::*;
use super::tests::{TestEnv, actor, now, ready};
use crate::conversation::CipherError;
use crate::ports::{MessageCipher, MockSafetyPlanStore};
use crate::safety_plan::{SafetyPlan, SealedSafetyPlan};
use crate::{Locale, Role, UserId};
use futures::executor::block_on;
use mockall::predicate::eq;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

/// Seals by reversing the text behind the owner's id, so a plan sealed for one person does not
/// open for another, as with the real cipher.
struct OwnerBound;

impl MessageCipher for OwnerBound {
    fn seal(&self, owner: UserId, plaintext: &str) -> Vec<u8> {
        let mut sealed = owner.0.to_be_bytes().to_vec();
        sealed.extend(plaintext.bytes().rev());
        sealed
    }

    fn open(&self, owner: UserId, sealed: &[u8]) -> Result<String, CipherError> {
        let text = sealed
            .strip_prefix(&owner.0.to_be_bytes()[..])
            .ok_or(CipherError::Undecryptable)?;
        String::from_utf8(text.iter().rev().copied().collect())
            .map_err(|_| CipherError::Undecryptable)
    }
}

fn service(
    store: MockSafetyPlanStore,
) -> SafetyPlanService<MockSafetyPlanStore, OwnerBound, TestEnv> {
    SafetyPlanService {
        store: Arc::new(store),
        cipher: Arc::new(OwnerBound),
        clock: Arc::new(TestEnv {
            next: AtomicI64::new(1),
        }),
    }
}

fn plan() -> SafetyPlan {
    SafetyPlan {
        warning_signs: "  Não consigo dormir\r\nFico sem comer  ".into(),
        people_to_ask: "Minha irmã Clara".into(),
        ..SafetyPlan::default()
    }
}

#[test]
fn save_trims_and_stores_the_plan_sealed_for_its_owner_only() {
    let me = actor(7, Role::Employee, Some(3));
    let mut store = MockSafetyPlanStore::new();
    store
        .expect_put_safety_plan()
        .withf(|stored: &SealedSafetyPlan| {
            let plaintext = String::from_utf8_lossy(&stored.sealed);
            stored.user_id == UserId(7)
                && stored.updated_at == now()
                && !plaintext.contains("Clara")
                && OwnerBound.open(UserId(8), &stored.sealed).is_err()
        })
        .times(1)
        .returning(|_| ready(Ok(())));
    let (saved, at) = block_on(service(store).save(&me, plan())).unwrap();
    assert_eq!(saved.warning_signs, "Não consigo dormir\nFico sem comer");
    assert_eq!(saved.people_to_ask, "Minha irmã Clara");
    assert_eq!(at, now());
}

#[test]
fn get_reads_only_the_callers_plan_and_opens_it() {
    let me = actor(7, Role::Individual, None);
    let saved = SafetyPlan {
        reasons_for_living: "Meu cachorro, Pipoca".into(),
        ..SafetyPlan::default()
    };
    let sealed = OwnerBound.seal(UserId(7), &serde_json::to_string(&saved).unwrap());
    let mut store = MockSafetyPlanStore::new();
    store
        .expect_safety_plan()
        .with(eq(UserId(7)))
        .times(1)
        .returning(move |user| {
            ready(Ok(Some(SealedSafetyPlan {
                user_id: user,
                sealed: sealed.clone(),
                updated_at: now(),
            })))
        });
    assert_eq!(
        block_on(service(store).get(&me)).unwrap(),
        Some((saved, now()))
    );

    let mut store = MockSafetyPlanStore::new();
    store.expect_safety_plan().returning(|_| ready(Ok(None)));
    assert_eq!(block_on(service(store).get(&me)).unwrap(), None);
}

#[test]
fn a_plan_sealed_for_someone_else_is_not_shown() {
    // A row copied from another person (e.g. by someone with database access).
    let sealed = OwnerBound.seal(UserId(8), r#"{"warning_signs":"dele"}"#);
    let mut store = MockSafetyPlanStore::new();
    store.expect_safety_plan().returning(move |user| {
        ready(Ok(Some(SealedSafetyPlan {
            user_id: user,
            sealed: sealed.clone(),
            updated_at: now(),
        })))
    });
    let me = actor(7, Role::Individual, None);
    assert_eq!(
        block_on(service(store).get(&me)),
        Err(SafetyPlanError::Undecryptable)
    );
}

#[test]
fn empty_or_oversized_plans_are_refused_before_the_store() {
    // No expectations: the mock panics if the store is reached.
    let service = service(MockSafetyPlanStore::new());
    let me = actor(7, Role::Individual, None);
    let blank = SafetyPlan {
        coping_strategies: " \r\n\t ".into(),
        ..SafetyPlan::default()
    };
    assert_eq!(
        block_on(service.save(&me, blank)),
        Err(SafetyPlanError::Empty)
    );
    let long = SafetyPlan {
        professionals: "é".repeat(MAX_STEP_CHARS + 1),
        ..plan()
    };
    assert_eq!(
        block_on(service.save(&me, long)),
        Err(SafetyPlanError::TooLong(Step::Professionals))
    );
}

#[test]
fn the_limit_counts_characters_after_trimming() {
    let mut store = MockSafetyPlanStore::new();
    store
        .expect_put_safety_plan()
        .times(1)
        .returning(|_| ready(Ok(())));
    let exactly = format!("  {}  ", "ç".repeat(MAX_STEP_CHARS));
    let full = SafetyPlan {
        safe_environment: exactly,
        ..SafetyPlan::default()
    };
    let me = actor(7, Role::Individual, None);
    let (saved, _) = block_on(service(store).save(&me, full)).unwrap();
    assert_eq!(saved.safe_environment.chars().count(), MAX_STEP_CHARS);
}

#[test]
fn delete_touches_only_the_callers_plan() {
    let mut store = MockSafetyPlanStore::new();
    store
        .expect_delete_safety_plan()
        .with(eq(UserId(7)))
        .times(2)
        .returning({
            let mut calls = 0;
            move |_| {
                calls += 1;
                ready(Ok(calls == 1))
            }
        });
    let service = service(store);
    let me = actor(7, Role::PlatformAdmin, None);
    assert_eq!(block_on(service.delete(&me)), Ok(true));
    assert_eq!(block_on(service.delete(&me)), Ok(false));
}

#[test]
fn the_export_has_every_step_in_the_persons_words_and_the_crisis_lines() {
    let plan = SafetyPlan {
        warning_signs: "Não consigo dormir\n\nFico sem comer".into(),
        reasons_for_living: "Meu cachorro".into(),
        ..SafetyPlan::default()
    };
    let pt = export_markdown(&plan, Locale::PtBr);
    assert!(pt.starts_with("# Meu plano de segurança\n"), "{pt}");
    assert!(
        pt.contains("## Passo 1: Sinais de alerta\n\n- Não consigo dormir\n- Fico sem comer\n")
    );
    assert!(pt.contains("## Passo 6: Deixar o ambiente mais seguro\n\n(em branco)\n"));
    assert!(pt.contains("## Minhas razões para viver\n\n- Meu cachorro\n"));
    assert!(pt.contains("CVV 188") && pt.contains("SAMU 192"));
    let en = export_markdown(&plan, Locale::En);
    assert!(
        en.contains("## Step 4: People I can ask for help\n\n(blank)\n"),
        "{en}"
    );
    assert!(en.contains("988") && en.contains("911"));
    for step in Step::ALL {
        assert!(pt.contains(step.title(Locale::PtBr)) && en.contains(step.title(Locale::En)));
    }
}
