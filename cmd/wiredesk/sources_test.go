package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/internal/feedtest"
	"github.com/wiredesk/wiredesk/store"
)

// goneAt is when the seeded gone source last answered 410.
var goneAt = time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)

// seedStates records states the way the poller would have: "gone" got a
// 410 and "retired" was polled fine before it left the config.
func seedStates(t *testing.T, cfgPath string) {
	t.Helper()
	db, err := store.Open(t.Context(), filepath.Join(filepath.Dir(cfgPath), "wiredesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	states := []wiredesk.SourceState{{
		Source: "gone", LastFetch: goneAt, Status: wiredesk.StatusGone, HTTPStatus: http.StatusGone,
		LastError: "fetch http://example.invalid/gone.xml: 410 Gone", ConsecutiveFailures: 1,
	}, {
		Source: "retired", LastFetch: goneAt, LastSuccess: goneAt, Status: wiredesk.StatusOK,
		HTTPStatus: http.StatusOK, NextRun: goneAt.Add(time.Hour),
	}}
	for _, st := range states {
		if _, err := db.SaveFetch(t.Context(), wiredesk.FetchResult{Source: st.Source, State: st}); err != nil {
			t.Fatal(err)
		}
	}
}

// sourcesFixture polls the end-to-end feeds plus a 404 source, then adds
// a never-polled source and a gone one, and records a source that has
// left the config.
func sourcesFixture(t *testing.T) (cfgPath string, feeds *feedtest.Server) {
	t.Helper()
	feeds = startFeeds(t)
	cfgPath = writeConfig(t, feeds)
	appendSource(t, cfgPath, "broken", feeds.URL+"/missing-with-a-rather-long-path-name/feed.xml")
	if code, out, errOut := run(t, "poll", "--config", cfgPath); code != 0 {
		t.Fatalf("poll: exit %d\n%s%s", code, out, errOut)
	}
	appendSource(t, cfgPath, "fresh", feeds.URL+"/fresh.xml")
	appendSource(t, cfgPath, "gone", feeds.URL+"/gone.xml")
	seedStates(t, cfgPath)
	return cfgPath, feeds
}

var cellSep = regexp.MustCompile(`\s{2,}`)

func TestSourcesTable(t *testing.T) {
	cfgPath, _ := sourcesFixture(t)
	code, out, errOut := run(t, "sources", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("sources: exit %d\n%s%s", code, out, errOut)
	}
	rows := map[string][]string{}
	var order []string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if n := len([]rune(line)); n > tableWidth {
			t.Errorf("line is %d columns wide, want at most %d: %q", n, tableWidth, line)
		}
		cells := cellSep.Split(strings.TrimSpace(line), -1)
		if len(cells) >= 5 {
			rows[cells[0]] = cells
			order = append(order, cells[0])
		}
	}
	wantOrder := "NAME alpha beta gamma broken fresh gone retired"
	if got := strings.Join(order, " "); got != wantOrder {
		t.Errorf("rows in order %q, want %q\n%s", got, wantOrder, out)
	}
	if !regexp.MustCompile(`(?m)^\s*\nnot in config.*\n\s*retired`).MatchString(out) {
		t.Errorf("retired is not listed after a blank line under \"not in config\":\n%s", out)
	}
	anyTime := `^\d{4}-\d\d-\d\d \d\d:\d\dZ$`
	tests := []struct {
		name                                  string
		lastPoll, status, failures, next, err string // regexps over the cells
	}{
		{"alpha", anyTime, "^ok$", "^0$", anyTime, ""},
		{"broken", anyTime, "^error$", "^1$", anyTime, "^404 Not Found$"},
		{"fresh", "^never$", "^new$", "^0$", "^now$", ""},
		{"gone", "^2026-11-20 08:30Z$", "^gone$", "^1$", "^-$", "^410 Gone$"},
		{"retired", "^2026-11-20 08:30Z$", "^ok$", "^0$", "^2026-11-20 09:30Z$", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cells := rows[tt.name]
			if len(cells) < 5 {
				t.Fatalf("no row for %s:\n%s", tt.name, out)
			}
			lastErr := ""
			if len(cells) > 5 {
				lastErr = cells[5]
			}
			for i, want := range []string{tt.lastPoll, tt.status, tt.failures, tt.next, tt.err} {
				got := lastErr
				if i < 4 {
					got = cells[i+1]
				}
				if want == "" && got != "" || !regexp.MustCompile(want).MatchString(got) {
					t.Errorf("%s: %s is %q, want match of %q", tt.name, sourceHeader[i+1], got, want)
				}
			}
		})
	}
}

