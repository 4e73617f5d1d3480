//! The report: Markdown tables for `BENCHMARKS.md` (its "## Chat turns" and "## Inside a turn"
//! sections, replaced in place; the rest of the file is left alone).

use crate::servers::BenchResult;
use crate::stats::human;
use crate::{Options, Outcome};
use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

pub const CHAT: &str = "## Chat turns";
pub const INSIDE: &str = "## Inside a turn";

/// The targets of the performance issue.
const TARGET_TURNS: f64 = 1_500.0;
const TARGET_P99: Duration = Duration::from_millis(50);
const TARGET_RETRIEVAL_P99: Duration = Duration::from_millis(2);

pub struct Rendered {
    pub chat: String,
    pub inside: String,
}

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

pub fn render(o: &Options, outcome: &Outcome, machine: &str, started: DateTime<Utc>) -> Rendered {
    Rendered {
        chat: chat(o, outcome, machine, started),
        inside: inside(o, outcome, machine, started),
    }
}

fn header(o: &Options, machine: &str, started: DateTime<Utc>) -> String {
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

fn chat(o: &Options, outcome: &Outcome, machine: &str, started: DateTime<Utc>) -> String {
    let mut s = format!("{CHAT}\n\n{}\n", header(o, machine, started));
    if !o.load {
        s.push_str("Not measured in this run (`--no-load`).\n");
        return s;
    }
    let _ = writeln!(
        s,
        "What runs: the release `botpsicologo` binary on a fresh database per backend (default \
         settings: MySQL pool of 16, in-process limiter on SQLite, Redis limiter on MySQL), in \
         front of the stub OpenAI-compatible model server (`model_openai::stub`), which answers \
         every request at once with the same reply of about 90 words and reports usage. \
         {people} individuals (plus the demo accounts from `seed-demo`) sign in, each from a loopback \
         address of their own (127.0.0.2, 127.0.0.3, …) as the server limits sign-ins and \
         requests per address; the per-person chat limit and the per-address request limit are \
         raised out of the way (`CHAT_MESSAGES_PER_MINUTE`, `IP_REQUESTS_PER_MINUTE`) and plans \
         get 10⁹ tokens a month. Connection *i* speaks as person *i* mod {people}, so up to \
         {people} connections no person has two turns at once. Closed loop: each connection sends a turn (`POST /api/v1/chat`, JSON \
         answer), reads the whole answer, then sends the next. Each step lasts {secs} s, after \
         a warm-up that fills every history to its bound (12 messages), so prompts have their \
         full size. The baseline replays, with the same load, the last request our server sent \
         the model (same prompt, `stream: true`) straight to the model server. Load generator, \
         model server and our server share the same cores, so every number includes the load \
         generator's own cost.\n\n\
         The model server sends its reply as one JSON answer (`Reply::json`, which our adapter \
         accepts for a streaming request): streamed, the stub's reply costs about 40 ms per \
         request whatever the load (the \"streamed reply\" rows), because the stub's sockets do \
         not set `TCP_NODELAY` and the last events of each stream wait for the client's delayed \
         ACK (Nagle). That stall would hide everything our server does, so it is kept out of the \
         server runs and shown separately. Our own server does not set `TCP_NODELAY` either, so \
         its server-sent-events answers (`Accept: text/event-stream`) are likely exposed to the \
         same stall (not measured here); the JSON answers measured here are written at once.\n",
        people = outcome.people,
        secs = o.seconds
    );
    s.push_str(
        "| target | connections | turns/s | p50 | p99 | max | errors | p50 added to the model alone |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let baseline = outcome
        .series
        .first()
        .and_then(|b| b.results.as_ref().ok())
        .cloned()
        .unwrap_or_default();
    for series in &outcome.series {
        match &series.results {
            Ok(results) => {
                for r in results {
                    let added = baseline
                        .iter()
                        .find(|b| b.connections == r.connections)
                        .filter(|_| !series.label.starts_with("model server alone"))
                        .map_or_else(
                            || "—".to_string(),
                            |b| human(r.latency.p50.saturating_sub(b.latency.p50)),
                        );
                    let _ = writeln!(
                        s,
                        "| {} | {} | {:.0} | {} | {} | {} | {} | {added} |",
                        series.label,
                        r.connections,
                        r.per_second(),
                        human(r.latency.p50),
                        human(r.latency.p99),
                        human(r.latency.max),
                        r.errors
                    );
                }
            }
            Err(e) => {
                let _ = writeln!(
                    s,
                    "| {} | — | failed: {} | | | | | |",
                    series.label,
                    one_line(e)
                );
            }
        }
    }
    for series in &outcome.series {
        for r in series.results.iter().flatten() {
            if let Some(e) = &r.first_error {
                let _ = writeln!(
                    s,
                    "\nFirst error, {} at {} connections: `{}`",
                    series.label,
                    r.connections,
                    one_line(e)
                );
            }
        }
    }
    s.push_str("\n### Targets\n\n");
    let mysql = outcome
        .series
        .iter()
        .find(|x| x.label.contains("MySQL"))
        .and_then(|x| x.results.as_ref().ok())
        .and_then(|rs| rs.iter().find(|r| r.connections == 64));
    match mysql {
        Some(r) => {
            let _ = writeln!(
                s,
                "- At least 1,500 turns/s at 64 connections on MySQL + Redis: measured {:.0} \
                 turns/s: **{}**.",
                r.per_second(),
                verdict(r.per_second() >= TARGET_TURNS && r.errors == 0)
            );
            let _ = writeln!(
                s,
                "- p99 under 50 ms at 64 connections on MySQL + Redis: measured {}: **{}**.",
                human(r.latency.p99),
                verdict(r.latency.p99 < TARGET_P99 && r.errors == 0)
            );
        }
        None => s.push_str(
            "- 1,500 turns/s and p99 under 50 ms at 64 connections on MySQL + Redis: **not \
             measured in this run** (no 64-connection MySQL result above).\n",
        ),
    }
    match retrieval(outcome) {
        Some(p99) => {
            let _ = writeln!(
                s,
                "- Retrieval p99 under 2 ms over 10,000 passages: measured {} (see \"Inside a \
                 turn\"): **{}**.",
                human(p99),
                verdict(p99 < TARGET_RETRIEVAL_P99)
            );
        }
        None => s.push_str("- Retrieval p99 under 2 ms: **not measured in this run**.\n"),
    }
    s
}

fn retrieval(outcome: &Outcome) -> Option<Duration> {
    outcome
        .inside
        .iter()
        .find(|r| r.what.starts_with("retrieval"))
        .map(|r| r.latency.p99)
}

fn inside(o: &Options, outcome: &Outcome, machine: &str, started: DateTime<Utc>) -> String {
    let mut s = format!("{INSIDE}\n\n{}\n", header(o, machine, started));
    if !o.inside {
        s.push_str("Not measured in this run (`--no-inside`).\n");
        return s;
    }
    s.push_str(
        "The server is not instrumented: these are in-process timings of the same code a turn \
         runs, called directly from the benchmark binary (release build), one call at a time. \
         Retrieval searches a BM25 index (`domain::retrieval::SearchIndex`) of synthetic \
         passages of about 120 words (7 in 10 Portuguese, the rest English, word frequencies \
         skewed like real text) with questions of 8 to 20 words; encryption is \
         `app::crypto::AeadCipher`; accounting is the store's `UsageLedger` (`reserve` then \
         `settle`) on a fresh SQLite file and a fresh MariaDB database; token counting is \
         `model_openai::TiktokenCounter`.\n\n\
         | operation | p50 | p99 | max | notes |\n|---|---:|---:|---:|---|\n",
    );
    for r in &outcome.inside {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.what,
            human(r.latency.p50),
            human(r.latency.p99),
            human(r.latency.max),
            r.note
        );
    }
    for e in &outcome.inside_errors {
        let _ = writeln!(s, "\nNot measured: {}", one_line(e));
    }
    let p50 = |prefix: &str| {
        outcome
            .inside
            .iter()
            .find(|r| r.what.starts_with(prefix))
            .map(|r| r.latency.p50)
    };
    let parts = [
        p50("retrieval"),
        p50("token counting: whole"),
        p50("encryption: `seal`").map(|d| d * 2),
        p50("encryption: `open`").map(|d| d * 12),
    ];
    if parts.iter().all(Option::is_some) {
        let cpu: Duration = parts.iter().flatten().sum();
        let _ = writeln!(
            s,
            "\nCPU work of one turn at the p50s above (one retrieval, one count of the whole \
             prompt, 2 seals, up to 12 opens of history): about {}, before the database round \
             trips of the ledger (`reserve` + `settle` above) and the conversation's own reads \
             and writes.",
            human(cpu)
        );
    }
    s
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "not met" }
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '|'], " ").chars().take(300).collect()
}

/// Writes the two sections into `path`, replacing them if present and keeping everything else.
pub fn write(path: &Path, text: &Rendered) -> BenchResult<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_else(|_| {
        "# Benchmarks\n\nHow fast BOTPSICOLOGO is, as measured, with the command that measures \
         it again. Numbers from a small shared machine: compare runs on the same machine, not \
         across machines.\n"
            .to_string()
    });
    let mut out = existing;
    for (heading, body) in [(CHAT, &text.chat), (INSIDE, &text.inside)] {
        out = replace_section(&out, heading, body);
    }
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}

/// `document` with the level-2 section titled `heading` replaced by `body` (appended if absent).
fn replace_section(document: &str, heading: &str, body: &str) -> String {
    let lines: Vec<&str> = document.lines().collect();
    let Some(start) = lines.iter().position(|l| l.trim_end() == heading) else {
        return format!("{}\n\n{}", document.trim_end(), body.trim_end()) + "\n";
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with("## "))
        .map_or(lines.len(), |i| start + 1 + i);
    let mut out = lines[..start].join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(body.trim_end());
    out.push('\n');
    if end < lines.len() {
        out.push('\n');
        out.push_str(&lines[end..].join("\n"));
        out.push('\n');
    }
    out
}
