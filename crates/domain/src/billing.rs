//! Billing: the payment port (checkout, the customer portal), the events the payment provider
//! sends, and the store port that records each event and applies its effect in one transaction.
//!
//! Events are the only way money changes a plan or an allowance (besides an audited admin
//! action): a person can start a checkout, but nothing changes until the provider's signed event
//! says it was paid.

use crate::Period;
use crate::budget::Subject;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a checkout buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutKind {
    /// A subscription to a plan.
    Plan,
    /// A one-off token pack.
    Pack,
}

impl CheckoutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutKind::Plan => "plan",
            CheckoutKind::Pack => "pack",
        }
    }
}

/// Metadata keys put on every checkout (and the subscription or payment it creates), so that
/// events name who paid and for what.
pub const META_PAYER: &str = "payer";
pub const META_KIND: &str = "kind";
pub const META_ITEM: &str = "item";

/// A checkout the payment provider should open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    pub kind: CheckoutKind,
    pub price_id: String,
    /// Seats for a company plan, 1 otherwise.
    pub quantity: u64,
    pub payer: Subject,
    /// Plan or pack id, echoed back in the events' metadata.
    pub item_id: String,
    pub customer_id: String,
    pub success_url: String,
    pub cancel_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("payments are not configured")]
    NotConfigured,
    #[error("payment provider error: {0}")]
    Provider(String),
}

/// A price as the payment provider has it: what `botpsicologo billing check` compares with the
/// catalog before anyone is sent to a checkout that would fail or bill the wrong way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPrice {
    pub active: bool,
    /// Lower-case ISO code (`brl`).
    pub currency: String,
    /// How often a recurring price bills (`month`, `year`, … and how many of them); `None` for a
    /// one-off price.
    pub recurring: Option<(String, u64)>,
}

/// A verified event from the payment provider, reduced to what billing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingEvent {
    pub id: String,
    pub event_type: String,
    /// When the provider created the event: orders events about one subscription.
    pub created: DateTime<Utc>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `checkout.session.completed`.
    CheckoutCompleted {
        payer: Option<Subject>,
        kind: Option<CheckoutKind>,
        item: Option<String>,
        customer_id: Option<String>,
        /// The payment intent (packs), the key a later refund names.
        payment_id: Option<String>,
        paid: bool,
        amount_total: i64,
    },
    /// `invoice.paid`, `customer.subscription.updated` and `customer.subscription.deleted`.
    Subscription(SubscriptionEvent),
    /// `charge.refunded`: `amount_refunded` is the total refunded so far, not this refund.
    Refund {
        payment_id: Option<String>,
        amount_refunded: i64,
    },
    /// Anything else: acknowledged and logged.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionEvent {
    pub subscription_id: String,
    pub payer: Option<Subject>,
    pub customer_id: Option<String>,
    pub price_id: Option<String>,
    pub quantity: Option<u64>,
    pub status: SubscriptionStatus,
    pub period: Option<Period>,
    /// The subscription ended (`deleted`): the payer goes back to the default plan.
    pub ended: bool,
}

/// The provider's subscription status, reduced to what decides the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// Paid up (active or trialing): the plan applies.
    Active,
    /// Payment is late; the plan is kept while the provider retries.
    PastDue,
    /// Ended or never paid: the default plan applies.
    Ended,
}

