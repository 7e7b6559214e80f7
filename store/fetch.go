package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wiredesk/wiredesk"
)

// SaveFetch saves everything one poll produced in ONE transaction: the
// source row if it is missing, the items, their story membership, and the
// source's new state. An ETag is therefore never recorded without the items
// it vouches for: if anything fails, nothing is stored and the next poll
// fetches the same items again without If-None-Match (RFC 9110 13.1.2).
//
// A FetchResult without items (a 304 or an error) saves just the state;
// stored items are never deleted here.
func (db *DB) SaveFetch(ctx context.Context, res wiredesk.FetchResult) (wiredesk.IngestStats, error) {
	name := res.Source
	if name == "" {
		name = res.State.Source
	}
	if name == "" {
		return wiredesk.IngestStats{}, errors.New("save fetch: empty source name")
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return wiredesk.IngestStats{}, fmt.Errorf("save fetch for %s: %w", name, err)
	}
	defer tx.Rollback()
	// One now per fetch: every item the fetch carries gets the same
	// last_seen, which is how Prune recognises the latest snapshot.
	now := db.now()
	f := db.folding(now)
	if f.on {
		f.matcher = res.Matcher
	}
	stats, err := saveFetch(ctx, tx, db.ws, name, res, now, f)
	if err != nil {
		return wiredesk.IngestStats{}, fmt.Errorf("save fetch for %s: %w", name, err)
	}
	swept, err := db.sweepDocs(ctx, tx, now, f)
	if err != nil {
		return wiredesk.IngestStats{}, fmt.Errorf("save fetch for %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return wiredesk.IngestStats{}, fmt.Errorf("save fetch for %s: commit: %w", name, err)
	}
	if swept {
		db.docsSwept.Store(now.UnixNano())
	}
	return stats, nil
}

// docSweepEvery is how often a save also deletes the stored docs of items
// that left the window: each sweep deletes a minute's worth or so, not
// one item's per save.
const docSweepEvery = time.Minute

// sweepDocsQuery deletes the docs of items up to the newest first seen
// before the window: ids grow with first sight, so that is one range of
// the table, found by one index lookup. An item stored with an earlier
// first_seen than its id suggests loses its doc early, and is cleaned
// from its text if it is ever a candidate again.
const sweepDocsQuery = `DELETE FROM item_docs WHERE item_id <=
	(SELECT id FROM items WHERE first_seen < ? ORDER BY first_seen DESC LIMIT 1)`

// sweepDocs deletes, at most every docSweepEvery, the docs of items no
// longer candidates: those first seen before the window. It reports
// whether it ran.
func (db *DB) sweepDocs(ctx context.Context, tx *sql.Tx, now time.Time, f folding) (bool, error) {
	if !f.on || db.Window <= 0 || now.UnixNano()-db.docsSwept.Load() < int64(docSweepEvery) {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, sweepDocsQuery, f.since); err != nil {
		return false, fmt.Errorf("drop docs older than the window: %w", err)
	}
	return true, nil
}

// folding is how new items find an existing story by exact key.
type folding struct {
	on      bool                  // look up keys at all (DB.Fold)
	since   string                // stored time: only items first seen since then count
	matcher wiredesk.StoryMatcher // near-duplicates; nil: exact keys only
}

// folding returns the folding rule of a save at now.
func (db *DB) folding(now time.Time) folding {
	f := folding{on: db.Fold, since: fmtTime(time.Time{})}
	if db.Window > 0 {
		f.since = fmtTime(now.Add(-db.Window))
	}
	return f
}

// saveFetch is SaveFetch inside its transaction, in steps: source, items,
// state, then the primary copy of every story that gained or changed a copy.
func saveFetch(ctx context.Context, tx *sql.Tx, st *writeStmts, name string, res wiredesk.FetchResult, now time.Time, f folding) (wiredesk.IngestStats, error) {
	var stats wiredesk.IngestStats
	srcID, err := ensureSource(ctx, tx, st, name)
	if err != nil {
		return stats, err
	}
	if len(res.Items) > 0 {
		// Bound only here: most fetches of a steady cycle carry no items.
		w := newItemWriter(st.bind(ctx, tx), srcID, now, f)
		if err := w.findStored(ctx, res.Items); err != nil {
			return stats, err
		}
		if err := w.lookUpKeys(ctx, res.Items); err != nil {
			return stats, err
		}
		for _, it := range res.Items {
			if err := w.save(ctx, it, &stats); err != nil {
				return stats, fmt.Errorf("item %s: %w", it.GUID, err)
			}
		}
		if err := w.finish(ctx, tx, now); err != nil {
			return stats, err
		}
	}
	if len(res.Unchanged) > 0 {
		n, err := markSeen(ctx, tx, st, srcID, res.Unchanged, fmtTime(now))
		if err != nil {
			return stats, err
		}
		stats.Unchanged += n
	}
	if res.KeepState {
		return stats, nil
	}
	if res.Settle != nil {
		res.State = res.Settle(stats, res.State)
	}
	if err := saveState(ctx, tx, st, srcID, res.FeedURL, res.State); err != nil {
		return stats, err
	}
	return stats, nil
}

// markSeen sets last_seen on the source's items with these GUIDs, one
// statement per fetch however many items; it returns how many it found.
func markSeen(ctx context.Context, tx *sql.Tx, st *writeStmts, sourceID int64, guids []string, now string) (int, error) {
	res, err := tx.StmtContext(ctx, st.markSeen).ExecContext(ctx, now, sourceID, jsonList(guids))
	if err != nil {
		return 0, fmt.Errorf("mark seen: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("mark seen: %w", err)
	}
	return int(n), nil
}

// KnownDigests returns the RawDigest of the source's stored items among
// guids (0 for items stored before digests were kept), for the poller to
// skip unchanged items before doing any work on them.
func (db *DB) KnownDigests(ctx context.Context, source string, guids []string) (map[string]int64, error) {
	out := make(map[string]int64, len(guids))
	rows, err := db.rs.knownDigests.QueryContext(ctx, source, jsonList(guids))
	if err != nil {
		return nil, fmt.Errorf("known digests of %s: %w", source, err)
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		var d int64
		if err := rows.Scan(&g, &d); err != nil {
			return nil, fmt.Errorf("known digests of %s: %w", source, err)
		}
		out[g] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("known digests of %s: %w", source, err)
	}
	return out, nil
}

// itemWriter saves the items of one fetch.
type itemWriter struct {
	*writeStmts // bound to the fetch's transaction
	sourceID    int64
	at          time.Time // of the fetch
	now         string    // at, as stored
	fold        folding

	// stored are the fetch's items already stored, by GUID, as they are
	// in the transaction: items saved by the fetch join them, so that a
	// GUID repeated in the feed updates its first occurrence.
	stored map[string]storedItem

	// urlStory and hashStory are the stories the fetch's new items find by
	// canonical URL and by content hash (storyFor), looked up for all of
	// them at once (lookUpKeys). An item the fetch stores is found by the
	// later ones by its hash as it would be in the table; by its URL it
	// is not, being of the same source. An item the fetch updates may
	// change its hash: hashStale then sends every later hash to the table.
	urlStory, hashStory map[string]int64
	hashStale           bool

	touched []int64 // stories that gained or changed a copy, in order
	isTouch map[int64]bool
	started int // stories created, for IngestStats.Stories
	// created are the stories this fetch started, each with the item that
	// started it: its primary copy, unless a later item of the fetch joins
	// or changes the story, which touches it.
	created [][2]int64
}

func newItemWriter(st *writeStmts, sourceID int64, now time.Time, f folding) *itemWriter {
	return &itemWriter{writeStmts: st, sourceID: sourceID, at: now, now: fmtTime(now), fold: f, isTouch: map[int64]bool{}}
}

// finish sets the primary copy of the stories the fetch started and no
// later item touched, one statement for all (choosing it again, as
// touchStories does, costs two ordered lookups per story), then touches
// the rest.
func (w *itemWriter) finish(ctx context.Context, tx *sql.Tx, now time.Time) error {
	var pairs [][2]int64
	for _, c := range w.created {
		if !w.isTouch[c[0]] {
			pairs = append(pairs, c)
		}
	}
	if len(pairs) > 0 {
		if _, err := tx.ExecContext(ctx, setPrimariesQuery, jsonList(pairs)); err != nil {
			return fmt.Errorf("set primary copies: %w", err)
		}
	}
	return touchStories(ctx, tx, w.touched, now)
}

func (w *itemWriter) touch(storyID int64) {
	if !w.isTouch[storyID] {
		w.isTouch[storyID] = true
		w.touched = append(w.touched, storyID)
	}
}

// storedItem is the part of a stored item that decides whether a fetched
// copy changed it. Times stay in their stored string form.
type storedItem struct {
	id, storyID                  int64
	url, title, summary, content string
	published, updated           string
}

// findStored loads the stored items among the fetch's, in one query.
func (w *itemWriter) findStored(ctx context.Context, items []wiredesk.Item) error {
	guids := make([]string, len(items))
	for i, it := range items {
		guids[i] = it.GUID
	}
	rows, err := w.find.QueryContext(ctx, w.sourceID, jsonList(guids))
	if err != nil {
		return fmt.Errorf("find stored items: %w", err)
	}
	defer rows.Close()
	w.stored = make(map[string]storedItem, len(items))
	for rows.Next() {
		var guid string
		var old storedItem
		if err := rows.Scan(&guid, &old.id, &old.storyID, &old.url, &old.title, &old.summary,
			&old.content, &old.published, &old.updated); err != nil {
			return fmt.Errorf("find stored items: %w", err)
		}
		w.stored[guid] = old
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find stored items: %w", err)
	}
	return nil
}

// lookUpKeys finds the stories of the new items' canonical URLs and
// content hashes, as storyFor would one item at a time: a query per fetch
// for each key, not per item.
func (w *itemWriter) lookUpKeys(ctx context.Context, items []wiredesk.Item) error {
	w.urlStory, w.hashStory = map[string]int64{}, map[string]int64{}
	if !w.fold.on {
		return nil
	}
	var urls, hashes []string
	for _, it := range items {
		if _, ok := w.stored[it.GUID]; ok {
			continue
		}
		if it.CanonicalURL != "" {
			urls = append(urls, it.CanonicalURL)
		}
		if it.ContentHash != "" {
			hashes = append(hashes, it.ContentHash)
		}
	}
	// notFrom 0 excludes no source (ids start at 1): the hash lookup spans
	// them all.
	for _, k := range []struct {
		name    string
		keys    []string
		stmt    *sql.Stmt
		notFrom int64
		into    map[string]int64
	}{
		{"canonical_url", urls, w.urlStories, w.sourceID, w.urlStory},
		{"content_hash", hashes, w.hashStories, 0, w.hashStory},
	} {
		if len(k.keys) == 0 {
			continue
		}
		if err := scanKeyStories(ctx, k.stmt, jsonList(k.keys), w.fold.since, k.notFrom, k.into); err != nil {
			return fmt.Errorf("find stories by %s: %w", k.name, err)
		}
	}
	return nil
}

// scanKeyStories runs a urlStoriesQuery or hashStoriesQuery into m.
func scanKeyStories(ctx context.Context, stmt *sql.Stmt, keys, since string, notFrom int64, m map[string]int64) error {
	rows, err := stmt.QueryContext(ctx, keys, since, notFrom)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			return err
		}
		m[k] = id
	}
	return rows.Err()
}

