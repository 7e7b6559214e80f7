package publish

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wiredesk/wiredesk"
)

func TestWriteFiles(t *testing.T) {
	s := newTestServer(&sliceFinder{stories: testStories()})
	dir := filepath.Join(t.TempDir(), "public", "feeds")
	if err := s.WriteFiles(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 10 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("dir holds %v, want 9 feeds and opml.xml and no temp files", names)
	}
	h := s.Handler()
	for _, topic := range []string{"world", "tech", "empty"} {
		for _, f := range Formats() {
			name := topic + f.Ext()
			t.Run(name, func(t *testing.T) {
				file := readFile(t, filepath.Join(dir, name))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/feeds/"+name, nil))
				served := rec.Body.String()
				// Same document; only the self URL moves next to the file.
				servedURL := "https://news.example/feeds/" + name
				staticURL := "https://news.example/" + name
				if f == Atom {
					// The Atom id stays the served URL; only the self link moves.
					servedURL, staticURL = `<link href="`+servedURL+`" rel="self"`, `<link href="`+staticURL+`" rel="self"`
				}
				if !strings.Contains(file, staticURL) {
					t.Errorf("file lacks static self URL %s", staticURL)
				}
				if want := strings.ReplaceAll(served, servedURL, staticURL); file != want {
					t.Errorf("file differs from served bytes beyond the self URL:\n%s\nserved:\n%s", file, served)
				}
				validate(t, f, []byte(file))
			})
		}
	}
	opml := readFile(t, filepath.Join(dir, "opml.xml"))
	doc := validateOPML(t, []byte(opml), 3)
	if got := doc.Outlines[0].XMLURL; got != "https://news.example/world.rss" {
		t.Errorf("static opml xmlUrl = %q, want the file beside it", got)
	}
	info, err := os.Stat(filepath.Join(dir, "world.rss"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want readable by a web server", info.Mode().Perm())
	}
}

func TestWriteFilesReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "world.rss")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newTestServer(&sliceFinder{stories: testStories()})
	if err := s.WriteFiles(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); !strings.HasPrefix(got, "<?xml") {
		t.Errorf("world.rss not replaced: %q", got)
	}
}

func TestWriteFilesErrors(t *testing.T) {
	tests := []struct {
		name   string
		topics []wiredesk.Topic
		finder *sliceFinder
	}{
		{"topic name escapes dir", []wiredesk.Topic{{Name: "../escape", Tags: []string{"world"}}}, &sliceFinder{}},
		{"finder fails", testTopics(), &sliceFinder{err: errDatabase}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(tt.finder)
			setTopics(s, tt.topics...)
			dir := filepath.Join(t.TempDir(), "out")
			if err := s.WriteFiles(context.Background(), dir); err == nil {
				t.Fatal("WriteFiles succeeded, want an error")
			}
			if _, err := os.Stat(filepath.Join(dir, "..", "escape.rss")); err == nil {
				t.Error("a file was written outside dir")
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
