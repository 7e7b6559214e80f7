package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

// item builds a test item published at t0 plus minutes.
func item(source, guid string, minutes int) wiredesk.Item {
	pub := t0.Add(time.Duration(minutes) * time.Minute)
	return wiredesk.Item{
		Source: source, GUID: guid, URL: "https://" + source + ".example/" + guid,
		Title: "Title " + guid, Summary: "<p>Summary " + guid + "</p>",
		Published: pub, Updated: pub,
	}
}

func okState(source, etag string) wiredesk.SourceState {
	return wiredesk.SourceState{
		Source: source, Status: wiredesk.StatusOK, HTTPStatus: 200, ETag: etag,
		LastModified: "Fri, 14 Mar 2025 09:00:00 GMT",
		LastFetch:    t0, LastSuccess: t0, NextRun: t0.Add(15 * time.Minute),
	}
}

func mustSave(t *testing.T, db *DB, res wiredesk.FetchResult) wiredesk.IngestStats {
	t.Helper()
	stats, err := db.SaveFetch(context.Background(), res)
	if err != nil {
		t.Fatalf("SaveFetch(%s): %v", res.Source, err)
	}
	return stats
}

func mustStories(t *testing.T, db *DB, f wiredesk.StoryFilter) []wiredesk.Story {
	t.Helper()
	s, err := db.Stories(context.Background(), f)
	if err != nil {
		t.Fatalf("Stories: %v", err)
	}
	return s
}

func mustItems(t *testing.T, db *DB, f wiredesk.ItemFilter) []wiredesk.Item {
	t.Helper()
	items, err := db.Items(context.Background(), f)
	if err != nil {
		t.Fatalf("Items: %v", err)
	}
	return items
}

func TestSaveFetchCounts(t *testing.T) {
	db, clock := openTest(t)
	a, b := item("pti", "a", 0), item("pti", "b", 1)
	got := mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{a, b}})
	if want := (wiredesk.IngestStats{New: 2, Stories: 2}); got != want {
		t.Errorf("first save = %+v, want %+v", got, want)
	}
	first := mustItems(t, db, wiredesk.ItemFilter{})

	clock.now = t0.Add(time.Hour)
	b.Title = "Title b, corrected"
	c := item("pti", "c", 2)
	got = mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{a, b, c}})
	if want := (wiredesk.IngestStats{New: 1, Updated: 1, Unchanged: 1, Stories: 1}); got != want {
		t.Errorf("second save = %+v, want %+v", got, want)
	}

	items := mustItems(t, db, wiredesk.ItemFilter{})
	if len(items) != 3 {
		t.Fatalf("stored %d items, want 3 (never twice)", len(items))
	}
	byGUID := map[string]wiredesk.Item{}
	for _, it := range items {
		byGUID[it.GUID] = it
	}
	if byGUID["b"].Title != "Title b, corrected" {
		t.Errorf("b title = %q, want the corrected one", byGUID["b"].Title)
	}
	for _, f := range first {
		if byGUID[f.GUID].ID != f.ID || byGUID[f.GUID].StoryID != f.StoryID {
			t.Errorf("item %s moved: id %d->%d story %d->%d", f.GUID,
				f.ID, byGUID[f.GUID].ID, f.StoryID, byGUID[f.GUID].StoryID)
		}
		if !byGUID[f.GUID].FirstSeen.Equal(t0) {
			t.Errorf("item %s first seen %v, want %v", f.GUID, byGUID[f.GUID].FirstSeen, t0)
		}
	}

	var lastSeen string
	if err := db.r.QueryRow(`SELECT last_seen FROM items WHERE guid = 'a'`).Scan(&lastSeen); err != nil {
		t.Fatal(err)
	}
	if want := fmtTime(clock.now); lastSeen != want {
		t.Errorf("unchanged item last_seen = %s, want %s", lastSeen, want)
	}
}

