-- Accounts: second factor and server-side sessions; residents' camera grants; the audit log.

ALTER TABLE users ADD COLUMN totp_secret BLOB;          -- sealed with the gateway key
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;  -- replay guard

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,       -- SHA-256 of the cookie value; the value is never stored
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE camera_grants (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    camera_id TEXT NOT NULL,
    PRIMARY KEY (user_id, camera_id)
) STRICT;

-- Append-only, hash-chained: each row's hash covers the previous row's hash and its own
-- content, so an edited, removed or re-ordered row breaks the chain.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL DEFAULT '',
    outcome   TEXT NOT NULL DEFAULT 'ok',
    ip        TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT '{}',
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL UNIQUE
) STRICT;
CREATE INDEX audit_by_time ON audit (at);
CREATE INDEX audit_by_actor ON audit (actor, at);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
