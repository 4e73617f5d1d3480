//! The processes under test: the stub model server (in its own runtime and threads), and the
//! `botpsicologo` release binary on SQLite or on MySQL + Redis, with people to sign in as.

use app::crypto::Argon2Hasher;
use domain::ports::PasswordHasher;
use model_openai::stub::{Reply, StubServer};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

mod database;
mod people;

pub use database::{Database, mysql_status};
use people::*;
pub use people::{address_of, emails, sign_in};

pub type BenchResult<T> = Result<T, String>;

/// The model's answer to every turn: about 90 words.
const REPLY: &str = "Sinto muito que você esteja passando por isso. O que você descreve é comum \
    quando o corpo e a mente ficam em alerta por muito tempo. Algumas coisas costumam ajudar: \
    manter horários regulares para dormir e acordar, reduzir telas e cafeína à noite, e reservar \
    alguns minutos para anotar as preocupações antes de deitar. A respiração lenta, soltando o ar \
    devagar, também acalma. Se quiser, podemos pensar juntos no que mais pesa para você agora. \
    E se o sofrimento ficar forte demais, procure um profissional de saúde.";

pub const PASSWORD: &str = "bench-password-2026";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The stub model server, on a runtime of its own so that the load generator's tasks do not
/// share its workers (they still share the machine's cores, like every process here).
pub struct Model {
    pub server: Arc<StubServer>,
    _runtime: std::thread::JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Model {
    /// The reply as one JSON answer (even to a streaming request): one write per request.
    pub fn json() -> BenchResult<Model> {
        Model::start(Reply::json(REPLY))
    }

    /// The reply streamed in 12 chunks, as a real model server sends it.
    pub fn streamed() -> BenchResult<Model> {
        Model::start(Reply::text(REPLY).chunks(12))
    }

    fn start(reply: Reply) -> BenchResult<Model> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                let server = Arc::new(StubServer::start(reply).await);
                let _ = ready_tx.send(Ok(server));
                let _ = stopped.await;
            });
        });
        let server = ready_rx
            .recv()
            .map_err(|e| format!("the stub model server did not start: {e}"))??;
        Ok(Model {
            server,
            _runtime: thread,
            stop: Some(stop),
        })
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MysqlRedis,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite, in-process limiter",
            Backend::MysqlRedis => "MySQL (MariaDB) + Redis",
        }
    }

    /// A short name for databases, directories and command-line flags.
    pub fn tag(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::MysqlRedis => "mysql",
        }
    }
}
/// A running `botpsicologo serve`; killed when dropped.
pub struct Server {
    pub base: String,
    child: Child,
    pub log: PathBuf,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How to run the server binary against one database.
pub struct ServerSetup {
    pub binary: PathBuf,
    pub root: PathBuf,
    pub data: TempDir,
    pub config: PathBuf,
    pub model_url: String,
    pub database: Database,
    pub port: u16,
}

impl ServerSetup {
    pub fn new(
        binary: &Path,
        root: &Path,
        model_url: &str,
        database: Database,
        data: TempDir,
    ) -> BenchResult<ServerSetup> {
        let config = data.path().join("bench.toml");
        std::fs::write(&config, plans_toml(root)?).map_err(|e| e.to_string())?;
        Ok(ServerSetup {
            binary: binary.to_path_buf(),
            root: root.to_path_buf(),
            config,
            model_url: model_url.to_string(),
            database,
            port: free_port()?,
            data,
        })
    }

