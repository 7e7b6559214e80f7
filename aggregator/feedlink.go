package aggregator

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxAdvertised bounds the feed URLs named in an error.
const maxAdvertised = 3

// notFeedReason explains a document that is not a feed, for the error an
// operator reads: an HTML page (and the feeds it advertises, if any, made
// absolute against base, so they can be pasted into feed_url), or an
// empty body. It returns "" when it has nothing to add to the parser's
// own error (truncated or malformed XML, say).
func notFeedReason(body []byte, base *url.URL) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return "the response body is empty"
	}
	if !strings.HasPrefix(http.DetectContentType(body), "text/html") {
		return ""
	}
	links := advertisedFeeds(body, base)
	switch len(links) {
	case 0:
		return "it is an HTML page and advertises no feed"
	case 1:
		return "it is an HTML page; it advertises a feed at " + links[0] + ": set feed_url to it"
	}
	return fmt.Sprintf("it is an HTML page; it advertises feeds at %s: set feed_url to one of them",
		strings.Join(links, ", "))
}

// advertisedFeeds returns the absolute http(s) URLs of the feeds an HTML
// page links to with <link rel="alternate" type="application/rss+xml">
// (or atom+xml, feed+json), the feed autodiscovery convention of the RSS
// Advisory Board and RFC 4287 §4.2.7.2. It stops at <body>: the links
// belong in <head>.
func advertisedFeeds(body []byte, base *url.URL) []string {
	var links []string
	z := html.NewTokenizer(bytes.NewReader(body))
	for len(links) < maxAdvertised {
		switch z.Next() {
		case html.ErrorToken:
			return links
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch atom.Lookup(name) {
			case atom.Body:
				return links
			case atom.Link:
				if hasAttr {
					if l := feedLink(z, base); l != "" && !contains(links, l) {
						links = append(links, l)
					}
				}
			}
		}
	}
	return links
}

// feedLink returns the absolute URL of the <link> under the tokenizer if
// it advertises a feed, else "".
func feedLink(z *html.Tokenizer, base *url.URL) string {
	var rel, typ, href string
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "rel":
			rel = strings.ToLower(string(v))
		case "type":
			typ = strings.ToLower(strings.TrimSpace(string(v)))
		case "href":
			href = string(v)
		}
		if !more {
			break
		}
	}
	if !contains(strings.Fields(rel), "alternate") || href == "" {
		return ""
	}
	switch typ {
	case "application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml":
		return resolve(base, href)
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
