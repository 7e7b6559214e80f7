package aggregator

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

var errPanic = errors.New("panic")

// peerFeeds is the corpus of feed files from other parsers' test suites
// that sits beside the repository on development and CI machines.
const peerFeeds = "../../shared/peer-feeds"

// TestPeerFeeds runs every file of the peer corpus through parse and
// normalise: malformed, hostile and exotic documents may be rejected with
// an error, but never panic, and whatever is accepted has the invariants
// the store relies on.
func TestPeerFeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("walks thousands of files; skipped with -short")
	}
	if _, err := os.Stat(peerFeeds); err != nil {
		t.Skipf("peer corpus not present: %v", err)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var files, accepted, items int
	err := filepath.WalkDir(peerFeeds, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".md") || strings.HasSuffix(path, ".tsv") {
			return err
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		got, err := parseNoPanic(t, path, body, now)
		if err != nil {
			return nil
		}
		accepted++
		items += len(got)
		seen := map[string]bool{}
		for _, it := range got {
			switch {
			case it.GUID == "":
				t.Errorf("%s: item without identity: %+v", path, it)
			case seen[it.GUID]:
				t.Errorf("%s: GUID %q twice", path, it.GUID)
			case !it.Published.IsZero() && it.Published.Location() != time.UTC:
				t.Errorf("%s: published %v not UTC", path, it.Published)
			case it.Published.After(now.Add(24 * time.Hour)):
				t.Errorf("%s: published %v in the future", path, it.Published)
			}
			seen[it.GUID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files, %d accepted as feeds, %d items", files, accepted, items)
	if files < 1000 {
		t.Errorf("walked only %d files; is the corpus complete?", files)
	}
}

func parseNoPanic(t *testing.T, path string, body []byte, now time.Time) (items []wiredesk.Item, err error) {
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: panic: %v", path, r)
			err = errPanic
		}
	}()
	return Parse("peer", "https://peer.example/feed.xml", body, now)
}
