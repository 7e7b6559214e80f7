package main

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
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
	// Each paragraph draws its words from a seeded generator, so every
	// item is a different story, as most items of a real feed are; a feed
	// of near-identical bulletins would make every item a candidate of
	// every other.
	para := func(seed int64) string {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		var p strings.Builder
		for range 45 {
			p.WriteString(benchWords[r.IntN(len(benchWords))])
			p.WriteByte(' ')
		}
		return p.String()
	}
	for i := range benchItems {
		seed := gen*1000 + int64(i)*3
		pub := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Minute)
		fmt.Fprintf(&b, `<item><title>Ministry to review district proposal %d-%d</title>
<link>https://bench.example/news/%d/%d/story.html?utm_source=rss</link>
<guid isPermaLink="false">bench-%d-%d</guid><dc:creator>Staff Reporter</dc:creator>
<pubDate>%s</pubDate><description><![CDATA[<p>%s</p>]]></description>
<content:encoded><![CDATA[<p>%s</p><p>%s</p><p>%s</p><p>ALSO READ: <a href="/other">Other news</a></p>]]></content:encoded></item>
`, gen, i, gen, i, gen, i, pub.Format(time.RFC1123Z),
			para(seed), para(seed), para(seed+1), para(seed+2))
	}
	b.WriteString("</channel></rss>\n")
	return b.String()
}

// benchWords is a news vocabulary large enough that generated paragraphs
// rarely share a run of eight words.
var benchWords = strings.Fields(`officials said ministry review proposal district month consultations
regional governments trade groups farmers associations scheduled final decision expected parliament
returns winter recess police arrested suspects court hearing adjourned minister announced budget
deficit inflation rose percent exports fell imports port harbour shipping company shares closed
higher lower index investors election commission polling stations voters turnout opposition party
leader rally capital city residents flooding rains warning coast storm cyclone evacuated hospital
patients doctors vaccine health agency report study researchers university scientists found climate
emissions energy solar wind power grid prices fuel petrol diesel government subsidy talks delegation
visit agreement signed cooperation defence security border troops ceasefire peace summit leaders
statement joint cricket match team captain won lost series tournament final coach players injury
railway station train passengers delayed airport flights cancelled weather fog schools closed
students exams results teachers strike union wages workers factory production output growth quarter`)

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
