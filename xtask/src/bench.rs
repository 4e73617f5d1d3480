//! `cargo xtask bench [botpsicologo-bench options]` and `cargo xtask soak [--minutes N]
//! [--rate N …]`: build the server and the benchmark in release mode, make sure MySQL, Redis and
//! the extraction benchmark's tools are there, then run `botpsicologo-bench` (crate
//! `crates/bench`), which measures and rewrites its sections of `BENCHMARKS.md`.

use crate::{ensure_services, ensure_tools, root, run};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// Every benchmark (or those of `--parts`), in one run.
pub fn bench(extra: &[String]) -> Result<(), String> {
    let started = Instant::now();
    prepare("the MySQL + Redis runs, the MySQL ledger and the rollover")?;
    if let Err(e) = ensure_tools() {
        eprintln!("xtask: cannot install the extraction benchmark's tools ({e}): it will fail");
    }
    // Built now so that the run does not compile; a failure shows in that part's row instead.
    for args in [
        &[
            "bench",
            "--no-run",
            "-p",
            "ingest-docs",
            "--bench",
            "pdf_vs_pdftotext",
        ][..],
        &[
            "build",
            "--release",
            "-p",
            "scheduler",
            "--example",
            "rollover_bench",
        ],
    ] {
        if let Err(e) = run(Command::new(env!("CARGO")).args(args)) {
            eprintln!("xtask: {e}");
        }
    }
    let build = started.elapsed().as_secs().to_string();
    run(benchmark("bench", extra)
        .args(["--cargo", env!("CARGO")])
        .args(["--build-seconds", &build]))
}

/// The soak: a fixed rate of chat turns for minutes, watching the server's memory and handles.
pub fn soak(extra: &[String]) -> Result<(), String> {
    prepare("a MySQL + Redis soak")?;
    run(&mut benchmark("soak", extra))
}

/// Starts the services if needed and builds the release binaries.
fn prepare(needs_services: &str) -> Result<(), String> {
    let missing = ensure_services();
    if !missing.is_empty() {
        eprintln!(
            "xtask: {} unreachable: {needs_services} will be reported as failed",
            missing.join(" and ")
        );
    }
    run(Command::new(env!("CARGO")).args([
        "build",
        "--release",
        "-p",
        "botpsicologo",
        "-p",
        "bench",
    ]))
}

/// `botpsicologo-bench` with the paths it needs; `extra` (the user's options) go last.
fn benchmark(task: &str, extra: &[String]) -> Command {
    let release = target_dir().join("release");
    let invoked_as = std::iter::once(format!("cargo xtask {task}"))
        .chain(extra.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new(release.join("botpsicologo-bench"));
    if task == "soak" {
        cmd.arg("soak");
    }
    cmd.arg("--server")
        .arg(release.join("botpsicologo"))
        .arg("--root")
        .arg(root())
        .arg("--out")
        .arg(root().join("BENCHMARKS.md"))
        .args(["--invoked-as", &invoked_as])
        .args(extra);
    cmd
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` (relative to the workspace) or `target/`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}
