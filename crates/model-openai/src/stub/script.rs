//! The stub's behaviour: the replies it is scripted with and the scripts that hand them out,
//! one request at a time.

use domain::model::RiskVerdict;
use serde_json::Value;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What the stub does with one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub(super) kind: Kind,
    pub(super) chunks: usize,
    pub(super) usage: bool,
    pub(super) first_delay: Duration,
    pub(super) stall: Option<(usize, Duration)>,
    pub(super) drop_after: Option<usize>,
    pub(super) fragmented: bool,
    pub(super) retry_after: Option<u64>,
}

#[derive(Debug, Clone)]
pub(super) enum Kind {
    Text(String),
    Json(String),
    Status(u16),
}

impl Reply {
    pub(super) fn new(kind: Kind) -> Self {
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
    pub(super) replies: Vec<Reply>,
    pub(super) classifications: Vec<Reply>,
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
pub(super) struct Script {
    pub(super) replies: Vec<Reply>,
    pub(super) served: AtomicUsize,
    pub(super) last: Mutex<Option<Value>>,
}

impl Script {
    pub(super) fn new(replies: Vec<Reply>) -> Self {
        Self {
            replies,
            served: AtomicUsize::new(0),
            last: Mutex::new(None),
        }
    }

    /// The reply for the next request.
    pub(super) fn next(&self) -> Reply {
        let n = self.served.fetch_add(1, Ordering::SeqCst);
        self.replies[n.min(self.replies.len() - 1)].clone()
    }

    pub(super) fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }

    pub(super) fn keep(&self, request: &Value) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(request.clone());
        }
    }

    pub(super) fn last(&self) -> Option<Value> {
        self.last.lock().ok()?.clone()
    }
}
