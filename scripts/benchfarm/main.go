// Command benchfarm measures wiredesk polling a list of feeds: a cold
// cycle, an unchanged cycle (every request conditional) and, against a
// feedfarm, a cycle after /advance. For each it prints wall time, CPU,
// items/s, peak RSS, database size, requests and 304s; then gofeed's
// parse-only items/s on the same documents, measured in the same run so
// the ratio holds on a noisy machine.
//
//	go build -o /tmp/wiredesk ./cmd/wiredesk
//	go run ./scripts/benchfarm -bin /tmp/wiredesk -farm http://127.0.0.1:8400 -n 2000
//	go run ./scripts/benchfarm -bin /tmp/wiredesk -urls feeds.txt
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/wiredesk/wiredesk/internal/procmem"
)

func main() {
	var (
		bin     = flag.String("bin", "wiredesk", "the wiredesk `binary` to measure")
		farm    = flag.String("farm", "", "feedfarm base `URL`: feeds are URL/feed/{0..n-1}.xml, /stats and /advance are used")
		n       = flag.Int("n", 200, "number of farm feeds")
		urls    = flag.String("urls", "", "`FILE` with one feed URL per line (instead of -farm)")
		conc    = flag.Int("concurrency", 8, "[poll] concurrency")
		perHost = flag.Int("per-host", 8, "[poll] per_host (a farm is one host)")
		dir     = flag.String("dir", "", "work `DIR` for the config and database (default: a new temp dir)")
		advance = flag.String("advance", "feeds=0.25&items=2", "farm /advance query for the incremental cycle")
		serve   = flag.Bool("serve", false, "instead of the poll cycles, measure topic feed latency while `wiredesk serve` writes a cold cycle, then idle")
		readers = flag.Int("readers", 8, "with -serve: concurrent readers of the topic feed")
		idle    = flag.Duration("idle", 10*time.Second, "with -serve: how long to measure after the cycle")
	)
	flag.Parse()
	if *serve {
		feeds, err := feedURLs(*farm, *n, *urls)
		if err == nil {
			err = serveLoad(*bin, feeds, *farm, *conc, *perHost, *readers, *idle)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchfarm:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*bin, *farm, *n, *urls, *conc, *perHost, *dir, *advance); err != nil {
		fmt.Fprintln(os.Stderr, "benchfarm:", err)
		os.Exit(1)
	}
}

func run(bin, farm string, n int, urlFile string, conc, perHost int, dir, advance string) error {
	feeds, err := feedURLs(farm, n, urlFile)
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "benchfarm"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("-dir: %w", err)
	}
	cfg := filepath.Join(dir, "bench.toml")
	if err := writeConfig(cfg, feeds, conc, perHost, ""); err != nil {
		return err
	}
	fmt.Printf("%d feeds, concurrency %d, per_host %d, work dir %s\n\n", len(feeds), conc, perHost, dir)
	fmt.Printf("%-10s %8s %8s %8s %10s %9s %9s %9s %6s\n",
		"cycle", "wall", "cpu", "items", "items/s", "peak RSS", "db size", "requests", "304s")
	var cold cycle
	for _, name := range []string{"cold", "unchanged", "advance"} {
		if name == "advance" {
			if farm == "" {
				break
			}
			if err := get(farm + "/advance?" + advance); err != nil {
				return err
			}
		}
		c, err := pollCycle(bin, cfg, farm, dir)
		if err != nil {
			return fmt.Errorf("%s cycle: %w", name, err)
		}
		if name == "cold" {
			cold = c
		}
		fmt.Printf("%-10s %7.2fs %7.2fs %8d %10.0f %8.1fM %8.1fM %9d %6d\n", name,
			c.wall.Seconds(), c.cpu.Seconds(), c.items, float64(c.items)/c.wall.Seconds(),
			float64(c.maxRSS)/(1<<20), float64(c.dbSize)/(1<<20), c.requests, c.notModified)
	}
	items, d, err := parseOnly(feeds)
	if err != nil {
		return err
	}
	parseRate := float64(items) / d.Seconds()
	fmt.Printf("\ngofeed parse only, same documents, one goroutine: %d items in %.2fs = %.0f items/s\n",
		items, d.Seconds(), parseRate)
	if cold.items > 0 {
		fmt.Printf("cold cycle end to end / parse only: %.0f%%\n",
			100*float64(cold.items)/cold.wall.Seconds()/parseRate)
	}
	return nil
}

