package publish

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wiredesk/wiredesk"
)

// xssPayloads are classic attacks on HTML sanitisers, written for these
// tests: event handlers, script-bearing elements, URL schemes hidden by
// case, entities and whitespace, namespace confusion (SVG, MathML) and
// broken nesting that some parsers mend into a live tag. Each one
// carries the word "keep" where the text around it should survive.
var xssPayloads = []struct{ name, html string }{
	{"script", `keep<script>alert(1)</script>`},
	{"script mixed case", `keep<ScRiPt>alert(1)</sCrIpT>`},
	{"script split", `keep<scr<script>ipt>alert(1)</scr</script>ipt>`},
	{"script src", `keep<script src="https://evil.example/x.js"></script>`},
	{"img onerror", `keep<img src=x onerror=alert(1)>`},
	{"img onerror no quotes slash", `keep<img/src=x/onerror=alert(1)>`},
	{"img onerror entity", `keep<img src=x onerror="&#97;lert(1)">`},
	{"svg onload", `keep<svg/onload=alert(1)>`},
	{"svg script", `keep<svg><script>alert(1)</script></svg>`},
	{"svg animate href", `keep<svg><a><animate attributeName=href values=javascript:alert(1) /><text x=20 y=20>x</text></a></svg>`},
	{"body onload", `keep<body onload=alert(1)>`},
	{"details ontoggle", `keep<details open ontoggle=alert(1)>`},
	{"a javascript", `keep<a href="javascript:alert(1)">x</a>`},
	{"a javascript mixed case", `keep<a href="JaVaScRiPt:alert(1)">x</a>`},
	{"a javascript tab entity", `keep<a href="jav&#x09;ascript:alert(1)">x</a>`},
	{"a javascript newline", "keep<a href=\"java\nscript:alert(1)\">x</a>"},
	{"a javascript decimal entities", `keep<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>`},
	{"a javascript hex entities no semicolons", `keep<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)">x</a>`},
	{"a javascript leading space", `keep<a href="  javascript:alert(1)">x</a>`},
	{"a javascript colon entity", `keep<a href="javascript&colon;alert(1)">x</a>`},
	{"a vbscript", `keep<a href="vbscript:msgbox(1)">x</a>`},
	{"a data html", `keep<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`},
	{"img data svg", `keep<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`},
	{"img data png", `keep<img src="data:image/png;base64,iVBORw0KGgo=">`},
	{"img javascript", `keep<img src="javascript:alert(1)">`},
	{"img srcset", `keep<img src="a.jpg" srcset="javascript:alert(1) 1x, b.jpg 2x">`},
	{"iframe", `keep<iframe src="https://evil.example/"></iframe>`},
	{"iframe srcdoc", `keep<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>`},
	{"iframe javascript", `keep<iframe src=javascript:alert(1)>`},
	{"frameset", `keep<frameset><frame src="javascript:alert(1)"></frameset>`},
	{"object", `keep<object data="https://evil.example/x.swf"></object>`},
	{"embed", `keep<embed src="https://evil.example/x.swf">`},
	{"applet", `keep<applet code="X.class"></applet>`},
	{"style element", `keep<style>body{background:url(javascript:alert(1))}</style>`},
	{"style expression", `keep<p style="width: expression(alert(1))">p</p>`},
	{"style url javascript", `keep<div style="background:url(javascript:alert(1))">d</div>`},
	{"link stylesheet", `keep<link rel=stylesheet href="https://evil.example/x.css">`},
	{"meta refresh", `keep<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`},
	{"base", `keep<base href="javascript:alert(1)//">`},
	{"form", `keep<form action="javascript:alert(1)"><input type=submit></form>`},
	{"button formaction", `keep<button formaction="javascript:alert(1)">b</button>`},
	{"input onfocus", `keep<input autofocus onfocus=alert(1)>`},
	{"textarea", `keep<textarea onfocus=alert(1) autofocus></textarea>`},
	{"select", `keep<select onchange=alert(1)><option>o</option></select>`},
	{"math mglyph style", `keep<math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>`},
	{"math href", `keep<math href="javascript:alert(1)">m</math>`},
	{"noscript mutation", `keep<noscript><p title="</noscript><img src=x onerror=alert(1)>">`},
	{"template", `keep<template><img src=x onerror=alert(1)></template>`},
	{"comment breakout", `keep<!--><img src=x onerror=alert(1)>-->`},
	{"cdata breakout", `keep<![CDATA[><img src=x onerror=alert(1)>]]>`},
	{"unclosed attribute", `keep<a href="https://ok.example/" title="x><img src=x onerror=alert(1)>">x</a>`},
	{"xml namespace", `keep<x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>`},
	{"video poster", `keep<video poster=javascript:alert(1)></video>`},
	{"audio onerror", `keep<audio src=x onerror=alert(1)>`},
	{"marquee onstart", `keep<marquee onstart=alert(1)>m</marquee>`},
	{"area javascript", `keep<map name=m><area href="javascript:alert(1)" shape=rect coords=0,0,1,1></map>`},
	{"blockquote cite javascript", `keep<blockquote cite="javascript:alert(1)">q</blockquote>`},
	{"null byte in tag", "keep<scr\x00ipt>alert(1)</script>"},
	{"cdata end in text", `keep]]><script>alert(1)</script>`},
}

