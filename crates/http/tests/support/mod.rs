//! Starts the real server in-process on a random port, with its own database.

#![allow(dead_code)] // each test binary uses a different subset

use app::settings::Settings;
use persistence_sqlite::SqliteStore;
use std::net::SocketAddr;
use tokio::sync::oneshot;

pub struct TestServer {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub data_dir: std::path::PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub const ADMIN_EMAIL: &str = "admin@test.local";
pub const ADMIN_PASSWORD: &str = "admin-password-123";

pub fn settings(data_dir: &std::path::Path, extra: &str) -> Settings {
    Settings::with_overrides(&format!(
        "data_dir = {:?}\nadmin_email = {ADMIN_EMAIL:?}\nadmin_password = {ADMIN_PASSWORD:?}\n{extra}",
        data_dir.display().to_string()
    ))
    .expect("test settings")
}

impl TestServer {
    /// A server on SQLite in `data_dir` (created if needed).
    pub async fn sqlite(data_dir: &std::path::Path) -> TestServer {
        let settings = settings(data_dir, "");
        let store = SqliteStore::open(&data_dir.join("test.db").display().to_string())
            .await
            .expect("open sqlite");
        TestServer::start(store, settings).await
    }

    pub async fn start<S: domain::ports::Persistence>(store: S, settings: Settings) -> TestServer {
        let data_dir = settings.data_dir.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            botpsicologo::serve(store, settings, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("server");
        });
        let server = TestServer {
            addr,
            client: reqwest::Client::new(),
            data_dir,
            stop: Some(stop),
            task: Some(task),
        };
        for _ in 0..100 {
            if server
                .client
                .get(server.url("/healthz"))
                .send()
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("server did not start");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Graceful stop: waits for the server task to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }

    pub async fn token(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/token"))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    pub async fn bearer(&self, email: &str, password: &str) -> String {
        let response = self.token(email, password).await;
        assert_eq!(response.status(), 201, "sign in {email}");
        let body: serde_json::Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn me(&self, token: &str) -> reqwest::Response {
        self.client
            .get(self.url("/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

/// Sends a request and parses its JSON answer: the shape of most test calls.
pub trait FetchJson {
    fn fetch_json(self) -> impl std::future::Future<Output = serde_json::Value>;
}

impl FetchJson for reqwest::RequestBuilder {
    async fn fetch_json(self) -> serde_json::Value {
        self.send().await.unwrap().json().await.unwrap()
    }
}

/// Signs up an individual directly through the service (there is no public sign-up API yet).
pub async fn sign_up<S: domain::ports::Persistence>(
    state: &botpsicologo::state::AppState<S>,
    email: &str,
    password: &str,
    locale: domain::Locale,
) {
    state
        .accounts
        .sign_up(domain::services::accounts::NewAccount {
            email,
            password,
            display_name: "Pessoa",
            locale,
        })
        .await
        .expect("sign up");
}
