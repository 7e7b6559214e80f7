package aggregator_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/aggregator"
)

// rssWith serves an RSS feed with extra channel elements and n items.
func rssWith(head string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://t.example/</link>%s`, head)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>item %d</title><link>https://t.example/%d</link><description>text %d</description></item>`, i, i, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// TestPolitePolling checks that what a feed asks about its polling is a
// lower bound on the next poll, never an upper one: RSS ttl and HTTP
// max-age push it later, a slower schedule of the user's wins, skipHours
// moves it out of the skipped hour, and a tick inside the bound is not due.
func TestPolitePolling(t *testing.T) {
	for _, tc := range []struct {
		name, head, cacheControl, schedule string
		wantNext                           time.Time
		wantReason                         string
		wantNotBefore                      time.Time
	}{
		{"no hints: schedule", "", "", "@every 30m", clock.Add(30 * time.Minute), "schedule", time.Time{}},
		{"ttl later than schedule", "<ttl>120</ttl>", "", "@every 30m", clock.Add(2 * time.Hour), "feed ttl 2h0m0s", clock.Add(2 * time.Hour)},
		{"schedule slower than ttl", "<ttl>10</ttl>", "", "@every 3h", clock.Add(3 * time.Hour), "schedule", clock.Add(10 * time.Minute)},
		{"max-age", "", "max-age=3600", "@every 30m", clock.Add(time.Hour), "cache-control 1h0m0s", clock.Add(time.Hour)},
		{"sy:updatePeriod", `<sy:updatePeriod xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">daily</sy:updatePeriod>`, "", "@every 30m", clock.Add(24 * time.Hour), "feed ttl 24h0m0s", clock.Add(24 * time.Hour)},
		// clock is 12:00 GMT; 12 and 13 skipped: the next poll waits for 14:00.
		{"skipHours", "<skipHours><hour>12</hour><hour>13</hour></skipHours>", "", "@every 30m", clock.Add(2 * time.Hour), "skipHours/skipDays", clock.Add(2 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.cacheControl != "" {
					w.Header().Set("Cache-Control", tc.cacheControl)
				}
				w.Write([]byte(rssWith(tc.head, 2)))
			}))
			defer srv.Close()
			db := openStore(t)
			src := wiredesk.Source{Name: "s", FeedURL: srv.URL, Schedule: tc.schedule}
			p := newPoller(db, src)
			r, err := p.PollOnce(context.Background(), src)
			if err != nil || r.Err != nil {
				t.Fatal(err, r.Err)
			}
			st := state(t, db, "s")
			if !st.NextRun.Equal(tc.wantNext) || st.NextReason != tc.wantReason || !st.NotBefore.Equal(tc.wantNotBefore) {
				t.Errorf("next %v (%s), not before %v; want %v (%s), %v",
					st.NextRun, st.NextReason, st.NotBefore, tc.wantNext, tc.wantReason, tc.wantNotBefore)
			}
			// A cron tick inside the bound is skipped; one after it polls.
			if !st.NotBefore.IsZero() {
				if aggregator.Due(st, st.NotBefore.Add(-time.Minute)) {
					t.Errorf("due a minute before %v", st.NotBefore)
				}
				if !aggregator.Due(st, st.NotBefore) {
					t.Errorf("not due at %v", st.NotBefore)
				}
			}
		})
	}
}

// TestPoliteAfter304 keeps the feed's ttl from the last full fetch when
// the next answer is a 304, which has no body to read it from.
func TestPoliteAfter304(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte(rssWith("<ttl>90</ttl>", 1)))
	}))
	defer srv.Close()
	db := openStore(t)
	src := wiredesk.Source{Name: "s", FeedURL: srv.URL, Schedule: "@every 5m"}
	p := newPoller(db, src)
	for range 2 {
		if _, err := p.PollOnce(context.Background(), src); err != nil {
			t.Fatal(err)
		}
	}
	st := state(t, db, "s")
	if st.Status != wiredesk.StatusNotModified || st.FeedTTL != 90*time.Minute || !st.NextRun.Equal(clock.Add(90*time.Minute)) {
		t.Errorf("after 304: status %s ttl %v next %v", st.Status, st.FeedTTL, st.NextRun)
	}
}

