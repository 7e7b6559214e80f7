package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wiredesk/wiredesk"
)

// itemColumns are selected, in this order, by scanItem. The query must
// join items i, sources s and stories st.
const itemColumns = `i.id, s.name, i.guid, i.url, i.canonical_url, i.title,
	i.summary, i.content, i.author, i.published, i.updated, i.first_seen,
	i.content_hash, i.story_id, st.primary_item_id IS i.id`

const itemJoins = `FROM items i
	JOIN sources s ON s.id = i.source_id
	JOIN stories st ON st.id = i.story_id`

func scanItem(rows *sql.Rows) (wiredesk.Item, error) {
	var it wiredesk.Item
	err := rows.Scan(&it.ID, &it.Source, &it.GUID, &it.URL, &it.CanonicalURL,
		&it.Title, &it.Summary, &it.Content, &it.Author, timeCol{&it.Published},
		timeCol{&it.Updated}, timeCol{&it.FirstSeen}, &it.ContentHash,
		&it.StoryID, &it.Primary)
	return it, err
}

// jsonList encodes a list for `IN (SELECT value FROM json_each(?))`: one
// bound parameter whatever the length, so no query is built per call and
// no variable limit applies.
func jsonList[T any](v []T) string {
	if len(v) == 0 {
		// nil would marshal as null, which json_each reads as one NULL
		// value, and NOT IN (NULL) matches nothing.
		return "[]"
	}
	b, _ := json.Marshal(v) // strings and ints always marshal
	return string(b)
}

