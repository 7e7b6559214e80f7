package publish

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// Structural checks of the rules the W3C Feed Validation Service and the
// JSON Feed 1.1 spec enforce, applied to every rendered document.

type vLink struct {
	Href  string `xml:"href,attr"`
	Rel   string `xml:"rel,attr"`
	Type  string `xml:"type,attr"`
	Title string `xml:"title,attr"`
}

type vText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type vRSS struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		// atom:link first: an unqualified "link" field would match it too.
		AtomLinks     []vLink    `xml:"http://www.w3.org/2005/Atom link"`
		Title         string     `xml:"title"`
		Link          string     `xml:"link"`
		Description   string     `xml:"description"`
		LastBuildDate string     `xml:"lastBuildDate"`
		Generator     string     `xml:"generator"`
		Items         []vRSSItem `xml:"item"`
	} `xml:"channel"`
}

type vRSSItem struct {
	Content     string   `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	Description string   `xml:"description"`
	Authors     []string `xml:"author"`
	GUID        struct {
		ID          string `xml:",chardata"`
		IsPermaLink string `xml:"isPermaLink,attr"`
	} `xml:"guid"`
	PubDate string `xml:"pubDate"`
	Source  *struct {
		URL  string `xml:"url,attr"`
		Name string `xml:",chardata"`
	} `xml:"source"`
}

type vPerson struct {
	Name  string `xml:"name"`
	Email string `xml:"email"`
}

type vAtom struct {
	XMLName xml.Name     `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string       `xml:"id"`
	Title   string       `xml:"title"`
	Updated string       `xml:"updated"`
	Links   []vLink      `xml:"link"`
	Authors []vPerson    `xml:"author"`
	Entries []vAtomEntry `xml:"entry"`
}

type vAtomEntry struct {
	ID        string    `xml:"id"`
	Title     string    `xml:"title"`
	Updated   string    `xml:"updated"`
	Published string    `xml:"published"`
	Links     []vLink   `xml:"link"`
	Authors   []vPerson `xml:"author"`
	Summary   *vText    `xml:"summary"`
	Content   *vText    `xml:"content"`
}

func validate(t *testing.T, f Format, body []byte) {
	t.Helper()
	switch f {
	case RSS:
		validateRSS(t, body)
	case Atom:
		validateAtom(t, body)
	case JSONFeed:
		validateJSON(t, body)
	}
}

func parseRSS(t *testing.T, body []byte) vRSS {
	t.Helper()
	var doc vRSS
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("rss does not parse: %v", err)
	}
	return doc
}

func validateRSS(t *testing.T, body []byte) {
	t.Helper()
	doc := parseRSS(t, body)
	ch := doc.Channel
	if doc.Version != "2.0" || ch.Title == "" || ch.Description == "" || !isAbs(ch.Link) {
		t.Errorf("rss channel: version %q title %q description %q link %q", doc.Version, ch.Title, ch.Description, ch.Link)
	}
	if !hasLink(ch.AtomLinks, "self", "application/rss+xml") {
		t.Errorf("rss channel has no atom:link rel=self: %+v", ch.AtomLinks)
	}
	mustParse(t, "lastBuildDate", time.RFC1123Z, ch.LastBuildDate)
	if !strings.HasPrefix(ch.Generator, "wiredesk ") {
		t.Errorf("generator = %q", ch.Generator)
	}
	for _, it := range ch.Items {
		if it.Title == "" {
			t.Errorf("rss item %s has no title", it.GUID.ID)
		}
		if it.GUID.IsPermaLink != "false" || !strings.HasPrefix(it.GUID.ID, "urn:uuid:") {
			t.Errorf("rss guid = %+v, want urn:uuid with isPermaLink=false", it.GUID)
		}
		for _, a := range it.Authors {
			if !strings.Contains(a, "@") {
				t.Errorf("rss author %q is not an e-mail address", a)
			}
		}
		if it.Source != nil && (!isAbs(it.Source.URL) || it.Source.Name == "") {
			t.Errorf("rss source = %+v, want url attribute and name", *it.Source)
		}
		if it.Link != "" && !isAbs(it.Link) {
			t.Errorf("rss link %q is not absolute", it.Link)
		}
		mustParse(t, "pubDate", time.RFC1123Z, it.PubDate)
	}
}

func parseAtom(t *testing.T, body []byte) vAtom {
	t.Helper()
	var doc vAtom
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("atom does not parse: %v", err)
	}
	return doc
}

