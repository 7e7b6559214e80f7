package config

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/wiredesk/wiredesk"
)

// rawConfig mirrors the file. Durations and sizes stay strings here so
// that a bad one is reported by validation, with every other problem,
// instead of stopping the decoder.
type rawConfig struct {
	Storage struct {
		Path   string `toml:"path"`
		MaxAge string `toml:"max_age"`
	} `toml:"storage"`
	Server struct {
		Listen          string `toml:"listen"`
		BaseURL         string `toml:"base_url"`
		ShutdownTimeout string `toml:"shutdown_timeout"`
		PublicURL       string `toml:"public_url"`
	} `toml:"server"`
	Poll struct {
		Schedule    string `toml:"schedule"`
		Concurrency int    `toml:"concurrency"`
		Timeout     string `toml:"timeout"`
		MaxBody     any    `toml:"max_body"` // "10MB" or a plain integer of bytes
		PerHost     int    `toml:"per_host"`
		Adaptive    bool   `toml:"adaptive"`
		MinInterval string `toml:"min_interval"`
		MaxInterval string `toml:"max_interval"`
		Jitter      string `toml:"jitter"`
	} `toml:"poll"`
	Dedupe struct {
		Enabled   bool     `toml:"enabled"`
		Window    string   `toml:"window"`
		Threshold *float64 `toml:"threshold"` // nil: not written, so the measured default
	} `toml:"dedupe"`
	Publish struct {
		WebSubHub string `toml:"websub_hub"`
	} `toml:"publish"`
	WebSub struct {
		Lease    string `toml:"lease"`
		Fallback string `toml:"fallback"`
	} `toml:"websub"`
	Log struct {
		Level  string `toml:"level"`
		Format string `toml:"format"`
	} `toml:"log"`
	Sources []rawSource `toml:"source"`
	Topics  []rawTopic  `toml:"topic"`
}

type rawSource struct {
	Name     string   `toml:"name"`
	URL      string   `toml:"url"`
	Schedule string   `toml:"schedule"`
	Tags     []string `toml:"tags"`
	Priority int      `toml:"priority"`
}

type rawTopic struct {
	Name        string   `toml:"name"`
	Title       string   `toml:"title"`
	Description string   `toml:"description"`
	Tags        []string `toml:"tags"`
	Sources     []string `toml:"sources"`
	Include     []string `toml:"include"`
	Exclude     []string `toml:"exclude"`
	Limit       *int     `toml:"limit"` // nil: not written, so defaulted
	MinSources  int      `toml:"min_sources"`
}

// defaultRaw sets the defaults of the top-level tables before decoding, so
// a key the file leaves out keeps its default. Array elements ([[source]],
// [[topic]]) are created by the decoder and defaulted in convert.
func defaultRaw() *rawConfig {
	d := Default()
	r := &rawConfig{}
	r.Storage.Path = d.Storage.Path
	r.Storage.MaxAge = "720h"
	r.Server.Listen = d.Server.Listen
	r.Server.ShutdownTimeout = d.Server.ShutdownTimeout.String()
	r.Poll.Schedule = d.Poll.Schedule
	r.Poll.Concurrency = d.Poll.Concurrency
	r.Poll.Timeout = d.Poll.Timeout.String()
	r.Poll.MaxBody = "10MB"
	r.Poll.PerHost = d.Poll.PerHost
	r.Poll.MinInterval = d.Poll.MinInterval.String()
	r.Poll.MaxInterval = d.Poll.MaxInterval.String()
	r.Poll.Jitter = d.Poll.Jitter.String()
	r.WebSub.Lease = d.WebSub.Lease.String()
	r.WebSub.Fallback = d.WebSub.Fallback.String()
	r.Log.Level = d.Log.Level
	r.Dedupe.Enabled = d.Dedupe.Enabled
	r.Dedupe.Window = d.Dedupe.Window.String()
	return r
}

