// Package procmem measures the peak resident set of a child process.
//
// The obvious source, the child's rusage ru_maxrss, is wrong for children
// of a Go program: Go starts them with vfork (CLONE_VM), the kernel records
// the shared address space's high-water mark at exec, and the child's
// ru_maxrss therefore never drops below the parent's resident set. Under
// `go test -race` the parent is the bigger of the two. The child's own
// high-water mark is VmHWM in /proc/PID/status, which exec resets, so this
// package samples that while the child runs.
package procmem

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// Run starts cmd, waits for it, and returns the child's peak resident set
// in bytes, sampled every interval, with Wait's error.
func Run(cmd *exec.Cmd, interval time.Duration) (peak int64, err error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	stop := Watch(cmd.Process.Pid, interval)
	err = cmd.Wait()
	return stop(), err
}

// Watch samples the peak resident set of process pid every interval until
// the returned stop is called, and stop returns the largest peak seen, in
// bytes. Call it after exec.Cmd.Start (which returns once the child has
// exec'd). Samples after the child exits find no address space and are
// ignored, so stop may be called after Wait. Growth in the last interval
// before exit can be missed: keep the interval short against the run.
func Watch(pid int, interval time.Duration) (stop func() int64) {
	done := make(chan struct{})
	result := make(chan int64, 1)
	go func() {
		var peak int64
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			if hwm, err := PeakRSS(pid); err == nil {
				peak = max(peak, hwm)
			}
			select {
			case <-done:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	var peak int64 = -1
	return func() int64 {
		if peak < 0 {
			close(done)
			peak = <-result
		}
		return peak
	}
}

// PeakRSS returns process pid's resident-set high-water mark in bytes, as
// the kernel reports it in /proc/PID/status (Linux only).
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading peak RSS: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// "VmHWM:	   12345 kB"
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("reading peak RSS of %d: unexpected line %q", pid, sc.Text())
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reading peak RSS of %d: %w", pid, err)
		}
		return kb << 10, nil
	}
	// A zombie or kernel thread has no address space and no VmHWM line.
	return 0, fmt.Errorf("reading peak RSS of %d: no VmHWM in /proc/%d/status", pid, pid)
}
