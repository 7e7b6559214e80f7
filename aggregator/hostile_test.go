package aggregator_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/aggregator"
)

// rssItems wraps raw <item> elements in an RSS 2.0 document.
func rssItems(prolog string, items ...string) string {
	return prolog + `<rss version="2.0"><channel><title>t</title><link>https://news.example/</link>` +
		strings.Join(items, "") + `</channel></rss>`
}

// rssItem is one item with a guid, title and a body long enough to be a story.
func rssItem(guid, title string) string {
	return fmt.Sprintf(`<item><guid>%s</guid><title>%s</title><link>https://news.example/%s</link>`+
		`<description>The text of %s, long enough to stand as a story of its own in the store.</description></item>`,
		guid, title, guid, guid)
}

func serve(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Write([]byte(body))
	}
}

func status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		http.Error(w, http.StatusText(code), code)
	}
}

func redirectTo(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
}

// trickle starts a valid feed and then sends one byte every 200ms for ever.
func trickle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/rss+xml")
	doc := rssItems("", rssItem("t", "trickle"))
	for i := 0; ; i++ {
		if _, err := w.Write([]byte{doc[i%len(doc)]}); err != nil {
			return
		}
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// endless sends items until the client hangs up.
func endless(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte(`<rss version="2.0"><channel><title>endless</title>`))
	chunk := []byte(strings.Repeat(rssItem("same", "more"), 256))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// zeros16MB is 16 MB of zeros as one gzip member (about 16 KB). Members
// concatenate into one stream (RFC 1952 §2.2), so a bomb of any size is a
// repetition, cheap to serve on a loaded machine once the member is built.
var zeros16MB = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(make([]byte, 16<<20))
	zw.Close()
	return buf.Bytes()
})

// gzipBomb sends a feed whose gzip body (about 1 MB) inflates to 1 GB.
func gzipBomb(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Set("Content-Type", "application/rss+xml")
	var head bytes.Buffer
	zw := gzip.NewWriter(&head)
	zw.Write([]byte(`<rss version="2.0"><channel><title>`))
	zw.Close()
	w.Write(head.Bytes())
	for range 64 {
		if _, err := w.Write(zeros16MB()); err != nil || r.Context().Err() != nil {
			return
		}
	}
}

