package opml

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseReaderExports(t *testing.T) {
	tests := []struct {
		file  string
		title string
		feeds []Feed // checked in full
	}{
		{"miniflux.opml", "Miniflux", []Feed{
			{"Xinhua | English", "http://www.xinhuanet.com/english/rss/worldrss.xml", "http://www.xinhuanet.com/english/", []string{"Wires"}},
			{"PTI feed - ThePrint", "https://theprint.in/category/pti-feed/feed/", "https://theprint.in", []string{"Wires"}},
			{"BBC News - World", "https://feeds.bbci.co.uk/news/world/rss.xml", "https://www.bbc.co.uk/news/world", []string{"World"}},
		}},
		{"freshrss.opml", "FreshRSS", []Feed{
			{"UN News", "https://news.un.org/feed/subscribe/en/news/all/rss.xml", "https://news.un.org/en/", []string{"Uncategorized"}},
			{"Asian Lite News", "https://asianlitenews.com/feed/", "https://asianlitenews.com", []string{"South Asia"}},
			{"The Hindu - National", "https://www.thehindu.com/news/national/feeder/default.rss", "https://www.thehindu.com", []string{"South Asia"}},
		}},
		{"feedly.opml", "Jane subscriptions in feedly Cloud", []Feed{
			{"Ars Technica", "https://feeds.arstechnica.com/arstechnica/index", "https://arstechnica.com", []string{"Tech News"}},
			{"The Verge", "https://www.theverge.com/rss/index.xml", "https://www.theverge.com/", []string{"Tech News"}},
			{"Al Jazeera – Breaking News, World News and Video from Al Jazeera", "https://www.aljazeera.com/xml/rss/all.xml", "https://www.aljazeera.com", []string{"World"}},
			{"The Verge", "https://www.theverge.com/rss/index.xml", "https://www.theverge.com/", []string{"World"}},
		}},
		{"netnewswire.opml", "Subscriptions-iCloud.opml", []Feed{
			{"Daring Fireball", "https://daringfireball.net/feeds/main", "https://daringfireball.net/", nil},
			{"Reuters & AP roundup", "https://wire.example.org/feed?format=rss&lang=en", "https://wire.example.org/", []string{"News"}},
		}},
		{"newsboat.opml", "newsboat - Exported Feeds", []Feed{
			{"LWN.net", "https://lwn.net/headlines/rss", "https://lwn.net", nil},
			{"International | The Hindu", "https://www.thehindu.com/news/international/feeder/default.rss", "https://www.thehindu.com", nil},
			{"", `https://example.net/query-feed?q="wire"`, "", nil},
		}},
		{"nested.opml", "nested", []Feed{
			{"IANS", "https://ians.example.in/rss", "", []string{"Asia", "India", "Wires", "agency", "south asia"}},
			{"FTP", "ftp://example.org/feed.xml", "", nil},
		}},
		{"latin1.opml", "Français", []Feed{
			{"Dépêches AFP", "https://afp.example.fr/depeches.xml", "", []string{"Actualités"}},
		}},
		{"bom.opml", "bom", []Feed{
			{"BOM feed", "https://bom.example.com/feed", "", nil},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			doc, err := Parse(f)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if doc.Title != tc.title {
				t.Errorf("title: got %q, want %q", doc.Title, tc.title)
			}
			if !reflect.DeepEqual(doc.Feeds, tc.feeds) {
				t.Errorf("feeds:\ngot  %q\nwant %q", doc.Feeds, tc.feeds)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"unclosed outline", "", "line 7: element <outline> closed by </body>"}, // read from broken.opml below
		{"empty", "", "empty document"},
		{"not opml", `<?xml version="1.0"?><rss version="2.0"><channel/></rss>`, "<opml>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc
			if tc.name == "unclosed outline" {
				b, err := os.ReadFile("testdata/broken.opml")
				if err != nil {
					t.Fatal(err)
				}
				doc = string(b)
			}
			_, err := Parse(strings.NewReader(doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestWriteRoundTrip writes groups and parses them back.
func TestWriteRoundTrip(t *testing.T) {
	groups := []Group{
		{Name: "", Feeds: []Feed{{Title: "loose", XMLURL: "https://loose.example/feed"}}},
		{Name: "wire", Feeds: []Feed{
			{Title: "pti", XMLURL: "https://pti.example/feed?a=1&b=2"},
			{Title: `"quoted" <name>`, XMLURL: "https://q.example/rss"},
		}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, "wiredesk sources", time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), groups); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `version="2.0"`) || !strings.Contains(buf.String(), "Sat, 05 Dec 2026 00:00:00 +0000") {
		t.Errorf("not OPML 2.0 with an RFC 822 date:\n%s", buf.String())
	}
	doc, err := Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := []Feed{
		{Title: "loose", XMLURL: "https://loose.example/feed"},
		{Title: "pti", XMLURL: "https://pti.example/feed?a=1&b=2", Tags: []string{"wire"}},
		{Title: `"quoted" <name>`, XMLURL: "https://q.example/rss", Tags: []string{"wire"}},
	}
	if !reflect.DeepEqual(doc.Feeds, want) {
		t.Errorf("round trip:\ngot  %q\nwant %q", doc.Feeds, want)
	}
}

// TestOPMLParseOutlines covers outlines readers write that are easy to
// drop: a feed nested in a feed, a feed given by url= rather than xmlUrl,
// and outlines that are not feeds, which must come back as Skipped rather
// than vanish.
func TestOPMLParseOutlines(t *testing.T) {
	doc, err := Parse(strings.NewReader(`<opml version="1.0"><body>
<outline text="News">
  <outline text="Parent feed" xmlUrl="https://parent.example/feed" category="own">
    <outline text="Child feed" xmlUrl="https://child.example/feed"/>
  </outline>
</outline>
<outline text="url-only rss" type="rss" url="https://urlonly.example/feed"/>
<outline text="url-only atom" type="Atom" URL="https://atom.example/feed"/>
<outline text="a link" type="link" url="https://example.org/"/>
<outline text="My Folder"><outline text="Empty"/></outline>
<outline/>
</body></opml>`))
	if err != nil {
		t.Fatal(err)
	}
	feeds := []Feed{
		{Title: "Parent feed", XMLURL: "https://parent.example/feed", Tags: []string{"News", "own"}},
		{Title: "Child feed", XMLURL: "https://child.example/feed", Tags: []string{"News"}},
		{Title: "url-only rss", XMLURL: "https://urlonly.example/feed"},
		{Title: "url-only atom", XMLURL: "https://atom.example/feed"},
	}
	if !reflect.DeepEqual(doc.Feeds, feeds) {
		t.Errorf("feeds:\ngot  %q\nwant %q", doc.Feeds, feeds)
	}
	skipped := []Skipped{
		{Title: "a link", URL: "https://example.org/", Reason: `no feed URL (type "link")`},
		{Title: "Empty", Reason: "no feed URL"},
		{Reason: "no feed URL"},
	}
	if !reflect.DeepEqual(doc.Skipped, skipped) {
		t.Errorf("skipped:\ngot  %q\nwant %q", doc.Skipped, skipped)
	}
}

// TestOPMLParseErrors covers files that are not OPML at all and OPML
// followed by something else: each is an error that says so, with the
// line where one applies.
func TestOPMLParseErrors(t *testing.T) {
	const doc = `<?xml version="1.0"?><opml version="2.0"><body><outline text="a" xmlUrl="https://a.example/f"/></body></opml>`
	tests := []struct {
		name, doc string
		notOPML   bool
		want      string // in the error; "" for no error
	}{
		{"json", `{"not":"xml"}`, true, `it begins "{\"not\":\"xml\"}", not with an XML element`},
		{"html", "<!DOCTYPE html>\n<html><body>Login<br></body></html>", true, "root element is <html>, not <opml>"},
		{"rss", `<?xml version="1.0"?><rss version="2.0"><channel/></rss>`, true, "root element is <rss>, not <opml>"},
		{"empty", "  \n", false, "empty document"},
		{"unclosed tag after", doc + "\n<garbage", false, "line 2: after </opml>: unexpected EOF"},
		{"element after", doc + "\n\n<opml/>", false, "line 3: after </opml>: element <opml>"},
		{"text after", doc + "\n\n  junk", false, `line 3: after </opml>: text "junk"`},
		{"comment and space after", doc + "\n<!-- exported -->\n\n", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.doc))
			if tc.want == "" {
				if err != nil {
					t.Errorf("got %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			if errors.Is(err, ErrNotOPML) != tc.notOPML {
				t.Errorf("errors.Is(%v, ErrNotOPML) = %v, want %v", err, !tc.notOPML, tc.notOPML)
			}
		})
	}
}
