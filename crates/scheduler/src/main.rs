//! `botpsicologo-scheduler`: runs the jobs on the cron schedules of `[scheduler]`, or one job
//! once (for cron or a Kubernetes CronJob) with `botpsicologo-scheduler run <job>`.
//!
//! Exit codes: 0 the job ran (or another scheduler is running it right now), 1 it failed (safe
//! to retry: it resumes from its saved cursor), 2 the configuration is invalid.

use app::database::{self, Database};
use app::reports::FileReports;
use app::settings::Settings;
use app::system::SystemEnv;
use clap::{Parser, Subcommand};
use domain::ports::IdGenerator;
use scheduler::schedule::Schedule;
use scheduler::{Context, Job, JobStore, Outcome, run_job};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "botpsicologo-scheduler",
    version,
    about = "Scheduled jobs for BOTPSICOLOGO"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run every job on its cron schedule until SIGTERM or Ctrl-C (the default).
    Daemon,
    /// Run one job once and exit (non-zero on failure).
    Run { job: Job },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("botpsicologo-scheduler: {e}");
            return ExitCode::from(2);
        }
    };
    let schedule = match Schedule::from_settings(&settings.scheduler) {
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
                tracing::error!(error = %e, "cannot open the database");
                return ExitCode::FAILURE;
            }
        };
        let env = SystemEnv::default();
        let holder = format!(
            "{}/{}/{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "scheduler".into()),
            std::process::id(),
            env.next_id()
        );
        let runner = Runner {
            archive: FileReports::new(&settings.data_dir),
            env,
            ctx: Context::new(holder, settings.scheduler.lease_seconds),
        };
        let command = cli.command.unwrap_or(Command::Daemon);
        match database {
            Database::Sqlite(store) => runner.execute(&store, command, &schedule).await,
            Database::Mysql(store) => runner.execute(&store, command, &schedule).await,
        }
    })
}

struct Runner {
    archive: FileReports,
    env: SystemEnv,
    ctx: Context,
}

impl Runner {
    async fn execute<S: JobStore>(
        &self,
        store: &S,
        command: Command,
        schedule: &Schedule,
    ) -> ExitCode {
        match command {
            Command::Run { job } => {
                if self.run(store, job).await {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Command::Daemon => {
                self.daemon(store, schedule).await;
                ExitCode::SUCCESS
            }
        }
    }

    /// Runs one job and logs how it went; `false` when it failed.
    async fn run<S: JobStore>(&self, store: &S, job: Job) -> bool {
        let started = std::time::Instant::now();
        match run_job(store, &self.archive, &self.env, &self.ctx, job).await {
            Ok(Outcome::Ran { changed }) => {
                tracing::info!(
                    job = job.name(),
                    changed,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "job finished"
                );
                true
            }
            Ok(Outcome::Busy) => {
                tracing::info!(
                    job = job.name(),
                    "another scheduler is running this job; skipped"
                );
                true
            }
            Err(e) => {
                tracing::error!(job = job.name(), error = %e, "job failed; the next run resumes it");
                false
            }
        }
    }

    async fn daemon<S: JobStore>(&self, store: &S, schedule: &Schedule) {
        tracing::info!(holder = %self.ctx.holder, "scheduler running");
        // A month whose rollover was missed while no scheduler ran is closed now (a no-op when
        // it is closed already).
        self.run(store, Job::CloseMonth).await;
        loop {
            let now = chrono::Utc::now();
            let Some((at, due)) = schedule.next_after(now) else {
                tracing::warn!("no job has a future occurrence; stopping");
                break;
            };
            let wait = (at - now).to_std().unwrap_or_default();
            tokio::select! {
                () = tokio::time::sleep(wait) => {
                    for job in due {
                        self.run(store, job).await;
                    }
                }
                _ = tokio::signal::ctrl_c() => break,
                () = terminate() => break,
            }
        }
        tracing::info!("scheduler stopped");
    }
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
