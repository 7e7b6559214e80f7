package publish

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"

	"github.com/wiredesk/wiredesk"
)

// epoch is the updated time of a feed with no entries: fixed, so that an
// empty feed renders to the same bytes (and ETag) on every request.
var epoch = time.Unix(0, 0).UTC()

// channel is what every format says about the feed as a whole.
type channel struct {
	Title       string
	Description string
	HomeURL     string // the index page
	SelfURL     string // this document
	HubURL      string // the WebSub hub to advertise; "" for none
	FeedID      string // Atom feed id; stable for the topic
	Updated     time.Time
	Entries     []entry
}

// entry is one story prepared for rendering: plain-text title, sanitised
// HTML, and times that are never out of order.
type entry struct {
	ID        string // the story GUID, stable whichever copy is primary
	Title     string
	URL       string // the primary's article
	Published time.Time
	Updated   time.Time
	Source    string // the primary's source name
	SourceURL string // that source's feed URL; empty if it is no longer configured
	Summary   string // sanitised HTML, with the also-ran line
	Content   string // sanitised HTML, with the also-ran line; empty if the primary has none
	Text      string // plain text of the summary, else of the content
	Related   []copyRef
	Copies    []copyRef
}

// copyRef is one copy of a story: where else it ran.
type copyRef struct {
	Source    string
	URL       string
	Published time.Time
}

// newChannel prepares a topic's stories for rendering.
func (s *Server) newChannel(t wiredesk.Topic, stories []wiredesk.Story, sources []wiredesk.Source, self, feedID string) channel {
	ch := channel{
		Title:       plainText(t.Title),
		Description: plainText(t.Description),
		HomeURL:     s.homeURL(),
		SelfURL:     self,
		HubURL:      s.Hub,
		FeedID:      feedID,
		Updated:     epoch,
	}
	if ch.Title == "" {
		ch.Title = t.Name
	}
	if ch.Description == "" {
		ch.Description = "Stories on " + ch.Title + ", curated by wiredesk"
	}
	feedURLs := map[string]string{}
	for _, src := range sources {
		feedURLs[src.Name] = src.FeedURL
	}
	for _, st := range stories {
		e := newEntry(st, feedURLs)
		if e.Updated.After(ch.Updated) {
			ch.Updated = e.Updated
		}
		ch.Entries = append(ch.Entries, e)
	}
	return ch
}

func newEntry(st wiredesk.Story, feedURLs map[string]string) entry {
	p := st.Primary
	e := entry{
		ID:        storyID(st),
		URL:       httpURL(p.URL),
		Source:    p.Source,
		SourceURL: httpURL(feedURLs[p.Source]),
	}
	e.Published, e.Updated = storyTimes(st)
	for _, c := range st.Copies {
		ref := copyRef{Source: c.Source, URL: httpURL(c.URL), Published: c.Published.UTC()}
		e.Copies = append(e.Copies, ref)
		if !sameItem(c, p) {
			e.Related = append(e.Related, ref)
		}
	}
	// The text (for a missing title and the JSON summary) is the
	// outlet's own words, without the also-ran line.
	e.Text = plainText(p.Summary)
	if e.Text == "" {
		e.Text = plainText(p.Content)
	}
	also := alsoRan(e.Related)
	if p.Summary != "" {
		e.Summary = sanitizeHTML(p.Summary+also, e.URL)
	}
	if p.Content != "" {
		e.Content = sanitizeHTML(p.Content+also, e.URL)
	}
	if e.Summary == "" && e.Content == "" && also != "" {
		e.Summary = sanitizeHTML(also, e.URL)
	}
	e.Title = entryTitle(p.Title, e.Text)
	return e
}

// storyID is the entry id: the story GUID, which the store fixes when the
// story is created. A story without one (which the store never returns)
// gets a URN from its row id rather than an item's id, which would change
// when another copy becomes primary.
func storyID(st wiredesk.Story) string {
	if st.GUID != "" {
		return xmlSafe(st.GUID)
	}
	return fmt.Sprintf("urn:wiredesk:story:%d", st.ID)
}

// storyTimes returns the published and updated times of a story, in UTC,
// with updated never before published (RFC 4287 §4.2.15 makes updated the
// latest significant change, so it cannot precede publication).
func storyTimes(st wiredesk.Story) (published, updated time.Time) {
	published = st.Published
	if published.IsZero() {
		published = st.Primary.Published
	}
	updated = st.Updated
	if published.IsZero() {
		published = updated
	}
	if published.IsZero() {
		published = epoch
	}
	if updated.Before(published) {
		updated = published
	}
	return published.UTC().Truncate(time.Second), updated.UTC().Truncate(time.Second)
}

// sameItem reports whether c is the primary copy p.
func sameItem(c, p wiredesk.Item) bool {
	if c.ID != 0 || p.ID != 0 {
		return c.ID == p.ID
	}
	return c.Source == p.Source && c.GUID == p.GUID
}

// alsoRan is the HTML line naming the other outlets that ran the story,
// each linked to its copy. It is built from escaped text and still goes
// through the sanitiser with the rest of the entry.
func alsoRan(others []copyRef) string {
	if len(others) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<p>Also ran in: ")
	for i, c := range others {
		if i > 0 {
			b.WriteString(", ")
		}
		name := html.EscapeString(plainText(c.Source))
		if c.URL == "" {
			b.WriteString(name)
			continue
		}
		b.WriteString(`<a href="` + html.EscapeString(c.URL) + `">` + name + `</a>`)
	}
	b.WriteString("</p>")
	return b.String()
}

// httpURL returns u if it is an absolute http(s) URL and "" otherwise, so
// that no javascript: or data: link reaches a link element or attribute
// the HTML sanitiser never sees.
func httpURL(u string) string {
	parsed, err := url.Parse(strings.TrimSpace(u))
	if err != nil || parsed.Host == "" {
		return ""
	}
	if parsed.Scheme != "http" && parsed.Scheme != "https" {
		return ""
	}
	// url.URL.String re-encodes path and host but keeps the query as the
	// publisher wrote it, and feed validators reject a link holding
	// characters RFC 3986 does not allow there.
	parsed.RawQuery = escapeQuery(parsed.RawQuery)
	return xmlSafe(parsed.String())
}

// escapeQuery percent-encodes every byte that may not appear in a URI
// query (RFC 3986 §3.4: pchar, "/" and "?"), keeping valid %XX escapes.
func escapeQuery(q string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if queryChar(c) || (c == '%' && i+2 < len(q) && isHex(q[i+1]) && isHex(q[i+2])) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func queryChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
