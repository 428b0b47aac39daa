-- What a package is made from (the decision's summary: status, granted clips with their trims,
-- sound, masks and whether the master goes, declined clips, the hold's end), so a package a
-- stop interrupted, or one that failed, can be made again under the same grant and link.
ALTER TABLE evidence_packages ADD COLUMN decision TEXT NOT NULL DEFAULT '{}';
