package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk/internal/feedtest"
)

// chromium finds Debian's headless browser. The test is skipped without
// it, except where WIREDESK_REQUIRE_BROWSER=1 (CI installs it and sets
// that, so a missing browser fails there instead of passing silently).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("WIREDESK_REQUIRE_BROWSER") == "1" {
		t.Fatal("chromium not found and WIREDESK_REQUIRE_BROWSER=1")
	}
	t.Skip("chromium not installed (apt-get install chromium); .ci/run installs it")
	return ""
}

// runChromium runs one headless invocation with a profile of its own.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--user-data-dir=" + t.TempDir()}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

var (
	tagRE   = regexp.MustCompile(`(?s)<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
	hrefRE  = regexp.MustCompile(`href="([^"]+/feeds/[^"]+)"`)
)

// TestStatusPageInBrowser opens the status page of a running daemon in
// headless Chromium, as a person would, and checks what it shows: the
// topic with its story count and working subscribe links, each source's
// state with the failing one's error, the latest stories with the number
// of outlets that ran them. It saves a screenshot (to
// $WIREDESK_SCREENSHOT when set).
func TestStatusPageInBrowser(t *testing.T) {
	bin := chromium(t)
	feeds := startFeeds(t)
	feeds.Set("/down.xml", feedtest.Doc{Status: http.StatusInternalServerError})
	cfgPath := writeConfig(t, feeds)
	appendSource(t, cfgPath, "down", feeds.URL+"/down.xml")
	d, results := startDaemon(t, cfgPath)
	defer closeDaemon(t, d)
	waitResults(t, results, len(feedDocs)+1)
	// The daemon's base_url is for readers elsewhere; the browser and the
	// link check go to the listener.
	page := "http://" + d.Addr() + "/"

	dom := string(runChromium(t, bin, "--dump-dom", page))
	text := spaceRE.ReplaceAllString(tagRE.ReplaceAllString(dom, " "), " ")
	for _, want := range []string{
		"4 sources, 1 topic. 1 source failing.",
		"World wire",
		"RSS", "Atom", "JSON Feed",
		"alpha ok (200)",
		"down error (500)",
		"ran in 2 outlets",
		"Latest stories",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q; it shows:\n%s", want, text)
		}
	}
	// The story count is the number of entries the feed serves.
	feed, _ := fetchFeed(t, "http://"+d.Addr(), "world.atom")
	if want := "World wire"; !regexp.MustCompile(regexp.QuoteMeta(want) + `.*?\s` + strconv.Itoa(len(feed.Items)) + `\s`).MatchString(text) {
		t.Errorf("topic row does not show %d stories:\n%s", len(feed.Items), text)
	}
	// Every subscribe link works (they use base_url; ask the listener).
	links := hrefRE.FindAllStringSubmatch(dom, -1)
	if len(links) < 3 {
		t.Fatalf("found %d feed links, want 3 or more", len(links))
	}
	for _, l := range links {
		u := strings.Replace(l[1], "http://wiredesk.test", "http://"+d.Addr(), 1)
		getOK(t, u)
	}

	shot := os.Getenv("WIREDESK_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "status.png")
	}
	shot, _ = filepath.Abs(shot)
	runChromium(t, bin, "--screenshot="+shot, "--window-size=1280,1400", "--hide-scrollbars", page)
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
		t.Errorf("screenshot is not a plausible PNG: %d bytes", len(png))
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
}
