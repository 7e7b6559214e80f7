package publish

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html/template"
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

// indexTmpl is the landing page. Topic titles are configured plain text;
// html/template escapes every value for its context, so a topic titled
// "<script>" is shown as written, never run.
var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wiredesk</title>
{{- range .Topics}}{{$t := .Topic.Title}}{{range .Feeds}}
<link rel="alternate" {{.TypeAttr}} title="{{$t}} ({{.Format}})" href="{{.URL}}">
{{- end}}{{end}}
</head>
<body>
<h1>wiredesk</h1>
<p>Curated news topics. Subscribe to any of them in your feed reader, or import <a href="{{.OPML}}">all of them (OPML)</a>.</p>
<ul>
{{- range .Topics}}
<li><strong>{{.Topic.Title}}</strong>{{with .Topic.Description}} &mdash; {{.}}{{end}}
{{- range .Feeds}} <a href="{{.URL}}" {{.TypeAttr}}>{{.Format}}</a>{{end}}</li>
{{- else}}
<li>No topics are configured.</li>
{{- end}}
</ul>
<footer>wiredesk {{.Version}}</footer>
</body>
</html>
`))

func (s *Server) renderIndex(version string) ([]byte, error) {
	l := s.layout(false)
	data := struct {
		Topics  []topicURLs
		OPML    string
		Version string
	}{s.topicURLs(l), l.opmlURL(), version}
	var buf bytes.Buffer
	if err := indexTmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render index: %w", err)
	}
	return buf.Bytes(), nil
}
