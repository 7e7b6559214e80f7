package store

import (
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

// TestSaveFetchSameSourceURL checks that a canonical URL folds copies from
// different sources only: a feed linking every item to one section page
// keeps its items apart, while a repeated text still folds.
func TestSaveFetchSameSourceURL(t *testing.T) {
	const section = "https://pti.example/national"
	withURL := func(it wiredesk.Item) wiredesk.Item { it.CanonicalURL = section; return it }

	t.Run("same URL, same source, one fetch: apart", func(t *testing.T) {
		db, _ := openTest(t)
		mustSave(t, db, wiredesk.FetchResult{Source: "pti",
			Items: []wiredesk.Item{withURL(item("pti", "1", 0)), withURL(item("pti", "2", 1))}})
		ids := storyIDs(t, db)
		if ids["pti/1"] == ids["pti/2"] {
			t.Errorf("stories = %v, want pti/1 and pti/2 apart", ids)
		}
	})

	t.Run("same URL, same source, later fetch: apart; other source: folds", func(t *testing.T) {
		db, clock := openTest(t)
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{withURL(item("pti", "1", 0))}})
		clock.now = t0.Add(time.Hour)
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{withURL(item("pti", "2", 60))}})
		mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{withURL(item("ani", "a", 61))}})
		ids := storyIDs(t, db)
		if ids["pti/1"] == ids["pti/2"] || ids["ani/a"] != ids["pti/1"] {
			t.Errorf("stories = %v, want pti/1 and pti/2 apart, ani/a with pti/1", ids)
		}
	})

	t.Run("same content hash, same source: folds", func(t *testing.T) {
		db, _ := openTest(t)
		a, b := item("pti", "1", 0), item("pti", "2", 1)
		a.ContentHash, b.ContentHash = "h", "h"
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{a, b}})
		ids := storyIDs(t, db)
		if ids["pti/1"] != ids["pti/2"] {
			t.Errorf("stories = %v, want pti/1 and pti/2 together", ids)
		}
	})
}

// TestSaveFetchKeysInOneFetch checks the stories a fetch's new items find
// by URL and hash, which are looked up for the whole fetch at once, as if
// each were looked up when its item is stored: items of one fetch find
// each their own story, and an item the fetch updates is found by its new
// hash, not its old one.
func TestSaveFetchKeysInOneFetch(t *testing.T) {
	withKeys := func(it wiredesk.Item, url, hash string) wiredesk.Item {
		it.CanonicalURL, it.ContentHash = url, hash
		return it
	}
	t.Run("each item its story", func(t *testing.T) {
		db, _ := openTest(t)
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{
			withKeys(item("pti", "1", 0), "https://wire.example/1", "h1"),
			withKeys(item("pti", "2", 1), "https://wire.example/2", "h2")}})
		mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{
			withKeys(item("ani", "by-url", 2), "https://wire.example/2", ""),
			withKeys(item("ani", "by-hash", 3), "", "h1"),
			withKeys(item("ani", "new", 4), "https://wire.example/3", "h3"),
			withKeys(item("ani", "repeat", 5), "", "h3")}})
		ids := storyIDs(t, db)
		if ids["ani/by-url"] != ids["pti/2"] || ids["ani/by-hash"] != ids["pti/1"] || ids["pti/1"] == ids["pti/2"] ||
			ids["ani/new"] == ids["pti/1"] || ids["ani/new"] == ids["pti/2"] || ids["ani/repeat"] != ids["ani/new"] {
			t.Errorf("stories = %v; want by-url with pti/2, by-hash with pti/1, new and repeat on their own", ids)
		}
	})
	t.Run("updated to a hash: found by it", func(t *testing.T) {
		db, clock := openTest(t)
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{withKeys(item("pti", "1", 0), "", "old")}})
		clock.now = t0.Add(time.Hour)
		revised := withKeys(item("pti", "1", 0), "", "h")
		revised.Summary = "revised"
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{revised, withKeys(item("pti", "2", 1), "", "h")}})
		if ids := storyIDs(t, db); ids["pti/1"] != ids["pti/2"] {
			t.Errorf("stories = %v, want pti/2 with pti/1", ids)
		}
	})
	t.Run("updated away from a hash: not found by it", func(t *testing.T) {
		db, clock := openTest(t)
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{withKeys(item("pti", "1", 0), "", "h")}})
		clock.now = t0.Add(time.Hour)
		revised := withKeys(item("pti", "1", 0), "", "other")
		revised.Summary = "revised"
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{revised, withKeys(item("pti", "2", 1), "", "h")}})
		if ids := storyIDs(t, db); ids["pti/1"] == ids["pti/2"] {
			t.Errorf("stories = %v, want pti/2 apart from pti/1", ids)
		}
	})
}

