//! Turns a streamed HTTP body into model events, with the idle timeout between pieces.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use domain::model::{ModelError, ModelEvent, ModelStream, ModelUsage};
use futures::stream::{self, BoxStream, StreamExt};

use crate::sse::{SseEvent, SseParser};
use crate::wire::{self, Completion};

/// Reads events from one response body. After an error or `Done` it yields nothing more.
pub(crate) struct ReplyReader {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    parser: SseParser,
    pending: VecDeque<SseEvent>,
    usage: Option<ModelUsage>,
    body_ended: bool,
    finished: bool,
    api_key: Option<String>,
}

impl ReplyReader {
    pub fn new(body: BoxStream<'static, reqwest::Result<Bytes>>, api_key: Option<String>) -> Self {
        Self {
            body,
            parser: SseParser::default(),
            pending: VecDeque::new(),
            usage: None,
            body_ended: false,
            finished: false,
            api_key,
        }
    }

    /// The next event; `None` once the reply is over.
    pub async fn next_event(&mut self) -> Option<Result<ModelEvent, ModelError>> {
        while !self.finished {
            while let Some(event) = self.pending.pop_front() {
                match self.interpret(event) {
                    Ok(None) => {}
                    Ok(Some(event)) => {
                        self.finished = matches!(event, ModelEvent::Done { .. });
                        return Some(Ok(event));
                    }
                    Err(error) => return Some(self.fail(error)),
                }
            }
            if self.body_ended {
                // Everything the server sent is used up and `[DONE]` never came.
                return Some(self.fail(ModelError::Unavailable(
                    "the connection closed before the reply was complete".into(),
                )));
            }
            match self.body.next().await {
                Some(Ok(bytes)) => {
                    if let Err(error) = self.parser.push(&bytes, &mut self.pending) {
                        return Some(self.fail(ModelError::Protocol(error.to_string())));
                    }
                }
                Some(Err(error)) => {
                    tracing::warn!(error = %error, "model reply interrupted");
                    return Some(self.fail(ModelError::Unavailable(
                        "the connection was lost during the reply".into(),
                    )));
                }
                None => {
                    self.body_ended = true;
                    self.pending.extend(self.parser.finish());
                }
            }
        }
        None
    }

    /// The rest of the reply as a stream: a silence longer than `idle` ends it with `Timeout`.
    pub fn into_stream(self, idle: Duration) -> ModelStream {
        stream::unfold(Some(self), move |reader| async move {
            let mut reader = reader?;
            match tokio::time::timeout(idle, reader.next_event()).await {
                Ok(Some(event)) => Some((event, Some(reader))),
                Ok(None) => None,
                Err(_) => {
                    tracing::warn!(idle_ms = idle.as_millis() as u64, "model reply stalled");
                    Some((Err(ModelError::Timeout), None))
                }
            }
        })
        .boxed()
    }

    fn fail(&mut self, error: ModelError) -> Result<ModelEvent, ModelError> {
        self.finished = true;
        Err(error)
    }

    fn interpret(&mut self, event: SseEvent) -> Result<Option<ModelEvent>, ModelError> {
        if event.data == "[DONE]" {
            return Ok(Some(ModelEvent::Done {
                usage: self.usage.take(),
            }));
        }
        let chunk: Completion = serde_json::from_str(&event.data)
            .map_err(|e| ModelError::Protocol(format!("unreadable chunk: {e}")))?;
        if event.event.as_deref() == Some("error") || chunk.is_error() {
            let message = wire::redact(&event.data, self.api_key.as_deref());
            tracing::warn!(%message, "model server reported an error mid-reply");
            return Err(ModelError::Unavailable(
                "the model server reported an error during the reply".into(),
            ));
        }
        if let Some(usage) = chunk.usage() {
            self.usage = Some(usage);
        }
        let text = chunk.text();
        Ok((!text.is_empty()).then_some(ModelEvent::Delta(text)))
    }
}