func TestSaveFetchItemFields(t *testing.T) {
	db, _ := openTest(t)
	zone := time.FixedZone("CST", 8*3600)
	in := wiredesk.Item{
		GUID: "x1", URL: "https://x.example/1", Title: "T", Summary: "<b>s</b>",
		Content: "<p>c</p>", Author: "Reporter", CanonicalURL: "https://x.example/1",
		ContentHash: "h1",
		Published:   time.Date(2025, 3, 14, 17, 0, 0, 123, zone),
		Updated:     time.Date(2025, 3, 14, 18, 0, 0, 456, zone),
	}
	mustSave(t, db, wiredesk.FetchResult{Source: "xinhua", Items: []wiredesk.Item{in}})
	items := mustItems(t, db, wiredesk.ItemFilter{})
	if len(items) != 1 {
		t.Fatalf("got %d items, want 1", len(items))
	}
	got := items[0]
	if got.Source != "xinhua" || got.GUID != in.GUID || got.URL != in.URL || got.Title != in.Title ||
		got.Summary != in.Summary || got.Content != in.Content || got.Author != in.Author ||
		got.CanonicalURL != in.CanonicalURL || got.ContentHash != in.ContentHash {
		t.Errorf("stored item = %+v, want fields of %+v", got, in)
	}
	if !got.Published.Equal(in.Published) || !got.Updated.Equal(in.Updated) || !got.FirstSeen.Equal(t0) {
		t.Errorf("times = %v %v %v, want %v %v %v", got.Published, got.Updated, got.FirstSeen,
			in.Published, in.Updated, t0)
	}
	if got.ID == 0 || got.StoryID == 0 || !got.Primary {
		t.Errorf("id %d story %d primary %v: want ids set and primary", got.ID, got.StoryID, got.Primary)
	}

	t.Run("missing times are filled from first sight", func(t *testing.T) {
		mustSave(t, db, wiredesk.FetchResult{Source: "xinhua", Items: []wiredesk.Item{{GUID: "undated", Title: "U"}}})
		items := mustItems(t, db, wiredesk.ItemFilter{Sources: []string{"xinhua"}})
		var u wiredesk.Item
		for _, it := range items {
			if it.GUID == "undated" {
				u = it
			}
		}
		if !u.FirstSeen.Equal(t0) || !u.Published.Equal(t0) || !u.Updated.Equal(t0) {
			t.Errorf("undated item times = %v %v %v, want all %v", u.FirstSeen, u.Published, u.Updated, t0)
		}
		// Seen again, still undated: unchanged, not updated every poll.
		stats := mustSave(t, db, wiredesk.FetchResult{Source: "xinhua", Items: []wiredesk.Item{{GUID: "undated", Title: "U"}}})
		if stats != (wiredesk.IngestStats{Unchanged: 1}) {
			t.Errorf("undated item seen again: %+v, want 1 unchanged", stats)
		}
	})
}

func TestSaveFetchDuplicateGUIDs(t *testing.T) {
	db, _ := openTest(t)
	a1, a2 := item("ap", "a", 0), item("ap", "a", 0)
	a2.Title = "second"
	stats := mustSave(t, db, wiredesk.FetchResult{Source: "ap", Items: []wiredesk.Item{a1, a2}})
	if stats != (wiredesk.IngestStats{New: 1, Updated: 1, Stories: 1}) {
		t.Errorf("stats = %+v, want 1 new, 1 updated", stats)
	}
	items := mustItems(t, db, wiredesk.ItemFilter{})
	if len(items) != 1 || items[0].Title != "second" {
		t.Errorf("items = %+v, want one titled second", items)
	}
}

// storyIDs maps source/guid of every stored item to its story.
func storyIDs(t *testing.T, db *DB) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, it := range mustItems(t, db, wiredesk.ItemFilter{}) {
		m[it.Source+"/"+it.GUID] = it.StoryID
	}
	return m
}

