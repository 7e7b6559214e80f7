package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// fuzzFile is the name FuzzParse gives Parse; every error must carry it.
const fuzzFile = "fuzz.toml"

// FuzzParse feeds arbitrary documents to Parse. It must never panic, and
// it must return either a config that passes its own validation, with
// every default filled in, or an Errors in which every problem names the
// file, has a message and a line (≥ 1) to jump to. The seed corpus,
// testdata/fuzz/FuzzParse, holds config.example.toml, every file of
// testdata/bad and many_problems.toml.
func FuzzParse(f *testing.F) {
	f.Add([]byte("source = [{name='a', url='https://a.example/', tags=['x']}]\n[[topic]]\nname='t'\ntags=['x']\n"))
	f.Add([]byte("[poll]\ntimeout = \"30s\nmax_body = 10\n"))
	f.Add([]byte("[[source]]\nname='a'\n[[source]]\nname='A'\nurl='ftp://x'\n[source.x]\n"))
	f.Add([]byte("a.b.c = 1\n[storage]\npath = ''\n[storage.x]\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		c, err := Parse(fuzzFile, bytes.NewReader(doc))
		if err != nil {
			checkErrors(t, err)
			return
		}
		checkConfig(t, c)
	})
}

// checkErrors asserts that err locates every problem it reports.
func checkErrors(t *testing.T, err error) {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) || len(es) == 0 {
		t.Fatalf("error %v (%T) is not a non-empty Errors", err, err)
	}
	for _, e := range es {
		if e.Msg == "" || e.File != fuzzFile || e.Line < 1 {
			t.Errorf("problem without message, file or line: %+v", *e)
		}
		if !strings.HasPrefix(e.Error(), fuzzFile+":") {
			t.Errorf("message %q does not start with the file name", e.Error())
		}
	}
}

// checkConfig asserts that an accepted config is valid by its own rules
// and fully defaulted.
func checkConfig(t *testing.T, c *Config) {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatalf("Parse accepted a config that Validate rejects: %v", err)
	}
	if c.Path != fuzzFile || c.Poll.Schedule == "" || c.Poll.MaxBody <= 0 || c.Poll.PerHost < 1 {
		t.Fatalf("accepted config not defaulted: path %q, poll %+v", c.Path, c.Poll)
	}
	for _, s := range c.Sources {
		if s.Name == "" || s.Schedule == "" || s.FeedURL == "" {
			t.Fatalf("valid config with incomplete source %+v", s)
		}
	}
	for _, tp := range c.Topics {
		if tp.Limit < 1 || tp.Title == "" || len(tp.SourceNames(c.Sources)) == 0 {
			t.Fatalf("valid config with undefaulted or empty topic %+v", tp)
		}
	}
}
