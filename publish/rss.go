package publish

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"time"

	"github.com/gorilla/feeds"
	"github.com/wiredesk/wiredesk"
)

// RSS 2.0 is rendered from gorilla/feeds' structs wrapped where they fall
// short of what the W3C validator accepts: RssItem.Source is a bare
// string, but RSS 2.0 <source> requires a url attribute; the channel has
// no atom:link rel="self"; and the item link is not omitted when empty.

const (
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsAtom    = "http://www.w3.org/2005/Atom"
)

type rssDoc struct {
	XMLName   xml.Name    `xml:"rss"`
	Version   string      `xml:"version,attr"`
	ContentNS string      `xml:"xmlns:content,attr"`
	AtomNS    string      `xml:"xmlns:atom,attr"`
	Channel   *rssChannel `xml:"channel"`
}

type rssChannel struct {
	*feeds.RssFeed
	// AtomLink is the channel's own URL, as the RSS Advisory Board
	// recommends, declared through the atom namespace on <rss>.
	// With a WebSub hub, a second atom:link names it (WebSub §4).
	AtomLinks []*rssAtomLink
	Items     []*rssItem `xml:"item"` // shadows RssFeed.Items
}

type rssAtomLink struct {
	XMLName xml.Name `xml:"atom:link"`
	Href    string   `xml:"href,attr"`
	Rel     string   `xml:"rel,attr"`
	Type    string   `xml:"type,attr,omitempty"`
}

type rssItem struct {
	*feeds.RssItem
	Link   string     `xml:"link,omitempty"` // shadows RssItem.Link
	Source *rssSource // shadows RssItem.Source
}

// rssSource is RSS 2.0 <source url="...">: the channel the item came from.
type rssSource struct {
	XMLName xml.Name `xml:"source"`
	URL     string   `xml:"url,attr"`
	Name    string   `xml:",chardata"`
}

func renderRSS(ch channel) ([]byte, error) {
	c := &rssChannel{
		RssFeed: &feeds.RssFeed{
			Title:         ch.Title,
			Link:          ch.HomeURL,
			Description:   ch.Description,
			LastBuildDate: ch.Updated.Format(time.RFC1123Z),
			Generator:     "wiredesk " + wiredesk.Version,
			Docs:          "https://www.rssboard.org/rss-specification",
		},
		AtomLinks: []*rssAtomLink{{Href: ch.SelfURL, Rel: "self", Type: RSS.MediaType()}},
	}
	if ch.HubURL != "" {
		c.AtomLinks = append(c.AtomLinks, &rssAtomLink{Href: ch.HubURL, Rel: "hub"})
	}
	for _, e := range ch.Entries {
		c.Items = append(c.Items, newRSSItem(e))
	}
	doc := rssDoc{Version: "2.0", ContentNS: nsContent, AtomNS: nsAtom, Channel: c}
	return marshalXML(doc)
}

func newRSSItem(e entry) *rssItem {
	it := &rssItem{
		RssItem: &feeds.RssItem{
			Title:       e.Title,
			Description: e.Summary,
			// Story GUIDs are urn:uuid: names, not article URLs.
			Guid:    &feeds.RssGuid{Id: e.ID, IsPermaLink: "false"},
			PubDate: e.Published.Format(time.RFC1123Z),
		},
		Link: e.URL,
	}
	if it.Description == "" {
		it.Description = html.EscapeString(e.Text)
	}
	if e.Content != "" {
		it.Content = &feeds.RssContent{Content: e.Content}
	}
	// <author> must be an e-mail address; the outlet goes in <source>,
	// which needs the outlet's feed URL.
	if e.SourceURL != "" {
		it.Source = &rssSource{URL: e.SourceURL, Name: e.Source}
	}
	return it
}

func marshalXML(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode xml: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
