package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

// TestExample keeps config.example.toml loadable and its content as
// documented, so the file users start from cannot rot.
func TestExample(t *testing.T) {
	c, err := Load("../config.example.toml")
	if err != nil {
		t.Fatalf("Load example: %v", err)
	}
	if got, want := len(c.Sources), 8; got != want {
		t.Errorf("sources: got %d, want %d", got, want)
	}
	if got, want := len(c.Topics), 4; got != want {
		t.Errorf("topics: got %d, want %d", got, want)
	}
	abs, _ := filepath.Abs("../wiredesk.db")
	if c.Storage.Path != abs {
		t.Errorf("storage path: got %q, want %q", c.Storage.Path, abs)
	}
	if c.Storage.MaxAge != 30*24*time.Hour {
		t.Errorf("max_age: got %v, want 720h", c.Storage.MaxAge)
	}
	if c.Server.Listen != "127.0.0.1:8080" {
		t.Errorf("listen: got %q", c.Server.Listen)
	}
	x, ok := c.Source("xinhua")
	if !ok || x.Priority != 10 || x.Schedule != c.Poll.Schedule {
		t.Errorf("xinhua: got %+v, %v; want priority 10 and the poll schedule", x, ok)
	}
	if p, _ := c.Source("pti"); p.Schedule != "@every 10m" {
		t.Errorf("pti schedule: got %q, want @every 10m", p.Schedule)
	}
	for _, topic := range c.Topics {
		if len(topic.SourceNames(c.Sources)) == 0 {
			t.Errorf("topic %s selects no source", topic.Name)
		}
	}
	if d, ok := c.Topic("defence"); !ok || !slices.Contains(d.Exclude, "cricket") || d.Limit != 30 {
		t.Errorf("defence topic: got %+v, %v", d, ok)
	}
}

func TestBadFiles(t *testing.T) {
	tests := []struct {
		file  string
		field string
		line  int
		msg   string // a fragment of the message
	}{
		{"unknown_key.toml", "poll.intervall", 3, "unknown key"},
		{"unknown_key_source.toml", "source[1].nmae", 6, "unknown key"},
		{"unknown_table.toml", "storge", 4, "unknown table"},
		{"wrong_type_int.toml", "poll.concurrency", 2, "want integer, got string"},
		{"wrong_type_tags.toml", "source[1].tags", 9, "want array of strings, got string"},
		{"wrong_type_inline.toml", "source[1].tags[0]", 3, "wrong type"},
		{"syntax.toml", "poll.timeout", 6, "syntax error"},
		{"duplicate_key.toml", "topic[0].limit", 5, "already defined"},
		{"bad_cron_source.toml", "source[2].schedule", 12, `invalid cron expression "*/x * * * *"`},
		{"bad_cron_poll.toml", "poll.schedule", 2, "invalid cron expression"},
		{"url_relative.toml", "source[0].url", 3, "must be absolute"},
		{"url_ftp.toml", "source[0].url", 3, `scheme "ftp"`},
		{"url_no_host.toml", "source[0].url", 3, "no host"},
		{"url_unparsable.toml", "source[0].url", 3, "invalid URL escape"},
		{"base_url_relative.toml", "server.base_url", 3, "must be absolute"},
		{"listen_bad.toml", "server.listen", 2, "host:port"},
		{"bad_duration.toml", "poll.timeout", 2, `invalid duration "30 seconds"`},
		{"bad_duration_days.toml", "storage.max_age", 2, "invalid duration"},
		{"negative_duration.toml", "dedupe.window", 2, "must be positive"},
		{"bad_size.toml", "poll.max_body", 2, `invalid size "10 parsecs"`},
		{"bad_size_type.toml", "poll.max_body", 2, "got boolean"},
		{"duplicate_source.toml", "source[1].name", 6, `duplicate name "PTI": source[0]`},
		{"duplicate_topic.toml", "topic[1].name", 10, "duplicate name"},
		{"topic_unknown_source.toml", "topic[0].sources[1]", 9, `unknown source "ians"`},
		{"topic_no_selection.toml", "topic[0]", 5, "selects nothing"},
		{"topic_tags_match_nothing.toml", "topic[0].tags", 8, "always be empty"},
		{"topic_bad_name.toml", "topic[0].name", 6, "invalid name"},
		{"source_bad_name.toml", "source[0].name", 2, "invalid name"},
		{"concurrency_range.toml", "poll.concurrency", 2, "must be in 1..256, got 0"},
		{"per_host_range.toml", "poll.per_host", 2, "must be in 1..256"},
		{"topic_limit_range.toml", "topic[0].limit", 8, "must be in 1..1000"},
		{"threshold_range.toml", "dedupe.threshold", 2, "(0,1]"},
		{"min_sources_negative.toml", "topic[0].min_sources", 9, "must not be negative"},
		{"missing_source_name.toml", "source[1].name", 5, "missing"},
		{"missing_source_url.toml", "source[0].url", 1, "missing"},
		{"missing_topic_name.toml", "topic[0].name", 5, "missing"},
		{"empty_tag.toml", "source[0].tags[1]", 4, "must not be empty"},
		{"empty_storage_path.toml", "storage.path", 2, "must not be empty"},
	}
	listed := map[string]bool{}
	for _, tt := range tests {
		listed[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tt.file)
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load: got nil error")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %v (%T) is not Errors", err, err)
			}
			e := findField(es, tt.field)
			if e == nil {
				t.Fatalf("no error names field %q; got:\n%v", tt.field, err)
			}
			if e.Line != tt.line || e.File != path {
				t.Errorf("position: got %s:%d, want %s:%d", e.File, e.Line, path, tt.line)
			}
			if !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("message: got %q, want it to contain %q", e.Msg, tt.msg)
			}
		})
	}
	// Every fixture must be checked by a row, or it tests nothing.
	files, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.toml"))
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s has no row in the table", f)
		}
	}
}

