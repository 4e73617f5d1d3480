//! Private MariaDB and Redis servers on free ports, for the fault tests that stop and restart
//! them: the shared servers the other tests use must keep running.

use super::process::free_port;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether `program` is installed; a missing one skips the test loudly, or fails it under CI.
fn available(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null")])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(!in_ci(), "{program} is not installed under CI=true");
        eprintln!("SKIPPED: {program} is not installed");
    }
    found
}

async fn wait_for_port(port: u16, up: bool) {
    for _ in 0..600 {
        let open = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        if open == up {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "port {port} did not become {}",
        if up { "open" } else { "closed" }
    );
}

/// A server process of a test's own on `port`: started by a command, stopped cleanly.
struct Daemon {
    port: u16,
    child: Option<Child>,
}

impl Daemon {
    async fn start(&mut self, command: &mut Command) {
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the daemon");
        self.child = Some(child);
        wait_for_port(self.port, true).await;
    }

    /// Stops the server cleanly (SIGTERM, as a service manager does) and waits until its port
    /// is closed.
    async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            child.wait().expect("wait for the daemon");
        }
        wait_for_port(self.port, false).await;
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A MariaDB server of our own, in a temporary data directory.
pub struct PrivateMysql {
    daemon: Daemon,
    dir: tempfile::TempDir,
}

impl PrivateMysql {
    /// Installs and starts a server, or `None` when MariaDB is not installed (outside CI).
    pub async fn start() -> Option<PrivateMysql> {
        if !available("mariadbd") || !available("mariadb-install-db") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let installed = Command::new("mariadb-install-db")
            .args(["--no-defaults", "--user=root", "--skip-test-db"])
            .arg(format!("--datadir={}", dir.path().join("data").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("mariadb-install-db");
        assert!(installed.success(), "mariadb-install-db failed");
        let mut server = PrivateMysql {
            daemon: Daemon {
                port: free_port(),
                child: None,
            },
            dir,
        };
        server.start_again().await;
        let created = Command::new("mariadb")
            .args(["-h127.0.0.1", "-uroot", "-e", "CREATE DATABASE bp"])
            .arg(format!("-P{}", server.daemon.port))
            .status()
            .expect("mariadb client");
        assert!(created.success(), "CREATE DATABASE failed");
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}/bp", self.daemon.port)
    }

    /// Starts the server on its data directory and waits until it accepts connections.
    pub async fn start_again(&mut self) {
        let dir: &Path = self.dir.path();
        let mut command = Command::new("mariadbd");
        command
            .args([
                "--no-defaults",
                "--user=root",
                "--bind-address=127.0.0.1",
                // No accounts to manage: the server is private to the test.
                "--skip-grant-tables",
                "--innodb-buffer-pool-size=32M",
            ])
            .arg(format!("--port={}", self.daemon.port))
            .arg(format!("--datadir={}", dir.join("data").display()))
            .arg(format!("--socket={}", dir.join("sock").display()))
            .arg(format!("--pid-file={}", dir.join("pid").display()));
        self.daemon.start(&mut command).await;
    }

    pub async fn stop(&mut self) {
        self.daemon.stop().await;
    }
}

/// A Redis server of our own, in memory only.
pub struct PrivateRedis {
    daemon: Daemon,
}

impl PrivateRedis {
    pub async fn start() -> Option<PrivateRedis> {
        if !available("redis-server") {
            return None;
        }
        let mut server = PrivateRedis {
            daemon: Daemon {
                port: free_port(),
                child: None,
            },
        };
        server.start_again().await;
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.daemon.port)
    }

    pub async fn start_again(&mut self) {
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--port", &self.daemon.port.to_string()]);
        self.daemon.start(&mut command).await;
    }

    pub async fn stop(&mut self) {
        self.daemon.stop().await;
    }
}
