//! Developer tasks, run as `cargo xtask <task>` (see `.cargo/config.toml`).
//!
//! - `test [--slow]`: the test suite (`--slow` adds the long fault-injection tests), with MySQL and Redis (started if installed but stopped) and
//!   the document tools the ingestion tests need. Under `CI=true` a missing service fails the
//!   run; elsewhere the run says loudly what it skipped.
//! - `migrate`: apply database migrations for the configured `DATABASE_URL`.
//! - `seed-demo`: create the demo company and accounts (idempotent).
//! - `bench`: every benchmark in one run (see `bench.rs`); rewrites `BENCHMARKS.md`.
//! - `soak`: chat turns at a fixed rate for 10 minutes, watching the server's memory and handles;
//!   writes the "Soak" section of `BENCHMARKS.md`.
//! - `crisis-eval [--explain]`: the crisis screen's precision and recall on its corpus, per
//!   category (`crates/domain/examples/crisis_eval.rs`).

mod bench;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("migrate") => server(&["migrate"]),
        Some("seed-demo") => server(&["seed-demo"]),
        Some("bench") => bench::bench(&args[1..]),
        Some("soak") => bench::soak(&args[1..]),
        Some("crisis-eval") => run(Command::new(env!("CARGO"))
            .args([
                "run",
                "--quiet",
                "--release",
                "-p",
                "domain",
                "--example",
                "crisis_eval",
                "--",
            ])
            .args(&args[1..])),
        _ => {
            eprintln!(
                "usage: cargo xtask <test [--slow] [cargo test args…] | migrate | seed-demo | \
                 bench [--seconds N] [--parts chat,me,signin,inside,limiter,extraction,rollover,crisis] … | \
                 soak [--minutes N] [--rate N] [--backends sqlite,mysql] | crisis-eval [--explain]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace `cargo xtask` was run in. `cargo run` tells the process its manifest directory
/// at run time; the compile-time one is only a fallback, because checkouts sharing one
/// `CARGO_TARGET_DIR` (CI clones) can leave this binary built from another checkout's path.
fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

fn server(args: &[&str]) -> Result<(), String> {
    run(Command::new(env!("CARGO"))
        .args(["run", "--quiet", "-p", "botpsicologo", "--"])
        .args(args))
}

fn reachable(addr: &str) -> bool {
    addr.parse::<SocketAddr>()
        .ok()
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
}

fn wait_until_reachable(addr: &str, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if reachable(addr) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

struct Service {
    name: &'static str,
    addr: &'static str,
    binary: &'static str,
    start: &'static [&'static str],
}

const SERVICES: [Service; 2] = [
    Service {
        name: "MySQL/MariaDB",
        addr: "127.0.0.1:3306",
        binary: "/usr/sbin/mariadbd",
        start: &[
            "start-stop-daemon",
            "--start",
            "--oknodo",
            "--background",
            "--exec",
            "/usr/sbin/mariadbd",
        ],
    },
    Service {
        name: "Redis",
        addr: "127.0.0.1:6379",
        binary: "redis-server",
        start: &[
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    },
];

fn installed(binary: &str) -> bool {
    if binary.starts_with('/') {
        Path::new(binary).exists()
    } else {
        Command::new("sh")
            .args(["-c", &format!("command -v {binary} >/dev/null")])
            .status()
            .is_ok_and(|s| s.success())
    }
}

/// Makes sure MySQL and Redis answer (starting them when installed but stopped). Returns the
/// names of those still missing.
fn ensure_services() -> Vec<&'static str> {
    let mut missing = Vec::new();
    for service in &SERVICES {
        if reachable(service.addr) {
            continue;
        }
        if installed(service.binary) {
            eprintln!(
                "xtask: {} is not answering on {}; starting it",
                service.name, service.addr
            );
            let _ = Command::new(service.start[0])
                .args(&service.start[1..])
                .status();
            if wait_until_reachable(service.addr, Duration::from_secs(30)) {
                continue;
            }
        }
        missing.push(service.name);
    }
    missing
}

/// Installs the Debian and PyPI packages listed in `crates/*/TOOLS.md` (`apt: NAME`,
/// `pip: NAME`) that are not there yet.
fn ensure_tools() -> Result<(), String> {
    let mut apt = Vec::new();
    let mut pip = Vec::new();
    let crates = std::fs::read_dir(root().join("crates")).map_err(|e| e.to_string())?;
    for entry in crates.flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path().join("TOOLS.md")) else {
            continue;
        };
        for line in text.lines() {
            if let Some(name) = line.trim().strip_prefix("apt:") {
                apt.push(name.trim().to_string());
            } else if let Some(name) = line.trim().strip_prefix("pip:") {
                pip.push(name.trim().to_string());
            }
        }
    }
    let apt_missing: Vec<String> = apt
        .into_iter()
        .filter(|p| {
            !Command::new("dpkg")
                .args(["-s", p])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if !apt_missing.is_empty() {
        eprintln!("xtask: installing Debian packages {apt_missing:?}");
        run(Command::new("apt-get").arg("update").arg("-qq"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&apt_missing)
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    let pip_missing: Vec<String> = pip
        .into_iter()
        .filter(|p| {
            !Command::new("python3")
                .args(["-m", "pip", "show", "-q", p])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if !pip_missing.is_empty() {
        eprintln!("xtask: installing Python packages {pip_missing:?}");
        run(Command::new("python3")
            .args(["-m", "pip", "install", "-q"])
            .args(&pip_missing))?;
    }
    Ok(())
}

fn test(extra: &[String]) -> Result<(), String> {
    let missing = ensure_services();
    if !missing.is_empty() {
        if in_ci() {
            return Err(format!(
                "{} unreachable under CI=true: the tests that need it would not run",
                missing.join(" and ")
            ));
        }
        eprintln!(
            "\n!!!! SKIPPING: {} unreachable; the tests that need it will say SKIPPED !!!!\n",
            missing.join(" and ")
        );
    }
    if let Err(e) = ensure_tools() {
        if in_ci() {
            return Err(format!("cannot install test tools: {e}"));
        }
        eprintln!(
            "\n!!!! could not install test tools ({e}); tests needing them will say SKIPPED !!!!\n"
        );
    }
    // `--slow` adds the tests marked `#[ignore]` for their length (the MySQL outage).
    let slow = extra.iter().any(|a| a == "--slow");
    let extra: Vec<&String> = extra.iter().filter(|a| *a != "--slow").collect();
    let mut cmd = Command::new(env!("CARGO"));
    if installed("cargo-nextest") {
        cmd.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
        if slow {
            cmd.args(["--run-ignored", "all"]);
        }
        cmd.args(extra);
    } else {
        // Test-binary arguments go after one `--`: the caller's, if they gave one, are joined
        // by `--include-ignored` (after a second `--` it would be read as a test-name filter).
        let split = extra.iter().position(|a| *a == "--").unwrap_or(extra.len());
        let (cargo_args, binary_args) = extra.split_at(split);
        cmd.args(["test", "--workspace", "--no-fail-fast"])
            .args(cargo_args)
            .arg("--");
        if slow {
            cmd.arg("--include-ignored");
        }
        cmd.args(binary_args.iter().skip(1));
    }
    run(&mut cmd)
}
