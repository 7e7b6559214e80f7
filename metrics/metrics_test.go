package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/aggregator"
)

// TestErrorKind classifies errors produced for real: a refused
// connection, an unresolvable host, a TLS server with an unknown
// certificate, a deadline, HTTP statuses, and the domain errors.
func TestErrorKind(t *testing.T) {
	get := func(u string, timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"refused", get(closed, 5*time.Second), "connect"},
		{"dns", get("http://nonexistent.invalid/", 5*time.Second), "dns"},
		{"tls", get(tlsSrv.URL, 5*time.Second), "tls"},
		{"timeout", get(slow.URL, 50*time.Millisecond), "timeout"},
		{"404", &aggregator.StatusError{Code: 404}, "http_4xx"},
		{"503", fmt.Errorf("fetch: %w", &aggregator.StatusError{Code: 503}), "http_5xx"},
		{"too large", fmt.Errorf("fetch: %w", wiredesk.ErrBodyTooLarge), "too_large"},
		{"not a feed", fmt.Errorf("parse: %w", wiredesk.ErrNotFeed), "parse"},
		{"other", errors.New("redirect loop"), "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error produced")
			}
			if got := ErrorKind(tc.err); got != tc.want {
				t.Errorf("ErrorKind(%v) = %q, want %q", tc.err, got, tc.want)
			}
			if !slices.Contains(outcomes[:], tc.want) {
				t.Errorf("outcome %q is not counted by sourceStats", tc.want)
			}
		})
	}
}

