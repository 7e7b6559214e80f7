-- 0009_story_copies: choosing a story's primary copy (the highest source
-- priority, then the earliest published, then the first stored) reads
-- each copy's source and published time. published comes after an item's
-- text, so reading it from the row walked a long text's overflow pages,
-- for every copy of every story a fetch touched. With published in the
-- story index the choice is made from the index alone.
DROP INDEX items_story;
CREATE INDEX items_story ON items(story_id, source_id, published);
