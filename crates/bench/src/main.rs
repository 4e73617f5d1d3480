//! `botpsicologo-bench`: every benchmark of the project, behind `cargo xtask bench`.
//!
//! Starts the stub model server (it answers at once), then the release `botpsicologo` binary on
//! each backend; signs people in and drives closed-loop chat turns, `GET /api/v1/me` and
//! sign-ins at several connection counts; hits the model server alone with the same load as a
//! baseline; times what a turn does inside the server in-process; measures the rate limiters;
//! runs the extraction and rollover benchmarks of their crates; and writes the numbers into
//! `BENCHMARKS.md`. `botpsicologo-bench soak` runs the soak (see `soak.rs`).

mod corpus;
mod cpu;
mod crisis;
mod external;
mod inside;
mod limiter;
mod load;
mod options;
mod report;
mod servers;
mod soak;
mod stats;

use load::{LoadResult, Target};
use options::{Options, Part};
use servers::{Backend, BenchResult, Model, Running};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

// The load generator and the stub model share the cores with the server they measure: the same
// allocator as the server keeps their own cost per request down.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The load results of one target, or why there are none.
pub struct Series {
    pub label: String,
    pub results: BenchResult<Vec<LoadResult>>,
}

#[derive(Default)]
pub struct Outcome {
    /// Chat turns: the baselines first, then our server on each backend.
    pub chat: Vec<Series>,
    pub me: Vec<Series>,
    pub sign_in: Vec<Series>,
    pub sign_in_accounts: usize,
    pub inside: Vec<inside::Row>,
    pub inside_errors: Vec<String>,
    pub limiter: Vec<limiter::Row>,
    pub extraction: Option<BenchResult<external::Finished>>,
    pub rollover: Option<BenchResult<external::Finished>>,
    pub crisis: Option<Result<crisis::CrisisResult, String>>,
    pub wall: Duration,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "stub") {
        // The benchmark's model server alone, for trying it by hand.
        return match Model::streamed() {
            Ok(model) => {
                println!("{}", model.server.base_url);
                let _ = tokio::signal::ctrl_c().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let soak = args.first().is_some_and(|a| a == "soak");
    let options = match options::parse(&args[usize::from(soak)..], soak) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let result = if soak {
        soak::run(&options).await
    } else {
        run(&options).await
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(o: &Options) -> BenchResult<()> {
    let clock = Instant::now();
    let started = chrono::Utc::now();
    let machine = report::machine();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut outcome = Outcome::default();
    let mut prompt = None;
    if o.runs_server() {
        let model = Model::json()?;
        let base_url = model.server.base_url.clone();
        for &backend in &o.backends {
            eprintln!("== {}", backend.label());
            server_runs(o, backend, &base_url, dir.path(), &mut outcome).await;
            // The latest request our server sent the model: the baseline sends the same.
            if let Some(request) = model.server.last_request() {
                prompt = Some(request);
            }
        }
        if o.has(Part::Chat) {
            let baselines = baselines(o, &base_url, prompt.as_ref()).await?;
            outcome.chat.splice(0..0, baselines);
        }
    }
    if o.has(Part::Inside) {
        eprintln!("== inside a turn");
        inside(&mut outcome, prompt.as_ref(), dir.path()).await;
    }
    if o.has(Part::Limiter) {
        eprintln!("== rate limiter decisions");
        outcome.limiter = limiter::measure(o.step() / 2).await;
    }
    if o.has(Part::Extraction) {
        eprintln!("== extraction beside pdftotext");
        outcome.extraction = Some(external::extraction(o));
    }
    if o.has(Part::Rollover) {
        eprintln!("== month rollover on MySQL");
        outcome.rollover = Some(external::rollover(o));
    }
    if o.has(Part::Crisis) {
        eprintln!("== crisis screen on its corpus");
        outcome.crisis = Some(crisis::measure(&o.root));
    }
    outcome.wall = clock.elapsed() + o.build;
    let sections = report::render(o, &outcome, &machine, started);
    for (_, text) in &sections {
        println!("{text}");
    }
    if let Some(out) = &o.out {
        report::write(out, &sections)?;
        eprintln!("wrote {}", out.display());
    }
    eprintln!(
        "whole run: {} (build {}, measurements {})",
        stats::human(outcome.wall),
        stats::human(o.build),
        stats::human(clock.elapsed())
    );
    Ok(())
}

/// Chat turns, `GET /api/v1/me` and sign-ins against one server on `backend`.
async fn server_runs(
    o: &Options,
    backend: Backend,
    model_url: &str,
    dir: &std::path::Path,
    outcome: &mut Outcome,
) {
    let label = format!("our server, {}", backend.label());
    let people = servers::emails("person", o.people);
    // Fresh accounts for the sign-in runs, each used at most 5 times (the server's limit).
    let accounts = if o.has(Part::SignIn) {
        servers::emails("signin", o.sign_in_accounts())
    } else {
        Vec::new()
    };
    outcome.sign_in_accounts = accounts.len();
    let running = Running::start(
        &o.server, &o.root, model_url, backend, dir, &people, &accounts,
    )
    .await;
    let running = match running {
        Ok(r) => r,
        Err(e) => {
            eprintln!("   failed: {e}");
            for (part, list) in [
                (Part::Chat, &mut outcome.chat),
                (Part::Me, &mut outcome.me),
                (Part::SignIn, &mut outcome.sign_in),
            ] {
                if o.has(part) {
                    list.push(Series {
                        label: label.clone(),
                        results: Err(e.clone()),
                    });
                }
            }
            return;
        }
    };
    let base = running.server.base.clone();
    let watch = cpu::Watch::server(running.server.pid(), backend == Backend::MysqlRedis);
    if o.has(Part::Chat) {
        eprintln!("   chat turns");
        let target = Arc::new(Target::Chat {
            base: base.clone(),
            tokens: running.tokens.clone(),
        });
        let results = chat(o, target, &watch).await;
        if let Err(e) = &results {
            eprintln!("   failed: {e}");
        }
        outcome.chat.push(Series {
            label: label.clone(),
            results,
        });
    }
    if o.has(Part::Me) {
        eprintln!("   GET /api/v1/me");
        let target = Arc::new(Target::Me {
            base: base.clone(),
            tokens: running.tokens.clone(),
        });
        outcome.me.push(Series {
            label: label.clone(),
            results: Ok(series(o, target, &watch).await),
        });
    }
    if o.has(Part::SignIn) {
        eprintln!("   sign-in");
        let target = Arc::new(Target::sign_in(&base, accounts));
        outcome.sign_in.push(Series {
            label,
            results: Ok(series(o, target, &watch).await),
        });
    }
    running.stop().await;
}

async fn chat(
    o: &Options,
    target: Arc<Target>,
    watch: &cpu::Watch,
) -> BenchResult<Vec<LoadResult>> {
    // One turn each, then a warm-up that fills everyone's history to its bound, at the most
    // connections measured: the steps then see the steady state, with every pooled connection
    // holding the statements that groups of that size use, prepared once per connection.
    let check = load::run(target.clone(), o.people, Duration::from_millis(1)).await;
    if check.ok == 0 {
        return Err(format!(
            "the first turns failed: {}",
            check.first_error.unwrap_or_default()
        ));
    }
    let warm = load::run(
        target.clone(),
        o.connections.iter().copied().max().unwrap_or(16),
        o.step()
            .clamp(Duration::from_secs(2), Duration::from_secs(5)),
    )
    .await;
    eprintln!(
        "   warm-up: {} turns, {} errors",
        warm.ok + check.ok,
        warm.errors + check.errors
    );
    Ok(series(o, target, watch).await)
}

/// The model server alone, with the last request our server sent it: as one JSON answer and
/// streamed.
async fn baselines(
    o: &Options,
    base_url: &str,
    prompt: Option<&serde_json::Value>,
) -> BenchResult<Vec<Series>> {
    let mut out = Vec::new();
    for (label, streamed) in [
        ("model server alone (baseline)", None),
        (
            "model server alone, streamed reply",
            Some(Model::streamed()?),
        ),
    ] {
        eprintln!("== {label}");
        let url = streamed.as_ref().map_or(base_url, |m| &m.server.base_url);
        let results = match prompt {
            Some(request) => {
                let mut body = request.clone();
                body["stream"] = true.into();
                let target = Arc::new(Target::Model {
                    base_url: url.to_string(),
                    body,
                });
                Ok(series(o, target, &cpu::Watch::bench_only()).await)
            }
            None => Err("no request from our server to replay".to_string()),
        };
        out.push(Series {
            label: label.into(),
            results,
        });
    }
    Ok(out)
}

async fn inside(outcome: &mut Outcome, prompt: Option<&serde_json::Value>, dir: &std::path::Path) {
    outcome.inside.extend(inside::retrieval());
    match inside::encryption() {
        Ok(rows) => outcome.inside.extend(rows),
        Err(e) => outcome.inside_errors.push(e),
    }
    let captured = prompt.and_then(|r| {
        serde_json::from_value::<Vec<domain::model::ChatTurn>>(r["messages"].clone()).ok()
    });
    let rows = match captured {
        Some(turns) => inside::token_counting(&turns, "a prompt our server sent in the load"),
        None => inside::token_counting(&inside::synthetic_prompt(), "a synthetic prompt"),
    };
    outcome.inside.extend(rows);
    outcome.inside.extend(inside::system_message_counting());
    for backend in [Backend::Sqlite, Backend::MysqlRedis] {
        match inside::accounting(backend, dir).await {
            Ok(rows) => outcome.inside.extend(rows),
            Err(e) => outcome
                .inside_errors
                .push(format!("{}: {e}", backend.label())),
        }
    }
}

/// One load step per connection count, each with what a request cost the watched processes.
async fn series(o: &Options, target: Arc<Target>, watch: &cpu::Watch) -> Vec<LoadResult> {
    let mut results = Vec::new();
    for &connections in &o.connections {
        let before = watch.snapshot().await;
        let mut r = load::run(target.clone(), connections, o.step()).await;
        r.cost = watch.cost(&before, &watch.snapshot().await, r.ok);
        eprintln!(
            "   {connections:>3} connections: {:>7.0} /s, p50 {}, p99 {}, {} errors{}",
            r.per_second(),
            stats::human(r.latency.p50),
            stats::human(r.latency.p99),
            r.errors,
            r.first_error
                .as_deref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        );
        results.push(r);
    }
    results
}
