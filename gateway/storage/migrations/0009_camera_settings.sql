-- Camera settings the owner changes from the UI (PATCH /api/cameras/{id}), issue 13.
--
-- A camera declared in the config file keeps the file as its base: each setting changed in the
-- UI is a row here, applied over the file's value at every start. `base` is the file's value
-- the setting replaced (JSON): once the file says something else, the file was edited since,
-- and the file's value wins again (the row is dropped). An adopted camera's own row and
-- credentials are changed instead; it has rows here only for what `cameras` has no column for
-- (`live_stream`, and `removed` for a camera kept only for its clips), with `base` NULL.
--
-- A password is never stored in clear: `secret` holds it sealed with the gateway's key file
-- (`value` is then 'null'), and `base_secret` the file's password it replaced, sealed the same
-- way (NULL when the file had none), for the same "was the file edited since?" comparison.

CREATE TABLE camera_settings (
    camera_id   TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    field       TEXT NOT NULL CHECK (length(field) BETWEEN 1 AND 96),
    value       TEXT NOT NULL,
    base        TEXT,
    secret      BLOB,
    base_secret BLOB,
    changed_at  TEXT NOT NULL,
    PRIMARY KEY (camera_id, field)
) STRICT;
