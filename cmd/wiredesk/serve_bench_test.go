package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/aggregator"
	"github.com/wiredesk/wiredesk/publish"
	"github.com/wiredesk/wiredesk/store"
)

// BenchmarkServeTopic serves a 100-entry topic feed from a real SQLite
// store over loopback HTTP, as a feed reader fetches it: cached (rendered
// once), conditional (If-None-Match: 304), and uncached (the cache
// invalidated before every request: the cost of rendering). It reports
// requests per second and the latency percentiles of the run.
func BenchmarkServeTopic(b *testing.B) {
	db, err := store.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	src := wiredesk.Source{Name: "bench", FeedURL: "http://bench.invalid/feed.xml", Tags: []string{"world"}}
	if err := db.SyncSources(b.Context(), []wiredesk.Source{src}); err != nil {
		b.Fatal(err)
	}
	for gen := range int64(2) { // 2 × 50 items: 100 stories
		items, err := aggregator.Parse(src.Name, src.FeedURL, []byte(benchFeed(gen+1)), time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.SaveFetch(b.Context(), wiredesk.FetchResult{Source: src.Name, Items: items,
			State: wiredesk.SourceState{Source: src.Name, Status: wiredesk.StatusOK}}); err != nil {
			b.Fatal(err)
		}
	}
	topic := wiredesk.Topic{Name: "world", Title: "World", Tags: []string{"world"}, Limit: 100}
	pub := publish.NewServer(db, []wiredesk.Topic{topic}, []wiredesk.Source{src}, "http://bench.example")
	pub.Logger = slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(pub.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	url := srv.URL + "/feeds/world.atom"

	resp, err := client.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if n := countEntries(body); n != 100 {
		b.Fatalf("feed has %d entries, want 100", n)
	}

	b.Logf("feed: %d bytes, %d entries", len(body), countEntries(body))
	for _, mode := range []string{"cached", "cached-gzip", "conditional", "uncached"} {
		b.Run(mode, func(b *testing.B) {
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, url, nil)
					want := http.StatusOK
					switch mode {
					case "conditional":
						req.Header.Set("If-None-Match", etag)
						want = http.StatusNotModified
					case "cached-gzip":
						// What feed readers send; the gzip body is made once.
						req.Header.Set("Accept-Encoding", "gzip")
					case "uncached":
						pub.Invalidate()
					}
					start := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mine = append(mine, time.Since(start))
					if resp.StatusCode != want {
						b.Errorf("status %d, want %d", resp.StatusCode, want)
						return
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "req/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}

func countEntries(body []byte) int {
	n := 0
	for i := 0; i+7 <= len(body); i++ {
		if string(body[i:i+7]) == "<entry>" {
			n++
		}
	}
	return n
}
