//! One function per section of `BENCHMARKS.md`; each also returns its "target met / not met"
//! lines, gathered again in the run's summary.

use super::{Section, header, load_table, one_line, verdict};
use crate::Outcome;
use crate::external::Finished;
use crate::options::{Options, Part};
use crate::servers::BenchResult;
use crate::stats::human;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use std::time::Duration;

/// The targets of the issues.
const TARGET_TURNS: f64 = 1_500.0;
const TARGET_P99: Duration = Duration::from_millis(50);
const TARGET_RETRIEVAL_P99: Duration = Duration::from_millis(2);
const TARGET_ROLLOVER_SECONDS: f64 = 5.0;
const TARGET_NOOP_SECONDS: f64 = 0.1;
const TARGET_WHOLE_RUN: Duration = Duration::from_secs(15 * 60);

/// Every section this run measured, the summary first.
pub fn render(
    o: &Options,
    outcome: &Outcome,
    machine: &str,
    started: DateTime<Utc>,
) -> Vec<Section> {
    let head = header(o, machine, started);
    let mut sections = Vec::new();
    let mut targets = Vec::new();
    let mut add = |name, (text, lines): (String, Vec<String>)| {
        sections.push((name, text));
        targets.extend(lines);
    };
    if o.has(Part::Chat) {
        add("chat", chat(o, outcome, &head));
    }
    if o.has(Part::SignIn) || o.has(Part::Me) {
        add("accounts", accounts(o, outcome, &head));
    }
    if o.has(Part::Inside) {
        add("inside", inside(outcome, &head));
    }
    if o.has(Part::Limiter) {
        add("limiter", limiter(o, outcome, &head));
    }
    if let Some(result) = &outcome.extraction {
        add("extraction", extraction(result, &head));
    }
    if let Some(result) = &outcome.rollover {
        add("rollover", rollover(result, &head));
    }
    if let Some(result) = &outcome.crisis {
        add("crisis", super::crisis::section(result, &head));
    }
    let all = o.parts.len() == Part::ALL.len();
    targets.push(format!(
        "- #7 acceptance 1, the whole `cargo xtask bench` under 15 minutes: {} (build {}){}",
        human(outcome.wall),
        human(o.build),
        if all {
            format!(": **{}**.", verdict(outcome.wall < TARGET_WHOLE_RUN))
        } else {
            " for the parts run (not all of them): not judged.".into()
        }
    ));
    let parts: Vec<&str> = o.parts.iter().map(|p| p.name()).collect();
    let summary = format!(
        "## Summary of the last run\n\n{head}\nParts run: {}. Whole run, build included: {}.\n\n\
         Targets of the issues, as measured in this run (details in each section below):\n\n{}\n",
        parts.join(", "),
        human(outcome.wall),
        targets.join("\n")
    );
    sections.insert(0, ("summary", summary));
    sections
}