func TestSourcesJSON(t *testing.T) {
	cfgPath, feeds := sourcesFixture(t)
	code, out, errOut := run(t, "sources", "--config", cfgPath, "--json")
	if code != 0 {
		t.Fatalf("sources --json: exit %d\n%s%s", code, out, errOut)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("sources --json is not a JSON array of objects: %v\n%s", err, out)
	}
	keys := "failures http_status in_config last_error last_poll last_success name next_run status"
	byName := map[string]map[string]any{}
	for _, s := range got {
		byName[fmt.Sprint(s["name"])] = s
		for _, k := range strings.Fields(keys) {
			if _, ok := s[k]; !ok {
				t.Errorf("%v lacks key %q", s["name"], k)
			}
		}
	}
	if len(got) != 7 {
		t.Fatalf("got %d sources, want 7:\n%s", len(got), out)
	}
	tests := []struct {
		name, key string
		want      any
	}{
		{"alpha", "status", "ok"},
		{"alpha", "url", feeds.URL + "/alpha.rss"},
		{"alpha", "in_config", true},
		{"broken", "status", "error"},
		{"broken", "failures", 1.0},
		{"broken", "http_status", 404.0},
		// In full, where the table cuts it.
		{"broken", "last_error", "fetch " + feeds.URL + "/missing-with-a-rather-long-path-name/feed.xml: 404 Not Found"},
		{"fresh", "status", "new"},
		{"fresh", "last_poll", nil},
		{"fresh", "next_run", nil},
		{"gone", "status", "gone"},
		{"gone", "last_poll", "2026-11-20T08:30:00Z"},
		{"gone", "next_run", nil},
		{"retired", "in_config", false},
		{"retired", "url", nil},
		{"retired", "next_run", "2026-11-20T09:30:00Z"},
	}
	for _, tt := range tests {
		if v := byName[tt.name][tt.key]; v != tt.want {
			t.Errorf("%s.%s = %#v, want %#v", tt.name, tt.key, v, tt.want)
		}
	}
	if got[len(got)-1]["name"] != "retired" {
		t.Errorf("the source no longer configured is not last: %v", got[len(got)-1]["name"])
	}
}

// A gone source is skipped by a plain poll, with a line saying how to
// retry it, and polled when named.
func TestPollSkipsGone(t *testing.T) {
	feeds := startFeeds(t)
	cfgPath := writeConfig(t, feeds)
	appendSource(t, cfgPath, "gone", feeds.URL+"/gone.xml")
	seedStates(t, cfgPath)

	code, out, errOut := run(t, "poll", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("poll: exit %d\n%s%s", code, out, errOut)
	}
	want := "gone: gone (410) since 2026-11-20T08:30:00Z; not polled (run `wiredesk poll --source gone` to retry)"
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 || lines[3] != want || !strings.HasPrefix(lines[0], "alpha: ok") {
		t.Errorf("poll output:\n%s\nwant alpha, beta, gamma, then %q", out, want)
	}
	if n := len(feeds.Requests("/gone.xml")); n != 0 {
		t.Errorf("the gone source was fetched %d times by a plain poll", n)
	}

	feeds.Set("/gone.xml", feedtest.Doc{Body: "<rss version=\"2.0\"><channel><title>back</title></channel></rss>"})
	code, out, _ = run(t, "poll", "--config", cfgPath, "--source", "gone")
	if code != 0 || !strings.HasPrefix(out, "gone: ok (200)") {
		t.Errorf("poll --source gone: exit %d, output %q; want it polled", code, out)
	}
	if n := len(feeds.Requests("/gone.xml")); n != 1 {
		t.Errorf("poll --source gone fetched it %d times, want 1", n)
	}
	code, out, _ = run(t, "poll", "--config", cfgPath)
	if code != 0 || strings.Contains(out, "not polled") {
		t.Errorf("poll after the source came back: exit %d, still skipped:\n%s", code, out)
	}
}

// A real 410 makes the source gone; the next plain poll skips it. This
// relies on the aggregator recording wiredesk.StatusGone for a 410.
func TestPoll410(t *testing.T) {
	feeds := startFeeds(t)
	feeds.Set("/gone.xml", feedtest.Doc{Status: http.StatusGone, Body: "gone"})
	cfgPath := writeConfig(t, feeds)
	appendSource(t, cfgPath, "gone", feeds.URL+"/gone.xml")

	_, out, _ := run(t, "poll", "--config", cfgPath)
	if !regexp.MustCompile(`(?m)^gone: .*410`).MatchString(out) {
		t.Errorf("first poll does not report the 410:\n%s", out)
	}
	_, out, _ = run(t, "poll", "--config", cfgPath)
	if !regexp.MustCompile("(?m)^gone: gone \\(410\\) since \\S+; not polled \\(run `wiredesk poll --source gone` to retry\\)$").MatchString(out) {
		t.Errorf("second poll does not skip the gone source:\n%s", out)
	}
	if n := len(feeds.Requests("/gone.xml")); n != 1 {
		t.Errorf("the gone source was fetched %d times in two polls, want 1", n)
	}
}

