package aggregator

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

func TestHostQueue(t *testing.T) {
	type step struct {
		push []string // "host:v" queued before this step
		done []string // hosts of running pieces to end first
		want []string // what next hands out until it refuses, "host:v"
	}
	tests := []struct {
		name  string
		limit int
		steps []step
	}{
		{"round robin in order of first appearance", 9, []step{
			{push: []string{"a:1", "a:2", "a:3", "b:1", "c:1", "c:2"}, want: []string{"a:1", "b:1", "c:1", "a:2", "c:2", "a:3"}},
		}},
		{"a host at its limit waits, the others go on", 2, []step{
			{push: []string{"a:1", "a:2", "a:3", "a:4", "b:1", "b:2"}, want: []string{"a:1", "b:1", "a:2", "b:2"}},
			{done: []string{"a"}, want: []string{"a:3"}},
			{done: []string{"a", "a"}, want: []string{"a:4"}},
		}},
		{"a host that ran dry comes back at the end", 1, []step{
			{push: []string{"a:1", "b:1"}, want: []string{"a:1", "b:1"}},
			{push: []string{"a:2", "c:1"}, done: []string{"a", "b"}, want: []string{"a:2", "c:1"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newHostQueue[string](tt.limit)
			running := map[string][]*hostLine[string]{}
			for i, st := range tt.steps {
				for _, h := range st.done {
					q.done(running[h][0])
					running[h] = running[h][1:]
				}
				for _, hv := range st.push {
					host, _, _ := strings.Cut(hv, ":")
					q.push(host, hv)
				}
				var got []string
				for {
					h, v, ok := q.next()
					if !ok {
						break
					}
					running[h.host] = append(running[h.host], h)
					got = append(got, v)
				}
				if !slices.Equal(got, st.want) {
					t.Errorf("step %d: handed out %v, want %v", i, got, st.want)
				}
			}
		})
	}
}

// TestRunnerHangingHost checks the schedule's side of the run queue: all
// sources due at once, most of them on a host that hangs, and listed
// first. The answering host's sources are all polled meanwhile, with a
// bounded number of goroutines.
func TestRunnerHangingHost(t *testing.T) {
	release := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer stuck.Close()
	defer close(release)
	fine, hits := hitServer(t)
	const nStuck, nFine = 200, 10
	var sources []wiredesk.Source
	for i := range nStuck {
		sources = append(sources, wiredesk.Source{Name: fmt.Sprint("stuck", i), FeedURL: fmt.Sprintf("%s/%d", stuck.URL, i), Schedule: "@every 1h"})
	}
	for i := range nFine {
		sources = append(sources, wiredesk.Source{Name: fmt.Sprint("fine", i), FeedURL: fmt.Sprintf("%s/fine%d", fine.URL, i), Schedule: "@every 1h"})
	}
	p := NewPoller(openTestStore(t), sources)
	p.Logger = slog.New(slog.DiscardHandler)
	p.Concurrency, p.PerHost, p.ParseConcurrency, p.Jitter = 2, 1, 1, 0
	before := runtime.NumGoroutine()
	ctx := context.Background()
	if err := p.Open(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	deadline := time.After(10 * time.Second)
	for len(seen) < nFine {
		select {
		case path := <-hits:
			seen[path] = true
		case <-deadline:
			t.Fatalf("%d of %d sources of the answering host polled while the other hangs", len(seen), nFine)
		}
	}
	// A goroutine per due source would be 210 more; the runner starts 6
	// polls at once, plus the HTTP client's and servers' few.
	if n := runtime.NumGoroutine() - before; n > 40 {
		t.Errorf("%d goroutines more than before Open, want a bounded number of polls", n)
	}
	closeCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := p.Close(closeCtx); err == nil {
		t.Error("Close with polls hanging returned nil, want its context's error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
}

// TestQueuedPollCountsFromTick checks that a scheduled poll that waited
// in the queue counts the feed's max-age from its tick: counted from when
// it ran, a wait longer in one cycle than in the next would push the
// source past that next tick.
func TestQueuedPollCountsFromTick(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=900")
		w.Write([]byte(`<rss version="2.0"><channel><title>t</title><item><guid>a</guid><title>x</title></item></channel></rss>`))
	}))
	defer srv.Close()
	db := openTestStore(t)
	src := wiredesk.Source{Name: "s", FeedURL: srv.URL, Schedule: "*/15 * * * *"}
	p := NewPoller(db, []wiredesk.Source{src})
	p.Logger = slog.New(slog.DiscardHandler)
	tick := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	p.Now = func() time.Time { return tick.Add(time.Minute) } // a minute in the queue
	ctx := context.Background()
	p.runScheduled(ctx, src, tick)
	st, err := db.SourceState(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if want := tick.Add(15 * time.Minute); !st.NotBefore.Equal(want) {
		t.Errorf("NotBefore = %v, want %v: max-age counted from the tick", st.NotBefore, want)
	}
	if !Due(st, tick.Add(15*time.Minute)) {
		t.Errorf("not due at the next tick (state %+v)", st)
	}
}

// TestRunnerIdle checks when OnIdle runs: not while a poll is running
// however long it takes, once after the last one finishes and IdleAfter
// passes with nothing started, not again in the same quiet spell, not
// after a tick that found its source not due, and again after one that
// polled.
func TestRunnerIdle(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ttl := ""
		switch r.URL.Path {
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/0":
			ttl = "<ttl>600</ttl>" // not due again for ten hours
		}
		w.Write([]byte(`<rss version="2.0"><channel><title>t</title>` + ttl + `<item><guid>` + r.URL.Path +
			`</guid><title>x</title></item></channel></rss>`))
	}))
	defer srv.Close()
	sources := []wiredesk.Source{{Name: "slow", FeedURL: srv.URL + "/slow", Schedule: "@every 1h"}}
	for i := range 5 {
		sources = append(sources, wiredesk.Source{Name: fmt.Sprint("s", i), FeedURL: fmt.Sprintf("%s/%d", srv.URL, i), Schedule: "@every 1h"})
	}
	p := NewPoller(openTestStore(t), sources)
	p.Logger = slog.New(slog.DiscardHandler)
	p.Jitter = 0
	const after = 50 * time.Millisecond
	idle := make(chan time.Time, 8)
	p.OnIdle, p.IdleAfter = func() { idle <- time.Now() }, after
	type polled struct {
		source string
		at     time.Time // before the runner counts the poll done
	}
	results := make(chan polled, 8)
	p.OnResult = func(r Result) { results <- polled{r.Source, time.Now()} }
	ctx := context.Background()
	if err := p.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	quiet := func(why string) {
		t.Helper()
		select {
		case <-idle:
			t.Fatal("OnIdle ran " + why)
		case <-time.After(10 * after):
		}
	}
	idleAfter := func(last polled) {
		t.Helper()
		select {
		case at := <-idle:
			if d := at.Sub(last.at); d < after {
				t.Errorf("OnIdle ran %v after the last poll, want at least %v", d, after)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("OnIdle did not run after the polls finished")
		}
	}

	for range 5 {
		<-results // the fast sources; slow is still running
	}
	quiet("while a poll was running")
	close(release)
	last := <-results
	if last.source != "slow" {
		t.Fatalf("polled %q, want slow", last.source)
	}
	idleAfter(last)
	quiet("twice in one quiet spell")

	p.run.queue("s0", srv.URL+"/0") // its ttl: not due
	quiet("after a tick that polled nothing")
	select {
	case r := <-results:
		t.Fatalf("%s polled before its ttl ran out", r.source)
	default:
	}
	p.run.queue("s1", srv.URL+"/1")
	idleAfter(<-results)
}
