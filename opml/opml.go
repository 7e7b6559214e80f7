// Package opml reads and writes OPML subscription lists, the format every
// feed reader imports and exports.
//
// Readers lay the file out differently (OPML 1.0, 1.1 or 2.0; categories
// as nested outlines, as a category attribute, or not at all; xmlUrl
// spelt in any case), so Parse is lenient about layout and strict only
// about the XML itself, whose errors carry a line number.
package opml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/html/charset"
)

// Feed is one subscription: an outline with a feed URL.
type Feed struct {
	Title   string   // text or title attribute
	XMLURL  string   // the feed
	HTMLURL string   // the site, if given
	Tags    []string // enclosing category outlines and category attributes, outermost first
}

// Doc is a parsed subscription list.
type Doc struct {
	Title   string
	Feeds   []Feed    // in document order; a URL listed twice appears twice
	Skipped []Skipped // outlines that are neither feeds nor folders, in document order
}

// Skipped is an outline Parse did not take as a feed, kept so that the
// caller can tell the user rather than drop it silently.
type Skipped struct {
	Title  string // text or title attribute; may be empty
	URL    string // its url attribute, if any
	Reason string
}

type outline struct {
	Text     string     `xml:"text,attr"`
	Title    string     `xml:"title,attr"`
	Type     string     `xml:"type,attr"`
	Category string     `xml:"category,attr"`
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []outline  `xml:"outline"`
}

type document struct {
	XMLName xml.Name  `xml:"opml"`
	Title   string    `xml:"head>title"`
	Body    []outline `xml:"body>outline"`
}

// attr returns the attribute named name in any letter case (xmlUrl,
// xmlURL, xmlurl all occur in the wild).
func (o outline) attr(name string) string {
	for _, a := range o.Attrs {
		if strings.EqualFold(a.Name.Local, name) {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

func (o outline) label() string {
	if t := strings.TrimSpace(o.Text); t != "" {
		return t
	}
	return strings.TrimSpace(o.Title)
}

// Parse reads an OPML document. The encoding declared in the prolog is
// honoured (ISO-8859-1 exports exist) and a UTF-8 byte order mark is
// skipped.
func Parse(r io.Reader) (*Doc, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read opml: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charset.NewReaderLabel
	// Hand-edited lists use HTML entities (&eacute;); accept them. The
	// parser stays strict otherwise, so a truncated or mangled file is
	// an error with its line rather than a silently shorter list.
	dec.Entity = xml.HTMLEntity
	start, err := rootElement(dec, data)
	if err != nil {
		return nil, err
	}
	var d document
	if err := dec.DecodeElement(&d, &start); err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("opml: line %d: %s", se.Line, se.Msg)
		}
		return nil, fmt.Errorf("opml: %w", err)
	}
	if err := checkEnd(dec); err != nil {
		return nil, err
	}
	doc := &Doc{Title: strings.TrimSpace(d.Title)}
	doc.walk(d.Body, nil)
	return doc, nil
}

// walk collects the feeds of outlines nested in folders named by tags.
func (doc *Doc) walk(outlines []outline, tags []string) {
	for _, o := range outlines {
		if u := o.feedURL(); u != "" {
			doc.Feeds = append(doc.Feeds, Feed{
				Title:   o.label(),
				XMLURL:  u,
				HTMLURL: o.attr("htmlUrl"),
				Tags:    appendCategories(slices.Clone(tags), o.Category),
			})
			// Feeds nested in a feed occur (hand edits, readers that
			// group a site's feeds under its main one). They are kept,
			// tagged like their parent was but not with its title or
			// category: a feed's title names a publication, not a
			// folder, and would make a tag per feed.
			doc.walk(o.Children, tags)
			continue
		}
		if len(o.Children) == 0 {
			reason := "no feed URL"
			if o.Type != "" {
				reason += fmt.Sprintf(" (type %q)", o.Type)
			}
			doc.Skipped = append(doc.Skipped, Skipped{Title: o.label(), URL: o.attr("url"), Reason: reason})
			continue
		}
		// An outline without a feed is a folder: its name tags
		// every feed inside it.
		inner := tags
		if l := o.label(); l != "" {
			inner = append(slices.Clone(tags), l)
		}
		doc.walk(o.Children, appendCategories(inner, o.Category))
	}
}

// feedURL is the outline's feed: xmlUrl (OPML 2.0 "subscription lists"),
// or url on an outline typed rss or atom, as some readers write it.
func (o outline) feedURL() string {
	if u := o.attr("xmlUrl"); u != "" {
		return u
	}
	if strings.EqualFold(o.Type, "rss") || strings.EqualFold(o.Type, "atom") {
		return o.attr("url")
	}
	return ""
}

// ErrNotOPML is the error, wrapped, for a file that is not OPML at all:
// another XML format, HTML (a login page saved by mistake), JSON, text.
var ErrNotOPML = errors.New("not an OPML document")

// rootElement reads up to the document's root element, which must be
// <opml>. Text before it means the file is not XML at all.
func rootElement(dec *xml.Decoder, data []byte) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(bytes.TrimSpace(data)) == 0 {
				return xml.StartElement{}, errors.New("opml: empty document")
			}
			return xml.StartElement{}, fmt.Errorf("%w: it has no XML element", ErrNotOPML)
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return xml.StartElement{}, fmt.Errorf("opml: line %d: %s", se.Line, se.Msg)
		}
		if err != nil {
			return xml.StartElement{}, fmt.Errorf("opml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "opml" {
				return t, fmt.Errorf("%w: root element is <%s>, not <opml>", ErrNotOPML, t.Name.Local)
			}
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, fmt.Errorf("%w: it begins %q, not with an XML element", ErrNotOPML, head(bytes.TrimSpace(data)))
			}
		}
	}
}

