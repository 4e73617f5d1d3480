//! `botpsicologo`: the web server and its operator commands.

use app::settings::Settings;
use botpsicologo::library_cli;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

// glibc's malloc and free took about a fifth of the server's CPU in a chat turn (`perf`, see
// BENCHMARKS.md); mimalloc's per-thread pages make the many short-lived allocations of a
// request much cheaper.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "botpsicologo",
    version,
    about = "BOTPSICOLOGO: the AI psychology assistant platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create the demo company and accounts (password from DEMO_PASSWORD, or generated).
    SeedDemo,
    /// Print the text extracted from one file (PDF, DOCX, HTML, text, Markdown).
    Extract { file: PathBuf },
    /// Ingest files and folders into the library; unchanged files are skipped.
    Ingest {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Also retire documents whose file is gone from the given folders.
        #[arg(long)]
        retire_missing: bool,
    },
    /// Payments through Stripe.
    Billing {
        #[command(subcommand)]
        command: BillingCommand,
    },
}

#[derive(Subcommand)]
enum BillingCommand {
    /// Check every configured price at Stripe: it exists, is active, recurring at the plan's
    /// interval (or one-off for packs), one currency for all.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("botpsicologo: {e}");
            return ExitCode::from(2);
        }
    };
    app::logging::init(&settings);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("botpsicologo: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => botpsicologo::run(settings).await.map_err(|e| e.to_string()),
            Command::Migrate => app::database::migrate(&settings)
                .await
                .map(|n| println!("applied {n} migration(s)"))
                .map_err(|e| e.to_string()),
            Command::SeedDemo => botpsicologo::seed_demo_command(settings).await,
            Command::Extract { file } => library_cli::extract_command(&file),
            Command::Ingest {
                paths,
                retire_missing,
            } => library_cli::ingest_command(settings, paths, retire_missing).await,
            Command::Billing {
                command: BillingCommand::Check,
            } => botpsicologo::billing_check_command(settings).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("botpsicologo: {message}");
            ExitCode::FAILURE
        }
    }
}
