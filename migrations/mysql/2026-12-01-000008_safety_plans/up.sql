-- Each person's safety plan, sealed like their messages (the server never stores its text).
-- It goes with the person: the foreign key deletes it with the user row. MEDIUMBLOB because
-- seven steps of 2,000 characters, JSON-escaped and sealed, can pass BLOB's 64 KiB.
CREATE TABLE IF NOT EXISTS safety_plans (
    user_id BIGINT PRIMARY KEY NOT NULL,
    sealed MEDIUMBLOB NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT safety_plans_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
