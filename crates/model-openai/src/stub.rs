//! An in-process OpenAI-compatible server with scripted replies, for tests and benchmarks.
//!
//! ```no_run
//! # async fn demo() {
//! use model_openai::stub::{Reply, StubServer};
//! use std::time::Duration;
//! // Two 429s, then a reply streamed in three chunks.
//! let server = StubServer::start(vec![
//!     Reply::status(429).retry_after(0),
//!     Reply::status(429).retry_after(0),
//!     Reply::text("Olá, como posso ajudar?").chunks(3),
//! ])
//! .await;
//! let config = model_openai::OpenAiConfig::new(&server.base_url, "stub-model");
//! // … drive an OpenAiModel built from `config`, then:
//! assert_eq!(server.requests(), 3);
//! # }
//! ```
//!
//! The i-th request gets the i-th reply of the script; once the script runs out its last reply
//! repeats. A reply without delays answers at once (what benchmarks want).
//!
//! Risk classification requests (those with a `response_format`) follow a script of their own,
//! [`Behaviour::classifications`], and are counted apart ([`StubServer::classifications`]), so
//! they never shift the chat script; each gets one JSON `chat.completion`, by default the verdict
//! "no risk".
//!
//! ```no_run
//! # async fn demo() {
//! use model_openai::stub::{Behaviour, Reply, StubServer};
//! use std::time::Duration;
//! let server = StubServer::start(
//!     Behaviour::from(Reply::text("Estou aqui com você."))
//!         .classifications(vec![Reply::verdict(true, false).delay_first(Duration::from_secs(3))]),
//! )
//! .await;
//! # }
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use domain::model::{ChatTurn, RiskVerdict};
use domain::ports::TokenCounter;
use futures::stream;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::CachedTokenCounter;

/// Bytes per write when a reply is fragmented.
const FRAGMENT: usize = 16;

/// What the stub does with one request.
#[derive(Debug, Clone)]
pub struct Reply {
    kind: Kind,
    chunks: usize,
    usage: bool,
    first_delay: Duration,
    stall: Option<(usize, Duration)>,
    drop_after: Option<usize>,
    fragmented: bool,
    retry_after: Option<u64>,
}

#[derive(Debug, Clone)]
enum Kind {
    Text(String),
    Json(String),
    Status(u16),
}

impl Reply {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            chunks: 1,
            usage: true,
            first_delay: Duration::ZERO,
            stall: None,
            drop_after: None,
            fragmented: false,
            retry_after: None,
        }
    }

    /// Streams `text` as server-sent events (in one chunk unless [`Reply::chunks`] says more),
    /// then a usage chunk and `[DONE]`. Usage: prompt tokens are the request's messages counted
    /// with [`TokenCounter::count_request`], completion tokens are `text` counted.
    /// A request with `"stream": false` gets the same text as one JSON answer.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(Kind::Text(text.into()))
    }

    /// Answers `text` as one non-streamed JSON `chat.completion`, even to a streaming request.
    pub fn json(text: impl Into<String>) -> Self {
        Self::new(Kind::Json(text.into()))
    }

    /// A classification answer: a JSON `chat.completion` whose content is this verdict.
    pub fn verdict(risk: bool, imminent: bool) -> Self {
        let verdict = RiskVerdict { risk, imminent };
        Self::json(serde_json::to_string(&verdict).expect("a verdict serializes"))
    }

    /// Answers with this HTTP status and an OpenAI-style error body that echoes the bearer
    /// token, as careless servers do, so tests can check that the key never leaks further.
    pub fn status(code: u16) -> Self {
        Self::new(Kind::Status(code))
    }

    /// Splits the text into `n` deltas of about equal length (at most one per character).
    pub fn chunks(mut self, n: usize) -> Self {
        self.chunks = n.max(1);
        self
    }

    /// Reports no usage (like a server that ignores `stream_options`).
    pub fn without_usage(mut self) -> Self {
        self.usage = false;
        self
    }

    /// Waits this long before the first delta (or before answering, for JSON and statuses).
    pub fn delay_first(mut self, delay: Duration) -> Self {
        self.first_delay = delay;
        self
    }

    /// Waits this long after `chunks` deltas, then goes on.
    pub fn stall_after(mut self, chunks: usize, delay: Duration) -> Self {
        self.stall = Some((chunks, delay));
        self
    }

    /// Breaks the connection after `chunks` deltas, without `[DONE]`.
    pub fn drop_after(mut self, chunks: usize) -> Self {
        self.drop_after = Some(chunks);
        self
    }

    /// Writes the event stream a few bytes at a time, so events (and characters) arrive split
    /// across reads.
    pub fn fragmented(mut self) -> Self {
        self.fragmented = true;
        self
    }

    /// Adds a `Retry-After: secs` header (to status replies).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
}

