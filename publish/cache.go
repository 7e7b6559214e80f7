package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheMaxAge bounds how long a rendered feed is served without
// looking at the store again. The daemon invalidates the cache whenever a
// poll stores something, so this only matters for writes it does not see
// (a `wiredesk poll` run from cron against the same database).
const DefaultCacheMaxAge = 30 * time.Second

// A stale feed is rendered again no sooner than renderGapFactor times its
// last render's duration after it: while a cold cycle saves dozens of
// fetches a second, each invalidating the cache, busy readers would
// otherwise keep one render running all the time and take a core from
// the writer. The request that renders waits out the gap (maxRenderGap
// at most), so a client that reads after a change still gets the change;
// the requests that arrive meanwhile get the previous render.
const (
	renderGapFactor = 10
	maxRenderGap    = 250 * time.Millisecond
)

// rendered is one topic feed in one format, ready to serve: rendered once
// per change, gzipped once, each representation with its strong ETag.
type rendered struct {
	body, gz     []byte
	etag, gzETag string
	updated      time.Time
	gen          uint64
	made         time.Time
	gap          time.Duration // the least time before the next render
}

// feedCache holds the rendered feeds. Requests for a stale entry render
// it once: the first takes the key's lock and renders, the others wait
// for it and serve what it made.
type feedCache struct {
	gen atomic.Uint64 // bumped by Invalidate and SetConfig

	mu      sync.Mutex
	entries map[cacheKey]*rendered
	locks   map[cacheKey]*sync.Mutex
	renders atomic.Int64 // renders done, for tests and benchmarks
}

type cacheKey struct {
	topic  string
	format Format
}

// Invalidate marks every rendered feed stale: the next request renders it
// again. Call it when the store changed.
func (s *Server) Invalidate() { s.cache.gen.Add(1) }

// Renders reports how many feeds the server has rendered for requests.
func (s *Server) Renders() int64 { return s.cache.renders.Load() }

func (s *Server) maxAge() time.Duration {
	if s.CacheMaxAge != 0 {
		return s.CacheMaxAge
	}
	return DefaultCacheMaxAge
}

func (c *feedCache) fresh(k cacheKey, gen uint64, now time.Time, maxAge time.Duration) *rendered {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[k]
	if e == nil || e.gen != gen || (maxAge > 0 && now.Sub(e.made) >= maxAge) {
		return nil
	}
	return e
}

// last is the entry for k, fresh or not.
func (c *feedCache) last(k cacheKey) *rendered {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[k]
}

func (c *feedCache) lock(k cacheKey) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locks == nil {
		c.locks = map[cacheKey]*sync.Mutex{}
		c.entries = map[cacheKey]*rendered{}
	}
	l := c.locks[k]
	if l == nil {
		l = &sync.Mutex{}
		c.locks[k] = l
	}
	return l
}

func (c *feedCache) store(k cacheKey, e *rendered) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[k] = e
}

// drop forgets the feeds of topics no longer configured.
func (c *feedCache) drop(keep func(topic string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if !keep(k.topic) {
			delete(c.entries, k)
			delete(c.locks, k)
		}
	}
}

// cached returns the topic's feed in format f, rendering it if the cached
// one is stale. The generation is read before rendering, so a change
// that lands during the render leaves the entry stale for the next one.
func (s *Server) cached(ctx context.Context, topic string, f Format) (*rendered, error) {
	k := cacheKey{topic, f}
	now := s.now()
	gen := s.cache.gen.Load()
	if e := s.cache.fresh(k, gen, now, s.maxAge()); e != nil {
		return e, nil
	}
	l := s.cache.lock(k)
	if !l.TryLock() {
		// Another request is rendering this feed: serve the previous
		// render meanwhile (stale by at most one change) rather than
		// queue behind it; a first render has nothing to serve, so waits.
		if e := s.cache.last(k); e != nil {
			return e, nil
		}
		l.Lock()
	}
	defer l.Unlock()
	if e := s.cache.fresh(k, s.cache.gen.Load(), s.now(), s.maxAge()); e != nil {
		return e, nil // rendered by the request we waited for, or just before
	}
	if prev := s.cache.last(k); prev != nil {
		if wait := prev.made.Add(prev.gap).Sub(s.now()); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return prev, nil // the client is gone; nothing to render for
			}
		}
	}
	// Read after the wait: a change that landed meanwhile is in this render.
	gen = s.cache.gen.Load()
	start := s.now()
	body, updated, err := s.Render(ctx, topic, f)
	if err != nil {
		return nil, err
	}
	s.cache.renders.Add(1)
	made := s.now()
	if s.OnRender != nil {
		s.OnRender(f, made.Sub(start))
	}
	e := &rendered{body: body, updated: updated, gen: gen, made: made, etag: etagOf(body),
		gap: min(renderGapFactor*made.Sub(start), maxRenderGap)}
	if gz, err := gzipBytes(body); err == nil {
		e.gz, e.gzETag = gz, e.etag+"-gzip"
	}
	s.cache.store(k, e)
	return e, nil
}

// etagOf is a strong validator for body (RFC 9110 §8.8.3).
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:16])
}
