//! What one request costs, by process: the CPU time our server, MariaDB, Redis and this process
//! (the load generator and the stub model) spent during a load step, read from /proc before and
//! after it, and the statements MySQL received (`Questions`), each divided by the requests.
//!
//! Requests per second move with how busy the shared machine is; the CPU a request takes and
//! the statements it sends move much less, so these compare across runs and say where the time
//! of a turn goes.

use crate::servers::{BenchResult, mysql_status};
use std::time::Duration;

/// A process to watch, by name in the report.
#[derive(Debug, Clone)]
pub struct Watched {
    pub label: &'static str,
    pub pid: u32,
}

/// The processes of a load step, and whether to count MySQL's statements.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    pub processes: Vec<Watched>,
    pub mysql: bool,
}

impl Watch {
    /// This process alone: the load generator and the stub model server.
    pub fn bench_only() -> Watch {
        Watch {
            processes: vec![Watched {
                label: LOAD_AND_STUB,
                pid: std::process::id(),
            }],
            mysql: false,
        }
    }

    /// Our server at `server`, this process, and on MySQL + Redis the database and Redis
    /// servers of this machine (found by name in /proc).
    pub fn server(server: u32, mysql_and_redis: bool) -> Watch {
        let mut watch = Watch::bench_only();
        watch.processes.insert(
            0,
            Watched {
                label: OUR_SERVER,
                pid: server,
            },
        );
        if mysql_and_redis {
            for (label, names) in [
                (MARIADB, &["mariadbd", "mysqld"][..]),
                (REDIS, &["redis-server"][..]),
            ] {
                if let Some(pid) = pid_named(names) {
                    watch.processes.push(Watched { label, pid });
                }
            }
        }
        watch.mysql = mysql_and_redis;
        watch
    }

    pub async fn snapshot(&self) -> Snapshot {
        let cpu = self
            .processes
            .iter()
            .map(|p| cpu_time(p.pid).unwrap_or_default())
            .collect();
        let questions = if self.mysql {
            Some(mysql_status("Questions").await)
        } else {
            None
        };
        Snapshot { cpu, questions }
    }

    /// The cost of each of `requests` between `before` and `after`.
    pub fn cost(&self, before: &Snapshot, after: &Snapshot, requests: usize) -> Cost {
        let n = requests.max(1) as u32;
        Cost {
            cpu: self
                .processes
                .iter()
                .zip(before.cpu.iter().zip(&after.cpu))
                .map(|(p, (b, a))| (p.label, a.saturating_sub(*b) / n))
                .collect(),
            mysql_statements: match (&before.questions, &after.questions) {
                (Some(Ok(b)), Some(Ok(a))) => Some(Ok(a.saturating_sub(*b) as f64 / f64::from(n))),
                (Some(Err(e)), _) | (_, Some(Err(e))) => Some(Err(e.clone())),
                _ => None,
            },
        }
    }
}

pub const OUR_SERVER: &str = "our server";
pub const MARIADB: &str = "MariaDB";
pub const REDIS: &str = "Redis";
pub const LOAD_AND_STUB: &str = "load generator + stub model";

/// CPU time so far of each watched process, and MySQL's statement count.
pub struct Snapshot {
    cpu: Vec<Duration>,
    questions: Option<BenchResult<u64>>,
}

/// What one request cost, per process.
#[derive(Debug, Clone, Default)]
pub struct Cost {
    pub cpu: Vec<(&'static str, Duration)>,
    pub mysql_statements: Option<BenchResult<f64>>,
}

impl Cost {
    pub fn of(&self, label: &str) -> Option<Duration> {
        self.cpu.iter().find(|(l, _)| *l == label).map(|(_, d)| *d)
    }

    pub fn total(&self) -> Duration {
        self.cpu.iter().map(|(_, d)| *d).sum()
    }
}

/// User plus system time of process `pid` and all its threads, from /proc/`pid`/stat.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces:
    // state is field 3, utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) })
        .ok()
        .filter(|&t| t > 0)?;
    Some(Duration::from_nanos(ticks * 1_000_000_000 / per_second))
}

/// The first process whose command name is one of `names`.
fn pid_named(names: &[&str]) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            names.contains(&comm.trim()).then_some(pid)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_and_is_found_by_name() {
        // Burn a little CPU so the count is not zero at 100 ticks a second.
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(cpu_time(std::process::id()).unwrap() > Duration::ZERO);
        let me = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert!(pid_named(&[me.trim()]).is_some());
        assert_eq!(pid_named(&["no-such-process-name"]), None);
    }

    #[test]
    fn cost_divides_each_process_by_the_requests() {
        let watch = Watch::bench_only();
        let before = Snapshot {
            cpu: vec![Duration::from_millis(100)],
            questions: None,
        };
        let after = Snapshot {
            cpu: vec![Duration::from_millis(300)],
            questions: None,
        };
        let cost = watch.cost(&before, &after, 400);
        assert_eq!(cost.of(LOAD_AND_STUB), Some(Duration::from_micros(500)));
        assert_eq!(cost.total(), Duration::from_micros(500));
        assert!(cost.mysql_statements.is_none());
    }
}
