package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk/internal/procmem"
)

// hostileTimeout is the [poll] timeout of the hostile test: short, so the
// slow sources cost little, and the bound on the whole poll derives from it.
const hostileTimeout = 2 * time.Second

// rssDoc returns an RSS 2.0 document with n items named prefix-i.
func rssDoc(prefix string, n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>` + prefix +
		`</title><link>https://` + prefix + `.example/</link>`)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>%s story %d</title><link>https://%s.example/%d</link><guid>%s-%d</guid>`+
			`<description>Body of %s story number %d, long enough to be a story of its own.</description></item>`,
			prefix, i, prefix, i, prefix, i, prefix, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// billionLaughs declares entities that would expand to gigabytes; a
// parser must refuse them or leave them unexpanded.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">`)
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, `<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	b.WriteString(`]><rss version="2.0"><channel><title>&lol9;</title>` +
		`<item><title>&lol9;</title><guid>laughs-1</guid><description>&lol9;</description></item></channel></rss>`)
	return b.String()
}

// gzipMember compresses s as one gzip member; members concatenate into
// one stream (RFC 1952 §2.2), so a bomb of any size is a repetition.
func gzipMember(t *testing.T, s []byte) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(s)
	zw.Close()
	return buf.Bytes()
}

// hostileMux serves one path per hostile behaviour of issue 4.
func hostileMux(t *testing.T, retryDate time.Time) *http.ServeMux {
	mux := http.NewServeMux()
	serve := func(path, contentType, body string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Write([]byte(body))
		})
	}
	status := func(path string, code int, header ...string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			http.Error(w, http.StatusText(code), code)
		})
	}
	redirect := func(path, to string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, to, http.StatusFound)
		})
	}
	rss := "application/rss+xml"
	mux.HandleFunc("/trickle.xml", trickle)
	mux.HandleFunc("/hang.xml", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/endless.xml", endless)
	mux.HandleFunc("/bomb.xml", gzipBomb(t))
	redirect("/loop.xml", "/loop.xml")
	for i := range 20 {
		redirect(fmt.Sprintf("/chain/%d", i), fmt.Sprintf("/chain/%d", i+1))
	}
	serve("/chain/20", rss, rssDoc("chain", 1))
	redirect("/ftp.xml", "ftp://127.0.0.1/feed.xml")
	serve("/page.html", "text/html; charset=utf-8", `<!doctype html><html><head><title>News</title>`+
		`<link rel="alternate" type="application/rss+xml" title="News" href="/hidden/feed.xml">`+
		`</head><body><p>Our news</p></body></html>`)
	serve("/empty.xml", rss, "")
	full := rssDoc("truncated", 3)
	serve("/truncated.xml", rss, full[:len(full)/2])
	status("/notfound.xml", http.StatusNotFound)
	status("/removed.xml", http.StatusGone)
	status("/error500.xml", http.StatusInternalServerError)
	status("/ratelimit.xml", http.StatusTooManyRequests, "Retry-After", "120")
	status("/unavailable.xml", http.StatusServiceUnavailable, "Retry-After", retryDate.Format(http.TimeFormat))
	serve("/laughs.xml", rss, billionLaughs())
	serve("/many.xml", rss, rssDoc("many", 5000))
	serve("/bigtitle.xml", rss, strings.Replace(rssDoc("bigtitle", 2), "bigtitle story 0",
		strings.Repeat("big ", 512<<10), 1))
	// A prolog that says Latin-1 over UTF-8 bytes, and bytes that are no
	// UTF-8 at all: both are accepted, and stored as valid UTF-8.
	serve("/charset.xml", rss, strings.Replace(rssDoc("charset", 2), `encoding="utf-8"`, `encoding="ISO-8859-1"`, 1))
	serve("/badutf8.xml", rss, strings.Replace(rssDoc("badutf8", 2), "badutf8 story 0", "bad \xff\xfe bytes", 1))
	serve("/good.xml", rss, rssDoc("good", 3))
	serve("/goodhtml.xml", "text/html", rssDoc("goodhtml", 2))
	return mux
}

// trickle sends a valid start of a feed, one byte every 300ms, for ever.
func trickle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/rss+xml")
	doc := rssDoc("trickle", 100)
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		if _, err := w.Write([]byte{doc[i%len(doc)]}); err != nil {
			return
		}
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// endless sends items until the client hangs up (bounded at 4 GB so a
// client that never stops cannot keep the test alive for ever).
func endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/rss+xml")
	w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>endless</title>`))
	chunk := []byte(strings.Repeat(`<item><title>more</title><guid>same</guid></item>`, 1<<10))
	for sent := 0; sent < 4<<30; sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil || r.Context().Err() != nil {
			return
		}
	}
}

