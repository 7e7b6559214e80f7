package dedupe

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MinWords is the fewest words of normalised text ContentHash hashes.
// Below it a text is a blurb ("Read more", "Photo: Reuters") that many
// unrelated items share, and hashing it would fold them into one story.
const MinWords = 30

// ContentHash returns the hex SHA-256 of Normalize(html), or "" when the
// normalised text has fewer than MinWords words. Two items with the same
// hash carry the same copy whatever their markup, typography or casing.
// Callers hash the body only; a title is never part of it, as outlets
// rewrite headlines of unchanged agency copy.
func ContentHash(html string) string { return hashText(Text(html)) }

// hashText is ContentHash of Text(html).
func hashText(plain string) string {
	text := normalizeText(plain)
	if strings.Count(text, " ")+1 < MinWords {
		return ""
	}
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Normalize reduces HTML to the words of its text, for comparing copy:
// Text, then Unicode NFKC (so full-width and ligature forms match their
// plain letters), lowercase, curly quotes and dashes folded to ASCII,
// dashes and slashes treated as word breaks, other punctuation and
// symbols dropped, and the words joined by single spaces.
func Normalize(html string) string { return normalizeText(Text(html)) }

// normalizeText is Normalize of Text(html).
func normalizeText(plain string) string {
	if n, ok := normalizeCommon(plain); ok {
		return n
	}
	return normalizeAny(plain)
}

// normalizeCommon is normalizeAny in one pass without allocating more than
// its result, for the text nearly every English item is made of: ASCII,
// no-break spaces, and the typographic quotes and dashes that NFKC and
// lowercasing leave as they are. It reports false, having done nothing
// useful, on any other rune. FuzzNormalizeCommon holds it to normalizeAny.
func normalizeCommon(plain string) (string, bool) {
	b := make([]byte, 0, len(plain))
	space := false // a word break is due before the next letter
	for i := 0; i < len(plain); {
		c := plain[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(plain[i:])
			i += n
			switch f, ok := stableFolds[r]; {
			case r == '\u00a0' || ok && f == '-':
				space = true
			case !ok:
				return "", false
			}
			continue // a quote: punctuation, dropped
		}
		i++
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == ' ', '\t' <= c && c <= '\r', c == '-', c == '/':
			space = true
			continue
		default:
			continue // punctuation, symbols, control characters
		}
		if space && len(b) > 0 {
			b = append(b, ' ')
		}
		space = false
		b = append(b, c)
	}
	return string(b), true
}

// stableFolds are the runes fold maps that NFKC and lowercasing leave as
// they are, with what fold makes of them: normalizeCommon can fold them
// without normalising. (Others, such as the acute accent, which NFKC
// makes a space and a combining mark, take the general path.)
var stableFolds = func() map[rune]rune {
	m := map[rune]rune{}
	for _, r := range "‘’‚‛′`´“”„‟″«»‐‑‒–—―−⁃" {
		if s := string(r); r >= utf8.RuneSelf && norm.NFKC.String(s) == s && unicode.ToLower(r) == r {
			m[r] = fold(r)
		}
	}
	return m
}()

// normalizeAny is normalizeText of any text.
func normalizeAny(plain string) string {
	s := strings.ToLower(norm.NFKC.String(plain))
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		r = fold(r)
		switch {
		case r == '-' || r == '/' || unicode.IsSpace(r):
			sb.WriteByte(' ')
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			sb.WriteRune(r)
		}
		// Anything else is punctuation or a symbol: dropped, so that
		// "don't" and "don’t" both read "dont".
	}
	// Dropping a symbol can leave two combining marks, or a letter and a
	// mark, side by side that NFKC orders or composes differently; a
	// second pass makes the result a fixed point, so Normalize of its own
	// output (a stored text compared again) changes nothing.
	return strings.Join(strings.Fields(norm.NFKC.String(sb.String())), " ")
}

// fold maps typographic quotes and dashes to their ASCII forms.
func fold(r rune) rune {
	switch r {
	case '‘', '’', '‚', '‛', '′', '`', '´':
		return '\''
	case '“', '”', '„', '‟', '″', '«', '»':
		return '"'
	case '‐', '‑', '‒', '–', '—', '―', '−', '⁃':
		return '-'
	}
	return r
}
