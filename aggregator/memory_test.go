package aggregator_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

// bigFeed streams a valid RSS 2.0 document of about size bytes: items of
// random words, distinct from any other feed's (seed), so that nothing
// folds and every item is parsed, fingerprinted and stored.
func bigFeed(w io.Writer, seed uint64, size int) {
	words := strings.Fields("the minister said on monday that talks with the union would resume " +
		"after a week of strikes across the port cities while exporters counted their losses and " +
		"analysts warned of a slowdown in shipping volumes before the harvest season")
	rng := rand.New(rand.NewPCG(seed, seed))
	fmt.Fprint(w, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>big</title>`)
	var b strings.Builder
	for n, i := 0, 0; n < size-(40<<10); i++ {
		b.Reset()
		fmt.Fprintf(&b, `<item><guid>big-%d-%d</guid><title>Story %d of feed %d</title><description>`, seed, i, i, seed)
		for b.Len() < 32<<10 {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		b.WriteString(`</description></item>`)
		n += b.Len()
		io.WriteString(w, b.String())
	}
	fmt.Fprint(w, `</channel></rss>`)
}

// peakHeap samples the live heap until stop is closed.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

func maxRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss << 10 // KiB on Linux
}

// TestMemoryPeak polls Concurrency (8) sources at once that each send a
// feed just under MaxBody (10 MB) and checks the heap stays well inside
// the process budget of 256 MB. It reports the peak live heap, the heap
// the runtime reserved and the growth of the process's peak RSS.
func TestMemoryPeak(t *testing.T) {
	if os.Getenv("WIREDESK_MEMTEST") == "" {
		t.Skip("polls 80 MB of feeds for 10-40 s; set WIREDESK_MEMTEST=1 to run")
	}
	const size = 10<<20 - 64<<10
	var maxIn, in atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := in.Add(1)
		defer in.Add(-1)
		for m := maxIn.Load(); n > m && !maxIn.CompareAndSwap(m, n); m = maxIn.Load() {
		}
		var seed uint64
		fmt.Sscanf(r.URL.Path, "/%d", &seed)
		bigFeed(w, seed, size)
	}))
	defer srv.Close()
	var sources []wiredesk.Source
	for i := range 8 {
		sources = append(sources, wiredesk.Source{Name: fmt.Sprint("big", i), FeedURL: fmt.Sprintf("%s/%d", srv.URL, i)})
	}
	db := openStore(t)
	p := newPoller(db)
	p.PerHost = 8 // one host serves all eight here
	p.Timeout = time.Minute

	// The process budget is 256 MB. The daemon should run with a soft
	// memory limit below it (GOMEMLIMIT=192MiB), so that garbage is
	// collected before it counts: without one the heap may grow to twice
	// the live data (GOGC=100) and this poll peaks near 210 MB.
	// WIREDESK_MEMLIMIT_MB overrides the limit; 0 runs without one.
	mb := 192
	if v := os.Getenv("WIREDESK_MEMLIMIT_MB"); v != "" {
		mb, _ = strconv.Atoi(v)
	}
	if mb > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(mb) << 20))
	}
	runtime.GC()
	rssBefore := maxRSS()
	stop := make(chan struct{})
	peak := peakHeap(stop)
	start := time.Now()
	results, err := p.PollAll(context.Background(), sources)
	elapsed := time.Since(start)
	close(stop)
	heapPeak := <-peak
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range results {
		if r.Err != nil || r.Stats.New == 0 {
			t.Errorf("%v: want items stored", r)
		}
		total += r.Stats.New
	}
	t.Logf("memory limit %d MB; 8 feeds of %.1f MB, %d items, %d fetched at once, in %v: peak live heap %d MB, heap reserved %d MB, "+
		"peak RSS grew %d MB (to %d MB)", mb, float64(size)/(1<<20), total, maxIn.Load(), elapsed.Round(time.Millisecond),
		heapPeak>>20, ms.HeapSys>>20, (maxRSS()-rssBefore)>>20, maxRSS()>>20)
	if heapPeak > 200<<20 {
		t.Errorf("peak live heap %d MB, want under 200 MB", heapPeak>>20)
	}
}
