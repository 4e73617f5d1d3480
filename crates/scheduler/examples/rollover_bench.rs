//! Times the month rollover on MySQL/MariaDB with a large fixture, then a second (no-op) run.
//!
//! ```sh
//! cargo run --release -p scheduler --example rollover_bench
//! BENCH_COMPANIES=1000 BENCH_EMPLOYEES=100000 cargo run --release -p scheduler --example rollover_bench
//! ```
//!
//! Uses a fresh database on `TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`), dropped at
//! the end. The fixture (companies, employees, and a March counter for every employee and
//! company) is bulk-inserted with multi-row INSERTs; the reports go to a temporary directory.
//! The last line is for scripts (`cargo xtask bench`):
//! `rollover_seconds=<s> noop_seconds=<s> companies=<n> employees=<n>`.

use app::reports::FileReports;
use chrono::{TimeZone, Utc};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, SimpleAsyncConnection};
use domain::Period;
use domain::ports::Clock;
use persistence_mysql::{MysqlStore, test_support};
use scheduler::{Context, Job, run_job};
use std::fmt::Write;
use std::time::Instant;

struct Fixed(chrono::DateTime<Utc>);

impl Clock for Fixed {
    fn now(&self) -> chrono::DateTime<Utc> {
        self.0
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Inserts `rows` rows made by `row` in multi-row statements of `chunk` rows.
async fn bulk(
    conn: &mut AsyncMysqlConnection,
    head: &str,
    rows: usize,
    chunk: usize,
    row: impl Fn(usize, &mut String),
) {
    let mut start = 0;
    while start < rows {
        let end = (start + chunk).min(rows);
        let mut sql = String::with_capacity(64 + (end - start) * 120);
        sql.push_str(head);
        for i in start..end {
            if i > start {
                sql.push(',');
            }
            row(i, &mut sql);
        }
        conn.batch_execute(&sql).await.expect("bulk insert");
        start = end;
    }
}

#[tokio::main]
async fn main() {
    let companies = env_number("BENCH_COMPANIES", 10_000);
    let employees = env_number("BENCH_EMPLOYEES", 1_000_000);
    let Some(url) = test_support::fresh_database_url().await else {
        eprintln!("no MySQL server: nothing measured");
        std::process::exit(1);
    };
    let store = MysqlStore::open(&url, 8).await.expect("open mysql");
    // On ext4 without a journal (this machine's disk), creating a file costs 20-50x more while
    // many inodes deleted in the last minute sit in dirty inode-table blocks (the allocator skips
    // "recently deleted" inodes; 6 minutes while the block is dirty, 1 minute once written).
    // A build or an earlier run leaves thousands; flushing them now means the ~30 s fixture
    // insert below ages them out, so the timing is of the job, not of that backlog.
    let _ = std::process::Command::new("sync").status();
    let march = Period::calendar_month(Utc.with_ymd_and_hms(2026, 3, 20, 0, 0, 0).unwrap());

    let started = Instant::now();
    let mut conn = AsyncMysqlConnection::establish(&url)
        .await
        .expect("connect");
    conn.batch_execute("SET unique_checks = 0").await.unwrap();
    bulk(
        &mut conn,
        "INSERT INTO companies VALUES ",
        companies,
        5_000,
        |i, sql| {
            let _ = write!(
                sql,
                "({},'Company {i}',{},'team',NULL,0,NULL,NULL)",
                i + 1,
                employees / companies + 1
            );
        },
    )
    .await;
    let user_id = |i: usize| 1_000_000 + i as i64;
    bulk(
        &mut conn,
        "INSERT INTO users VALUES ",
        employees,
        5_000,
        |i, sql| {
            let _ = write!(
                sql,
                "({},'e{i}@example.com','Employee {i}','x','employee',{},NULL,'team','pt-BR',0,0,NULL,NULL)",
                user_id(i),
                i % companies + 1
            );
        },
    )
    .await;
    let key = march.key();
    bulk(
        &mut conn,
        "INSERT INTO usage_counters VALUES ",
        employees,
        5_000,
        |i, sql| {
            let _ = write!(sql, "('u:{}',{key},{},0)", user_id(i), 100 + i % 900);
        },
    )
    .await;
    bulk(
        &mut conn,
        "INSERT INTO usage_counters VALUES ",
        companies,
        5_000,
        |i, sql| {
            let _ = write!(sql, "('c:{}',{key},{},0)", i + 1, 50_000);
        },
    )
    .await;
    conn.batch_execute("ANALYZE TABLE users, usage_counters, companies")
        .await
        .unwrap();
    println!(
        "fixture: {companies} companies, {employees} employees with March usage, inserted in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = FileReports::new(dir.path());
    let clock = Fixed(march.end);
    let ctx = Context::new("bench", 120);
    let mut seconds = Vec::new();
    for label in ["rollover", "second run (no-op)"] {
        let started = Instant::now();
        let outcome = run_job(&store, &archive, &clock, &ctx, Job::CloseMonth)
            .await
            .expect("rollover");
        let elapsed = started.elapsed().as_secs_f64();
        println!("{label}: {elapsed:.3} s ({outcome:?})");
        seconds.push(elapsed);
    }
    conn.batch_execute(&format!("DROP DATABASE `{}`", database_name(&url)))
        .await
        .expect("drop the bench database");
    println!(
        "rollover_seconds={:.3} noop_seconds={:.4} companies={companies} employees={employees}",
        seconds[0], seconds[1]
    );
}

/// The database part of `mysql://host/name`.
fn database_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or_default()
}
