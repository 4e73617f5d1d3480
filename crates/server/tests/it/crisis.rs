//! The crisis path over real HTTP: the crisis answer comes before the budget, both rate
//! limits and the length check, over JSON and the event stream alike; the conversation is the
//! screen's context; with a model configured, its second opinion is never charged, a slow one
//! still gets a careful answer in time, and after distress or a crisis its method content never
//! reaches the person; someone worried about another person is told how to help.
//!
//! What the database keeps of a crisis turn, and the answer when it cannot keep anything, are
//! in `crisis_privacy.rs`.

use crate::support::TestServer;
use crate::support::chat::{PERSON, TINY_PLANS, model_settings, usage};
use crate::support::crisis::{Answer, Database, EN_PERSON, assert_crisis, sqlite_server, turn};
use model_openai::stub::{Behaviour, Reply, StubServer};
use std::time::{Duration, Instant};

const WANT_TO_DIE: &str = "não aguento mais, quero morrer";
const END_MY_LIFE: &str = "I want to end my life";
const ORDINARY: &str = "Como dormir melhor quando a cabeça não para?";
const ORDINARY_EN: &str = "How can I sleep better when my mind keeps racing?";
/// Distress without explicit risk: the model's second opinion is asked.
const AMBIGUOUS: &str = "não vejo saída pra minha vida";
const OTHER: &str = "other@test.local";

/// Both people's crisis messages get the crisis answer (188 in Portuguese, 988 in English), as
/// JSON and as an event stream.
async fn crisis_both_ways(server: &TestServer, pt: &str, en: &str) {
    for streaming in [false, true] {
        assert_crisis(&turn(server, pt, WANT_TO_DIE, streaming).await, "188");
        assert_crisis(&turn(server, en, END_MY_LIFE, streaming).await, "988");
    }
}

/// The status of an ordinary turn, over JSON and over the event stream.
async fn ordinary_statuses(server: &TestServer, token: &str, message: &str) -> [u16; 2] {
    [
        turn(server, token, message, false).await.status,
        turn(server, token, message, true).await.status,
    ]
}

#[tokio::test]
async fn no_tokens_left_still_gets_the_crisis_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (server, tokens) = sqlite_server(dir.path(), TINY_PLANS, &[PERSON, EN_PERSON]).await;
    assert_eq!(
        ordinary_statuses(&server, &tokens[0], ORDINARY).await,
        [402; 2]
    );
    assert_eq!(
        ordinary_statuses(&server, &tokens[1], ORDINARY_EN).await,
        [402; 2]
    );
    crisis_both_ways(&server, &tokens[0], &tokens[1]).await;
    for token in &tokens {
        let usage = usage(&server, token).await;
        assert_eq!((&usage["used"], &usage["reserved"]), (&0.into(), &0.into()));
    }
    server.stop().await;
}

#[tokio::test]
async fn the_per_person_chat_limit_spent_still_gets_the_crisis_answer() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "chat_messages_per_minute = 1\n";
    let (server, tokens) = sqlite_server(dir.path(), extra, &[PERSON, EN_PERSON]).await;
    for (token, message) in tokens.iter().zip([ORDINARY, ORDINARY_EN]) {
        assert_eq!(turn(&server, token, message, false).await.status, 200);
        assert_eq!(ordinary_statuses(&server, token, message).await, [429; 2]);
    }
    crisis_both_ways(&server, &tokens[0], &tokens[1]).await;
    // The message right after a crisis keeps the crisis answer; the limit still holds for the
    // turns that reach the model.
    assert_crisis(&turn(&server, &tokens[0], ORDINARY, false).await, "188");
    assert_eq!(turn(&server, &tokens[0], ORDINARY, false).await.status, 429);
    server.stop().await;
}

