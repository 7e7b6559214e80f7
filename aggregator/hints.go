package aggregator

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A feed can say how often it wants to be polled: RSS 2.0 <ttl> (minutes),
// <skipHours> and <skipDays> (hours and days, in GMT, not to poll), and
// the RSS 1.0 syndication module's sy:updatePeriod and sy:updateFrequency.
// HTTP says it too: Cache-Control max-age and Expires (RFC 9111 §5.2.2.1,
// §5.3). wiredesk treats all of them as a lower bound on the time between
// two polls of the source; a slower schedule of the user's still wins.

// maxHint caps what a feed can ask for: a ttl of a year, or an Expires in
// 2099, must not stop polling for good.
const maxHint = 24 * time.Hour

// syNamespace is the RSS 1.0 syndication module.
const syNamespace = "http://purl.org/rss/1.0/modules/syndication/"

// feedHints is what a document says about its own polling.
type feedHints struct {
	ttl    time.Duration // from <ttl> or sy:*; 0 if none
	source string        // "ttl" or "sy:updatePeriod"
	skip   skipRules
	// hub and self are the feed's WebSub links (Atom link, RSS atom:link
	// with rel="hub" and rel="self"), "" when absent.
	hub, self string
}

// skipRules are <skipHours> and <skipDays>.
type skipRules struct {
	hours [24]bool // GMT hours
	days  [7]bool  // indexed by time.Weekday
}

func (s skipRules) empty() bool { return s == skipRules{} }

// scanHints reads the feed's head up to its first item or entry. It never
// fails: a hint that cannot be read is no hint. It costs a fraction of
// parsing the document, since it stops where the items begin.
func scanHints(body []byte) feedHints {
	var h feedHints
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	// Element names are ASCII in every charset a feed uses; the text read
	// here is digits and day names. Any declared charset passes through.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var (
		path                []string // open elements, local names
		period              string
		frequency           = 1
		ttlMinutes, seenTTL = 0, false
	)
	for range 5000 { // a header longer than this is not worth reading
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "item" || t.Name.Local == "entry" {
				return h.finish(ttlMinutes, seenTTL, period, frequency)
			}
			if in := path[max(len(path)-1, 0):]; t.Name.Local == "link" && len(in) == 1 && (in[0] == "feed" || in[0] == "channel") {
				h.link(t.Attr)
			}
			path = append(path, t.Name.Local)
		case xml.EndElement:
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		case xml.CharData:
			if len(path) == 0 {
				continue
			}
			text := strings.TrimSpace(string(t))
			switch name, parent := path[len(path)-1], parentOf(path); {
			case name == "ttl" && parent == "channel":
				if n, err := strconv.Atoi(text); err == nil && n > 0 {
					ttlMinutes, seenTTL = n, true
				}
			case name == "updatePeriod":
				period = strings.ToLower(text)
			case name == "updateFrequency":
				if n, err := strconv.Atoi(text); err == nil && n > 0 {
					frequency = n
				}
			case name == "hour" && parent == "skipHours":
				if n, err := strconv.Atoi(text); err == nil && n >= 0 && n <= 24 {
					h.skip.hours[n%24] = true
				}
			case name == "day" && parent == "skipDays":
				if d, ok := weekdays[strings.ToLower(text)]; ok {
					h.skip.days[d] = true
				}
			}
		}
	}
	return h.finish(ttlMinutes, seenTTL, period, frequency)
}

// link records a feed-level link that names a WebSub hub or the feed
// itself. The first of each wins.
func (h *feedHints) link(attrs []xml.Attr) {
	var rel, href string
	for _, a := range attrs {
		switch a.Name.Local {
		case "rel":
			rel = strings.ToLower(strings.TrimSpace(a.Value))
		case "href":
			href = strings.TrimSpace(a.Value)
		}
	}
	switch {
	case href == "":
	case rel == "hub" && h.hub == "":
		h.hub = href
	case rel == "self" && h.self == "":
		h.self = href
	}
}