func validateAtom(t *testing.T, body []byte) {
	t.Helper()
	doc := parseAtom(t, body)
	if doc.ID == "" || doc.Title == "" {
		t.Errorf("atom feed id %q title %q", doc.ID, doc.Title)
	}
	mustParse(t, "feed updated", time.RFC3339, doc.Updated)
	if !hasLink(doc.Links, "self", "application/atom+xml") || !hasLink(doc.Links, "alternate", "text/html") {
		t.Errorf("atom feed links = %+v, want self and alternate", doc.Links)
	}
	feedAuthor := len(doc.Authors) > 0 && doc.Authors[0].Name != ""
	if !feedAuthor {
		t.Errorf("atom feed has no author")
	}
	for _, e := range doc.Entries {
		if e.ID == "" || e.Title == "" {
			t.Errorf("atom entry id %q title %q", e.ID, e.Title)
		}
		up := mustParse(t, "entry updated", time.RFC3339, e.Updated)
		pub := mustParse(t, "entry published", time.RFC3339, e.Published)
		if up.Before(pub) {
			t.Errorf("atom entry %s updated %s before published %s", e.ID, e.Updated, e.Published)
		}
		if !hasRel(e.Links, "alternate") && e.Content == nil {
			t.Errorf("atom entry %s has neither alternate link nor content", e.ID)
		}
		for _, txt := range []*vText{e.Summary, e.Content} {
			if txt != nil && txt.Type != "html" {
				t.Errorf("atom entry %s text type = %q, want html", e.ID, txt.Type)
			}
		}
	}
}

func parseJSON(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("json feed does not parse: %v", err)
	}
	return doc
}

func validateJSON(t *testing.T, body []byte) {
	t.Helper()
	doc := parseJSON(t, body)
	if doc["version"] != "https://jsonfeed.org/version/1.1" || doc["title"] == "" {
		t.Errorf("json feed version %v title %v", doc["version"], doc["title"])
	}
	for _, k := range []string{"feed_url", "home_page_url"} {
		if s, _ := doc[k].(string); !isAbs(s) {
			t.Errorf("json feed %s = %v", k, doc[k])
		}
	}
	if _, ok := doc["author"]; ok {
		t.Errorf("json feed uses deprecated author")
	}
	items, ok := doc["items"].([]any)
	if !ok {
		t.Fatalf("json feed items = %v, want an array", doc["items"])
	}
	for _, raw := range items {
		it := raw.(map[string]any)
		if id, _ := it["id"].(string); id == "" {
			t.Errorf("json item without id: %v", it)
		}
		html, _ := it["content_html"].(string)
		text, _ := it["content_text"].(string)
		if html == "" && text == "" {
			t.Errorf("json item %v has neither content_html nor content_text", it["id"])
		}
		if _, ok := it["author"]; ok {
			t.Errorf("json item %v uses deprecated author", it["id"])
		}
		for _, k := range []string{"date_published", "date_modified"} {
			s, _ := it[k].(string)
			mustParse(t, k, time.RFC3339, s)
		}
	}
}

type vOPML struct {
	XMLName  xml.Name `xml:"opml"`
	Version  string   `xml:"version,attr"`
	Title    string   `xml:"head>title"`
	Created  string   `xml:"head>dateCreated"`
	Outlines []struct {
		Type    string `xml:"type,attr"`
		Text    string `xml:"text,attr"`
		Title   string `xml:"title,attr"`
		XMLURL  string `xml:"xmlUrl,attr"`
		HTMLURL string `xml:"htmlUrl,attr"`
	} `xml:"body>outline"`
}

func validateOPML(t *testing.T, body []byte, topics int) vOPML {
	t.Helper()
	var doc vOPML
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("opml does not parse: %v", err)
	}
	if doc.Version != "2.0" || doc.Title == "" {
		t.Errorf("opml version %q title %q", doc.Version, doc.Title)
	}
	mustParse(t, "dateCreated", time.RFC1123Z, doc.Created)
	if len(doc.Outlines) != topics {
		t.Fatalf("opml outlines = %d, want %d", len(doc.Outlines), topics)
	}
	for _, o := range doc.Outlines {
		if o.Type != "rss" || o.Text == "" || o.Title == "" || !strings.HasSuffix(o.XMLURL, ".rss") || !isAbs(o.HTMLURL) {
			t.Errorf("opml outline = %+v", o)
		}
	}
	return doc
}

func mustParse(t *testing.T, what, layout, value string) time.Time {
	t.Helper()
	ts, err := time.Parse(layout, value)
	if err != nil {
		t.Errorf("%s %q: %v", what, value, err)
	}
	return ts
}

func isAbs(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

func hasLink(links []vLink, rel, typ string) bool {
	for _, l := range links {
		if l.Rel == rel && l.Type == typ && isAbs(l.Href) {
			return true
		}
	}
	return false
}

func hasRel(links []vLink, rel string) bool {
	for _, l := range links {
		if l.Rel == rel || (rel == "alternate" && l.Rel == "") {
			return true
		}
	}
	return false
}
