//! Scale-out: two server instances on different ports sharing one MySQL database and one Redis,
//! with traffic spread over both. Quotas, rate limits, sessions and Stripe webhooks must hold
//! globally, as if there were one server.

use crate::support::chat::{
    PASSWORD, PERSON, charged, cost_of_one_turn, model_settings, plans_with, prepare, say, usage,
};
use crate::support::stripe::{deliver_signed, pack_paid};
use crate::support::{Browser, TestServer, settings};
use domain::budget::Subject;
use domain::ports::{UsageLedger, UserStore};
use domain::{Email, UserId};
use model_openai::stub::{Reply, StubServer};
use persistence_mysql::MysqlStore;
use ratelimit_redis::test_support::{limiter_on, redis_url, unique_prefix};
use reqwest::StatusCode;

const WEBHOOK_SECRET: &str = "whsec_scale_out";
const PACK: u64 = 100_000;
/// Turns a person may send per minute, counted across both instances.
const PER_MINUTE: usize = 6;
/// Turns the monthly budget fits.
const TURNS_IN_BUDGET: u64 = 3;

struct Cluster {
    a: TestServer,
    b: TestServer,
    store: MysqlStore,
    _dir: tempfile::TempDir,
}

/// Two instances on one fresh MySQL database and one Redis key prefix, or `None` when a service
/// is missing outside CI (said loudly by the helpers).
async fn cluster(stub: &StubServer, turn_cost: u64) -> Option<Cluster> {
    let url = persistence_mysql::test_support::fresh_database_url().await?;
    let prefix = unique_prefix();
    limiter_on(&prefix).await?;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}max_output_tokens = 16\nchat_messages_per_minute = {PER_MINUTE}\n\
         database_url = {url:?}\nredis_url = {:?}\nredis_key_prefix = {prefix:?}\n{}\
         [billing]\nstripe_secret_key = \"sk_test_x\"\n\
         stripe_webhook_secret = \"{WEBHOOK_SECRET}\"\nstripe_api_base = \"http://127.0.0.1:1/\"\n",
        model_settings(stub, 0),
        redis_url(),
        plans_with(TURNS_IN_BUDGET * turn_cost),
    );
    let settings = settings(dir.path(), &extra);
    let open = || MysqlStore::open(&url, 8);
    prepare(open().await.unwrap(), &settings, &[PERSON]).await;
    Some(Cluster {
        a: TestServer::start(open().await.unwrap(), settings.clone()).await,
        b: TestServer::start(open().await.unwrap(), settings).await,
        store: open().await.unwrap(),
        _dir: dir,
    })
}

async fn person_id(store: &MysqlStore) -> UserId {
    store
        .user_by_email(&Email::parse(PERSON).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quotas_rate_limits_sessions_and_webhooks_hold_across_two_instances() {
    let stub = StubServer::start(Reply::text("Uma resposta curta e igual para todos.")).await;
    let message = "Como dormir melhor?";
    let cost = cost_of_one_turn(&stub, "max_output_tokens = 16\n", message).await;
    let Some(Cluster { a, b, store, _dir }) = cluster(&stub, cost).await else {
        return;
    };

    // Sessions: a browser signed in on A is signed in on B; signing out on B ends it on A.
    let mut on_a = Browser::new(&a);
    let (status, location) = on_a.sign_in(PERSON, PASSWORD).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/chat")
    );
    let mut on_b = Browser::new(&b);
    on_b.cookies = on_a.cookies.clone();
    let (status, html) = on_b.get("/profile").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(PERSON), "B shows the person signed in on A");
    let token = on_b.csrf("/profile").await;
    assert_eq!(
        on_b.post("/signout", &[("csrf", &token)]).await.1,
        "/signin"
    );
    let (status, _) = on_a.get("/chat").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "signed out on B means signed out on A (sent to sign in)"
    );
    // An API token issued by one instance works on the other.
    let bearer = b.bearer(PERSON, PASSWORD).await;
    assert_eq!(a.me(&bearer).await.status(), 200);

    // Quotas and rate limits: 40 turns at once, alternating instances. The limiter lets exactly
    // PER_MINUTE through whichever instance they reach; the budget lets at most 3 of those run.
    let turns = (0..40).map(|i| say(if i % 2 == 0 { &a } else { &b }, &bearer, message));
    let results = futures::future::join_all(turns).await;
    let count = |code: u16| results.iter().filter(|(s, _)| *s == code).count();
    let (ok, over_budget, limited) = (count(200), count(402), count(429));
    eprintln!("scale-out: {ok} answered, {over_budget} over budget, {limited} rate-limited");
    assert_eq!(ok + over_budget + limited, 40, "{results:?}");
    assert_eq!(limited, 40 - PER_MINUTE, "one global rate limit");
    assert!(
        (1..=TURNS_IN_BUDGET as usize).contains(&ok),
        "{ok} turns answered"
    );
    let limit = TURNS_IN_BUDGET * cost;
    for server in [&a, &b] {
        let usage = usage(server, &bearer).await;
        assert!(usage["used"].as_u64().unwrap() <= limit, "{usage}");
        assert_eq!(
            usage["used"].as_u64().unwrap(),
            charged(&results),
            "exactly the reported usage is charged"
        );
        assert_eq!(usage["reserved"], 0);
    }

    // Webhooks: the same Stripe event delivered to both instances at once is applied once.
    let person = person_id(&store).await;
    let paid = pack_paid("evt_scale_out", &format!("u:{person}"), "pi_scale_out");
    let now = chrono::Utc::now().timestamp();
    let deliveries = (0..8)
        .map(|i| deliver_signed(if i % 2 == 0 { &a } else { &b }, &paid, WEBHOOK_SECRET, now));
    for status in futures::future::join_all(deliveries).await {
        assert_eq!(status, StatusCode::OK);
    }
    let topup = store.topup(Subject::User(person)).await.unwrap();
    assert_eq!((topup.balance, topup.reserved), (PACK, 0));
    for server in [&a, &b] {
        let limit_now = usage(server, &bearer).await["limit"].as_u64().unwrap();
        assert_eq!(limit_now, limit + PACK, "both instances see the pack once");
    }
    a.stop().await;
    b.stop().await;
}