func TestSaveFetchStories(t *testing.T) {
	t.Run("same canonical URL folds across sources", func(t *testing.T) {
		db, _ := openTest(t)
		a, b := item("pti", "p1", 0), item("ani", "n1", 5)
		a.CanonicalURL, b.CanonicalURL = "https://wire.example/s", "https://wire.example/s"
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{a}})
		mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{b}})
		stories := mustStories(t, db, wiredesk.StoryFilter{})
		if len(stories) != 1 || len(stories[0].Copies) != 2 {
			t.Fatalf("got %d stories (%+v), want 1 with 2 copies", len(stories), stories)
		}
		if got := stories[0].Sources(); len(got) != 2 || got[0] != "pti" || got[1] != "ani" {
			t.Errorf("copy sources = %v, want [pti ani] (earliest first)", got)
		}
	})

	t.Run("same content hash folds", func(t *testing.T) {
		db, _ := openTest(t)
		a, b, c := item("pti", "p1", 0), item("ani", "n1", 5), item("ani", "n2", 6)
		a.ContentHash, b.ContentHash, c.ContentHash = "h", "h", "other"
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{a}})
		mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{b, c}})
		ids := storyIDs(t, db)
		if ids["pti/p1"] != ids["ani/n1"] || ids["ani/n2"] == ids["pti/p1"] {
			t.Errorf("stories = %v, want p1 and n1 together, n2 apart", ids)
		}
	})

	t.Run("empty keys never fold", func(t *testing.T) {
		db, _ := openTest(t)
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{item("pti", "1", 0), item("pti", "2", 1)}})
		if n := len(mustStories(t, db, wiredesk.StoryFilter{})); n != 2 {
			t.Errorf("got %d stories, want 2", n)
		}
	})

	t.Run("explicit StoryID is honoured, unknown falls back", func(t *testing.T) {
		db, _ := openTest(t)
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{item("pti", "1", 0)}})
		sid := storyIDs(t, db)["pti/1"]
		b, c := item("xinhua", "2", 3), item("xinhua", "3", 4)
		b.StoryID, c.StoryID = sid, sid+1000
		mustSave(t, db, wiredesk.FetchResult{Source: "xinhua", Items: []wiredesk.Item{b, c}})
		ids := storyIDs(t, db)
		if ids["xinhua/2"] != sid {
			t.Errorf("item with StoryID %d stored in %d", sid, ids["xinhua/2"])
		}
		if ids["xinhua/3"] == sid || ids["xinhua/3"] == sid+1000 {
			t.Errorf("item with unknown StoryID stored in %d, want a new story", ids["xinhua/3"])
		}
	})

	t.Run("new stories get urn:uuid GUIDs ordered by creation", func(t *testing.T) {
		db, clock := openTest(t)
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{item("pti", "1", 0), item("pti", "2", 1)}})
		clock.now = clock.now.Add(time.Millisecond)
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{item("pti", "3", 2)}})
		re := regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
		// The first 48 bits are the creation time in Unix milliseconds.
		ms := fmt.Sprintf("%012x", t0.UnixMilli())
		want := "urn:uuid:" + ms[:8] + "-" + ms[8:]
		stories := mustStories(t, db, wiredesk.StoryFilter{}) // newest published first
		if len(stories) != 3 {
			t.Fatalf("%d stories, want 3", len(stories))
		}
		for _, s := range stories {
			if !re.MatchString(s.GUID) {
				t.Errorf("story GUID %q is not a urn:uuid v7", s.GUID)
			}
		}
		if !strings.HasPrefix(stories[1].GUID, want) || !strings.HasPrefix(stories[2].GUID, want) {
			t.Errorf("GUIDs %q, %q: want the prefix %q of their creation time", stories[1].GUID, stories[2].GUID, want)
		}
		if stories[1].GUID == stories[2].GUID || stories[0].GUID <= stories[1].GUID || stories[0].GUID <= stories[2].GUID {
			t.Errorf("GUIDs %q: want distinct, a later story's greater", []string{stories[0].GUID, stories[1].GUID, stories[2].GUID})
		}
	})
}

