//! The soak (`cargo xtask soak`): the release server under a fixed rate of chat turns for a
//! long while (open loop: turns are sent on a schedule, whatever the answers do), sampling the
//! server process every 10 s from /proc: resident memory, open file descriptors, and its
//! connections to MySQL and Redis (or its open SQLite files). Writes the "Soak" section.

use crate::load::{Tally, Target};
use crate::options::Options;
use crate::report::{header, one_line, verdict};
use crate::servers::{Backend, BenchResult, Model, Running, emails};
use crate::stats::{Summary, human};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_secs(10);
/// #7 acceptance 3: RSS at the end within 10% of its value after the first minute.
const RSS_TOLERANCE: f64 = 0.10;

/// What /proc says about the server at one moment, and the load so far.
#[derive(Debug, Clone, Default)]
struct Sample {
    at: Duration,
    rss_kib: u64,
    fds: usize,
    mysql: usize,
    redis: usize,
    sqlite_files: usize,
    ok: usize,
    errors: usize,
    in_flight: usize,
}

struct Soaked {
    samples: Vec<Sample>,
    latency: Summary,
    ok: usize,
    errors: usize,
    first_error: Option<String>,
    elapsed: Duration,
}

pub async fn run(o: &Options) -> BenchResult<()> {
    let started = chrono::Utc::now();
    let machine = crate::report::machine();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let model = Model::json()?;
    let mut results = Vec::new();
    for &backend in &o.backends {
        eprintln!(
            "== soak, {}: {} turns/s for {} min",
            backend.label(),
            o.rate,
            o.minutes
        );
        let result = soak(o, backend, &model.server.base_url, dir.path()).await;
        if let Err(e) = &result {
            eprintln!("   failed: {e}");
        }
        results.push((backend, result));
    }
    let text = render(o, &results, &header(o, &machine, started));
    println!("{text}");
    if let Some(out) = &o.out {
        crate::report::write(out, &[("soak", text)])?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

async fn soak(
    o: &Options,
    backend: Backend,
    model_url: &str,
    dir: &std::path::Path,
) -> BenchResult<Soaked> {
    let people = emails("person", o.people);
    let running = Running::start(&o.server, &o.root, model_url, backend, dir, &people, &[]).await?;
    let pid = running.server.pid();
    let target = Arc::new(Target::Chat {
        base: running.server.base.clone(),
        tokens: running.tokens.clone(),
    });
    let clients: Arc<Vec<reqwest::Client>> =
        Arc::new((0..o.people).map(|i| target.client(i)).collect());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let snapshot = |at: Duration| {
        let t = tally.lock().unwrap_or_else(|e| e.into_inner());
        Sample {
            at,
            ok: t.samples.len(),
            errors: t.errors,
            in_flight: in_flight.load(Ordering::Relaxed),
            ..process(pid)
        }
    };
    let interval = Duration::from_secs_f64(1.0 / f64::from(o.rate));
    let length = Duration::from_secs(o.minutes * 60);
    let start = Instant::now();
    let mut samples = vec![snapshot(Duration::ZERO)];
    let mut turn = 0usize;
    loop {
        let due = interval * u32::try_from(turn).unwrap_or(u32::MAX);
        if due >= length {
            break;
        }
        while samples.len() as u32 * EVERY <= due {
            let at = EVERY * samples.len() as u32;
            tokio::time::sleep_until((start + at).into()).await;
            samples.push(snapshot(at));
            if samples.len() % 6 == 1 {
                let s = samples.last().cloned().unwrap_or_default();
                eprintln!(
                    "   {:>4} s: RSS {} MiB, {} fds, {} turns, {} errors, {} in flight",
                    at.as_secs(),
                    s.rss_kib / 1024,
                    s.fds,
                    s.ok,
                    s.errors,
                    s.in_flight
                );
            }
        }
        let scheduled = start + due;
        tokio::time::sleep_until(scheduled.into()).await;
        let (target, clients, tally, in_flight) = (
            target.clone(),
            clients.clone(),
            tally.clone(),
            in_flight.clone(),
        );
        in_flight.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let person = turn % clients.len();
            let outcome = target.send(&clients[person], person, turn).await;
            // From the scheduled time: a late send counts against the server, not for it.
            let latency = scheduled.elapsed();
            tally
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(outcome, latency);
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
        turn += 1;
    }
    // The last turns finish (the client times out at 30 s), then the final sample.
    let drained = Instant::now();
    while in_flight.load(Ordering::Relaxed) > 0 && drained.elapsed() < Duration::from_secs(35) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = start.elapsed();
    samples.push(snapshot(elapsed));
    running.stop().await;
    let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(Soaked {
        samples,
        ok: tally.samples.len(),
        errors: tally.errors,
        first_error: tally.first_error,
        latency: tally.samples.summary(),
        elapsed,
    })
}

/// Memory, descriptors and connections of process `pid`, from /proc (zeros where unreadable).
fn process(pid: u32) -> Sample {
    let proc = format!("/proc/{pid}");
    let rss_kib = std::fs::read_to_string(format!("{proc}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let links: Vec<String> = std::fs::read_dir(format!("{proc}/fd"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let sockets: HashSet<&str> = links
        .iter()
        .filter_map(|l| l.strip_prefix("socket:[")?.strip_suffix(']'))
        .collect();
    let (mut mysql, mut redis) = (0, 0);
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("{proc}/net/{table}")).unwrap_or_default();
        // Columns: sl local_address rem_address st … inode (the 10th); ports in hex.
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let established = cols.get(3) == Some(&"01");
            let ours = cols.get(9).is_some_and(|inode| sockets.contains(inode));
            let port = cols
                .get(2)
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            match (established && ours, port) {
                (true, Some(3306)) => mysql += 1,
                (true, Some(6379)) => redis += 1,
                _ => {}
            }
        }
    }
    let sqlite_files = links
        .iter()
        .filter(|l| [".db", ".db-wal", ".db-shm"].iter().any(|x| l.ends_with(x)))
        .count();
    Sample {
        rss_kib,
        fds: links.len(),
        mysql,
        redis,
        sqlite_files,
        ..Sample::default()
    }
}

fn render(o: &Options, results: &[(Backend, BenchResult<Soaked>)], head: &str) -> String {
    let mut s = format!("## Soak\n\n{head}\n");
    let _ = writeln!(
        s,
        "The release server on a fresh database, in front of the stub model server (as for \
         \"Chat turns\", same settings), under a fixed rate of {rate} chat turns a second for \
         {minutes} minutes, open loop: turn *n* is sent at *n*/{rate} s whatever the earlier \
         ones are doing, as person *n* mod {people} ({people} people, each with one keep-alive \
         connection from an address of their own). Latency is counted from the time a turn was \
         due. Every 10 s the server process is sampled from /proc: resident memory (`VmRSS`), \
         open file descriptors, and its established connections to MySQL (port 3306) and Redis \
         (6379), or its open SQLite files. One row a minute below.",
        rate = o.rate,
        minutes = o.minutes,
        people = o.people
    );
    for (backend, result) in results {
        let _ = writeln!(s, "\n### {}\n", backend.label());
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(s, "Failed: {}", one_line(e));
                continue;
            }
        };
        s.push_str(
            "| time | RSS | open fds | MySQL conns | Redis conns | SQLite files | turns done | errors | in flight |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        let last = r.samples.len().saturating_sub(1);
        for (i, x) in r.samples.iter().enumerate() {
            if i % 6 != 0 && i != last {
                continue;
            }
            let _ = writeln!(
                s,
                "| {} s | {:.1} MiB | {} | {} | {} | {} | {} | {} | {} |",
                x.at.as_secs(),
                x.rss_kib as f64 / 1024.0,
                x.fds,
                x.mysql,
                x.redis,
                x.sqlite_files,
                x.ok,
                x.errors,
                x.in_flight
            );
        }
        let at_minute = r.samples.iter().find(|x| x.at >= Duration::from_secs(60));
        let end = r.samples.last();
        let (peak_fds, peak_mysql, peak_redis) = r.samples.iter().fold((0, 0, 0), |m, x| {
            (m.0.max(x.fds), m.1.max(x.mysql), m.2.max(x.redis))
        });
        let _ = writeln!(
            s,
            "\n{} turns answered in {} ({:.1} a second), {} errors{}; latency p50 {}, p99 {}, \
             max {}. Most open fds at any sample: {peak_fds}; most connections: {peak_mysql} to \
             MySQL, {peak_redis} to Redis.",
            r.ok,
            human(r.elapsed),
            r.ok as f64 / r.elapsed.as_secs_f64().max(1e-9),
            r.errors,
            r.first_error
                .as_deref()
                .map(|e| format!(" (first: `{}`)", one_line(e)))
                .unwrap_or_default(),
            human(r.latency.p50),
            human(r.latency.p99),
            human(r.latency.max)
        );
        let _ = match (at_minute, end) {
            (Some(a), Some(b)) if a.rss_kib > 0 && b.at > a.at => {
                let change = b.rss_kib as f64 / a.rss_kib as f64 - 1.0;
                writeln!(
                    s,
                    "\n- #7 acceptance 3, RSS at the end within 10% of its value after the first \
                     minute: {:.1} MiB at {} s, {:.1} MiB at the end ({:+.1}%); open fds {} then \
                     {}: **{}**.",
                    a.rss_kib as f64 / 1024.0,
                    a.at.as_secs(),
                    b.rss_kib as f64 / 1024.0,
                    change * 100.0,
                    a.fds,
                    b.fds,
                    verdict(change.abs() <= RSS_TOLERANCE)
                )
            }
            _ => writeln!(
                s,
                "\n- #7 acceptance 3 (RSS within 10%): **not measured** (the run was shorter \
                 than a minute or /proc was unreadable)."
            ),
        };
    }
    s
}
