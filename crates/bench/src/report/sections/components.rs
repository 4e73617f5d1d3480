//! The sections about one part at a time, measured inside a process or by a tool of its own:
//! what a turn does inside, the rate limiter, document extraction and the month's close.

use super::super::{one_line, verdict};
use super::{TARGET_NOOP_SECONDS, TARGET_RETRIEVAL_P99, TARGET_ROLLOVER_SECONDS, with_targets};
use crate::Outcome;
use crate::external::Finished;
use crate::options::Options;
use crate::servers::BenchResult;
use crate::stats::human;
use std::fmt::Write as _;
use std::time::Duration;

pub(super) fn inside(outcome: &Outcome, head: &str) -> (String, Vec<String>) {
    let mut s = format!("## Inside a turn\n\n{head}\n");
    s.push_str(
        "The server is not instrumented: these are in-process timings of the same code a turn \
         runs, called directly from the benchmark binary (release build), one call at a time. \
         Retrieval searches a BM25 index (`domain::retrieval::SearchIndex`) of synthetic \
         passages of about 120 words (7 in 10 Portuguese, the rest English, word frequencies \
         skewed like real text) with questions of 8 to 20 words; encryption is \
         `app::crypto::AeadCipher`; accounting is the store's `UsageLedger` (`reserve` then \
         `settle`) on a fresh SQLite file and a fresh MariaDB database; token counting is \
         `model_openai::TiktokenCounter`, and for a turn's system message the \
         `CachedTokenCounter` the server uses, counting the message whole (as the server did \
         before 2026-11-26) or piece by piece (`domain::prompt::system_message_parts`, as it \
         does now).\n\n\
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
    let retrieval = outcome
        .inside
        .iter()
        .find(|r| r.what.starts_with("retrieval"))
        .map(|r| r.latency.p99);
    let target = match retrieval {
        Some(p99) => format!(
            "- #4 acceptance 7, retrieval p99 under 2 ms over 10,000 passages: measured {}: \
             **{}**.",
            human(p99),
            verdict(p99 < TARGET_RETRIEVAL_P99)
        ),
        None => "- #4 acceptance 7, retrieval p99 under 2 ms: **not measured**.".into(),
    };
    with_targets(s, vec![target])
}

pub(super) fn limiter(o: &Options, outcome: &Outcome, head: &str) -> (String, Vec<String>) {
    let mut s = format!("## Rate limiter decisions\n\n{head}\n");
    let _ = writeln!(
        s,
        "Decisions per second of the limiter port's adapters, measured in the benchmark binary \
         in one run: each limiter for {} from one task, then for as long from {} tasks sharing \
         it (one pool of Redis connections, the server's default of 16), over 1,024 keys with a \
         generous quota, so most decisions are \"allowed\", the path that writes. Redis is the \
         shared local server (`{}`), on a key prefix of the run's own. No target is set for \
         these.\n\n\
         | limiter | one task | {} concurrent tasks |\n|---|---:|---:|",
        human(o.step() / 2),
        crate::limiter::TASKS,
        crate::servers::REDIS_URL,
        crate::limiter::TASKS
    );
    let cell = |r: &BenchResult<crate::limiter::Rate>, with_time: bool| match r {
        Ok(rate) if with_time => format!(
            "{} decisions/s ({} each)",
            count(rate.per_second()),
            human(rate.elapsed / u32::try_from(rate.decisions.max(1)).unwrap_or(u32::MAX))
        ),
        Ok(rate) => format!("{} decisions/s", count(rate.per_second())),
        Err(e) => format!("failed: {}", one_line(e)),
    };
    for row in &outcome.limiter {
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            row.label,
            cell(&row.one_task, true),
            cell(&row.tasks, false)
        );
    }
    (s, Vec::new())
}

/// 3 significant figures with a k or M suffix.
fn count(n: f64) -> String {
    let (v, suffix) = if n >= 1e6 {
        (n / 1e6, " M")
    } else if n >= 1e3 {
        (n / 1e3, " k")
    } else {
        (n, "")
    };
    let decimals = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.decimals$}{suffix}")
}

