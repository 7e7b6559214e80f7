package dedupe

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func FuzzNewDoc(f *testing.F) {
	f.Add("Storm nears", paras(story...))
	f.Add("", benchDoc)
	f.Add("t", "<p>KUNMING, (A / B - Xinhua - 14th Apr, 2026 ) :x y z w v</p><p>(Xinhua)</p>")
	f.Add("", "Colombo, Jun 10 (PTI) -- twenty five hundred 9.6% per cent 1,2,3 organisation's")
	f.Add("", "<p>(</p><p>By</p>(IANS)(IANS) -- IANS")
	f.Fuzz(checkDoc)
}

// checkDoc asserts the invariants of NewDoc and Decide on any input.
func checkDoc(t *testing.T, title, body string) {
	d := NewDoc(title, body)
	// Analyze converts the HTML once for both; it must not change either.
	ad, hash := Analyze(title, body)
	if !reflect.DeepEqual(ad, d) || hash != ContentHash(body) {
		t.Fatalf("Analyze(%q, %q) differs from NewDoc and ContentHash", title, body)
	}
	if got := len(strings.Fields(d.Text())); got != d.Words() {
		t.Fatalf("Words() = %d, Text has %d", d.Words(), got)
	}
	if utf8.ValidString(body) && !utf8.ValidString(d.Text()) {
		t.Fatalf("invalid UTF-8 text %q", d.Text())
	}
	if !slices.IsSorted(d.shingles) {
		t.Fatal("shingles not sorted")
	}
	b, _ := d.Signature().MarshalBinary()
	sig, err := ParseSignature(b)
	if err != nil {
		t.Fatalf("ParseSignature(MarshalBinary()) = %v", err)
	}
	if !slices.Equal(sig.keys, d.Signature().keys) {
		t.Fatal("signature round trip changed the keys")
	}
	stored, _ := d.MarshalBinary()
	back, err := ParseDoc(stored)
	if err != nil {
		t.Fatalf("ParseDoc(MarshalBinary()) = %v", err)
	}
	self := Decide(d, d, DefaultThreshold)
	if got := Decide(back, d, DefaultThreshold); got != self {
		t.Fatalf("Decide(stored doc, doc) = %+v, want %+v", got, self)
	}
	if d.Words() >= ShortWords && d.Words() > 0 && (!self.Same || self.Containment != 1) {
		// A text always carries its own figures and names.
		t.Fatalf("Decide(d, d) = %+v", self)
	}
	o := NewDoc("", paras(story[0]))
	x, y := Decide(d, o, DefaultThreshold), Decide(o, d, DefaultThreshold)
	if x.Same != y.Same || x.Containment != y.Containment || x.Reason != y.Reason {
		t.Fatalf("asymmetric: %+v vs %+v", x, y)
	}
}

// FuzzText drives the HTML-to-text cleaner (Text) and the comparison form
// built on it (Normalize). Seeds: testdata/fuzz/FuzzText and below.
//
// Invariants, on any input, valid UTF-8 or not:
//   - no panic, and the output is valid UTF-8 (an invalid byte reads as
//     U+FFFD) without control characters other than the line break;
//   - whitespace is collapsed: no leading, trailing or doubled separator;
//   - the output is at most 3 bytes per input byte: a character reference
//     never decodes to more bytes than it is written with, except the
//     two-rune ones ("&nGt;", 5 bytes to 6), and U+FFFD for an invalid
//     byte is 3 bytes for 1;
//   - Text is idempotent on output holding no '<' or '&', up to line
//     breaks: only block elements make them, so a second pass over plain
//     text reads each as a space. With '<' or '&', decoding again is
//     meant to change it ("&amp;lt;" reads "&lt;", which a second pass
//     reads as "<");
//   - Normalize is idempotent, and its output is words of letters,
//     digits and marks joined by single spaces.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "<p>a</p>", "<script>x</script>y", "&amp;&#x1F600;", "<b>a</b>b c",
		"&nGt;&gt&#128;&#0;\x00", "a\xffb<p>\xc3</p>", "<style>p{}</style><!-- c --><![CDATA[x]]>", benchDoc} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := Text(in)
		if !utf8.ValidString(got) || strings.ContainsFunc(got, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
			t.Fatalf("Text(%q) = %q: invalid UTF-8 or a control character", in, got)
		}
		if strings.Contains(got, "  ") || strings.Contains(got, "\n\n") || strings.TrimSpace(got) != got ||
			strings.Contains(got, " \n") || strings.Contains(got, "\n ") {
			t.Fatalf("Text(%q) = %q: whitespace not collapsed", in, got)
		}
		if len(got) > 3*len(in) {
			t.Fatalf("Text(%q) = %q: %d bytes from %d", in, got, len(got), len(in))
		}
		if !strings.ContainsAny(got, "<&") {
			if again, want := Text(got), strings.ReplaceAll(got, "\n", " "); again != want {
				t.Fatalf("Text not idempotent: %q -> %q -> %q", in, got, again)
			}
		}
		n := Normalize(in)
		if !utf8.ValidString(n) || strings.Contains(n, "  ") || strings.TrimSpace(n) != n ||
			strings.ContainsFunc(n, notWordOrSpace) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8, spacing or punctuation", in, n)
		}
		if again := Normalize(n); again != n {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q", in, n, again)
		}
	})
}

