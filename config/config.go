// Package config reads wiredesk's TOML configuration into a Config.
//
// It owns the file format, its defaults and its validation: Parse fills in
// defaults, decodes strictly (an unknown key is an error), then checks
// every value and reports all problems at once, each with its line and
// field path (source[2].schedule). It does not open the database, fetch
// feeds or schedule anything; it only says what the user asked for.
//
// The cron library is imported here only to validate schedules, so that a
// bad expression is reported with its line at load time instead of when
// the poller starts.
package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/wiredesk/wiredesk"
)

// Defaults applied before decoding; see config.example.toml for what each
// setting means.
const (
	DefaultStoragePath     = "wiredesk.db"
	DefaultMaxAge          = 30 * 24 * time.Hour
	DefaultListen          = "127.0.0.1:8080"
	DefaultShutdownTimeout = 10 * time.Second
	DefaultSchedule        = "*/15 * * * *"
	DefaultConcurrency     = 8
	DefaultTimeout         = 30 * time.Second
	DefaultMaxBody         = 10 << 20 // 10MB
	DefaultPerHost         = 2
	DefaultDedupeWindow    = 72 * time.Hour
	DefaultTopicLimit      = 50
	DefaultMinInterval     = 5 * time.Minute
	DefaultMaxInterval     = 24 * time.Hour
	DefaultJitter          = time.Minute
	DefaultWebSubLease     = 7 * 24 * time.Hour
	DefaultPushFallback    = 6 * time.Hour
	DefaultLogLevel        = "info"
)

// Config is a loaded, validated configuration.
type Config struct {
	Path    string // the file it was loaded from ("" when parsed from a reader without a name)
	Storage Storage
	Server  Server
	Poll    Poll
	Dedupe  Dedupe
	Publish Publish
	WebSub  WebSub
	Log     Log
	Sources []wiredesk.Source // Schedule filled with Poll.Schedule when empty
	Topics  []wiredesk.Topic  // Title and Limit defaulted
}

// Storage is the [storage] table.
type Storage struct {
	// Path is the SQLite file. Load makes a relative path absolute against
	// the config file's directory; Parse leaves it as written.
	Path   string
	MaxAge time.Duration // items older than this are pruned
}

// Server is the [server] table.
type Server struct {
	Listen          string // host:port the HTTP server binds
	BaseURL         string // absolute http(s) URL feeds link back to, without a trailing slash
	ShutdownTimeout time.Duration
	// PublicURL is where a WebSub hub can reach this server to deliver
	// pushed content, without a trailing slash; "" disables subscribing.
	PublicURL string
}

// Poll is the [poll] table.
type Poll struct {
	Schedule    string        // default cron schedule for sources
	Concurrency int           // fetches in flight at once
	Timeout     time.Duration // total deadline of one fetch
	MaxBody     int64         // response body cap in bytes
	PerHost     int           // fetches in flight at once per host
	// Adaptive lets the poller move a source's next poll between
	// MinInterval and MaxInterval by how often it brings new items.
	Adaptive    bool
	MinInterval time.Duration
	MaxInterval time.Duration
	// Jitter is the largest delay added to a scheduled poll, fixed per
	// source, so that sources sharing a schedule do not fire at once.
	Jitter time.Duration
}

// Publish is the [publish] table.
type Publish struct {
	// WebSubHub is the hub the topic feeds advertise and ping on change;
	// "" disables it.
	WebSubHub string
}

// WebSub is the [websub] table: the subscriber side.
type WebSub struct {
	Lease time.Duration // lease asked of hubs
	// Fallback is the interval sources with a live subscription are still
	// polled at, in case the hub stops delivering.
	Fallback time.Duration
}

// Log is the [log] table.
type Log struct {
	Level  string // debug, info, warn or error
	Format string // "text", "json", or "" for JSON unless stderr is a terminal
}

// Dedupe is the [dedupe] table.
type Dedupe struct {
	Enabled bool
	Window  time.Duration // how far back a copy is compared with earlier stories
	// Threshold is the share of the shorter text two copies must have in
	// common, in (0,1]; 0 means the detector's measured default.
	Threshold float64

	thresholdSet bool // written in the file, so validated
}

