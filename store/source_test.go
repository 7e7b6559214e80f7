package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

func TestSaveFetchState(t *testing.T) {
	ctx := context.Background()
	db, clock := openTest(t)

	t.Run("unknown source has zero state", func(t *testing.T) {
		st, err := db.SourceState(ctx, "nobody")
		if err != nil || st != (wiredesk.SourceState{Source: "nobody"}) {
			t.Errorf("SourceState = %+v, %v; want zero state for nobody", st, err)
		}
	})

	want := okState("ap", `"v1"`)
	mustSave(t, db, wiredesk.FetchResult{Source: "ap", State: want, Items: []wiredesk.Item{item("ap", "1", 0)}})

	t.Run("state saved with the items", func(t *testing.T) {
		got, err := db.SourceState(ctx, "ap")
		if err != nil {
			t.Fatal(err)
		}
		assertState(t, got, want)
	})

	t.Run("state-only save keeps items", func(t *testing.T) {
		clock.now = t0.Add(time.Hour)
		nm := want
		nm.Status, nm.HTTPStatus, nm.LastFetch = wiredesk.StatusNotModified, 304, clock.now
		stats := mustSave(t, db, wiredesk.FetchResult{Source: "ap", State: nm})
		if stats != (wiredesk.IngestStats{}) {
			t.Errorf("state-only stats = %+v, want zero", stats)
		}
		got, err := db.SourceState(ctx, "ap")
		if err != nil {
			t.Fatal(err)
		}
		assertState(t, got, nm)

		failed := nm
		failed.Status, failed.HTTPStatus, failed.LastError, failed.ConsecutiveFailures =
			wiredesk.StatusError, 503, "fetch: 503 Service Unavailable", 1
		mustSave(t, db, wiredesk.FetchResult{Source: "ap", State: failed})
		got, _ = db.SourceState(ctx, "ap")
		assertState(t, got, failed)
		if n := len(mustItems(t, db, wiredesk.ItemFilter{})); n != 1 {
			t.Errorf("items after state-only saves = %d, want 1", n)
		}
	})

	t.Run("empty source name is refused", func(t *testing.T) {
		if _, err := db.SaveFetch(ctx, wiredesk.FetchResult{}); err == nil {
			t.Error("SaveFetch with no source name succeeded")
		}
	})
}

func assertState(t *testing.T, got, want wiredesk.SourceState) {
	t.Helper()
	if got.Source != want.Source || got.Status != want.Status || got.HTTPStatus != want.HTTPStatus ||
		got.LastError != want.LastError || got.ETag != want.ETag || got.LastModified != want.LastModified ||
		got.ConsecutiveFailures != want.ConsecutiveFailures ||
		!got.LastFetch.Equal(want.LastFetch) || !got.LastSuccess.Equal(want.LastSuccess) ||
		!got.NextRun.Equal(want.NextRun) {
		t.Errorf("state = %+v\nwant    %+v", got, want)
	}
}

