package store

import (
	"context"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

// titleMatcher is a StoryMatcher whose verdict is "same title": enough to
// test the store's side of the contract (when it asks, what it hands over,
// what it reports). The real matcher, over dedupe, is tested in aggregator
// against this store.
type titleMatcher struct {
	saved      []wiredesk.Item
	candidates [][]wiredesk.Item // what Decide was given, per call
}

func (m *titleMatcher) Candidates(it wiredesk.Item) []int64 {
	var ids []int64
	for _, s := range m.saved {
		ids = append(ids, s.ID)
	}
	return append(ids, 999999) // an id that does not exist is skipped
}

func (m *titleMatcher) Decide(it wiredesk.Item, cands []wiredesk.Item) int64 {
	m.candidates = append(m.candidates, cands)
	for _, c := range cands {
		if c.Title == it.Title {
			return c.StoryID
		}
	}
	return 0
}

func (m *titleMatcher) Saved(it wiredesk.Item) { m.saved = append(m.saved, it) }

func TestSaveFetchMatcher(t *testing.T) {
	db, _ := openTest(t)
	m := &titleMatcher{}
	a := item("xinhua", "a1", 0)
	a.Title, a.Content = "Wire story", "<p>the agency text</p>"
	other := item("xinhua", "a2", 1)
	mustSave(t, db, wiredesk.FetchResult{Source: "xinhua", State: okState("xinhua", `"1"`),
		Items: []wiredesk.Item{a, other}, Matcher: m})
	if len(m.saved) != 2 || m.saved[0].ID == 0 || m.saved[0].StoryID == 0 || m.saved[0].FirstSeen.IsZero() {
		t.Fatalf("Saved reports %+v, want both items with ID, StoryID and FirstSeen", m.saved)
	}

	b := item("pti", "b1", 60)
	b.Title = "Wire story" // different URL, no content hash: only the matcher can fold it
	mustSave(t, db, wiredesk.FetchResult{Source: "pti", State: okState("pti", `"1"`),
		Items: []wiredesk.Item{b}, Matcher: m})
	last := m.candidates[len(m.candidates)-1]
	if len(last) != 2 || last[0].Content != "<p>the agency text</p>" || last[0].Source != "xinhua" {
		t.Errorf("Decide got %+v, want the two stored items with their text and source", last)
	}
	if got := storyIDs(t, db); got["pti/b1"] != got["xinhua/a1"] || got["xinhua/a2"] == got["xinhua/a1"] {
		t.Errorf("stories %v: want b1 with a1 and a2 apart", got)
	}

	// Seen again: a known item is updated in place and never re-decided.
	calls := len(m.candidates)
	mustSave(t, db, wiredesk.FetchResult{Source: "pti", State: okState("pti", `"2"`),
		Items: []wiredesk.Item{b}, Matcher: m})
	if len(m.candidates) != calls {
		t.Errorf("Decide called again for a stored item")
	}

	t.Run("disabled folding ignores the matcher", func(t *testing.T) {
		db, _ := openTest(t)
		db.Fold = false
		m := &titleMatcher{}
		x, y := item("a", "x", 0), item("b", "y", 1)
		x.Title, y.Title = "Same", "Same"
		for _, it := range []wiredesk.Item{x, y} {
			mustSave(t, db, wiredesk.FetchResult{Source: it.Source, State: okState(it.Source, ""),
				Items: []wiredesk.Item{it}, Matcher: m})
		}
		if got := storyIDs(t, db); got["a/x"] == got["b/y"] || len(m.candidates) != 0 {
			t.Errorf("folded with Fold=false: %v (%d decisions)", got, len(m.candidates))
		}
	})
}

func TestFingerprintsAndFindItems(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	old := item("a", "old", 0)
	old.Fingerprint = []byte{1, 2, 3}
	mustSave(t, db, wiredesk.FetchResult{Source: "a", State: okState("a", ""), Items: []wiredesk.Item{old}})
	clock.now = clock.now.Add(48 * time.Hour)
	fresh, bare := item("a", "fresh", 10), item("a", "bare", 11)
	fresh.Fingerprint = []byte{4, 5}
	fresh.CanonicalURL = "https://a.example/fresh"
	mustSave(t, db, wiredesk.FetchResult{Source: "a", State: okState("a", ""), Items: []wiredesk.Item{fresh, bare}})

	var got [][]byte
	err := db.Fingerprints(ctx, clock.Now().Add(-time.Hour), func(id int64, at time.Time, fp []byte) error {
		if id == 0 || at.IsZero() {
			t.Errorf("fingerprint row without id or time: %d %v", id, at)
		}
		got = append(got, fp)
		return nil
	})
	if err != nil || len(got) != 1 || string(got[0]) != string([]byte{4, 5}) {
		t.Errorf("Fingerprints since an hour ago = %v, %v; want only fresh's", got, err)
	}

	for _, tt := range []struct{ raw, canonical, want string }{
		{fresh.URL, "", "fresh"},
		{"https://elsewhere.example/x", "https://a.example/fresh", "fresh"},
		{"", "", ""},
	} {
		items, err := db.FindItems(ctx, tt.raw, tt.canonical)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == "" && len(items) != 0 || tt.want != "" && (len(items) != 1 || items[0].GUID != tt.want) {
			t.Errorf("FindItems(%q, %q) = %v, want %q", tt.raw, tt.canonical, items, tt.want)
		}
	}
}

func TestStoriesMinSources(t *testing.T) {
	db, _ := openTest(t)
	shared := func(src, guid string) wiredesk.Item {
		it := item(src, guid, 0)
		it.CanonicalURL = "https://wire.example/story"
		return it
	}
	for _, it := range []wiredesk.Item{shared("a", "1"), shared("b", "2"), item("a", "solo", 5)} {
		mustSave(t, db, wiredesk.FetchResult{Source: it.Source, State: okState(it.Source, ""), Items: []wiredesk.Item{it}})
	}
	for _, tt := range []struct{ min, want int }{{0, 2}, {1, 2}, {2, 1}, {3, 0}} {
		if got := mustStories(t, db, wiredesk.StoryFilter{MinSources: tt.min}); len(got) != tt.want {
			t.Errorf("MinSources %d: %d stories, want %d", tt.min, len(got), tt.want)
		}
	}
}

func TestItemsByID(t *testing.T) {
	db, _ := openTest(t)
	m := &titleMatcher{}
	a, b := item("xinhua", "a1", 0), item("xinhua", "a2", 1)
	a.Content = "<p>the agency text</p>"
	mustSave(t, db, wiredesk.FetchResult{Source: "xinhua", State: okState("xinhua", `"1"`),
		Items: []wiredesk.Item{a, b}, Matcher: m})
	idA, idB := m.saved[0].ID, m.saved[1].ID
	got, err := db.ItemsByID(context.Background(), []int64{idB, 999999, idA})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != idB || got[1].ID != idA || got[1].Content != a.Content ||
		got[1].Source != "xinhua" || got[1].StoryID == 0 {
		t.Errorf("ItemsByID = %+v, want b then a, with text, source and story, the missing id left out", got)
	}
	if got, err := db.ItemsByID(context.Background(), nil); err != nil || got != nil {
		t.Errorf("ItemsByID(nil) = %v, %v", got, err)
	}
}