// forbiddenElements may not appear in sanitised output in any namespace.
var forbiddenElements = map[string]bool{
	"script": true, "iframe": true, "frame": true, "frameset": true, "object": true,
	"embed": true, "applet": true, "style": true, "link": true, "meta": true, "base": true,
	"form": true, "input": true, "button": true, "textarea": true, "select": true,
	"svg": true, "math": true, "template": true, "noscript": true, "video": true, "audio": true,
}

// urlAttrs hold URLs in HTML, SVG or MathML.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "cite": true, "action": true, "formaction": true,
	"poster": true, "background": true, "data": true, "xlink:href": true, "srcset": true,
}

// unsafeHTML parses s as a browser would (inside a body) and describes the
// first executable construct found, or returns "" when there is none.
func unsafeHTML(s string) string {
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return "unparseable: " + err.Error()
	}
	for _, n := range nodes {
		if bad := unsafeNode(n); bad != "" {
			return bad
		}
	}
	return ""
}

func unsafeNode(n *html.Node) string {
	if n.Type == html.ElementNode {
		if forbiddenElements[strings.ToLower(n.Data)] {
			return "element <" + n.Data + ">"
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			if a.Namespace != "" {
				key = a.Namespace + ":" + key
			}
			switch {
			case strings.HasPrefix(key, "on"), key == "style", key == "srcdoc", key == "srcset":
				return "attribute " + key + " on <" + n.Data + ">"
			case urlAttrs[key] && !safeURL(a.Val):
				return "URL " + key + "=" + a.Val + " on <" + n.Data + ">"
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if bad := unsafeNode(c); bad != "" {
			return bad
		}
	}
	return ""
}

// safeURL reports whether u is an absolute http(s) or mailto URL.
func safeURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch p.Scheme {
	case "http", "https":
		return p.Host != ""
	case "mailto":
		return true
	}
	return false
}

func TestSanitizeHTMLPayloads(t *testing.T) {
	for _, tt := range xssPayloads {
		t.Run(tt.name, func(t *testing.T) {
			for _, base := range []string{"https://news.example/world/story.html", ""} {
				got := sanitizeHTML(tt.html, base)
				if bad := unsafeHTML(got); bad != "" {
					t.Errorf("sanitizeHTML(%q, %q) = %q: %s", tt.html, base, got, bad)
				}
				if low := strings.ToLower(got); strings.Contains(low, "javascript") || strings.Contains(low, "data:") {
					t.Errorf("sanitizeHTML(%q, %q) = %q keeps a dangerous scheme", tt.html, base, got)
				}
				if !strings.Contains(got, "keep") {
					t.Errorf("sanitizeHTML(%q, %q) = %q lost the safe text", tt.html, base, got)
				}
			}
		})
	}
}

func TestTitlePayloads(t *testing.T) {
	for _, tt := range xssPayloads {
		t.Run(tt.name, func(t *testing.T) {
			// A title is plain text: even parsed as HTML (as some readers
			// parse RSS titles), it must hold no element at all.
			for _, title := range []string{tt.html, html.EscapeString(tt.html), html.EscapeString(html.EscapeString(tt.html))} {
				got := entryTitle(title, "")
				if hasElement(got) {
					t.Errorf("entryTitle(%q) = %q holds markup", title, got)
				}
			}
		})
	}
}

// hasElement reports whether s parses as HTML into anything but text.
func hasElement(s string) bool {
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return true
	}
	for _, n := range nodes {
		if n.Type != html.TextNode {
			return true
		}
	}
	return false
}

