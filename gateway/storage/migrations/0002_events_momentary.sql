-- Events may be momentary (a line crossed): `active` becomes nullable. SQLite cannot relax a
-- column constraint in place, so the table is rebuilt with its rows and indexes.

CREATE TABLE events_new (
    id          INTEGER PRIMARY KEY,
    camera_id   TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    active      INTEGER CHECK (active IN (0, 1)),
    initial     INTEGER NOT NULL DEFAULT 0 CHECK (initial IN (0, 1)),
    occurred_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source      TEXT,
    topic       TEXT NOT NULL DEFAULT '',
    attributes  TEXT NOT NULL DEFAULT '{}'
) STRICT;
INSERT INTO events_new SELECT id, camera_id, kind, active, initial, occurred_at, received_at,
                              source, topic, attributes FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_by_camera_time ON events (camera_id, received_at);
CREATE INDEX events_by_time ON events (received_at);