    fn command(&self, args: &[&str], log: &Path) -> BenchResult<Command> {
        let log_file = std::fs::File::create(log).map_err(|e| e.to_string())?;
        let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.binary);
        cmd.args(args)
            .current_dir(&self.root)
            .env("BIND_ADDR", format!("127.0.0.1:{}", self.port))
            .env("DATA_DIR", self.data.path().join("data"))
            .env("DATABASE_URL", &self.database.url)
            .env("REDIS_URL", &self.database.redis)
            .env("CONFIG_FILE", &self.config)
            .env("ADMIN_EMAIL", "admin@bench.local")
            .env("ADMIN_PASSWORD", PASSWORD)
            .env("DEMO_PASSWORD", PASSWORD)
            .env("LLM_BASE_URL", &self.model_url)
            .env("LLM_MODEL", "stub-model")
            .env("MAX_OUTPUT_TOKENS", "800")
            .env("CHAT_MESSAGES_PER_MINUTE", "1000000")
            // Every person comes from an address of their own (see `address_of`); the per-IP
            // request limit would otherwise cap a loopback run at its per-minute quota. Not
            // higher: above 60,000,000 a minute the interval between requests rounds to 0 µs,
            // which the Redis limiter rejects, and the server answers 503 to everything.
            .env("IP_REQUESTS_PER_MINUTE", "10000000")
            .env(
                "REDIS_KEY_PREFIX",
                format!("bench{}:rl", std::process::id()),
            )
            .env("LOG_LEVEL", "warn")
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file);
        Ok(cmd)
    }

    /// `botpsicologo seed-demo`, then individuals with these e-mails inserted through the store.
    pub async fn seed(&self, emails: &[String]) -> BenchResult<()> {
        let log = self.data.path().join("seed.log");
        let status = self
            .command(&["seed-demo"], &log)?
            .status()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        if !status.success() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!("seed-demo failed with {status}: {text}"));
        }
        let hash = Argon2Hasher
            .hash(PASSWORD.to_string())
            .await
            .map_err(|e| e.to_string())?;
        if self.database.mysql_name.is_some() {
            let store = persistence_mysql::MysqlStore::open(&self.database.url, 2)
                .await
                .map_err(|e| e.to_string())?;
            insert_people(&store, emails, &hash).await?;
        } else {
            let store = persistence_sqlite::SqliteStore::open(&self.database.url)
                .await
                .map_err(|e| e.to_string())?;
            insert_people(&store, emails, &hash).await?;
        }
        Ok(())
    }

    /// Starts `serve` and waits until `/readyz` answers.
    pub async fn start(&self) -> BenchResult<Server> {
        let log = self.data.path().join("serve.log");
        let child = self
            .command(&["serve"], &log)?
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        let mut server = Server {
            base: format!("http://127.0.0.1:{}", self.port),
            child,
            log,
        };
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if let Ok(Some(status)) = server.child.try_wait() {
                let text = std::fs::read_to_string(&server.log).unwrap_or_default();
                return Err(format!("the server exited with {status}: {text}"));
            }
            let ready = client
                .get(format!("{}/readyz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // The log lives in a temporary directory that goes away with the run: quote its end.
        let text = std::fs::read_to_string(&server.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        Err(format!(
            "the server did not get ready in 120 s; its log ends with: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ))
    }
}

/// A server started on a fresh database of its own.
pub struct Running {
    pub setup: ServerSetup,
    pub server: Server,
    /// The bearer tokens of the people signed in at start.
    pub tokens: Vec<String>,
}

impl Running {
    /// Seeds `signed_in` and `others`, starts the server on `backend` and signs `signed_in` in
    /// (each from their own address). The database is dropped again if anything fails.
    pub async fn start(
        binary: &Path,
        root: &Path,
        model_url: &str,
        backend: Backend,
        dir: &Path,
        signed_in: &[String],
        others: &[String],
    ) -> BenchResult<Running> {
        let data = tempfile::Builder::new()
            .prefix(backend.tag())
            .tempdir_in(dir)
            .map_err(|e| e.to_string())?;
        let database = Database::create(backend, data.path(), backend.tag()).await?;
        let setup = ServerSetup::new(binary, root, model_url, database, data)?;
        let started = async {
            let everyone: Vec<String> = signed_in.iter().chain(others).cloned().collect();
            setup.seed(&everyone).await?;
            let server = setup.start().await?;
            let tokens = sign_in(&server.base, signed_in).await?;
            Ok((server, tokens))
        }
        .await;
        match started {
            Ok((server, tokens)) => Ok(Running {
                setup,
                server,
                tokens,
            }),
            Err(e) => {
                setup.database.drop_it().await;
                Err(e)
            }
        }
    }

    /// Stops the server and drops its database.
    pub async fn stop(self) {
        drop(self.server);
        self.setup.database.drop_it().await;
    }
}
/// The `[plans]` section of `config/default.toml` with allowances nobody reaches in a run.
fn plans_toml(root: &Path) -> BenchResult<String> {
    let default = std::fs::read_to_string(root.join("config/default.toml"))
        .map_err(|e| format!("config/default.toml: {e}"))?;
    let mut out = String::new();
    let mut in_plans = false;
    for line in default.lines() {
        if line.starts_with('[') {
            in_plans = line.starts_with("[plans]") || line.starts_with("[[plans.");
        }
        if !in_plans {
            continue;
        }
        let key = line.split('=').next().unwrap_or("").trim();
        if key == "monthly_tokens" || key == "tokens_per_seat" {
            out.push_str(&format!("{key} = 1000000000\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

fn free_port() -> BenchResult<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}