/// A whole (non-streamed) answer, from a server that ignored `stream: true`, as events.
pub(crate) fn whole_answer(body: &[u8]) -> Result<Vec<ModelEvent>, ModelError> {
    let answer: Completion = serde_json::from_slice(body)
        .map_err(|e| ModelError::Protocol(format!("unreadable answer: {e}")))?;
    if answer.is_error() {
        tracing::warn!("model server answered 2xx with an error body");
        return Err(ModelError::Unavailable(
            "the model server reported an error".into(),
        ));
    }
    if !answer.has_choices() {
        return Err(ModelError::Protocol("the answer has no choices".into()));
    }
    let text = answer.text();
    let mut events = Vec::with_capacity(2);
    if !text.is_empty() {
        events.push(ModelEvent::Delta(text));
    }
    events.push(ModelEvent::Done {
        usage: answer.usage(),
    });
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(pieces: &[&'static str], then_error: bool) -> ReplyReader {
        let mut items: Vec<reqwest::Result<Bytes>> = pieces
            .iter()
            .map(|p| Ok(Bytes::from_static(p.as_bytes())))
            .collect();
        if then_error {
            // A real transport error is hard to build by hand; a failed URL parse stands in.
            items.push(Err(reqwest::Client::new()
                .get("http://[")
                .build()
                .unwrap_err()));
        }
        ReplyReader::new(stream::iter(items).boxed(), None)
    }

    async fn collect(reader: ReplyReader) -> Vec<Result<ModelEvent, ModelError>> {
        reader.into_stream(Duration::from_secs(5)).collect().await
    }

    #[tokio::test]
    async fn deltas_then_done_with_usage() {
        let events = collect(reader(
            &[
                "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n",
                "data: {\"choices\":[{\"delta\":{\"content\":\"Ol\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"con",
                "tent\":\"á\"}}]}\n\n: ping\n\n",
                "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n",
            ],
            false,
        ))
        .await;
        assert_eq!(
            events,
            vec![
                Ok(ModelEvent::Delta("Ol".into())),
                Ok(ModelEvent::Delta("á".into())),
                Ok(ModelEvent::Done {
                    usage: Some(ModelUsage {
                        prompt_tokens: 5,
                        completion_tokens: 2
                    })
                }),
            ]
        );
    }

    #[tokio::test]
    async fn clean_end_without_done_is_an_error() {
        let events = collect(reader(
            &["data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"],
            false,
        ))
        .await;
        assert!(matches!(
            events.last(),
            Some(Err(ModelError::Unavailable(_)))
        ));
        assert_eq!(events.len(), 2);
    }

    #[tokio::test]
    async fn transport_error_is_an_error_and_ends_the_stream() {
        let events = collect(reader(
            &["data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"],
            true,
        ))
        .await;
        assert_eq!(events.len(), 2);
        assert!(matches!(events[1], Err(ModelError::Unavailable(_))));
    }

    #[tokio::test]
    async fn error_chunks_and_garbage_are_errors() {
        let events = collect(reader(
            &["data: {\"error\":{\"message\":\"overloaded\"}}\n\n"],
            false,
        ))
        .await;
        assert!(matches!(events[..], [Err(ModelError::Unavailable(_))]));
        let events = collect(reader(&["data: not json\n\n"], false)).await;
        assert!(matches!(events[..], [Err(ModelError::Protocol(_))]));
    }

    #[test]
    fn whole_answers_that_are_errors_or_empty_are_errors() {
        assert!(matches!(
            whole_answer(br#"{"error":{"message":"boom"}}"#),
            Err(ModelError::Unavailable(_))
        ));
        assert!(matches!(
            whole_answer(br#"{"object":"error","message":"bad"}"#),
            Err(ModelError::Unavailable(_))
        ));
        assert!(matches!(whole_answer(b"{}"), Err(ModelError::Protocol(_))));
    }

    #[tokio::test]
    async fn vllm_style_error_chunks_are_errors() {
        let events = collect(reader(
            &["data: {\"object\":\"error\",\"message\":\"bad\",\"code\":400}\n\n"],
            false,
        ))
        .await;
        assert!(matches!(events[..], [Err(ModelError::Unavailable(_))]));
    }

    #[test]
    fn whole_answers_become_a_delta_and_done() {
        let events = whole_answer(br#"{"choices":[{"message":{"content":"Oi"}}]}"#).unwrap();
        assert_eq!(
            events,
            vec![
                ModelEvent::Delta("Oi".into()),
                ModelEvent::Done { usage: None }
            ]
        );
    }
}
