-- Camera grants go with their camera: a grant whose camera was deleted must not come back to
-- life when another device is adopted under the same id. Only residents hold grants.
-- Sessions remember when they last proved the password (security-sensitive changes need it).

CREATE TABLE camera_grants_new (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    camera_id TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, camera_id)
) STRICT;
INSERT INTO camera_grants_new (user_id, camera_id)
    SELECT g.user_id, g.camera_id FROM camera_grants g
    JOIN cameras c ON c.id = g.camera_id AND c.enabled = 1
    JOIN users u ON u.id = g.user_id AND u.role = 'resident';
DROP TABLE camera_grants;
ALTER TABLE camera_grants_new RENAME TO camera_grants;
CREATE INDEX camera_grants_by_camera ON camera_grants (camera_id);

ALTER TABLE sessions ADD COLUMN confirmed_at TEXT;
