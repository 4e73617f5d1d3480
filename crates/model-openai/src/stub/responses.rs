//! The HTTP answers the stub writes: refusals, whole JSON completions and streamed replies, cut
//! into chunks, delayed, stalled, dropped or fragmented as the reply asks.

use super::script::Reply;
use axum::body::{Body, Bytes};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::stream;
use serde_json::{Value, json};
use std::time::Duration;

/// Bytes per write when a reply is fragmented.
const FRAGMENT: usize = 16;
pub(super) fn refusal(code: u16, retry_after: Option<u64>, headers: &HeaderMap) -> Response {
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

pub(super) fn whole(text: &str, usage: Value) -> Response {
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
pub(super) fn streamed(reply: &Reply, text: &str, usage: Option<Value>) -> Response {
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
