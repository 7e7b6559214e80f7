// Package publish republishes curated topics: it selects a topic's stories
// through StoryFinder, renders them as RSS 2.0, Atom 1.0 (RFC 4287) and
// JSON Feed 1.1 on top of gorilla/feeds, and serves them over HTTP with
// validators (RFC 9110 §8.8, §13) and gzip, next to an index page, an OPML
// subscription list and a health check. WriteFiles renders the same
// documents to a directory for static hosting.
//
// publish knows nothing of SQL, polling or deduplication: it reads stories
// through the small interface it declares and treats every piece of
// publisher HTML as hostile, sanitising it before it leaves the process.
package publish

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wiredesk/wiredesk"
)

// StoryFinder lists stories newest first; *store.DB satisfies it.
type StoryFinder interface {
	Stories(ctx context.Context, f wiredesk.StoryFilter) ([]wiredesk.Story, error)
}

// DefaultLimit is the number of entries in a topic whose Limit is not set.
const DefaultLimit = 50

// Server renders and serves the configured topics. Create it with
// NewServer (it needs the StoryFinder); set its exported fields before
// calling Handler or WriteFiles and do not change them afterwards. The
// topics and sources are the exception: SetConfig replaces them at any
// time, for a configuration reload.
type Server struct {
	BaseURL string // absolute, no trailing slash needed
	// Health reports whether the daemon is healthy; nil means always.
	// /healthz answers 503 with the error text when it returns an error.
	Health func(ctx context.Context) error
	// HealthTimeout bounds one Health call; a probe that hangs fails.
	HealthTimeout time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
	// States, when set, gives the status page each source's polling state.
	States StateLister
	// Hub is the WebSub hub every topic feed advertises; "" for none.
	Hub string
	// OnRender, when set, is told how long each render the feed cache
	// made took (not the answers served from it), for a render-time
	// metric. It must not block.
	OnRender func(f Format, d time.Duration)
	// CacheMaxAge bounds how long a rendered feed is served without
	// asking the store again; 0 means DefaultCacheMaxAge, negative never
	// expires (only Invalidate and SetConfig make feeds stale).
	CacheMaxAge time.Duration

	cache feedCache

	finder StoryFinder

	// cfg is replaced whole by SetConfig and never mutated, so a request
	// that loaded it sees one consistent set of topics and sources even
	// if a reload lands halfway through rendering.
	cfg atomic.Pointer[serverConfig]

	startOnce sync.Once
	started   time.Time // when the server first rendered; the OPML's dateCreated
}

// startTime is fixed on first use, so the OPML document, and its ETag,
// stay the same for the life of the process.
func (s *Server) startTime() time.Time {
	s.startOnce.Do(func() { s.started = s.now() })
	return s.started
}

// NewServer returns a Server reading stories from finder, with a default
// logger and the wall clock.
func NewServer(finder StoryFinder, topics []wiredesk.Topic, sources []wiredesk.Source, baseURL string) *Server {
	s := &Server{
		BaseURL:       baseURL,
		Logger:        slog.Default(),
		HealthTimeout: 2 * time.Second,
		Now:           time.Now,
		finder:        finder,
	}
	s.SetConfig(topics, sources)
	return s
}

// serverConfig is one generation of the configured topics and sources.
type serverConfig struct {
	topics  []wiredesk.Topic
	sources []wiredesk.Source
}

// SetConfig replaces the topics and sources at runtime; safe while serving.
// Requests already rendering finish with the previous set; later ones see
// the new one. The slices are copied, so the caller may reuse them.
func (s *Server) SetConfig(topics []wiredesk.Topic, sources []wiredesk.Source) {
	s.cfg.Store(&serverConfig{topics: slices.Clone(topics), sources: slices.Clone(sources)})
	// Topics and sources decide what a feed holds: render again.
	s.cache.gen.Add(1)
	s.cache.drop(func(topic string) bool {
		return slices.ContainsFunc(topics, func(t wiredesk.Topic) bool { return t.Name == topic })
	})
}

// config returns the current topics and sources. Callers must not modify
// the slices: other requests share them.
func (s *Server) config() *serverConfig {
	if c := s.cfg.Load(); c != nil {
		return c
	}
	return &serverConfig{}
}

// Topics returns a copy of the topics currently served.
func (s *Server) Topics() []wiredesk.Topic {
	return slices.Clone(s.config().topics)
}

// Handler returns the HTTP routes:
//
//	GET /                     index page with autodiscovery links
//	GET /feeds/{topic}.rss    RSS 2.0
//	GET /feeds/{topic}.atom   Atom 1.0
//	GET /feeds/{topic}.json   JSON Feed 1.1
//	GET /opml                 OPML 2.0 subscription list
//	GET /healthz              200 "ok" or 503
//
// GET patterns also answer HEAD.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /feeds/{file}", s.serveFeed)
	mux.HandleFunc("GET /opml", s.serveOPML)
	mux.HandleFunc("GET /healthz", s.serveHealth)
	return mux
}

// topic returns the configured topic called name.
func (c *serverConfig) topic(name string) (wiredesk.Topic, error) {
	for _, t := range c.topics {
		if t.Name == name {
			return t, nil
		}
	}
	return wiredesk.Topic{}, fmt.Errorf("topic %q: %w", name, wiredesk.ErrNotFound)
}

func (s *Server) baseURL() string {
	return strings.TrimRight(s.BaseURL, "/")
}

// homeURL is the page a feed's alternate link points at.
func (s *Server) homeURL() string {
	return s.baseURL() + "/"
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}