// billionLaughs nests entity definitions that would expand to 10^9 "lol"s.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">`)
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, `<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	b.WriteString(`]>`)
	return rssItems(b.String(), `<item><guid>laughs</guid><title>&lol9;</title><description>&lol9;</description></item>`)
}

// hostileCase is a source that first serves a good feed (two items stored)
// and then behaves badly.
type hostileCase struct {
	name    string
	handler http.HandlerFunc
	status  string   // stored status after the hostile poll
	want    []string // substrings of Result.String(), with {base} for the server URL
	check   func(t *testing.T, r aggregator.Result, st wiredesk.SourceState, items []wiredesk.Item)
	// work bounds the poll when a valid feed's parse and save, which the
	// fetch timeout does not cover, take longer than the timeout; zero
	// means the timeout plus a second of slack. Such a case runs alone,
	// before the others, so that the machine's cores are its own.
	work time.Duration
}

// newItems asserts the hostile poll stored n items beyond the two seeded.
func newItems(n int) func(*testing.T, aggregator.Result, wiredesk.SourceState, []wiredesk.Item) {
	return func(t *testing.T, r aggregator.Result, _ wiredesk.SourceState, items []wiredesk.Item) {
		t.Helper()
		if r.Stats.New != n || len(items) != n+2 {
			t.Errorf("%d new, %d stored; want %d new, %d stored", r.Stats.New, len(items), n, n+2)
		}
	}
}

// titled asserts that an item stored by the hostile poll has title want.
func titled(guid, want string) func(*testing.T, aggregator.Result, wiredesk.SourceState, []wiredesk.Item) {
	return func(t *testing.T, _ aggregator.Result, _ wiredesk.SourceState, items []wiredesk.Item) {
		t.Helper()
		for _, it := range items {
			if it.GUID == guid {
				if it.Title != want {
					t.Errorf("title %q, want %q", it.Title, want)
				}
				return
			}
		}
		t.Errorf("no item %s stored", guid)
	}
}

// nextRun asserts the stored NextRun.
func nextRun(want time.Time) func(*testing.T, aggregator.Result, wiredesk.SourceState, []wiredesk.Item) {
	return func(t *testing.T, r aggregator.Result, st wiredesk.SourceState, _ []wiredesk.Item) {
		t.Helper()
		if !st.NextRun.Equal(want) || !r.NextRun.Equal(want) {
			t.Errorf("next run %v (result %v), want %v", st.NextRun, r.NextRun, want)
		}
	}
}

// hostileScale is the poll timeout, the body cap and the item count of
// the "many items" case: 2s and the defaults, or under -race (see
// raceEnabled) 3s and a fifth of them.
func hostileScale() (timeout time.Duration, maxBody int64, items int) {
	if raceEnabled {
		return 3 * time.Second, 2 << 20, 1000
	}
	return 2 * time.Second, 10 << 20, 5000
}

func hostileCases() []hostileCase {
	timeoutSecs, maxBody, many := hostileScale()
	utf8Doc := rssItems(`<?xml version="1.0" encoding="utf-8"?>`, rssItem("h1", "café crème"))
	latin1Doc := strings.Replace(utf8Doc, "café crème", "caf\xe9 cr\xe8me", 1)
	timeout := []string{"error:", "timed out", fmt.Sprintf("within the %v timeout", timeoutSecs)}
	tooLarge := []string{"response body too large", fmt.Sprintf("%dMB cap", maxBody>>20), "after decompression"}
	return []hostileCase{
		{name: "trickle", handler: trickle, status: wiredesk.StatusError, want: timeout},
		{name: "never answers", handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			status: wiredesk.StatusError, want: timeout},
		{name: "endless body", handler: endless, status: wiredesk.StatusError, want: tooLarge},
		{name: "gzip bomb", handler: gzipBomb, status: wiredesk.StatusError, want: tooLarge},
		{name: "redirect loop", handler: redirectTo("/feed"), status: wiredesk.StatusError,
			want: []string{"redirect loop", "{base}/feed"}},
		{name: "redirect chain", handler: redirectTo("/chain/1"), status: wiredesk.StatusError,
			want: []string{"stopped after 5 redirects"}},
		{name: "redirect ftp", handler: redirectTo("ftp://files.example/feed.xml"), status: wiredesk.StatusError,
			want: []string{"redirect to non-http URL ftp://files.example/feed.xml"}},
		{name: "redirect file", handler: redirectTo("file:///etc/passwd"), status: wiredesk.StatusError,
			want: []string{"redirect to non-http URL file:///etc/passwd"}},
		{name: "redirect javascript", handler: redirectTo("javascript:alert(1)"), status: wiredesk.StatusError,
			want: []string{"redirect to non-http URL javascript:"}},
		{name: "html advertising a feed", status: wiredesk.StatusError,
			handler: serve("text/html", `<!doctype html><html><head><title>News</title>`+
				`<link rel="alternate" type="application/rss+xml" title="RSS" href="/hidden/feed.xml">`+
				`<link rel="stylesheet" href="/s.css"></head><body><p>News</p></body></html>`),
			want: []string{"not a feed: it is an HTML page; it advertises a feed at {base}/hidden/feed.xml: set feed_url to it"}},
		{name: "html advertising two feeds", status: wiredesk.StatusError,
			handler: serve("text/html", `<html><head><link rel="alternate" type="application/atom+xml" href="https://other.example/atom">`+
				`<link rel="alternate" type="application/feed+json" href="feed.json"></head></html>`),
			want: []string{"advertises feeds at https://other.example/atom, {base}/feed.json: set feed_url to one of them"}},
		{name: "html without a feed", handler: serve("text/html", `<!DOCTYPE html><html><body>hello</body></html>`),
			status: wiredesk.StatusError, want: []string{"not a feed: it is an HTML page and advertises no feed"}},
		{name: "empty body", handler: serve("application/rss+xml", ""), status: wiredesk.StatusError,
			want: []string{"not a feed: the response body is empty"}},
		{name: "truncated xml", handler: serve("application/rss+xml", utf8Doc[:len(utf8Doc)/2]),
			status: wiredesk.StatusError, want: []string{"not a feed", "unexpected EOF"}},
		{name: "404", handler: status(http.StatusNotFound), status: wiredesk.StatusError,
			want:  []string{"error: fetch {base}/feed: 404 Not Found; retry after 2026-03-04T12:01:00Z"},
			check: nextRun(clock.Add(time.Minute))},
		{name: "410", handler: status(http.StatusGone), status: wiredesk.StatusGone,
			want:  []string{"gone (410): fetch {base}/feed: 410 Gone; it will not be polled again until its feed_url changes or it is polled by name"},
			check: nextRun(time.Time{})},
		{name: "500", handler: status(http.StatusInternalServerError), status: wiredesk.StatusError,
			want: []string{"500 Internal Server Error"}, check: nextRun(clock.Add(time.Minute))},
		{name: "429 delta seconds", handler: status(http.StatusTooManyRequests, "Retry-After", "120"),
			status: wiredesk.StatusError, check: nextRun(clock.Add(2 * time.Minute)),
			want: []string{"429 Too Many Requests (the server asks to retry after 2026-03-04T12:02:00Z)"}},
		{name: "503 http date", handler: status(http.StatusServiceUnavailable, "Retry-After",
			clock.Add(3*time.Hour).Format(http.TimeFormat)), status: wiredesk.StatusError,
			check: nextRun(clock.Add(3 * time.Hour)), want: []string{"503", "retry after 2026-03-04T15:00:00Z"}},
		{name: "503 retry after a month is capped", handler: status(http.StatusServiceUnavailable, "Retry-After",
			fmt.Sprint(30*24*3600)), status: wiredesk.StatusError, check: nextRun(clock.Add(aggregator.MaxRetryAfter))},
		{name: "429 retry after sooner than backoff", handler: status(http.StatusTooManyRequests, "Retry-After", "5"),
			status: wiredesk.StatusError, check: nextRun(clock.Add(time.Minute))},
		{name: "feed as text/html", handler: serve("text/html; charset=utf-8", utf8Doc), status: wiredesk.StatusOK,
			want: []string{"ok (200) 1 new"}, check: newItems(1)},
		{name: "feed as octet-stream", handler: serve("application/octet-stream", utf8Doc), status: wiredesk.StatusOK,
			check: newItems(1)},
		{name: "prolog says latin-1, body is utf-8", status: wiredesk.StatusOK, check: titled("h1", "café crème"),
			handler: serve("application/rss+xml", strings.Replace(utf8Doc, "utf-8", "ISO-8859-1", 1))},
		{name: "header says windows-1252, body is utf-8", status: wiredesk.StatusOK, check: titled("h1", "café crème"),
			handler: serve("application/rss+xml; charset=windows-1252", utf8Doc)},
		{name: "prolog says utf-8, body is latin-1", status: wiredesk.StatusOK, check: titled("h1", "café crème"),
			handler: serve("application/rss+xml", latin1Doc)},
		{name: "header says iso-8859-1, body is latin-1", status: wiredesk.StatusOK, check: titled("h1", "café crème"),
			handler: serve("text/xml; charset=iso-8859-1", strings.Replace(latin1Doc, `encoding="utf-8"`, "", 1))},
		{name: "invalid utf-8 bytes", status: wiredesk.StatusOK, check: titled("h1", "café \uFFFD crème"),
			handler: serve("application/rss+xml", strings.Replace(utf8Doc, "café crème", "café \xff\xfe crème", 1))},
		{name: "billion laughs", handler: serve("application/rss+xml", billionLaughs()), status: wiredesk.StatusOK,
			check: titled("laughs", "&lol9;")},
		{name: "items without guid or link", status: wiredesk.StatusOK, check: newItems(2),
			handler: serve("", rssItems("", `<item><title>One</title><description>first body</description></item>`,
				`<item><title>Two</title><description>second body</description></item>`))},
		{name: "duplicate guids", status: wiredesk.StatusOK, check: newItems(2),
			handler: serve("", rssItems("", rssItem("d1", "first"), rssItem("d1", "again"), rssItem("d2", "other")))},
		{name: "future and unparseable dates", status: wiredesk.StatusOK, check: datesSane,
			handler: serve("", rssItems("",
				strings.Replace(rssItem("f1", "future"), "<title>", "<pubDate>Tue, 01 Jan 2999 00:00:00 GMT</pubDate><title>", 1),
				strings.Replace(rssItem("f2", "garbled"), "<title>", "<pubDate>the day after tomorrow</pubDate><title>", 1)))},
		{name: "empty title", status: wiredesk.StatusOK, check: titled("e1", ""),
			handler: serve("", rssItems("", rssItem("e1", "")))},
		{name: "2 MB title", status: wiredesk.StatusOK, check: bigTitle,
			handler: serve("", rssItems("", rssItem("b1", strings.Repeat("word ", 400<<10))))},
		{name: "many items", status: wiredesk.StatusOK, check: newItems(many), work: 30 * time.Second,
			handler: serve("", manyItems(many))},
	}
}

func manyItems(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = rssItem(fmt.Sprint("m", i), fmt.Sprint("Story number ", i))
	}
	return rssItems("", items...)
}

func datesSane(t *testing.T, r aggregator.Result, _ wiredesk.SourceState, items []wiredesk.Item) {
	t.Helper()
	newItems(2)(t, r, wiredesk.SourceState{}, items)
	for _, it := range items {
		if it.Published.After(clock.Add(24*time.Hour)) || it.Published.IsZero() {
			t.Errorf("item %s published %v; want a date no later than a day ahead, filled in if missing", it.GUID, it.Published)
		}
	}
}

func bigTitle(t *testing.T, _ aggregator.Result, _ wiredesk.SourceState, items []wiredesk.Item) {
	t.Helper()
	for _, it := range items {
		if it.GUID == "b1" {
			if n := utf8.RuneCountInString(it.Title); n > 1000 || !strings.HasPrefix(it.Title, "word word") {
				t.Errorf("title of %d runes starting %.20q, want capped at 1000", n, it.Title)
			}
			return
		}
	}
	t.Error("item b1 not stored")
}

// TestHostileSources polls each hostile source alongside a good one, after
// a first good poll of it: the poll ends within the timeout with a clear
// error on the source, the good source is stored, and nothing is lost.
// The trickling and silent servers run into the timeout; every other case
// must end well inside it, even on a loaded machine under -race.
func TestHostileSources(t *testing.T) {
	timeout, maxBody, _ := hostileScale()
	// Compressing the bomb's member takes about 3 s under -race: done
	// lazily, inside the timed poll, it made the bomb time out before the
	// body cap could stop it.
	zeros16MB()
	good := httptest.NewServer(serve("application/rss+xml", rssItems("", rssItem("g1", "Good one"), rssItem("g2", "Good two"))))
	t.Cleanup(good.Close)
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.work == 0 {
				t.Parallel()
			}
			var hostile atomic.Bool
			seed := rssItems("", rssItem("s1", "Seed one"), rssItem("s2", "Seed two"))
			mux := http.NewServeMux()
			mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
				if !hostile.Load() {
					w.Write([]byte(seed))
					return
				}
				tc.handler(w, r)
			})
			for i := range 10 { // for the redirect chain
				mux.Handle(fmt.Sprintf("/chain/%d", i), redirectTo(fmt.Sprintf("/chain/%d", i+1)))
			}
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			db := openStore(t)
			bad := wiredesk.Source{Name: "bad", FeedURL: srv.URL + "/feed"}
			ok := wiredesk.Source{Name: "good", FeedURL: good.URL}
			p := newPoller(db, bad, ok)
			p.Timeout = timeout
			p.MaxBody = maxBody
			ctx := context.Background()
			if r, err := p.PollOnce(ctx, bad); err != nil || r.Stats.New != 2 {
				t.Fatalf("seed poll = %v, %v", r, err)
			}
			hostile.Store(true)
			start := time.Now()
			results, err := p.PollAll(ctx, []wiredesk.Source{bad, ok})
			elapsed := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if bound := max(tc.work, timeout+time.Second); elapsed > bound {
				t.Errorf("PollAll took %v, want within %v (the %v timeout)", elapsed, bound, timeout)
			}
			t.Logf("PollAll took %v", elapsed)
			checkHostile(t, tc, srv.URL, results[0], state(t, db, "bad"), storedItems(t, db, "bad"))
			if r := results[1]; r.Status != wiredesk.StatusOK || r.Stats.New != 2 || len(storedItems(t, db, "good")) != 2 {
				t.Errorf("good source: %v, want 2 new stored", r)
			}
		})
	}
}

func checkHostile(t *testing.T, tc hostileCase, base string, r aggregator.Result, st wiredesk.SourceState, items []wiredesk.Item) {
	t.Helper()
	line := r.String()
	t.Log(line)
	if r.Status != tc.status || st.Status != tc.status {
		t.Errorf("status %q (stored %q), want %q", r.Status, st.Status, tc.status)
	}
	for _, w := range tc.want {
		if w = strings.ReplaceAll(w, "{base}", base); !strings.Contains(line, w) {
			t.Errorf("poll line %q does not say %q", line, w)
		}
	}
	if tc.status == wiredesk.StatusOK {
		if r.Err != nil || st.LastError != "" {
			t.Errorf("error %v / stored %q, want none", r.Err, st.LastError)
		}
	} else if r.Err == nil || st.LastError != r.Err.Error() || st.ConsecutiveFailures != 1 {
		t.Errorf("stored error %q after %d failures, want %v after 1", st.LastError, st.ConsecutiveFailures, r.Err)
	}
	if len(items) < 2 {
		t.Errorf("%d items stored, want the 2 seeded kept", len(items))
	}
	for _, it := range items {
		for _, s := range []string{it.Title, it.Summary, it.Content, it.GUID, it.URL} {
			if !utf8.ValidString(s) {
				t.Errorf("item %q stores invalid UTF-8 %q", it.GUID, s)
			}
		}
	}
	if tc.check != nil {
		tc.check(t, r, st, items)
	}
}

func storedItems(t *testing.T, db interface {
	Items(context.Context, wiredesk.ItemFilter) ([]wiredesk.Item, error)
}, source string) []wiredesk.Item {
	t.Helper()
	items, err := db.Items(context.Background(), wiredesk.ItemFilter{Sources: []string{source}})
	if err != nil {
		t.Fatal(err)
	}
	return items
}
