package dedupe_test

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wiredesk/wiredesk/dedupe"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "  Floods   hit\tthe coast \n", "Floods hit the coast"},
		{"paragraphs", "<p>First.</p><p>Second.</p>", "First.\nSecond."},
		{"br", "line one<br>line two<br/>line three", "line one\nline two\nline three"},
		{"inline joins", "<b>bo</b>ld and <i>it</i> <em>here</em>", "bold and it here"},
		{"entities", "Tom &amp; Jerry &lt;3 &quot;hi&quot; caf&eacute; &#8212; x", "Tom & Jerry <3 \"hi\" café — x"},
		{"nbsp collapses", "a&nbsp;&nbsp;b", "a b"},
		{"script and style", "<script>var x = '<p>no</p>';</script>keep<style>p{color:red}</style> this", "keep this"},
		{"noscript", "<noscript>enable js</noscript>Body", "Body"},
		{"blank blocks collapse", "<div><p></p><p> </p></div><p>only</p><div></div>", "only"},
		{"list", "<ul><li>one</li><li>two</li></ul>", "one\ntwo"},
		{"comment", "a <!-- hidden --> b", "a b"},
		{"unclosed", "<p>dangling <b>bold", "dangling bold"},
		{"self-closing script", "<script/>visible", "visible"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dedupe.Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCanonicalURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"not a url", ""},
		{"/relative/path", ""},
		{"ftp://example.com/file", ""},
		{"mailto:desk@example.com", ""},
		{"http:opaque", ""},
		{"https://", ""},
		{"http://Example.COM/News/Story", "https://example.com/News/Story"},
		// A site root is a homepage, never an article's identity.
		{"HTTPS://example.com", ""},
		{"https://example.com/", ""},
		{"https://example.com//", ""},
		{"https://example.com/.", ""},
		{"https://example.com/#latest", ""},
		{"https://example.com/?utm_source=rss&fbclid=1", ""},
		{"https://example.com/?", ""},
		{"https://example.com/?p=123", "https://example.com/?p=123"},
		{"https://example.com/index.html", "https://example.com/index.html"},
		{"http://example.com:80/a", "https://example.com/a"},
		{"https://example.com:443/a", "https://example.com/a"},
		{"https://example.com:8080/a", "https://example.com:8080/a"},
		{"https://example.com./a", "https://example.com/a"},
		{"https://user:pw@example.com/a", "https://example.com/a"},
		{"https://example.com/world/story-1/", "https://example.com/world/story-1"},
		{"https://example.com/a/./b/../c//d", "https://example.com/a/c/d"},
		{"https://example.com/a#comments", "https://example.com/a"},
		{"https://example.com/%7euser/a%2db", "https://example.com/~user/a-b"},
		{"https://example.com/a?utm_source=rss&utm_medium=feed&id=7", "https://example.com/a?id=7"},
		{"https://example.com/a?UTM_Campaign=x&fbclid=1&gclid=2&mc_cid=3&mc_eid=4", "https://example.com/a"},
		{"https://example.com/a?ref=home&cmpid=x&ncid=y&ocid=z&page=2", "https://example.com/a?page=2"},
		{"https://example.com/a?b=2&a=1&b=1", "https://example.com/a?a=1&b=1&b=2"},
		{"https://example.com/a?q=hello+world&x=%2F", "https://example.com/a?q=hello+world&x=%2F"},
		{"https://example.com/a?", "https://example.com/a"},
		{"http://[2001:DB8::1]:80/a", "https://[2001:db8::1]/a"},
		{"  https://example.com/a  ", "https://example.com/a"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := dedupe.CanonicalURL(tt.in)
			if got != tt.want {
				t.Errorf("CanonicalURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := dedupe.CanonicalURL(got); got != "" && again != got {
				t.Errorf("not idempotent: CanonicalURL(%q) = %q", got, again)
			}
		})
	}
}

// story is agency copy long enough to hash; variants below re-typeset it.
const story = `BEIJING, March 3 (Xinhua) -- China's national legislature opened its annual
session on Tuesday, with lawmakers set to review the government work report, the draft
outline of the development plan and a revised law on the organisation of local
people's congresses, officials said at a press conference held in the Great Hall.`

