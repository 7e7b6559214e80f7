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

// spellSpec is spell as first written, with a plain map lookup and the
// doubled-l rule tried stem by stem: spell must answer the same.
func spellSpec(w string) string {
	if v, ok := spellings[w]; ok {
		return v
	}
	if len(w) < 5 {
		return w
	}
	if i := strings.LastIndex(w, "is"); i >= 0 || strings.Contains(w, "ys") {
		if i < 0 {
			i = strings.LastIndex(w, "ys")
		}
		if zSuffix[w[i+1:]] {
			return w[:i+1] + "z" + w[i+2:]
		}
	}
	if strings.Contains(w, "our") {
		for _, stem := range ourStems {
			if i := strings.Index(w, stem); i >= 0 {
				return w[:i] + stem[:len(stem)-2] + "r" + w[i+len(stem):]
			}
		}
	}
	if !strings.Contains(w, "ll") {
		return w
	}
	for _, stem := range llStems {
		if strings.HasPrefix(w, stem+"l") {
			rest := w[len(stem)+1:]
			if rest == "ed" || rest == "ing" || rest == "er" || rest == "ers" {
				return stem + rest
			}
		}
	}
	return w
}

func FuzzSpell(f *testing.F) {
	for _, stem := range llStems {
		for _, s := range []string{"led", "ling", "ler", "lers", "lings", "l", "ed", "lled"} {
			f.Add(stem + s)
		}
	}
	for _, w := range []string{"travelled", "tunnelling", "modellers", "organised", "labourers", "all", "hello", "ll", "lled"} {
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, w string) {
		if got, want := spell(w), spellSpec(w); got != want {
			t.Fatalf("spell(%q) = %q, want %q", w, got, want)
		}
	})
}

// TestLookup holds lookup to the maps it filters for: every key is found,
// and a word the filter lets through or not is answered as the map would.
func TestLookup(t *testing.T) {
	tables := map[string]map[string]string{"spellings": spellings, "numberWords": numberWords, "multipliers": multipliers}
	for name, m := range tables {
		for k, v := range m {
			if got, ok := lookup(m, k); !ok || got != v {
				t.Errorf("lookup(%s, %q) = %q, %v; want %q", name, k, got, ok, v)
			}
		}
	}
	words := strings.Fields(strings.ToLower(benchDoc + " " + strings.Join(story, " ")))
	words = append(words, "", "a", "ten", "tan", "twenty", "twentyone", "hundreds", "Ten", "é", "thousand")
	for _, w := range words {
		for name, m := range tables {
			want, wok := m[w]
			if got, ok := lookup(m, w); got != want || ok != wok {
				t.Errorf("lookup(%s, %q) = %q, %v; want %q, %v", name, w, got, ok, want, wok)
			}
		}
	}
}
