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

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use domain::model::ChatTurn;
use domain::ports::TokenCounter;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::CachedTokenCounter;

mod responses;
mod script;

use responses::{refusal, streamed, whole};
pub use script::{Behaviour, Reply};
use script::{Kind, Script};

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
