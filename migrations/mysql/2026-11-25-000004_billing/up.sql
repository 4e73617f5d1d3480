-- See migrations/sqlite for what each table is for. Re-runnable: MySQL DDL is not transactional.
CREATE TABLE IF NOT EXISTS billing_events (
    event_id VARCHAR(255) PRIMARY KEY NOT NULL,
    event_type VARCHAR(128) NOT NULL,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS billing_customers (
    subject VARCHAR(64) PRIMARY KEY NOT NULL,
    customer_id VARCHAR(255) NOT NULL UNIQUE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS billing_subscriptions (
    subscription_id VARCHAR(255) PRIMARY KEY NOT NULL,
    subject VARCHAR(64) NOT NULL,
    status VARCHAR(32) NOT NULL,
    plan_id VARCHAR(128),
    period_start BIGINT,
    period_end BIGINT,
    last_event_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS billing_purchases (
    payment_id VARCHAR(255) PRIMARY KEY NOT NULL,
    subject VARCHAR(64) NOT NULL,
    pack_id VARCHAR(128) NOT NULL,
    tokens BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    refunded_tokens BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