// gzipBomb sends about 10 kB per 16 MB of inflated whitespace inside a
// feed, 2 GB inflated in all, built from precompressed gzip members.
func gzipBomb(t *testing.T) http.HandlerFunc {
	head := gzipMember(t, []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>bomb</title>`))
	blank := gzipMember(t, make([]byte, 16<<20))
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(head)
		for range 128 {
			if _, err := w.Write(blank); err != nil || r.Context().Err() != nil {
				return
			}
		}
	}
}

// hostileSource is one source of the hostile test with what its poll line
// (after "NAME: ") must match and the status `sources` must show.
type hostileSource struct {
	name, path string
	status     string // stored status after one poll
	line       string // regexp, case-insensitive, over the rest of its poll line
}

func hostileSources(base string) []hostileSource {
	deadline := `deadline|timeout|timed out`
	return []hostileSource{
		{"trickle", "/trickle.xml", "error", deadline},
		{"hang", "/hang.xml", "error", deadline},
		{"endless", "/endless.xml", "error", `too large`},
		{"bomb", "/bomb.xml", "error", `too large`},
		{"loop", "/loop.xml", "error", `redirect`},
		{"chain", "/chain/0", "error", `redirect`},
		{"ftp", "/ftp.xml", "error", `redirect.*ftp|ftp.*redirect`},
		{"page", "/page.html", "error", `advertises a feed at ` + regexp.QuoteMeta(base+"/hidden/feed.xml")},
		{"empty", "/empty.xml", "error", `^error`},
		{"truncated", "/truncated.xml", "error", `^error`},
		{"notfound", "/notfound.xml", "error", `404`},
		{"removed", "/removed.xml", "gone", `gone`},
		{"error500", "/error500.xml", "error", `500`},
		{"ratelimit", "/ratelimit.xml", "error", `429.*retry.after`},
		{"unavailable", "/unavailable.xml", "error", `503.*retry.after`},
		{"laughs", "/laughs.xml", "", ``}, // refused or unexpanded; checked below
		{"many", "/many.xml", "ok", `^ok \(200\) 5000 new`},
		{"bigtitle", "/bigtitle.xml", "ok", `^ok \(200\) 2 new`},
		{"charset", "/charset.xml", "ok", `^ok \(200\) 2 new`},
		{"badutf8", "/badutf8.xml", "ok", `^ok \(200\) 2 new`},
		{"good", "/good.xml", "ok", `^ok \(200\) 3 new`},
		{"goodhtml", "/goodhtml.xml", "ok", `^ok \(200\) 2 new`},
	}
}

func writeHostileConfig(t *testing.T, base string, sources []hostileSource) string {
	t.Helper()
	var b strings.Builder
	// An @every 1m schedule puts the next run after one failure at the
	// 1m backoff, so a later retry time can only come from Retry-After.
	fmt.Fprintf(&b, "[storage]\npath = \"wiredesk.db\"\n\n[poll]\nschedule = \"@every 1m\"\ntimeout = %q\n",
		hostileTimeout.String())
	for _, s := range sources {
		fmt.Fprintf(&b, "\n[[source]]\nname = %q\nurl = %q\ntags = [\"world\"]\n", s.name, base+s.path)
	}
	b.WriteString("\n[[topic]]\nname = \"world\"\ntitle = \"World\"\ntags = [\"world\"]\n")
	path := filepath.Join(t.TempDir(), "wiredesk.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runBinary runs the built binary and returns its stdout, elapsed time
// and peak resident set in KiB.
func runBinary(t *testing.T, bin string, args ...string) (out string, elapsed time.Duration, maxRSS int64) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	// Not the child's ru_maxrss: that counts this (race-instrumented)
	// test process's resident set too; see internal/procmem.
	peak, err := procmem.Run(cmd, 5*time.Millisecond)
	elapsed = time.Since(start)
	if err != nil {
		t.Fatalf("wiredesk %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), elapsed, peak >> 10
}

// TestHostileSources polls twenty-two sources in one cycle of the real
// binary, most of them broken or hostile in one of the ways of issue 4,
// and checks that each ends with a clear error within the timeout, that
// the process stays small, and that the good sources are stored, once.
func TestHostileSources(t *testing.T) {
	bin := buildBinary(t)
	retryDate := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	srv := httptest.NewServer(hostileMux(t, retryDate))
	t.Cleanup(srv.Close)
	sources := hostileSources(srv.URL)
	cfgPath := writeHostileConfig(t, srv.URL, sources)

	start := time.Now()
	out, elapsed, rss := runBinary(t, bin, "poll", "--config", cfgPath)
	t.Logf("first poll: %v elapsed, peak RSS %d KiB (%.1f MiB)\n%s", elapsed, rss, float64(rss)/1024, out)
	// The two slow sources share the host's two slots; everything else is
	// local. 3× the timeout plus slack for a loaded machine.
	if bound := 3*hostileTimeout + 4*time.Second; elapsed > bound {
		t.Errorf("poll took %v, want under %v", elapsed, bound)
	}
	if rss >= 256<<10 {
		t.Errorf("peak RSS %d KiB, want under 256 MiB", rss)
	}
	lines := pollLines(t, out)
	for _, s := range sources {
		line, ok := lines[s.name]
		if !ok {
			t.Errorf("%s: no line in the poll output", s.name)
			continue
		}
		if !regexp.MustCompile(`(?i)` + s.line).MatchString(line) {
			t.Errorf("%s: poll line %q does not match %q", s.name, line, s.line)
		}
	}
	checkRetryAfter(t, lines["ratelimit"], start.Add(120*time.Second))
	checkRetryAfter(t, lines["unavailable"], retryDate)
	checkHostileStates(t, bin, cfgPath, sources)
	checkLaughs(t, bin, cfgPath, lines["laughs"])

	out, elapsed, rss = runBinary(t, bin, "poll", "--config", cfgPath)
	t.Logf("second poll: %v elapsed, peak RSS %d KiB\n%s", elapsed, rss, out)
	if line := pollLines(t, out)["removed"]; !strings.Contains(line, "not polled") {
		t.Errorf("second poll: the gone source was not skipped: %q", line)
	}
	counts := storedItems(t, bin, cfgPath)
	for name, want := range map[string]int{"good": 3, "goodhtml": 2, "many": 5000, "bigtitle": 2} {
		if counts[name] != want {
			t.Errorf("after two polls %s has %d items stored, want %d", name, counts[name], want)
		}
	}
	checkIntegrity(t, filepath.Join(filepath.Dir(cfgPath), "wiredesk.db"))
}

// pollLines maps source name to the rest of its `wiredesk poll` line.
func pollLines(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		name, rest, ok := strings.Cut(l, ": ")
		if !ok {
			t.Errorf("poll line without a source name: %q", l)
			continue
		}
		lines[name] = rest
	}
	return lines
}

var retryAfter = regexp.MustCompile(`(?i)retry.after (\S+)`)

// checkRetryAfter asserts that line names a retry time no earlier than
// notBefore (less a second of rounding).
func checkRetryAfter(t *testing.T, line string, notBefore time.Time) {
	t.Helper()
	m := retryAfter.FindStringSubmatch(line)
	if m == nil {
		t.Errorf("no retry time in %q", line)
		return
	}
	at, err := time.Parse(time.RFC3339, strings.TrimRight(m[1], ";,)"))
	if err != nil {
		t.Errorf("retry time in %q: %v", line, err)
		return
	}
	if at.Before(notBefore.Add(-time.Second)) {
		t.Errorf("retry at %v, want no earlier than %v (Retry-After not honoured): %q", at, notBefore.UTC(), line)
	}
}

// checkHostileStates asserts what `wiredesk sources --json` says of each
// source after one poll.
func checkHostileStates(t *testing.T, bin, cfgPath string, sources []hostileSource) {
	t.Helper()
	out, _, _ := runBinary(t, bin, "sources", "--config", cfgPath, "--json")
	var states []struct {
		Name      string  `json:"name"`
		Status    string  `json:"status"`
		Failures  int     `json:"failures"`
		LastError string  `json:"last_error"`
		NextRun   *string `json:"next_run"`
	}
	if err := json.Unmarshal([]byte(out), &states); err != nil {
		t.Fatalf("sources --json: %v\n%s", err, out)
	}
	if len(states) != len(sources) {
		t.Errorf("sources lists %d sources, want %d", len(states), len(sources))
	}
	for i, st := range states {
		if i >= len(sources) || st.Name != sources[i].name {
			t.Errorf("sources row %d is %q, want config order", i, st.Name)
			continue
		}
		want := sources[i]
		switch {
		case want.status == "":
		case st.Status != want.status:
			t.Errorf("%s: status %q (%s), want %q", st.Name, st.Status, st.LastError, want.status)
		case want.status == "error" && (st.Failures != 1 || st.LastError == ""):
			t.Errorf("%s: failures %d, last error %q; want 1 and an error", st.Name, st.Failures, st.LastError)
		case want.status == "gone" && st.NextRun != nil:
			t.Errorf("%s: gone, but next run %v", st.Name, *st.NextRun)
		}
	}
	// The table renders the same states without error.
	table, _, _ := runBinary(t, bin, "sources", "--config", cfgPath)
	if n := strings.Count(table, "\n"); n != len(sources)+1 {
		t.Errorf("sources table has %d lines, want %d:\n%s", n, len(sources)+1, table)
	}
}

// checkLaughs asserts the billion-laughs document was refused or stored
// without expanding its entities.
func checkLaughs(t *testing.T, bin, cfgPath, line string) {
	t.Helper()
	if strings.HasPrefix(line, "error") {
		return
	}
	out, _, _ := runBinary(t, bin, "items", "--config", cfgPath, "--json", "--limit", "0")
	if strings.Contains(out, "lollol") {
		t.Errorf("billion laughs expanded (poll line %q)", line)
	}
}

// storedItems counts stored items by source, failing on a GUID stored twice.
func storedItems(t *testing.T, bin, cfgPath string) map[string]int {
	t.Helper()
	out, _, _ := runBinary(t, bin, "items", "--config", cfgPath, "--json", "--limit", "0")
	var items []itemJSON
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatalf("items --json: %v", err)
	}
	counts := map[string]int{}
	seen := map[string]bool{}
	for _, it := range items {
		key := it.Source + "\x00" + it.GUID
		if seen[key] {
			t.Errorf("%s: item %s stored twice", it.Source, it.GUID)
		}
		seen[key] = true
		counts[it.Source]++
	}
	return counts
}
