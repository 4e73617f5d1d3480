//! Rate limiter decisions per second, in-process (`governor`) and on Redis (one EVALSHA per
//! decision), side by side: from one task, and from 64 tasks sharing one limiter (hence one pool
//! of Redis connections, as in the server).

use crate::servers::{BenchResult, REDIS_URL};
use domain::ports::RateLimiter;
use domain::ratelimit::Quota;
use ratelimit_governor::GovernorLimiter;
use ratelimit_redis::{RedisLimiter, ResilientLimiter, ResilientOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Generous enough that most decisions are `Allowed`, the path that writes.
const QUOTA: Quota = Quota {
    rule: "bench",
    burst: 1_000_000,
    period: Duration::from_secs(1),
};
const KEYS: usize = 1_024;
pub const TASKS: usize = 64;

/// Decisions made in a time.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub decisions: u64,
    pub elapsed: Duration,
}

impl Rate {
    pub fn per_second(self) -> f64 {
        self.decisions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

pub struct Row {
    pub label: &'static str,
    pub one_task: BenchResult<Rate>,
    pub tasks: BenchResult<Rate>,
}

/// Each limiter for `duration` from one task, then `duration` from [`TASKS`] tasks.
pub async fn measure(duration: Duration) -> Vec<Row> {
    let mut rows = vec![row("in-process (governor)", GovernorLimiter::new(), duration).await];
    let prefix = format!("bench{}:limiter", std::process::id());
    match RedisLimiter::connect(REDIS_URL, &prefix).await {
        Ok(redis) => {
            rows.push(row("Redis (one EVALSHA per decision)", redis.clone(), duration).await);
            let resilient = ResilientLimiter::new(redis, ResilientOptions::default());
            rows.push(
                row(
                    "resilient wrapper, Redis up (the server's)",
                    resilient,
                    duration,
                )
                .await,
            );
        }
        Err(e) => rows.push(Row {
            label: "Redis (one EVALSHA per decision)",
            one_task: Err(format!("Redis at {REDIS_URL}: {e}")),
            tasks: Err(format!("Redis at {REDIS_URL}: {e}")),
        }),
    }
    rows
}

async fn row<L: RateLimiter>(label: &'static str, limiter: L, duration: Duration) -> Row {
    let limiter = Arc::new(limiter);
    eprintln!("   {label}");
    let one_task = decide(limiter.clone(), 0, Instant::now() + duration).await;
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| tokio::spawn(decide(limiter.clone(), t, deadline)))
        .collect();
    let mut decisions = 0;
    let mut failure = None;
    for task in tasks {
        match task.await {
            Ok(Ok(rate)) => decisions += rate.decisions,
            Ok(Err(e)) => failure = Some(e),
            Err(e) => failure = Some(format!("task failed: {e}")),
        }
    }
    let tasks = match failure {
        Some(e) => Err(e),
        None => Ok(Rate {
            decisions,
            elapsed: started.elapsed(),
        }),
    };
    Row {
        label,
        one_task,
        tasks,
    }
}

/// Decisions in a loop until `deadline`, over the keys from `offset` on.
async fn decide<L: RateLimiter>(
    limiter: Arc<L>,
    offset: usize,
    deadline: Instant,
) -> BenchResult<Rate> {
    let keys: Vec<String> = (0..KEYS).map(|i| format!("user-{i}")).collect();
    let started = Instant::now();
    let mut decisions = 0u64;
    let mut key = offset * 131;
    loop {
        // Reading the clock costs about as much as a governor decision: look every 64.
        for _ in 0..64 {
            key = (key + 1) % KEYS;
            limiter
                .check(QUOTA, &keys[key])
                .await
                .map_err(|e| format!("decision {decisions}: {e}"))?;
            decisions += 1;
        }
        if Instant::now() >= deadline {
            break;
        }
        // Let the other tasks run between batches (governor never yields on its own).
        tokio::task::yield_now().await;
    }
    Ok(Rate {
        decisions,
        elapsed: started.elapsed(),
    })
}
