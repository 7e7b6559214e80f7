package aggregator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/dedupe"
)

// maxTitleRunes caps a title: a feed that stuffs a whole article into
// <title> must not bloat every rendered feed and index page.
const maxTitleRunes = 1000

// maxGUIDBytes bounds a stored GUID; a longer one (a feed putting the
// article in <guid>) is replaced by its hash, which is just as stable.
const maxGUIDBytes = 2048

// validUTF8 replaces invalid UTF-8 with U+FFFD.
func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// futureSlack is how far in the future an item's date may lie before it is
// treated as wrong and dropped, as if the feed gave none: some publishers
// emit local times labelled UTC, others schedule embargoed items.
const futureSlack = 24 * time.Hour

// Parse adapts a feed document (RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed
// 1.x) to domain items of source. baseURL is the final URL the document was
// fetched from; relative links resolve against the feed's own link, else
// against it. now is the first-seen time (Item.FirstSeen) and the
// reference for implausible dates. An item without a usable date keeps a
// zero Published and Updated: the store then fills them from the first
// sighting and keeps the stored value on later polls, so an undated item
// is not "updated" by every poll.
// A document that is not a feed yields an error wrapping wiredesk.ErrNotFeed.
//
// Items come back in document order; a GUID repeated within the document
// keeps its first item.
//
// The body is read as UTF-8 when it is valid UTF-8, whatever its prolog
// declares, and every text field of the items is valid UTF-8 (see toUTF8).
// XML entities declared in a DTD are not expanded (they stay literal), so
// a "billion laughs" document costs no more than its size.
func Parse(source, baseURL string, body []byte, now time.Time) ([]wiredesk.Item, error) {
	return parse(source, baseURL, body, "", now)
}

// parse is Parse with the charset the Content-Type header declared.
func parse(source, baseURL string, body []byte, charset string, now time.Time) ([]wiredesk.Item, error) {
	items, err := parseItems(source, baseURL, body, charset, now)
	if err != nil {
		return nil, err
	}
	fingerprint(items, true)
	return items, nil
}

// fingerprint sets each item's ContentHash and Fingerprint, and with
// withDocs its Doc, the costly part of adapting an item (its text is
// cleaned twice over), and returns the cleaned documents by GUID for the
// near-duplicate decision to reuse. Without dedupe no Doc is stored, so
// none need be encoded.
func fingerprint(items []wiredesk.Item, withDocs bool) map[string]*dedupe.Doc {
	docs := make(map[string]*dedupe.Doc, len(items))
	for i := range items {
		it := &items[i]
		var doc dedupe.Doc
		doc, it.ContentHash = dedupe.Analyze(it.Title, it.Body())
		if sig := doc.Signature(); !sig.Empty() {
			// Encoding in memory cannot fail. A text too short to index
			// is never a candidate, so it needs no stored doc either.
			it.Fingerprint, _ = sig.MarshalBinary()
			if withDocs {
				it.Doc, _ = doc.MarshalBinary()
			}
		}
		docs[it.GUID] = &doc
	}
	return docs
}

// rawDigest hashes the fields an update would change, as fetched: the
// same digest next poll means the same item, with no need to clean or
// compare its text again.
func rawDigest(it wiredesk.Item) int64 {
	h := fnv.New64a()
	for _, f := range []string{it.URL, it.Title, it.Summary, it.Content, it.Author,
		it.Published.Format(time.RFC3339Nano), it.Updated.Format(time.RFC3339Nano)} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	// 0 means "no digest stored"; never produce it.
	return int64(h.Sum64() | 1)
}

// newFeedParser returns gofeed's parser without its search for an item
// image in the item's HTML, which wiredesk does not keep: for an RSS item
// without an explicit image gofeed parses its content and description as
// HTML documents, a tenth of parsing the farm's feeds.
func newFeedParser() *gofeed.Parser {
	p := gofeed.NewParser()
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	return p
}

