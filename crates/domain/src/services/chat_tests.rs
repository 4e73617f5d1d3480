//! The conversation turn's rules with every port mocked: crisis first and free, rate limit and
//! budget before the model, nothing charged for a failed or abandoned turn, exactly the reported
//! usage charged otherwise.

use super::chat::*;
use super::tests::{MockStore, TestEnv, catalog, ready, user};
use crate::budget::{Balance, Counter, LedgerError, Reservation, SettledTurn, Subject, TopUp};
use crate::conversation::MockMessageCipher;
use crate::model::{MockChatModel, ModelError, ModelEvent, ModelUsage};
use crate::ports::MockTokenCounter;
use crate::prompt::Source;
use crate::ratelimit::{Decision, MockRateLimiter};
use crate::{Role, User};
use futures::executor::block_on;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

type Service = ChatService<
    MockStore,
    MockChatModel,
    MockTokenCounter,
    MockMessageCipher,
    MockRateLimiter,
    MockRetriever,
    MockCrisisScreen,
    TestEnv,
>;

struct Ports {
    store: MockStore,
    model: MockChatModel,
    limiter: MockRateLimiter,
    screen: MockCrisisScreen,
}

fn ports(risky: bool) -> Ports {
    let mut store = MockStore::new();
    store
        .expect_user_by_id()
        .returning(|id| ready(Ok(Some(user(id.0, Role::Individual, None)))));
    store
        .expect_counter()
        .returning(|_, _| ready(Ok(Counter::default())));
    store
        .expect_topup()
        .returning(|_| ready(Ok(TopUp::default())));
    let mut screen = MockCrisisScreen::new();
    screen
        .expect_assess()
        .returning(move |_, _| crate::safety::Assessment {
            concern: if risky {
                crate::safety::Concern::Risk
            } else {
                crate::safety::Concern::None
            },
            categories: Default::default(),
            language: None,
            after_crisis: false,
        });
    Ports {
        store,
        model: MockChatModel::new(),
        limiter: MockRateLimiter::new(),
        screen,
    }
}

fn service(p: Ports) -> Service {
    let mut tokens = MockTokenCounter::new();
    tokens
        .expect_count()
        .returning(|t| (t.len() as u64).div_ceil(4));
    let mut cipher = MockMessageCipher::new();
    cipher
        .expect_seal()
        .returning(|_, text| text.bytes().rev().collect());
    let mut retriever = MockRetriever::new();
    retriever.expect_retrieve().returning(|_, _| {
        vec![Source {
            title: "Guia".into(),
            page: Some(2),
            heading: None,
            text: "Respire devagar.".into(),
        }]
    });
    ChatService {
        store: Arc::new(p.store),
        model: Arc::new(p.model),
        tokens: Arc::new(tokens),
        cipher: Arc::new(cipher),
        limiter: Arc::new(p.limiter),
        retriever: Arc::new(retriever),
        screen: Arc::new(p.screen),
        env: Arc::new(TestEnv {
            next: AtomicI64::new(1),
        }),
        catalog: catalog(),
        limits: ChatLimits {
            max_output_tokens: 100,
            ..ChatLimits::default()
        },
    }
}

fn me() -> User {
    user(1, Role::Individual, None)
}

fn allow(limiter: &mut MockRateLimiter) {
    limiter
        .expect_check()
        .returning(|_, _| ready(Ok(Decision::Allowed)));
}

fn reserve_ok(store: &mut MockStore) {
    store.expect_reserve().times(1).returning(|r| {
        ready(Ok(Reservation {
            id: r.id,
            amount: r.amount,
            parts: Vec::new(),
            expires_at: r.expires_at,
        }))
    });
}

fn reply_stream(events: Vec<Result<ModelEvent, ModelError>>) -> crate::model::ModelStream {
    Box::pin(futures::stream::iter(events))
}

struct Gone;
impl TurnSink for Gone {
    fn delta(&mut self, _: &str) -> bool {
        false
    }
}

#[test]
fn crisis_is_answered_at_once_free_and_without_limits() {
    let mut p = ports(true);
    p.limiter.expect_check().never();
    p.store.expect_reserve().never();
    p.model.expect_stream().never();
    p.store
        .expect_count_crisis()
        .times(1)
        .returning(|_| ready(Ok(())));
    p.store
        .expect_insert_messages()
        .times(1)
        .returning(|_| ready(Ok(())));
    let outcome = block_on(service(p).turn(
        &me(),
        Vec::new(),
        "não aguento mais, quero morrer",
        &mut Collect,
    ))
    .unwrap();
    assert!(outcome.crisis);
    assert_eq!(outcome.charged, 0);
    assert!(outcome.reply.contains("188"));
}

#[test]
fn crisis_answer_survives_a_database_outage() {
    let mut p = ports(true);
    p.store
        .expect_count_crisis()
        .returning(|_| ready(Err(crate::ports::StoreError::Unavailable("down".into()))));
    p.store
        .expect_insert_messages()
        .returning(|_| ready(Err(crate::ports::StoreError::Unavailable("down".into()))));
    let outcome =
        block_on(service(p).turn(&me(), Vec::new(), "quero me matar", &mut Collect)).unwrap();
    assert!(outcome.crisis && outcome.reply.contains("188"));
}

