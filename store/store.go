// Package store keeps wiredesk's state in one SQLite file (modernc.org/sqlite,
// pure Go): sources and their polling state, items, and the stories that fold
// wire copies together. Every SQL statement of the program lives here.
//
// It owns persistence only. It does not decide whether two texts are the same
// story (that is the dedupe package; the store merely honours a StoryID set
// upstream and folds exact repeats by canonical URL or content hash), it does
// not fetch, and it does not render feeds.
//
// Times are stored one way: TEXT in UTC with a fixed width,
// "2006-01-02T15:04:05.000000000Z", so string order is time order and every
// time round-trips to the nanosecond.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is a wiredesk database. It holds two handles on the same file: a single
// writer connection and a pool of read-only connections. In WAL mode readers
// see the last committed snapshot and never wait for the writer, so serving
// feeds is not held up by an ingest transaction.
type DB struct {
	// Now is the clock used for first_seen, last_seen and story times.
	// It defaults to time.Now; tests replace it.
	Now func() time.Time
	// Logger receives migration notices. It defaults to slog.Default().
	Logger *slog.Logger
	// Fold turns on the store's exact-identity folding: a new item joins
	// the story of a stored item with the same content hash (any source) or
	// the same canonical URL (another source only: a feed that links every
	// item to its home page would otherwise fold everything into one
	// story). When false every new item starts its own story, unless
	// dedupe set its StoryID upstream; the keys are stored all the same.
	// Open sets it to true. Set it, like Window, after Open and before the
	// first SaveFetch; it is not safe to change while saves run.
	Fold bool
	// Window bounds exact-key folding in time: a new item is only folded
	// with stored items first seen within Window before now, so an evergreen
	// URL or a boilerplate text that comes back months later starts a new
	// story. Zero or negative means no limit. Open sets it to
	// DefaultWindow.
	Window time.Duration

	path string
	w    *sql.DB // one connection: all writes, serialised
	r    *sql.DB // read pool, query_only
	ws   *writeStmts
	rs   *readStmts

	// docsSwept is when the writer last deleted the stored docs of items
	// that left the window, in Unix nanoseconds.
	docsSwept atomic.Int64
}

// DefaultWindow is the Window that Open sets: wire copies of one story
// appear within hours of each other, rarely days.
const DefaultWindow = 72 * time.Hour

// Pragmas shared by both handles, in modernc's `_pragma=name(value)` form
// (mattn-style parameter names would be silently ignored).
//
//   - busy_timeout(10000): wait up to 10 s for a lock instead of failing
//     with SQLITE_BUSY at once (another process, or a checkpoint).
//   - foreign_keys(1): SQLite leaves them off per connection by default.
//   - temp_store(memory): big sorts and temporary indexes stay in memory
//     instead of spilling to a temp directory, which the container image
//     (FROM scratch) does not have.
const commonPragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
	"&_pragma=temp_store(memory)"

// writerParams add, for the writer:
//
//   - journal_mode(WAL): readers and the writer do not block each other.
//   - synchronous(NORMAL): in WAL mode a commit is durable against an
//     application crash (the WAL is written before commit returns); only an
//     OS crash or power loss may roll back the last transactions, and it can
//     never corrupt the database. Losing the last poll is harmless here: the
//     next poll fetches the items again. FULL would fsync on every commit.
//   - wal_autocheckpoint(32000): copy the WAL back into the database every
//     32,000 pages (128 MB) instead of 1,000. Every save dirties a page
//     of each index with random keys (content hash, canonical URL,
//     published times) per item, so most WAL frames are index pages
//     written again and again; a checkpoint copies each page once,
//     however often it changed since the last. On a 2,000-feed cold
//     cycle, 8,000 pages took 51-57 s instead of 53-62 s over four
//     alternating pairs; 32,000 wrote 4.9 GB instead of 5.7 GB. The WAL
//     file grows to about 128 MB between checkpoints.
//   - journal_size_limit(256 MB): the WAL file is reused, not shrunk,
//     after a checkpoint; if long readers held checkpoints back and it
//     grew past that, it is cut back to 256 MB.
//   - _txlock=immediate: BEGIN takes the write lock at once, so a write
//     transaction never fails with SQLITE_BUSY when upgrading a read lock,
//     which busy_timeout cannot retry.
const writerParams = commonPragmas +
	"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(32000)&_pragma=journal_size_limit(268435456)" +
	"&_txlock=immediate"

// readerParams add query_only(1): a bug that writes through the read pool
// fails loudly instead of racing the single writer.
const readerParams = commonPragmas + "&_pragma=query_only(1)"

// readConns is the size of the read pool.
const readConns = 8

