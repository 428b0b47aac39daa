-- Shares: derived copies of clips the owner hands to neighbours (a link, neighbour accounts).
-- Nothing here holds the home's location: a share carries only its coarse cell and label.
CREATE TABLE shares (
    id            TEXT PRIMARY KEY,        -- opaque, random
    token_hash    TEXT UNIQUE,             -- SHA-256 of the link's token; NULL: no link
    title         TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    description   TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    category      TEXT NOT NULL CHECK (category IN
                      ('package_theft', 'suspicious_activity', 'lost_pet', 'vehicle', 'other')),
    audio         INTEGER NOT NULL CHECK (audio IN (0, 1)),
    place_cell    TEXT,
    place_label   TEXT,
    household     TEXT,                    -- a name the owner typed for this share, or NULL
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    view_limit    INTEGER CHECK (view_limit IS NULL OR view_limit >= 1),
    views         INTEGER NOT NULL DEFAULT 0,
    downloads     INTEGER NOT NULL DEFAULT 0,
    revoked_at    TEXT,
    revoked_by    TEXT,
    -- When the gateway first saw the share past its expiry: never cleared, so a clock moved
    -- back cannot bring it back.
    ended_at      TEXT,
    files_removed INTEGER NOT NULL DEFAULT 0 CHECK (files_removed IN (0, 1))
) STRICT;
CREATE INDEX shares_by_time ON shares (created_at);

-- One derived copy per shared clip, in the order the owner chose.
CREATE TABLE share_items (
    share_id    TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL CHECK (position >= 0),
    clip_id     TEXT NOT NULL,             -- the master (retention may delete it; the copy stays)
    start_ms    INTEGER NOT NULL CHECK (start_ms >= 0),
    end_ms      INTEGER CHECK (end_ms IS NULL OR end_ms > start_ms),
    exact       INTEGER NOT NULL DEFAULT 0 CHECK (exact IN (0, 1)),
    masks       TEXT NOT NULL DEFAULT '[]',          -- JSON: rectangles, fractions of the frame
    recorded_at TEXT NOT NULL,             -- to the minute
    state       TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'working', 'ready', 'failed')),
    error       TEXT,
    file        TEXT,                      -- under the shares directory
    size_bytes  INTEGER NOT NULL DEFAULT 0,
    sha256      TEXT,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    width       INTEGER,
    height      INTEGER,
    has_audio   INTEGER NOT NULL DEFAULT 0 CHECK (has_audio IN (0, 1)),
    derivation  TEXT,                      -- JSON: master SHA-256 → copy SHA-256, operations
    PRIMARY KEY (share_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE share_recipients (
    share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (share_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX share_recipients_by_user ON share_recipients (user_id);

-- Each view (a page opened) and download; `view_key_hash` lets that view's player fetch the
-- media. `client` is coarse ("Chrome on Android"): no address is kept here.
CREATE TABLE share_accesses (
    id            INTEGER PRIMARY KEY,
    share_id      TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('view', 'download')),
    via           TEXT NOT NULL CHECK (via IN ('link', 'account')),
    account       TEXT,
    client        TEXT NOT NULL DEFAULT '',
    view_key_hash TEXT UNIQUE
) STRICT;
CREATE INDEX share_accesses_by_share ON share_accesses (share_id, at);
