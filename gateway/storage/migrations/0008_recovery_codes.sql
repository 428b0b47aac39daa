-- One-time recovery codes for the second factor, and the owner's "choose a new password" flag.
-- A code is stored only as its SHA-256 (codes carry 80 random bits: no slow hash is needed);
-- a used code keeps its row (used_at set) until the set is replaced.

CREATE TABLE recovery_codes (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (user_id, code_hash)
) STRICT;

-- Set when the owner resets someone's password: they choose their own at the next sign-in.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
