package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// buildBinary builds wiredesk once per test run the way the Dockerfile
// does: CGO_ENABLED=0, so the image's premise (a static binary with a
// pure-Go SQLite) is proved on every CI run.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wiredesk-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "wiredesk")
		cmd := exec.Command("go", "build", "-trimpath",
			"-ldflags", "-X github.com/wiredesk/wiredesk.Version=v0.0.0-test", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

func TestStaticBinary(t *testing.T) {
	bin := buildBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("binary has a dynamic loader; want a static binary")
		}
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "wiredesk v0.0.0-test") {
		t.Errorf("wiredesk version: %v: %s", err, out)
	}
	out, err = exec.Command(bin, "check", "--config", "../../config.example.toml").CombinedOutput()
	if err != nil {
		t.Errorf("check config.example.toml: %v: %s", err, out)
	}
}

var servingAddr = regexp.MustCompile(`msg=serving addr=(\S+)`)

// TestServeSignals runs the real binary and stops it the way a terminal
// (SIGINT) and Docker (SIGTERM) do: it must exit 0, within its shutdown
// timeout, and leave a database the next start opens.
func TestServeSignals(t *testing.T) {
	bin := buildBinary(t)
	feeds := startFeeds(t)
	cfgPath := writeConfig(t, feeds)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "serve", "--config", cfgPath)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stderr)
			var log bytes.Buffer
			addr := ""
			for addr == "" && lines.Scan() {
				log.WriteString(lines.Text() + "\n")
				if m := servingAddr.FindStringSubmatch(lines.Text()); m != nil {
					addr = m[1]
				}
			}
			if addr == "" {
				cmd.Process.Kill()
				t.Fatalf("daemon never said it was serving:\n%s", log.String())
			}
			resp, err := http.Get("http://" + addr + "/healthz")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("healthz: %v %v", err, resp)
			}
			if resp != nil {
				resp.Body.Close()
			}

			start := time.Now()
			cmd.Process.Signal(sig)
			go func() {
				for lines.Scan() {
					log.WriteString(lines.Text() + "\n")
				}
			}()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("exit after %v: %v\n%s", sig, err, log.String())
				}
				// shutdown_timeout is 5s in the test config.
				if d := time.Since(start); d > 6*time.Second {
					t.Errorf("took %v to stop after %v", d, sig)
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 20s after %v", sig)
			}
		})
	}
}

// The Dockerfile rewrites these two lines of the example config to put
// the database in the volume and listen on the container's interfaces.
func TestDockerfileConfigPremise(t *testing.T) {
	example, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{`path = "wiredesk.db"`, `listen = "127.0.0.1:8080"`} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line)).Match(example) {
			t.Errorf("config.example.toml has no line starting %s; the Dockerfile's sed relies on it", line)
		}
		if !bytes.Contains(dockerfile, []byte(line)) {
			t.Errorf("Dockerfile no longer rewrites %s", line)
		}
	}
}