func TestSaveFetchPrimary(t *testing.T) {
	ctx := context.Background()
	db, clock := openTest(t)
	if err := db.SyncSources(ctx, []wiredesk.Source{
		{Name: "low", FeedURL: "https://low.example/feed"},
		{Name: "high", FeedURL: "https://high.example/feed", Priority: 10},
	}); err != nil {
		t.Fatal(err)
	}
	// A content hash folds copies from any source, the same one included.
	withKey := func(it wiredesk.Item) wiredesk.Item { it.ContentHash = "same text"; return it }

	check := func(t *testing.T, wantSource, wantGUID string, wantPub, wantUpdated time.Time, storyGUID string) string {
		t.Helper()
		stories := mustStories(t, db, wiredesk.StoryFilter{})
		if len(stories) != 1 {
			t.Fatalf("got %d stories, want 1", len(stories))
		}
		s := stories[0]
		if s.Primary.Source != wantSource || s.Primary.GUID != wantGUID || !s.Primary.Primary {
			t.Errorf("primary = %s/%s (flag %v), want %s/%s", s.Primary.Source, s.Primary.GUID,
				s.Primary.Primary, wantSource, wantGUID)
		}
		if !s.Published.Equal(wantPub) || !s.Updated.Equal(wantUpdated) {
			t.Errorf("story published %v updated %v, want %v %v", s.Published, s.Updated, wantPub, wantUpdated)
		}
		if storyGUID != "" && s.GUID != storyGUID {
			t.Errorf("story GUID changed from %s to %s", storyGUID, s.GUID)
		}
		return s.GUID
	}

	mustSave(t, db, wiredesk.FetchResult{Source: "low", Items: []wiredesk.Item{withKey(item("low", "l2", 20))}})
	guid := check(t, "low", "l2", t0.Add(20*time.Minute), t0, "")

	t.Run("earlier copy of equal priority wins", func(t *testing.T) {
		clock.now = t0.Add(time.Hour)
		mustSave(t, db, wiredesk.FetchResult{Source: "low", Items: []wiredesk.Item{withKey(item("low", "l1", 10))}})
		check(t, "low", "l1", t0.Add(10*time.Minute), clock.now, guid)
	})
	t.Run("higher priority wins over earlier", func(t *testing.T) {
		clock.now = t0.Add(2 * time.Hour)
		mustSave(t, db, wiredesk.FetchResult{Source: "high", Items: []wiredesk.Item{withKey(item("high", "h1", 30))}})
		check(t, "high", "h1", t0.Add(30*time.Minute), clock.now, guid)
	})
	t.Run("a changed copy bumps updated", func(t *testing.T) {
		clock.now = t0.Add(3 * time.Hour)
		l1 := withKey(item("low", "l1", 10))
		l1.Summary = "revised"
		mustSave(t, db, wiredesk.FetchResult{Source: "low", Items: []wiredesk.Item{l1}})
		check(t, "high", "h1", t0.Add(30*time.Minute), clock.now, guid)
	})
	t.Run("an unchanged copy does not bump updated", func(t *testing.T) {
		before := clock.now
		clock.now = t0.Add(4 * time.Hour)
		mustSave(t, db, wiredesk.FetchResult{Source: "high", Items: []wiredesk.Item{withKey(item("high", "h1", 30))}})
		check(t, "high", "h1", t0.Add(30*time.Minute), before, guid)
	})
	t.Run("priority change in config picks again", func(t *testing.T) {
		before := clock.now
		if err := db.SyncSources(ctx, []wiredesk.Source{
			{Name: "low", FeedURL: "https://low.example/feed", Priority: 20},
			{Name: "high", FeedURL: "https://high.example/feed", Priority: 10},
		}); err != nil {
			t.Fatal(err)
		}
		check(t, "low", "l1", t0.Add(10*time.Minute), before.Add(-time.Hour), guid)
	})
}