// Open opens the database at path, creating the file if it is missing, and
// applies pending migrations. The directory must exist. A database written
// by a newer wiredesk is refused and left untouched.
func Open(ctx context.Context, path string) (*DB, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	db := &DB{Now: time.Now, Logger: slog.Default(), Fold: true, Window: DefaultWindow, path: path}
	var err error
	// The read pool opens first and checks the schema version: unlike the
	// writer, its connections change nothing in the file (the WAL pragma
	// would), so a too-new database is refused without being touched.
	if db.r, err = sql.Open("sqlite", path+"?"+readerParams); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// Bound the read pool: each connection holds a file handle and its own
	// page cache, and a burst of feed requests should queue, not open
	// hundreds of them.
	db.r.SetMaxOpenConns(readConns)
	// Keep them open while in use (database/sql keeps 2 by default): a
	// connection closed on return is opened again, and the poller's
	// prepared statements prepared again, a few hundred times a cycle.
	// Those idle for a minute close, with their caches.
	db.r.SetMaxIdleConns(readConns)
	db.r.SetConnMaxIdleTime(time.Minute)
	if err := db.checkVersion(ctx); err != nil {
		db.r.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if db.w, err = sql.Open("sqlite", path+"?"+writerParams); err != nil {
		db.r.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One writer connection: SQLite allows one writer at a time anyway, and
	// queueing in database/sql is cheaper than spinning on busy_timeout.
	db.w.SetMaxOpenConns(1)
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if db.ws, err = prepareWrites(ctx, db.w); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if db.rs, err = prepareReads(ctx, db.r); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return db, nil
}

// checkPath rejects a path whose directory does not exist, which SQLite
// would otherwise report as the cryptic "unable to open database file".
func checkPath(path string) error {
	if path == "" {
		return errors.New("open store: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return fmt.Errorf("open store %s: path must not contain '?' or '#'", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("open store %s: directory %s does not exist", path, dir)
	}
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("open store %s: %s is not a directory", path, dir)
	}
	return nil
}

// Close closes both handles. Call it last at shutdown, after the writer
// has drained.
func (db *DB) Close() error {
	var errs []error
	if db.ws != nil {
		db.ws.close()
	}
	if db.rs != nil {
		db.rs.close()
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", db.path, err)
	}
	return nil
}

// Ping checks that the database file answers a read, for health checks.
// It uses the read pool only: the single writer connection may be held by
// a long ingest transaction, and a health check must not queue behind it.
func (db *DB) Ping(ctx context.Context) error {
	// Reading the schema version touches the file, which a bare
	// connection ping would not.
	if _, err := userVersion(ctx, db.r); err != nil {
		return fmt.Errorf("ping store %s: %w", db.path, err)
	}
	return nil
}

// maxProblems caps how many problems IntegrityCheck lists.
const maxProblems = 20

// IntegrityCheck runs PRAGMA integrity_check and PRAGMA foreign_key_check
// and returns an error listing the problems found, or nil if there are
// none. It reads the whole file, so it suits tests and maintenance, not a
// health check. It runs on the read pool and does not block writes.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	problems, err := pragmaRows(ctx, db.r, "PRAGMA integrity_check", func(rows *sql.Rows) (string, error) {
		var msg string
		if err := rows.Scan(&msg); err != nil || msg == "ok" {
			return "", err
		}
		return msg, nil
	})
	if err != nil {
		return fmt.Errorf("integrity check %s: %w", db.path, err)
	}
	fk, err := pragmaRows(ctx, db.r, "PRAGMA foreign_key_check", func(rows *sql.Rows) (string, error) {
		var (
			table, parent string
			rowid         sql.NullInt64
			fkid          int
		)
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s row %d: no matching row in %s (foreign key %d)",
			table, rowid.Int64, parent, fkid), nil
	})
	if err != nil {
		return fmt.Errorf("integrity check %s: %w", db.path, err)
	}
	problems = append(problems, fk...)
	if len(problems) == 0 {
		return nil
	}
	if len(problems) > maxProblems {
		problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", len(problems)-maxProblems))
	}
	return fmt.Errorf("integrity check %s: %s", db.path, strings.Join(problems, "; "))
}

// pragmaRows runs query and collects the non-empty strings that each
// returns for a row.
func pragmaRows(ctx context.Context, h *sql.DB, query string, each func(*sql.Rows) (string, error)) ([]string, error) {
	rows, err := h.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		s, err := each(rows)
		if err != nil {
			return nil, err
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, rows.Err()
}

func (db *DB) now() time.Time {
	if db.Now == nil {
		return time.Now().UTC()
	}
	return db.Now().UTC()
}

// timeLayout is the one stored form of a time: UTC, fixed width, so that
// comparing strings compares instants.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// maxTime bounds stored years to four digits, which the fixed width needs.
var maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)

// fmtTime renders t in the stored form. Times before year 1 store as the
// zero time; times after 9999 are clamped.
func fmtTime(t time.Time) string {
	t = t.UTC()
	switch {
	case t.Before(time.Time{}):
		t = time.Time{}
	case t.After(maxTime):
		t = maxTime
	}
	return t.Format(timeLayout)
}

// timeCol scans a stored time column into *t.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	if s == "" {
		*c.t = time.Time{}
		return nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return fmt.Errorf("scan time %q: %w", s, err)
	}
	*c.t = t
	return nil
}
