package aggregator

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/dedupe"
)

// fuzzNow is the fixed clock of FuzzParse: dates are judged against it.
var fuzzNow = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// fuzzBudget bounds one Parse of one input. Inputs are at most a few
// hundred KB, which parse in milliseconds; seconds mean a blow-up (entity
// expansion, quadratic cleaning) that a hostile feed could trigger.
const fuzzBudget = 5 * time.Second

// FuzzParse drives feed bytes through what a poll does before the store:
// Parse (gofeed, adaptation, normalisation, the dedupe keys) and then the
// matcher's near-duplicate steps (Doc, Decide, Index). The seed corpus is
// testdata/fuzz/FuzzParse: the parser fixtures and hostile documents
// (entities, CDATA, DTDs, entity expansion, bad UTF-8, odd dates).
func FuzzParse(f *testing.F) {
	f.Add([]byte(`<rss version="2.0"><channel><item><title>&lt;b&gt;x&lt;/b&gt;</title></item></channel></rss>`))
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>a</id><link href="javascript:x"/></entry></feed>`))
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","url":"//h/p","date_published":"9999-01-01T00:00:00Z"}]}`))
	f.Add([]byte("<rss><channel><item><title>\xff\xfe</title><link>http://a.b/\xff</link></item></channel></rss>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		start := time.Now()
		items, err := Parse("src", "https://example.com/feed", body, fuzzNow)
		if d := time.Since(start); d > fuzzBudget {
			t.Fatalf("Parse of %d bytes took %v", len(body), d)
		}
		if err != nil {
			if !errors.Is(err, wiredesk.ErrNotFeed) {
				t.Fatalf("error %v does not wrap ErrNotFeed", err)
			}
			return
		}
		guids := make(map[string]bool, len(items))
		ix := dedupe.NewIndex()
		for i, it := range items {
			checkItem(t, it)
			if guids[it.GUID] {
				t.Errorf("GUID %q repeated within one document", it.GUID)
			}
			guids[it.GUID] = true
			checkKeys(t, it, int64(i+1), ix)
		}
	})
}

// checkItem asserts what Parse promises about every item it returns.
func checkItem(t *testing.T, it wiredesk.Item) {
	t.Helper()
	fields := map[string]string{"source": it.Source, "guid": it.GUID, "url": it.URL, "title": it.Title,
		"summary": it.Summary, "content": it.Content, "author": it.Author,
		"canonical_url": it.CanonicalURL, "content_hash": it.ContentHash}
	for name, v := range fields {
		if !utf8.ValidString(v) {
			t.Errorf("%s %q is not valid UTF-8", name, v)
		}
	}
	if it.Source != "src" || it.GUID == "" {
		t.Errorf("source %q, GUID %q: want src and a GUID", it.Source, it.GUID)
	}
	if it.URL != "" && !strings.HasPrefix(it.URL, "http://") && !strings.HasPrefix(it.URL, "https://") {
		t.Errorf("URL %q is neither empty nor absolute http(s)", it.URL)
	}
	if n := utf8.RuneCountInString(it.Title); n > maxTitleRunes {
		t.Errorf("title of %d runes, cap %d", n, maxTitleRunes)
	}
	// Titles are plain text in every output; XML 1.0 (§2.2) cannot carry
	// most control characters, and a line break has no place in a title.
	if strings.ContainsFunc(it.Title, unicode.IsControl) || strings.TrimSpace(it.Title) != it.Title {
		t.Errorf("title %q is not one trimmed line of text", it.Title)
	}
	if it.Published.After(fuzzNow.Add(futureSlack)) || it.Updated.Before(it.Published) {
		t.Errorf("published %v, updated %v: in the future or out of order", it.Published, it.Updated)
	}
	if it.Published.Location() != time.UTC || it.Updated.Location() != time.UTC || !it.FirstSeen.Equal(fuzzNow) {
		t.Errorf("times not UTC or first seen %v != now", it.FirstSeen)
	}
}

// checkKeys recomputes the dedupe keys the way the store path uses them:
// the exact keys from the item's URL and body, the fingerprint the
// near-duplicate index is rebuilt from after a restart, and the matcher's
// verdict (see match.go).
func checkKeys(t *testing.T, it wiredesk.Item, id int64, ix *dedupe.Index) {
	t.Helper()
	if got := dedupe.CanonicalURL(it.URL); got != it.CanonicalURL {
		t.Errorf("CanonicalURL %q, recomputed %q", it.CanonicalURL, got)
	}
	if got := dedupe.ContentHash(it.Body()); got != it.ContentHash {
		t.Errorf("ContentHash %q, recomputed %q", it.ContentHash, got)
	}
	doc := dedupe.NewDoc(it.Title, it.Body())
	want, _ := doc.Signature().MarshalBinary()
	if doc.Signature().Empty() {
		want = nil
	}
	if !slices.Equal(it.Fingerprint, want) {
		t.Errorf("Fingerprint %x, recomputed %x", it.Fingerprint, want)
	}
	if len(it.Fingerprint) > 0 {
		sig, err := dedupe.ParseSignature(it.Fingerprint)
		if err != nil {
			t.Fatalf("stored fingerprint does not parse back: %v", err)
		}
		// Items of one document may share boilerplate keys, which the
		// index ignores, so only the lookup's bound is asserted.
		ix.Add(id, sig, it.FirstSeen)
		if got := ix.Candidates(sig); len(got) > dedupe.MaxCandidates {
			t.Errorf("%d candidates, cap %d", len(got), dedupe.MaxCandidates)
		}
	}
	if d := dedupe.Decide(doc, doc, dedupe.DefaultThreshold); doc.Words() >= dedupe.ShortWords && !d.Same {
		t.Errorf("a text is not the same story as itself: %+v", d)
	}
}
