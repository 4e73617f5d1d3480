//! Stripe webhooks: the `Stripe-Signature` check (HMAC-SHA256 over `"{t}.{payload}"` with the
//! endpoint secret, and a timestamp tolerance against replays) and the reduction of an event to
//! what billing needs.
//!
//! Events are read field by field rather than into full Stripe types, so objects of newer API
//! versions (and event types we do not handle) still parse; what we do not know is ignored.

use chrono::{DateTime, TimeZone, Utc};
use domain::Period;
use domain::billing::{
    BillingEvent, CheckoutKind, EventKind, META_ITEM, META_KIND, META_PAYER, SubscriptionEvent,
    SubscriptionStatus,
};
use domain::budget::Subject;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// How far the signed timestamp may be from our clock (Stripe's libraries use 5 minutes).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("missing or malformed Stripe-Signature header")]
    MalformedHeader,
    #[error("signature does not match")]
    BadSignature,
    #[error("signature timestamp outside the tolerance")]
    Stale,
    #[error("malformed event: {0}")]
    MalformedEvent(String),
}

/// Checks the signature header of `payload` at `now`.
pub fn verify(
    payload: &[u8],
    header: &str,
    secret: &str,
    now: DateTime<Utc>,
    tolerance_secs: i64,
) -> Result<(), WebhookError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => signatures.push(hex::decode(sig).unwrap_or_default()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::MalformedHeader)?;
    if signatures.is_empty() {
        return Err(WebhookError::MalformedHeader);
    }
    let valid = signatures.iter().any(|sig| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        // Constant-time comparison.
        mac.verify_slice(sig).is_ok()
    });
    if !valid {
        return Err(WebhookError::BadSignature);
    }
    if (now.timestamp() - timestamp).abs() > tolerance_secs {
        return Err(WebhookError::Stale);
    }
    Ok(())
}

