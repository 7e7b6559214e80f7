package dedupe

import (
	"slices"
	"strings"
	"testing"
	"time"
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
	self := Decide(d, d, DefaultThreshold)
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
