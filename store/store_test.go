package store

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/wiredesk/wiredesk"
)

// t0 is the fixed clock of the tests.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// testClock is a settable clock for DB.Now.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

// openTest opens a fresh database in a temp dir with a fixed clock.
func openTest(t testing.TB) (*DB, *testClock) {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "wiredesk.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	c := &testClock{now: t0}
	db.Now = c.Now
	return db, c
}

func TestOpen(t *testing.T) {
	ctx := context.Background()

	t.Run("fresh database gets the latest schema version", func(t *testing.T) {
		db, _ := openTest(t)
		v, err := userVersion(ctx, db.r)
		if err != nil {
			t.Fatal(err)
		}
		if want := SchemaVersion(); v != want || want < 1 {
			t.Errorf("user_version = %d, want %d (>= 1)", v, want)
		}
	})

	t.Run("WAL, foreign keys and in-memory temp store on both handles", func(t *testing.T) {
		db, _ := openTest(t)
		for name, h := range map[string]*sql.DB{"writer": db.w, "reader": db.r} {
			var mode string
			var fk int
			if err := h.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if err := h.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if mode != "wal" || fk != 1 {
				t.Errorf("%s: journal_mode = %q, foreign_keys = %d; want wal, 1", name, mode, fk)
			}
			var temp int
			if err := h.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&temp); err != nil {
				t.Fatal(err)
			}
			if temp != 2 { // MEMORY
				t.Errorf("%s: temp_store = %d, want 2 (MEMORY)", name, temp)
			}
		}
		var sync int
		if err := db.w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if sync != 1 { // NORMAL
			t.Errorf("writer synchronous = %d, want 1 (NORMAL)", sync)
		}
		var ckpt int
		if err := db.w.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&ckpt); err != nil {
			t.Fatal(err)
		}
		if ckpt != 32000 {
			t.Errorf("writer wal_autocheckpoint = %d, want 32000", ckpt)
		}
		var limit int64
		if err := db.w.QueryRowContext(ctx, "PRAGMA journal_size_limit").Scan(&limit); err != nil {
			t.Fatal(err)
		}
		if limit != 256<<20 {
			t.Errorf("writer journal_size_limit = %d, want %d", limit, 256<<20)
		}
	})

	t.Run("reader pool refuses writes", func(t *testing.T) {
		db, _ := openTest(t)
		if _, err := db.r.ExecContext(ctx, `INSERT INTO sources (name) VALUES ('x')`); err == nil {
			t.Error("insert through the read pool succeeded, want query_only error")
		}
	})

	t.Run("reopening applies nothing and keeps data", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "w.db")
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SyncSources(ctx, []wiredesk.Source{{Name: "a", FeedURL: "http://a/"}}); err != nil {
			t.Fatal(err)
		}
		db.Close()

		var logs bytes.Buffer
		prev := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
		db, err = Open(ctx, path)
		slog.SetDefault(prev)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if strings.Contains(logs.String(), "applied migration") {
			t.Errorf("reopen applied a migration: %s", logs.String())
		}
		states, err := db.SourceStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(states) != 1 || states[0].Source != "a" {
			t.Errorf("states after reopen = %+v, want source a", states)
		}
	})

	t.Run("newer database is refused and left untouched", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "future.db")
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`CREATE TABLE future (x); PRAGMA user_version = 999`); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		db, err := Open(ctx, path)
		if err == nil {
			db.Close()
			t.Fatal("Open succeeded on a newer schema")
		}
		if !strings.Contains(err.Error(), "database schema version 999 is newer than this wiredesk") ||
			!strings.Contains(err.Error(), path) {
			t.Errorf("error = %q, want the version message naming the path", err)
		}
		after, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Error("database file changed")
		}
		if _, err := os.Stat(path + "-wal"); err == nil {
			t.Error("a WAL file was created next to the refused database")
		}
	})

	t.Run("missing directory is a clear error", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope", "w.db")
		_, err := Open(ctx, path)
		if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), path) {
			t.Errorf("error = %v, want one naming %s and saying the directory does not exist", err, path)
		}
	})

	t.Run("ping and close", func(t *testing.T) {
		db, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := db.Ping(ctx); err == nil {
			t.Error("Ping after Close succeeded")
		}
	})
}

// TestPingDuringWrite checks that a health check does not queue behind a
// write transaction holding the single writer connection.
func TestPingDuringWrite(t *testing.T) {
	db, _ := openTest(t)
	tx, err := db.w.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO sources (name) VALUES ('busy')`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping during a write transaction: %v", err)
	}
}

func TestIntegrityCheck(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	seedStories(t, db)
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Errorf("IntegrityCheck on a sound database: %v", err)
	}

	// Break a foreign key for real: the writer's single connection turns
	// enforcement off for one insert.
	for _, q := range []string{
		`PRAGMA foreign_keys = OFF`,
		`INSERT INTO items (source_id, guid, published, updated, first_seen, last_seen, story_id)
			VALUES (9999, 'orphan', '', '', '', '', 1)`,
		`PRAGMA foreign_keys = ON`,
	} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	err := db.IntegrityCheck(ctx)
	if err == nil || !strings.Contains(err.Error(), "items row") || !strings.Contains(err.Error(), "sources") {
		t.Errorf("IntegrityCheck = %v, want the orphan item reported against sources", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		want    int
		wantErr bool
	}{
		{"in order", []string{"0001_a.sql", "0002_b.sql"}, 2, false},
		{"sorted by number", []string{"0002_b.sql", "0001_a.sql", "0003_c.sql"}, 3, false},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, 0, true},
		{"no number", []string{"init.sql"}, 0, true},
		{"zero", []string{"0000_a.sql"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			ms, err := loadMigrations(fsys)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if len(ms) != tt.want {
				t.Errorf("got %d migrations, want %d", len(ms), tt.want)
			}
			for i, m := range ms {
				if m.version != i+1 {
					t.Errorf("migration %d has version %d", i, m.version)
				}
			}
		})
	}
}

func TestTimeRoundTrip(t *testing.T) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	now := time.Now() // carries a monotonic reading
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"zero", time.Time{}, time.Time{}},
		{"nanoseconds", t0, t0},
		{"other zone", time.Date(2025, 1, 2, 3, 4, 5, 6, kolkata), time.Date(2025, 1, 1, 21, 34, 5, 6, time.UTC)},
		{"monotonic clock", now, now},
		{"far future clamped", time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), maxTime},
		{"before year 1 clamped", time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fmtTime(tt.in)
			if len(s) != len(timeLayout) {
				t.Errorf("fmtTime(%v) = %q, width %d, want %d", tt.in, s, len(s), len(timeLayout))
			}
			var got time.Time
			if err := (timeCol{&got}).Scan(s); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("round trip of %v = %v, want %v in UTC", tt.in, got, tt.want)
			}
		})
	}
}