func TestSyncSources(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	sync := func(srcs ...wiredesk.Source) {
		t.Helper()
		if err := db.SyncSources(ctx, srcs); err != nil {
			t.Fatal(err)
		}
	}
	sync(wiredesk.Source{Name: "a", FeedURL: "https://a/1"}, wiredesk.Source{Name: "b", FeedURL: "https://b/1"})
	mustSave(t, db, wiredesk.FetchResult{Source: "a", State: okState("a", `"a"`), Items: []wiredesk.Item{item("a", "1", 0)}})
	mustSave(t, db, wiredesk.FetchResult{Source: "b", State: okState("b", `"b"`)})

	t.Run("source left the config: kept with its items", func(t *testing.T) {
		sync(wiredesk.Source{Name: "b", FeedURL: "https://b/1"})
		states, err := db.SourceStates(ctx)
		if err != nil || len(states) != 2 || states[0].ETag != `"a"` {
			t.Errorf("states = %+v, %v; want a and b, a's ETag kept", states, err)
		}
		if n := len(mustItems(t, db, wiredesk.ItemFilter{Sources: []string{"a"}})); n != 1 {
			t.Errorf("a has %d items, want 1", n)
		}
	})

	t.Run("feed URL change clears validators", func(t *testing.T) {
		sync(wiredesk.Source{Name: "a", FeedURL: "https://a/1"}, wiredesk.Source{Name: "b", FeedURL: "https://b/2"})
		a, _ := db.SourceState(ctx, "a")
		b, _ := db.SourceState(ctx, "b")
		if a.ETag != `"a"` || a.LastModified == "" {
			t.Errorf("a (same URL) lost validators: %+v", a)
		}
		if b.ETag != "" || b.LastModified != "" {
			t.Errorf("b (new URL) = %+v, want validators cleared", b)
		}
	})

	t.Run("feed URL change resets the backoff of the old URL", func(t *testing.T) {
		failing := okState("b", `"b"`)
		failing.Status, failing.HTTPStatus, failing.LastError = wiredesk.StatusError, 404, "fetch: 404 Not Found"
		failing.ConsecutiveFailures, failing.NextRun = 7, t0.Add(12*time.Hour)
		mustSave(t, db, wiredesk.FetchResult{Source: "b", State: failing})
		failing.Source = "a" // same URL: the backoff stands
		mustSave(t, db, wiredesk.FetchResult{Source: "a", State: failing})

		sync(wiredesk.Source{Name: "a", FeedURL: "https://a/1"}, wiredesk.Source{Name: "b", FeedURL: "https://b/3"})
		b, _ := db.SourceState(ctx, "b")
		want := wiredesk.SourceState{Source: "b", LastFetch: failing.LastFetch, LastSuccess: failing.LastSuccess}
		assertState(t, b, want)
		a, _ := db.SourceState(ctx, "a")
		assertState(t, a, failing)
	})

	t.Run("source created by a fetch keeps validators on first sync", func(t *testing.T) {
		mustSave(t, db, wiredesk.FetchResult{Source: "c", State: okState("c", `"c"`)})
		sync(wiredesk.Source{Name: "c", FeedURL: "https://c/1"})
		if c, _ := db.SourceState(ctx, "c"); c.ETag != `"c"` {
			t.Errorf("c ETag = %q, want kept", c.ETag)
		}
	})

	var url string
	if err := db.r.QueryRow(`SELECT feed_url FROM sources WHERE name = 'b'`).Scan(&url); err != nil || url != "https://b/3" {
		t.Errorf("b feed_url = %q (%v), want https://b/3", url, err)
	}
}

// TestSaveStateOfAnOldURL checks that a poll of a source's old URL, ending
// after a reload gave the source a new one, saves its items but not its
// state: the new URL keeps the reset state (no validators, due at once).
func TestSaveStateOfAnOldURL(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if err := db.SyncSources(ctx, []wiredesk.Source{{Name: "s", FeedURL: "https://new.example/feed"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, feedURL, etag string
		wantETag            string
	}{
		{"poll of the old URL", "https://old.example/feed", `"old"`, ""},
		{"poll of the current URL", "https://new.example/feed", `"new"`, `"new"`},
		{"caller that does not say", "", `"any"`, `"any"`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stats := mustSave(t, db, wiredesk.FetchResult{Source: "s", FeedURL: tt.feedURL,
				State: okState("s", tt.etag), Items: []wiredesk.Item{item("s", fmt.Sprint("g", i), i)}})
			if stats.New != 1 {
				t.Errorf("saved %+v, want the item stored", stats)
			}
			st, err := db.SourceState(ctx, "s")
			if err != nil {
				t.Fatal(err)
			}
			if st.ETag != tt.wantETag {
				t.Errorf("ETag %q, want %q", st.ETag, tt.wantETag)
			}
		})
	}
}
