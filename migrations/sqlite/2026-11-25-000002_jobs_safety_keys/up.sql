-- Leases that let exactly one scheduler run a job at a time, with its progress for resuming.
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    progress TEXT NOT NULL DEFAULT ''
);

-- Only an aggregate of crisis answers is kept: a count per UTC day, nothing about who.
CREATE TABLE safety_events (
    day BIGINT PRIMARY KEY NOT NULL,
    count BIGINT NOT NULL DEFAULT 0
);

-- Small named values, e.g. the sealed canary that proves the configured encryption key is the
-- one the stored conversations were sealed with.
CREATE TABLE kv (
    name TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);