// TestObservePollAndReload checks the poll counters and that a reload
// removing a source drops its series, while unknown sources get none.
func TestObservePollAndReload(t *testing.T) {
	m := New("")
	m.SetConfig([]wiredesk.Source{{Name: "pti"}, {Name: "ians"}}, []wiredesk.Topic{{Name: "world"}})
	m.ObservePoll(aggregator.Result{Source: "pti", Status: wiredesk.StatusOK,
		Stats: wiredesk.IngestStats{New: 3, Stories: 2, Copies: 1}, Bytes: 100, FetchDuration: time.Second})
	m.ObservePoll(aggregator.Result{Source: "ians", Status: wiredesk.StatusNotModified})
	m.ObservePoll(aggregator.Result{Source: "ians", Status: wiredesk.StatusError, Err: &aggregator.StatusError{Code: 500}})
	m.ObservePoll(aggregator.Result{Source: "stranger", Status: wiredesk.StatusOK})

	for _, tc := range []struct {
		source, outcome string
		want            float64
	}{
		{"pti", OutcomeNew, 1},
		{"ians", OutcomeNotModified, 1},
		{"ians", "http_5xx", 1},
	} {
		if got := value(t, m, "wiredesk_polls_total", "source", tc.source, "outcome", tc.outcome); got != tc.want {
			t.Errorf("polls{%s,%s} = %v, want %v", tc.source, tc.outcome, got, tc.want)
		}
	}
	if got := value(t, m, "wiredesk_items_stored_total", "source", "pti"); got != 3 {
		t.Errorf("items{pti} = %v, want 3", got)
	}
	if s, c := testutil.ToFloat64(m.stories), testutil.ToFloat64(m.copies); s != 2 || c != 1 {
		t.Errorf("stories %v copies %v, want 2 and 1", s, c)
	}
	if n := testutil.CollectAndCount(sourceCollector{m}, "wiredesk_polls_total"); n != 3 {
		t.Errorf("poll series: %d, want 3 (none for an unconfigured source)", n)
	}
	m.ObservePush("ians", wiredesk.IngestStats{New: 2, Stories: 1, Copies: 1}, 500)
	m.ObservePush("stranger", wiredesk.IngestStats{New: 9}, 9)
	if got := value(t, m, "wiredesk_items_stored_total", "source", "ians"); got != 2 {
		t.Errorf("items{ians} after a push = %v, want 2", got)
	}
	if got := value(t, m, "wiredesk_push_deliveries_total", "source", "ians"); got != 1 {
		t.Errorf("pushes{ians} = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(sourceCollector{m}, "wiredesk_push_deliveries_total"); n != 1 {
		t.Errorf("push series: %d, want 1 (none for an unconfigured source)", n)
	}
	m.SetConfig([]wiredesk.Source{{Name: "pti"}}, nil)
	if n := testutil.CollectAndCount(sourceCollector{m}, "wiredesk_push_deliveries_total"); n != 0 {
		t.Errorf("push series after removing ians: %d, want 0", n)
	}
	if n := testutil.CollectAndCount(sourceCollector{m}, "wiredesk_polls_total"); n != 1 {
		t.Errorf("poll series after removing ians: %d, want 1", n)
	}
	if got := testutil.ToFloat64(m.sources); got != 1 {
		t.Errorf("sources gauge = %v, want 1", got)
	}
}

// TestSourceSeriesExposition checks the per-source series as text,
// through a pedantic registry, which also checks each series against its
// description: label names, types, no duplicates.
func TestSourceSeriesExposition(t *testing.T) {
	m := New("")
	m.SetConfig([]wiredesk.Source{{Name: "pti"}, {Name: `odd "name"`}}, nil)
	m.ObservePoll(aggregator.Result{Source: "pti", Status: wiredesk.StatusOK, Bytes: 2048,
		Stats: wiredesk.IngestStats{New: 4}, FetchDuration: 1500 * time.Millisecond})
	m.ObservePoll(aggregator.Result{Source: "pti", Status: wiredesk.StatusError, Err: context.DeadlineExceeded})
	m.ObservePoll(aggregator.Result{Source: `odd "name"`, Status: wiredesk.StatusNotModified, FetchDuration: 250 * time.Millisecond})
	m.ObservePush(`odd "name"`, wiredesk.IngestStats{New: 1}, 10)
	want := `
# HELP wiredesk_fetch_seconds_total Time spent fetching feeds, by source (over polls_total, its mean fetch time).
# TYPE wiredesk_fetch_seconds_total counter
wiredesk_fetch_seconds_total{source="odd \"name\""} 0.25
wiredesk_fetch_seconds_total{source="pti"} 1.5
# HELP wiredesk_fetched_bytes_total Feed body bytes read (after decompression), by source.
# TYPE wiredesk_fetched_bytes_total counter
wiredesk_fetched_bytes_total{source="odd \"name\""} 10
wiredesk_fetched_bytes_total{source="pti"} 2048
# HELP wiredesk_items_stored_total Items stored for the first time, by source.
# TYPE wiredesk_items_stored_total counter
wiredesk_items_stored_total{source="odd \"name\""} 1
wiredesk_items_stored_total{source="pti"} 4
# HELP wiredesk_polls_total Polls by source and outcome: new, unchanged, not_modified, gone, or the kind of error.
# TYPE wiredesk_polls_total counter
wiredesk_polls_total{outcome="new",source="pti"} 1
wiredesk_polls_total{outcome="not_modified",source="odd \"name\""} 1
wiredesk_polls_total{outcome="timeout",source="pti"} 1
# HELP wiredesk_push_deliveries_total WebSub deliveries ingested, by source.
# TYPE wiredesk_push_deliveries_total counter
wiredesk_push_deliveries_total{source="odd \"name\""} 1
`
	names := []string{"wiredesk_fetch_seconds_total", "wiredesk_fetched_bytes_total", "wiredesk_items_stored_total",
		"wiredesk_polls_total", "wiredesk_push_deliveries_total"}
	if err := testutil.CollectAndCompare(sourceCollector{m}, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// The last success is a gauge of Unix seconds, for both sources.
	now := float64(time.Now().Unix())
	for _, src := range []string{"pti", `odd "name"`} {
		if got := value(t, m, "wiredesk_last_success_timestamp_seconds", "source", src); got < now-60 || got > now+1 {
			t.Errorf("last success of %s = %v, want about %v", src, got, now)
		}
	}
	if n := testutil.CollectAndCount(sourceCollector{m}); n != 12 {
		t.Errorf("%d per-source series, want 12", n)
	}
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "wiredesk_last_success_timestamp_seconds" && mf.GetType() != dto.MetricType_GAUGE {
			t.Errorf("last success is a %v, want a gauge", mf.GetType())
		}
	}
}

// TestConcurrentScrapes scrapes in the text and protobuf formats at once
// while polls are observed: the label pairs the per-source series share
// are only read (run with -race).
func TestConcurrentScrapes(t *testing.T) {
	m := New("")
	srcs := []wiredesk.Source{{Name: "pti"}, {Name: "ians"}, {Name: "xinhua"}}
	m.SetConfig(srcs, nil)
	h := m.Handler()
	accepts := []string{"text/plain", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 20 {
				req := httptest.NewRequest("GET", "/metrics", nil)
				req.Header.Set("Accept", accepts[i%len(accepts)])
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
					t.Errorf("scrape with Accept %s: status %d, %d bytes", accepts[i%len(accepts)], rec.Code, rec.Body.Len())
					return
				}
			}
		})
	}
	for i := range 200 {
		m.ObservePoll(aggregator.Result{Source: srcs[i%len(srcs)].Name, Status: wiredesk.StatusOK,
			Stats: wiredesk.IngestStats{New: 1}, FetchDuration: time.Millisecond})
	}
	wg.Wait()
	if got := value(t, m, "wiredesk_polls_total", "source", "pti", "outcome", OutcomeNew); got != 67 {
		t.Errorf("polls{pti,new} = %v, want 67", got)
	}
}

