//! The conversation over JSON or server-sent events: `POST /api/v1/chat`, the history, its export
//! and its deletion.
//!
//! A turn runs in its own task, so the reservation is always settled or released: when the
//! caller goes away, the task sees it at the next piece of the reply, stops the model and
//! releases what it reserved (a failed or abandoned turn costs nothing).

use crate::auth::{Authenticated, TurnCaller};
use crate::error::{ApiError, ApiResult};
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::WithRejection;
use domain::MessageId;
use domain::conversation::{Author, Message};
use domain::ports::Clock;
use domain::ports::Persistence;
use domain::prompt::Source;
use domain::services::chat::{
    ChatError, EdgeDecision, TurnContext, TurnOutcome, TurnSink, export_markdown,
};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
pub struct ChatRequest {
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct UsageView {
    prompt_tokens: u64,
    completion_tokens: u64,
}

#[derive(Serialize, ToSchema)]
pub struct SourceView {
    title: String,
    page: Option<u32>,
    heading: Option<String>,
    citation: String,
    text: String,
}

impl From<Source> for SourceView {
    fn from(s: Source) -> Self {
        SourceView {
            citation: s.citation(),
            title: s.title,
            page: s.page,
            heading: s.heading,
            text: s.text,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChatResponse {
    reply: String,
    usage: UsageView,
    /// Tokens left this period; `null` when no limit applies.
    remaining: Option<u64>,
    sources: Vec<SourceView>,
    /// The crisis-safety answer was given (free of charge).
    crisis: bool,
    /// The safety path the turn took: `none`, `check_in` (a caring line was added),
    /// `someone_else` (how to help another person at risk), `crisis`, or `imminent` (the
    /// emergency number first).
    #[schema(example = "none")]
    support: &'static str,
    /// With a crisis answer: the person has a saved safety plan (offered at `/safety-plan`).
    safety_plan_saved: bool,
}

impl From<TurnOutcome> for ChatResponse {
    fn from(o: TurnOutcome) -> Self {
        ChatResponse {
            reply: o.reply,
            usage: UsageView {
                prompt_tokens: o.usage.prompt_tokens,
                completion_tokens: o.usage.completion_tokens,
            },
            remaining: o.remaining,
            sources: o.sources.into_iter().map(SourceView::from).collect(),
            crisis: o.crisis,
            support: o.support.as_str(),
            safety_plan_saved: o.safety_plan_saved,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/chat", tag = "chat", request_body = ChatRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = ChatResponse, description = "the reply; or `text/event-stream` events `delta`, `done`, `error` when asked with Accept: text/event-stream"),
              (status = 402, body = ErrorBody, description = "over budget, with how to get more"),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
/// `POST /api/v1/chat`: one turn. JSON by default; server-sent events (`delta`, then `done` or
/// `error`) with `Accept: text/event-stream`.
pub async fn chat<S: Persistence>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    edge: Option<Extension<EdgeDecision>>,
    caller: Result<TurnCaller, ApiError>,
    WithRejection(Json(body), _): WithRejection<Json<ChatRequest>, ApiError>,
) -> Response {
    let streaming = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let caller = match caller {
        Ok(caller) => caller,
        // The person cannot be told apart because the database is down: a message showing
        // risk still gets the crisis answer, which reveals nothing and costs nothing.
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => {
            return match state.chat.crisis_without_person(&body.message).await {
                Some(outcome) if streaming => {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let _ = tx.send(TurnEvent::Delta(outcome.reply.clone()));
                    let _ = tx.send(TurnEvent::Done(Box::new(outcome.into())));
                    drop(tx);
                    sse_response(rx).await
                }
                Some(outcome) => Json(ChatResponse::from(outcome)).into_response(),
                None => e.into_response(),
            };
        }
        Err(e) => return e.into_response(),
    };
    let turn = Turn {
        context: caller.0,
        message: body.message,
        edge: edge.map(|Extension(edge)| edge).unwrap_or_default(),
    };
    if streaming {
        stream_turn(state, turn).await
    } else {
        json_turn(state, turn).await
    }
}

/// What a turn starts from: its context (the person and their newest messages, read with the
/// session) and what they said.
struct Turn {
    context: TurnContext,
    message: String,
    /// The per-address limiter's decision, enforced after the crisis screen.
    edge: EdgeDecision,
}

/// Tells the turn that its caller left once the handler is dropped.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// How long a turn whose answer is known may take to finish its writes before the answer goes
/// out anyway: long enough that the next message normally finds this one stored (its context
/// for the crisis screen), short enough that a locked database does not hold back a crisis
/// answer.
const WRITE_GRACE: Duration = Duration::from_secs(1);

/// Reports whether the caller is still there, and hands over an answer known before the
/// turn's writes are done.
struct UntilCancelled {
    cancelled: Arc<AtomicBool>,
    early: Option<oneshot::Sender<TurnOutcome>>,
}

impl TurnSink for UntilCancelled {
    fn delta(&mut self, _: &str) -> bool {
        !self.cancelled.load(Ordering::Relaxed)
    }

    fn answered(&mut self, outcome: &TurnOutcome) {
        if let Some(early) = self.early.take() {
            let _ = early.send(outcome.clone());
        }
    }
}

/// The turn's result; or, when its answer was known early and its writes outlast
/// [`WRITE_GRACE`], that answer (the task finishes its bookkeeping on its own).
async fn outcome_of(
    task: &mut JoinHandle<Result<TurnOutcome, ChatError>>,
    answered: oneshot::Receiver<TurnOutcome>,
) -> Result<TurnOutcome, ApiError> {
    let early = async {
        match answered.await {
            Ok(outcome) => {
                tokio::time::sleep(WRITE_GRACE).await;
                outcome
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        joined = task => match joined {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(e)) => Err(e.into()),
            Err(join) => Err(ApiError::from(ChatError::Unavailable(join.to_string()))),
        },
        outcome = early => Ok(outcome),
    }
}

async fn json_turn<S: Persistence>(state: AppState<S>, turn: Turn) -> Response {
    let cancelled = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancelled.clone());
    let chat = state.chat.clone();
    let (early, answered) = oneshot::channel();
    let mut task = tokio::spawn(async move {
        let sink = &mut UntilCancelled {
            cancelled,
            early: Some(early),
        };
        chat.turn(turn.context, &turn.message, turn.edge, sink)
            .await
    });
    match outcome_of(&mut task, answered).await {
        Ok(outcome) => Json(ChatResponse::from(outcome)).into_response(),
        Err(e) => e.into_response(),
    }
}

enum TurnEvent {
    Delta(String),
    Done(Box<ChatResponse>),
    Failed(ApiError),
}

/// Forwards each piece of the reply; a closed channel means the caller left. Once the whole
/// answer is known (`answered`) nothing more is sent from here and the sender is dropped, so
/// the stream can end without waiting for the turn's writes.
struct ToChannel {
    tx: Option<mpsc::UnboundedSender<TurnEvent>>,
    early: Option<oneshot::Sender<TurnOutcome>>,
}

impl TurnSink for ToChannel {
    fn delta(&mut self, text: &str) -> bool {
        self.tx
            .as_ref()
            .is_some_and(|tx| tx.send(TurnEvent::Delta(text.to_string())).is_ok())
    }

    fn answered(&mut self, outcome: &TurnOutcome) {
        self.tx = None;
        if let Some(early) = self.early.take() {
            let _ = early.send(outcome.clone());
        }
    }
}

async fn stream_turn<S: Persistence>(state: AppState<S>, turn: Turn) -> Response {
    let (tx, rx) = mpsc::unbounded_channel();
    let chat = state.chat.clone();
    let (early, answered) = oneshot::channel();
    let mut sink = ToChannel {
        tx: Some(tx.clone()),
        early: Some(early),
    };
    let mut task = tokio::spawn(async move {
        chat.turn(turn.context, &turn.message, turn.edge, &mut sink)
            .await
    });
    tokio::spawn(async move {
        let _ = tx.send(match outcome_of(&mut task, answered).await {
            Ok(outcome) => TurnEvent::Done(Box::new(outcome.into())),
            Err(e) => TurnEvent::Failed(e),
        });
    });
    sse_response(rx).await
}

/// The events of a turn as a server-sent event stream. Refusals before the reply starts (over
/// budget, rate limited…) keep their HTTP status.
async fn sse_response(mut rx: mpsc::UnboundedReceiver<TurnEvent>) -> Response {
    let first = match rx.recv().await {
        Some(TurnEvent::Failed(e)) => return e.into_response(),
        Some(event) => event,
        None => return ApiError::from(ChatError::Cancelled).into_response(),
    };
    let events = futures::stream::once(async move { first })
        .chain(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
        .map(|event| Ok::<_, Infallible>(sse_event(event)));
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn sse_event(event: TurnEvent) -> Event {
    let json =
        |name: &str, value: serde_json::Value| Event::default().event(name).data(value.to_string());
    match event {
        TurnEvent::Delta(text) => json("delta", serde_json::json!({ "text": text })),
        TurnEvent::Done(done) => json("done", serde_json::json!(done)),
        TurnEvent::Failed(e) => json(
            "error",
            serde_json::json!({ "error": e.message, "status": e.status.as_u16() }),
        ),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// Messages older than this id.
    before: Option<i64>,
    limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageView {
    #[schema(value_type = i64)]
    id: MessageId,
    /// `user` or `assistant`.
    #[schema(value_type = String)]
    author: &'static str,
    text: String,
    created_at: chrono::DateTime<chrono::Utc>,
    tokens: u64,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        MessageView {
            id: m.id,
            author: match m.author {
                Author::User => "user",
                Author::Assistant => "assistant",
            },
            text: m.text,
            created_at: m.created_at,
            tokens: m.tokens,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HistoryPage {
    /// Newest first.
    messages: Vec<MessageView>,
    /// Pass as `before` for the next (older) page; `null` at the beginning of the history.
    #[schema(value_type = Option<i64>)]
    next_before: Option<MessageId>,
}

const PAGE_DEFAULT: u64 = 50;

#[utoipa::path(get, path = "/api/v1/chat/history", tag = "chat", params(HistoryQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = HistoryPage), (status = 401, body = ErrorBody)))]
/// `GET /api/v1/chat/history?before=ID&limit=N`: the caller's own messages, newest first.
pub async fn history<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
    WithRejection(Query(query), _): WithRejection<Query<HistoryQuery>, ApiError>,
) -> ApiResult<Json<HistoryPage>> {
    let limit = query.limit.unwrap_or(PAGE_DEFAULT).clamp(1, 200);
    let messages = state
        .chat
        .history(&auth.actor, query.before.map(MessageId), limit)
        .await?;
    let next_before = (messages.len() as u64 == limit)
        .then(|| messages.last().map(|m| m.id))
        .flatten();
    Ok(Json(HistoryPage {
        messages: messages.into_iter().map(MessageView::from).collect(),
        next_before,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    deleted: u64,
}

#[utoipa::path(delete, path = "/api/v1/chat/history", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Deleted), (status = 401, body = ErrorBody)))]
/// `DELETE /api/v1/chat/history`: deletes every message of the caller (rows, not flags).
pub async fn clear<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
) -> ApiResult<Json<Deleted>> {
    let deleted = state.chat.clear(&auth.actor).await?;
    Ok(Json(Deleted { deleted }))
}

#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `json` (default) or `md`.
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/chat/export", tag = "chat", params(ExportQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "the history as a download (application/json or text/markdown)"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
/// `GET /api/v1/chat/export?format=json|md`: the whole history as a download, oldest first.
pub async fn export<S: Persistence>(
    State(state): State<AppState<S>>,
    auth: Authenticated,
    WithRejection(Query(query), _): WithRejection<Query<ExportQuery>, ApiError>,
) -> ApiResult<Response> {
    let format = query.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "md") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "format must be json or md",
        ));
    }
    let messages = state.chat.export(&auth.actor).await?;
    let date = state.env.now().format("%Y-%m-%d");
    let (content_type, extension, body) = if format == "md" {
        (
            "text/markdown; charset=utf-8",
            "md",
            export_markdown(&messages, auth.user.locale),
        )
    } else {
        let views: Vec<MessageView> = messages.into_iter().map(MessageView::from).collect();
        let body = serde_json::to_string_pretty(&serde_json::json!({ "messages": views }))
            .map_err(|e| ApiError::from(ChatError::Unavailable(e.to_string())))?;
        ("application/json", "json", body)
    };
    Ok(super::attachment(
        content_type,
        &format!("botpsicologo-conversation-{date}.{extension}"),
        body,
    ))
}
