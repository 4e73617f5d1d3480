//! The safety paths of a turn with every port mocked: the crisis answer before the length check,
//! both rate limits, the budget and the model; the second opinion on ambiguous messages and its
//! fallback; method content replaced after distress; crisis turns stored like any other.

use super::chat::*;
use super::chat_tests::{Ports, allow, context, judged, ports, reply_stream, reserve_ok, service};
use super::tests::ready;
use crate::budget::{Balance, Counter, LedgerError, SettledTurn, Subject, TopUp};
use crate::conversation::{Author, SealedMessage};
use crate::model::{ModelError, ModelEvent, ModelUsage, RiskVerdict};
use crate::safety::{Assessment, Concern};
use crate::{MessageId, UserId};
use futures::executor::block_on;

fn turn(p: Ports, message: &str, edge: EdgeDecision) -> Result<TurnOutcome, ChatError> {
    block_on(service(p).turn(context(Vec::new()), message, edge, &mut Collect))
}

fn crisis_counted_and_stored(p: &mut Ports) {
    p.store.expect_count_crisis().returning(|_| ready(Ok(())));
    p.store
        .expect_insert_messages()
        .returning(|_| ready(Ok(())));
}

const LIMITED: EdgeDecision = EdgeDecision::Limited {
    retry_after_secs: 30,
};

#[test]
fn the_crisis_answer_comes_before_the_length_check_and_both_rate_limits() {
    let mut p = ports(Concern::Risk);
    p.limiter.expect_check().never();
    p.store.expect_reserve().never();
    p.model.expect_stream().never();
    p.model.expect_classify_risk().never();
    crisis_counted_and_stored(&mut p);
    let long = format!("{} quero morrer", "a ".repeat(MAX_MESSAGE_CHARS));
    let outcome = turn(p, &long, LIMITED).unwrap();
    assert!(outcome.crisis);
    assert_eq!(outcome.support, Support::Crisis);
    assert_eq!(outcome.charged, 0);
}

#[test]
fn without_risk_the_length_and_the_address_limit_still_apply() {
    let p = ports(Concern::None);
    let long = "a ".repeat(MAX_MESSAGE_CHARS);
    assert_eq!(
        turn(p, &long, EdgeDecision::Allowed).unwrap_err(),
        ChatError::TooLong
    );
    let mut p = ports(Concern::None);
    p.limiter.expect_check().never();
    assert_eq!(
        turn(p, "oi", LIMITED).unwrap_err(),
        ChatError::RateLimited {
            retry_after_secs: 30
        }
    );
}

#[test]
fn imminent_danger_puts_the_emergency_number_first() {
    let mut p = ports(Concern::Imminent);
    crisis_counted_and_stored(&mut p);
    let outcome = turn(p, "tomei todos os comprimidos agora", EdgeDecision::Allowed).unwrap();
    assert_eq!(outcome.support, Support::Imminent);
    assert!(outcome.reply.find("192").unwrap() < outcome.reply.find("188").unwrap());
}

#[test]
fn a_saved_safety_plan_is_offered_again() {
    let mut p = ports(Concern::Risk);
    p.store.checkpoint();
    p.store.expect_safety_plan().returning(|user| {
        ready(Ok(Some(crate::safety_plan::SealedSafetyPlan {
            user_id: user,
            sealed: vec![1, 2, 3],
            updated_at: super::tests::now(),
        })))
    });
    p.store
        .expect_counter()
        .returning(|_, _| ready(Ok(Default::default())));
    p.store
        .expect_topup()
        .returning(|_| ready(Ok(Default::default())));
    crisis_counted_and_stored(&mut p);
    let outcome = turn(p, "quero morrer", EdgeDecision::Allowed).unwrap();
    assert!(outcome.safety_plan_saved);
    assert!(outcome.reply.contains("plano de segurança"));
}

