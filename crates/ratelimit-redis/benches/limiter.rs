//! Decisions per second of the in-process and Redis limiters, from one task and from 64
//! concurrent tasks (sharing one limiter, hence one pool for Redis).
//!
//! Run: `cargo bench -p ratelimit-redis --bench limiter` (Redis from `TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`; the Redis cases are skipped when it is unreachable).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domain::ratelimit::{Quota, RateLimiter};
use ratelimit_governor::GovernorLimiter;
use ratelimit_redis::test_support::fresh_limiter;
use ratelimit_redis::{ResilientLimiter, ResilientOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

// Generous enough that most decisions are `Allowed`, the path that writes.
const QUOTA: Quota = Quota {
    rule: "bench",
    burst: 1_000_000,
    period: Duration::from_secs(1),
};
const KEYS: usize = 1_024;
const TASKS: u64 = 64;

fn keys() -> Arc<Vec<String>> {
    Arc::new((0..KEYS).map(|i| format!("user-{i}")).collect())
}

fn bench_limiter<L: RateLimiter>(c: &mut Criterion, rt: &Runtime, name: &str, limiter: L) {
    let limiter = Arc::new(limiter);
    let keys = keys();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));

    group.bench_function("single_task", |b| {
        let mut i = 0;
        b.to_async(rt).iter(|| {
            i += 1;
            let (limiter, key) = (&limiter, &keys[i % KEYS]);
            async move { limiter.check(QUOTA, key).await.expect("decision") }
        });
    });

    group.bench_function("64_tasks", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (limiter, keys) = (Arc::clone(&limiter), Arc::clone(&keys));
            async move {
                let started = Instant::now();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let (limiter, keys) = (Arc::clone(&limiter), Arc::clone(&keys));
                        // Split `iters` decisions over the tasks (the first ones take the rest).
                        let share = iters / TASKS + u64::from(t < iters % TASKS);
                        tokio::spawn(async move {
                            for n in 0..share {
                                let key = &keys[(t * 131 + n) as usize % KEYS];
                                limiter.check(QUOTA, key).await.expect("decision");
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("task");
                }
                started.elapsed()
            }
        });
    });
    group.finish();
}

fn limiters(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    bench_limiter(c, &rt, "governor", GovernorLimiter::new());
    match rt.block_on(fresh_limiter()) {
        Some(redis) => {
            bench_limiter(c, &rt, "redis", redis.clone());
            let resilient = ResilientLimiter::new(redis, ResilientOptions::default());
            bench_limiter(c, &rt, "resilient_redis_up", resilient);
        }
        None => eprintln!("redis benches skipped"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = limiters
}
criterion_main!(benches);