// save stores one item: update in place when (source, guid) is known,
// insert it into a story otherwise. The same guid twice in one fetch is
// thus an update of the first occurrence, not a constraint failure.
func (w *itemWriter) save(ctx context.Context, it wiredesk.Item, stats *wiredesk.IngestStats) error {
	if old, ok := w.stored[it.GUID]; ok {
		return w.updateItem(ctx, old, it, stats)
	}
	stats.New++
	started := w.started
	if err := w.insertItem(ctx, it); err != nil {
		return err
	}
	if w.started > started {
		stats.Stories++
	} else {
		stats.Copies++
	}
	return nil
}

// updateItem refreshes a known item. A zero Published or Updated means the
// feed gives none, so the stored value (from first sight) stands; otherwise
// an undated item would count as changed on every poll. The item keeps its
// story: a story's membership never moves.
func (w *itemWriter) updateItem(ctx context.Context, old storedItem, it wiredesk.Item, stats *wiredesk.IngestStats) error {
	pub, upd := old.published, old.updated
	if !it.Published.IsZero() {
		pub = fmtTime(it.Published)
	}
	if !it.Updated.IsZero() {
		upd = fmtTime(it.Updated)
	}
	if it.URL == old.url && it.Title == old.title && it.Summary == old.summary &&
		it.Content == old.content && pub == old.published && upd == old.updated {
		stats.Unchanged++
		if _, err := w.seen.ExecContext(ctx, w.now, it.RawDigest, old.id); err != nil {
			return fmt.Errorf("mark seen: %w", err)
		}
		return nil
	}
	stats.Updated++
	w.hashStale = true
	if _, err := w.update.ExecContext(ctx, it.URL, it.CanonicalURL, it.Title, it.Summary,
		it.Content, it.Author, pub, upd, it.ContentHash, blob(it.Fingerprint), w.now, it.RawDigest, old.id); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := w.saveDoc(ctx, old.id, old.storyID, it.Doc); err != nil {
		return err
	}
	w.stored[it.GUID] = storedItem{id: old.id, storyID: old.storyID, url: it.URL, title: it.Title,
		summary: it.Summary, content: it.Content, published: pub, updated: upd}
	w.touch(old.storyID)
	return nil
}