// TestSaveFetchPrimaryInOneFetch checks the primary copy of stories a
// fetch starts: the starting item alone, set directly, unless a later item
// of the same fetch joins the story or updates the starting one, which
// chooses again.
func TestSaveFetchPrimaryInOneFetch(t *testing.T) {
	db, _ := openTest(t)
	withKey := func(it wiredesk.Item, key string) wiredesk.Item { it.ContentHash = key; return it }
	revised := withKey(item("ap", "a1", 50), "a")
	revised.Published = t0.Add(1 * time.Minute)
	mustSave(t, db, wiredesk.FetchResult{Source: "ap", Items: []wiredesk.Item{
		withKey(item("ap", "alone", 40), "alone"),
		withKey(item("ap", "j2", 30), "joined"), withKey(item("ap", "j1", 20), "joined"), // the later item is the earlier copy
		withKey(item("ap", "a1", 10), "a"), revised, // the same GUID again: an update that moves its date
	}})
	got := map[string]string{}
	for _, s := range mustStories(t, db, wiredesk.StoryFilter{}) {
		if !s.Primary.Primary || len(s.Copies) == 0 {
			t.Errorf("story %d: primary %+v, %d copies", s.ID, s.Primary, len(s.Copies))
		}
		got[s.Primary.GUID] = s.Published.Sub(t0).String()
	}
	want := map[string]string{"alone": "40m0s", "j1": "20m0s", "a1": "1m0s"}
	if !maps.Equal(got, want) {
		t.Errorf("primaries (GUID: published) = %v, want %v", got, want)
	}

	t.Run("a tie goes to the first stored", func(t *testing.T) {
		db, _ := openTest(t)
		for _, src := range []string{"zz", "aa", "mm"} {
			mustSave(t, db, wiredesk.FetchResult{Source: src, Items: []wiredesk.Item{withKey(item(src, "x", 5), "tie")}})
		}
		stories := mustStories(t, db, wiredesk.StoryFilter{})
		if len(stories) != 1 || len(stories[0].Copies) != 3 {
			t.Fatalf("got %d stories, want one of three copies", len(stories))
		}
		if p := stories[0].Primary; p.Source != "zz" {
			t.Errorf("primary %s/%s, want zz's copy, the first stored", p.Source, p.GUID)
		}
	})
}

// TestSaveFetchAtomic checks that a fetch whose transaction fails stores
// neither its items nor its new ETag.
func TestSaveFetchAtomic(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) *DB {
		db, _ := openTest(t)
		mustSave(t, db, wiredesk.FetchResult{Source: "ap", State: okState("ap", `"old"`),
			Items: []wiredesk.Item{item("ap", "kept", 0)}})
		return db
	}
	next := wiredesk.FetchResult{Source: "ap", State: okState("ap", `"new"`),
		Items: []wiredesk.Item{item("ap", "n1", 1), item("ap", "boom", 2), item("ap", "n3", 3)}}

	assertUnchanged := func(t *testing.T, db *DB) {
		t.Helper()
		items := mustItems(t, db, wiredesk.ItemFilter{})
		if len(items) != 1 || items[0].GUID != "kept" {
			t.Errorf("items = %d (%+v), want only the first fetch's", len(items), items)
		}
		if n := len(mustStories(t, db, wiredesk.StoryFilter{})); n != 1 {
			t.Errorf("stories = %d, want 1", n)
		}
		st, err := db.SourceState(ctx, "ap")
		if err != nil || st.ETag != `"old"` {
			t.Errorf("ETag = %q (%v), want the old one", st.ETag, err)
		}
	}

	t.Run("write failing mid-way", func(t *testing.T) {
		db := setup(t)
		// A real SQLite failure after one item of the fetch is written.
		if _, err := db.w.Exec(`CREATE TRIGGER boom BEFORE INSERT ON items
			WHEN NEW.guid = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
			t.Fatal(err)
		}
		_, err := db.SaveFetch(ctx, next)
		if err == nil || !strings.Contains(err.Error(), "save fetch for ap") {
			t.Fatalf("err = %v, want a save fetch error", err)
		}
		assertUnchanged(t, db)
	})

	t.Run("context cancelled", func(t *testing.T) {
		db := setup(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := db.SaveFetch(cctx, next); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		assertUnchanged(t, db)
	})

	t.Run("closed database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "c.db")
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		mustSave(t, db, wiredesk.FetchResult{Source: "ap", State: okState("ap", `"old"`),
			Items: []wiredesk.Item{item("ap", "kept", 0)}})
		db.Close()
		if _, err := db.SaveFetch(ctx, next); err == nil {
			t.Error("SaveFetch on a closed DB succeeded")
		}
		db, err = Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		assertUnchanged(t, db)
	})
}
