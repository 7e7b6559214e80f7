package aggregator_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/aggregator"
	"github.com/wiredesk/wiredesk/store"
)

var clock = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "wiredesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newPoller(db aggregator.Store, sources ...wiredesk.Source) *aggregator.Poller {
	p := aggregator.NewPoller(db, sources)
	p.Logger = slog.New(slog.DiscardHandler)
	p.Now = func() time.Time { return clock }
	p.DefaultSchedule = "@every 30s"
	return p
}

func state(t *testing.T, db *store.DB, name string) wiredesk.SourceState {
	t.Helper()
	st, err := db.SourceState(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConditionalGET(t *testing.T) {
	feed := readFixture(t, "rss2.xml")
	const lastMod = "Tue, 03 Mar 2026 10:00:00 GMT"
	var mu sync.Mutex
	var reqs []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, r.Header.Clone())
		mu.Unlock()
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", lastMod)
		w.Write(feed)
	}))
	defer srv.Close()
	db := openStore(t)
	src := wiredesk.Source{Name: "harbour", FeedURL: srv.URL + "/rss"}
	p := newPoller(db, src)
	ctx := context.Background()

	r, err := p.PollOnce(ctx, src)
	if err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	if r.Status != wiredesk.StatusOK || r.HTTPStatus != 200 || r.Stats.New != 4 {
		t.Fatalf("first poll: %v, want ok (200) 4 new", r)
	}
	if st := state(t, db, "harbour"); st.ETag != `"v1"` || st.LastModified != lastMod || st.NextRun != clock.Add(30*time.Second) {
		t.Errorf("state after 200: %+v", st)
	}

	r, err = p.PollOnce(ctx, src)
	if err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	if r.Status != wiredesk.StatusNotModified || r.HTTPStatus != 304 || r.Stats != (wiredesk.IngestStats{}) {
		t.Errorf("second poll: %v, want not_modified (304), nothing stored", r)
	}
	if st := state(t, db, "harbour"); st.ETag != `"v1"` || st.LastModified != lastMod || st.Status != wiredesk.StatusNotModified {
		t.Errorf("state after 304: %+v, want validators kept", st)
	}
	items, err := db.Items(ctx, wiredesk.ItemFilter{})
	if err != nil || len(items) != 4 {
		t.Errorf("stored %d items (err %v), want 4", len(items), err)
	}
	mu.Lock()
	defer mu.Unlock()
	if h := reqs[0]; h.Get("If-None-Match") != "" || h.Get("User-Agent") != wiredesk.UserAgent() || !strings.Contains(h.Get("Accept"), "application/rss+xml") {
		t.Errorf("first request headers: %v", h)
	}
	if h := reqs[1]; h.Get("If-None-Match") != `"v1"` || h.Get("If-Modified-Since") != lastMod {
		t.Errorf("second request: If-None-Match %q If-Modified-Since %q", h.Get("If-None-Match"), h.Get("If-Modified-Since"))
	}
}

