//! localstripe (a stateful fake Stripe server from PyPI, see `TOOLS.md`) started on 127.0.0.1
//! for tests, with the set-up calls tests need that the product itself never makes.

use serde::Serialize;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running localstripe, stopped when dropped.
pub struct LocalStripe {
    child: Child,
    /// What to pass as the API base (`http://127.0.0.1:PORT/`).
    pub base_url: String,
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Serialize)]
struct NewPlan<'a> {
    id: &'a str,
    amount: i64,
    currency: &'a str,
    interval: &'a str,
    product: NewProduct<'a>,
}

#[derive(Serialize)]
struct NewProduct<'a> {
    name: &'a str,
}

impl LocalStripe {
    /// Starts localstripe through Python with an explicit host (its own command listens on every
    /// interface). `None` when it is not installed and the run may skip (never under `CI=true`).
    pub async fn start() -> Option<LocalStripe> {
        let installed = Command::new("python3")
            .args(["-c", "import localstripe"])
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "localstripe is not installed (pip install localstripe; see TOOLS.md)"
            );
            eprintln!("SKIPPED: localstripe is not installed (pip install localstripe)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let script = format!(
            "from aiohttp import web\nimport localstripe.server as s\n\
             web.run_app(s.app, host='127.0.0.1', port={port}, print=None)"
        );
        let child = Command::new("python3")
            .args(["-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start localstripe");
        let server = LocalStripe {
            child,
            base_url: format!("http://127.0.0.1:{port}/"),
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("localstripe did not start");
    }

    /// Creates a recurring price (a plan, the only kind localstripe has) with its product, as an
    /// operator does in the Stripe dashboard before configuring its id.
    pub async fn create_plan(&self, id: &str, interval: &str, currency: &str) {
        let client = stripe::Client::from_url(self.base_url.as_str(), "sk_test_local");
        let plan = NewPlan {
            id,
            amount: 2_990,
            currency,
            interval,
            product: NewProduct { name: id },
        };
        client
            .post_form::<serde_json::Value, _>("/plans", &plan)
            .await
            .expect("localstripe creates the plan");
    }
}