func TestTitleDeeplyEscaped(t *testing.T) {
	title := `<script>alert(1)</script>x`
	for range 8 {
		title = html.EscapeString(title)
	}
	got := entryTitle(title, "")
	if strings.ContainsAny(got, "<>") || hasElement(got) || hasElement(html.UnescapeString(got)) {
		t.Errorf("entryTitle(8× escaped) = %q still holds a tag", got)
	}
}

func TestSanitizeHTMLResolvesAgainstItem(t *testing.T) {
	const base = "https://wire.example/2026/03/story.html?id=7"
	tests := []struct{ name, in, base, want string }{
		{"root-relative href", `<a href="/about">a</a>`, base, `<a href="https://wire.example/about" rel="nofollow">a</a>`},
		{"relative src", `<img src="img/p.jpg" alt="">`, base, `<img src="https://wire.example/2026/03/img/p.jpg" alt=""/>`},
		{"dot-dot src", `<img src="../p.jpg">`, base, `<img src="https://wire.example/2026/p.jpg"/>`},
		{"protocol-relative", `<img src="//cdn.example/p.jpg">`, base, `<img src="https://cdn.example/p.jpg"/>`},
		{"fragment", `<a href="#notes">n</a>`, base, `<a href="https://wire.example/2026/03/story.html?id=7#notes" rel="nofollow">n</a>`},
		{"cite", `<blockquote cite="/src">q</blockquote>`, base, `<blockquote cite="https://wire.example/src">q</blockquote>`},
		{"empty src", `<img src="" alt="a"><img src onerror=alert(1)>`, base, `<img alt="a"/>`},
		{"http base", `<a href="x">x</a>`, "http://old.example/a/b", `<a href="http://old.example/a/x" rel="nofollow">x</a>`},
		// Without an article URL there is nothing correct to resolve
		// against: the link goes, its text stays.
		{"no base", `<a href="/about">a</a><img src="p.jpg">`, "", `a`},
		{"absolute kept without base", `<a href="https://x.example/">x</a>`, "", `<a href="https://x.example/" rel="nofollow">x</a>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitizeHTML(tt.in, tt.base); got != tt.want {
				t.Errorf("sanitizeHTML(%q, %q) = %q, want %q", tt.in, tt.base, got, tt.want)
			}
		})
	}
}

// TestRenderResolvesAgainstItemURL checks that the base is the item's own
// link, not the feed's or wiredesk's.
func TestRenderResolvesAgainstItemURL(t *testing.T) {
	p := item(1, "AP", "ap-r", "https://story.example/news/a.html", "Relative", at(9, 0))
	p.Summary = `<p><a href="b.html">b</a> <img src="/i.png"></p>`
	st := wiredesk.Story{ID: 1, GUID: "urn:x:1", Primary: p, Copies: []wiredesk.Item{p}, Published: at(9, 0), Updated: at(9, 0)}
	s := newTestServer(&sliceFinder{stories: []wiredesk.Story{st}})
	body, _, err := s.Render(context.Background(), "world", RSS)
	if err != nil {
		t.Fatal(err)
	}
	desc := parseRSS(t, body).Channel.Items[0].Description
	for _, want := range []string{`href="https://story.example/news/b.html"`, `src="https://story.example/i.png"`} {
		if !strings.Contains(desc, want) {
			t.Errorf("description %q lacks %s", desc, want)
		}
	}
}
