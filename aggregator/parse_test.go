package aggregator_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/aggregator"
)

var now = time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFixtures(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		file  string
		count int
		first wiredesk.Item // Source, Summary, Content, FirstSeen, ContentHash not compared
		hash  bool          // first item has a content hash
	}{
		{"rss2.xml", 4, wiredesk.Item{
			GUID: "ht-world-88213", URL: "https://news.example.org/world/2026/03/03/red-river-floods?utm_source=rss&utm_medium=feed",
			CanonicalURL: "https://news.example.org/world/2026/03/03/red-river-floods",
			Title:        "Floods force evacuation of 12,000 along the Red River", Author: "Lan Nguyen",
			Published: at("2026-03-03T02:15:00Z"), Updated: at("2026-03-03T02:15:00Z"),
		}, true},
		{"rss1.xml", 2, wiredesk.Item{
			GUID: "https://wire.example.net/stories/4411", URL: "https://wire.example.net/stories/4411",
			CanonicalURL: "https://wire.example.net/stories/4411",
			Title:        "Parliament passes revised data protection law", Author: "Example Wire staff",
			Published: at("2026-03-02T17:40:00Z"), Updated: at("2026-03-02T17:40:00Z"),
		}, false},
		{"atom1.xml", 2, wiredesk.Item{
			GUID: "tag:courier.example.com,2026:entry-5120", URL: "https://courier.example.com/news/port-reopens",
			CanonicalURL: "https://courier.example.com/news/port-reopens",
			Title:        "Port reopens after storm damage", Author: "Maria Costa",
			Published: at("2026-03-03T04:30:00Z"), Updated: at("2026-03-03T05:45:00Z"),
		}, false},
		{"atom03.xml", 1, wiredesk.Item{
			GUID: "tag:gazette.example.com,2026:harvest", URL: "https://gazette.example.com/2026/harvest-festival",
			CanonicalURL: "https://gazette.example.com/2026/harvest-festival",
			Title:        "Harvest festival draws record crowds", Author: "Tom Berg",
			Published: at("2026-03-01T10:00:00Z"), Updated: at("2026-03-01T11:30:00Z"),
		}, false},
		{"feed.json", 2, wiredesk.Item{
			GUID: "md-20260303-001", URL: "https://metro.example.com/city/water-main-burst",
			CanonicalURL: "https://metro.example.com/city/water-main-burst",
			Title:        "Water main burst floods downtown streets", Author: "Dana Whitfield",
			Published: at("2026-03-03T10:10:00Z"), Updated: at("2026-03-03T11:00:00Z"),
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			items, err := aggregator.Parse("src", "https://fetch.example.com/feed", readFixture(t, tt.file), now)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != tt.count {
				t.Fatalf("got %d items, want %d", len(items), tt.count)
			}
			got := items[0]
			if got.Source != "src" || got.FirstSeen != now {
				t.Errorf("Source, FirstSeen = %q, %v; want src, %v", got.Source, got.FirstSeen, now)
			}
			if (got.ContentHash != "") != tt.hash {
				t.Errorf("ContentHash = %q, want non-empty: %v", got.ContentHash, tt.hash)
			}
			if got.RawDigest == 0 {
				t.Error("no RawDigest")
			}
			if (len(got.Doc) > 0) != (len(got.Fingerprint) > 0) {
				t.Errorf("Doc %d bytes, Fingerprint %d bytes: want both or neither", len(got.Doc), len(got.Fingerprint))
			}
			got.Source, got.Summary, got.Content, got.FirstSeen, got.ContentHash, got.Fingerprint = "", "", "", time.Time{}, "", nil
			got.Doc = nil
			got.RawDigest = 0
			if !reflect.DeepEqual(got, tt.first) {
				t.Errorf("first item\n got %+v\nwant %+v", got, tt.first)
			}
			for _, it := range items {
				if it.Published.Location() != time.UTC || it.Updated.Before(it.Published) {
					t.Errorf("%s: dates %v, %v: want UTC, updated not before published", it.GUID, it.Published, it.Updated)
				}
			}
		})
	}
}

func TestParseRSS2Details(t *testing.T) {
	items, err := aggregator.Parse("src", "https://fetch.example.com/feed", readFixture(t, "rss2.xml"), now)
	if err != nil {
		t.Fatal(err)
	}
	byTitle := map[string]wiredesk.Item{}
	for _, it := range items {
		byTitle[it.Title] = it
	}
	if _, dup := byTitle["Duplicate entry with the first guid"]; dup {
		t.Error("an item repeating an earlier GUID was kept")
	}
	if it := byTitle["Central bank holds rates steady"]; it.GUID != it.CanonicalURL || it.Author != "Business Desk" {
		t.Errorf("no guid: GUID %q, URL %q, Author %q; want GUID = canonical URL, Business Desk", it.GUID, it.URL, it.Author)
	}
	photo := byTitle["Photo of the day"]
	if !strings.HasPrefix(photo.GUID, "sha256:") || photo.URL != "" || !photo.Published.IsZero() || !photo.Updated.IsZero() {
		t.Errorf("no guid, link nor date: GUID %q URL %q dates %v, %v; want sha256:…, empty, zero (the store fills first seen)",
			photo.GUID, photo.URL, photo.Published, photo.Updated)
	}
	if it := byTitle["Embargoed: budget statement"]; !it.Published.IsZero() || !it.Updated.IsZero() {
		t.Errorf("date ten months ahead: dates %v, %v; want zero, as if undated", it.Published, it.Updated)
	}
	if it := items[0]; !strings.Contains(it.Content, "<p>HANOI") || !strings.Contains(it.Summary, "<p>Authorities") {
		t.Errorf("Content %q / Summary %q: want HTML as published", it.Content, it.Summary)
	}
}

