package dedupe

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// storedTexts are the texts the stored-doc tests round-trip: a story, its
// lede, a short brief, a text of figures and names, and no text at all.
var storedTexts = []struct{ title, body string }{
	{"Storm nears Veloria", paras(story...)},
	{"", paras(story[0])},
	{"Brief", "<p>Too short to index.</p>"},
	{"Quake", "<p>A 5.1 magnitude quake struck 40 km east of Porto Calma at 0312 GMT on Monday, Governor Ilse Marrant said.</p>"},
	{"", ""},
}

func TestDocRoundTrip(t *testing.T) {
	for _, x := range storedTexts {
		d := NewDoc(x.title, x.body)
		b, err := d.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseDoc(b)
		if err != nil {
			t.Fatalf("ParseDoc(%x): %v", b, err)
		}
		if got.Text() != "" || !got.Signature().Empty() {
			t.Errorf("%q: a parsed doc carries text %q or a signature", x.title, got.Text())
		}
		if got.words != d.words || got.textHash != d.textHash {
			t.Errorf("%q: words %d, hash %x; want %d, %x", x.title, got.words, got.textHash, d.words, d.textHash)
		}
		for i, l := range got.lists() {
			if want := *d.lists()[i]; !slices.Equal(*l, want) {
				t.Errorf("%q: list %d = %v, want %v", x.title, i, *l, want)
			}
		}
		again, _ := got.MarshalBinary()
		if !bytes.Equal(again, b) {
			t.Errorf("%q: re-encoding differs: %x vs %x", x.title, again, b)
		}
		// What matters: every decision on the parsed doc is the one on
		// the doc it was made from, whichever side it is on.
		for _, o := range storedTexts {
			od := NewDoc(o.title, o.body)
			if a, b := Decide(d, od, DefaultThreshold), Decide(got, od, DefaultThreshold); a != b {
				t.Errorf("Decide(%q, %q): %+v from the doc, %+v from the stored doc", x.title, o.title, a, b)
			}
			if a, b := Decide(od, d, DefaultThreshold), Decide(od, got, DefaultThreshold); a != b {
				t.Errorf("Decide(%q, %q): %+v from the doc, %+v from the stored doc", o.title, x.title, a, b)
			}
		}
	}
}

func TestParseDocGarbage(t *testing.T) {
	good, _ := NewDoc("Storm", paras(story...)).MarshalBinary()
	// The first list starts after the version, word count (one byte for
	// a story this size), text hash and list length (two bytes); its Rice
	// parameter comes first.
	const first = 1 + 1 + 8 + 2
	otherK := slices.Clone(good)
	otherK[first]++
	// Two hashes, the first the largest there is: the second overflows.
	past := []byte{DocVersion, 0, 1, 2, 3, 4, 5, 6, 7, 8, 2, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0}
	tests := map[string][]byte{
		"nil":             nil,
		"version only":    {DocVersion},
		"other version":   append([]byte{DocVersion + 1}, good[1:]...),
		"truncated":       good[:len(good)-1],
		"no lists":        good[:10],
		"padded":          append(slices.Clone(good), 0),
		"other parameter": otherK,
		"past 32 bits":    past,
		"huge count":      append(slices.Clone(good[:10]), 0xff, 0xff, 0xff, 0xff, 0x0f),
		"bad varint":      {DocVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"word overflow":   {DocVersion, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"signature":       mustSig(t),
		"overlong count":  append(append([]byte{DocVersion, 0x80, 0x00}, good[2:10]...), 0, 0, 0, 0, 0, 0),
	}
	for name, b := range tests {
		if _, err := ParseDoc(b); !errors.Is(err, errDoc) {
			t.Errorf("%s: ParseDoc(%x) = %v, want an invalid doc error", name, b, err)
		}
	}
	if _, err := ParseDoc(good); err != nil {
		t.Fatalf("the good doc the cases are cut from does not parse: %v", err)
	}
}

func mustSig(t *testing.T) []byte {
	b, err := NewDoc("", paras(story...)).Signature().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzParseDoc(f *testing.F) {
	for _, x := range storedTexts {
		b, _ := NewDoc(x.title, x.body).MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{DocVersion, 20, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDoc(b)
		if err != nil {
			return
		}
		again, _ := d.MarshalBinary()
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding of %x is %x", b, again)
		}
		// A parsed doc is safe to compare, both ways.
		o := NewDoc("", paras(story...))
		if d.textHash == o.textHash {
			return // two texts of one length and hash: ordered by argument
		}
		x, y := Decide(d, o, DefaultThreshold), Decide(o, d, DefaultThreshold)
		if x.Same != y.Same || x.Containment != y.Containment {
			t.Fatalf("asymmetric: %+v vs %+v", x, y)
		}
	})
}
