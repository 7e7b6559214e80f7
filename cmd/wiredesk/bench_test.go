package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/aggregator"
	"github.com/wiredesk/wiredesk/store"
)

const benchItems = 50

// benchFeed renders a realistic RSS 2.0 document: 50 items of a few
// paragraphs each, the size of a busy outlet's feed. gen makes the GUIDs,
// links and texts differ from one generation to the next.
func benchFeed(gen int64) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Bench Wire</title><link>https://bench.example/</link><description>bench</description>
`)
	para := "Officials said on %s that the ministry would review the proposal for the %d-th district " +
		"before the end of the month, adding that consultations with regional governments, trade groups " +
		"and farmers' associations had been scheduled, and that a final decision was expected after " +
		"parliament returns from its winter recess. (report %d/%d)"
	for i := range benchItems {
		pub := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Minute)
		fmt.Fprintf(&b, `<item><title>Ministry to review district proposal %d-%d</title>
<link>https://bench.example/news/%d/%d/story.html?utm_source=rss</link>
<guid isPermaLink="false">bench-%d-%d</guid><dc:creator>Staff Reporter</dc:creator>
<pubDate>%s</pubDate><description><![CDATA[<p>`+para+`</p>]]></description>
<content:encoded><![CDATA[<p>`+para+`</p><p>`+para+`</p><p>`+para+`</p><p>ALSO READ: <a href="/other">Other news</a></p>]]></content:encoded></item>
`, gen, i, gen, i, gen, i, pub.Format(time.RFC1123Z),
			"Monday", i, gen, i, "Tuesday", i, gen, i, "Wednesday", i, gen, i, "Thursday", i, gen, i)
	}
	b.WriteString("</channel></rss>\n")
	return b.String()
}

// BenchmarkIngest measures the ingest path on a real SQLite file: fetch
// over loopback, parse with gofeed, normalise, fold stories and store in
// one transaction. "new" stores 50 new items per poll; "unchanged" re-polls
// a feed whose items are all stored (no validators, so a full 200).
func BenchmarkIngest(b *testing.B) {
	for _, mode := range []string{"new", "unchanged"} {
		b.Run(mode, func(b *testing.B) {
			var gen atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				g := int64(0)
				if mode == "new" {
					g = gen.Add(1)
				}
				w.Header().Set("Content-Type", "application/rss+xml")
				fmt.Fprint(w, benchFeed(g))
			}))
			defer srv.Close()

			db, err := store.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			src := wiredesk.Source{Name: "bench", FeedURL: srv.URL + "/feed.xml"}
			if err := db.SyncSources(b.Context(), []wiredesk.Source{src}); err != nil {
				b.Fatal(err)
			}
			p := aggregator.NewPoller(db, []wiredesk.Source{src})
			p.Logger = slog.New(slog.DiscardHandler)
			if mode == "unchanged" {
				if _, err := p.PollOnce(b.Context(), src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := p.PollOnce(b.Context(), src)
				if err != nil || res.Err != nil {
					b.Fatalf("poll: %v %v", err, res.Err)
				}
				if got := res.Stats.New + res.Stats.Unchanged; got != benchItems {
					b.Fatalf("poll stored %+v, want %d items", res.Stats, benchItems)
				}
			}
			b.ReportMetric(float64(b.N*benchItems)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
