package aggregator

import (
	"net/url"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"120", now.Add(2 * time.Minute)},
		{" 5 ", now.Add(5 * time.Second)},
		{"0", time.Time{}},
		{"-3", time.Time{}},
		{"soon", time.Time{}},
		{"Wed, 04 Mar 2026 15:00:00 GMT", now.Add(3 * time.Hour)},     // IMF-fixdate
		{"Wednesday, 04-Mar-26 15:00:00 GMT", now.Add(3 * time.Hour)}, // obsolete RFC 850
		{"Wed Mar  4 15:00:00 2026", now.Add(3 * time.Hour)},          // asctime
		{"Wed, 04 Mar 2026 11:00:00 GMT", time.Time{}},                // past
		{"Fri, 04 Mar 2050 11:00:00 GMT", now.Add(MaxRetryAfter)},     // capped
		{"99999999999999999999", time.Time{}},                         // overflows int64: not a number we read
		{"9999999999", now.Add(MaxRetryAfter)},                        // capped
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); !got.Equal(tt.want) {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestToUTF8(t *testing.T) {
	tests := []struct {
		name, body, header, want string
	}{
		{"utf-8 as declared", `<?xml version="1.0" encoding="utf-8"?><a>café</a>`, "", `<?xml version="1.0" encoding="utf-8"?><a>café</a>`},
		{"prolog lies: latin-1", `<?xml version="1.0" encoding="ISO-8859-1"?><a>café</a>`, "", `<?xml version="1.0" encoding="utf-8"?><a>café</a>`},
		{"prolog lies, single quotes", "\xef\xbb\xbf<?xml version='1.0' encoding='windows-1252'?><a>é</a>", "", "\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?><a>é</a>"},
		{"header lies", `<a>café</a>`, "windows-1252", `<a>café</a>`},
		{"latin-1 labelled utf-8", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>caf\xe9</a>", "", `<?xml version="1.0" encoding="UTF-8"?><a>café</a>`},
		{"latin-1 per header", "<a>caf\xe9 \x80</a>", "iso-8859-1", "<a>café €</a>"},
		{"windows-1252 unlabelled", "<a>\x93quoted\x94</a>", "", "<a>“quoted”</a>"},
		{"utf-8 with stray bytes", "<a>café \xff end</a>", "", "<a>café \uFFFD end</a>"},
		{"declared latin-1 left to the parser", "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><a>caf\xe9</a>", "", "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><a>caf\xe9</a>"},
		{"utf-16 left alone", "\xff\xfe<\x00a\x00", "", "\xff\xfe<\x00a\x00"},
	}
	for _, tt := range tests {
		if got := string(toUTF8([]byte(tt.body), tt.header)); got != tt.want {
			t.Errorf("%s: toUTF8 = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAdvertisedFeeds(t *testing.T) {
	base, _ := url.Parse("https://news.example/section/page.html")
	page := `<html><head>
<link rel="alternate" type="application/rss+xml" href="../rss.xml">
<link rel="Alternate Feed" type="Application/Atom+XML" href="https://news.example/atom">
<link rel="alternate" type="text/html" href="/fr/">
<link rel="stylesheet" type="application/rss+xml" href="/not-a-feed">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
<link rel="alternate" type="application/rss+xml" href="../rss.xml">
</head><body><link rel="alternate" type="application/rss+xml" href="/in-body"></body></html>`
	got := advertisedFeeds([]byte(page), base)
	want := []string{"https://news.example/rss.xml", "https://news.example/atom"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("advertisedFeeds = %q, want %q", got, want)
	}
}
