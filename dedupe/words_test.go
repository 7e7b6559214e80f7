package dedupe

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// tokensSpec is tokens written plainly, rune by rune: the rules tokens
// must follow, kept to hold the fast version to them.
func tokensSpec(text string) []token {
	s := norm.NFKC.String(text)
	var out []token
	var cur []rune
	sentence := true // the next word starts a sentence
	flush := func() {
		if len(cur) == 0 {
			return
		}
		name := unicode.IsUpper(cur[0]) && !sentence
		out = append(out, token{w: strings.ToLower(string(cur)), name: name})
		cur = cur[:0]
		sentence = false
	}
	rs := []rune(s)
	for i, r := range rs {
		r = fold(r)
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			cur = append(cur, r)
		case r == '\'' && len(cur) > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			// inside a word: "don't", "China's"
		case (r == '.' || r == ',') && len(cur) > 0 && unicode.IsDigit(cur[len(cur)-1]) &&
			i+1 < len(rs) && unicode.IsDigit(rs[i+1]):
			if r == '.' {
				cur = append(cur, r)
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

func FuzzTokens(f *testing.F) {
	for _, s := range []string{
		benchDoc, strings.Join(story, "\n"), "China's 14,870 tonnes, 21.6km at 8am on the 6th.",
		"Don't  'quote' ‘folded’ “twice” — ÉCOLE Straße İstanbul ǅemal 1,2,3 9.6% per cent",
		"x\xffy \xc3 '\xe2\x80\x99s  1.\n2 ,3 Dh452.75 ٣٤ ５km Ⅻ ﬁne",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := tokens(s), tokensSpec(s)
		if !slices.Equal(got, want) {
			t.Fatalf("tokens(%q)\n got %v\nwant %v", s, got, want)
		}
	})
}
