//! The benchmarks that live with their crates, run as subprocesses: PDF extraction beside
//! `pdftotext` (`cargo bench -p ingest-docs --bench pdf_vs_pdftotext`) and the month rollover on
//! MySQL (`cargo run --release -p scheduler --example rollover_bench`). `cargo xtask bench`
//! builds both in its one release build and passes their paths; otherwise these cargo commands
//! run. Each prints a last line of `key=value` pairs, read here.

use crate::options::Options;
use crate::servers::BenchResult;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The numbers of a result line, by key.
pub type Values = HashMap<String, f64>;

/// What a subprocess printed, and how long it took (build included).
pub struct Finished {
    pub values: Values,
    /// Other lines worth quoting (such as the rollover's fixture line).
    pub notes: Vec<String>,
    pub wall: Duration,
}

/// `cargo bench -p ingest-docs --bench pdf_vs_pdftotext`: needs `extraction_files=`.
pub fn extraction(o: &Options) -> BenchResult<Finished> {
    let cargo = ["bench", "-p", "ingest-docs", "--bench", "pdf_vs_pdftotext"];
    run(
        &program(o, o.extraction_bin.as_deref(), &cargo),
        &o.root,
        &[
            "extraction_files",
            "ours_wall_mb_s",
            "pdftotext_wall_mb_s",
            "agreement_min",
        ],
        None,
    )
}

/// `cargo run --release -p scheduler --example rollover_bench`: needs `rollover_seconds=` and
/// `noop_seconds=`.
pub fn rollover(o: &Options) -> BenchResult<Finished> {
    let cargo = [
        "run",
        "--release",
        "-p",
        "scheduler",
        "--example",
        "rollover_bench",
    ];
    run(
        &program(o, o.rollover_bin.as_deref(), &cargo),
        &o.root,
        &["rollover_seconds", "noop_seconds"],
        Some("fixture:"),
    )
}

/// The executable `cargo xtask bench` built, or else `cargo cargo_args` (which builds it first).
fn program(o: &Options, built: Option<&Path>, cargo_args: &[&str]) -> Vec<String> {
    match built {
        Some(bin) => vec![bin.display().to_string()],
        None => std::iter::once(o.cargo.display().to_string())
            .chain(cargo_args.iter().map(|a| a.to_string()))
            .collect(),
    }
}

/// Runs `command` (program and arguments) in `root` and finds the last stdout line holding every
/// key of `needed`; lines starting with `note`, if given, are kept as notes.
fn run(
    command: &[String],
    root: &Path,
    needed: &[&str],
    note: Option<&str>,
) -> BenchResult<Finished> {
    let shown = command.join(" ");
    eprintln!("   {shown}");
    let started = Instant::now();
    let output = Command::new(&command[0])
        .args(&command[1..])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let found = stdout
        .lines()
        .rev()
        .map(key_values)
        .find(|values| needed.iter().all(|k| values.contains_key(*k)));
    match found {
        Some(values) if output.status.success() => Ok(Finished {
            values,
            notes: stdout
                .lines()
                .filter(|l| note.is_some_and(|n| l.trim_start().starts_with(n)))
                .map(|l| l.trim().to_string())
                .collect(),
            wall,
        }),
        _ => {
            // Say why: the end of what it printed (a build error, a panic, a SKIPPED line).
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stdout
                .lines()
                .chain(stderr.lines())
                .filter(|l| !l.trim().is_empty())
                .collect();
            let tail = tail[tail.len().saturating_sub(4)..].join(" / ");
            Err(format!(
                "`{shown}` exited with {} without a line giving {}; it ended with: {tail}",
                output.status,
                needed
                    .iter()
                    .map(|k| format!("`{k}=`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }
}

/// `a=1 b=2.5 c=x` → {a: 1, b: 2.5}: the pairs whose value is a number.
pub fn key_values(line: &str) -> Values {
    line.split_whitespace()
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::key_values;

    #[test]
    fn reads_numbers_and_skips_the_rest() {
        let v = key_values("rollover_seconds=4.25 noop_seconds=0.003 label=x stray");
        assert_eq!(v.len(), 2);
        assert_eq!(v["rollover_seconds"], 4.25);
        assert_eq!(v["noop_seconds"], 0.003);
        assert!(key_values("rollover: 10.8 s").is_empty());
    }
}