impl SubscriptionStatus {
    pub fn from_provider(status: &str) -> SubscriptionStatus {
        match status {
            "active" | "trialing" => SubscriptionStatus::Active,
            "past_due" | "incomplete" | "paused" => SubscriptionStatus::PastDue,
            _ => SubscriptionStatus::Ended,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<SubscriptionStatus> {
        [
            SubscriptionStatus::Active,
            SubscriptionStatus::PastDue,
            SubscriptionStatus::Ended,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// What we keep of a subscription: enough to order its events and to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub subscription_id: String,
    pub payer: Subject,
    pub status: SubscriptionStatus,
    pub plan_id: Option<String>,
    pub period: Option<Period>,
    /// Creation time of the newest event applied to it.
    pub last_event_at: DateTime<Utc>,
}

/// The change an event makes, decided by the billing service from the catalog; the store applies
/// it in the same transaction that records the event id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillingEffect {
    /// Nothing to change (unknown event, unknown price, unpaid checkout): only recorded.
    Nothing,
    /// Links the payer to the provider's customer.
    Customer { payer: Subject, customer_id: String },
    /// A paid token pack: tokens added to the payer's top-ups, purchase kept for refunds.
    PackPurchased(PackPurchase),
    /// A subscription changed; applied only when not older than what was applied before.
    Subscription(SubscriptionChange),
    /// A (partial) refund of a pack: the tokens not refunded yet in proportion are removed.
    Refund {
        payment_id: String,
        amount_refunded: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackPurchase {
    pub payment_id: String,
    pub payer: Subject,
    pub pack_id: String,
    pub tokens: u64,
    pub amount: i64,
    pub customer_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionChange {
    pub state: SubscriptionState,
    /// The payer's plan from now on (`None`: unchanged), with the seats of a company plan.
    pub set_plan: Option<(String, Option<u32>)>,
    /// The payer's billing period from now on: `Some(Some(p))` a live subscription's current
    /// period, `Some(None)` cleared (it ended), `None` unchanged (the event names no period).
    pub set_billing_period: Option<Option<Period>>,
    pub customer_id: Option<String>,
}

/// What happened to a delivered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    Applied,
    /// Seen before: nothing changed.
    Duplicate,
    /// Older than what was applied to its subscription: recorded, nothing changed.
    Stale,
}

/// Whether a subscription change must be skipped: older than the last applied event, or about a
/// subscription that has ended (the provider never revives one). Shared by every store adapter.
pub fn is_stale(current: Option<&SubscriptionState>, change: &SubscriptionChange) -> bool {
    current.is_some_and(|c| {
        change.state.last_event_at < c.last_event_at
            || (c.status == SubscriptionStatus::Ended
                && change.state.status != SubscriptionStatus::Ended)
    })
}

/// Tokens a refund takes back in total: the refunded share of the purchase, rounded up so a full
/// refund takes everything. Adapters remove the difference with what was taken back before.
pub fn refunded_tokens(tokens: u64, amount: i64, amount_refunded: i64) -> u64 {
    if amount <= 0 || amount_refunded >= amount {
        return tokens;
    }
    let refunded = u128::from(amount_refunded.max(0).unsigned_abs());
    let share = (u128::from(tokens) * refunded).div_ceil(u128::from(amount.unsigned_abs()));
    u64::try_from(share).unwrap_or(tokens).min(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;
    use chrono::TimeZone;

    fn state(at: i64, status: SubscriptionStatus) -> SubscriptionState {
        SubscriptionState {
            subscription_id: "sub_1".into(),
            payer: Subject::User(UserId(1)),
            status,
            plan_id: None,
            period: None,
            last_event_at: Utc.timestamp_opt(at, 0).single().unwrap(),
        }
    }

    fn change(at: i64, status: SubscriptionStatus) -> SubscriptionChange {
        SubscriptionChange {
            state: state(at, status),
            set_plan: None,
            set_billing_period: None,
            customer_id: None,
        }
    }

    #[test]
    fn older_events_and_revivals_are_stale() {
        use SubscriptionStatus::*;
        assert!(!is_stale(None, &change(5, Active)));
        assert!(!is_stale(Some(&state(5, Active)), &change(5, Active)));
        assert!(is_stale(Some(&state(6, Active)), &change(5, Ended)));
        assert!(is_stale(Some(&state(5, Ended)), &change(9, Active)));
        assert!(!is_stale(Some(&state(5, Active)), &change(9, Ended)));
    }

    #[test]
    fn refunds_are_proportional_and_capped() {
        assert_eq!(refunded_tokens(1_000, 500, 250), 500);
        assert_eq!(refunded_tokens(1_000, 300, 100), 334);
        assert_eq!(refunded_tokens(1_000, 500, 900), 1_000);
        assert_eq!(refunded_tokens(1_000, 0, 0), 1_000);
        assert_eq!(refunded_tokens(1_000, 500, -5), 0);
    }
}