#[test]
fn worry_about_someone_else_gets_how_to_help_them() {
    let mut p = ports(Concern::SomeoneElse);
    p.store.expect_count_crisis().never();
    p.store
        .expect_insert_messages()
        .returning(|_| ready(Ok(())));
    p.model.expect_stream().never();
    let outcome = turn(p, "minha amiga quer se matar", EdgeDecision::Allowed).unwrap();
    assert!(!outcome.crisis);
    assert_eq!(outcome.support, Support::SomeoneElse);
    assert!(outcome.reply.contains("188"));
}

#[test]
fn an_ambiguous_message_the_model_judges_risky_gets_the_crisis_answer() {
    let mut p = ports(Concern::Distress);
    p.model.expect_classify_risk().times(1).returning(|_| {
        ready(Ok(RiskVerdict {
            risk: true,
            imminent: false,
        }))
    });
    p.model.expect_stream().never();
    p.store.expect_reserve().never();
    crisis_counted_and_stored(&mut p);
    let outcome = turn(p, "não vejo saída", EdgeDecision::Allowed).unwrap();
    assert!(outcome.crisis);
}

/// A careful turn: the model answers `reply`, reporting 50 + 10 tokens.
fn careful_turn(p: &mut Ports, reply: &'static str) {
    allow(&mut p.limiter);
    reserve_ok(&mut p.store);
    p.model
        .expect_stream()
        .withf(|r| r.messages[0].content.contains("Nunca"))
        .returning(move |_| {
            ready(Ok(reply_stream(vec![
                Ok(ModelEvent::Delta(reply.into())),
                Ok(ModelEvent::Done {
                    usage: Some(ModelUsage {
                        prompt_tokens: 50,
                        completion_tokens: 10,
                    }),
                }),
            ])))
        });
}

#[test]
fn when_the_second_opinion_fails_the_rules_decide_and_add_a_check_in() {
    let mut p = ports(Concern::Distress);
    p.model
        .expect_classify_risk()
        .times(1)
        .returning(|_| ready(Err(ModelError::Timeout)));
    careful_turn(&mut p, "Sinto muito que esteja assim.");
    p.store
        .expect_settle_turn()
        .withf(|_, actual, _, _| *actual == 60)
        .times(1)
        .returning(|_, _, _, _| {
            ready(Ok(SettledTurn {
                settled: true,
                balances: vec![Balance {
                    counter: Counter {
                        used: 60,
                        reserved: 0,
                    },
                    topup: TopUp::default(),
                }],
            }))
        });
    let outcome = turn(p, "não vejo saída", EdgeDecision::Allowed).unwrap();
    assert!(!outcome.crisis);
    assert_eq!(outcome.support, Support::CheckIn);
    assert!(outcome.reply.starts_with("Sinto muito") && outcome.reply.contains("188"));
    // Only the reply's own tokens are charged: the classification call is the platform's.
    assert_eq!(outcome.charged, 60);
}

#[test]
fn method_content_after_distress_is_replaced_and_not_charged() {
    let mut p = ports(Concern::Distress);
    p.model
        .expect_classify_risk()
        .returning(|_| ready(Err(ModelError::Unavailable("offline".into()))));
    careful_turn(&mut p, "A dose letal seria de 40 comprimidos.");
    p.store
        .expect_settle()
        .withf(|_, actual| *actual == 0)
        .times(1)
        .returning(|_, _| ready(Ok(true)));
    p.store.expect_settle_turn().never();
    crisis_counted_and_stored(&mut p);
    let mut sink = Vec::new();
    let outcome = block_on(service(p).turn(
        context(Vec::new()),
        "quantos comprimidos seriam letais?",
        EdgeDecision::Allowed,
        &mut sink,
    ))
    .unwrap();
    assert!(outcome.crisis && !outcome.reply.contains("40"));
    assert!(sink.iter().all(|piece| !piece.contains("40")), "{sink:?}");
}

