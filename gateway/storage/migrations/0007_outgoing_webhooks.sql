-- Outgoing webhooks (issue 13): rules the owner manages at run time that POST a JSON body to a
-- URL of their choice when camera events match. The URL (it may carry a token in its query)
-- and the signing secret are stored sealed with the gateway's key file, never in clear.

CREATE TABLE outgoing_webhooks (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    enabled           INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    url_sealed        BLOB NOT NULL,
    kinds             TEXT NOT NULL DEFAULT '[]',
    cameras           TEXT NOT NULL DEFAULT '[]',
    include_ends      INTEGER NOT NULL DEFAULT 0 CHECK (include_ends IN (0, 1)),
    template          TEXT NOT NULL,
    secret_sealed     BLOB NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    secret_rotated_at TEXT NOT NULL
) STRICT;