// saveDoc stores the doc of item id's text as saved now, or drops the one
// stored for an earlier text: a stale doc would be compared in its place.
func (w *itemWriter) saveDoc(ctx context.Context, id, storyID int64, doc []byte) error {
	if stored, err := w.putDocIfAny(ctx, id, storyID, doc); stored || err != nil {
		return err
	}
	if _, err := w.dropDoc.ExecContext(ctx, id); err != nil {
		return fmt.Errorf("drop doc: %w", err)
	}
	return nil
}

// putDocIfAny stores item id's doc, if it has one and there is a matcher
// to read it, and reports whether it did.
func (w *itemWriter) putDocIfAny(ctx context.Context, id, storyID int64, doc []byte) (bool, error) {
	if w.fold.matcher == nil || len(doc) == 0 {
		return false, nil
	}
	if _, err := w.putDoc.ExecContext(ctx, id, storyID, doc); err != nil {
		return false, fmt.Errorf("store doc: %w", err)
	}
	return true, nil
}

// insertItem stores a new item in its story, filling the times the feed
// did not give: FirstSeen now, Published from FirstSeen, Updated from
// Published.
func (w *itemWriter) insertItem(ctx context.Context, it wiredesk.Item) error {
	firstSeen := w.now
	if !it.FirstSeen.IsZero() {
		firstSeen = fmtTime(it.FirstSeen)
	}
	pub := firstSeen
	if !it.Published.IsZero() {
		pub = fmtTime(it.Published)
	}
	upd := pub
	if !it.Updated.IsZero() {
		upd = fmtTime(it.Updated)
	}
	started := w.started
	storyID, err := w.storyFor(ctx, it, pub)
	if err != nil {
		return err
	}
	res, err := w.insert.ExecContext(ctx, w.sourceID, it.GUID, it.URL, it.CanonicalURL,
		it.Title, it.Summary, it.Content, it.Author, pub, upd, firstSeen, w.now,
		it.ContentHash, blob(it.Fingerprint), storyID, it.RawDigest)
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	if it.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	w.stored[it.GUID] = storedItem{id: it.ID, storyID: storyID, url: it.URL, title: it.Title,
		summary: it.Summary, content: it.Content, published: pub, updated: upd}
	if _, ok := w.hashStory[it.ContentHash]; !ok && it.ContentHash != "" && firstSeen >= w.fold.since {
		w.hashStory[it.ContentHash] = storyID
	}
	if _, err := w.putDocIfAny(ctx, it.ID, storyID, it.Doc); err != nil {
		return err
	}
	if w.started > started {
		w.created = append(w.created, [2]int64{storyID, it.ID})
	} else {
		w.touch(storyID)
	}
	if w.fold.matcher != nil {
		it.StoryID = storyID
		if err := (timeCol{&it.FirstSeen}).Scan(firstSeen); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		w.fold.matcher.Saved(it)
	}
	return nil
}

