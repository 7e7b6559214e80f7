package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/wiredesk/wiredesk"
)

// candidates loads the items with the given ids, in that order, for the
// matcher to decide on: id, story and stored doc, and title and text only
// for an item without a doc. Ids that no longer exist are left out.
func candidates(ctx context.Context, stmt *sql.Stmt, ids []int64) ([]wiredesk.Item, error) {
	rows, err := stmt.QueryContext(ctx, jsonList(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := make(map[int64]wiredesk.Item, len(ids))
	for rows.Next() {
		var it wiredesk.Item
		if err := rows.Scan(&it.ID, &it.StoryID, &it.Doc, &it.Title, &it.Summary, &it.Content); err != nil {
			return nil, err
		}
		byID[it.ID] = it
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]wiredesk.Item, 0, len(byID))
	for _, id := range ids {
		if it, ok := byID[id]; ok {
			out = append(out, it)
		}
	}
	return out, nil
}

const fingerprintsQuery = `SELECT id, first_seen, fingerprint FROM items
	WHERE first_seen >= ? AND length(fingerprint) > 0 ORDER BY first_seen, id`

// Fingerprints calls fn with the id, first-seen time and fingerprint of
// every item first seen at or after since that has a fingerprint, oldest
// first: what a near-duplicate index bounded by a window needs to be
// rebuilt after a restart. It reads one snapshot through the read pool.
func (db *DB) Fingerprints(ctx context.Context, since time.Time, fn func(id int64, firstSeen time.Time, fp []byte) error) error {
	rows, err := db.r.QueryContext(ctx, fingerprintsQuery, fmtTime(since))
	if err != nil {
		return fmt.Errorf("fingerprints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id int64
			at time.Time
			fp []byte
		)
		if err := rows.Scan(&id, timeCol{&at}, &fp); err != nil {
			return fmt.Errorf("fingerprints: %w", err)
		}
		if err := fn(id, at, fp); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("fingerprints: %w", err)
	}
	return nil
}

// FindItems returns the stored items whose URL is rawURL or whose
// canonical URL is canonicalURL (either may be empty), newest first, text
// included.
func (db *DB) FindItems(ctx context.Context, rawURL, canonicalURL string) ([]wiredesk.Item, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+itemColumns+` `+itemJoins+`
		WHERE (i.url = ?1 AND ?1 <> '') OR (i.canonical_url = ?2 AND ?2 <> '')
		ORDER BY i.published DESC, i.id DESC`, rawURL, canonicalURL)
	if err != nil {
		return nil, fmt.Errorf("find items by url %s: %w", rawURL, err)
	}
	defer rows.Close()
	var out []wiredesk.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("find items by url %s: %w", rawURL, err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find items by url %s: %w", rawURL, err)
	}
	return out, nil
}
