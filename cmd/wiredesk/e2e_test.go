package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/wiredesk/wiredesk/aggregator"
	"github.com/wiredesk/wiredesk/config"
	"github.com/wiredesk/wiredesk/internal/feedtest"
)

// feedDocs are the three sources of the end-to-end tests, one per format.
// alpha.rss and beta.atom both carry the port story under one URL (beta's
// with tracking parameters, upper-case host and a trailing slash); gamma
// republishes alpha's monsoon wire copy under its own URL and headline,
// with a byline, an ALSO READ line and its last paragraph cut.
var feedDocs = []struct {
	source, path, file, contentType, etag string
}{
	{"alpha", "/alpha.rss", "testdata/alpha.rss", "application/rss+xml", `"a1"`},
	{"beta", "/beta.atom", "testdata/beta.atom", "application/atom+xml", `"b1"`},
	{"gamma", "/gamma.json", "testdata/gamma.json", "application/feed+json", `"g1"`},
}

// startFeeds serves the testdata feeds with ETags and Last-Modified.
func startFeeds(t *testing.T) *feedtest.Server {
	t.Helper()
	srv := feedtest.New(t)
	for _, d := range feedDocs {
		body, err := os.ReadFile(d.file)
		if err != nil {
			t.Fatal(err)
		}
		srv.Set(d.path, feedtest.Doc{
			Body: string(body), ContentType: d.contentType, ETag: d.etag,
			LastModified: "Fri, 27 Nov 2026 09:00:00 GMT",
		})
	}
	return srv
}

// writeConfig writes a config polling feeds into a fresh directory and
// returns its path; the database lives beside it.
func writeConfig(t *testing.T, feeds *feedtest.Server) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`[storage]
path = "wiredesk.db"

[server]
listen = "127.0.0.1:0"
base_url = "http://wiredesk.test"
shutdown_timeout = "5s"

[poll]
schedule = "@every 1h"
timeout = "5s"

[log]
format = "text" # the binary tests read the log lines
`)
	for _, d := range feedDocs {
		fmt.Fprintf(&b, "\n[[source]]\nname = %q\nurl = %q\ntags = [\"world\"]\n", d.source, feeds.URL+d.path)
	}
	b.WriteString("\n[[topic]]\nname = \"world\"\ntitle = \"World wire\"\ntags = [\"world\"]\nlimit = 50\n")
	path := filepath.Join(t.TempDir(), "wiredesk.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startDaemon opens a daemon on cfgPath and returns it with a channel of
// its poll results. Each option is applied to the daemon before it opens.
func startDaemon(t *testing.T, cfgPath string, options ...func(*Daemon)) (*Daemon, <-chan aggregator.Result) {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	results := make(chan aggregator.Result, 16)
	d := NewDaemon(cfg, testLogger(t))
	d.OnResult = func(r aggregator.Result) { results <- r }
	for _, o := range options {
		o(d)
	}
	if err := d.Open(t.Context()); err != nil {
		t.Fatalf("open daemon: %v", err)
	}
	return d, results
}

func closeDaemon(t *testing.T, d *Daemon) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatalf("close daemon: %v", err)
	}
}

// waitResults waits for n poll results; the deadline only guards a hang.
func waitResults(t *testing.T, results <-chan aggregator.Result, n int) []aggregator.Result {
	t.Helper()
	var got []aggregator.Result
	deadline := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case r := <-results:
			got = append(got, r)
		case <-deadline:
			t.Fatalf("got %d poll results, want %d: %v", len(got), n, got)
		}
	}
	return got
}

// fetchFeed GETs a topic feed and parses it back with gofeed, as a reader would.
func fetchFeed(t *testing.T, base, name string) (*gofeed.Feed, []byte) {
	t.Helper()
	body := getOK(t, base+"/feeds/"+name)
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v\n%s", name, err, body)
	}
	return feed, body
}

// getOK GETs u and returns its body, failing the test unless it is a 200.
func getOK(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, body)
	}
	return body
}