func findField(es Errors, field string) *Error {
	for _, e := range es {
		if e.Field == field {
			return e
		}
	}
	return nil
}

// TestManyProblems checks that validation reports every problem, in file
// order, rather than stopping at the first.
func TestManyProblems(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "many_problems.toml"))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %v, want Errors", err)
	}
	want := []struct {
		field string
		line  int
	}{
		{"storage.max_age", 2},
		{"poll.schedule", 5},
		{"poll.concurrency", 6},
		{"dedupe.window", 9},
		{"source[0].url", 13},
		{"source[1].name", 16},
		{"source[1].schedule", 18},
		{"topic[0].sources[0]", 22},
		{"topic[0].limit", 23},
		{"topic[1].name", 26},
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Field)
	}
	if len(es) != len(want) {
		t.Fatalf("got %d errors %q, want %d:\n%v", len(es), got, len(want), err)
	}
	for i, w := range want {
		if es[i].Field != w.field || es[i].Line != w.line {
			t.Errorf("error %d: got %s at line %d, want %s at line %d", i, es[i].Field, es[i].Line, w.field, w.line)
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("", strings.NewReader(""))
	if err != nil {
		t.Fatalf("Parse empty: %v", err)
	}
	if want := Default(); !reflect.DeepEqual(c, want) {
		t.Errorf("empty config:\ngot  %+v\nwant %+v", c, want)
	}
	if c.Server.BaseURL != "http://127.0.0.1:8080" || c.Poll.MaxBody != 10<<20 || !c.Dedupe.Enabled {
		t.Errorf("defaults: got %+v", c)
	}

	const doc = `
[server]
listen = ":9090"
[poll]
schedule = "@every 5m"
[dedupe]
enabled = false
[[source]]
name = "pti"
url = "https://theprint.in/category/pti-feed/feed/"
[[topic]]
name = "india"
sources = ["pti"]
`
	c, err = Parse("defaults.toml", strings.NewReader(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Path != "defaults.toml" {
		t.Errorf("Path: got %q", c.Path)
	}
	if got, want := c.Server.BaseURL, "http://localhost:9090"; got != want {
		t.Errorf("base_url: got %q, want %q", got, want)
	}
	if got := c.Sources[0].Schedule; got != "@every 5m" {
		t.Errorf("source schedule: got %q, want the poll schedule", got)
	}
	want := wiredesk.Topic{Name: "india", Title: "india", Sources: []string{"pti"}, Limit: 50}
	if !reflect.DeepEqual(c.Topics[0], want) {
		t.Errorf("topic: got %+v, want %+v", c.Topics[0], want)
	}
	if c.Dedupe.Enabled || c.Dedupe.Window != DefaultDedupeWindow || c.Poll.Concurrency != 8 {
		t.Errorf("dedupe/poll: got %+v %+v", c.Dedupe, c.Poll)
	}
}

func TestLoadResolvesStoragePath(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(t.TempDir(), "abs.db")
	tests := []struct {
		path string
		want string
	}{
		{"data/w.db", filepath.Join(dir, "data", "w.db")},
		{"w.db", filepath.Join(dir, "w.db")},
		{abs, abs},
		{":memory:", ":memory:"},
	}
	for _, tt := range tests {
		file := filepath.Join(dir, "wiredesk.toml")
		doc := "[storage]\npath = '" + tt.path + "'\n"
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(file)
		if err != nil {
			t.Fatalf("Load %q: %v", tt.path, err)
		}
		if c.Storage.Path != tt.want {
			t.Errorf("path %q: got %q, want %q", tt.path, c.Storage.Path, tt.want)
		}
		if c.Path != file {
			t.Errorf("Config.Path: got %q, want %q", c.Path, file)
		}
	}
	// Parse has no file to be relative to, so it leaves the path alone.
	c, err := Parse("x.toml", strings.NewReader("[storage]\npath = 'data/w.db'\n"))
	if err != nil || c.Storage.Path != "data/w.db" {
		t.Errorf("Parse: got %q, %v; want data/w.db", c.Storage.Path, err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want os.ErrNotExist", err)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "wiredesk.toml", Line: 12, Column: 1, Field: "source[2].schedule", Msg: "bad"},
			"wiredesk.toml:12:1: source[2].schedule: bad"},
		{Error{Line: 3, Column: 7, Field: "poll.timeout", Msg: "bad"}, "3:7: poll.timeout: bad"},
		{Error{File: "w.toml", Field: "poll.timeout", Msg: "bad"}, "w.toml: poll.timeout: bad"},
		{Error{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestErrorsAs(t *testing.T) {
	_, err := Parse("w.toml", strings.NewReader("[poll]\nconcurrency = 0\n"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(%v, *Error) = false", err)
	}
	if e.Field != "poll.concurrency" || e.Line != 2 || e.Column != 1 {
		t.Errorf("got %+v", e)
	}
	if got, want := err.Error(), "w.toml:2:1: poll.concurrency: must be in 1..256, got 0"; got != want {
		t.Errorf("message: got %q, want %q", got, want)
	}
}

func TestValidateBuiltConfig(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate: %v", err)
	}
	c.Sources = []wiredesk.Source{{Name: "a", FeedURL: "https://a.example/", Schedule: "@daily"}}
	c.Topics = []wiredesk.Topic{{Name: "t", Sources: []string{"A"}, Limit: 50}}
	err := c.Validate()
	var e *Error
	if !errors.As(err, &e) || e.Field != "topic[0].sources[0]" || !strings.Contains(e.Msg, `did you mean "a"`) {
		t.Errorf("got %v, want an unknown source error with a hint", err)
	}
}

func TestLookup(t *testing.T) {
	c, err := Load("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Source("nope"); ok {
		t.Error("Source(nope) found")
	}
	if _, ok := c.Topic("nope"); ok {
		t.Error("Topic(nope) found")
	}
	if tp, ok := c.Topic("world"); !ok || tp.Title != "World wire" {
		t.Errorf("Topic(world): got %+v, %v", tp, ok)
	}
}

// TestDecode: Decode lets through what only the whole config can judge
// (a topic whose tags no source carries yet) and still refuses what
// cannot be decoded, with its line.
func TestDecode(t *testing.T) {
	topicsOnly := "[[topic]]\nname = \"world\"\ntags = [\"world\"]\n"
	if _, err := Parse("a.toml", strings.NewReader(topicsOnly)); err == nil {
		t.Fatal("Parse accepted a topic no source feeds; the test needs it refused")
	}
	c, err := Decode("a.toml", strings.NewReader(topicsOnly))
	if err != nil || len(c.Topics) != 1 || c.Topics[0].Name != "world" {
		t.Errorf("Decode: %+v, %v; want the topic", c, err)
	}
	for _, bad := range []string{"x = [", "[poll]\ntimeout = \"soon\"\n", "[[source]]\nnmae = \"a\"\n"} {
		if _, err := Decode("b.toml", strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "b.toml:") {
			t.Errorf("Decode(%q) = %v, want an error naming b.toml and its line", bad, err)
		}
	}
}
