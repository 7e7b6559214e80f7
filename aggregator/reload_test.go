package aggregator

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/store"
)

// hitServer serves a small feed on every path and reports each request's path.
func hitServer(t *testing.T) (*httptest.Server, <-chan string) {
	hits := make(chan string, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<rss version="2.0"><channel><title>t</title><item><guid>` + r.URL.Path +
			`</guid><title>x</title></item></channel></rss>`))
		select {
		case hits <- r.URL.Path:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

func waitHit(t *testing.T, hits <-chan string, path string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case p := <-hits:
			if p == path {
				return
			}
		case <-timeout:
			t.Fatalf("no request for %s", path)
		}
	}
}

// waitIdle waits until the poller runs and queues no scheduled poll.
func waitIdle(t *testing.T, p *Poller) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		p.run.mu.Lock()
		idle := p.run.running == 0 && len(p.run.pending) == 0
		p.run.mu.Unlock()
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("scheduled polls still running after 10s")
		}
	}
}

func openTestStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "wiredesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// entryIDs returns the scheduled sources and their cron entry ids, and
// checks that the runner holds exactly those entries.
func entryIDs(t *testing.T, p *Poller) map[string]wiredesk.Source {
	t.Helper()
	p.srcMu.Lock()
	defer p.srcMu.Unlock()
	got := map[string]wiredesk.Source{}
	for name, e := range p.entries {
		got[name] = e.src
		if p.cron.Entry(e.id).ID != e.id {
			t.Errorf("source %s: entry %d not in the runner", name, e.id)
		}
	}
	if n := len(p.cron.Entries()); n != len(p.entries) {
		t.Errorf("runner has %d entries, want %d", n, len(p.entries))
	}
	return got
}

func TestSetSources(t *testing.T) {
	srv, hits := hitServer(t)
	db := openTestStore(t)
	a := wiredesk.Source{Name: "a", FeedURL: srv.URL + "/a", Schedule: "@every 1h"}
	b := wiredesk.Source{Name: "b", FeedURL: srv.URL + "/b", Schedule: "@every 1h"}
	p := NewPoller(db, nil)
	p.Logger = slog.New(slog.DiscardHandler)
	ctx := context.Background()
	// As the daemon does before it opens the poller: the store knows the
	// configured URLs, so that it can tell when one changes.
	if err := db.SyncSources(ctx, []wiredesk.Source{a, b}); err != nil {
		t.Fatal(err)
	}

	// Before Open it only replaces the list.
	if err := p.SetSources(ctx, []wiredesk.Source{a}); err != nil || len(p.sources) != 1 || p.entries != nil {
		t.Fatalf("SetSources before Open = %v; sources %v", err, p.sources)
	}
	if err := p.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	waitHit(t, hits, "/a")

	t.Run("add", func(t *testing.T) {
		if err := p.SetSources(ctx, []wiredesk.Source{a, b}); err != nil {
			t.Fatal(err)
		}
		waitHit(t, hits, "/b") // never polled: at once
		if got := entryIDs(t, p); len(got) != 2 {
			t.Errorf("scheduled %v, want a and b", got)
		}
	})
	t.Run("invalid schedule changes nothing", func(t *testing.T) {
		before := p.entries["a"].id
		bad := wiredesk.Source{Name: "c", FeedURL: srv.URL + "/c", Schedule: "every tuesday"}
		err := p.SetSources(ctx, []wiredesk.Source{bad})
		if err == nil || !strings.Contains(err.Error(), "source c: schedule") {
			t.Errorf("SetSources = %v, want the bad schedule named", err)
		}
		if got := entryIDs(t, p); len(got) != 2 || p.entries["a"].id != before || len(p.sources) != 2 {
			t.Errorf("after a refused reload scheduled %v, want a and b unchanged", got)
		}
	})
	t.Run("change schedule, tags; remove", func(t *testing.T) {
		oldA, oldB := p.entries["a"].id, p.entries["b"].id
		a2 := a
		a2.Schedule = "@every 2h"
		b2 := b
		b2.Tags = []string{"world"}
		if err := p.SetSources(ctx, []wiredesk.Source{a2, b2}); err != nil {
			t.Fatal(err)
		}
		got := entryIDs(t, p)
		if p.entries["a"].id == oldA || got["a"].Schedule != "@every 2h" {
			t.Errorf("a: entry %d (was %d), schedule %q; want rescheduled", p.entries["a"].id, oldA, got["a"].Schedule)
		}
		if p.entries["b"].id != oldB || !got["b"].HasTag("world") {
			t.Errorf("b: entry %d (was %d), %+v; want same entry, new tags", p.entries["b"].id, oldB, got["b"])
		}
		if err := p.SetSources(ctx, []wiredesk.Source{b2}); err != nil {
			t.Fatal(err)
		}
		if got := entryIDs(t, p); len(got) != 1 || got["b"].Name != "b" {
			t.Errorf("after removing a scheduled %v, want b only", got)
		}
	})
	t.Run("changed feed URL polls at once", func(t *testing.T) {
		// b's first poll records its state when it ends; the new URL's
		// reset must come after, or that poll's record overwrites it.
		waitIdle(t, p)
		b3 := b
		b3.FeedURL = srv.URL + "/b3"
		if err := db.SyncSources(ctx, []wiredesk.Source{b3}); err != nil {
			t.Fatal(err)
		}
		if err := p.SetSources(ctx, []wiredesk.Source{b3}); err != nil {
			t.Fatal(err)
		}
		waitHit(t, hits, "/b3")
	})
	t.Run("concurrent with polls", func(t *testing.T) {
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := p.PollAll(ctx, []wiredesk.Source{a, b}); err != nil {
				t.Error(err)
			}
		})
		for range 5 {
			if err := p.SetSources(ctx, []wiredesk.Source{a, b}); err != nil {
				t.Error(err)
			}
			if err := p.SetSources(ctx, []wiredesk.Source{b}); err != nil {
				t.Error(err)
			}
		}
		wg.Wait()
	})
}

// TestGoneNotScheduled: after a 410 the scheduler skips the source, and
// an explicit PollOnce still polls it.
func TestGoneNotScheduled(t *testing.T) {
	var hits sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := hits.LoadOrStore(r.URL.Path, new(int))
		*n.(*int)++
		http.Error(w, "gone", http.StatusGone)
	}))
	defer srv.Close()
	db := openTestStore(t)
	src := wiredesk.Source{Name: "g", FeedURL: srv.URL + "/g", Schedule: "@every 10m"}
	p := NewPoller(db, []wiredesk.Source{src})
	p.Logger = slog.New(slog.DiscardHandler)
	p.Now = func() time.Time { return t0 }
	ctx := context.Background()
	for range 2 {
		r, err := p.PollOnce(ctx, src)
		if err != nil || r.Status != wiredesk.StatusGone {
			t.Fatalf("PollOnce = %v, %v; want gone", r, err)
		}
	}
	if n, _ := hits.Load("/g"); *n.(*int) != 2 {
		t.Errorf("%d requests, want 2: an explicit poll polls a gone source", *n.(*int))
	}
	st, err := db.SourceState(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if Due(st, t0.Add(365*24*time.Hour)) {
		t.Error("gone source due a year later, want never")
	}
	if first := FirstRun(st, mustSchedule(t, "@every 10m"), t0); !first.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("FirstRun = %v, want the next tick (which Due skips), not now", first)
	}
	p.runScheduled(ctx, src, p.Now())
	if n, _ := hits.Load("/g"); *n.(*int) != 2 {
		t.Errorf("a scheduled tick polled the gone source")
	}
}