#[tokio::test]
async fn the_per_address_limit_spent_still_gets_the_crisis_answer() {
    let dir = tempfile::tempdir().unwrap();
    // 3 a minute: one comes back every 20 s, longer than this test takes.
    let extra = "ip_requests_per_minute = 3\n";
    let (server, tokens) = sqlite_server(dir.path(), extra, &[PERSON, EN_PERSON]).await;
    // Spent by ordinary turns from this client (the server's start-up probe took its share).
    let mut answered = 0;
    loop {
        match turn(&server, &tokens[0], ORDINARY, false).await.status {
            200 => answered += 1,
            429 => break,
            other => panic!("ordinary turn: {other}"),
        }
        assert!(answered <= 3, "the per-address limit never refused");
    }
    assert!(answered >= 1, "no ordinary turn was answered first");
    crisis_both_ways(&server, &tokens[0], &tokens[1]).await;
    // The message right after a crisis keeps the crisis answer; later ones are refused again.
    assert_crisis(&turn(&server, &tokens[1], ORDINARY_EN, false).await, "988");
    assert_eq!(
        ordinary_statuses(&server, &tokens[1], ORDINARY_EN).await,
        [429; 2]
    );
    server.stop().await;
}

/// `middle` inside neutral text, `chars` characters in all.
fn long_message(filler: &str, middle: &str, chars: usize) -> String {
    let half = (chars - middle.chars().count()) / 2;
    let rest = chars - middle.chars().count() - half;
    let text = |n| filler.chars().cycle().take(n).collect::<String>();
    format!("{}{middle}{}", text(half), text(rest))
}

