package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/robfig/cron/v3"

	"github.com/wiredesk/wiredesk"
)

// Limits on numeric settings.
const (
	MaxConcurrency = 256
	MaxPerHost     = 256
	MaxTopicLimit  = 1000
)

var (
	// Source names are stored in the database and shown in feeds; they
	// are compared case-insensitively for uniqueness, so "PTI" and "pti"
	// cannot both exist.
	sourceName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)
	// Topic names become URL paths (/feeds/{name}.rss), so they are kept
	// to characters that need no escaping (RFC 3986 unreserved) and lower
	// case, since paths are case-sensitive.
	topicName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// checker collects problems; each is located later from its field path.
type checker struct{ es Errors }

func (ck *checker) add(field, format string, args ...any) {
	ck.es = append(ck.es, &Error{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (c *Config) validate() Errors {
	var ck checker
	c.validateGlobal(&ck)
	c.validateSources(&ck)
	c.validateTopics(&ck)
	return ck.es
}

func (c *Config) validateGlobal(ck *checker) {
	if strings.TrimSpace(c.Storage.Path) == "" {
		ck.add("storage.path", "must not be empty")
	}
	positive(ck, "storage.max_age", c.Storage.MaxAge)
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		ck.add("server.listen", "invalid address %q: want host:port", c.Server.Listen)
	}
	if err := checkURL(c.Server.BaseURL); err != nil {
		ck.add("server.base_url", "%v", err)
	}
	positive(ck, "server.shutdown_timeout", c.Server.ShutdownTimeout)
	checkCron(ck, "poll.schedule", c.Poll.Schedule)
	inRange(ck, "poll.concurrency", c.Poll.Concurrency, 1, MaxConcurrency)
	positive(ck, "poll.timeout", c.Poll.Timeout)
	if c.Poll.MaxBody <= 0 {
		ck.add("poll.max_body", "must be positive")
	}
	inRange(ck, "poll.per_host", c.Poll.PerHost, 1, MaxPerHost)
	positive(ck, "poll.min_interval", c.Poll.MinInterval)
	positive(ck, "poll.max_interval", c.Poll.MaxInterval)
	if c.Poll.MinInterval > 0 && c.Poll.MaxInterval > 0 && c.Poll.MinInterval > c.Poll.MaxInterval {
		ck.add("poll.max_interval", "must not be shorter than poll.min_interval (%v)", c.Poll.MinInterval)
	}
	if c.Poll.Jitter < 0 {
		ck.add("poll.jitter", "must not be negative")
	}
	if c.Server.PublicURL != "" {
		if err := checkURL(c.Server.PublicURL); err != nil {
			ck.add("server.public_url", "%v", err)
		}
	}
	if c.Publish.WebSubHub != "" {
		if err := checkURL(c.Publish.WebSubHub); err != nil {
			ck.add("publish.websub_hub", "%v", err)
		}
	}
	positive(ck, "websub.lease", c.WebSub.Lease)
	positive(ck, "websub.fallback", c.WebSub.Fallback)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		ck.add("log.level", "unknown level %q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		ck.add("log.format", "unknown format %q: want \"text\" or \"json\"", c.Log.Format)
	}
	positive(ck, "dedupe.window", c.Dedupe.Window)
	// NaN fails both comparisons, so test for the valid range.
	if t := c.Dedupe.Threshold; (c.Dedupe.thresholdSet || t != 0) && !(t > 0 && t <= 1) {
		ck.add("dedupe.threshold", "must be in (0,1], got %v", t)
	}
}

func (c *Config) validateSources(ck *checker) {
	seen := map[string]int{}
	for i, s := range c.Sources {
		f := fmt.Sprintf("source[%d]", i)
		switch {
		case s.Name == "":
			ck.add(f+".name", "missing: every source needs a name")
		case !sourceName.MatchString(s.Name):
			ck.add(f+".name", "invalid name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", s.Name)
		default:
			key := strings.ToLower(s.Name)
			if j, dup := seen[key]; dup {
				ck.add(f+".name", "duplicate name %q: source[%d] already has it", s.Name, j)
			} else {
				seen[key] = i
			}
		}
		if s.FeedURL == "" {
			ck.add(f+".url", "missing: every source needs a feed url")
		} else if err := checkURL(s.FeedURL); err != nil {
			ck.add(f+".url", "%v", err)
		}
		// A schedule inherited from [poll] is reported there, once.
		if s.Schedule != c.Poll.Schedule {
			checkCron(ck, f+".schedule", s.Schedule)
		}
		checkTerms(ck, f+".tags", s.Tags)
	}
}

func (c *Config) validateTopics(ck *checker) {
	seen := map[string]int{}
	for i, t := range c.Topics {
		f := fmt.Sprintf("topic[%d]", i)
		switch {
		case t.Name == "":
			ck.add(f+".name", "missing: every topic needs a name")
		case !topicName.MatchString(t.Name):
			ck.add(f+".name", "invalid name %q: use lower-case letters, digits, '_' and '-', starting with a letter or digit", t.Name)
		default:
			if j, dup := seen[t.Name]; dup {
				ck.add(f+".name", "duplicate name %q: topic[%d] already has it", t.Name, j)
			} else {
				seen[t.Name] = i
			}
		}
		inRange(ck, f+".limit", t.Limit, 1, MaxTopicLimit)
		if t.MinSources < 0 {
			ck.add(f+".min_sources", "must not be negative, got %d", t.MinSources)
		}
		checkTerms(ck, f+".tags", t.Tags)
		checkTerms(ck, f+".include", t.Include)
		checkTerms(ck, f+".exclude", t.Exclude)
		c.validateTopicSelection(ck, f, t)
	}
}

// validateTopicSelection rejects a topic that could never hold a story:
// one that selects nothing, names a source that does not exist, or whose
// tags no source carries. An empty feed is more likely a typo than a wish.
func (c *Config) validateTopicSelection(ck *checker, f string, t wiredesk.Topic) {
	if len(t.Tags) == 0 && len(t.Sources) == 0 {
		ck.add(f, "selects nothing: give the topic tags, sources or both")
		return
	}
	for j, name := range t.Sources {
		if _, ok := c.Source(name); ok {
			continue
		}
		msg := fmt.Sprintf("unknown source %q", name)
		for _, s := range c.Sources {
			if strings.EqualFold(s.Name, name) {
				msg += fmt.Sprintf(" (did you mean %q? names are matched exactly)", s.Name)
			}
		}
		ck.add(fmt.Sprintf("%s.sources[%d]", f, j), "%s", msg)
	}
	if len(t.Sources) == 0 && len(t.SourceNames(c.Sources)) == 0 {
		ck.add(f+".tags", "no source carries any of the tags %q, so the topic would always be empty", t.Tags)
	}
}

func checkTerms(ck *checker, field string, terms []string) {
	for j, term := range terms {
		if strings.TrimSpace(term) == "" {
			ck.add(fmt.Sprintf("%s[%d]", field, j), "must not be empty")
		}
	}
}

// checkURL accepts absolute http and https URLs with a host: the only
// schemes a feed reader can be expected to fetch.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL; keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("invalid url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return fmt.Errorf("invalid url %q: must be absolute, starting with http:// or https://", raw)
		}
		return fmt.Errorf("invalid url %q: scheme %q is not http or https", raw, u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("invalid url %q: no host", raw)
	}
	return nil
}

func checkCron(ck *checker, field, expr string) {
	if expr == "" {
		ck.add(field, "missing cron expression")
		return
	}
	if _, err := cron.ParseStandard(expr); err != nil {
		ck.add(field, "invalid cron expression %q: %v", expr, err)
	}
}

func positive[T ~int64](ck *checker, field string, d T) {
	if d <= 0 {
		ck.add(field, "must be positive")
	}
}

func inRange(ck *checker, field string, n, lo, hi int) {
	if n < lo || n > hi {
		ck.add(field, "must be in %d..%d, got %d", lo, hi, n)
	}
}
