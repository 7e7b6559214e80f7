package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wiredesk/wiredesk/internal/procmem"
)

// serveLoad measures what a reader of a topic feed sees while `wiredesk
// serve` writes a cold cycle, and after it, idle: n readers fetch the
// 100-entry topic feed back to back, gzip accepted as readers do, and the
// latency of every request is kept. The daemon polls every feed once at
// start, on a fresh database, and logs a line per poll; the cycle ends
// with the last of them.
func serveLoad(bin string, feeds []string, farm string, conc, perHost, readers int, idle time.Duration) error {
	dir, err := os.MkdirTemp("", "benchfarm-serve")
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	cfg := filepath.Join(dir, "bench.toml")
	if err := writeConfig(cfg, feeds, conc, perHost, addr); err != nil {
		return err
	}
	if farm != "" {
		if err := get(farm + "/stats/reset"); err != nil {
			return err
		}
	}
	cmd := exec.Command(bin, "serve", "--config", cfg)
	logs, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = io.Discard
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	stopRSS := procmem.Watch(cmd.Process.Pid, 5*time.Millisecond)
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	polled := make(chan struct{}, len(feeds))
	go func() {
		sc := bufio.NewScanner(logs)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if l := sc.Text(); strings.Contains(l, `"msg":"polled"`) || strings.Contains(l, `"msg":"poll failed"`) {
				polled <- struct{}{}
			}
		}
	}()
	base := "http://" + addr
	if err := waitUp(base+"/healthz", 30*time.Second); err != nil {
		return err
	}
	fmt.Printf("wiredesk serve on %d feeds (concurrency %d, per_host %d), %d readers of %s/feeds/all.atom, work dir %s\n\n",
		len(feeds), conc, perHost, readers, base, dir)

	var phase atomic.Int32 // 0: cold cycle, 1: idle, 2: stop
	lat := make([][2][]time.Duration, readers)
	var status [2]map[int]*atomic.Int64
	for p := range status {
		status[p] = map[int]*atomic.Int64{}
		for _, code := range []int{0, 200, 304, 503} {
			status[p][code] = new(atomic.Int64)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: readers}, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			for {
				p := phase.Load()
				if p > 1 {
					return
				}
				t0 := time.Now()
				code := fetchFeed(client, base+"/feeds/all.atom")
				d := time.Since(t0)
				lat[r][p] = append(lat[r][p], d)
				if c, ok := status[p][code]; ok {
					c.Add(1)
				} else {
					status[p][0].Add(1)
				}
			}
		})
	}
	phaseStart := time.Now()
	for range feeds {
		<-polled
	}
	cycleWall := time.Since(start)
	durations := [2]time.Duration{time.Since(phaseStart)}
	phase.Store(1)
	phaseStart = time.Now()
	time.Sleep(idle)
	durations[1] = time.Since(phaseStart)
	phase.Store(2)
	wg.Wait()
	peak := stopRSS()

	fmt.Printf("cold cycle written by the daemon: %.1fs wall, peak RSS %.1fM\n\n", cycleWall.Seconds(), float64(peak)/(1<<20))
	fmt.Printf("%-12s %8s %9s %8s %8s %8s %8s %8s %6s %6s\n", "phase", "time", "requests", "req/s", "p50", "p90", "p99", "max", "200s", "other")
	for p, name := range []string{"cold cycle", "idle"} {
		var all []time.Duration
		for r := range lat {
			all = append(all, lat[r][p]...)
		}
		slices.Sort(all)
		q := func(f float64) time.Duration {
			if len(all) == 0 {
				return 0
			}
			return all[min(len(all)-1, int(f*float64(len(all))))]
		}
		other := status[p][0].Load() + status[p][304].Load() + status[p][503].Load()
		fmt.Printf("%-12s %7.1fs %9d %8.0f %8s %8s %8s %8s %6d %6d\n", name, durations[p].Seconds(), len(all),
			float64(len(all))/durations[p].Seconds(), ms(q(0.5)), ms(q(0.9)), ms(q(0.99)), ms(q(1)),
			status[p][200].Load(), other)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// fetchFeed GETs u as a feed reader does and returns the status, 0 on a
// transport error.
func fetchFeed(client *http.Client, u string) int {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		return 0
	}
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0
	}
	return resp.StatusCode
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitUp(u string, limit time.Duration) error {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s did not answer 200 within %v", u, limit)
}
