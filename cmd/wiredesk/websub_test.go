package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/internal/feedtest"
)

// recordingHub is a WebSub hub on loopback that records every request.
type recordingHub struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []url.Values
	got  chan url.Values
	fail atomic.Int32 // answer this many more requests 503, unrecorded
}

func newRecordingHub(t *testing.T) *recordingHub {
	h := &recordingHub{got: make(chan url.Values, 16)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if h.fail.Add(-1) >= 0 {
			http.Error(w, "hub overloaded", http.StatusServiceUnavailable)
			return
		}
		h.mu.Lock()
		h.reqs = append(h.reqs, r.PostForm)
		h.mu.Unlock()
		h.got <- r.PostForm
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *recordingHub) next(t *testing.T, within time.Duration) (url.Values, bool) {
	t.Helper()
	select {
	case v := <-h.got:
		return v, true
	case <-time.After(within):
		return nil, false
	}
}

func setConfigLine(t *testing.T, cfgPath, table, line string) {
	t.Helper()
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "["+table+"]\n", "["+table+"]\n"+line+"\n", 1)
	if !strings.Contains(s, line) {
		s = "[" + table + "]\n" + line + "\n\n" + s
	}
	if err := os.WriteFile(cfgPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWebSubPublisher runs a daemon with [publish] websub_hub against a
// hub that records pings: the first polls change the topic, so the hub
// hears of its three feed URLs once; a poll that changes nothing sends no
// ping; a new story sends one again.
func TestWebSubPublisher(t *testing.T) {
	hub := newRecordingHub(t)
	feeds := startFeeds(t)
	cfgPath := writeConfig(t, feeds)
	setConfigLine(t, cfgPath, "publish", `websub_hub = "`+hub.URL+`/"`)
	d, results := startDaemon(t, cfgPath)
	defer closeDaemon(t, d)
	waitResults(t, results, len(feedDocs))

	ping, ok := hub.next(t, 10*time.Second)
	if !ok {
		t.Fatal("no ping after the first polls stored the topic's stories")
	}
	want := []string{"http://wiredesk.test/feeds/world.atom", "http://wiredesk.test/feeds/world.json", "http://wiredesk.test/feeds/world.rss"}
	got := slices.Sorted(slices.Values(ping["hub.url"]))
	if ping.Get("hub.mode") != "publish" || !slices.Equal(got, want) {
		t.Errorf("ping: %v, want hub.mode=publish and hub.url %v", ping, want)
	}
	if extra, ok := hub.next(t, 2*time.Second); ok {
		t.Errorf("a second ping for one change: %v", extra)
	}
	// The feed advertises the hub.
	if body := string(getOK(t, "http://"+d.Addr()+"/feeds/world.atom")); !strings.Contains(body, `rel="hub"`) {
		t.Errorf("feed does not advertise the hub")
	}

	// Nothing new: the polls answer 304, no ping.
	for _, src := range d.Config.Sources {
		if _, err := d.poller.PollOnce(t.Context(), src); err != nil {
			t.Fatal(err)
		}
	}
	if extra, ok := hub.next(t, 2*time.Second); ok {
		t.Errorf("ping without a change: %v", extra)
	}

	// A new story: one ping.
	feeds.Set("/alpha.rss", feedtest.Doc{ContentType: "application/rss+xml", ETag: `"a2"`, Body: `<?xml version="1.0"?>
<rss version="2.0"><channel><title>alpha</title><link>https://alpha.example/</link>
<item><title>Fresh wire story about a new bridge</title><link>https://alpha.example/bridge</link>
<description>A new bridge opened on Monday across the river, officials said, after four years of work.</description></item>
</channel></rss>`})
	src, _ := d.Config.Source("alpha")
	if r, err := d.poller.PollOnce(t.Context(), src); err != nil || r.Stats.New != 1 {
		t.Fatalf("poll alpha: %+v %v", r, err)
	}
	if _, ok := hub.next(t, 10*time.Second); !ok {
		t.Error("no ping after a new story")
	}
}

// TestWebSubPingRetried: a ping the hub fails is tried again without
// waiting for the topic's next change, and a reload that changes what a
// topic shows pings too.
func TestWebSubPingRetried(t *testing.T) {
	hub := newRecordingHub(t)
	hub.fail.Store(2)
	feeds := startFeeds(t)
	cfgPath := writeConfig(t, feeds)
	setConfigLine(t, cfgPath, "publish", `websub_hub = "`+hub.URL+`/"`)
	d, results := startDaemon(t, cfgPath, func(d *Daemon) { d.PingRetry = 100 * time.Millisecond })
	defer closeDaemon(t, d)
	waitResults(t, results, len(feedDocs))
	if _, ok := hub.next(t, 10*time.Second); !ok || hub.fail.Load() >= 0 {
		t.Fatalf("after two failed pings: ping received %v, failures left %d", ok, hub.fail.Load()+1)
	}
	if extra, ok := hub.next(t, time.Second); ok {
		t.Errorf("a retry after the ping went through: %v", extra)
	}

	limited := *d.Config
	limited.Topics = slices.Clone(limited.Topics)
	limited.Topics[0].Limit = 1
	if err := d.Reload(t.Context(), &limited); err != nil {
		t.Fatal(err)
	}
	if _, ok := hub.next(t, 10*time.Second); !ok {
		t.Error("no ping after a reload that cut the topic to one entry")
	}
}

// fakeHub is a WebSub hub on loopback: it records subscription requests,
// and the test drives verification and delivery through it.
type fakeHub struct {
	*httptest.Server
	subs chan url.Values
}

func newFakeHub(t *testing.T) *fakeHub {
	h := &fakeHub{subs: make(chan url.Values, 16)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mode := r.PostFormValue("hub.mode"); mode != "subscribe" && mode != "unsubscribe" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		h.subs <- r.PostForm
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *fakeHub) nextSub(t *testing.T) url.Values {
	t.Helper()
	select {
	case v := <-h.subs:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no subscription request reached the hub")
		return nil
	}
}

// verifyIntent makes the hub's verification of intent in mode (WebSub
// §5.3); a lease of 0 sends none, as for an unsubscription.
func verifyIntent(t *testing.T, sub url.Values, mode, topic, challenge string, lease int) *http.Response {
	t.Helper()
	q := url.Values{"hub.mode": {mode}, "hub.topic": {topic}, "hub.challenge": {challenge}}
	if lease > 0 {
		q.Set("hub.lease_seconds", strconv.Itoa(lease))
	}
	resp, err := http.Get(sub.Get("hub.callback") + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// deliver POSTs content to the callback signed with secret (sha256), or
// with a wrong signature when secret is "".
func deliver(t *testing.T, callback, secret, body string) int {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if secret == "" {
		sig = "sha256=00ff"
	}
	req, _ := http.NewRequest(http.MethodPost, callback, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/rss+xml")
	req.Header.Set("X-Hub-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func pushedFeed(hub, self, title string) string {
	return `<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>pushy</title><link>https://pushy.example/</link>
<atom:link rel="hub" href="` + hub + `"/><atom:link rel="self" href="` + self + `"/>
<item><title>` + title + `</title><link>https://pushy.example/` + strings.ReplaceAll(strings.ToLower(title), " ", "-") + `</link>
<description>` + title + `: the full text of a wire story, long enough to be stored as it is.</description></item>
</channel></rss>`
}

// TestWebSubSubscriber runs the whole subscriber handshake against a
// local hub: a polled feed advertising a hub is subscribed to with a
// secret and a callback under public_url; the hub's verification is
// answered with its challenge, a wrong topic is refused; a delivery with a
// bad signature is acknowledged and dropped, a signed one stored through
// the pipeline; the pushed source is polled only as a safety net; a short
// lease is renewed before it runs out.
func TestWebSubSubscriber(t *testing.T) {
	hub := newFakeHub(t)
	feeds := feedtest.New(t)
	self := feeds.URL + "/pushy.rss"
	feeds.Set("/pushy.rss", feedtest.Doc{ContentType: "application/rss+xml", Body: pushedFeed(hub.URL, self, "First story")})
	addr := freePort(t)
	cfgPath := filepath.Join(t.TempDir(), "wiredesk.toml")
	os.WriteFile(cfgPath, []byte(`[storage]
path = "wiredesk.db"
[server]
listen = "`+addr+`"
public_url = "http://`+addr+`"
[poll]
schedule = "@every 1h"
[[source]]
name = "pushy"
url = "`+self+`"
tags = ["world"]
[[topic]]
name = "world"
tags = ["world"]
`), 0o644)
	// With the default minute between subscription checks: verifications
	// and the reload must wake the loop, or the steps below time out.
	d, results := startDaemon(t, cfgPath)
	defer closeDaemon(t, d)
	waitResults(t, results, 1)

	sub := hub.nextSub(t)
	callback := sub.Get("hub.callback")
	if sub.Get("hub.topic") != self || !strings.HasPrefix(callback, "http://"+addr+"/websub/") ||
		len(sub.Get("hub.secret")) < 32 || sub.Get("hub.lease_seconds") != "604800" {
		t.Fatalf("subscription request: %v", sub)
	}

	// Verification: a wrong topic is refused, the right one echoed.
	if resp := verifyIntent(t, sub, "subscribe", "https://other.example/feed", "x", 3600); resp.StatusCode != http.StatusNotFound {
		t.Errorf("wrong topic: got %d, want 404", resp.StatusCode)
	}
	resp := verifyIntent(t, sub, "subscribe", self, "ch4ll3nge", 3600)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ch4ll3nge" {
		t.Fatalf("verification: %d %q, want 200 and the challenge", resp.StatusCode, body)
	}

	stored := func(title string) bool {
		items, err := d.db.Items(t.Context(), wiredesk.ItemFilter{Sources: []string{"pushy"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Title == title {
				return true
			}
		}
		return false
	}
	if code := deliver(t, callback, "", pushedFeed(hub.URL, self, "Forged story")); code/100 != 2 || stored("Forged story") {
		t.Errorf("bad signature: status %d, stored %v; want 2xx and dropped", code, stored("Forged story"))
	}
	if code := deliver(t, callback, sub.Get("hub.secret"), pushedFeed(hub.URL, self, "Pushed story")); code/100 != 2 || !stored("Pushed story") {
		t.Errorf("signed delivery: status %d, stored %v; want 2xx and stored", code, stored("Pushed story"))
	}
	if code := deliver(t, "http://"+addr+"/websub/unknown", sub.Get("hub.secret"), "x"); code != http.StatusNotFound {
		t.Errorf("unknown callback: %d, want 404", code)
	}

	// The safety net: the pushed source is polled only every fallback.
	deadline := time.Now().Add(5 * time.Second)
	for !d.isPushed("pushy") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !d.isPushed("pushy") {
		t.Error("the subscribed source is not marked as pushed")
	}
	// The status page shows its next poll where the safety net puts it,
	// the first hourly tick six hours after the last poll, not the
	// schedule's next tick.
	if page := string(getOK(t, "http://"+addr+"/")); !regexp.MustCompile(`>in [56] h<`).MatchString(page) {
		t.Errorf("status page does not show the pushed source's next poll in about 6 h:\n%s", page)
	}

	// A lease about to run out is renewed: the hub is asked again with the
	// same callback.
	verifyIntent(t, sub, "subscribe", self, "again", 2).Body.Close()
	renewal := hub.nextSub(t)
	if renewal.Get("hub.callback") != callback || renewal.Get("hub.topic") != self {
		t.Errorf("renewal: %v", renewal)
	}

	// The source leaves the config: the hub is asked to stop delivering
	// to that callback, the daemon confirms it, and refuses what comes.
	verifyIntent(t, sub, "subscribe", self, "renewed", 3600).Body.Close()
	gone := *d.Config
	gone.Sources = nil
	if err := d.Reload(t.Context(), &gone); err != nil {
		t.Fatal(err)
	}
	unsub := hub.nextSub(t)
	if unsub.Get("hub.mode") != "unsubscribe" || unsub.Get("hub.callback") != callback || unsub.Get("hub.topic") != self {
		t.Fatalf("after the source left the config the hub got %v, want an unsubscription of %s", unsub, callback)
	}
	resp = verifyIntent(t, sub, "unsubscribe", self, "bye", 0)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "bye" {
		t.Errorf("unsubscription: %d %q, want 200 and the challenge", resp.StatusCode, body)
	}
	// §7: 410 Gone tells a hub that still delivers that it is over.
	if code := deliver(t, callback, sub.Get("hub.secret"), pushedFeed(hub.URL, self, "After the end")); code != http.StatusGone || stored("After the end") {
		t.Errorf("delivery after unsubscribing: status %d, stored %v; want 410 and dropped", code, stored("After the end"))
	}
}
