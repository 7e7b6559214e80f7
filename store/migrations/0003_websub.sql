-- 0003_websub: WebSub subscriptions to the hubs sources advertise.
--   id       the unguessable last segment of the callback URL
--   state    pending (asked, not yet verified), active, denied
CREATE TABLE websub_subscriptions (
	id            TEXT PRIMARY KEY,
	source        TEXT NOT NULL,
	hub           TEXT NOT NULL,
	topic         TEXT NOT NULL,
	secret        TEXT NOT NULL,
	state         TEXT NOT NULL,
	lease_expires TEXT NOT NULL DEFAULT '0001-01-01T00:00:00.000000000Z',
	updated       TEXT NOT NULL
);
CREATE INDEX websub_subscriptions_source ON websub_subscriptions (source);
