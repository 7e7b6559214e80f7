package main

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk/config"
	"github.com/wiredesk/wiredesk/internal/feedtest"
)

// deltaFeed is the source a reload adds.
const deltaFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Delta</title><link>https://delta.example/</link>
<item><title>Delta opens a bridge</title><link>https://delta.example/bridge</link>
<guid>https://delta.example/bridge</guid><pubDate>Fri, 27 Nov 2026 08:00:00 GMT</pubDate>
<description>The new bridge over the estuary opened to traffic on Friday after four years of work.</description></item>
</channel></rss>`

// reloadedConfig rewrites cfgPath: the world topic goes, a source delta
// and a topic extra that selects it arrive, and listen changes (a
// restart-only setting that must keep its running value).
func reloadedConfig(t *testing.T, cfgPath string, feeds *feedtest.Server) {
	t.Helper()
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "\n[[topic]]\nname = \"world\"", "\n[[topic]]\nname = \"world2\"", 1)
	s = strings.Replace(s, `listen = "127.0.0.1:0"`, `listen = "127.0.0.1:1"`, 1)
	s += "\n[[source]]\nname = \"delta\"\nurl = \"" + feeds.URL + "/delta.rss\"\ntags = [\"extra\"]\n" +
		"\n[[topic]]\nname = \"extra\"\ntags = [\"extra\"]\n"
	if err := os.WriteFile(cfgPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestReload(t *testing.T) {
	feeds := startFeeds(t)
	feeds.Set("/delta.rss", feedtest.Doc{Body: deltaFeed})
	cfgPath := writeConfig(t, feeds)
	d, results := startDaemon(t, cfgPath)
	defer closeDaemon(t, d)
	waitResults(t, results, len(feedDocs))
	base := "http://" + d.Addr()
	if got := getStatus(t, base+"/feeds/world.rss"); got != http.StatusOK {
		t.Fatalf("world before reload: %d", got)
	}

	reloadedConfig(t, cfgPath, feeds)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(t.Context(), cfg); err != nil {
		t.Fatalf("reload: %v", err)
	}
	// The added source is polled at once, not at its first tick an hour on.
	if r := waitResults(t, results, 1)[0]; r.Source != "delta" || r.Err != nil || r.Stats.New != 1 {
		t.Errorf("after reload: %v, want delta polled with 1 new item", r)
	}
	for path, want := range map[string]int{
		"/feeds/world.rss":  http.StatusNotFound,
		"/feeds/world2.rss": http.StatusOK,
		"/feeds/extra.json": http.StatusOK,
	} {
		if got := getStatus(t, base+path); got != want {
			t.Errorf("GET %s after reload: %d, want %d", path, got, want)
		}
	}
	feed, _ := fetchFeed(t, base, "extra.rss")
	if len(feed.Items) != 1 || feed.Items[0].Link != "https://delta.example/bridge" {
		t.Errorf("extra topic: %d items, want delta's bridge story", len(feed.Items))
	}
	if d.Config.Server.Listen != "127.0.0.1:0" {
		t.Errorf("listen became %q; it is a restart-only setting", d.Config.Server.Listen)
	}
}

// TestServeSIGHUP sends the real binary SIGHUP twice: with an invalid
// config, which is refused while the running one keeps serving, then with
// a valid one, which adds a topic without a restart.
func TestServeSIGHUP(t *testing.T) {
	bin := buildBinary(t)
	feeds := startFeeds(t)
	feeds.Set("/delta.rss", feedtest.Doc{Body: deltaFeed})
	cfgPath := writeConfig(t, feeds)
	good, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	var log syncBuffer
	base := "http://" + startAndWaitServing(t, cmd, &log)

	if err := os.WriteFile(cfgPath, append(good, "\n[poll]\nbogus = 1\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, &log, "reload refused")
	if !strings.Contains(log.String(), "wiredesk.toml") {
		t.Errorf("refusal does not name the file:\n%s", log.String())
	}
	if got := getStatus(t, base+"/feeds/world.rss"); got != http.StatusOK {
		t.Errorf("world after a refused reload: %d", got)
	}

	if err := os.WriteFile(cfgPath, good, 0o644); err != nil {
		t.Fatal(err)
	}
	reloadedConfig(t, cfgPath, feeds)
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, &log, "reloaded config")
	waitLog(t, &log, "setting changed")
	if got := getStatus(t, base+"/feeds/extra.atom"); got != http.StatusOK {
		t.Errorf("extra after reload: %d", got)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, log.String())
	}
}

// waitLog waits until the daemon's log contains s.
func waitLog(t *testing.T, log *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(log.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", s, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