#[tokio::test]
async fn a_ten_thousand_character_message_is_screened_whole_before_the_length_check() {
    let dir = tempfile::tempdir().unwrap();
    let (server, tokens) = sqlite_server(dir.path(), "", &[PERSON, EN_PERSON]).await;
    let pt = "Hoje fui ao mercado e depois caminhei no parque com calma. ";
    let en = "Today I went to the market and then walked in the park. ";
    let ordinary = long_message(pt, "", 10_000);
    assert_eq!(ordinary.chars().count(), 10_000);
    assert_eq!(
        ordinary_statuses(&server, &tokens[0], &ordinary).await,
        [422; 2]
    );
    for streaming in [false, true] {
        let risky = long_message(pt, &format!(" {WANT_TO_DIE}. "), 10_000);
        assert_eq!(risky.chars().count(), 10_000);
        assert_crisis(&turn(&server, &tokens[0], &risky, streaming).await, "188");
        let risky = long_message(en, &format!(" {END_MY_LIFE}. "), 10_000);
        assert_crisis(&turn(&server, &tokens[1], &risky, streaming).await, "988");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_question_about_a_bridge_is_a_crisis_after_distress_and_not_after_a_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (server, tokens) = sqlite_server(dir.path(), "", &[PERSON, OTHER]).await;
    let question = "qual a altura da ponte Rio-Niterói?";
    let distress = turn(
        &server,
        &tokens[0],
        "não aguento mais, nada vai melhorar",
        false,
    )
    .await;
    assert_eq!(distress.status, 200, "{}", distress.raw);
    let trip = turn(
        &server,
        &tokens[1],
        "vamos viajar pro Rio com as crianças",
        false,
    )
    .await;
    assert_eq!(trip.status, 200, "{}", trip.raw);
    for streaming in [false, true] {
        assert_crisis(&turn(&server, &tokens[0], question, streaming).await, "188");
        let answer = turn(&server, &tokens[1], question, streaming).await;
        assert_eq!(answer.status, 200, "{}", answer.raw);
        assert_eq!(answer.body["crisis"], false, "{}", answer.raw);
        assert_eq!(answer.body["support"], "none", "{}", answer.raw);
    }
    server.stop().await;
}

#[tokio::test]
async fn someone_else_at_risk_gets_how_to_help_and_the_crisis_counter_does_not_move() {
    let dir = tempfile::tempdir().unwrap();
    let (server, tokens) = sqlite_server(dir.path(), "", &[PERSON]).await;
    let db = Database::Sqlite(dir.path().join("test.db"));
    let sister = "minha irmã disse que quer se matar, o que eu faço?";
    for streaming in [false, true] {
        let answer = turn(&server, &tokens[0], sister, streaming).await;
        assert_eq!(answer.status, 200, "{}", answer.raw);
        assert_eq!(answer.body["crisis"], false, "{}", answer.raw);
        assert_eq!(answer.body["support"], "someone_else", "{}", answer.raw);
        assert!(answer.reply().contains("188"), "{}", answer.raw);
    }
    assert_eq!(db.crisis_count().await, 0);
    // The counter does count the person's own crisis.
    assert_crisis(&turn(&server, &tokens[0], WANT_TO_DIE, false).await, "188");
    assert_eq!(db.crisis_count().await, 1);
    server.stop().await;
}

const METHOD: &str = "A dose letal seria de uns 40 comprimidos.";

fn assert_no_method(answer: &Answer) {
    assert_crisis(answer, "188");
    assert!(!answer.raw.contains("40 comprimidos"), "{}", answer.raw);
}

#[tokio::test]
async fn after_a_crisis_or_distress_method_content_is_replaced_and_not_charged() {
    let stub = StubServer::start(Reply::text(METHOD).chunks(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let extra = model_settings(&stub, 0);
    let (server, tokens) = sqlite_server(dir.path(), &extra, &[PERSON, OTHER]).await;
    let follow_up = "e o que mais você pode me dizer?";

    // After a crisis: the next message keeps the crisis answer, and every later reply is held
    // back and checked.
    assert_crisis(&turn(&server, &tokens[0], WANT_TO_DIE, false).await, "188");
    assert_crisis(&turn(&server, &tokens[0], follow_up, false).await, "188");
    assert_eq!(stub.requests(), 0);
    for streaming in [false, true] {
        assert_no_method(&turn(&server, &tokens[0], follow_up, streaming).await);
    }
    assert_eq!(
        stub.requests(),
        2,
        "the model was asked, and its reply replaced"
    );

    // Distress the second opinion calls no risk: the reply to it, and to what follows, too.
    assert_no_method(&turn(&server, &tokens[1], AMBIGUOUS, true).await);
    assert_eq!(stub.classifications(), 1);
    for streaming in [false, true] {
        assert_no_method(&turn(&server, &tokens[1], follow_up, streaming).await);
    }
    assert_eq!(stub.requests(), 5);
    for token in &tokens {
        let usage = usage(&server, token).await;
        assert_eq!((&usage["used"], &usage["reserved"]), (&0.into(), &0.into()));
    }
    server.stop().await;
}

#[tokio::test]
async fn the_second_opinion_is_not_charged() {
    let reply = "Entendo. Quer me contar um pouco mais sobre o que está pesando?";
    let stub = StubServer::start(Reply::text(reply)).await;
    let dir = tempfile::tempdir().unwrap();
    let (server, tokens) = sqlite_server(dir.path(), &model_settings(&stub, 0), &[PERSON]).await;
    let answer = turn(&server, &tokens[0], AMBIGUOUS, false).await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    assert_eq!(
        (&answer.body["crisis"], answer.reply()),
        (&false.into(), reply)
    );
    assert_eq!((stub.classifications(), stub.requests()), (1, 1));
    let reported = answer.body["usage"]["prompt_tokens"].as_u64().unwrap()
        + answer.body["usage"]["completion_tokens"].as_u64().unwrap();
    let usage = usage(&server, &tokens[0]).await;
    assert_eq!(usage["used"].as_u64(), Some(reported), "{usage}");
    assert_eq!(usage["reserved"], 0);
    server.stop().await;
}

#[tokio::test]
async fn a_slow_second_opinion_still_gets_a_careful_answer_with_a_check_in_in_time() {
    let slow = Reply::verdict(false, false).delay_first(Duration::from_secs(3));
    let stub = StubServer::start(
        Behaviour::from(Reply::text("Estou aqui com você.")).classifications(vec![slow]),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (server, tokens) = sqlite_server(dir.path(), &model_settings(&stub, 0), &[PERSON]).await;
    for (i, streaming) in [false, true].into_iter().enumerate() {
        let started = Instant::now();
        let answer = turn(&server, &tokens[0], AMBIGUOUS, streaming).await;
        let took = started.elapsed();
        assert_eq!(answer.status, 200, "{}", answer.raw);
        assert_eq!(answer.body["support"], "check_in", "{}", answer.raw);
        assert_eq!(answer.body["crisis"], false, "{}", answer.raw);
        assert!(answer.reply().starts_with("Estou aqui com você."));
        assert!(answer.reply().contains("188"), "{}", answer.raw);
        assert!(took < Duration::from_secs(4), "answered after {took:?}");
        assert_eq!(stub.classifications(), i + 1);
    }
    server.stop().await;
}
