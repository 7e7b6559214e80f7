package publish

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

// TestFeedCache checks the rendered-feed cache: a feed is rendered once
// and served with the same bytes and ETag until the store changes
// (Invalidate) or the config does; a conditional request is answered 304
// without rendering; gzip and identity keep their own ETags; a cached feed
// expires after CacheMaxAge; concurrent requests for a stale feed render
// it once.
func TestFeedCache(t *testing.T) {
	f := &sliceFinder{stories: testStories()}
	s := newTestServer(f)
	clock := fixedNow
	s.Now = func() time.Time { return clock }
	h := s.Handler()

	first := get(t, h, "GET", "/feeds/world.atom", nil)
	second := get(t, h, "GET", "/feeds/world.atom", nil)
	if s.Renders() != 1 || first.Body.String() != second.Body.String() || first.Header().Get("ETag") != second.Header().Get("ETag") {
		t.Fatalf("renders %d; bodies equal %v; want 1 render and identical answers", s.Renders(), first.Body.String() == second.Body.String())
	}
	etag := first.Header().Get("ETag")
	if rec := get(t, h, "GET", "/feeds/world.atom", map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || s.Renders() != 1 {
		t.Errorf("conditional: %d, %d bytes, renders %d; want 304, empty, 1", rec.Code, rec.Body.Len(), s.Renders())
	}
	gz := get(t, h, "GET", "/feeds/world.atom", map[string]string{"Accept-Encoding": "gzip"})
	if gz.Header().Get("ETag") == etag || gz.Header().Get("Content-Encoding") != "gzip" || s.Renders() != 1 {
		t.Errorf("gzip: etag %s (identity %s), encoding %q, renders %d", gz.Header().Get("ETag"), etag, gz.Header().Get("Content-Encoding"), s.Renders())
	}
	if rec := get(t, h, "HEAD", "/feeds/world.atom", nil); rec.Code != http.StatusOK || rec.Header().Get("ETag") != etag {
		t.Errorf("HEAD: %d %s", rec.Code, rec.Header().Get("ETag"))
	}

	// The store changes: a new story is served after Invalidate.
	f.stories = append(f.stories, wiredesk.Story{ID: 99, GUID: "urn:uuid:99", Published: fixedNow, Updated: fixedNow,
		Primary: wiredesk.Item{ID: 99, Source: testSources()[0].Name, Title: "A newer story", URL: "https://x.example/99"},
		Copies:  []wiredesk.Item{{ID: 99, Source: testSources()[0].Name, Title: "A newer story", URL: "https://x.example/99"}}})
	if get(t, h, "GET", "/feeds/world.atom", nil).Header().Get("ETag") != etag {
		t.Error("served a new render before Invalidate or expiry")
	}
	s.Invalidate()
	changed := get(t, h, "GET", "/feeds/world.atom", nil)
	if changed.Header().Get("ETag") == etag || s.Renders() != 2 {
		t.Errorf("after Invalidate: same ETag %v, renders %d; want a new ETag, 2 renders", changed.Header().Get("ETag") == etag, s.Renders())
	}

	// Expiry, for writers the server does not hear of.
	clock = clock.Add(DefaultCacheMaxAge)
	get(t, h, "GET", "/feeds/world.atom", nil)
	if s.Renders() != 3 {
		t.Errorf("after max age: renders %d, want 3", s.Renders())
	}

	// A reload renders again.
	setTopics(s, s.Topics()...)
	get(t, h, "GET", "/feeds/world.atom", nil)
	if s.Renders() != 4 {
		t.Errorf("after SetConfig: renders %d, want 4", s.Renders())
	}

	// Many requests for a stale feed: one render.
	s.Invalidate()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { get(t, h, "GET", "/feeds/world.atom", nil) })
	}
	wg.Wait()
	if s.Renders() != 5 {
		t.Errorf("20 concurrent requests on a stale feed: renders %d, want 5 (one more)", s.Renders())
	}
}

// TestRenderGap checks that a feed invalidated continuously (a cold cycle
// saving dozens of fetches a second) while readers keep asking for it is
// rendered at most once per renderGapFactor render times, not back to
// back, and that a reader who asks after a change still gets the change.
func TestRenderGap(t *testing.T) {
	const took = 5 * time.Millisecond
	f := &sliceFinder{stories: testStories(), delay: took}
	s := newTestServer(f)
	s.Now = time.Now // the gap is measured in real render times
	h := s.Handler()
	first := get(t, h, "GET", "/feeds/world.atom", nil)

	const busy = 400 * time.Millisecond
	stop := time.Now().Add(busy)
	var wg sync.WaitGroup
	wg.Go(func() {
		for time.Now().Before(stop) {
			s.Invalidate()
			time.Sleep(200 * time.Microsecond)
		}
	})
	for range 8 {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if rec := get(t, h, "GET", "/feeds/world.atom", nil); rec.Code != http.StatusOK {
					t.Errorf("GET during writes: %d", rec.Code)
					return
				}
			}
		})
	}
	wg.Wait()
	// Back to back, 400 ms of renders of 5 ms or more is up to 80; with
	// the gap at least 50 ms, at most 10 (a slower render only widens it).
	if n := s.Renders(); n > 1+int64(busy/(renderGapFactor*took))+1 {
		t.Errorf("%d renders in %v of renders of %v or more; want at most one per %v", n, busy, took, renderGapFactor*took)
	}

	// Right after a render, a change is still served to the next reader:
	// it waits out the gap rather than get the old feed.
	s.Invalidate()
	get(t, h, "GET", "/feeds/world.atom", nil)
	f.stories = append(f.stories, wiredesk.Story{ID: 99, GUID: "urn:uuid:99", Published: fixedNow, Updated: fixedNow,
		Primary: wiredesk.Item{ID: 99, Source: testSources()[0].Name, Title: "A story after the render", URL: "https://x.example/99"},
		Copies:  []wiredesk.Item{{ID: 99, Source: testSources()[0].Name, Title: "A story after the render", URL: "https://x.example/99"}}})
	s.Invalidate()
	if body := get(t, h, "GET", "/feeds/world.atom", nil).Body.String(); !strings.Contains(body, "A story after the render") {
		t.Errorf("the read after a change did not get it (first render %d bytes, this one %d)", first.Body.Len(), len(body))
	}
}

// TestFirstRequestsDoNotWaitTheGap checks that requests queued behind the
// first render of a feed are served that render at once: the gap bounds
// how often a feed is rendered, not how long a fresh one takes to serve.
func TestFirstRequestsDoNotWaitTheGap(t *testing.T) {
	const took = 50 * time.Millisecond // so a gap of maxRenderGap
	f := &sliceFinder{stories: testStories(), delay: took}
	s := newTestServer(f)
	s.Now = time.Now
	h := s.Handler()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var worst time.Duration
	for range 8 {
		wg.Go(func() {
			start := time.Now()
			get(t, h, "GET", "/feeds/world.atom", nil)
			mu.Lock()
			worst = max(worst, time.Since(start))
			mu.Unlock()
		})
	}
	wg.Wait()
	if s.Renders() != 1 || worst >= took+maxRenderGap/2 {
		t.Errorf("8 first requests: %d renders, slowest %v; want 1 render and none waiting out the %v gap", s.Renders(), worst, maxRenderGap)
	}
}