#[test]
fn over_budget_never_reaches_the_model() {
    let mut p = ports(false);
    allow(&mut p.limiter);
    p.store.expect_reserve().returning(|_| {
        ready(Err(LedgerError::InsufficientBudget {
            subject: Subject::User(crate::UserId(1)),
        }))
    });
    p.model.expect_stream().never();
    p.store.expect_insert_messages().never();
    let err = block_on(service(p).turn(&me(), Vec::new(), "Como dormir melhor?", &mut Collect))
        .unwrap_err();
    assert!(matches!(err, ChatError::OverBudget { .. }), "{err:?}");
}

#[test]
fn rate_limited_turns_reserve_nothing() {
    let mut p = ports(false);
    p.limiter.expect_check().returning(|_, _| {
        ready(Ok(Decision::Limited {
            retry_after: std::time::Duration::from_secs(7),
        }))
    });
    p.store.expect_reserve().never();
    let err = block_on(service(p).turn(&me(), Vec::new(), "oi", &mut Collect)).unwrap_err();
    assert_eq!(
        err,
        ChatError::RateLimited {
            retry_after_secs: 7
        }
    );
}

#[test]
fn a_failed_model_call_costs_nothing() {
    let mut p = ports(false);
    allow(&mut p.limiter);
    reserve_ok(&mut p.store);
    p.model
        .expect_stream()
        .returning(|_| ready(Err(ModelError::Unavailable("500".into()))));
    p.store
        .expect_settle()
        .withf(|_, actual| *actual == 0)
        .times(1)
        .returning(|_, _| ready(Ok(true)));
    p.store.expect_insert_messages().never();
    let err = block_on(service(p).turn(&me(), Vec::new(), "oi", &mut Collect)).unwrap_err();
    assert!(matches!(err, ChatError::Model(_)));
}

#[test]
fn a_stream_that_breaks_midway_costs_nothing() {
    let mut p = ports(false);
    allow(&mut p.limiter);
    reserve_ok(&mut p.store);
    p.model.expect_stream().returning(|_| {
        ready(Ok(reply_stream(vec![
            Ok(ModelEvent::Delta("Olá".into())),
            Err(ModelError::Protocol("dropped".into())),
        ])))
    });
    p.store
        .expect_settle()
        .withf(|_, actual| *actual == 0)
        .times(1)
        .returning(|_, _| ready(Ok(true)));
    p.store.expect_insert_messages().never();
    assert!(block_on(service(p).turn(&me(), Vec::new(), "oi", &mut Collect)).is_err());
}

#[test]
fn a_person_who_leaves_is_not_charged() {
    let mut p = ports(false);
    allow(&mut p.limiter);
    reserve_ok(&mut p.store);
    p.model.expect_stream().returning(|_| {
        ready(Ok(reply_stream(vec![
            Ok(ModelEvent::Delta("Olá".into())),
            Ok(ModelEvent::Done { usage: None }),
        ])))
    });
    p.store
        .expect_settle()
        .withf(|_, actual| *actual == 0)
        .times(1)
        .returning(|_, _| ready(Ok(true)));
    let err = block_on(service(p).turn(&me(), Vec::new(), "oi", &mut Gone)).unwrap_err();
    assert_eq!(err, ChatError::Cancelled);
}

#[test]
fn success_charges_the_reported_usage_and_stores_sealed_messages() {
    let mut p = ports(false);
    allow(&mut p.limiter);
    reserve_ok(&mut p.store);
    p.model
        .expect_stream()
        .withf(|r| r.max_output_tokens == 100 && r.messages[0].content.contains("[1] Guia, p. 2"))
        .returning(|_| {
            ready(Ok(reply_stream(vec![
                Ok(ModelEvent::Delta("Olá,".into())),
                Ok(ModelEvent::Delta(" respire.".into())),
                Ok(ModelEvent::Done {
                    usage: Some(ModelUsage {
                        prompt_tokens: 90,
                        completion_tokens: 5,
                    }),
                }),
            ])))
        });
    p.store
        .expect_settle_turn()
        .withf(|_, actual, m, lines| {
            *actual == 95
                && m.len() == 2
                && m[0].sealed == b"io".to_vec()
                && m[1].tokens == 95
                && lines.len() == 1
        })
        .times(1)
        .returning(|_, _, _, _| {
            ready(Ok(SettledTurn {
                settled: true,
                balances: vec![Balance {
                    counter: Counter {
                        used: 95,
                        reserved: 0,
                    },
                    topup: TopUp::default(),
                }],
            }))
        });
    p.store.expect_settle().never();
    p.store.expect_insert_messages().never();
    let outcome = block_on(service(p).turn(&me(), Vec::new(), "oi", &mut Collect)).unwrap();
    assert_eq!(outcome.reply, "Olá, respire.");
    assert_eq!(outcome.charged, 95);
    // What is left comes from the balances the settlement read, not from further queries.
    assert_eq!(outcome.remaining, Some(1_000 - 95));
    assert_eq!(outcome.sources.len(), 1);
    assert!(!outcome.crisis);
}

#[test]
fn empty_and_oversized_messages_are_refused_up_front() {
    let p = ports(false);
    let s = service(p);
    assert_eq!(
        block_on(s.turn(&me(), Vec::new(), "   ", &mut Collect)).unwrap_err(),
        ChatError::Empty
    );
    let long = "a".repeat(MAX_MESSAGE_CHARS + 1);
    assert_eq!(
        block_on(s.turn(&me(), Vec::new(), &long, &mut Collect)).unwrap_err(),
        ChatError::TooLong
    );
}
