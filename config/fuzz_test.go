package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary documents to Parse: it must never panic, and
// it must return either a config that passes its own invariants or
// located errors with a message.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.toml"))
	seeds = append(seeds, "../config.example.toml", filepath.Join("testdata", "many_problems.toml"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("source = [{name='a', url='https://a.example/', tags=['x']}]\n[[topic]]\nname='t'\ntags=['x']\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		c, err := Parse("fuzz.toml", strings.NewReader(string(doc)))
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty Errors", err, err)
			}
			for _, e := range es {
				if e.Msg == "" || e.File != "fuzz.toml" {
					t.Fatalf("error without message or file: %+v", e)
				}
			}
			return
		}
		for _, s := range c.Sources {
			if s.Schedule == "" || s.FeedURL == "" {
				t.Fatalf("valid config with incomplete source %+v", s)
			}
		}
		for _, tp := range c.Topics {
			if tp.Limit < 1 || tp.Title == "" {
				t.Fatalf("valid config with undefaulted topic %+v", tp)
			}
		}
	})
}
