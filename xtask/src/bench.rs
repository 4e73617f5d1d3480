//! `cargo xtask bench [--seconds N] [other botpsicologo-bench options]`: builds the server and
//! the benchmark in release mode, makes sure MySQL and Redis answer, runs
//! `botpsicologo-bench` (crate `crates/bench`) and lets it write `BENCHMARKS.md`.

use crate::{ensure_services, root, run};
use std::path::PathBuf;
use std::process::Command;

pub fn bench(extra: &[String]) -> Result<(), String> {
    let missing = ensure_services();
    if !missing.is_empty() {
        eprintln!(
            "xtask: {} unreachable: the MySQL + Redis runs will be reported as failed",
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
    ]))?;
    let release = target_dir().join("release");
    let invoked_as = std::iter::once("cargo xtask bench".to_string())
        .chain(extra.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    run(Command::new(release.join("botpsicologo-bench"))
        .arg("--server")
        .arg(release.join("botpsicologo"))
        .arg("--root")
        .arg(root())
        .arg("--out")
        .arg(root().join("BENCHMARKS.md"))
        .args(["--invoked-as", &invoked_as])
        .args(extra))
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` (relative to the workspace) or `target/`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}
