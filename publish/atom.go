package publish

import (
	"html"
	"time"

	"github.com/gorilla/feeds"
	"github.com/wiredesk/wiredesk"
)

// Atom 1.0 (RFC 4287) is rendered from gorilla/feeds' structs wrapped to
// carry what its AtomFeed cannot: several links (self and alternate, §4.2.7;
// related links with a title), and a generator (§4.2.4).

type atomFeed struct {
	*feeds.AtomFeed
	Links     []atomLink     `xml:"link"` // shadows AtomFeed.Link
	Generator *atomGenerator `xml:"generator"`
	Entries   []*atomEntry   `xml:"entry"` // shadows AtomFeed.Entries
}

type atomEntry struct {
	*feeds.AtomEntry
	Links []atomLink `xml:"link"` // shadows AtomEntry.Links
}

type atomLink struct {
	feeds.AtomLink
	Title string `xml:"title,attr,omitempty"`
}

type atomGenerator struct {
	URI     string `xml:"uri,attr,omitempty"`
	Version string `xml:"version,attr,omitempty"`
	Name    string `xml:",chardata"`
}

func renderAtom(ch channel) ([]byte, error) {
	f := &atomFeed{
		AtomFeed: &feeds.AtomFeed{
			Xmlns:    nsAtom,
			Title:    ch.Title,
			Id:       ch.FeedID,
			Updated:  ch.Updated.Format(time.RFC3339),
			Subtitle: ch.Description,
			// §4.1.1: a feed needs an author unless every entry has one;
			// wiredesk is the feed's author, each outlet its entries'.
			Author: &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: "wiredesk"}},
		},
		Links: []atomLink{
			link(ch.SelfURL, "self", Atom.MediaType(), ""),
			link(ch.HomeURL, "alternate", "text/html", ""),
		},
		Generator: &atomGenerator{Name: "wiredesk", Version: wiredesk.Version},
	}
	if ch.HubURL != "" {
		// WebSub §4: the hub and self links let a subscriber find the hub.
		f.Links = append(f.Links, link(ch.HubURL, "hub", "", ""))
	}
	for _, e := range ch.Entries {
		f.Entries = append(f.Entries, newAtomEntry(e))
	}
	return marshalXML(f)
}

func newAtomEntry(e entry) *atomEntry {
	x := &atomEntry{AtomEntry: &feeds.AtomEntry{
		Title:     e.Title,
		Id:        e.ID,
		Updated:   e.Updated.Format(time.RFC3339),
		Published: e.Published.Format(time.RFC3339),
	}}
	if e.Source != "" {
		x.Author = &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: e.Source}}
	}
	if e.URL != "" {
		x.Links = append(x.Links, link(e.URL, "alternate", "text/html", ""))
	}
	for _, c := range e.Related {
		if c.URL != "" {
			x.Links = append(x.Links, link(c.URL, "related", "text/html", c.Source))
		}
	}
	if e.Summary != "" {
		x.Summary = &feeds.AtomSummary{Content: e.Summary, Type: "html"}
	}
	switch {
	case e.Content != "":
		x.Content = &feeds.AtomContent{Content: e.Content, Type: "html"}
	case e.URL == "":
		// §4.1.1.1: an entry without an alternate link must have content.
		body := e.Summary
		if body == "" {
			body = html.EscapeString(e.Title)
		}
		x.Content = &feeds.AtomContent{Content: body, Type: "html"}
		x.Summary = nil
	}
	return x
}

func link(href, rel, typ, title string) atomLink {
	return atomLink{AtomLink: feeds.AtomLink{Href: href, Rel: rel, Type: typ}, Title: title}
}
