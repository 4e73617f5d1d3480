//! Starts the real server in-process on a random port, with its own database.

pub mod chat;
pub mod crisis;
pub mod daemons;
pub mod db;
pub mod disk;
pub mod process;
pub mod stripe;

use app::settings::Settings;
use persistence_sqlite::SqliteStore;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use std::collections::BTreeMap;
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
        TestServer::sqlite_with(data_dir, "").await
    }

    /// A server on SQLite in `data_dir` with `extra` settings (TOML lines).
    pub async fn sqlite_with(data_dir: &std::path::Path, extra: &str) -> TestServer {
        let settings = settings(data_dir, extra);
        let store = SqliteStore::open(&data_dir.join("test.db").display().to_string())
            .await
            .expect("open sqlite");
        TestServer::start(store, settings).await
    }

    /// Serves `store` on a free port; `PUBLIC_URL` becomes that address, so links work.
    pub async fn start<S: domain::ports::Persistence>(
        store: S,
        mut settings: Settings,
    ) -> TestServer {
        let data_dir = settings.data_dir.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        settings.public_url = format!("http://{addr}");
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

    /// The body of an anonymous `GET path`.
    pub async fn get_text(&self, path: &str) -> String {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
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

/// A browser: keeps cookies, does not follow redirects (the tests look at them).
pub struct Browser<'a> {
    pub server: &'a TestServer,
    pub client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(server: &'a TestServer) -> Self {
        Browser {
            server,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(self.server.url(path))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        (response.status(), response.text().await.unwrap())
    }

    /// Posts a form; returns the status and where it redirects to (if it does).
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let response = self
            .client
            .post(self.server.url(path))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        let location = response
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_string());
        let status = response.status();
        let body = response.text().await.unwrap();
        (status, location.unwrap_or(body))
    }

    /// The CSRF token the page at `path` embeds in its forms.
    pub async fn csrf(&mut self, path: &str) -> String {
        let (_, html) = self.get(path).await;
        csrf_in(&html)
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> (StatusCode, String) {
        let token = self.csrf("/signin").await;
        self.post(
            "/signin",
            &[("csrf", &token), ("email", email), ("password", password)],
        )
        .await
    }
}

pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form with a csrf field") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}
