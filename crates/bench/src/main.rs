//! `botpsicologo-bench`: the chat benchmark behind `cargo xtask bench`.
//!
//! Starts the stub model server (it answers at once), then the release `botpsicologo` binary on
//! each backend, signs people in, and drives closed-loop chat turns at several connection counts;
//! hits the model server alone with the same load as a baseline; times what a turn does inside
//! the server in-process; and writes the numbers into `BENCHMARKS.md`.

mod corpus;
mod inside;
mod load;
mod report;
mod servers;
mod stats;

use load::{LoadResult, Target};
use servers::{Backend, BenchResult, Database, Model, ServerSetup};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "usage: botpsicologo-bench stub | --server PATH [--root DIR] [--out FILE] \
[--seconds N] [--connections 1,16,64] [--backends sqlite,mysql] [--people N] [--no-load] \
[--no-inside] [--invoked-as TEXT]";

pub struct Options {
    server: PathBuf,
    root: PathBuf,
    out: Option<PathBuf>,
    seconds: u64,
    connections: Vec<usize>,
    backends: Vec<Backend>,
    people: usize,
    load: bool,
    inside: bool,
    invoked_as: String,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        server: PathBuf::new(),
        root: PathBuf::from("."),
        out: None,
        seconds: 10,
        connections: vec![1, 16, 64],
        backends: vec![Backend::Sqlite, Backend::MysqlRedis],
        people: 64,
        load: true,
        inside: true,
        invoked_as: "botpsicologo-bench".into(),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => o.server = value()?.into(),
            "--root" => o.root = value()?.into(),
            "--out" => o.out = Some(value()?.into()),
            "--seconds" => o.seconds = value()?.parse().map_err(|_| "--seconds: a number")?,
            "--people" => o.people = value()?.parse().map_err(|_| "--people: a number")?,
            "--connections" => {
                o.connections = value()?
                    .split(',')
                    .map(|n| n.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| "--connections: numbers separated by commas")?;
            }
            "--backends" => {
                o.backends = value()?
                    .split(',')
                    .map(|b| match b.trim() {
                        "sqlite" => Ok(Backend::Sqlite),
                        "mysql" => Ok(Backend::MysqlRedis),
                        other => Err(format!("--backends: unknown backend {other}")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--no-load" => o.load = false,
            "--no-inside" => o.inside = false,
            "--invoked-as" => o.invoked_as = value()?,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if o.load && o.server.as_os_str().is_empty() {
        return Err(format!("--server is required for the load\n{USAGE}"));
    }
    if o.people == 0 || o.connections.contains(&0) || o.seconds == 0 {
        return Err("--people, --connections and --seconds must be positive".into());
    }
    Ok(o)
}

/// The load results of one target, or why there are none.
pub struct Series {
    pub label: String,
    pub results: Result<Vec<LoadResult>, String>,
}

#[derive(Default)]
pub struct Outcome {
    pub series: Vec<Series>,
    pub inside: Vec<inside::Row>,
    pub inside_errors: Vec<String>,
    pub people: usize,
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
    let options = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(o: &Options) -> BenchResult<()> {
    let started = chrono::Utc::now();
    let machine = report::machine();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut outcome = Outcome {
        people: o.people,
        ..Outcome::default()
    };
    let mut prompt = None;
    if o.load {
        let model = Model::json()?;
        let base_url = model.server.base_url.clone();
        for &backend in &o.backends {
            eprintln!("== {}", backend.label());
            let results = backend_series(o, backend, &base_url, &dir).await;
            if let Err(e) = &results {
                eprintln!("   failed: {e}");
            }
            // The latest request our server sent the model: the baseline sends the same.
            if let Some(request) = model.server.last_request() {
                prompt = Some(request);
            }
            outcome.series.push(Series {
                label: format!("our server, {}", backend.label()),
                results,
            });
        }
        let mut baselines = Vec::new();
        for (label, streamed) in [
            ("model server alone (baseline)", None),
            (
                "model server alone, streamed reply (no TCP_NODELAY)",
                Some(Model::streamed()?),
            ),
        ] {
            eprintln!("== {label}");
            let url = streamed.as_ref().map_or(&base_url, |m| &m.server.base_url);
            let results = match &prompt {
                Some(request) => {
                    let mut body = request.clone();
                    body["stream"] = true.into();
                    let target = Arc::new(Target::Model {
                        base_url: url.clone(),
                        body,
                    });
                    Ok(series(o, target).await)
                }
                None => Err("no request from our server to replay".to_string()),
            };
            baselines.push(Series {
                label: label.into(),
                results,
            });
        }
        outcome.series.splice(0..0, baselines);
    }
    if o.inside {
        eprintln!("== inside a turn");
        outcome.inside.extend(inside::retrieval());
        match inside::encryption() {
            Ok(rows) => outcome.inside.extend(rows),
            Err(e) => outcome.inside_errors.push(e),
        }
        let captured = prompt.as_ref().and_then(|r| {
            serde_json::from_value::<Vec<domain::model::ChatTurn>>(r["messages"].clone()).ok()
        });
        let rows = match captured {
            Some(turns) => inside::token_counting(&turns, "a prompt our server sent in the load"),
            None => inside::token_counting(&inside::synthetic_prompt(), "a synthetic prompt"),
        };
        outcome.inside.extend(rows);
        for backend in [Backend::Sqlite, Backend::MysqlRedis] {
            match inside::accounting(backend, dir.path()).await {
                Ok(rows) => outcome.inside.extend(rows),
                Err(e) => outcome
                    .inside_errors
                    .push(format!("{}: {e}", backend.label())),
            }
        }
    }
    let text = report::render(o, &outcome, &machine, started);
    println!("{}", text.chat);
    println!("{}", text.inside);
    if let Some(out) = &o.out {
        report::write(out, &text)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

async fn backend_series(
    o: &Options,
    backend: Backend,
    model_url: &str,
    dir: &tempfile::TempDir,
) -> BenchResult<Vec<LoadResult>> {
    let tag = match backend {
        Backend::Sqlite => "sqlite",
        Backend::MysqlRedis => "mysql",
    };
    let data = tempfile::Builder::new()
        .prefix(tag)
        .tempdir_in(dir.path())
        .map_err(|e| e.to_string())?;
    let database = Database::create(backend, data.path(), tag).await?;
    let setup = ServerSetup::new(&o.server, &o.root, model_url, database, data)?;
    let results = async {
        let emails = setup.seed(o.people).await?;
        let server = setup.start().await?;
        let tokens = servers::sign_in(&server.base, &emails).await?;
        let target = Arc::new(Target::Server {
            base: server.base.clone(),
            tokens,
        });
        // One turn each, then a warm-up that fills everyone's history to its bound.
        let check = load::run(target.clone(), o.people, Duration::from_millis(1)).await;
        if check.ok == 0 {
            return Err(format!(
                "the first turns failed: {}",
                check.first_error.unwrap_or_default()
            ));
        }
        let warm = load::run(
            target.clone(),
            16,
            Duration::from_secs(o.seconds.clamp(2, 5)),
        )
        .await;
        eprintln!(
            "   warm-up: {} turns, {} errors",
            warm.ok + check.ok,
            warm.errors + check.errors
        );
        let results = series(o, target).await;
        drop(server);
        Ok(results)
    }
    .await;
    setup.database.drop_it().await;
    results
}

async fn series(o: &Options, target: Arc<Target>) -> Vec<LoadResult> {
    let mut results = Vec::new();
    for &connections in &o.connections {
        let r = load::run(target.clone(), connections, Duration::from_secs(o.seconds)).await;
        eprintln!(
            "   {connections:>3} connections: {:>7.0} turns/s, p50 {}, p99 {}, {} errors{}",
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
