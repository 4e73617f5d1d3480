-- Each person's safety plan, sealed like their messages (the server never stores its text).
-- It goes with the person: the foreign key deletes it with the user row (foreign_keys = ON).
CREATE TABLE safety_plans (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sealed BLOB NOT NULL,
    updated_at BIGINT NOT NULL
);
