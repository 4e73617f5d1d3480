//! Behaviour that needs a real Redis or its absence: one global limit across instances, the
//! fallback while Redis is unreachable, and recovery when it comes back.

use domain::ports::RateLimiter;
use domain::ratelimit::{Decision, Quota};
use ratelimit_redis::test_support::{limiter_on, redis_url, unique_prefix};
use ratelimit_redis::{FallbackPolicy, RedisLimiter, ResilientLimiter, ResilientOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const HOUR: Quota = Quota {
    rule: "global",
    burst: 10,
    period: Duration::from_secs(3_600),
};

async fn decide<L: RateLimiter>(limiter: &L, quota: Quota, key: &str) -> Decision {
    limiter.check(quota, key).await.expect("decision")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_limit() {
    // Two instances: separate pools and connections, same Redis and prefix.
    let prefix = unique_prefix();
    let Some(first) = limiter_on(&prefix).await else {
        return;
    };
    let second = limiter_on(&prefix).await.expect("second instance");
    let (first, second) = (Arc::new(first), Arc::new(second));
    let tasks: Vec<JoinHandle<Decision>> = (0..40)
        .map(|i| {
            let (first, second) = (Arc::clone(&first), Arc::clone(&second));
            tokio::spawn(async move {
                if i % 2 == 0 {
                    decide(&*first, HOUR, "user").await
                } else {
                    decide(&*second, HOUR, "user").await
                }
            })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        if task.await.expect("task") == Decision::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, HOUR.burst);
}

#[tokio::test]
async fn unreachable_redis_falls_back_in_process() {
    let limiter = ResilientLimiter::open(
        "redis://127.0.0.1:1",
        &unique_prefix(),
        ResilientOptions::default(),
    )
    .expect("open");
    for _ in 0..HOUR.burst {
        assert_eq!(decide(&limiter, HOUR, "k").await, Decision::Allowed);
    }
    assert!(matches!(
        decide(&limiter, HOUR, "k").await,
        Decision::Limited { .. }
    ));
}

#[tokio::test]
async fn unreachable_redis_is_refused_when_asked() {
    let options = ResilientOptions {
        policy: FallbackPolicy::Refuse,
        ..ResilientOptions::default()
    };
    let limiter =
        ResilientLimiter::open("redis://127.0.0.1:1", &unique_prefix(), options).expect("open");
    for _ in 0..3 {
        let err = limiter.check(HOUR, "k").await.expect_err("refused");
        assert!(err.to_string().contains("Redis"), "{err}");
    }
}

#[tokio::test]
async fn connect_fails_fast_when_redis_is_unreachable() {
    let started = std::time::Instant::now();
    let err = RedisLimiter::connect("redis://:secret@127.0.0.1:1", "p")
        .await
        .err()
        .expect("must fail");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[tokio::test]
async fn malformed_url_is_an_error() {
    let err = RedisLimiter::open(
        "redis://:secret@127.0.0.1:notaport",
        "p",
        Default::default(),
    )
    .err()
    .expect("must fail");
    assert!(!err.to_string().contains("secret"), "{err}");
}

/// Counts the warnings logged while it is the default subscriber.
#[derive(Clone, Default)]
struct Warnings(Arc<std::sync::atomic::AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::WARN {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_outage_warns_once_per_interval() {
    use tracing_subscriber::layer::SubscriberExt;
    let warnings = Warnings::default();
    let _default =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(warnings.clone()));
    let options = ResilientOptions {
        retry_redis_after: Duration::ZERO,
        warn_every: Duration::from_secs(3_600),
        ..ResilientOptions::default()
    };
    let limiter =
        ResilientLimiter::open("redis://127.0.0.1:1", &unique_prefix(), options).expect("open");
    for i in 0..20 {
        decide(&limiter, HOUR, &format!("k{i}")).await;
    }
    assert_eq!(warnings.0.load(Ordering::SeqCst), 1);
}

/// A TCP proxy to Redis that can be cut (closing every open connection) and restored.
struct Proxy {
    url: String,
    up: Arc<AtomicBool>,
    links: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("redis://{}", listener.local_addr().expect("addr"));
        let up = Arc::new(AtomicBool::new(true));
        let links = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (accept_up, accept_links) = (Arc::clone(&up), Arc::clone(&links));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_up.load(Ordering::SeqCst) {
                    continue; // dropping `client` refuses the connection
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                accept_links.lock().expect("links").push(link);
            }
        });
        Proxy { url, up, links }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_is_used_again_after_an_outage() {
    let prefix = unique_prefix();
    let Some(observer) = limiter_on(&prefix).await else {
        return;
    };
    let upstream = redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_string();
    let proxy = Proxy::start(upstream).await;
    let options = ResilientOptions {
        retry_redis_after: Duration::from_millis(50),
        ..ResilientOptions::default()
    };
    let limiter = ResilientLimiter::open(&proxy.url, &prefix, options).expect("open");
    let two = Quota { burst: 2, ..HOUR };

    // Up: the resilient limiter and the observer draw on the same Redis state.
    assert_eq!(decide(&limiter, two, "a").await, Decision::Allowed);
    assert_eq!(decide(&observer, two, "a").await, Decision::Allowed);
    assert!(matches!(
        decide(&limiter, two, "a").await,
        Decision::Limited { .. }
    ));

    // Down: the in-process limiter answers, and Redis does not see those requests.
    proxy.cut();
    assert_eq!(decide(&limiter, two, "b").await, Decision::Allowed);
    assert_eq!(decide(&limiter, two, "b").await, Decision::Allowed);
    assert!(matches!(
        decide(&limiter, two, "b").await,
        Decision::Limited { .. }
    ));
    assert_eq!(decide(&observer, two, "b").await, Decision::Allowed);

    // Back: after the retry delay Redis decides again (it has one slot left for "b"; the
    // in-process limiter would have said Limited).
    proxy.restore();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(decide(&limiter, two, "b").await, Decision::Allowed);
    assert!(matches!(
        decide(&observer, two, "b").await,
        Decision::Limited { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_redis_times_out_to_the_fallback() {
    // Accepts connections and never answers, like a hung server or a black-holed route.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("redis://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let options = ResilientOptions {
        call_timeout: Duration::from_millis(100),
        ..ResilientOptions::default()
    };
    let limiter = ResilientLimiter::open(&url, &unique_prefix(), options).expect("open");
    let started = std::time::Instant::now();
    assert_eq!(decide(&limiter, HOUR, "k").await, Decision::Allowed);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}
