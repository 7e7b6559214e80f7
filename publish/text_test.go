package publish

import (
	"strings"
	"testing"
)

func TestPlainText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Plain title", "Plain title"},
		{"Budget &amp; tax <b>plans</b>\n\t unveiled", "Budget & tax plans unveiled"},
		{"<p>One</p><p>Two</p>", "One Two"},
		{"em<em>phas</em>is", "emphasis"},
		{"<script>alert(1)</script>Hello", "Hello"},
		{"a < b", "a < b"},
		{"&#8220;Quoted&#8221; &eacute;t&eacute;", "“Quoted” été"},
		{"bell\x07 char", "bell char"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := plainText(tt.in); got != tt.want {
			t.Errorf("plainText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEntryTitle(t *testing.T) {
	long := strings.Repeat("word ", 40)
	tests := []struct{ title, text, want string }{
		{"Title", "text", "Title"},
		{"&amp;lt;b&amp;gt;Bold&amp;lt;/b&amp;gt; move", "", "Bold move"},
		{"", "Short text", "Short text"},
		{"  <br> ", "", "(untitled)"},
		{"", long, strings.TrimSpace(strings.Repeat("word ", 16)) + "…"},
	}
	for _, tt := range tests {
		if got := entryTitle(tt.title, tt.text); got != tt.want {
			t.Errorf("entryTitle(%q, %q) = %q, want %q", tt.title, tt.text, got, tt.want)
		}
	}
}

func TestSanitizeHTML(t *testing.T) {
	const base = "https://news.example/world/story.html"
	tests := []struct{ in, want string }{
		{`<a href="/other">x</a>`, `<a href="https://news.example/other" rel="nofollow">x</a>`},
		{`<img src="pic.jpg" alt="p">`, `<img src="https://news.example/world/pic.jpg" alt="p"/>`},
		{`<a href="https://elsewhere.example/">x</a>`, `<a href="https://elsewhere.example/" rel="nofollow">x</a>`},
		{`<p>tab&#9;vt&#11;nul&#0;ff&#x0C;</p>`, "<p>tab\tvtnul\uFFFDff</p>"}, // HTML decodes &#0; to U+FFFD
		{`<p style="color:red" onclick="x()">hi</p>`, `<p>hi</p>`},
		{`<a href="javascript:alert(1)">x</a>`, `x`},
		{`<iframe src="https://evil.example/"></iframe>ok`, `ok`},
		{"   ", ""},
	}
	for _, tt := range tests {
		if got := sanitizeHTML(tt.in, base); got != tt.want {
			t.Errorf("sanitizeHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHTTPURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://a.example/x", "https://a.example/x"},
		{" http://a.example/ ", "http://a.example/"},
		{"javascript:alert(1)", ""},
		{"data:text/html,hi", ""},
		{"/relative", ""},
		{"", ""},
		{"https://ap.example/a?ids[]=1&q=café|x y", "https://ap.example/a?ids%5B%5D=1&q=caf%C3%A9%7Cx%20y"},
		{"https://ap.example/a?q=100%25&r=50%", "https://ap.example/a?q=100%25&r=50%25"},
		{"https://ap.example/a?x={\"y\"}", "https://ap.example/a?x=%7B%22y%22%7D"},
	}
	for _, tt := range tests {
		if got := httpURL(tt.in); got != tt.want {
			t.Errorf("httpURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
