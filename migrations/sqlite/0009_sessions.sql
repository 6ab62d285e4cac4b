-- Dashboard sign-in: a password per user (PBKDF2-HMAC-SHA256, salted, in PHC-like text) and
-- sessions stored, like tokens, only as the SHA-256 of their cookie.
ALTER TABLE users ADD COLUMN password TEXT;

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    sha256      TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