func gzipped(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipServer serves body gzip-compressed to clients that accept it.
func gzipServer(t *testing.T, body []byte, sawGzip *atomic.Bool) *httptest.Server {
	z := gzipped(t, body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Write(body)
			return
		}
		sawGzip.Store(true)
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(z)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestGzip(t *testing.T) {
	var saw atomic.Bool
	srv := gzipServer(t, readFixture(t, "atom1.xml"), &saw)
	src := wiredesk.Source{Name: "courier", FeedURL: srv.URL}
	r, err := newPoller(openStore(t)).PollOnce(context.Background(), src)
	if err != nil || r.Err != nil || r.Stats.New != 2 || !saw.Load() {
		t.Errorf("poll = %v, %v; gzip negotiated %v; want 2 new over gzip", r, err, saw.Load())
	}
}

func TestBodyCap(t *testing.T) {
	const limit = 64 << 10
	big := []byte(`<rss version="2.0"><channel><title>` + strings.Repeat("x", 4*limit) + `</title></channel></rss>`)
	tests := []struct {
		name string
		srv  func(t *testing.T) *httptest.Server
	}{
		{"plain", func(t *testing.T) *httptest.Server {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(big) }))
			t.Cleanup(s.Close)
			return s
		}},
		{"gzip bomb", func(t *testing.T) *httptest.Server {
			var saw atomic.Bool
			if z := gzipped(t, big); len(z) >= limit {
				t.Fatalf("compressed body %d bytes, want under the cap", len(z))
			}
			return gzipServer(t, big, &saw)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openStore(t)
			p := newPoller(db)
			p.MaxBody = limit
			src := wiredesk.Source{Name: "big", FeedURL: tt.srv(t).URL}
			r, err := p.PollOnce(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(r.Err, wiredesk.ErrBodyTooLarge) || r.Status != wiredesk.StatusError {
				t.Errorf("poll = %v, want ErrBodyTooLarge", r)
			}
			if st := state(t, db, "big"); st.ConsecutiveFailures != 1 || !strings.Contains(st.LastError, "too large") {
				t.Errorf("state %+v, want one failure recorded", st)
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	feed := readFixture(t, "rss1.xml")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/hop/%d", &n); err == nil && n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
			return
		}
		if r.URL.Path == "/ftp" {
			http.Redirect(w, r, "ftp://files.example.com/feed.xml", http.StatusMovedPermanently)
			return
		}
		w.Write(feed)
	}))
	defer srv.Close()
	tests := []struct {
		path    string
		wantErr string // "" for success
	}{
		{"/hop/5", ""},
		{"/hop/6", "stopped after 5 redirects"},
		{"/ftp", "redirect to non-http URL ftp://files.example.com/feed.xml"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			src := wiredesk.Source{Name: "wire", FeedURL: srv.URL + tt.path}
			r, err := newPoller(openStore(t)).PollOnce(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantErr == "" && (r.Err != nil || r.Stats.New != 2):
				t.Errorf("poll = %v, want 2 new", r)
			case tt.wantErr != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tt.wantErr)):
				t.Errorf("error = %v, want %q", r.Err, tt.wantErr)
			}
		})
	}
}

func TestHTTPErrorsBackOff(t *testing.T) {
	var code atomic.Int32
	feed := readFixture(t, "feed.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := int(code.Load()); c != 200 {
			http.Error(w, "nope", c)
			return
		}
		w.Header().Set("ETag", `"json-1"`)
		w.Write(feed)
	}))
	defer srv.Close()
	db := openStore(t)
	src := wiredesk.Source{Name: "metro", FeedURL: srv.URL + "/feed.json"}
	p := newPoller(db)
	steps := []struct {
		code     int
		wantErr  string
		failures int
		nextRun  time.Duration // after clock
	}{
		{200, "", 0, 30 * time.Second},
		{404, ": 404 Not Found", 1, time.Minute},
		{500, ": 500 Internal Server Error", 2, 2 * time.Minute},
		{500, ": 500 Internal Server Error", 3, 4 * time.Minute},
		{200, "", 0, 30 * time.Second},
	}
	for i, s := range steps {
		code.Store(int32(s.code))
		r, err := p.PollOnce(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		if s.wantErr != "" && (r.Err == nil || !strings.HasSuffix(r.Err.Error(), s.wantErr) || !strings.Contains(r.String(), "retry after")) {
			t.Errorf("step %d: %v, want error ending %q", i, r, s.wantErr)
		}
		st := state(t, db, "metro")
		if st.ConsecutiveFailures != s.failures || st.NextRun != clock.Add(s.nextRun) || st.HTTPStatus != s.code {
			t.Errorf("step %d: failures %d, next run %v, http %d; want %d, %v, %d",
				i, st.ConsecutiveFailures, st.NextRun, st.HTTPStatus, s.failures, clock.Add(s.nextRun), s.code)
		}
		if st.ETag != `"json-1"` {
			t.Errorf("step %d: ETag %q, want kept across failures", i, st.ETag)
		}
	}
	if items, _ := db.Items(context.Background(), wiredesk.ItemFilter{}); len(items) != 2 {
		t.Errorf("%d items stored, want the 2 from the first poll kept", len(items))
	}
}