func notWordOrSpace(r rune) bool {
	return r != ' ' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
}

func FuzzParseSignature(f *testing.F) {
	good, _ := NewDoc("", paras(story...)).Signature().MarshalBinary()
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{signatureVersion, 0x80, 0x00, 0})
	f.Add([]byte{signatureVersion, 20, 1, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := ParseSignature(b)
		if err != nil {
			return
		}
		again, err := sig.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseSignature(again)
		if err != nil || !slices.Equal(back.keys, sig.keys) || back.words != sig.words {
			t.Fatalf("re-parse of %x: %+v, %v; want %+v", again, back, err, sig)
		}
		// A parsed signature is safe to index and look up.
		ix := NewIndex()
		ix.Add(1, sig, time.Time{})
		if got := ix.Candidates(sig); !sig.Empty() && len(sig.keys) >= 2 && (len(got) != 1 || got[0] != 1) {
			t.Fatalf("Candidates = %v", got)
		}
	})
}

// FuzzNormalizeCommon holds the one-pass normalisation of common text to
// the general one: where it answers, it answers the same.
func FuzzNormalizeCommon(f *testing.F) {
	for _, s := range []string{
		"", "Plain ASCII, with punctuation: and/or -- dashes.", "  lead\tand\r\ntrail  ",
		"It’s “quoted” — and – dashed", "no\u00a0break", "caf\u00e9", "ACUTE\u00b4", "x\u2033y",
		"non\u2011breaking", "\x00ctl\x1fchars\x7f", "bad \xff utf8", "Ǆ title case", "A\u0301",
		"0-9 A-Z a-z `back` 'single' \"double\"", "ﬁ ligature", "１２３ full width",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := normalizeCommon(in)
		if !ok {
			return
		}
		if want := normalizeAny(in); got != want {
			t.Fatalf("normalizeCommon(%q) = %q, normalizeAny = %q", in, got, want)
		}
	})
}

// TestNormalizeCommonAnswers checks that the one-pass path takes the text
// it is for, so that FuzzNormalizeCommon is not vacuous.
func TestNormalizeCommonAnswers(t *testing.T) {
	for _, in := range []string{"Plain ASCII.", "It’s “quoted” — and – dashed", "no\u00a0break"} {
		if _, ok := normalizeCommon(in); !ok {
			t.Errorf("normalizeCommon(%q) declined", in)
		}
	}
	for _, in := range []string{"caf\u00e9", "ACUTE\u00b4", "x\u2033y", "bad \xff utf8"} {
		if _, ok := normalizeCommon(in); ok {
			t.Errorf("normalizeCommon(%q) answered; NFKC or lowercasing changes it", in)
		}
	}
}

// textSpec is textBuilder.text as first written, by words: FuzzTextNode
// holds the one-pass version to it.
func textSpec(b *textBuilder, s string) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !isSpace(r) {
			return -1
		}
		return r
	}, s)
	words := strings.FieldsFunc(s, isSpace)
	if first, _ := utf8.DecodeRuneInString(s); len(words) == 0 || isSpace(first) {
		if s != "" {
			b.space()
		}
	}
	for i, w := range words {
		if i > 0 {
			b.space()
		}
		b.word(w)
	}
	if last, _ := utf8.DecodeLastRuneInString(s); len(words) > 0 && isSpace(last) {
		b.space()
	}
}

func FuzzTextNode(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {" a  b ", "c"}, {"a\x00b", "\u00a0\u2003x\u3000"},
		{"\xff\xc3", "é\u0085"}, {"\x01", "y"}, {"word", "word"}, {"\t", "\n"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		var got, want textBuilder
		got.text(a)
		textSpec(&want, a)
		got.newline()
		want.newline()
		got.text(b)
		textSpec(&want, b)
		if got.String() != want.String() || got.pending != want.pending {
			t.Fatalf("text(%q), newline, text(%q) = %q pending %q; by words %q pending %q",
				a, b, got.String(), got.pending, want.String(), want.pending)
		}
	})
}

// bottomKSpec is bottomK as first written, by sorting every hash.
func bottomKSpec(hs []uint64, k int) []uint32 {
	s := slices.Clone(hs)
	slices.Sort(s)
	s = slices.Compact(s)
	if len(s) > k {
		s = s[:k]
	}
	out := make([]uint32, len(s))
	for i, h := range s {
		out[i] = key(h)
	}
	return out
}

// FuzzBottomK holds bottomK to the sort it replaced, on hash lists with
// repeats (a text repeats its runs) and every k a signature uses.
func FuzzBottomK(f *testing.F) {
	f.Add([]byte{}, uint8(3))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 200}, uint8(6))
	f.Fuzz(func(t *testing.T, b []byte, k uint8) {
		// Two bytes a hash, few distinct values, so that repeats and ties
		// with the k-th smallest are common.
		var hs []uint64
		for i := 0; i+1 < len(b); i += 2 {
			hs = append(hs, uint64(b[i])<<40|uint64(b[i+1]&7))
		}
		for _, k := range []int{int(k % 12), LedeKeys / 2, LedeKeys - LedeKeys/2, WholeKeys} {
			if got, want := bottomK(hs, k), bottomKSpec(hs, k); !slices.Equal(got, want) {
				t.Fatalf("bottomK(%v, %d) = %v, want %v", hs, k, got, want)
			}
		}
	})
}
