-- 0007_story_sources_by_time: for each source, the stories it carries, by
-- the story's published time. A topic of a few sources reads each one's
-- newest stories here, at a cost bounded by the topic, instead of walking
-- every story newest first until enough match: in a million-item store a
-- topic whose sources were quiet while others published walked ninety
-- thousand stories (85 ms); one whose stories lay out of id order read a
-- page per story checked.
--
-- Triggers keep it: a row when a source's first copy of a story is stored,
-- gone with its last copy, and moved when the story's published time (its
-- primary copy's) changes. Items never change story or source.
CREATE TABLE story_sources (
	source_id INTEGER NOT NULL,
	published TEXT    NOT NULL, -- the story's
	story_id  INTEGER NOT NULL,
	PRIMARY KEY (source_id, published, story_id)
) WITHOUT ROWID;
CREATE INDEX story_sources_story ON story_sources(story_id);

INSERT INTO story_sources (source_id, published, story_id)
	SELECT DISTINCT i.source_id, st.published, st.id
	FROM items i JOIN stories st ON st.id = i.story_id;

CREATE TRIGGER story_sources_item_insert AFTER INSERT ON items BEGIN
	INSERT OR IGNORE INTO story_sources (source_id, published, story_id)
		SELECT NEW.source_id, published, id FROM stories WHERE id = NEW.story_id;
END;

CREATE TRIGGER story_sources_item_delete AFTER DELETE ON items
WHEN NOT EXISTS (SELECT 1 FROM items WHERE story_id = OLD.story_id AND source_id = OLD.source_id)
BEGIN
	DELETE FROM story_sources WHERE story_id = OLD.story_id AND source_id = OLD.source_id;
END;

CREATE TRIGGER story_sources_story_published AFTER UPDATE OF published ON stories
WHEN OLD.published IS NOT NEW.published
BEGIN
	UPDATE story_sources SET published = NEW.published WHERE story_id = NEW.id;
END;