func TestParseFailureKeepsValidators(t *testing.T) {
	var html atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if html.Load() {
			w.Header().Set("ETag", `"html"`)
			w.Write([]byte("<!doctype html><title>Maintenance</title>"))
			return
		}
		w.Header().Set("ETag", `"feed"`)
		w.Write(readFixture(t, "atom03.xml"))
	}))
	defer srv.Close()
	db := openStore(t)
	src := wiredesk.Source{Name: "gazette", FeedURL: srv.URL}
	p := newPoller(db)
	if _, err := p.PollOnce(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	html.Store(true)
	r, err := p.PollOnce(context.Background(), src)
	if err != nil || !errors.Is(r.Err, wiredesk.ErrNotFeed) {
		t.Fatalf("poll = %v, %v; want ErrNotFeed", r, err)
	}
	if st := state(t, db, "gazette"); st.ETag != `"feed"` || st.Status != wiredesk.StatusError {
		t.Errorf("state %+v: want status error and the feed's ETag kept", st)
	}
}

// hangingServer answers every request with rss1.xml once release is
// closed, and signals hung on the first request it holds.
func hangingServer(t *testing.T) (srv *httptest.Server, hung <-chan struct{}, release chan struct{}) {
	t.Helper()
	first := make(chan struct{}, 1)
	release = make(chan struct{})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case first <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Write(readFixture(t, "rss1.xml"))
	}))
	return srv, first, release
}

func TestPollAll(t *testing.T) {
	slow, _, release := hangingServer(t)
	defer slow.Close()
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write(readFixture(t, "feed.json"))
	}))
	defer fast.Close()
	sources := []wiredesk.Source{
		{Name: "slow", FeedURL: slow.URL},
		{Name: "missing", FeedURL: fast.URL + "/missing"},
		{Name: "fast", FeedURL: fast.URL + "/feed.json"},
	}
	p := newPoller(openStore(t))
	p.Concurrency = 2
	done := make(chan string, len(sources))
	p.OnResult = func(r aggregator.Result) { done <- r.Source }
	var results []aggregator.Result
	var pollErr error
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		results, pollErr = p.PollAll(context.Background(), sources)
	}()
	// Both fast sources finish while the slow one still hangs.
	got := map[string]bool{<-done: true, <-done: true}
	if !got["missing"] || !got["fast"] {
		t.Errorf("finished first: %v, want missing and fast", got)
	}
	close(release)
	<-finished
	if pollErr != nil {
		t.Fatal(pollErr)
	}
	want := []string{"slow: ok (200) 2 new", "missing: error: fetch " + fast.URL + "/missing: 404 Not Found", "fast: ok (200) 2 new"}
	for i, r := range results {
		if !strings.HasPrefix(r.String(), want[i]) {
			t.Errorf("result %d = %q, want prefix %q", i, r, want[i])
		}
	}
}

// TestPollAllPool checks that PollAll runs a bounded pool of polls, not a
// goroutine per source, and that the pool takes sources round-robin by
// host: the sources of a host that answers are all polled while every
// worker could otherwise be queued behind a host that hangs.
func TestPollAllPool(t *testing.T) {
	stuck, hung, release := hangingServer(t)
	defer stuck.Close()
	fine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(readFixture(t, "feed.json"))
	}))
	defer fine.Close()
	// The hanging host's sources come first in the config, and outnumber
	// the pool many times over.
	const nStuck, nFine = 200, 10
	var sources []wiredesk.Source
	for i := range nStuck {
		sources = append(sources, wiredesk.Source{Name: fmt.Sprint("stuck", i), FeedURL: fmt.Sprintf("%s/%d", stuck.URL, i)})
	}
	for i := range nFine {
		sources = append(sources, wiredesk.Source{Name: fmt.Sprint("fine", i), FeedURL: fmt.Sprintf("%s/%d", fine.URL, i)})
	}
	p := newPoller(openStore(t))
	p.Concurrency, p.PerHost, p.ParseConcurrency = 2, 1, 1
	fineDone := make(chan struct{}, nFine)
	p.OnResult = func(r aggregator.Result) {
		if strings.HasPrefix(r.Source, "fine") {
			fineDone <- struct{}{}
		}
	}
	before := runtime.NumGoroutine()
	finished := make(chan error, 1)
	go func() {
		_, err := p.PollAll(context.Background(), sources)
		finished <- err
	}()
	<-hung
	deadline := time.After(10 * time.Second)
	for i := range nFine {
		select {
		case <-fineDone:
		case <-deadline:
			t.Fatalf("%d of %d sources of the answering host polled while the other hangs", i, nFine)
		}
	}
	// A goroutine per source would be 210 more; the pool is 8 workers,
	// plus the HTTP client's and server's few.
	if n := runtime.NumGoroutine() - before; n > 40 {
		t.Errorf("%d goroutines more than before PollAll, want a bounded pool", n)
	}
	close(release)
	if err := <-finished; err != nil {
		t.Fatal(err)
	}
}