func feedURLs(farm string, n int, urlFile string) ([]string, error) {
	if urlFile == "" {
		if farm == "" {
			return nil, fmt.Errorf("give -farm URL or -urls FILE")
		}
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s/feed/%d.xml", strings.TrimRight(farm, "/"), i)
		}
		return out, nil
	}
	b, err := os.ReadFile(urlFile)
	if err != nil {
		return nil, err
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out, nil
}

// writeConfig writes the config of a run: every feed a source, one topic
// of 100 entries over all of them, and a listen address for serve.
func writeConfig(path string, feeds []string, conc, perHost int, listen string) error {
	var b strings.Builder
	if listen != "" {
		fmt.Fprintf(&b, "[server]\nlisten = %q\n\n", listen)
	}
	fmt.Fprintf(&b, "[storage]\npath = \"bench.db\"\n\n[poll]\nschedule = \"@every 24h\"\n"+
		"timeout = \"120s\"\nconcurrency = %d\nper_host = %d\n", conc, perHost)
	for i, u := range feeds {
		fmt.Fprintf(&b, "\n[[source]]\nname = \"f%d\"\nurl = %q\n", i, u)
	}
	b.WriteString("\n[[topic]]\nname = \"all\"\nlimit = 100\nsources = [")
	for i := range feeds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "\"f%d\"", i)
	}
	b.WriteString("]\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

type cycle struct {
	wall, cpu      time.Duration
	items          int
	maxRSS, dbSize int64
	requests       int
	notModified    int
}

var newItems = regexp.MustCompile(`: ok \(\d+\) (\d+) new`)

// pollCycle runs one `wiredesk poll` and measures it.
func pollCycle(bin, cfg, farm, dir string) (cycle, error) {
	if farm != "" {
		if err := get(farm + "/stats/reset"); err != nil {
			return cycle{}, err
		}
	}
	cmd := exec.Command(bin, "poll", "--config", cfg)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	// The child's ru_maxrss would include this process's resident set
	// (see internal/procmem), so sample the child's own high-water mark.
	peak, err := procmem.Run(cmd, 5*time.Millisecond)
	if err != nil {
		return cycle{}, fmt.Errorf("%w\n%s", err, errOut.String())
	}
	c := cycle{wall: time.Since(start), maxRSS: peak}
	ps := cmd.ProcessState
	c.cpu = ps.UserTime() + ps.SystemTime()
	errors := 0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := sc.Text()
		c.requests++
		switch {
		case newItems.MatchString(line):
			k, _ := strconv.Atoi(newItems.FindStringSubmatch(line)[1])
			c.items += k
		case strings.Contains(line, ": unchanged (304)"):
			c.notModified++
		case strings.Contains(line, ": error:"):
			errors++
		}
	}
	if errors > 0 {
		fmt.Fprintf(os.Stderr, "%d sources failed; see %s\n", errors, cfg)
	}
	for _, f := range []string{"bench.db", "bench.db-wal"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil {
			c.dbSize += fi.Size()
		}
	}
	if farm != "" {
		var st struct {
			FeedRequests int `json:"feed_requests"`
			Status304    int `json:"status_304"`
		}
		if err := getJSON(farm+"/stats", &st); err != nil {
			return c, err
		}
		c.requests, c.notModified = st.FeedRequests, st.Status304
	}
	return c, nil
}

// parseOnly downloads every feed (untimed) and then parses them all with
// gofeed in one goroutine, timed.
func parseOnly(feeds []string) (items int, d time.Duration, err error) {
	docs := make([][]byte, 0, len(feeds))
	for _, u := range feeds {
		resp, err := http.Get(u)
		if err != nil {
			return 0, 0, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, 0, err
		}
		docs = append(docs, b)
	}
	start := time.Now()
	p := gofeed.NewParser()
	for _, b := range docs {
		f, err := p.Parse(bytes.NewReader(b))
		if err != nil {
			continue
		}
		items += len(f.Items)
	}
	return items, time.Since(start), nil
}

func get(u string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil
}

func getJSON(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
