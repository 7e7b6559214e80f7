-- 0008_item_docs: the compact cleaned text of each item that can still be
-- a near-duplicate candidate (first seen within the dedupe window), as the
-- dedupe package encodes it. A new copy is compared with its candidates'
-- stored docs instead of cleaning their texts again: on a cold cycle over
-- 2,000 feeds, cleaning candidates was a fifth of the CPU.
--
-- Kept apart from items so that the rows leave once the window has passed
-- (the writer deletes them) without rewriting the items, and so that
-- reading items does not page through them. Empty until new items arrive:
-- a candidate without a doc is cleaned from its text, as before.
--
-- The item's story is kept here too (an item never changes story): loading
-- a candidate then reads this row only, not the item's, whose story_id
-- comes after its text, so reading it walks a long text's overflow pages.
CREATE TABLE item_docs (
	item_id  INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
	story_id INTEGER NOT NULL,
	doc      BLOB    NOT NULL
);
