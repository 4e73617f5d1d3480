//! Prometheus metrics at `/metrics`: request counts and latency by route and status, rate-limiter
//! decisions, the crisis screen's model calls (`model_openai::describe_metrics`), and the
//! process's CPU and memory. Served only to the addresses in `METRICS_ALLOW`
//! or to requests bearing `METRICS_TOKEN`, since route names and volumes are operational detail.

use crate::auth::{client_ip, tokens_match};
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::ports::Persistence;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// The process-wide recorder (one per process, however many servers a test starts).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => {
                    metrics_process::Collector::default().describe();
                    model_openai::describe_metrics();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder already installed");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the recorder; called once at start-up so counters exist before the first scrape.
pub fn init() {
    let _ = handle();
}

/// Middleware: counts every request and its latency by method, route pattern and status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    // The route pattern (`/api/v1/library/documents/{id}`), never the raw path with ids in it.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Counts a request the per-address limit answered before routing (so `track`, which runs
/// inside the router to know the route pattern, never saw it).
pub fn refused_before_routing(method: &str, status: StatusCode) {
    let labels = [
        ("method", method.to_string()),
        ("route", "(before routing)".to_string()),
        ("status", status.as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
}

/// Counts one rate-limiter decision.
pub fn limiter_decision(rule: &'static str, allowed: bool) {
    let decision = if allowed { "allowed" } else { "limited" };
    metrics::counter!("rate_limit_decisions_total", "rule" => rule, "decision" => decision)
        .increment(1);
}

/// `GET /metrics` in the Prometheus text format.
pub async fn scrape<S: Persistence>(
    State(state): State<AppState<S>>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let from_allowed_address =
        client_ip(&parts).is_some_and(|ip| state.settings.metrics_allow.contains(&ip));
    let token = state.settings.metrics_token.trim();
    let with_token =
        crate::auth::bearer(&parts.headers).is_some_and(|given| tokens_match(token, &given));
    if !(from_allowed_address || with_token) {
        return (
            StatusCode::FORBIDDEN,
            "metrics are not available to this client",
        )
            .into_response();
    }
    let Some(handle) = handle() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics are not recorded").into_response();
    };
    metrics_process::Collector::default().collect();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
