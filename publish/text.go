package publish

import (
	"bytes"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// policy is built once: a bluemonday Policy is safe for concurrent use
// once configured. See newPolicy for what it lets through.
var policy = newPolicy()

// newPolicy is bluemonday's UGC policy, an allow-list of formatting
// elements (text-level markup, headings, lists, tables, blockquote, img,
// a, figure, details) with a few checked attributes each. Everything else
// is dropped: script, style, iframe, object, embed, form controls, svg,
// math, meta, base, and every event handler, style and srcset attribute.
// URL attributes (href, src, cite) keep only http, https and mailto
// URLs, so javascript:, vbscript: and data: (images included, the safe
// choice: readers differ in how they treat data: SVG, and a data URL
// can smuggle megabytes) are removed, entity-encoded or not.
//
// On top of it, relative URLs are refused: sanitizeHTML resolves them
// against the article URL first, so one that is still relative had no
// base (the item's link was missing or not http(s)), and a reader would
// resolve it against the feed, pointing at the wrong host.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowRelativeURLs(false)
	return p
}

// sanitizeHTML makes publisher HTML safe to republish: relative links are
// resolved against the article URL (a reader has no other base for them),
// then everything goes through the sanitiser, and characters XML 1.0
// forbids are dropped so the feeds stay well-formed.
func sanitizeHTML(s, base string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	s = absolutize(xmlSafe(s), base)
	// Again after sanitising: the HTML parser decodes entities such as
	// &#11; into raw control characters, which XML 1.0 (§2.2) forbids
	// even inside CDATA.
	return strings.TrimSpace(xmlSafe(policy.Sanitize(s)))
}

// absolutize rewrites relative href and src attributes against base. On
// any parse problem it returns s unchanged; the sanitiser still runs.
func absolutize(s, base string) string {
	b, err := url.Parse(base)
	if err != nil || !b.IsAbs() {
		return s
	}
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return s
	}
	var buf bytes.Buffer
	for _, n := range nodes {
		resolveLinks(n, b)
		if err := html.Render(&buf, n); err != nil {
			return s
		}
	}
	return buf.String()
}

// urlAttr names the attributes the policy allows that hold one URL.
var urlAttr = map[string]bool{"href": true, "src": true, "cite": true}

func resolveLinks(n *html.Node, base *url.URL) {
	if n.Type == html.ElementNode {
		for i, a := range n.Attr {
			if a.Namespace != "" || !urlAttr[a.Key] {
				continue
			}
			v := strings.TrimSpace(a.Val)
			if v == "" {
				// An empty reference resolves to the article itself: an
				// <img src> would make readers fetch the page as an image.
				continue
			}
			if ref, err := url.Parse(v); err == nil {
				n.Attr[i].Val = base.ResolveReference(ref).String()
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		resolveLinks(c, base)
	}
}

// inline elements join their text to the neighbours' without a space.
var inline = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.B: true, atom.Cite: true, atom.Code: true,
	atom.Em: true, atom.I: true, atom.Mark: true, atom.Q: true, atom.S: true,
	atom.Small: true, atom.Span: true, atom.Strong: true, atom.Sub: true,
	atom.Sup: true, atom.U: true, atom.Time: true,
}

// plainText strips tags from an HTML fragment, decodes entities and
// collapses whitespace. The text of script, style and similar elements is
// not prose and is dropped.
func plainText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return collapse(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Iframe, atom.Noscript, atom.Object, atom.Template:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			}
			if !inline[a] {
				b.WriteByte(' ')
			}
		}
	}
}

// collapse folds runs of whitespace into one space and drops characters
// that XML 1.0 does not allow.
func collapse(s string) string {
	return strings.Join(strings.Fields(xmlSafe(s)), " ")
}

// xmlSafe returns s as valid UTF-8 without the control characters XML 1.0
// forbids (§2.2 Char), which would make the whole document ill-formed.
func xmlSafe(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0x7F && r <= 0x9F:
			return -1
		}
		return r
	}, s)
}

// excerptRunes is the length of an excerpt standing in for a missing title.
const excerptRunes = 80

// entryTitle is the plain-text title of an entry: the item's title, else a
// short excerpt of its text, else "(untitled)".
func entryTitle(title, text string) string {
	if t := plainTitle(title); t != "" {
		return t
	}
	if text := plainTitle(text); text != "" {
		return excerpt(text, excerptRunes)
	}
	return "(untitled)"
}

// plainTitle is plainText applied until nothing changes: publishers
// double-escape titles ("&amp;lt;b&amp;gt;"), and some readers render
// RSS titles as HTML (RSS 2.0 does not say whether a title may hold
// markup), so what decodes to a tag is stripped too. A title escaped more
// deeply than the rounds allow loses its angle brackets instead, so no
// reader can ever find a tag in it.
func plainTitle(s string) string {
	for range 4 {
		t := plainText(s)
		if t == s {
			return s
		}
		s = t
	}
	if plainText(s) != s {
		s = collapse(strings.NewReplacer("<", " ", ">", " ").Replace(s))
	}
	return s
}

// excerpt shortens plain text to at most n runes, cutting at a word
// boundary when there is one, and marks the cut with an ellipsis.
func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := len(r)
	for i := len(r) - 1; i > n/2; i-- {
		if unicode.IsSpace(r[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), unicode.IsSpace) + "…"
}