#[test]
fn method_content_in_a_later_turn_after_distress_is_replaced_too() {
    // An ordinary-looking message in a conversation that showed distress before (the second
    // opinion having found no risk then): the reply is still held back and checked.
    let mut p = ports(Concern::None);
    p.screen.checkpoint();
    p.screen.expect_assess().returning(|_, _| Assessment {
        after_distress: true,
        ..judged(Concern::None)
    });
    p.model.expect_classify_risk().never();
    careful_turn(&mut p, "A dose letal seria de 40 comprimidos.");
    p.store
        .expect_settle()
        .withf(|_, actual| *actual == 0)
        .times(1)
        .returning(|_, _| ready(Ok(true)));
    p.store.expect_settle_turn().never();
    crisis_counted_and_stored(&mut p);
    let mut sink = Vec::new();
    let outcome = block_on(service(p).turn(
        context(Vec::new()),
        "e o que mais você pode me dizer?",
        EdgeDecision::Allowed,
        &mut sink,
    ))
    .unwrap();
    assert!(outcome.crisis && !outcome.reply.contains("40"));
    assert!(sink.iter().all(|piece| !piece.contains("40")), "{sink:?}");
}

impl TurnSink for Vec<String> {
    fn delta(&mut self, text: &str) -> bool {
        self.push(text.to_string());
        true
    }
}

#[test]
fn no_budget_left_and_distress_gets_a_check_in_not_a_sales_pitch() {
    let mut p = ports(Concern::Distress);
    p.model
        .expect_classify_risk()
        .returning(|_| ready(Err(ModelError::Timeout)));
    allow(&mut p.limiter);
    p.store.expect_reserve().returning(|_| {
        ready(Err(LedgerError::InsufficientBudget {
            subject: Subject::User(UserId(1)),
        }))
    });
    p.model.expect_stream().never();
    p.store
        .expect_insert_messages()
        .returning(|_| ready(Ok(())));
    let outcome = turn(p, "tô exausta, não aguento mais", EdgeDecision::Allowed).unwrap();
    assert_eq!(outcome.support, Support::CheckIn);
    assert!(outcome.reply.contains("188") && outcome.charged == 0);
}

#[test]
fn a_crisis_turn_is_stored_like_an_ordinary_one() {
    let mut p = ports(Concern::Risk);
    p.store.expect_count_crisis().returning(|_| ready(Ok(())));
    p.store
        .expect_insert_messages()
        .withf(|m| {
            // Both messages, the reply carrying the tokens an ordinary turn would have cost.
            m.len() == 2
                && m[0].author == Author::User
                && m[0].tokens == 0
                && m[1].author == Author::Assistant
                && m[1].tokens > 20
        })
        .times(1)
        .returning(|_| ready(Ok(())));
    assert!(
        turn(p, "quero morrer", EdgeDecision::Allowed)
            .unwrap()
            .crisis
    );
}

#[test]
fn the_screen_sees_the_persons_own_recent_messages_of_the_last_day() {
    let mut p = ports(Concern::None);
    p.screen.checkpoint();
    p.screen
        .expect_assess()
        .withf(|message, earlier| {
            message == "qual a altura da ponte?" && earlier == ["não aguento mais"]
        })
        .times(1)
        .returning(|_, _| judged(Concern::Risk));
    crisis_counted_and_stored(&mut p);
    let now = super::tests::now();
    let sealed = |id: i64, author, text: &str, hours: i64| SealedMessage {
        id: MessageId(id),
        user_id: UserId(1),
        author,
        // The mocked cipher seals by reversing the bytes and opens by reversing them back.
        sealed: text.bytes().rev().collect(),
        created_at: now - chrono::Duration::hours(hours),
        tokens: 0,
    };
    // Newest first, as read with the session.
    let recent = vec![
        sealed(4, Author::Assistant, "Sinto muito.", 1),
        sealed(3, Author::User, "não aguento mais", 1),
        sealed(2, Author::Assistant, "Olá!", 30),
        sealed(1, Author::User, "bom dia", 30),
    ];
    let outcome = block_on(service(p).turn(
        context(recent),
        "qual a altura da ponte?",
        EdgeDecision::Allowed,
        &mut Collect,
    ))
    .unwrap();
    assert!(outcome.crisis);
    let _: fn(&Assessment) -> bool = Assessment::is_crisis;
}
