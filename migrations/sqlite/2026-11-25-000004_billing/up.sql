-- Every payment-provider event applied, by id: a second delivery finds its row and changes nothing.
CREATE TABLE billing_events (
    event_id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);

-- The provider's customer of each payer (`u:ID` or `c:ID`).
CREATE TABLE billing_customers (
    subject TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL UNIQUE
);

-- Subscriptions, with the creation time of the newest event applied, so older ones are skipped.
CREATE TABLE billing_subscriptions (
    subscription_id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    plan_id TEXT,
    period_start BIGINT,
    period_end BIGINT,
    last_event_at BIGINT NOT NULL
);

-- Token packs bought, by payment, so a refund takes back the right tokens once.
CREATE TABLE billing_purchases (
    payment_id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    pack_id TEXT NOT NULL,
    tokens BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    refunded_tokens BIGINT NOT NULL DEFAULT 0
);