// parseItems parses and adapts the items, without fingerprinting them.
func parseItems(source, baseURL string, body []byte, charset string, now time.Time) ([]wiredesk.Item, error) {
	doc := toUTF8(body, charset)
	feed, err := newFeedParser().Parse(bytes.NewReader(doc))
	if err != nil {
		// One reference to a character XML forbids, such as &#0; pasted
		// into a title, fails the whole document; read it as an HTML
		// parser would, as U+FFFD, rather than lose every item. Only on
		// failure: a well-formed feed is not scanned twice.
		if fixed, ok := replaceBadCharRefs(doc); ok {
			feed, err = newFeedParser().Parse(bytes.NewReader(fixed))
		}
	}
	if err != nil {
		if reason := notFeedReason(body, feedBase("", baseURL)); reason != "" {
			return nil, fmt.Errorf("parse %s: %w: %s", baseURL, wiredesk.ErrNotFeed, reason)
		}
		return nil, fmt.Errorf("parse %s: %w: %w", baseURL, wiredesk.ErrNotFeed, err)
	}
	base := feedBase(feed.Link, baseURL)
	now = now.UTC()
	items := make([]wiredesk.Item, 0, len(feed.Items))
	seen := make(map[string]bool, len(feed.Items))
	for _, fi := range feed.Items {
		if fi == nil {
			continue
		}
		it := adaptItem(fi, base, now)
		if seen[it.GUID] {
			continue
		}
		seen[it.GUID] = true
		it.Source = source
		items = append(items, it)
	}
	return items, nil
}

// replaceBadCharRefs rewrites the numeric character references (XML 1.0
// §4.1) to characters outside XML 1.0's Char production (§2.2: NUL and
// most C0 controls, surrogates, U+FFFE, U+FFFF, beyond U+10FFFF) as
// &#xFFFD;, and reports whether it rewrote any. CDATA sections are left
// as they are: their text is literal, and must read the same whether or
// not another item's reference made this pass run.
func replaceBadCharRefs(doc []byte) ([]byte, bool) {
	const cdataOpen, cdataClose = "<![CDATA[", "]]>"
	var out []byte
	done := 0 // doc[:done] is in out
	for i := 0; i < len(doc); {
		amp := bytes.Index(doc[i:], []byte("&#"))
		if amp < 0 {
			break
		}
		amp += i
		// "<![CDATA[" holds no '&': a section opening before the
		// reference lies wholly before it.
		if c := bytes.Index(doc[i:amp], []byte(cdataOpen)); c >= 0 {
			end := bytes.Index(doc[i+c:], []byte(cdataClose))
			if end < 0 {
				break
			}
			i += c + end + len(cdataClose)
			continue
		}
		r, n := charRefAt(doc[amp:])
		if n == 0 {
			i = amp + 2
			continue
		}
		if !xmlChar(r) {
			out = append(out, doc[done:amp]...)
			out = append(out, "&#xFFFD;"...)
			done = amp + n
		}
		i = amp + n
	}
	if out == nil {
		return doc, false
	}
	return append(out, doc[done:]...), true
}

// charRefAt parses the numeric character reference at the start of b
// ("&#" digits ";" or "&#x" hex digits ";", any number of them) and
// returns its code point, capped just past U+10FFFF, and its length; 0
// for a length when b does not start with one.
func charRefAt(b []byte) (r uint64, n int) {
	i, base := 2, uint64(10)
	if len(b) > i && b[i] == 'x' {
		i, base = 3, 16
	}
	start := i
	for ; i < len(b); i++ {
		var d uint64
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			if c == ';' && i > start {
				return r, i + 1
			}
			return 0, 0
		}
		r = min(r*base+d, 0x110000)
	}
	return 0, 0
}

// xmlChar reports whether a code point is a Char of XML 1.0 (§2.2).
func xmlChar(r uint64) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// feedBase is the URL item links resolve against: the feed's link (the
// site, RSS 2.0 <channel><link>, RFC 4287 §4.2.7 alternate link), itself
// resolved against the fetch URL, else the fetch URL.
func feedBase(feedLink, fetchURL string) *url.URL {
	fetched, err := url.Parse(fetchURL)
	if err != nil {
		fetched = &url.URL{}
	}
	if feedLink = strings.TrimSpace(feedLink); feedLink != "" {
		if l, err := url.Parse(feedLink); err == nil {
			if abs := fetched.ResolveReference(l); isHTTP(abs) {
				return abs
			}
		}
	}
	return fetched
}