fn chat(o: &Options, outcome: &Outcome, head: &str) -> (String, Vec<String>) {
    let mut s = format!("## Chat turns\n\n{head}\n");
    let _ = writeln!(
        s,
        "What runs: the release `botpsicologo` binary on a fresh database per backend (default \
         settings: MySQL pool of 16, in-process limiter on SQLite, Redis limiter on MySQL), in \
         front of the stub OpenAI-compatible model server (`model_openai::stub`), which answers \
         every request at once with the same reply of about 90 words and reports usage. \
         {people} individuals (plus the demo accounts from `seed-demo`) sign in, each from a \
         loopback address of their own (127.0.0.2, 127.0.0.3, …) as the server limits sign-ins \
         and requests per address; the per-person chat limit and the per-address request limit \
         are raised out of the way (`CHAT_MESSAGES_PER_MINUTE`, `IP_REQUESTS_PER_MINUTE`) and \
         plans get 10⁹ tokens a month. Connection *i* speaks as person *i* mod {people}, so up \
         to {people} connections no person has two turns at once. Closed loop: each connection \
         sends a turn (`POST /api/v1/chat`, JSON answer), reads the whole answer, then sends the \
         next. Each step lasts {secs} s, after a warm-up at the most connections measured that \
         fills every history to its bound (12 messages), so prompts have their full size and \
         the database connections have prepared the statements groups of turns use (once per \
         connection, as on a server that has run a while). The baseline replays, with the same \
         load, the last request our server sent the model (same prompt, `stream: true`) \
         straight to the model server. Load generator, model server and our server share the \
         same cores, so every number includes the load generator's own cost.\n\n\
         The model server sends its reply as one JSON answer (`Reply::json`, which our adapter \
         accepts for a streaming request), one write per request; the \"streamed reply\" rows \
         show the same model server sending the reply in 12 chunks, as a real one does (both \
         it and our server set `TCP_NODELAY`, so the last chunks do not wait for a delayed \
         ACK).\n",
        people = o.people,
        secs = o.seconds
    );
    let baseline = outcome
        .chat
        .first()
        .filter(|b| b.label.starts_with("model server alone"))
        .and_then(|b| b.results.as_ref().ok())
        .cloned()
        .unwrap_or_default();
    load_table(&mut s, "turns", &outcome.chat, Some(&baseline));
    cost_table(&mut s, &outcome.chat);
    let mut targets = Vec::new();
    match at_64(&outcome.chat, "MySQL") {
        Some(r) => {
            targets.push(format!(
                "- #4 acceptance 7, at least 1,500 turns/s at 64 connections on MySQL + Redis: \
                 measured {:.0} turns/s: **{}**.",
                r.per_second(),
                verdict(r.per_second() >= TARGET_TURNS && r.errors == 0)
            ));
            targets.push(format!(
                "- #4 acceptance 7, p99 under 50 ms at 64 connections on MySQL + Redis: \
                 measured {}: **{}**.",
                human(r.latency.p99),
                verdict(r.latency.p99 < TARGET_P99 && r.errors == 0)
            ));
        }
        None => targets.push(
            "- #4 acceptance 7, 1,500 turns/s and p99 under 50 ms at 64 connections on MySQL + \
             Redis: **not measured** (no 64-connection MySQL result in this run)."
                .into(),
        ),
    }
    with_targets(s, targets)
}

/// CPU time and MySQL statements per request at the largest connection count of each series,
/// and the rate at which that much CPU would fill the machine's cores.
fn cost_table(s: &mut String, series: &[crate::Series]) {
    use crate::cpu::{LOAD_AND_STUB, MARIADB, OUR_SERVER, REDIS};
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let _ = writeln!(
        s,
        "\n### What a turn costs, by process\n\n\
         CPU time (user + system, from /proc) each process spent during the step with the most \
         connections, divided by the turns of that step, and the statements MySQL received \
         (`Questions` of `SHOW GLOBAL STATUS`) per turn. These depend much less on how busy the \
         machine is than turns per second do. The last column is the rate at which that much \
         CPU per turn would fill all {cores} cores: the ceiling of this design on this machine, \
         with the load generator on the same cores.\n\n\
         | target | connections | {OUR_SERVER} | {MARIADB} | {REDIS} | {LOAD_AND_STUB} | \
         total | turns/s at {cores} cores busy | MySQL statements per turn |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for x in series {
        let Some(r) = x.results.as_ref().ok().and_then(|rs| rs.last()) else {
            continue;
        };
        let cell = |label: &str| r.cost.of(label).map_or_else(|| "—".to_string(), human);
        let total = r.cost.total();
        let statements = match &r.cost.mysql_statements {
            Some(Ok(n)) => format!("{n:.1}"),
            Some(Err(e)) => format!("failed: {}", one_line(e)),
            None => "—".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} | {statements} |",
            x.label,
            r.connections,
            cell(OUR_SERVER),
            cell(MARIADB),
            cell(REDIS),
            cell(LOAD_AND_STUB),
            human(total),
            cores as f64 / total.as_secs_f64().max(1e-9),
        );
    }
}

