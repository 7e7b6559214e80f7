-- 0004_digest: a digest of each item's fields as last fetched, so that a
-- poll recognises an unchanged item by one lookup per fetch instead of
-- cleaning and comparing its text. 0 for rows written before it: those
-- are compared field by field once, then get their digest.
ALTER TABLE items ADD COLUMN raw_digest INTEGER NOT NULL DEFAULT 0;