func TestPerHostLimit(t *testing.T) {
	var inFlight, maxInFlight atomic.Int32
	arrived := make(chan struct{}, 8)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		arrived <- struct{}{}
		<-release
		w.Write(readFixture(t, "rss1.xml"))
	}))
	defer srv.Close()
	var sources []wiredesk.Source
	for i := range 5 {
		sources = append(sources, wiredesk.Source{Name: fmt.Sprint("s", i), FeedURL: fmt.Sprintf("%s/%d", srv.URL, i)})
	}
	p := newPoller(openStore(t))
	p.PerHost = 2
	finished := make(chan error)
	go func() {
		_, err := p.PollAll(context.Background(), sources)
		finished <- err
	}()
	<-arrived
	<-arrived
	for range 3 {
		release <- struct{}{} // lets one request finish, making room for the next
		<-arrived
	}
	close(release)
	if err := <-finished; err != nil {
		t.Fatal(err)
	}
	if m := maxInFlight.Load(); m != 2 {
		t.Errorf("at most %d requests in flight to one host, want 2", m)
	}
}

func TestCloseCancelsHangingFetch(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done() // hangs until the client gives up
	}))
	defer srv.Close()
	db := openStore(t)
	src := wiredesk.Source{Name: "hang", FeedURL: srv.URL}
	p := newPoller(db, src)
	p.Now = time.Now // the scheduler runs on real time
	p.Timeout = time.Hour
	if err := p.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-arrived // the start-up poll of a never-polled source began at once
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v with a hanging fetch", d)
	}
	if st := state(t, db, "hang"); st.Status != wiredesk.StatusNew {
		t.Errorf("state %+v: a poll cancelled by shutdown must not count as the source failing", st)
	}
}

func TestResultString(t *testing.T) {
	tests := []struct {
		r    aggregator.Result
		want string
	}{
		{aggregator.Result{Source: "xinhua", Status: wiredesk.StatusOK, HTTPStatus: 200,
			Stats: wiredesk.IngestStats{New: 12, Updated: 3, Unchanged: 30}, Duration: 1234 * time.Millisecond},
			"xinhua: ok (200) 12 new, 3 updated, 30 unchanged in 1.2s"},
		{aggregator.Result{Source: "pti", Status: wiredesk.StatusNotModified, HTTPStatus: 304, Duration: 80*time.Millisecond + 300*time.Microsecond},
			"pti: unchanged (304) in 80ms"},
		{aggregator.Result{Source: "ap", Status: wiredesk.StatusError, HTTPStatus: 404,
			Err: errors.New("fetch https://ap.example.com/rss: 404 Not Found"), NextRun: clock},
			"ap: error: fetch https://ap.example.com/rss: 404 Not Found; retry after 2026-03-04T12:00:00Z"},
		{aggregator.Result{Source: "afp", Status: wiredesk.StatusGone, HTTPStatus: 410,
			Err: errors.New("fetch https://afp.example.com/rss: 410 Gone; it will not be polled again")},
			"afp: gone (410): fetch https://afp.example.com/rss: 410 Gone; it will not be polled again"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// heldStore is a real store whose saves wait for release once the first
// save has begun: a writer that is busy.
type heldStore struct {
	*store.DB
	saving  chan struct{} // closed when the first save begins
	release chan struct{}
	once    sync.Once
}

func (s *heldStore) SaveFetch(ctx context.Context, res wiredesk.FetchResult) (wiredesk.IngestStats, error) {
	s.once.Do(func() { close(s.saving) })
	<-s.release
	return s.DB.SaveFetch(ctx, res)
}

// TestPipelineDepth checks how far fetching and parsing run ahead of a
// busy writer: with one parse slot, the writer's fetch, two more waiting
// for it, one parsed and waiting for a save slot, and a body in each
// fetch slot; no request beyond. Parsers must not wait for the writer as
// soon as it is busy, nor the writer for a parse, yet memory stays
// bounded.
func TestPipelineDepth(t *testing.T) {
	var requests atomic.Int32
	feed := readFixture(t, "rss1.xml")
	// A host per source, so that only the pipeline's slots bound the
	// fetches, not the per-host limit.
	var sources []wiredesk.Source
	for i := range 20 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			w.Write(feed)
		}))
		defer srv.Close()
		sources = append(sources, wiredesk.Source{Name: fmt.Sprint("s", i), FeedURL: srv.URL})
	}
	db := &heldStore{DB: openStore(t), saving: make(chan struct{}), release: make(chan struct{})}
	p := newPoller(db)
	p.Concurrency, p.PerHost, p.ParseConcurrency = 2, 1, 1
	finished := make(chan error, 1)
	go func() {
		_, err := p.PollAll(context.Background(), sources)
		finished <- err
	}()
	<-db.saving
	// 3 save slots (one in the writer), 1 parse slot, 2 fetch slots.
	const want = 3 + 1 + 2
	deadline := time.Now().Add(10 * time.Second)
	for requests.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // room for a request too many
	if got := requests.Load(); got != want {
		t.Errorf("%d feeds fetched while the writer is busy, want %d", got, want)
	}
	close(db.release)
	if err := <-finished; err != nil {
		t.Fatal(err)
	}
	if got := requests.Load(); got != int32(len(sources)) {
		t.Errorf("%d feeds fetched in all, want %d", got, len(sources))
	}
}

