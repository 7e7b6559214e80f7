package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, h http.Handler, method, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerRoutes(t *testing.T) {
	h := newTestServer(&sliceFinder{stories: testStories()}).Handler()
	tests := []struct {
		method, path string
		status       int
		contentType  string
		contains     string
	}{
		{"GET", "/feeds/world.rss", 200, "application/rss+xml; charset=utf-8", "<rss version=\"2.0\""},
		{"GET", "/feeds/world.atom", 200, "application/atom+xml; charset=utf-8", "<feed xmlns=\"http://www.w3.org/2005/Atom\">"},
		{"GET", "/feeds/world.json", 200, "application/feed+json; charset=utf-8", "\"version\": \"https://jsonfeed.org/version/1.1\""},
		{"GET", "/feeds/empty.json", 200, "application/feed+json; charset=utf-8", "\"items\": []"},
		{"GET", "/feeds/nosuch.rss", 404, "", ""},
		{"GET", "/feeds/world.xml", 404, "", ""},
		{"GET", "/feeds/world", 404, "", ""},
		{"GET", "/feeds/.rss", 404, "", ""},
		{"GET", "/nowhere", 404, "", ""},
		{"POST", "/feeds/world.rss", 405, "", ""},
		{"GET", "/opml", 200, "text/x-opml; charset=utf-8", "<opml version=\"2.0\">"},
		{"GET", "/", 200, "text/html; charset=utf-8", "<!DOCTYPE html>"},
		{"GET", "/healthz", 200, "text/plain; charset=utf-8", "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := get(t, h, tt.method, tt.path, nil)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if tt.contentType != "" {
				if got := rec.Header().Get("Content-Type"); got != tt.contentType {
					t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
				}
			}
			if !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("body does not contain %q:\n%s", tt.contains, rec.Body)
			}
		})
	}
}

func TestHandlerServesRenderedFeed(t *testing.T) {
	s := newTestServer(&sliceFinder{stories: testStories()})
	h := s.Handler()
	for _, f := range Formats() {
		t.Run(f.String(), func(t *testing.T) {
			want, _, err := s.Render(context.Background(), "world", f)
			if err != nil {
				t.Fatal(err)
			}
			rec := get(t, h, "GET", "/feeds/world"+f.Ext(), nil)
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Errorf("served bytes differ from Render")
			}
			if got := rec.Header().Get("Last-Modified"); got != "Sun, 01 Mar 2026 09:00:00 GMT" {
				t.Errorf("Last-Modified = %q", got)
			}
			if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "max-age=") {
				t.Errorf("Cache-Control = %q", got)
			}
		})
	}
}

func TestConditionalGET(t *testing.T) {
	h := newTestServer(&sliceFinder{stories: testStories()}).Handler()
	first := get(t, h, "GET", "/feeds/world.atom", nil)
	etag, lastMod := first.Header().Get("ETag"), first.Header().Get("Last-Modified")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") || lastMod == "" {
		t.Fatalf("ETag %q Last-Modified %q, want a strong ETag and a date", etag, lastMod)
	}
	tests := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"if-none-match", map[string]string{"If-None-Match": etag}, 304},
		{"if-none-match list", map[string]string{"If-None-Match": `"other", ` + etag}, 304},
		{"if-none-match stale", map[string]string{"If-None-Match": `"stale"`}, 200},
		{"if-modified-since", map[string]string{"If-Modified-Since": lastMod}, 304},
		{"if-modified-since earlier", map[string]string{"If-Modified-Since": "Sun, 01 Mar 2026 08:59:59 GMT"}, 200},
		// RFC 9110 §13.2.2: If-None-Match is evaluated first and, when
		// present, If-Modified-Since is ignored.
		{"inm wins over ims", map[string]string{"If-None-Match": `"stale"`, "If-Modified-Since": lastMod}, 200},
		{"identity etag under gzip", map[string]string{"If-None-Match": etag, "Accept-Encoding": "gzip"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, "GET", "/feeds/world.atom", tt.header)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if tt.status == 304 && rec.Body.Len() != 0 {
				t.Errorf("304 with a body of %d bytes", rec.Body.Len())
			}
		})
	}
}

