package store

import (
	"context"
	"database/sql"
	"fmt"
)

// writeStmts are the statements the writer runs for every item of a
// fetch. They are prepared once, on the writer connection as the DB opens,
// and bound to each transaction with Tx.StmtContext, which reuses a
// statement already prepared on the transaction's connection (and
// prepares it again only if database/sql replaced that connection).
// Parsing and planning them per item took a sixth of the writer's time in
// a cold cycle over 2,000 feeds.
type writeStmts struct {
	find, insert, update, seen *sql.Stmt
	story, byHash              *sql.Stmt
	urlStories, hashStories    *sql.Stmt
	createStory, candidates    *sql.Stmt
	putDoc, dropDoc            *sql.Stmt
	// Per fetch, items or not: in a steady cycle, mostly 304s, parsing
	// the source lookup and the state update anew for each was, with the
	// poller's reads, a quarter of the CPU time.
	sourceID, addSource, state *sql.Stmt
	markSeen                   *sql.Stmt
}

// The "<> ”" terms of the lookups by URL and by hash let SQLite use the
// partial indexes on those columns.
const (
	// findQuery loads the source's stored items among a JSON list of
	// GUIDs: one query per fetch, not one per item.
	findQuery = `SELECT guid, id, story_id, url, title, summary, content, published, updated
		FROM items WHERE source_id = ? AND guid IN (SELECT value FROM json_each(?))`
	insertQuery = `INSERT INTO items (source_id, guid, url, canonical_url, title,
		summary, content, author, published, updated, first_seen, last_seen,
		content_hash, fingerprint, story_id, raw_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	updateQuery = `UPDATE items SET url = ?, canonical_url = ?, title = ?, summary = ?,
		content = ?, author = ?, published = ?, updated = ?, content_hash = ?,
		fingerprint = ?, last_seen = ?, raw_digest = ? WHERE id = ?`
	seenQuery   = `UPDATE items SET last_seen = ?, raw_digest = ? WHERE id = ?`
	storyQuery  = `SELECT id FROM stories WHERE id = ?`
	byHashQuery = `SELECT story_id FROM items WHERE content_hash = ? AND content_hash <> ''
		AND first_seen >= ? AND source_id <> ? ORDER BY id LIMIT 1`
	// urlStoriesQuery and hashStoriesQuery find, for each of a JSON list of
	// canonical URLs or content hashes, the story of the first item stored
	// with it since the window began, from a source other than ?3: the new
	// items of a fetch are looked up in one query each, not two an item.
	// byHashQuery is hashStoriesQuery for one hash.
	urlStoriesQuery = `SELECT key, story FROM (SELECT k.value AS key, (SELECT story_id FROM items
		WHERE canonical_url = k.value AND canonical_url <> '' AND first_seen >= ?2 AND source_id <> ?3
		ORDER BY id LIMIT 1) AS story FROM json_each(?1) AS k) WHERE story IS NOT NULL`
	hashStoriesQuery = `SELECT key, story FROM (SELECT k.value AS key, (SELECT story_id FROM items
		WHERE content_hash = k.value AND content_hash <> '' AND first_seen >= ?2 AND source_id <> ?3
		ORDER BY id LIMIT 1) AS story FROM json_each(?1) AS k) WHERE story IS NOT NULL`
	createStoryQuery = `INSERT INTO stories (guid, published, updated, created) VALUES (?, ?, ?, ?)`
	// candidatesQuery loads the items whose ids are in a JSON list: those
	// with a stored doc from item_docs alone, without reading the item's
	// row; the others (stored before docs were, or whose doc was swept)
	// from items, with their text. SQLite checks NOT EXISTS, which
	// involves only the list, before it seeks the item.
	candidatesQuery = `SELECT d.item_id, d.story_id, d.doc, '', '', ''
		FROM json_each(?1) JOIN item_docs d ON d.item_id = json_each.value
		UNION ALL
		SELECT i.id, i.story_id, NULL, i.title, i.summary, i.content
		FROM json_each(?1) JOIN items i ON i.id = json_each.value
		WHERE NOT EXISTS (SELECT 1 FROM item_docs d WHERE d.item_id = json_each.value)`
	putDocQuery  = `INSERT OR REPLACE INTO item_docs (item_id, story_id, doc) VALUES (?, ?, ?)`
	dropDocQuery = `DELETE FROM item_docs WHERE item_id = ?`

	sourceIDQuery  = `SELECT id FROM sources WHERE name = ?`
	addSourceQuery = `INSERT INTO sources (name) VALUES (?) ON CONFLICT (name) DO NOTHING`
	// stateQuery records a poll's outcome unless the source has another
	// URL by now (see saveState).
	stateQuery = `UPDATE sources SET
		last_fetch = ?, last_success = ?, status = ?, http_status = ?,
		last_error = ?, etag = ?, last_modified = ?, next_run = ?,
		consecutive_failures = ?, not_before = ?, feed_ttl = ?, skip = ?,
		interval = ?, next_reason = ?
		WHERE id = ?15 AND (?16 = '' OR feed_url = '' OR feed_url = ?16)`
	// markSeenQuery sets last_seen on a JSON list of a source's GUIDs.
	markSeenQuery = `UPDATE items SET last_seen = ? WHERE source_id = ?
		AND guid IN (SELECT value FROM json_each(?))`
)

// prepareWrites prepares the writer's statements on w.
func prepareWrites(ctx context.Context, w *sql.DB) (*writeStmts, error) {
	s := &writeStmts{}
	err := prepareAll(ctx, w, []stmtDef{
		{&s.find, findQuery}, {&s.insert, insertQuery}, {&s.update, updateQuery},
		{&s.seen, seenQuery}, {&s.story, storyQuery},
		{&s.byHash, byHashQuery}, {&s.urlStories, urlStoriesQuery}, {&s.hashStories, hashStoriesQuery},
		{&s.createStory, createStoryQuery}, {&s.candidates, candidatesQuery},
		{&s.putDoc, putDocQuery}, {&s.dropDoc, dropDocQuery},
		{&s.sourceID, sourceIDQuery}, {&s.addSource, addSourceQuery},
		{&s.state, stateQuery}, {&s.markSeen, markSeenQuery},
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// stmtDef is a statement to prepare and where to keep it.
type stmtDef struct {
	dst   **sql.Stmt
	query string
}

// prepareAll prepares every statement on h, or none: on an error it
// closes those it prepared.
func prepareAll(ctx context.Context, h *sql.DB, defs []stmtDef) error {
	for i, d := range defs {
		st, err := h.PrepareContext(ctx, d.query)
		if err != nil {
			for _, done := range defs[:i] {
				(*done.dst).Close()
			}
			return fmt.Errorf("prepare: %w", err)
		}
		*d.dst = st
	}
	return nil
}

// bind returns the statements bound to tx, those a fetch with items
// runs; the per-fetch ones are bound where they are used.
func (s *writeStmts) bind(ctx context.Context, tx *sql.Tx) *writeStmts {
	return &writeStmts{
		find: tx.StmtContext(ctx, s.find), insert: tx.StmtContext(ctx, s.insert),
		update: tx.StmtContext(ctx, s.update), seen: tx.StmtContext(ctx, s.seen),
		story:  tx.StmtContext(ctx, s.story),
		byHash: tx.StmtContext(ctx, s.byHash), urlStories: tx.StmtContext(ctx, s.urlStories),
		hashStories: tx.StmtContext(ctx, s.hashStories), createStory: tx.StmtContext(ctx, s.createStory),
		candidates: tx.StmtContext(ctx, s.candidates),
		putDoc:     tx.StmtContext(ctx, s.putDoc), dropDoc: tx.StmtContext(ctx, s.dropDoc),
	}
}

func (s *writeStmts) close() {
	for _, st := range []*sql.Stmt{s.find, s.insert, s.update, s.seen, s.story,
		s.byHash, s.urlStories, s.hashStories, s.createStory, s.candidates, s.putDoc, s.dropDoc,
		s.sourceID, s.addSource, s.state, s.markSeen} {
		if st != nil {
			st.Close()
		}
	}
}

// readStmts are the reads the poller makes for every fetch, prepared on
// the read pool: database/sql prepares each on a connection the first
// time it runs there and keeps it.
type readStmts struct {
	sourceState, knownDigests *sql.Stmt
}

// knownDigestsQuery reads the digests of a JSON list of a source's GUIDs,
// by source name.
const knownDigestsQuery = `SELECT i.guid, i.raw_digest FROM items i JOIN sources s ON s.id = i.source_id
	WHERE s.name = ? AND i.guid IN (SELECT value FROM json_each(?))`

// sourceStateQuery reads one source's state, by name.
const sourceStateQuery = `SELECT ` + stateColumns + ` FROM sources WHERE name = ?`

func prepareReads(ctx context.Context, r *sql.DB) (*readStmts, error) {
	s := &readStmts{}
	err := prepareAll(ctx, r, []stmtDef{
		{&s.sourceState, sourceStateQuery}, {&s.knownDigests, knownDigestsQuery},
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *readStmts) close() {
	s.sourceState.Close()
	s.knownDigests.Close()
}