// adaptItem converts one gofeed item; identity, links and dates follow the
// rules documented on wiredesk.Item.
func adaptItem(fi *gofeed.Item, base *url.URL, now time.Time) wiredesk.Item {
	link := fi.Link
	if link == "" && len(fi.Links) > 0 {
		link = fi.Links[0]
	}
	// SQLite text and every output format need valid UTF-8; toUTF8 sees
	// to the XML, this to what a JSON Feed or an odd decoder lets through.
	it := wiredesk.Item{
		URL:       resolve(base, validUTF8(link)),
		Title:     plainTitle(validUTF8(fi.Title)),
		Summary:   validUTF8(fi.Description),
		Content:   validUTF8(fi.Content),
		Author:    validUTF8(author(fi)),
		FirstSeen: now,
	}
	it.Published, it.Updated = dates(fi.PublishedParsed, fi.UpdatedParsed, now)
	it.CanonicalURL = dedupe.CanonicalURL(it.URL)
	it.GUID = guid(fi, it)
	it.RawDigest = rawDigest(it)
	return it
}

// guid is the feed's guid/id (RSS 2.0 <guid>, RFC 4287 §4.2.6 atom:id,
// JSON Feed "id"), else the item's link, else a hash of title and body so
// that an item without either keeps one identity across polls. The link
// is taken in its canonical form, so that a feed rotating tracking
// parameters (utm_*) does not mint a new item every poll; a link with no
// canonical form (a homepage) is taken as it is.
func guid(fi *gofeed.Item, it wiredesk.Item) string {
	if g := validUTF8(strings.TrimSpace(fi.GUID)); g != "" {
		if len(g) > maxGUIDBytes {
			sum := sha256.Sum256([]byte(g))
			return "sha256:" + hex.EncodeToString(sum[:])
		}
		return g
	}
	if it.CanonicalURL != "" {
		return it.CanonicalURL
	}
	if it.URL != "" {
		return it.URL
	}
	sum := sha256.Sum256([]byte(it.Title + "\x00" + it.Content + "\x00" + it.Summary))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// resolve makes link absolute against base; "" unless the result is an
// http(s) URL, as a feed reader cannot follow anything else.
func resolve(base *url.URL, link string) string {
	link = strings.TrimSpace(link)
	if link == "" {
		return ""
	}
	l, err := url.Parse(link)
	if err != nil {
		return ""
	}
	abs := base.ResolveReference(l)
	if !isHTTP(abs) {
		return ""
	}
	return abs.String()
}

func isHTTP(u *url.URL) bool {
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// dates returns the item's published and updated times in UTC: published,
// else updated; updated defaults to published and is never before it.
// A date more than futureSlack after now counts as missing, and both are
// zero when the feed gives no usable date (see Parse).
func dates(published, updated *time.Time, now time.Time) (time.Time, time.Time) {
	usable := func(t *time.Time) time.Time {
		if t == nil || t.IsZero() || t.After(now.Add(futureSlack)) {
			return time.Time{}
		}
		return t.UTC()
	}
	pub, upd := usable(published), usable(updated)
	if pub.IsZero() {
		pub = upd
	}
	if upd.Before(pub) {
		upd = pub
	}
	return pub, upd
}

// plainTitle strips markup and entities (titles are often escaped HTML in
// RSS 2.0 and may be type="html" in Atom), folds lines and caps the length.
func plainTitle(s string) string {
	t := strings.Join(strings.Fields(dedupe.Text(s)), " ")
	if r := []rune(t); len(r) > maxTitleRunes {
		t = strings.TrimSpace(string(r[:maxTitleRunes-1])) + "…"
	}
	return t
}

// author is the first named author (Atom author, RSS author or
// dc:creator, JSON Feed authors).
func author(fi *gofeed.Item) string {
	for _, p := range fi.Authors {
		if p != nil && strings.TrimSpace(p.Name) != "" {
			return strings.TrimSpace(p.Name)
		}
	}
	if fi.Author != nil {
		return strings.TrimSpace(fi.Author.Name)
	}
	return ""
}
