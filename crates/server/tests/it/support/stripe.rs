//! Stripe events as Stripe sends them: the JSON envelope and a signed delivery to the webhook.

use super::TestServer;
use billing_stripe::webhook::sign;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Posts `payload` to the webhook, signed with `secret` at `timestamp` (Unix seconds).
pub async fn deliver_signed(
    server: &TestServer,
    payload: &Value,
    secret: &str,
    timestamp: i64,
) -> StatusCode {
    let body = serde_json::to_vec(payload).unwrap();
    server
        .client
        .post(server.url("/api/v1/billing/webhook"))
        .header("stripe-signature", sign(&body, secret, timestamp))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

pub fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({
        "id": id, "object": "event", "api_version": "2024-06-20", "created": created,
        "livemode": false, "pending_webhooks": 1, "type": kind,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": object}
    })
}

pub fn pack_paid(id: &str, payer: &str, payment: &str) -> Value {
    event(
        id,
        "checkout.session.completed",
        chrono::Utc::now().timestamp(),
        json!({
            "id": format!("cs_{id}"), "object": "checkout.session", "mode": "payment",
            "customer": "cus_person", "payment_intent": payment, "payment_status": "paid",
            "status": "complete", "amount_total": 1990, "currency": "brl",
            "metadata": {"payer": payer, "kind": "pack", "item": "pack-100k"}
        }),
    )
}
