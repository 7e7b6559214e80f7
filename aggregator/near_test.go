package aggregator_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/internal/feedtest"
	"github.com/wiredesk/wiredesk/store"
)

// nearFeeds serves testdata/near: one agency story, a republished copy
// (new headline, US spelling, a byline, ALSO READ, share prompt, a number
// in digits, last paragraph cut), a first-paragraph brief, and an
// independent report of the same meeting sharing names and a quote.
func nearFeeds(t *testing.T) (*feedtest.Server, map[string]wiredesk.Source) {
	t.Helper()
	srv := feedtest.New(t)
	sources := map[string]wiredesk.Source{}
	for name, file := range map[string]string{
		"agency": "agency.xml", "coast": "republisher.atom", "briefs": "brief.xml", "other": "independent.xml",
	} {
		body, err := os.ReadFile(filepath.Join("testdata", "near", file))
		if err != nil {
			t.Fatal(err)
		}
		srv.Set("/"+file, feedtest.Doc{Body: string(body)})
		sources[name] = wiredesk.Source{Name: name, FeedURL: srv.URL + "/" + file}
	}
	return srv, sources
}

func storyOf(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	items, err := db.Items(context.Background(), wiredesk.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, it := range items {
		out[it.Source] = it.StoryID
	}
	return out
}

func TestNearDuplicatesFold(t *testing.T) {
	_, src := nearFeeds(t)
	db := openStore(t)
	p := newPoller(db)
	ctx := context.Background()
	// The agency first; its copies and the independent report arrive
	// hours later, as they do.
	for _, name := range []string{"agency", "coast", "briefs", "other"} {
		if r, err := p.PollOnce(ctx, src[name]); err != nil || r.Err != nil || r.Stats.New != 1 {
			t.Fatalf("poll %s: %v %v %+v", name, err, r.Err, r.Stats)
		}
	}
	got := storyOf(t, db)
	if got["coast"] != got["agency"] || got["briefs"] != got["agency"] {
		t.Errorf("copies not folded into the agency's story: %v", got)
	}
	if got["other"] == got["agency"] {
		t.Errorf("an independent report of the same meeting was folded: %v", got)
	}

	t.Run("disabled", func(t *testing.T) {
		db := openStore(t)
		p := newPoller(db)
		p.Dedupe = false
		for _, name := range []string{"agency", "coast"} {
			if _, err := p.PollOnce(ctx, src[name]); err != nil {
				t.Fatal(err)
			}
		}
		if got := storyOf(t, db); got["coast"] == got["agency"] {
			t.Errorf("folded with Dedupe off: %v", got)
		}
	})
}

// The index is rebuilt from the stored fingerprints: a copy arriving after
// a restart still joins the story.
func TestNearDuplicateIndexSurvivesRestart(t *testing.T) {
	_, src := nearFeeds(t)
	path := filepath.Join(t.TempDir(), "wiredesk.db")
	ctx := context.Background()
	for i, name := range []string{"agency", "coast"} {
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		p := newPoller(db) // a new process: an empty index until loaded
		r, err := p.PollOnce(ctx, src[name])
		if err != nil || r.Err != nil {
			t.Fatalf("poll %d: %v %v", i, err, r.Err)
		}
		if i == 1 {
			if got := storyOf(t, db); got["coast"] != got["agency"] {
				t.Errorf("copy after restart started its own story: %v", got)
			}
		}
		db.Close()
	}
}

// Copies fetched at the same moment by two workers end up in one story:
// the decision runs inside the single writer.
func TestNearDuplicatesConcurrent(t *testing.T) {
	_, src := nearFeeds(t)
	for range 5 {
		db := openStore(t)
		p := newPoller(db)
		if _, err := p.PollAll(context.Background(), []wiredesk.Source{src["agency"], src["coast"], src["briefs"]}); err != nil {
			t.Fatal(err)
		}
		got := storyOf(t, db)
		if got["coast"] != got["agency"] || got["briefs"] != got["agency"] {
			t.Fatalf("concurrent copies in different stories: %v", got)
		}
	}
}
