-- Cameras, their events, recorded clips and user accounts.
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ' so they sort as text; gateway time is authoritative.

CREATE TABLE cameras (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    driver       TEXT NOT NULL,
    host         TEXT NOT NULL,
    port         INTEGER,
    stable_id    TEXT,
    manufacturer TEXT,
    model        TEXT,
    firmware     TEXT,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT
) STRICT;

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    camera_id   TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    active      INTEGER NOT NULL CHECK (active IN (0, 1)),
    initial     INTEGER NOT NULL DEFAULT 0 CHECK (initial IN (0, 1)),
    occurred_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source      TEXT,
    topic       TEXT NOT NULL DEFAULT '',
    attributes  TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX events_by_camera_time ON events (camera_id, received_at);
CREATE INDEX events_by_time ON events (received_at);

-- A camera with clips cannot be deleted by accident: recordings outlive configuration changes.
CREATE TABLE clips (
    id         TEXT PRIMARY KEY,
    camera_id  TEXT NOT NULL REFERENCES cameras(id),
    event_id   INTEGER REFERENCES events(id) ON DELETE SET NULL,
    path       TEXT NOT NULL UNIQUE,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    size_bytes INTEGER NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
    sha256     TEXT,
    held       INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1))
) STRICT;
CREATE INDEX clips_by_camera_time ON clips (camera_id, started_at);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'resident', 'neighbour', 'agency')),
    created_at    TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
) STRICT;
