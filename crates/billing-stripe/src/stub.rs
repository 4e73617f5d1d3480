//! A local stand-in for the Stripe API, for tests: it records every request the real client sends
//! (path and decoded form parameters) and answers with objects in Stripe's documented shape,
//! kept as fixtures under `tests/fixtures`. localstripe covers customers and plans but has no
//! Checkout Sessions or portal, hence this.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

pub const CUSTOMER: &str = include_str!("../tests/fixtures/customer.json");
pub const CHECKOUT_SESSION: &str = include_str!("../tests/fixtures/checkout_session.json");
pub const PORTAL_SESSION: &str = include_str!("../tests/fixtures/billing_portal_session.json");

/// One request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    /// Form parameters in order, with Stripe's bracket keys (`line_items[0][price]`).
    pub params: Vec<(String, String)>,
}

impl Recorded {
    /// The value of a form parameter, if sent.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

type Log = Arc<Mutex<Vec<Recorded>>>;

pub struct StripeStub {
    /// What to pass as the API base (`http://127.0.0.1:PORT/`).
    pub base_url: String,
    log: Log,
    task: JoinHandle<()>,
}

impl StripeStub {
    pub async fn start() -> StripeStub {
        let log = Log::default();
        let app = Router::new()
            .route("/v1/customers", post(|| async { json(CUSTOMER) }))
            .route(
                "/v1/checkout/sessions",
                post(|| async { json(CHECKOUT_SESSION) }),
            )
            .route(
                "/v1/billing_portal/sessions",
                post(|| async { json(PORTAL_SESSION) }),
            )
            .layer(axum::middleware::from_fn_with_state(log.clone(), record))
            .with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Stripe stub");
        let addr = listener.local_addr().expect("stub address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StripeStub {
            base_url: format!("http://{addr}/"),
            log,
            task,
        }
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The last request to `path`.
    pub fn last(&self, path: &str) -> Option<Recorded> {
        self.requests().into_iter().rev().find(|r| r.path == path)
    }
}

impl Drop for StripeStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn json(body: &'static str) -> Response {
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}

async fn record(
    State(log): State<Log>,
    OriginalUri(uri): OriginalUri,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let params = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes).unwrap_or_default();
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Recorded {
            path: uri.path().to_string(),
            params,
        });
    next.run(axum::extract::Request::from_parts(parts, bytes.into()))
        .await
}