/// The result at 64 connections of the series whose label contains `backend`.
fn at_64<'a>(series: &'a [crate::Series], backend: &str) -> Option<&'a crate::load::LoadResult> {
    series
        .iter()
        .find(|x| x.label.contains(backend))
        .and_then(|x| x.results.as_ref().ok())
        .and_then(|rs| rs.iter().find(|r| r.connections == 64))
}

/// `text` followed by its "### Targets" list.
fn with_targets(mut text: String, targets: Vec<String>) -> (String, Vec<String>) {
    if !targets.is_empty() {
        let _ = write!(text, "\n### Targets\n\n{}\n", targets.join("\n"));
    }
    (text, targets)
}

fn accounts(o: &Options, outcome: &Outcome, head: &str) -> (String, Vec<String>) {
    let mut s = format!("## Sign-in and `GET /api/v1/me`\n\n{head}\n");
    let _ = writeln!(
        s,
        "The same servers as the chat turns (same settings, same people, same stub model), \
         right after them. `GET /api/v1/me` (bearer token; the caller's role, company and usage \
         of the month): closed loop, connection *i* as person *i* mod {people} from that \
         person's address. Sign-in (`POST /api/v1/auth/token` with e-mail and password, \
         verified with argon2id at the `argon2` crate's defaults, then a session written to the \
         database): closed loop, but each attempt on a new connection from a new loopback \
         address (127.1.0.0 on) and as the next of {accounts} seeded accounts, each used at \
         most 5 times: the server allows 5 sign-ins per address and per account (then one a \
         minute), fixed in code (`http::limits::SIGN_IN_IP`, `SIGN_IN_ACCOUNT`), so the run \
         stays under them rather than raising them. `IP_REQUESTS_PER_MINUTE` is raised as for \
         the chat. Each step lasts {secs} s.\n",
        people = o.people,
        accounts = outcome.sign_in_accounts,
        secs = o.seconds
    );
    let mut targets = Vec::new();
    let mut measured = Vec::new();
    for (part, what, unit, series) in [
        (Part::SignIn, "Sign-in", "sign-ins", &outcome.sign_in),
        (Part::Me, "`GET /api/v1/me`", "requests", &outcome.me),
    ] {
        if !o.has(part) {
            continue;
        }
        let _ = writeln!(s, "### {what}\n");
        load_table(&mut s, unit, series, None);
        s.push('\n');
        for backend in ["SQLite", "MySQL"] {
            measured.push(match at_64(series, backend) {
                Some(r) if r.errors == 0 => Ok(format!(
                    "{what} on {backend} {:.0} {unit}/s, p99 {}",
                    r.per_second(),
                    human(r.latency.p99)
                )),
                Some(r) => Err(format!("{what} on {backend} had {} errors", r.errors)),
                None => Err(format!("{what} on {backend} has no 64-connection result")),
            });
        }
    }
    let all = o.has(Part::SignIn) && o.has(Part::Me);
    let (ok, missing): (Vec<_>, Vec<_>) = measured.into_iter().partition(Result::is_ok);
    let ok: Vec<String> = ok.into_iter().flatten().collect();
    let missing: Vec<String> = missing.into_iter().filter_map(Result::err).collect();
    targets.push(format!(
        "- #3 acceptance 7, sign-ins per second and `GET /api/v1/me` throughput and p99 at 64 \
         connections on SQLite and on MySQL + Redis (no number set): {}: **{}**.",
        if missing.is_empty() {
            ok.join("; ")
        } else {
            missing.join("; ")
        },
        if all && missing.is_empty() {
            "measured"
        } else {
            "not measured"
        }
    ));
    with_targets(s, targets)
}

fn inside(outcome: &Outcome, head: &str) -> (String, Vec<String>) {
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

fn limiter(o: &Options, outcome: &Outcome, head: &str) -> (String, Vec<String>) {
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

fn extraction(result: &BenchResult<Finished>, head: &str) -> (String, Vec<String>) {
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

fn rollover(result: &BenchResult<Finished>, head: &str) -> (String, Vec<String>) {
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