func TestParseGUIDStableAcrossPolls(t *testing.T) {
	body := readFixture(t, "rss2.xml")
	a, errA := aggregator.Parse("src", "https://fetch.example.com/feed", body, now)
	b, errB := aggregator.Parse("src", "https://fetch.example.com/feed", body, now.Add(15*time.Minute))
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	for i := range a {
		if a[i].GUID != b[i].GUID {
			t.Errorf("item %d: GUID %q then %q", i, a[i].GUID, b[i].GUID)
		}
	}
}

func TestParseDates(t *testing.T) {
	const feed = `<rss version="2.0"><channel><item><guid>g</guid>%s</item></channel></rss>`
	rfc := func(t time.Time) string { return t.Format(time.RFC1123Z) }
	past, ahead := now.Add(-time.Hour), now.Add(48*time.Hour)
	tests := []struct {
		name         string
		elems        string
		wantPub, upd time.Time
	}{
		{"none", "", time.Time{}, time.Time{}},
		{"pubDate", "<pubDate>" + rfc(past) + "</pubDate>", past, past},
		{"within a day ahead", "<pubDate>" + rfc(now.Add(23*time.Hour)) + "</pubDate>", now.Add(23 * time.Hour), now.Add(23 * time.Hour)},
		{"two days ahead", "<pubDate>" + rfc(ahead) + "</pubDate>", time.Time{}, time.Time{}},
		{"updated only", "<atom:updated xmlns:atom=\"http://www.w3.org/2005/Atom\">" + past.Format(time.RFC3339) + "</atom:updated>", past, past},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := aggregator.Parse("src", "https://x.example.com/", []byte(strings.Replace(feed, "%s", tt.elems, 1)), now)
			if err != nil || len(items) != 1 {
				t.Fatalf("Parse = %d items, %v", len(items), err)
			}
			if got := items[0]; !got.Published.Equal(tt.wantPub) || !got.Updated.Equal(tt.upd) {
				t.Errorf("dates %v, %v; want %v, %v", got.Published, got.Updated, tt.wantPub, tt.upd)
			}
		})
	}
}

// TestUndatedItemUnchangedAcrossPolls saves the same undated item seen at
// two polls through the real store: the second poll must not count it as
// updated nor move its published time off the first sighting.
func TestUndatedItemUnchangedAcrossPolls(t *testing.T) {
	const feed = `<rss version="2.0"><channel><title>t</title>
	<item><title>Live: markets</title><link>https://x.example.com/live/markets</link>
	<description>Shares rose.</description></item></channel></rss>`
	db := openStore(t)
	ctx := context.Background()
	save := func(at time.Time) wiredesk.IngestStats {
		t.Helper()
		items, err := aggregator.Parse("live", "https://x.example.com/rss", []byte(feed), at)
		if err != nil {
			t.Fatal(err)
		}
		stats, err := db.SaveFetch(ctx, wiredesk.FetchResult{Source: "live",
			State: wiredesk.SourceState{Source: "live", Status: wiredesk.StatusOK, LastFetch: at}, Items: items})
		if err != nil {
			t.Fatal(err)
		}
		return stats
	}
	if got := save(now); got != (wiredesk.IngestStats{New: 1, Stories: 1}) {
		t.Fatalf("first save: %+v, want 1 new", got)
	}
	if got := save(now.Add(time.Hour)); got != (wiredesk.IngestStats{Unchanged: 1}) {
		t.Errorf("second save: %+v, want 1 unchanged, 0 updated", got)
	}
	items, err := db.Items(ctx, wiredesk.ItemFilter{})
	if err != nil || len(items) != 1 {
		t.Fatalf("Items = %d, %v; want 1", len(items), err)
	}
	if it := items[0]; !it.Published.Equal(now) || !it.Updated.Equal(now) || !it.FirstSeen.Equal(now) {
		t.Errorf("stored dates published %v, updated %v, first seen %v; want all %v", it.Published, it.Updated, it.FirstSeen, now)
	}
}

