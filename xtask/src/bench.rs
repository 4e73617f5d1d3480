//! `cargo xtask bench [botpsicologo-bench options]` and `cargo xtask soak [--minutes N]
//! [--rate N …]`: build the server and the benchmarks in release mode (one cargo invocation),
//! make sure MySQL, Redis and the extraction benchmark's tools are there, then run
//! `botpsicologo-bench` (crate `crates/bench`), which measures and rewrites its sections of
//! `BENCHMARKS.md`.

use crate::{ensure_services, ensure_tools, root, run};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Every benchmark (or those of `--parts`), in one run.
pub fn bench(extra: &[String]) -> Result<(), String> {
    let started = Instant::now();
    services_for("the MySQL + Redis runs, the MySQL ledger and the rollover");
    if let Err(e) = ensure_tools() {
        eprintln!("xtask: cannot install the extraction benchmark's tools ({e}): it will fail");
    }
    let built = build()?;
    let build = started.elapsed().as_secs().to_string();
    run(benchmark(&built, "bench", extra)?
        .args(["--cargo", env!("CARGO")])
        .arg("--extraction-bin")
        .arg(built.get("pdf_vs_pdftotext")?)
        .arg("--rollover-bin")
        .arg(built.get("rollover_bench")?)
        .args(["--build-seconds", &build]))
}

/// The soak: a fixed rate of chat turns for minutes, watching the server's memory and handles.
pub fn soak(extra: &[String]) -> Result<(), String> {
    services_for("a MySQL + Redis soak");
    // The same build as `bench`, so the two share every artifact.
    let built = build()?;
    run(&mut benchmark(&built, "soak", extra)?)
}

fn services_for(needs: &str) {
    let missing = ensure_services();
    if !missing.is_empty() {
        eprintln!(
            "xtask: {} unreachable: {needs} will be reported as failed",
            missing.join(" and ")
        );
    }
}

/// Executables of one build, by target name.
struct Built(HashMap<String, PathBuf>);

impl Built {
    fn get(&self, name: &str) -> Result<&PathBuf, String> {
        self.0
            .get(name)
            .ok_or_else(|| format!("the release build made no `{name}`"))
    }
}

/// What `bench` and `soak` run: the server, the bench runner, the extraction bench and the
/// rollover example.
const TARGETS: [&str; 8] = [
    "--bin",
    "botpsicologo",
    "--bin",
    "botpsicologo-bench",
    "--bench",
    "pdf_vs_pdftotext",
    "--example",
    "rollover_bench",
];

/// Builds [`TARGETS`] in release mode, in ONE cargo invocation: every target then shares one
/// resolution of features, so no dependency is compiled twice (separate `cargo bench` / `cargo
/// run --example` builds each unified features differently and rebuilt much of the tree).
/// Returns the executables cargo reports.
fn build() -> Result<Built, String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
        ])
        .args([
            "-p",
            "botpsicologo",
            "-p",
            "bench",
            "-p",
            "ingest-docs",
            "-p",
            "scheduler",
        ])
        .args(TARGETS)
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build --release failed with {}",
            output.status
        ));
    }
    let mut built = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        // One JSON message a line; artifacts that are programs name their `executable`.
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let (Some(name), Some(executable)) = (
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) {
            built.insert(name.to_string(), PathBuf::from(executable));
        }
    }
    Ok(Built(built))
}

/// `botpsicologo-bench` with the paths it needs; `extra` (the user's options) go last.
fn benchmark(built: &Built, task: &str, extra: &[String]) -> Result<Command, String> {
    let invoked_as = std::iter::once(format!("cargo xtask {task}"))
        .chain(extra.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new(built.get("botpsicologo-bench")?);
    if task == "soak" {
        cmd.arg("soak");
    }
    cmd.arg("--server")
        .arg(built.get("botpsicologo")?)
        .arg("--root")
        .arg(root())
        .arg("--out")
        .arg(root().join("BENCHMARKS.md"))
        .args(["--invoked-as", &invoked_as])
        .args(extra);
    Ok(cmd)
}