func TestGzip(t *testing.T) {
	h := newTestServer(&sliceFinder{stories: testStories()}).Handler()
	plain := get(t, h, "GET", "/feeds/world.rss", nil)
	zipped := get(t, h, "GET", "/feeds/world.rss", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if got := zipped.Header().Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", got)
	}
	if !strings.Contains(zipped.Header().Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary = %q", zipped.Header().Get("Vary"))
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, plain.Body.Bytes()) {
		t.Errorf("gunzipped body differs from identity body")
	}
	zTag, pTag := zipped.Header().Get("ETag"), plain.Header().Get("ETag")
	if zTag == pTag || zTag == "" {
		t.Errorf("gzip ETag %q must differ from identity ETag %q", zTag, pTag)
	}
	again := get(t, h, "GET", "/feeds/world.rss", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": zTag})
	if again.Code != 304 {
		t.Errorf("If-None-Match with gzip ETag: status %d, want 304", again.Code)
	}
	refused := get(t, h, "GET", "/feeds/world.rss", map[string]string{"Accept-Encoding": "gzip;q=0, deflate"})
	if refused.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 still got Content-Encoding %q", refused.Header().Get("Content-Encoding"))
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"gzip;q=0.5", true},
		{"x-gzip", true},
		{"*", true},
		{"*;q=0", false},
		{"br, *;q=1, gzip;q=0", false},
		{"identity", false},
	}
	for _, tt := range tests {
		if got := acceptsGzip([]string{tt.header}); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestHEAD(t *testing.T) {
	h := newTestServer(&sliceFinder{stories: testStories()}).Handler()
	full := get(t, h, "GET", "/feeds/world.json", nil)
	head := get(t, h, "HEAD", "/feeds/world.json", nil)
	if head.Code != 200 || head.Body.Len() != 0 {
		t.Fatalf("HEAD: status %d body %d bytes, want 200 and none", head.Code, head.Body.Len())
	}
	for _, k := range []string{"ETag", "Content-Type", "Content-Length", "Last-Modified"} {
		if head.Header().Get(k) != full.Header().Get(k) || head.Header().Get(k) == "" {
			t.Errorf("HEAD %s = %q, GET has %q", k, head.Header().Get(k), full.Header().Get(k))
		}
	}
}

func TestHealthz(t *testing.T) {
	s := newTestServer(&sliceFinder{})
	h := s.Handler()
	if rec := get(t, h, "GET", "/healthz", nil); rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "ok" {
		t.Errorf("nil Health: %d %q", rec.Code, rec.Body)
	}
	s.Health = func(context.Context) error { return nil }
	if rec := get(t, h, "GET", "/healthz", nil); rec.Code != 200 {
		t.Errorf("healthy: status %d", rec.Code)
	}
	var logs bytes.Buffer
	s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s.Health = func(context.Context) error { return errors.New("store: ping /var/lib/x.db: disk full") }
	rec := get(t, h, "GET", "/healthz", nil)
	if rec.Code != 503 || strings.Contains(rec.Body.String(), "x.db") {
		t.Errorf("unhealthy: %d %q, want 503 without internals", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "disk full") {
		t.Errorf("health error not logged: %q", logs.String())
	}
	s.HealthTimeout = 10 * time.Millisecond
	s.Health = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	if rec := get(t, h, "GET", "/healthz", nil); rec.Code != 503 {
		t.Errorf("hanging health check: status %d, want 503 after the timeout", rec.Code)
	}
}

func TestFinderErrorIs500(t *testing.T) {
	var logs bytes.Buffer
	s := newTestServer(&sliceFinder{err: errDatabase})
	s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	rec := get(t, s.Handler(), "GET", "/feeds/world.rss", nil)
	if rec.Code != 500 {
		t.Fatalf("status = %d, want 500", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "secret.db") || strings.Contains(rec.Body.String(), "locked") {
		t.Errorf("500 body leaks the error: %q", rec.Body)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "secret.db") {
		t.Errorf("error not logged: %q", logs.String())
	}
	// An empty topic never asks the finder, so it is still served.
	if rec := get(t, s.Handler(), "GET", "/feeds/empty.rss", nil); rec.Code != 200 {
		t.Errorf("empty topic: status %d", rec.Code)
	}
}

func TestIndexPage(t *testing.T) {
	s := newTestServer(&sliceFinder{})
	evil := testTopics()[0]
	evil.Name = "evil"
	evil.Title = `<script>alert("x")</script>`
	evil.Description = `<img src=x onerror=alert(1)>`
	setTopics(s, append(s.Topics(), evil)...)
	rec := get(t, s.Handler(), "GET", "/", nil)
	body := rec.Body.String()
	for _, want := range []string{
		`<link rel="alternate" type="application/rss+xml" title="World news (RSS)" href="https://news.example/feeds/world.rss">`,
		`<link rel="alternate" type="application/atom+xml" title="World news (Atom)" href="https://news.example/feeds/world.atom">`,
		`<link rel="alternate" type="application/feed+json" title="World news (JSON Feed)" href="https://news.example/feeds/world.json">`,
		`href="https://news.example/opml"`,
		`href="https://news.example/feeds/evil.rss"`,
		`<strong>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</strong>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("index lacks %s", want)
		}
	}
	for _, bad := range []string{"<script", "<img"} {
		if strings.Contains(body, bad) {
			t.Errorf("index contains %q unescaped:\n%s", bad, body)
		}
	}
}

func TestAgo(t *testing.T) {
	now := fixedNow
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "never"},
		{now.Add(-10 * time.Second), "just now"},
		{now.Add(-5 * time.Minute), "5 min ago"},
		{now.Add(-3 * time.Hour), "3 h ago"},
		{now.Add(-72 * time.Hour), "3 days ago"},
		{now.Add(15 * time.Minute), "in 15 min"},
		{now.Add(30 * time.Second), "in 30 s"},
	} {
		if got := ago(now, tc.t); got != tc.want {
			t.Errorf("ago(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}
