package dedupe

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// token is one word of running text: its normalised form, and whether it
// was written capitalised in a position where that marks a name (not the
// first word of a sentence).
type token struct {
	w    string
	name bool
}

// tokens splits cleaned text into normalised words: NFKC, lowercase,
// typographic quotes folded, apostrophes dropped inside words ("China's"
// reads "chinas"), digits kept with their decimal point ("21.6") and
// without thousands separators ("14,870" reads "14870"), British spellings
// and number words mapped to one form (see spell and numberWords).
//
// It runs for every item fetched and every candidate compared, so it
// walks the UTF-8 in place and lowercases into one buffer: one string per
// word, nothing per rune. tokensSpec in the tests is the same rules
// written plainly; FuzzTokens holds the two equal.
func tokens(text string) []token {
	s := norm.NFKC.String(text)
	out := make([]token, 0, len(s)/6+1)
	var buf []byte       // the current word, lowercased
	var first, last rune // its first rune as written, and the last one kept
	sentence := true     // the next word starts a sentence
	flush := func() {
		if len(buf) == 0 {
			return
		}
		out = append(out, token{w: string(buf), name: unicode.IsUpper(first) && !sentence})
		buf, sentence = buf[:0], false
	}
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		r = fold(r)
		switch {
		case isWordRune(r):
			if len(buf) == 0 {
				first = r
			}
			last = r
			if r < utf8.RuneSelf {
				if 'A' <= r && r <= 'Z' {
					r += 'a' - 'A'
				}
				buf = append(buf, byte(r))
			} else {
				buf = utf8.AppendRune(buf, unicode.ToLower(r))
			}
		case r == '\'' && len(buf) > 0 && nextIs(s[i:], unicode.IsLetter):
			// inside a word: "don't", "China's"
		case (r == '.' || r == ',') && len(buf) > 0 && unicode.IsDigit(last) && nextIs(s[i:], unicode.IsDigit):
			if r == '.' {
				buf = append(buf, '.')
				last = '.'
			}
		case r == '%':
			flush()
			out = append(out, token{w: "percent"})
		default:
			flush()
			if r == '.' || r == '!' || r == '?' || r == '\n' || r == ':' || r == '"' {
				sentence = true
			}
		}
	}
	flush()
	return normaliseWords(splitFigures(out))
}

// isWordRune reports a rune words are made of.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// nextIs reports whether s starts with a rune that is.
func nextIs(s string, is func(rune) bool) bool {
	if s == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	return is(r)
}

// splitFigures splits words where digits meet letters, so that "8am",
// "21.6km" and "Dh452.75" read like "8 am", "21.6 km" and "Dh 452.75";
// ordinals ("6th") stay whole.
func splitFigures(ts []token) []token {
	i := slices.IndexFunc(ts, splits)
	if i < 0 {
		return ts
	}
	out := slices.Clip(ts[:i]) // appending must not overwrite ts
	for _, t := range ts[i:] {
		if !splits(t) {
			out = append(out, t)
			continue
		}
		start := 0
		for i := 1; i <= len(t.w); i++ {
			if i == len(t.w) || isDigitByte(t.w[i]) != isDigitByte(t.w[i-1]) {
				out = append(out, token{w: t.w[start:i], name: t.name && start == 0})
				start = i
			}
		}
	}
	return out
}

// splits reports a word splitFigures splits: a figure run into letters.
func splits(t token) bool { return isNumber(t.w) && !isDigits(t.w) && !ordinal(t.w) }

// isDigitByte reports a byte of a figure: a digit or its decimal point.
func isDigitByte(b byte) bool { return b >= '0' && b <= '9' || b == '.' }

// ordinal reports "1st", "22nd", "3rd", "6th".
func ordinal(w string) bool {
	i := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	switch w[i:] {
	case "st", "nd", "rd", "th":
		return i > 0
	}
	return false
}