// TestAdaptiveInterval polls a source whose every fetch brings new items
// (the interval halves down to min_interval) and then one that brings
// nothing (it grows up to max_interval), the interval surviving a reopen
// of the store.
func TestAdaptiveInterval(t *testing.T) {
	var n atomic.Int64
	var growing atomic.Bool
	growing.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		items := 1
		if growing.Load() {
			items = int(n.Add(1)) // one more item each poll
		}
		w.Write([]byte(rssWith("", items)))
	}))
	defer srv.Close()
	db := openStore(t)
	src := wiredesk.Source{Name: "s", FeedURL: srv.URL, Schedule: "@every 1h"}
	mk := func() *aggregator.Poller {
		p := newPoller(db, src)
		p.Adaptive, p.MinInterval, p.MaxInterval = true, 10*time.Minute, 4*time.Hour
		return p
	}
	poll := func(p *aggregator.Poller) wiredesk.SourceState {
		t.Helper()
		if _, err := p.PollOnce(context.Background(), src); err != nil {
			t.Fatal(err)
		}
		return state(t, db, "s")
	}
	p := mk()
	var got []time.Duration
	for range 5 {
		got = append(got, poll(p).Interval)
	}
	want := []time.Duration{time.Hour, 30 * time.Minute, 15 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("busy source: intervals %v, want %v", got, want)
	}
	growing.Store(false)
	p = mk() // a restart: the interval comes from the store
	got = got[:0]
	for range 6 {
		got = append(got, poll(p).Interval)
	}
	// Whole seconds, rounded at each step: 50m37.5s is 50m38s.
	want = []time.Duration{15 * time.Minute, 22*time.Minute + 30*time.Second, 33*time.Minute + 45*time.Second,
		50*time.Minute + 38*time.Second, 75*time.Minute + 57*time.Second, 113*time.Minute + 56*time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("quiet source: intervals %v, want %v", got, want)
	}
	for range 10 {
		poll(p)
	}
	st := state(t, db, "s")
	if st.Interval != 4*time.Hour || !st.NextRun.Equal(clock.Add(4*time.Hour)) || !strings.HasPrefix(st.NextReason, "adaptive") {
		t.Errorf("capped: interval %v next %v reason %q", st.Interval, st.NextRun, st.NextReason)
	}
}

// TestUnchangedSkipped polls a feed that answers 200 every time (no
// validators): the second poll finds every item by its digest and only
// marks it seen; a changed item is still recognised as updated.
func TestUnchangedSkipped(t *testing.T) {
	var body atomic.Value
	body.Store(rssWith("", 5))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(body.Load().(string)))
	}))
	defer srv.Close()
	db := openStore(t)
	src := wiredesk.Source{Name: "s", FeedURL: srv.URL}
	p := newPoller(db, src)
	for i, want := range []wiredesk.IngestStats{{New: 5, Stories: 5}, {Unchanged: 5}} {
		r, err := p.PollOnce(context.Background(), src)
		if err != nil || r.Stats != want {
			t.Errorf("poll %d: %+v %v, want %+v", i, r.Stats, err, want)
		}
	}
	body.Store(strings.Replace(rssWith("", 5), "text 2", "text 2, corrected", 1))
	r, err := p.PollOnce(context.Background(), src)
	if err != nil || r.Stats != (wiredesk.IngestStats{Updated: 1, Unchanged: 4}) {
		t.Errorf("after a correction: %+v %v, want 1 updated, 4 unchanged", r.Stats, err)
	}
	digests, err := db.KnownDigests(context.Background(), "s", []string{"https://t.example/2", "https://t.example/0", "nope"})
	if err != nil || len(digests) != 2 || digests["https://t.example/2"] == 0 {
		t.Errorf("KnownDigests: %v %v", digests, err)
	}
}
