package aggregator

import (
	"bytes"
	"testing"
)

func TestReplaceBadCharRefs(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		changed  bool
	}{
		{"<t>a&#0;b</t>", "<t>a&#xFFFD;b</t>", true},
		{"<t>&#x0000000000;&#00000000000;</t>", "<t>&#xFFFD;&#xFFFD;</t>", true},
		{"<t>&#x1F;&#31;&#xFFFE;&#xFFFF;&#xD800;&#1114112;&#99999999999999999999999;</t>",
			"<t>&#xFFFD;&#xFFFD;&#xFFFD;&#xFFFD;&#xFFFD;&#xFFFD;&#xFFFD;</t>", true},
		{"<t>&#9;&#10;&#13;&#32;&#233;&#xE9;&#xFFFD;&#x10FFFF;</t>", "<t>&#9;&#10;&#13;&#32;&#233;&#xE9;&#xFFFD;&#x10FFFF;</t>", false},
		// Not references: left alone.
		{"<t>&#X0; &#; &#x; &#0 &amp;#0; &#12a;</t>", "<t>&#X0; &#; &#x; &#0 &amp;#0; &#12a;</t>", false},
		// CDATA text is literal, before, between and after rewrites.
		{"<a>&#1;</a><b><![CDATA[x&#0;y]]></b><c>&#2;</c>", "<a>&#xFFFD;</a><b><![CDATA[x&#0;y]]></b><c>&#xFFFD;</c>", true},
		{"<b><![CDATA[&#0;]]>&#0;<![CDATA[&#0;", "<b><![CDATA[&#0;]]>&#xFFFD;<![CDATA[&#0;", true},
		{"&#0", "&#0", false},
		{"", "", false},
	} {
		got, changed := replaceBadCharRefs([]byte(tt.in))
		if string(got) != tt.want || changed != tt.changed {
			t.Errorf("replaceBadCharRefs(%q) = %q, %v; want %q, %v", tt.in, got, changed, tt.want, tt.changed)
		}
	}
}

// BenchmarkReplaceBadCharRefs is the retry's cost on the worst body for
// it: 10 MB of text escaped one character at a time, one bad reference.
func BenchmarkReplaceBadCharRefs(b *testing.B) {
	doc := append(bytes.Repeat([]byte("caf&#233; "), 1_000_000), "&#0;"...)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, changed := replaceBadCharRefs(doc); !changed {
			b.Fatal("nothing replaced")
		}
	}
}
