package aggregator

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
)

// xmlEncoding finds the encoding declaration of an XML prolog (XML 1.0
// §4.3.3), after an optional UTF-8 byte order mark and white space.
var xmlEncoding = regexp.MustCompile(`\A\x{FEFF}?\s*<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]*)["']`)

// toUTF8 returns body as UTF-8 with any encoding declaration saying so,
// believing the bytes over the labels: publishers often declare a charset
// (in the prolog or the Content-Type charset, RFC 7303 §3) that their
// software does not actually write.
//
//   - Valid UTF-8 with non-ASCII bytes is almost never text in a legacy
//     8-bit charset, so a document that is valid UTF-8 is read as UTF-8
//     whatever it declares.
//   - Otherwise a non-UTF-8 charset declared in the prolog is left to the
//     XML parser, else the header's charset decodes it.
//   - Otherwise (labelled UTF-8 or not at all): a document with some valid
//     multi-byte sequences is UTF-8 with stray bytes, which become U+FFFD;
//     one with none is taken as windows-1252, the de facto superset of
//     ISO-8859-1 that mislabelled Western feeds are written in.
//
// UTF-16 and other encodings with NUL bytes are left to the parser.
func toUTF8(body []byte, headerCharset string) []byte {
	if bytes.IndexByte(body[:min(len(body), 512)], 0) >= 0 {
		return body
	}
	declared := ""
	if m := xmlEncoding.FindSubmatchIndex(body); m != nil {
		declared = string(body[m[2]:m[3]])
	}
	if utf8.Valid(body) {
		return declareUTF8(body, declared)
	}
	if declared != "" && !isUTF8Label(declared) {
		return body
	}
	enc := charsetEncoding(headerCharset)
	if enc == nil {
		if hasMultiByteUTF8(body) {
			return declareUTF8(bytes.ToValidUTF8(body, []byte("\uFFFD")), declared)
		}
		enc = charmap.Windows1252
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	return declareUTF8(out, declared)
}

// declareUTF8 rewrites a prolog's encoding declaration to utf-8, so that
// the XML parser does not decode the UTF-8 bytes a second time.
func declareUTF8(body []byte, declared string) []byte {
	if declared == "" || isUTF8Label(declared) {
		return body
	}
	m := xmlEncoding.FindSubmatchIndex(body)
	if m == nil {
		return body
	}
	out := make([]byte, 0, len(body))
	out = append(out, body[:m[2]]...)
	out = append(out, "utf-8"...)
	return append(out, body[m[3]:]...)
}

// charsetEncoding returns the decoder of a non-UTF-8 charset label (WHATWG
// names and aliases), or nil for UTF-8, an empty or an unknown label.
func charsetEncoding(label string) encoding.Encoding {
	if label == "" || isUTF8Label(label) {
		return nil
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil
	}
	return enc
}

func isUTF8Label(label string) bool {
	l := strings.ToLower(strings.TrimSpace(label))
	return l == "utf-8" || l == "utf8"
}

// hasMultiByteUTF8 reports whether body holds at least one valid
// multi-byte UTF-8 sequence.
func hasMultiByteUTF8(body []byte) bool {
	for len(body) > 0 {
		r, n := utf8.DecodeRune(body)
		if r != utf8.RuneError && n > 1 {
			return true
		}
		body = body[n:]
	}
	return false
}
