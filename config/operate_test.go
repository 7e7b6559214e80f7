package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestOperateSettings covers the [poll] adaptive keys, [publish],
// [websub], [log] and [server] public_url: values read as written, and
// each bad one reported at its own field and line.
func TestOperateSettings(t *testing.T) {
	const good = `
[server]
public_url = "https://desk.example.org/"
[poll]
adaptive = true
min_interval = "10m"
max_interval = "2d"
jitter = "0"
[publish]
websub_hub = "https://hub.example.org/"
[websub]
lease = "1d"
fallback = "12h"
[log]
level = "DEBUG"
format = "text"
`
	c, err := Parse("good.toml", strings.NewReader(good))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Server.PublicURL != "https://desk.example.org" {
		t.Errorf("public_url: got %q", c.Server.PublicURL)
	}
	if !c.Poll.Adaptive || c.Poll.MinInterval != 10*time.Minute || c.Poll.MaxInterval != 48*time.Hour || c.Poll.Jitter != 0 {
		t.Errorf("poll: got %+v", c.Poll)
	}
	if c.Publish.WebSubHub != "https://hub.example.org/" {
		t.Errorf("websub_hub: got %q", c.Publish.WebSubHub)
	}
	if c.WebSub.Lease != 24*time.Hour || c.WebSub.Fallback != 12*time.Hour {
		t.Errorf("websub: got %+v", c.WebSub)
	}
	if c.Log.Level != "debug" || c.Log.Format != "text" {
		t.Errorf("log: got %+v", c.Log)
	}

	bad := []struct {
		name, doc, field, msg string
		line                  int
	}{
		{"public_url", "[server]\npublic_url = \"ftp://x\"\n", "server.public_url", "scheme", 2},
		{"min_interval", "[poll]\nmin_interval = \"soon\"\n", "poll.min_interval", "invalid duration", 2},
		{"max_below_min", "[poll]\nmin_interval = \"2h\"\nmax_interval = \"1h\"\n", "poll.max_interval", "shorter than poll.min_interval", 3},
		{"jitter", "[poll]\njitter = \"-1m\"\n", "poll.jitter", "negative", 2},
		{"hub", "[publish]\nwebsub_hub = \"hub.example.org\"\n", "publish.websub_hub", "absolute", 2},
		{"lease", "[websub]\nlease = \"0s\"\n", "websub.lease", "positive", 2},
		{"level", "[log]\nlevel = \"loud\"\n", "log.level", "unknown level", 2},
		{"format", "[log]\nformat = \"xml\"\n", "log.format", "unknown format", 2},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.toml", strings.NewReader(tc.doc))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("got %v, want Errors", err)
			}
			e := findField(es, tc.field)
			if e == nil {
				t.Fatalf("no error at %s: %v", tc.field, err)
			}
			if !strings.Contains(e.Msg, tc.msg) || e.Line != tc.line {
				t.Errorf("got %q at line %d, want %q at line %d", e.Msg, e.Line, tc.msg, tc.line)
			}
		})
	}
}
