-- 0001_init: sources, stories and items.
--
-- Every time column holds TEXT in UTC with a fixed width,
-- 'YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ' (RFC 3339 with nine fractional digits),
-- so that string order is time order and indexes on them sort correctly.
-- The zero time is stored as '0001-01-01T00:00:00.000000000Z'.
--
-- An applied migration is never edited: add 0002_….sql instead.

CREATE TABLE sources (
	id                   INTEGER PRIMARY KEY,
	name                 TEXT    NOT NULL UNIQUE,
	feed_url             TEXT    NOT NULL DEFAULT '',
	priority             INTEGER NOT NULL DEFAULT 0,
	etag                 TEXT    NOT NULL DEFAULT '',
	last_modified        TEXT    NOT NULL DEFAULT '',
	last_fetch           TEXT    NOT NULL DEFAULT '0001-01-01T00:00:00.000000000Z',
	last_success         TEXT    NOT NULL DEFAULT '0001-01-01T00:00:00.000000000Z',
	status               TEXT    NOT NULL DEFAULT '',
	http_status          INTEGER NOT NULL DEFAULT 0,
	last_error           TEXT    NOT NULL DEFAULT '',
	next_run             TEXT    NOT NULL DEFAULT '0001-01-01T00:00:00.000000000Z',
	consecutive_failures INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE stories (
	id              INTEGER PRIMARY KEY,
	guid            TEXT    NOT NULL UNIQUE,
	-- NULL only between creating a story and inserting its first copy,
	-- inside one transaction.
	primary_item_id INTEGER REFERENCES items(id) ON DELETE SET NULL,
	published       TEXT    NOT NULL,
	updated         TEXT    NOT NULL,
	created         TEXT    NOT NULL
);

CREATE INDEX stories_published ON stories(published, id);
-- Deleting an item checks the foreign key above; without this index each
-- delete would scan every story.
CREATE INDEX stories_primary_item ON stories(primary_item_id);

CREATE TABLE items (
	id            INTEGER PRIMARY KEY,
	source_id     INTEGER NOT NULL REFERENCES sources(id),
	guid          TEXT    NOT NULL,
	url           TEXT    NOT NULL DEFAULT '',
	canonical_url TEXT    NOT NULL DEFAULT '',
	title         TEXT    NOT NULL DEFAULT '',
	summary       TEXT    NOT NULL DEFAULT '',
	content       TEXT    NOT NULL DEFAULT '',
	author        TEXT    NOT NULL DEFAULT '',
	published     TEXT    NOT NULL,
	updated       TEXT    NOT NULL,
	first_seen    TEXT    NOT NULL,
	last_seen     TEXT    NOT NULL,
	content_hash  TEXT    NOT NULL DEFAULT '',
	-- The dedupe package's signature of the running text (opaque here),
	-- so the near-duplicate index is rebuilt without cleaning every text.
	fingerprint   BLOB    NOT NULL DEFAULT x'',
	story_id      INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
	UNIQUE (source_id, guid)
);

-- Partial indexes: empty keys never fold stories together, so they need no
-- index entries. first_seen narrows a lookup to the folding window, so a
-- URL shared by thousands of items (a section page) costs only the recent
-- ones.
CREATE INDEX items_canonical_url ON items(canonical_url, first_seen) WHERE canonical_url <> '';
CREATE INDEX items_content_hash ON items(content_hash, first_seen) WHERE content_hash <> '';
CREATE INDEX items_story ON items(story_id);
-- Prune finds each source's latest snapshot: the items whose last_seen is
-- the source's maximum.
CREATE INDEX items_source_seen ON items(source_id, last_seen);
CREATE INDEX items_published ON items(published, id);
-- The near-duplicate index is rebuilt from the items first seen within
-- its window.
CREATE INDEX items_first_seen ON items(first_seen);
