package main

import (
	"context"
	"fmt"
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

// TestFollowLiveHeap starts the follower, then keeps 128 MiB live, more
// than the default limit leaves room for: the limit rises above it, and
// falls back to the default once the data is dropped.
func TestFollowLiveHeap(t *testing.T) {
	prev := debug.SetMemoryLimit(defaultMemoryLimit)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
		debug.SetMemoryLimit(prev)
	})
	go func() {
		defer close(done)
		followLiveHeap(ctx, 10*time.Millisecond)
	}()
	waitLimit := func(ok func(int64) bool, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok(debug.SetMemoryLimit(-1)) {
			if time.Now().After(deadline) {
				t.Fatalf("memory limit %d MiB, want %s", debug.SetMemoryLimit(-1)>>20, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	live := make([]byte, 128<<20) // counted live whether or not its pages are touched
	runtime.GC()
	want := int64(len(live)) + defaultMemoryLimit/2
	waitLimit(func(l int64) bool { return l >= want }, fmt.Sprintf("at least %d MiB with 128 MiB live", want>>20))
	runtime.KeepAlive(live)
	live = nil
	runtime.GC()
	waitLimit(func(l int64) bool { return l == defaultMemoryLimit }, "the default once the data is dropped")

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("followLiveHeap did not return after its context was done")
	}
}