// feedIDs maps each entry's link to its id, failing on a repeated link:
// one entry per story.
func feedIDs(t *testing.T, name string, feed *gofeed.Feed) map[string]string {
	t.Helper()
	ids := map[string]string{}
	seen := map[string]bool{}
	for _, it := range feed.Items {
		if _, dup := ids[it.Link]; dup {
			t.Errorf("%s: story %s appears twice", name, it.Link)
		}
		if seen[it.GUID] {
			t.Errorf("%s: id %s appears twice", name, it.GUID)
		}
		seen[it.GUID] = true
		ids[it.Link] = it.GUID
	}
	return ids
}

const portURL = "https://wire.example/2026/11/27/port-expansion"

func TestEndToEnd(t *testing.T) {
	feeds := startFeeds(t)
	cfgPath := writeConfig(t, feeds)

	// First start: every source is polled once at start-up.
	d, results := startDaemon(t, cfgPath)
	for _, r := range waitResults(t, results, len(feedDocs)) {
		if r.Err != nil {
			t.Errorf("start-up poll of %s: %v", r.Source, r.Err)
		}
	}
	base := "http://" + d.Addr()
	first := map[string]map[string]string{}
	for _, name := range []string{"world.rss", "world.atom", "world.json"} {
		feed, body := fetchFeed(t, base, name)
		// 6 items, 4 stories: alpha and beta carry the port story, alpha
		// and gamma the monsoon copy.
		if len(feed.Items) != 4 {
			t.Errorf("%s: %d entries, want 4 (one per story)", name, len(feed.Items))
		}
		first[name] = feedIDs(t, name, feed)
		if first[name][portURL] == "" {
			t.Errorf("%s: no entry links to %s: %v", name, portURL, first[name])
		}
		checkAlsoRan(t, name, feed, body)
	}
	checkConditional(t, base+"/feeds/world.rss")
	closeDaemon(t, d)

	// A second poll sends conditional requests and stores nothing new.
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Logger: testLogger(t)}
	if err := m.Run(t.Context(), []string{"poll", "--config", cfgPath}); err != nil {
		t.Fatalf("poll: %v\n%s", err, errOut.String())
	}
	for _, d := range feedDocs {
		reqs := feeds.Requests(d.path)
		if len(reqs) != 2 {
			t.Fatalf("%s: %d requests, want 2 (start-up poll, wiredesk poll)", d.path, len(reqs))
		}
		if got := reqs[1]; got.IfNoneMatch != d.etag || got.Status != http.StatusNotModified {
			t.Errorf("%s second request: If-None-Match %q, status %d; want %q, 304", d.path, got.IfNoneMatch, got.Status, d.etag)
		}
		if !strings.HasPrefix(reqs[0].UserAgent, "wiredesk/") {
			t.Errorf("%s: User-Agent %q does not name wiredesk", d.path, reqs[0].UserAgent)
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(feedDocs) {
		t.Errorf("poll printed %d lines, want one per source:\n%s", len(lines), out.String())
	}
	for _, line := range lines {
		if !strings.Contains(line, "unchanged (304)") {
			t.Errorf("poll line %q does not report a 304", line)
		}
	}

	// Restart: sources were just polled, so no start-up poll; ids are stable.
	d, _ = startDaemon(t, cfgPath)
	base = "http://" + d.Addr()
	for _, name := range []string{"world.rss", "world.atom", "world.json"} {
		feed, _ := fetchFeed(t, base, name)
		again := feedIDs(t, name, feed)
		for link, id := range first[name] {
			if again[link] != id {
				t.Errorf("%s: entry %s id changed across restart: %q -> %q", name, link, id, again[link])
			}
		}
	}
	closeDaemon(t, d)
	for _, d := range feedDocs {
		if n := len(feeds.Requests(d.path)); n != 2 {
			t.Errorf("%s: %d requests after restart, want 2 (next run survives restarts)", d.path, n)
		}
	}
	checkItemsJSON(t, cfgPath)
	checkExplain(t, cfgPath)
}

const (
	monsoonURL  = "https://alpha.example/news/monsoon-wheat"
	monsoonCopy = "https://gamma.example/farm/wheat-sowing-delayed"
	summitURL   = "https://gamma.example/world/summit-ends"
)

// checkAlsoRan asserts the monsoon story shows alpha's copy and says where
// else it ran: a related link in Atom, an "Also ran in" line everywhere.
func checkAlsoRan(t *testing.T, name string, feed *gofeed.Feed, body []byte) {
	t.Helper()
	for _, it := range feed.Items {
		if it.Link != monsoonURL {
			continue
		}
		text := it.Description + it.Content
		if !strings.Contains(text, "Also ran in") || !strings.Contains(text, "gamma") {
			t.Errorf("%s: monsoon entry does not say it also ran in gamma: %q", name, text)
		}
		// gofeed keeps only alternate links, so read the related one raw.
		related := `href="` + monsoonCopy + `" rel="related"`
		if strings.HasSuffix(name, ".atom") && !bytes.Contains(body, []byte(related)) {
			t.Errorf("%s: no %s for gamma's copy", name, related)
		}
		return
	}
	t.Errorf("%s: no entry links to alpha's monsoon copy %s", name, monsoonURL)
}

// checkExplain runs `wiredesk explain` on a folded pair and an unrelated one.
func checkExplain(t *testing.T, cfgPath string) {
	t.Helper()
	for _, tt := range []struct{ a, b, decision, stored string }{
		{monsoonURL, monsoonCopy, "decision: same story", "stored as one story"},
		{monsoonURL + "?utm_source=x", summitURL, "decision: different stories", "stored as different stories"},
	} {
		code, out, errOut := run(t, "explain", "--config", cfgPath, tt.a, tt.b)
		if code != 0 || !strings.Contains(out, tt.decision) || !strings.Contains(out, tt.stored) {
			t.Errorf("explain %s %s: exit %d, want %q and %q:\n%s%s", tt.a, tt.b, code, tt.decision, tt.stored, out, errOut)
		}
	}
	if code, _, errOut := run(t, "explain", "--config", cfgPath, monsoonURL, "https://nowhere.example/x"); code != 1 || !strings.Contains(errOut, "nowhere.example") {
		t.Errorf("explain of an unknown URL: exit %d, %q; want 1 naming the URL", code, errOut)
	}
}

// checkConditional asserts a repeated request with the feed's validators
// gets a 304.
func checkConditional(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || lastMod == "" {
		t.Fatalf("feed response lacks validators: ETag %q, Last-Modified %q", etag, lastMod)
	}
	for _, h := range []struct{ name, value string }{{"If-None-Match", etag}, {"If-Modified-Since", lastMod}} {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set(h.name, h.value)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET with %s: %d, want 304", h.name, resp.StatusCode)
		}
	}
}

