package publish

import (
	"encoding/xml"
	"fmt"
	"time"
)

// OPML 2.0 (opml.org/spec2.opml): one outline of type "rss" per topic, so
// that a reader can subscribe to every topic at once.

type opmlDoc struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Title   string        `xml:"head>title"`
	Created string        `xml:"head>dateCreated"`
	Docs    string        `xml:"head>docs"`
	Body    []opmlOutline `xml:"body>outline"`
}

type opmlOutline struct {
	Type        string `xml:"type,attr"`
	Text        string `xml:"text,attr"`
	Title       string `xml:"title,attr"`
	Description string `xml:"description,attr,omitempty"`
	XMLURL      string `xml:"xmlUrl,attr"`
	HTMLURL     string `xml:"htmlUrl,attr"`
}

// renderOPML lists every topic's RSS feed.
func (s *Server) renderOPML(l layout) ([]byte, error) {
	doc := opmlDoc{
		Version: "2.0",
		Title:   "wiredesk topics",
		// OPML 2.0 dates are RFC 822 date-times.
		Created: s.startTime().UTC().Truncate(time.Second).Format(time.RFC1123Z),
		Docs:    "http://opml.org/spec2.opml",
	}
	for _, t := range s.topicURLs(l) {
		doc.Body = append(doc.Body, opmlOutline{
			Type:        "rss",
			Text:        t.Title,
			Title:       t.Title,
			Description: plainText(t.Topic.Description),
			XMLURL:      t.Feeds[0].URL, // RSS comes first in Formats
			HTMLURL:     s.homeURL(),
		})
	}
	body, err := marshalXML(doc)
	if err != nil {
		return nil, fmt.Errorf("render opml: %w", err)
	}
	return body, nil
}