// Default returns the configuration an empty file yields.
func Default() *Config {
	return &Config{
		Storage: Storage{Path: DefaultStoragePath, MaxAge: DefaultMaxAge},
		Server: Server{
			Listen:          DefaultListen,
			BaseURL:         DefaultBaseURL(DefaultListen),
			ShutdownTimeout: DefaultShutdownTimeout,
		},
		Poll: Poll{
			Schedule:    DefaultSchedule,
			Concurrency: DefaultConcurrency,
			Timeout:     DefaultTimeout,
			MaxBody:     DefaultMaxBody,
			PerHost:     DefaultPerHost,
			MinInterval: DefaultMinInterval,
			MaxInterval: DefaultMaxInterval,
			Jitter:      DefaultJitter,
		},
		Dedupe: Dedupe{Enabled: true, Window: DefaultDedupeWindow},
		WebSub: WebSub{Lease: DefaultWebSubLease, Fallback: DefaultPushFallback},
		Log:    Log{Level: DefaultLogLevel},
	}
}

// Load reads and parses the file at path, then resolves a relative
// storage path against the file's directory, so the database is found
// whatever the working directory of cron or systemd.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	c, err := Parse(path, f)
	if err != nil {
		return nil, err
	}
	c.Storage.Path, err = resolvePath(filepath.Dir(path), c.Storage.Path)
	if err != nil {
		return nil, fmt.Errorf("resolve storage path: %w", err)
	}
	return c, nil
}

// resolvePath makes p absolute against dir. SQLite's special names
// (":memory:", "file:" URIs) are left alone.
func resolvePath(dir, p string) (string, error) {
	if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "file:") {
		return p, nil
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Abs(p)
}

// Parse reads a configuration from r. name is used in error messages and
// as Config.Path. The error, if any, is an Errors listing every problem
// found; a syntax or type error stops decoding, so it comes alone.
func Parse(name string, r io.Reader) (*Config, error) {
	return parse(name, r, true)
}

// Decode reads a configuration from r as Parse does, but checks only what
// decoding needs (syntax, types, values that must convert), not how the
// settings fit together: a topic whose tags no source carries yet is let
// through. It is for tools that add to a config and validate the result
// with Parse, such as opml import filling a config that has topics and
// no sources yet.
func Decode(name string, r io.Reader) (*Config, error) {
	return parse(name, r, false)
}

func parse(name string, r io.Reader, validate bool) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	idx := newPosIndex(data)
	raw := defaultRaw()
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(raw); err != nil {
		es := decodeErrors(name, idx, err)
		sortErrors(es)
		return nil, es
	}
	c, es := raw.convert()
	c.Path = name
	if validate {
		es = appendNew(es, c.validate())
	}
	if len(es) > 0 {
		for _, e := range es {
			e.File = name
			e.Line, e.Column = idx.lookup(e.Field)
		}
		sortErrors(es)
		return nil, es
	}
	return c, nil
}

// appendNew adds the problems of fields not yet reported: a duration that
// could not be read is zero, and "must be positive" would only repeat it.
func appendNew(es, more Errors) Errors {
	seen := map[string]bool{}
	for _, e := range es {
		seen[e.Field] = true
	}
	for _, e := range more {
		if !seen[e.Field] {
			es = append(es, e)
		}
	}
	return es
}

// Validate checks a Config built or changed in code, reporting every
// problem with its field path. Parse already calls it.
func (c *Config) Validate() error {
	es := c.validate()
	for _, e := range es {
		e.File = c.Path
	}
	if len(es) > 0 {
		return es
	}
	return nil
}

// Source returns the source called name.
func (c *Config) Source(name string) (wiredesk.Source, bool) {
	for _, s := range c.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return wiredesk.Source{}, false
}

// Topic returns the topic called name.
func (c *Config) Topic(name string) (wiredesk.Topic, bool) {
	for _, t := range c.Topics {
		if t.Name == name {
			return t, true
		}
	}
	return wiredesk.Topic{}, false
}
