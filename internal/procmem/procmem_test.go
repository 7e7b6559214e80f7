package procmem

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the child: with PROCMEM_CHILD_MB set it
// touches that many MiB, holds them briefly and exits.
func TestMain(m *testing.M) {
	if s := os.Getenv("PROCMEM_CHILD_MB"); s != "" {
		mb, _ := strconv.Atoi(s)
		buf := make([]byte, mb<<20)
		for i := range buf {
			buf[i] = byte(i)
		}
		time.Sleep(200 * time.Millisecond)
		runtime.KeepAlive(buf)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestWatch(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	// A parent far bigger than its child: the case rusage gets wrong.
	ballast := make([]byte, 256<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	parent, err := PeakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// The race detector's shadow memory triples a child's footprint, so
	// the upper bound for a busy child is the parent, which is what
	// ru_maxrss would have reported.
	tests := []struct {
		childMB     int
		wantAtLeast int64
		wantUnder   int64
	}{
		{childMB: 0, wantAtLeast: 1 << 20, wantUnder: 128 << 20},
		{childMB: 64, wantAtLeast: 64 << 20, wantUnder: parent},
	}
	for _, tc := range tests {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), "PROCMEM_CHILD_MB="+strconv.Itoa(tc.childMB))
		got, err := Run(cmd, 5*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		rusage := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
		t.Logf("child %d MiB: Watch %d KiB, rusage ru_maxrss %d KiB", tc.childMB, got>>10, rusage>>10)
		if got < tc.wantAtLeast || got >= tc.wantUnder {
			t.Errorf("child touching %d MiB: peak %d KiB, want in [%d, %d) KiB", tc.childMB, got>>10, tc.wantAtLeast>>10, tc.wantUnder>>10)
		}
	}
	runtime.KeepAlive(ballast)
}