// The reading commands, and a poll of another source, leave the stored
// state alone after a feed_url edit: syncing then would clear the validators and the schedule while a
// running daemon still polls the old URL, and its next save would put the
// old URL's ETag back under the new one. `sources` says what will happen;
// the next poll resets the source and fetches the new URL.
func TestReadingCommandsDoNotSync(t *testing.T) {
	feeds := startFeeds(t)
	cfgPath := writeConfig(t, feeds)
	if code, out, errOut := run(t, "poll", "--config", cfgPath); code != 0 {
		t.Fatalf("poll: exit %d\n%s%s", code, out, errOut)
	}
	dbPath := filepath.Join(filepath.Dir(cfgPath), "wiredesk.db")
	alpha := func() wiredesk.SourceState {
		t.Helper()
		db, err := store.Open(t.Context(), dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		st, err := db.SourceState(t.Context(), "alpha")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	before := alpha()
	oldURL, newURL := feeds.URL+"/alpha.rss", feeds.URL+"/moved/alpha.rss"
	if before.FeedURL != oldURL || before.ETag != `"a1"` || before.NextRun.IsZero() {
		t.Fatalf("after the poll alpha is %+v, want its URL, ETag and next run stored", before)
	}
	body, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, bytes.Replace(body, []byte(oldURL), []byte(newURL), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	reads := [][]string{
		{"sources", "--config", cfgPath},
		{"sources", "--json", "--config", cfgPath},
		{"items", "--config", cfgPath},
		{"render", "--config", cfgPath, "--out", t.TempDir()},
		// Polling another source syncs only that one.
		{"poll", "--config", cfgPath, "--source", "beta"},
	}
	outs := map[string]string{}
	for _, args := range reads {
		code, out, errOut := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		outs[strings.Join(args[:2], " ")] = out
		if after := alpha(); after != before {
			t.Fatalf("%v changed alpha's stored state:\n%+v\nwant\n%+v", args, after, before)
		}
	}
	if !regexp.MustCompile(`(?m)^alpha .*on reload`).MatchString(outs["sources --config"]) {
		t.Errorf("sources does not say alpha's new URL takes effect on reload:\n%s", outs["sources --config"])
	}
	var js []sourceJSON
	if err := json.Unmarshal([]byte(outs["sources --json"]), &js); err != nil {
		t.Fatal(err)
	}
	if len(js) == 0 || js[0].Name != "alpha" || js[0].URL != newURL || js[0].NextReason != urlChangedReason {
		t.Errorf("sources --json: alpha is %+v, want the new URL and next_reason %q", js, urlChangedReason)
	}
	feeds.Set("/moved/alpha.rss", feedtest.Doc{Body: "<rss version=\"2.0\"><channel><title>moved</title></channel></rss>"})
	if code, out, errOut := run(t, "poll", "--config", cfgPath, "--source", "alpha"); code != 0 {
		t.Fatalf("poll after the edit: exit %d\n%s%s", code, out, errOut)
	}
	if after := alpha(); after.FeedURL != newURL || after.ETag != "" || after.Status != wiredesk.StatusOK {
		t.Errorf("after polling the new URL alpha is %+v, want it synced, no ETag, ok", after)
	}
}

// TestSourcesSafetyNet: with public_url set, a source with a live
// subscription is shown with its next poll where the safety net puts it,
// [websub] fallback after its last poll; the others keep their schedule.
func TestSourcesSafetyNet(t *testing.T) {
	feeds := startFeeds(t)
	cfgPath := writeConfig(t, feeds)
	setConfigLine(t, cfgPath, "server", `public_url = "http://wiredesk.test"`)
	if code, out, errOut := run(t, "poll", "--config", cfgPath); code != 0 {
		t.Fatalf("poll: exit %d\n%s%s", code, out, errOut)
	}
	db, err := store.Open(t.Context(), filepath.Join(filepath.Dir(cfgPath), "wiredesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, sub := range []wiredesk.Subscription{
		{ID: "a", Source: "alpha", Hub: "http://hub.test/", Topic: feeds.URL + "/alpha.rss", Secret: "s",
			State: wiredesk.SubActive, LeaseExpires: now.Add(24 * time.Hour), Updated: now},
		{ID: "b", Source: "beta", Hub: "http://hub.test/", Topic: feeds.URL + "/beta.atom", Secret: "s",
			State: wiredesk.SubPending, Updated: now},
	} {
		if err := db.SaveSubscription(t.Context(), sub); err != nil {
			t.Fatal(err)
		}
	}
	alpha, err := db.SourceState(t.Context(), "alpha")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "sources", "--json", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("sources: exit %d\n%s%s", code, out, errOut)
	}
	var js []sourceJSON
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"alpha": "websub safety net 6h0m0s",
		"beta":  "schedule", "gamma": "schedule", // a pending subscription does not push
	}
	for _, s := range js {
		if s.NextReason != want[s.Name] {
			t.Errorf("%s: next_reason %q, want %q", s.Name, s.NextReason, want[s.Name])
		}
		if s.Name != "alpha" || s.NextRun == nil {
			continue
		}
		// The first tick of its hourly schedule six hours on (give or
		// take the 2 s a tick may come early, and JSON's whole seconds).
		next, _ := time.Parse(time.RFC3339, *s.NextRun)
		lo := alpha.LastFetch.Add(6*time.Hour - 3*time.Second)
		if next.Before(lo) || !next.Before(lo.Add(time.Hour+3*time.Second)) {
			t.Errorf("alpha: next run %v, want the first hourly tick from %v", next, lo)
		}
	}
}
