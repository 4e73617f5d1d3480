-- Ids are chosen by the application (see domain::ports::IdGenerator); times are Unix milliseconds.
-- MySQL DDL is not transactional: every statement is re-runnable so a half-applied migration can
-- simply be run again.
CREATE TABLE IF NOT EXISTS companies (
    id BIGINT PRIMARY KEY NOT NULL,
    name VARCHAR(255) NOT NULL,
    seat_limit INT NOT NULL,
    plan_id VARCHAR(64) NOT NULL,
    system_prompt TEXT,
    created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS users (
    id BIGINT PRIMARY KEY NOT NULL,
    email VARCHAR(254) NOT NULL UNIQUE,
    display_name VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(32) NOT NULL,
    company_id BIGINT,
    personal_cap BIGINT,
    plan_id VARCHAR(64) NOT NULL,
    locale VARCHAR(8) NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    INDEX users_company (company_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS invitations (
    token_hash VARCHAR(64) PRIMARY KEY NOT NULL,
    company_id BIGINT NOT NULL,
    email VARCHAR(254) NOT NULL,
    role VARCHAR(32) NOT NULL,
    invited_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    INDEX invitations_company (company_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS sessions (
    token_hash VARCHAR(64) PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL,
    kind VARCHAR(8) NOT NULL,
    csrf_token VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    INDEX sessions_user (user_id),
    INDEX sessions_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS audit_log (
    id BIGINT PRIMARY KEY NOT NULL,
    at BIGINT NOT NULL,
    actor BIGINT,
    action VARCHAR(64) NOT NULL,
    target VARCHAR(255) NOT NULL,
    ip VARCHAR(64),
    detail TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS messages (
    id BIGINT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL,
    author VARCHAR(16) NOT NULL,
    sealed MEDIUMBLOB NOT NULL,
    created_at BIGINT NOT NULL,
    tokens BIGINT NOT NULL,
    INDEX messages_user (user_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS documents (
    id BIGINT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    source VARCHAR(512) NOT NULL UNIQUE,
    content_hash VARCHAR(64) NOT NULL,
    format VARCHAR(16) NOT NULL,
    pages INT NOT NULL,
    ingested_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS passages (
    id BIGINT PRIMARY KEY NOT NULL,
    document_id BIGINT NOT NULL,
    ordinal INT NOT NULL,
    text MEDIUMTEXT NOT NULL,
    page INT,
    heading TEXT,
    token_count INT NOT NULL,
    INDEX passages_document (document_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS usage_counters (
    subject VARCHAR(32) NOT NULL,
    period_key BIGINT NOT NULL,
    used BIGINT NOT NULL DEFAULT 0,
    reserved BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, period_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS topups (
    subject VARCHAR(32) PRIMARY KEY NOT NULL,
    balance BIGINT NOT NULL DEFAULT 0,
    reserved BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS reservations (
    id BIGINT NOT NULL,
    subject VARCHAR(32) NOT NULL,
    period_key BIGINT NOT NULL,
    from_allowance BIGINT NOT NULL,
    from_topup BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (id, subject),
    INDEX reservations_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
