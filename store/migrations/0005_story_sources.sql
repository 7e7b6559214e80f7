-- 0005_story_sources: a topic walks the stories newest first and keeps
-- those with a copy from one of its sources. With the source in the
-- story index, that check reads the index alone instead of each copy's
-- row, which carries the text and, in a large store, lies in a page of its
-- own: at a million items a topic query took ten times as long as at a
-- hundred thousand. Counting a story's sources (min_sources) reads it
-- alone too.
DROP INDEX items_story;
CREATE INDEX items_story ON items(story_id, source_id);