/// A script of replies, one per request; see the module docs.
#[derive(Debug, Clone)]
pub struct Behaviour {
    replies: Vec<Reply>,
    classifications: Vec<Reply>,
}

impl Behaviour {
    /// The script of classification requests, one reply per request like the chat script: a
    /// [`Reply::verdict`], a [`Reply::status`], or any other text (a malformed verdict), each
    /// with [`Reply::delay_first`] if wanted. An empty script answers "no risk".
    pub fn classifications(mut self, replies: Vec<Reply>) -> Self {
        self.classifications = if replies.is_empty() {
            vec![Reply::verdict(false, false)]
        } else {
            replies
        };
        self
    }
}

impl From<Reply> for Behaviour {
    fn from(reply: Reply) -> Self {
        Self {
            replies: vec![reply],
            classifications: vec![Reply::verdict(false, false)],
        }
    }
}

impl From<Vec<Reply>> for Behaviour {
    /// An empty script answers every request with `Reply::text("ok")`.
    fn from(replies: Vec<Reply>) -> Self {
        if replies.is_empty() {
            return Reply::text("ok").into();
        }
        Self {
            replies,
            ..Reply::text("ok").into()
        }
    }
}

/// One script of replies, with how many requests it served and the latest one.
struct Script {
    replies: Vec<Reply>,
    served: AtomicUsize,
    last: Mutex<Option<Value>>,
}

impl Script {
    fn new(replies: Vec<Reply>) -> Self {
        Self {
            replies,
            served: AtomicUsize::new(0),
            last: Mutex::new(None),
        }
    }

    /// The reply for the next request.
    fn next(&self) -> Reply {
        let n = self.served.fetch_add(1, Ordering::SeqCst);
        self.replies[n.min(self.replies.len() - 1)].clone()
    }

    fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }

    fn keep(&self, request: &Value) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(request.clone());
        }
    }

    fn last(&self) -> Option<Value> {
        self.last.lock().ok()?.clone()
    }
}

struct Shared {
    chat: Script,
    classifier: Script,
    // Cached: the same history and sources come back with every turn, and the stub shares the
    // cores with the server it stands in front of (a benchmark's numbers include its cost).
    counter: CachedTokenCounter,
}

/// A running stub on `127.0.0.1` and a free port; it stops when dropped.
pub struct StubServer {
    /// The API root to configure the adapter with, e.g. `http://127.0.0.1:40123/v1`.
    pub base_url: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl StubServer {
    /// Starts serving `POST /v1/chat/completions` on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// If no local port can be bound: a test setup failure.
    pub async fn start(behaviour: impl Into<Behaviour>) -> Self {
        let behaviour = behaviour.into();
        let shared = Arc::new(Shared {
            chat: Script::new(behaviour.replies),
            classifier: Script::new(behaviour.classifications),
            counter: CachedTokenCounter::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port for the stub model server");
        let address = listener.local_addr().expect("the stub's local address");
        let router = Router::new()
            .route("/v1/chat/completions", post(answer))
            .with_state(shared.clone());
        // TCP_NODELAY like a real model server: streamed replies are not held back by Nagle.
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            base_url: format!("http://{address}/v1"),
            shared,
            task,
        }
    }

    /// How many chat requests reached the stub so far (classification requests not included).
    pub fn requests(&self) -> usize {
        self.shared.chat.served()
    }

    /// The JSON body of the latest chat request, if any arrived.
    pub fn last_request(&self) -> Option<Value> {
        self.shared.chat.last()
    }

    /// How many classification requests (with a `response_format`) reached the stub so far.
    pub fn classifications(&self) -> usize {
        self.shared.classifier.served()
    }

    /// The JSON body of the latest classification request, if any arrived.
    pub fn last_classification(&self) -> Option<Value> {
        self.shared.classifier.last()
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let request = serde_json::from_slice::<Value>(&body);
    let classifying = request
        .as_ref()
        .is_ok_and(|r| !r["response_format"].is_null());
    let script = if classifying {
        &shared.classifier
    } else {
        &shared.chat
    };
    let reply = script.next();
    let Ok(request) = request else {
        return (StatusCode::BAD_REQUEST, "the body is not JSON").into_response();
    };
    script.keep(&request);
    let Ok(messages) = serde_json::from_value::<Vec<ChatTurn>>(request["messages"].clone()) else {
        return (StatusCode::BAD_REQUEST, "messages are missing or malformed").into_response();
    };
    let text = match &reply.kind {
        Kind::Status(code) => {
            tokio::time::sleep(reply.first_delay).await;
            return refusal(*code, reply.retry_after, &headers);
        }
        Kind::Text(text) | Kind::Json(text) => text.clone(),
    };
    let (prompt, completion) = (
        shared.counter.count_request(&messages),
        shared.counter.count(&text),
    );
    let usage = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    });
    let usage = if reply.usage { usage } else { Value::Null };
    if classifying || matches!(reply.kind, Kind::Json(_)) || request["stream"] != true {
        tokio::time::sleep(reply.first_delay).await;
        return whole(&text, usage);
    }
    let usage_requested = request["stream_options"]["include_usage"] == true;
    streamed(&reply, &text, usage_requested.then_some(usage))
}

fn refusal(code: u16, retry_after: Option<u64>, headers: &HeaderMap) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let credentials = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("nothing");
    let body = json!({ "error": {
        "message": format!("stub refusal {code}; you sent {credentials}"),
        "type": "stub_error",
    }});
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(secs) = retry_after {
        response.headers_mut().insert(RETRY_AFTER, secs.into());
    }
    response
}