// checkEnd reads what follows </opml>: only comments, processing
// instructions and white space may (XML 1.0 §2.1, "Misc"). Anything else
// is likely a second file pasted on, or a broken export, and reading the
// first part alone would import a list silently cut short.
func checkEnd(dec *xml.Decoder) error {
	for {
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("opml: line %d: after </opml>: %s", se.Line, se.Msg)
		}
		if err != nil {
			return fmt.Errorf("opml: after </opml>: %w", err)
		}
		var what string
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
			continue
		case xml.CharData:
			text := bytes.TrimLeft(t, " \t\r\n")
			if len(text) == 0 {
				continue
			}
			line += bytes.Count(t[:len(t)-len(text)], []byte("\n"))
			what = fmt.Sprintf("text %q", head(bytes.TrimSpace(text)))
		case xml.StartElement:
			what = fmt.Sprintf("element <%s>", t.Name.Local)
		default: // a <!DOCTYPE …> or other declaration
			what = "a <!…> declaration"
		}
		return fmt.Errorf("opml: line %d: after </opml>: %s", line, what)
	}
}

// head is the start of b, enough to recognise what a file is.
func head(b []byte) string {
	const n = 24
	if len(b) > n {
		return strings.ToValidUTF8(string(b[:n]), "") + "…"
	}
	return strings.ToValidUTF8(string(b), "")
}

// appendCategories adds the values of an OPML 2.0 category attribute: a
// comma-separated list of slash-delimited paths ("/Tech/Go,News").
func appendCategories(tags []string, attr string) []string {
	for c := range strings.SplitSeq(attr, ",") {
		for part := range strings.SplitSeq(c, "/") {
			if p := strings.TrimSpace(part); p != "" {
				tags = append(tags, p)
			}
		}
	}
	return tags
}

// Group is a folder of feeds in a written document.
type Group struct {
	Name  string // "" puts the feeds at the top level
	Feeds []Feed
}

type outOutline struct {
	Text     string       `xml:"text,attr"`
	Title    string       `xml:"title,attr,omitempty"`
	Type     string       `xml:"type,attr,omitempty"`
	XMLURL   string       `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string       `xml:"htmlUrl,attr,omitempty"`
	Children []outOutline `xml:"outline"`
}

type outDoc struct {
	XMLName xml.Name     `xml:"opml"`
	Version string       `xml:"version,attr"`
	Title   string       `xml:"head>title"`
	Created string       `xml:"head>dateCreated"`
	Body    []outOutline `xml:"body>outline"`
}

// Write writes an OPML 2.0 document with one folder per named group.
func Write(w io.Writer, title string, created time.Time, groups []Group) error {
	d := outDoc{Version: "2.0", Title: title, Created: created.UTC().Format(time.RFC1123Z)}
	feed := func(f Feed) outOutline {
		return outOutline{Text: f.Title, Title: f.Title, Type: "rss", XMLURL: f.XMLURL, HTMLURL: f.HTMLURL}
	}
	for _, g := range groups {
		if g.Name == "" {
			for _, f := range g.Feeds {
				d.Body = append(d.Body, feed(f))
			}
			continue
		}
		folder := outOutline{Text: g.Name, Title: g.Name}
		for _, f := range g.Feeds {
			folder.Children = append(folder.Children, feed(f))
		}
		d.Body = append(d.Body, folder)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write opml: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("write opml: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write opml: %w", err)
	}
	return nil
}
