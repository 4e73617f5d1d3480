//! The chat page: the recent history, a form whose script streams the reply (as text, never as
//! HTML), the sources, the tokens left, and the clear and export buttons.

use super::*;
use axum::extract::{Query, State};
use domain::conversation::{Author, Message};

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatPage<'a> {
    page: &'a PageContext,
    /// Oldest first, as read.
    messages: Vec<(bool, String)>,
    remaining: Option<u64>,
}

/// Messages shown when the page opens; older ones are in the export.
const SHOWN: u64 = 30;

pub async fn chat_page<S: Persistence>(
    State(state): State<AppState<S>>,
    signed: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    let page = signed.context(&notice);
    let history: Vec<Message> = match state.chat.history(&signed.actor, None, SHOWN).await {
        Ok(history) => history,
        Err(e) => return api_error_page(&page, e.into()),
    };
    let remaining = state
        .budgets
        .usage(&signed.user)
        .await
        .ok()
        .and_then(|u| u.summary.remaining);
    let messages = history
        .into_iter()
        .rev()
        .map(|m| (m.author == Author::User, m.text))
        .collect();
    render(&ChatPage {
        page: &page,
        messages,
        remaining,
    })
}
