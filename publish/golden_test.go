package publish

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/golden/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from golden file; got:\n%s", name, got)
	}
}

func TestGolden(t *testing.T) {
	s := newTestServer(&sliceFinder{stories: testStories()})
	for _, topic := range []string{"world", "tech", "empty"} {
		for _, f := range Formats() {
			t.Run(topic+f.Ext(), func(t *testing.T) {
				body, _, err := s.Render(context.Background(), topic, f)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, topic+f.Ext(), body)
				validate(t, f, body)
			})
		}
	}
	t.Run("opml", func(t *testing.T) {
		body, err := s.renderOPML(s.layout(false))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "opml.xml", body)
		validateOPML(t, body, 3)
	})
}