// convert builds the Config, reporting values that cannot be read at all
// (durations, sizes); range and cross-reference checks are validate's.
func (r *rawConfig) convert() (*Config, Errors) {
	var es Errors
	c := &Config{}
	dur := func(field, s string) time.Duration {
		d, err := parseDuration(s)
		if err != nil {
			es = append(es, &Error{Field: field, Msg: err.Error()})
		}
		return d
	}
	// dur0 accepts "0" (and "0s"): jitter can be switched off.
	dur0 := func(field, s string) time.Duration {
		if t := strings.TrimSpace(s); t == "0" {
			return 0
		}
		return dur(field, s)
	}
	c.Storage = Storage{Path: r.Storage.Path, MaxAge: dur("storage.max_age", r.Storage.MaxAge)}
	c.Server = Server{
		Listen:          r.Server.Listen,
		BaseURL:         strings.TrimSuffix(r.Server.BaseURL, "/"),
		ShutdownTimeout: dur("server.shutdown_timeout", r.Server.ShutdownTimeout),
		PublicURL:       strings.TrimSuffix(r.Server.PublicURL, "/"),
	}
	if c.Server.BaseURL == "" {
		c.Server.BaseURL = DefaultBaseURL(c.Server.Listen)
	}
	maxBody, err := parseSize(r.Poll.MaxBody)
	if err != nil {
		es = append(es, &Error{Field: "poll.max_body", Msg: err.Error()})
	}
	c.Poll = Poll{
		Schedule:    r.Poll.Schedule,
		Concurrency: r.Poll.Concurrency,
		Timeout:     dur("poll.timeout", r.Poll.Timeout),
		MaxBody:     maxBody,
		PerHost:     r.Poll.PerHost,
		Adaptive:    r.Poll.Adaptive,
		MinInterval: dur("poll.min_interval", r.Poll.MinInterval),
		MaxInterval: dur("poll.max_interval", r.Poll.MaxInterval),
		Jitter:      dur0("poll.jitter", r.Poll.Jitter),
	}
	c.Publish = Publish{WebSubHub: r.Publish.WebSubHub}
	c.WebSub = WebSub{
		Lease:    dur("websub.lease", r.WebSub.Lease),
		Fallback: dur("websub.fallback", r.WebSub.Fallback),
	}
	c.Log = Log{
		Level:  strings.ToLower(strings.TrimSpace(r.Log.Level)),
		Format: strings.ToLower(strings.TrimSpace(r.Log.Format)),
	}
	c.Dedupe = Dedupe{
		Enabled: r.Dedupe.Enabled,
		Window:  dur("dedupe.window", r.Dedupe.Window),
	}
	if r.Dedupe.Threshold != nil {
		c.Dedupe.Threshold = *r.Dedupe.Threshold
		c.Dedupe.thresholdSet = true
	}
	c.Sources = convertSources(r.Sources, c.Poll.Schedule)
	c.Topics = convertTopics(r.Topics)
	return c, es
}

func convertSources(raw []rawSource, schedule string) []wiredesk.Source {
	var out []wiredesk.Source
	for _, s := range raw {
		src := wiredesk.Source{
			Name:     s.Name,
			FeedURL:  s.URL,
			Schedule: s.Schedule,
			Tags:     s.Tags,
			Priority: s.Priority,
		}
		if src.Schedule == "" {
			src.Schedule = schedule
		}
		out = append(out, src)
	}
	return out
}

func convertTopics(raw []rawTopic) []wiredesk.Topic {
	var out []wiredesk.Topic
	for _, t := range raw {
		topic := wiredesk.Topic{
			Name:        t.Name,
			Title:       t.Title,
			Description: t.Description,
			Tags:        t.Tags,
			Sources:     t.Sources,
			Include:     t.Include,
			Exclude:     t.Exclude,
			MinSources:  t.MinSources,
			Limit:       DefaultTopicLimit,
		}
		if topic.Title == "" {
			topic.Title = topic.Name
		}
		if t.Limit != nil {
			topic.Limit = *t.Limit
		}
		out = append(out, topic)
	}
	return out
}

// DefaultBaseURL derives the public URL from the listen address; a
// wildcard or missing host is not something a reader can fetch, so
// localhost stands in for it.
func DefaultBaseURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(host, port))
}
