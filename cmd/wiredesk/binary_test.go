package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
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

	"github.com/wiredesk/wiredesk/internal/feedtest"
	"github.com/wiredesk/wiredesk/store"
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
// (SIGINT) and Docker (SIGTERM) do, while a poll hangs on a source that
// never answers: it must exit 0 within its shutdown timeout, abandoning
// that poll, and leave a database that passes an integrity check and that
// the next run uses.
func TestServeSignals(t *testing.T) {
	bin := buildBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			feeds := startFeeds(t)
			arrived := make(chan string, 1)
			feeds.Set("/hang.xml", feedtest.Doc{Hang: true, Arrived: arrived})
			cfgPath := writeConfig(t, feeds)
			appendSource(t, cfgPath, "hang", feeds.URL+"/hang.xml")
			setShutdownTimeout(t, cfgPath, "1s")

			cmd := exec.Command(bin, "serve", "--config", cfgPath)
			var log syncBuffer
			addr := startAndWaitServing(t, cmd, &log)
			resp, err := http.Get("http://" + addr + "/healthz")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("healthz: %v %v", err, resp)
			}
			if resp != nil {
				resp.Body.Close()
			}
			select {
			case <-arrived:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("the hanging source was never polled:\n%s", log.String())
			}

			start := time.Now()
			cmd.Process.Signal(sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("exit after %v: %v\n%s", sig, err, log.String())
				}
				// shutdown_timeout is 1s; allow for a loaded machine.
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("took %v to stop after %v", d, sig)
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 20s after %v\n%s", sig, log.String())
			}
			checkIntegrity(t, filepath.Join(filepath.Dir(cfgPath), "wiredesk.db"))
			feeds.Set("/hang.xml", feedtest.Doc{Body: "not a feed"})
			if code, out, errOut := run(t, "poll", "--config", cfgPath); code != 0 {
				t.Errorf("poll after shutdown: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// startAndWaitServing starts cmd with its stderr copied into log and
// returns the address from its "serving" line. stderr is read to the end
// by a goroutine of its own, so cmd.Wait may be called afterwards.
func startAndWaitServing(t *testing.T, cmd *exec.Cmd, log *syncBuffer) string {
	t.Helper()
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(log, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); pw.Close() })
	found := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(pr)
		for lines.Scan() {
			if m := servingAddr.FindStringSubmatch(lines.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, pr) // keep the writer unblocked
	}()
	select {
	case addr := <-found:
		return addr
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("daemon never said it was serving:\n%s", log.String())
		return ""
	}
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine of os/exec
// and the test reading it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func appendSource(t *testing.T, cfgPath, name, url string) {
	t.Helper()
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, "\n[[source]]\nname = %q\nurl = %q\ntags = [\"world\"]\n", name, url)
}

func setShutdownTimeout(t *testing.T, cfgPath, d string) {
	t.Helper()
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`shutdown_timeout = "[^"]*"`).ReplaceAll(b, []byte(`shutdown_timeout = "`+d+`"`))
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkIntegrity opens the database as the daemon would and runs SQLite's
// integrity and foreign-key checks.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen database: %v", err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(t.Context()); err != nil {
		t.Errorf("integrity check: %v", err)
	}
}

// TestDockerfileEnvironment checks the image's premise: the example
// config, with the environment the Dockerfile sets, puts the database in
// the volume and listens on the container's interfaces, and the
// HEALTHCHECK runs the health command of the same binary.
func TestDockerfileEnvironment(t *testing.T) {
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`(WIREDESK_[A-Z]+)=(\S+)`).FindAllSubmatch(dockerfile, -1) {
		env[string(m[1])] = string(m[2])
	}
	if env[envConfig] != "/etc/wiredesk/config.toml" || env[envDB] != "/data/wiredesk.db" || env[envListen] != ":8080" {
		t.Fatalf("Dockerfile environment: got %v", env)
	}
	if !bytes.Contains(dockerfile, []byte(`CMD ["/usr/local/bin/wiredesk", "health"]`)) {
		t.Error("Dockerfile has no HEALTHCHECK running wiredesk health")
	}
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Logger: testLogger(t),
		Getenv: func(k string) string { return env[k] }}
	cfg, err := m.loadConfig("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Storage.Path != "/data/wiredesk.db" || cfg.Server.Listen != ":8080" {
		t.Errorf("example in the image: path %q listen %q", cfg.Storage.Path, cfg.Server.Listen)
	}
}
