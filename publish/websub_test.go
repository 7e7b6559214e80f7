package publish

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

// TestHubLinks checks that with a hub every format advertises it next to
// its self link (WebSub §4), and that without one nothing changes.
func TestHubLinks(t *testing.T) {
	const hub = "https://hub.example/"
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"/feeds/world.atom", []string{
			`<link href="https://news.example/feeds/world.atom" rel="self" type="application/atom+xml">`,
			`<link href="https://hub.example/" rel="hub">`,
		}},
		{"/feeds/world.rss", []string{
			`<atom:link href="https://news.example/feeds/world.rss" rel="self" type="application/rss+xml">`,
			`<atom:link href="https://hub.example/" rel="hub">`,
		}},
		{"/feeds/world.json", []string{
			`"feed_url": "https://news.example/feeds/world.json"`,
			`"hubs": [`, `"type": "WebSub"`, `"url": "https://hub.example/"`,
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			plain := newTestServer(&sliceFinder{})
			with := newTestServer(&sliceFinder{})
			with.Hub = hub
			rec := get(t, with.Handler(), "GET", tc.file, nil)
			body := rec.Body.String()
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("lacks %s:\n%s", w, body)
				}
			}
			// WebSub §4: the Link headers say the same.
			link := `<https://hub.example/>; rel="hub", <https://news.example` + tc.file + `>; rel="self"`
			if got := rec.Header().Get("Link"); got != link {
				t.Errorf("Link header %q, want %q", got, link)
			}
			rec = get(t, plain.Handler(), "GET", tc.file, nil)
			if b := rec.Body.String(); strings.Contains(b, "hub") || rec.Header().Get("Link") != "" {
				t.Errorf("no hub configured, yet the feed mentions one (Link %q):\n%s", rec.Header().Get("Link"), b)
			}
		})
	}
}

// TestFingerprints changes when a topic's entries change, and only then.
func TestFingerprints(t *testing.T) {
	f := &sliceFinder{}
	s := newTestServer(f)
	ctx := context.Background()
	before, err := s.Fingerprints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.Fingerprints(ctx)
	if before["world"] != again["world"] || before["world"] == "" {
		t.Fatalf("fingerprint not stable: %v %v", before, again)
	}
	s.Now = func() time.Time { return fixedNow.Add(time.Hour) } // the clock alone changes nothing
	if later, _ := s.Fingerprints(ctx); later["world"] != before["world"] {
		t.Errorf("fingerprint moved with the clock")
	}
	f.stories = []wiredesk.Story{{ID: 1, GUID: "urn:uuid:1", Published: fixedNow, Updated: fixedNow,
		Primary: wiredesk.Item{ID: 1, Source: testSources()[0].Name, Title: "t"},
		Copies:  []wiredesk.Item{{ID: 1, Source: testSources()[0].Name, Title: "t"}}}}
	after, _ := s.Fingerprints(ctx)
	changed := 0
	for name := range after {
		if after[name] != before[name] {
			changed++
		}
	}
	if changed == 0 {
		t.Errorf("a new story changed no topic's fingerprint")
	}
}
