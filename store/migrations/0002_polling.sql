-- 0002_polling: what a feed asks about its own polling, and the adaptive
-- interval. All durations in nanoseconds; 0 means none.
--   not_before    no poll before this time (feed hints, skipHours/skipDays)
--   feed_ttl      the interval the feed asks for (RSS ttl, sy:updatePeriod)
--   skip          the feed's skipHours/skipDays, as "h:0,1,2;d:0,6" (GMT)
--   interval      adaptive mode's current interval for the source
--   next_reason   why next_run is what it is, for `wiredesk sources`
ALTER TABLE sources ADD COLUMN not_before  TEXT    NOT NULL DEFAULT '0001-01-01T00:00:00.000000000Z';
ALTER TABLE sources ADD COLUMN feed_ttl    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN skip        TEXT    NOT NULL DEFAULT '';
ALTER TABLE sources ADD COLUMN interval    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN next_reason TEXT    NOT NULL DEFAULT '';
