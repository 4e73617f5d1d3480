//! `botpsicologo-scheduler`: runs housekeeping jobs on a timer, or one job once (for cron or a
//! Kubernetes CronJob) with `botpsicologo-scheduler run <job>`.

use app::database::{self, Database};
use app::settings::Settings;
use clap::{Parser, Subcommand};
use domain::ports::Persistence;
use scheduler::{Job, run_job};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "botpsicologo-scheduler",
    version,
    about = "Housekeeping jobs for BOTPSICOLOGO"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run every job on its interval until SIGTERM or Ctrl-C (the default).
    Daemon,
    /// Run one job once and exit (non-zero on failure).
    Run { job: Job },
}

/// Daemon mode wakes up once a minute; purging runs on every `PURGE_EVERY`-th wake-up.
const TICK: Duration = Duration::from_secs(60);
const PURGE_EVERY: u64 = 60;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("botpsicologo-scheduler: {e}");
            return ExitCode::from(2);
        }
    };
    app::logging::init(&settings);
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("botpsicologo-scheduler: cannot start the async runtime");
        return ExitCode::FAILURE;
    };
    runtime.block_on(async {
        let database = match database::open(&settings).await {
            Ok(db) => db,
            Err(e) => {
                eprintln!("botpsicologo-scheduler: {e}");
                return ExitCode::FAILURE;
            }
        };
        let command = cli.command.unwrap_or(Command::Daemon);
        match database {
            Database::Sqlite(store) => execute(&store, command).await,
            Database::Mysql(store) => execute(&store, command).await,
        }
    })
}

async fn execute<S: Persistence>(store: &S, command: Command) -> ExitCode {
    match command {
        Command::Run { job } => match run_job(store, job, chrono::Utc::now()).await {
            Ok(report) => {
                tracing::info!(job = ?report.job, changed = report.changed, "job finished");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!(?job, error = %e, "job failed");
                ExitCode::FAILURE
            }
        },
        Command::Daemon => {
            daemon(store).await;
            ExitCode::SUCCESS
        }
    }
}

async fn daemon<S: Persistence>(store: &S) {
    let mut timer = tokio::time::interval(TICK);
    let mut ticks: u64 = 0;
    tracing::info!("scheduler running");
    loop {
        tokio::select! {
            _ = timer.tick() => {
                let mut due = vec![Job::Reclaim];
                if ticks.is_multiple_of(PURGE_EVERY) {
                    due.push(Job::Purge);
                }
                ticks += 1;
                for job in due {
                    match run_job(store, job, chrono::Utc::now()).await {
                        Ok(report) => tracing::info!(job = ?report.job, changed = report.changed, "job finished"),
                        Err(e) => tracing::error!(?job, error = %e, "job failed; retried on its next tick"),
                    }
                }
            }
            _ = tokio::signal::ctrl_c() => break,
            () = terminate() => break,
        }
    }
    tracing::info!("scheduler stopped");
}

async fn terminate() {
    #[cfg(unix)]
    if let Ok(mut signal) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        signal.recv().await;
        return;
    }
    std::future::pending::<()>().await;
}
