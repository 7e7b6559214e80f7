package store

import (
	"context"
	"fmt"
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
	if len(last) != 2 || last[0].Content != "<p>the agency text</p>" || last[0].StoryID == 0 {
		t.Errorf("Decide got %+v, want the two stored items with their text and story", last)
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

// TestCandidateDocs checks what Decide is handed: each candidate's stored
// doc, and its text only when it has none; docs follow the item's text
// through updates, and go with the item or once it leaves the window.
func TestCandidateDocs(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	m := &titleMatcher{}
	save := func(items ...wiredesk.Item) {
		t.Helper()
		mustSave(t, db, wiredesk.FetchResult{Source: items[0].Source, State: okState(items[0].Source, ""),
			Items: items, Matcher: m})
	}
	docs := func() map[int64]string {
		t.Helper()
		rows, err := db.r.QueryContext(ctx, `SELECT item_id, doc FROM item_docs`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[int64]string{}
		for rows.Next() {
			var id int64
			var doc []byte
			if err := rows.Scan(&id, &doc); err != nil {
				t.Fatal(err)
			}
			out[id] = string(doc)
		}
		return out
	}
	// lastCandidates saves a probe item and returns what Decide got.
	probes := 0
	lastCandidates := func() map[int64]wiredesk.Item {
		t.Helper()
		probes++
		save(item("probe", fmt.Sprint("p", probes), probes))
		out := map[int64]wiredesk.Item{}
		for _, c := range m.candidates[len(m.candidates)-1] {
			out[c.ID] = c
		}
		return out
	}

	a, b := item("xinhua", "a", 0), item("xinhua", "b", 1)
	a.Content, a.Doc = "<p>the agency text</p>", []byte("doc of a")
	b.Content = "<p>no doc for this one</p>"
	save(a, b)
	idA, idB := m.saved[0].ID, m.saved[1].ID
	if got := docs(); len(got) != 1 || got[idA] != "doc of a" {
		t.Fatalf("stored docs %v, want a's only", got)
	}
	c := lastCandidates()
	if got := c[idA]; string(got.Doc) != "doc of a" || got.Content != "" || got.Title != "" || got.StoryID == 0 {
		t.Errorf("candidate a = %+v, want its doc and story, no text", got)
	}
	if got := c[idB]; got.Doc != nil || got.Content != b.Content || got.Title != b.Title || got.StoryID == 0 {
		t.Errorf("candidate b = %+v, want its text and story, no doc", got)
	}
	if _, ok := c[999999]; ok || len(m.candidates[len(m.candidates)-1]) != 2+probes-1 {
		t.Errorf("candidates %v: want the stored items only", m.candidates[len(m.candidates)-1])
	}

	// The feed corrects a: its new doc replaces the old one; corrected
	// again by a fetch that made no doc, a has none, and its text is used.
	a.Content, a.Doc = "<p>the corrected agency text</p>", []byte("doc of a, corrected")
	save(a)
	if got := lastCandidates()[idA]; string(got.Doc) != "doc of a, corrected" {
		t.Errorf("after an update, candidate a = %+v, want the new doc", got)
	}
	a.Content, a.Doc = "<p>corrected twice</p>", nil
	save(a)
	if got := lastCandidates()[idA]; got.Doc != nil || got.Content != a.Content {
		t.Errorf("after an update without a doc, candidate a = %+v, want its new text", got)
	}

	// An update saved without a matcher drops the doc of the old text.
	a.Content, a.Doc = "<p>corrected a third time</p>", []byte("doc of a, third")
	save(a)
	if got := docs()[idA]; got != "doc of a, third" {
		t.Fatalf("a's doc %q, want the third", got)
	}
	a.Content, a.Doc = "<p>corrected without a matcher</p>", []byte("unread doc of a")
	mustSave(t, db, wiredesk.FetchResult{Source: "xinhua", State: okState("xinhua", ""), Items: []wiredesk.Item{a}})
	if got, ok := docs()[idA]; ok {
		t.Errorf("after an update without a matcher, a's doc is %q, want none", got)
	}

	// Items saved without a matcher keep no doc: none would be read.
	plain := item("afp", "plain", 2)
	plain.Doc = []byte("unread doc")
	mustSave(t, db, wiredesk.FetchResult{Source: "afp", State: okState("afp", ""), Items: []wiredesk.Item{plain}})
	for id, d := range docs() {
		if d == "unread doc" {
			t.Errorf("item %d saved without a matcher has a doc", id)
		}
	}

	// A minute after the window has passed a's first sight, the next save
	// drops the docs of everything first seen before it; later docs stay.
	a.Content, a.Doc = "<p>corrected three times</p>", []byte("doc of a again")
	save(a)
	clock.now = clock.now.Add(db.Window / 2)
	late := item("xinhua", "late", 3)
	late.Doc = []byte("doc of late")
	save(late)
	idLate := m.saved[len(m.saved)-1].ID
	clock.now = clock.now.Add(db.Window/2 + docSweepEvery)
	save(item("xinhua", "sweeper", 4))
	if got := docs(); len(got) != 1 || got[idLate] != "doc of late" {
		t.Errorf("after the window: stored docs %v, want late's only", got)
	}

	// Deleting an item deletes its doc.
	if _, err := db.Prune(ctx, clock.now.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if got := docs(); len(got) != 0 {
		t.Errorf("after pruning every item: stored docs %v", got)
	}
}

// TestSweepDocsEveryMinute checks that the docs of items that left the
// window go at the first save a minute or more after the last sweep, and
// not at saves in between.
func TestSweepDocsEveryMinute(t *testing.T) {
	db, clock := openTest(t)
	db.Window = time.Hour
	m := &titleMatcher{}
	ids := map[string]int64{}
	save := func(guid string) {
		t.Helper()
		it := item("a", guid, 0)
		it.Doc = []byte("doc of " + guid)
		mustSave(t, db, wiredesk.FetchResult{Source: "a", State: okState("a", ""), Items: []wiredesk.Item{it}, Matcher: m})
		ids[guid] = m.saved[len(m.saved)-1].ID
	}
	hasDoc := func(guid string) bool {
		t.Helper()
		var n int
		if err := db.r.QueryRowContext(t.Context(), `SELECT count(*) FROM item_docs WHERE item_id = ?`, ids[guid]).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	at := func(d time.Duration) { clock.now = t0.Add(d) }

	at(0)
	save("old") // the first save sweeps, finding nothing
	at(70 * time.Second)
	save("mid")
	at(61 * time.Minute) // sweeps: old left the window, mid has not
	save("new")
	if hasDoc("old") || !hasDoc("mid") || !hasDoc("new") {
		t.Fatalf("after the sweep at 61m: docs old %v, mid %v, new %v; want mid and new", hasDoc("old"), hasDoc("mid"), hasDoc("new"))
	}
	at(61*time.Minute + 30*time.Second) // mid has left the window, but the last sweep was 30 s ago
	save("newer")
	if !hasDoc("mid") {
		t.Error("a save 30 s after a sweep swept again")
	}
	at(62*time.Minute + time.Second)
	save("newest")
	if hasDoc("mid") || !hasDoc("new") || !hasDoc("newer") || !hasDoc("newest") {
		t.Errorf("after the sweep at 62m: docs mid %v, new %v, newer %v, newest %v; want all but mid",
			hasDoc("mid"), hasDoc("new"), hasDoc("newer"), hasDoc("newest"))
	}
}
