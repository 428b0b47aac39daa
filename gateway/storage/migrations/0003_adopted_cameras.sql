-- Cameras adopted from the UI/CLI live in the database (config-file cameras are merged in at
-- start). Their passwords are stored encrypted with the gateway's key file, never in clear.

ALTER TABLE cameras ADD COLUMN adopted INTEGER NOT NULL DEFAULT 0 CHECK (adopted IN (0, 1));
ALTER TABLE cameras ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1));
ALTER TABLE cameras ADD COLUMN options TEXT NOT NULL DEFAULT '{}';

CREATE TABLE camera_credentials (
    camera_id TEXT PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
    username  TEXT,
    secret    BLOB NOT NULL
) STRICT;
