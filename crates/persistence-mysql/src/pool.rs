//! The connection pool, and when a pooled connection is checked before it is handed out.
//!
//! diesel-async's default (`RecyclingMethod::Verified`) runs `SELECT 1` on every checkout: one
//! extra round trip per query batch, about a quarter of a chat turn's database work. Instead each
//! connection keeps a [`QueryHealth`] of its own queries, and is checked only when that gives a
//! reason to: its last query failed, or started and never finished (an error before diesel
//! reports the end, or a request cancelled mid-query), so the server may have gone away and a
//! dead connection is dropped at its next checkout instead of failing query after query; or it
//! sat idle long enough for the server to have closed it (`wait_timeout`).

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::{IntoSql, sql_types::Integer};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use std::time::{Duration, Instant};

/// A connection unused for this long is checked before reuse.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// What a connection's own queries say about it.
#[derive(Debug)]
struct QueryHealth {
    last_failed: bool,
    unfinished: bool,
    last_finished: Instant,
}

impl QueryHealth {
    fn new() -> Self {
        QueryHealth {
            last_failed: false,
            unfinished: false,
            last_finished: Instant::now(),
        }
    }

    fn needs_check(&self) -> bool {
        self.last_failed || self.unfinished || self.last_finished.elapsed() >= IDLE_CHECK
    }
}

impl Instrumentation for QueryHealth {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.unfinished = true,
            InstrumentationEvent::FinishQuery { error, .. } => {
                self.unfinished = false;
                self.last_failed = error.is_some();
                self.last_finished = Instant::now();
            }
            _ => {}
        }
    }
}

/// The manager of the MySQL pool: connections carry a [`QueryHealth`], and are checked with
/// `SELECT 1` on checkout only when it says so (or when it is missing, which should not happen).
pub fn manager(url: &str) -> AsyncDieselConnectionManager<AsyncMysqlConnection> {
    let mut config = ManagerConfig::<AsyncMysqlConnection>::default();
    config.custom_setup = Box::new(|url| {
        Box::pin(async move {
            let mut conn = AsyncMysqlConnection::establish(url).await?;
            conn.set_instrumentation(QueryHealth::new());
            Ok(conn)
        })
    });
    config.recycling_method = RecyclingMethod::CustomFunction(Box::new(|conn| {
        Box::pin(async move {
            let suspect = conn
                .instrumentation()
                .downcast_ref::<QueryHealth>()
                .is_none_or(QueryHealth::needs_check);
            if suspect {
                diesel::select(1_i32.into_sql::<Integer>())
                    .get_result::<i32>(conn)
                    .await?;
            }
            Ok(())
        })
    }));
    AsyncDieselConnectionManager::new_with_config(url, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_checked_after_a_failed_or_unfinished_query_or_a_long_idle_time() {
        let mut health = QueryHealth::new();
        assert!(!health.needs_check());
        health.last_failed = true;
        assert!(health.needs_check());
        health.last_failed = false;
        health.unfinished = true;
        assert!(health.needs_check());
        health.unfinished = false;
        health.last_finished = Instant::now() - IDLE_CHECK;
        assert!(health.needs_check());
    }
}
