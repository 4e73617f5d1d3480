//! Closed-loop load: each connection sends a turn, waits for the whole answer, and sends the
//! next, until the time is up. Latency is measured per request, from send to the last byte.

use crate::stats::{Samples, Summary};
use serde_json::{Value, json};
use std::sync::Arc;
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

/// Where the load goes.
pub enum Target {
    /// Our server: `POST {base}/api/v1/chat` as one of `tokens`' people.
    Server { base: String, tokens: Vec<String> },
    /// The model server alone: `POST {base_url}/chat/completions` with `body`, streamed.
    Model { base_url: String, body: Value },
}

#[derive(Debug, Clone)]
pub struct LoadResult {
    pub connections: usize,
    pub ok: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    pub latency: Summary,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

struct Connection {
    samples: Samples,
    errors: usize,
    first_error: Option<String>,
}

/// Runs `connections` loops against `target` for `duration`.
pub async fn run(target: Arc<Target>, connections: usize, duration: Duration) -> LoadResult {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|i| tokio::spawn(connection(target.clone(), i, deadline)))
        .collect();
    let mut samples = Samples::default();
    let (mut errors, mut first_error) = (0, None);
    for task in tasks {
        match task.await {
            Ok(c) => {
                samples.merge(c.samples);
                errors += c.errors;
                first_error = first_error.or(c.first_error);
            }
            Err(e) => {
                errors += 1;
                first_error = first_error.or(Some(format!("connection task failed: {e}")));
            }
        }
    }
    let elapsed = start.elapsed();
    LoadResult {
        connections,
        ok: samples.len(),
        errors,
        first_error,
        elapsed,
        latency: samples.summary(),
    }
}

async fn connection(target: Arc<Target>, index: usize, deadline: Instant) -> Connection {
    // One client per loop, holding at most one idle connection: one keep-alive TCP connection.
    let mut client = reqwest::Client::builder().pool_max_idle_per_host(1);
    if let Target::Server { tokens, .. } = target.as_ref() {
        client = client.local_address(crate::servers::address_of(index % tokens.len()));
    }
    let client = client
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let mut out = Connection {
        samples: Samples::with_capacity(4096),
        errors: 0,
        first_error: None,
    };
    let mut turn = index;
    // At least one turn, so a very short run checks that every connection works.
    loop {
        let request = match target.as_ref() {
            Target::Server { base, tokens } => client
                .post(format!("{base}/api/v1/chat"))
                .bearer_auth(&tokens[index % tokens.len()])
                .json(&json!({ "message": MESSAGES[turn % MESSAGES.len()] })),
            Target::Model { base_url, body } => client
                .post(format!("{base_url}/chat/completions"))
                .bearer_auth("bench")
                .json(body),
        };
        turn += 1;
        let sent = Instant::now();
        let outcome = match request.send().await {
            Ok(response) => {
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
            Err(e) => Err(format!("sending: {e}")),
        };
        match outcome {
            Ok(()) => out.samples.record(sent.elapsed()),
            Err(message) => {
                out.errors += 1;
                out.first_error.get_or_insert(message);
            }
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    out
}