// checkItemsJSON asserts the `items --json` contract: every item, and the
// port story's two copies sharing a story with exactly one primary.
func checkItemsJSON(t *testing.T, cfgPath string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Logger: testLogger(t)}
	if err := m.Run(t.Context(), []string{"items", "--config", cfgPath, "--json", "--limit", "0"}); err != nil {
		t.Fatalf("items: %v\n%s", err, errOut.String())
	}
	var items []map[string]any
	if err := json.Unmarshal(out.Bytes(), &items); err != nil {
		t.Fatalf("items --json: %v\n%s", err, out.String())
	}
	if len(items) != 6 {
		t.Fatalf("items --json: %d items, want 6", len(items))
	}
	for _, key := range []string{"id", "source", "url", "guid", "title", "published", "story", "primary"} {
		if _, ok := items[0][key]; !ok {
			t.Errorf("items --json: no %q in %v", key, items[0])
		}
	}
	stories := map[float64][]map[string]any{}
	for _, it := range items {
		if _, err := time.Parse(time.RFC3339, it["published"].(string)); err != nil {
			t.Errorf("published %q is not RFC 3339", it["published"])
		}
		stories[it["story"].(float64)] = append(stories[it["story"].(float64)], it)
	}
	if len(stories) != 4 {
		t.Errorf("%d stories, want 4", len(stories))
	}
	for id, copies := range stories {
		primaries := 0
		for _, c := range copies {
			if c["primary"] == true {
				primaries++
			}
		}
		if primaries != 1 {
			t.Errorf("story %v has %d primaries, want 1", id, primaries)
		}
	}
}