// blob stores a nil fingerprint as an empty one: the column is NOT NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// storyFor picks the story a new item joins: the one dedupe chose
// upstream, else, when folding is on, the story of a stored item with the
// same canonical URL from another source, else with the same content hash
// from any source (an exact repeat), else a new story. Only items first
// seen within the folding window count.
//
// The URL match skips the item's own source: a feed that links every item
// to its home page or a section page gives them all one URL, yet they are
// different stories. Two wire services rarely share such a page.
func (w *itemWriter) storyFor(ctx context.Context, it wiredesk.Item, pub string) (int64, error) {
	var id int64
	if it.StoryID != 0 {
		err := w.story.QueryRowContext(ctx, it.StoryID).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("find story %d: %w", it.StoryID, err)
		}
	}
	if !w.fold.on {
		return w.newStory(ctx, pub)
	}
	if id, ok := w.urlStory[it.CanonicalURL]; ok && it.CanonicalURL != "" {
		return id, nil
	}
	if it.ContentHash != "" {
		if !w.hashStale {
			if id, ok := w.hashStory[it.ContentHash]; ok {
				return id, nil
			}
		} else {
			err := w.byHash.QueryRowContext(ctx, it.ContentHash, w.fold.since, 0).Scan(&id)
			if err == nil {
				return id, nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return 0, fmt.Errorf("find story by content_hash: %w", err)
			}
		}
	}
	if id, err := w.matchStory(ctx, it); err != nil || id != 0 {
		return id, err
	}
	return w.newStory(ctx, pub)
}

