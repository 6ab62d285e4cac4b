-- Sign-in attempts (failed, refused while delayed, succeeded) by user name and client address:
-- the sign-in limit counts the failures, admins read them (GET /api/signins).
CREATE TABLE signin_attempts (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    name     TEXT NOT NULL,
    address  TEXT NOT NULL,
    outcome  TEXT NOT NULL
);
CREATE INDEX signin_attempts_by_name ON signin_attempts (name, at);
CREATE INDEX signin_attempts_by_address ON signin_attempts (address, at);

-- One row that /healthz rewrites: proof that the store takes a write.
CREATE TABLE health (
    id          BIGINT PRIMARY KEY,
    checked_at  TEXT NOT NULL
);
INSERT INTO health (id, checked_at) VALUES (1, '');