// TestPollLogLine: every poll of a source logs one line with the fields
// an operator filters on, a failed one at warning level with its error.
func TestPollLogLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Write([]byte(rssItems("", rssItem("l1", "One"), rssItem("l2", "Two"))))
	}))
	defer srv.Close()
	db := openStore(t)
	up := wiredesk.Source{Name: "up", FeedURL: srv.URL + "/feed"}
	down := wiredesk.Source{Name: "down", FeedURL: srv.URL + "/down"}
	p := newPoller(db, up, down)
	var buf bytes.Buffer
	p.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	if _, err := p.PollAll(context.Background(), []wiredesk.Source{up, down}); err != nil {
		t.Fatal(err)
	}
	lines := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if src, ok := rec["source"].(string); ok && (rec["msg"] == "polled" || rec["msg"] == "poll failed") {
			if lines[src] != nil {
				t.Errorf("two poll lines for %s", src)
			}
			lines[src] = rec
		}
	}
	tests := []struct {
		source string
		want   map[string]any
		keys   []string
	}{
		{"up", map[string]any{"level": "INFO", "msg": "polled", "status": "ok", "http_status": 200.0, "items_new": 2.0,
			"feed_url": up.FeedURL}, []string{"items_updated", "items_unchanged", "stories", "copies", "bytes", "fetch_duration", "duration", "next_run"}},
		{"down", map[string]any{"level": "WARN", "msg": "poll failed", "status": "error", "http_status": 502.0, "failures": 1.0},
			[]string{"error", "next_run", "duration"}},
	}
	for _, tt := range tests {
		rec := lines[tt.source]
		if rec == nil {
			t.Errorf("no poll line for %s in:\n%s", tt.source, buf.String())
			continue
		}
		for k, v := range tt.want {
			if rec[k] != v {
				t.Errorf("%s: %s = %#v, want %#v", tt.source, k, rec[k], v)
			}
		}
		for _, k := range tt.keys {
			if _, ok := rec[k]; !ok {
				t.Errorf("%s: no %s field", tt.source, k)
			}
		}
	}
}

// TestConnectionsReused checks that polls of one host reuse their
// connections: the transport kept two idle connections a host, so with
// PerHost 8 most requests dialled anew (and left a socket in TIME_WAIT).
func TestConnectionsReused(t *testing.T) {
	var opened atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond) // keeps several requests in flight at once
		w.WriteHeader(http.StatusNotModified)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	var sources []wiredesk.Source
	for i := range 200 {
		sources = append(sources, wiredesk.Source{Name: fmt.Sprint("s", i), FeedURL: fmt.Sprintf("%s/%d", srv.URL, i)})
	}
	p := newPoller(openStore(t))
	p.Concurrency, p.PerHost = 8, 8
	if _, err := p.PollAll(context.Background(), sources); err != nil {
		t.Fatal(err)
	}
	// PerHost connections, and a few more: a request that finds no idle
	// connection starts a dial, and uses whichever connection is ready
	// first; the dialled one still opens. Without reuse it was 47-65.
	if n := opened.Load(); n > 2*8 {
		t.Errorf("200 polls of one host opened %d connections, want about PerHost (8), at most 16", n)
	}
}