// linkHeader finds rel="hub" and rel="self" in HTTP Link headers (RFC
// 8288), which WebSub §4 puts before the document's own links.
func linkHeader(header http.Header) (hub, self string) {
	for _, v := range header.Values("Link") {
		for part := range strings.SplitSeq(v, ",") {
			target, params, ok := strings.Cut(part, ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			target = target[1 : len(target)-1]
			for p := range strings.SplitSeq(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if !strings.EqualFold(k, "rel") {
					continue
				}
				for rel := range strings.FieldsSeq(strings.ToLower(strings.Trim(val, `"`))) {
					switch {
					case rel == "hub" && hub == "":
						hub = target
					case rel == "self" && self == "":
						self = target
					}
				}
			}
		}
	}
	return hub, self
}

func parentOf(path []string) string {
	if len(path) < 2 {
		return ""
	}
	return path[len(path)-2]
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

var periods = map[string]time.Duration{
	"hourly": time.Hour, "daily": 24 * time.Hour, "weekly": 7 * 24 * time.Hour,
	"monthly": 30 * 24 * time.Hour, "yearly": 365 * 24 * time.Hour,
}

// finish picks the interval: ttl when given (RSS 2.0 is explicit about
// it), else the syndication module's period divided by its frequency.
func (h feedHints) finish(ttlMinutes int, seenTTL bool, period string, frequency int) feedHints {
	switch {
	case seenTTL:
		h.ttl, h.source = time.Duration(ttlMinutes)*time.Minute, "ttl"
	case periods[period] > 0:
		h.ttl, h.source = periods[period]/time.Duration(frequency), "sy:updatePeriod"
	}
	h.ttl = min(h.ttl, maxHint)
	return h
}

// freshFor is how long a response says it stays fresh (RFC 9111 §4.2.1):
// Cache-Control max-age, else Expires minus Date. No-store, no-cache and
// unparsable or past values give 0.
func freshFor(header http.Header, now time.Time) time.Duration {
	cc := strings.ToLower(strings.Join(header.Values("Cache-Control"), ","))
	maxAge := -1
	for dir := range strings.SplitSeq(cc, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(dir), "=")
		switch name {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			if n, err := strconv.Atoi(strings.Trim(value, `"`)); err == nil && n >= 0 {
				maxAge = n
			}
		}
	}
	if maxAge >= 0 {
		return min(time.Duration(maxAge)*time.Second, maxHint)
	}
	exp := header.Get("Expires")
	if exp == "" {
		return 0
	}
	expires, err := http.ParseTime(exp)
	if err != nil {
		return 0
	}
	date := now
	if d, err := http.ParseTime(header.Get("Date")); err == nil {
		date = d
	}
	if fresh := expires.Sub(date); fresh > 0 {
		return min(fresh, maxHint)
	}
	return 0
}

// String encodes the rules as stored: "h:0,1,2;d:0,6".
func (s skipRules) String() string {
	if s.empty() {
		return ""
	}
	var hs, ds []string
	for i, on := range s.hours {
		if on {
			hs = append(hs, strconv.Itoa(i))
		}
	}
	for i, on := range s.days {
		if on {
			ds = append(ds, strconv.Itoa(i))
		}
	}
	return "h:" + strings.Join(hs, ",") + ";d:" + strings.Join(ds, ",")
}

// parseSkip decodes String's form; anything else is no rules.
func parseSkip(s string) skipRules {
	var r skipRules
	for part := range strings.SplitSeq(s, ";") {
		kind, list, _ := strings.Cut(part, ":")
		for v := range strings.SplitSeq(list, ",") {
			n, err := strconv.Atoi(v)
			if err != nil {
				continue
			}
			switch {
			case kind == "h" && n >= 0 && n < 24:
				r.hours[n] = true
			case kind == "d" && n >= 0 && n < 7:
				r.days[n] = true
			}
		}
	}
	return r
}

// after is the first time at or after t outside the skipped hours and
// days; t itself when nothing is skipped. A feed that skips every hour
// is ignored rather than never polled. The search is bounded to a week.
func (s skipRules) after(t time.Time) time.Time {
	if s.empty() {
		return t
	}
	u := t.UTC()
	for range 7 * 24 {
		if !s.hours[u.Hour()] && !s.days[u.Weekday()] {
			return u
		}
		u = u.Truncate(time.Hour).Add(time.Hour)
	}
	return t
}