// limitArg maps "0 means no limit" to SQLite's LIMIT -1.
func limitArg(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// Stories returns stories newest first by the primary copy's published
// time, each with its primary and every copy (earliest published first).
// The copies of the whole page are loaded in one query.
func (db *DB) Stories(ctx context.Context, f wiredesk.StoryFilter) ([]wiredesk.Story, error) {
	if f.Sources != nil && len(f.Sources) == 0 {
		return nil, nil
	}
	var stories []wiredesk.Story
	var err error
	if seeks(f) {
		stories, err = db.seekStories(ctx, f, 0)
	} else {
		q, args := storiesWalkQuery(f)
		stories, err = db.queryStories(ctx, q, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("stories: %w", err)
	}
	if err := db.fillCopies(ctx, stories); err != nil {
		return nil, fmt.Errorf("stories: %w", err)
	}
	return stories, nil
}

// seekBudget bounds the index entries a topic may read by seeking each of
// its sources (sources × (offset + limit)); past it, walking all stories
// newest first is likely to find enough sooner, as the topic's sources
// then carry a good share of them.
const seekBudget = 5_000

// seeks reports whether Stories(f) reads the page source by source
// (seekStories) rather than walking the publication index
// (storiesWalkQuery). A min_sources filter would make the seek's bound
// wrong (the stories it drops push the page further down each source), so
// such topics walk.
func seeks(f wiredesk.StoryFilter) bool {
	// Limit and Offset are bounded first, so that their sum and product
	// cannot overflow.
	return f.Sources != nil && f.MinSources <= 1 && f.Limit > 0 &&
		f.Limit <= seekBudget && f.Offset <= seekBudget &&
		len(f.Sources)*(f.Limit+max(f.Offset, 0)) <= seekBudget
}

// seekStories is Stories(f) read from story_sources, which lists each
// source's stories by the story's published time. The page of n =
// offset+limit stories is among the first n of each source; usually it is
// among far fewer, so it first reads k of each (2n/sources, at least
// 10, or k0 if given), and reads all n only if a source's k-th is still
// newer than the page's last, when the page may lack that source's next.
func (db *DB) seekStories(ctx context.Context, f wiredesk.StoryFilter, k0 int) ([]wiredesk.Story, error) {
	offset := max(f.Offset, 0)
	n := f.Limit + offset
	k := k0
	if k <= 0 {
		k = max(2*n/len(f.Sources), 10)
	}
	// One read transaction, so that the reads see one state of the store,
	// as the walk's single statement does.
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for {
		k = min(k, n)
		page, exact, err := seekPage(ctx, tx, f.Sources, k, n)
		if err != nil {
			return nil, err
		}
		if exact || k == n {
			if offset >= len(page) {
				return nil, nil
			}
			rows, err := tx.QueryContext(ctx, storiesByIDQuery, jsonList(page[offset:]))
			if err != nil {
				return nil, err
			}
			return scanStories(rows)
		}
		k = n
	}
}

// storyKey orders stories as a topic lists them: newest published first,
// then highest id.
type storyKey struct {
	published string
	id        int64
}

// compare is negative when a is listed before b: newer published first,
// then the higher id.
func (a storyKey) compare(b storyKey) int {
	return cmp.Or(strings.Compare(b.published, a.published), cmp.Compare(b.id, a.id))
}

// seekPage reads the first k stories of each source and returns the ids
// of the first n of their union, and whether that is the first n of all
// the sources' stories.
func seekPage(ctx context.Context, tx *sql.Tx, sources []string, k, n int) ([]int64, bool, error) {
	q, args := seekQuery(sources, k)
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var keys []storyKey
	count := make([]int, len(sources))
	last := make([]storyKey, len(sources)) // each source's last row read, in list order
	for rows.Next() {
		var term int
		var key storyKey
		if err := rows.Scan(&term, &key.published, &key.id); err != nil {
			return nil, false, err
		}
		keys = append(keys, key)
		// SQL does not promise the rows of a UNION ALL in its terms'
		// order, so the last is the one listed last, not the one read last.
		if count[term] == 0 || key.compare(last[term]) > 0 {
			last[term] = key
		}
		count[term]++
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	slices.SortFunc(keys, storyKey.compare)
	keys = slices.Compact(keys) // a story carried by two of the sources
	keys = keys[:min(len(keys), n)]
	exact := true
	for t := range sources {
		// A source cut short at k may have more stories, all after its
		// last one read: they cannot be in a full page that ends at or
		// before that one.
		if count[t] == k && (len(keys) < n || last[t].compare(keys[len(keys)-1]) < 0) {
			exact = false
		}
	}
	ids := make([]int64, len(keys))
	for i, key := range keys {
		ids[i] = key.id
	}
	return ids, exact, nil
}

// seekQuery reads the first k rows of each source in story_sources, in
// key order, each with the source's index in sources.
func seekQuery(sources []string, k int) (string, []any) {
	terms := make([]string, len(sources))
	args := make([]any, 0, 2*len(sources))
	for i, name := range sources {
		terms[i] = fmt.Sprintf(`SELECT * FROM (SELECT %d, published, story_id FROM story_sources
			WHERE source_id = (SELECT id FROM sources WHERE name = ?)
			ORDER BY published DESC, story_id DESC LIMIT ?)`, i)
		args = append(args, name, k)
	}
	return strings.Join(terms, " UNION ALL "), args
}

// storiesByIDQuery reads the stories whose ids are in a JSON list, newest
// first.
const storiesByIDQuery = `SELECT id, guid, published, updated FROM stories
	WHERE id IN (SELECT value FROM json_each(?)) ORDER BY published DESC, id DESC`

// storiesWalkQuery is the query of Stories(f) by walking the stories
// newest first (f.Sources nil: every source; Stories answers an empty,
// non-nil list itself). The inner query picks
// the stories in the publication index, which holds what it filters on,
// so that it reads no story row; the outer one reads the rows of those it
// picked.
func storiesWalkQuery(f wiredesk.StoryFilter) (string, []any) {
	inner := `SELECT w.id FROM stories w WHERE w.primary_item_id IS NOT NULL`
	var args []any
	if f.Sources != nil {
		inner += ` AND EXISTS (SELECT 1 FROM items i JOIN sources s ON s.id = i.source_id
			WHERE i.story_id = w.id AND s.name IN (SELECT value FROM json_each(?)))`
		args = append(args, jsonList(f.Sources))
	}
	if f.MinSources > 1 {
		inner += ` AND (SELECT COUNT(DISTINCT i.source_id) FROM items i WHERE i.story_id = w.id) >= ?`
		args = append(args, f.MinSources)
	}
	inner += ` ORDER BY w.published DESC, w.id DESC LIMIT ? OFFSET ?`
	args = append(args, limitArg(f.Limit), max(f.Offset, 0))
	return `SELECT st.id, st.guid, st.published, st.updated FROM stories st
		WHERE st.id IN (` + inner + `) ORDER BY st.published DESC, st.id DESC`, args
}

func (db *DB) queryStories(ctx context.Context, q string, args ...any) ([]wiredesk.Story, error) {
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanStories(rows)
}

// scanStories reads and closes rows of id, guid, published, updated.
func scanStories(rows *sql.Rows) ([]wiredesk.Story, error) {
	defer rows.Close()
	var out []wiredesk.Story
	for rows.Next() {
		var s wiredesk.Story
		if err := rows.Scan(&s.ID, &s.GUID, timeCol{&s.Published}, timeCol{&s.Updated}); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// fillCopies loads the copies of stories in one query and sets Copies and
// Primary on each.
func (db *DB) fillCopies(ctx context.Context, stories []wiredesk.Story) error {
	if len(stories) == 0 {
		return nil
	}
	ids := make([]int64, len(stories))
	index := make(map[int64]int, len(stories))
	for i, s := range stories {
		ids[i] = s.ID
		index[s.ID] = i
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+itemColumns+` `+itemJoins+`
		WHERE i.story_id IN (SELECT value FROM json_each(?))
		ORDER BY i.published ASC, i.id ASC`, jsonList(ids))
	if err != nil {
		return fmt.Errorf("copies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return fmt.Errorf("copies: %w", err)
		}
		s := &stories[index[it.StoryID]]
		s.Copies = append(s.Copies, it)
		if it.Primary {
			s.Primary = it
		}
	}
	return rows.Err()
}

// Items returns items newest first by published time, each with its
// StoryID and whether it is its story's primary copy.
func (db *DB) Items(ctx context.Context, f wiredesk.ItemFilter) ([]wiredesk.Item, error) {
	if f.Sources != nil && len(f.Sources) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString(`SELECT ` + itemColumns + ` ` + itemJoins)
	var args []any
	if f.Sources != nil {
		b.WriteString(` WHERE s.name IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonList(f.Sources))
	}
	b.WriteString(` ORDER BY i.published DESC, i.id DESC LIMIT ?`)
	args = append(args, limitArg(f.Limit))
	rows, err := db.r.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	defer rows.Close()
	var out []wiredesk.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	return out, nil
}

// Prune deletes whole stories, with all their copies, when every copy was
// first seen and last seen before before, except the stories in keep (the
// ones topic feeds currently show) and the stories with a copy in its
// source's latest snapshot. Sources are never deleted. Prune returns the
// number of items deleted.
//
// The latest snapshot of a source is the items its last fetch with items
// carried: SaveFetch stamps them all with one last_seen, the source's
// greatest. Such an item is still in the feed as far as anyone knows, even
// when last seen long ago: a feed answering 304 for weeks, a source that
// is down, or a daemon stopped for a while (retention runs at start-up,
// before any poll) saves no items and bumps no last_seen. Pruning it would
// bring it back as a new story, with a new GUID, on the next 200.
func (db *DB) Prune(ctx context.Context, before time.Time, keep []int64) (int, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("prune: %w", err)
	}
	defer tx.Rollback()
	n, err := prune(ctx, tx, fmtTime(before), jsonList(keep))
	if err != nil {
		return 0, fmt.Errorf("prune: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("prune: commit: %w", err)
	}
	return n, nil
}

func prune(ctx context.Context, tx *sql.Tx, before, keep string) (int, error) {
	var ids []int64
	// live: the stories of every source's latest snapshot, found through
	// the index on items(source_id, last_seen): per source, one seek for
	// the maximum and one range for its items. CROSS JOIN keeps sources as
	// the outer loop; the planner would otherwise scan every item.
	rows, err := tx.QueryContext(ctx, `WITH live(story_id) AS (
			SELECT i.story_id FROM sources s CROSS JOIN items i ON i.source_id = s.id
				AND i.last_seen = (SELECT MAX(m.last_seen) FROM items m WHERE m.source_id = s.id))
		SELECT st.id FROM stories st
		WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.story_id = st.id
			AND (i.first_seen >= ? OR i.last_seen >= ?))
		AND st.id NOT IN (SELECT story_id FROM live)
		AND st.id NOT IN (SELECT value FROM json_each(?))`, before, before, keep)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return 0, err
	}
	list := jsonList(ids)
	// Items first, to count them; the stories follow.
	res, err := tx.ExecContext(ctx,
		`DELETE FROM items WHERE story_id IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM stories WHERE id IN (SELECT value FROM json_each(?))`, list); err != nil {
		return 0, err
	}
	return int(n), nil
}
