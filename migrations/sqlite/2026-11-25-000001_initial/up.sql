-- Ids are chosen by the application (see domain::ports::IdGenerator); times are Unix milliseconds.
CREATE TABLE companies (
    id BIGINT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    seat_limit INTEGER NOT NULL,
    plan_id TEXT NOT NULL,
    system_prompt TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id BIGINT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    company_id BIGINT REFERENCES companies(id),
    personal_cap BIGINT,
    plan_id TEXT NOT NULL,
    locale TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX users_company ON users(company_id);

CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY NOT NULL,
    company_id BIGINT NOT NULL REFERENCES companies(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    invited_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT
);
CREATE INDEX invitations_company ON invitations(company_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY NOT NULL,
    at BIGINT NOT NULL,
    actor BIGINT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    ip TEXT,
    detail TEXT NOT NULL
);

CREATE TABLE messages (
    id BIGINT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL,
    author TEXT NOT NULL,
    sealed BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    tokens BIGINT NOT NULL
);
CREATE INDEX messages_user ON messages(user_id, id);

CREATE TABLE documents (
    id BIGINT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    format TEXT NOT NULL,
    pages INTEGER NOT NULL,
    ingested_at BIGINT NOT NULL
);

CREATE TABLE passages (
    id BIGINT PRIMARY KEY NOT NULL,
    document_id BIGINT NOT NULL REFERENCES documents(id),
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    page INTEGER,
    heading TEXT,
    token_count INTEGER NOT NULL
);
CREATE INDEX passages_document ON passages(document_id);

-- Usage is keyed by period: a new period starts from zero without touching old rows.
CREATE TABLE usage_counters (
    subject TEXT NOT NULL,
    period_key BIGINT NOT NULL,
    used BIGINT NOT NULL DEFAULT 0,
    reserved BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, period_key)
);

-- Purchased tokens survive period boundaries.
CREATE TABLE topups (
    subject TEXT PRIMARY KEY NOT NULL,
    balance BIGINT NOT NULL DEFAULT 0,
    reserved BIGINT NOT NULL DEFAULT 0
);

-- Open leases: one row per budget line of a reservation.
CREATE TABLE reservations (
    id BIGINT NOT NULL,
    subject TEXT NOT NULL,
    period_key BIGINT NOT NULL,
    from_allowance BIGINT NOT NULL,
    from_topup BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (id, subject)
);
CREATE INDEX reservations_expiry ON reservations(expires_at);
