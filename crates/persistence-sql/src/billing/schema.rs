//! Billing tables (migrations `*_billing`). Times are Unix milliseconds.

diesel::table! {
    billing_events (event_id) {
        event_id -> Text,
        event_type -> Text,
        created_at -> BigInt,
        received_at -> BigInt,
    }
}

diesel::table! {
    billing_customers (subject) {
        subject -> Text,
        customer_id -> Text,
    }
}

diesel::table! {
    billing_subscriptions (subscription_id) {
        subscription_id -> Text,
        subject -> Text,
        status -> Text,
        plan_id -> Nullable<Text>,
        period_start -> Nullable<BigInt>,
        period_end -> Nullable<BigInt>,
        last_event_at -> BigInt,
    }
}

diesel::table! {
    billing_purchases (payment_id) {
        payment_id -> Text,
        subject -> Text,
        pack_id -> Text,
        tokens -> BigInt,
        amount -> BigInt,
        refunded_tokens -> BigInt,
    }
}
