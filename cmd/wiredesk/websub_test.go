package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk/internal/feedtest"
)

// recordingHub is a WebSub hub on loopback that records every request.
type recordingHub struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []url.Values
	got  chan url.Values
}

func newRecordingHub(t *testing.T) *recordingHub {
	h := &recordingHub{got: make(chan url.Values, 16)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
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
