package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wiredesk/wiredesk/internal/feedtest"
)

// run runs one command in-process and returns its exit status and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Logger: testLogger(t)}
	err := m.Run(t.Context(), args)
	return m.exitCode(err), out.String(), errOut.String()
}

func TestCommandLine(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[poll]\nschedule = \"every day\"\n\n[[source]]\nname = \"a\"\nurl = \"ftp://x\"\n"), 0o644)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string // in stdout+stderr
	}{
		{"no command", nil, 2, "Usage"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"version", []string{"version"}, 0, "wiredesk "},
		{"check example", []string{"check", "--config", "../../config.example.toml"}, 0, "ok"},
		{"check missing file", []string{"check", "--config", "nope.toml"}, 1, "nope.toml"},
		{"check lists every problem", []string{"check", "--config", bad}, 1, "source[0].url"},
		{"check names the line", []string{"check", "--config", bad}, 1, "bad.toml:2"},
		{"stray argument", []string{"check", "--config", bad, "extra"}, 2, `unexpected argument "extra"`},
		{"unknown flag", []string{"items", "--colour"}, 2, "colour"},
		{"render needs --out", []string{"render", "--config", "../../config.example.toml"}, 2, "--out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if !strings.Contains(out+errOut, tt.contains) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tt.contains, out, errOut)
			}
		})
	}
}

// A failing source is reported on its line but does not fail `poll`;
// the other sources are stored.
func TestPollOneSourceFails(t *testing.T) {
	feeds := startFeeds(t)
	broken := feedtest.New(t) // serves nothing: every path is a 404
	cfgPath := writeConfig(t, feeds)
	appendSource(t, cfgPath, "broken", broken.URL+"/gone.xml")

	code, out, errOut := run(t, "poll", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("poll exit %d, want 0 when one source fails\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "broken") || !strings.Contains(out, "404") {
		t.Errorf("poll output does not report the 404 of broken:\n%s", out)
	}
	if !strings.Contains(out, "alpha") || !strings.Contains(out, "2 new") {
		t.Errorf("poll output does not report alpha's 2 new items:\n%s", out)
	}

	code, _, errOut = run(t, "poll", "--config", cfgPath, "--source", "nosuch")
	if code != 2 || !strings.Contains(errOut, `no source named "nosuch"`) {
		t.Errorf("poll --source nosuch: exit %d, want 2", code)
	}
	code, out, _ = run(t, "poll", "--config", cfgPath, "--source", "gamma")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "gamma") {
		t.Errorf("poll --source gamma: exit %d, output %q; want one gamma line", code, out)
	}
}

func TestRender(t *testing.T) {
	feeds := startFeeds(t)
	cfgPath := writeConfig(t, feeds)
	if code, out, errOut := run(t, "poll", "--config", cfgPath); code != 0 {
		t.Fatalf("poll: %d %s %s", code, out, errOut)
	}
	dir := filepath.Join(t.TempDir(), "public")
	if code, out, errOut := run(t, "render", "--config", cfgPath, "--out", dir); code != 0 {
		t.Fatalf("render: %d %s %s", code, out, errOut)
	}
	for _, name := range []string{"world.rss", "world.atom", "world.json", "opml.xml"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("render did not write %s: %v", name, err)
			continue
		}
		if name != "opml.xml" && !bytes.Contains(b, []byte("port-expansion")) {
			t.Errorf("%s lacks the port story", name)
		}
	}
}