// TestParseGUIDIgnoresTrackers: without a guid the link is the identity,
// so a feed rotating its utm_* parameters must not make a new item.
func TestParseGUIDIgnoresTrackers(t *testing.T) {
	const feed = `<rss version="2.0"><channel><title>t</title>
	<item><title>a</title><link>http://x.example.com/news/42?utm_source=%s&amp;id=7#top</link></item>
	<item><title>home</title><link>https://x.example.com/?utm_source=%s</link></item></channel></rss>`
	var guids [][]string
	for _, tag := range []string{"rss", "feedburner"} {
		items, err := aggregator.Parse("src", "https://x.example.com/rss", []byte(strings.ReplaceAll(feed, "%s", tag)), now)
		if err != nil || len(items) != 2 {
			t.Fatalf("Parse = %d items, %v", len(items), err)
		}
		guids = append(guids, []string{items[0].GUID, items[1].GUID})
	}
	if want := "https://x.example.com/news/42?id=7"; guids[0][0] != want || guids[1][0] != want {
		t.Errorf("article GUIDs %q, %q; want both %q", guids[0][0], guids[1][0], want)
	}
	// A homepage link has no canonical form; the absolute link stands.
	if want := "https://x.example.com/?utm_source=rss"; guids[0][1] != want {
		t.Errorf("homepage GUID %q, want %q", guids[0][1], want)
	}
}

func TestParseRelativeLinks(t *testing.T) {
	const feed = `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>%s
	<item><title>a</title><link>stories/42?x=1</link></item>
	<item><title>b</title><link>/abs/43</link></item>
	<item><title>c</title><link>javascript:alert(1)</link></item></channel></rss>`
	tests := []struct {
		name, channelLink string
		want              []string
	}{
		{"against feed link", "<link>https://site.example.com/news/</link>",
			[]string{"https://site.example.com/news/stories/42?x=1", "https://site.example.com/abs/43", ""}},
		{"relative feed link", "<link>/news/</link>",
			[]string{"https://cdn.example.net/news/stories/42?x=1", "https://cdn.example.net/abs/43", ""}},
		{"against fetch URL", "",
			[]string{"https://cdn.example.net/feeds/stories/42?x=1", "https://cdn.example.net/abs/43", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(feed, "%s", tt.channelLink, 1)
			items, err := aggregator.Parse("src", "https://cdn.example.net/feeds/rss.xml", []byte(body), now)
			if err != nil {
				t.Fatal(err)
			}
			for i, it := range items {
				if it.URL != tt.want[i] {
					t.Errorf("item %d URL = %q, want %q", i, it.URL, tt.want[i])
				}
			}
		})
	}
}

func TestParseNotFeed(t *testing.T) {
	for _, body := range []string{"<!doctype html><html><body>Hello</body></html>", "", "{\"not\": \"a feed\"", "<rss><channel><item>"} {
		_, err := aggregator.Parse("src", "https://x.example.com/", []byte(body), now)
		if !errors.Is(err, wiredesk.ErrNotFeed) {
			t.Errorf("Parse(%.30q) error = %v, want ErrNotFeed", body, err)
		}
	}
}

func TestParseLongTitle(t *testing.T) {
	long := strings.Repeat("word ", 400)
	body := `<rss version="2.0"><channel><item><title>` + long + `</title><guid>g</guid></item></channel></rss>`
	items, err := aggregator.Parse("src", "https://x.example.com/", []byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(items[0].Title)); n != 1000 {
		t.Errorf("title of %d runes, want capped at 1000", n)
	}
}

func BenchmarkParseNormalize(b *testing.B) {
	body := readFixture(b, "rss2_50.xml")
	b.SetBytes(int64(len(body)))
	n := 0
	for b.Loop() {
		items, err := aggregator.Parse("wire", "https://wire.example.net/rss", body, now)
		if err != nil {
			b.Fatal(err)
		}
		n += len(items)
	}
	if n == 0 {
		b.Fatal("no items parsed")
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}

// TestParseBadCharRefs checks that a reference to a character XML
// forbids costs that character, not the feed: it reads as U+FFFD, and
// the rest of the document, other references included, as written.
func TestParseBadCharRefs(t *testing.T) {
	for _, ref := range []string{"&#0;", "&#x0;", "&#x1F;", "&#1;", "&#xFFFE;", "&#xD800;", "&#1114112;", "&#99999999999;"} {
		t.Run(ref, func(t *testing.T) {
			body := `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Storm` + ref + ` hits coast</title><guid>1</guid><description>Caf&#233; closed</description></item>
<item><title>Second</title><guid>2</guid><description><![CDATA[<p>kept</p>]]></description></item>
</channel></rss>`
			items, err := aggregator.Parse("src", "https://x.example.com/feed", []byte(body), now)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(items) != 2 {
				t.Fatalf("%d items, want 2", len(items))
			}
			if got, want := items[0].Title, "Storm\uFFFD hits coast"; got != want {
				t.Errorf("title %q, want %q", got, want)
			}
			if !strings.Contains(items[0].Summary+items[0].Content, "Café") {
				t.Errorf("a valid reference was not kept: summary %q", items[0].Summary)
			}
		})
	}
}