func TestContentHash(t *testing.T) {
	base := dedupe.ContentHash(story)
	if len(base) != 64 {
		t.Fatalf("ContentHash(story) = %q, want 64 hex digits", base)
	}
	same := []struct{ name, in string }{
		{"markup", "<p>" + strings.ReplaceAll(story, "annual", "<b>annual</b>") + "</p><script>track()</script>"},
		{"case and spacing", strings.ToUpper(strings.ReplaceAll(story, " ", "   "))},
		{"curly quotes", strings.ReplaceAll(story, "'", "’")},
		{"dashes", strings.ReplaceAll(story, "--", "—")},
		{"entities", strings.ReplaceAll(story, "'", "&#39;")},
		{"full-width digits", strings.ReplaceAll(story, "3", "３")},
		{"punctuation", strings.ReplaceAll(story, ",", "")},
	}
	for _, tt := range same {
		t.Run(tt.name, func(t *testing.T) {
			if got := dedupe.ContentHash(tt.in); got != base {
				t.Errorf("ContentHash differs from the plain copy: %q vs %q\nnormalised: %q\nbase:       %q",
					got, base, dedupe.Normalize(tt.in), dedupe.Normalize(story))
			}
		})
	}
	different := []struct{ name, in string }{
		{"one word changed", strings.Replace(story, "Tuesday", "Wednesday", 1)},
		{"sentence added", story + " More details to follow."},
	}
	for _, tt := range different {
		t.Run(tt.name, func(t *testing.T) {
			if got := dedupe.ContentHash(tt.in); got == base || got == "" {
				t.Errorf("ContentHash = %q, want a different non-empty hash", got)
			}
		})
	}
	short := []string{"", "Read more", "<p>Photo: Reuters</p>", strings.Repeat("word ", dedupe.MinWords-1)}
	for _, in := range short {
		if got := dedupe.ContentHash(in); got != "" {
			t.Errorf("ContentHash(%q) = %q, want empty for a short text", in, got)
		}
	}
	if got := dedupe.ContentHash(strings.Repeat("word ", dedupe.MinWords)); got == "" {
		t.Errorf("ContentHash of exactly %d words is empty", dedupe.MinWords)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>Don’t “panic” – it's <i>fine</i>!</p>", "dont panic its fine"},
		{"U.S. well-known 50/50 ﬁnal Ｘ", "us well known 50 50 final x"},
		{"a\n\nb", "a b"},
	}
	for _, tt := range tests {
		if got := dedupe.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{"", "http://Example.com:80/a/../b/?utm_x=1&b=2&a=1#f", "https://[::1]:443/", "https://x/%zz", "https://a.b/?%=&&=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := dedupe.CanonicalURL(in)
		if got == "" {
			return
		}
		if !strings.HasPrefix(got, "https://") {
			t.Errorf("CanonicalURL(%q) = %q, want https scheme", in, got)
		}
		if u, err := url.Parse(got); err != nil || (u.Path == "/" && u.RawQuery == "") {
			t.Errorf("CanonicalURL(%q) = %q, want no bare site root", in, got)
		}
		if again := dedupe.CanonicalURL(got); again != got {
			t.Errorf("not idempotent: %q -> %q -> %q", in, got, again)
		}
	})
}

func FuzzContentHash(f *testing.F) {
	for _, s := range []string{"", "Read more", story, "<p>" + story + "</p>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := dedupe.ContentHash(in)
		if got != "" && len(got) != 64 {
			t.Errorf("ContentHash(%q) = %q, want empty or 64 hex digits", in, got)
		}
		n := dedupe.Normalize(in)
		if !utf8.ValidString(in) {
			return
		}
		if again := dedupe.Normalize(n); again != n {
			t.Errorf("Normalize not idempotent: %q -> %q -> %q", in, n, again)
		}
	})
}

func BenchmarkContentHash(b *testing.B) {
	doc := "<p>" + strings.Repeat(story+"</p><p>", 8) + "</p>" // about 2 KB of copy, like a wire story
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		dedupe.ContentHash(doc)
	}
}
