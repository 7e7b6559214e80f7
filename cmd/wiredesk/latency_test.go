package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// latencies are request durations, sorted by summary.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(q*float64(len(l))))]
}

func (l latencies) summary() string {
	slices.Sort(l)
	return fmt.Sprintf("%d requests: p50 %v, p95 %v, p99 %v, max %v", len(l),
		l.quantile(0.50).Round(time.Microsecond), l.quantile(0.95).Round(time.Microsecond),
		l.quantile(0.99).Round(time.Microsecond), l.quantile(1).Round(time.Microsecond))
}

// readLoop GETs the topic feeds from readers goroutines until stop is
// closed and returns every request's latency; a failed request is a test
// error.
func readLoop(t *testing.T, base string, readers int, stop <-chan struct{}) latencies {
	t.Helper()
	var (
		mu  sync.Mutex
		all latencies
		wg  sync.WaitGroup
	)
	urls := []string{base + "/feeds/world.rss", base + "/feeds/world.json"}
	for g := range readers {
		wg.Go(func() {
			var mine latencies
			for i := 0; ; i++ {
				select {
				case <-stop:
					mu.Lock()
					all = append(all, mine...)
					mu.Unlock()
					return
				default:
				}
				start := time.Now()
				resp, err := http.Get(urls[(g+i)%len(urls)])
				if err != nil {
					t.Errorf("GET during ingest: %v", err)
					continue
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(start))
				if err != nil || resp.StatusCode != http.StatusOK || n == 0 {
					t.Errorf("GET %s: %s, %d bytes, %v", urls[(g+i)%len(urls)], resp.Status, n, err)
				}
			}
		})
	}
	wg.Wait()
	return all
}

// TestReadersNotBlockedByIngest serves a populated topic while the daemon
// writes a large poll (four sources of 1,500 new items each) and checks
// that the feeds keep being served: no request fails, and p99 stays under
// 2 s, or an eighth of the ingest when that is longer. The same readers
// with no ingest give the baseline, so one run reports the ratio. Most
// requests are answered from the render cache, so this cannot show that
// the store's readers never wait for its writer (with reads sent through
// the writer's one connection it still passed, p99 40 ms):
// store.TestReadDuringWrite holds that, against an open transaction.
func TestReadersNotBlockedByIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ten thousand items; skipped with -short")
	}
	feeds := newCrashFeeds(t, 4, 3000, 42)
	feeds.grow(20, 5)
	cfgPath := writeCrashConfig(t, feeds)
	// Only the start-up poll is scheduled; the large one is started here.
	b, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, []byte(strings.Replace(string(b), `"@every 1s"`, `"@every 24h"`, 1)), 0o644)
	d, results := startDaemon(t, cfgPath)
	defer closeDaemon(t, d)
	waitResults(t, results, len(feeds.names))
	base := "http://" + d.Addr()
	const readers, perSource = 3, 1500

	stop := make(chan struct{})
	time.AfterFunc(2*time.Second, func() { close(stop) })
	idle := readLoop(t, base, readers, stop)

	feeds.grow(perSource, 0)
	var ingest time.Duration
	var written atomic.Int64
	stop = make(chan struct{})
	go func() {
		defer close(stop)
		start := time.Now()
		res, err := d.poller.PollAll(t.Context(), d.Config.Sources)
		ingest = time.Since(start)
		for _, r := range res {
			written.Add(int64(r.Stats.New))
			if r.Err != nil {
				t.Errorf("poll %s: %v", r.Source, r.Err)
			}
		}
		if err != nil {
			t.Errorf("poll: %v", err)
		}
	}()
	busy := readLoop(t, base, readers, stop)
	if written.Load() < 4*perSource {
		t.Fatalf("ingest wrote %d new items, want %d", written.Load(), 4*perSource)
	}
	t.Logf("no ingest: %s", idle.summary())
	t.Logf("during ingest of %d items in %v: %s", written.Load(), ingest.Round(time.Millisecond), busy.summary())
	if len(busy) < 20 {
		t.Errorf("only %d requests were served during a %v ingest", len(busy), ingest)
	}
	// A render queued behind the writer would wait out the transaction in
	// progress, a whole source's: a quarter of the ingest at most. The
	// bound grows with the ingest, as everything slows together on a
	// loaded machine: a fresh clone's CI under -race, with another job on
	// its two cores, took 3m38s for this ingest once, and its readers' p99
	// was 3.6 s (0.8 s with no ingest).
	limit := max(2*time.Second, ingest/8)
	if p99 := busy.quantile(0.99); p99 > limit {
		t.Errorf("p99 during ingest %v > %v: readers are blocked by the writer", p99, limit)
	}
	checkIntegrity(t, filepath.Join(filepath.Dir(cfgPath), "wiredesk.db"))
}