/// The header value Stripe would send for `payload` at `timestamp` (tests, local tools).
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Verifies and parses a delivery.
pub fn construct_event(
    payload: &[u8],
    header: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<BillingEvent, WebhookError> {
    verify(payload, header, secret, now, DEFAULT_TOLERANCE_SECS)?;
    parse_event(payload)
}

fn malformed(what: &str) -> WebhookError {
    WebhookError::MalformedEvent(what.to_string())
}

/// Reduces a (verified) event to a [`BillingEvent`]; unknown types become [`EventKind::Other`].
pub fn parse_event(payload: &[u8]) -> Result<BillingEvent, WebhookError> {
    let event: Value = serde_json::from_slice(payload).map_err(|e| malformed(&e.to_string()))?;
    let id = str_at(&event, "/id").ok_or_else(|| malformed("no id"))?;
    let event_type = str_at(&event, "/type").ok_or_else(|| malformed("no type"))?;
    let created = event
        .pointer("/created")
        .and_then(Value::as_i64)
        .and_then(time)
        .ok_or_else(|| malformed("no created time"))?;
    let object = event
        .pointer("/data/object")
        .ok_or_else(|| malformed("no data.object"))?;
    let kind = match event_type.as_str() {
        "checkout.session.completed" => checkout_completed(object),
        "invoice.paid" => invoice_paid(object)?,
        "customer.subscription.updated" | "customer.subscription.deleted" => {
            subscription(object, event_type == "customer.subscription.deleted")?
        }
        "charge.refunded" => EventKind::Refund {
            payment_id: id_at(object, "/payment_intent"),
            amount_refunded: object
                .pointer("/amount_refunded")
                .and_then(Value::as_i64)
                .unwrap_or(0),
        },
        _ => EventKind::Other,
    };
    Ok(BillingEvent {
        id,
        event_type,
        created,
        kind,
    })
}

fn time(secs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(secs, 0).single()
}

fn str_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// An id field that may also come expanded as an object.
fn id_at(v: &Value, pointer: &str) -> Option<String> {
    let field = v.pointer(pointer)?;
    field
        .as_str()
        .or_else(|| field.pointer("/id").and_then(Value::as_str))
        .map(str::to_string)
}

fn payer_in(metadata: Option<&Value>) -> Option<Subject> {
    metadata?
        .get(META_PAYER)
        .and_then(Value::as_str)
        .and_then(Subject::parse_key)
}

fn period_at(v: Option<&Value>, start: &str, end: &str) -> Option<Period> {
    let v = v?;
    let start = time(v.pointer(start)?.as_i64()?)?;
    let end = time(v.pointer(end)?.as_i64()?)?;
    (start < end).then_some(Period { start, end })
}

fn checkout_completed(session: &Value) -> EventKind {
    let metadata = session.pointer("/metadata");
    let kind = match metadata
        .and_then(|m| m.get(META_KIND))
        .and_then(Value::as_str)
    {
        Some("plan") => Some(CheckoutKind::Plan),
        Some("pack") => Some(CheckoutKind::Pack),
        _ => None,
    };
    EventKind::CheckoutCompleted {
        payer: payer_in(metadata),
        kind,
        item: metadata
            .and_then(|m| m.get(META_ITEM))
            .and_then(Value::as_str)
            .map(str::to_string),
        customer_id: id_at(session, "/customer"),
        payment_id: id_at(session, "/payment_intent"),
        paid: matches!(
            session.pointer("/payment_status").and_then(Value::as_str),
            Some("paid" | "no_payment_required")
        ),
        amount_total: session
            .pointer("/amount_total")
            .and_then(Value::as_i64)
            .unwrap_or(0),
    }
}

/// The price and quantity of the first line or item: a checkout here always has exactly one.
fn price_and_quantity(line: Option<&Value>) -> (Option<String>, Option<u64>) {
    let Some(line) = line else {
        return (None, None);
    };
    // Older API versions name `price.id`; newer ones `pricing.price_details.price`.
    let price = id_at(line, "/price").or_else(|| str_at(line, "/pricing/price_details/price"));
    (price, line.pointer("/quantity").and_then(Value::as_u64))
}

fn invoice_paid(invoice: &Value) -> Result<EventKind, WebhookError> {
    // The subscription moved under `parent.subscription_details` in newer API versions.
    let details = invoice
        .pointer("/parent/subscription_details")
        .or_else(|| invoice.pointer("/subscription_details"));
    let subscription_id =
        id_at(invoice, "/subscription").or_else(|| details.and_then(|d| id_at(d, "/subscription")));
    let Some(subscription_id) = subscription_id else {
        // A one-off invoice: nothing to do with plans.
        return Ok(EventKind::Other);
    };
    let line = invoice.pointer("/lines/data/0");
    let (price_id, quantity) = price_and_quantity(line);
    Ok(EventKind::Subscription(SubscriptionEvent {
        subscription_id,
        payer: payer_in(details.and_then(|d| d.pointer("/metadata")))
            .or_else(|| payer_in(line.and_then(|l| l.pointer("/metadata")))),
        customer_id: id_at(invoice, "/customer"),
        price_id,
        quantity,
        status: SubscriptionStatus::Active,
        period: period_at(line, "/period/start", "/period/end"),
        ended: false,
    }))
}

fn subscription(sub: &Value, deleted: bool) -> Result<EventKind, WebhookError> {
    let subscription_id = str_at(sub, "/id").ok_or_else(|| malformed("subscription without id"))?;
    let item = sub.pointer("/items/data/0");
    let (price_id, quantity) = price_and_quantity(item);
    let status = str_at(sub, "/status").unwrap_or_default();
    // The period sits on the subscription in older API versions and on its items in newer ones.
    let period = period_at(Some(sub), "/current_period_start", "/current_period_end")
        .or_else(|| period_at(item, "/current_period_start", "/current_period_end"));
    Ok(EventKind::Subscription(SubscriptionEvent {
        subscription_id,
        payer: payer_in(sub.pointer("/metadata")),
        customer_id: id_at(sub, "/customer"),
        price_id,
        quantity,
        status: SubscriptionStatus::from_provider(&status),
        period,
        ended: deleted,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";

    #[test]
    fn signature_round_trip_tolerance_and_tampering() {
        let now = Utc::now();
        let payload = br#"{"id":"evt_1"}"#;
        let header = sign(payload, SECRET, now.timestamp());
        assert_eq!(verify(payload, &header, SECRET, now, 300), Ok(()));
        assert_eq!(
            verify(b"{\"id\":\"evt_2\"}", &header, SECRET, now, 300),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(payload, &header, "whsec_other", now, 300),
            Err(WebhookError::BadSignature)
        );
        let old = sign(payload, SECRET, now.timestamp() - 301);
        assert_eq!(
            verify(payload, &old, SECRET, now, 300),
            Err(WebhookError::Stale)
        );
        for bad in ["", "t=1", "v1=00", "t=x,v1=zz"] {
            assert!(verify(payload, bad, SECRET, now, 300).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_events_parse_as_other() {
        let event = parse_event(
            br#"{"id":"evt_9","type":"customer.created","created":1700000000,"data":{"object":{}}}"#,
        )
        .unwrap();
        assert_eq!(event.kind, EventKind::Other);
        assert!(parse_event(b"not json").is_err());
    }
}
