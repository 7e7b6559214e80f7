package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestMemoryLimitFor(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		live, want int64
	}{
		{0, 192 * mib},
		{85 * mib, 192 * mib}, // 10,000 sources idle: the default holds
		{96 * mib, 192 * mib},
		{97 * mib, 193 * mib},
		{400 * mib, 496 * mib},
	}
	for _, tt := range tests {
		if got := memoryLimitFor(tt.live); got != tt.want {
			t.Errorf("memoryLimitFor(%d MiB) = %d MiB, want %d MiB", tt.live/mib, got/mib, tt.want/mib)
		}
	}
}

// TestFollowLiveHeap keeps 128 MiB live, more than the default limit
// leaves room for, and checks that the limit rises above it, then that
// the goroutine ends with its context.
func TestFollowLiveHeap(t *testing.T) {
	prev := debug.SetMemoryLimit(defaultMemoryLimit)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	live := make([]byte, 128<<20)
	for i := range live {
		live[i] = byte(i)
	}
	runtime.GC()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		followLiveHeap(ctx, 10*time.Millisecond)
	}()
	want := int64(len(live)) + defaultMemoryLimit/2
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) < want {
		if time.Now().After(deadline) {
			t.Fatalf("memory limit %d MiB with %d MiB live, want at least %d MiB",
				debug.SetMemoryLimit(-1)>>20, len(live)>>20, want>>20)
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(live)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("followLiveHeap did not return after its context was done")
	}
}
