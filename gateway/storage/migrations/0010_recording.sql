-- Recording: what each clip file holds, the events it covers, and legal holds.
ALTER TABLE clips ADD COLUMN duration_ms INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0);
ALTER TABLE clips ADD COLUMN frames INTEGER NOT NULL DEFAULT 0 CHECK (frames >= 0);
ALTER TABLE clips ADD COLUMN video_codec TEXT NOT NULL DEFAULT 'h264';
ALTER TABLE clips ADD COLUMN width INTEGER;
ALTER TABLE clips ADD COLUMN height INTEGER;
ALTER TABLE clips ADD COLUMN audio_codec TEXT;
-- The camera's clock minus the gateway's when the clip was made (NULL: not known).
ALTER TABLE clips ADD COLUMN clock_offset_s REAL;
ALTER TABLE clips ADD COLUMN mode TEXT NOT NULL DEFAULT 'events'
    CHECK (mode IN ('events', 'continuous'));
-- The event kinds the clip covers, as ",motion,doorbell," so a kind filter is one LIKE.
ALTER TABLE clips ADD COLUMN kinds TEXT NOT NULL DEFAULT ',';
-- 1: finished at the next start after a crash (it plays to its last complete fragment).
ALTER TABLE clips ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0 CHECK (recovered IN (0, 1));
-- 'missing': the row's file was gone at a start; 'deleting': its file is being removed.
ALTER TABLE clips ADD COLUMN state TEXT NOT NULL DEFAULT 'ok'
    CHECK (state IN ('ok', 'missing', 'deleting'));
ALTER TABLE clips ADD COLUMN poster INTEGER NOT NULL DEFAULT 0 CHECK (poster IN (0, 1));
CREATE INDEX clips_by_time ON clips (started_at);
CREATE INDEX clips_unheld_by_time ON clips (held, started_at);

CREATE TABLE clip_events (
    clip_id  TEXT NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    PRIMARY KEY (clip_id, event_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX clip_events_by_event ON clip_events (event_id);

-- A hold keeps a clip from retention and from "delete" until it is released or its end date
-- passes. `clips.held` says whether one is in force, kept in step by the repository.
CREATE TABLE clip_holds (
    id          INTEGER PRIMARY KEY,
    clip_id     TEXT NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    until       TEXT,
    held_by     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    released_at TEXT,
    released_by TEXT
) STRICT;
CREATE INDEX clip_holds_by_clip ON clip_holds (clip_id);

-- The schema's own guard: a clip under a hold in force cannot be deleted, whoever asks.
CREATE TRIGGER clips_held_are_kept BEFORE DELETE ON clips
WHEN EXISTS (
    SELECT 1 FROM clip_holds
    WHERE clip_id = OLD.id AND released_at IS NULL
      AND (until IS NULL OR until > strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
BEGIN
    SELECT RAISE(ABORT, 'the clip is held');
END;
