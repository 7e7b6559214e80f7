package publish

import (
	"net/url"
	"strings"
)

// Format is one of the syndication formats a topic is published in.
type Format int

// The published formats.
const (
	RSS      Format = iota // RSS 2.0
	Atom                   // Atom 1.0, RFC 4287
	JSONFeed               // JSON Feed 1.1
)

// Formats returns every published format, in the order the index lists them.
func Formats() []Format {
	return []Format{RSS, Atom, JSONFeed}
}

// ParseFormat returns the format whose file extension (with the dot) is ext.
func ParseFormat(ext string) (Format, bool) {
	for _, f := range Formats() {
		if f.Ext() == ext {
			return f, true
		}
	}
	return 0, false
}

// Ext is the file extension, with its dot, of the format's URLs and files.
func (f Format) Ext() string {
	switch f {
	case Atom:
		return ".atom"
	case JSONFeed:
		return ".json"
	default:
		return ".rss"
	}
}

// ContentType is the media type the format is served as.
func (f Format) ContentType() string {
	switch f {
	case Atom:
		return "application/atom+xml; charset=utf-8"
	case JSONFeed:
		return "application/feed+json; charset=utf-8"
	default:
		return "application/rss+xml; charset=utf-8"
	}
}

// MediaType is ContentType without parameters, as autodiscovery links and
// Atom link types want it.
func (f Format) MediaType() string {
	mt, _, _ := strings.Cut(f.ContentType(), ";")
	return mt
}

// String names the format for people.
func (f Format) String() string {
	switch f {
	case Atom:
		return "Atom"
	case JSONFeed:
		return "JSON Feed"
	default:
		return "RSS"
	}
}

// layout says where a feed lives: under /feeds/ when served, or side by
// side with the OPML file in static mode.
type layout struct {
	base   string // BaseURL without trailing slash
	static bool
}

// feedURL is the absolute URL of topic's feed in format f.
func (l layout) feedURL(topic string, f Format) string {
	if l.static {
		return l.base + "/" + url.PathEscape(topic) + f.Ext()
	}
	return l.base + "/feeds/" + url.PathEscape(topic) + f.Ext()
}

// opmlURL is the absolute URL of the OPML document.
func (l layout) opmlURL() string {
	if l.static {
		return l.base + "/opml.xml"
	}
	return l.base + "/opml"
}
