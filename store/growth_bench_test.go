package store

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

// BenchmarkGrowth shows that ingest cost per item and a topic's story
// query stay flat as the store grows: it pre-fills 10k and 100k items
// (1M with WIREDESK_BENCH_1M=1; it takes minutes to fill) spread over 100
// sources, then measures saving fetches of 50 new items (with the exact
// folding lookups on), published all over the stored range or, as a
// running daemon sees them, after it, and listing a 100-story topic of 10
// sources, and of 10 quiet sources whose stories are older than all the
// others.
func BenchmarkGrowth(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if os.Getenv("WIREDESK_BENCH_1M") == "1" {
		sizes = append(sizes, 1_000_000)
	}
	const sources = 100
	names := make([]string, sources)
	for i := range names {
		names[i] = fmt.Sprintf("src%03d", i)
	}
	growItem := func(src string, n int) wiredesk.Item {
		it := item(src, fmt.Sprintf("g%d", n), n%100_000)
		it.CanonicalURL = it.URL
		it.ContentHash = fmt.Sprintf("%064x", n)
		return it
	}
	for _, size := range sizes {
		b.Run(fmt.Sprintf("items=%d", size), func(b *testing.B) {
			db, clock := openTest(b)
			clock.now = t0.Add(time.Hour)
			// Ten quiet sources published 100 items each a day before
			// everything else: a topic of theirs finds its page only past
			// every other story.
			quiet := make([]string, 10)
			for q := range quiet {
				quiet[q] = fmt.Sprintf("quiet%d", q)
				items := make([]wiredesk.Item, 100)
				for i := range items {
					items[i] = growItem(quiet[q], -1-q*100-i)
					items[i].Published = t0.Add(-24*time.Hour + time.Duration(q*100+i)*time.Second)
				}
				if _, err := db.SaveFetch(b.Context(), wiredesk.FetchResult{Source: quiet[q], Items: items}); err != nil {
					b.Fatal(err)
				}
			}
			const batch = 1000
			for n := 0; n < size; n += batch {
				// Fetches of 1,000 items rotate through the sources, so a
				// source's items span the whole history as in a real store.
				src := names[(n/batch)%sources]
				items := make([]wiredesk.Item, 0, batch)
				for i := n; i < n+batch; i++ {
					it := growItem(src, i)
					it.Published = t0.Add(time.Duration(i%(size/batch)*batch+i/(size/batch)) * time.Second)
					it.Updated = it.Published
					items = append(items, it)
				}
				if _, err := db.SaveFetch(b.Context(), wiredesk.FetchResult{Source: src, Items: items}); err != nil {
					b.Fatal(err)
				}
			}
			next := size
			b.Run("ingest-50", func(b *testing.B) {
				for b.Loop() {
					src := names[next%sources]
					items := make([]wiredesk.Item, 50)
					for i := range items {
						items[i] = growItem(src, next)
						next++
					}
					if _, err := db.SaveFetch(b.Context(), wiredesk.FetchResult{Source: src, Items: items}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*50), "ns/item")
			})
			// As a running daemon stores them: new items published after
			// everything stored, so the indexes on publication times take
			// them at their ends; content hashes and URLs stay random.
			b.Run("ingest-50-recent", func(b *testing.B) {
				at := t0.Add(time.Duration(size) * time.Second)
				for b.Loop() {
					src := names[next%sources]
					items := make([]wiredesk.Item, 50)
					for i := range items {
						items[i] = growItem(src, next)
						items[i].ContentHash = fmt.Sprintf("%016x%048x", mix64(uint64(next)), next)
						at = at.Add(time.Second)
						items[i].Published, items[i].Updated = at, at
						next++
					}
					if _, err := db.SaveFetch(b.Context(), wiredesk.FetchResult{Source: src, Items: items}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*50), "ns/item")
			})
			for _, topic := range []struct {
				name    string
				sources []string
			}{{"topic-100", names[:10]}, {"quiet-topic-100", quiet}} {
				b.Run(topic.name, func(b *testing.B) {
					for b.Loop() {
						st, err := db.Stories(b.Context(), wiredesk.StoryFilter{Sources: topic.sources, Limit: 100})
						if err != nil || len(st) != 100 {
							b.Fatalf("stories: %d, %v", len(st), err)
						}
					}
				})
			}
		})
	}
}

// mix64 scrambles n (SplitMix64's finaliser): content hashes land all
// over their index, as real ones do.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
