package dedupe

import (
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
)

// CanonicalURL normalises an article link so that the copies of one page
// reached through different links compare equal. It returns "" for an
// empty or unparsable URL, for anything but an absolute http or https
// URL with a host, and for a site root ("/" or an empty path) without a
// query once trackers are dropped: a link to a homepage names no article,
// and keying stories on it would fold every item that carries it into one.
//
// The choices, each made because it never changes which page is served in
// practice:
//   - the scheme is always https: a story reached over http and https is
//     one story;
//   - the host is lowercased, a trailing dot and the default ports (80,
//     443) are dropped, and user info is dropped;
//   - the path is cleaned of "." and ".." segments, duplicate and trailing
//     slashes ("/" stays for the root, which then needs a query, as in
//     "/?p=123") and re-encoded canonically, so "%7e" and "~" compare equal;
//   - the fragment is dropped: it addresses a part of the page;
//   - tracking parameters (utm_*, fbclid, gclid, ref, cmpid, ...) are
//     dropped and the remaining query parameters are sorted by name and
//     value, so their order does not matter.
//
// CanonicalURL is idempotent: CanonicalURL(CanonicalURL(x)) == CanonicalURL(x).
func CanonicalURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Opaque != "" {
		return ""
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return ""
	}
	host := canonicalHost(u)
	if host == "" {
		return ""
	}
	p := "/"
	if u.Path != "" && u.Path != "/" {
		p = path.Clean("/" + u.Path)
	}
	q := canonicalQuery(u.RawQuery)
	if p == "/" && q == "" {
		return ""
	}
	out := url.URL{Scheme: "https", Host: host, Path: p, RawQuery: q}
	s := out.String()
	// Re-parse to make sure the result is itself canonical; a host or path
	// that does not survive the round trip is not a usable article link.
	if again, err := url.Parse(s); err != nil || again.Host != host || again.Path != p {
		return ""
	}
	return s
}

// canonicalHost returns the lowercased host with a default port dropped,
// bracketing IPv6 literals; "" if there is no host.
func canonicalHost(u *url.URL) string {
	host := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil {
			return ""
		}
		if n != 80 && n != 443 {
			host += ":" + strconv.Itoa(n)
		}
	}
	return host
}

// canonicalQuery drops tracking parameters and sorts the rest by name,
// then value. Pairs that are not valid URL encoding are dropped.
func canonicalQuery(raw string) string {
	vals, _ := url.ParseQuery(raw) // keeps every pair that does parse
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range vals {
		if isTracking(k) {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, pair{k, v})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var sb strings.Builder
	for i, p := range pairs {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(url.QueryEscape(p.k))
		sb.WriteByte('=')
		sb.WriteString(url.QueryEscape(p.v))
	}
	return sb.String()
}

// trackingParams identify a click or a campaign, not a page. Names are
// compared lowercased; any utm_* parameter is tracking too. The list is
// conservative on purpose: dropping a parameter that does select a page
// (a generic "id", "cid" or "source") would fold different articles into
// one story, while keeping a tracker only misses a fold that the content
// hash can still make.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gbraid": true, "wbraid": true,
	"msclkid": true, "yclid": true, "igshid": true, "twclid": true, "ttclid": true,
	"mc_cid": true, "mc_eid": true, "mkt_tok": true, "_ga": true, "_gl": true,
	"ref": true, "ref_src": true, "ref_url": true, "cmpid": true, "ncid": true,
	"ocid": true, "icid": true, "smid": true, "sr_share": true, "at_medium": true,
	"at_campaign": true, "soc_src": true, "soc_trk": true,
}

func isTracking(name string) bool {
	name = strings.ToLower(name)
	return trackingParams[name] || strings.HasPrefix(name, "utm_")
}