pub(super) fn extraction(result: &BenchResult<Finished>, head: &str) -> (String, Vec<String>) {
    let mut s = format!("## Document extraction\n\n{head}\n");
    s.push_str(
        "`cargo bench -p ingest-docs --bench pdf_vs_pdftotext`, run by `cargo xtask bench`: our \
         PDF extractor and `pdftotext` (poppler-utils) side by side in the same run, on the same \
         files (the PDFs the fixture suite generates with LibreOffice and reportlab, one and \
         two columns, plus one long LibreOffice document). Each file is extracted repeatedly \
         for at least 0.7 s; `pdftotext` runs as a process per extraction, so its figures \
         include process start-up. On a loaded machine CPU time is the fairer measure.\n\n",
    );
    let target = "- #5 acceptance 4, at least half of pdftotext's throughput and word agreement \
                  >= 0.98";
    let v = match result {
        Ok(f) => &f.values,
        Err(e) => {
            let _ = writeln!(s, "Failed: {}", one_line(e));
            return with_targets(s, vec![format!("{target}: **not measured** (failed).")]);
        }
    };
    let get = |k: &str| v.get(k).copied().unwrap_or(f64::NAN);
    let _ = writeln!(
        s,
        "Files: {:.0} PDFs, {:.2} MB, {:.0} pages.\n\n\
         | extractor | wall MB/s | wall pages/s | CPU MB/s | CPU pages/s |\n\
         |---|---:|---:|---:|---:|\n\
         | ours (lopdf) | {:.2} | {:.0} | {:.2} | {:.0} |\n\
         | pdftotext | {:.2} | {:.0} | {:.2} | {:.0} |\n",
        get("extraction_files"),
        get("mb"),
        get("pages"),
        get("ours_wall_mb_s"),
        get("ours_wall_pages_s"),
        get("ours_cpu_mb_s"),
        get("ours_cpu_pages_s"),
        get("pdftotext_wall_mb_s"),
        get("pdftotext_wall_pages_s"),
        get("pdftotext_cpu_mb_s"),
        get("pdftotext_cpu_pages_s"),
    );
    let wall = get("ours_wall_mb_s") / get("pdftotext_wall_mb_s");
    let cpu = get("ours_cpu_mb_s") / get("pdftotext_cpu_mb_s");
    let _ = writeln!(
        s,
        "Ours is {wall:.2}× pdftotext's wall throughput and {cpu:.2}× its CPU throughput. Word \
         agreement with pdftotext's output: mean {:.4}, minimum {:.4}.",
        get("agreement_mean"),
        get("agreement_min")
    );
    let met = wall >= 0.5 && cpu >= 0.5 && get("agreement_min") >= 0.98;
    with_targets(
        s,
        vec![format!(
            "{target}: {wall:.2}× (wall) and {cpu:.2}× (CPU) pdftotext's throughput, agreement \
             {:.4} at the least: **{}**.",
            get("agreement_min"),
            verdict(met)
        )],
    )
}

pub(super) fn rollover(result: &BenchResult<Finished>, head: &str) -> (String, Vec<String>) {
    let mut s = format!("## Monthly rollover\n\n{head}\n");
    s.push_str(
        "`cargo run --release -p scheduler --example rollover_bench`, run by `cargo xtask \
         bench`, on a fresh MariaDB database: 10,000 companies and 1,000,000 employees with \
         usage in the closing month (bulk-inserted first, not timed), then the rollover (each \
         company's final usage report written, the month marked closed), then a second run \
         that finds the month closed. The example's last line gives \
         `rollover_seconds=… noop_seconds=…`.\n\n\
         | run | time |\n|---|---:|\n",
    );
    let target = "- #6 acceptance 4, rollover of 10,000 companies / 1,000,000 employees under 5 s \
                  and the no-op run under 100 ms on MySQL";
    let line = match result {
        Ok(f) => {
            let get = |k: &str| f.values.get(k).copied().unwrap_or(f64::NAN);
            let (roll, noop) = (get("rollover_seconds"), get("noop_seconds"));
            let _ = writeln!(
                s,
                "| rollover | {} |\n| second run (no-op) | {} |",
                seconds(roll),
                seconds(noop)
            );
            let _ = writeln!(
                s,
                "\n{}The whole example, fixture and build included, took {}.",
                f.notes
                    .iter()
                    .map(|n| format!("The example said: `{n}`. "))
                    .collect::<String>(),
                human(f.wall)
            );
            format!(
                "{target}: {} and {}: **{}**.",
                seconds(roll),
                seconds(noop),
                verdict(roll < TARGET_ROLLOVER_SECONDS && noop < TARGET_NOOP_SECONDS)
            )
        }
        Err(e) => {
            let _ = writeln!(s, "| rollover | failed: {} |", one_line(e));
            format!("{target}: **not measured** (failed).")
        }
    };
    with_targets(s, vec![line])
}

/// Seconds as read from a subprocess, in a readable unit (or as printed if not a duration).
fn seconds(value: f64) -> String {
    Duration::try_from_secs_f64(value).map_or_else(|_| format!("{value} s"), human)
}
