//! The report: Markdown sections for `BENCHMARKS.md`, each between a pair of markers
//! (`<!-- BEGIN bench:NAME … -->` … `<!-- END bench:NAME -->`) and replaced in place, so the
//! hand-written prose around them survives; a section not yet in the file is appended.

mod crisis;
mod sections;

use crate::Series;
use crate::load::LoadResult;
use crate::options::Options;
use crate::servers::BenchResult;
use crate::stats::human;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use std::path::Path;

pub use sections::render;

/// A generated section: its marker name and its Markdown (heading included).
pub type Section = (&'static str, String);

/// CPU, cores, memory, kernel and load average, from /proc.
pub fn machine() -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or_else(|| "?".into(), |kib| format!("{:.1}", kib / 1024.0 / 1024.0));
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_string();
    let load = read("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{cores} cores ({cpu}), {memory_gib} GiB, Linux {kernel}; shared with other work and \
         noisy (load average {load} when the run started)"
    )
}

/// When, with which command, on which commit and machine: the first lines of every section.
pub fn header(o: &Options, machine: &str, started: DateTime<Utc>) -> String {
    format!(
        "Measured {} with `{}`, on {}.\nMachine: {machine}.\n",
        started.format("%Y-%m-%d %H:%M UTC"),
        o.invoked_as,
        revision(&o.root)
    )
}

/// The commit measured, and whether the work tree had changes on top of it.
fn revision(root: &Path) -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("commit {commit} plus uncommitted changes in the work tree")
            } else {
                format!("commit {commit}")
            }
        }
        None => "an unknown revision".into(),
    }
}

pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "not met" }
}

pub fn one_line(text: &str) -> String {
    text.replace(['\n', '|'], " ").chars().take(300).collect()
}

/// A table of load results, one row per step (or one "failed: …" row per series), then the
/// first error of each step that had one. With `baseline`, a last column says how much our
/// server adds to the model's p50 at the same connection count.
pub fn load_table(s: &mut String, unit: &str, series: &[Series], baseline: Option<&[LoadResult]>) {
    let extra = baseline.map_or("", |_| " p50 added to the model alone |");
    let _ = writeln!(
        s,
        "| target | connections | {unit}/s | p50 | p99 | max | errors |{extra}\n\
         |---|---:|---:|---:|---:|---:|---:|{}",
        baseline.map_or("", |_| "---:|")
    );
    for x in series {
        match &x.results {
            Ok(results) => {
                for r in results {
                    let added = baseline.map(|base| {
                        let cell = base
                            .iter()
                            .find(|b| b.connections == r.connections)
                            .filter(|_| !x.label.starts_with("model server alone"))
                            .map_or_else(
                                || "—".to_string(),
                                |b| human(r.latency.p50.saturating_sub(b.latency.p50)),
                            );
                        format!(" {cell} |")
                    });
                    let _ = writeln!(
                        s,
                        "| {} | {} | {:.0} | {} | {} | {} | {} |{}",
                        x.label,
                        r.connections,
                        r.per_second(),
                        human(r.latency.p50),
                        human(r.latency.p99),
                        human(r.latency.max),
                        r.errors,
                        added.unwrap_or_default()
                    );
                }
            }
            Err(e) => {
                let _ = writeln!(
                    s,
                    "| {} | — | failed: {} | | | | |{}",
                    x.label,
                    one_line(e),
                    baseline.map_or("", |_| " |")
                );
            }
        }
    }
    for x in series {
        for r in x.results.iter().flatten() {
            if let Some(e) = &r.first_error {
                let _ = writeln!(
                    s,
                    "\nFirst error, {} at {} connections: `{}`",
                    x.label,
                    r.connections,
                    one_line(e)
                );
            }
        }
    }
}

fn begin(name: &str) -> String {
    format!(
        "<!-- BEGIN bench:{name} (generated by `cargo xtask bench` or `soak`: edits up to END are \
         replaced) -->"
    )
}

fn end(name: &str) -> String {
    format!("<!-- END bench:{name} -->")
}

/// Writes the sections into `path`, replacing them if present and keeping everything else.
pub fn write(path: &Path, sections: &[Section]) -> BenchResult<()> {
    let mut out = std::fs::read_to_string(path).unwrap_or_else(|_| {
        "# Benchmarks\n\nHow fast BOTPSICOLOGO is, as measured, with the command that measures \
         it again. Numbers from a small shared machine: compare runs on the same machine, not \
         across machines.\n"
            .to_string()
    });
    for (name, body) in sections {
        out = replace_section(&out, name, body);
    }
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}

/// `document` with the section between the markers of `name` replaced by `body` (appended with
/// its markers if absent).
fn replace_section(document: &str, name: &str, body: &str) -> String {
    let block = format!("{}\n{}\n{}", begin(name), body.trim_end(), end(name));
    let start_prefix = format!("<!-- BEGIN bench:{name} ");
    let (Some(start), Some(stop)) = (document.find(&start_prefix), document.find(&end(name)))
    else {
        return format!("{}\n\n{block}\n", document.trim_end());
    };
    if stop < start {
        return format!("{}\n\n{block}\n", document.trim_end());
    }
    format!(
        "{}{block}{}",
        &document[..start],
        &document[stop + end(name).len()..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_between_markers_and_keeps_the_prose() {
        let doc = format!(
            "# B\n\nintro\n\n{}\n## Old\nold numbers\n{}\n\n## Reading\nprose\n",
            begin("chat"),
            end("chat")
        );
        let out = replace_section(&doc, "chat", "## Chat\nnew numbers\n");
        assert!(
            out.contains("new numbers") && !out.contains("old numbers"),
            "{out}"
        );
        assert!(out.starts_with("# B\n\nintro\n\n") && out.ends_with("## Reading\nprose\n"));
        // Written again, the same text: nothing accumulates.
        assert_eq!(replace_section(&out, "chat", "## Chat\nnew numbers\n"), out);
        let appended = replace_section(&out, "soak", "## Soak\nrss");
        assert!(appended.starts_with(&out.trim_end().to_string()));
        assert!(appended.ends_with(&format!(
            "{}\n## Soak\nrss\n{}\n",
            begin("soak"),
            end("soak")
        )));
    }
}