fn whole(text: &str, usage: Value) -> Response {
    axum::Json(json!({
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": text }, "finish_reason": "stop" }],
        "usage": usage,
    }))
    .into_response()
}

/// One step of a streamed reply.
enum Step {
    Send(Bytes),
    Sleep(Duration),
    Break,
}

/// `usage`: `None` when the client did not ask for it; `Some(Null)` when the reply withholds it.
fn streamed(reply: &Reply, text: &str, usage: Option<Value>) -> Response {
    // OpenAI sends `"usage": null` on every chunk but the last once usage is requested.
    let chunk = |delta: Value, finish: Value| {
        let mut chunk = json!({
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
        });
        if usage.is_some() {
            chunk["usage"] = Value::Null;
        }
        event(&chunk)
    };
    let mut steps = vec![
        Step::Send(Bytes::from_static(b": keep-alive\n\n")),
        Step::Sleep(reply.first_delay),
        Step::Send(chunk(
            json!({ "role": "assistant", "content": "" }),
            Value::Null,
        )),
    ];
    for (i, piece) in split(text, reply.chunks).into_iter().enumerate() {
        if reply.drop_after == Some(i) {
            // The pause lets hyper flush what came before, as a real network would deliver it.
            steps.push(Step::Sleep(Duration::from_millis(20)));
            steps.push(Step::Break);
        }
        if let Some((after, delay)) = reply.stall
            && after == i
        {
            steps.push(Step::Sleep(delay));
        }
        steps.push(Step::Send(chunk(json!({ "content": piece }), Value::Null)));
    }
    steps.push(Step::Send(chunk(json!({}), json!("stop"))));
    if let Some(usage) = usage.filter(|u| !u.is_null()) {
        steps.push(Step::Send(event(
            &json!({ "id": "chatcmpl-stub", "choices": [], "usage": usage }),
        )));
    }
    steps.push(Step::Send(Bytes::from_static(b"data: [DONE]\n\n")));
    if reply.fragmented {
        steps = fragment(steps);
    }
    let body = stream::unfold(steps.into_iter(), |mut steps| async move {
        loop {
            match steps.next()? {
                Step::Send(bytes) => return Some((Ok(bytes), steps)),
                Step::Sleep(delay) => tokio::time::sleep(delay).await,
                Step::Break => {
                    let broken =
                        std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "stub drop");
                    // Nothing follows the break: the connection is gone.
                    return Some((Err(broken), Vec::new().into_iter()));
                }
            }
        }
    });
    (
        [(CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(body),
    )
        .into_response()
}

fn event(chunk: &Value) -> Bytes {
    Bytes::from(format!("data: {chunk}\n\n"))
}

/// `text` in `n` pieces of about equal length, cut at character boundaries.
fn split(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let size = chars.len().div_ceil(n.min(chars.len()));
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// Cuts every write into small pieces with a pause between them, so they arrive as separate
/// reads; the cuts fall anywhere, including inside a multi-byte character.
fn fragment(steps: Vec<Step>) -> Vec<Step> {
    let mut out = Vec::new();
    for step in steps {
        match step {
            Step::Send(bytes) => {
                for start in (0..bytes.len()).step_by(FRAGMENT) {
                    out.push(Step::Send(
                        bytes.slice(start..(start + FRAGMENT).min(bytes.len())),
                    ));
                    out.push(Step::Sleep(Duration::from_millis(1)));
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn split_keeps_characters_and_order() {
        assert_eq!(split("ação", 2), vec!["aç", "ão"]);
        assert_eq!(split("abc", 10), vec!["a", "b", "c"]);
        assert_eq!(split("abcde", 2), vec!["abc", "de"]);
        assert!(split("", 3).is_empty());
    }
}