// TestFoldSettings checks DB.Fold and DB.Window.
func TestFoldSettings(t *testing.T) {
	// keyed returns a copy of the same wire text from source, with both keys.
	keyed := func(source, guid string) wiredesk.Item {
		it := item(source, guid, 0)
		it.CanonicalURL, it.ContentHash = "https://wire.example/s", "h"
		return it
	}

	t.Run("defaults", func(t *testing.T) {
		db, _ := openTest(t)
		if !db.Fold || db.Window != 72*time.Hour {
			t.Errorf("Fold = %v, Window = %v; want true, 72h", db.Fold, db.Window)
		}
	})

	t.Run("Fold false: every new item is its own story, keys stored", func(t *testing.T) {
		db, _ := openTest(t)
		db.Fold = false
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{keyed("pti", "1")}})
		mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{keyed("ani", "1")}})
		items := mustItems(t, db, wiredesk.ItemFilter{})
		if len(items) != 2 || items[0].StoryID == items[1].StoryID {
			t.Fatalf("items = %+v, want 2 in different stories", items)
		}
		for _, it := range items {
			if it.CanonicalURL != "https://wire.example/s" || it.ContentHash != "h" {
				t.Errorf("item %s/%s keys = %q, %q; want them stored", it.Source, it.GUID, it.CanonicalURL, it.ContentHash)
			}
		}
	})

	tests := []struct {
		name   string
		window time.Duration
		later  time.Duration // when the second copy arrives
		folds  bool
	}{
		{"inside the window folds", 72 * time.Hour, 71 * time.Hour, true},
		{"outside the window: a new story", 72 * time.Hour, 73 * time.Hour, false},
		{"zero window: no limit", 0, 400 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, clock := openTest(t)
			db.Window = tt.window
			mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{keyed("pti", "1")}})
			clock.now = t0.Add(tt.later)
			mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{keyed("ani", "1")}})
			ids := storyIDs(t, db)
			if got := ids["pti/1"] == ids["ani/1"]; got != tt.folds {
				t.Errorf("folded = %v, want %v (stories %v)", got, tt.folds, ids)
			}
		})
	}

	t.Run("outside the window by hash alone: a new story", func(t *testing.T) {
		db, clock := openTest(t)
		a, b := item("pti", "1", 0), item("ani", "1", 0)
		a.ContentHash, b.ContentHash = "h", "h"
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{a}})
		clock.now = t0.Add(DefaultWindow + time.Minute)
		mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{b}})
		if ids := storyIDs(t, db); ids["pti/1"] == ids["ani/1"] {
			t.Errorf("stories = %v, want apart", ids)
		}
	})
}

// TestSaveFetchCountsStoriesAndCopies checks IngestStats.Stories and
// Copies: what the metrics report as stories started and copies attached.
func TestSaveFetchCountsStoriesAndCopies(t *testing.T) {
	db, _ := openTest(t)
	a, b, c := item("pti", "1", 0), item("pti", "2", 1), item("ani", "a", 2)
	a.ContentHash, c.ContentHash = "h", "h" // c is a copy of a
	st := mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{a, b}})
	if st.New != 2 || st.Stories != 2 || st.Copies != 0 {
		t.Errorf("first fetch: got %+v, want 2 new, 2 stories, 0 copies", st)
	}
	st = mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{c}})
	if st.New != 1 || st.Stories != 0 || st.Copies != 1 {
		t.Errorf("copy: got %+v, want 1 new, 0 stories, 1 copy", st)
	}
	st = mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{c}})
	if st.New != 0 || st.Stories != 0 || st.Copies != 0 || st.Unchanged != 1 {
		t.Errorf("refetch: got %+v, want 1 unchanged only", st)
	}
}
