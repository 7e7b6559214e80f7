package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wiredesk/wiredesk"
)

// SyncSources records the configured sources: name, feed URL and priority.
// A source that left the config is kept with its items, so removing a line
// from the config loses nothing.
//
// When a source's feed URL changed, its ETag and Last-Modified are cleared:
// validators belong to the URL that issued them (RFC 9110 section 8.8), and
// sending them to the new URL could earn a wrong 304. Its polling state is
// reset too (next run now, no failures, status new, no error, no HTTP
// status): the backoff earned by the old URL must not delay a fixed one.
// LastFetch and LastSuccess stay, as history of the source.
func (db *DB) SyncSources(ctx context.Context, sources []wiredesk.Source) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sync sources: %w", err)
	}
	defer tx.Rollback()
	// Prepared once: a daemon with thousands of sources syncs them all at
	// every start and reload.
	sel, err := tx.PrepareContext(ctx, `SELECT id, feed_url, priority FROM sources WHERE name = ?`)
	if err != nil {
		return fmt.Errorf("sync sources: %w", err)
	}
	defer sel.Close()
	for _, s := range sources {
		if err := syncSource(ctx, tx, sel, s); err != nil {
			return fmt.Errorf("sync source %s: %w", s.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sync sources: %w", err)
	}
	return nil
}

func syncSource(ctx context.Context, tx *sql.Tx, sel *sql.Stmt, s wiredesk.Source) error {
	var (
		id       int64
		feedURL  string
		priority int
	)
	err := sel.QueryRowContext(ctx, s.Name).Scan(&id, &feedURL, &priority)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx,
			`INSERT INTO sources (name, feed_url, priority) VALUES (?, ?, ?)`,
			s.Name, s.FeedURL, s.Priority)
		return err
	}
	if err != nil {
		return err
	}
	if feedURL == s.FeedURL && priority == s.Priority {
		return nil
	}
	// A row created by SaveFetch before any sync has no URL yet; its
	// validators came from the configured URL, so keep them.
	if feedURL != "" && feedURL != s.FeedURL {
		// What the old feed asked about its polling does not bind the new.
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET etag = '', last_modified = '',
			next_run = ?, consecutive_failures = 0, status = ?, last_error = '', http_status = 0,
			not_before = ?, feed_ttl = 0, skip = '', interval = 0, next_reason = ''
			WHERE id = ?`, fmtTime(time.Time{}), wiredesk.StatusNew, fmtTime(time.Time{}), id); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE sources SET feed_url = ?, priority = ? WHERE id = ?`,
		s.FeedURL, s.Priority, id); err != nil {
		return err
	}
	if priority != s.Priority {
		// The primary copy depends on priority: choose again, without
		// bumping the stories' updated time (no copy changed).
		return refreshPrimaries(ctx, tx,
			`SELECT story_id FROM items WHERE source_id = ?`, id)
	}
	return nil
}

// ensureSource returns the id of the named source, creating a bare row if
// the source was never synced (its URL and priority come with SyncSources).
// The source almost always exists: one lookup, and an insert only when it
// finds nothing.
func ensureSource(ctx context.Context, tx *sql.Tx, st *writeStmts, name string) (int64, error) {
	var id int64
	err := tx.StmtContext(ctx, st.sourceID).QueryRowContext(ctx, name).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("select source: %w", err)
	}
	if _, err := tx.StmtContext(ctx, st.addSource).ExecContext(ctx, name); err != nil {
		return 0, fmt.Errorf("insert source: %w", err)
	}
	if err := tx.StmtContext(ctx, st.sourceID).QueryRowContext(ctx, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("select source: %w", err)
	}
	return id, nil
}

// saveState records the outcome of a poll on the source row, unless the
// poll fetched feedURL and the source has another URL by now (see
// FetchResult.FeedURL).
func saveState(ctx context.Context, tx *sql.Tx, stmts *writeStmts, sourceID int64, feedURL string, st wiredesk.SourceState) error {
	_, err := tx.StmtContext(ctx, stmts.state).ExecContext(ctx,
		fmtTime(st.LastFetch), fmtTime(st.LastSuccess), st.Status, st.HTTPStatus,
		st.LastError, st.ETag, st.LastModified, fmtTime(st.NextRun),
		st.ConsecutiveFailures, fmtTime(st.NotBefore), int64(st.FeedTTL), st.Skip,
		int64(st.Interval), st.NextReason, sourceID, feedURL)
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

const stateColumns = `name, feed_url, last_fetch, last_success, status, http_status,
	last_error, etag, last_modified, next_run, consecutive_failures,
	not_before, feed_ttl, skip, interval, next_reason`

func scanState(row interface{ Scan(...any) error }) (wiredesk.SourceState, error) {
	var st wiredesk.SourceState
	var ttl, interval int64
	err := row.Scan(&st.Source, &st.FeedURL, timeCol{&st.LastFetch}, timeCol{&st.LastSuccess},
		&st.Status, &st.HTTPStatus, &st.LastError, &st.ETag, &st.LastModified,
		timeCol{&st.NextRun}, &st.ConsecutiveFailures,
		timeCol{&st.NotBefore}, &ttl, &st.Skip, &interval, &st.NextReason)
	st.FeedTTL, st.Interval = time.Duration(ttl), time.Duration(interval)
	return st, err
}

// SourceState returns what is remembered about polling the named source.
// A source never synced nor fetched has the zero state with Source set and
// no error: it is simply due.
func (db *DB) SourceState(ctx context.Context, name string) (wiredesk.SourceState, error) {
	st, err := scanState(db.rs.sourceState.QueryRowContext(ctx, name))
	if errors.Is(err, sql.ErrNoRows) {
		return wiredesk.SourceState{Source: name}, nil
	}
	if err != nil {
		return wiredesk.SourceState{}, fmt.Errorf("source state %s: %w", name, err)
	}
	return st, nil
}

// SourceStates returns the state of every known source, by name, including
// sources no longer in the config.
func (db *DB) SourceStates(ctx context.Context) ([]wiredesk.SourceState, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+stateColumns+` FROM sources ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("source states: %w", err)
	}
	defer rows.Close()
	var out []wiredesk.SourceState
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			return nil, fmt.Errorf("source states: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("source states: %w", err)
	}
	return out, nil
}
