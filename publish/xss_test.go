package publish

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wiredesk/wiredesk"
)

// hostileStory carries the usual attacks in every field a publisher controls.
func hostileStory() wiredesk.Story {
	p := item(1, "AP", "ap-x", "javascript:alert(document.cookie)", `<script>alert(1)</script>Safe &lt;script&gt;alert(2)&lt;/script&gt; title<img src=x onerror=alert(3)>`, at(9, 0))
	p.Summary = `<p onclick="alert(4)">Safe summary</p><script>alert(5)</script><a href="javascript:alert(6)">x</a><iframe src="https://evil.example/"></iframe>`
	p.Content = `<p>Safe content</p><img src="x" onerror="alert(7)"><object data="x.swf"></object><style>body{}</style><a href="JaVaScRiPt:alert(8)">y</a><svg onload=alert(9)></svg>`
	cp := item(2, `PTI"><script>alert(10)</script>`, "pti-x", `javascript:alert(11)`, "copy", at(9, 5))
	return wiredesk.Story{ID: 1, GUID: "urn:uuid:00000000-0000-4000-8000-0000000000ff", Primary: p,
		Copies: []wiredesk.Item{p, cp}, Published: at(9, 0), Updated: at(9, 5)}
}

var forbidden = []string{"<script", "onerror", "onclick", "onload", "javascript:", "<iframe", "<object", "<style", "alert("}

// checkSafe fails if s, a decoded field that a reader may render as HTML,
// carries anything executable. "alert(" would only survive as script text.
func checkSafe(t *testing.T, where, s string) {
	t.Helper()
	low := strings.ToLower(s)
	for _, bad := range forbidden {
		if strings.Contains(low, bad) {
			t.Errorf("%s contains %q: %s", where, bad, s)
		}
	}
}

func TestXSS(t *testing.T) {
	finder := &sliceFinder{stories: []wiredesk.Story{hostileStory()}}
	s := newTestServer(finder)
	addSources(s, wiredesk.Source{Name: `PTI"><script>alert(10)</script>`, FeedURL: "javascript:alert(12)", Tags: []string{"world"}})
	ctx := context.Background()
	rendered := map[Format][]byte{}
	for _, f := range Formats() {
		body, _, err := s.Render(ctx, "world", f)
		if err != nil {
			t.Fatal(err)
		}
		rendered[f] = body
		validate(t, f, body)
		// Escaped or not, the raw bytes must not carry a javascript: URL.
		if strings.Contains(strings.ToLower(string(body)), "javascript:") {
			t.Errorf("%s carries a javascript: URL", f)
		}
	}

	rss := parseRSS(t, rendered[RSS]).Channel.Items
	if len(rss) != 1 {
		t.Fatalf("rss items = %d, want 1", len(rss))
	}
	checkSafe(t, "rss title", rss[0].Title)
	checkSafe(t, "rss description", rss[0].Description)
	checkSafe(t, "rss content", rss[0].Content)
	checkSafe(t, "rss link", rss[0].Link)
	if !strings.Contains(rss[0].Content, "Safe content") || !strings.Contains(rss[0].Description, "Safe summary") {
		t.Errorf("sanitising dropped the safe text: %q / %q", rss[0].Description, rss[0].Content)
	}
	if !strings.Contains(rss[0].Title, "Safe") {
		t.Errorf("rss title = %q, want the safe words kept", rss[0].Title)
	}

	atom := parseAtom(t, rendered[Atom]).Entries
	checkSafe(t, "atom title", atom[0].Title)
	checkSafe(t, "atom summary", atom[0].Summary.Body)
	checkSafe(t, "atom content", atom[0].Content.Body)
	for _, l := range atom[0].Links {
		checkSafe(t, "atom link", l.Href+" "+l.Title)
	}

	var jf struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(rendered[JSONFeed], &jf); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"title", "summary", "content_html", "url"} {
		v, _ := jf.Items[0][k].(string)
		checkSafe(t, "json "+k, v)
	}
	ext, _ := json.Marshal(jf.Items[0]["_wiredesk"])
	if strings.Contains(string(ext), "javascript:") {
		t.Errorf("json extension carries a javascript: URL: %s", ext)
	}
}

func TestXSSIndex(t *testing.T) {
	s := newTestServer(&sliceFinder{})
	setTopics(s, wiredesk.Topic{Name: "x", Title: `<script>alert(1)</script><iframe src=javascript:alert(2)>`,
		Description: `<a href="javascript:alert(3)" onclick=alert(4)>`})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := strings.ToLower(rec.Body.String())
	for _, bad := range []string{"<script", "<iframe", "<a href=\"javascript:"} {
		if strings.Contains(body, bad) {
			t.Errorf("index contains %q", bad)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("index does not show the escaped title")
	}
}