// value returns the value of the series of a metric with the given labels
// (name, value, name, value...), as a scrape reports it: a counter's or
// gauge's value, a histogram's count. It fails the test if the series is
// absent.
func value(t *testing.T, m *Metrics, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range s.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			want := map[string]string{}
			for i := 0; i+1 < len(labels); i += 2 {
				want[labels[i]] = labels[i+1]
			}
			if !maps.Equal(got, want) {
				continue
			}
			switch {
			case s.Counter != nil:
				return s.Counter.GetValue()
			case s.Gauge != nil:
				return s.Gauge.GetValue()
			case s.Histogram != nil:
				return float64(s.Histogram.GetSampleCount())
			}
		}
	}
	t.Fatalf("no series %s%q", name, labels)
	return 0
}

// TestFetchDuration checks fetch times as scraped: one histogram over
// all sources, whose buckets are cumulative and inclusive of their bound
// (a fetch slower than the last bound counts only in +Inf), and each
// source's total time.
func TestFetchDuration(t *testing.T) {
	m := New("")
	m.SetConfig([]wiredesk.Source{{Name: "pti"}, {Name: "ians"}}, nil)
	for _, d := range []time.Duration{250 * time.Millisecond, 300 * time.Millisecond, 90 * time.Second} {
		m.ObservePoll(aggregator.Result{Source: "pti", Status: wiredesk.StatusNotModified, FetchDuration: d})
	}
	m.ObservePoll(aggregator.Result{Source: "ians", Status: wiredesk.StatusOK, FetchDuration: 75 * time.Millisecond})
	want := `
# HELP wiredesk_fetch_duration_seconds Time from sending a feed request to reading the last byte of its body, over all sources.
# TYPE wiredesk_fetch_duration_seconds histogram
wiredesk_fetch_duration_seconds_bucket{le="0.05"} 0
wiredesk_fetch_duration_seconds_bucket{le="0.1"} 1
wiredesk_fetch_duration_seconds_bucket{le="0.25"} 2
wiredesk_fetch_duration_seconds_bucket{le="0.5"} 3
wiredesk_fetch_duration_seconds_bucket{le="1"} 3
wiredesk_fetch_duration_seconds_bucket{le="2.5"} 3
wiredesk_fetch_duration_seconds_bucket{le="5"} 3
wiredesk_fetch_duration_seconds_bucket{le="10"} 3
wiredesk_fetch_duration_seconds_bucket{le="30"} 3
wiredesk_fetch_duration_seconds_bucket{le="60"} 3
wiredesk_fetch_duration_seconds_bucket{le="+Inf"} 4
wiredesk_fetch_duration_seconds_sum 90.625
wiredesk_fetch_duration_seconds_count 4
# HELP wiredesk_fetch_seconds_total Time spent fetching feeds, by source (over polls_total, its mean fetch time).
# TYPE wiredesk_fetch_seconds_total counter
wiredesk_fetch_seconds_total{source="ians"} 0.075
wiredesk_fetch_seconds_total{source="pti"} 90.55
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "wiredesk_fetch_duration_seconds", "wiredesk_fetch_seconds_total"); err != nil {
		t.Error(err)
	}
}

// BenchmarkSourceSeries is the heap each configured source costs once
// every per-source series exists: one poll of each of 10,000 sources,
// with a fetch time, bytes and new items.
func BenchmarkSourceSeries(b *testing.B) {
	const n = 10_000
	srcs := make([]wiredesk.Source, n)
	for i := range srcs {
		srcs[i].Name = fmt.Sprintf("source-%d", i)
	}
	var perSource float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := New("")
		m.SetConfig(srcs, nil)
		for _, s := range srcs {
			m.ObservePoll(aggregator.Result{Source: s.Name, Status: wiredesk.StatusOK, FetchDuration: time.Second,
				Bytes: 1000, Stats: wiredesk.IngestStats{New: 1, Stories: 1}})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perSource = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(m)
	}
	b.ReportMetric(perSource, "heap-bytes/source")
}

// BenchmarkScrape serves /metrics for 10,000 sources, each polled a few
// times with a realistic mix of outcomes: what an idle daemon allocates
// per Prometheus scrape, and how much text it sends.
func BenchmarkScrape(b *testing.B) {
	const n = 10_000
	srcs := make([]wiredesk.Source, n)
	for i := range srcs {
		srcs[i].Name = fmt.Sprintf("source-%d", i)
	}
	m := New("")
	m.SetConfig(srcs, nil)
	for i, s := range srcs {
		m.ObservePoll(aggregator.Result{Source: s.Name, Status: wiredesk.StatusOK, FetchDuration: time.Duration(i%900) * time.Millisecond,
			Bytes: 40_000, Stats: wiredesk.IngestStats{New: 60, Stories: 50, Copies: 10}})
		m.ObservePoll(aggregator.Result{Source: s.Name, Status: wiredesk.StatusNotModified, FetchDuration: 20 * time.Millisecond})
		if i%10 == 0 {
			m.ObservePoll(aggregator.Result{Source: s.Name, Status: wiredesk.StatusError, Err: context.DeadlineExceeded})
		}
	}
	h := m.Handler()
	var size int
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "body-bytes")
}
