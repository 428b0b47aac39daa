-- Signed audit checkpoints: the Merkle root over the first `size` entry hashes, as a C2SP note
-- signed with the gateway's key. Append-only like the log itself.
CREATE TABLE audit_checkpoints (
    size        INTEGER PRIMARY KEY CHECK (size >= 1),
    at          TEXT NOT NULL,
    root        TEXT NOT NULL,            -- hex
    fingerprint TEXT NOT NULL,            -- the signing key's
    note        TEXT NOT NULL,            -- the signed note, as handed to the owner
    last_hash   TEXT NOT NULL,            -- entry hash of row `size` (where the next batch links)
    frontier    BLOB NOT NULL,            -- the tree's perfect-subtree roots (resume without rows)
    -- The entry hashes of rows (previous checkpoint's size, size]: with the signed root they
    -- say which row a re-computed chain changed first.
    leaves      BLOB NOT NULL
) STRICT;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
