//! Closed-loop load: each connection sends a request, waits for the whole answer, and sends the
//! next, until the time is up. Latency is measured per request, from send to the last byte.

use crate::cpu::Cost;
use crate::servers::address_of;
use crate::stats::{Samples, Summary};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// What people say, in turn; Portuguese first, as the service's people do.
pub const MESSAGES: &[&str] = &[
    "Tenho dormido muito mal e acordo cansado, o que posso fazer para descansar melhor?",
    "Estou muito ansioso com as reuniões no trabalho e sinto o coração acelerar.",
    "Perdi minha avó há dois meses e ainda choro todos os dias. Isso é normal?",
    "I keep arguing with my partner about small things; how can I say what I need calmly?",
    "Meu chefe cobra demais e eu não consigo dizer não. Como lidar com isso?",
    "I feel stressed at work and can't switch off in the evenings.",
    "Como posso conversar com meu filho adolescente sem brigar?",
    "Sinto um aperto no peito antes de dormir e fico pensando em tudo que deu errado.",
];

/// The server allows 5 sign-ins per address and per account (then one a minute).
pub const SIGN_INS_PER_ACCOUNT: usize = 5;

/// Where the load goes.
pub enum Target {
    /// Our server: `POST {base}/api/v1/chat` as one of `tokens`' people.
    Chat { base: String, tokens: Vec<String> },
    /// Our server: `GET {base}/api/v1/me` as one of `tokens`' people.
    Me { base: String, tokens: Vec<String> },
    /// Our server: `POST {base}/api/v1/auth/token`, each attempt from a new loopback address
    /// (127.1.0.0 on) and as the next account with sign-ins left, so that no attempt meets the
    /// server's per-address or per-account sign-in limit.
    SignIn {
        base: String,
        emails: Vec<String>,
        attempts: AtomicU32,
    },
    /// The model server alone: `POST {base_url}/chat/completions` with `body`, streamed.
    Model { base_url: String, body: Value },
}

impl Target {
    pub fn sign_in(base: &str, emails: Vec<String>) -> Target {
        Target::SignIn {
            base: base.to_string(),
            emails,
            attempts: AtomicU32::new(0),
        }
    }

    /// A client for connection `index`: one keep-alive TCP connection, from the address of the
    /// person it speaks as (the server limits requests per address).
    pub fn client(&self, index: usize) -> reqwest::Client {
        let from = match self {
            Target::Chat { tokens, .. } | Target::Me { tokens, .. } => {
                Some(address_of(index % tokens.len()))
            }
            Target::SignIn { .. } | Target::Model { .. } => None,
        };
        client_from(from)
    }

    /// Sends request number `turn` of connection `index` and reads the whole answer.
    pub async fn send(
        &self,
        client: &reqwest::Client,
        index: usize,
        turn: usize,
    ) -> Result<(), String> {
        let request = match self {
            Target::Chat { base, tokens } => client
                .post(format!("{base}/api/v1/chat"))
                .bearer_auth(&tokens[index % tokens.len()])
                .json(&json!({ "message": MESSAGES[turn % MESSAGES.len()] })),
            Target::Me { base, tokens } => client
                .get(format!("{base}/api/v1/me"))
                .bearer_auth(&tokens[index % tokens.len()]),
            Target::SignIn {
                base,
                emails,
                attempts,
            } => {
                let n = attempts.fetch_add(1, Ordering::Relaxed);
                let Some(email) = emails.get(n as usize / SIGN_INS_PER_ACCOUNT) else {
                    return Err(format!(
                        "out of accounts: {} accounts allow {} sign-ins",
                        emails.len(),
                        emails.len() * SIGN_INS_PER_ACCOUNT
                    ));
                };
                let from = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 1, 0, 0)) + n);
                // A new client (hence a new connection) per attempt: it comes from a new address.
                client_from(Some(from.into()))
                    .post(format!("{base}/api/v1/auth/token"))
                    .json(&json!({ "email": email, "password": crate::servers::PASSWORD }))
            }
            Target::Model { base_url, body } => client
                .post(format!("{base_url}/chat/completions"))
                .bearer_auth("bench")
                .json(body),
        };
        let response = request.send().await.map_err(|e| format!("sending: {e}"))?;
        let status = response.status();
        match response.bytes().await {
            Ok(_) if status.is_success() => Ok(()),
            Ok(body) => Err(format!(
                "{status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            )),
            Err(e) => Err(format!("reading the body: {e}")),
        }
    }
}

fn client_from(address: Option<IpAddr>) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .local_address(address)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct LoadResult {
    pub connections: usize,
    pub ok: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    pub latency: Summary,
    /// What a request cost each watched process (filled in by the caller, which watches).
    pub cost: Cost,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Requests that succeeded (their latencies) and those that failed.
#[derive(Default)]
pub struct Tally {
    pub samples: Samples,
    pub errors: usize,
    pub first_error: Option<String>,
}

impl Tally {
    pub fn record(&mut self, outcome: Result<(), String>, latency: Duration) {
        match outcome {
            Ok(()) => self.samples.record(latency),
            Err(message) => {
                self.errors += 1;
                self.first_error.get_or_insert(message);
            }
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.samples.merge(other.samples);
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
    }
}

/// Runs `connections` loops against `target` for `duration`.
pub async fn run(target: Arc<Target>, connections: usize, duration: Duration) -> LoadResult {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|i| tokio::spawn(connection(target.clone(), i, deadline)))
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        match task.await {
            Ok(tally) => total.merge(tally),
            Err(e) => total.record(Err(format!("connection task failed: {e}")), Duration::ZERO),
        }
    }
    let elapsed = start.elapsed();
    LoadResult {
        connections,
        ok: total.samples.len(),
        errors: total.errors,
        first_error: total.first_error,
        elapsed,
        latency: total.samples.summary(),
        cost: Cost::default(),
    }
}

async fn connection(target: Arc<Target>, index: usize, deadline: Instant) -> Tally {
    let client = target.client(index);
    let mut out = Tally {
        samples: Samples::with_capacity(4096),
        ..Tally::default()
    };
    let mut turn = index;
    // At least one request, so a very short run checks that every connection works.
    loop {
        let sent = Instant::now();
        let outcome = target.send(&client, index, turn).await;
        out.record(outcome, sent.elapsed());
        turn += 1;
        if Instant::now() >= deadline {
            break;
        }
    }
    out
}
