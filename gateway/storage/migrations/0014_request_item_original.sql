-- Whether the owner also handed over the recording as made (whole, with sound, unmasked) for a
-- clip granted trimmed, silent or masked. Without it only the copy leaves the box; the master
-- stays here under the request's legal hold, its SHA-256 in the package.
ALTER TABLE request_items ADD COLUMN original INTEGER NOT NULL DEFAULT 0 CHECK (original IN (0, 1));
