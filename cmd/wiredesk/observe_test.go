package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wiredesk/wiredesk/config"
)

// TestMetricsEndpoint runs a daemon over the test feeds and reads
// /metrics as Prometheus would: every series under wiredesk_, the polls
// counted by outcome, the items and stories stored, and topic requests
// by status code, a 304 included.
func TestMetricsEndpoint(t *testing.T) {
	feeds := startFeeds(t)
	d, results := startDaemon(t, writeConfig(t, feeds))
	defer closeDaemon(t, d)
	waitResults(t, results, len(feedDocs))
	base := "http://" + d.Addr()

	// One full request and one conditional that must come back 304.
	resp, err := http.Get(base + "/feeds/world.atom")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, base+"/feeds/world.atom", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional request: got %d, want 304", resp.StatusCode)
	}
	// A second full answer comes from the feed cache: no render to time.
	getOK(t, base+"/feeds/world.atom")
	// A topic nobody configured is counted, but not under its own name.
	if resp, err := http.Get(base + "/feeds/nonesuch.rss"); err == nil {
		resp.Body.Close()
	}

	body := string(getOK(t, base+"/metrics"))
	for _, want := range []string{
		`wiredesk_polls_total{outcome="new",source="alpha"} 1`,
		`wiredesk_polls_total{outcome="new",source="gamma"} 1`,
		`wiredesk_topic_requests_total{code="200",format="atom",topic="world"} 2`,
		`wiredesk_topic_requests_total{code="304",format="atom",topic="world"} 1`,
		`wiredesk_topic_requests_total{code="404",format="rss",topic="unknown"} 1`,
		`wiredesk_render_duration_seconds_count{format="atom"} 1`,
		`wiredesk_sources 3`,
		`wiredesk_topics 1`,
		`wiredesk_fetch_duration_seconds_count 3`, // one poll of each source
		`wiredesk_fetch_seconds_total{source="beta"}`,
		`wiredesk_last_success_timestamp_seconds{source="alpha"}`,
		`wiredesk_fetched_bytes_total{source="alpha"}`,
		`wiredesk_database_size_bytes`,
		`wiredesk_process_resident_memory_bytes`,
		`wiredesk_go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	var items, stories, copies float64
	for _, line := range strings.Split(body, "\n") {
		var v float64
		switch {
		case strings.HasPrefix(line, "wiredesk_items_stored_total{"):
			_, _ = fmtSscan(line, &v)
			items += v
		case strings.HasPrefix(line, "wiredesk_stories_started_total "):
			_, _ = fmtSscan(line, &stories)
		case strings.HasPrefix(line, "wiredesk_copies_attached_total "):
			_, _ = fmtSscan(line, &copies)
		}
		// Every metric is under the namespace, the Go runtime's too.
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "wiredesk_") {
			t.Errorf("metric outside the wiredesk_ namespace: %s", line)
		}
	}
	// The feeds share two stories between sources (see feedDocs), so some
	// items are copies, and every new item is one or the other.
	if items == 0 || copies == 0 || stories+copies != items {
		t.Errorf("items %v, stories %v, copies %v: want copies > 0 and stories+copies = items", items, stories, copies)
	}
}

// TestLastSuccessAfterRestart: a restarted daemon exports each source's
// last successful poll as stored, before it polls again, so an alert on
// time() - last_success sees a source that starts failing after a restart.
func TestLastSuccessAfterRestart(t *testing.T) {
	feeds := startFeeds(t)
	cfgPath := writeConfig(t, feeds)
	d, results := startDaemon(t, cfgPath)
	waitResults(t, results, len(feedDocs))
	st, err := d.db.SourceState(t.Context(), "alpha")
	if err != nil {
		t.Fatal(err)
	}
	closeDaemon(t, d)

	d, results = startDaemon(t, cfgPath) // @every 1h: nothing is due yet
	defer closeDaemon(t, d)
	body := string(getOK(t, "http://"+d.Addr()+"/metrics"))
	const series = `wiredesk_last_success_timestamp_seconds{source="alpha"} `
	var got float64
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, series) {
			_, _ = fmtSscan(line, &got)
		}
	}
	if want := float64(st.LastSuccess.Unix()); got != want {
		t.Errorf("alpha's last success after the restart: %v, want the stored %v", got, want)
	}
	select {
	case r := <-results:
		t.Errorf("the restarted daemon polled %s at once; the test needs it not to", r.Source)
	default:
	}
}

// fmtSscan reads the value at the end of an exposition line.
func fmtSscan(line string, v *float64) (int, error) {
	f := strings.Fields(line)
	return 1, json.Unmarshal([]byte(f[len(f)-1]), v)
}

// TestEnvOverrides checks WIREDESK_CONFIG, WIREDESK_LISTEN and WIREDESK_DB,
// as the Docker image uses them, and that a bad value names its variable.
func TestEnvOverrides(t *testing.T) {
	feeds := startFeeds(t)
	cfgPath := writeConfig(t, feeds)
	dbPath := filepath.Join(t.TempDir(), "elsewhere.db")
	env := map[string]string{envConfig: cfgPath, envDB: dbPath, envListen: "127.0.0.1:0"}
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Logger: testLogger(t),
		Getenv: func(k string) string { return env[k] }}

	fs := m.newFlagSet("check", new(string))
	if got := fs.Lookup("config").DefValue; got != cfgPath {
		t.Errorf("--config default: got %q, want %s", got, cfgPath)
	}
	cfg, err := m.loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Storage.Path != dbPath || cfg.Server.Listen != "127.0.0.1:0" {
		t.Errorf("overrides: got path %q listen %q", cfg.Storage.Path, cfg.Server.Listen)
	}
	// base_url is set in the file, so the listen override leaves it.
	if cfg.Server.BaseURL != "http://wiredesk.test" {
		t.Errorf("base_url: got %q", cfg.Server.BaseURL)
	}

	env[envListen] = "8080"
	_, err = m.loadConfig(cfgPath)
	if err == nil || !strings.Contains(err.Error(), envListen) {
		t.Errorf("bad %s: got %v, want an error naming it", envListen, err)
	}

	// A base URL derived from the listen address follows the override.
	c := config.Default()
	env[envListen] = "0.0.0.0:9000"
	if err := m.applyEnv(c); err != nil {
		t.Fatal(err)
	}
	if c.Server.BaseURL != "http://localhost:9000" {
		t.Errorf("derived base_url: got %q", c.Server.BaseURL)
	}
}

// TestHealthCommand checks `wiredesk health` against a live daemon (exit
// 0), a dead address (exit 1) and a daemon whose check fails (exit 1).
func TestHealthCommand(t *testing.T) {
	feeds := startFeeds(t)
	cfgPath := writeConfig(t, feeds)
	d, results := startDaemon(t, cfgPath)
	waitResults(t, results, len(feedDocs))

	if code, out, errOut := run(t, "health", "--url", "http://"+d.Addr()+"/healthz"); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("live daemon: exit %d, %q %q", code, out, errOut)
	}
	// Through the listen address, as the Docker HEALTHCHECK does.
	env := map[string]string{envListen: d.Addr()}
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &bytes.Buffer{}, Logger: testLogger(t), Getenv: func(k string) string { return env[k] }}
	if err := m.Run(t.Context(), []string{"health", "--config", cfgPath}); err != nil {
		t.Errorf("health via %s: %v", envListen, err)
	}
	addr := d.Addr()
	closeDaemon(t, d)
	code, _, errOut := run(t, "health", "--timeout", "2s", "--url", "http://"+addr+"/healthz")
	if code != 1 || !strings.Contains(errOut, "health") {
		t.Errorf("dead daemon: exit %d, stderr %q; want 1 and a reason", code, errOut)
	}
}

// TestLogFormat checks [log] format: JSON lines by default when standard
// error is not a terminal, text when asked, at the configured level.
func TestLogFormat(t *testing.T) {
	for _, tc := range []struct {
		format, level string
		json          bool
		debug         bool
	}{
		{"", "info", true, false},
		{"json", "debug", true, true},
		{"text", "info", false, false},
	} {
		var buf bytes.Buffer
		m := &Main{Stdout: &bytes.Buffer{}, Stderr: &buf}
		m.configureLogs(config.Log{Level: tc.level, Format: tc.format})
		m.Logger.Debug("hidden unless debug")
		m.Logger.Info("polled", "source", "pti")
		out := buf.String()
		if got := strings.HasPrefix(out, "{"); got != tc.json {
			t.Errorf("format %q: JSON = %v, want %v: %s", tc.format, got, tc.json, out)
		}
		if got := strings.Contains(out, "hidden unless debug"); got != tc.debug {
			t.Errorf("level %q: debug line shown = %v", tc.level, got)
		}
		if !strings.Contains(out, "pti") {
			t.Errorf("format %q: info line missing: %s", tc.format, out)
		}
	}
}
