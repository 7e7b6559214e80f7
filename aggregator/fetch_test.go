package aggregator_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/aggregator"
)

// TestHTTPErrorTypedAndConnReused: a non-2xx answer is a StatusError
// callers can inspect, and its body is drained so that the next poll of
// the host reuses the keep-alive connection instead of dialling again.
func TestHTTPErrorTypedAndConnReused(t *testing.T) {
	page := strings.Repeat("<p>not here</p>\n", 512) // 8 KiB error page
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gone" {
			http.Error(w, page, http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNotModified)
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	p := newPoller(openStore(t))
	ctx := context.Background()
	for i, path := range []string{"/gone", "/gone", "/same"} {
		src := wiredesk.Source{Name: fmt.Sprint("s", i), FeedURL: srv.URL + path}
		r, err := p.PollOnce(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		var se *aggregator.StatusError
		switch {
		case path == "/same" && r.Err != nil:
			t.Errorf("%s: %v, want not modified", path, r)
		case path == "/gone" && (!errors.As(r.Err, &se) || se.Code != 404 || se.URL != src.FeedURL):
			t.Errorf("%s: error %#v, want a StatusError 404 for the feed URL", path, r.Err)
		case path == "/gone" && r.Err.Error() != "fetch "+src.FeedURL+": 404 Not Found":
			t.Errorf("%s: error %q", path, r.Err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 3 polls, want 1 kept alive", n)
	}
}

func TestStatusErrorMessage(t *testing.T) {
	tests := []struct {
		err  aggregator.StatusError
		want string
	}{
		{aggregator.StatusError{Code: 404, Status: "404 Not Found", URL: "https://x.example.com/rss"}, "fetch https://x.example.com/rss: 404 Not Found"},
		{aggregator.StatusError{Code: 599, URL: "https://x.example.com/rss"}, "fetch https://x.example.com/rss: 599"},
		{aggregator.StatusError{Code: 503, URL: "https://x.example.com/rss"}, "fetch https://x.example.com/rss: 503 Service Unavailable"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
