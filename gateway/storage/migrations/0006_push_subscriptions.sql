-- Web Push: one row per browser push subscription (per user and device), and a small
-- key-value table of settings the owner changes at run time (the push switch first).

CREATE TABLE push_subscriptions (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint        TEXT NOT NULL UNIQUE,   -- the push service's capability URL: never logged
    p256dh          TEXT NOT NULL,          -- the browser's P-256 key, base64url
    auth            TEXT NOT NULL,          -- the browser's 16-byte auth secret, base64url
    label           TEXT NOT NULL DEFAULT '',
    prefs           TEXT NOT NULL DEFAULT '{}',  -- JSON: per camera and kind, quiet hours
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    last_success_at TEXT,
    last_error      TEXT,
    last_error_at   TEXT
) STRICT;
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,               -- JSON
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL DEFAULT ''
) STRICT;
