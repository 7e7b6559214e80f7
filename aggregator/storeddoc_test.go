package aggregator

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/dedupe"
	"github.com/wiredesk/wiredesk/internal/feedtest"
	"github.com/wiredesk/wiredesk/store"
)

// TestStoredDocs checks that a republished copy is compared with its
// candidate's stored doc, not the candidate's text cleaned again: with
// the agency item's text blanked in the database, the copy still joins
// its story, and only with neither doc nor text does it start its own.
func TestStoredDocs(t *testing.T) {
	srv := feedtest.New(t)
	src := map[string]wiredesk.Source{}
	for name, file := range map[string]string{"agency": "agency.xml", "coast": "republisher.atom"} {
		body, err := os.ReadFile(filepath.Join("testdata", "near", file))
		if err != nil {
			t.Fatal(err)
		}
		srv.Set("/"+file, feedtest.Doc{Body: string(body)})
		src[name] = wiredesk.Source{Name: name, FeedURL: srv.URL + "/" + file}
	}
	const blankText = `UPDATE items SET title = '', summary = '', content = ''`
	for _, tt := range []struct {
		name   string
		mangle []string // run on the database between the two polls
		joined bool
	}{
		{"stored doc, text blanked", []string{blankText}, true},
		{"no doc, text kept", []string{`DELETE FROM item_docs`}, true},
		{"neither doc nor text", []string{`DELETE FROM item_docs`, blankText}, false},
		{"unreadable doc, text blanked", []string{`UPDATE item_docs SET doc = x'ff00'`, blankText}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "wiredesk.db")
			db, err := store.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			raw, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			p := NewPoller(db, nil)
			p.Logger = slog.New(slog.DiscardHandler)
			if _, err := p.PollOnce(ctx, src["agency"]); err != nil {
				t.Fatal(err)
			}
			var docs int
			if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM item_docs`).Scan(&docs); err != nil || docs != 1 {
				t.Fatalf("stored docs after the agency's poll: %d, %v; want 1", docs, err)
			}
			for _, q := range tt.mangle {
				if _, err := raw.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := p.PollOnce(ctx, src["coast"]); err != nil {
				t.Fatal(err)
			}
			items, err := db.Items(ctx, wiredesk.ItemFilter{})
			if err != nil || len(items) != 2 {
				t.Fatalf("items %+v, %v; want the agency's and the copy", items, err)
			}
			if joined := items[0].StoryID == items[1].StoryID; joined != tt.joined {
				t.Errorf("copy in the agency's story: %v, want %v", joined, tt.joined)
			}
		})
	}
}

// TestDocVersion is a tripwire. A stored doc of another version is
// skipped, not cleaned again (the store hands over no text with a doc), so
// wire copies would go unfolded for a whole window after a bump of
// dedupe.DocVersion that came without a store migration deleting the
// stored docs.
func TestDocVersion(t *testing.T) {
	const migrated = 1 // the version of the docs the store's migrations keep
	if dedupe.DocVersion != migrated {
		t.Fatalf("dedupe.DocVersion is %d, the store keeps docs of version %d: add a store migration "+
			"that deletes item_docs, then set migrated here", dedupe.DocVersion, migrated)
	}
}
