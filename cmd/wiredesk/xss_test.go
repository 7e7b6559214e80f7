package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wiredesk/wiredesk/internal/feedtest"
)

// xssRSSDoc carries attacks in every field an RSS publisher controls:
// title, link, author, description and content:encoded. Its first item
// also has relative links, which must end up absolute against that
// item's own link; its second item's link is a javascript: URL.
const xssRSSDoc = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>Hostile RSS</title>
<link>https://rss.hostile.example/</link>
<description>attacks</description>
<item>
 <title>&lt;b&gt;Harbour&lt;/b&gt; reopens &lt;script&gt;alert('rss-title')&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</title>
 <link>https://rss.hostile.example/news/2026/harbour.html</link>
 <guid isPermaLink="false">rss-1</guid>
 <dc:creator>&lt;script&gt;alert('author')&lt;/script&gt;Reporter</dc:creator>
 <description><![CDATA[<p onclick="alert(1)">The harbour reopened with a <a href="/about/us">relative link</a> in its summary.</p><script>alert('desc')</script><img src="x" onerror="alert(2)"><a href="jav&#x09;ascript:alert(3)">tab</a>]]></description>
 <content:encoded><![CDATA[<p>Harbour workers returned on Friday after repairs to the breakwater finished early.</p><img src="img/harbour.jpg" alt="harbour"><iframe src="https://evil.example/"></iframe><svg/onload=alert(4)><math><mtext></form><form><mglyph><style></math><img src onerror=alert(5)><a href="JaVaScRiPt:alert(6)">js</a><img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"><object data="x.swf"></object><embed src="x.swf"><form action="/x"><input name=q><button formaction="javascript:alert(7)">go</button></form><meta http-equiv="refresh" content="0;url=javascript:alert(8)"><base href="javascript:alert(9)//"><p style="background:url(javascript:alert(10));width:expression(alert(11))">styled</p><iframe srcdoc="&lt;script&gt;alert(12)&lt;/script&gt;"></iframe><a href="&#106;avascript:alert(13)">ent</a>]]></content:encoded>
 <pubDate>Fri, 27 Nov 2026 08:00:00 GMT</pubDate>
</item>
<item>
 <title>Council vote &lt;svg/onload=alert('t2')&gt;</title>
 <link>javascript:alert('rss-link')</link>
 <guid isPermaLink="false">rss-2</guid>
 <author>x@rss.hostile.example (&lt;script&gt;alert('a2')&lt;/script&gt;)</author>
 <description>The city council voted on the new tram line after a long debate.</description>
 <pubDate>Fri, 27 Nov 2026 07:00:00 GMT</pubDate>
</item>
</channel>
</rss>
`

// xssAtomDoc is the Atom variant: escaped and xhtml content, an html
// title, an author name with markup and a javascript: entry link.
const xssAtomDoc = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>Hostile Atom</title>
<id>urn:hostile:atom</id>
<updated>2026-11-27T09:00:00Z</updated>
<entry>
 <id>urn:hostile:atom:1</id>
 <title type="html">&lt;i&gt;Dam&lt;/i&gt; inspection &lt;script&gt;alert('atom-title')&lt;/script&gt;</title>
 <link rel="alternate" href="https://atom.hostile.example/2026/dam/inspection.html"/>
 <author><name>&lt;img src=x onerror=alert('atom-author')&gt;Writer</name></author>
 <updated>2026-11-27T09:00:00Z</updated>
 <summary type="html">&lt;a href="../index.html"&gt;index&lt;/a&gt; Engineers inspected the dam. &lt;img src=x onerror=alert(21)&gt;</summary>
 <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Engineers inspected the old dam wall on Thursday and found it sound.</p><script>alert(22)</script><img src="photos/dam.png" onerror="alert(23)"/><a href="vbscript:msgbox(24)">vb</a><svg xmlns="http://www.w3.org/2000/svg"><script>alert(25)</script></svg><a href=" javascript:alert(26)">sp</a></div></content>
</entry>
<entry>
 <id>urn:hostile:atom:2</id>
 <title>Orchard harvest</title>
 <link rel="alternate" href="javascript:alert('atom-link')"/>
 <updated>2026-11-27T06:00:00Z</updated>
 <content type="html">&lt;p&gt;Growers reported an early apple harvest this autumn.&lt;/p&gt;&lt;iframe src=javascript:alert(27)&gt;&lt;/iframe&gt;</content>
</entry>
</feed>
`

// xssConfig polls the two hostile feeds into a topic whose own title
// is hostile too (it is shown on the index page).
func xssConfig(t *testing.T, feeds *feedtest.Server) string {
	t.Helper()
	cfg := fmt.Sprintf(`[storage]
path = "wiredesk.db"

[server]
listen = "127.0.0.1:0"
base_url = "http://wiredesk.test"

[poll]
schedule = "@every 1h"
timeout = "5s"

[[source]]
name = "hostile-rss"
url = %q
tags = ["t"]

[[source]]
name = "hostile-atom"
url = %q
tags = ["t"]

[[topic]]
name = "t"
title = "<script>alert('topic')</script>Hostile <b>wire</b>"
description = "<img src=x onerror=alert('desc')>"
tags = ["t"]
limit = 50
`, feeds.URL+"/hostile.rss", feeds.URL+"/hostile.atom")
	path := filepath.Join(t.TempDir(), "wiredesk.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestXSSPipeline polls hostile feeds with a real daemon and checks every
// byte it republishes: the three topic formats and the index page.
func TestXSSPipeline(t *testing.T) {
	feeds := feedtest.New(t)
	feeds.Set("/hostile.rss", feedtest.Doc{Body: xssRSSDoc})
	feeds.Set("/hostile.atom", feedtest.Doc{Body: xssAtomDoc, ContentType: "application/atom+xml"})
	d, results := startDaemon(t, xssConfig(t, feeds))
	defer closeDaemon(t, d)
	for _, r := range waitResults(t, results, 2) {
		if r.Err != nil {
			t.Fatalf("poll %s: %v", r.Source, r.Err)
		}
	}
	base := "http://" + d.Addr()

	rssBody := getOK(t, base+"/feeds/t.rss")
	atomBody := getOK(t, base+"/feeds/t.atom")
	jsonBody := getOK(t, base+"/feeds/t.json")
	for name, body := range map[string][]byte{"rss": rssBody, "atom": atomBody, "json": jsonBody} {
		// Whatever the escaping, no xssDangerous scheme may be in the bytes.
		low := strings.ToLower(string(body))
		for _, bad := range []string{"javascript:", "vbscript:", "data:image", "data:text"} {
			if strings.Contains(low, bad) {
				t.Errorf("%s output contains %q", name, bad)
			}
		}
	}

	var entries []xssEntry
	entries = append(entries, xssRSS(t, rssBody)...)
	entries = append(entries, xssAtom(t, atomBody)...)
	entries = append(entries, xssJSON(t, jsonBody)...)
	if len(entries) != 12 {
		t.Fatalf("got %d entries over three formats, want 4 stories × 3", len(entries))
	}
	for _, e := range entries {
		xssCheckEntry(t, e)
	}
	xssCheckAbsolute(t, entries)
	xssCheckIndex(t, getOK(t, base+"/"))
}

// xssEntry is one rendered entry of one format, decoded from its format's
// escaping: html fields hold what a reader would render as HTML.
type xssEntry struct {
	format, title string
	links         []string
	html          []string
}

func xssRSS(t *testing.T, body []byte) []xssEntry {
	var doc struct {
		Items []struct {
			Title       string `xml:"title"`
			Link        string `xml:"link"`
			Description string `xml:"description"`
			Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
			Source      struct {
				URL string `xml:"url,attr"`
			} `xml:"source"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("parse rss: %v\n%s", err, body)
	}
	var out []xssEntry
	for _, it := range doc.Items {
		out = append(out, xssEntry{format: "rss", title: it.Title,
			links: []string{it.Link, it.Source.URL}, html: []string{it.Description, it.Content}})
	}
	return out
}

func xssAtom(t *testing.T, body []byte) []xssEntry {
	type text struct {
		Type string `xml:"type,attr"`
		Body string `xml:",chardata"`
	}
	var doc struct {
		Entries []struct {
			Title text `xml:"title"`
			Links []struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Summary text `xml:"summary"`
			Content text `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("parse atom: %v\n%s", err, body)
	}
	var out []xssEntry
	for _, e := range doc.Entries {
		// RFC 4287 §3.1.1: no type attribute means "text".
		if e.Title.Type != "" && e.Title.Type != "text" {
			t.Errorf("atom title type %q, want text", e.Title.Type)
		}
		x := xssEntry{format: "atom", title: e.Title.Body, html: []string{e.Summary.Body, e.Content.Body}}
		for _, l := range e.Links {
			x.links = append(x.links, l.Href)
		}
		out = append(out, x)
	}
	return out
}

func xssJSON(t *testing.T, body []byte) []xssEntry {
	var doc struct {
		Items []struct {
			Title       string `json:"title"`
			URL         string `json:"url"`
			ExternalURL string `json:"external_url"`
			ContentHTML string `json:"content_html"`
			ContentText string `json:"content_text"`
			Summary     string `json:"summary"`
			Ext         struct {
				Copies []struct {
					URL string `json:"url"`
				} `json:"copies"`
			} `json:"_wiredesk"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("parse json: %v\n%s", err, body)
	}
	var out []xssEntry
	for _, it := range doc.Items {
		x := xssEntry{format: "json", title: it.Title, links: []string{it.URL, it.ExternalURL},
			// summary and content_text are plain text in JSON Feed 1.1,
			// but a careless reader may render them: hold them to the
			// same standard.
			html: []string{it.ContentHTML, it.Summary, it.ContentText}}
		for _, c := range it.Ext.Copies {
			x.links = append(x.links, c.URL)
		}
		out = append(out, x)
	}
	return out
}

// checkEntry asserts that e's title is plain text, its links http(s) and
// its HTML free of anything executable.
func xssCheckEntry(t *testing.T, e xssEntry) {
	t.Helper()
	if n := xssElement(e.title); n != "" {
		t.Errorf("%s title %q parses as HTML with <%s>", e.format, e.title, n)
	}
	if e.title == "" {
		t.Errorf("%s entry has an empty title", e.format)
	}
	for _, l := range e.links {
		if l != "" && !xssHTTP(l) {
			t.Errorf("%s link %q is not http(s)", e.format, l)
		}
	}
	for _, h := range e.html {
		if bad := xssMarkup(h); bad != "" {
			t.Errorf("%s: %s in %q", e.format, bad, h)
		}
	}
}

// checkAbsolute asserts that each format resolved the relative links of
// the two first stories against the stories' own URLs.
func xssCheckAbsolute(t *testing.T, entries []xssEntry) {
	t.Helper()
	content := []string{
		`https://rss.hostile.example/news/2026/img/harbour.jpg`,
		`https://atom.hostile.example/2026/dam/photos/dam.png`,
	}
	// JSON Feed's summary is plain text (JSON Feed 1.1), so the links of
	// the summaries show only in RSS and Atom.
	summary := []string{
		`https://rss.hostile.example/about/us`,
		`https://atom.hostile.example/2026/index.html`,
	}
	for _, format := range []string{"rss", "atom", "json"} {
		want := content
		if format != "json" {
			want = append(slices.Clone(content), summary...)
		}
		var all strings.Builder
		for _, e := range entries {
			if e.format == format {
				all.WriteString(strings.Join(e.html, "\n"))
			}
		}
		for _, w := range want {
			if !strings.Contains(all.String(), `="`+w+`"`) {
				t.Errorf("%s: no attribute holds %s", format, w)
			}
		}
	}
}

// checkIndex walks the index page as a browser would parse it.
func xssCheckIndex(t *testing.T, body []byte) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	if bad := xssNode(doc); bad != "" {
		t.Errorf("index page: %s\n%s", bad, body)
	}
	if !strings.Contains(string(body), "&lt;script&gt;") {
		t.Errorf("index page does not show the topic title as text:\n%s", body)
	}
}

func xssHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// firstElement returns the name of the first element s holds when parsed
// as an HTML fragment, or "" when it is text only.
func xssElement(s string) string {
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return "unparseable"
	}
	for _, n := range nodes {
		if n.Type == html.ElementNode {
			return n.Data
		}
	}
	return ""
}

// unsafeMarkup parses s as an HTML fragment and describes the first
// executable construct in it, or returns "".
func xssMarkup(s string) string {
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return "unparseable"
	}
	for _, n := range nodes {
		if bad := xssNode(n); bad != "" {
			return bad
		}
	}
	return ""
}

// xssDangerous elements run code, load other documents, restyle or
// redirect the page, or submit data.
var xssDangerous = map[string]bool{
	"script": true, "iframe": true, "frame": true, "object": true, "embed": true,
	"applet": true, "style": true, "base": true, "form": true,
	"input": true, "button": true, "textarea": true, "select": true, "svg": true, "math": true,
}

func xssNode(n *html.Node) string {
	if n.Type == html.ElementNode {
		// The status page's own stylesheet is the one style element
		// allowed, in the head, where no feed text is placed.
		ownStyle := n.Data == "style" && n.Parent != nil && n.Parent.Data == "head"
		if xssDangerous[n.Data] && !ownStyle {
			return "element <" + n.Data + ">"
		}
		// The index page has its own charset and viewport meta; one that
		// refreshes or redirects is an attack.
		if n.Data == "meta" && slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return strings.EqualFold(a.Key, "http-equiv") }) {
			return "meta http-equiv"
		}
		for _, a := range n.Attr {
			switch key := strings.ToLower(a.Key); {
			case strings.HasPrefix(key, "on"), key == "style", key == "srcdoc", key == "srcset", key == "formaction":
				return "attribute " + key + " on <" + n.Data + ">"
			case (key == "href" || key == "src" || key == "cite" || key == "action") && !xssHTTP(a.Val):
				return fmt.Sprintf("%s=%q on <%s>", key, a.Val, n.Data)
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if bad := xssNode(c); bad != "" {
			return bad
		}
	}
	return ""
}
