//! The real server binary as a child process, for the tests that kill it with SIGKILL: no
//! shutdown code of ours runs, exactly as when a machine dies.

use super::{ADMIN_EMAIL, ADMIN_PASSWORD};
use app::settings::Settings;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct ServerProcess {
    pub base: String,
    env: Vec<(String, String)>,
    dir: PathBuf,
    child: Option<Child>,
}

impl ServerProcess {
    /// The environment a server in `dir` on a free port runs with, plus `extra` (`KEY`, value).
    pub fn new(dir: &Path, extra: &[(&str, String)]) -> ServerProcess {
        let port = free_port();
        let mut env = vec![
            ("BIND_ADDR".to_string(), format!("127.0.0.1:{port}")),
            ("DATA_DIR".to_string(), dir.display().to_string()),
            ("ADMIN_EMAIL".to_string(), ADMIN_EMAIL.to_string()),
            ("ADMIN_PASSWORD".to_string(), ADMIN_PASSWORD.to_string()),
        ];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        ServerProcess {
            base: format!("http://127.0.0.1:{port}"),
            env,
            dir: dir.to_path_buf(),
            child: None,
        }
    }

    /// The same configuration as in-process settings (to prepare the database beforehand).
    pub fn settings(&self) -> Settings {
        let overrides: String = self
            .env
            .iter()
            .filter(|(k, _)| k != "BIND_ADDR")
            .map(|(k, v)| match v.parse::<u64>() {
                Ok(n) => format!("{} = {n}\n", k.to_lowercase()),
                Err(_) => format!("{} = {v:?}\n", k.to_lowercase()),
            })
            .collect();
        Settings::with_overrides(&overrides).expect("settings of the server process")
    }

    /// Starts the binary and waits until `/healthz` answers.
    pub async fn start(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_botpsicologo"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the server");
        self.child = Some(child);
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if client
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server process did not start");
    }

    /// SIGKILL, then waits for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap the server");
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
