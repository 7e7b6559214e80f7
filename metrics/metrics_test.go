package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

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
		if got := testutil.ToFloat64(m.polls.WithLabelValues(tc.source, tc.outcome)); got != tc.want {
			t.Errorf("polls{%s,%s} = %v, want %v", tc.source, tc.outcome, got, tc.want)
		}
	}
	if got := testutil.ToFloat64(m.items.WithLabelValues("pti")); got != 3 {
		t.Errorf("items{pti} = %v, want 3", got)
	}
	if s, c := testutil.ToFloat64(m.stories), testutil.ToFloat64(m.copies); s != 2 || c != 1 {
		t.Errorf("stories %v copies %v, want 2 and 1", s, c)
	}
	if n := testutil.CollectAndCount(m.polls); n != 3 {
		t.Errorf("poll series: %d, want 3 (none for an unconfigured source)", n)
	}
	m.ObservePush("ians", wiredesk.IngestStats{New: 2, Stories: 1, Copies: 1}, 500)
	m.ObservePush("stranger", wiredesk.IngestStats{New: 9}, 9)
	if got := testutil.ToFloat64(m.items.WithLabelValues("ians")); got != 2 {
		t.Errorf("items{ians} after a push = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.pushes.WithLabelValues("ians")); got != 1 {
		t.Errorf("pushes{ians} = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.pushes); n != 1 {
		t.Errorf("push series: %d, want 1 (none for an unconfigured source)", n)
	}
	m.SetConfig([]wiredesk.Source{{Name: "pti"}}, nil)
	if n := testutil.CollectAndCount(m.pushes); n != 0 {
		t.Errorf("push series after removing ians: %d, want 0", n)
	}
	if n := testutil.CollectAndCount(m.polls); n != 1 {
		t.Errorf("poll series after removing ians: %d, want 1", n)
	}
	if got := testutil.ToFloat64(m.sources); got != 1 {
		t.Errorf("sources gauge = %v, want 1", got)
	}
}
