//! One function per section of `BENCHMARKS.md`; each also returns its "target met / not met"
//! lines, gathered again in the run's summary.

use super::{Section, header, load_table, one_line, verdict};
use crate::Outcome;
use crate::options::{Options, Part};
use crate::stats::human;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use std::time::Duration;

mod components;

use components::{extraction, inside, limiter, rollover};

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
