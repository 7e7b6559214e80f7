-- 0006_story_walk: a topic walks the stories newest first until it has
-- kept enough of them. With the primary copy in the publication index,
-- the walk decides on each story from the index alone and reads the rows
-- of the stories it keeps only; before, it read every story row it
-- passed, one page each in a large store.
DROP INDEX stories_published;
CREATE INDEX stories_published ON stories(published, id, primary_item_id);