// normaliseWords maps spelling variants and number words in place and
// joins two-word forms ("per cent", "twenty five").
func normaliseWords(ts []token) []token {
	out := ts[:0]
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		t.w = spell(t.w)
		if n, ok := lookup(numberWords, t.w); ok {
			t.w = n
			// "twenty five" and "twenty-five" read "25".
			if n[len(n)-1] == '0' && len(n) == 2 && i+1 < len(ts) {
				if u, ok := lookup(numberWords, ts[i+1].w); ok && len(u) == 1 && u != "0" {
					t.w = n[:1] + u
					i++
				}
			}
		}
		// "four hundred" reads "400", like "two thousand" "2000".
		if m, ok := lookup(multipliers, t.w); ok && len(out) > 0 {
			if p := out[len(out)-1].w; len(p) <= 2 && isDigits(p) && p != "0" {
				out[len(out)-1].w = p + m
				continue
			}
		}
		if t.w == "per" && i+1 < len(ts) && ts[i+1].w == "cent" {
			t.w = "percent"
			i++
		}
		out = append(out, t)
	}
	return out
}

// lookup is m[w] for one of the word tables (spellings, numberWords,
// multipliers), which every word of every text is looked up in and
// nearly none is found in: a word whose length, first and last letters no
// key has is not looked up. Hashing each word for three maps cost about
// as much as splitting the text into words.
func lookup(m map[string]string, w string) (string, bool) {
	if !listed.has(w) {
		return "", false
	}
	v, ok := m[w]
	return v, ok
}

// maxListedLen is the longest key of the word tables.
const maxListedLen = 16

// wordFilter holds, by length and first letter, the set of last letters
// of the word tables' keys.
type wordFilter [maxListedLen + 1][26]uint32

// listed is the filter of every word table's keys. The keys are
// lowercase ASCII words; the tables are fixed, so a key that is not one
// is a programming error, caught by any test.
var listed = func() *wordFilter {
	var f wordFilter
	for _, m := range []map[string]string{spellings, numberWords, multipliers} {
		for k := range m {
			if len(k) == 0 || len(k) > maxListedLen || strings.Trim(k, "abcdefghijklmnopqrstuvwxyz") != "" {
				panic("dedupe: word table key " + strconv.Quote(k) + " is not a lowercase ASCII word")
			}
			f[len(k)][k[0]-'a'] |= 1 << (k[len(k)-1] - 'a')
		}
	}
	return &f
}()

// has reports whether w may be a key of a word table.
func (f *wordFilter) has(w string) bool {
	if len(w) == 0 || len(w) > maxListedLen {
		return false
	}
	a, z := w[0]-'a', w[len(w)-1]-'a'
	return a < 26 && z < 26 && f[len(w)][a]&(1<<z) != 0
}

// numberWords are the number words outlets and agencies write either way.
var numberWords = map[string]string{
	"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
	"seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
	"thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17",
	"eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40",
	"fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
	// Ordinals read as they are written in figures: "sixth" and "6th" are
	// both "6th". "second" is left alone: it is also a unit of time.
	"first": "1st", "third": "3rd", "fourth": "4th", "fifth": "5th", "sixth": "6th",
	"seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th", "eleventh": "11th",
	"twelfth": "12th", "thirteenth": "13th", "fourteenth": "14th", "fifteenth": "15th",
	"sixteenth": "16th", "seventeenth": "17th", "eighteenth": "18th", "nineteenth": "19th",
	"twentieth": "20th",
}

// multipliers turn a number word before them into a figure.
var multipliers = map[string]string{"hundred": "00", "thousand": "000"}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isNumber reports whether a normalised word holds a figure: "21.6",
// "6th", "dh452.75", "9am".
func isNumber(w string) bool {
	for i := 0; i < len(w); i++ {
		if '0' <= w[i] && w[i] <= '9' {
			return true
		}
	}
	return false
}