// matchStory asks the matcher which story the item is a near-duplicate
// of, handing it the candidates as stored, with their docs (or, lacking
// one, their text): the decision is verified on the text, not on
// fingerprints alone. 0 means none.
func (w *itemWriter) matchStory(ctx context.Context, it wiredesk.Item) (int64, error) {
	if w.fold.matcher == nil {
		return 0, nil
	}
	ids := w.fold.matcher.Candidates(it)
	if len(ids) == 0 {
		return 0, nil
	}
	cands, err := candidates(ctx, w.candidates, ids)
	if err != nil {
		return 0, fmt.Errorf("load candidates: %w", err)
	}
	id := w.fold.matcher.Decide(it, cands)
	if id == 0 {
		return 0, nil
	}
	// The story may have been pruned since the index saw it.
	err = w.story.QueryRowContext(ctx, id).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find story %d: %w", id, err)
	}
	return id, nil
}

// newStory creates a story with a GUID fixed for its life. A random UUID
// as a urn:uuid URI is the form RFC 4287 section 4.2.6 uses for atom:id.
func (w *itemWriter) newStory(ctx context.Context, pub string) (int64, error) {
	w.started++
	res, err := w.createStory.ExecContext(ctx, newStoryGUID(w.at), pub, w.now, w.now)
	if err != nil {
		return 0, fmt.Errorf("create story: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("create story: %w", err)
	}
	return id, nil
}

// newStoryGUID returns "urn:uuid:" and a version 7 UUID (RFC 9562
// section 5.7): the creation time in Unix milliseconds, then 74 random
// bits. Ordered by time, new GUIDs land at the end of the stories' unique
// GUID index, where version 4's random ones dirtied a page anywhere in it
// for every story, written again to the WAL by every commit.
func newStoryGUID(at time.Time) string {
	var b [16]byte
	rand.Read(b[6:])                                   // never returns an error; it panics if the OS has no entropy
	ms := uint64(max(at.UnixMilli(), 0)) & (1<<48 - 1) // 48 bits
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70 // version 7
	b[8] = b[8]&0x3f | 0x80 // variant 10
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// touchStories chooses the primary copy of each story again and marks the
// stories updated now, since a copy joined or changed.
func touchStories(ctx context.Context, tx *sql.Tx, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	js := jsonList(ids)
	if err := refreshPrimaries(ctx, tx, `SELECT value FROM json_each(?)`, js); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE stories SET updated = ?
		WHERE id IN (SELECT value FROM json_each(?))`, fmtTime(now), js); err != nil {
		return fmt.Errorf("touch stories: %w", err)
	}
	return nil
}

// setPrimariesQuery sets the primary copy of stories just started, from a
// JSON list of [story id, item id] pairs. The story's published time is
// already its only copy's.
const setPrimariesQuery = `UPDATE stories SET primary_item_id = p.value ->> 1
	FROM json_each(?) AS p WHERE stories.id = p.value ->> 0`

// refreshPrimariesQuery sets the primary copy and published time of the
// stories whose ids idsQuery selects, from their copies: the highest
// source priority wins, then the earliest published, then the first
// stored. One pass over the copies, in the story index alone (which holds
// each copy's source and published time), chooses for every story; a
// story whose choice stands is not written, so its row and the indexes
// over published and the primary copy are left as they are.
func refreshPrimariesQuery(idsQuery string) string {
	return `UPDATE stories SET primary_item_id = p.id, published = p.published
		FROM (SELECT story_id, id, published FROM (
			SELECT i.story_id, i.id, i.published, row_number() OVER (
				PARTITION BY i.story_id ORDER BY s.priority DESC, i.published ASC, i.id ASC) AS rank
			FROM items i JOIN sources s ON s.id = i.source_id
			WHERE i.story_id IN (` + idsQuery + `))
			WHERE rank = 1) AS p
		WHERE stories.id = p.story_id
			AND (stories.primary_item_id IS NOT p.id OR stories.published IS NOT p.published)`
}

// refreshPrimaries sets the primary copy and published time of the stories
// whose ids idsQuery selects (refreshPrimariesQuery). A story without
// copies keeps both: the stories chosen for are those a copy just joined,
// changed in or moved priority in.
func refreshPrimaries(ctx context.Context, tx *sql.Tx, idsQuery string, args ...any) error {
	_, err := tx.ExecContext(ctx, refreshPrimariesQuery(idsQuery), args...)
	if err != nil {
		return fmt.Errorf("choose primary copies: %w", err)
	}
	return nil
}
